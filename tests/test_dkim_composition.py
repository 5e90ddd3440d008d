"""Header composition ("Composition Kills", USENIX Security 2020; RFC 6376 §8.15) and the
message verdict (:func:`mimeseal.dkim.message_verdict`).

Signatures are made by ``receivers_dkim.craft_sign`` with any ``h=`` at all (mimeseal's own
signer oversigns, which closes these attacks), or by :func:`mimeseal.dkim.sign`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from mimeseal import dkim
from mimeseal.dkim import composition
from mimeseal.errors import DkimError
from receivers_dkim import craft_sign

NOW = 1_790_000_000
KEY = ed25519.Ed25519PrivateKey.generate()
OTHER = ed25519.Ed25519PrivateKey.generate()
RECORDS = {
    "sel._domainkey.example.com": dkim.format_key_record(KEY.public_key()),
    "sel._domainkey.example.net": dkim.format_key_record(OTHER.public_key()),
}
MESSAGE = (
    b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: statement\r\n"
    b"Received: from a by b\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello.\r\n"
)
NAMES = ["from", "to", "subject", "received", "content-type"]


def sign(message: bytes = MESSAGE, names: list[str] = NAMES, *, domain: str = "example.com",
         tags: dict[str, str] | None = None) -> bytes:  # fmt: skip
    key = KEY if domain == "example.com" else OTHER
    return craft_sign(
        message, key, domain=domain, selector="sel", names=names, tags=tags, timestamp=NOW
    )


def verify(message: bytes, records: dict[str, str] = RECORDS) -> list[dkim.DkimResult]:
    return dkim.verify(message, records=records, now=NOW)


# --------------------------------------------------------------------------- From fields


@pytest.mark.parametrize("names", [NAMES, ["from", "from", *NAMES], ["from", "from", "from", "to"]])
def test_a_second_from_leaves_no_author_whatever_h_lists(names: list[str]) -> None:
    signed = b"From: Mallory <mallory@example.com>\r\n" + sign(names=names)
    [result] = verify(signed)
    assert result.status == "permerror"
    assert "2 From fields" in result.reason
    assert result.composition == "multiple-from"
    verdict = dkim.message_verdict([result])
    assert (verdict.status, verdict.problems) == ("fail", ("multiple-from",))
    assert "more than one From field" in verdict.reason


def test_every_signature_says_so() -> None:
    signed = sign(sign(domain="example.net"))
    below = signed.replace(b"From: Alice", b"From: Mallory <m@example.com>\r\nFrom: Alice")
    results = verify(below)  # the second From sits below the signatures, above the body
    assert [r.status for r in results] == ["permerror", "permerror"]
    assert all(r.composition == "multiple-from" for r in results)


def test_a_malformed_signature_keeps_its_own_reason_and_the_verdict_names_from() -> None:
    signed = b"From: Mallory <m@example.com>\r\n" + sign(tags={"q": "x/y"})
    [result] = verify(signed)
    assert result.status == "permerror"
    assert "q=" in result.reason
    assert result.composition == "multiple-from"
    assert "From" in dkim.message_verdict([result]).reason


@pytest.mark.parametrize(
    "value", [b"undisclosed-recipients:;", b"Alice", b"<>", b"@example.com", b"x:" * 100]
)
def test_a_from_without_a_mailbox_leaves_no_author(value: bytes) -> None:
    message = MESSAGE.replace(b"Alice <alice@example.com>", value)
    [result] = verify(sign(message))
    assert result.status == "permerror"
    assert result.composition == "no-author"
    assert "no parseable mailbox" in result.reason


def test_no_from_at_all_leaves_no_author() -> None:
    message = MESSAGE.replace(b"From: Alice <alice@example.com>\r\n", b"")
    [result] = verify(sign(message))  # h= lists from: nothing selected, still a valid hash
    assert (result.status, result.composition) == ("permerror", "no-author")


def test_several_mailboxes_in_one_from_are_one_signed_field_with_a_note() -> None:
    message = MESSAGE.replace(b"Alice <alice@example.com>", b"alice@example.com, eve@example.com")
    [result] = verify(sign(message))
    assert result.status == "pass", result.reason
    assert any("2 mailboxes" in note and "Sender" in note for note in result.notes)
    with_sender = message.replace(b"To:", b"Sender: alice@example.com\r\nTo:")
    [result] = verify(sign(with_sender))
    assert result.passed
    assert not any("mailboxes" in note for note in result.notes)


# --------------------------------------------------------------------------- unsigned instances


@pytest.mark.parametrize(
    ("field", "name"),
    [(b"Subject: urgent", "Subject"), (b"To: eve@example.net", "To"),
     (b"Content-Type: text/html", "Content-Type")],
)  # fmt: skip
def test_an_unsigned_shown_field_above_the_signed_one_fails(field: bytes, name: str) -> None:
    signed = field + b"\r\n" + sign()
    [result] = verify(signed)
    assert result.status == "fail"
    assert f"unsigned {name} field sits above the signed one" in result.reason
    assert result.unsigned_instances == (name.lower(),)
    assert result.composition == "unsigned-above-signed"
    assert dkim.message_verdict([result]).problems == ("unsigned-above-signed",)


def test_an_unsigned_field_readers_do_not_show_is_a_note() -> None:
    signed = b"Received: from c by d\r\nReceived: from e by f\r\n" + sign()
    [result] = verify(signed)
    assert result.status == "pass", result.reason
    assert result.unsigned_instances == ("received", "received")
    assert any("Received" in note for note in result.notes)
    assert dkim.message_verdict([result]).authenticated


def test_a_field_the_signature_never_signed_is_not_above_a_signed_one() -> None:
    signed = b"Reply-To: eve@example.net\r\n" + sign()  # h= has no reply-to at all
    [result] = verify(signed)
    assert result.passed
    assert result.unsigned_instances == ()


def test_oversigning_turns_the_attack_into_a_broken_signature() -> None:
    signed = b"Subject: urgent\r\n" + sign(names=[*NAMES, "subject"])
    [result] = verify(signed)
    assert result.status == "fail"
    assert "signature did not verify" in result.reason
    assert result.unsigned_instances == ()


def test_mimeseal_signatures_are_oversigned_so_added_fields_break_them() -> None:
    signed = dkim.sign(MESSAGE, key=KEY, domain="example.com", selector="sel", timestamp=NOW)
    [result] = verify(b"Subject: urgent\r\n" + signed)
    assert "signature did not verify" in result.reason


def test_helpers() -> None:
    assert composition.display_name("content-transfer-encoding") == "Content-Transfer-Encoding"
    assert composition.shown_unsigned(["received", "subject", "subject"]) == ["subject"]


# --------------------------------------------------------------------------- the message verdict


def test_verdict_none_pass_and_domains() -> None:
    assert dkim.message_verdict([]).status == "none"
    both = verify(sign(sign(), domain="example.net"))
    verdict = dkim.message_verdict(both)
    assert verdict.authenticated
    assert verdict.domains == ("example.net", "example.com")
    assert verdict.to_dict()["domains"] == ["example.net", "example.com"]


def test_one_passing_signature_authenticates_beside_a_failing_one() -> None:
    records = {**RECORDS, "sel._domainkey.example.net": RECORDS["sel._domainkey.example.com"]}
    results = verify(sign(sign(), domain="example.net"), records)
    assert [r.status for r in results] == ["fail", "pass"]
    verdict = dkim.message_verdict(results)
    assert (verdict.status, verdict.domains) == ("pass", ("example.com",))


def test_testing_keys_do_not_count() -> None:
    p = RECORDS["sel._domainkey.example.com"].split("p=")[1]
    testing = {**RECORDS, "sel._domainkey.example.com": f"v=DKIM1; k=ed25519; t=y; p={p}"}
    [result] = verify(sign(), testing)
    assert result.status == "pass"
    assert result.testing
    assert not result.authenticates
    verdict = dkim.message_verdict([result])
    assert (verdict.status, verdict.testing_domains) == ("testing", ("example.com",))
    assert "t=y" in verdict.reason
    mixed = dkim.message_verdict(verify(sign(sign(), domain="example.net"), testing))
    assert (mixed.status, mixed.domains, mixed.testing_domains) == (
        "pass", ("example.net",), ("example.com",)
    )  # fmt: skip


def test_verdict_fail_and_temperror() -> None:
    [missing] = verify(sign(), {})
    verdict = dkim.message_verdict([missing])
    assert verdict.status == "fail"
    assert "no key record" in verdict.reason

    def broken(name: str) -> str | None:
        raise TimeoutError("SERVFAIL")

    [temporary] = dkim.verify(sign(), records=broken, now=NOW)
    assert dkim.message_verdict([temporary, missing]).status == "temperror"


# --------------------------------------------------------------------------- the clock


def test_now_must_be_timezone_aware() -> None:
    signed = sign(tags={"x": str(NOW + 60)})
    with pytest.raises(DkimError, match="naive"):
        dkim.verify(signed, records=RECORDS, now=datetime(2026, 9, 21, 12, 0))
    aware = datetime.fromtimestamp(NOW, timezone(timedelta(hours=-7)))
    assert dkim.verify(signed, records=RECORDS, now=aware)[0].passed
    later = aware + timedelta(minutes=2)
    assert dkim.verify(signed, records=RECORDS, now=later)[0].status == "fail"
    with pytest.raises(DkimError, match="POSIX seconds"):
        dkim.verify(signed, records=RECORDS, now="2026-09-21")  # type: ignore[arg-type]
