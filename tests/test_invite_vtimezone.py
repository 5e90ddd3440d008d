"""Tests for mimeseal.invite.vtimezone: RRULE-only VTIMEZONE blocks that Outlook reads right.

The property the feature rests on: for every zone whose block is written, the offset the block
implies equals zoneinfo's at every transition 2025–2045 (just before and at it) and at sampled
instants. Two evaluators read the block back: the module's own ``offset_at`` (written apart from
the generator) and dateutil's RFC 5545 reader through ``icalendar``.
"""

from __future__ import annotations

import calendar
import contextlib
import functools
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mimeseal.errors import InviteError
from mimeseal.invite.vtimezone import (
    PosixRule,
    PosixTZ,
    VTimezoneResult,
    _as_byday,
    _format_offset,
    offset_at,
    parse_posix_tz,
    posix_tz_of,
    vtimezone_for,
)

UTC = timezone.utc
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2046, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)

EXPRESSIBLE = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Europe/Dublin",
    "Pacific/Chatham",
    "Europe/London",
    "America/Los_Angeles",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/St_Johns",
    "Asia/Tokyo",
    "Asia/Tehran",
    "Asia/Kathmandu",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Europe/Moscow",
    "America/Havana",
    "Antarctica/Troll",
    "UTC",
]
NO_DST = {
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "America/Phoenix",
    "Asia/Tokyo",
    "Asia/Tehran",
    "Asia/Kathmandu",
    "Europe/Moscow",
    "UTC",
}
# zone -> what the reason must say. Transitions outside 0–24 h local time move the day off
# every n-th weekday; Morocco leaves its rule around Ramadan.
NOT_EXPRESSIBLE = {
    "Africa/Casablanca": "do not follow a yearly rule; use UTC times",
    "America/Santiago": "M4.1.6/24h falls on a day no BYMONTH/BYDAY",
    "Africa/Cairo": "M10.5.4/24h falls on a day no BYMONTH/BYDAY",
    "Asia/Jerusalem": "M3.4.4/26h falls on a day no BYMONTH/BYDAY",
    "America/Nuuk": "M3.5.0/-1h falls on a day no BYMONTH/BYDAY",
}


@functools.cache
def generated(tzid: str) -> VTimezoneResult:
    return vtimezone_for(tzid, start=START)


def text_of(tzid: str) -> str:
    result = generated(tzid)
    assert result.expressible, result.reason
    assert result.text is not None
    return result.text


def zone_offset(tzid: str, instant: datetime) -> timedelta:
    offset = instant.astimezone(ZoneInfo(tzid)).utcoffset()
    assert offset is not None
    return offset


@functools.cache
def transitions(tzid: str) -> tuple[datetime, ...]:
    """First instants of each new zoneinfo offset 2025–2045: daily steps, then bisection."""
    found: list[datetime] = []
    day, before = START, zone_offset(tzid, START)
    while day < END:
        after_day = day + timedelta(days=1)
        if zone_offset(tzid, after_day) != before:
            low, high = day, after_day  # offset(low) == before != offset(high)
            while high - low > SECOND:
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if zone_offset(tzid, middle) == before:
                    low = middle
                else:
                    high = middle
            found.append(high)
            before = zone_offset(tzid, high)
        day = after_day
    return tuple(found)


def components(text: str) -> list[dict[str, str]]:
    """The STANDARD/DAYLIGHT blocks as name -> value dicts, plus "kind"."""
    blocks: list[dict[str, str]] = []
    inside = False
    for line in text.split("\r\n"):
        name, _, value = line.partition(":")
        if name == "BEGIN" and value in ("STANDARD", "DAYLIGHT"):
            blocks.append({"kind": value})
            inside = True
        elif name == "END":
            inside = False
        elif inside:
            assert name not in blocks[-1], f"{name} repeated"
            blocks[-1][name] = value
    return blocks


def parsed(text: str) -> icalendar.Timezone:
    zone = icalendar.Timezone.from_ical(text)
    assert isinstance(zone, icalendar.Timezone)
    return zone


def parse_offset(value: str) -> timedelta:
    sign = -1 if value[0] == "-" else 1
    return sign * timedelta(hours=int(value[1:3]), minutes=int(value[3:5]))


# --- the property the issue asks for -----------------------------------------------------------


@pytest.mark.parametrize("tzid", EXPRESSIBLE)
def test_offsets_match_zoneinfo_at_every_transition(tzid: str) -> None:
    text = text_of(tzid)
    changes = transitions(tzid)
    assert len(changes) == (0 if tzid in NO_DST else 42), changes
    for change in changes:
        for instant in (change - SECOND, change):
            assert offset_at(text, instant) == zone_offset(tzid, instant), (tzid, instant)


@pytest.mark.parametrize("tzid", EXPRESSIBLE)
def test_dateutil_reads_the_same_offsets(tzid: str) -> None:
    """A second, unrelated reader (dateutil's VTIMEZONE support, through icalendar)."""
    tz = parsed(text_of(tzid)).to_tz(lookup_tzid=False)
    instants = [i for c in transitions(tzid) for i in (c - SECOND, c)]
    instants += [START + timedelta(days=97 * k) for k in range(80)]
    for instant in instants:
        assert instant.astimezone(tz).utcoffset() == zone_offset(tzid, instant), (tzid, instant)


@settings(max_examples=400, deadline=None)
@given(
    tzid=st.sampled_from(EXPRESSIBLE),
    instant=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2045, 12, 31, 23)),
)
def test_offsets_match_zoneinfo_at_sampled_instants(tzid: str, instant: datetime) -> None:
    aware = instant.replace(tzinfo=UTC)
    assert offset_at(text_of(tzid), aware) == zone_offset(tzid, aware)
    assert offset_at(text_of(tzid), instant) == zone_offset(tzid, aware)  # naive means UTC


@pytest.mark.parametrize(("tzid", "why"), NOT_EXPRESSIBLE.items())
def test_zones_without_a_yearly_byday_rule_say_so(tzid: str, why: str) -> None:
    result = generated(tzid)
    assert not result.expressible
    assert result.text is None
    assert why in result.reason
    assert result.reason.endswith("; use UTC times")
    assert result.posix_tz  # the rule that was refused, for the log


def test_casablanca_reason_names_the_first_disagreement() -> None:
    reason = generated("Africa/Casablanca").reason
    assert re.search(r"at 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC zoneinfo gives [+-]\d{4}", reason)


def test_agreement_is_checked_from_start_onward() -> None:
    # Brazil dropped DST in 2019: the footer "<-03>3" is wrong for the summer of 2018/19.
    assert not vtimezone_for("America/Sao_Paulo", start=datetime(2018, 6, 1)).expressible
    assert vtimezone_for("America/Sao_Paulo", start=datetime(2019, 6, 1)).expressible
    local = datetime(2019, 6, 1, 9, tzinfo=ZoneInfo("America/Sao_Paulo"))
    assert vtimezone_for("America/Sao_Paulo", start=local).expressible
    assert vtimezone_for("Europe/Berlin").expressible  # default start: now


def test_starts_at_the_ends_of_the_calendar_fall_back_to_utc() -> None:
    for start in (datetime(1, 1, 1), datetime(9999, 12, 31)):
        result = vtimezone_for("Europe/Berlin", start=start)
        assert not result.expressible
        assert result.reason.endswith("; use UTC times")


def test_unknown_zones_raise_a_mimeseal_error() -> None:
    for tzid in ("Not/AZone", "../../etc/passwd", "", "Europe"):
        with pytest.raises(InviteError, match="unknown time zone"):
            vtimezone_for(tzid)


# --- the text Outlook reads --------------------------------------------------------------------


@pytest.mark.parametrize("tzid", EXPRESSIBLE)
def test_text_is_what_outlook_reads(tzid: str) -> None:
    text = text_of(tzid)
    assert "RDATE" not in text
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    assert all("\r" not in line and "\n" not in line for line in lines)
    assert all(len(line.encode()) <= 75 for line in lines)
    assert lines[0] == "BEGIN:VTIMEZONE"
    assert lines[1] == f"TZID:{tzid}"
    assert lines[-1] == "END:VTIMEZONE"
    blocks = components(text)
    assert [b["kind"] for b in blocks] == (
        ["STANDARD"] if tzid in NO_DST else ["STANDARD", "DAYLIGHT"]
    )
    for block in blocks:
        assert set(block) <= {"kind", "DTSTART", "RRULE", "TZOFFSETFROM", "TZOFFSETTO", "TZNAME"}
        assert re.fullmatch(r"[+-]\d{4}", block["TZOFFSETFROM"])
        assert re.fullmatch(r"[+-]\d{4}", block["TZOFFSETTO"])
        start = datetime.strptime(block["DTSTART"], "%Y%m%dT%H%M%S")
        assert start.year == 1601
        if tzid in NO_DST:
            assert "RRULE" not in block
            assert block["TZOFFSETFROM"] == block["TZOFFSETTO"]
            continue
        rule = re.fullmatch(r"FREQ=YEARLY;BYMONTH=(\d{1,2});BYDAY=(-1|[1-4])(SU)", block["RRULE"])
        assert rule, block["RRULE"]
        # DTSTART is the rule's own first occurrence (RFC 5545 wants them in step).
        month, nth = int(rule[1]), int(rule[2])
        length = calendar.monthrange(1601, month)[1]
        assert start.month == month
        assert start.weekday() == calendar.SUNDAY
        assert start.day > length - 7 if nth == -1 else (start.day + 6) // 7 == nth
    if tzid not in NO_DST:
        standard, daylight = blocks
        assert parse_offset(daylight["TZOFFSETTO"]) > parse_offset(standard["TZOFFSETTO"])
        assert daylight["TZOFFSETFROM"] == standard["TZOFFSETTO"]
        assert standard["TZOFFSETFROM"] == daylight["TZOFFSETTO"]


@pytest.mark.parametrize("tzid", EXPRESSIBLE)
def test_icalendar_parses_the_block(tzid: str) -> None:
    wrapped = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mimeseal//tests//EN\r\n"
        f"{text_of(tzid)}END:VCALENDAR\r\n"
    )
    calendar_ = icalendar.Calendar.from_ical(wrapped)
    (zone,) = calendar_.walk("VTIMEZONE")
    assert zone["TZID"] == tzid
    assert len(zone.walk("STANDARD")) == 1
    assert len(zone.walk("DAYLIGHT")) == (0 if tzid in NO_DST else 1)
    assert parsed(text_of(tzid)).tz_name == tzid


def test_europe_berlin_block_exactly() -> None:
    assert text_of("Europe/Berlin") == (
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
        "BEGIN:STANDARD\r\nDTSTART:16011028T030000\r\n"
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
        "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD\r\n"
        "BEGIN:DAYLIGHT\r\nDTSTART:16010325T020000\r\n"
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
        "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT\r\n"
        "END:VTIMEZONE\r\n"
    )


def test_chatham_and_new_york_transition_times() -> None:
    chatham = {b["kind"]: b for b in components(text_of("Pacific/Chatham"))}
    assert chatham["DAYLIGHT"]["DTSTART"].endswith("T024500")
    assert chatham["DAYLIGHT"]["RRULE"].endswith("BYMONTH=9;BYDAY=-1SU")
    assert chatham["STANDARD"]["DTSTART"].endswith("T034500")
    assert chatham["STANDARD"]["TZOFFSETTO"] == "+1245"
    new_york = {b["kind"]: b for b in components(text_of("America/New_York"))}
    assert new_york["DAYLIGHT"]["RRULE"] == "FREQ=YEARLY;BYMONTH=3;BYDAY=2SU"
    assert new_york["STANDARD"]["RRULE"] == "FREQ=YEARLY;BYMONTH=11;BYDAY=1SU"
    assert new_york["STANDARD"]["TZOFFSETTO"] == "-0500"


def test_dublin_negative_dst_is_labelled_by_offset() -> None:
    # POSIX calls winter GMT Dublin's "daylight" time; Outlook expects daylight to be ahead.
    dublin = {b["kind"]: b for b in components(text_of("Europe/Dublin"))}
    assert (dublin["STANDARD"]["TZNAME"], dublin["STANDARD"]["TZOFFSETTO"]) == ("GMT", "+0000")
    assert (dublin["DAYLIGHT"]["TZNAME"], dublin["DAYLIGHT"]["TZOFFSETTO"]) == ("IST", "+0100")
    assert dublin["DAYLIGHT"]["DTSTART"].endswith("T010000")  # M3.5.0/1 in GMT


# --- the POSIX TZ parser and TZif footer ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "CET-1CEST,M3.5.0,M10.5.0/3",
            PosixTZ(
                "CET",
                timedelta(hours=1),
                "CEST",
                timedelta(hours=2),
                PosixRule(3, 5, 0, 7200),
                PosixRule(10, 5, 0, 10800),
            ),
        ),
        (
            "EST5EDT,M3.2.0,M11.1.0",
            PosixTZ(
                "EST",
                timedelta(hours=-5),
                "EDT",
                timedelta(hours=-4),
                PosixRule(3, 2, 0),
                PosixRule(11, 1, 0),
            ),
        ),
        (
            "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
            PosixTZ(
                "+1245",
                timedelta(hours=12, minutes=45),
                "+1345",
                timedelta(hours=13, minutes=45),
                PosixRule(9, 5, 0, 9900),
                PosixRule(4, 1, 0, 13500),
            ),
        ),
        ("IST-5:30", PosixTZ("IST", timedelta(hours=5, minutes=30))),
        ("<-03>3", PosixTZ("-03", timedelta(hours=-3))),
        (
            "IST-1GMT0,M10.5.0,M3.5.0/1",
            PosixTZ(
                "IST",
                timedelta(hours=1),
                "GMT",
                timedelta(0),
                PosixRule(10, 5, 0),
                PosixRule(3, 5, 0, 3600),
            ),
        ),
        (
            "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
            PosixTZ(
                "-02",
                timedelta(hours=-2),
                "-01",
                timedelta(hours=-1),
                PosixRule(3, 5, 0, -3600),
                PosixRule(10, 5, 0, 0),
            ),
        ),
        (
            "EET-2EEST,M3.4.4/50,M10.4.4/50",
            PosixTZ(
                "EET",
                timedelta(hours=2),
                "EEST",
                timedelta(hours=3),
                PosixRule(3, 4, 4, 180_000),
                PosixRule(10, 4, 4, 180_000),
            ),
        ),
        ("UTC0", PosixTZ("UTC", timedelta(0))),
        ("<+0545>-5:45", PosixTZ("+0545", timedelta(hours=5, minutes=45))),
        ("XXX+1:02:03", PosixTZ("XXX", -timedelta(hours=1, minutes=2, seconds=3))),
    ],
)
def test_parse_posix_tz(text: str, expected: PosixTZ) -> None:
    assert parse_posix_tz(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("EST5EDT", "gives no rule"),
        ("<-03>3<-02>,J60/0,J300/0", "Jn or n form"),
        ("<-03>3<-02>,59,M10.1.0", "Jn or n form"),
        ("CET-1CEST,M13.5.0,M10.5.0", "out of range"),
        ("CET-1CEST,M3.6.0,M10.5.0", "out of range"),
        ("CET-1CEST,M3.5.7,M10.5.0", "out of range"),
        ("CET-25", "out of range"),
        ("CET-1:60", "out of range"),
        ("CET-1CEST,M3.5.0/168,M10.5.0", "out of range"),
        ("CE-1", "not a POSIX TZ string"),
        ("CET", "not a POSIX TZ string"),
        ("", "not a POSIX TZ string"),
        ("CET-1CEST,M3.5.0", "not a POSIX TZ string"),
    ],
)
def test_parse_posix_tz_refuses(text: str, message: str) -> None:
    with pytest.raises(InviteError, match=message):
        parse_posix_tz(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="<>+-:,./0123456789JMCESTDabc", max_size=40))
def test_parse_posix_tz_never_raises_anything_else(text: str) -> None:
    with contextlib.suppress(InviteError):
        parse_posix_tz(text)


def test_posix_tz_of_reads_the_footer() -> None:
    header = b"TZif2" + b"\0" * 15 + b"\0\0\0\0" * 6
    body = header + b"TZif2" + b"\0" * 39
    assert posix_tz_of(body + b"\nCET-1CEST,M3.5.0,M10.5.0/3\n") == "CET-1CEST,M3.5.0,M10.5.0/3"
    assert posix_tz_of(body + b"\n\n") is None
    assert posix_tz_of(b"TZif\0" + b"\0" * 39 + b"\nnot a footer\n") is None  # version 1
    with pytest.raises(InviteError, match="not TZif"):
        posix_tz_of(b"<html>")


def test_times_outside_the_day_move_the_weekday() -> None:
    # /0 and /23:59:59 keep the day; /24, /-1, /25 move it off every n-th weekday ...
    assert _as_byday(PosixRule(3, 5, 0, 0)) == (3, -1, 0, 0)
    assert _as_byday(PosixRule(3, 2, 0, 86_399)) == (3, 2, 0, 86_399)
    assert _as_byday(PosixRule(9, 1, 6, 86_400)) is None  # Santiago: Sunday after 1st Saturday
    assert _as_byday(PosixRule(3, 5, 0, -3600)) is None  # Nuuk: Saturday before last Sunday
    assert _as_byday(PosixRule(3, 2, 0, 25 * 3600)) is None
    assert _as_byday(PosixRule(10, 5, 4, 86_400)) is None  # Cairo: can be 1 November
    # ... but some shifts land on another n-th weekday every year.
    assert _as_byday(PosixRule(4, 4, 0, 48 * 3600)) == (4, -1, 2, 0)  # 4th Sun + 2 = last Tue
    assert _as_byday(PosixRule(3, 5, 0, -71 * 3600)) == (3, 4, 4, 3600)  # last Sun - 3 = 4th Thu


def test_format_offset() -> None:
    assert _format_offset(timedelta(hours=5, minutes=30)) == "+0530"
    assert _format_offset(timedelta(hours=-3, minutes=-30)) == "-0330"
    assert _format_offset(timedelta(0)) == "+0000"
    assert _format_offset(-timedelta(hours=1, minutes=2, seconds=3)) == "-010203"


# --- offset_at on hand-written blocks ----------------------------------------------------------

# RFC 5545 §3.6.5's US Eastern example, shaped as Outlook writes it (DTSTART not in step).
EASTERN = (
    "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:20070311T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n"
    "TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nDTSTART:20071104T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n"
    "TZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)


@pytest.mark.parametrize(
    ("instant", "hours"),
    [
        (datetime(2007, 1, 1), -5),  # before every onset: the earliest TZOFFSETFROM
        (datetime(2026, 3, 8, 6, 59, 59), -5),  # 01:59:59 EST
        (datetime(2026, 3, 8, 7, 0, 0), -4),  # 02:00 EST is 03:00 EDT
        (datetime(2026, 11, 1, 5, 59, 59), -4),
        (datetime(2026, 11, 1, 6, 0, 0), -5),
        (datetime(2026, 11, 1, 6, 0, 0, tzinfo=ZoneInfo("Europe/Berlin")), -4),  # 05:00 UTC
    ],
)
def test_offset_at_reads_a_hand_written_block(instant: datetime, hours: int) -> None:
    assert offset_at(EASTERN, instant) == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("BEGIN:VTIMEZONE\r\nEND:VTIMEZONE\r\n", "no STANDARD or DAYLIGHT"),
        (EASTERN.replace("TZOFFSETTO:-0400\r\n", ""), "lacks TZOFFSETTO"),
        (EASTERN.replace("-0400", "EDT"), "not ±HHMM"),
        (EASTERN.replace("20070311T020000", "2007-03-11"), "unreadable value"),
        (EASTERN.replace("BYDAY=2SU", "BYDAY=2XX"), "unreadable value"),
        (EASTERN.replace("BYMONTH=3", "BYMONTH=13"), "unreadable value"),
        (EASTERN.replace("FREQ=YEARLY", "FREQ=MONTHLY"), "not one YEARLY"),
        (EASTERN.replace(";BYMONTH=3", ""), "not one YEARLY"),
        (EASTERN.replace("RRULE", "RDATE"), "not one YEARLY"),
        (EASTERN.replace("BYDAY=2SU", "BYDAY=2SU;COUNT=3"), "not one YEARLY"),
    ],
)
def test_offset_at_refuses_other_shapes(text: str, message: str) -> None:
    with pytest.raises(InviteError, match=message):
        offset_at(text, datetime(2026, 1, 1))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(EASTERN.split("\r\n")), max_size=20), st.integers(0, 120))
def test_offset_at_on_mutated_blocks_raises_only_mimeseal_errors(
    lines: list[str], cut: int
) -> None:
    text = "\r\n".join(lines)
    try:
        offset = offset_at(text[cut:], datetime(2030, 6, 1))
    except InviteError:
        return
    assert offset in (timedelta(hours=-4), timedelta(hours=-5))
