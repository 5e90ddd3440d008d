"""Rules about the bytes and the MIME structure: line ends and lengths, 8-bit data, what relays
rewrite inside signed content, boundaries and MIME-Version."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mimeseal.check.profiles import Profile
from mimeseal.check.rules_base import (
    Hit,
    Rule,
    dkim_signed_headers,
    first_match,
    header_at,
    header_line,
    in_smime_region,
    line_at,
    part_at,
    smime_roots,
    span_of,
    spans,
)
from mimeseal.check.view import MessageView
from mimeseal.errors import MimesealError
from mimeseal.mime import MAX_LINE, has_bare_line_ends, split_multipart

_BARE_LINE_END = re.compile(rb"\r(?!\n)|(?<!\r)\n")
_EIGHT_BIT = re.compile(rb"[\x80-\xff]")
_TRAILING_WS = re.compile(rb"[ \t]+(?=\r\n|\Z)")


def _parse_error(view: MessageView, profile: Profile) -> Iterator[Hit]:
    if view.parse_error:
        yield Hit(f"the MIME structure cannot be parsed: {view.parse_error}")


# --- line ends and lengths ---------------------------------------------------------------------


def _raw_line(raw: bytes, position: int) -> int:
    head = raw[:position]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def _lf_line_endings(view: MessageView, profile: Profile) -> Iterator[Hit]:
    if b"\r\n" not in view.raw and has_bare_line_ends(view.raw):
        kind = "LF" if b"\n" in view.raw else "CR"
        yield Hit(f"every line ends with a bare {kind} instead of CRLF", line=1)


def _mixed_line_endings(view: MessageView, profile: Profile) -> Iterator[Hit]:
    if b"\r\n" not in view.raw or not has_bare_line_ends(view.raw):
        return
    position = first_match(_BARE_LINE_END, view.raw)
    kind = "CR" if view.raw[position : position + 1] == b"\r" else "LF"
    yield Hit(
        f"lines end with CRLF and with bare {kind} (the first bare one is shown)",
        line=_raw_line(view.raw, position),
    )


def _long_lines(data: bytes, limit: int = MAX_LINE) -> Iterator[tuple[int, int]]:
    """(start, length) of each line over ``limit`` octets in CRLF ``data``.

    Every run of more than ``limit`` octets without a line break contains a multiple of
    limit+1, so measuring the line around those positions finds them all in n/999 steps.
    """
    step, size, last = limit + 1, len(data), -1
    for position in range(0, size, step):
        if data[position] in (10, 13):
            continue
        start = data.rfind(b"\n", 0, position) + 1
        end = data.find(b"\r\n", position)
        length = (size if end == -1 else end) - start
        if length > limit and start != last:
            last = start
            yield start, length


def _line_too_long(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for start, length in _long_lines(view.canonical):
        yield Hit(
            f"a line is {length} octets long; the limit is {MAX_LINE} plus CRLF",
            header=header_at(view, start),
            part=part_at(view, start),
            line=line_at(view, start),
        )


# --- 8-bit data --------------------------------------------------------------------------------


def _eight_bit(view: MessageView, *, signed: bool) -> Iterator[Hit]:
    dkim = bool(view.dkim)
    if signed and dkim:
        covered = dkim_signed_headers(view)
        for header in view.headers:
            if header.key in covered and not header.raw.isascii():
                yield Hit("a DKIM-signed header contains 8-bit bytes", header=header.name, part="")
    for part in view.parts:
        in_smime = in_smime_region(view, part.path)
        if signed != (in_smime or dkim):
            continue
        region = "S/MIME-signed" if in_smime else "DKIM-signed" if dkim else "unsigned"
        if part.path and (in_smime or dkim) and signed:
            bad = [h for h in part.headers if not h.raw.isascii()]
            if bad:
                yield Hit(
                    f"a header of this {region} part contains 8-bit bytes",
                    header=bad[0].name,
                    part=part.path,
                    line=header_line(part),
                )
        if part.content_type.is_multipart or part.body.isascii():
            continue
        position = first_match(_EIGHT_BIT, part.body)
        yield Hit(
            f"the {region} body ({part.content_type.type}, "
            f"Content-Transfer-Encoding {part.transfer_encoding}) contains 8-bit bytes",
            part=part.path,
            line=part.body_line + part.body.count(b"\n", 0, position),
        )


def _eight_bit_in_signed_region(view: MessageView, profile: Profile) -> Iterator[Hit]:
    return _eight_bit(view, signed=True)


def _eight_bit_content(view: MessageView, profile: Profile) -> Iterator[Hit]:
    return _eight_bit(view, signed=False)


# --- what relays rewrite inside signed content -------------------------------------------------


def _signed_regions(view: MessageView, *, dkim_body: bool) -> list[tuple[int, int, str]]:
    """(start, end, label) of the bytes an S/MIME signature covers and, if ``dkim_body``, the
    DKIM-signed body."""
    regions = []
    for path in smime_roots(view):
        span = span_of(view, path)
        if span is not None:
            regions.append((span.start, span.end, "S/MIME-signed"))
    if dkim_body and view.parts:
        root = spans(view)[0]
        regions.append((root.body_start, len(view.canonical), "DKIM-signed"))
    return regions


def _simple_body(view: MessageView) -> bool:
    for sig in view.dkim:
        if sig.tags is not None:
            canon = sig.tags.get("c", "simple/simple").lower()
            if canon.partition("/")[2] in ("", "simple"):
                return True
    return False


def _trailing_whitespace_signed(view: MessageView, profile: Profile) -> Iterator[Hit]:
    seen: set[int] = set()
    for start, end, label in _signed_regions(view, dkim_body=_simple_body(view)):
        for match in _TRAILING_WS.finditer(view.canonical, start, end):
            if match.start() in seen:
                continue
            seen.add(match.start())
            part = part_at(view, match.start())
            yield Hit(
                f"a line of the {label} content ends in white space",
                part=part,
                line=line_at(view, match.start()),
            )


def _from_line_signed(view: MessageView, profile: Profile) -> Iterator[Hit]:
    seen: set[int] = set()
    data = view.canonical
    for start, end, label in _signed_regions(view, dkim_body=bool(view.dkim)):
        position = start if data.startswith(b"From ", start) else data.find(b"\nFrom ", start, end)
        while position != -1 and position < end:
            if data[position] == 10:
                position += 1
            if position not in seen:
                seen.add(position)
                yield Hit(
                    f'a line of the {label} content starts with "From "',
                    part=part_at(view, position),
                    line=line_at(view, position),
                )
            position = data.find(b"\nFrom ", position, end)


# --- MIME structure ----------------------------------------------------------------------------


def _boundary_in_part(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for part in view.parts:
        if not part.boundary:
            continue
        delimiter = b"--" + part.boundary.encode("ascii", "replace")
        for child in part.children:
            span = span_of(view, child)
            if span is None:
                continue
            position = view.canonical.find(delimiter, span.start, span.end)
            if position != -1:
                yield Hit(
                    f"the boundary of multipart part {part.path or 'root'} "
                    f"({part.boundary!r}) occurs inside its part {child}",
                    part=child,
                    line=line_at(view, position),
                )


def _unclosed_multipart(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for part in view.parts:
        if not part.boundary:
            continue
        try:
            limit = view.limits.max_mime_parts
            closed = split_multipart(part.body, part.boundary, max_parts=limit).closed
        except MimesealError:
            continue  # reported as parse-error
        if not closed:
            yield Hit(
                f"the multipart body has no closing '--{part.boundary}--' line",
                part=part.path,
            )


def _multipart_no_boundary(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for part in view.parts:
        if part.content_type.is_multipart and not part.boundary:
            yield Hit(
                f"a {part.content_type.type} part has no boundary parameter",
                header="Content-Type",
                part=part.path,
            )


def _missing_mime_version(view: MessageView, profile: Profile) -> Iterator[Hit]:
    if view.header_values("MIME-Version"):
        return
    content_type = view.header_values("Content-Type")
    structured = (
        (content_type and view.parts and view.parts[0].content_type.type != "text/plain")
        or len(view.parts) > 1
        or bool(view.header_values("Content-Transfer-Encoding"))
    )
    if structured:
        yield Hit("the message uses MIME but has no MIME-Version: 1.0 header", severity="error")
    else:
        yield Hit("the message has no MIME-Version: 1.0 header", severity="warning")


RULES = (
    Rule(
        id="parse-error",
        title="Malformed MIME structure",
        default="error",
        meaning="The message's MIME structure cannot be parsed (a multipart body whose "
        "boundary does not match, a malformed header line in a part, nesting too deep).",
        why="Receivers and signature verifiers parse the same bytes; what mimeseal cannot parse, "
        "mail clients show as an attachment or garbage, and S/MIME verifiers cannot find the "
        "signed part (RFC 2046 §5.1).",
        fix="Rebuild the message with a MIME library (mimeseal.compose) instead of editing it "
        "by hand, and never re-encode a message after it was built.",
        check=_parse_error,
    ),
    Rule(
        id="lf-line-endings",
        title="Bare LF line ends",
        default="error",
        meaning="The message's lines end with LF (or CR) alone instead of CRLF.",
        why="RFC 5322 §2.1 and RFC 5321 require CRLF. Signatures are computed over the CRLF "
        "canonical form (RFC 8551 §3.1.1, RFC 6376 §3.4); relays convert line ends, so a "
        "message signed with LF ends fails verification after transit.",
        fix="Convert the message to CRLF line ends before signing (mimeseal.mime.to_crlf) and "
        "write files in binary mode.",
        check=_lf_line_endings,
    ),
    Rule(
        id="mixed-line-endings",
        title="Mixed line ends",
        default="error",
        meaning="Some lines end with CRLF and others with a bare LF or CR.",
        why="Relays normalise line ends differently; the bytes that arrive differ from the bytes "
        "signed, so S/MIME and DKIM signatures break (RFC 5322 §2.1, RFC 8551 §3.1.1). Usually "
        "a sign that parts were glued together from different sources.",
        fix="Convert every part to CRLF before assembling and signing the message.",
        check=_mixed_line_endings,
    ),
    Rule(
        id="line-too-long",
        title="Line over 998 octets",
        default="error",
        meaning="A line is longer than 998 octets (not counting CRLF).",
        why="RFC 5322 §2.1.1 limits lines to 998 octets; SES refuses lines over 1,000 octets "
        "including CRLF, and other relays wrap them, which breaks every signature over them.",
        fix="Encode long bodies as quoted-printable or base64 (mimeseal.mime.prepare_7bit) and "
        "fold long headers before signing.",
        check=_line_too_long,
    ),
    Rule(
        id="eight-bit-in-signed-region",
        title="8-bit bytes inside signed content",
        default="error",
        meaning="Bytes above 127 occur inside S/MIME-signed content, or in a DKIM-signed body "
        "or header.",
        why="Relays without 8BITMIME, and SES when it rewrites a body for tracking, convert 8-bit "
        "data to quoted-printable (RFC 6152, RFC 1652); the signature then covers bytes that no "
        "longer exist. RFC 8551 §3.1.2 requires 7-bit transfer encoding for signed content.",
        fix="Encode 8-bit parts as quoted-printable or base64 before signing "
        "(mimeseal.mime.prepare_7bit) and RFC 2047-encode non-ASCII header text.",
        check=_eight_bit_in_signed_region,
    ),
    Rule(
        id="eight-bit-content",
        title="8-bit body outside signed content",
        default="warning",
        meaning="A body that no signature covers contains bytes above 127.",
        why="Relays without 8BITMIME downgrade or reject 8-bit data (RFC 6152); SES does not "
        "keep 8-bit content when it modifies a body (open and click tracking).",
        fix="Send 7-bit: encode text as quoted-printable and binary data as base64.",
        check=_eight_bit_content,
    ),
    Rule(
        id="trailing-whitespace-signed",
        title="Trailing white space in signed content",
        default="warning",
        meaning="A line inside S/MIME-signed content (or a DKIM body signed with simple body "
        "canonicalization) ends in spaces or tabs.",
        why="Relays and mailbox stores strip trailing white space; S/MIME covers the exact bytes "
        "(RFC 8551 §3.1.1) and DKIM's simple body canonicalization keeps it (RFC 6376 §3.4.3), "
        "so the signature breaks.",
        fix="Encode such text as quoted-printable (which escapes trailing white space) before "
        "signing, and sign DKIM with c=relaxed/relaxed.",
        check=_trailing_whitespace_signed,
    ),
    Rule(
        id="from-line-signed",
        title='Line starting "From " in signed content',
        default="warning",
        meaning='A line inside signed content begins with "From ".',
        why="mbox stores and some MTAs (and Python's email generator, cpython#89462) escape such "
        'lines as ">From ", changing signed bytes (RFC 4155; RFC 8551 §3.1.1 warns about it).',
        fix='Encode the text as quoted-printable, which writes "=46rom " (mimeseal does this).',
        check=_from_line_signed,
    ),
    Rule(
        id="boundary-in-part",
        title="Multipart boundary inside a part",
        default="error",
        meaning="A multipart's boundary string occurs inside the content of one of its parts.",
        why="RFC 2046 §5.1.1: the boundary must not appear in the encapsulated parts. Parsers "
        "that match it loosely split the part there, so clients show different content than "
        "the one signed.",
        fix="Choose a random boundary that occurs in none of the parts "
        "(mimeseal.mime.choose_boundary).",
        check=_boundary_in_part,
    ),
    Rule(
        id="unclosed-multipart",
        title="Multipart without closing delimiter",
        default="error",
        meaning="A multipart body does not end with its '--boundary--' line.",
        why="RFC 2046 §5.1.1 requires the close delimiter; a missing one usually means the "
        "message was truncated, and parsers disagree on where the last part ends.",
        fix="Check the message was written completely; rebuild it if it was cut.",
        check=_unclosed_multipart,
    ),
    Rule(
        id="multipart-no-boundary",
        title="Multipart without boundary",
        default="error",
        meaning="A multipart Content-Type has no boundary parameter.",
        why="RFC 2046 §5.1.1 makes boundary mandatory; without it no parser can find the parts.",
        fix="Add boundary=... matching the delimiter lines in the body.",
        check=_multipart_no_boundary,
    ),
    Rule(
        id="missing-mime-version",
        title="No MIME-Version header",
        default="error",
        meaning="The message has no MIME-Version: 1.0 header.",
        why="RFC 2045 §4 requires it on MIME messages; without it receivers may treat the "
        "message as plain RFC 5322 text and show the MIME structure raw.",
        fix="Add 'MIME-Version: 1.0' to the top-level headers before signing.",
        check=_missing_mime_version,
        note="error when the message uses MIME (Content-Type other than text/plain, parts or "
        "a Content-Transfer-Encoding); warning for a plain text message.",
    ),
)
