"""Multipart bodies at the byte level: split at delimiter lines, join, choose a boundary.

Split parts are slices of the original bytes (RFC 2046 §5.1.1: the line end before a
delimiter belongs to the delimiter), so signed parts are never re-encoded. The splitter
counts as it goes and stops at the first part over the limit, so a body of 100,000 empty
parts is refused after 1,001 of them.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from mimeseal.errors import MessageError
from mimeseal.limits import limit_error, resolve, shown

CRLF = b"\r\n"


def choose_boundary(*contents: bytes, prefix: str = "=_mimeseal_") -> str:
    """A random boundary that occurs in none of ``contents`` (RFC 2046 §5.1.1)."""
    while True:
        boundary = prefix + secrets.token_hex(12)
        encoded = boundary.encode("ascii")
        if not any(encoded in content for content in contents):
            return boundary


@dataclass(frozen=True)
class MultipartBody:
    """A multipart body split at its delimiters, every slice a view of the original bytes.

    ``parts`` are the body parts exactly as they stand between delimiters: the CRLF before each
    delimiter belongs to the delimiter (RFC 2046 §5.1.1), so it is not part of the part.
    """

    preamble: bytes
    parts: tuple[bytes, ...]
    epilogue: bytes
    closed: bool


def _delimiter_lines(body: bytes, delimiter: bytes) -> Iterator[tuple[int, int, bool]]:
    """(start, end, is_close) of each delimiter line, up to and including the close delimiter.

    A delimiter line starts the body or follows a line end (which belongs to it, RFC 2046
    §5.1.1), may carry transport padding, and ends with a line end (consumed) or the body's end.
    ``bytes.find`` jumps between candidates; a regex would test every byte of a large body.
    """
    pos = body.find(delimiter)
    while pos != -1:
        if pos == 0 or body[pos - 1] == 10:  # at the start or right after LF
            start = pos - 2 if pos >= 2 and body[pos - 2 : pos] == CRLF else max(pos - 1, 0)
            end = pos + len(delimiter)
            is_close = body[end : end + 2] == b"--"
            if is_close:
                end += 2
            while end < len(body) and body[end] in (32, 9):
                end += 1
            if body[end : end + 2] == CRLF:
                end += 2
            elif body[end : end + 1] == b"\n":
                end += 1
            elif end != len(body):
                pos = body.find(delimiter, pos + 1)  # "--boundaryX": not a delimiter
                continue
            yield start, end, is_close
            if is_close:
                return
            pos = body.find(delimiter, end)
            continue
        pos = body.find(delimiter, pos + 1)


def split_multipart(
    body: bytes, boundary: str, *, max_parts: int | None = None, used: int | None = None
) -> MultipartBody:
    """Split a CRLF multipart body at ``--boundary`` lines without re-encoding anything.

    More than ``max_parts`` parts (default: :data:`~mimeseal.limits.DEFAULT_LIMITS`' count)
    raise :class:`~mimeseal.errors.LimitError` as soon as the first one too many is found;
    ``used`` is how many parts the rest of the message already has (for the error's figures).
    """
    limit = resolve(None).max_mime_parts if max_parts is None else max_parts
    delimiter = b"--" + boundary.encode("ascii", "replace")
    positions = []
    for found in _delimiter_lines(body, delimiter):
        positions.append(found)
        if len(positions) > limit + 1:  # n + 1 delimiter lines hold at least n parts
            # Report the message's count against the configured limit, not what was left of it.
            total = resolve(None).max_mime_parts if max_parts is None else (used or 0) + limit
            found_parts = total + 1
            raise limit_error("max_mime_parts", found_parts, total, "MIME parts", at_least=True)
    if not positions:
        raise MessageError(
            f"multipart body has no '--{shown(boundary)}' delimiter line; the boundary parameter "
            "does not match the body (was the message re-encoded after it was built?)"
        )
    preamble = body[: positions[0][0]]
    parts = []
    for (_, end, is_close), (next_start, _, _) in itertools.pairwise(positions):
        if is_close:
            break
        parts.append(body[end:next_start])
    _, last_end, closed = positions[-1]
    epilogue = body[last_end:] if closed else b""
    if not closed:
        parts.append(body[last_end:])
    if len(parts) > limit:
        raise limit_error("max_mime_parts", len(parts), limit, "MIME parts")
    return MultipartBody(preamble, tuple(parts), epilogue, closed)


def join_multipart(parts: Sequence[bytes], boundary: str, *, preamble: bytes = b"") -> bytes:
    """Assemble a multipart body: optional preamble, each part between delimiters, close."""
    delimiter = b"--" + boundary.encode("ascii")
    out = [preamble + CRLF if preamble else b""]
    for part in parts:
        out += [delimiter, CRLF, part, CRLF]
    out += [delimiter, b"--", CRLF]
    return b"".join(out)
