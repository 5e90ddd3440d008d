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
    header_boundaries,
    parse_headers,
    split_multipart,
)
from mimeseal.mime_params import STRUCTURAL, structure_disagreements, unfolded_value
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


#: Parameters that decide how an entity is cut up or read; given twice, parsers disagree.
_STRUCTURAL_PARAMETERS = (*STRUCTURAL, "charset")
_MULTIPART_ENCODINGS = ("7bit", "8bit", "binary")


def _body_of(part: bytes, budget: PartBudget) -> tuple[ContentType, str | None, bytes]:
    ctype, cte, body_start, _ = _read_entity(part, budget, "")
    return ctype, cte, part[body_start:]


def _read_entity(
    part: bytes, budget: PartBudget, path: str
) -> tuple[ContentType, str | None, int, list[Problem]]:
    """The entity's type, transfer encoding and where its body starts (a large body is sliced
    only by those that read it), and what would let two MIME parsers read it differently (one
    signed message must have one meaning)."""
    block_end, body_start = header_boundaries(part)
    headers = parse_headers(part[:block_end], budget.limits)
    ctype = content_type_of(headers)
    cte = first_header(headers, "Content-Transfer-Encoding")
    where = f"MIME part {path}" if path else "the message"
    found = []
    for name in ("Content-Type", "Content-Transfer-Encoding"):
        count = sum(1 for h in headers if h.is_named(name))
        if count > 1:
            found.append(f"{where} has {count} {name} fields")
    content_types = [h for h in headers if h.is_named("Content-Type")]
    if content_types and _decides_structure(ctype, content_types[0].raw):
        value = unfolded_value(content_types[0].raw)
        found += [f"{where}: {text}" for text in structure_disagreements(value, ctype)]
    repeated = sorted(set(_STRUCTURAL_PARAMETERS) & ctype.repeated)
    if repeated:
        found.append(f"{where} gives the Content-Type parameter {', '.join(repeated)} twice")
    if ctype.is_multipart and (cte or "7bit").strip().lower() not in _MULTIPART_ENCODINGS:
        found.append(
            f"{where} is {ctype.type} with Content-Transfer-Encoding {shown(cte)} "
            "(RFC 2045 §6.4 allows only 7bit, 8bit or binary on a multipart)"
        )
    problems = [
        Problem(
            "ambiguous-structure",
            f"{text}: MIME parsers differ in which one they use, so a reader may be shown other "
            "content than the verifier checked",
        )
        for text in found
    ]
    return ctype, cte, body_start, problems


def _decides_structure(ctype: ContentType, raw_field: bytes) -> bool:
    """Whether this Content-Type decides how the message is cut up or where a signature is:
    so every parser must read it alike (a leaf type is checked when it mentions multipart)."""
    return (
        ctype.is_multipart
        or ctype.type in OPAQUE_TYPES
        or ctype.type == "message/rfc822"
        or b"multipart" in raw_field.lower()
    )


def _decode_body(body: bytes, cte: str | None, what: str) -> bytes:
    encoding = (cte or "7bit").strip().lower()
    if encoding == "base64":
        return decode_base64_strict(body, what)
    if encoding in ("7bit", "8bit", "binary"):
        return body
    raise VerificationInputError(
        f"the {what} uses Content-Transfer-Encoding {shown(cte)!r}; S/MIME signatures are base64"
    )


def _detached(
    path: str, ctype: ContentType, body: bytes, walk: _Walk, inherited: list[Problem]
) -> SignedEntity:
    budget = walk.budget
    boundary = ctype.param("boundary")
    if not boundary:
        raise MessageError("a multipart/signed part has no boundary parameter")
    split = split_multipart(body, boundary, max_parts=budget.remaining(), used=budget.parts)
    budget.add(len(split.parts))
    problems = list(inherited)
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
    signed_type, _, _, ambiguities = _read_entity(
        split.parts[0], budget, f"{path}.1" if path else "1"
    )
    problems += ambiguities
    walk.ambiguities.extend(ambiguities)
    return SignedEntity(
        path=path,
        form="detached",
        media_type=signed_type.type,
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


def iter_signed_entities(
    message: bytes, limits: Limits | None = None, ambiguities: list[Problem] | None = None
) -> Iterator[SignedEntity]:
    """Yield every signed entity in ``message`` (CRLF bytes), depth first, in MIME order.

    MIME depth, part count and header sizes are bounded by ``limits`` (LimitError past them).
    Each entity carries the ``ambiguous-structure`` problems of itself and the parts that hold
    it; ``ambiguities``, if given, collects those of every part walked, signed or not (a second
    Content-Type on the root may hide a signature from this walker and show it to another).
    """
    sink = [] if ambiguities is None else ambiguities
    yield from _walk(message, "", 0, _Walk(PartBudget(limits), sink), [])


@dataclass(frozen=True)
class _Walk:
    budget: PartBudget
    ambiguities: list[Problem]


def _walk(
    entity: bytes, path: str, depth: int, walk: _Walk, inherited: list[Problem]
) -> Iterator[SignedEntity]:
    budget = walk.budget
    budget.enter(depth)
    ctype, cte, body_start, ambiguities = _read_entity(entity, budget, path)
    walk.ambiguities.extend(ambiguities)
    inherited = inherited + ambiguities
    if not (ctype.is_multipart or ctype.type == "message/rfc822" or _is_opaque_signed(ctype)):
        return  # a leaf: no signature can be inside, and its body is not read
    body = entity[body_start:]
    if ctype.type == "multipart/signed":
        yield _detached(path, ctype, body, walk, inherited)
        return
    if _is_opaque_signed(ctype):
        yield SignedEntity(
            path=path,
            form="opaque",
            media_type=ctype.type,
            signed_bytes=b"",
            cms_der=_decode_body(body, cte, "opaque S/MIME body"),
            micalg=None,
            problems=tuple(inherited),
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
            child = f"{path}.{index}" if path else str(index)
            yield from _walk(part, child, depth + 1, walk, inherited)
    elif ctype.type == "message/rfc822":
        yield from _walk(body, f"{path}.1" if path else "1", depth + 1, walk, inherited)
