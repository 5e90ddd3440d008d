"""Compose ordinary messages (text, HTML, attachments) directly as bytes.

The message is built line by line rather than through ``email.generator`` so that the output is
exact and deterministic (boundaries aside) and already in the sealed form every later stage
expects: CRLF line ends, 7-bit, no line over 998 octets. Nothing here re-serializes an
``email.message.Message``; ``email`` only parses addresses and makes RFC 2047 encoded-words.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import os
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path

from mimeseal import mime
from mimeseal.errors import ComposeError, HeaderInjectionError, MessageError

__all__ = ["Alternative", "Attachment", "compose"]

logger = logging.getLogger("mimeseal")

CRLF = b"\r\n"

# Header fields compose() writes itself; letting callers add them would duplicate them, and SES
# rejects a message with a repeated From, Message-ID, Content-Type or MIME-Version outright.
_STRUCTURAL = frozenset(
    {"from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version"}
)
# Fields that may appear at most once (RFC 5322 §3.6; SES "Duplicate header" list).
_AT_MOST_ONCE = frozenset(
    {"sender", "in-reply-to", "references", "list-unsubscribe", "list-unsubscribe-post"}
)

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_LOCAL_PART = re.compile(rf'{_DOT_ATOM}|"(?:[ !#-\[\]-~]|\\[ -~])*"')
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*|\[[!-Z^-~]+\]")
_MSG_ID = re.compile(rf"<{_DOT_ATOM}@(?:{_DOT_ATOM}|\[[!-Z^-~]*\])>")
_PLAIN_PHRASE = re.compile(rf"{_ATEXT}+(?: {_ATEXT}+)*")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
_PRINTABLE = re.compile(r"[ -~]*")
_TEXT_7BIT = re.compile(rb"[\t -~]*")
# RFC 2231 attribute-char: what may appear unescaped in an extended parameter value.
_ATTR_SAFE = "!#$&+-.^_`|~"
_LONGEST_WORD = 900  # words longer than this could not share a line within 998 octets
_RFC2231_CHUNK = 60
# 45 octets → 60 base64 characters → a 72-character "=?utf-8?b?…?=" word (limit 75).
_ENCODED_WORD_OCTETS = 45

_COMPRESSION_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
}


def _check_str(field: str, value: object) -> str:
    """Refuse non-strings and CR/LF early, naming the field, since either corrupts the headers."""
    if not isinstance(value, str):
        raise ComposeError(f"{field} must be a str, not {type(value).__name__}")
    if "\r" in value or "\n" in value:
        raise HeaderInjectionError(
            f"the {field} contains a line break (CR or LF), which would inject extra header "
            f"lines: {value!r}; remove the line break"
        )
    return value


@dataclass(frozen=True)
class Attachment:
    """A file to attach; ``content_type`` None means "guess from the file name"."""

    filename: str
    data: bytes
    content_type: str | None = None

    def __post_init__(self) -> None:
        # Validate at construction so a bad attachment is reported where it was made.
        _check_str("attachment filename", self.filename)
        if not self.filename.strip():
            raise ComposeError("an attachment needs a non-empty filename")
        if isinstance(self.data, (bytearray, memoryview)):
            object.__setattr__(self, "data", bytes(self.data))
        elif not isinstance(self.data, bytes):
            raise ComposeError(
                f"attachment {self.filename!r}: data must be bytes, not {type(self.data).__name__}"
            )
        if self.content_type is not None:
            _check_str("attachment content type", self.content_type)
            _check_media_type(self.filename, self.content_type)

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        *,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> Attachment:
        """Read a file; the attachment is named after the file unless ``filename`` is given."""
        file = Path(path)
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise ComposeError(
                f"cannot read attachment {str(file)!r}: {exc.strerror or exc}"
            ) from exc
        return cls(file.name if filename is None else filename, data, content_type)


@dataclass(frozen=True)
class Alternative:
    """Another rendering of the body, added after text and HTML in multipart/alternative.

    ``data`` is UTF-8 text (e.g. an iCalendar object for ``text/calendar; method=REQUEST;
    charset=UTF-8``); it is sent 7bit when that is safe, else quoted-printable.
    """

    content_type: str
    data: bytes


def _check_media_type(filename: str, value: str) -> None:
    """A Content-Type value must be ASCII ``type/subtype`` (parameters allowed) to be emitted."""
    kind = value.split(";", 1)[0].strip()
    if not _PRINTABLE.fullmatch(value) or not _MEDIA_TYPE.fullmatch(kind):
        raise ComposeError(
            f"attachment {filename!r}: content type {value!r} is not a valid ASCII "
            "'type/subtype' (e.g. 'application/pdf')"
        )
    if kind.lower().startswith("multipart/"):
        raise ComposeError(
            f"attachment {filename!r}: a multipart content type cannot be attached as base64; "
            "use 'application/octet-stream'"
        )


# --- header values ------------------------------------------------------------------------------


def _header(name: str, value: str) -> bytes:
    """One folded header field; mime.fold_header refuses lines over 998 octets."""
    if not value.isascii():
        raise ComposeError(f"the {name} value is not ASCII; encode it (RFC 2047) first")
    try:
        return mime.fold_header(name, value)
    except MessageError as exc:
        raise ComposeError(str(exc)) from None


def _is_plain(value: str) -> bool:
    """True if ``value`` can be written as is: printable ASCII that reads back unchanged."""
    return (
        _PRINTABLE.fullmatch(value) is not None
        and "=?" not in value
        and value == value.strip(" ")
        and "  " not in value
        and all(len(word) <= _LONGEST_WORD for word in value.split(" "))
    )


def _encoded_words(value: str, *, after: str = "") -> str:
    """RFC 2047 UTF-8 "B" encoded-words, each ≤ 75 characters, separated by single spaces.

    ``after`` is what precedes the value on its first line (``"Subject: "``): the first word
    is made short enough that the first line, too, stays within 78 characters once folded.

    Written here rather than with ``email.header.Header``, whose ``encode()`` splits the text
    with ``str.splitlines()`` and so silently turns U+2028, U+0085, \\x0b, \\x0c and \\x1c-\\x1e
    into spaces (or drops them). Characters are never split across two encoded-words.
    """
    words: list[bytes] = []
    chunk = b""
    # "=?utf-8?b?" + "?=" is 12 characters; base64 makes 4 characters of every 3 octets.
    limit = min(_ENCODED_WORD_OCTETS, (78 - len(after) - 12) // 4 * 3)
    for char in value:
        try:
            raw = char.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ComposeError(f"{value!r} is not encodable as UTF-8: {exc}") from exc
        if len(chunk) + len(raw) > limit and chunk:
            words.append(chunk)
            chunk, limit = b"", _ENCODED_WORD_OCTETS
        chunk += raw
    words.append(chunk)
    return " ".join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


def _phrase(name: str) -> str:
    """A display name as an atom phrase, a quoted string, or encoded-words (non-ASCII)."""
    if _is_plain(name):
        if _PLAIN_PHRASE.fullmatch(name):
            return name
        if '"' not in name and "\\" not in name:
            return f'"{name}"'
    return _encoded_words(name)


def _ascii_domain(domain: str, field: str, address: str) -> str:
    """Convert an internationalized domain to punycode; SES accepts only ASCII domains."""
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ComposeError(
                f"{field} address {address!r}: the domain cannot be converted to IDNA "
                f"(punycode): {exc}"
            ) from exc
    if len(domain) > 253 or not _DOMAIN.fullmatch(domain):
        raise ComposeError(f"{field} address {address!r}: {domain!r} is not a valid domain name")
    return domain


def _mailbox(field: str, entry: object) -> tuple[str, str]:
    """Parse one address entry into (header text, ASCII domain), refusing anything SES would."""
    raw = _check_str(f"{field} address", entry)
    pairs = getaddresses([raw])
    if len(pairs) != 1 or not pairs[0][1]:
        raise ComposeError(
            f"{field} entry {raw!r} must be exactly one address like 'Name <user@example.com>' "
            "or 'user@example.com'; pass several addresses as separate list items"
        )
    name, address = pairs[0]
    if address not in raw:
        # getaddresses() quietly repairs some malformed input ("user@exa mple.com" becomes
        # "user@example.com"); sending to a guessed address is worse than refusing.
        raise ComposeError(
            f"{field} entry {raw!r} is not a well-formed address (it would be read as "
            f"{address!r}); write it as 'Name <user@example.com>' or 'user@example.com'"
        )
    if address.count("@") != 1:
        raise ComposeError(f"{field} address {address!r} must contain exactly one '@'")
    local, domain = address.split("@")
    if not local or not domain:
        raise ComposeError(f"{field} address {address!r} needs a non-empty local part and domain")
    if not local.isascii():
        raise ComposeError(
            f"{field} address {address!r} has a non-ASCII local part; Amazon SES does not "
            "support SMTPUTF8, so use an ASCII address"
        )
    if len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        raise ComposeError(
            f"{field} address {address!r}: {local!r} is not a valid local part (at most 64 "
            "characters, no spaces or special characters unless quoted)"
        )
    domain = _ascii_domain(domain, field, address)
    bare = f"{local}@{domain}"
    if not name:
        return bare, domain
    return f"{_phrase(name)} <{bare}>", domain


def _address_list(field: str, entries: Sequence[str]) -> list[str]:
    """Format each entry of an address list; a bare str is refused (it would be iterated)."""
    if isinstance(entries, str) or not isinstance(entries, Sequence):
        raise ComposeError(f"{field} must be a list of addresses, not {type(entries).__name__}")
    return [_mailbox(field, entry)[0] for entry in entries]


def _message_id(value: str | None, domain: str) -> str:
    """A valid ``<left@right>`` Message-ID: the one given (brackets added) or a fresh one."""
    if value is None:
        return make_msgid(domain=domain)
    value = _check_str("Message-ID", value).strip()
    if not value.startswith("<"):
        value = f"<{value}>"
    if not _MSG_ID.fullmatch(value):
        raise ComposeError(
            f"Message-ID {value!r} must look like '<unique-part@domain>' (ASCII, no spaces)"
        )
    return value


def _date(value: datetime | None) -> str:
    """RFC 5322 date; a naive datetime is refused because its offset would be a guess."""
    if value is None:
        value = datetime.now(timezone.utc)
    if not isinstance(value, datetime):
        raise ComposeError(f"date must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ComposeError(
            "date is a naive datetime; pass a timezone-aware one, e.g. datetime.now(timezone.utc)"
        )
    return format_datetime(value)


def _extra_headers(headers: Mapping[str, str] | Sequence[tuple[str, str]]) -> list[bytes]:
    """Validate and fold the caller's extra fields; structural fields are compose()'s own."""
    items = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    seen: set[str] = set()
    out: list[bytes] = []
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ComposeError(f"each extra header must be a (name, value) pair, not {item!r}")
        name, value = item
        _check_str("header name", name)
        _check_str(f"{name} header", value)
        mime.check_header_value(name, value)
        key = name.lower()
        if key in _STRUCTURAL or key.startswith("content-"):
            raise ComposeError(
                f"the {name} header is set by compose() itself and cannot be overridden; "
                "use the matching compose() argument instead"
            )
        if key in _AT_MOST_ONCE and key in seen:
            raise ComposeError(f"the {name} header may appear only once")
        seen.add(key)
        value = value.strip(" \t")
        if not _PRINTABLE.fullmatch(value.replace("\t", " ")):
            raise ComposeError(
                f"the {name} header value must be printable ASCII; encode non-ASCII text "
                "yourself (RFC 2047) before passing it"
            )
        out.append(_header(name, value))
    return out


# --- body ---------------------------------------------------------------------------------------

# An entity is its Content-* header lines plus its body; the top level merges them into the
# message headers, a multipart writes them in front of the part.
_Entity = tuple[list[bytes], bytes]


def _part_bytes(entity: _Entity) -> bytes:
    headers, body = entity
    return b"".join(headers) + CRLF + body


def _needs_qp(data: bytes) -> bool:
    """True unless ``data`` (CRLF text) survives every relay unchanged as 7bit."""
    for line in data.split(CRLF):
        if (
            len(line) > mime.MAX_LINE
            or not _TEXT_7BIT.fullmatch(line)
            or line.endswith((b" ", b"\t"))
            or line.startswith((b"From ", b"."))
        ):
            return True
    return False


def _text_entity(subtype: str, text: str) -> _Entity:
    """A text part: us-ascii 7bit when that is safe, else UTF-8 quoted-printable."""
    if not isinstance(text, str):
        raise ComposeError(f"the {subtype} body must be a str, not {type(text).__name__}")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text and not text.endswith("\n"):
        # The message must end with CRLF, or SMTP clients append one after it was signed.
        text += "\n"
    try:
        data = mime.to_crlf(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ComposeError(f"the {subtype} body is not encodable as UTF-8: {exc}") from exc
    if _needs_qp(data):
        charset, cte, data = "utf-8", "quoted-printable", mime.encode_quoted_printable(data)
    else:
        charset, cte = "us-ascii", "7bit"
    return [
        _header("Content-Type", f"text/{subtype}; charset={charset}"),
        _header("Content-Transfer-Encoding", cte),
    ], data


def _multipart_entity(subtype: str, parts: Sequence[bytes]) -> _Entity:
    boundary = mime.choose_boundary(*parts)
    return [_header("Content-Type", f'multipart/{subtype}; boundary="{boundary}"')], (
        mime.join_multipart(parts, boundary)
    )


def _media_type(attachment: Attachment) -> str:
    """The given content type, or one guessed from the file name (compressed → its archive)."""
    if attachment.content_type is not None:
        return attachment.content_type.strip()
    guessed, encoding = mimetypes.guess_type(attachment.filename, strict=False)
    if encoding is not None:
        return _COMPRESSION_TYPES.get(encoding, "application/octet-stream")
    if guessed is None:
        return "application/octet-stream"
    if guessed.startswith("text/") and not attachment.data.isascii():
        try:
            attachment.data.decode("utf-8")
        except UnicodeDecodeError:
            return guessed
        return f"{guessed}; charset=utf-8"
    return guessed


def _filename_params(filename: str) -> list[str]:
    """``filename="…"`` when plain, else RFC 2231 UTF-8 with continuations to keep lines short."""
    if _is_plain(filename) and not any(c in filename for c in '"\\') and len(filename) <= 200:
        return [f'filename="{filename}"']
    try:
        raw = filename.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ComposeError(f"attachment filename {filename!r} is not valid Unicode") from exc
    encoded = "utf-8''" + urllib.parse.quote(raw, safe=_ATTR_SAFE)
    if len(encoded) <= _RFC2231_CHUNK:
        return [f"filename*={encoded}"]
    chunks: list[str] = []
    rest = encoded
    while rest:
        cut = min(_RFC2231_CHUNK, len(rest))
        # Never split a %XX escape between two continuations.
        percent = rest.rfind("%", max(cut - 2, 0), cut)
        if percent != -1 and cut < len(rest):
            cut = percent
        chunks.append(rest[:cut])
        rest = rest[cut:]
    return [f"filename*{i}*={chunk}" for i, chunk in enumerate(chunks)]


def _attachment_part(attachment: Attachment) -> bytes:
    media_type = _media_type(attachment)
    disposition = "; ".join(["attachment", *_filename_params(attachment.filename)])
    if media_type.lower().startswith("message/"):
        # RFC 2046 §5.2: message/* bodies may not be base64, so they travel as 7bit, and then
        # only if no relay would touch them (the same test that keeps a text part 7bit).
        body, cte = mime.to_crlf(attachment.data), "7bit"
        if _needs_qp(body):
            raise ComposeError(
                f"attachment {attachment.filename!r} is {media_type}, which must be sent as "
                "7bit, but it has 8-bit or control bytes, lines over 998 octets, trailing white "
                "space or lines starting 'From ' or '.'; pass "
                "content_type='application/octet-stream' to attach it as base64"
            )
    else:
        body, cte = mime.encode_base64_lines(attachment.data), "base64"
    headers = [
        _header("Content-Type", media_type),
        _header("Content-Disposition", disposition),
        _header("Content-Transfer-Encoding", cte),
    ]
    return _part_bytes((headers, body))


def _alternative_entity(alternative: Alternative) -> _Entity:
    if not isinstance(alternative, Alternative):
        raise ComposeError(f"alternatives must be Alternative objects, not {type(alternative)}")
    _check_str("alternative content type", alternative.content_type)
    try:
        alternative.data.decode("utf-8")
    except UnicodeDecodeError:
        raise ComposeError(f"the {alternative.content_type} part is not UTF-8 text") from None
    data = mime.to_crlf(alternative.data)
    if data and not data.endswith(CRLF):
        data += CRLF
    if _needs_qp(data):
        cte, data = "quoted-printable", mime.encode_quoted_printable(data)
    else:
        cte = "7bit"
    return [
        _header("Content-Type", alternative.content_type),
        _header("Content-Transfer-Encoding", cte),
    ], data


def _body_entity(
    text: str | None,
    html: str | None,
    attachments: Sequence[Attachment],
    extra: Sequence[Alternative] = (),
    always_mixed: bool = False,
) -> _Entity:
    if not isinstance(attachments, Sequence):
        raise ComposeError("attachments must be a list of Attachment objects")
    for attachment in attachments:
        if not isinstance(attachment, Attachment):
            raise ComposeError(
                f"attachments must be Attachment objects, not {type(attachment).__name__}"
            )
    if text is None and html is None and not attachments and not extra:
        raise ComposeError("the message has no body: give text, html or attachments")
    alternatives = [
        _text_entity(subtype, content)
        for subtype, content in (("plain", text), ("html", html))
        if content is not None
    ] + [_alternative_entity(alternative) for alternative in extra]
    body: _Entity | None = None
    if len(alternatives) >= 2:
        body = _multipart_entity("alternative", [_part_bytes(e) for e in alternatives])
    elif alternatives:
        body = alternatives[0]
    if not attachments and not always_mixed:
        assert body is not None
        return body
    parts = [] if body is None else [_part_bytes(body)]
    parts += [_attachment_part(attachment) for attachment in attachments]
    return _multipart_entity("mixed", parts)


# --- the message --------------------------------------------------------------------------------


def compose(
    *,
    from_: str,
    to: Sequence[str] = (),
    cc: Sequence[str] = (),
    reply_to: Sequence[str] = (),
    subject: str = "",
    text: str | None = None,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    date: datetime | None = None,
    message_id: str | None = None,
    headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    alternatives: Sequence[Alternative] = (),
    always_mixed: bool = False,
) -> bytes:
    """Build a complete message as sealed bytes: CRLF, 7-bit, lines of at most 998 octets.

    ``alternatives`` are further renderings after text and HTML (calendar invitations use
    one); ``always_mixed`` keeps a ``multipart/mixed`` root even without attachments, the
    structure calendar clients look for. Bcc recipients belong in the sender's envelope, never
    in the message, so there is no ``bcc`` argument. Raises :class:`ComposeError` for unusable
    input and :class:`HeaderInjectionError` for a CR or LF in any header value.
    """
    sender, from_domain = _mailbox("From", from_)
    to_list = _address_list("To", to)
    cc_list = _address_list("Cc", cc)
    reply_list = _address_list("Reply-To", reply_to)
    if not to_list and not cc_list:
        raise ComposeError("the message has no recipients: give at least one To or Cc address")
    _check_str("Subject", subject)
    subject_value = subject if _is_plain(subject) else _encoded_words(subject, after="Subject: ")

    fields = [_header("From", sender)]
    for name, addresses in (("To", to_list), ("Cc", cc_list), ("Reply-To", reply_list)):
        if addresses:
            fields.append(_header(name, ", ".join(addresses)))
    fields.append(_header("Subject", subject_value))
    fields.append(_header("Date", _date(date)))
    fields.append(_header("Message-ID", _message_id(message_id, from_domain)))
    fields += _extra_headers(headers)
    fields.append(_header("MIME-Version", "1.0"))

    content_headers, body = _body_entity(text, html, attachments, alternatives, always_mixed)
    out = b"".join(fields + content_headers) + CRLF + body
    if not mime.is_transport_safe(out) or not out.endswith(CRLF):
        raise ComposeError(
            "internal error: the composed message is not CRLF, 7-bit and ≤ 998-octet lines; "
            "please report this with the inputs that caused it"
        )
    logger.debug("composed a %d-byte message with %d attachment(s)", len(out), len(attachments))
    return out
