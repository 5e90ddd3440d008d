"""Which header instances a DKIM ``h=`` list covers, and the header hash input.

RFC 6376 §5.4.2: for a name listed n times, the n last instances are used, from the bottom
up; a name listed more often than it occurs contributes nothing for the missing instances
(which is what makes oversigning work).
"""

from __future__ import annotations

from collections.abc import Sequence

from mimeseal.dkim.canonicalize import Canonicalization, canonical_header
from mimeseal.mime import RawHeader


def select_headers(headers: Sequence[RawHeader], names: Sequence[str]) -> list[RawHeader]:
    """The header instances ``names`` selects, in ``h=`` order (missing ones skipped)."""
    remaining: dict[str, list[RawHeader]] = {}
    for header in headers:
        remaining.setdefault(header.key, []).append(header)
    chosen = []
    for name in names:
        stack = remaining.get(name.lower())
        if stack:
            chosen.append(stack.pop())  # bottom-most unused instance
    return chosen


class SignatureHeaders:
    """The message headers, for building the header hash input of one signature."""

    def __init__(self, headers: Sequence[RawHeader]) -> None:
        self._headers = headers

    def hash_input(self, names: Sequence[str], method: Canonicalization) -> bytes:
        return b"".join(
            canonical_header(h.raw, method) for h in select_headers(self._headers, names)
        )
