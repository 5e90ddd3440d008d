"""Tests for mimeseal.keys.load_signer with key files (the KMS forms: test_keys_kms*.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from mimeseal import keys, pki
from mimeseal.errors import KeyLoadError, PasswordError, UnsupportedKeyError


def _write(path: Path, key: keys.SigningKey, password: bytes | None = None) -> Path:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return path


def _same(a: keys.SigningKey, b: keys.SigningKey) -> bool:
    """Whether two keys are the same key pair (same SubjectPublicKeyInfo)."""
    der, spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_key().public_bytes(der, spki) == b.public_key().public_bytes(der, spki)


def test_pem_file_by_str_and_path(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = _write(tmp_path / "k.pem", key)
    for spec in (str(path), path):
        assert _same(keys.load_signer(spec), key)


def test_encrypted_pem_needs_its_password(tmp_path: Path) -> None:
    key = rsa.generate_private_key(65537, 2048)
    path = _write(tmp_path / "k.pem", key, b"pw")
    with pytest.raises(PasswordError, match="encrypted"):
        keys.load_signer(str(path))
    assert _same(keys.load_signer(str(path), b"pw"), key)


def test_pkcs12_file_gives_its_key(tmp_path: Path) -> None:
    bundle = pki.issue_self_signed("a@example.com", key_type="ec-p256")
    blob = pkcs12.serialize_key_and_certificates(
        b"a", bundle.key, bundle.certificate, None, serialization.BestAvailableEncryption(b"pw")
    )
    path = tmp_path / "signer.bundle"  # recognised by content, not by name
    path.write_bytes(blob)
    assert keys.looks_like_pkcs12(blob)
    assert _same(keys.load_signer(str(path), b"pw"), bundle.key)
    with pytest.raises(PasswordError):
        keys.load_signer(str(path))


def test_weak_key_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "weak.pem", rsa.generate_private_key(65537, 1024))  # noqa: S505
    with pytest.raises(UnsupportedKeyError, match="1024-bit RSA keys are too weak"):
        keys.load_signer(str(path))


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(KeyLoadError, match=r"key file .*nope\.pem does not exist"):
        keys.load_signer(str(tmp_path / "nope.pem"))


def test_describe_spec_names_without_secrets(tmp_path: Path) -> None:
    assert keys.describe_spec(str(tmp_path / "k.pem")) == f"key file {tmp_path / 'k.pem'}"
    assert keys.describe_spec("awskms:///alias/mail?region=eu-west-1") == (
        "awskms:///alias/mail?region=eu-west-1"
    )
