"""Header composition: which author a DKIM signature authenticates, and what it leaves open.

DKIM authenticates header *instances*: ``h=`` selects the last instances of each name,
from the bottom up (RFC 6376 §5.4.2). Readers show the *first* instance. A second From,
or a Subject added above the signed one, is therefore shown to the reader while the
signature still verifies the lower one ("Composition Kills", Chen et al., USENIX Security
2020; RFC 6376 §8.15). The rules mimeseal applies, to every signature:

* **No DKIM-authenticated author** (permerror, whatever ``h=`` lists): the message has more
  than one From field (RFC 5322 §3.6 allows exactly one), none, or one without a parseable
  mailbox. Such a message is malformed rather than the signature (RFC 8601 §2.7.1 calls
  this permerror; OpenDKIM's strict-header mode calls it a syntax error). Several mailboxes
  in one From field are one signed field: the signature vouches for all of them, so that
  is a note (RFC 5322 §3.6.2 then requires Sender; DMARC may refuse it, RFC 7489 §6.6.1).
* **Unsigned instances above signed ones**: for a name ``h=`` lists ``n`` times that
  occurs ``m > n`` times, the top ``m - n`` instances are unsigned. Their names are in
  ``DkimResult.unsigned_instances``. For the fields a reader shows (:data:`READER_FIELDS`:
  From, Sender, Reply-To, To, Cc, Subject, Date, List-Unsubscribe(-Post), which RFC 8058 §4
  requires signed, and Content-Type and Content-Transfer-Encoding, which decide what body is
  shown) a passing signature becomes
  ``fail``; for other fields (Received, say) it stays a pass with a note. Oversigning
  (listing a name once more than it occurs, as :func:`mimeseal.dkim.sign` does) makes this
  impossible: an instance added later breaks the signature instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mimeseal.errors import MessageError
from mimeseal.mime import RawHeader, parse_addresses

#: Fields whose first instance a reader shows (or that decide which body is shown).
READER_FIELDS = frozenset(
    {
        "from", "sender", "reply-to", "to", "cc", "subject", "date",
        "content-type", "content-transfer-encoding",
        "list-unsubscribe", "list-unsubscribe-post",  # RFC 8058 §4: the one-click target
    }
)  # fmt: skip

MULTIPLE_FROM = "multiple-from"
NO_AUTHOR = "no-author"
UNSIGNED_ABOVE = "unsigned-above-signed"
#: The message verdict's reason when a message-level problem leaves no author.
VERDICT_REASONS = {
    MULTIPLE_FROM: "the message has more than one From field, so no DKIM-authenticated author "
    "(RFC 5322 §3.6 allows one; RFC 6376 §8.15)",
    NO_AUTHOR: "the message has no From field with a parseable mailbox, so no "
    "DKIM-authenticated author (RFC 5322 §3.6)",
    UNSIGNED_ABOVE: "a field readers show has an unsigned instance above the signed one, so a "
    "reader may be shown text no signature covers (RFC 6376 §8.15)",
}


@dataclass(frozen=True)
class Authors:
    """The From field(s) of a message: the mailboxes, and why none is authenticated."""

    addresses: tuple[str, ...]
    problem: str | None = None  # MULTIPLE_FROM or NO_AUTHOR
    reason: str | None = None
    note: str | None = None


_ATOM_TEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
#: ``local@domain`` or ``Display Name <local@domain>`` with nothing a parser could read two
#: ways: no quotes, comments, commas, groups or routes (anything else takes the stdlib path).
_SIMPLE_MAILBOX = re.compile(
    rf"[ \t]*(?:({_ATOM_TEXT}@{_ATOM_TEXT})|[A-Za-z0-9 \t.'-]*<({_ATOM_TEXT}@{_ATOM_TEXT})>)[ \t]*"
)


def display_name(field: str) -> str:
    """``reply-to`` → ``Reply-To``."""
    return "-".join(part.capitalize() for part in field.split("-"))


def authors(headers: Sequence[RawHeader]) -> Authors:
    """The message's author mailboxes, or the reason DKIM cannot authenticate an author."""
    fields = [h for h in headers if h.is_named("From")]
    if len(fields) > 1:
        return Authors(
            (),
            MULTIPLE_FROM,
            f"the message has {len(fields)} From fields, so no DKIM-authenticated author: "
            "readers show the first, DKIM signs the last (RFC 5322 §3.6 allows one; "
            "RFC 6376 §8.15)",
        )
    if not fields:
        return Authors((), NO_AUTHOR, "the message has no From field, so no author to "
                       "authenticate (RFC 5322 §3.6 requires one)")  # fmt: skip
    simple = _SIMPLE_MAILBOX.fullmatch(fields[0].value)
    if simple is not None:  # one plain mailbox: the common case, without the stdlib parser
        parsed = [("", simple.group(1) or simple.group(2))]
    else:
        try:
            parsed = parse_addresses([fields[0].value])
        except MessageError:
            parsed = []
    mailboxes = tuple(
        address.lower()
        for _, address in parsed
        if "@" in address and all(address.rpartition("@")[::2])
    )
    if not mailboxes:
        return Authors((), NO_AUTHOR, "the From field holds no parseable mailbox, so no "
                       "DKIM-authenticated author (RFC 5322 §3.6.2)")  # fmt: skip
    note = None
    if len(mailboxes) > 1 and not any(h.is_named("Sender") for h in headers):
        note = (
            f"From names {len(mailboxes)} mailboxes and there is no Sender field "
            "(RFC 5322 §3.6.2 requires one); DMARC receivers may refuse the message"
        )
    return Authors(mailboxes, note=note)


def unsigned_above(headers: Sequence[RawHeader], signed: Sequence[str]) -> tuple[str, ...]:
    """One name per unsigned instance that sits above the signed instances of that name
    (``signed``: the lower-case names of ``h=``)."""
    listed: dict[str, int] = {}
    for name in signed:
        listed[name] = listed.get(name, 0) + 1
    present = dict.fromkeys(listed, 0)
    for header in headers:
        if header.key in present:
            present[header.key] += 1
    found: list[str] = []
    for name, count in listed.items():
        found += [name] * max(0, present[name] - count)
    return tuple(found)


def unsigned_fields(headers: Sequence[RawHeader], signed: Sequence[str]) -> tuple[str, ...]:
    """The reader fields present in the message that ``h=`` does not list at all: a signature
    does not cover them, whatever its status (RFC 6376 §5.4.1 only says they SHOULD be signed;
    Gmail, for one, leaves Content-Type out)."""
    listed = {name.lower() for name in signed}
    present = dict.fromkeys(h.key for h in headers if h.key in READER_FIELDS)
    return tuple(name for name in present if name not in listed)


def shown_unsigned(unsigned: Sequence[str]) -> list[str]:
    """The names in ``unsigned`` that readers show, each once."""
    return [name for name in dict.fromkeys(unsigned) if name in READER_FIELDS]
