"""Header protection (RFC 9788, and the older ``protected-headers="v1"`` drafts it replaces).

An S/MIME signature covers only the signed entity; From, To and Subject of the message are
outside it. A signer that protects header fields copies them into the signed entity's own header
block. Then the signed From must be the signer's (RFC 8550 §3) and the outer From's, and every
outer field that differs from its signed copy is text a reader may be shown unsigned.
"""

from __future__ import annotations

import contextlib
import email.header
from collections.abc import Sequence
from email.errors import HeaderParseError

from mimeseal.limits import Limits, shown
from mimeseal.mime import RawHeader, content_type_of, header_boundaries, parse_headers
from mimeseal.smime.signing import from_addresses
from mimeseal.verdict import Problem

#: Fields a reader shows or threads by; compared between the outer and the signed header block.
COMPARED_FIELDS = ("Subject", "To", "Cc", "Reply-To", "Date", "Message-ID", "References")


def protected_header_problems(
    signed_content: bytes,
    outer_headers: Sequence[RawHeader],
    signer_addresses: set[str],
    limits: Limits,
) -> list[Problem]:
    """What the signed entity's own header fields say against the signer and the outer ones."""
    inner = parse_headers(signed_content[: header_boundaries(signed_content)[0]], limits)
    ctype = content_type_of(inner)
    declared = ctype.param("hp") is not None or ctype.param("protected-headers") == "v1"
    inner_from = [h for h in inner if h.is_named("From")]
    if not declared and not inner_from:
        return []
    problems: list[Problem] = []
    if not inner_from:
        problems.append(
            Problem(
                "protected-headers-without-from",
                "the signed entity declares header protection but carries no From field, so "
                "the author is not protected (RFC 9788 §2.1)",
                "warning",
            )
        )
    else:
        problems += _from_problems(inner, outer_headers, signer_addresses)
    differing = [
        name
        for name in ("From", *COMPARED_FIELDS)
        if _values(inner, name) and _values(inner, name) != _values(outer_headers, name)
    ]
    if differing:
        problems.append(
            Problem(
                "outer-header-differs",
                f"the outer {', '.join(differing)} differ from the signed copies; a reader that "
                "shows the outer fields shows text the signature does not cover",
                "warning",
            )
        )
    protected = sorted({h.name.title() for h in inner if h.name.title() in _SHOWN})
    problems.append(
        Problem(
            "protected-headers",
            f"the signature also covers these header fields (header protection, RFC 9788): "
            f"{', '.join(protected) or 'none a reader shows'}",
            "info",
        )
    )
    return problems


_SHOWN = {"From", *COMPARED_FIELDS}


def _from_problems(
    inner: Sequence[RawHeader], outer: Sequence[RawHeader], signer_addresses: set[str]
) -> list[Problem]:
    inner_addresses = from_addresses(inner)
    if sum(1 for h in inner if h.is_named("From")) != 1 or len(inner_addresses) != 1:
        return [
            Problem(
                "protected-multiple-from",
                "the signed header block has more or fewer than one From mailbox; a reader may "
                "be shown a sender the signature does not vouch for",
            )
        ]
    problems = []
    address = inner_addresses[0]
    if signer_addresses and address not in signer_addresses:
        problems.append(
            Problem(
                "protected-from-mismatch",
                f"the signed From {shown(address)} is not an address of the signer's "
                "certificate (RFC 8550 §3)",
            )
        )
    if from_addresses(outer) != [address]:
        problems.append(
            Problem(
                "protected-from-differs",
                f"the outer From is not the signed From {shown(address)}; readers differ in "
                "which one they show",
            )
        )
    return problems


def _values(headers: Sequence[RawHeader], name: str) -> list[str]:
    """The field's values, decoded (RFC 2047) and with white space folded, for comparison."""
    found = []
    for header in headers:
        if not header.is_named(name):
            continue
        value = header.value
        # An undecodable encoded-word is compared as raw text: it is still the same word.
        with contextlib.suppress(ValueError, LookupError, UnicodeError, HeaderParseError):
            value = str(email.header.make_header(email.header.decode_header(value)))
        found.append(" ".join(value.split()))
    return found
