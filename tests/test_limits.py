"""mimeseal.limits: the settings object, its errors and the MIME part budget."""

from __future__ import annotations

import dataclasses

import pytest

from mimeseal import dkim
from mimeseal.errors import LimitError, MimesealError
from mimeseal.limits import (
    DEFAULT_LIMITS,
    DEPTH_CEILING,
    UNLIMITED,
    Limits,
    PartBudget,
    check,
    limit_error,
    resolve,
    shown,
)


def test_defaults_are_the_documented_values() -> None:
    assert Limits() == DEFAULT_LIMITS
    assert DEFAULT_LIMITS.max_message_bytes == 50 * 1024 * 1024  # above SES's 40 MB
    assert DEFAULT_LIMITS.max_header_count == 1_000
    assert DEFAULT_LIMITS.max_mime_depth == 32
    assert DEFAULT_LIMITS.max_chain_length == 10


def test_every_field_says_why() -> None:
    for item in dataclasses.fields(Limits):
        assert len(Limits.why(item.name)) > 20, item.name


def test_limits_are_frozen_and_replace_makes_a_copy() -> None:
    raised = DEFAULT_LIMITS.replace(max_header_count=5_000)
    assert raised.max_header_count == 5_000
    assert DEFAULT_LIMITS.max_header_count == 1_000
    assert raised.max_mime_parts == DEFAULT_LIMITS.max_mime_parts
    with pytest.raises(dataclasses.FrozenInstanceError):
        raised.max_header_count = 1  # type: ignore[misc]


def test_replace_refuses_unknown_fields() -> None:
    with pytest.raises(TypeError):
        DEFAULT_LIMITS.replace(max_everything=1)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "10"])
def test_limits_must_be_positive_ints(bad: object) -> None:
    with pytest.raises(ValueError, match="max_header_count must be a positive int"):
        Limits(max_header_count=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["max_mime_depth", "max_ics_depth"])
def test_depth_limits_stop_at_the_ceiling(name: str) -> None:
    assert getattr(Limits().replace(**{name: DEPTH_CEILING}), name) == DEPTH_CEILING
    with pytest.raises(ValueError, match="exhaust Python's stack"):
        Limits().replace(**{name: DEPTH_CEILING + 1})


def test_resolve_gives_the_defaults_for_none() -> None:
    mine = Limits(max_signers=2)
    assert resolve(None) is DEFAULT_LIMITS
    assert resolve(mine) is mine


def test_limit_error_says_what_was_found_allowed_and_what_to_do() -> None:
    exc = limit_error("max_header_count", 100_000, 1_000, "header fields")
    assert isinstance(exc, LimitError)
    assert isinstance(exc, MimesealError)
    assert (exc.limit, exc.value, exc.maximum) == ("max_header_count", 100_000, 1_000)
    text = str(exc)
    assert "header fields: 100,000 found, at most 1,000 allowed" in text
    assert "limits=Limits(max_header_count=…)" in text
    assert Limits.why("max_header_count") in text


def test_limit_error_when_counting_stopped_early() -> None:
    text = str(limit_error("max_mime_parts", 1_001, 1_000, "MIME parts", at_least=True))
    assert "more than 1,000 found" in text


def test_check_passes_at_the_limit_and_raises_past_it() -> None:
    limits = Limits(max_signers=2)
    check(limits, "max_signers", 2, "SignerInfos")
    with pytest.raises(LimitError) as caught:
        check(limits, "max_signers", 3, "SignerInfos")
    assert (caught.value.value, caught.value.maximum) == (3, 2)


def test_part_budget_counts_parts_across_levels() -> None:
    budget = PartBudget(Limits(max_mime_parts=5))
    budget.add(3)
    assert budget.remaining() == 2
    budget.add(2)
    with pytest.raises(LimitError) as caught:
        budget.add(1)
    assert caught.value.limit == "max_mime_parts"


def test_part_budget_checks_depth() -> None:
    budget = PartBudget(Limits(max_mime_depth=2))
    budget.enter(0)
    budget.enter(2)
    with pytest.raises(LimitError, match="nested") as caught:
        budget.enter(3)
    assert caught.value.limit == "max_mime_depth"


def test_unlimited_keeps_only_the_recursion_ceiling() -> None:
    """What signing uses for the sender's own message."""
    assert UNLIMITED.max_header_count > 10**12
    assert UNLIMITED.max_message_bytes > 10**12
    assert UNLIMITED.max_mime_depth == DEPTH_CEILING
    assert UNLIMITED.max_ics_depth == DEPTH_CEILING


def test_shown_cuts_hostile_text_for_messages() -> None:
    assert shown("sha-256") == "sha-256"
    cut = shown("a" * 10_000)
    assert len(cut) == 60
    assert cut.endswith("…")
    assert shown(12345, width=3) == "12…"


def test_header_block_size_is_bounded_before_fields_are_read() -> None:
    block = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1_500) for i in range(800))  # ~1.2 MB
    message = block + b"\r\nbody\r\n"
    with pytest.raises(LimitError) as info:
        dkim.verify(message, records={})
    assert (info.value.limit, info.value.maximum) == ("max_header_block_bytes", 1024 * 1024)
    roomy = Limits().replace(max_header_block_bytes=2 * 1024 * 1024)
    assert dkim.verify(message, records={}, limits=roomy) == []
