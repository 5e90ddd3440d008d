"""RRULE-only VTIMEZONE blocks built from a zone's POSIX TZ rule, the shape Outlook understands.

Outlook reads only TZID, DTSTART, RRULE, TZOFFSETFROM and TZOFFSETTO of a VTIMEZONE; it ignores
RDATE, so the RDATE lists ``icalendar`` writes shift events by an hour. The rule at the end of
each TZif file (RFC 8536 §3.3) states a zone's current rule exactly, so it becomes one YEARLY
``BYMONTH``/``BYDAY`` rule per observance. When that is impossible (no rule, day-of-year rules,
transitions on no n-th weekday, or real transitions that leave the rule, as Morocco's do around
Ramadan) the result says so and the caller writes times in UTC.
"""

from __future__ import annotations

import calendar
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from importlib import resources
from pathlib import Path

from mimeseal.errors import InviteError

CHECK_YEARS = 20  # how far past ``start`` the rule must agree with zoneinfo
_FIRST_YEAR = 1601  # the DTSTART year Outlook itself writes
_BYDAY = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # POSIX weekday 0 is Sunday


@dataclass(frozen=True)
class PosixRule:
    """A POSIX ``Mm.w.d[/time]`` date: week 5 means the last; ``time`` in local seconds."""

    month: int
    week: int
    weekday: int  # 0 = Sunday
    time: int = 7200  # may be negative or past 24 h (RFC 8536 §3.3.1)


@dataclass(frozen=True)
class PosixTZ:
    """A parsed POSIX TZ string; offsets are east of UTC (the POSIX sign already flipped)."""

    std_name: str
    std_offset: timedelta
    dst_name: str | None = None
    dst_offset: timedelta | None = None
    dst_start: PosixRule | None = None
    dst_end: PosixRule | None = None


@dataclass(frozen=True)
class VTimezoneResult:
    """A VTIMEZONE block (CRLF lines) or, when not ``expressible``, why UTC must be used."""

    tzid: str
    text: str | None
    expressible: bool
    reason: str = ""
    posix_tz: str = ""  # the rule the block was built from, for diagnostics


_NAME = r"[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>"
_HMS = r"[+-]?\d{1,3}(?::\d{1,2}(?::\d{1,2})?)?"
_DATE = r"J\d{1,3}|\d{1,3}|M\d{1,2}\.\d\.\d"
_POSIX = re.compile(
    rf"(?P<std>{_NAME})(?P<stdoff>{_HMS})(?:(?P<dst>{_NAME})(?P<dstoff>{_HMS})?"
    rf"(?:,(?P<start>{_DATE})(?:/(?P<stime>{_HMS}))?,(?P<end>{_DATE})(?:/(?P<etime>{_HMS}))?)?)?"
)


def _seconds(text: str, max_hours: int) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")]
    if parts[0] > max_hours or any(p > 59 for p in parts[1:]):
        raise InviteError(f"POSIX TZ time {text!r} is out of range")
    return sign * sum(p * f for p, f in zip(parts, (3600, 60, 1), strict=False))


def _rule(text: str, time: str | None) -> PosixRule:
    if not text.startswith("M"):
        message = f"its POSIX TZ date {text!r} counts days of the year (Jn or n form)"
        raise InviteError(f"{message}, which no yearly BYMONTH/BYDAY rule states")
    month, week, weekday = (int(p) for p in text[1:].split("."))
    if not (1 <= month <= 12 and 1 <= week <= 5 and weekday <= 6):
        raise InviteError(f"POSIX TZ date {text!r} is out of range")
    return PosixRule(month, week, weekday, 7200 if time is None else _seconds(time, 167))


def parse_posix_tz(text: str) -> PosixTZ:
    """Parse a POSIX TZ string such as ``CET-1CEST,M3.5.0,M10.5.0/3``; InviteError if unusable."""
    match = _POSIX.fullmatch(text)
    if match is None:
        raise InviteError(f"{text!r} is not a POSIX TZ string (like CET-1CEST,M3.5.0,M10.5.0/3)")
    std = -timedelta(seconds=_seconds(match["stdoff"], 24))
    if match["dst"] is None:
        return PosixTZ(match["std"].strip("<>"), std)
    if match["start"] is None:
        raise InviteError(f"POSIX TZ {text!r} names a daylight time but gives no rule for it")
    dst = match["dstoff"]
    dst_offset = std + timedelta(hours=1) if dst is None else -timedelta(seconds=_seconds(dst, 24))
    start, end = _rule(match["start"], match["stime"]), _rule(match["end"], match["etime"])
    return PosixTZ(match["std"].strip("<>"), std, match["dst"].strip("<>"), dst_offset, start, end)


def posix_tz_of(data: bytes) -> str | None:
    """The POSIX TZ footer of TZif data, or None when it has none (v1 data, empty footer).

    In version 2+ data the footer is the last line, between the final two newlines.
    """
    if data[:4] != b"TZif":
        raise InviteError("not TZif data (RFC 8536)")
    if data[4:5] == b"\0" or len(data) < 46 or not data.endswith(b"\n"):
        return None
    at = data.rfind(b"\n", 0, len(data) - 1)
    footer = data[at + 1 : -1].decode("ascii", "replace") if at > 0 else ""
    return footer or None


def _tzif_bytes(key: str) -> bytes:
    """The TZif file zoneinfo itself loads: TZPATH first, then the tzdata package."""
    for base in zoneinfo.TZPATH:
        path = Path(base, key)
        if path.is_file():
            return path.read_bytes()
    node = resources.files("tzdata.zoneinfo")
    for part in key.split("/"):
        node = node / part
    return node.read_bytes()


def _nth_weekday(year: int, month: int, nth: int, weekday: int) -> date:
    """The nth (1..4; 5 or -1 = last) given weekday (0 = Sunday) of a month."""
    day = 1 + (weekday - date(year, month, 1).isoweekday()) % 7
    length = calendar.monthrange(year, month)[1]
    return date(year, month, day + (7 * ((length - day) // 7) if nth in (5, -1) else 7 * nth - 7))


def _as_byday(rule: PosixRule) -> tuple[int, int, int, int] | None:
    """(month, nth, weekday, seconds) naming the same local instant every year, or None.

    A time outside 0–24 h moves the day; the moved day must still be one n-th weekday
    (1..4 or last) of one month in every kind of year (2001–2028 holds all fourteen).
    """
    shift, seconds = divmod(rule.time, 86_400)
    month, nths = 0, {1, 2, 3, 4, -1}
    for year in range(2001, 2029):
        day = _nth_weekday(year, rule.month, rule.week, rule.weekday) + timedelta(days=shift)
        month = month or day.month
        last = calendar.monthrange(day.year, day.month)[1] - 7 < day.day
        nths &= {(day.day + 6) // 7} | ({-1} if last else set())
        if day.month != month or not nths:
            return None
    nth = -1 if -1 in nths and (rule.week == 5 or len(nths) == 1) else min(nths - {-1})
    return month, nth, (rule.weekday + shift) % 7, seconds


@dataclass(frozen=True)
class _Observance:
    kind: str  # STANDARD or DAYLIGHT
    name: str
    offset_from: timedelta
    offset_to: timedelta
    month: int
    nth: int  # 1..4, -1 = last; 0 = no RRULE
    weekday: int
    seconds: int

    def onset(self, year: int) -> datetime:
        """Local wall time (in ``offset_from``) of this year's transition."""
        if not self.nth:  # a zone without DST: one observance from 1 January, no RRULE
            return datetime(year, 1, 1)
        day = _nth_weekday(year, self.month, self.nth, self.weekday)
        return datetime(day.year, day.month, day.day) + timedelta(seconds=self.seconds)

    def lines(self) -> list[str]:
        byday = f"{self.nth}{_BYDAY[self.weekday]}"
        return [
            f"BEGIN:{self.kind}",
            f"DTSTART:{self.onset(_FIRST_YEAR):%Y%m%dT%H%M%S}",
            *([f"RRULE:FREQ=YEARLY;BYMONTH={self.month};BYDAY={byday}"] if self.nth else []),
            f"TZOFFSETFROM:{_format_offset(self.offset_from)}",
            f"TZOFFSETTO:{_format_offset(self.offset_to)}",
            f"TZNAME:{_escape(self.name)}",
            f"END:{self.kind}",
        ]


def _format_offset(offset: timedelta) -> str:
    total = int(offset.total_seconds())
    sign, total = ("-" if total < 0 else "+"), abs(total)
    seconds = f"{total % 60:02}" if total % 60 else ""
    return f"{sign}{total // 3600:02}{total // 60 % 60:02}{seconds}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")


def _fold(line: str) -> list[str]:
    """RFC 5545 §3.1 folding at 75 octets (only a long TZID could need it; names are ASCII)."""
    return [line[:75], *(" " + line[i : i + 74] for i in range(75, len(line), 74))]


def _observances(tz: PosixTZ) -> list[_Observance]:
    """STANDARD, then DAYLIGHT if any; InviteError if a transition has no BYDAY form."""
    if tz.dst_offset is None or tz.dst_start is None or tz.dst_end is None:
        return [_Observance("STANDARD", tz.std_name, tz.std_offset, tz.std_offset, 1, 0, 0, 0)]
    # Negative DST (Europe/Dublin): label by offset, as Outlook expects daylight time ahead.
    kinds = ("STANDARD", "DAYLIGHT") if tz.dst_offset >= tz.std_offset else ("DAYLIGHT", "STANDARD")
    entered = (
        (tz.std_name, tz.dst_end, tz.dst_offset, tz.std_offset),
        (tz.dst_name or "", tz.dst_start, tz.std_offset, tz.dst_offset),
    )
    result: list[_Observance] = []
    for kind, (name, rule, before, after) in zip(kinds, entered, strict=True):
        byday = _as_byday(rule)
        if byday is None:
            raise InviteError(
                f"its transition M{rule.month}.{rule.week}.{rule.weekday}/{rule.time / 3600:g}h "
                "falls on a day no BYMONTH/BYDAY n-th weekday names every year"
            )
        result.append(_Observance(kind, name, before, after, *byday))
    return sorted(result, key=lambda o: o.kind != "STANDARD")


def _check(zone: zoneinfo.ZoneInfo, rules: list[_Observance], begin: datetime) -> None:
    """InviteError where zoneinfo and the rule differ from ``begin`` (naive UTC) on."""
    end = begin + timedelta(days=366 * CHECK_YEARS)
    changes = sorted(
        (o.onset(year) - o.offset_from, o.offset_from, o.offset_to)
        for o in rules
        for year in range(begin.year - 1, end.year + 2)
    )
    samples = {begin + timedelta(hours=12 * i) for i in range(CHECK_YEARS * 732)}
    samples.update(t + d for t, _, _ in changes for d in (timedelta(0), timedelta(seconds=-1)))
    index, offset = 0, changes[0][1]
    for when in sorted(t for t in samples if begin <= t <= end):
        while index < len(changes) and changes[index][0] <= when:
            offset = changes[index][2]
            index += 1
        actual = when.replace(tzinfo=timezone.utc).astimezone(zone).utcoffset() or timedelta(0)
        if actual != offset:
            raise InviteError(
                f"its transitions (at {when:%Y-%m-%d %H:%M:%S} UTC zoneinfo gives "
                f"{_format_offset(actual)} where its yearly rule gives {_format_offset(offset)}) "
                "do not follow a yearly rule"
            )


def vtimezone_for(tzid: str, *, start: datetime | None = None) -> VTimezoneResult:
    """An RRULE-only VTIMEZONE for ``tzid`` that holds from ``start`` (default now; naive = UTC).

    Raises InviteError only for an unknown zone; a zone whose rule cannot be written the way
    Outlook reads it gets ``expressible=False`` and a reason, and its times belong in UTC.
    """
    start = datetime.now(timezone.utc) if start is None else start
    return _vtimezone(tzid, (start.astimezone(timezone.utc) if start.tzinfo else start).date())


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, day: date) -> VTimezoneResult:
    """Cached per zone and UTC day, as the comparison with zoneinfo takes some 40 ms."""
    try:
        zone = zoneinfo.ZoneInfo(tzid)
        posix = posix_tz_of(_tzif_bytes(zone.key)) or ""
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, ImportError, OSError) as exc:
        raise InviteError(f"unknown time zone {tzid!r}; use an IANA name") from exc
    try:
        if not posix:
            raise InviteError("its zone file states no rule for future times")
        rules = _observances(parse_posix_tz(posix))
        _check(zone, rules, datetime(day.year, day.month, day.day))
    except (InviteError, OverflowError, ValueError) as exc:  # the last two: years near 1 or 9999
        return VTimezoneResult(tzid, None, False, f"{exc}; use UTC times", posix)
    body = [line for observance in rules for line in observance.lines()]
    lines = ["BEGIN:VTIMEZONE", f"TZID:{_escape(tzid)}", *body, "END:VTIMEZONE"]
    text = "".join(part + "\r\n" for line in lines for part in _fold(line))
    return VTimezoneResult(tzid, text, True, "", posix)


# Reading a VTIMEZONE back, deliberately apart from the generator above (own line parsing, own
# n-th weekday listing), so tests check one implementation against another.

_WEEKDAY = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}  # date.weekday()
_UTC_OFFSET = re.compile(r"([+-])(\d\d)(\d\d)(\d\d)?")
_BYDAY_PART = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")


@dataclass(frozen=True)
class _Block:
    """One STANDARD or DAYLIGHT sub-component as read back."""

    dtstart: datetime  # local wall time in offset_from
    offset_from: timedelta
    offset_to: timedelta
    months: tuple[int, ...]  # empty without an RRULE
    byday: tuple[tuple[int, int], ...]  # (ordinal or 0 for every, date.weekday())

    def _in_year(self, year: int) -> list[datetime]:
        days: list[date] = []
        for month in self.months:
            length = calendar.monthrange(year, month)[1]
            whole = [date(year, month, d) for d in range(1, length + 1)]
            if not self.byday:
                days += [d for d in whole if d.day == self.dtstart.day]
            for n, weekday in self.byday:
                same = [d for d in whole if d.weekday() == weekday]
                days += same if n == 0 else same[n - 1 : n] if n > 0 else same[n:][:1]
        return [datetime.combine(d, self.dtstart.time()) for d in days]

    def latest(self, cutoff: datetime) -> datetime | None:
        """The last onset (local wall time) not after ``cutoff`` (local wall time)."""
        for year in range(cutoff.year, self.dtstart.year - 1, -1):
            found = [t for t in self._in_year(year) if self.dtstart < t <= cutoff]
            if found:
                return max(found)
        return self.dtstart if self.dtstart <= cutoff else None


def _utc_offset(value: str) -> timedelta:
    match = _UTC_OFFSET.fullmatch(value)
    if match is None:
        raise InviteError(f"VTIMEZONE offset {value!r} is not ±HHMM[SS]")
    sign = -1 if match[1] == "-" else 1
    return sign * timedelta(hours=int(match[2]), minutes=int(match[3]), seconds=int(match[4] or 0))


def _block(props: dict[str, str]) -> _Block:
    """A block from its properties, in only the shape Outlook reads (no RDATE, UNTIL, COUNT…)."""
    try:
        start = datetime.strptime(props["DTSTART"], "%Y%m%dT%H%M%S")
        offset_from = _utc_offset(props["TZOFFSETFROM"])
        offset_to = _utc_offset(props["TZOFFSETTO"])
        text = props.get("RRULE", "")
        rule = dict(part.partition("=")[::2] for part in text.upper().split(";")) if text else {}
        if "RDATE" in props or (
            rule and (rule.pop("FREQ") != "YEARLY" or set(rule) - {"BYDAY"} != {"BYMONTH"})
        ):
            raise InviteError(f"VTIMEZONE block {text!r} is not one YEARLY BYMONTH/BYDAY RRULE")
        months = tuple(int(m) for m in rule["BYMONTH"].split(",")) if rule else ()
        parts = [_BYDAY_PART.fullmatch(part) for part in rule.get("BYDAY", "").split(",") if part]
        byday = tuple((int(m[1] or 0), _WEEKDAY[m[2]]) for m in parts if m)
        if len(byday) < len(parts) or any(not 1 <= m <= 12 for m in months):
            raise ValueError(f"RRULE {text!r} is out of range")
        return _Block(start, offset_from, offset_to, months, byday)
    except KeyError as exc:
        raise InviteError(f"a VTIMEZONE block lacks {exc.args[0]}") from exc
    except ValueError as exc:
        raise InviteError(f"a VTIMEZONE block has an unreadable value: {exc}") from exc


@lru_cache(maxsize=64)
def _read_blocks(text: str) -> tuple[_Block, ...]:
    blocks: list[_Block] = []
    props: dict[str, str] | None = None
    for line in re.sub(r"\r?\n[ \t]", "", text).splitlines():
        name, _, value = line.partition(":")
        name = name.split(";", 1)[0].upper()
        if name == "BEGIN" and value.upper() in ("STANDARD", "DAYLIGHT"):
            props = {}
        elif name == "END" and value.upper() in ("STANDARD", "DAYLIGHT") and props is not None:
            blocks.append(_block(props))
            props = None
        elif props is not None:
            props.setdefault(name, value)
    if not blocks:
        raise InviteError("the VTIMEZONE has no STANDARD or DAYLIGHT block")
    return tuple(blocks)


def offset_at(vtimezone_text: str, instant: datetime) -> timedelta:
    """The UTC offset a VTIMEZONE block gives at ``instant`` (naive = UTC).

    The block whose latest onset (DTSTART or RRULE, local time in its TZOFFSETFROM) is at or
    before the instant applies; before every onset, the earliest block's TZOFFSETFROM does.
    """
    blocks = _read_blocks(vtimezone_text)
    utc = instant.astimezone(timezone.utc).replace(tzinfo=None) if instant.tzinfo else instant
    try:
        best: tuple[datetime, timedelta] | None = None
        for block in blocks:
            onset = block.latest(utc + block.offset_from)
            if onset is not None and (best is None or onset - block.offset_from > best[0]):
                best = (onset - block.offset_from, block.offset_to)
        if best is None:
            return min(blocks, key=lambda b: b.dtstart - b.offset_from).offset_from
        return best[1]
    except (OverflowError, ValueError) as exc:
        raise InviteError(f"cannot evaluate the VTIMEZONE at {instant}: {exc}") from exc
