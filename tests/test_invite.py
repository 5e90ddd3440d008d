"""Invitations: the model, the iTIP rules of every method, the life cycle, ics and messages."""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

from mimeseal import mime
from mimeseal.errors import InviteError, LimitError
from mimeseal.invite import (
    Alarm,
    Attendee,
    Invite,
    Person,
    from_ics,
    from_message,
    to_ics,
    to_message,
    validate,
)
from mimeseal.limits import DEPTH_CEILING, Limits

BERLIN = ZoneInfo("Europe/Berlin")
ALICE = Person("alice@example.com", "Alice Example")
BOB = Attendee("bob@example.org", "Bob")
CAROL = Attendee("carol@example.net", "Carol", role="OPT-PARTICIPANT")
START = datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)


def _calendar(data: bytes) -> Any:
    """icalendar's types are a union of every value type; tests read them dynamically."""
    return icalendar.Calendar.from_ical(data)


def _email(raw: bytes) -> Any:
    return email.message_from_bytes(raw, policy=email.policy.default)


def request(**changes: Any) -> Invite:
    fields: dict[str, Any] = {
        "method": "REQUEST",
        "organizer": ALICE,
        "summary": "Quarterly review",
        "start": START,
        "end": START + timedelta(hours=1),
        "attendees": (BOB, CAROL),
        "location": "Room 1",
    }
    fields.update(changes)
    return Invite(**fields)


# --- every method: a valid one builds, each rule has a failing case ---------------------------

VALID: dict[str, Any] = {
    "REQUEST": lambda: request(),
    "CANCEL": lambda: request().cancel(),
    "REPLY": lambda: request().reply("bob@example.org", "ACCEPTED"),
    "PUBLISH": lambda: request(method="PUBLISH", attendees=()),
    "ADD": lambda: request(method="ADD", sequence=1),
    "REFRESH": lambda: request(method="REFRESH", attendees=(BOB,), summary=None),
    "COUNTER": lambda: request(method="COUNTER", attendees=(BOB,)),
    "DECLINECOUNTER": lambda: request(method="DECLINECOUNTER", attendees=(BOB,)),
}


@pytest.mark.parametrize("method", sorted(VALID))
def test_every_method_builds_a_valid_calendar(method: str) -> None:
    invite = VALID[method]()
    assert invite.method == method
    ics = to_ics(invite)
    parsed = _calendar(ics)
    assert str(parsed["METHOD"]) == method
    event = parsed.walk("VEVENT")[0]
    for required in ("UID", "DTSTAMP", "ORGANIZER"):
        assert required in event
    assert event["DTSTAMP"].dt.tzinfo is not None
    assert event["DTSTAMP"].to_ical().endswith(b"Z")  # DTSTAMP is UTC


RULES = [
    (lambda: request(start=None), "DTSTART is required"),
    (lambda: request(summary=None), "SUMMARY is required"),
    (lambda: request(attendees=()), "at least one ATTENDEE"),
    (lambda: request(method="PUBLISH"), "must not be present in a PUBLISH"),
    (lambda: request(method="REPLY"), "exactly one ATTENDEE"),
    (lambda: request(method="REPLY", attendees=(BOB,)), "PARTSTAT other than NEEDS-ACTION"),
    (lambda: request(method="CANCEL"), "SEQUENCE must be greater than 0"),
    (lambda: request(method="CANCEL", sequence=1, status="CONFIRMED"), "must be CANCELLED"),
    (lambda: request(method="ADD"), "SEQUENCE must be greater than 0"),
    (lambda: request(method="REFRESH"), "exactly one ATTENDEE"),
    (lambda: request(method="REFRESH", attendees=(BOB,), rrule="FREQ=DAILY"), "RRULE"),
    (lambda: request(method="COUNTER", attendees=()), "at least one ATTENDEE"),
    (lambda: request(method="DECLINECOUNTER", attendees=()), "at least one ATTENDEE"),
    (lambda: request().cancel().with_changes(alarms=(Alarm(timedelta(minutes=5)),)), "VALARM"),
]


@pytest.mark.parametrize(("make", "rule"), RULES)
def test_each_itip_rule_has_a_failing_case(make: Any, rule: str) -> None:
    with pytest.raises(InviteError, match=rule) as info:
        validate(make())
    assert "RFC 5546 §3.2" in str(info.value)  # names the rule's section and the method


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start": datetime(2026, 12, 1, 10, 0)}, "naive datetime"),
        ({"end": START}, "DTEND must be after DTSTART"),
        ({"duration": timedelta(hours=1)}, "cannot both be set"),
        ({"method": "INVITE"}, "unknown iTIP method"),
        ({"status": "MAYBE"}, "STATUS"),
        ({"priority": 12}, "PRIORITY"),
        ({"rrule": "COUNT=3"}, "FREQ"),
        ({"end": date(2026, 12, 2)}, "both be dates or both be datetimes"),
    ],
)
def test_shape_errors(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InviteError, match=message):
        request(**changes)


def test_bad_people() -> None:
    with pytest.raises(InviteError, match="bare e-mail address"):
        Person("Alice <alice@example.com>")
    with pytest.raises(InviteError, match="PARTSTAT"):
        Attendee("x@example.com", partstat="MAYBE")


# --- life cycle: SEQUENCE and UID rules --------------------------------------------------------


def test_update_bumps_sequence_only_for_significant_changes() -> None:
    first = request()
    retitled = first.update(summary="Quarterly review (agenda attached)")
    assert retitled.sequence == 0
    assert retitled.uid == first.uid
    moved = retitled.update(start=START + timedelta(days=1), end=START + timedelta(days=1, hours=1))
    assert moved.sequence == 1
    assert moved.uid == first.uid
    assert moved.dtstamp >= first.dtstamp
    for change in ({"rrule": "FREQ=WEEKLY;COUNT=4"}, {"status": "TENTATIVE"}):
        assert moved.update(**change).sequence == 2


def test_update_cancel_reply_chain() -> None:
    first = request()
    moved = first.update(start=START + timedelta(hours=2), end=START + timedelta(hours=3))
    cancelled = moved.cancel()
    assert (cancelled.method, cancelled.status, cancelled.sequence) == ("CANCEL", "CANCELLED", 2)
    assert cancelled.uid == first.uid
    assert {a.address for a in cancelled.attendees} == {"bob@example.org", "carol@example.net"}
    answer = moved.reply("BOB@example.org", "declined", comment="On holiday")
    assert answer.method == "REPLY"
    assert answer.sequence == moved.sequence  # a reply never changes SEQUENCE
    assert [(a.address, a.partstat) for a in answer.attendees] == [("bob@example.org", "DECLINED")]
    assert answer.comment == "On holiday"
    to_ics(answer)
    with pytest.raises(InviteError, match="not an attendee"):
        moved.reply("mallory@example.com", "ACCEPTED")


def test_partial_cancel_removes_only_named_attendees() -> None:
    first = request()
    cancel = first.cancel(attendees=["carol@example.net"])
    assert cancel.method == "CANCEL"
    assert cancel.status is None  # the event goes on for the others
    assert [a.address for a in cancel.attendees] == ["carol@example.net"]
    remaining = first.without_attendees(["carol@example.net"])
    assert [a.address for a in remaining.attendees] == ["bob@example.org"]
    assert remaining.sequence == cancel.sequence == 1
    with pytest.raises(InviteError, match="not invited"):
        first.cancel(attendees=["zed@example.com"])


def test_single_occurrence_of_a_recurring_event() -> None:
    weekly = request(rrule="FREQ=WEEKLY;COUNT=6")
    second = START + timedelta(weeks=1)
    instance = weekly.occurrence(second)
    assert instance.recurrence_id == second
    assert instance.rrule is None
    moved = instance.update(start=second + timedelta(hours=1), end=second + timedelta(hours=2))
    assert moved.sequence == 1
    parsed = _calendar(to_ics(moved)).walk("VEVENT")[0]
    assert parsed["RECURRENCE-ID"].dt == second
    cancelled = instance.cancel()
    assert cancelled.recurrence_id == second
    with pytest.raises(InviteError, match="does not recur"):
        request().occurrence(second)


# --- ics: time zones, round trips, a second parser ---------------------------------------------


def test_zoned_times_get_an_outlook_style_vtimezone() -> None:
    ics = to_ics(request()).decode()
    assert "BEGIN:VTIMEZONE" in ics
    assert "TZID:Europe/Berlin" in ics
    assert "DTSTART;TZID=Europe/Berlin:20261201T100000" in ics
    assert "RDATE" not in ics
    assert "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU" in ics
    assert all(len(line) <= 75 for line in ics.split("\r\n"))
    assert "\n" not in ics.replace("\r\n", "")


def test_all_day_and_utc_events() -> None:
    all_day = request(start=date(2026, 12, 24), end=date(2026, 12, 26))
    ics = to_ics(all_day).decode()
    assert "DTSTART;VALUE=DATE:20261224" in ics
    assert "VTIMEZONE" not in ics
    utc = request(start=START.astimezone(timezone.utc), end=None, duration=timedelta(minutes=30))
    text = to_ics(utc).decode()
    assert "DTSTART:20261201T090000Z" in text
    assert "DURATION:PT30M" in text


def test_zone_without_a_yearly_rule_falls_back_to_utc() -> None:
    casablanca = datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Africa/Casablanca"))
    ics = to_ics(request(start=casablanca, end=casablanca + timedelta(hours=1))).decode()
    assert "VTIMEZONE" not in ics
    assert f"DTSTART:{casablanca.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}" in ics


def test_second_independent_parser_reads_what_we_write() -> None:
    invite = request(
        rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=5",
        alarms=(Alarm(timedelta(minutes=15)),),
        description="Agenda:\n1. Numbers\n2. Zürich office; costs, etc.",
    )
    parsed = vobject.readOne(to_ics(invite).decode("utf-8"))
    event = parsed.vevent
    assert event.uid.value == invite.uid
    assert event.summary.value == "Quarterly review"
    assert event.description.value == invite.description
    assert event.dtstart.value == START
    assert event.dtstart.value.utcoffset() == timedelta(hours=1)
    assert len(event.attendee_list) == 2
    assert parsed.method.value == "REQUEST"
    occurrences = list(event.getrruleset())
    assert len(occurrences) == 5


def test_round_trip_of_a_rich_invite() -> None:
    invite = request(
        rrule="COUNT=5;FREQ=WEEKLY",
        exdates=(START + timedelta(weeks=2),),
        alarms=(Alarm(timedelta(minutes=10), "Soon"),),
        categories=("Finance", "Q4"),
        priority=5,
        transparency="OPAQUE",
        status="CONFIRMED",
        url="https://example.com/agenda",
        description="Line one\nLine two; with, punctuation",
        sequence=3,
    )
    assert from_ics(to_ics(invite)) == invite


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=60)


@settings(max_examples=60, deadline=None)
@given(
    summary=TEXT,
    description=st.none() | TEXT,
    minutes=st.integers(min_value=0, max_value=60 * 24 * 365 * 3),
    length=st.integers(min_value=1, max_value=600),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]),
    sequence=st.integers(min_value=0, max_value=50),
    rsvp=st.booleans(),
)
def test_round_trip_property(
    summary: str,
    description: str | None,
    minutes: int,
    length: int,
    zone: str,
    sequence: int,
    rsvp: bool,
) -> None:
    start = (datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=minutes)).astimezone(
        ZoneInfo(zone)
    )
    invite = Invite(
        method="REQUEST",
        organizer=ALICE,
        summary=summary,
        description=description,
        start=start,
        end=start + timedelta(minutes=length),
        attendees=(Attendee("bob@example.org", "Bob Ø", rsvp=rsvp),),
        sequence=sequence,
    )
    assert from_ics(to_ics(invite)) == invite


def test_from_ics_reads_another_programs_calendar() -> None:
    outlook_like = (
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:Microsoft Exchange Server 2010\r\n"
        "VERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\n"
        "BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\n"
        "TZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\n"
        "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\n"
        "TZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\n"
        "END:DAYLIGHT\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\n"
        "ORGANIZER;CN=Alice:mailto:alice@example.com\r\n"
        "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Bob:mailto:bob@"
        "example.org\r\nSUMMARY;LANGUAGE=en-US:Budget\r\n"
        "DTSTART;TZID=W. Europe Standard Time:20261201T100000\r\n"
        "DTEND;TZID=W. Europe Standard Time:20261201T110000\r\n"
        "UID:040000008200E00074C5B7101A82E008\r\n"
        "SEQUENCE:2\r\nDTSTAMP:20261120T080000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    invite = from_ics(outlook_like)
    assert invite.uid == "040000008200E00074C5B7101A82E008"
    assert invite.sequence == 2
    assert invite.start is not None
    assert isinstance(invite.start, datetime)
    assert invite.start.astimezone(timezone.utc) == datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    cancelled = invite.cancel()
    assert cancelled.sequence == 3
    assert b"UID:040000008200E00074C5B7101A82E008" in to_ics(cancelled)


@pytest.mark.parametrize(
    "data",
    [b"", b"not a calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
     b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
     b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nORGANIZER:mailto:a@b.c\r\n"
     b"DTSTART:20261201T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"],
)  # fmt: skip
def test_broken_calendars_raise_invite_error(data: bytes) -> None:
    with pytest.raises(InviteError):
        from_ics(data)


# --- the message ---------------------------------------------------------------------------


def test_message_structure_clients_recognise() -> None:
    invite = request(description="Zürich numbers — please read")
    raw = to_message(invite)
    assert mime.is_transport_safe(raw)
    parsed = _email(raw)
    assert parsed.get_content_type() == "multipart/mixed"
    first, attachment = parsed.get_payload()
    assert first.get_content_type() == "multipart/alternative"
    kinds = [p.get_content_type() for p in first.get_payload()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    calendar_part = first.get_payload()[2]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_param("charset").upper() == "UTF-8"
    assert calendar_part["Content-Transfer-Encoding"] == "quoted-printable"  # non-ASCII text
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_filename() == "invite.ics"
    assert from_message(raw) == invite
    text = first.get_payload()[0].get_content()
    assert "Quarterly review" in text
    assert "Tuesday 01 December 2026, 10:00–11:00 (Europe/Berlin, CET, UTC+01:00)" in text
    assert "Room 1" in text
    assert "Bob <bob@example.org> (required)" in text
    assert "Carol <carol@example.net> (optional)" in text
    assert parsed["From"] == "Alice Example <alice@example.com>"
    assert "bob@example.org" in parsed["To"]
    assert "carol@example.net" in parsed["To"]


def test_reply_goes_from_attendee_to_organizer() -> None:
    raw = to_message(request().reply("bob@example.org", "TENTATIVE"), ics_attachment=False)
    parsed = _email(raw)
    assert parsed["From"] == "Bob <bob@example.org>"
    assert parsed["To"] == "Alice Example <alice@example.com>"
    assert parsed["Subject"] == "Tentative: Quarterly review"
    assert parsed.get_content_type() == "multipart/mixed"
    assert len(parsed.get_payload()) == 1
    assert b"method=REPLY" in raw


def test_cancel_message_says_so() -> None:
    raw = to_message(request().cancel())
    parsed = _email(raw)
    assert parsed["Subject"] == "Cancelled: Quarterly review"
    assert b"STATUS:CANCELLED" in raw
    assert b"This event has been cancelled." in raw


def test_publish_needs_explicit_recipients() -> None:
    public = request(method="PUBLISH", attendees=())
    with pytest.raises(InviteError, match="to="):
        to_message(public)
    assert b"method=PUBLISH" in to_message(public, to=["team@example.com"])


def test_invite_methods_mirror_the_module_functions() -> None:
    invite = request()
    assert Invite.from_ics(invite.to_ics()) == invite
    raw = invite.to_message(ics_attachment=False)
    assert Invite.from_message(raw) == invite


# --- hostile calendars and messages ------------------------------------------------------------

_ICS = to_ics(request())


def test_calendar_limits_are_checked_on_the_unfolded_text() -> None:
    with pytest.raises(LimitError) as caught:
        from_ics(_ICS, limits=Limits(max_ics_bytes=len(_ICS) - 1))
    assert caught.value.limit == "max_ics_bytes"
    components = _ICS.count(b"BEGIN:")
    assert from_ics(_ICS, limits=Limits(max_ics_components=components)).uid
    with pytest.raises(LimitError) as caught:
        from_ics(_ICS, limits=Limits(max_ics_components=components - 1))
    assert caught.value.limit == "max_ics_components"
    # A BEGIN split by a fold still counts: the icalendar package unfolds it, so do the limits.
    folded = _ICS.replace(b"BEGIN:VEVENT", b"BEG\r\n IN:VEVENT")
    with pytest.raises(LimitError):
        from_ics(folded, limits=Limits(max_ics_components=components - 1))


def test_calendar_nesting_and_property_limits() -> None:
    deep = b"BEGIN:VCALENDAR\r\n" + b"BEGIN:X-A\r\n" * 9 + b"END:X-A\r\n" * 9 + b"END:VCALENDAR\r\n"
    with pytest.raises(LimitError) as caught:
        from_ics(deep)
    assert (caught.value.limit, caught.value.value) == ("max_ics_depth", 10)
    lines = len(_ICS.splitlines())
    with pytest.raises(LimitError) as caught:
        from_ics(_ICS, limits=Limits(max_ics_properties=lines - 5))
    assert caught.value.limit == "max_ics_properties"


def test_calendar_must_be_utf8() -> None:
    with pytest.raises(InviteError, match="UTF-8"):
        from_ics(_ICS.replace(b"Quarterly", b"Quarterly \xff"))


def test_a_line_icalendar_cannot_read_is_an_error_not_skipped() -> None:
    """icalendar drops a line without ':' and goes on; the summary would be cut silently."""
    broken = _ICS.replace(b"SUMMARY:", b"SUMMARY:first half\r\nsecond half without a fold\r\nX:")
    with pytest.raises(InviteError, match="folded without the leading space"):
        from_ics(broken)


def test_an_unknown_or_contradictory_tzid_is_an_error() -> None:
    """An unknown TZID leaves a floating time; a TZID on a Z time contradicts itself."""
    calendar = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
        b"UID:x@example.com\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:x\r\n"
        b"DTSTART;TZID=Nowhere/Land:20261201T100000\r\nORGANIZER:mailto:alice@example.com\r\n"
        b"ATTENDEE:mailto:bob@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    with pytest.raises(InviteError, match="Nowhere/Land"):
        from_ics(calendar)
    with pytest.raises(InviteError, match="forbids a TZID on UTC times"):
        from_ics(
            calendar.replace(
                b"TZID=Nowhere/Land:20261201T100000", b"TZID=Europe/Berlin:20261201T100000Z"
            )
        )
    utc = from_ics(calendar.replace(b"TZID=Nowhere/Land", b"TZID=UTC")).start
    assert utc == datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    berlin = from_ics(calendar.replace(b"TZID=Nowhere/Land", b"TZID=Europe/Berlin")).start
    assert berlin == datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)


def test_message_method_must_match_the_calendar() -> None:
    message = to_message(request())
    assert from_message(message).method == "REQUEST"
    cancelled = message.replace(b"METHOD:REQUEST", b"METHOD:CANCEL")
    with pytest.raises(InviteError, match="RFC 6047"):
        from_message(cancelled)


def test_message_charset_is_honoured_and_checked() -> None:
    ics = _ICS.replace(b"Quarterly", "Quartal über".encode("latin-1"))
    part = b'Content-Type: text/calendar; method=REQUEST; charset="ISO-8859-1"\r\n\r\n' + ics
    assert from_message(part).summary == "Quartal über review"
    with pytest.raises(InviteError, match="x-martian"):
        from_message(part.replace(b"ISO-8859-1", b"x-martian"))
    with pytest.raises(InviteError, match="not valid"):  # found by fuzz/run.py: ValueError
        from_message(part.replace(b"ISO-8859-1", b"utf-8\x00"))


def test_message_walk_is_bounded() -> None:
    """Nesting used to end in RecursionError; now it is a LimitError at the limit."""
    body = b"\r\nx\r\n"
    for level in range(150):
        body = (
            f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
            + body
            + f"\r\n--b{level}--\r\n".encode()
        )
    with pytest.raises(LimitError) as caught:
        Invite.from_message(body)
    assert caught.value.limit == "max_mime_depth"
    with pytest.raises(InviteError, match="no text/calendar"):
        Invite.from_message(body, limits=Limits(max_mime_depth=DEPTH_CEILING))


def test_hostile_values_are_quoted_briefly_in_errors() -> None:
    """A METHOD of 3,000 characters came back whole in the error (found by the properties)."""
    hostile = _ICS.replace(b"METHOD:REQUEST", b"METHOD:" + b"X" * 3_000)
    with pytest.raises(InviteError, match="unknown iTIP method") as caught:
        from_ics(hostile)
    assert len(str(caught.value)) < 300
