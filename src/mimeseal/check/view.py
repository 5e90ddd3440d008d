"""A parsed view of a message that every rule reads: headers, MIME parts, DKIM tags, calendars.

Parsing happens once, at the byte level; nothing here re-serializes the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mimeseal.dkim.tags import parse_tag_list
from mimeseal.errors import LimitError, MessageError, MimesealError
from mimeseal.limits import DEFAULT_LIMITS, Limits, PartBudget
from mimeseal.mime import (
    ContentType,
    RawHeader,
    check_addresses,
    content_type_of,
    first_header,
    has_bare_line_ends,
    header_boundaries,
    parse_addresses,
    parse_headers,
    split_multipart,
    to_crlf,
)


@dataclass(frozen=True)
class Part:
    """One MIME entity: its path, raw headers, content type and raw (still encoded) body.

    ``offset`` is where the entity starts in the canonical message; ``body_line`` is the line
    number (1-based) of the body's first line, for locations in findings.
    """

    path: str
    headers: tuple[RawHeader, ...]
    content_type: ContentType
    body: bytes
    offset: int
    body_line: int
    boundary: str | None = None
    children: tuple[str, ...] = ()

    @property
    def transfer_encoding(self) -> str:
        return (first_header(self.headers, "Content-Transfer-Encoding") or "7bit").strip().lower()


@dataclass(frozen=True)
class DkimSignature:
    index: int
    header: RawHeader
    tags: dict[str, str] | None  # None when the tag list is malformed
    error: str | None = None

    @property
    def signed_headers(self) -> list[str]:
        if not self.tags:
            return []
        return [h.strip().lower() for h in self.tags.get("h", "").split(":") if h.strip()]


@dataclass
class MessageView:
    """Everything rules need, computed once."""

    raw: bytes
    canonical: bytes
    headers: list[RawHeader]
    parts: list[Part] = field(default_factory=list)
    dkim: list[DkimSignature] = field(default_factory=list)
    parse_error: str | None = None
    limits: Limits = DEFAULT_LIMITS  # what the rules' own parsers may read, as the view did

    def header_values(self, name: str) -> list[str]:
        return [h.value for h in self.headers if h.is_named(name)]

    def addresses(self, *names: str) -> list[tuple[str, str]]:
        values: list[str] = []
        for name in names:
            values += self.header_values(name)
        try:
            return parse_addresses(values)
        except MessageError:  # reported once, as the view's parse error
            return []

    def part(self, path: str) -> Part | None:
        return next((p for p in self.parts if p.path == path), None)

    def leaves(self) -> list[Part]:
        return [p for p in self.parts if not p.content_type.is_multipart]


def build_view(message: bytes, limits: Limits | None = None) -> MessageView:
    """Parse ``message``; structural problems are kept in ``parse_error`` for a rule to report.

    Input beyond ``limits`` (header block, MIME depth or part count) raises
    :class:`~mimeseal.errors.LimitError` instead: that is a refusal, not a finding.
    """
    canonical = to_crlf(message) if has_bare_line_ends(message) else message
    block_end, _ = header_boundaries(canonical)
    budget = PartBudget(limits)
    headers = parse_headers(canonical[:block_end], budget.limits)
    view = MessageView(raw=message, canonical=canonical, headers=headers, limits=budget.limits)
    for index, header in enumerate(h for h in headers if h.is_named("DKIM-Signature")):
        value = header.raw.split(b":", 1)[1].decode("ascii", "replace")
        try:
            view.dkim.append(DkimSignature(index, header, parse_tag_list(value, "DKIM-Signature")))
        except MimesealError as exc:
            view.dkim.append(DkimSignature(index, header, None, str(exc)))
    try:
        _walk(view, canonical, 0, "", 0, budget, _LineCounter(canonical))
    except LimitError:
        raise
    except MimesealError as exc:
        view.parse_error = str(exc)
    for name in ("From", "Sender", "Reply-To", "To", "Cc", "Bcc"):
        try:
            check_addresses(view.header_values(name))
        except MessageError as exc:
            view.parse_error = view.parse_error or f"the {name} field: {exc}"
    return view


class _LineCounter:
    """Line numbers of increasing offsets, counting each stretch of the message once.

    The walk visits parts in document order; counting from the start for each part would
    scan the message once per part.
    """

    def __init__(self, data: bytes) -> None:
        self.data, self.offset, self.line = data, 0, 1

    def at(self, offset: int) -> int:
        if offset < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.data.count(b"\n", self.offset, offset)
        self.offset = offset
        return self.line


def _walk(
    view: MessageView,
    entity: bytes,
    offset: int,
    path: str,
    depth: int,
    budget: PartBudget,
    lines: _LineCounter,
) -> None:
    budget.enter(depth)
    block_end, body_start = header_boundaries(entity)
    headers = tuple(parse_headers(entity[:block_end], budget.limits))
    ctype = content_type_of(headers)
    body = entity[body_start:]
    line = lines.at(offset + body_start)
    boundary = ctype.param("boundary") if ctype.is_multipart else None
    split = None
    if ctype.is_multipart and boundary:
        split = split_multipart(body, boundary, max_parts=budget.remaining(), used=budget.parts)
        budget.add(len(split.parts))
    pieces = split.parts if split else ()
    paths = tuple(f"{path}.{n}" if path else str(n) for n in range(1, len(pieces) + 1))
    view.parts.append(Part(path, headers, ctype, body, offset, line, boundary, paths))
    position = 0
    for child, child_path in zip(pieces, paths, strict=True):
        at = body.find(child, position) if child else position
        position = at + len(child)
        _walk(view, child, offset + body_start + max(at, 0), child_path, depth + 1, budget, lines)
