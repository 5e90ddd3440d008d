"""Tests for the ``mimeseal`` command: run in-process through cli.main, and as a real process."""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from mimeseal import cli, compose, keys, mime, pki, smime
from mimeseal.errors import PasswordError

ALICE = "alice@example.com"
BOB = "bob@example.org"
P12_PASSWORD = "correct horse 7 battery staple"
PASSWORD_VAR = "MIMESEAL_TEST_P12_PASSWORD"
BODY_TEXT = (
    "Dear Bob,\n\n"
    "The figures are final.\n"
    "From now on, reports are signed.\n"
    "Zürich office, trailing spaces   \n"
)


@dataclass(frozen=True)
class Result:
    code: int
    stdout: bytes
    stderr: str


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """Run the command in-process, capturing its binary stdout and its stderr."""
    capsys.readouterr()  # drop anything written before
    out = io.BytesIO()
    code = cli.main(list(argv), stdout=out)
    return Result(code, out.getvalue(), capsys.readouterr().err)


def parse(message: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def problem_codes(report: dict[str, Any]) -> set[str]:
    smime_report = report["smime"]
    codes = {p["code"] for p in smime_report["problems"]}
    for part in smime_report["parts"]:
        codes |= {p["code"] for p in part["problems"]}
        for signer in part["signers"]:
            codes |= {p["code"] for p in signer["problems"]}
    return codes


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def dev_pki(tmp_path_factory: pytest.TempPathFactory) -> pki.DevPkiFiles:
    return pki.write_dev_pki(tmp_path_factory.mktemp("pki"), [ALICE])


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> pki.DevPkiFiles:
    """A second, unrelated CA that also issued a certificate for alice."""
    return pki.write_dev_pki(tmp_path_factory.mktemp("other-pki"), [ALICE])


@pytest.fixture(scope="module")
def encrypted_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PKI written by ``certs dev --password-env`` (its .p12 is password-protected)."""
    folder = tmp_path_factory.mktemp("encrypted-pki")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PASSWORD_VAR, P12_PASSWORD)
        out = io.BytesIO()
        code = cli.main(
            [
                "certs",
                "dev",
                "--out",
                str(folder),
                "--email",
                ALICE,
                "--password-env",
                PASSWORD_VAR,
            ],
            stdout=out,
        )
    assert code == 0, out.getvalue()
    return folder


@pytest.fixture(scope="module")
def message_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    message = compose.compose(
        from_=f"Alice Example <{ALICE}>",
        to=[f"Bob Example <{BOB}>"],
        subject="Quarterly figures",
        text=BODY_TEXT,
    )
    path = tmp_path_factory.mktemp("message") / "message.eml"
    path.write_bytes(message)
    return path


def _sign_args(dev_pki: pki.DevPkiFiles) -> list[str]:
    signer = dev_pki.signer(ALICE)
    return ["--smime-key", str(signer.key), "--smime-cert", str(signer.cert)]


@pytest.fixture(scope="module")
def signed_file(
    dev_pki: pki.DevPkiFiles, message_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("signed") / "signed.eml"
    code = cli.main(
        ["sign", str(message_file), "-o", str(out), *_sign_args(dev_pki)], stdout=io.BytesIO()
    )
    assert code == 0
    return out


StdinFeeder = Callable[[bytes], None]


@pytest.fixture
def stdin_bytes(monkeypatch: pytest.MonkeyPatch) -> StdinFeeder:
    """Set what the command reads from standard input."""

    def feed(data: bytes) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    return feed


def verify_file(
    capsys: pytest.CaptureFixture[str], path: Path, ca: Path, *extra: str
) -> tuple[Result, dict[str, Any]]:
    result = run(capsys, "verify", str(path), "--trust", str(ca), "--json", *extra)
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    return result, report


# --------------------------------------------------------------------------- certs dev


def test_certs_dev_writes_files_and_reuses_the_ca(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pki"
    first = run(
        capsys, "certs", "dev", "--out", str(folder), "--email", ALICE, "--key-type", "ec-p256"
    )
    assert first.code == 0, first.stderr
    names = {"ca.pem", "ca.key.pem", f"{ALICE}.pem", f"{ALICE}.key.pem", f"{ALICE}.p12"}
    assert {p.name for p in folder.iterdir()} == names
    assert first.stdout.decode().splitlines() == [
        f"wrote {folder / name}"
        for name in ("ca.pem", "ca.key.pem", f"{ALICE}.pem", f"{ALICE}.key.pem", f"{ALICE}.p12")
    ]
    for private in ("ca.key.pem", f"{ALICE}.key.pem", f"{ALICE}.p12"):
        assert stat.S_IMODE((folder / private).stat().st_mode) == 0o600
    ca_pem = (folder / "ca.pem").read_bytes()
    ca_key = (folder / "ca.key.pem").read_bytes()
    ca = keys.load_certificate(ca_pem)
    alice = keys.load_certificate_file(folder / f"{ALICE}.pem")
    assert isinstance(
        keys.load_private_key_file(folder / f"{ALICE}.key.pem"), ec.EllipticCurvePrivateKey
    )
    alice.verify_directly_issued_by(ca)
    assert keys.certificate_addresses(alice) == (ALICE,)

    second = run(capsys, "certs", "dev", "--out", str(folder), "--email", "carol@example.com")
    assert second.code == 0, second.stderr
    lines = second.stdout.decode().splitlines()
    assert lines[0] == f"reused {folder / 'ca.pem'}"
    assert not any("ca.key.pem" in line for line in lines)
    assert (folder / "ca.pem").read_bytes() == ca_pem
    assert (folder / "ca.key.pem").read_bytes() == ca_key
    carol = keys.load_certificate_file(folder / "carol@example.com.pem")
    carol.verify_directly_issued_by(ca)
    alice.verify_directly_issued_by(keys.load_certificate_file(folder / "ca.pem"))


def test_certs_dev_password_env_encrypts_the_p12(encrypted_pki: Path) -> None:
    p12 = encrypted_pki / f"{ALICE}.p12"
    with pytest.raises(PasswordError):
        keys.load_pkcs12_file(p12, None)
    with pytest.raises(PasswordError):
        keys.load_pkcs12_file(p12, b"wrong")
    bundle = keys.load_pkcs12_file(p12, P12_PASSWORD.encode())
    assert keys.certificate_addresses(bundle.certificate) == (ALICE,)
    assert keys.key_matches_certificate(bundle.key, bundle.certificate)
    ca = keys.load_certificate_file(encrypted_pki / "ca.pem")
    assert ca in bundle.chain
    assert P12_PASSWORD.encode() not in p12.read_bytes()


def test_certs_dev_unset_password_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIMESEAL_TEST_UNSET", raising=False)
    result = run(
        capsys, "certs", "dev", "--out", str(tmp_path), "--email", ALICE,
        "--password-env", "MIMESEAL_TEST_UNSET",
    )  # fmt: skip
    assert result.code == 2
    assert "MIMESEAL_TEST_UNSET" in result.stderr
    assert "not set" in result.stderr
    assert not (tmp_path / "ca.pem").exists()


def test_certs_dev_bad_address(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "certs", "dev", "--out", str(tmp_path), "--email", "not an address")
    assert result.code == 2
    assert result.stderr.startswith("mimeseal: error: ")
    assert "Traceback" not in result.stderr


def test_certs_dev_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    result = run(capsys, "certs", "dev", "--out", str(not_a_folder), "--email", ALICE)
    assert result.code == 2
    assert str(not_a_folder) in result.stderr


# --------------------------------------------------------------------------- compose


def test_compose_writes_a_message_that_email_parses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "body.txt"
    text.write_text(BODY_TEXT, encoding="utf-8")
    attachment = tmp_path / "figures.csv"
    attachment.write_bytes(b"quarter,amount\nQ3,100.00\n")
    out = tmp_path / "out.eml"
    result = run(
        capsys, "compose", "--from", f"Alice Example <{ALICE}>", "--to", BOB,
        "--cc", "carol@example.com", "--subject", "Quarterly figures", "--text", str(text),
        "--attach", str(attachment), "-o", str(out),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.stdout == b""
    raw = out.read_bytes()
    assert mime.is_transport_safe(raw)
    message = parse(raw)
    assert not message.defects
    assert message["From"].addresses[0].addr_spec == ALICE
    assert message["From"].addresses[0].display_name == "Alice Example"
    assert [a.addr_spec for a in message["To"].addresses] == [BOB]
    assert [a.addr_spec for a in message["Cc"].addresses] == ["carol@example.com"]
    assert message["Subject"] == "Quarterly figures"
    assert message["Message-ID"]
    assert message["Date"]
    assert message.get_content_type() == "multipart/mixed"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == BODY_TEXT
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["figures.csv"]
    assert attachments[0].get_payload(decode=True) == b"quarter,amount\nQ3,100.00\n"


def test_compose_to_stdout_from_stdin_text(
    capsys: pytest.CaptureFixture[str], stdin_bytes: StdinFeeder
) -> None:
    stdin_bytes(b"Line one\nLine two\n")
    result = run(capsys, "compose", "--from", ALICE, "--to", BOB, "--text", "-")
    assert result.code == 0, result.stderr
    message = parse(result.stdout)
    assert message.get_content_type() == "text/plain"
    assert message.get_content().replace("\r\n", "\n") == "Line one\nLine two\n"
    assert b"\r\n" in result.stdout
    assert not mime.has_bare_line_ends(result.stdout)


def test_compose_needs_a_body(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "compose", "--from", ALICE, "--to", BOB)
    assert result.code == 2
    assert "give a body" in result.stderr
    assert result.stdout == b""


def test_compose_missing_attachment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "t.txt"
    text.write_text("hi")
    missing = tmp_path / "missing.pdf"
    result = run(
        capsys, "compose", "--from", ALICE, "--to", BOB, "--text", str(text),
        "--attach", str(missing),
    )  # fmt: skip
    assert result.code == 2
    assert "missing.pdf" in result.stderr


def test_compose_non_utf8_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "latin1.txt"
    text.write_bytes(b"caf\xe9\n")
    result = run(capsys, "compose", "--from", ALICE, "--to", BOB, "--text", str(text))
    assert result.code == 2
    assert "not UTF-8" in result.stderr


# --------------------------------------------------------------------------- sign


def _assert_valid(signed: bytes, ca: Path) -> smime.SmimeVerdict:
    verdict = smime.verify(signed, trust=[keys.load_certificate_file(ca)])
    assert verdict.valid, [p.code for p in verdict.all_problems()]
    assert verdict.signers[0].addresses == (ALICE,)
    return verdict


def test_sign_detached_with_key_and_cert(
    dev_pki: pki.DevPkiFiles, message_file: Path, signed_file: Path
) -> None:
    signed = signed_file.read_bytes()
    assert mime.is_transport_safe(signed)
    verdict = _assert_valid(signed, dev_pki.ca_cert)
    assert verdict.parts[0].form == "detached"
    message = parse(signed)
    assert message.get_content_type() == "multipart/signed"
    assert message.get_param("protocol") == "application/pkcs7-signature"
    assert message.get_param("micalg") == "sha-256"
    assert message["Subject"] == "Quarterly figures"
    # The original body is carried inside the signed part byte for byte.
    original_body = mime.split_message(message_file.read_bytes())[1]
    assert original_body in signed


def test_sign_opaque_to_stdout(
    dev_pki: pki.DevPkiFiles, message_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, "sign", str(message_file), "--opaque", *_sign_args(dev_pki))
    assert result.code == 0, result.stderr
    verdict = _assert_valid(result.stdout, dev_pki.ca_cert)
    assert verdict.parts[0].form == "opaque"
    message = parse(result.stdout)
    assert message.get_content_type() == "application/pkcs7-mime"
    assert message.get_param("smime-type") == "signed-data"


def test_sign_digest_and_pss_options(
    dev_pki: pki.DevPkiFiles, message_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(
        capsys, "sign", str(message_file), "--digest", "sha-512", "--rsa-pss", *_sign_args(dev_pki)
    )
    assert result.code == 0, result.stderr
    verdict = _assert_valid(result.stdout, dev_pki.ca_cert)
    assert verdict.signers[0].digest == "sha-512"
    assert "pss" in verdict.signers[0].signature_algorithm
    assert parse(result.stdout).get_param("micalg") == "sha-512"


def test_sign_with_encrypted_p12(
    encrypted_pki: Path,
    message_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_VAR, P12_PASSWORD)
    out = tmp_path / "signed.eml"
    result = run(
        capsys, "sign", str(message_file), "-o", str(out),
        "--smime-p12", str(encrypted_pki / f"{ALICE}.p12"), "--password-env", PASSWORD_VAR,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.stdout == b""
    verdict = _assert_valid(out.read_bytes(), encrypted_pki / "ca.pem")
    # The bundle's CA travels in the signature: the chain is alice → CA.
    assert len(verdict.signers[0].chain) == 2


def test_sign_reads_stdin(
    dev_pki: pki.DevPkiFiles,
    message_file: Path,
    capsys: pytest.CaptureFixture[str],
    stdin_bytes: StdinFeeder,
) -> None:
    stdin_bytes(message_file.read_bytes())
    result = run(capsys, "sign", "-", *_sign_args(dev_pki))
    assert result.code == 0, result.stderr
    _assert_valid(result.stdout, dev_pki.ca_cert)


def test_sign_wrong_password_is_not_echoed(
    encrypted_pki: Path,
    message_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = "Wr0ng-Passw0rd-Z"
    monkeypatch.setenv(PASSWORD_VAR, wrong)
    result = run(
        capsys, "sign", str(message_file),
        "--smime-p12", str(encrypted_pki / f"{ALICE}.p12"), "--password-env", PASSWORD_VAR,
    )  # fmt: skip
    assert result.code == 2
    assert "password" in result.stderr
    assert wrong not in result.stderr
    assert P12_PASSWORD not in result.stderr
    assert result.stdout == b""


def test_sign_key_that_does_not_match_the_certificate(
    dev_pki: pki.DevPkiFiles,
    other_pki: pki.DevPkiFiles,
    message_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run(
        capsys, "sign", str(message_file),
        "--smime-key", str(other_pki.signer(ALICE).key),
        "--smime-cert", str(dev_pki.signer(ALICE).cert),
    )  # fmt: skip
    assert result.code == 2
    assert "does not belong" in result.stderr
    assert result.stdout == b""


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--smime-key", "KEY"],
        ["--smime-cert", "CERT"],
        ["--smime-p12", "P12", "--smime-key", "KEY", "--smime-cert", "CERT"],
    ],
)
def test_sign_usage_errors(
    dev_pki: pki.DevPkiFiles,
    message_file: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
) -> None:
    signer = dev_pki.signer(ALICE)
    paths = {"KEY": str(signer.key), "CERT": str(signer.cert), "P12": str(signer.p12)}
    result = run(capsys, "sign", str(message_file), *[paths.get(a, a) for a in extra])
    assert result.code == 2
    assert "--smime-" in result.stderr
    assert result.stdout == b""


def test_sign_missing_input(dev_pki: pki.DevPkiFiles, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "sign", "/nonexistent/message.eml", *_sign_args(dev_pki))
    assert result.code == 2
    assert "cannot read /nonexistent/message.eml" in result.stderr


# --------------------------------------------------------------------------- verify


def test_verify_good_message(
    dev_pki: pki.DevPkiFiles, signed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, "verify", str(signed_file), "--trust", str(dev_pki.ca_cert))
    assert result.code == 0, result.stdout
    first = result.stdout.decode().splitlines()[0]
    assert first.startswith(f"PASS smime detached signer={ALICE} digest=sha-256")
    assert first.endswith("covers=whole message")


def test_verify_json(
    dev_pki: pki.DevPkiFiles, signed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result, report = verify_file(capsys, signed_file, dev_pki.ca_cert)
    assert result.code == 0
    assert report["valid"] is True
    assert report["smime"]["valid"] is True
    part = report["smime"]["parts"][0]
    assert part["is_root"] is True
    assert part["form"] == "detached"
    signer = part["signers"][0]
    assert signer["addresses"] == [ALICE]
    assert signer["valid"] is True
    assert signer["problems"] == []
    cert = keys.load_certificate_file(dev_pki.signer(ALICE).cert)
    assert signer["serial"] == format(cert.serial_number, "x")
    assert len(signer["chain"]) == 2


def test_verify_tampered_body_byte(
    dev_pki: pki.DevPkiFiles,
    signed_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed = signed_file.read_bytes()
    assert signed.count(b"The figures are final.") == 1
    tampered = tmp_path / "tampered.eml"
    tampered.write_bytes(signed.replace(b"The figures are final.", b"The figures are finaL."))
    result, report = verify_file(capsys, tampered, dev_pki.ca_cert)
    assert result.code == 1
    assert report["valid"] is False
    assert "digest-mismatch" in problem_codes(report)
    text = run(capsys, "verify", str(tampered), "--trust", str(dev_pki.ca_cert))
    assert text.code == 1
    assert text.stdout.startswith(b"FAIL smime detached")


def test_verify_untrusted_root(
    other_pki: pki.DevPkiFiles, signed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result, report = verify_file(capsys, signed_file, other_pki.ca_cert)
    assert result.code == 1
    assert report["valid"] is False
    assert "untrusted-chain" in problem_codes(report)


def test_verify_before_the_certificate_is_valid(
    dev_pki: pki.DevPkiFiles, signed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert = keys.load_certificate_file(dev_pki.signer(ALICE).cert)
    before = (cert.not_valid_before_utc - timedelta(days=1)).isoformat()
    result, report = verify_file(capsys, signed_file, dev_pki.ca_cert, "--at", before)
    assert result.code == 1
    assert report["valid"] is False
    assert "cert-not-yet-valid" in problem_codes(report)
    assert report["smime"]["parts"][0]["signers"][0]["validated_at"] == before


def test_verify_at_inside_validity(
    dev_pki: pki.DevPkiFiles, signed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert = keys.load_certificate_file(dev_pki.signer(ALICE).cert)
    inside = (cert.not_valid_before_utc + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result, report = verify_file(capsys, signed_file, dev_pki.ca_cert, "--at", inside)
    assert result.code == 0, problem_codes(report)


def test_verify_at_signing_time_says_so(
    dev_pki: pki.DevPkiFiles, signed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result, report = verify_file(capsys, signed_file, dev_pki.ca_cert, "--at", "signing-time")
    assert result.code == 0, problem_codes(report)
    signer = report["smime"]["parts"][0]["signers"][0]
    assert signer["validated_at_source"] == "signing-time"
    assert signer["validated_at"] == signer["signing_time"]


def test_verify_bad_at(
    dev_pki: pki.DevPkiFiles, signed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(
        capsys, "verify", str(signed_file), "--trust", str(dev_pki.ca_cert), "--at", "yesterday"
    )
    assert result.code == 2
    assert "ISO-8601" in result.stderr


def test_verify_signature_part_not_base64(
    dev_pki: pki.DevPkiFiles,
    signed_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed = signed_file.read_bytes()
    boundary = parse(signed).get_boundary()
    assert boundary is not None
    split = mime.split_multipart(mime.split_message(signed)[1], boundary)
    sig_headers = mime.split_message(split.parts[1])[0]
    broken_sig = sig_headers + b"\r\n" + b"this is *not* base64 at all!\r\n"
    garbage = signed.replace(split.parts[1], broken_sig)
    assert garbage != signed
    path = tmp_path / "garbage.eml"
    path.write_bytes(garbage)
    result = run(capsys, "verify", str(path), "--trust", str(dev_pki.ca_cert), "--json")
    assert result.code == 2
    assert "base64" in result.stderr
    assert result.stdout == b""


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"not a message at all", "not a header field"),
        (b"\x00\xff\xfe binary\r\n\r\n", "not a header field"),
        (
            b"From: alice@example.com\r\nContent-Type: multipart/signed; boundary=b\r\n\r\n"
            b"--b\r\nonly one part\r\n--b--\r\n",
            "exactly two parts",
        ),
        (b"Content-Type: multipart/signed\r\n\r\nno boundary\r\n", "no boundary"),
        (
            b"From: alice@example.com\r\n"
            b"Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n",
            "CMS",
        ),
    ],
)
def test_verify_unusable_input(
    dev_pki: pki.DevPkiFiles,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    fragment: str,
) -> None:
    path = tmp_path / "input.eml"
    path.write_bytes(content)
    result = run(capsys, "verify", str(path), "--trust", str(dev_pki.ca_cert))
    assert result.code == 2
    assert result.stderr.startswith("mimeseal: error: ")
    assert fragment in result.stderr
    assert result.stdout == b""


def test_verify_unsigned_message_fails(
    dev_pki: pki.DevPkiFiles,
    message_file: Path,
    capsys: pytest.CaptureFixture[str],
    stdin_bytes: StdinFeeder,
) -> None:
    stdin_bytes(b"")
    result, report = verify_file(capsys, message_file, dev_pki.ca_cert)
    assert result.code == 1
    assert report["valid"] is False
    assert report["smime"]["parts"] == []
    assert "no-signature" in problem_codes(report)
    empty = run(capsys, "verify", "-", "--trust", str(dev_pki.ca_cert))
    assert empty.code == 1
    assert b"no-signature" in empty.stdout


def test_verify_missing_file(
    dev_pki: pki.DevPkiFiles, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.eml"
    result = run(capsys, "verify", str(missing), "--trust", str(dev_pki.ca_cert))
    assert result.code == 2
    assert f"cannot read {missing}" in result.stderr
    assert result.stdout == b""


def test_verify_trust_file_is_not_a_certificate(
    signed_file: Path, message_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, "verify", str(signed_file), "--trust", str(message_file))
    assert result.code == 2
    assert "certificate" in result.stderr


def test_verify_of_smime_message_requires_trust(
    signed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["verify", str(signed_file)], stdout=io.BytesIO())
    assert code == 2
    assert "--trust" in capsys.readouterr().err


# --------------------------------------------------------------------------- real process


def _command() -> list[str]:
    script = shutil.which("mimeseal", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "mimeseal.cli"]


def test_console_script_sign_from_stdin_and_verify(
    encrypted_pki: Path, message_file: Path, tmp_path: Path
) -> None:
    env = {**os.environ, PASSWORD_VAR: P12_PASSWORD}
    signed = subprocess.run(
        [*_command(), "sign", "-", "--opaque", "--smime-p12", str(encrypted_pki / f"{ALICE}.p12"),
         "--password-env", PASSWORD_VAR],
        input=message_file.read_bytes(), capture_output=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    assert P12_PASSWORD.encode() not in signed.stdout + signed.stderr
    path = tmp_path / "signed.eml"
    path.write_bytes(signed.stdout)

    verified = subprocess.run(
        [sys.executable, "-m", "mimeseal.cli", "verify", str(path),
         "--trust", str(encrypted_pki / "ca.pem"), "--json"],
        capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["valid"] is True
    assert report["smime"]["parts"][0]["form"] == "opaque"
    assert report["smime"]["parts"][0]["signers"][0]["addresses"] == [ALICE]


def test_console_script_exit_status_for_unusable_input(
    dev_pki: pki.DevPkiFiles, tmp_path: Path
) -> None:
    done = subprocess.run(
        [*_command(), "verify", str(tmp_path / "missing.eml"), "--trust", str(dev_pki.ca_cert)],
        capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert b"mimeseal: error: cannot read" in done.stderr
    assert b"Traceback" not in done.stderr


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"], stdout=io.BytesIO())
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("mimeseal ")
