"""iCalendar text for an ``Invite`` and back, through the ``icalendar`` package.

Zoned times keep their TZID only when the zone's current rule can be written as the
RRULE-based VTIMEZONE Outlook understands (:mod:`mimeseal.invite.vtimezone`); otherwise they
are written in UTC, which every client shows correctly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from mimeseal.errors import InviteError
from mimeseal.invite.itip import validate
from mimeseal.invite.model import Alarm, Attendee, Invite, Person, When
from mimeseal.invite.vtimezone import vtimezone_for
from mimeseal.mime import content_type_of, parse_headers, split_message, split_multipart
from mimeseal.mime import decode_transfer_encoding as decode_body

log = logging.getLogger("mimeseal")
PRODID = "-//mimeseal//mimeseal invitations//EN"


class _Zones:
    """Decides per zone whether times keep their TZID, and collects the VTIMEZONEs."""

    def __init__(self, reference: datetime | None) -> None:
        self.reference = reference
        self.blocks: dict[str, str] = {}
        self.refused: dict[str, str] = {}

    def convert(self, value: When) -> When:
        if not isinstance(value, datetime):
            return value
        zone = value.tzinfo
        if not isinstance(zone, ZoneInfo) or zone.key in ("UTC", "Etc/UTC"):
            return value.astimezone(timezone.utc)
        if zone.key not in self.blocks and zone.key not in self.refused:
            result = vtimezone_for(zone.key, start=self.reference)
            if result.expressible and result.text:
                self.blocks[zone.key] = result.text
            else:
                self.refused[zone.key] = result.reason
                log.info("writing %s times in UTC: %s", zone.key, result.reason)
        return value if zone.key in self.blocks else value.astimezone(timezone.utc)


def _address(person: Person | Attendee) -> Any:
    value = icalendar.vCalAddress(f"mailto:{person.address}")
    if person.name:
        value.params["CN"] = person.name
    if isinstance(person, Attendee):
        value.params["CUTYPE"] = person.cutype
        value.params["ROLE"] = person.role
        value.params["PARTSTAT"] = person.partstat
        value.params["RSVP"] = "TRUE" if person.rsvp else "FALSE"
    return value


def to_ics(invite: Invite) -> bytes:
    """The VCALENDAR (METHOD, VTIMEZONEs, one VEVENT) as CRLF bytes; validates iTIP rules."""
    validate(invite)
    reference = invite.start if isinstance(invite.start, datetime) else None
    zones = _Zones(reference)
    event = icalendar.Event()
    event.add("uid", invite.uid)
    event.add("dtstamp", invite.dtstamp)
    event.add("sequence", invite.sequence)
    event.add("organizer", _address(invite.organizer))
    for attendee in invite.attendees:
        event.add("attendee", _address(attendee))
    for name, value in (
        ("dtstart", invite.start),
        ("dtend", invite.end),
        ("recurrence-id", invite.recurrence_id),
    ):
        if value is not None:
            event.add(name, zones.convert(value))
    if invite.duration is not None:
        event.add("duration", invite.duration)
    for name, text in (
        ("summary", invite.summary),
        ("description", invite.description),
        ("location", invite.location),
        ("url", invite.url),
        ("status", invite.status),
        ("transp", invite.transparency),
        ("priority", invite.priority),
        ("comment", invite.comment),
    ):
        if text is not None:
            event.add(name, text)
    if invite.categories:
        event.add("categories", list(invite.categories))
    if invite.rrule:
        event.add("rrule", icalendar.vRecur.from_ical(invite.rrule))
    for name, values in (("rdate", invite.rdates), ("exdate", invite.exdates)):
        for moment in values:
            event.add(name, zones.convert(moment))
    for alarm in invite.alarms:
        valarm = icalendar.Alarm()
        valarm.add("action", "DISPLAY")
        valarm.add("description", alarm.description)
        valarm.add("trigger", -alarm.before)
        event.add_component(valarm)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", invite.method)
    head = calendar.to_ical().replace(b"END:VCALENDAR\r\n", b"")
    blocks = "".join(zones.blocks.values()).encode("utf-8")
    return bytes(head + blocks + event.to_ical() + b"END:VCALENDAR\r\n")


# --- parsing ------------------------------------------------------------------------------


def _mailto(value: Any) -> str:
    text = str(value)
    return text[7:] if text.lower().startswith("mailto:") else text


def _when(prop: Any) -> When | None:
    if prop is None:
        return None
    value = prop.dt
    if isinstance(value, datetime) and value.tzinfo is None:
        raise InviteError(
            "the calendar has a floating time (no TZID and no Z); mimeseal needs zoned times"
        )
    return value  # type: ignore[no-any-return]


def _many(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _whens(props: Any) -> tuple[When, ...]:
    found: list[When] = []
    for prop in _many(props):
        found += [item.dt for item in prop.dts]
    return tuple(found)


def _attendee(value: Any) -> Attendee:
    params = value.params
    return Attendee(
        address=_mailto(value),
        name=params.get("CN") or None,
        role=params.get("ROLE", "REQ-PARTICIPANT"),
        partstat=params.get("PARTSTAT", "NEEDS-ACTION"),
        rsvp=str(params.get("RSVP", "FALSE")).upper() == "TRUE",
        cutype=params.get("CUTYPE", "INDIVIDUAL"),
    )


def _alarms(event: Any) -> tuple[Alarm, ...]:
    alarms = []
    for component in event.walk("VALARM"):
        trigger = component.get("trigger")
        if trigger is None or not isinstance(trigger.dt, timedelta) or trigger.dt > timedelta(0):
            continue  # absolute or after-start triggers are not modelled; skip, don't fail
        description = str(component.get("description", "Reminder"))
        alarms.append(Alarm(before=-trigger.dt, description=description))
    return tuple(alarms)


def from_ics(data: bytes | str) -> Invite:
    """Parse an iCalendar object (ours or another program's) into an ``Invite``.

    With several VEVENTs (a recurring event and its overridden instances) the master event
    (no RECURRENCE-ID) is returned. Raises :class:`InviteError` for unusable input.
    """
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and others for broken input
        raise InviteError(f"not a valid iCalendar object: {exc}") from None
    events = list(calendar.walk("VEVENT"))
    if not events:
        raise InviteError("the calendar has no VEVENT")
    masters = [e for e in events if e.get("recurrence-id") is None]
    event = (masters or events)[0]
    try:
        return _invite_from_event(calendar, event)
    except InviteError:
        raise
    except Exception as exc:
        raise InviteError(f"the VEVENT cannot be read: {type(exc).__name__}: {exc}") from None


def _invite_from_event(calendar: Any, event: Any) -> Invite:
    organizer = event.get("organizer")
    if organizer is None:
        raise InviteError("the VEVENT has no ORGANIZER")
    method = str(calendar.get("method", "PUBLISH")).upper()
    rrule = event.get("rrule")
    duration = event.get("duration")
    priority = event.get("priority")
    categories: list[str] = []
    for item in _many(event.get("categories")):
        categories += [str(c) for c in getattr(item, "cats", [item])]
    dtstamp = _when(event.get("dtstamp"))
    return Invite(
        method=method,  # type: ignore[arg-type]
        organizer=Person(_mailto(organizer), organizer.params.get("CN") or None),
        summary=_text(event.get("summary")),
        start=_when(event.get("dtstart")),
        end=_when(event.get("dtend")),
        duration=duration.dt if duration is not None else None,
        attendees=tuple(_attendee(a) for a in _many(event.get("attendee"))),
        description=_text(event.get("description")),
        location=_text(event.get("location")),
        url=_text(event.get("url")),
        rrule=rrule.to_ical().decode("ascii") if rrule is not None else None,
        rdates=_whens(event.get("rdate")),
        exdates=_whens(event.get("exdate")),
        recurrence_id=_when(event.get("recurrence-id")),
        alarms=_alarms(event),
        uid=str(event.get("uid", "")),
        sequence=int(event.get("sequence", 0)),
        status=_text(event.get("status")),
        transparency=_text(event.get("transp")),
        priority=int(priority) if priority is not None else None,
        categories=tuple(categories),
        comment=_text(event.get("comment")),
        dtstamp=dtstamp if isinstance(dtstamp, datetime) else datetime.now(timezone.utc),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def calendar_parts(message: bytes) -> Iterable[bytes]:
    """Decoded bodies of the text/calendar and application/ics parts of a message."""
    block, body = split_message(message)
    headers = parse_headers(block)
    ctype = content_type_of(headers)
    if ctype.is_multipart:
        boundary = ctype.param("boundary")
        if boundary:
            for part in split_multipart(body, boundary).parts:
                yield from calendar_parts(part)
        return
    if ctype.type in ("text/calendar", "application/ics"):
        cte = next((h.value for h in headers if h.is_named("Content-Transfer-Encoding")), None)
        yield decode_body(body, cte)


def from_message(message: bytes) -> Invite:
    """The invitation carried by a message (its first text/calendar or .ics part)."""
    for part in calendar_parts(message):
        return from_ics(part)
    raise InviteError("the message has no text/calendar or application/ics part")
