"""The e-mail that carries an invitation, in the structure Exchange and Gmail recognise.

``multipart/mixed`` whose first child is ``multipart/alternative`` (text/plain, text/html,
``text/calendar; method=X; charset=UTF-8``), then by default the same calendar as an
``application/ics`` attachment (RFC 6047 §2.4). The readable parts say what, when (in the
event's own zone, named), where and who.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from mimeseal.compose import Alternative, Attachment, compose
from mimeseal.errors import InviteError
from mimeseal.invite.ics import to_ics
from mimeseal.invite.model import Attendee, Invite, Person

_ROLE_WORDS = {
    "CHAIR": "chair",
    "REQ-PARTICIPANT": "required",
    "OPT-PARTICIPANT": "optional",
    "NON-PARTICIPANT": "for information",
}
_REPLY_WORDS = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}


def default_subject(invite: Invite) -> str:
    summary = invite.summary or "(no title)"
    if invite.method == "REQUEST":
        return ("Updated invitation: " if invite.sequence else "Invitation: ") + summary
    if invite.method == "REPLY":
        word = _REPLY_WORDS.get(invite.attendees[0].partstat, invite.attendees[0].partstat)
        return f"{word}: {summary}"
    return {
        "CANCEL": "Cancelled: ",
        "PUBLISH": "",
        "ADD": "Added occurrences: ",
        "REFRESH": "Please resend: ",
        "COUNTER": "New time proposed: ",
        "DECLINECOUNTER": "Proposal declined: ",
    }[invite.method] + summary


def _mailbox(person: Person | Attendee) -> str:
    return f"{person.name} <{person.address}>" if person.name else person.address


def _zone_label(value: datetime) -> str:
    zone = value.tzinfo
    name = zone.key if isinstance(zone, ZoneInfo) else "UTC"
    offset = value.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    abbreviation = value.tzname() or name
    return f"{name}, {abbreviation}, UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def describe_when(invite: Invite) -> str:
    """The time of the event in its own zone, with the zone named."""
    start, end = invite.start, invite.end
    if start is None:
        return "(no time given)"
    if not isinstance(start, datetime):
        last = (end - timedelta(days=1)) if isinstance(end, date) else start
        text = f"{start:%A %d %B %Y}" + (f" – {last:%A %d %B %Y}" if last != start else "")
        return text + " (all day)"
    if end is None and invite.duration is not None:
        end = start + invite.duration
    if start.tzinfo is not None and not isinstance(start.tzinfo, ZoneInfo):
        start = start.astimezone(timezone.utc)
    text = f"{start:%A %d %B %Y, %H:%M}"
    if isinstance(end, datetime):
        end = end.astimezone(start.tzinfo)
        text += f"–{end:%H:%M}" if end.date() == start.date() else f" – {end:%A %d %B %Y, %H:%M}"
    return f"{text} ({_zone_label(start)})"


def _lines(invite: Invite) -> list[tuple[str, str]]:
    rows = [("What", invite.summary or "(no title)"), ("When", describe_when(invite))]
    if invite.recurrence_id is not None:
        rows.append(("Occurrence", str(invite.recurrence_id)))
    if invite.rrule:
        rows.append(("Repeats", invite.rrule))
    if invite.location:
        rows.append(("Where", invite.location))
    rows.append(("Organizer", _mailbox(invite.organizer)))
    if invite.attendees:
        who = [f"{_mailbox(a)} ({_ROLE_WORDS.get(a.role, a.role)})" for a in invite.attendees]
        rows.append(("Attendees" if invite.method != "REPLY" else "Reply from", "; ".join(who)))
    if invite.method == "REPLY":
        rows.append(("Answer", invite.attendees[0].partstat.capitalize()))
    if invite.url:
        rows.append(("Link", invite.url))
    if invite.comment:
        rows.append(("Comment", invite.comment))
    return rows


def readable_text(invite: Invite) -> str:
    rows = _lines(invite)
    text = "\n".join(f"{label}: {value}" for label, value in rows)
    if invite.method == "CANCEL":
        text = "This event has been cancelled.\n\n" + text
    if invite.description:
        text += "\n\n" + invite.description
    return text + "\n"


def readable_html(invite: Invite) -> str:
    cells = "".join(
        f'<tr><th align="left">{html.escape(label)}</th><td>{html.escape(value)}</td></tr>\n'
        for label, value in _lines(invite)
    )
    notice = "<p><strong>This event has been cancelled.</strong></p>\n"
    body = (notice if invite.method == "CANCEL" else "") + f"<table>\n{cells}</table>\n"
    if invite.description:
        body += f"<p>{html.escape(invite.description).replace(chr(10), '<br>')}</p>\n"
    return f"<!DOCTYPE html>\n<html><body>\n{body}</body></html>\n"


def _parties(invite: Invite, to: Sequence[str] | None) -> tuple[str, list[str]]:
    """From and To as iTIP says: replies go from the attendee to the organizer."""
    if invite.method in ("REPLY", "REFRESH", "COUNTER"):
        return _mailbox(invite.attendees[0]), list(to or [_mailbox(invite.organizer)])
    recipients = list(to) if to else [_mailbox(a) for a in invite.attendees]
    if not recipients:
        raise InviteError(f"a {invite.method} has no attendees to send to: pass to=[...]")
    return _mailbox(invite.organizer), recipients


def to_message(
    invite: Invite,
    *,
    subject: str | None = None,
    to: Sequence[str] | None = None,
    ics_attachment: bool = True,
    date: datetime | None = None,
    message_id: str | None = None,
) -> bytes:
    """The complete message for ``invite`` as sealed bytes (CRLF, 7-bit, lines ≤ 998)."""
    ics = to_ics(invite)
    sender, recipients = _parties(invite, to)
    calendar = Alternative(f"text/calendar; method={invite.method}; charset=UTF-8", ics)
    attachments = [Attachment("invite.ics", ics, 'application/ics; name="invite.ics"')]
    return compose(
        from_=sender,
        to=recipients,
        subject=subject if subject is not None else default_subject(invite),
        text=readable_text(invite),
        html=readable_html(invite),
        alternatives=[calendar],
        attachments=attachments if ics_attachment else (),
        always_mixed=True,
        date=date,
        message_id=message_id,
    )
