"""Properties over hostile input: only verdicts or MimesealErrors come out of an entry point.

Inputs are the corpus's valid samples mutated (bit flips, truncations, repeats, boundaries,
``--``, base64 junk, folds, BEGIN/END lines, BER headers) and arbitrary bytes; ``fuzz/run.py``
runs the same strategies at scale. Limits only ever refuse: they never change a verdict.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile import Corpus, hostile, limit_error_is_consistent, load_corpus
from mimeseal import check, dkim, smime
from mimeseal.errors import LimitError, MimesealError
from mimeseal.invite import Invite
from mimeseal.limits import Limits
from mimeseal.smime.verifying import SmimeVerdict

CORPUS: Corpus = load_corpus()
MAX_MESSAGE = 2_000  # characters: hostile input must not turn into a megabyte of error text
GENEROUS = Limits(max_header_count=10**6, max_mime_parts=10**6, max_mime_depth=200)


def _examples(count: int) -> settings:
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _outcome(call: Any) -> Any:
    """The result of ``call()``, or the MimesealError it raised (anything else fails)."""
    try:
        return call()
    except MimesealError as exc:
        error = exc
    assert 0 < len(str(error)) <= MAX_MESSAGE, "say what is wrong, briefly"
    if isinstance(error, LimitError):
        assert limit_error_is_consistent(error), str(error)
    return error


#: A fixed validation time, so two verdicts on the same input are comparable.
AT = datetime(2025, 6, 1, 9, 0, tzinfo=timezone.utc)


def _smime(data: bytes, limits: Limits | None = None) -> Any:
    return _outcome(lambda: smime.verify(data, trust=CORPUS.trust, at=AT, limits=limits))


@_examples(1000)
@given(hostile(CORPUS.seeds("smime.verify")))
def test_smime_verify_gives_a_verdict_or_a_mimeseal_error(data: bytes) -> None:
    outcome = _smime(data)
    if isinstance(outcome, SmimeVerdict):
        assert isinstance(outcome.valid, bool)
        assert all(p.code and 0 < len(p.message) <= MAX_MESSAGE for p in outcome.all_problems())
        outcome.to_dict()  # every verdict serializes


@_examples(300)
@given(hostile(CORPUS.seeds("smime.verify")))
def test_limits_refuse_but_never_change_an_smime_verdict(data: bytes) -> None:
    """Raising the limits turns a refusal into a verdict; it never alters a verdict."""
    default, generous = _smime(data), _smime(data, GENEROUS)
    if isinstance(default, SmimeVerdict):
        assert isinstance(generous, SmimeVerdict)
        assert generous.to_dict() == default.to_dict()
    elif not isinstance(default, LimitError):
        assert type(generous) is type(default)


@_examples(1000)
@given(hostile(CORPUS.seeds("dkim.verify", "check")))
def test_dkim_verify_gives_results_or_a_mimeseal_error(data: bytes) -> None:
    outcome = _outcome(lambda: dkim.verify(data, records=CORPUS.records, now=CORPUS.now))
    if isinstance(outcome, list):
        assert all(r.status in ("pass", "fail", "temperror", "permerror") for r in outcome)
        assert all(0 < len(r.reason) <= MAX_MESSAGE for r in outcome)
        assert len(outcome) <= Limits().max_dkim_signatures


@_examples(300)
@given(hostile(CORPUS.seeds("check", "smime.verify")))
def test_check_gives_a_report_or_a_mimeseal_error(data: bytes) -> None:
    outcome = _outcome(
        lambda: check.check(
            data, trust=CORPUS.trust, dkim_records=CORPUS.records, now=CORPUS.now, references=False
        )
    )
    if isinstance(outcome, check.Report):
        crashed = [f.message for f in outcome.findings if f.rule == "internal-error"]
        assert crashed == [], "a checker rule raised on this input"
        outcome.to_dict()


@_examples(1000)
@given(hostile(CORPUS.seeds("invite.from_ics")))
def test_invite_from_ics_gives_an_invite_or_a_mimeseal_error(data: bytes) -> None:
    outcome = _outcome(lambda: Invite.from_ics(data))
    if isinstance(outcome, Invite):
        assert outcome.method in ("REQUEST", "PUBLISH", "CANCEL", "REPLY", "ADD", "REFRESH",
                                  "COUNTER", "DECLINECOUNTER")  # fmt: skip


@_examples(600)
@given(hostile(CORPUS.seeds("invite.from_message")))
def test_invite_from_message_gives_an_invite_or_a_mimeseal_error(data: bytes) -> None:
    outcome = _outcome(lambda: Invite.from_message(data))
    assert isinstance(outcome, (Invite, MimesealError))


@pytest.mark.parametrize(
    ("name", "value"),
    [("max_header_count", 3), ("max_header_bytes", 20), ("max_message_bytes", 100)],
)
@given(seed=st.sampled_from(CORPUS.seeds("smime.verify", "dkim.verify", "check")))
@settings(max_examples=10, deadline=None)
def test_a_tight_limit_is_named_by_every_entry_point(name: str, value: int, seed: bytes) -> None:
    limits = Limits().replace(**{name: value})
    calls = (
        lambda: smime.verify(seed, trust=CORPUS.trust, limits=limits),
        lambda: dkim.verify(seed, records=CORPUS.records, now=CORPUS.now, limits=limits),
        lambda: check.check(seed, references=False, limits=limits),
        lambda: Invite.from_message(seed, limits=limits),
    )
    for call in calls:
        with pytest.raises(LimitError) as caught:
            call()
        assert caught.value.limit == name
        assert caught.value.maximum == value
