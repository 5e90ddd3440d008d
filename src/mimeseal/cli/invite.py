"""``mimeseal invite``: build a meeting request, or update, cancel or answer a stored one."""

from __future__ import annotations

import argparse
import re
from datetime import date, datetime, timedelta
from email.utils import parseaddr
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mimeseal import invite as calendar
from mimeseal.cli.common import EXIT_OK, read_input, write_output
from mimeseal.errors import UsageError

_DURATION = re.compile(r"(\d+)\s*([mhd]?)")


def add_parser(sub: Any) -> None:
    inv = sub.add_parser(
        "invite",
        help="build a calendar invitation (or --update/--cancel/--reply a stored one)",
        description="Build an iTIP invitation as an e-mail (or .ics with --ics). Times are "
        "local to --tz; for --all-day, --start and --end are dates and --end is the last day.",
    )
    action = inv.add_mutually_exclusive_group()
    action.add_argument("--update", metavar="FILE", help="change a stored invitation (.ics/.eml)")
    action.add_argument("--cancel", metavar="FILE", help="cancel a stored invitation")
    action.add_argument("--reply", metavar="FILE", help="answer a stored invitation")
    inv.add_argument("--method", default="REQUEST", type=str.upper, choices=calendar.METHODS)
    inv.add_argument("--organizer", metavar="'Name <addr>'")
    inv.add_argument("--attendee", action="append", default=[], metavar="'Name <addr>'")
    inv.add_argument("--optional", action="append", default=[], metavar="'Name <addr>'")
    inv.add_argument("--summary")
    inv.add_argument("--start", metavar="2026-12-01T10:00")
    inv.add_argument("--end", metavar="2026-12-01T11:00")
    inv.add_argument("--tz", metavar="ZONE", help="IANA zone of --start/--end, e.g. Europe/Berlin")
    inv.add_argument("--all-day", action="store_true")
    inv.add_argument("--rrule", metavar="RULE", help="e.g. FREQ=WEEKLY;COUNT=10")
    inv.add_argument("--location")
    inv.add_argument("--description")
    inv.add_argument("--uid")
    inv.add_argument("--sequence", type=int)
    inv.add_argument("--alarm", action="append", default=[], metavar="15m", help="reminder before")
    inv.add_argument("--as", dest="as_", metavar="ADDR", help="the replying attendee (--reply)")
    inv.add_argument("--partstat", type=str.upper, choices=("ACCEPTED", "DECLINED", "TENTATIVE"))
    inv.add_argument("--comment", help="a note sent with a --reply")
    inv.add_argument("--cancel-attendee", action="append", default=[], metavar="ADDR",
                     help="with --cancel: remove only these attendees")  # fmt: skip
    inv.add_argument("--no-ics-attachment", action="store_true")
    inv.add_argument("--ics", action="store_true", help="write the .ics instead of the e-mail")
    inv.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout)")
    inv.set_defaults(func=run)


def _person(value: str, what: str) -> tuple[str, str | None]:
    name, address = parseaddr(value)
    if "@" not in address:
        raise UsageError(f"{what} {value!r} is not 'Name <address>' or an address")
    return address, name or None


def _zone(args: argparse.Namespace) -> ZoneInfo | None:
    if not args.tz:
        return None
    try:
        return ZoneInfo(args.tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--tz {args.tz!r} is not an IANA time zone such as Europe/Berlin"
        ) from None


def _time(value: str | None, args: argparse.Namespace, option: str, last_day: bool = False) -> Any:
    if value is None:
        return None
    if args.all_day:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise UsageError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None
        return day + timedelta(days=1) if last_day else day
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {value!r} is not an ISO-8601 time") from None
    zone = _zone(args)
    if moment.tzinfo is None:
        if zone is None:
            raise UsageError(f"{option} {value} has no offset: give --tz (e.g. Europe/Berlin)")
        moment = moment.replace(tzinfo=zone)
    elif zone is not None:
        moment = moment.astimezone(zone)
    return moment


def _alarm(value: str) -> calendar.Alarm:
    match = _DURATION.fullmatch(value.strip())
    if not match:
        raise UsageError(f"--alarm {value!r} is not a duration like 15m, 2h or 1d")
    unit = {"": 60, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return calendar.Alarm(timedelta(seconds=int(match.group(1)) * unit))


def _load(path: str) -> calendar.Invite:
    data = read_input(path)
    if data.lstrip().upper().startswith(b"BEGIN:VCALENDAR"):
        return calendar.from_ics(data)
    return calendar.from_message(data)


def _attendees(args: argparse.Namespace) -> list[calendar.Attendee]:
    people = [calendar.Attendee(*_person(v, "--attendee")) for v in args.attendee]
    people += [
        calendar.Attendee(*_person(v, "--optional"), role="OPT-PARTICIPANT") for v in args.optional
    ]
    return people


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in ("summary", "location", "description", "rrule"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.start is not None:
        changes["start"] = _time(args.start, args, "--start")
    if args.end is not None:
        changes["end"] = _time(args.end, args, "--end", last_day=True)
    if args.attendee or args.optional:
        changes["attendees"] = tuple(_attendees(args))
    if args.alarm:
        changes["alarms"] = tuple(_alarm(a) for a in args.alarm)
    return changes


def _build(args: argparse.Namespace) -> calendar.Invite:
    if args.cancel:
        stored = _load(args.cancel)
        return stored.cancel(args.cancel_attendee or None)
    if args.reply:
        if not (args.as_ and args.partstat):
            raise UsageError("--reply needs --as ADDR and --partstat ACCEPTED|DECLINED|TENTATIVE")
        return _load(args.reply).reply(args.as_, args.partstat, comment=args.comment)
    if args.update:
        stored = _load(args.update)
        if args.tz is None and isinstance(stored.start, datetime):
            zone = stored.start.tzinfo
            args.tz = zone.key if isinstance(zone, ZoneInfo) else None
        args.all_day = args.all_day or (
            stored.start is not None and not isinstance(stored.start, datetime)
        )
        return stored.update(**_changes(args))
    if not (args.organizer and args.summary is not None and args.start):
        raise UsageError("a new invitation needs --organizer, --summary and --start")
    fields: dict[str, Any] = {
        "method": args.method,
        "organizer": calendar.Person(*_person(args.organizer, "--organizer")),
        **_changes(args),
    }
    if args.uid:
        fields["uid"] = args.uid
    if args.sequence is not None:
        fields["sequence"] = args.sequence
    return calendar.Invite(**fields)


def run(args: argparse.Namespace, out: BinaryIO) -> int:
    built = _build(args)
    if args.ics:
        data = calendar.to_ics(built)
    else:
        data = calendar.to_message(built, ics_attachment=not args.no_ics_attachment)
    write_output(data, args.output, out)
    return EXIT_OK
