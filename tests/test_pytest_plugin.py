"""The pytest plugin as its users meet it: test files that only name fixtures and assertions.

Inner test files run through ``pytester`` against the real pieces: the entry point, moto's
server, aiosmtpd with STARTTLS, OpenSSL and dkimpy where installed. In-process runs keep this
fast; runs that touch moto's global state, and the checks on how the plugin is loaded, use a
fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import mimeseal
from mimeseal.errors import MimesealError, UsageError
from mimeseal.pytest_plugin import (
    DevPki,
    DkimKeys,
    DkimTestKey,
    SesEndpoint,
    SmtpFactory,
    assert_dkim_valid,
    assert_invite,
    assert_smime_valid,
    assert_survives,
)

FIXTURES = [
    "mimeseal_aws",
    "mimeseal_dkim_key",
    "mimeseal_dkim_keys",
    "mimeseal_kms",
    "mimeseal_pki",
    "mimeseal_pki_factory",
    "mimeseal_ses",
    "mimeseal_smtp",
    "mimeseal_smtp_factory",
    "mimeseal_smtp_tls",
]

# Shared by the inner test files: a plain message, signed the way an application would.
PRELUDE = r"""
from mimeseal.pytest_plugin import (
    assert_dkim_valid, assert_invite, assert_smime_valid, assert_survives,
)

MESSAGE = (
    b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\n"
    b"Subject: statement\r\nDate: Tue, 24 Nov 2026 09:00:00 +0000\r\n"
    b"Message-ID: <s-1@example.com>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n\r\nDear Bob,\r\n.\r\nFrom here on\r\n"
)


def seal(pki, dkim_key, message=MESSAGE):
    return dkim_key.sign(pki.default.sign(message), profile="ses")
"""


def _run(pytester: pytest.Pytester, source: str, *, fresh: bool = False) -> pytest.RunResult:
    """Run an inner test file; in a fresh interpreter when it touches moto, whose state is global
    (an in-process run would share verified identities with this session's own SES tests)."""
    pytester.makepyfile(test_inner=PRELUDE + source)
    run = pytester.runpytest_subprocess if fresh else pytester.runpytest
    return run("-p", "no:cacheprovider", "-vv", "-rf")


# --- loading -----------------------------------------------------------------------------


def test_entry_point_loads_the_plugin_and_lists_its_fixtures(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--trace-config", "--fixtures", "-p", "no:cacheprovider")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*registered third-party plugins:*",
            f"*mimeseal-{mimeseal.__version__} at *mimeseal/pytest_plugin/__init__.py*",
        ]
    )
    result.stdout.fnmatch_lines(["*fixtures defined from mimeseal.pytest_plugin.fixtures*"])
    listed = {line.split()[0] for line in result.stdout.lines if line.startswith("mimeseal_")}
    assert listed == set(FIXTURES)


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    heavy = ["moto", "aiosmtpd", "boto3", "botocore", "dkim", "cryptography", "icalendar",
             "mimeseal.check", "mimeseal.smime", "mimeseal.pytest_plugin.assertions"]  # fmt: skip
    code = (
        "import sys, mimeseal.pytest_plugin\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- fixtures ----------------------------------------------------------------------------

KEY_MATERIAL = r"""
import dkim as dkimpy
import pytest
from mimeseal import dkim, smime
from mimeseal.errors import UsageError
from mimeseal.keys import load_certificate_file, load_private_key_file


def test_pki(mimeseal_pki, mimeseal_pki_factory):
    alice, bob = mimeseal_pki.default, mimeseal_pki.signer("bob@example.org", key_type="ec-p256")
    assert (alice.address, bob.address) == ("alice@example.com", "bob@example.org")
    assert mimeseal_pki.signer("ALICE@example.com") is alice  # cached
    assert load_certificate_file(alice.cert_pem) == alice.certificate
    assert load_private_key_file(bob.key_pem).public_key() == bob.key.public_key()
    assert load_certificate_file(mimeseal_pki.ca_pem) == mimeseal_pki.trust[0]
    assert alice.key_pem.stat().st_mode & 0o077 == 0
    signed = alice.sign(MESSAGE)
    assert smime.verify(signed, trust=mimeseal_pki.trust).valid
    assert not smime.verify(signed, trust=mimeseal_pki_factory("ec-p256").trust).valid
    stranger = mimeseal_pki.self_signed().sign(MESSAGE)
    assert not smime.verify(stranger, trust=mimeseal_pki.trust).valid


def test_dkim_keys(mimeseal_dkim_key, mimeseal_dkim_keys):
    assert mimeseal_dkim_key.name == "mimeseal._domainkey.example.com"
    assert mimeseal_dkim_key.value.startswith("v=DKIM1; k=rsa; p=")
    other = mimeseal_dkim_keys("example.org", "s2", algorithm="ed25519")
    message = other.sign(mimeseal_dkim_key.sign(MESSAGE))
    results = dkim.verify(message, records=mimeseal_dkim_keys.records)
    assert [(r.domain, r.status) for r in results] == [
        ("example.org", "pass"), ("example.com", "pass")
    ]
    assert dkimpy.verify(mimeseal_dkim_key.sign(MESSAGE), dnsfunc=mimeseal_dkim_key.dnsfunc)
    assert mimeseal_dkim_key.key_pem.exists() and mimeseal_dkim_key.record_file.exists()
    with pytest.raises(UsageError, match="already holds"):
        mimeseal_dkim_keys("example.org", "s2", algorithm="rsa")


def test_each_test_sees_only_its_own_keys(mimeseal_dkim_keys, mimeseal_dkim_key):
    # test_dkim_keys above made s2._domainkey.example.org; it is not this test's record.
    assert dict(mimeseal_dkim_keys.records) == {mimeseal_dkim_key.name: mimeseal_dkim_key.value}
    again = mimeseal_dkim_keys("example.org", "s2", algorithm="rsa")  # another test, another key
    assert again.algorithm == "rsa"
"""


def test_key_material_fixtures(pytester: pytest.Pytester) -> None:
    _run(pytester, KEY_MATERIAL).assert_outcomes(passed=3)


SES = r"""
import hashlib
import os

import pytest
from mimeseal.errors import SendError
from mimeseal.ses import SesSender


@pytest.mark.parametrize("api", ["v2", "v1"])
def test_exact_bytes(mimeseal_ses, mimeseal_pki, mimeseal_dkim_key, api):
    mimeseal_ses.verify_identity("example.com")
    sealed = seal(mimeseal_pki, mimeseal_dkim_key)
    result = mimeseal_ses.sender(api).send(sealed)
    [sent] = mimeseal_ses.sent()
    assert sent.data == sealed == mimeseal_ses.last
    assert sent.sha256 == result.sha256 == hashlib.sha256(sealed).hexdigest()
    assert sent.message_id == result.message_id
    assert_smime_valid(sent, mimeseal_pki, signer="alice@example.com")
    assert_dkim_valid(sent, mimeseal_dkim_key, domain="example.com")


def test_each_test_starts_empty_and_app_code_is_routed(mimeseal_ses, mimeseal_aws):
    assert mimeseal_ses.stored() == []
    assert os.environ["AWS_ENDPOINT_URL_SESV2"] == mimeseal_aws.url
    SesSender(region=mimeseal_aws.region).send(MESSAGE)  # no endpoint_url: the app's own client
    assert mimeseal_ses.stored() == [MESSAGE]


def test_what_moto_keeps_of_8bit(mimeseal_ses):
    utf8 = MESSAGE.replace(b"Dear Bob", "Grüße Björn".encode())
    mimeseal_ses.sender(check=False).send(utf8)
    assert mimeseal_ses.stored() == [utf8]
    with pytest.raises(SendError):
        mimeseal_ses.sender(check=False).send(MESSAGE.replace(b"Dear", b"Gr\xfc\xdf"))
    assert mimeseal_ses.stored() == [utf8]


def test_unverified_sender_is_refused(mimeseal_ses):
    mallory = MESSAGE.replace(b"alice@example.com", b"mallory@example.net")
    with pytest.raises(SendError, match="MessageRejected"):
        mimeseal_ses.sender().send(mallory)
    with pytest.raises(AssertionError, match="no message"):
        mimeseal_ses.last


def test_only_raw_sends_are_listed(mimeseal_ses, mimeseal_aws):
    mimeseal_aws.client("ses").send_email(
        Source="alice@example.com", Destination={"ToAddresses": ["bob@example.org"]},
        Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "composed by SES"}}},
    )
    assert mimeseal_ses.sent() == []
    mimeseal_ses.sender().send(MESSAGE)
    assert mimeseal_ses.stored() == [MESSAGE]


def test_kms_keys_sign_smime_and_dkim(mimeseal_kms, mimeseal_pki, mimeseal_ses):
    from mimeseal import dkim, keys
    from mimeseal.dkim.keyfiles import record_for_key

    smime_key = keys.load_signer(mimeseal_kms.create_key("ECC_NIST_P256"))  # as app code would
    dkim_key = mimeseal_kms.signer("RSA_2048")
    signer = mimeseal_pki.signer("alice@example.com", key=smime_key)
    signed = dkim.sign(
        signer.sign(MESSAGE), key=dkim_key, domain="example.com", selector="kms", profile="ses"
    )
    records = dict([record_for_key(dkim_key, domain="example.com", selector="kms")])
    assert_smime_valid(signed, mimeseal_pki, signer="alice@example.com")
    assert_dkim_valid(signed, records, domain="example.com")
    assert_survives(signed, "ses", trust=mimeseal_pki, dkim_records=records)
"""


def _readme_example() -> str:
    """The complete example test of the README's plugin section, as a user would copy it."""
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Testing your mail with the pytest plugin") :]
    start = section.index("```python\n") + len("```python\n")
    return section[start : section.index("```", start)]


def test_ses_fixture_and_the_readme_example(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_readme=_readme_example())
    _run(pytester, SES, fresh=True).assert_outcomes(passed=7 + 2)


SMTP = r"""
import smtplib
import ssl

from mimeseal.pytest_plugin import SmtpHandler


def test_exact_bytes_and_envelope(mimeseal_smtp, mimeseal_pki, mimeseal_dkim_key):
    sealed = seal(mimeseal_pki, mimeseal_dkim_key)
    with mimeseal_smtp.sender() as sender:
        result = sender.send(sealed)
    [received] = mimeseal_smtp.messages
    assert received.data == sealed
    assert (received.mail_from, received.rcpt_tos) == ("alice@example.com", ["bob@example.org"])
    assert mimeseal_smtp.handler.logins == [(mimeseal_smtp.username.encode(), True)]
    assert result.attempts == 1
    assert_survives(received, trust=mimeseal_pki, dkim_records=mimeseal_dkim_key)


def test_other_clients_use_the_ca_file(mimeseal_smtp):
    context = ssl.create_default_context(cafile=str(mimeseal_smtp.tls.ca_file))
    with smtplib.SMTP(mimeseal_smtp.host, mimeseal_smtp.port, local_hostname="c.test") as client:
        assert client.ehlo()[0] == 250
        assert client.mail("a@example.com")[0] == 530  # STARTTLS first
        client.starttls(context=context)
        client.login(mimeseal_smtp.username, mimeseal_smtp.password)
        client.sendmail("a@example.com", ["b@example.org"], MESSAGE)
    assert [m.data for m in mimeseal_smtp.messages] == [MESSAGE]


def test_scripted_faults_and_implicit_tls(mimeseal_smtp_factory):
    server = mimeseal_smtp_factory(SmtpHandler(data=["454 Throttling failure"]), mode="implicit")
    with server.sender() as sender:
        assert sender.send(MESSAGE).attempts == 2
    assert server.connections == 2
    assert [m.data for m in server.messages] == [MESSAGE]
"""


def test_smtp_fixture(pytester: pytest.Pytester) -> None:
    _run(pytester, SMTP).assert_outcomes(passed=3)


# --- assertions --------------------------------------------------------------------------

ASSERTIONS = r"""
import shutil
from datetime import datetime, timedelta, timezone

from mimeseal.invite import Attendee, Invite, Person, to_message

START = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
MEETING = Invite(method="REQUEST", organizer=Person("alice@example.com"),
                 attendees=(Attendee("bob@example.org"),), summary="Review", start=START,
                 end=START + timedelta(hours=1), uid="review-1@example.com")


def test_good_mail(mimeseal_pki, mimeseal_dkim_key):
    sealed = seal(mimeseal_pki, mimeseal_dkim_key)
    verdict = assert_smime_valid(sealed, mimeseal_pki, signer="alice@example.com",
                                 openssl=bool(shutil.which("openssl")) or None)
    assert verdict.valid
    [result] = assert_dkim_valid(sealed, mimeseal_dkim_key, domain="example.com",
                                 headers=["Subject"], dkimpy=True)
    assert result.passed
    assert assert_survives(sealed, "ses", trust=mimeseal_pki, dkim_records=mimeseal_dkim_key).ok
    request = mimeseal_dkim_key.sign(to_message(MEETING), profile="ses")
    assert assert_invite(request, "REQUEST", uid="review-1@example.com", sequence=0,
                         attendees=["BOB@example.org"], organizer="alice@example.com").uid
    assert_survives(request, dkim_records=mimeseal_dkim_key)
    assert_invite(to_message(MEETING.cancel()), "CANCEL", sequence=1, status="CANCELLED")


def test_tampered_body(mimeseal_pki, mimeseal_dkim_key):
    sealed = seal(mimeseal_pki, mimeseal_dkim_key)
    assert_smime_valid(sealed.replace(b"Dear Bob", b"Dear Eve"), mimeseal_pki)


def test_wrong_signer(mimeseal_pki, mimeseal_dkim_key):
    sealed = seal(mimeseal_pki, mimeseal_dkim_key)
    assert_smime_valid(sealed, mimeseal_pki, signer="bob@example.org")


def test_unknown_ca(mimeseal_pki, mimeseal_pki_factory, mimeseal_dkim_key):
    assert_smime_valid(seal(mimeseal_pki, mimeseal_dkim_key), mimeseal_pki_factory())


def test_dkim_wrong_key_record(mimeseal_pki, mimeseal_dkim_key, mimeseal_dkim_keys):
    other = mimeseal_dkim_keys("example.com", "other")
    records = {mimeseal_dkim_key.name: other.value}
    assert_dkim_valid(seal(mimeseal_pki, mimeseal_dkim_key), records)


def test_dkim_other_domain(mimeseal_pki, mimeseal_dkim_key):
    sealed = seal(mimeseal_pki, mimeseal_dkim_key)
    assert_dkim_valid(sealed, mimeseal_dkim_key, domain="example.net")


def test_wont_survive_ses(mimeseal_dkim_key):
    assert_survives(mimeseal_dkim_key.sign(MESSAGE), "ses", dkim_records=mimeseal_dkim_key)


def test_unsigned(mimeseal_dkim_key):
    assert_survives(MESSAGE, "ses")


def test_invite_wrong_method():
    assert_invite(to_message(MEETING.cancel()), "REQUEST", sequence=0)
"""

FAILURES = {
    "test_tampered_body": "S/MIME signature not valid: digest-mismatch",
    "test_wrong_signer": "S/MIME signature not valid: signer-mismatch",
    "test_unknown_ca": "S/MIME signature not valid: untrusted-chain",
    "test_dkim_wrong_key_record": "DKIM signature not valid: fail",
    "test_dkim_other_domain": "DKIM signature not valid: domain-mismatch",
    "test_wont_survive_ses": "message will not survive profile ses: *ses-dkim-covers-rewritten*",
    "test_unsigned": "message will not survive profile ses: no-signature",
    "test_invite_wrong_method": "invitation not as expected: method-mismatch, sequence-mismatch",
}


def test_assertions_pass_on_good_mail_and_fail_readably(pytester: pytest.Pytester) -> None:
    result = _run(pytester, ASSERTIONS)
    result.assert_outcomes(passed=1, failed=len(FAILURES))
    result.stdout.fnmatch_lines_random(
        [f"FAILED test_inner.py::{name} - AssertionError: {first}*" for name, first in
         FAILURES.items()]
    )  # fmt: skip
    result.stdout.fnmatch_lines(
        [
            "*expected: a valid S/MIME signature over the whole message, signed by bob@*",
            "*signer-mismatch: signed by alice@example.com, not by bob@example.org*",
        ]
    )
    result.stdout.fnmatch_lines(["*[[]0[]] d=example.com s=mimeseal a=rsa-sha256: fail — *"])
    result.stdout.fnmatch_lines(["*survival matrix*", "*BREAKS*", "*ses-dkim-covers-rewritten*"])
    result.stdout.fnmatch_lines(["*method-mismatch: METHOD:CANCEL, expected REQUEST*"])
    text = result.stdout.str()
    assert "\x1b[" not in text  # no colour codes in the report
    # __tracebackhide__: tracebacks end in the user's test, not inside the plugin
    assert "pytest_plugin/assertions.py" not in text
    assert "test_inner.py:" in text


# --- direct checks of the assertion API ------------------------------------------------


MESSAGE = (
    b"From: alice@example.com\r\nTo: bob@example.org\r\nSubject: hi\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n\r\nhello\r\n"
)


def test_mistakes_in_the_test_are_usage_errors(
    mimeseal_pki: DevPki, mimeseal_dkim_key: DkimTestKey, mimeseal_dkim_keys: DkimKeys
) -> None:
    signed = mimeseal_pki.default.sign(MESSAGE)
    with pytest.raises(UsageError, match="bytes"):
        assert_smime_valid(signed.decode(), mimeseal_pki)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="no trust anchors"):
        assert_smime_valid(signed, [])
    with pytest.raises(UsageError, match="trust must be"):
        assert_smime_valid(signed, [42])  # type: ignore[list-item]
    with pytest.raises(UsageError, match="single string"):
        assert_dkim_valid(signed, mimeseal_dkim_key.value)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="cannot read"):
        assert_invite(mimeseal_pki.directory / "missing.eml")
    with pytest.raises(MimesealError, match="unknown profile"):
        assert_survives(signed, "smtp-relay")
    with pytest.raises(UsageError, match="as a string"):
        mimeseal_pki.signer(42)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="already holds"):
        mimeseal_dkim_keys(mimeseal_dkim_key.domain, mimeseal_dkim_key.selector, bits=3072)
    # The factory is callable, but as records it means the records it made.
    sealed = mimeseal_dkim_key.sign(MESSAGE)
    assert [r.status for r in assert_dkim_valid(sealed, mimeseal_dkim_keys)] == ["pass"]
    assert [r.status for r in assert_dkim_valid(sealed, [mimeseal_dkim_key])] == ["pass"]


def test_fixture_helpers_refuse_unusable_arguments(
    mimeseal_ses: SesEndpoint, mimeseal_smtp_factory: SmtpFactory
) -> None:
    with pytest.raises(UsageError, match="at least one"):
        mimeseal_ses.verify_identity()
    with pytest.raises(UsageError, match="not an address or domain"):
        mimeseal_ses.verify_identity(" alice@example.com")
    with pytest.raises(UsageError, match="mode must be"):
        mimeseal_smtp_factory(mode="ssl")
    server = mimeseal_smtp_factory()
    with pytest.raises(UsageError, match="no client has connected"):
        server.close_client_connections()
    assert repr(server) == f"SmtpServer(127.0.0.1:{server.port}, starttls, 0 message(s))"


def test_trust_from_files_and_verdicts_returned(mimeseal_pki: DevPki) -> None:
    signed = mimeseal_pki.default.sign(MESSAGE, opaque=True)
    verdict = assert_smime_valid(signed, mimeseal_pki.ca_pem, form="opaque", openssl=False)
    assert [p.form for p in verdict.parts] == ["opaque"]
    with pytest.raises(AssertionError, match="form-mismatch"):
        assert_smime_valid(signed, [str(mimeseal_pki.ca_pem)], form="detached")


def test_certificates_judged_at_a_given_time(mimeseal_pki: DevPki) -> None:
    now = datetime.now(timezone.utc)
    short = mimeseal_pki.signer("brief@example.com", not_after=now + timedelta(days=1))
    signed = short.sign(MESSAGE.replace(b"alice@example.com", b"brief@example.com"))
    assert_smime_valid(signed, mimeseal_pki, signer="brief@example.com")
    later = now + timedelta(days=2)
    with pytest.raises(AssertionError, match="cert-expired") as caught:
        assert_smime_valid(signed, mimeseal_pki, now=later)
    assert f"certificates judged at: {later.isoformat()}" in str(caught.value)
    with pytest.raises(UsageError, match="openssl=True"):
        assert_smime_valid(signed, mimeseal_pki, now=now, openssl=True)


def test_strict_and_ignore(mimeseal_dkim_key: DkimTestKey) -> None:
    from_line = mimeseal_dkim_key.sign(MESSAGE + b"From here on\r\n")  # an mbox tool's prey
    report = assert_survives(from_line, "ses", dkim_records=mimeseal_dkim_key)
    warnings = sorted({f.rule for f in report.findings if f.severity == "warning"})
    assert warnings == ["breaks-from-escaping", "from-line-signed"]
    with pytest.raises(AssertionError) as caught:
        assert_survives(from_line, "ses", dkim_records=mimeseal_dkim_key, strict=True)
    assert str(caught.value).startswith(
        "message will not survive profile ses: breaks-from-escaping, from-line-signed\n"
    )
    assert_survives(from_line, "ses", dkim_records=mimeseal_dkim_key, strict=True, ignore=warnings)
    dated = MESSAGE.replace(b"Subject", b"Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nSubject")
    covering = mimeseal_dkim_key.sign(dated)  # signs Date, which SES rewrites
    with pytest.raises(AssertionError, match="ses-dkim-covers-rewritten"):
        assert_survives(covering, "ses", dkim_records=mimeseal_dkim_key)
    assert_survives(covering, "smtp", dkim_records=mimeseal_dkim_key)


def test_dkim_required_headers_and_missing_signature(mimeseal_dkim_key: DkimTestKey) -> None:
    sealed = mimeseal_dkim_key.sign(MESSAGE, headers=["from", "to"])
    with pytest.raises(AssertionError, match="header-not-signed") as caught:
        assert_dkim_valid(sealed, mimeseal_dkim_key, headers=["Subject"])
    assert "subject not in h=" in str(caught.value)
    with pytest.raises(AssertionError, match="DKIM signature not valid: no-signature"):
        assert_dkim_valid(MESSAGE, mimeseal_dkim_key)


def test_dkim_message_verdict_decides(
    mimeseal_dkim_key: DkimTestKey, mimeseal_dkim_keys: DkimKeys
) -> None:
    """The plugin asks dkim.message_verdict, as the CLI and the checker do."""
    sealed = mimeseal_dkim_key.sign(MESSAGE)
    p = mimeseal_dkim_key.value.split("p=", 1)[1]
    testing = {mimeseal_dkim_key.name: f"v=DKIM1; k=rsa; t=y; p={p}"}
    with pytest.raises(AssertionError, match="DKIM signature not valid: testing") as caught:
        assert_dkim_valid(sealed, testing)
    assert "verdict: testing" in str(caught.value)
    assert "t=y" in str(caught.value)
    twice = b"From: Mallory <mallory@example.com>\r\n" + sealed
    with pytest.raises(AssertionError, match="not valid: permerror, multiple-from"):
        assert_dkim_valid(twice, mimeseal_dkim_key)
    other = mimeseal_dkim_keys("example.net", "s2", algorithm="ed25519")
    both = other.sign(sealed)
    broken = {**mimeseal_dkim_keys.records, other.name: mimeseal_dkim_key.value}
    with pytest.raises(AssertionError, match="DKIM signature not valid: permerror"):
        assert_dkim_valid(both, broken)  # every signature must pass by default
    results = assert_dkim_valid(both, broken, every=False, domain="example.com")
    assert [r.status for r in results] == ["permerror", "pass"]
    with pytest.raises(AssertionError, match="domain-mismatch"):
        assert_dkim_valid(both, broken, every=False, domain="example.net")


def test_dkim_now_is_aware_and_dkimpy_is_not_asked_about_its_clock(
    mimeseal_dkim_key: DkimTestKey,
) -> None:
    later = datetime.now(timezone.utc) + timedelta(days=30)
    signed = mimeseal_dkim_key.sign(MESSAGE, timestamp=later, expires=later + timedelta(hours=1))
    with pytest.raises(AssertionError, match="fail"):
        assert_dkim_valid(signed, mimeseal_dkim_key)  # t= a month ahead of the real clock
    # dkimpy would refuse t= (it judges at the real time), so it is not asked about it
    [result] = assert_dkim_valid(signed, mimeseal_dkim_key, now=later, dkimpy=True)
    assert result.passed
    with pytest.raises(AssertionError, match="t=/x= judged at: "):
        assert_dkim_valid(signed, mimeseal_dkim_key, now=later + timedelta(hours=2))
    with pytest.raises(UsageError, match="naive"):
        assert_dkim_valid(signed, mimeseal_dkim_key, now=later.replace(tzinfo=None))


def test_invite_expectations_are_all_reported() -> None:
    from mimeseal.invite import Attendee, Invite, Person, to_message

    start = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    meeting = Invite(
        method="REQUEST",
        organizer=Person("alice@example.com"),
        summary="Review",
        attendees=(Attendee("bob@example.org"), Attendee("carol@example.net")),
        start=start,
        end=start + timedelta(hours=1),
        uid="r-1@example.com",
    )
    with pytest.raises(AssertionError) as caught:
        assert_invite(to_message(meeting), "request", uid="r-2@example.com", sequence=1,
                      attendees=["bob@example.org", "dave@example.net"], summary="Budget",
                      organizer="carol@example.net")  # fmt: skip
    first, *body = str(caught.value).splitlines()
    assert first == (
        "invitation not as expected: uid-mismatch, sequence-mismatch, organizer-mismatch, "
        "summary-mismatch, attendees-mismatch"
    )
    assert "  attendees-mismatch: missing dave@example.net; not expected carol@example.net" in body
    with pytest.raises(AssertionError, match="no readable invitation: unreadable"):
        assert_invite(MESSAGE)
