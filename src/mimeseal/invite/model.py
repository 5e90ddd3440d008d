"""The invitation model: an immutable ``Invite`` and its life cycle (RFC 5545, RFC 5546).

Every change returns a new ``Invite``; the iTIP bookkeeping that clients depend on (UID kept,
SEQUENCE bumped when a significant property changes, STATUS:CANCELLED on a whole-event cancel,
REPLY carrying exactly the replier) is done here rather than left to callers.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

import icalendar

from mimeseal.errors import InviteError
from mimeseal.limits import Limits, shown

Method = Literal[
    "REQUEST", "CANCEL", "REPLY", "PUBLISH", "ADD", "REFRESH", "COUNTER", "DECLINECOUNTER"
]
METHODS: tuple[Method, ...] = (
    "REQUEST", "CANCEL", "REPLY", "PUBLISH", "ADD", "REFRESH", "COUNTER", "DECLINECOUNTER",
)  # fmt: skip
PARTSTATS = ("NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED")
ROLES = ("CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT")
CUTYPES = ("INDIVIDUAL", "GROUP", "RESOURCE", "ROOM", "UNKNOWN")
STATUSES = ("TENTATIVE", "CONFIRMED", "CANCELLED")
TRANSPARENCIES = ("OPAQUE", "TRANSPARENT")
#: RFC 5546 §2.1.4: a change to any of these needs a new SEQUENCE.
SIGNIFICANT = ("start", "end", "duration", "rrule", "rdates", "exdates", "status")

When = datetime | date


def _check_address(address: str, what: str) -> str:
    address = address.strip()
    if address.lower().startswith("mailto:"):
        address = address[7:]
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c in address for c in ' \t\r\n<>,;"'):
        raise InviteError(f"{what}: {shown(address)!r} is not a bare e-mail address")
    return address


def _check_when(value: When, what: str) -> When:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InviteError(
                f"{what} is a naive datetime; give it a time zone (ZoneInfo('Europe/Berlin')) "
                "or use a date for an all-day event"
            )
        return value
    if isinstance(value, date):
        return value
    raise InviteError(f"{what} must be a datetime or a date, not {type(value).__name__}")


@dataclass(frozen=True)
class Person:
    """An organizer: a bare address and an optional display name (CN)."""

    address: str
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", _check_address(self.address, "organizer"))


@dataclass(frozen=True)
class Attendee:
    """An ATTENDEE with the parameters clients read (RFC 5545 §3.2)."""

    address: str
    name: str | None = None
    role: str = "REQ-PARTICIPANT"
    partstat: str = "NEEDS-ACTION"
    rsvp: bool = True
    cutype: str = "INDIVIDUAL"

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", _check_address(self.address, "attendee"))
        for label, value, allowed in (
            ("ROLE", self.role, ROLES),
            ("PARTSTAT", self.partstat, PARTSTATS),
            ("CUTYPE", self.cutype, CUTYPES),
        ):
            if value.upper() not in allowed:
                raise InviteError(
                    f"attendee {label}={shown(value)} is not one of {', '.join(allowed)}"
                )
            object.__setattr__(self, label.lower(), value.upper())

    def same_person(self, address: str) -> bool:
        return self.address.lower() == _check_address(address, "attendee").lower()


@dataclass(frozen=True)
class Alarm:
    """A display reminder ``before`` the start (VALARM, ACTION:DISPLAY)."""

    before: timedelta
    description: str = "Reminder"

    def __post_init__(self) -> None:
        if self.before < timedelta(0):
            raise InviteError("an alarm's 'before' must not be negative")


def _normalized_rrule(rule: str) -> str:
    """The RRULE in icalendar's canonical order, so equal rules compare equal."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if "FREQ=" not in text.upper():
        raise InviteError(f"RRULE {shown(rule)!r} has no FREQ= part (RFC 5545 §3.3.10)")
    try:
        return str(icalendar.vRecur.from_ical(text).to_ical().decode("ascii"))
    except (ValueError, TypeError, KeyError) as exc:
        raise InviteError(f"RRULE {shown(rule)!r} is not valid: {shown(exc, 200)}") from None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Invite:
    """One VEVENT sent with an iTIP method. Build with the constructor or ``from_ics``.

    ``start``/``end`` are timezone-aware datetimes (a ``ZoneInfo`` zone gives the event a
    TZID and a generated VTIMEZONE) or dates for all-day events; ``end`` and ``duration``
    exclude each other. ``uid`` is generated when not given and then kept for life.
    """

    method: Method
    organizer: Person
    summary: str | None = None
    start: When | None = None
    end: When | None = None
    duration: timedelta | None = None
    attendees: tuple[Attendee, ...] = ()
    description: str | None = None
    location: str | None = None
    url: str | None = None
    rrule: str | None = None
    rdates: tuple[When, ...] = ()
    exdates: tuple[When, ...] = ()
    recurrence_id: When | None = None
    alarms: tuple[Alarm, ...] = ()
    uid: str = field(default_factory=lambda: f"{uuid.uuid4()}@mimeseal")
    sequence: int = 0
    status: str | None = None
    transparency: str | None = None
    priority: int | None = None
    categories: tuple[str, ...] = ()
    comment: str | None = None
    dtstamp: datetime = field(default_factory=_utc_now)

    def __post_init__(self) -> None:
        method = str(self.method).upper()
        if method not in METHODS:
            raise InviteError(f"unknown iTIP method {shown(self.method)!r}; use one of {METHODS}")
        object.__setattr__(self, "method", method)
        if not isinstance(self.organizer, Person):
            raise InviteError("organizer must be a Person(address, name)")
        for label in ("start", "end", "recurrence_id"):
            value = getattr(self, label)
            if value is not None:
                _check_when(value, label)
        for label in ("rdates", "exdates"):
            object.__setattr__(self, label, tuple(getattr(self, label)))
            for value in getattr(self, label):
                _check_when(value, label)
        object.__setattr__(self, "attendees", tuple(self.attendees))
        object.__setattr__(self, "alarms", tuple(self.alarms))
        object.__setattr__(self, "categories", tuple(self.categories))
        if self.dtstamp.tzinfo is None:
            raise InviteError("dtstamp must be timezone-aware (it is written in UTC)")
        object.__setattr__(self, "dtstamp", self.dtstamp.astimezone(timezone.utc))
        self._check_shape()

    def _check_shape(self) -> None:
        """Rules that hold for every method (RFC 5545 §3.6.1, §3.8)."""
        if self.end is not None and self.duration is not None:
            raise InviteError("RFC 5545 §3.6.1: DTEND and DURATION cannot both be set")
        if self.start is not None and self.end is not None:
            if isinstance(self.start, datetime) != isinstance(self.end, datetime):
                raise InviteError("DTSTART and DTEND must both be dates or both be datetimes")
            if self.end <= self.start:
                raise InviteError("RFC 5545 §3.8.2.2: DTEND must be after DTSTART")
        if self.sequence < 0:
            raise InviteError("SEQUENCE must not be negative")
        if self.status is not None and self.status.upper() not in STATUSES:
            raise InviteError(f"STATUS {shown(self.status)} is not one of {', '.join(STATUSES)}")
        if self.transparency is not None and self.transparency.upper() not in TRANSPARENCIES:
            raise InviteError(f"TRANSP {shown(self.transparency)} is not OPAQUE or TRANSPARENT")
        if self.priority is not None and not 0 <= self.priority <= 9:
            raise InviteError("PRIORITY must be 0 to 9")
        if not self.uid or any(c in self.uid for c in "\r\n"):
            raise InviteError("UID must be a non-empty single-line string")
        if self.rrule is not None:
            object.__setattr__(self, "rrule", _normalized_rrule(self.rrule))
        if self.duration is not None and self.duration <= timedelta(0):
            raise InviteError("DURATION must be positive")

    # --- serialization (implemented in ics.py and message.py) --------------------------------

    @classmethod
    def from_ics(cls, data: bytes | str, *, limits: Limits | None = None) -> Invite:
        """Parse a stored calendar (ours or another program's); see :func:`ics.from_ics`."""
        from mimeseal.invite.ics import from_ics

        return from_ics(data, limits=limits)

    @classmethod
    def from_message(cls, message: bytes, *, limits: Limits | None = None) -> Invite:
        """The invitation in a message's text/calendar or .ics part."""
        from mimeseal.invite.ics import from_message

        return from_message(message, limits=limits)

    def to_ics(self) -> bytes:
        """The VCALENDAR bytes, after checking the method's iTIP rules."""
        from mimeseal.invite.ics import to_ics

        return to_ics(self)

    def to_message(self, **options: Any) -> bytes:
        """The invitation e-mail; options as :func:`mimeseal.invite.message.to_message`."""
        from mimeseal.invite.message import to_message

        return to_message(self, **options)

    # --- life cycle --------------------------------------------------------------------------

    def with_changes(self, **changes: object) -> Invite:
        """A copy with ``changes``, a new DTSTAMP, and nothing else done for the caller."""
        changes.setdefault("dtstamp", _utc_now())
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def update(self, **changes: object) -> Invite:
        """A REQUEST with ``changes``; SEQUENCE goes up when a significant property changes."""
        significant = any(
            name in SIGNIFICANT and getattr(self, name) != value for name, value in changes.items()
        )
        sequence = self.sequence + 1 if significant else self.sequence
        changes.setdefault("method", "REQUEST")
        return self.with_changes(sequence=sequence, **changes)

    def cancel(self, attendees: tuple[str, ...] | list[str] | None = None) -> Invite:
        """A CANCEL: the whole event (STATUS:CANCELLED), or only for some attendees."""
        if attendees is None:
            return self.with_changes(
                method="CANCEL", status="CANCELLED", sequence=self.sequence + 1, alarms=()
            )
        removed = tuple(a for a in self.attendees if any(a.same_person(x) for x in attendees))
        if len(removed) != len(attendees):
            known = ", ".join(a.address for a in self.attendees)
            raise InviteError(f"cancel(attendees=…) names someone not invited; invited: {known}")
        return self.with_changes(
            method="CANCEL", attendees=removed, sequence=self.sequence + 1, alarms=()
        )

    def without_attendees(self, addresses: tuple[str, ...] | list[str]) -> Invite:
        """The organizer's updated REQUEST for everyone still invited after a partial cancel."""
        kept = tuple(a for a in self.attendees if not any(a.same_person(x) for x in addresses))
        return self.with_changes(method="REQUEST", attendees=kept, sequence=self.sequence + 1)

    def reply(self, attendee: str, partstat: str, comment: str | None = None) -> Invite:
        """The REPLY of one attendee: only that ATTENDEE, with PARTSTAT; SEQUENCE unchanged."""
        matches = [a for a in self.attendees if a.same_person(attendee)]
        if not matches:
            raise InviteError(f"{attendee} is not an attendee of this event; only they can reply")
        if partstat.upper() not in ("ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED"):
            raise InviteError("a REPLY's PARTSTAT is ACCEPTED, DECLINED, TENTATIVE or DELEGATED")
        replier = dataclasses.replace(matches[0], partstat=partstat.upper(), rsvp=False)
        return self.with_changes(
            method="REPLY", attendees=(replier,), comment=comment, alarms=(), status=None
        )

    def occurrence(self, recurrence_id: When) -> Invite:
        """This event's instance at ``recurrence_id``, to change or cancel on its own."""
        if self.rrule is None and not self.rdates:
            raise InviteError("occurrence(): the event does not recur (no RRULE or RDATE)")
        _check_when(recurrence_id, "recurrence_id")
        return self.with_changes(recurrence_id=recurrence_id, rrule=None, rdates=(), exdates=())
