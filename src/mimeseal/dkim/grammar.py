"""The DKIM-Signature tag grammar (RFC 6376 §3.5), shared by the verifier and the checker.

Every rule a signature header can break before any key is fetched lives here, each with
the text of the rule it names: required tags, ``v=``, ``a=`` and ``c=`` syntax, ``d=`` a
domain name and ``s=`` a selector (RFC 6376 §3.5 ``domain-name`` and ``selector``: LDH
labels of at most 63 octets, ``d=`` with at least two, A-labels only), ``h=`` a colon list
of field names with no empty element that includes From (§5.4), ``i=`` in
dkim-quoted-printable (§2.11) with an ``@`` and a domain that is ``d=`` or a subdomain of
it (§6.1.1), ``q=`` naming a method this verifier supports (only ``dns/txt``; §3.5: the
first supported one is used), ``t=`` and ``x=`` of at most 12 digits with ``x=`` after
``t=``, ``l=`` of at most 76 digits, ``b=`` and ``bh=`` base64. ``v=`` need not be the
first tag (§3.5 asks that only of key records, §3.6.1); dkimpy agrees.

A broken rule is a permerror (§6.1.1: the signature is ignored). Semantic verdicts that
need more than the header (rsa-sha1, the clock, the key) are the verifier's.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mimeseal.dkim.canonicalize import Canonicalization
from mimeseal.dkim.tags import remove_fws
from mimeseal.errors import DkimError
from mimeseal.limits import shown

REQUIRED = ("v", "a", "b", "bh", "d", "h", "s")
ALGORITHMS = ("rsa-sha256", "ed25519-sha256", "rsa-sha1")  # rsa-sha1: known, then refused
QUERY_METHODS = ("dns/txt",)
MAX_BODY_LENGTH = 2**62  # l= beyond this cannot describe a real body

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_ALGORITHM = re.compile(r"[A-Za-z][A-Za-z0-9]*-[A-Za-z][A-Za-z0-9]*")
_HYPHENATED = re.compile(r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_QP_VALUE = re.compile(r"(?:[!-:<>-~]|=[0-9A-Fa-f]{2})*")  # qp-hdr-value without FWS
_FWS = " \t\r\n"
# One pass each over h=: a colon list of RFC 5322 §3.6.8 field names with FWS around them.
_HEADER_LIST = re.compile(r"[ \t\r\n]*[!-9;-~]+[ \t\r\n]*(?::[ \t\r\n]*[!-9;-~]+[ \t\r\n]*)*")
_FROM_LISTED = re.compile(r"(?:^|:)[ \t\r\n]*from[ \t\r\n]*(?=:|$)", re.IGNORECASE)


@dataclass(frozen=True)
class SignatureTags:
    """A DKIM-Signature whose tags obey the grammar, with the values decoded."""

    version: str
    algorithm: str
    domain: str
    selector: str
    signed_headers: tuple[str, ...]
    identity: str
    identity_domain: str
    header_canonicalization: Canonicalization
    body_canonicalization: Canonicalization
    timestamp: int | None
    expires: int | None
    body_length: int | None
    body_hash: bytes
    signature: bytes


def _domain_problem(value: str, tag: str, *, min_labels: int) -> str | None:
    """Why ``value`` is not an RFC 6376 §3.5 domain-name (``d=``, ``i=``) or selector."""
    what = "a selector" if tag == "s" else "a domain name"
    where = f"the domain of i= ({shown(value)})" if tag == "i" else f"{tag}={shown(value)}"
    if not value:
        return f"{tag}= has an empty domain" if tag == "i" else f"{tag}= is empty"
    labels = value.split(".")
    if (
        len(value) > 253
        or len(labels) < min_labels
        or not all(_LABEL.fullmatch(label) for label in labels)
    ):
        extra = ", at least two" if min_labels > 1 else ""
        return (
            f"{where} is not {what}: dot-separated labels of letters, digits and inner "
            f"'-'{extra}, A-labels for IDNs (RFC 6376 §3.5)"
        )
    return None


def decode_qp(value: str) -> str:
    """dkim-quoted-printable (RFC 6376 §2.11): FWS dropped, ``=XX`` decoded (UTF-8)."""
    text = remove_fws(value)
    if not _QP_VALUE.fullmatch(text):
        raise DkimError(
            f"i={shown(value)} is not dkim-quoted-printable (RFC 6376 §2.11): only printable "
            "ASCII other than ';' and '=', and =XX escapes"
        )
    raw = re.sub(r"=([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        raise DkimError(f"i={shown(value)} decodes to octets that are not UTF-8") from None


def _identity(tags: Mapping[str, str], domain: str) -> tuple[str, str]:
    """(decoded i=, its domain, lower case); the default is ``@d=`` (RFC 6376 §3.5)."""
    if "i" not in tags:
        return f"@{domain}", domain
    identity = decode_qp(tags["i"])
    if "@" not in identity:
        raise DkimError(f"i={shown(identity)} has no '@' (RFC 6376 §3.5: [local-part] @ domain)")
    host = identity.rpartition("@")[2]
    problem = _domain_problem(host, "i", min_labels=1)
    if problem:
        raise DkimError(problem)
    host = host.lower()
    if not (host == domain or host.endswith("." + domain)):
        raise DkimError(
            f"i={shown(identity)} is not within d={shown(domain)}: its domain must be d= or "
            "a subdomain of it (RFC 6376 §6.1.1)"
        )
    return identity, host


def _check_version(value: str) -> str | None:
    if value != "1":
        return f"unknown version v={shown(value)} (RFC 6376 §3.5: v=1)"
    return None


def _check_algorithm(value: str) -> str | None:
    if not _ALGORITHM.fullmatch(value):
        return f"a={shown(value)} is not an algorithm name (RFC 6376 §3.5: key-hash)"
    if value.lower() not in ALGORITHMS:
        return f"unknown algorithm a={shown(value)} (rsa-sha256 or ed25519-sha256)"
    return None


def _check_canonicalization(value: str) -> str | None:
    parts = value.split("/")
    if len(parts) > 2 or not all(_HYPHENATED.fullmatch(p) for p in parts):
        return f"c={shown(value)} is not header[/body] (RFC 6376 §3.5)"
    if any(p.lower() not in ("simple", "relaxed") for p in parts):
        return f"unknown canonicalization c={shown(value)} (simple or relaxed)"
    return None


def _check_header_list(value: str) -> str | None:
    if not _HEADER_LIST.fullmatch(value):
        return (
            f"h={shown(value)} is not a colon-separated list of header field names "
            "(RFC 6376 §3.5: no empty names)"
        )
    if not _FROM_LISTED.search(value):
        return "From is not in h=; RFC 6376 §5.4 requires it signed (§6.1.1: permerror)"
    return None


def supported_query(value: str) -> str | None:
    """The first method in ``q=`` this verifier supports, or None (RFC 6376 §3.5)."""
    methods = [m.strip(_FWS) for m in value.split(":")]
    return next((m for m in methods if m in QUERY_METHODS), None)


def _check_query(value: str) -> str | None:
    for method in (m.strip(_FWS) for m in value.split(":")):
        kind, slash, options = method.partition("/")
        if not _HYPHENATED.fullmatch(kind) or (slash and not _QP_VALUE.fullmatch(options)):
            return f"q={shown(value)} is not a list of query methods (RFC 6376 §3.5)"
    if supported_query(value) is None:
        return f"q={shown(value)} names no query method this verifier supports (dns/txt)"
    return None


def _digits(tag: str, most: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if not value.isascii() or not value.isdigit() or len(value) > most:
            return f"{tag}={shown(value)} is not a number of 1 to {most} digits (RFC 6376 §3.5)"
        return None

    return check


def _base64(tag: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        text = remove_fws(value)
        if not text:
            return f"{tag}= is empty"
        try:
            base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return f"{tag}= is not valid base64"
        return None

    return check


_CHECKS: dict[str, Callable[[str], str | None]] = {
    "v": _check_version,
    "a": _check_algorithm,
    "b": _base64("b"),
    "bh": _base64("bh"),
    "c": _check_canonicalization,
    "d": lambda value: _domain_problem(value, "d", min_labels=2),
    "s": lambda value: _domain_problem(value, "s", min_labels=1),
    "h": _check_header_list,
    "q": _check_query,
    "t": _digits("t", 12),
    "x": _digits("x", 12),
    "l": _digits("l", 76),
}


def problems(tags: Mapping[str, str]) -> list[str]:
    """Every grammar rule ``tags`` breaks, in tag order (empty when the header is sound)."""
    found = [f"the required tag {t}= is missing" for t in REQUIRED if t not in tags]
    broken = set()
    for tag, check in _CHECKS.items():
        if tag in tags:
            problem = check(tags[tag])
            if problem:
                found.append(problem)
                broken.add(tag)

    def valid(*names: str) -> bool:
        return all(name in tags and name not in broken for name in names)

    if valid("l") and int(tags["l"]) > MAX_BODY_LENGTH:
        found.append(f"l={shown(tags['l'])} is out of range")
    if "i" in tags and valid("d"):
        try:
            _identity(tags, tags["d"].lower())
        except DkimError as exc:
            found.append(str(exc))
    if valid("t", "x") and int(tags["x"]) < int(tags["t"]):
        found.append("x= is before t= (RFC 6376 §3.5: x= must be greater)")
    return found


def parse_signature(tags: Mapping[str, str]) -> SignatureTags:
    """The decoded tags; the first broken rule raises :class:`DkimError` (a permerror)."""
    found = problems(tags)
    if found:
        raise DkimError(found[0])
    domain = tags["d"].lower()
    identity, identity_domain = _identity(tags, domain)
    header_c, _, body_c = tags.get("c", "simple/simple").lower().partition("/")
    return SignatureTags(
        version=tags["v"],
        algorithm=tags["a"].lower(),
        domain=domain,
        selector=tags["s"].lower(),
        signed_headers=tuple(n.strip(_FWS).lower() for n in tags["h"].split(":")),
        identity=identity,
        identity_domain=identity_domain,
        header_canonicalization=header_c,  # type: ignore[arg-type]
        body_canonicalization=(body_c or "simple"),  # type: ignore[arg-type]
        timestamp=int(tags["t"]) if "t" in tags else None,
        expires=int(tags["x"]) if "x" in tags else None,
        body_length=int(tags["l"]) if "l" in tags else None,
        body_hash=base64.b64decode(remove_fws(tags["bh"])),
        signature=base64.b64decode(remove_fws(tags["b"])),
    )
