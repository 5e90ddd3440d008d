"""The DKIM side of the CLI: keygen, record, sign --dkim-*, verify --dkim-record(s)."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import dkim as dkimpy
import pytest

from conftest import MESSAGE, DevPki
from mimeseal import cli, dkim


def run(*argv: str) -> tuple[int, str]:
    out = io.BytesIO()
    code = cli.main(list(argv), stdout=out)
    return code, out.getvalue().decode()


@pytest.fixture(scope="module")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dkim-keys")
    for selector, algorithm in (("s1", "rsa"), ("e1", "ed25519")):
        code, _ = run(
            "dkim", "keygen", "--domain", "example.com", "--selector", selector,
            "--out", str(folder), "--algorithm", algorithm,
        )  # fmt: skip
        assert code == 0
    return folder


def _record(key_dir: Path, selector: str) -> str:
    return (
        f"{selector}._domainkey.example.com=@{key_dir / f'{selector}._domainkey.example.com.txt'}"
    )


def test_keygen_writes_private_key_0600_and_record(key_dir: Path) -> None:
    key = key_dir / "s1._domainkey.example.com.key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    value = (key_dir / "s1._domainkey.example.com.txt").read_text().strip()
    assert value.startswith("v=DKIM1; k=rsa; p=")
    assert dkim.parse_key_record(value).public_key is not None


def test_keygen_prints_zone_record_split_at_255(tmp_path: Path) -> None:
    code, text = run(
        "dkim", "keygen", "--domain", "example.org", "--selector", "big", "--out", str(tmp_path),
        "--bits", "4096",
    )  # fmt: skip
    assert code == 0
    strings = [line.strip().strip('"( )') for line in text.splitlines() if '"' in line]
    assert all(len(s) <= 255 for s in strings)
    assert len(strings) > 1
    assert "".join(strings) == (tmp_path / "big._domainkey.example.org.txt").read_text().strip()


def test_keygen_refuses_to_overwrite_a_key(key_dir: Path) -> None:
    code, _ = run(
        "dkim", "keygen", "--domain", "example.com", "--selector", "s1", "--out", str(key_dir)
    )
    assert code == 2


def test_record_for_existing_key(key_dir: Path) -> None:
    code, text = run(
        "dkim", "record", str(key_dir / "e1._domainkey.example.com.key.pem"),
        "--domain", "example.com", "--selector", "e1",
    )  # fmt: skip
    assert code == 0
    value = (key_dir / "e1._domainkey.example.com.txt").read_text().strip()
    assert text.strip() == f'e1._domainkey.example.com. IN TXT "{value}"'


def test_sign_and_verify_stacked_rsa_and_ed25519(key_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(MESSAGE)
    for selector, source, target in (("s1", "m.eml", "a.eml"), ("e1", "a.eml", "b.eml")):
        code, _ = run(
            "sign", str(tmp_path / source), "-o", str(tmp_path / target),
            "--dkim-key", str(key_dir / f"{selector}._domainkey.example.com.key.pem"),
            "--dkim-domain", "example.com", "--dkim-selector", selector,
        )  # fmt: skip
        assert code == 0
    signed = tmp_path / "b.eml"
    code, text = run(
        "verify", str(signed), "--dkim-record", _record(key_dir, "s1"),
        "--dkim-record", _record(key_dir, "e1"), "--json",
    )  # fmt: skip
    assert code == 0
    document = json.loads(text)
    assert document["valid"] is True
    assert document["smime"] is None
    assert [r["algorithm"] for r in document["dkim"]] == ["ed25519-sha256", "rsa-sha256"]
    # The reference receiver agrees (it checks the first signature only).
    records = {
        f"{s}._domainkey.example.com": (key_dir / f"{s}._domainkey.example.com.txt").read_bytes()
        for s in ("s1", "e1")
    }

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        return records.get(name.decode().rstrip("."))

    assert dkimpy.verify(signed.read_bytes(), dnsfunc=dnsfunc)


def test_verify_with_records_json_and_a_missing_record(key_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(MESSAGE)
    signed = tmp_path / "s.eml"
    run(
        "sign", str(tmp_path / "m.eml"), "-o", str(signed), "--profile", "ses",
        "--dkim-key", str(key_dir / "s1._domainkey.example.com.key.pem"),
        "--dkim-domain", "example.com", "--dkim-selector", "s1",
    )  # fmt: skip
    value = (key_dir / "s1._domainkey.example.com.txt").read_text().strip()
    (tmp_path / "records.json").write_text(json.dumps({"s1._domainkey.example.com": value}))
    code, text = run("verify", str(signed), "--dkim-records", str(tmp_path / "records.json"))
    assert code == 0
    assert "PASS dkim d=example.com s=s1" in text
    (tmp_path / "other.json").write_text(json.dumps({"x._domainkey.example.com": value}))
    code, text = run("verify", str(signed), "--dkim-records", str(tmp_path / "other.json"))
    assert code == 1
    assert "no key record" in text


def test_profile_ses_leaves_out_date_and_message_id(key_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(MESSAGE)
    code, _ = run(
        "sign", str(tmp_path / "m.eml"), "-o", str(tmp_path / "s.eml"), "--profile", "ses",
        "--dkim-key", str(key_dir / "s1._domainkey.example.com.key.pem"),
        "--dkim-domain", "example.com", "--dkim-selector", "s1",
    )  # fmt: skip
    assert code == 0
    header = (tmp_path / "s.eml").read_bytes().split(b"\r\nFrom:")[0].lower()
    assert b"date" not in header.split(b"h=")[1].split(b";")[0]
    assert b"message-id" not in header


def test_smime_then_dkim(rsa_pki: DevPki, key_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(MESSAGE)
    code, _ = run(
        "sign", str(tmp_path / "m.eml"), "-o", str(tmp_path / "s.eml"),
        "--smime-key", str(rsa_pki.key_pem), "--smime-cert", str(rsa_pki.cert_pem),
        "--dkim-key", str(key_dir / "s1._domainkey.example.com.key.pem"),
        "--dkim-domain", "example.com", "--dkim-selector", "s1", "--profile", "ses",
    )  # fmt: skip
    assert code == 0
    signed = (tmp_path / "s.eml").read_bytes()
    assert signed.startswith(b"DKIM-Signature:")
    code, text = run(
        "verify", str(tmp_path / "s.eml"), "--trust", str(rsa_pki.ca_pem),
        "--dkim-record", _record(key_dir, "s1"), "--json",
    )  # fmt: skip
    assert code == 0, text
    document = json.loads(text)
    assert document["smime"]["valid"] is True
    assert document["dkim"][0]["status"] == "pass"
    tampered = signed.replace(b"the statement is attached", b"the statement is attacked")
    (tmp_path / "t.eml").write_bytes(tampered)
    code, text = run(
        "verify", str(tmp_path / "t.eml"), "--trust", str(rsa_pki.ca_pem),
        "--dkim-record", _record(key_dir, "s1"), "--json",
    )  # fmt: skip
    assert code == 1
    document = json.loads(text)
    assert document["smime"]["valid"] is False
    assert document["dkim"][0]["status"] == "fail"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--dkim-domain", "example.com"], "--dkim-key"),
        (["--dkim-record", "no-equals-sign"], None),
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str | None
) -> None:
    (tmp_path / "m.eml").write_bytes(MESSAGE)
    command = "sign" if message else "verify"
    code, _ = run(command, str(tmp_path / "m.eml"), *extra)
    assert code == 2
    if message:
        assert message in capsys.readouterr().err


def test_unsigned_message_fails_verification(tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(MESSAGE)
    code, text = run("verify", str(tmp_path / "m.eml"), "--dkim-records", "/dev/null")
    assert code == 2  # /dev/null is not JSON: a usage error, not a verdict
    (tmp_path / "r.json").write_text("{}")
    code, text = run("verify", str(tmp_path / "m.eml"), "--dkim-records", str(tmp_path / "r.json"))
    assert code == 1
    assert "no signature" in text


def _signed_file(key_dir: Path, tmp_path: Path, message: bytes = MESSAGE) -> Path:
    (tmp_path / "m.eml").write_bytes(message)
    signed = tmp_path / "s.eml"
    code, _ = run(
        "sign", str(tmp_path / "m.eml"), "-o", str(signed),
        "--dkim-key", str(key_dir / "s1._domainkey.example.com.key.pem"),
        "--dkim-domain", "example.com", "--dkim-selector", "s1",
    )  # fmt: skip
    assert code == 0
    return signed


def test_verify_judges_the_message_not_each_signature(key_dir: Path, tmp_path: Path) -> None:
    """One good signature authenticates the message (RFC 6376 §6.1); a record in testing mode
    (t=y, §3.6.1) does not; a second From field leaves no DKIM-authenticated author."""
    signed = _signed_file(key_dir, tmp_path)
    value = (key_dir / "s1._domainkey.example.com.txt").read_text().strip()
    code, text = run("verify", str(signed), "--dkim-record", f"s1._domainkey.example.com={value}")
    assert code == 0
    assert "PASS dkim message pass" in text
    code, text = run(
        "verify", str(signed), "--json", "--dkim-record", f"s1._domainkey.example.com={value}; t=y"
    )
    assert code == 1
    assert json.loads(text)["dkim_verdict"]["status"] == "testing"
    forged = tmp_path / "forged.eml"
    forged.write_bytes(b"From: mallory@example.net\r\n" + signed.read_bytes())
    code, text = run("verify", str(forged), "--dkim-record", f"s1._domainkey.example.com={value}")
    assert code == 1
    assert "FAIL dkim message" in text


def test_verify_at_sets_the_dkim_clock(key_dir: Path, tmp_path: Path) -> None:
    signed = _signed_file(key_dir, tmp_path)
    value = (key_dir / "s1._domainkey.example.com.txt").read_text().strip()
    record = f"s1._domainkey.example.com={value}"
    code, text = run("verify", str(signed), "--dkim-record", record, "--at", "2001-01-01T00:00Z")
    assert code == 1
    assert "t= is in the future" in text
