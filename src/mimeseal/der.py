"""The DER fast paths for CMS SignedData: assemble one, and lift a large eContent out of one.

asn1crypto re-encodes certificates and copies content once per nesting level; these few
functions read and write only the outer TLV headers, so signing and parsing a 40 MB message
copy its content once. Anything but plain definite-length DER is left to asn1crypto.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

OID_DATA = bytes.fromhex("06092a864886f70d010701")
OID_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")
VERSION_1 = bytes.fromhex("020101")


def der_header(tag: int, length: int) -> bytes:
    if length < 0x80:
        return bytes((tag, length))
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size


def tlv(tag: int, *parts: bytes) -> bytes:
    return der_header(tag, sum(map(len, parts))) + b"".join(parts)


def assemble_signed_data(
    *,
    digest_algorithm: bytes,
    certificates: list[bytes],
    signer_info: bytes,
    content: Sequence[bytes | memoryview] | None,
) -> bytes:
    """DER ContentInfo(SignedData) from already-encoded pieces (RFC 5652 §5.1).

    asn1crypto re-encodes every certificate and copies a large eContent once per nesting
    level; assembling the few outer headers here keeps signing cost flat and copies the
    content exactly once. SET OF members are sorted, as DER requires.
    """
    unique_certs = sorted(set(certificates))
    pieces = tuple(content or ())
    size = sum(map(len, pieces))
    encap = len(OID_DATA)
    if content is not None:
        octets = der_header(0x04, size)
        explicit_econtent = der_header(0xA0, len(octets) + size) + octets
        encap += len(explicit_econtent) + size
    before = VERSION_1 + tlv(0x31, digest_algorithm) + der_header(0x30, encap) + OID_DATA
    if content is not None:
        before += explicit_econtent
    after = tlv(0xA0, *unique_certs) + tlv(0x31, signer_info)
    body_len = len(before) + size + len(after)
    signed_data_head = der_header(0x30, body_len)
    explicit = der_header(0xA0, len(signed_data_head) + body_len)
    info_len = len(OID_SIGNED_DATA) + len(explicit) + len(signed_data_head) + body_len
    head = der_header(0x30, info_len) + OID_SIGNED_DATA + explicit + signed_data_head + before
    return b"".join((head, *pieces, after))


@dataclass(frozen=True)
class Tlv:
    tag: int
    start: int  # first content octet
    end: int  # one past the last content octet


def read_tlv(der: bytes, pos: int, tag: int) -> Tlv | None:
    """The definite-length DER element with ``tag`` at ``pos``, or None for anything else."""
    if pos + 2 > len(der) or der[pos] != tag:
        return None
    first = der[pos + 1]
    if first < 0x80:
        start, length = pos + 2, first
    else:
        size = first & 0x7F
        if size == 0 or size > 8 or pos + 2 + size > len(der):
            return None  # indefinite (BER) or absurd lengths: leave them to asn1crypto
        start, length = pos + 2 + size, int.from_bytes(der[pos + 2 : pos + 2 + size], "big")
    if start + length > len(der):
        return None
    return Tlv(tag, start, start + length)


def lift_econtent(der: bytes) -> tuple[bytes, bytes] | None:
    """Split an attached-content SignedData into (the same DER without eContent, eContent).

    Only the plain definite-length DER layout is handled; anything else (BER, constructed
    OCTET STRINGs, detached signatures) returns None and is parsed by asn1crypto as is.
    """
    info = read_tlv(der, 0, 0x30)
    if info is None or info.end != len(der) or der[info.start : info.start + 11] != OID_SIGNED_DATA:
        return None
    wrapper = read_tlv(der, info.start + 11, 0xA0)
    signed = wrapper and read_tlv(der, wrapper.start, 0x30)
    version = signed and read_tlv(der, signed.start, 0x02)
    algorithms = version and read_tlv(der, version.end, 0x31)
    encap = algorithms and read_tlv(der, algorithms.end, 0x30)
    content_type = encap and read_tlv(der, encap.start, 0x06)
    explicit = content_type and read_tlv(der, content_type.end, 0xA0)
    octets = explicit and read_tlv(der, explicit.start, 0x04)
    if not (wrapper and signed and algorithms and encap and content_type and explicit and octets):
        return None
    if not (octets.end == explicit.end == encap.end and signed.end == wrapper.end == info.end):
        return None
    new_encap = tlv(0x30, der[encap.start : content_type.end])
    signed_der = tlv(
        0x30, der[signed.start : algorithms.end], new_encap, der[encap.end : signed.end]
    )
    small = tlv(0x30, OID_SIGNED_DATA, tlv(0xA0, signed_der))
    return small, der[octets.start : octets.end]
