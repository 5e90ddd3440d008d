"""A bounded reader for BER and DER (ITU-T X.690), enough to walk CMS as senders emit it.

Outlook, Windows CryptoAPI and older clients send CMS in BER: indefinite lengths and content
split into constructed OCTET STRINGs (X.690 §8.1.3.6, §8.7.3). Generic decoders copy content at
every nesting level and re-encode what they read; this reader only records offsets, so the
caller can hash or verify the exact octets of the message, and it is linear in the input:
every octet is visited once, nesting is bounded, and constructed strings are joined once.
"""

from __future__ import annotations

from dataclasses import dataclass

from mimeseal.der import der_header
from mimeseal.errors import CmsError

#: Nesting deeper than this is refused; CMS SignedData needs about 12 levels.
MAX_DEPTH = 64

SEQUENCE, SET, OCTET_STRING, OID, INTEGER = 0x30, 0x31, 0x04, 0x06, 0x02
_CONSTRUCTED = 0x20


class ElementBudgetError(CmsError):
    """The structure has more elements than the caller allowed."""


def malformed(what: str) -> CmsError:
    return CmsError(
        f"the CMS signature is malformed or truncated ({what}); the message was damaged in "
        "transit or was not produced by an S/MIME signer"
    )


@dataclass(frozen=True, slots=True)
class Element:
    """One TLV: ``tag`` is the identifier octet; content is ``data[content_start:content_end]``.

    ``end`` is one past the whole element, end-of-contents octets included when
    ``indefinite``. ``children`` are read for constructed elements only.
    """

    tag: int
    start: int
    content_start: int
    content_end: int
    end: int
    indefinite: bool
    children: tuple[Element, ...]

    @property
    def constructed(self) -> bool:
        return bool(self.tag & _CONSTRUCTED)

    def is_context(self, number: int) -> bool:
        """A context-specific tag ``[number]`` (X.690 §8.1.2.2), primitive or constructed."""
        return self.tag & 0xDF == 0x80 | number


def parse(data: bytes, *, max_elements: int) -> Element:
    """Read the one element that ``data`` holds; trailing octets are an error.

    ``max_elements`` bounds the work a hostile structure can ask for.
    """
    budget = [max_elements]
    element = _read(data, 0, len(data), 0, budget)
    if element.end != len(data):
        raise malformed(f"{len(data) - element.end} octets after the structure")
    return element


def _read(data: bytes, pos: int, limit: int, depth: int, budget: list[int]) -> Element:
    if depth > MAX_DEPTH:
        raise malformed(f"nested more than {MAX_DEPTH} levels")
    budget[0] -= 1
    if budget[0] < 0:
        raise ElementBudgetError("the CMS structure has too many elements")
    if pos + 2 > limit:
        raise malformed("an element is cut off")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise malformed("a high tag number, which CMS never uses")
    first = data[pos + 1]
    if first == 0x80:
        if not tag & _CONSTRUCTED:
            raise malformed("an indefinite length on a primitive element")
        return _read_indefinite(data, tag, pos, limit, depth, budget)
    if first < 0x80:
        start, length = pos + 2, first
    else:
        size = first & 0x7F
        if size > 8 or pos + 2 + size > limit:
            raise malformed("an impossible length")
        start, length = pos + 2 + size, int.from_bytes(data[pos + 2 : pos + 2 + size], "big")
    end = start + length
    if end > limit:
        raise malformed("an element is longer than what holds it")
    children: tuple[Element, ...] = ()
    if tag & _CONSTRUCTED:
        found: list[Element] = []
        at = start
        while at < end:
            child = _read(data, at, end, depth + 1, budget)
            found.append(child)
            at = child.end
        children = tuple(found)
    return Element(tag, pos, start, end, end, False, children)


def _read_indefinite(
    data: bytes, tag: int, pos: int, limit: int, depth: int, budget: list[int]
) -> Element:
    start = at = pos + 2
    found: list[Element] = []
    while True:
        if at + 2 > limit:
            raise malformed("an indefinite-length element has no end-of-contents")
        if data[at] == 0 and data[at + 1] == 0:
            return Element(tag, pos, start, at, at + 2, True, tuple(found))
        child = _read(data, at, limit, depth + 1, budget)
        found.append(child)
        at = child.end


def octets(data: bytes, element: Element) -> bytes:
    """The value of an OCTET STRING (or an implicitly tagged one): primitive content as is,
    constructed content joined from its segments (X.690 §8.7.3), copied once."""
    if not element.constructed:
        return data[element.content_start : element.content_end]
    pieces: list[bytes] = []
    stack = [element]
    while stack:
        current = stack.pop()
        if current.constructed:
            if current is not element and current.tag != OCTET_STRING | _CONSTRUCTED:
                raise malformed("a segment of an OCTET STRING is not an OCTET STRING")
            stack.extend(reversed(current.children))
        elif current.tag != OCTET_STRING:
            raise malformed("a segment of an OCTET STRING is not an OCTET STRING")
        else:
            pieces.append(data[current.content_start : current.content_end])
    return b"".join(pieces)


def string_length(element: Element) -> int:
    """The number of value octets of a string, primitive or constructed (X.690 §8.7.3)."""
    if not element.constructed:
        return element.content_end - element.content_start
    return sum(string_length(child) for child in element.children)


def expect(element: Element, tag: int, what: str) -> Element:
    """``element`` if its identifier is ``tag`` (constructed or primitive per ``tag``)."""
    if element.tag != tag:
        raise malformed(f"{what} has tag 0x{element.tag:02x}, expected 0x{tag:02x}")
    return element


def oid(data: bytes, element: Element) -> str:
    """The dotted form of an OBJECT IDENTIFIER (X.690 §8.19)."""
    expect(element, OID, "an object identifier")
    content = data[element.content_start : element.content_end]
    if not content or content[-1] & 0x80 or len(content) > 64:
        raise malformed("a malformed object identifier")
    arcs: list[int] = []
    value = 0
    for octet in content:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(map(str, (first, arcs[0] - 40 * first, *arcs[1:])))


def integer(data: bytes, element: Element) -> int:
    """The value of an INTEGER (X.690 §8.3), two's complement."""
    expect(element, INTEGER, "an integer")
    content = data[element.content_start : element.content_end]
    if not content or len(content) > 64:
        raise malformed("a malformed integer")
    return int.from_bytes(content, "big", signed=True)


def exact(data: bytes, element: Element) -> bytes:
    """The element's octets exactly as they stand in ``data``."""
    return data[element.start : element.end]


def as_set_of(data: bytes, element: Element) -> bytes:
    """The content of ``[0] IMPLICIT SET OF`` under the SET OF tag with a definite length: what
    a signature over signed attributes covers (RFC 5652 §5.4). For DER input these are the
    message's own content octets, unchanged."""
    content = data[element.content_start : element.content_end]
    return der_header(SET, len(content)) + content
