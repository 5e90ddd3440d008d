"""The send journal: one SQLite row per message, keyed by the SHA-256 of its exact bytes.

The journal makes bulk sending resumable and doubles as the audit record of what was sent and
who signed it. Every state change is one committed transaction, so killing the process at any
moment leaves every row in a valid state. A row is written as ``pending`` *before* the network
call: a crash during the call leaves ``pending``, which a later run treats like ``unknown`` (the
message may have been sent) — such rows are listed, never resent blindly.

States::

    pending  the send was about to start, or is in progress; outside a running send it means
             the process stopped during the call: SES may or may not have the message
    sent     SES accepted it (message_id is SES's id)
    failed   SES refused it, or it could not be delivered to SES; ``retryable`` says whether a
             later run retries it (throttling, 5xx, connection errors) or not (MessageRejected,
             unverified identity, a pre-send rule, ...)
    unknown  no answer arrived after the request went out (a read timeout, a dropped
             connection): SES may have accepted it. Not resent unless asked to.

Schema (``PRAGMA user_version`` = 1; WAL journal mode, ``synchronous=FULL``)::

    CREATE TABLE messages (
        sha256       TEXT PRIMARY KEY,   -- hex SHA-256 of the exact bytes handed to SES
        state        TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'unknown')),
        size         INTEGER NOT NULL,   -- octets
        signers      TEXT NOT NULL,      -- JSON, see below
        source       TEXT,               -- envelope sender (the From address when none given)
        destinations TEXT NOT NULL,      -- JSON list of recipients (To + Cc when none given)
        message_id   TEXT,               -- SES MessageId once sent
        code         TEXT,               -- error code of the last failure (SES, SMTP, rule)
        error        TEXT,               -- error message of the last failure
        retryable    INTEGER,            -- 1/0 for failed and unknown rows, NULL otherwise
        attempts     INTEGER NOT NULL,   -- network attempts over all runs
        created      TEXT NOT NULL,      -- ISO 8601 UTC, first time the message was seen
        updated      TEXT NOT NULL       -- ISO 8601 UTC, last state change
    );
    CREATE TABLE events (                -- append-only history: one row per state change
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        sha256       TEXT NOT NULL REFERENCES messages (sha256),
        at           TEXT NOT NULL,      -- ISO 8601 UTC
        state        TEXT NOT NULL,      -- the state entered
        attempts     INTEGER NOT NULL,   -- attempts made in this step
        code TEXT, error TEXT, message_id TEXT
    );

``signers`` is what :func:`signer_identities` found in the message::

    {"smime": [{"path": "", "sha256": "<certificate fingerprint>", "emails": ["a@example.com"],
                "subject": "CN=..."}],
     "dkim":  [{"d": "example.com", "s": "sel1", "a": "rsa-sha256"}],
     "errors": ["why something could not be read"]}

The journal is safe to share between threads (one connection behind a lock) and can be read
by other processes while a run is in progress (WAL readers see the last committed state).
One run at a time should write to a journal; :meth:`Journal.record_pending` is a
compare-and-set, so two runs never both claim the same message.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from mimeseal import cms
from mimeseal.check.view import build_view
from mimeseal.errors import MimesealError, OutputError, UsageError
from mimeseal.keys import certificate_addresses
from mimeseal.smime.parts import iter_signed_entities

__all__ = ["STATES", "Journal", "JournalRow", "State", "signer_identities", "signers_json"]

State = Literal["pending", "sent", "failed", "unknown"]
STATES: tuple[State, ...] = ("pending", "sent", "failed", "unknown")
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    sha256       TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'unknown')),
    size         INTEGER NOT NULL,
    signers      TEXT NOT NULL,
    source       TEXT,
    destinations TEXT NOT NULL,
    message_id   TEXT,
    code         TEXT,
    error        TEXT,
    retryable    INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_state ON messages (state);
CREATE TABLE IF NOT EXISTS events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256       TEXT NOT NULL REFERENCES messages (sha256),
    at           TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    code         TEXT,
    error        TEXT,
    message_id   TEXT
);
CREATE INDEX IF NOT EXISTS events_sha256 ON events (sha256);
"""

_COLUMNS = (
    "sha256, state, message_id, error, code, retryable, attempts, created, updated, signers, "
    "size, source, destinations"
)


@dataclass(frozen=True)
class JournalRow:
    """One message in the journal. ``signers`` is the JSON text described in the module."""

    sha256: str
    state: State
    message_id: str | None
    error: str | None
    code: str | None
    retryable: bool | None
    attempts: int
    created: str
    updated: str
    signers: str
    size: int
    source: str | None = None
    destinations: tuple[str, ...] = ()

    @property
    def in_doubt(self) -> bool:
        """SES may or may not have this message: ``unknown``, or ``pending`` outside a run."""
        return self.state in ("unknown", "pending")

    def signer_identities(self) -> dict[str, Any]:
        return cast("dict[str, Any]", json.loads(self.signers))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Journal:
    """The SQLite send journal at ``path`` (created if missing). Use as a context manager."""

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                str(self.path), timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise OutputError(f"cannot open the send journal {self.path}: {exc}") from None
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise UsageError(
                f"{self.path} cannot be used as a send journal ({exc}); give another file name"
            ) from None
        except MimesealError:
            self._db.close()
            raise

    def _setup(self) -> None:
        db = self._db
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise UsageError(f"{self.path}: SQLite refused WAL mode ({mode}); use a local disk")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        with self._transaction():
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            tables = {
                str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if version == 0 and not tables - {"sqlite_sequence"}:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION or "messages" not in tables:
                raise UsageError(
                    f"{self.path} is not a mimeseal send journal (schema version {version}, "
                    f"expected {SCHEMA_VERSION}); give another file name"
                )

    # --- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` … ``COMMIT``: all of it is stored, or none of it."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _event(
        db: sqlite3.Connection,
        sha256: str,
        at: str,
        state: State,
        attempts: int,
        code: str | None = None,
        error: str | None = None,
        message_id: str | None = None,
    ) -> None:
        db.execute(
            "INSERT INTO events (sha256, at, state, attempts, code, error, message_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (sha256, at, state, attempts, code, error, message_id),
        )

    def _finish(
        self,
        sha256: str,
        state: State,
        attempts: int,
        *,
        message_id: str | None = None,
        code: str | None = None,
        error: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        now = _now()
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE messages SET state = ?, message_id = ?, code = ?, error = ?, "
                "retryable = ?, attempts = attempts + ?, updated = ? WHERE sha256 = ?",
                (
                    state,
                    message_id,
                    code,
                    error,
                    None if retryable is None else int(retryable),
                    attempts,
                    now,
                    sha256,
                ),
            ).rowcount
            if changed != 1:
                raise UsageError(
                    f"message {sha256} is not in the journal; record_pending() comes first"
                )
            self._event(db, sha256, now, state, attempts, code, error, message_id)

    # --- state changes ------------------------------------------------------------------------

    def record_pending(
        self,
        sha256: str,
        size: int,
        signers: str,
        source: str | None = None,
        destinations: Sequence[str] = (),
        *,
        from_states: Collection[str | None] = (None, "failed", "unknown"),
    ) -> bool:
        """Claim a message for sending: store it as ``pending`` before the network call.

        A compare-and-set: the row must be in one of ``from_states`` (None: no row yet). The
        default never takes over a ``sent`` row or another run's ``pending`` one. Returns False,
        changing nothing, when the row is in any other state: the caller must not send.
        """
        now = _now()
        with self._transaction() as db:
            found = db.execute("SELECT state FROM messages WHERE sha256 = ?", (sha256,)).fetchone()
            current = None if found is None else str(found[0])
            if current not in from_states:
                return False
            if found is None:
                db.execute(
                    "INSERT INTO messages (sha256, state, size, signers, source, destinations, "
                    "attempts, created, updated) VALUES (?, 'pending', ?, ?, ?, ?, 0, ?, ?)",
                    (sha256, size, signers, source, json.dumps(list(destinations)), now, now),
                )
            else:
                db.execute(
                    "UPDATE messages SET state = 'pending', size = ?, signers = ?, source = ?, "
                    "destinations = ?, message_id = NULL, code = NULL, error = NULL, "
                    "retryable = NULL, updated = ? WHERE sha256 = ?",
                    (size, signers, source, json.dumps(list(destinations)), now, sha256),
                )
            self._event(db, sha256, now, "pending", 0)
            return True

    def mark_sent(self, sha256: str, message_id: str, attempts: int) -> None:
        """SES accepted the message; ``attempts`` made in this step are added to the total."""
        self._finish(sha256, "sent", attempts, message_id=message_id)

    def mark_failed(
        self, sha256: str, code: str | None, error: str, retryable: bool, attempts: int
    ) -> None:
        """SES refused the message or could not be reached; ``retryable``: try again later."""
        self._finish(sha256, "failed", attempts, code=code, error=error, retryable=retryable)

    def mark_unknown(self, sha256: str, code: str | None, error: str, attempts: int) -> None:
        """The request went out but no answer came back: SES may have the message."""
        self._finish(sha256, "unknown", attempts, code=code, error=error, retryable=True)

    # --- reading ------------------------------------------------------------------------------

    def state(self, sha256: str) -> State | None:
        with self._lock:
            found = self._db.execute(
                "SELECT state FROM messages WHERE sha256 = ?", (sha256,)
            ).fetchone()
        return None if found is None else cast("State", str(found[0]))

    def row(self, sha256: str) -> JournalRow | None:
        with self._lock:
            found = self._db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE sha256 = ?",  # noqa: S608 - constant
                (sha256,),
            ).fetchone()
        return None if found is None else _row(found)

    def rows(self, *states: State) -> list[JournalRow]:
        """Every row (or those in ``states``), in the order the messages were first seen."""
        query = f"SELECT {_COLUMNS} FROM messages"  # noqa: S608 - constant column list
        arguments: tuple[str, ...] = ()
        if states:
            query += f" WHERE state IN ({', '.join('?' for _ in states)})"
            arguments = tuple(states)
        with self._lock:
            found = self._db.execute(query + " ORDER BY created, rowid", arguments).fetchall()
        return [_row(r) for r in found]

    def in_doubt(self) -> list[JournalRow]:
        """Rows SES may or may not have: ``unknown``, and ``pending`` left by a stopped run.

        Check the SES side (CloudWatch metrics, event destinations, the recipients' mailboxes)
        before resending any of them.
        """
        return self.rows("unknown", "pending")

    def events(self, sha256: str) -> list[tuple[str, str, int, str | None, str | None]]:
        """The history of one message: (at, state, attempts, code, error), oldest first."""
        with self._lock:
            found = self._db.execute(
                "SELECT at, state, attempts, code, error FROM events WHERE sha256 = ? ORDER BY id",
                (sha256,),
            ).fetchall()
        return [(str(a), str(s), int(n), c, e) for a, s, n, c, e in found]

    def summary(self) -> dict[State, int]:
        """How many rows are in each state; every state is present, zero or not."""
        with self._lock:
            found = dict(
                self._db.execute("SELECT state, COUNT(*) FROM messages GROUP BY state").fetchall()
            )
        return {state: int(found.get(state, 0)) for state in STATES}


def _row(values: Sequence[Any]) -> JournalRow:
    (sha256, state, message_id, error, code, retryable, attempts, created, updated, signers,
     size, source, destinations) = values  # fmt: skip
    return JournalRow(
        sha256=sha256,
        state=state,
        message_id=message_id,
        error=error,
        code=code,
        retryable=None if retryable is None else bool(retryable),
        attempts=int(attempts),
        created=created,
        updated=updated,
        signers=signers,
        size=int(size),
        source=source,
        destinations=tuple(json.loads(destinations)),
    )


# --- signer identities ----------------------------------------------------------------------


def signer_identities(message: bytes) -> dict[str, Any]:
    """Who signed ``message``: S/MIME signer certificates and DKIM ``d=``/``s=`` pairs.

    Nothing is verified here (the checker and verifiers do that); this records the identities
    the message claims, for the audit trail. What cannot be read is noted under ``errors``
    instead of stopping the send.
    """
    found: dict[str, Any] = {"smime": [], "dkim": [], "errors": []}
    try:
        view = build_view(message)
    except (MimesealError, ValueError) as exc:
        found["errors"].append(f"message: {exc}")
        return found
    for signature in view.dkim:
        if signature.tags is None:
            found["errors"].append(f"DKIM-Signature {signature.index + 1}: {signature.error}")
            continue
        entry = {k: signature.tags[k] for k in ("d", "s", "a") if k in signature.tags}
        found["dkim"].append(entry)
    try:
        entities = list(iter_signed_entities(view.canonical))
    except (MimesealError, ValueError) as exc:
        found["errors"].append(f"S/MIME: {exc}")
        entities = []
    for entity in entities:
        try:
            parsed = cms.parse_signed_data(entity.cms_der)
        except MimesealError as exc:
            found["errors"].append(f"S/MIME part {entity.path or 'root'}: {exc}")
            continue
        for signer_info in parsed.signer_infos:
            cert = cms.signer_certificate(signer_info, parsed.certificates)
            if cert is None:
                found["smime"].append(
                    {"path": entity.path, "sha256": None, "emails": [], "subject": None}
                )
                found["errors"].append(
                    f"S/MIME part {entity.path or 'root'}: a signer's certificate is not in "
                    "the message"
                )
                continue
            found["smime"].append(_certificate_entry(entity.path, cert))
    return found


def _certificate_entry(path: str, cert: x509.Certificate) -> dict[str, Any]:
    try:
        emails = list(certificate_addresses(cert))
    except MimesealError:
        emails = []
    try:
        subject: str | None = cert.subject.rfc4514_string()
    except ValueError:
        subject = None
    return {
        "path": path,
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
        "emails": emails,
        "subject": subject,
    }


def signers_json(message: bytes) -> str:
    """:func:`signer_identities` as the compact, key-sorted JSON the journal stores."""
    return json.dumps(signer_identities(message), sort_keys=True, separators=(",", ":"))
