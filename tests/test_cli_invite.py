"""``mimeseal invite``: new requests, and --update / --cancel / --reply of stored ones."""

from __future__ import annotations

import email
import email.policy
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mimeseal import cli, invite, mime

NEW = [
    "invite", "--organizer", "Alice <alice@example.com>", "--attendee", "Bob <bob@example.org>",
    "--optional", "carol@example.net", "--summary", "Budget", "--start", "2026-12-01T10:00",
    "--end", "2026-12-01T11:00", "--tz", "Europe/Berlin", "--location", "Room 1",
    "--alarm", "15m", "--rrule", "FREQ=WEEKLY;COUNT=3",
]  # fmt: skip


def run(*argv: str) -> tuple[int, bytes]:
    out = io.BytesIO()
    code = cli.main(list(argv), stdout=out)
    return code, out.getvalue()


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    code, _ = run(*NEW, "-o", str(tmp_path / "request.eml"))
    assert code == 0
    return tmp_path / "request.eml"


def test_new_request(stored: Path) -> None:
    raw = stored.read_bytes()
    assert mime.is_transport_safe(raw)
    event = invite.from_message(raw)
    assert event.method == "REQUEST"
    assert event.start == datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert [(a.address, a.role) for a in event.attendees] == [
        ("bob@example.org", "REQ-PARTICIPANT"),
        ("carol@example.net", "OPT-PARTICIPANT"),
    ]
    assert event.alarms[0].before == timedelta(minutes=15)
    assert event.rrule == "FREQ=WEEKLY;COUNT=3"
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Invitation: Budget"


def test_update_cancel_reply_from_files(stored: Path, tmp_path: Path) -> None:
    code, raw = run("invite", "--update", str(stored), "--start", "2026-12-01T14:00",
                    "--end", "2026-12-01T15:00")  # fmt: skip
    assert code == 0
    moved = invite.from_message(raw)
    assert moved.sequence == 1
    assert moved.start == datetime(2026, 12, 1, 14, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    (tmp_path / "moved.ics").write_bytes(invite.to_ics(moved))
    code, raw = run("invite", "--cancel", str(tmp_path / "moved.ics"))
    assert code == 0
    cancelled = invite.from_message(raw)
    assert (cancelled.method, cancelled.sequence, cancelled.status) == ("CANCEL", 2, "CANCELLED")
    assert cancelled.uid == moved.uid
    code, raw = run("invite", "--reply", str(stored), "--as", "bob@example.org",
                    "--partstat", "accepted", "--ics")  # fmt: skip
    assert code == 0
    answer = invite.from_ics(raw)
    assert answer.method == "REPLY"
    assert [(a.address, a.partstat) for a in answer.attendees] == [("bob@example.org", "ACCEPTED")]


def test_all_day_end_is_the_last_day(tmp_path: Path) -> None:
    code, raw = run(
        "invite", "--organizer", "alice@example.com", "--attendee", "bob@example.org",
        "--summary", "Offsite", "--all-day", "--start", "2026-12-07", "--end", "2026-12-08",
        "--ics",
    )  # fmt: skip
    assert code == 0
    event = invite.from_ics(raw)
    assert (event.start, event.end) == (date(2026, 12, 7), date(2026, 12, 9))


@pytest.mark.parametrize(
    "extra",
    [
        ["--tz", "Mars/Olympus"],
        ["--start", "tomorrow"],
        ["--alarm", "soon"],
    ],
)
def test_usage_errors_exit_2(extra: list[str]) -> None:
    argv = list(NEW)
    for option, value in zip(extra[::2], extra[1::2], strict=True):
        argv[argv.index(option) + 1] = value
    code, _ = run(*argv)
    assert code == 2


def test_naive_time_without_zone_and_missing_fields_exit_2() -> None:
    argv = list(NEW)
    del argv[argv.index("--tz") : argv.index("--tz") + 2]
    assert run(*argv)[0] == 2
    assert run("invite", "--summary", "x")[0] == 2
    assert run("invite", "--reply", "/nonexistent.ics", "--as", "a@b.c")[0] == 2
