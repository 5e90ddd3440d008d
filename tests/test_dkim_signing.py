"""Tests for mimeseal.dkim.sign: the signing policy (DESIGN.md §3, DKIM and SES).

Every signature is checked by mimeseal's verifier and, where it matters, by dkimpy.
"""

from __future__ import annotations

import base64
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import dkim as dkimpy
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from conftest import MESSAGE
from mimeseal import dkim
from mimeseal.dkim.signing import FORBIDDEN, DkimKey
from mimeseal.dkim.tags import parse_tag_list, remove_fws
from mimeseal.errors import DkimError, MimesealError, UnsupportedKeyError
from mimeseal.mime import header_boundaries, parse_headers

DOMAIN = "example.com"
NOW = 1_790_000_000  # a fixed signing time (2026-09-21), so t= and x= are exact

FULL = (
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: Bob <bob@example.org>\r\n"
    b"To: Bea <bea@example.org>\r\n"
    b"Cc: Carol <carol@example.net>\r\n"
    b"Subject: quarterly statement\r\n"
    b"Reply-To: statements@example.com\r\n"
    b"Date: Tue, 24 Nov 2026 09:00:00 +0000\r\n"
    b"Message-ID: <statement-1@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"List-Unsubscribe: <https://example.com/u/1>\r\n"
    b"X-Custom: not in the default list\r\n"
    b"Received: from somewhere by somewhere-else\r\n"
    b"\r\n"
    b"Dear Bob,\r\n"
)


class RemoteRsaKey(rsa.RSAPrivateKey):
    """An RSA key that signs elsewhere (a KMS or HSM key): only the interface, nothing else.

    ``reported_bits`` lets it claim a size its inner key does not have, to test the size
    policy without generating a key ``cryptography`` refuses to generate.
    """

    def __init__(self, inner: rsa.RSAPrivateKey, reported_bits: int | None = None) -> None:
        self._inner = inner
        self._bits = reported_bits
        self.calls = 0

    def sign(self, data: bytes, padding: Any, algorithm: Any) -> bytes:
        self.calls += 1
        return self._inner.sign(data, padding, algorithm)

    def public_key(self) -> rsa.RSAPublicKey:
        return self._inner.public_key()

    @property
    def key_size(self) -> int:
        return self._bits if self._bits is not None else self._inner.key_size

    def decrypt(self, ciphertext: bytes, padding: Any) -> bytes:
        raise NotImplementedError("a signing-only key")

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        raise NotImplementedError("the key never leaves the remote service")

    def private_bytes(self, encoding: Any, format: Any, encryption_algorithm: Any) -> bytes:
        raise NotImplementedError("the key never leaves the remote service")

    def __copy__(self) -> RemoteRsaKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> RemoteRsaKey:
        return self


class Signer:
    """Keys for selectors ``rsa`` and ``ed``, their records, and dkimpy's DNS hook."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.records = {
            dkim.record_name("rsa", DOMAIN): dkim.format_key_record(self.rsa.public_key()),
            dkim.record_name("ed", DOMAIN): dkim.format_key_record(self.ed.public_key()),
        }

    def sign(self, message: bytes, selector: str = "ed", **options: Any) -> bytes:
        key: DkimKey = self.rsa if selector == "rsa" else self.ed
        options.setdefault("timestamp", NOW)
        return dkim.sign(message, key=key, domain=DOMAIN, selector=selector, **options)

    def verify(self, message: bytes) -> list[dkim.DkimResult]:
        return dkim.verify(message, records=self.records, now=NOW + 60)

    def dnsfunc(self) -> Callable[..., bytes | None]:
        def lookup(name: bytes, timeout: int = 5) -> bytes | None:
            value = self.records.get(name.decode("ascii").rstrip(".").lower())
            return None if value is None else value.encode("ascii")

        return lookup

    def dkimpy_verifies(self, message: bytes, index: int = 0) -> bool:
        return bool(dkimpy.DKIM(message).verify(idx=index, dnsfunc=self.dnsfunc()))


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer()


def all_tags(message: bytes) -> list[dict[str, str]]:
    block_end, _ = header_boundaries(message)
    return [
        parse_tag_list(h.raw.split(b":", 1)[1].decode("ascii"), "test")
        for h in parse_headers(message[:block_end])
        if h.is_named("DKIM-Signature")
    ]


def first_tags(message: bytes) -> dict[str, str]:
    return all_tags(message)[0]


def signed_names(message: bytes) -> list[str]:
    return remove_fws(first_tags(message)["h"]).split(":")


def without_first_signature(message: bytes) -> bytes:
    block_end, _ = header_boundaries(message)
    first = next(h for h in parse_headers(message[:block_end]) if h.is_named("DKIM-Signature"))
    start = message.index(first.raw)
    return message[:start] + message[start + len(first.raw) :]


# --------------------------------------------------------------------------- h= policy


def test_default_header_list(signer: Signer) -> None:
    signed = signer.sign(FULL)
    counts = Counter(signed_names(signed))
    # From is required and oversigned; so are the others in OVERSIGNED (one more than present)
    assert counts["from"] == 2
    assert counts["to"] == 3
    assert counts["cc"] == 2
    assert counts["subject"] == 2
    assert counts["reply-to"] == 2
    assert counts["mime-version"] == 2
    assert counts["content-type"] == 2
    assert counts["list-unsubscribe"] == 2
    assert counts["list-unsubscribe-post"] == 1  # absent, listed once so it cannot be added
    # Date and Message-ID are signed once, as present
    assert counts["date"] == 1
    assert counts["message-id"] == 1
    # absent headers that are not oversigned are not listed; unknown ones are not signed
    for name in ("in-reply-to", "references", "content-transfer-encoding", "x-custom"):
        assert counts[name] == 0, name
    assert not FORBIDDEN & set(counts)
    assert signed_names(signed)[0] == "from"
    [result] = signer.verify(signed)
    assert result.passed, result.reason
    assert signer.dkimpy_verifies(signed)


def test_default_list_without_date_or_message_id(signer: Signer) -> None:
    message = b"From: a@example.com\r\nSubject: s\r\n\r\nbody\r\n"
    counts = Counter(signed_names(signer.sign(message)))
    assert counts["date"] == counts["message-id"] == 0
    assert counts["from"] == counts["subject"] == 2
    assert counts["to"] == counts["cc"] == 1


def test_explicit_headers_always_include_from(signer: Signer) -> None:
    signed = signer.sign(FULL, headers=["Subject", "X-Custom"])
    assert Counter(signed_names(signed)) == {"from": 2, "subject": 2, "x-custom": 1}
    [result] = signer.verify(signed)
    assert result.passed, result.reason


def test_ses_profile_leaves_out_what_ses_rewrites(signer: Signer) -> None:
    signed = signer.sign(FULL, profile="ses")
    names = set(signed_names(signed))
    assert not {"message-id", "date", "return-path", "bounces-to"} & names
    assert {"from", "to", "subject"} <= names
    [result] = signer.verify(signed)
    assert result.passed, result.reason
    assert signer.dkimpy_verifies(signed)


def test_ses_profile_refuses_a_second_dkim_signature(signer: Signer) -> None:
    once = signer.sign(FULL, selector="rsa")
    with pytest.raises(DkimError, match="already has a DKIM-Signature"):
        signer.sign(once, profile="ses")


@pytest.mark.parametrize("name", ["Date", "Message-ID"])
def test_ses_profile_refuses_explicit_headers_ses_rewrites(signer: Signer, name: str) -> None:
    with pytest.raises(DkimError, match="ses") as caught:
        signer.sign(FULL, profile="ses", headers=["From", name])
    assert name.lower() in str(caught.value)


@pytest.mark.parametrize(
    "name",
    [
        "Return-Path",
        "Received",
        "Bcc",
        "DKIM-Signature",
        "X-SES-Configuration-Set",
        "X-SES-Source-ARN",
        "Bounces-To",
        "Authentication-Results",
    ],
)
def test_forbidden_headers_are_refused(signer: Signer, name: str) -> None:
    with pytest.raises(DkimError, match="must not be DKIM-signed") as caught:
        signer.sign(FULL, headers=["From", "Subject", name])
    assert name.lower() in str(caught.value)


def test_unknown_profile_is_refused(signer: Signer) -> None:
    with pytest.raises(DkimError, match="unknown profile"):
        signer.sign(FULL, profile="gmail")


# --------------------------------------------------------------------------- tags


@pytest.mark.parametrize("selector", ["rsa", "ed"])
@pytest.mark.parametrize(
    "message", [FULL, MESSAGE, b"From: a@example.com\r\n\r\n"], ids=["full", "conftest", "empty"]
)
def test_never_l_always_t(signer: Signer, selector: str, message: bytes) -> None:
    for c in (("relaxed", "relaxed"), ("simple", "simple")):
        tags = first_tags(signer.sign(message, selector=selector, canonicalization=c))
        assert "l" not in tags
        assert tags["t"] == str(NOW)
        assert "x" not in tags
        assert tags["v"] == "1"
        assert tags["d"] == DOMAIN
        assert tags["s"] == selector


def test_t_defaults_to_the_clock(signer: Signer) -> None:
    before = int(datetime.now(timezone.utc).timestamp())
    tags = first_tags(
        dkim.sign(MESSAGE, key=signer.ed, domain=DOMAIN, selector="ed")  # no timestamp=
    )
    assert before <= int(tags["t"]) <= before + 5


def test_x_with_expires(signer: Signer) -> None:
    start = datetime.fromtimestamp(NOW, timezone.utc)
    signed = signer.sign(MESSAGE, expires=start + timedelta(days=7))
    tags = first_tags(signed)
    assert tags["x"] == str(NOW + 7 * 86400)
    [result] = signer.verify(signed)
    assert result.passed, result.reason
    assert result.expires == NOW + 7 * 86400
    # an integer epoch works too, and a non-UTC zone is converted
    plus_two = timezone(timedelta(hours=2))
    assert first_tags(signer.sign(MESSAGE, expires=NOW + 10))["x"] == str(NOW + 10)
    later = signer.sign(MESSAGE, expires=(start + timedelta(hours=1)).astimezone(plus_two))
    assert first_tags(later)["x"] == str(NOW + 3600)


def test_naive_expires_is_refused(signer: Signer) -> None:
    with pytest.raises(DkimError, match="timezone-aware"):
        signer.sign(MESSAGE, expires=datetime(2030, 1, 1))  # naive on purpose


def test_naive_timestamp_is_refused(signer: Signer) -> None:
    with pytest.raises(DkimError, match="timezone-aware"):
        signer.sign(MESSAGE, timestamp=datetime(2030, 1, 1))  # naive on purpose


def test_expires_not_after_signing_time_is_refused(signer: Signer) -> None:
    with pytest.raises(DkimError, match="after the signing time"):
        signer.sign(MESSAGE, expires=NOW)


@pytest.mark.parametrize(
    "identity", ["@example.com", "alice@example.com", "bounces@mail.Example.com"]
)
def test_identity_within_d_is_signed(signer: Signer, identity: str) -> None:
    signed = signer.sign(MESSAGE, identity=identity)
    assert first_tags(signed)["i"] == identity
    [result] = signer.verify(signed)
    assert result.passed, result.reason
    assert result.identity == identity
    assert signer.dkimpy_verifies(signed)


@pytest.mark.parametrize(
    "identity", ["alice@example.org", "alice@notexample.com", "example.com", "alice@com"]
)
def test_identity_outside_d_is_refused(signer: Signer, identity: str) -> None:
    with pytest.raises(DkimError, match="identity"):
        signer.sign(MESSAGE, identity=identity)


@pytest.mark.parametrize("domain", ["", "exa mple.com", "example.com;l=1", "bücher.example"])
def test_invalid_domain_is_refused(signer: Signer, domain: str) -> None:
    with pytest.raises(DkimError, match="domain"):
        dkim.sign(MESSAGE, key=signer.ed, domain=domain, selector="ed")


def test_invalid_selector_is_refused(signer: Signer) -> None:
    with pytest.raises(DkimError, match="selector"):
        dkim.sign(MESSAGE, key=signer.ed, domain=DOMAIN, selector="s=1")


def test_invalid_canonicalization_is_refused(signer: Signer) -> None:
    with pytest.raises(DkimError, match="canonicalization"):
        signer.sign(MESSAGE, canonicalization=("relaxed", "nofws"))


def test_message_without_from_is_refused(signer: Signer) -> None:
    with pytest.raises(DkimError, match="From"):
        signer.sign(b"To: b@example.org\r\nSubject: s\r\n\r\nbody\r\n")


def test_message_is_copied_byte_for_byte(signer: Signer) -> None:
    signed = signer.sign(FULL)
    assert signed.endswith(FULL)
    header = signed[: len(signed) - len(FULL)]
    assert header.startswith(b"DKIM-Signature: ")
    assert header.endswith(b"\r\n")
    assert header.count(b"DKIM-Signature") == 1
    assert all(len(line) <= 78 for line in header.split(b"\r\n"))


def test_long_h_list_folds_within_78_columns(signer: Signer) -> None:
    traces = b"".join(f"X-Trace-{n:02d}: hop {n}\r\n".encode() for n in range(40))
    message = traces + FULL
    signed = signer.sign(message, headers=[f"X-Trace-{n:02d}" for n in range(40)])
    header = signed[: len(signed) - len(message)]
    assert header.count(b"\r\n") > 5
    assert all(len(line) <= 78 for line in header.split(b"\r\n"))
    assert len(signed_names(signed)) == 40 + 2  # and From, oversigned
    [result] = signer.verify(signed)
    assert result.passed, result.reason
    assert signer.dkimpy_verifies(signed)


def test_header_name_cannot_inject_tags(signer: Signer) -> None:
    message = b"From: a@example.com\r\nX;l=5: v\r\n\r\nhello world\r\n"
    try:
        signed = signer.sign(message, headers=["X;l=5"])
    except DkimError:
        return  # refusing the name is a fix
    assert "l" not in first_tags(signed)
    [result] = signer.verify(signed)
    assert result.passed, result.reason


# --------------------------------------------------------------------------- keys


def test_stacked_rsa_and_ed25519_signatures(signer: Signer) -> None:
    both = signer.sign(signer.sign(FULL, selector="rsa"), selector="ed")
    assert [t["a"] for t in all_tags(both)] == ["ed25519-sha256", "rsa-sha256"]
    results = signer.verify(both)
    assert [(r.index, r.status, r.algorithm) for r in results] == [
        (0, "pass", "ed25519-sha256"),
        (1, "pass", "rsa-sha256"),
    ], [r.reason for r in results]
    # dkimpy's verify() checks only the first signature; check the second separately
    assert dkimpy.verify(both, dnsfunc=signer.dnsfunc())
    assert dkimpy.verify(without_first_signature(both), dnsfunc=signer.dnsfunc())
    assert signer.dkimpy_verifies(both, index=1)


def test_remote_key_signs_through_the_interface(signer: Signer) -> None:
    remote = RemoteRsaKey(signer.rsa)
    signed = dkim.sign(FULL, key=remote, domain=DOMAIN, selector="rsa", timestamp=NOW)
    assert remote.calls == 1
    [result] = signer.verify(signed)
    assert result.passed, result.reason
    assert result.key_bits == 2048


def test_rsa_under_1024_bits_is_refused(signer: Signer) -> None:
    """``cryptography`` will not generate a 512-bit key, so a key object reports that size."""
    with pytest.raises(UnsupportedKeyError, match="512-bit") as caught:
        dkim.sign(
            FULL, key=RemoteRsaKey(signer.rsa, reported_bits=512), domain=DOMAIN, selector="rsa"
        )
    assert "1024" in str(caught.value)


def test_rsa_1024_signs_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the RFC 8301 floor
    with caplog.at_level(logging.WARNING, logger="mimeseal"):
        signed = dkim.sign(FULL, key=key, domain=DOMAIN, selector="old", timestamp=NOW)
    assert "1024-bit" in caplog.text
    records = {dkim.record_name("old", DOMAIN): dkim.format_key_record(key.public_key())}
    [result] = dkim.verify(signed, records=records, now=NOW)
    assert result.passed, result.reason
    assert result.key_bits == 1024


def test_other_key_types_are_refused() -> None:
    with pytest.raises(UnsupportedKeyError, match="RSA"):
        dkim.sign(
            FULL,
            key=ec.generate_private_key(ec.SECP256R1()),  # type: ignore[arg-type]
            domain=DOMAIN,
            selector="ec",
        )


def test_ed25519_signature_is_64_octets(signer: Signer) -> None:
    tags = first_tags(signer.sign(FULL))
    assert tags["a"] == "ed25519-sha256"
    assert len(base64.b64decode(remove_fws(tags["b"]))) == 64


# --------------------------------------------------------------------------- oversigning


@pytest.mark.parametrize("name", ["To", "Subject", "From", "List-Unsubscribe-Post"])
@pytest.mark.parametrize("where", ["top", "bottom"])
def test_oversigning_prevents_an_added_header(signer: Signer, name: str, where: str) -> None:
    signed = signer.sign(FULL)
    extra = name.encode() + b": added after signing\r\n"
    if where == "top":
        tampered = extra + signed
    else:
        block_end, _ = header_boundaries(signed)
        tampered = signed[:block_end] + extra + signed[block_end:]
    [result] = signer.verify(tampered)
    if name == "From":  # a second From leaves no author, whatever h= says (RFC 6376 §8.15)
        assert result.status == "permerror"
        assert "2 From fields" in result.reason
    else:
        assert result.status == "fail"
        assert "signature" in result.reason
    assert signer.dkimpy_verifies(signed)
    assert not signer.dkimpy_verifies(tampered)


def test_headers_not_oversigned_can_be_added(signer: Signer) -> None:
    """The contrast: Date and Message-ID are signed once, so a second one above the signed
    one changes nothing signed. Readers show the top Date, so that signature fails on
    composition; Message-ID is not shown, so it passes with a note."""
    signed = signer.sign(FULL)
    [result] = signer.verify(b"Date: Wed, 25 Nov 2026 09:00:00 +0000\r\n" + signed)
    assert (result.status, result.unsigned_instances) == ("fail", ("date",)), result.reason
    assert "unsigned Date field sits above the signed one" in result.reason
    assert signer.dkimpy_verifies(b"Date: Wed, 25 Nov 2026 09:00:00 +0000\r\n" + signed)
    [result] = signer.verify(b"Message-ID: <other@example.com>\r\n" + signed)
    assert result.passed, result.reason
    assert result.unsigned_instances == ("message-id",)
    assert any("Message-Id" in note for note in result.notes)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "message",
    [b"", b" continuation first\r\n\r\n", b"no colon here\r\n\r\nbody", b"\r\nbody only"],
)
def test_unusable_messages_raise_mimeseal_errors(signer: Signer, message: bytes) -> None:
    with pytest.raises(MimesealError):
        signer.sign(message)
