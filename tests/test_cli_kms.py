"""The whole flow with keys in KMS, through the CLI, against moto's KMS on loopback.

``certs dev --kms-key`` certifies a KMS key, ``sign`` takes awskms: URIs for both S/MIME and
DKIM, ``dkim record`` publishes a KMS key; OpenSSL and dkimpy check the result.
"""

from __future__ import annotations

import io
from pathlib import Path

import dkim as dkimpy
import pytest

from conftest import MESSAGE, needs_openssl
from mimeseal import cli, keys, references
from mimeseal.dkim.keyfiles import as_dkim_key, record_for_key
from mimeseal.pytest_plugin import KmsEndpoint

ALICE = "alice@example.com"


@pytest.fixture
def kms_uris(mimeseal_kms: KmsEndpoint) -> dict[str, str]:
    """Two fresh keys (S/MIME: EC P-256, DKIM: RSA-2048) named by alias URIs."""
    return {
        "smime": mimeseal_kms.create_key("ECC_NIST_P256"),
        "dkim": mimeseal_kms.create_key("RSA_2048"),
    }


def run(*argv: str) -> tuple[int, bytes]:
    out = io.BytesIO()
    code = cli.main(list(argv), stdout=out)
    return code, out.getvalue()


@needs_openssl
def test_certify_sign_and_verify_with_kms_keys(
    kms_uris: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pki_dir = tmp_path / "pki"
    code, out = run("certs", "dev", "--out", str(pki_dir), "--email", ALICE,
                    "--kms-key", kms_uris["smime"], "--key-type", "ec-p256")  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert f"the private key stays in {kms_uris['smime']}".encode() in out
    assert {p.name for p in pki_dir.iterdir()} == {"ca.key.pem", "ca.pem", f"{ALICE}.pem"}

    code, record = run("dkim", "record", kms_uris["dkim"], "--domain", "example.com",
                       "--selector", "kms")  # fmt: skip
    assert code == 0
    dkim_key = as_dkim_key(keys.load_signer(kms_uris["dkim"]))
    name, value = record_for_key(dkim_key, domain="example.com", selector="kms")
    assert record.startswith(name.encode() + b".")
    assert b"".join(record.split(b'"')[1::2]) == value.encode()  # the TXT strings, joined

    message_file, signed_file = tmp_path / "in.eml", tmp_path / "signed.eml"
    message_file.write_bytes(MESSAGE)
    code, _ = run(
        "sign", str(message_file), "-o", str(signed_file),
        "--smime-key", kms_uris["smime"], "--smime-cert", str(pki_dir / f"{ALICE}.pem"),
        "--smime-chain", str(pki_dir / "ca.pem"),
        "--dkim-key", kms_uris["dkim"], "--dkim-domain", "example.com", "--dkim-selector", "kms",
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    signed = signed_file.read_bytes()

    (tmp_path / "kms.txt").write_text(value)
    code, report = run("verify", str(signed_file), "--trust", str(pki_dir / "ca.pem"),
                       "--dkim-record", f"{name}=@{tmp_path / 'kms.txt'}")  # fmt: skip
    assert code == 0, report.decode()
    ca = keys.load_certificate_file(pki_dir / "ca.pem")
    assert references.openssl_cms_verify(signed, [ca]).ok
    assert dkimpy.verify(signed, dnsfunc=lambda qname, timeout=5: value.encode())


def test_missing_kms_key_is_a_usage_failure_with_the_reason(
    kms_uris: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message_file = tmp_path / "in.eml"
    message_file.write_bytes(MESSAGE)
    code, out = run("sign", str(message_file), "--dkim-key", "awskms:///alias/gone?region=us-east-1",
                    "--dkim-domain", "example.com", "--dkim-selector", "s")  # fmt: skip
    assert (code, out) == (2, b"")
    assert "NotFoundException" in capsys.readouterr().err


def test_ec_kms_key_for_dkim_is_refused_before_signing(
    kms_uris: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message_file = tmp_path / "in.eml"
    message_file.write_bytes(MESSAGE)
    code, out = run("sign", str(message_file), "--dkim-key", kms_uris["smime"],
                    "--dkim-domain", "example.com", "--dkim-selector", "s")  # fmt: skip
    assert (code, out) == (2, b"")
    assert "cannot DKIM-sign" in capsys.readouterr().err


def test_kms_key_with_password_env_is_refused(
    kms_uris: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run("certs", "dev", "--out", str(tmp_path), "--email", ALICE,
                  "--kms-key", kms_uris["smime"], "--password-env", "HOME")  # fmt: skip
    assert code == 2
    assert "--kms-key does not write" in capsys.readouterr().err
