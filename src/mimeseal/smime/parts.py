"""Locating S/MIME signed entities in raw message bytes, without re-serializing anything.

A signed entity may be the message root or sit anywhere inside it (MIME wrapping, RFC 8551
§3.8 and the "Johnny, you are fired!" attacks); the walker reports where each one is, so the
verifier can say exactly what a signature covers.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from mimeseal.errors import MessageError, VerificationInputError
from mimeseal.limits import Limits, PartBudget, shown
from mimeseal.mime import (
    ContentType,
    content_type_of,
    first_header,
    parse_headers,
    split_message,
    split_multipart,
)
from mimeseal.verdict import Problem

SIGNATURE_TYPES = ("application/pkcs7-signature", "application/x-pkcs7-signature")
OPAQUE_TYPES = ("application/pkcs7-mime", "application/x-pkcs7-mime")


@dataclass(frozen=True)
class SignedEntity:
    """One signed entity found in a message.

    ``path`` is the MIME part path ("" for the root, "1.2" for the second child of the first
    child); ``signed_bytes`` are the exact bytes a detached signature covers (empty for opaque
    signatures, whose content travels inside the CMS structure).
    """

    path: str
    form: Literal["detached", "opaque"]
    media_type: str
    signed_bytes: bytes
    cms_der: bytes
    micalg: str | None
    problems: tuple[Problem, ...]

    @property
    def is_root(self) -> bool:
        return self.path == ""


_BASE64_TEXT = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=" + b" \t\r\n"


def decode_base64_strict(body: bytes, what: str) -> bytes:
    """Decode a base64 body, refusing anything but the alphabet, final padding and white space.

    The checks delete the allowed characters in one C pass (nothing may be left) instead of
    building a compacted copy, so a large body is decoded with no intermediate copy.
    """
    padding_at = body.find(b"=")
    tail_ok = padding_at == -1 or not body[padding_at:].translate(None, b"= \t\r\n")
    if not tail_ok or body.translate(None, _BASE64_TEXT):
        raise VerificationInputError(
            f"the {what} is not valid base64; the message was damaged in transit"
        )
    try:
        return binascii.a2b_base64(body)
    except binascii.Error:
        raise VerificationInputError(
            f"the {what} is not valid base64 (bad length or padding); the message was damaged "
            "in transit"
        ) from None


def _body_of(part: bytes, budget: PartBudget) -> tuple[ContentType, str | None, bytes]:
    block, body = split_message(part)
    headers = parse_headers(block, budget.limits)
    return content_type_of(headers), first_header(headers, "Content-Transfer-Encoding"), body


def _decode_body(body: bytes, cte: str | None, what: str) -> bytes:
    encoding = (cte or "7bit").strip().lower()
    if encoding == "base64":
        return decode_base64_strict(body, what)
    if encoding in ("7bit", "8bit", "binary"):
        return body
    raise VerificationInputError(
        f"the {what} uses Content-Transfer-Encoding {shown(cte)!r}; S/MIME signatures are base64"
    )


def _detached(path: str, ctype: ContentType, body: bytes, budget: PartBudget) -> SignedEntity:
    boundary = ctype.param("boundary")
    if not boundary:
        raise MessageError("a multipart/signed part has no boundary parameter")
    split = split_multipart(body, boundary, max_parts=budget.remaining(), used=budget.parts)
    budget.add(len(split.parts))
    problems: list[Problem] = []
    if not split.closed:
        problems.append(
            Problem(
                "unclosed-multipart",
                "the multipart/signed body has no closing boundary; the message was truncated",
                "warning",
            )
        )
    if len(split.parts) != 2:
        raise VerificationInputError(
            f"a multipart/signed part must have exactly two parts (content, signature); this "
            f"one has {len(split.parts)}"
        )
    protocol = (ctype.param("protocol") or "").lower()
    sig_type, sig_cte, sig_body = _body_of(split.parts[1], budget)
    if sig_type.type not in SIGNATURE_TYPES:
        raise VerificationInputError(
            f"the second part of multipart/signed is {shown(sig_type.type)}, not "
            "application/pkcs7-signature; this is not an S/MIME signature"
        )
    if protocol not in SIGNATURE_TYPES:
        problems.append(
            Problem(
                "protocol-mismatch",
                f"multipart/signed protocol is {shown(protocol)!r}, expected "
                "application/pkcs7-signature",
                "warning",
            )
        )
    if "x-pkcs7" in protocol or sig_type.type.startswith("application/x-"):
        problems.append(
            Problem(
                "legacy-media-type",
                "the legacy application/x-pkcs7-signature type is used; RFC 8551 names "
                "application/pkcs7-signature",
                "info",
            )
        )
    der = _decode_body(sig_body, sig_cte, "signature part")
    return SignedEntity(
        path=path,
        form="detached",
        media_type=_body_of(split.parts[0], budget)[0].type,
        signed_bytes=split.parts[0],
        cms_der=der,
        micalg=(ctype.param("micalg") or "").lower() or None,
        problems=tuple(problems),
    )


def _is_opaque_signed(ctype: ContentType) -> bool:
    if ctype.type not in OPAQUE_TYPES:
        return False
    smime_type = (ctype.param("smime-type") or "").lower()
    name = (ctype.param("name") or "").lower()
    return smime_type == "signed-data" or (not smime_type and name.endswith(".p7m"))


def iter_signed_entities(message: bytes, limits: Limits | None = None) -> Iterator[SignedEntity]:
    """Yield every signed entity in ``message`` (CRLF bytes), depth first, in MIME order.

    MIME depth, part count and header sizes are bounded by ``limits`` (LimitError past them).
    """
    yield from _walk(message, "", 0, PartBudget(limits))


def _walk(entity: bytes, path: str, depth: int, budget: PartBudget) -> Iterator[SignedEntity]:
    budget.enter(depth)
    ctype, cte, body = _body_of(entity, budget)
    if ctype.type == "multipart/signed":
        yield _detached(path, ctype, body, budget)
        return
    if _is_opaque_signed(ctype):
        yield SignedEntity(
            path=path,
            form="opaque",
            media_type=ctype.type,
            signed_bytes=b"",
            cms_der=_decode_body(body, cte, "opaque S/MIME body"),
            micalg=None,
            problems=(),
        )
        return
    if ctype.is_multipart:
        boundary = ctype.param("boundary")
        if not boundary:
            raise MessageError(f"multipart part {path or 'root'} has no boundary parameter")
        parts = split_multipart(
            body, boundary, max_parts=budget.remaining(), used=budget.parts
        ).parts
        budget.add(len(parts))
        for index, part in enumerate(parts, start=1):
            yield from _walk(part, f"{path}.{index}" if path else str(index), depth + 1, budget)
    elif ctype.type == "message/rfc822":
        yield from _walk(body, f"{path}.1" if path else "1", depth + 1, budget)
