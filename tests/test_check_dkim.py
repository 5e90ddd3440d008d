"""The checker's DKIM verdicts agree with :func:`mimeseal.dkim.message_verdict`, and its
``dkim-malformed`` rule applies the verifier's tag grammar (RFC 6376 §3.5)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from mimeseal import check as checker
from mimeseal import dkim
from receivers_dkim import craft_sign

KEY = ed25519.Ed25519PrivateKey.generate()
NAME = "s1._domainkey.example.com"
RECORD = dkim.format_key_record(KEY.public_key())
TESTING = RECORD.replace("k=ed25519;", "k=ed25519; t=y;")
MESSAGE = (
    b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: statement\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello.\r\n"
)


def signed(**tags: str) -> bytes:
    names = ["from", "to", "subject", "mime-version", "content-type"]
    return craft_sign(MESSAGE, KEY, selector="s1", names=names, tags=tags)


def report(message: bytes, record: str = RECORD) -> checker.Report:
    return checker.check(message, profile="smtp", dkim_records={NAME: record}, references=False)


@pytest.mark.parametrize(
    ("message", "record"),
    [
        (signed(), RECORD),
        (signed(), TESTING),
        (b"From: Mallory <m@example.com>\r\n" + signed(), RECORD),
        (b"Subject: urgent\r\n" + signed(), RECORD),
        (signed().replace(b"Hello.", b"Hullo."), RECORD),
        (signed(q="x/y"), RECORD),
    ],
    ids=["valid", "testing-key", "two-from", "subject-above", "tampered", "bad-q"],
)
def test_checker_rows_agree_with_the_message_verdict(message: bytes, record: str) -> None:
    results = dkim.verify(message, records={NAME: record})
    verdict = dkim.message_verdict(results)
    [row] = [r for r in report(message, record).signatures if r.kind == "dkim"]
    assert row.valid == verdict.authenticated


def test_a_testing_key_is_an_invalid_signature_in_the_checker() -> None:
    found = report(signed(), TESTING)
    invalid = [f for f in found.errors if f.rule == "signature-invalid"]
    assert len(invalid) == 1
    assert "t=y" in invalid[0].message
    assert "treat the message as unsigned" in invalid[0].message


def test_two_from_fields_are_named_in_the_checker() -> None:
    found = report(b"From: Mallory <m@example.com>\r\n" + signed())
    rules = {f.rule for f in found.errors}
    assert {"signature-invalid", "multiple-from"} <= rules
    [invalid] = [f for f in found.errors if f.rule == "signature-invalid"]
    assert "2 From fields" in invalid.message


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        ({"i": "mail.example.com"}, "has no '@'"),
        ({"q": "https/json"}, "names no query method"),
        ({"t": "1234567890123"}, "1 to 12 digits"),
        ({"h": "from::to"}, "no empty names"),
        ({"s": "s_1"}, "is not a selector"),
    ],
)
def test_dkim_malformed_uses_the_verifier_grammar(tags: dict[str, str], problem: str) -> None:
    message = signed(**tags)
    found = [f for f in report(message).errors if f.rule == "dkim-malformed"]
    assert any(problem in f.message for f in found), [f.message for f in found]
    [result] = dkim.verify(message, records={NAME: RECORD})
    assert result.status == "permerror"
    assert problem in result.reason
    assert not [f for f in report(signed()).errors if f.rule == "dkim-malformed"]
