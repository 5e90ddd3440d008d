"""DKIM tag lists (RFC 6376 §3.2): ``tag=value; tag=value``, used by signatures and records."""

from __future__ import annotations

import re

from mimeseal.errors import DkimError
from mimeseal.limits import shown

_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def parse_tag_list(text: str, what: str) -> dict[str, str]:
    """Parse a tag list; a duplicate or malformed tag raises :class:`DkimError`.

    Values keep their inner text with folding white space removed at both ends; callers
    remove FWS inside values where the RFC says it is insignificant (b=, bh=, p=, h=).
    """
    tags: dict[str, str] = {}
    for number, item in enumerate(text.split(";"), start=1):
        if not item.strip(" \t\r\n"):
            continue  # an empty item, e.g. after a trailing ';'
        name, sep, value = item.partition("=")
        name = name.strip(" \t\r\n")
        if not sep or not _TAG_NAME.fullmatch(name):
            raise DkimError(f"{what}: item {number} ({item.strip()[:30]!r}) is not tag=value")
        if name in tags:
            raise DkimError(f"{what}: the tag {shown(name)}= appears twice")
        tags[name] = value.strip(" \t\r\n")
    return tags


def remove_fws(value: str) -> str:
    """Drop all folding white space (for base64 values and colon-separated lists).

    Four C-speed passes: a regex substitution costs several times more on a folded b=, and
    this runs for every signature verified."""
    return value.replace(" ", "").replace("\t", "").replace("\r", "").replace("\n", "")
