"""``mimeseal send`` against moto's SES server: ids and digests, dry runs, journals, refusals."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from conftest import MESSAGE, SesEndpoint
from mimeseal import cli


def run(*argv: str) -> tuple[int, str]:
    out = io.BytesIO()
    code = cli.main(list(argv), stdout=out)
    return code, out.getvalue().decode()


@pytest.fixture
def ses(ses_endpoint: SesEndpoint) -> SesEndpoint:
    ses_endpoint.clear()
    return ses_endpoint


def _endpoint(ses: SesEndpoint) -> list[str]:
    return ["--endpoint-url", ses.url, "--region", ses.region]


def _messages(tmp_path: Path, count: int) -> list[Path]:
    paths = []
    for number in range(count):
        path = tmp_path / f"m{number}.eml"
        path.write_bytes(MESSAGE.replace(b"statement-1", f"statement-{number}".encode()))
        paths.append(path)
    return paths


@pytest.mark.parametrize("api", ["v2", "v1"])
def test_send_prints_id_and_digest(ses: SesEndpoint, tmp_path: Path, api: str) -> None:
    [path] = _messages(tmp_path, 1)
    code, text = run("send", str(path), "--api", api, *_endpoint(ses))
    assert code == 0
    assert f"sha256={hashlib.sha256(path.read_bytes()).hexdigest()}" in text
    assert ses.stored() == [path.read_bytes()]


def test_dry_run_sends_nothing_but_checks(ses: SesEndpoint, tmp_path: Path) -> None:
    [path] = _messages(tmp_path, 1)
    code, text = run("send", str(path), "--dry-run")
    assert code == 0
    assert "recorded-1" in text
    assert ses.stored() == []
    bad = tmp_path / "bad.eml"
    bad.write_bytes(MESSAGE.replace(b"\r\n", b"\n"))
    assert run("send", str(bad), "--dry-run")[0] == 2


def test_refused_message_exits_2_and_sends_nothing(ses: SesEndpoint, tmp_path: Path) -> None:
    bad = tmp_path / "bad.eml"
    bad.write_bytes(MESSAGE.replace(b"Subject:", b"Subject: x\r\nSubject:"))
    assert run("send", str(bad), *_endpoint(ses))[0] == 2
    assert ses.stored() == []


def test_journal_run_and_rerun(ses: SesEndpoint, tmp_path: Path) -> None:
    paths = _messages(tmp_path, 5)
    journal = tmp_path / "run.sqlite"
    code, text = run("send", *map(str, paths), "--journal", str(journal), *_endpoint(ses))
    assert code == 0
    assert "sent 5" in text
    code, text = run("send", *map(str, paths), "--journal", str(journal), *_endpoint(ses))
    assert code == 0
    assert "sent 0, skipped 5" in text
    assert sorted(ses.stored()) == sorted(p.read_bytes() for p in paths)


def test_usage_errors(tmp_path: Path) -> None:
    [path] = _messages(tmp_path, 1)
    assert run("send", str(path), "--tag", "novalue", "--dry-run")[0] == 2
    assert run("send", str(path), "--api", "smtp")[0] == 2  # no host, no region
