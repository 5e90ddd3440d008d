"""Rules for calendar invitations (RFC 5545, RFC 5546 iTIP, RFC 6047 iMIP) and what Outlook,
Exchange and Gmail need to show them as meetings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from mimeseal.check.profiles import Profile
from mimeseal.check.rules_base import Hit, Rule, decoded, in_smime_region, memo, smime
from mimeseal.check.view import MessageView, Part
from mimeseal.errors import InviteError
from mimeseal.invite import from_ics, validate
from mimeseal.invite.ics import ics_text

CALENDAR_TYPES = ("text/calendar", "application/ics")
_TIME_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE", "DUE")
_EVENTS = (("VEVENT",), ("VTODO",))
_OUTLOOK_RRULE_PARTS = {"FREQ", "BYMONTH", "BYDAY"}


@dataclass(frozen=True)
class Prop:
    """One content line, unfolded: name and parameter names upper-cased."""

    name: str
    params: dict[str, str]
    value: str
    line: int | None
    within: tuple[str, ...]  # enclosing components, outermost first


@dataclass(frozen=True)
class Calendar:
    part: Part
    text: bytes | None  # decoded body, None when the transfer encoding does not decode
    props: tuple[Prop, ...]

    def find(self, name: str) -> list[Prop]:
        return [p for p in self.props if p.name == name]

    @property
    def method(self) -> str | None:
        found = [p for p in self.props if p.name == "METHOD" and p.within == ("VCALENDAR",)]
        return found[0].value.strip().upper() if found else None


def _split_unquoted(text: str, separator: str) -> list[str]:
    return re.findall(rf'(?:"[^"]*"|[^"{separator}])+', text) or [text]


def _content_line(text: str, line: int | None, within: tuple[str, ...]) -> Prop:
    match = re.match(r'((?:"[^"]*"|[^":])*):?(.*)', text, re.DOTALL)
    head, value = (match[1], match[2]) if match else (text, "")
    name, *raw_params = _split_unquoted(head, ";")
    params = {}
    for item in raw_params:
        key, _, param = item.partition("=")
        params[key.strip().upper()] = param.strip().strip('"')
    return Prop(name.strip().upper(), params, value, line, within)


def parse_calendar(text: str, first_line: int | None) -> tuple[Prop, ...]:
    """Content lines of an iCalendar text, unfolded (RFC 5545 §3.1), with component nesting."""
    props: list[Prop] = []
    stack: list[str] = []
    within: tuple[str, ...] = ()  # tuple(stack), rebuilt only when the stack changes
    pending: tuple[list[str], int] | None = None  # pieces joined once: no quadratic appends
    physical = re.split(r"\r\n|\r|\n", text)

    def flush() -> None:
        nonlocal within
        if pending is None:
            return
        pieces, index = pending
        line = None if first_line is None else first_line + index
        prop = _content_line("".join(pieces), line, within)
        if prop.name == "BEGIN":
            stack.append(prop.value.strip().upper())
            within = tuple(stack)
        elif prop.name == "END" and stack:
            stack.pop()
            within = tuple(stack)
        else:
            props.append(prop)

    for index, raw in enumerate(physical):
        if raw[:1] in (" ", "\t") and pending is not None:
            pending[0].append(raw[1:])
            continue
        flush()
        pending = ([raw], index) if raw.strip() else None
    flush()
    return tuple(props)


def calendars(view: MessageView) -> list[Calendar]:
    """The text/calendar and application/ics parts, parsed (memoized)."""

    def compute() -> list[Calendar]:
        found = []
        for part in view.leaves():
            if part.content_type.type not in CALENDAR_TYPES:
                continue
            data = decoded(part)
            if data is None:
                found.append(Calendar(part, None, ()))
                continue
            direct = part.transfer_encoding in ("7bit", "8bit", "binary")
            text = data.decode("utf-8", "replace")
            ics_text(text, view.limits)  # LimitError for a calendar beyond the limits
            found.append(
                Calendar(part, data, parse_calendar(text, part.body_line if direct else None))
            )
        return found

    return memo(view, "calendars", compute)


def _calendar_method_mismatch(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for cal in calendars(view):
        if cal.part.content_type.type != "text/calendar" or cal.text is None:
            continue
        param = (cal.part.content_type.param("method") or "").strip().upper()
        method = cal.method
        if not param:
            problem = "the text/calendar Content-Type has no method= parameter"
        elif method is None:
            problem = f"method={param} is set but the calendar has no METHOD property"
        elif param != method:
            problem = f"Content-Type says method={param} but the calendar says METHOD:{method}"
        else:
            continue
        yield Hit(problem, header="Content-Type", part=cal.part.path)


def _itip_missing_property(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for cal in calendars(view):
        path = cal.part.path
        if cal.text is None:
            yield Hit("the calendar part's transfer encoding does not decode", part=path)
            continue
        in_event = {p.name for p in cal.props if p.within[-1:] == ("VEVENT",)}
        missing = [n for n in ("UID", "DTSTAMP", "ORGANIZER") if in_event and n not in in_event]
        for name in missing:
            yield Hit(f"the VEVENT has no {name}, which every iTIP method requires", part=path)
        if cal.method is None and cal.part.content_type.type != "text/calendar":
            continue  # a plain .ics file, not an iTIP message: only its syntax matters
        if missing or any(_floating(cal)) or any(_dtstamp_not_utc_in(cal)):
            continue  # already reported; the model cannot hold such a calendar
        try:
            validate(from_ics(cal.text, limits=view.limits))
        except InviteError as exc:
            yield Hit(str(exc), part=path)


def _rrule_problem(value: str) -> str | None:
    parts = dict(item.partition("=")[::2] for item in value.upper().split(";") if item)
    if parts.get("FREQ") != "YEARLY":
        return "is not FREQ=YEARLY"
    if "BYMONTH" not in parts:
        return "has no BYMONTH"
    extra = sorted(set(parts) - _OUTLOOK_RRULE_PARTS)
    if extra:
        return f"uses {', '.join(extra)}, which Outlook ignores"
    return None


def _vtimezone_rdate(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for cal in calendars(view):
        for prop in cal.props:
            if "VTIMEZONE" not in prop.within:
                continue
            if prop.name == "RDATE":
                yield Hit(
                    f"a VTIMEZONE {prop.within[-1]} block uses RDATE:{prop.value[:40]}",
                    part=cal.part.path,
                    line=prop.line,
                )
            elif prop.name == "RRULE":
                problem = _rrule_problem(prop.value)
                if problem:
                    yield Hit(
                        f"a VTIMEZONE RRULE:{prop.value} {problem}",
                        part=cal.part.path,
                        line=prop.line,
                    )


def _invite_in_smime(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for cal in calendars(view):
        if in_smime_region(view, cal.part.path):
            yield Hit(
                f"the {cal.part.content_type.type} part is inside an S/MIME signature",
                part=cal.part.path,
            )
    for item in smime(view).entities:
        if item.carries_calendar:
            yield Hit(
                "an opaque S/MIME signature carries a text/calendar part",
                part=item.entity.path,
            )


def _dtstamp_not_utc_in(cal: Calendar) -> Iterator[Hit]:
    for prop in cal.find("DTSTAMP"):
        if not prop.value.strip().upper().endswith("Z") or "TZID" in prop.params:
            yield Hit(
                f"DTSTAMP:{prop.value.strip()} is not in UTC", part=cal.part.path, line=prop.line
            )


def _dtstamp_not_utc(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for cal in calendars(view):
        yield from _dtstamp_not_utc_in(cal)


def _floating(cal: Calendar) -> Iterator[Hit]:
    for prop in cal.props:
        if prop.name not in _TIME_PROPERTIES or prop.within[-1:] not in _EVENTS:
            continue
        if "TZID" in prop.params or prop.params.get("VALUE", "").upper() in ("DATE", "PERIOD"):
            continue
        for item in prop.value.split(","):
            item = item.strip().upper()
            if "T" in item and not item.endswith("Z"):
                yield Hit(
                    f"{prop.name}:{item} is a floating time (no TZID, not UTC)",
                    part=cal.part.path,
                    line=prop.line,
                )
                break


def _floating_time(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for cal in calendars(view):
        yield from _floating(cal)


def _is_invitation_root(view: MessageView, path: str) -> bool:
    part = view.part(path)
    if part is None:
        return False
    kind = part.content_type.type
    if kind == "text/calendar":
        return True
    if kind == "multipart/signed" and part.children:
        return _is_invitation_root(view, part.children[0])
    if kind == "multipart/mixed" and part.children:
        first = view.part(part.children[0])
        return first is not None and _alternative_with_calendar(view, first)
    return _alternative_with_calendar(view, part)


def _alternative_with_calendar(view: MessageView, part: Part) -> bool:
    if part.content_type.type != "multipart/alternative":
        return False
    kinds = [p.content_type.type for p in map(view.part, part.children) if p is not None]
    return "text/calendar" in kinds


def _calendar_not_first_alternative(view: MessageView, profile: Profile) -> Iterator[Hit]:
    invitations = [c for c in calendars(view) if c.part.content_type.type == "text/calendar"]
    if invitations and view.parts and not _is_invitation_root(view, ""):
        yield Hit(
            "the text/calendar part is not where clients look for an invitation: the first "
            "child of a multipart/mixed must be a multipart/alternative that contains it",
            part=invitations[0].part.path,
        )


RULES = (
    Rule(
        id="calendar-method-mismatch",
        title="text/calendar method does not match METHOD",
        default="error",
        meaning="A text/calendar part's method= parameter is missing, or differs from the "
        "calendar's METHOD property (or the calendar has none).",
        why="RFC 6047 §2.4 requires method= equal to METHOD; Outlook and Gmail show such "
        "messages as a plain .ics attachment instead of a meeting.",
        fix="Write 'Content-Type: text/calendar; method=REQUEST; charset=UTF-8' with the same "
        "method as the METHOD line (mimeseal.invite.to_message does).",
        check=_calendar_method_mismatch,
    ),
    Rule(
        id="itip-missing-property",
        title="Invitation breaks an iTIP rule",
        default="error",
        meaning="The calendar cannot be read, or breaks an RFC 5546 §3.2 rule for its method "
        "(ORGANIZER, UID, DTSTAMP; REQUEST needs DTSTART, SUMMARY and an ATTENDEE; REPLY "
        "exactly one ATTENDEE; CANCEL an incremented SEQUENCE...).",
        why="Clients ignore or misapply iTIP messages that break these rules: the invitation "
        "does not appear, or an update or cancellation does not reach the right event.",
        fix="Build invitations with mimeseal.invite (Invite.update/cancel/reply apply the "
        "rules), or add the missing property.",
        check=_itip_missing_property,
    ),
    Rule(
        id="vtimezone-rdate",
        title="VTIMEZONE Outlook misreads",
        default="error",
        meaning="A VTIMEZONE uses RDATE, or an RRULE that is not FREQ=YEARLY with "
        "BYMONTH/BYDAY only.",
        why="Outlook reads only TZID, DTSTART, RRULE, TZOFFSETFROM and TZOFFSETTO and ignores "
        "RDATE, so events are shifted by an hour (DESIGN.md §3; the icalendar package's "
        "add_missing_timezones emits RDATE lists).",
        fix="Generate RRULE-based VTIMEZONEs (mimeseal.invite.vtimezone does, from the zone's "
        "POSIX rule) or write times in UTC.",
        check=_vtimezone_rdate,
    ),
    Rule(
        id="invite-in-smime",
        title="Invitation inside an S/MIME signature",
        default="warning",
        meaning="A text/calendar part sits inside an S/MIME-signed structure.",
        why="Outlook treats multipart/signed mail as a signed note; whether a signed invitation "
        "is still shown as a meeting is unconfirmed for every client (DESIGN.md §3).",
        fix="Sign invitations with DKIM only (the safe default), not S/MIME.",
        check=_invite_in_smime,
    ),
    Rule(
        id="dtstamp-not-utc",
        title="DTSTAMP not in UTC",
        default="error",
        meaning="A DTSTAMP value is not a UTC time (ending in Z).",
        why="RFC 5545 §3.8.7.2 requires DTSTAMP in UTC; clients use it to order updates and "
        "replies, and strict parsers (Exchange) reject the calendar.",
        fix="Write DTSTAMP as YYYYMMDDTHHMMSSZ in UTC.",
        check=_dtstamp_not_utc,
    ),
    Rule(
        id="floating-time",
        title="Floating time in an event",
        default="error",
        meaning="DTSTART, DTEND, RECURRENCE-ID, RDATE, EXDATE or DUE has a date-time with "
        "neither TZID nor a trailing Z.",
        why="RFC 5545 §3.3.5: a floating time means 'the same wall-clock time everywhere', so "
        "each attendee sees the meeting at a different instant.",
        fix="Give the time a TZID (with a VTIMEZONE) or write it in UTC with Z.",
        check=_floating_time,
    ),
    Rule(
        id="calendar-not-first-alternative",
        title="Invitation not where clients look for it",
        default="warning",
        meaning="The text/calendar part is not in the shape clients recognise: text/calendar "
        "as the whole message, or inside the multipart/alternative that is the root or the "
        "first child of a multipart/mixed.",
        why="Exchange and Gmail show an invitation as a meeting only in that structure "
        "(RFC 6047 §4 examples, DESIGN.md §3); elsewhere it is just an attachment.",
        fix="Put text/plain, text/html and text/calendar in one multipart/alternative, first "
        "inside multipart/mixed (mimeseal.invite.to_message does).",
        check=_calendar_not_first_alternative,
    ),
)
