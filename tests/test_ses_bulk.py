"""Bulk sending against a real (moto) SES endpoint: faults, resumption, doubt, rate, audit.

Faults are injected with botocore's event system on the real client, so every failure goes
through the same code paths as a real one: ``before-send`` answers instead of the network
(the request never reaches moto), ``after-call`` raises a read timeout after moto has stored
the message (the one case that can duplicate).
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from cryptography.hazmat.primitives import hashes
from moto.ses.models import ses_backends

from conftest import DevPki
from faults import answer, json_error
from mimeseal import dkim, smime
from mimeseal.compose import compose
from mimeseal.dkim.keyfiles import generate_key
from mimeseal.errors import UsageError
from mimeseal.pytest_plugin import AwsEndpoint
from mimeseal.ses.api import SesSender
from mimeseal.ses.base import RecordingSender, Sender, SendResult, digest
from mimeseal.ses.bulk import (
    BulkInterrupted,
    BulkProgress,
    TokenBucket,
    format_progress,
    send_many,
)
from mimeseal.ses.journal import STATES, Journal, signer_identities
from mimeseal.ses.retry import RetryPolicy

ACCOUNT, REGION = "123456789012", "us-east-1"
FROM = "alice@example.com"
WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint(mimeseal_aws: AwsEndpoint) -> Iterator[str]:
    """The session's moto endpoint (the plugin's ``mimeseal_aws``), with the sender verified
    and no AWS profile or config file in the way."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", REGION)
        env.delenv("AWS_PROFILE", raising=False)
        env.setenv("AWS_CONFIG_FILE", os.devnull)
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        url = mimeseal_aws.url
        ses = boto3.client("ses", region_name=REGION, endpoint_url=url)
        ses.verify_email_identity(EmailAddress=FROM)
        yield url


def _backend() -> Any:
    return ses_backends[ACCOUNT][REGION]


@pytest.fixture
def stored(endpoint: str) -> Iterator[Counter[str]]:
    """What SES stored, counted by the SHA-256 of the bytes; emptied around every test."""
    _backend().sent_messages.clear()
    counter: Counter[str] = Counter()

    def refresh() -> Counter[str]:
        counter.clear()
        counter.update(digest(m.raw_data.encode("utf-8")) for m in _backend().sent_messages)
        return counter

    counter.refresh = refresh  # type: ignore[attr-defined]
    yield counter
    _backend().sent_messages.clear()


def _stored(counter: Counter[str]) -> Counter[str]:
    return counter.refresh()  # type: ignore[attr-defined,no-any-return]


def ses_sender(endpoint: str, **retry: Any) -> SesSender:
    policy = RetryPolicy(sleep=lambda s: None, base_delay=0, **retry)
    return SesSender(api="v2", endpoint_url=endpoint, region=REGION, retry=policy)


def make_messages(count: int, tag: str, sender: str = FROM) -> list[bytes]:
    return [
        compose(
            from_=sender,
            to=["bob@example.org"],
            subject=f"{tag} {n}",
            text=f"message {n} of {tag}\n",
            date=WHEN,
            message_id=f"<{tag}-{n}@example.com>",
        )
        for n in range(count)
    ]


@dataclass
class Faults:
    """Answers a fraction of SendEmail calls itself, before anything reaches the network."""

    fraction: float
    seed: int
    calls: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        with self.lock:
            faulty, kind = self.rng.random() < self.fraction, self.rng.randrange(3)
            self.calls["fault" if faulty else "passed"] += 1
        if not faulty:
            return None
        if kind == 0:
            return answer(500)
        if kind == 1:
            return json_error(429, "TooManyRequestsException", "Maximum sending rate exceeded.")
        raise EndpointConnectionError(endpoint_url=request.url)


def open_journal(path: Path) -> Journal:
    return Journal(path)


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


# --- the big run ----------------------------------------------------------------------------


def test_thousand_messages_with_transient_faults_each_sent_once(
    endpoint: str, stored: Counter[str], tmp_path: Path
) -> None:
    messages = make_messages(1000, "bulk")
    sender = ses_sender(endpoint, max_attempts=8)
    faults = Faults(0.2, seed=20261124)
    sender.client.meta.events.register("before-send.sesv2.SendEmail", faults)
    seen: list[BulkProgress] = []
    started = time.monotonic()
    runs = []
    for _ in range(3):  # a message failing 8 times in a row is listed retryable; re-run it
        report = send_many(
            messages,
            sender=sender,
            journal=tmp_path / "j.db",
            concurrency=4,
            progress=seen.append,
        )
        runs.append(report)
        if report.ok:
            break
    elapsed = time.monotonic() - started
    assert runs[-1].ok, runs[-1].failed_messages
    assert sum(r.sent for r in runs) == 1000
    assert all(
        reason.endswith("(retryable: a re-run retries it)")
        for r in runs
        for _, reason in r.failed_messages
    )
    counts = _stored(stored)
    assert set(counts) == {digest(m) for m in messages}
    assert set(counts.values()) == {1}, "a message was stored twice"
    assert faults.calls["fault"] > 150, faults.calls
    with open_journal(tmp_path / "j.db") as journal:
        assert journal.summary() == {"pending": 0, "sent": 1000, "failed": 0, "unknown": 0}
        rows = journal.rows()
        # Every attempt the hook saw is accounted for in the journal.
        assert sum(r.attempts for r in rows) == faults.calls.total()
        assert all(r.message_id and r.size > 0 for r in rows)
        assert {r.source for r in rows} == {FROM}
        assert {r.destinations for r in rows} == {("bob@example.org",)}
    assert seen[-1].done == 1000
    assert seen[-1].sent + seen[-1].skipped == 1000
    assert integrity(tmp_path / "j.db") == "ok"
    assert elapsed < 30, f"took {elapsed:.1f} s"


# --- interruption and resumption ------------------------------------------------------------


def test_interrupted_run_resumes_with_only_the_missing_messages(
    endpoint: str, stored: Counter[str], tmp_path: Path
) -> None:
    messages = make_messages(600, "resume")
    sender = ses_sender(endpoint)
    path = tmp_path / "j.db"

    def stop_after_300(p: BulkProgress) -> None:
        if p.done >= 300:
            raise KeyboardInterrupt

    with pytest.raises(BulkInterrupted) as caught:
        send_many(messages, sender=sender, journal=path, progress=stop_after_300)
    first = caught.value.report
    assert first.interrupted
    assert caught.value.signal == signal.SIGINT
    assert first.sent >= 300
    assert first.not_attempted > 0
    assert first.sent + first.not_attempted == 600
    assert integrity(path) == "ok"
    with open_journal(path) as journal:
        # In-flight sends finished and were recorded: nothing is left in doubt.
        assert journal.summary()["pending"] == 0
        assert journal.summary()["sent"] == first.sent == sum(_stored(stored).values())

    second = send_many(messages, sender=sender, journal=path)
    assert second.ok
    assert second.skipped == first.sent
    assert second.sent == 600 - first.sent
    counts = _stored(stored)
    assert sum(counts.values()) == 600
    assert set(counts.values()) == {1}


@dataclass
class InterruptOn(Sender):
    """Raises KeyboardInterrupt (in a worker thread) instead of making the n-th send."""

    inner: Sender
    at: int
    api: str = "interrupting"
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(
        self,
        message: bytes,
        *,
        source: str | None = None,
        destinations: Sequence[str] | None = None,
    ) -> SendResult:
        with self.lock:
            self.calls += 1
            number = self.calls
        if number == self.at:
            raise KeyboardInterrupt
        return self.inner.send(message, source=source, destinations=destinations)


def test_interrupt_inside_a_send_leaves_that_message_in_doubt(
    endpoint: str, stored: Counter[str], tmp_path: Path
) -> None:
    messages = make_messages(400, "midsend")
    path = tmp_path / "j.db"
    with pytest.raises(BulkInterrupted) as caught:
        send_many(messages, sender=InterruptOn(ses_sender(endpoint), at=301), journal=path)
    first = caught.value.report
    assert first.unknown == 1
    assert first.sent >= 300
    ((victim, reason),) = first.unknown_messages
    assert "interrupted" in reason
    with open_journal(path) as journal:
        assert journal.state(victim) == "unknown"
        assert [r.sha256 for r in journal.in_doubt()] == [victim]
        assert journal.summary()["pending"] == 0
    assert integrity(path) == "ok"

    second = send_many(messages, sender=ses_sender(endpoint), journal=path)
    assert second.unknown == 1
    assert second.unknown_messages[0][0] == victim
    assert second.sent + second.skipped == 399
    assert victim not in _stored(stored)
    third = send_many(messages, sender=ses_sender(endpoint), journal=path, resend_unknown=True)
    assert third.ok
    assert third.sent == 1
    counts = _stored(stored)
    assert sum(counts.values()) == 400
    assert set(counts.values()) == {1}


@pytest.mark.skipif(
    signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL, reason="SIGTERM is handled already"
)
def test_sigterm_stops_the_run_cleanly(endpoint: str, stored: Counter[str], tmp_path: Path) -> None:
    messages = make_messages(200, "sigterm")
    path = tmp_path / "j.db"

    def terminate(p: BulkProgress) -> None:
        if p.done == 50:
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(BulkInterrupted) as caught:
        send_many(messages, sender=ses_sender(endpoint), journal=path, progress=terminate)
    assert caught.value.signal == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, "the handler was not restored"
    report = caught.value.report
    assert report.sent + report.not_attempted == 200
    assert report.sent >= 50
    assert integrity(path) == "ok"
    with open_journal(path) as journal:
        assert journal.summary()["sent"] == report.sent == sum(_stored(stored).values())


# --- the case that can duplicate ------------------------------------------------------------


class TimeoutAfterSending:
    """Raises botocore's ReadTimeoutError after moto stored the message (``after-call``).

    ``before-parameter-build`` sees the caller's parameters (the raw bytes); the timeout is
    raised only for the chosen messages, on the same thread.
    """

    def __init__(self, victims: set[str]) -> None:
        self.victims = victims
        self.local = threading.local()

    def parameters(self, params: dict[str, Any], **_: Any) -> None:
        self.local.victim = digest(params["Content"]["Raw"]["Data"]) in self.victims

    def after_call(self, http_response: Any, **_: Any) -> None:
        if getattr(self.local, "victim", False):
            raise ReadTimeoutError(endpoint_url="http://ses.invalid/v2/email/outbound-emails")

    def install(self, sender: SesSender) -> None:
        events = sender.client.meta.events
        events.register("before-parameter-build.sesv2.SendEmail", self.parameters)
        events.register("after-call.sesv2.SendEmail", self.after_call)


def test_timeout_after_acceptance_is_unknown_and_not_resent(
    endpoint: str, stored: Counter[str], tmp_path: Path
) -> None:
    messages = make_messages(10, "doubt")
    victims = {digest(messages[2]), digest(messages[7])}
    sender = ses_sender(endpoint)
    TimeoutAfterSending(victims).install(sender)
    path = tmp_path / "j.db"

    first = send_many(messages, sender=sender, journal=path)
    assert (first.sent, first.unknown, first.failed) == (8, 2, 0)
    assert {sha for sha, _ in first.unknown_messages} == victims
    assert all("check before resending" in reason for _, reason in first.unknown_messages)
    assert sum(_stored(stored).values()) == 10, "moto has the two 'unknown' messages too"
    with open_journal(path) as journal:
        in_doubt = journal.in_doubt()
        assert {r.sha256 for r in in_doubt} == victims
        assert {(r.state, r.code, r.attempts) for r in in_doubt} == {
            ("unknown", "ReadTimeoutError", 1)
        }

    # A re-run lists them and does not send them again, even with a healthy endpoint.
    second = send_many(messages, sender=ses_sender(endpoint), journal=path)
    assert (second.sent, second.skipped, second.unknown) == (0, 8, 2)
    assert {sha for sha, _ in second.unknown_messages} == victims
    assert sum(_stored(stored).values()) == 10

    # Asked to, it resends them: here SES really had them, so now there are duplicates.
    third = send_many(messages, sender=ses_sender(endpoint), journal=path, resend_unknown=True)
    assert third.ok
    assert third.sent == 2
    counts = _stored(stored)
    assert {sha: n for sha, n in counts.items() if n > 1} == dict.fromkeys(victims, 2)
    with open_journal(path) as journal:
        assert journal.summary()["sent"] == 10
        history = [state for _, state, *_ in journal.events(digest(messages[2]))]
        assert history == ["pending", "unknown", "pending", "sent"]


def test_stale_pending_row_is_treated_as_unknown(
    endpoint: str, stored: Counter[str], tmp_path: Path
) -> None:
    messages = make_messages(3, "stale")
    path = tmp_path / "j.db"
    with open_journal(path) as journal:  # a run killed during the call leaves just this
        assert journal.record_pending(digest(messages[0]), len(messages[0]), "{}")
        assert not journal.record_pending(digest(messages[0]), len(messages[0]), "{}")
    report = send_many(messages, sender=ses_sender(endpoint), journal=path)
    assert (report.sent, report.unknown) == (2, 1)
    assert "left pending" in report.unknown_messages[0][1]
    assert digest(messages[0]) not in _stored(stored)
    again = send_many(messages, sender=ses_sender(endpoint), journal=path, resend_unknown=True)
    assert again.ok
    assert again.sent == 1
    assert sum(_stored(stored).values()) == 3


# --- failures -------------------------------------------------------------------------------


def test_permanent_failures_are_not_retried_and_retryable_ones_are(
    endpoint: str, stored: Counter[str], tmp_path: Path
) -> None:
    rejected = make_messages(3, "unverified", sender="eve@example.net")
    broken = [make_messages(1, "bare-lf")[0].replace(b"\r\n", b"\n")]  # a pre-send rule
    flaky = make_messages(4, "flaky")
    path = tmp_path / "j.db"
    down = ses_sender(endpoint, max_attempts=2)
    flaky_digests = {digest(m) for m in flaky}

    def server_error(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        assert isinstance(request.body, bytes | str)
        data = json.loads(request.body)
        raw = base64.b64decode(data["Content"]["Raw"]["Data"])
        if digest(raw) in flaky_digests:
            return answer(503)
        return None

    down.client.meta.events.register("before-send.sesv2.SendEmail", server_error)
    first = send_many(rejected + broken + flaky, sender=down, journal=path)
    assert (first.sent, first.failed, first.unknown) == (0, 8, 0)
    with open_journal(path) as journal:
        rows = {r.sha256: r for r in journal.rows()}
    assert {rows[digest(m)].code for m in rejected} == {"MessageRejected"}
    assert {rows[digest(m)].retryable for m in rejected + broken} == {False}
    assert rows[digest(broken[0])].code == "SesRuleError"
    assert rows[digest(broken[0])].attempts == 0
    assert {(rows[d].code, rows[d].retryable, rows[d].attempts) for d in flaky_digests} == {
        ("503", True, 2)
    }
    assert not _stored(stored)

    second = send_many(rejected + broken + flaky, sender=ses_sender(endpoint), journal=path)
    assert (second.sent, second.failed) == (4, 4)
    assert all("failed permanently in an earlier run" in r for _, r in second.failed_messages)
    assert set(_stored(stored)) == flaky_digests
    with open_journal(path) as journal:
        assert {journal.row(d).attempts for d in flaky_digests} == {3}  # type: ignore[union-attr]
        assert journal.summary() == {"pending": 0, "sent": 4, "failed": 4, "unknown": 0}


def test_unreadable_file_is_listed_and_files_are_named(
    endpoint: str, stored: Counter[str], tmp_path: Path
) -> None:
    good = tmp_path / "good.eml"
    good.write_bytes(make_messages(1, "file")[0])
    bad = make_messages(1, "bad-file", sender="eve@example.net")[0]
    (tmp_path / "bad.eml").write_bytes(bad)
    missing = tmp_path / "missing.eml"
    report = send_many(
        [good, tmp_path / "bad.eml", missing, good.read_bytes()],
        sender=ses_sender(endpoint),
        journal=tmp_path / "j.db",
    )
    assert (report.sent, report.skipped, report.failed) == (1, 1, 2)
    assert report.names == {digest(bad): str(tmp_path / "bad.eml")}
    assert any(key == str(missing) and "cannot read" in why for key, why in report.failed_messages)


# --- rate limiting --------------------------------------------------------------------------


def test_rate_limit_is_shared_by_the_threads(
    endpoint: str, stored: Counter[str], tmp_path: Path
) -> None:
    messages = make_messages(100, "rate")
    started = time.monotonic()
    report = send_many(
        messages, sender=ses_sender(endpoint), journal=tmp_path / "j.db", rate=50, concurrency=8
    )
    elapsed = time.monotonic() - started
    assert report.sent == 100
    assert 1.9 <= elapsed < 6, f"{elapsed:.2f} s"


def test_token_bucket_paces_and_stops() -> None:
    bucket = TokenBucket(rate=1000)
    started = time.monotonic()
    for _ in range(200):
        assert bucket.acquire()
    assert 0.18 <= time.monotonic() - started < 1.5
    slow, stop = TokenBucket(rate=0.5), threading.Event()
    assert slow.acquire(stop)  # the first token is there
    stop.set()
    assert not slow.acquire(stop)
    with pytest.raises(UsageError):
        TokenBucket(rate=0)


# --- the journal ----------------------------------------------------------------------------


@dataclass
class SlowSender(Sender):
    inner: Sender
    delay: float
    api: str = "slow"

    def send(
        self,
        message: bytes,
        *,
        source: str | None = None,
        destinations: Sequence[str] | None = None,
    ) -> SendResult:
        time.sleep(self.delay)
        return self.inner.send(message, source=source, destinations=destinations)


def test_journal_reads_consistently_during_a_run_and_after_an_interrupt(
    endpoint: str, stored: Counter[str], tmp_path: Path
) -> None:
    messages = make_messages(300, "watch")
    path = tmp_path / "j.db"
    Journal(path).close()  # created before the watcher opens it
    stop_at, samples, problems = 200, [], []
    running = threading.Event()
    running.set()

    def watch() -> None:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        while running.is_set():
            db.execute("BEGIN")  # one snapshot for all three reads
            states = dict(db.execute("SELECT state, COUNT(*) FROM messages GROUP BY state"))
            torn = db.execute(
                "SELECT COUNT(*) FROM messages m WHERE m.state != (SELECT e.state FROM events e "
                "WHERE e.sha256 = m.sha256 ORDER BY e.id DESC LIMIT 1)"
            ).fetchone()[0]
            unsent = db.execute(
                "SELECT COUNT(*) FROM messages WHERE state = 'sent' AND message_id IS NULL"
            ).fetchone()[0]
            db.execute("COMMIT")
            if set(states) - set(STATES) or torn or unsent:
                problems.append((states, torn, unsent))
            samples.append(states.get("sent", 0))
            time.sleep(0.005)
        db.close()

    def stop(p: BulkProgress) -> None:
        if p.done >= stop_at:
            raise KeyboardInterrupt

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with pytest.raises(BulkInterrupted):
            send_many(
                messages,
                sender=SlowSender(ses_sender(endpoint), 0.003),
                journal=path,
                progress=stop,
            )
    finally:
        running.clear()
        watcher.join()
    assert not problems
    assert len(samples) > 10
    assert samples == sorted(samples), "sent counts went backwards"
    assert 0 < samples[-1] < 300
    assert integrity(path) == "ok"
    with open_journal(path) as journal:
        assert all(r.state in ("sent", "failed", "unknown") for r in journal.rows())
        assert journal.summary()["pending"] == 0


def test_journal_refuses_other_databases_and_keeps_its_schema(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(UsageError, match="not a mimeseal send journal"):
        Journal(other)
    (tmp_path / "junk.db").write_bytes(b"not a database at all, not at all" * 100)
    with pytest.raises(UsageError):
        Journal(tmp_path / "junk.db")
    with Journal(tmp_path / "j.db") as journal:
        assert journal.summary() == dict.fromkeys(STATES, 0)
        assert journal.record_pending("ab" * 32, 10, "{}", FROM, ["bob@example.org"])
        journal.mark_sent("ab" * 32, "id-1", 1)
        assert not journal.record_pending("ab" * 32, 10, "{}")  # never takes a sent row back
        with pytest.raises(UsageError):
            journal.mark_sent("cd" * 32, "id-2", 1)
        (row,) = journal.rows()
        assert (row.state, row.message_id, row.attempts, row.size) == ("sent", "id-1", 1, 10)
        assert row.created.endswith("Z")
        assert row.updated >= row.created
        assert row.destinations == ("bob@example.org",)
    with sqlite3.connect(tmp_path / "j.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("UPDATE messages SET state = 'lost'")


def test_journal_is_safe_across_threads(tmp_path: Path) -> None:
    sender = RecordingSender()
    messages = make_messages(300, "threads")
    report = send_many(messages, sender=sender, journal=tmp_path / "j.db", concurrency=16)
    assert report.sent == 300
    assert len(sender.sent) == 300
    with Journal(tmp_path / "j.db") as journal:
        assert journal.summary()["sent"] == 300
        assert len({r.message_id for r in journal.rows()}) == 300


# --- audit ----------------------------------------------------------------------------------


def test_signer_identities_are_recorded(
    endpoint: str, stored: Counter[str], tmp_path: Path, rsa_pki: DevPki
) -> None:
    plain = make_messages(1, "audit")[0]
    signed = smime.sign(
        plain, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate, chain=rsa_pki.signer.chain
    )
    key = generate_key("ed25519")
    sealed = dkim.sign(signed, key=key, domain="example.com", selector="sel1", profile="ses")
    report = send_many([sealed, plain], sender=ses_sender(endpoint), journal=tmp_path / "j.db")
    assert report.sent == 2
    assert _stored(stored)[digest(sealed)] == 1
    fingerprint = rsa_pki.signer.certificate.fingerprint(hashes.SHA256()).hex()
    with open_journal(tmp_path / "j.db") as journal:
        audit = journal.row(digest(sealed))
        bare = journal.row(digest(plain))
    assert audit is not None
    assert bare is not None
    identities = audit.signer_identities()
    assert identities["dkim"] == [{"a": "ed25519-sha256", "d": "example.com", "s": "sel1"}]
    (signer,) = identities["smime"]
    assert signer["sha256"] == fingerprint
    assert signer["path"] == ""
    assert FROM in signer["emails"]
    assert signer["subject"]
    assert identities["errors"] == []
    assert bare.signer_identities() == {"smime": [], "dkim": [], "errors": []}


def test_signer_identities_notes_what_it_cannot_read() -> None:
    damaged = (
        b"From: a@example.com\r\nDKIM-Signature: v=1; a=rsa-sha256; d=x; d=y\r\n"
        b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
        b'boundary="b"\r\n\r\n--b\r\n\r\nhi\r\n--b\r\n'
        b"Content-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n"
        b"\r\nAAAA\r\n--b--\r\n"
    )
    found = signer_identities(damaged)
    assert found["dkim"] == []
    assert found["smime"] == []
    assert len(found["errors"]) == 2


# --- progress -------------------------------------------------------------------------------


def test_format_progress_fits_the_width() -> None:
    p = BulkProgress(done=300, total=1000, sent=290, failed=10, rate=41.7, eta=16.8)
    line = format_progress(p, 80)
    assert len(line) == 80
    assert line.startswith("[######")
    assert "300/1000" in line
    assert " 30%" in line
    assert "41.7/s" in line
    assert "ETA 0:17" in line
    assert "failed 10" in line
    narrow = format_progress(p, 30)
    assert len(narrow) <= 30
    assert not narrow.startswith("[")
    start = BulkProgress(done=0, total=5, sent=0, failed=0, rate=0.0, eta=None)
    assert "ETA --:--" in format_progress(start, 100)
    done = BulkProgress(done=5, total=5, sent=5, failed=0, rate=2.0, eta=0.0)
    assert format_progress(done, 60).startswith("[" + "#" * 10)
    long = BulkProgress(done=1, total=10**6, sent=1, failed=0, rate=1.0, eta=4000.0)
    assert "ETA 1:06:40" in format_progress(long, 120)
