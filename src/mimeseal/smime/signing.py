"""S/MIME signing (RFC 8551): detached ``multipart/signed`` and opaque ``application/pkcs7-mime``.

The outer headers (From, To, Subject, Date…) stay outside the signature; the content entity
(Content-* headers and body) is made 7-bit and CRLF *before* it is signed, and those exact
bytes are what the CMS signature covers and what is emitted. Verification lives in
:mod:`mimeseal.smime_verify`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime, timezone

from cryptography import x509

from mimeseal import cms, keys
from mimeseal.errors import CertificateError, MessageError, SigningError
from mimeseal.limits import UNLIMITED
from mimeseal.mime import (
    CRLF,
    RawHeader,
    choose_boundary,
    encode_base64_lines,
    header_boundaries,
    header_values,
    is_transport_safe,
    parse_addresses,
    parse_headers,
    prepare_7bit,
    to_crlf,
)

log = logging.getLogger("mimeseal")

SIGNATURE_TYPE = "application/pkcs7-signature"
OPAQUE_TYPE = "application/pkcs7-mime"
_PREAMBLE = b"This is an S/MIME signed message" + CRLF


def _is_content_header(header: RawHeader) -> bool:
    return header.name.lower().startswith("content-")


def split_entity(message: bytes) -> tuple[list[RawHeader], bytes]:
    """Split a message into its outer headers and its content entity (not yet 7-bit).

    The entity is the Content-* headers plus the body; a message without a Content-Type gets
    RFC 2045's default made explicit, so the signed entity says what it is. The body is left
    as it is: :func:`mimeseal.mime.prepare_7bit` fixes line ends where they are text.
    """
    outer, content_headers, body_start = _split_entity_parts(message)
    return outer, content_headers + CRLF + message[body_start:]


Piece = bytes | memoryview


def _split_entity_parts(message: bytes) -> tuple[list[RawHeader], bytes, int]:
    """Outer headers, content headers, and the offset where the body starts."""
    block_end, body_start = header_boundaries(message)
    headers = parse_headers(to_crlf(message[:block_end]), UNLIMITED)  # the sender's own
    outer = [h for h in headers if not _is_content_header(h) and not h.is_named("MIME-Version")]
    content = [h.raw for h in headers if _is_content_header(h)]
    if not any(h.is_named("Content-Type") for h in headers):
        content.insert(0, b"Content-Type: text/plain; charset=us-ascii\r\n")
    for header in outer:
        if not header.raw.isascii():
            raise MessageError(
                f"the {header.name} header is not ASCII; encode it with RFC 2047 before signing"
            )
    return outer, b"".join(content), body_start


def _signed_entity(message: bytes) -> tuple[list[RawHeader], tuple[Piece, ...]]:
    """Outer headers and the 7-bit, CRLF entity to sign, as pieces to join.

    When the whole message is already transport-safe (the usual case) the body is used in
    place, never copied: the pieces are hashed and written out one after the other.
    """
    outer, content_headers, body_start = _split_entity_parts(message)
    if is_transport_safe(message):
        return outer, (content_headers, CRLF, memoryview(message)[body_start:])
    entity = prepare_7bit(content_headers + CRLF + message[body_start:])
    return outer, (entity,)


def from_addresses(headers: Sequence[RawHeader]) -> list[str]:
    """Bare, lower-cased addresses of every mailbox in every From header."""
    values = header_values(headers, "From")
    return [addr.lower() for _, addr in parse_addresses(values) if addr]


def sign(
    message: bytes,
    *,
    key: keys.SigningKey,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
    digest: str | None = None,
    opaque: bool = False,
    signing_time: datetime | None = None,
    rsa_padding: cms.RsaPadding = "pkcs1v15",
    check_certificate: bool = True,
) -> bytes:
    """Sign ``message`` and return the new message bytes.

    ``digest`` is ``sha-256``, ``sha-384`` or ``sha-512``; by default sha-256, or the hash
    matching an EC key's curve (sha-384 for P-384, sha-512 for P-521). Ed25519 always uses
    ``sha-512`` (RFC 8419). ``rsa_padding="pss"`` selects RSASSA-PSS. The key must match
    ``cert``; unless ``check_certificate`` is False (for building deliberately bad test
    messages), the certificate must be valid now, allow S/MIME signing and name the From
    address.
    """
    outer, entity = _signed_entity(message)
    micalg = cms.digest_for_key(key, digest)
    keys.check_key_matches(key, cert)
    when = signing_time or datetime.now(timezone.utc)
    if when.tzinfo is None:
        raise SigningError("signing_time must be timezone-aware (for example datetime.now(UTC))")
    if check_certificate:
        senders = from_addresses(outer)
        problems = keys.smime_certificate_problems(
            cert, at=when, address=senders[0] if len(senders) == 1 else None
        )
        if problems:
            listed = " ".join(p.message for p in problems)
            raise CertificateError(f"cannot sign with {keys.describe_certificate(cert)}: {listed}")
    hasher = hashlib.new(cms.DIGESTS[micalg][1])
    for piece in entity:
        hasher.update(piece)
    der = cms.build_signed_data(
        entity if opaque else b"",
        key=key,
        cert=cert,
        chain=chain,
        digest=micalg,
        rsa_padding=rsa_padding,
        signing_time=when,
        detached=not opaque,
        content_digest=hasher.digest(),
    )
    log.debug(
        "S/MIME signed %d octets (%s, %s)",
        sum(map(len, entity)),
        micalg,
        "opaque" if opaque else "detached",
    )
    head = b"".join(h.raw for h in outer) + b"MIME-Version: 1.0\r\n"
    if opaque:
        return b"".join(
            [
                head,
                b"Content-Type: application/pkcs7-mime; smime-type=signed-data;\r\n"
                b' name="smime.p7m"\r\n'
                b"Content-Transfer-Encoding: base64\r\n"
                b'Content-Disposition: attachment; filename="smime.p7m"\r\n'
                b"\r\n",
                encode_base64_lines(der),
            ]
        )
    signature = encode_base64_lines(der)
    # A memoryview piece is a slice of ``message``, which is searched whole.
    own_pieces = [piece for piece in entity if isinstance(piece, bytes)]
    boundary = choose_boundary(message, *own_pieces, signature).encode("ascii")
    delimiter = b"--" + boundary
    return b"".join(
        [
            head,
            b'Content-Type: multipart/signed; protocol="application/pkcs7-signature";\r\n'
            b" micalg=" + micalg.encode("ascii") + b'; boundary="' + boundary + b'"\r\n',
            CRLF,
            _PREAMBLE,
            delimiter + CRLF,
            *entity,
            CRLF + delimiter + CRLF,
            b'Content-Type: application/pkcs7-signature; name="smime.p7s"\r\n'
            b"Content-Transfer-Encoding: base64\r\n"
            b'Content-Disposition: attachment; filename="smime.p7s"\r\n'
            b"\r\n",
            signature,
            delimiter + b"--" + CRLF,
        ]
    )
