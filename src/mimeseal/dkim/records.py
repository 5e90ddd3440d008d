"""DKIM key records (RFC 6376 §3.6.1, RFC 8463 §4): parse, format, look up.

Lookups take a mapping or a callable, so tests and offline verifiers inject answers; with
neither, DNS is asked through dnspython.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from mimeseal import ber
from mimeseal.dkim.tags import parse_tag_list, remove_fws
from mimeseal.errors import CmsError, DkimError, UnsupportedKeyError
from mimeseal.limits import shown

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
RecordSource = Mapping[str, str] | Callable[[str], "str | None"] | None
_TXT_CHUNK = 255


class RecordLookupError(DkimError):
    """The key record could not be fetched (a temporary failure, not a verdict on the key)."""


@dataclass(frozen=True)
class KeyRecord:
    """A parsed key record. ``public_key`` is None when the key is revoked (empty ``p=``)."""

    key_type: str
    public_key: PublicKey | None
    hash_algorithms: tuple[str, ...] | None
    flags: tuple[str, ...]
    services: tuple[str, ...]

    @property
    def testing(self) -> bool:
        return "y" in self.flags

    @property
    def strict_identity(self) -> bool:
        """``t=s``: the i= domain must equal d= exactly (no subdomains)."""
        return "s" in self.flags


def record_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}".lower().rstrip(".")


@functools.lru_cache(maxsize=256)
def parse_key_record(text: str) -> KeyRecord:
    """Parse a TXT value such as ``v=DKIM1; k=rsa; p=MIIB…``; raises DkimError if malformed.

    Records are immutable values, so parses are cached: a receiver sees the same few keys.
    """
    tags = parse_tag_list(text, "key record")
    if "v" in tags and tags["v"] != "DKIM1":
        raise DkimError(f"key record: v={shown(tags['v'])} is not DKIM1")
    if "v" in tags and not text.lstrip().startswith("v"):
        raise DkimError("key record: v=DKIM1 must be the first tag")
    if "p" not in tags:
        raise DkimError("key record: the p= (public key) tag is missing")
    key_type = tags.get("k", "rsa").lower()
    if key_type not in ("rsa", "ed25519"):
        raise DkimError(f"key record: key type k={shown(key_type)} is not supported (rsa, ed25519)")
    hash_algorithms = None
    if "h" in tags:
        hash_algorithms = tuple(h.lower() for h in remove_fws(tags["h"]).split(":") if h)
    flags = tuple(f.lower() for f in remove_fws(tags.get("t", "")).split(":") if f)
    services = tuple(s.lower() for s in remove_fws(tags.get("s", "*")).split(":") if s)
    encoded = remove_fws(tags["p"])
    public_key = _decode_public_key(key_type, encoded) if encoded else None
    return KeyRecord(key_type, public_key, hash_algorithms, flags, services)


def _decode_public_key(key_type: str, encoded: str) -> PublicKey:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise DkimError("key record: p= is not valid base64") from None
    if key_type == "ed25519":
        if len(raw) != 32:
            raise DkimError(f"key record: an Ed25519 p= must be 32 octets, not {len(raw)}")
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    if len(raw) > MAX_RSA_KEY_OCTETS:
        raise DkimError(
            f"key record: p= holds {len(raw)} octets; an RSA key of up to 16,384 bits needs at "
            f"most {MAX_RSA_KEY_OCTETS}"
        )
    if _spki_algorithm(raw) not in (None, _OID_RSA):
        # Refused before cryptography loads it: a Diffie-Hellman key with huge composite
        # parameters costs seconds of group checks there (k=rsa means RSA, RFC 6376 §3.6.1).
        raise DkimError("key record: k=rsa but p= holds another kind of key")
    try:
        key = serialization.load_der_public_key(raw)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        try:  # some publishers put a bare PKCS#1 RSAPublicKey in p=
            key = serialization.load_der_public_key(_spki_from_pkcs1(raw))
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise DkimError("key record: p= is not an RSA public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise DkimError("key record: k=rsa but p= holds another kind of key")
    return key


MAX_RSA_KEY_OCTETS = 2200  # a 16,384-bit RSA SubjectPublicKeyInfo is 2,094 octets
_OID_RSA = "1.2.840.113549.1.1.1"


def _spki_algorithm(raw: bytes) -> str | None:
    """The algorithm OID of a DER SubjectPublicKeyInfo, or None if ``raw`` is not one (it may
    be a bare PKCS#1 RSAPublicKey, which some publishers put in p=)."""
    try:
        spki = ber.parse(raw, max_elements=64)
        algorithm = spki.children[0] if spki.tag == ber.SEQUENCE and spki.children else None
        if algorithm is None or algorithm.tag != ber.SEQUENCE or not algorithm.children:
            return None
        return ber.oid(raw, algorithm.children[0])
    except CmsError:
        return None


def _spki_from_pkcs1(pkcs1: bytes) -> bytes:
    from asn1crypto import keys as asn1_keys

    return bytes(
        asn1_keys.PublicKeyInfo(
            {"algorithm": {"algorithm": "rsa"}, "public_key": asn1_keys.RSAPublicKey.load(pkcs1)}
        ).dump()
    )


def format_key_record(public_key: object) -> str:
    """The TXT value publishing ``public_key`` (RSA as SubjectPublicKeyInfo, Ed25519 raw)."""
    if isinstance(public_key, rsa.RSAPublicKey):
        der = public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode("ascii")
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return "v=DKIM1; k=ed25519; p=" + base64.b64encode(raw).decode("ascii")
    raise UnsupportedKeyError(
        f"{type(public_key).__name__} cannot be published for DKIM; use RSA or Ed25519"
    )


def zone_file_record(name: str, value: str) -> str:
    """A zone-file TXT record with the value split into strings of at most 255 octets."""
    chunks = [value[i : i + _TXT_CHUNK] for i in range(0, len(value), _TXT_CHUNK)] or [""]
    if len(chunks) == 1:
        return f'{name}. IN TXT "{chunks[0]}"'
    inner = "\n    ".join(f'"{chunk}"' for chunk in chunks)
    return f"{name}. IN TXT (\n    {inner} )"


def lookup(name: str, source: RecordSource, timeout: float = 5.0) -> str | None:
    """The TXT value at ``name``, or None if there is none; failures raise RecordLookupError."""
    if isinstance(source, Mapping):
        wanted = name.lower().rstrip(".")
        for key, value in source.items():
            if isinstance(key, str) and key.lower().rstrip(".") == wanted:
                return _as_text(value, name)
        return None
    if source is not None:
        try:
            answer = source(name)
        except Exception as exc:  # an injected resolver failing is a temporary error
            raise RecordLookupError(f"looking up {name} failed: {exc}") from None
        return _as_text(answer, name)
    return _dns_txt(name, timeout)


def _as_text(value: object, name: str) -> str | None:
    """A record source's answer as text: str as is, bytes as ASCII (what dnspython and
    dkimpy-style resolvers give), None for no record; anything else is the caller's mistake."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("ascii")
        except UnicodeDecodeError:
            raise DkimError(f"the key record at {name} is not ASCII (RFC 6376 §3.6.2)") from None
    raise DkimError(
        f"the record source gave a {type(value).__name__} for {name}; give the TXT value as "
        "str (or bytes), or None when there is no record"
    )


def _dns_txt(name: str, timeout: float) -> str | None:
    try:
        import dns.exception
        import dns.resolver
    except ImportError:
        raise RecordLookupError(
            "DNS lookups need dnspython (pip install dnspython), or pass records= explicitly"
        ) from None
    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=timeout)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    except dns.exception.DNSException as exc:
        raise RecordLookupError(f"DNS lookup of {name} failed: {exc}") from None
    for rdata in answer:
        return b"".join(rdata.strings).decode("ascii", "replace")
    return None
