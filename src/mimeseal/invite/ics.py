"""iCalendar text for an ``Invite`` and back, through the ``icalendar`` package.

Zoned times keep their TZID only when the zone's current rule can be written as the
RRULE-based VTIMEZONE Outlook understands (:mod:`mimeseal.invite.vtimezone`); otherwise they
are written in UTC, which every client shows correctly.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from mimeseal.errors import InviteError
from mimeseal.invite.itip import validate
from mimeseal.invite.model import Alarm, Attendee, Invite, Person, When
from mimeseal.invite.vtimezone import vtimezone_for
from mimeseal.limits import Limits, PartBudget, resolve
from mimeseal.limits import check as check_limit
from mimeseal.mime import (
    ContentType,
    content_type_of,
    first_header,
    parse_headers,
    split_message,
    split_multipart,
)
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


def _zoned(value: Any, params: Any) -> When:
    """``value``, refused when it is floating: no zone, or a TZID that is neither an
    IANA/Windows zone nor defined by a VTIMEZONE (icalendar leaves those times floating)."""
    if isinstance(value, datetime):
        tzid = str(params.get("TZID", "") if params else "").strip()
        if value.tzinfo is None:
            if tzid:
                raise InviteError(
                    f"TZID={tzid[:60]} is neither a known time zone nor defined by a VTIMEZONE in "
                    "the calendar; add its VTIMEZONE or write the time in UTC"
                )
            raise InviteError(
                "the calendar has a floating time (no TZID and no Z); mimeseal needs zoned times"
            )
    return value  # type: ignore[no-any-return]


def _when(prop: Any) -> When | None:
    return None if prop is None else _zoned(prop.dt, prop.params)


def _many(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _whens(props: Any) -> tuple[When, ...]:
    found: list[When] = []
    for prop in _many(props):
        found += [_zoned(item.dt, prop.params) for item in prop.dts]
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


_UNFOLD = re.compile(r"(?:(?<!\n)\r\n|(?<![\r\n])\n)(?:\r?\n)*[ \t]")  # as icalendar unfolds
_COMPONENT_LINE = re.compile(r"^(BEGIN|END)[;:]", re.IGNORECASE | re.MULTILINE)


def ics_text(data: bytes | str, limits: Limits | None = None) -> str:
    """The calendar as text, after the size and shape checks every parser relies on.

    Bytes must be UTF-8 (RFC 5545 §3.1.4). Beyond ``limits`` (octets, content lines,
    components, nesting) raises :class:`~mimeseal.errors.LimitError`: the lines are counted
    on the unfolded text, exactly as the icalendar package will see them, before it parses.
    """
    limits = resolve(limits)
    check_limit(limits, "max_ics_bytes", len(data), "octets of iCalendar data")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InviteError(
                f"the calendar is not valid UTF-8 (octet {exc.start}); RFC 5545 §3.1.4 requires "
                "UTF-8 — re-encode it, or pass text decoded with its real charset"
            ) from None
    else:
        text = data
        check_limit(limits, "max_ics_bytes", len(text.encode("utf-8", "replace")), "octets")
    unfolded = _UNFOLD.sub("", text)
    components = depth = deepest = 0
    for match in _COMPONENT_LINE.finditer(unfolded):
        if match[1].upper() == "BEGIN":
            components, depth = components + 1, depth + 1
            deepest = max(deepest, depth)
        else:
            depth = max(depth - 1, 0)
    check_limit(limits, "max_ics_components", components, "components in the calendar")
    check_limit(limits, "max_ics_depth", deepest, "nesting of calendar components")
    lines = unfolded.count("\n") + 1
    if lines > limits.max_ics_properties:  # blank lines are not properties: count exactly
        lines = sum(1 for line in unfolded.split("\n") if line.rstrip("\r"))
        check_limit(limits, "max_ics_properties", lines, "content lines in the calendar")
    return text


_UTC_VALUE = re.compile(r"\d{8}T\d{6}Z(?:,\d{8}T\d{6}Z)*")


def _tzid_on_utc(unfolded: str) -> str | None:
    """The first content line whose date-time has both a TZID and the UTC suffix Z.

    One split per line, no backtracking regex: the value is what follows the last colon
    (date-times have none), the parameters what comes before it.
    """
    for line in unfolded.split("\n"):
        head, colon, value = line.rstrip("\r").rpartition(":")
        if colon and ";TZID=" in head.upper() and _UTC_VALUE.fullmatch(value):
            return head
    return None


def _parse(data: bytes | str, limits: Limits | None) -> Any:
    text = ics_text(data, limits)
    contradiction = _tzid_on_utc(_UNFOLD.sub("", text))
    if contradiction is not None:  # icalendar would silently drop the Z for a known zone
        raise InviteError(
            f"{contradiction[:60]} is a UTC time (…Z) with a TZID; RFC 5545 §3.2.19 forbids "
            "a TZID on UTC times, and which of the two is meant is unclear"
        )
    try:
        return icalendar.Calendar.from_ical(text)
    except Exception as exc:  # icalendar raises ValueError and others for broken input
        raise InviteError(f"not a valid iCalendar object: {str(exc)[:200]}") from None


def from_ics(data: bytes | str, *, limits: Limits | None = None) -> Invite:
    """Parse an iCalendar object (ours or another program's) into an ``Invite``.

    With several VEVENTs (a recurring event and its overridden instances) the master event
    (no RECURRENCE-ID) is returned. Raises :class:`InviteError` for unusable input and
    :class:`~mimeseal.errors.LimitError` for input beyond ``limits``.
    """
    return _from_calendar(_parse(data, limits))


def _from_calendar(calendar: Any) -> Invite:
    try:
        events = list(calendar.walk("VEVENT"))
    except Exception as exc:
        raise InviteError(f"the calendar cannot be read: {type(exc).__name__}") from None
    if not events:
        raise InviteError("the calendar has no VEVENT")
    masters = [e for e in events if e.get("recurrence-id") is None]
    event = (masters or events)[0]
    for component in (calendar, event):  # icalendar skips broken lines and keeps going
        for _, error in getattr(component, "errors", None) or ():
            raise InviteError(
                f"the {component.name} has a line that cannot be read ({str(error)[:200]}); "
                "is a long line folded without the leading space of RFC 5545 §3.1?"
            )
    try:
        return _invite_from_event(calendar, event)
    except InviteError:
        raise
    except Exception as exc:
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        raise InviteError(f"the VEVENT cannot be read: {reason}") from None


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


def calendar_parts(
    message: bytes, limits: Limits | None = None
) -> Iterator[tuple[ContentType, bytes]]:
    """(content type, decoded body) of each text/calendar and application/ics part.

    MIME depth, part count and header sizes are bounded by ``limits``.
    """
    yield from _calendar_parts(message, PartBudget(limits), 0)


def _calendar_parts(
    entity: bytes, budget: PartBudget, depth: int
) -> Iterator[tuple[ContentType, bytes]]:
    budget.enter(depth)
    block, body = split_message(entity)
    headers = parse_headers(block, budget.limits)
    ctype = content_type_of(headers)
    if ctype.is_multipart:
        boundary = ctype.param("boundary")
        if boundary:
            parts = split_multipart(
                body, boundary, max_parts=budget.remaining(), used=budget.parts
            ).parts
            budget.add(len(parts))
            for part in parts:
                yield from _calendar_parts(part, budget, depth + 1)
        return
    if ctype.type in ("text/calendar", "application/ics"):
        yield ctype, decode_body(body, first_header(headers, "Content-Transfer-Encoding"))


def from_message(message: bytes, *, limits: Limits | None = None) -> Invite:
    """The invitation carried by a message (its first text/calendar or .ics part).

    A ``method=`` parameter that disagrees with the calendar's METHOD raises
    :class:`InviteError` (RFC 6047 §2.4: they must match; which one is meant is unknowable).
    """
    limits = resolve(limits)
    check_limit(limits, "max_message_bytes", len(message), "message octets")
    for ctype, body in calendar_parts(message, limits):
        calendar = _parse(_decoded_text(ctype, body), limits)
        declared = ctype.param("method")
        if declared is not None:
            actual = calendar.get("method")
            if actual is None or str(actual).strip().upper() != declared.strip().upper():
                raise InviteError(
                    f"the {ctype.type} part says method={declared[:40]} but the calendar's METHOD "
                    f"is {str(actual)[:40] if actual is not None else 'missing'}; RFC 6047 §2.4 "
                    "requires them to match (the message was built wrongly or altered)"
                )
        return _from_calendar(calendar)
    raise InviteError("the message has no text/calendar or application/ics part")


def _decoded_text(ctype: ContentType, body: bytes) -> bytes | str:
    """The body as text when the part names a charset other than UTF-8 (RFC 6047 §2.3)."""
    charset = (ctype.param("charset") or "utf-8").strip().lower()
    if charset in ("utf-8", "utf8", "us-ascii"):
        return body
    try:
        return body.decode(charset)
    except (LookupError, ValueError):  # no such codec, bad octets, a NUL in the name…
        raise InviteError(
            f"the calendar part is not valid {charset[:40]!r} text; RFC 6047 §2.3 recommends UTF-8"
        ) from None
