"""Tests for ``mimeseal demo``: the whole pipeline on built-in defaults, every step checked."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import dkim as dkimpy
import pytest

from mimeseal import demo, keys, mime, references, smime
from mimeseal.cli import main

OPENSSL_STEPS = {
    "verify detached with openssl cms -verify",
    "verify opaque with openssl cms -verify",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> demo.DemoReport:
    return demo.run(tmp_path_factory.mktemp("demo") / "out")


def test_demo_succeeds(report: demo.DemoReport) -> None:
    assert report.ok, report.lines()
    assert all(step.ok for step in report.steps)
    names = [step.name for step in report.steps]
    assert names[:6] == [
        "create development PKI",
        "compose message",
        "S/MIME sign, detached (multipart/signed)",
        "S/MIME sign, opaque (application/pkcs7-mime)",
        "verify detached with mimeseal",
        "verify opaque with mimeseal",
    ]
    assert report.lines()[-1] == "result: every step held"


def test_demo_files_exist_inside_the_folder(report: demo.DemoReport) -> None:
    assert report.files
    assert len(set(report.files)) == len(report.files)
    for path in report.files:
        assert path.is_file(), path
        assert path.stat().st_size > 0, path
        assert path.is_relative_to(report.folder)
    names = {path.name for path in report.files}
    assert {"message.eml", "signed-detached.eml", "signed-opaque.eml", "ca.pem"} <= names
    listed = "\n".join(report.lines())
    assert all(str(path) in listed for path in report.files)


def test_demo_openssl_steps_present_iff_openssl(report: demo.DemoReport) -> None:
    names = {step.name for step in report.steps}
    if shutil.which("openssl"):
        assert names >= OPENSSL_STEPS
        assert "openssl cross-check" not in names
    else:
        assert not OPENSSL_STEPS & names
        assert "openssl cross-check" in names


def test_demo_output_verifies_independently(report: demo.DemoReport) -> None:
    ca = keys.load_certificate_file(report.folder / "pki" / "ca.pem")
    for name, form in (("signed-detached.eml", "detached"), ("signed-opaque.eml", "opaque")):
        signed = (report.folder / name).read_bytes()
        assert mime.is_transport_safe(signed)
        verdict = smime.verify(signed, trust=[ca])
        assert verdict.valid, [p.code for p in verdict.all_problems()]
        assert verdict.parts[0].form == form
        assert verdict.signers[0].addresses == (demo.SENDER,)
    message = (report.folder / "message.eml").read_bytes()
    assert mime.is_transport_safe(message)
    assert mime.split_message(message)[1] in (report.folder / "signed-detached.eml").read_bytes()


def test_demo_without_openssl_skips_the_cross_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("openssl") is None
    result = demo.run(tmp_path / "out")
    assert result.ok, result.lines()
    names = [step.name for step in result.steps]
    assert not OPENSSL_STEPS & set(names)
    assert names[-1] == "openssl cross-check"
    assert "skipped" in result.steps[-1].detail


def test_demo_reuses_an_existing_folder(tmp_path: Path) -> None:
    first = demo.run(tmp_path)
    ca = (tmp_path / "pki" / "ca.pem").read_bytes()
    second = demo.run(tmp_path)
    assert first.ok
    assert second.ok, second.lines()
    assert (tmp_path / "pki" / "ca.pem").read_bytes() == ca


def test_demo_stops_at_the_first_failed_step(tmp_path: Path) -> None:
    # A CA certificate without its key cannot be reused: the PKI step fails, nothing follows.
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.pem").write_bytes(b"not a certificate")
    result = demo.run(tmp_path)
    assert not result.ok
    assert result.steps[0].name == "create development PKI"
    assert result.steps[0].ok is False
    assert "ca.key.pem" in result.steps[0].detail
    # Only the openssl skip note (when openssl is absent) may follow the failed step.
    assert [step.name for step in result.steps[1:]] in ([], ["openssl cross-check"])
    assert result.lines()[-1] == "result: a step FAILED"
    assert not (tmp_path / "signed-detached.eml").exists()


def test_cli_demo(tmp_path: Path) -> None:
    out = io.BytesIO()
    code = main(["demo", "--out", str(tmp_path / "cli-demo")], stdout=out)
    text = out.getvalue().decode()
    assert code == 0, text
    assert "every step held" in text
    assert text.splitlines()[0] == f"mimeseal demo in {tmp_path / 'cli-demo'}"
    assert (tmp_path / "cli-demo" / "signed-opaque.eml").is_file()


def test_cli_demo_failure_exit_status(tmp_path: Path) -> None:
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.key.pem").write_bytes(b"not a key")
    out = io.BytesIO()
    code = main(["demo", "--out", str(tmp_path)], stdout=out)
    assert code == 1
    assert "a step FAILED" in out.getvalue().decode()


def test_cli_demo_out_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("x")
    assert main(["demo", "--out", str(target)], stdout=io.BytesIO()) == 2


def test_demo_kms_signatures_verify_in_openssl_and_dkimpy(report: demo.DemoReport) -> None:
    signed = (report.folder / "signed-kms.eml").read_bytes()
    ca = keys.load_certificate_file(report.folder / "pki" / "ca.pem")
    if shutil.which("openssl"):
        assert references.openssl_cms_verify(signed, [ca]).ok
    assert smime.verify(signed, trust=[ca]).valid
    record = (report.folder / "dkim" / "kms._domainkey.example.com.txt").read_bytes()
    assert dkimpy.verify(signed, dnsfunc=lambda name, timeout=5: record)
