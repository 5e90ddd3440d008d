"""The checker end to end: signatures, the survival matrix, receivers, report and CLI."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import MESSAGE, DevPki
from mimeseal import check as checker
from mimeseal import cli, dkim, invite, smime
from mimeseal.check.explain import explain
from mimeseal.check.profiles import SES, SMTP, STRICT
from mimeseal.errors import LimitError, UsageError
from mimeseal.limits import Limits

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RECORDS = {"s1._domainkey.example.com": dkim.format_key_record(KEY.public_key())}


def _dkim(message: bytes, **options: object) -> bytes:
    return dkim.sign(message, key=KEY, domain="example.com", selector="s1", **options)  # type: ignore[arg-type]


def _built(rsa_pki: DevPki) -> bytes:
    signed = smime.sign(MESSAGE, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate,
                        chain=rsa_pki.signer.chain)  # fmt: skip
    return _dkim(signed, profile="ses")


def test_mimeseal_built_message_passes_ses(rsa_pki: DevPki) -> None:
    report = checker.check(_built(rsa_pki), profile="ses", trust=rsa_pki.trust,
                           dkim_records=RECORDS)  # fmt: skip
    assert report.ok, [f.message for f in report.errors]
    kinds = sorted(row.kind for row in report.signatures)
    assert kinds == ["dkim", "smime"]
    receivers = {v.receiver for row in report.signatures for v in row.original}
    assert {"mimeseal", "dkimpy"} <= receivers
    ses_cells = [c for c in report.matrix if c.transform == "ses-transit"]
    assert {c.state for c in ses_cells} == {"survives"}


def test_mimeseal_built_invitation_passes_ses() -> None:
    start = invite.Invite(
        method="REQUEST", organizer=invite.Person("alice@example.com"),
        attendees=(invite.Attendee("bob@example.org"),), summary="Review",
        start=datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Europe/Berlin")),
        duration=timedelta(hours=1),
    )  # fmt: skip
    report = checker.check(_dkim(invite.to_message(start), profile="ses"), dkim_records=RECORDS)
    assert report.ok, [f.message for f in report.errors]


def test_dkim_over_message_id_breaks_in_ses_transit_and_is_an_error() -> None:
    report = checker.check(_dkim(MESSAGE), profile="ses", dkim_records=RECORDS)
    assert not report.ok
    cell = next(c for c in report.matrix if c.transform == "ses-transit")
    assert cell.state == "breaks"
    rules = {f.rule for f in report.errors}
    assert "breaks-ses-transit" in rules
    assert "ses-dkim-covers-rewritten" in rules
    # The same message is fine on a generic relay chain, where nothing rewrites Message-ID.
    assert checker.check(_dkim(MESSAGE), profile="smtp", dkim_records=RECORDS).ok


def test_simple_canonicalization_breaks_under_refolding_as_an_error() -> None:
    folded = MESSAGE.replace(b"Subject: quarterly statement", b"Subject: quarterly\r\n statement")
    signed = _dkim(folded, canonicalization=("simple", "simple"), profile="ses")
    report = checker.check(signed, profile="ses", dkim_records=RECORDS)
    assert "breaks-header-refold-78" in {f.rule for f in report.errors}


def test_tampered_signature_is_invalid_before_transit() -> None:
    signed = _dkim(MESSAGE, profile="ses").replace(b"Dear Bob", b"Dear Rob")
    report = checker.check(signed, profile="ses", dkim_records=RECORDS)
    assert "signature-invalid" in {f.rule for f in report.errors}
    assert {c.state for c in report.matrix} == {"n/a"}


def test_receivers_disagree_on_dkimpy_canonicalization_bug() -> None:
    """dkimpy canonicalizes 'Hello  ' (no final CRLF) wrongly; the checker says so."""
    message = b"From: alice@example.com\r\nTo: bob@example.org\r\nSubject: x\r\n\r\nHello  "
    report = checker.check(_dkim(message, profile="ses"), profile="smtp", dkim_records=RECORDS)
    assert "receivers-disagree" in {f.rule for f in report.findings}


def test_profiles_are_frozen_data_and_extend_by_clone() -> None:
    custom = SES.clone(name="ses-strict-attachments", severity={"blocked-attachment": "error"})
    assert custom.severity_of("blocked-attachment", "warning") == "error"
    assert custom.transforms == SES.transforms
    assert SMTP.severity_of("ses-two-dkim", "error") is None
    assert STRICT.severity_of("from-line-signed", "warning") == "error"
    assert STRICT.severity_of("missing-date", "info") == "info"
    with pytest.raises(AttributeError):
        SES.name = "x"  # type: ignore[misc]
    with pytest.raises(UsageError, match="unknown profile"):
        checker.check(MESSAGE, profile="gmail")


def test_json_report_schema(rsa_pki: DevPki) -> None:
    document = checker.check(_built(rsa_pki), trust=rsa_pki.trust, dkim_records=RECORDS).to_dict()
    assert document["schema"] == "mimeseal.check/1"
    assert set(document) == {
        "schema", "profile", "ok", "message", "signatures", "transforms", "matrix", "findings",
    }  # fmt: skip
    assert len(document["matrix"]) == len(document["transforms"]) * len(document["signatures"])
    json.dumps(document)


def test_explain_covers_matrix_rules() -> None:
    assert "SES" in explain("breaks-ses-transit")
    assert "dkimpy" in explain("receivers-disagree")
    with pytest.raises(UsageError):
        explain("no-such-rule")


def test_cli_check(rsa_pki: DevPki, tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "ok.eml").write_bytes(_built(rsa_pki))
    (folder / "records.json").write_text(json.dumps(RECORDS))
    out = io.BytesIO()
    code = cli.main(["check", str(folder / "ok.eml"), "--trust", str(rsa_pki.ca_pem),
                     "--dkim-records", str(folder / "records.json")], stdout=out)  # fmt: skip
    assert code == 0, out.getvalue().decode()
    assert "survival matrix" in out.getvalue().decode()
    (folder / "bad.eml").write_bytes(_dkim(MESSAGE))
    out = io.BytesIO()
    code = cli.main(["check", str(folder / "bad.eml"), "--json",
                     "--dkim-records", str(folder / "records.json")], stdout=out)  # fmt: skip
    assert code == 1
    assert json.loads(out.getvalue())["ok"] is False
    out = io.BytesIO()
    assert cli.main(["check", "--explain", "ses-two-dkim"], stdout=out) == 0
    assert b"ses-two-dkim" in out.getvalue()
    assert cli.main(["check", str(folder / "missing.eml")], stdout=io.BytesIO()) == 2


# --- hostile input ------------------------------------------------------------------------------


def test_limits_refuse_before_any_check_runs() -> None:
    with pytest.raises(LimitError) as caught:
        checker.check(MESSAGE, references=False, limits=Limits(max_message_bytes=100))
    assert caught.value.limit == "max_message_bytes"
    with pytest.raises(LimitError) as caught:
        checker.check(MESSAGE, references=False, limits=Limits(max_header_count=3))
    assert caught.value.limit == "max_header_count"


def test_a_calendar_beyond_the_limits_is_refused_not_an_internal_error() -> None:
    calendar = invite.to_ics(
        invite.Invite(
            method="REQUEST",
            organizer=invite.Person("alice@example.com"),
            attendees=(invite.Attendee("bob@example.org"),),
            summary="Review",
            start=datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("UTC")),
            end=datetime(2026, 12, 1, 11, tzinfo=ZoneInfo("UTC")),
        )
    )
    message = (
        MESSAGE.replace(
            b"text/plain; charset=us-ascii", b"text/calendar; method=REQUEST; charset=UTF-8"
        ).split(b"\r\n\r\n")[0]
        + b"\r\n\r\n"
        + calendar
    )
    report = checker.check(message, references=False)
    assert "internal-error" not in {f.rule for f in report.findings}
    with pytest.raises(LimitError) as caught:  # VCALENDAR and VEVENT: two components
        checker.check(message, references=False, limits=Limits(max_ics_components=1))
    assert (caught.value.limit, caught.value.value) == ("max_ics_components", 2)


def test_an_address_field_the_stdlib_cannot_parse_is_a_parse_error_finding() -> None:
    """getaddresses() recursed once per 'x:' (found by fuzz/run.py); rules must not crash."""
    hostile = MESSAGE.replace(b"From: ", b"From: " + b"x:" * 1_000, 1)
    report = checker.check(hostile, references=False)
    rules = {f.rule for f in report.findings}
    assert "internal-error" not in rules
    assert "parse-error" in rules


def test_raised_limits_reach_every_parser_the_check_runs() -> None:
    """1,500 header fields and 1,200 parts: refused by default, checked end to end when allowed."""
    parts = b"".join(b"--p\r\nContent-Type: text/plain\r\n\r\npart\r\n" for _ in range(1_200))
    head, _, _ = MESSAGE.partition(b"\r\n\r\n")
    extra = b"".join(b"X-Trace-%d: relay\r\n" % i for i in range(1_500))
    message = (
        head.replace(b"text/plain; charset=us-ascii", b'multipart/mixed; boundary="p"')
        + b"\r\n" + extra + b"\r\n" + parts + b"--p--\r\n"
    )  # fmt: skip
    signed = _dkim(message)
    with pytest.raises(LimitError):
        checker.check(signed, references=False, dkim_records=RECORDS)
    roomy = Limits(max_header_count=2_000, max_mime_parts=2_000)
    report = checker.check(signed, references=False, dkim_records=RECORDS, limits=roomy)
    rules = {f.rule for f in report.findings}
    assert "internal-error" not in rules
    assert "transform-failed" not in rules
    assert [row.kind for row in report.signatures] == ["dkim"]
    assert report.signatures[0].valid
