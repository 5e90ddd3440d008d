"""Bulk sending: many messages, several threads, a shared rate limit, and a journal to resume.

:func:`send_many` hands each message to a :class:`~mimeseal.ses.base.Sender` unaltered and
records every step in a :class:`~mimeseal.ses.journal.Journal` keyed by the SHA-256 of the
message bytes. Running it again with the same journal is always safe:

============================  ===================================================
journal state of a message    what a re-run does
============================  ===================================================
(none)                        sends it
``sent``                      skips it
``failed``, retryable         sends it again (throttling, 5xx, connection errors)
``failed``, permanent         lists it under failed, does not resend it
``unknown``                   lists it under unknown, resends only if asked
``pending`` (stale)           the same as ``unknown``
============================  ===================================================

**The one case that can duplicate.** When the request reached SES but no answer came back (a
read timeout, a connection dropped after sending: botocore ``ReadTimeoutError`` /
``ConnectionClosedError``), SES may already have accepted the message. Resending could
deliver it twice, so it is not retried; its journal row is ``unknown`` with the error code.
The same holds for a row left ``pending`` when the process was killed during the call.
:meth:`Journal.in_doubt() <mimeseal.ses.journal.Journal.in_doubt>` returns both kinds,
:class:`BulkReport` lists them (``unknown_messages``) and ``mimeseal send`` lists them.
Check the SES side before resending: CloudWatch ``Send`` metrics for the time in the row's
``updated`` column, an event destination (SNS, Firehose, EventBridge) or the mail logs of
the recipients. Then run again with ``resend_unknown=True`` to send the ones that were not
delivered, or leave them.

Interrupting (Ctrl-C, or SIGTERM when no other handler is installed) stops handing out new
messages, lets the sends already in flight finish and record their outcome, and raises
:class:`BulkInterrupted` (a ``KeyboardInterrupt``) carrying the :class:`BulkReport`. A hard
kill leaves at most ``concurrency`` rows ``pending``: in doubt, as above.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Literal

from mimeseal.errors import SendError, SesRuleError, UsageError
from mimeseal.ses.api import envelope
from mimeseal.ses.base import Sender, digest
from mimeseal.ses.journal import Journal, JournalRow, State, signers_json

__all__ = [
    "BulkInterrupted",
    "BulkProgress",
    "BulkReport",
    "TokenBucket",
    "format_progress",
    "send_many",
]

log = logging.getLogger("mimeseal")

_Kind = Literal["sent", "skipped", "failed", "unknown", "not_attempted"]


@dataclass(frozen=True)
class BulkProgress:
    """Where a bulk run stands: for progress bars.

    ``done`` counts every message dealt with (sent, skipped, failed, unknown); ``rate`` is the
    number of sends attempted per second in this run; ``eta`` the seconds left at that rate
    (None until something has been sent).
    """

    done: int
    total: int
    sent: int
    failed: int
    rate: float
    eta: float | None
    skipped: int = 0
    unknown: int = 0
    elapsed: float = 0.0


@dataclass(frozen=True)
class BulkReport:
    """The outcome of one :func:`send_many` run.

    ``sent``: sent in this run. ``skipped``: sent in an earlier run (or given twice).
    ``failed``: failed in this run, or permanently in an earlier one (not retried).
    ``unknown``: SES may have them (this run or an earlier one; see the module docstring).
    ``not_attempted``: not reached because the run was interrupted. ``failed_messages`` and
    ``unknown_messages`` are (sha256, reason) pairs; ``names`` maps the sha256 of each listed
    message given as a file to its path (an unreadable file is listed under its path).
    """

    total: int
    sent: int
    skipped: int
    failed: int
    unknown: int
    not_attempted: int
    failed_messages: tuple[tuple[str, str], ...]
    unknown_messages: tuple[tuple[str, str], ...]
    interrupted: bool
    elapsed: float
    journal: Path
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Everything given is now sent (in this run or an earlier one)."""
        return self.sent + self.skipped == self.total


class BulkInterrupted(KeyboardInterrupt):
    """The run was interrupted; in-flight sends were finished and journaled first.

    ``report`` tells what happened up to then; ``signal`` is the signal that stopped the run.
    Uncaught, it ends the program like Ctrl-C does.
    """

    def __init__(self, report: BulkReport, signum: int = signal.SIGINT) -> None:
        super().__init__(
            f"interrupted: {report.sent} sent, {report.not_attempted} not attempted; "
            f"run again with the same journal ({report.journal}) to continue"
        )
        self.report = report
        self.signal = signum


class TokenBucket:
    """A token bucket shared by threads: ``rate`` tokens per second, at most ``burst`` saved.

    :meth:`acquire` reserves a token and waits for it, so waiting threads are served in the
    order they asked and the long-run rate never exceeds ``rate``.
    """

    def __init__(self, rate: float, burst: float = 1.0) -> None:
        if not rate > 0:
            raise UsageError(f"the sending rate must be more than 0 per second, not {rate}")
        self.rate, self.burst = float(rate), max(1.0, float(burst))
        self._tokens = self.burst
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token now, possibly on credit; returns how many seconds to wait for it."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            return max(0.0, -self._tokens / self.rate)

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Wait for a token; False if ``stop`` was set while waiting."""
        delay = self.reserve()
        if stop is None:
            if delay > 0:
                time.sleep(delay)
            return True
        if delay > 0:
            return not stop.wait(delay)
        return not stop.is_set()


class _Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception in the main thread for the duration of a run."""


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Make SIGTERM interrupt like Ctrl-C, unless the program handles SIGTERM itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except (ValueError, OSError):  # pragma: no cover - platforms without SIGTERM
        yield
        return
    if previous is not signal.SIG_DFL:
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Terminated

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Tally:
    """Counters and lists shared by the workers; every outcome is recorded by its worker."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.counts: dict[_Kind, int] = dict.fromkeys(
            ("sent", "skipped", "failed", "unknown", "not_attempted"), 0
        )
        self.attempted = 0
        self.failed: list[tuple[str, str]] = []
        self.unknown: list[tuple[str, str]] = []
        self.names: dict[str, str] = {}
        self.seen: set[str] = set()
        self.lock = threading.Lock()
        self.started = time.monotonic()

    def first_time(self, sha256: str) -> bool:
        with self.lock:
            if sha256 in self.seen:
                return False
            self.seen.add(sha256)
            return True

    def add(
        self,
        kind: _Kind,
        key: str = "",
        reason: str = "",
        *,
        attempted: bool = False,
        name: str | None = None,
    ) -> None:
        with self.lock:
            self.counts[kind] += 1
            self.attempted += attempted
            if kind in ("failed", "unknown"):
                (self.failed if kind == "failed" else self.unknown).append((key, reason))
                if name is not None:
                    self.names[key] = name

    def progress(self) -> BulkProgress:
        with self.lock:
            counts, attempted = dict(self.counts), self.attempted
        elapsed = time.monotonic() - self.started
        done = sum(counts.values()) - counts["not_attempted"]
        rate = attempted / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else None
        return BulkProgress(
            done=done,
            total=self.total,
            sent=counts["sent"],
            failed=counts["failed"],
            rate=rate,
            eta=eta,
            skipped=counts["skipped"],
            unknown=counts["unknown"],
            elapsed=elapsed,
        )

    def report(self, journal: Path, interrupted: bool) -> BulkReport:
        with self.lock:
            accounted = sum(self.counts.values())
            return BulkReport(
                total=self.total,
                sent=self.counts["sent"],
                skipped=self.counts["skipped"],
                failed=self.counts["failed"],
                unknown=self.counts["unknown"],
                not_attempted=self.counts["not_attempted"] + self.total - accounted,
                failed_messages=tuple(self.failed),
                unknown_messages=tuple(self.unknown),
                interrupted=interrupted,
                elapsed=time.monotonic() - self.started,
                journal=journal,
                names=dict(self.names),
            )


def _earlier_reason(row: JournalRow) -> str:
    if row.state == "pending":
        return (
            f"left pending at {row.updated} by a run that stopped during the send: SES may "
            "have accepted it; check before resending (resend_unknown=True resends it)"
        )
    if row.state == "unknown":
        return (
            f"in doubt since {row.updated} ({row.code}): SES may have accepted it; check "
            "before resending (resend_unknown=True resends it)"
        )
    return f"failed permanently in an earlier run, not retried: {row.error}"


@dataclass
class _Run:
    sender: Sender
    journal: Journal
    tally: _Tally
    stop: threading.Event
    bucket: TokenBucket | None
    resend_unknown: bool

    def process(self, item: bytes | Path) -> None:
        """Deal with one message and record the outcome; runs in a worker thread."""
        tally = self.tally
        if self.stop.is_set():
            tally.add("not_attempted")
            return
        name: str | None = None
        if isinstance(item, bytes | bytearray):
            data = bytes(item)
        else:
            name = str(item)
            try:
                data = Path(item).read_bytes()
            except OSError as exc:
                tally.add("failed", name, f"cannot read the file: {exc.strerror or exc}")
                return
        sha256 = digest(data)
        if not tally.first_time(sha256):
            tally.add("skipped")
            return
        row = self.journal.row(sha256)
        previous: State | None = None if row is None else row.state
        if row is not None:
            if row.state == "sent":
                tally.add("skipped")
                return
            if row.state == "failed" and row.retryable is False:
                tally.add("failed", sha256, _earlier_reason(row), name=name)
                return
            if row.in_doubt and not self.resend_unknown:
                tally.add("unknown", sha256, _earlier_reason(row), name=name)
                return
        signers = signers_json(data)
        source, destinations = envelope(data)
        if self.bucket is not None and not self.bucket.acquire(self.stop):
            tally.add("not_attempted")
            return
        if self.stop.is_set():
            tally.add("not_attempted")
            return
        claimed = self.journal.record_pending(
            sha256, len(data), signers, source, destinations, from_states=(previous,)
        )
        if not claimed:
            tally.add("skipped")  # another run took it between our look and our claim
            return
        self._send(data, sha256, name)

    def _send(self, data: bytes, sha256: str, name: str | None) -> None:
        tally, journal = self.tally, self.journal
        try:
            result = self.sender.send(data)
        except SesRuleError as exc:
            journal.mark_failed(sha256, "SesRuleError", str(exc), False, 0)
            tally.add("failed", sha256, f"{exc} (permanent: not retried)", name=name)
        except SendError as exc:
            if exc.unknown:
                journal.mark_unknown(sha256, exc.code, str(exc), exc.attempts)
                log.warning("SES may have accepted message %s: %s", sha256, exc)
                tally.add("unknown", sha256, str(exc), attempted=True, name=name)
            else:
                journal.mark_failed(sha256, exc.code, str(exc), exc.retryable, exc.attempts)
                verdict = "retryable: a re-run retries it" if exc.retryable else "permanent"
                tally.add("failed", sha256, f"{exc} ({verdict})", attempted=True, name=name)
        except Exception as exc:
            # A sender that fails in an unforeseen way may or may not have sent: in doubt.
            text = f"the sender failed unexpectedly after the message was handed over: {exc!r}"
            journal.mark_unknown(sha256, type(exc).__name__, text, 0)
            tally.add("unknown", sha256, text, attempted=True, name=name)
        except BaseException:
            journal.mark_unknown(
                sha256, "Interrupted", "interrupted during the send; SES may have it", 0
            )
            tally.add("unknown", sha256, "interrupted during the send", attempted=True, name=name)
            raise
        else:
            journal.mark_sent(sha256, result.message_id, result.attempts)
            tally.add("sent", attempted=True)


def send_many(
    messages: Iterable[bytes | Path],
    *,
    sender: Sender,
    journal: str | Path | Journal,
    rate: float | None = None,
    concurrency: int = 4,
    resend_unknown: bool = False,
    progress: Callable[[BulkProgress], None] | None = None,
) -> BulkReport:
    """Send every message (bytes, or a path to a file holding them) once, resumably.

    ``rate`` limits sends to that many per second across all threads (None: no limit);
    ``concurrency`` is the number of sending threads. What the journal already knows decides
    what is sent (see the module docstring); ``resend_unknown=True`` also resends the messages
    SES may already have. ``progress`` is called in the calling thread as messages complete.

    Raises :class:`BulkInterrupted` (with the report) when interrupted, and re-raises an
    error that stops the run (such as a journal that cannot be written) after the sends in
    flight have finished.
    """
    if concurrency < 1:
        raise UsageError(f"concurrency must be at least 1, not {concurrency}")
    bucket = None if rate is None else TokenBucket(rate)
    items = list(messages)
    own_journal = not isinstance(journal, Journal)
    store = Journal(journal) if not isinstance(journal, Journal) else journal
    tally = _Tally(len(items))
    run = _Run(sender, store, tally, threading.Event(), bucket, resend_unknown)
    interrupted: int | None = None
    error: BaseException | None = None
    in_flight: set[Future[None]] = set()

    def collect(done: set[Future[None]]) -> None:
        nonlocal interrupted, error
        for future in done:
            in_flight.discard(future)
            if future.cancelled():
                continue
            exc = future.exception()
            if isinstance(exc, KeyboardInterrupt):
                interrupted = interrupted or signal.SIGINT
            elif exc is not None and error is None:
                error = exc
        if interrupted is not None or error is not None:
            run.stop.set()

    executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="mimeseal-send")
    try:
        with _sigterm_interrupts():
            try:
                queue = iter(items)
                while not run.stop.is_set():
                    for item in queue:
                        in_flight.add(executor.submit(run.process, item))
                        if len(in_flight) >= 2 * concurrency:
                            break
                    if not in_flight:
                        break
                    done, _ = wait(in_flight, timeout=0.25, return_when=FIRST_COMPLETED)
                    collect(done)
                    if progress is not None and done:
                        progress(tally.progress())
            except KeyboardInterrupt as exc:
                interrupted = signal.SIGTERM if isinstance(exc, _Terminated) else signal.SIGINT
                run.stop.set()
            except BaseException as exc:
                error = exc
                run.stop.set()
            _drain(in_flight, collect)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        if own_journal:
            store.close()
    report = tally.report(store.path, interrupted is not None)
    if progress is not None and interrupted is None and error is None:
        progress(tally.progress())
    if error is not None:
        raise error
    if interrupted is not None:
        raise BulkInterrupted(report, interrupted)
    return report


def _drain(in_flight: set[Future[None]], collect: Callable[[set[Future[None]]], None]) -> None:
    """Let the sends in flight finish and record their outcome; further interrupts wait too."""
    for future in list(in_flight):
        if future.cancel():
            in_flight.discard(future)
    while in_flight:
        try:
            done, _ = wait(in_flight, timeout=0.25)
            collect(done)
        except KeyboardInterrupt:
            log.warning(
                "finishing %d send(s) in flight before stopping, so the journal records them",
                len(in_flight),
            )


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds) or seconds > 99 * 3600:
        return "--:--"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:d}:{secs:02d}"


def format_progress(p: BulkProgress, width: int = 80) -> str:
    """One line, at most ``width`` characters: a bar, counts, rate and ETA.

    ``[########------------]  300/1000  30%  sent 290  failed 10  41.7/s  ETA 0:16``
    """
    fraction = p.done / p.total if p.total else 1.0
    stats = f" {p.done}/{p.total} {fraction:4.0%}  sent {p.sent}"
    if p.failed:
        stats += f"  failed {p.failed}"
    if p.unknown:
        stats += f"  unknown {p.unknown}"
    if p.skipped:
        stats += f"  skipped {p.skipped}"
    stats += f"  {p.rate:.1f}/s  ETA {_duration(p.eta)}"
    room = width - len(stats) - 2
    if room < 5:
        return stats.strip()[: max(width, 0)]
    filled = min(room, int(fraction * room))
    return f"[{'#' * filled}{'-' * (room - filled)}]{stats}"
