"""Transformations: what real relays, mailbox stores and Python tools do to a message in transit.

The checker applies each to a signed message and verifies again (DESIGN.md §1, §3). Each is a
pure ``bytes -> bytes`` function modelling one documented step; bytes it does not concern stay
as they were (multiparts are rebuilt with the same delimiter lines, preamble and epilogue).
"""

from __future__ import annotations

import base64
import bisect
import email
import email.policy
import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.policy import Policy

from mimeseal.errors import LimitError, MessageError, MimesealError
from mimeseal.mime import (
    CRLF,
    RawHeader,
    content_type_of,
    decode_transfer_encoding,
    encode_quoted_printable,
    first_header,
    has_long_line,
    header_boundaries,
    is_transport_safe,
    parse_headers,
    to_crlf,
)

__all__ = ["TRANSFORMS", "Transformation"]


@dataclass(frozen=True)
class Transformation:
    """One step a message may go through after it was signed, and where that step is documented."""

    id: str
    title: str
    source: str
    apply: Callable[[bytes], bytes]


_MAX_DEPTH = 32  # deeper MIME nesting is left alone, as relays do (and recursion stays bounded)
_Leaf = Callable[[bytes, list[RawHeader], int, int], bytes]
_TRAILING_WSP = re.compile(rb"[ \t]+(?=\r\n|\n|\r|\Z)")
_FROM_LINE = re.compile(rb"^From ", re.MULTILINE)
_DOT_LINE = re.compile(rb"^\.", re.MULTILINE)
_UNFOLD = re.compile(rb"(?:\r\n|\r|\n)(?=[ \t])")
_FOLD_POINT = re.compile(rb"(?<=[^ \t])[ \t]+(?=[^ \t])")  # white space between two words
_SES_REMOVED = (b"x-ses-source-arn", b"x-ses-from-arn", b"x-ses-return-path-arn")
_SES_DATE = b"Date: Thu, 1 Feb 2029 12:34:56 +0000"


def _split_exact(body: bytes, boundary: str) -> tuple[list[bytes], list[bytes]] | None:
    """(separators, parts), ``body == sep0 + part0 + sep1 + … + sepN``; None without delimiters.

    A separator is a delimiter line and the line end before it (RFC 2046 §5.1.1); the first
    holds the preamble too, the last the epilogue.
    """
    delimiter = b"--" + boundary.encode("ascii", "replace")
    cuts: list[tuple[int, int]] = []  # (start, end) of each delimiter line
    closed = False
    pos = body.find(delimiter)
    while pos != -1 and not closed:
        end = pos + len(delimiter)
        closing = body[end : end + 2] == b"--"
        end += 2 if closing else 0
        while body[end : end + 1] in (b" ", b"\t"):
            end += 1
        line_end = 2 if body[end : end + 2] == CRLF else 1 if body[end : end + 1] == b"\n" else 0
        if (pos == 0 or body[pos - 1] == 10) and (line_end or end == len(body)):
            start = pos - 2 if body[pos - 2 : pos] == CRLF else max(pos - 1, 0)
            start = max(start, cuts[-1][1] if cuts else 0)
            closed = closing
            cuts.append((start, len(body) if closing else end + line_end))
            pos = body.find(delimiter, end + line_end)
        else:
            pos = body.find(delimiter, pos + 1)
    if not cuts:
        return None
    separators, parts = [body[: cuts[0][1]]], []
    for (_, end), (next_start, next_end) in itertools.pairwise(cuts):
        parts.append(body[end:next_start])
        separators.append(body[next_start:next_end])
    if not closed:  # no close delimiter: the last part runs to the end
        parts.append(body[cuts[-1][1] :])
        separators.append(b"")
    return separators, parts


def _walk(entity: bytes, leaf: _Leaf, container: _Leaf | None = None, depth: int = 0) -> bytes:
    """Apply ``leaf`` to every leaf entity (``container`` to the others, after their children).

    What cannot be parsed is passed through, as a relay passes it through.
    """
    block_end, body_start = header_boundaries(entity)
    try:
        headers = parse_headers(entity[:block_end])
        ctype = content_type_of(headers)
    except (MessageError, LimitError, ValueError, LookupError):
        return entity
    body, boundary = entity[body_start:], ctype.param("boundary")
    if depth >= _MAX_DEPTH:
        return entity
    if ctype.is_multipart:
        split = _split_exact(body, boundary) if boundary else None
        if split is None:
            return entity
        separators, parts = split
        new_parts = [_walk(part, leaf, container, depth + 1) for part in parts]
        pieces = [separators[0]]
        for part, separator in zip(new_parts, separators[1:], strict=True):
            pieces += [part, separator]
        entity = entity[:body_start] + b"".join(pieces)
    elif ctype.type == "message/rfc822":
        entity = entity[:body_start] + _walk(body, leaf, container, depth + 1)
    else:
        return leaf(entity, headers, block_end, body_start)
    return container(entity, headers, block_end, body_start) if container else entity


def _encoding(headers: list[RawHeader]) -> str | None:
    return (first_header(headers, "Content-Transfer-Encoding") or "").strip().lower() or None


def _replace_encoding(entity: bytes, headers: list[RawHeader], block_end: int, cte: str) -> bytes:
    """The entity with its Content-Transfer-Encoding set to ``cte`` in place (or appended)."""
    field = f"Content-Transfer-Encoding: {cte}\r\n".encode("ascii")
    raws: list[bytes] = []
    for header in headers:
        if not header.is_named("Content-Transfer-Encoding"):
            raws.append(header.raw if header.raw.endswith(b"\n") else header.raw + CRLF)
        elif field not in raws:
            raws.append(field)
    return b"".join(raws if field in raws else [*raws, field]) + entity[block_end:]


def lf_line_endings(data: bytes) -> bytes:
    """CRLF → LF: SMTP carries CRLF (RFC 5321 §2.3.8), Unix mailbox stores keep LF (RFC 4155
    §2; Postfix local(8), Maildir), so a message read back from one has bare LF line ends."""
    return data.replace(CRLF, b"\n")


def strip_trailing_whitespace(data: bytes) -> bytes:
    """Spaces and tabs removed at the end of every line, as relays and gateways that rewrite
    text do (Exchange; RFC 6376 §3.4.4's relaxed body canonicalization exists because of it)."""
    # A plain substring test first: the regex scan costs ~100 ms on 10 MB and usually finds nothing.
    if not any(w in data for w in (b" \r", b"\t\r", b" \n", b"\t\n")) and not data.endswith(
        (b" ", b"\t")
    ):
        return data
    return _TRAILING_WSP.sub(b"", data)


def from_escaping(data: bytes) -> bytes:
    """Body lines starting "From " get ">From ", as mbox writers do (RFC 4155 App. A).

    Python's generator does the same with ``mangle_from_`` (``smtplib.send_message``,
    cpython#89462). Header lines cannot start with "From " (no colon), so only the body is touched.
    """
    _, body_start = header_boundaries(data)
    if data.find(b"\nFrom ", max(body_start - 1, 0)) == -1 and not data.startswith(
        b"From ", body_start
    ):
        return data
    return data[:body_start] + _FROM_LINE.sub(b">From ", data[body_start:])


def smtp_dot_stuffing(data: bytes) -> bytes:
    """The SMTP DATA round trip (RFC 5321 §4.5.2, §4.1.1.4) as ``smtplib.SMTP.data`` sends it.

    smtplib doubles a "." at the start of every line and appends CRLF to data that does not end
    with one (that CRLF ends the last line, before "."); the server removes one leading "." per
    line (servers such as aiosmtpd and Postfix read lines up to LF). Only the CRLF remains.
    """
    if b"\n." not in data and not data.startswith(b"."):  # no line starts with "."
        return data if data.endswith(CRLF) else data + CRLF
    stuffed = _DOT_LINE.sub(b"..", data)
    return _DOT_LINE.sub(b"", stuffed if stuffed.endswith(CRLF) else stuffed + CRLF)


_EMAIL_LINE_LIMIT = 998
#: Past about 60 characters of parameter name, the folding of the policy-based generators
#: never terminates (compat32 folds differently and is not affected).
_PARAMETER_NAME_LIMIT = 50


def _email_round_trip(data: bytes, policy: Policy | None) -> bytes:
    # The stdlib's header folding is quadratic in a header line's length (minutes on 1 MB);
    # such a line is already an error for the line-too-long rule, so refuse rather than hang.
    block_end, _ = header_boundaries(data)
    if has_long_line(data[:block_end], _EMAIL_LINE_LIMIT):
        raise MessageError(
            "a header line is over 998 octets; Python's email package is not asked to "
            "re-serialize it (it takes minutes on such input)"
        )
    stand_ins = _large_bodies(data)
    small = data
    for token, body in stand_ins:
        small = small.replace(body, token)
    if policy is not None:  # only header fields are folded: the stand-ins hide leaf bodies only
        _refuse_endless_folding(small)
    out = _serialize(small, policy)
    for token, body in stand_ins:
        if out.count(token) != 1:  # the package touched a stand-in: do the real round trip
            return _serialize(data, policy)
        out = out.replace(token, body)
    return out


def _refuse_endless_folding(data: bytes) -> None:
    """Refuse what the policy-based generators would never finish folding (fuzz/run.py).

    Fields are found with ``bytes.find`` on a lower-cased copy: a regex anchored at every line
    start costs four times as much on a large message.
    """
    lowered = data.lower()
    for name in (b"content-type:", b"content-disposition:"):
        start = lowered.find(name)
        while start != -1:
            end = start
            while True:  # the field runs to the first line end not followed by a fold
                end = data.find(b"\n", end + 1)
                if end == -1 or data[end + 1 : end + 2] not in (b" ", b"\t"):
                    break
            field = data[start : len(data) if end == -1 else end]
            if start == 0 or data[start - 1] in (10, 13):
                names = (item.split(b"=", 1)[0].strip() for item in field.split(b";")[1:])
                if any(len(item) > _PARAMETER_NAME_LIMIT for item in names):
                    raise MessageError(
                        f"a {name[:-1].decode()} parameter name is over {_PARAMETER_NAME_LIMIT} "
                        "characters; Python's email package loops forever folding it "
                        "(email._header_value_parser._fold_mime_parameters), so it is not asked"
                    )
            start = lowered.find(name, start + 1)


def _serialize(data: bytes, policy: Policy | None) -> bytes:
    try:
        if policy is None:
            out = email.message_from_bytes(data).as_bytes()
        else:
            out = email.message_from_bytes(data, policy=policy).as_bytes(policy=policy)
    except Exception as exc:  # the stdlib raises many types on odd input; one error for callers
        name = "compat32" if policy is None else "policy"
        raise MessageError(f"Python's email package ({name}) cannot re-serialize: {exc}") from exc
    return to_crlf(out)


_STAND_IN_FROM = 64 * 1024


def _large_bodies(data: bytes) -> list[tuple[bytes, bytes]]:
    """(token, body) for each large leaf body the email package would copy through unchanged.

    Parsing and regenerating 10 MB takes Python's email package ~300 ms; it passes 7-bit, CRLF,
    short-line bodies through untouched, so those are swapped for short tokens around the
    round trip (and the real round trip runs if a token does not come back exactly once).
    """
    if len(data) < _STAND_IN_FROM or not is_transport_safe(data):
        return []
    from mimeseal.check.view import build_view

    try:
        view = build_view(data)
    except MimesealError:
        return []
    found = []
    for number, part in enumerate(view.leaves()):
        inner = part.body[:-2] if part.body.endswith(CRLF) else part.body
        token = b"mimeseal-stand-in-%d-" % number + b"x" * 8
        if len(inner) >= _STAND_IN_FROM and data.count(inner) == 1 and token not in data:
            found.append((token, inner))
    return found


def email_policy_default(data: bytes) -> bytes:
    """``message_from_bytes`` + ``as_bytes`` with ``policy.default``, LF output sent as CRLF.

    Applications that "helpfully" re-serialize do this; the generator refolds header lines over
    78 columns and re-encodes header values (Python docs, email.policy; cpython#89462).
    """
    return _email_round_trip(data, email.policy.default)


def email_policy_smtp(data: bytes) -> bytes:
    """The same round trip with ``email.policy.SMTP`` (CRLF output; Python docs, email.policy)."""
    return _email_round_trip(data, email.policy.SMTP)


def email_compat32(data: bytes) -> bytes:
    """``email.message_from_bytes(data).as_bytes()``: every call without a policy (compat32)."""
    return _email_round_trip(data, None)


def _fields(block: bytes) -> list[bytes]:
    """Header fields, continuation lines attached; never fails, ``b"".join`` gives ``block``."""
    fields: list[bytes] = []
    for line in block.splitlines(keepends=True):
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += line
        else:
            fields.append(line)
    return fields


def _line_end(data: bytes) -> bytes:
    """The line end the message uses (its first), CRLF when it has none."""
    lf = data.find(b"\n")
    return b"\n" if lf > 0 and data[lf - 1] != 13 else CRLF


def _refold(field: bytes, width: int) -> bytes:
    """Unfold ``field``, then fold it before white space so lines stay within ``width``."""
    text = field.rstrip(b"\r\n")
    eol, line = field[len(text) :], _UNFOLD.sub(b"", text)
    earliest = line.find(b":") + 2  # never fold between the colon and the value
    points = [m.start() for m in _FOLD_POINT.finditer(line) if m.start() >= earliest]
    lines, start = [], 0
    while len(line) - start > width:
        fits = bisect.bisect_right(points, start + width) - 1
        after = bisect.bisect_right(points, start)
        if fits >= 0 and points[fits] > start:
            cut = points[fits]
        elif after < len(points):
            cut = points[after]  # a word longer than the width: fold right after it
        else:
            break
        lines.append(line[start:cut])
        start = cut
    lines.append(line[start:])
    return (eol if eol in (CRLF, b"\n") else CRLF).join(lines) + eol


def header_refold_78(data: bytes) -> bytes:
    """Unfold every header of the message and refold it at 78 columns at white space.

    MTAs and MUAs that rewrite headers do this (RFC 5322 §2.2.3 allows any folding; RFC 6376
    §3.4.2 relaxed header canonicalization unfolds because of it). Only the top-level header
    block is touched, as a relay sees it; MIME part headers are body content.
    """
    block_end, _ = header_boundaries(data)
    return b"".join(_refold(f, 78) for f in _fields(data[:block_end])) + data[block_end:]


_RELAY_FIELDS = (
    b"Return-Path: <bounces@example.com>",
    b"Received: from mx.example.net (mx.example.net [192.0.2.25])",
    b"\tby mailstore.example.org (Postfix) with ESMTPS id 4ZqK1x3Wm9z1xnY",
    b"\tfor <bob@example.org>; Tue, 24 Nov 2026 09:00:07 +0000 (UTC)",
    b"Received: from mail.example.com (mail.example.com [198.51.100.7])",
    b"\tby mx.example.net (Postfix) with ESMTPS id 4ZqK1w6Hc2z9sTb;",
    b"\tTue, 24 Nov 2026 09:00:05 +0000 (UTC)",
)


def headers_added_on_top(data: bytes) -> bytes:
    """``Return-Path:`` and ``Received:`` fields prepended, as every relay and the final
    delivery agent do (RFC 5321 §4.4)."""
    eol = _line_end(data)
    return eol.join(_RELAY_FIELDS) + eol + data


def _downgrade_leaf(entity: bytes, headers: list[RawHeader], block_end: int, start: int) -> bytes:
    cte, body = _encoding(headers), entity[start:]
    if cte in ("8bit", "binary") or (cte in (None, "7bit") and not body.isascii()):
        encoded = entity[:start] + encode_quoted_printable(body)
        return _replace_encoding(encoded, headers, block_end, "quoted-printable")
    return entity


def _downgrade_container(entity: bytes, headers: list[RawHeader], block_end: int, _: int) -> bytes:
    if _encoding(headers) not in ("8bit", "binary"):  # RFC 2045 §6.4: 7bit now
        return entity
    return _replace_encoding(entity, headers, block_end, "7bit")


def downgrade_8bit_to_qp(data: bytes) -> bytes:
    """Re-encode every 8bit leaf part to quoted-printable, as a relay to a server without
    8BITMIME must (RFC 6152 §3; Postfix ``disable_mime_output_conversion``, Sendmail
    ``EightBitMode=m``). 7-bit parts, and so 7-bit messages, are left as they are."""
    return _walk(data, _downgrade_leaf, _downgrade_container)


def _rewrap_leaf(entity: bytes, headers: list[RawHeader], _: int, start: int) -> bytes:
    if _encoding(headers) != "base64":
        return entity
    body = entity[start:]
    try:
        decoded = decode_transfer_encoding(body, "base64")
    except MessageError:
        return entity  # a gateway leaves a corrupt attachment as it is
    encoded = base64.b64encode(decoded)
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    rewrapped = CRLF.join(lines) + (CRLF if lines and body.endswith(b"\n") else b"")
    return entity[:start] + rewrapped


def base64_rewrap(data: bytes) -> bytes:
    """Every base64 body re-encoded in lines of 64 characters instead of 76.

    Gateways that scan or re-encode attachments do this (RFC 2045 §6.8 only sets a maximum
    of 76; 64 is the PEM width of RFC 7468). The decoded content is unchanged.
    """
    return _walk(data, _rewrap_leaf)


def _ses_message_id(data: bytes) -> bytes:
    """A Message-ID of SES's form, ``<0100…-000000@email.amazonses.com>``, from the input."""
    d = hashlib.sha256(data).hexdigest()
    return (
        f"Message-ID: <0100{d[:12]}-{d[12:20]}-{d[20:24]}-{d[24:28]}-{d[28:32]}-{d[32:44]}"
        "-000000@email.amazonses.com>"
    ).encode("ascii")


def _ses_dkim_signature(body: bytes, eol: bytes) -> bytes:
    """A syntactically plausible ``d=amazonses.com`` DKIM-Signature; never verified."""
    digest = hashlib.sha256(body).digest()
    fake = base64.b64encode(hashlib.sha512(digest).digest() * 4).decode("ascii")
    lines = [
        "DKIM-Signature: v=1; a=rsa-sha256; q=dns/txt; c=relaxed/simple;",
        "\ts=ug7nbtf4gccmlpwj322ax3p6ow6yfsug; d=amazonses.com; t=1864384496;",
        "\th=From:To:Subject:MIME-Version:Content-Type:Message-ID:Date:Feedback-ID;",
        f"\tbh={base64.b64encode(digest).decode('ascii')};",
        *(f"\t{'b=' if i == 0 else ''}{fake[i : i + 70]}" for i in range(0, len(fake), 70)),
    ]
    return eol.join(line.encode("ascii") for line in lines) + eol


def ses_transit(data: bytes) -> bytes:
    """What Amazon SES does to a raw message (DESIGN.md §3; AWS SES developer guide,
    "Manual DKIM signing" and "Header fields").

    Message-ID and Date are replaced where they stand (appended when absent), the
    X-SES-*-ARN fields are removed, and SES's own ``d=amazonses.com`` DKIM-Signature goes on top.
    """
    block_end, body_start = header_boundaries(data)
    eol = _line_end(data)
    new = {b"message-id": _ses_message_id(data) + eol, b"date": _SES_DATE + eol}
    kept: list[bytes] = []
    for field in _fields(data[:block_end]):
        name = field.partition(b":")[0].strip().lower()
        if name in _SES_REMOVED or (name in (b"message-id", b"date") and name not in new):
            continue  # removed by SES, or a repeated Message-ID or Date (SES keeps one)
        kept.append(new.pop(name, field))
    if kept and not kept[-1].endswith((b"\n", b"\r")):
        kept[-1] += eol
    kept += new.values()  # the ones the message did not have
    rest = data[block_end:] if block_end < len(data) else eol
    return _ses_dkim_signature(data[body_start:], eol) + b"".join(kept) + rest


# fmt: off
_REGISTRY = (
    Transformation("lf-line-endings", "CRLF converted to LF",
                   "RFC 4155 §2 (mbox); Maildir and Postfix local(8) on Unix", lf_line_endings),
    Transformation("email-policy-default", "Python email round trip, policy.default",
                   "Python docs: email.policy.default, email.generator; cpython#89462",
                   email_policy_default),
    Transformation("email-policy-smtp", "Python email round trip, policy.SMTP",
                   "Python docs: email.policy.SMTP, email.generator", email_policy_smtp),
    Transformation("email-compat32", "Python email round trip, compat32",
                   "Python docs: email.policy.compat32, Message.as_bytes", email_compat32),
    Transformation("header-refold-78", "headers unfolded and refolded at 78 columns",
                   "RFC 5322 §2.2.3; RFC 6376 §3.4.2 (why relaxed unfolds)", header_refold_78),
    Transformation("strip-trailing-whitespace", "trailing white space stripped from every line",
                   "RFC 6376 §3.4.4 (why relaxed strips it); Exchange text rewriting",
                   strip_trailing_whitespace),
    Transformation("downgrade-8bit-to-qp", "8bit parts re-encoded to quoted-printable",
                   "RFC 6152 §3; Postfix disable_mime_output_conversion; Sendmail EightBitMode",
                   downgrade_8bit_to_qp),
    Transformation("from-escaping", 'body lines starting "From " escaped to ">From "',
                   "RFC 4155 App. A (mbox); cpython#89462 (smtplib.send_message)", from_escaping),
    Transformation("smtp-dot-stuffing", "SMTP DATA round trip (dot-stuffing, final CRLF)",
                   "RFC 5321 §4.5.2, §4.1.1.4; smtplib.SMTP.data", smtp_dot_stuffing),
    Transformation("base64-rewrap", "base64 bodies rewrapped at 64 columns",
                   "RFC 2045 §6.8 (76 is a maximum); attachment-scanning gateways", base64_rewrap),
    Transformation("headers-added-on-top", "Return-Path and Received prepended",
                   "RFC 5321 §4.4", headers_added_on_top),
    Transformation("ses-transit", "Amazon SES: new Message-ID and Date, X-SES-* removed, own DKIM",
                   "DESIGN.md §3; AWS SES guide: manual DKIM signing, header fields", ses_transit),
)
# fmt: on

#: Every transformation by id, in the order profiles list them (mimeseal.check.profiles).
TRANSFORMS: dict[str, Transformation] = {t.id: t for t in _REGISTRY}
