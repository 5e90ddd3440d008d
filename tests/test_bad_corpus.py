"""The ``fixtures/bad`` corpus: every hostile input gives exactly its declared outcome, fast.

Each manifest entry names a file, the entry point it attacks and the expected outcome (an
exact error class, the limit for a LimitError, or a verdict). The verdicts are judged at
fixed instants, so they never change with the calendar.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from hostile import (
    CORPUS,
    Corpus,
    Entry,
    limit_error_is_consistent,
    load_corpus,
    mismatch,
    outcome_of,
)
from mimeseal.errors import LimitError

TIME_BOUND = 5.0  # seconds per input
_CORPUS = load_corpus()


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return _CORPUS


def test_manifest_has_at_least_forty_entries_and_files(corpus: Corpus) -> None:
    assert len(corpus.entries) >= 40
    assert len({e.file for e in corpus.entries}) >= 40
    assert len({e.id for e in corpus.entries}) == len(corpus.entries), "ids must be unique"


def test_every_file_in_the_folder_is_listed(corpus: Corpus) -> None:
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_file()}
    listed = {e.file for e in corpus.entries} | set(corpus.support)
    assert on_disk - listed == set(), "files missing from manifest.json"
    assert listed - on_disk == set(), "manifest.json names files that do not exist"


def test_corpus_stays_small(corpus: Corpus) -> None:
    total = sum(p.stat().st_size for p in CORPUS.iterdir() if p.is_file())
    assert total < 5 * 1024 * 1024


def test_every_entry_point_is_attacked(corpus: Corpus) -> None:
    targets = {e.target for e in corpus.entries}
    assert {"smime.verify", "dkim.verify", "check", "invite.from_ics"} <= targets
    assert {"invite.from_message", "keys.load_pkcs12"} <= targets


@pytest.mark.parametrize("entry", _CORPUS.entries, ids=[e.id for e in _CORPUS.entries])
def test_entry_gives_its_declared_outcome(entry: Entry, corpus: Corpus) -> None:
    started = time.perf_counter()
    outcome = outcome_of(entry, corpus)
    elapsed = time.perf_counter() - started
    assert mismatch(entry, outcome) is None, f"{entry.id}: {mismatch(entry, outcome)}"
    assert elapsed < TIME_BOUND, f"{entry.id} took {elapsed:.1f} s"
    if isinstance(outcome, LimitError):
        assert limit_error_is_consistent(outcome), str(outcome)
        assert "if this input is legitimate" in str(outcome)


def test_the_generator_reproduces_the_corpus_byte_for_byte(tmp_path: Path) -> None:
    """The committed files are exactly what make_corpus.py writes (it is deterministic)."""
    subprocess.run(
        [sys.executable, str(CORPUS / "make_corpus.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    generated = {p.name for p in tmp_path.iterdir() if p.is_file()}
    sources = {"README.md", "builders.py", "make_corpus.py"}
    committed = {p.name for p in CORPUS.iterdir() if p.is_file()} - sources
    assert generated == committed
    for name in sorted(generated):
        assert (tmp_path / name).read_bytes() == (CORPUS / name).read_bytes(), name
