"""DKIM verification (RFC 6376 §6) with the policies a strict receiver needs.

One result per DKIM-Signature header, every one checked (dkimpy checks only the first).
Beyond the RFC's musts: From must be signed, ``l=`` fails when strict, rsa-sha1 fails
(RFC 8301), RSA keys under 1024 bits fail, the record's ``k=``, ``h=``, ``t=s`` and revoked
``p=`` are honoured, ``t=`` in the future and expired ``x=`` fail, ``i=`` must be in ``d=``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from mimeseal.dkim.canonicalize import Canonicalization, canonical_body, canonical_header
from mimeseal.dkim.headers import SignatureHeaders
from mimeseal.dkim.records import (
    KeyRecord,
    RecordLookupError,
    RecordSource,
    lookup,
    parse_key_record,
    record_name,
)
from mimeseal.dkim.tags import parse_tag_list, remove_fws
from mimeseal.errors import DkimError
from mimeseal.limits import Limits, resolve, shown
from mimeseal.limits import check as check_limit
from mimeseal.mime import RawHeader, has_bare_line_ends, header_boundaries, parse_headers, to_crlf

Status = Literal["pass", "fail", "temperror", "permerror"]
CLOCK_SKEW = 300  # seconds of tolerance for t= in the future
MIN_RSA_BITS = 1024


@dataclass(frozen=True)
class DkimResult:
    """The verdict on one DKIM-Signature header."""

    index: int
    status: Status
    reason: str
    domain: str | None = None
    selector: str | None = None
    algorithm: str | None = None
    identity: str | None = None
    canonicalization: str | None = None
    signed_headers: tuple[str, ...] = ()
    body_length: int | None = None
    timestamp: int | None = None
    expires: int | None = None
    key_bits: int | None = None
    testing: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "status": self.status,
            "reason": self.reason,
            "domain": self.domain,
            "selector": self.selector,
            "algorithm": self.algorithm,
            "identity": self.identity,
            "canonicalization": self.canonicalization,
            "signed_headers": list(self.signed_headers),
            "body_length": self.body_length,
            "timestamp": self.timestamp,
            "expires": self.expires,
            "key_bits": self.key_bits,
            "testing": self.testing,
            "notes": list(self.notes),
        }


class _Outcome(Exception):  # noqa: N818 - ends one evaluation; not an error
    """Raised inside the checks to end one signature's evaluation with a status."""

    def __init__(self, status: Status, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def verify(
    message: bytes,
    *,
    records: RecordSource = None,
    now: datetime | int | None = None,
    strict: bool = True,
    limits: Limits | None = None,
) -> list[DkimResult]:
    """Verify every DKIM-Signature in ``message``; an empty list means there is none.

    ``records`` maps ``"sel._domainkey.domain"`` to TXT values, or is a callable returning
    the value (or None); None means DNS through dnspython. ``now`` fixes the clock for t=/x=.
    A message beyond ``limits`` (size, header count or size, more than
    ``max_dkim_signatures`` signatures) raises :class:`~mimeseal.errors.LimitError` before
    any signature is evaluated.
    """
    limits = resolve(limits)
    check_limit(limits, "max_message_bytes", len(message), "message octets")
    notes: tuple[str, ...] = ()
    if has_bare_line_ends(message):
        message = to_crlf(message)
        notes = ("bare LF/CR line ends were converted to CRLF before verification",)
    block_end, body_start = header_boundaries(message)
    headers = parse_headers(message[:block_end], limits)
    signatures = [h for h in headers if h.is_named("DKIM-Signature")]
    check_limit(limits, "max_dkim_signatures", len(signatures), "DKIM-Signature fields")
    moment = int(time.time()) if now is None else _epoch(now)
    body_hashes: dict[tuple[str, int | None], bytes] = {}
    results = []
    for index, header in enumerate(signatures):
        context = _Context(
            index, header, headers, (message, body_start), body_hashes, records, moment, strict
        )
        results.append(context.run(notes))
    return results


def _epoch(value: datetime | int) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return int(value.timestamp())
    return int(value)


class _Context:
    """Evaluation of one signature; fields fill in as the checks get further."""

    def __init__(
        self,
        index: int,
        header: RawHeader,
        headers: Sequence[RawHeader],
        body: tuple[bytes, int],
        body_hashes: dict[tuple[str, int | None], bytes],
        records: RecordSource,
        now: int,
        strict: bool,
    ) -> None:
        self.index, self.header, self.headers, self.body = index, header, headers, body
        self.body_hashes, self.records, self.now, self.strict = body_hashes, records, now, strict
        self.info: dict[str, Any] = {}
        self.notes: list[str] = []

    def run(self, notes: tuple[str, ...]) -> DkimResult:
        self.notes.extend(notes)
        status: Status
        try:
            self._check()
            status, reason = "pass", "signature verified"
        except _Outcome as verdict:
            status, reason = verdict.status, verdict.reason
        except DkimError as exc:
            status, reason = "permerror", str(exc)
        return DkimResult(
            index=self.index, status=status, reason=reason, notes=tuple(self.notes), **self.info
        )

    def _check(self) -> None:
        value = self.header.raw.split(b":", 1)[1].decode("ascii", "replace")
        tags = parse_tag_list(value, "DKIM-Signature")
        for required in ("v", "a", "b", "bh", "d", "h", "s"):
            if required not in tags:
                raise _Outcome("permerror", f"the required tag {required}= is missing")
        domain, selector = tags["d"].lower(), tags["s"].lower()
        algorithm = tags["a"].lower()
        signed = [n.strip().lower() for n in remove_fws(tags["h"]).split(":") if n.strip()]
        self.info.update(
            domain=domain, selector=selector, algorithm=algorithm, signed_headers=tuple(signed)
        )
        if tags["v"] != "1":
            raise _Outcome("permerror", f"unknown version v={shown(tags['v'])}")
        if algorithm == "rsa-sha1":
            raise _Outcome("fail", "rsa-sha1 is not accepted (RFC 8301)")
        if algorithm not in ("rsa-sha256", "ed25519-sha256"):
            raise _Outcome("permerror", f"unknown algorithm a={shown(algorithm)}")
        header_c, body_c = self._canonicalization(tags.get("c", "simple/simple"))
        self.info["canonicalization"] = f"{header_c}/{body_c}"
        if "from" not in signed:
            raise _Outcome("permerror", "From is not in h=; RFC 6376 §5.4 requires it signed")
        identity = tags.get("i", f"@{domain}")
        self.info["identity"] = identity
        identity_domain = identity.rpartition("@")[2].lower()
        if not (identity_domain == domain or identity_domain.endswith("." + domain)):
            raise _Outcome("permerror", f"i={shown(identity)} is not within d={shown(domain)}")
        self._check_times(tags)
        length = self._body_length(tags)
        record = self._key_record(selector, domain)
        self._check_record(record, algorithm, domain, identity_domain)
        self._check_body_hash(tags["bh"], body_c, length)
        self._check_signature(tags, algorithm, header_c, signed, record)

    def _canonicalization(self, value: str) -> tuple[Canonicalization, Canonicalization]:
        header_c, _, body_c = value.lower().partition("/")
        body_c = body_c or "simple"
        if header_c not in ("simple", "relaxed") or body_c not in ("simple", "relaxed"):
            raise _Outcome("permerror", f"unknown canonicalization c={shown(value)}")
        return header_c, body_c  # type: ignore[return-value]

    def _check_times(self, tags: dict[str, str]) -> None:
        try:
            timestamp = int(tags["t"]) if "t" in tags else None
            expires = int(tags["x"]) if "x" in tags else None
        except ValueError:
            raise _Outcome("permerror", "t= or x= is not a number") from None
        self.info.update(timestamp=timestamp, expires=expires)
        if timestamp is not None and timestamp > self.now + CLOCK_SKEW:
            raise _Outcome("fail", "the signature timestamp t= is in the future")
        if expires is not None:
            if timestamp is not None and expires < timestamp:
                raise _Outcome("permerror", "x= is before t=")
            if expires < self.now:
                raise _Outcome("fail", "the signature has expired (x=)")

    def _body_length(self, tags: dict[str, str]) -> int | None:
        if "l" not in tags:
            return None
        try:
            length = int(tags["l"])
        except ValueError:
            raise _Outcome("permerror", "l= is not a number") from None
        if length < 0 or length > 2**62:
            raise _Outcome("permerror", "l= is out of range")
        self.info["body_length"] = length
        body_octets = len(self.body[0]) - self.body[1]
        if length > body_octets + 2:  # canonical bodies grow by at most a final CRLF
            raise _Outcome(
                "permerror", f"l={length} is longer than the body ({body_octets} octets)"
            )
        if self.strict:
            raise _Outcome(
                "fail",
                "l= limits the signed body, so content can be appended undetected; "
                "refused in strict mode",
            )
        self.notes.append(f"only the first {length} octets of the body are signed (l=)")
        return length

    def _key_record(self, selector: str, domain: str) -> KeyRecord:
        name = record_name(selector, domain)
        try:
            text = lookup(name, self.records)
        except RecordLookupError as exc:
            raise _Outcome("temperror", str(exc)) from None
        if text is None:
            raise _Outcome("permerror", f"no key record at {shown(name, 120)}")
        return parse_key_record(text)

    def _check_record(
        self, record: KeyRecord, algorithm: str, domain: str, identity_domain: str
    ) -> None:
        self.info["testing"] = record.testing
        if record.public_key is None:
            raise _Outcome("fail", "the key has been revoked (empty p= in the key record)")
        if algorithm.split("-")[0] != record.key_type:
            raise _Outcome(
                "permerror", f"a={algorithm} but the key record holds a {record.key_type} key"
            )
        if record.hash_algorithms is not None and "sha256" not in record.hash_algorithms:
            raise _Outcome("permerror", "the key record's h= does not allow sha256")
        if record.services and not {"*", "email"} & set(record.services):
            raise _Outcome("permerror", "the key record's s= does not allow email")
        if record.strict_identity and identity_domain != domain:
            raise _Outcome("permerror", "the key record has t=s but i= is a subdomain of d=")
        if isinstance(record.public_key, rsa.RSAPublicKey):
            self.info["key_bits"] = record.public_key.key_size
            if record.public_key.key_size < MIN_RSA_BITS:
                raise _Outcome(
                    "fail", f"the RSA key has {record.public_key.key_size} bits (< {MIN_RSA_BITS})"
                )
        if record.testing:
            self.notes.append("the key record has t=y (testing)")

    def _check_body_hash(self, encoded: str, method: Canonicalization, length: int | None) -> None:
        try:
            expected = base64.b64decode(remove_fws(encoded), validate=True)
        except (binascii.Error, ValueError):
            raise _Outcome("permerror", "bh= is not valid base64") from None
        key = (method, length)
        if key not in self.body_hashes:
            hasher = hashlib.sha256()
            remaining = length
            for piece in canonical_body(self.body[0], method, self.body[1]):
                if remaining is not None:
                    piece, remaining = piece[:remaining], remaining - len(piece[:remaining])
                hasher.update(piece)
            if remaining is not None and remaining > 0:
                raise _Outcome("permerror", "l= is longer than the canonical body")
            self.body_hashes[key] = hasher.digest()
        if not hmac.compare_digest(self.body_hashes[key], expected):
            raise _Outcome("fail", "body hash mismatch: the body was changed after signing")

    def _check_signature(
        self,
        tags: dict[str, str],
        algorithm: str,
        method: Canonicalization,
        signed: list[str],
        record: KeyRecord,
    ) -> None:
        try:
            signature = base64.b64decode(remove_fws(tags["b"]), validate=True)
        except (binascii.Error, ValueError):
            raise _Outcome("permerror", "b= is not valid base64") from None
        unsigned = _without_b_value(self.header.raw)
        data = SignatureHeaders(self.headers).hash_input(signed, method)
        data += canonical_header(unsigned, method).removesuffix(b"\r\n")
        key = record.public_key
        try:
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            elif isinstance(key, ed25519.Ed25519PublicKey):
                key.verify(signature, hashlib.sha256(data).digest())
        except InvalidSignature:
            raise _Outcome(
                "fail", "signature did not verify: a signed header was changed after signing"
            ) from None


def _without_b_value(raw: bytes) -> bytes:
    """The header field with the value of its b= tag removed (RFC 6376 §3.5, b=)."""
    name, colon, value = raw.partition(b":")
    parts = value.split(b";")
    for i, part in enumerate(parts):
        tag, eq, _ = part.partition(b"=")
        if eq and tag.strip(b" \t\r\n") == b"b":
            prefix = part[: part.index(b"=") + 1]
            trailing = b"\r\n" if i == len(parts) - 1 and part.endswith(b"\r\n") else b""
            parts[i] = prefix + trailing
    return name + colon + b";".join(parts)
