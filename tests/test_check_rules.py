"""The lint rules: every rule fires on a message that breaks it and stays quiet on a clean one.

The table ``CASES`` holds, for every rule in ``RULES``, a triggering and a clean message and the
severity expected under a profile; messages that need keys are built once per module.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hostile
from conftest import MESSAGE, DevPki
from mimeseal import dkim, keys, pki, smime
from mimeseal.check.findings import Finding, Severity
from mimeseal.check.profiles import SES, SES_V1_LIMIT, SMTP, STRICT, Profile
from mimeseal.check.rules import INTERNAL_ERROR, MAX_HITS, RULES, Hit, Rule, explain, run_rules
from mimeseal.check.rules_dkim import rsa_bits
from mimeseal.check.view import MessageView, build_view
from mimeseal.compose import compose
from mimeseal.errors import LimitError, MimesealError, UsageError
from mimeseal.invite import Attendee, Invite, Person, to_message

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime.now(timezone.utc)


def findings(message: bytes, profile: Profile = SES) -> list[Finding]:
    return run_rules(build_view(message), profile)


def severities(message: bytes, rule: str, profile: Profile = SES) -> set[Severity]:
    return {f.severity for f in findings(message, profile) if f.rule == rule}


def without(message: bytes, name: bytes) -> bytes:
    """``message`` without the top-level header ``name``."""
    return re.sub(rb"(?im)^" + re.escape(name) + rb":[^\r\n]*\r\n", b"", message, count=1)


def with_headers(message: bytes, *lines: bytes) -> bytes:
    return b"".join(line + b"\r\n" for line in lines) + message


HEAD = (
    b"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: test\r\n"
    b"Date: Tue, 24 Nov 2026 09:00:00 +0000\r\nMessage-ID: <t-1@example.com>\r\n"
)


def mixed(*parts: bytes, boundary: bytes = b"XYZ", close: bool = True, mime: bool = True) -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    body += b"--" + boundary + b"--\r\n" if close else b""
    version = b"MIME-Version: 1.0\r\n" if mime else b""
    return (
        HEAD + version + b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n'
    ) + body


TEXT_PART = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nhello"


def attachment(disposition: bytes) -> bytes:
    return mixed(
        TEXT_PART,
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: " + disposition + b"\r\n\r\nAAAA",
    )


def dkim_header(**tags: str) -> bytes:
    """A DKIM-Signature header with plausible values (no real signature: rules read tags)."""
    values = {
        "v": "1",
        "a": "rsa-sha256",
        "c": "relaxed/relaxed",
        "d": "example.com",
        "s": "s1",
        "t": "1790000000",
        "h": "from:from:to:to:subject:subject",
        "bh": base64.b64encode(bytes(32)).decode(),
        "b": base64.b64encode(bytes(256)).decode(),
    }
    values.update(tags)
    text = "; ".join(f"{k}={v}" for k, v in values.items() if v != "-")
    return b"DKIM-Signature: " + text.encode() + b"\r\n"


def signed_by_hand(**tags: str) -> bytes:
    return dkim_header(**tags) + MESSAGE


class Env:
    """Messages that need keys, certificates or invitations; each made once, when first used."""

    def __init__(self, rsa_pki: DevPki) -> None:
        self.pki = rsa_pki

    def sign(self, message: bytes, bundle: keys.KeyBundle | None = None) -> bytes:
        bundle = bundle or self.pki.signer
        return smime.sign(
            message,
            key=bundle.key,
            cert=bundle.certificate,
            chain=bundle.chain,
            check_certificate=False,
        )

    def signer(self, **options: object) -> keys.KeyBundle:
        return pki.issue_signer(
            self.pki.ca,
            "alice@example.com",
            key_type="ec-p256",
            **options,  # type: ignore[arg-type]
        )

    @cached_property
    def plain(self) -> bytes:
        return compose(
            from_="Alice <alice@example.com>",
            to=["bob@example.org"],
            subject="statement",
            text="hello\nsecond line\n",
            date=datetime(2026, 11, 24, 9, tzinfo=timezone.utc),
            message_id="<s-1@example.com>",
        )

    @cached_property
    def signed(self) -> bytes:
        return self.sign(self.plain)

    @property
    def dkim_key(self) -> rsa.RSAPrivateKey:
        key = self.pki.signer.key
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    def dkim_sign(self, message: bytes) -> bytes:
        return dkim.sign(message, key=self.dkim_key, domain="example.com", selector="s1",
                         profile="ses")  # fmt: skip

    @cached_property
    def signed_dkim(self) -> bytes:
        return self.dkim_sign(self.signed)

    @cached_property
    def invite(self) -> bytes:
        start = datetime(2026, 12, 1, 10, tzinfo=BERLIN)
        invite = Invite(
            method="REQUEST",
            organizer=Person("alice@example.com", "Alice"),
            summary="Review",
            start=start,
            end=start + timedelta(hours=1),
            attendees=(Attendee("bob@example.org", "Bob"),),
        )
        return to_message(invite, ics_attachment=False)

    @cached_property
    def signed_invite(self) -> bytes:
        return self.sign(self.invite)

    def signed_entity(self) -> bytes:
        """The signed message's multipart/signed entity (its Content-Type and body)."""
        head, _, body = self.signed.partition(b"\r\n\r\n")
        content_type = re.search(rb"(?ims)^content-type:.*?\r\n(?! )", head + b"\r\n")
        assert content_type is not None
        return content_type[0] + b"\r\n" + body


@pytest.fixture(scope="module")
def env(rsa_pki: DevPki) -> Env:
    return Env(rsa_pki)


Make = Callable[[Env], bytes]


@dataclass(frozen=True)
class Case:
    rule: str
    bad: Make
    good: Make
    severity: Severity | None = "error"  # None: the rule must not fire under this profile
    profile: Profile = SES
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.label or self.profile.name}"


def _b(message: bytes) -> Make:
    return lambda env: message


def _long_message(env: Env) -> bytes:
    line = b"A" * 76 + b"\r\n"
    return MESSAGE + line * (SES_V1_LIMIT // len(line) + 10)


def _invite_sub(pattern: bytes, repl: bytes) -> Make:
    def make(env: Env) -> bytes:
        changed, count = re.subn(pattern, repl, env.invite)
        assert count, pattern
        return changed

    return make


def _signed_sub(old: bytes, new: bytes) -> Make:
    def make(env: Env) -> bytes:
        assert old in env.signed
        return env.signed.replace(old, new)

    return make


def _wrapped(env: Env) -> bytes:
    return mixed(TEXT_PART, env.signed_entity())


def _cert(**options: object) -> Make:
    return lambda env: env.sign(env.plain, env.signer(**options))


def _addresses(count: int) -> Make:
    to = ", ".join(f"user{n}@example.org" for n in range(count)).encode()
    return _b(with_headers(without(MESSAGE, b"To"), b"To: " + to))


CALENDAR_SECOND = mixed(
    TEXT_PART,
    b"Content-Type: text/calendar; method=PUBLISH; charset=UTF-8\r\n\r\n"
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nMETHOD:PUBLISH\r\n"
    b"BEGIN:VEVENT\r\nUID:1@t\r\nDTSTAMP:20261124T090000Z\r\nDTSTART:20261201T090000Z\r\n"
    b"SUMMARY:x\r\nORGANIZER:mailto:alice@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
)
PLAIN_LF = MESSAGE.replace(b"\r\n", b"\n")
EIGHT_BIT = MESSAGE.replace(b"Dear Bob", "Grüße Bob".encode())


def SIGNED(env: Env) -> bytes:
    return env.signed


CASES = [
    Case("parse-error", _b(mixed(TEXT_PART, boundary=b"XYZ").replace(b"--XYZ", b"--ABC")),
         _b(MESSAGE)),
    Case("lf-line-endings", _b(PLAIN_LF), _b(MESSAGE)),
    Case("mixed-line-endings", _b(MESSAGE.replace(b"Alice\r\n", b"Alice\n")), _b(PLAIN_LF)),
    Case("line-too-long", _b(MESSAGE + b"x" * 999 + b"\r\n"), _b(MESSAGE + b"x" * 998 + b"\r\n")),
    Case("eight-bit-in-signed-region", _signed_sub(b"hello", "héllo".encode()),
         lambda env: env.signed_dkim, label="smime"),
    Case("eight-bit-in-signed-region", _b(dkim_header() + EIGHT_BIT),
         _b(dkim_header() + MESSAGE), label="dkim"),
    Case("eight-bit-content", _b(EIGHT_BIT), _b(MESSAGE), severity="warning"),
    Case("trailing-whitespace-signed", _signed_sub(b"hello\r\n", b"hello \r\n"),
         _b(MESSAGE.replace(b"Alice\r\n", b"Alice \r\n")), severity="warning"),
    Case("trailing-whitespace-signed", _b(signed_by_hand(c="relaxed/simple").replace(
        b"Alice\r\n", b"Alice\t\r\n")), _b(signed_by_hand().replace(b"Alice\r\n", b"Alice \r\n")),
         severity="warning", label="dkim-simple-body"),
    Case("from-line-signed", _signed_sub(b"hello\r\n", b"From me\r\n"),
         _b(MESSAGE.replace(b"Dear Bob", b"From Bob")), severity="warning"),
    Case("from-line-signed", _b(signed_by_hand().replace(b"Dear Bob", b"From Bob")),
         _b(signed_by_hand()), severity="warning", label="dkim"),
    Case("boundary-in-part", _b(mixed(TEXT_PART + b"\r\n--XYZ-not-a-delimiter")),
         _b(mixed(TEXT_PART))),
    Case("unclosed-multipart", _b(mixed(TEXT_PART, close=False)), _b(mixed(TEXT_PART))),
    Case("multipart-no-boundary", _b(mixed(TEXT_PART).replace(b'; boundary="XYZ"', b"")),
         _b(mixed(TEXT_PART))),
    Case("missing-mime-version", _b(mixed(TEXT_PART, mime=False)), _b(MESSAGE)),
    Case("missing-mime-version",
         _b(without(without(MESSAGE, b"MIME-Version"), b"Content-Type")), _b(MESSAGE),
         severity="warning", label="plain-text"),
    Case("no-from", _b(without(MESSAGE, b"From")), _b(MESSAGE)),
    Case("no-from", _b(MESSAGE.replace(b"Alice Example <alice@example.com>", b"")),
         _b(MESSAGE), label="empty"),
    Case("multiple-from", _b(MESSAGE.replace(b"<alice@example.com>", b"<alice@example.com>, "
                                             b"mallory@example.net")), _b(MESSAGE)),
    Case("multiple-from", _b(with_headers(MESSAGE, b"From: mallory@example.net")),
         _b(MESSAGE), label="two-fields"),
    Case("non-ascii-header", _b(MESSAGE.replace(b"quarterly", "Grüße".encode())),
         _b(MESSAGE.replace(b"quarterly", b"=?utf-8?q?Gr=C3=BC=C3=9Fe?="))),
    Case("non-ascii-address", _b(MESSAGE.replace(b"bob@", b"bob@b\xc3\xbccher.")),
         _b(MESSAGE.replace(b"bob@", b"bob@xn--bcher-kva."))),
    Case("non-ascii-address", _b(MESSAGE.replace(b"bob@", b"bj\xc3\xb6rn@")), _b(MESSAGE),
         label="local-part"),
    Case("missing-date", _b(without(MESSAGE, b"Date")), _b(MESSAGE), severity="info"),
    Case("missing-date", _b(without(MESSAGE, b"Date")), _b(MESSAGE), severity="warning",
         profile=SMTP),
    Case("missing-message-id", _b(without(MESSAGE, b"Message-ID")), _b(MESSAGE),
         severity="info"),
    Case("missing-message-id", _b(without(MESSAGE, b"Message-ID")), _b(MESSAGE),
         severity="warning", profile=SMTP),
    Case("bcc-header", _b(with_headers(MESSAGE, b"Bcc: eve@example.org")), _b(MESSAGE),
         severity="warning"),
    Case("micalg-mismatch", _signed_sub(b"micalg=sha-256", b"micalg=sha-512"), SIGNED),
    Case("micalg-mismatch", _signed_sub(b"micalg=sha-256; ", b""), SIGNED, label="missing"),
    Case("legacy-x-pkcs7", _signed_sub(b"application/pkcs7-signature",
                                       b"application/x-pkcs7-signature"), SIGNED,
         severity="warning"),
    Case("smime-malformed", lambda env: re.sub(rb"MII[A-Za-z0-9+/=\r\n]+", b"AAAA\r\n",
                                                env.signed), SIGNED),
    Case("smime-wrapped", _wrapped, SIGNED, severity="warning"),
    Case("cert-not-covering-from", _signed_sub(b"From: Alice <alice@example.com>",
                                               b"From: Alice <alice@example.net>"), SIGNED),
    Case("cert-expiring-soon", _cert(days=10), SIGNED, severity="warning"),
    Case("cert-expired", _cert(not_before=NOW - timedelta(days=40),
                               not_after=NOW - timedelta(days=1)), _cert(days=40)),
    Case("cert-no-email-protection", _cert(eku=(ExtendedKeyUsageOID.CLIENT_AUTH,)), SIGNED),
    Case("cert-key-usage", _cert(key_usage=("key_agreement",)), SIGNED),
    Case("dkim-malformed", _b(signed_by_hand(bh="-")), _b(signed_by_hand())),
    Case("dkim-malformed", _b(dkim_header().replace(b"; s=s1", b"; s") + MESSAGE),
         _b(signed_by_hand()), label="syntax"),
    Case("dkim-malformed", _b(signed_by_hand(h="to:subject")), _b(signed_by_hand()),
         label="from-unsigned"),
    Case("dkim-rsa-sha1", _b(signed_by_hand(a="rsa-sha1")), _b(signed_by_hand())),
    Case("dkim-l-tag", _b(signed_by_hand(l="10")), _b(signed_by_hand())),
    Case("dkim-rsa-short", _b(signed_by_hand(b=base64.b64encode(bytes(128)).decode())),
         _b(signed_by_hand(a="ed25519-sha256", b=base64.b64encode(bytes(64)).decode())),
         severity="warning"),
    Case("dkim-simple-header", _b(signed_by_hand(c="-")), _b(signed_by_hand(c="relaxed/simple")),
         severity="warning"),
    Case("from-not-oversigned", _b(signed_by_hand(h="from:to")), _b(signed_by_hand()),
         severity="warning"),
    Case("list-unsubscribe-not-signed",
         _b(with_headers(signed_by_hand(), b"List-Unsubscribe: <https://example.com/u>",
                         b"List-Unsubscribe-Post: List-Unsubscribe=One-Click")),
         _b(with_headers(signed_by_hand(h="from:from:list-unsubscribe:list-unsubscribe-post"),
                         b"List-Unsubscribe: <https://example.com/u>",
                         b"List-Unsubscribe-Post: List-Unsubscribe=One-Click")),
         severity="warning"),
    Case("ses-dkim-covers-rewritten", _b(signed_by_hand(h="from:from:date:message-id")),
         _b(signed_by_hand())),
    Case("ses-dkim-covers-rewritten", _b(signed_by_hand(h="from:from:date:message-id")),
         _b(signed_by_hand()), severity=None, profile=SMTP),
    Case("ses-two-dkim", _b(dkim_header() + signed_by_hand(d="example.net")),
         _b(signed_by_hand())),
    Case("ses-two-dkim", _b(dkim_header() + signed_by_hand()), _b(signed_by_hand()),
         severity=None, profile=SMTP),
    Case("ses-size-limit", _b(MESSAGE + b"x" * 2000), _b(MESSAGE),
         profile=SES.clone(max_size=1500), label="small-limit"),
    Case("ses-v1-size-limit", _long_message, _b(MESSAGE), severity="warning"),
    Case("ses-duplicate-header", _b(with_headers(MESSAGE, b"Subject: again")),
         _b(with_headers(MESSAGE, b"To: carol@example.org"))),
    Case("ses-duplicate-header", _b(with_headers(MESSAGE, b"Subject: again")), _b(MESSAGE),
         severity=None, profile=SMTP),
    Case("too-many-recipients", _addresses(51), _addresses(50)),
    Case("blocked-attachment", _b(attachment(b'attachment; filename="run.exe"')),
         _b(attachment(b'attachment; filename="report.pdf"'))),
    Case("blocked-attachment", _b(attachment(b"attachment; filename*=UTF-8''r%C3%BCn.VBS.")),
         _b(attachment(b"attachment; filename*=UTF-8''r%C3%BCn.pdf")), label="rfc2231"),
    Case("blocked-attachment", _b(attachment(b'attachment; filename="run.exe"')),
         _b(attachment(b'attachment; filename="exe"')), severity="warning", profile=SMTP),
    Case("calendar-method-mismatch", _invite_sub(rb"method=REQUEST", b"method=PUBLISH"),
         lambda env: env.invite),
    Case("calendar-method-mismatch", _invite_sub(rb"; method=REQUEST", b""),
         lambda env: env.invite, label="no-parameter"),
    Case("itip-missing-property", _invite_sub(rb"ATTENDEE[^\r]*\r\n(?: [^\r]*\r\n)*", b""),
         lambda env: env.invite),
    Case("itip-missing-property", _invite_sub(rb"UID:[^\r]*\r\n", b""),
         lambda env: env.invite, label="uid"),
    Case("vtimezone-rdate",
         _invite_sub(rb"TZNAME:CEST\r\n", b"TZNAME:CEST\r\nRDATE:20270328T020000\r\n"),
         lambda env: env.invite),
    Case("vtimezone-rdate", _invite_sub(rb"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
                                        b"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;UNTIL=20300101T000000Z"),
         lambda env: env.invite, label="rrule"),
    Case("invite-in-smime", lambda env: env.signed_invite, lambda env: env.invite,
         severity="warning"),
    Case("dtstamp-not-utc", _invite_sub(rb"(DTSTAMP:\d{8}T\d{6})Z", rb"\1"),
         lambda env: env.invite),
    Case("floating-time", _invite_sub(rb"DTSTART;TZID=Europe/Berlin:", b"DTSTART:"),
         _invite_sub(rb"DTSTART;TZID=Europe/Berlin:(\d{8})T\d{6}",
                     rb"DTSTART;VALUE=DATE:\1")),
    Case("calendar-not-first-alternative", _b(CALENDAR_SECOND), lambda env: env.invite,
         severity="warning"),
]  # fmt: skip


def test_every_rule_has_cases() -> None:
    covered = {case.rule for case in CASES}
    assert sorted(set(RULES) - covered) == []
    assert covered <= set(RULES)
    assert len(RULES) >= 30


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_rule_fires_and_stays_quiet(case: Case, env: Env) -> None:
    bad = severities(case.bad(env), case.rule, case.profile)
    assert bad == ({case.severity} if case.severity else set())
    good = findings(case.good(env), case.profile)
    assert [f for f in good if f.rule == case.rule] == []


def test_findings_carry_location_and_fix() -> None:
    found = [f for f in findings(MESSAGE + b"x" * 1200 + b"\r\n") if f.rule == "line-too-long"]
    assert len(found) == 1
    assert found[0].line == MESSAGE.count(b"\n") + 1
    assert found[0].part == ""
    assert found[0].fix == RULES["line-too-long"].fix
    assert "1200 octets" in found[0].message


def test_lf_only_is_not_mixed() -> None:
    rules = {f.rule for f in findings(PLAIN_LF)}
    assert "lf-line-endings" in rules
    assert "mixed-line-endings" not in rules


def test_mimeseal_built_messages_have_no_errors(env: Env) -> None:
    for message in (env.signed_dkim, env.dkim_sign(env.invite)):
        assert [f for f in findings(message, SES) if f.severity == "error"] == []
        assert [f for f in findings(message, SMTP) if f.severity == "error"] == []


def test_severities_sort_and_profiles() -> None:
    message = with_headers(without(without(MESSAGE, b"Date"), b"From"), b"Bcc: e@example.org")
    found = findings(message, SES)
    order = [(f.severity, f.rule) for f in found]
    assert order == [("error", "no-from"), ("warning", "bcc-header"), ("info", "missing-date")]
    strict = {(f.rule, f.severity) for f in findings(message, STRICT)}
    assert ("bcc-header", "error") in strict
    assert ("missing-date", "info") in strict
    quiet = findings(message, SES.clone(severity={"no-from": "off", "bcc-header": "info"}))
    assert [(f.rule, f.severity) for f in quiet] == [
        ("bcc-header", "info"),
        ("missing-date", "info"),
    ]


def test_hits_are_capped() -> None:
    found = [
        f for f in findings(MESSAGE + (b"y" * 1000 + b"\r\n") * 30) if f.rule == "line-too-long"
    ]
    assert len(found) == MAX_HITS + 1
    assert "only the first" in found[-1].message


def test_a_failing_rule_becomes_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(view: MessageView, profile: Profile) -> Iterable[Hit]:
        raise RuntimeError("kaput")

    broken = Rule("zz-broken", "broken", "error", "m", "w", "f", boom)
    monkeypatch.setitem(RULES, broken.id, broken)
    found = findings(MESSAGE)
    internal = [f for f in found if f.rule == INTERNAL_ERROR.id]
    assert len(internal) == 1
    assert internal[0].severity == "warning"
    assert "zz-broken" in internal[0].message
    assert "kaput" in internal[0].message


def test_rsa_bits_from_signature_length() -> None:
    assert rsa_bits(base64.b64encode(bytes(256)).decode()) == 2048
    assert rsa_bits("not base64!") is None


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_explain_every_rule(rule_id: str) -> None:
    rule = RULES[rule_id]
    text = explain(rule_id)
    flat = _flat(text)
    assert text.splitlines()[0] == f"{rule.id}: {rule.title}"
    for part in (rule.meaning, rule.why, rule.fix):
        assert _flat(part) in flat
    for name in ("ses", "smtp", "strict"):
        assert re.search(rf"\b{name}: (error|warning|info|off)\b", text)
    assert f"default {rule.default}" in text


def test_explain_shows_profile_severities() -> None:
    assert "ses: error, smtp: off, strict: error" in explain("ses-two-dkim")
    assert "ses: error, smtp: warning, strict: error" in explain("blocked-attachment")
    assert "ses: info, smtp: warning, strict: info" in explain("missing-date")
    assert "internal-error" in explain("internal-error")


def test_explain_unknown_rule_suggests_close_matches() -> None:
    with pytest.raises(UsageError, match="dkim-l-tag"):
        explain("dkim-l")
    with pytest.raises(UsageError, match="unknown rule"):
        explain("zzzz")


SAMPLES = [
    MESSAGE,
    mixed(TEXT_PART, b"Content-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\n"
          b"METHOD:REQUEST\r\nBEGIN:VTIMEZONE\r\nRRULE:FREQ\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\n"
          b"DTSTART:2026\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
    attachment(b"attachment; filename*0*=UTF-8''a%; filename*1=.exe"),
    signed_by_hand(),
]  # fmt: skip


def check_junk(data: bytes) -> None:
    try:
        view = build_view(data)
    except MimesealError:
        return  # build_view may refuse input that is not a message at all
    for profile in (SES, SMTP):
        try:
            found = run_rules(view, profile)
        except LimitError:
            return  # documented: a part beyond the limits (a calendar nested 9 deep) is refused
        assert [f.message for f in found if f.rule == INTERNAL_ERROR.id] == []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600))
def test_random_bytes_never_crash_the_rules(data: bytes) -> None:
    check_junk(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draw=st.data())
def test_mutated_messages_never_crash_the_rules(env: Env, draw: st.DataObject) -> None:
    samples = [*SAMPLES, env.signed_dkim, env.invite, env.signed_invite]
    tokens = [*hostile.tokens_for(samples), b"--XYZ\r\n", b"=?", b"\x80"]
    check_junk(draw.draw(hostile.mutated(samples, tokens)))
