"""DKIM verification (RFC 6376 §6) with the policies a strict receiver needs.

One result per DKIM-Signature header, every one checked (dkimpy checks only the first).
The tag grammar (RFC 6376 §3.5: ``d=``, ``s=``, ``i=``, ``q=``, ``h=``…) is
:mod:`mimeseal.dkim.grammar`; header composition (several From fields, unsigned instances
above signed ones) is :mod:`mimeseal.dkim.composition`. Beyond the RFC's musts: From must
be signed, ``l=`` fails when strict, rsa-sha1 fails (RFC 8301), RSA keys under 1024 bits
fail, the record's ``k=``, ``h=``, ``t=s`` and revoked ``p=`` are honoured, ``t=`` in the
future and expired ``x=`` fail. A key record with ``t=y`` (testing, RFC 6376 §3.6.1) leaves
the status ``pass`` with ``testing=True``; :func:`mimeseal.dkim.message_verdict` does not
count such a signature.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from mimeseal.dkim import composition
from mimeseal.dkim.canonicalize import Canonicalization, canonical_body, canonical_header
from mimeseal.dkim.grammar import SignatureTags, parse_signature
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
    unsigned_instances: tuple[str, ...] = ()
    composition: str | None = None
    #: Reader fields (:data:`mimeseal.dkim.composition.READER_FIELDS`) the message has and
    #: ``h=`` does not list: not covered by this signature.
    unsigned_fields: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """The signature verified (``testing`` may still say it does not count)."""
        return self.status == "pass"

    @property
    def authenticates(self) -> bool:
        """The signature verified and counts: its key record is not in testing mode."""
        return self.status == "pass" and not self.testing

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
            "unsigned_instances": list(self.unsigned_instances),
            "composition": self.composition,
            "unsigned_fields": list(self.unsigned_fields),
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
    the value (or None); None means DNS through dnspython. ``now`` fixes the clock for t=/x=:
    a timezone-aware datetime or POSIX seconds (a naive datetime raises DkimError).
    A message beyond ``limits`` (size, header count or size, more than
    ``max_dkim_signatures`` signatures) raises :class:`~mimeseal.errors.LimitError` before
    any signature is evaluated.
    """
    moment = int(time.time()) if now is None else _epoch(now)
    limits = resolve(limits)
    check_limit(limits, "max_message_bytes", len(message), "message octets")
    notes: tuple[str, ...] = ()
    # A bare LF is converted, as dkimpy does and as mail stored on Unix needs; a bare CR is a
    # line end to some readers and not to others (RFC 5322 §2.3 forbids it), and Mail::DKIM,
    # dkimpy and OpenDKIM all fail such a message, so strict verification fails it too.
    bare = has_bare_line_ends(message)
    bare_cr = strict and bare and message.count(b"\r") != message.count(b"\r\n")
    if bare:
        message = to_crlf(message)
        notes = ("bare LF/CR line ends were converted to CRLF before verification",)
    block_end, body_start = header_boundaries(message)
    headers = parse_headers(message[:block_end], limits)
    signatures = [h for h in headers if h.is_named("DKIM-Signature")]
    check_limit(limits, "max_dkim_signatures", len(signatures), "DKIM-Signature fields")
    authors = composition.authors(headers) if signatures else composition.Authors(())
    if authors.note:
        notes += (authors.note,)
    body_hashes: dict[tuple[str, int | None], bytes] = {}
    canonical_bodies: dict[str, bytes] = {}
    results = []
    for index, header in enumerate(signatures):
        context = _Context(
            index,
            header,
            headers,
            (message, body_start),
            body_hashes,
            canonical_bodies,
            records,
            moment,
            strict,
        )
        results.append(context.run(notes, authors, bare_cr))
    return results


def _epoch(value: datetime | int) -> int:
    """POSIX seconds; a naive datetime is refused, its offset would be a guess."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise DkimError(
                "now= is a naive datetime; pass a timezone-aware one, e.g. "
                "datetime.now(timezone.utc), or POSIX seconds"
            )
        return int(value.astimezone(timezone.utc).timestamp())
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise DkimError(f"now= must be a datetime or POSIX seconds, not {type(value).__name__}")
    if not math.isfinite(value):
        raise DkimError(f"now= must be a finite number of POSIX seconds, not {value}")
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
        canonical_bodies: dict[str, bytes],
        records: RecordSource,
        now: int,
        strict: bool,
    ) -> None:
        self.index, self.header, self.headers, self.body = index, header, headers, body
        self.body_hashes, self.records, self.now, self.strict = body_hashes, records, now, strict
        self.canonical_bodies = canonical_bodies
        self.info: dict[str, Any] = {}
        self.notes: list[str] = []

    def run(
        self, notes: tuple[str, ...], authors: composition.Authors, bare_cr: bool
    ) -> DkimResult:
        self.notes.extend(notes)
        status: Status
        try:
            self._check(authors, bare_cr)
            status, reason = "pass", "signature verified"
        except _Outcome as verdict:
            status, reason = verdict.status, verdict.reason
        except DkimError as exc:
            status, reason = "permerror", str(exc)
        return DkimResult(
            index=self.index, status=status, reason=reason, notes=tuple(self.notes), **self.info
        )

    def _check(self, authors: composition.Authors, bare_cr: bool) -> None:
        value = self.header.raw.split(b":", 1)[1].decode("ascii", "replace")
        tags = parse_tag_list(value, "DKIM-Signature")
        self.info.update(
            domain=tags["d"].lower() if "d" in tags else None,
            selector=tags["s"].lower() if "s" in tags else None,
            algorithm=tags["a"].lower() if "a" in tags else None,
            composition=authors.problem,
        )
        try:
            sig = parse_signature(tags)
        except DkimError:  # still say what h= lists, as far as it can be read
            names = remove_fws(tags.get("h", "")).split(":")
            self.info["signed_headers"] = tuple(n.lower() for n in names if n)
            raise
        self.info.update(
            identity=sig.identity,
            canonicalization=f"{sig.header_canonicalization}/{sig.body_canonicalization}",
            signed_headers=sig.signed_headers,
            timestamp=sig.timestamp,
            expires=sig.expires,
            unsigned_instances=composition.unsigned_above(self.headers, sig.signed_headers),
            unsigned_fields=composition.unsigned_fields(self.headers, sig.signed_headers),
        )
        if sig.algorithm == "rsa-sha1":
            raise _Outcome("fail", "rsa-sha1 is not accepted (RFC 8301)")
        if authors.reason is not None:
            raise _Outcome("permerror", authors.reason)
        if bare_cr:
            raise _Outcome(
                "fail",
                "the message has a bare CR (RFC 5322 §2.3 forbids it): readers split its lines "
                "differently, so it is refused in strict mode",
            )
        self._check_times(sig)
        length = self._body_length(sig.body_length)
        record = self._key_record(sig.selector, sig.domain)
        self._check_record(record, sig.algorithm, sig.domain, sig.identity_domain)
        self._check_body_hash(sig.body_hash, sig.body_canonicalization, length)
        self._check_signature(sig, record)
        self._check_unsigned_instances()

    def _check_unsigned_instances(self) -> None:
        """Readers show the top instance; a signature that left it unsigned fails."""
        unsigned: tuple[str, ...] = self.info["unsigned_instances"]
        if not unsigned:
            return
        shown_names = composition.shown_unsigned(unsigned)
        if shown_names:
            self.info["composition"] = composition.UNSIGNED_ABOVE
            names = ", ".join(composition.display_name(n) for n in shown_names)
            raise _Outcome(
                "fail",
                f"an unsigned {names} field sits above the signed one: readers show it, but "
                "the signature covers only the lower one (RFC 6376 §8.15); the signer must "
                "list such fields in h= once more than they occur",
            )
        names = ", ".join(sorted({composition.display_name(n) for n in unsigned}))
        self.notes.append(f"unsigned instances above the signed ones: {names}")

    def _check_times(self, sig: SignatureTags) -> None:
        if sig.timestamp is not None and sig.timestamp > self.now + CLOCK_SKEW:
            raise _Outcome("fail", "the signature timestamp t= is in the future")
        if sig.expires is not None and sig.expires < self.now:
            raise _Outcome("fail", "the signature has expired (x=)")

    def _body_length(self, length: int | None) -> int | None:
        if length is None:
            return None
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
            self.notes.append(
                "the key record has t=y (testing): receivers treat the message as unsigned "
                "(RFC 6376 §3.6.1), so this signature does not authenticate it"
            )

    def _check_body_hash(
        self, expected: bytes, method: Canonicalization, length: int | None
    ) -> None:
        key = (method, length)
        if key not in self.body_hashes:
            if length is None:
                hasher = hashlib.sha256()
                for piece in canonical_body(self.body[0], method, self.body[1]):
                    hasher.update(piece)
                self.body_hashes[key] = hasher.digest()
            else:
                # Each l= hashes a prefix of one canonical body, kept per method: sixteen
                # different l= values must not canonicalize the body sixteen times.
                whole = self.canonical_bodies.get(method)
                if whole is None:
                    whole = b"".join(canonical_body(self.body[0], method, self.body[1]))
                    self.canonical_bodies[method] = whole
                if length > len(whole):
                    raise _Outcome("permerror", "l= is longer than the canonical body")
                self.body_hashes[key] = hashlib.sha256(memoryview(whole)[:length]).digest()
        if not hmac.compare_digest(self.body_hashes[key], expected):
            raise _Outcome("fail", "body hash mismatch: the body was changed after signing")

    def _check_signature(self, sig: SignatureTags, record: KeyRecord) -> None:
        signature, method = sig.signature, sig.header_canonicalization
        unsigned = _without_b_value(self.header.raw)
        data = SignatureHeaders(self.headers).hash_input(sig.signed_headers, method)
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
