"""Byte-level MIME helpers.

Signatures cover bytes, so these helpers never re-serialize a message through ``email``:
they split, slice and rebuild at the byte level and keep every raw header exactly as it was.
``email`` is used only to *read* parameters out of a header value. Header parsing is bounded
by :mod:`mimeseal.limits`; multipart splitting lives in :mod:`mimeseal.multipart` (re-exported).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses

from mimeseal.errors import HeaderInjectionError, MessageError
from mimeseal.limits import UNLIMITED, Limits, PartBudget, limit_error, resolve, shown
from mimeseal.multipart import MultipartBody as MultipartBody
from mimeseal.multipart import choose_boundary as choose_boundary
from mimeseal.multipart import join_multipart as join_multipart
from mimeseal.multipart import split_multipart as split_multipart

CRLF = b"\r\n"
MAX_LINE = 998  # RFC 5322 §2.1.1: at most 998 octets before CRLF.

_HEADER_NAME = re.compile(rb"[!-9;-~]+")


_NOT_LINE_END = bytes(b for b in range(256) if b not in (10, 13))


def has_bare_line_ends(data: bytes) -> bool:
    """True if ``data`` has a CR or LF that is not part of a CRLF pair.

    Every line end is in a pair exactly when the CRLF pairs account for all CRs and LFs.
    Counting the pairs and deleting every other byte (one C pass each) is several times faster
    than a regex on large bodies.
    """
    pairs = data.count(CRLF)
    ends = data.translate(None, _NOT_LINE_END)
    return len(ends) != 2 * pairs


def to_crlf(data: bytes) -> bytes:
    """Return ``data`` with every bare CR or bare LF turned into CRLF (canonical form)."""
    if b"\r" not in data:
        return data.replace(b"\n", CRLF) if b"\n" in data else data
    if not has_bare_line_ends(data):
        return data
    # Three C passes, not a regex substitution: that builds one match object per line end,
    # about 90 times the message in memory for a body of bare line ends.
    return data.replace(CRLF, b"\n").replace(b"\r", b"\n").replace(b"\n", CRLF)


def longest_line(data: bytes) -> int:
    """Length in octets of the longest line, line ends excluded."""
    return max((len(line) for line in re.split(rb"\r\n|\r|\n", data)), default=0)


def has_long_line(data: bytes, limit: int = MAX_LINE) -> bool:
    """True if a line (its CR/LF line end excluded) is longer than ``limit`` octets.

    Any run of more than ``limit`` octets without a line break contains one of the positions
    0, limit+1, 2(limit+1)…, so it is enough to measure the line around each of those: about
    n/999 pairs of ``find`` calls instead of a pass over every byte in Python.
    """
    step = limit + 1
    size = len(data)
    for pos in range(0, size, step):
        if data[pos] in (10, 13):
            continue
        start = max(data.rfind(b"\n", 0, pos), data.rfind(b"\r", 0, pos)) + 1
        lf = data.find(b"\n", pos, pos + step + 1)
        cr = data.find(b"\r", pos, pos + step + 1)
        ends = [e for e in (lf, cr) if e != -1]
        end = min(ends) if ends else size
        if end - start > limit:
            return True
    return False


def _has_long_crlf_line(data: bytes, limit: int = MAX_LINE) -> bool:
    """:func:`has_long_line` for data known to be CRLF-only: half the searches per sample."""
    step = limit + 1
    size = len(data)
    find, rfind = data.find, data.rfind
    for pos in range(0, size, step):
        end = find(b"\n", pos)
        length = (size if end == -1 else end - 1) - (rfind(b"\n", 0, pos) + 1)
        if length > limit:
            return True
        if end == -1:
            return False
    return False


def is_transport_safe(data: bytes) -> bool:
    """True if ``data`` is 7-bit, NUL-free, CRLF-only and has no line over 998 octets."""
    return (
        data.isascii()
        and b"\x00" not in data
        and not has_bare_line_ends(data)
        and not _has_long_crlf_line(data)
    )


@dataclass(frozen=True)
class RawHeader:
    """One header field exactly as it appears in the message, folding and CRLF included."""

    name: str
    raw: bytes
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.name.lower())  # compared often, lowered once

    @property
    def value(self) -> str:
        """The unfolded value, without the name, colon and surrounding white space."""
        body = self.raw.split(b":", 1)[1]
        unfolded = re.sub(rb"\r?\n(?=[ \t])", b"", body).rstrip(b"\r\n")
        return unfolded.strip().decode("ascii", "replace")

    def is_named(self, name: str) -> bool:
        """Case-insensitive comparison of the field name."""
        return self.key == name.lower()


def header_boundaries(data: bytes) -> tuple[int, int]:
    """(end of the header block, start of the body) as offsets into ``data``.

    The header block keeps its final line end; the blank separator line belongs to neither.
    Offsets let callers slice a large body once, or not at all.
    """
    if data.startswith(b"\r\n"):
        return 0, 2
    if data.startswith(b"\n"):
        return 0, 1
    crlf = data.find(b"\r\n\r\n")
    # Only a blank LF line *before* the first CRLF one matters; never scan a large body twice.
    lf = data.find(b"\n\n", 0, len(data) if crlf == -1 else crlf + 1)
    if lf != -1:
        return lf + 1, lf + 2
    if crlf != -1:
        return crlf + 2, crlf + 4
    return len(data), len(data)


def split_message(data: bytes) -> tuple[bytes, bytes]:
    """Split raw message bytes into (header block, body); see :func:`header_boundaries`.

    A message with no blank line has an empty body. Accepts CRLF or bare LF line ends.
    """
    block_end, body_start = header_boundaries(data)
    return data[:block_end], data[body_start:]


def parse_headers(block: bytes, limits: Limits | None = None) -> list[RawHeader]:
    """Parse a header block into raw fields, keeping every byte of each field.

    Raises :class:`MessageError` for a line that is neither a field nor a continuation, and
    :class:`~mimeseal.errors.LimitError` for a block over ``max_header_block_bytes``, past
    ``max_header_count`` fields or a field longer than ``max_header_bytes`` (counted as the
    lines arrive, so a bomb is refused early).
    A field's continuation lines are joined once, at its end: appending them one by one would
    copy the field once per line (minutes for a field folded into 100,000 lines).
    """
    limits = resolve(limits)
    max_count, max_bytes = limits.max_header_count, limits.max_header_bytes
    if len(block) > limits.max_header_block_bytes:
        raise limit_error(
            "max_header_block_bytes", len(block), limits.max_header_block_bytes,
            "octets in one header block",
        )  # fmt: skip
    headers: list[RawHeader] = []
    name, lines, size = "", list[bytes](), 0
    for line in block.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):
            if not lines:
                raise MessageError(
                    "the message starts with a continuation line; the first header line must be "
                    "'Name: value'"
                )
            lines.append(line)
        elif line.strip(b"\r\n"):
            field_name, sep, _ = line.partition(b":")
            if not sep or not _HEADER_NAME.fullmatch(field_name):
                shown = line[:40].decode("ascii", "replace").rstrip()
                raise MessageError(
                    f"not a header field: {shown!r}; each header line must be 'Name: value' "
                    "and the header block must end with a blank line"
                )
            if lines:
                headers.append(RawHeader(name, b"".join(lines)))  # one line: no copy
                if len(headers) >= max_count:
                    fields = len(re.findall(rb"(?:^|\n)[^ \t\r\n]", block))  # for the message
                    raise limit_error("max_header_count", fields, max_count, "header fields")
            name, lines, size = field_name.decode("ascii"), [line], 0
        else:
            continue
        size += len(line)
        if size > max_bytes:
            what = f"octets in the {name[:40]} field"
            raise limit_error("max_header_bytes", size, max_bytes, what, at_least=True)
    if lines:
        headers.append(RawHeader(name, b"".join(lines)))
    return headers


MAX_ADDRESS_COLONS = 64  # a From, To or Cc value holds a few; the stdlib recurses per group


def check_addresses(values: Iterable[str]) -> None:
    """Refuse address-list values that ``email.utils.getaddresses`` cannot parse safely.

    The stdlib parser recurses once per group opener (``:`` without a ``;``), so a field of
    1,000 ``x:`` pieces raises RecursionError; such a value raises :class:`MessageError`.
    """
    for value in values:
        if value.count(":") > MAX_ADDRESS_COLONS:
            raise MessageError(
                f"an address field has {value.count(':')} ':' characters (group syntax); "
                f"more than {MAX_ADDRESS_COLONS} cannot be a real address list"
            )


def parse_addresses(values: Iterable[str]) -> list[tuple[str, str]]:
    """``email.utils.getaddresses`` after :func:`check_addresses`.

    The stdlib parser also recurses once per nested comment ``(((…``; whatever nesting is left
    that exhausts the stack is a :class:`MessageError`, never a RecursionError.
    """
    values = list(values)
    check_addresses(values)
    try:
        return getaddresses(values)
    except RecursionError:
        raise MessageError(
            "an address field nests comments or groups too deeply to be a real address list"
        ) from None


def header_values(headers: Iterable[RawHeader], name: str) -> list[str]:
    """All unfolded values of the fields called ``name`` (case-insensitive), in order."""
    return [h.value for h in headers if h.is_named(name)]


def first_header(headers: Iterable[RawHeader], name: str) -> str | None:
    """The unfolded value of the first field called ``name``, or None."""
    values = header_values(headers, name)
    return values[0] if values else None


@dataclass(frozen=True)
class ContentType:
    """A parsed Content-Type value: ``maintype/subtype`` (lower case) and its parameters."""

    type: str
    params: dict[str, str]
    #: Parameters given more than once (RFC 2045 §5.1 allows one); parsers disagree on which
    #: one counts, so a verifier treats them as ambiguous.
    repeated: frozenset[str] = frozenset()

    @property
    def maintype(self) -> str:
        return self.type.partition("/")[0]

    @property
    def is_multipart(self) -> bool:
        return self.maintype == "multipart"

    def param(self, name: str) -> str | None:
        return self.params.get(name.lower())


DEFAULT_CONTENT_TYPE = ContentType("text/plain", {"charset": "us-ascii"})


def parse_content_type(value: str | None) -> ContentType:
    """Parse a Content-Type value; None gives RFC 2045's default text/plain; charset=us-ascii."""
    if value is None:
        return DEFAULT_CONTENT_TYPE
    msg = Message()
    msg["Content-Type"] = value
    params: dict[str, str] = {}
    repeated = set()
    for key, val in msg.get_params(failobj=[], header="content-type")[1:]:
        if key.lower() in params:
            repeated.add(key.lower())
        params[key.lower()] = collapse_rfc2231_value(val)
    return ContentType(msg.get_content_type(), params, frozenset(repeated))


def content_type_of(headers: Iterable[RawHeader]) -> ContentType:
    """The Content-Type of an entity from its raw headers."""
    return parse_content_type(first_header(headers, "Content-Type"))


def check_header_value(name: str, value: str) -> None:
    """Refuse a header value with CR or LF (header injection) or a malformed name."""
    if not _HEADER_NAME.fullmatch(name.encode("ascii", "replace")) or not name.isascii():
        raise HeaderInjectionError(f"{name!r} is not a valid header field name")
    if "\r" in value or "\n" in value:
        raise HeaderInjectionError(
            f"the {name} value contains a line break, which would inject extra header lines; "
            "remove CR/LF from the value"
        )


_FOLD_POINT = re.compile(r"(?<=\S)(?=[ \t]+\S)")  # after a word, before its white space


def fold_header(name: str, value: str, *, width: int = 78) -> bytes:
    """Build one ASCII header field, folded to ``width`` where the value allows.

    Folds only right after a visible character, so no line ends in white space (relays that
    strip it would change the field); the continuation line starts with the white space.
    Raises :class:`MessageError` if a word is too long to keep every line within 998 octets.
    """
    check_header_value(name, value)
    if not value.isascii():
        raise MessageError(
            f"the {name} value is not ASCII; encode it first (RFC 2047 encoded-words)"
        )
    line = f"{name}: {value}" if value else f"{name}:"
    lines: list[str] = []
    while len(line) > width:
        points = [m.start() for m in _FOLD_POINT.finditer(line) if m.start() > len(name) + 1]
        if not points:
            break
        fitting = [p for p in points if p <= width]
        cut = fitting[-1] if fitting else points[0]
        lines.append(line[:cut])
        line = line[cut:]  # the continuation line starts with the folding space
    lines.append(line)
    if any(len(part) > MAX_LINE for part in lines):
        raise MessageError(
            f"the {name} value has a word too long to fit a line of {MAX_LINE} octets; shorten it"
        )
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


# --- 7-bit preparation --------------------------------------------------------------------------

_FROM_LINE = re.compile(rb"^From ", re.MULTILINE)
_DOT_LINE = re.compile(rb"^\.", re.MULTILINE)


_QP_LINE = 76  # RFC 2045 §6.7 rule 5, soft line break "=" included


def _rewrap_qp_line(line: bytes) -> list[bytes]:
    """Split an encoded line over 76 characters with soft breaks, never inside an =XX escape."""
    pieces: list[bytes] = []
    while len(line) > _QP_LINE:
        cut = _QP_LINE - 1  # room for the "=" soft break
        escape = line.rfind(b"=", cut - 2, cut)
        if escape != -1:
            cut = escape
        pieces.append(line[:cut] + b"=")
        line = line[cut:]
    pieces.append(line)
    return pieces


def encode_quoted_printable(text: bytes) -> bytes:
    """Quoted-printable for CRLF text: trailing white space, '=', 8-bit bytes are escaped.

    Lines beginning "From " or "." are escaped too, so mbox writers and SMTP dot-stuffing
    cannot alter the signed bytes; lines stay within 76 characters (RFC 2045 §6.7).
    """
    encoded = binascii.b2a_qp(to_crlf(text), quotetabs=False, istext=True, header=False)
    encoded = to_crlf(encoded)
    encoded = _DOT_LINE.sub(b"=2E", _FROM_LINE.sub(b"=46rom ", encoded))
    lines = encoded.split(CRLF)
    if all(len(line) <= _QP_LINE for line in lines):
        return encoded
    return CRLF.join(piece for line in lines for piece in _rewrap_qp_line(line))


def encode_base64_lines(data: bytes) -> bytes:
    """Base64 in CRLF-terminated lines of 76 characters (RFC 2045 §6.8)."""
    return base64.encodebytes(data).replace(b"\n", CRLF)


def decode_transfer_encoding(body: bytes, encoding: str | None) -> bytes:
    """Decode a body from its Content-Transfer-Encoding; unknown encodings raise MessageError."""
    cte = (encoding or "7bit").strip().lower()
    if cte in ("7bit", "8bit", "binary"):
        return body
    if cte == "base64":
        try:
            return base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", body), validate=True)
        except binascii.Error:
            raise MessageError(
                "a base64 body does not decode; the part is corrupt or truncated"
            ) from None
    if cte == "quoted-printable":
        return binascii.a2b_qp(body)
    raise MessageError(
        f"unknown Content-Transfer-Encoding {shown(encoding)!r}; use 7bit, quoted-printable "
        "or base64"
    )


def prepare_7bit(entity: bytes) -> bytes:
    """Make a MIME entity safe for 7-bit transport before it is signed.

    Parts that are already 7-bit, CRLF and ≤ 998-octet lines are copied byte for byte. Others
    are re-encoded: text to quoted-printable, everything else to base64, and the part's
    Content-Transfer-Encoding header is replaced. Multiparts are handled part by part, keeping
    their boundaries. Line ends are made CRLF in headers and text, never inside non-text data,
    whose CR and LF bytes are data. Headers must already be ASCII (RFC 2047 is the composer's job).
    The sender's own message is not limited, except for the recursion ceiling.
    """
    return _prepare_7bit(entity, PartBudget(UNLIMITED), 0)


def _prepare_7bit(entity: bytes, budget: PartBudget, depth: int) -> bytes:
    budget.enter(depth)
    if is_transport_safe(entity):
        return entity
    block, body = split_message(entity)
    block = to_crlf(block)
    headers = parse_headers(block)
    for header in headers:
        if not header.raw.isascii():
            raise MessageError(
                f"the {header.name} header is not ASCII; encode it (RFC 2047) before signing"
            )
        if any(len(line) > MAX_LINE for line in header.raw.split(CRLF)):
            raise MessageError(
                f"the {header.name} header has a line over {MAX_LINE} octets; fold it"
            )
    ctype = content_type_of(headers)
    if ctype.is_multipart:
        boundary = ctype.param("boundary")
        if not boundary:
            raise MessageError("a multipart entity has no boundary parameter")
        split = split_multipart(body, boundary, max_parts=budget.remaining(), used=budget.parts)
        budget.add(len(split.parts))
        parts = [_prepare_7bit(part, budget, depth + 1) for part in split.parts]
        preamble, epilogue = to_crlf(split.preamble), to_crlf(split.epilogue)
        preamble = preamble if is_transport_safe(preamble) else b""
        epilogue = epilogue if is_transport_safe(epilogue) else b""
        # A multipart's own encoding can only be 7bit once its parts are (RFC 2045 §6.4).
        kept = b"".join(h.raw for h in headers if not h.is_named("Content-Transfer-Encoding"))
        joined = join_multipart(parts, boundary, preamble=preamble.rstrip(b"\r\n"))
        return kept + CRLF + joined + epilogue
    if ctype.type == "message/rfc822":
        return block + CRLF + _prepare_7bit(body, budget, depth + 1)
    cte_value = first_header(headers, "Content-Transfer-Encoding")
    raw = (cte_value or "7bit").strip().lower() in _RAW_ENCODINGS
    if raw and ctype.maintype != "text":
        return _with_encoding(headers, "base64", encode_base64_lines(body))
    if raw and is_transport_safe(to_crlf(body)):
        return block + CRLF + to_crlf(body)  # 7-bit text that only needed CRLF line ends
    decoded = decode_transfer_encoding(body, cte_value)
    if ctype.maintype == "text":
        new_body, cte = encode_quoted_printable(decoded), "quoted-printable"
    else:
        new_body, cte = encode_base64_lines(decoded), "base64"
    return _with_encoding(headers, cte, to_crlf(new_body))


_RAW_ENCODINGS = ("7bit", "8bit", "binary")


def _with_encoding(headers: Sequence[RawHeader], cte: str, body: bytes) -> bytes:
    fields = [h.raw for h in headers if not h.is_named("Content-Transfer-Encoding")]
    fields.append(f"Content-Transfer-Encoding: {cte}\r\n".encode("ascii"))
    return b"".join(fields) + CRLF + body
