"""DER writing for CMS SignedData: the outer layers assembled around already-encoded pieces.

asn1crypto re-encodes certificates and copies content once per nesting level; these few
functions write only the outer TLV headers, so signing a 40 MB message copies its content once.
Reading is :mod:`mimeseal.ber`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

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
