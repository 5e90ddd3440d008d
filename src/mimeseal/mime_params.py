"""A strict reading of a Content-Type field (RFC 2045 §5.1, RFC 2046 §5.1.1), for the fields
that decide how a signed message is cut up.

MIME readers differ on everything the grammar does not allow: a comment after a value, a space
in an unquoted value, text after a closing quote, RFC 2231 continuations with gaps or repeats,
encoded-words inside parameters (RFC 2047 §5 forbids them; Python's modern parser decodes
them), a boundary ending in a space (RFC 2046 forbids it; readers strip it). On the outer,
unsigned header of a multipart/signed each of those lets an attacker show a reader other parts
than the ones a verifier checked. So where the structure matters, anything but the plain
grammar is reported, and the value read here must be the one the lenient parser read.
"""

from __future__ import annotations

import re

from mimeseal.mime import ContentType

_TOKEN = rb"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"
#: ASCII only, no quoted-pairs: no boundary, protocol or micalg needs one.
_QUOTED = rb'"[\t\x20\x21\x23-\x5b\x5d-\x7e]*"'
_HEAD = re.compile(rb"[ \t]*(" + _TOKEN + rb")/(" + _TOKEN + rb")[ \t]*")
_PARAMETER = re.compile(
    rb";[ \t]*(" + _TOKEN + rb")[ \t]*=[ \t]*(" + _TOKEN + b"|" + _QUOTED + rb")[ \t]*"
)
_TRAILER = re.compile(rb";?[ \t]*")
#: RFC 2046 §5.1.1 names 1 to 70 bchars, the last not a space. Readers agree beyond that set
#: (Outlook and Evolution put braces in boundaries) and on longer ones; what they do not agree
#: on is a trailing space, which they strip, and octets outside printable ASCII.
_BOUNDARY = re.compile(rb"[\x21-\x7e ]{0,199}[\x21-\x7e]")
#: Parameters that decide structure; each must read the same to every parser.
STRUCTURAL = ("boundary", "protocol", "micalg", "smime-type")


def unfolded_value(raw_field: bytes) -> bytes:
    """The value of a raw header field, unfolded (RFC 5322 §2.2.3), as octets."""
    value = raw_field.split(b":", 1)[1]
    return re.sub(rb"\r?\n(?=[ \t])", b"", value).strip(b" \t\r\n")


def strict_parameters(value: bytes) -> tuple[str, dict[str, str]] | None:
    """``type/subtype`` and the parameters of an unfolded Content-Type value, or None when
    the value is not plainly RFC 2045: comments, bad tokens, trailing text, non-ASCII."""
    head = _HEAD.match(value)
    if head is None:
        return None
    params: dict[str, str] = {}
    at = head.end()
    while True:
        found = _PARAMETER.match(value, at)
        if found is None:
            break
        raw = found.group(2)
        params[found.group(1).decode("ascii").lower()] = (
            raw[1:-1] if raw.startswith(b'"') else raw
        ).decode("ascii")
        at = found.end()
    if _TRAILER.fullmatch(value, at) is None:
        return None
    return f"{head.group(1).decode()}/{head.group(2).decode()}".lower(), params


def structure_disagreements(value: bytes, ctype: ContentType) -> list[str]:
    """What in a structural Content-Type value (``value``: unfolded, raw octets) two MIME
    parsers would read differently, given ``ctype``, the lenient reading; [] if nothing."""
    strict = strict_parameters(value)
    if strict is None:
        return [
            "its Content-Type is not plain RFC 2045 syntax (a comment, a space or text outside "
            "quotes, an RFC 2231 or non-ASCII form), which MIME readers split differently"
        ]
    found = []
    media_type, params = strict
    if media_type != ctype.type:
        found.append(f"its media type reads as {media_type} and as {ctype.type}")
    for name in STRUCTURAL:
        keys = [key for key in params if key.split("*", 1)[0] == name]
        if any("*" in key for key in keys):
            found.append(f"its {name} parameter uses RFC 2231 continuations or encoding")
        elif (params.get(name) or None) != ctype.param(name):
            found.append(f"its {name} parameter reads differently to different parsers")
        elif "=?" in (params.get(name) or ""):
            found.append(f"its {name} parameter holds an encoded-word (RFC 2047 §5 forbids it)")
    boundary = params.get("boundary")
    if ctype.is_multipart and (
        boundary is None or _BOUNDARY.fullmatch(boundary.encode("ascii")) is None
    ):
        found.append(
            "its boundary is empty, ends in a space or is not printable ASCII (RFC 2046 §5.1.1)"
        )
    return found
