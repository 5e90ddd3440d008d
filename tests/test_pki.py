"""Tests for mimeseal.pki: the development CA, signer certificates and the files written."""

from __future__ import annotations

import shutil
import stat
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from mimeseal import keys, pki, trust
from mimeseal.errors import CertificateError, PasswordError, UnsupportedKeyError

E = TypeVar("E", bound=x509.ExtensionType)
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl command line tool not found")


@pytest.fixture(scope="module")
def ca() -> pki.DevCA:
    return pki.create_ca()


@pytest.fixture(scope="module")
def ec_ca() -> pki.DevCA:
    return pki.create_ca(key_type="ec-p256")


def smime_verify(ca_cert: x509.Certificate, leaf: x509.Certificate) -> None:
    """Path-validate ``leaf`` with cryptography, accepting emailProtection instead of clientAuth."""
    verifier = (
        PolicyBuilder()
        .store(Store([ca_cert]))
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=ExtensionPolicy.webpki_defaults_ee().may_be_present(
                x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None
            ),
        )
        .build_client_verifier()
    )
    verifier.verify(leaf, [])


def ext(cert: x509.Certificate, ext_type: type[E]) -> x509.Extension[E]:
    return cert.extensions.get_extension_for_class(ext_type)


# --------------------------------------------------------------------------- keys and CA


@pytest.mark.parametrize(
    ("key_type", "interface"),
    [
        ("rsa2048", rsa.RSAPrivateKey),
        ("ec-p256", ec.EllipticCurvePrivateKey),
        ("ed25519", ed25519.Ed25519PrivateKey),
    ],
)
def test_generate_key(key_type: str, interface: type[object]) -> None:
    key = pki.generate_key(key_type)
    assert isinstance(key, interface)
    keys.check_signing_key(key)


def test_generate_key_unknown_type() -> None:
    with pytest.raises(UnsupportedKeyError, match="rsa2048, rsa3072, ec-p256, ed25519"):
        pki.generate_key("dsa1024")
    with pytest.raises(UnsupportedKeyError):
        pki.create_ca(key_type="rsa1024")


def test_ca_certificate(ca: pki.DevCA) -> None:
    cert = ca.certificate
    assert cert.subject == cert.issuer
    cert.verify_directly_issued_by(cert)
    assert keys.key_matches_certificate(ca.key, cert)
    constraints = ext(cert, x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value == x509.BasicConstraints(ca=True, path_length=0)
    usage = ext(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign
    assert usage.value.crl_sign
    ski = ext(cert, x509.SubjectKeyIdentifier).value
    aki = ext(cert, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert aki.authority_cert_issuer is None
    assert cert.not_valid_after_utc - cert.not_valid_before_utc >= timedelta(days=365)
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == "sha256"


def test_ed25519_signers_get_an_ec_ca() -> None:
    ca = pki.create_ca(key_type="ed25519", common_name="Test CA")
    assert isinstance(ca.key, ec.EllipticCurvePrivateKey)
    assert ca.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Test CA"


# --------------------------------------------------------------------------- signers


def test_issue_signer_defaults(ca: pki.DevCA) -> None:
    bundle = pki.issue_signer(ca, ["alice@example.com", "alice@example.org"])
    cert = bundle.certificate
    assert bundle.chain == (ca.certificate,)
    assert keys.key_matches_certificate(bundle.key, cert)
    cert.verify_directly_issued_by(ca.certificate)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert [a.value for a in cn] == ["alice@example.com"]
    san = ext(cert, x509.SubjectAlternativeName)
    assert not san.critical
    assert san.value.get_values_for_type(x509.RFC822Name) == [
        "alice@example.com",
        "alice@example.org",
    ]
    usage = ext(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value == x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    eku = ext(cert, x509.ExtendedKeyUsage)
    assert not eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    constraints = ext(cert, x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value == x509.BasicConstraints(ca=False, path_length=None)
    aki = ext(cert, x509.AuthorityKeyIdentifier).value
    ca_ski = ext(ca.certificate, x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    assert cert.not_valid_after_utc <= ca.certificate.not_valid_after_utc
    assert keys.smime_certificate_problems(cert, address="alice@example.org") == []
    smime_verify(ca.certificate, cert)


def test_issue_signer_overrides(ec_ca: pki.DevCA) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    start = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    bundle = pki.issue_signer(
        ec_ca,
        "bob@example.com",
        key=key,
        not_before=start,
        not_after=start + timedelta(days=2),
        key_usage=("digitalSignature", "keyEncipherment"),
        eku=None,
    )
    cert = bundle.certificate
    assert bundle.key is key
    assert cert.not_valid_before_utc == start
    assert cert.not_valid_after_utc == start + timedelta(days=2)
    usage = ext(cert, x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.key_encipherment
    assert not usage.content_commitment
    with pytest.raises(x509.ExtensionNotFound):
        ext(cert, x509.ExtendedKeyUsage)
    no_usage = pki.issue_signer(ec_ca, "bob@example.com", key=key, key_usage=()).certificate
    with pytest.raises(x509.ExtensionNotFound):
        ext(no_usage, x509.KeyUsage)
    with pytest.raises(CertificateError, match="unknown keyUsage"):
        pki.issue_signer(ec_ca, "bob@example.com", key=key, key_usage=("sign_everything",))


@pytest.mark.parametrize(
    "address",
    [
        "",
        "alice",
        "alice@",
        "@example.com",
        "a@b@example.com",
        "alice smith@example.com",
        "alice@example.com\r\nBcc: eve@example.com",
        "alice@example.com\n",
        "jörg@example.com",
        "alice@exämple.com",
        "alice..smith@example.com",
        ".alice@example.com",
        "alice@-example.com",
        "<alice@example.com>",
    ],
)
def test_bad_addresses(ec_ca: pki.DevCA, address: str) -> None:
    with pytest.raises(CertificateError, match="not a plain ASCII email address") as exc:
        pki.issue_signer(ec_ca, address, key_type="ec-p256")
    assert "\r" not in str(exc.value)
    assert "\n" not in str(exc.value)


def test_no_addresses(ec_ca: pki.DevCA) -> None:
    with pytest.raises(CertificateError, match="at least one"):
        pki.issue_signer(ec_ca, [], key_type="ec-p256")


def test_duplicate_addresses_collapse(ec_ca: pki.DevCA) -> None:
    bundle = pki.issue_signer(ec_ca, ["a@example.com", "A@Example.com"], key_type="ec-p256")
    assert keys.certificate_addresses(bundle.certificate) == ("a@example.com",)


def test_self_signed_signer_fails_path_validation(ca: pki.DevCA) -> None:
    bundle = pki.issue_self_signed("mallory@example.com", key_type="ec-p256")
    cert = bundle.certificate
    assert bundle.chain == ()
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)
    assert keys.smime_certificate_problems(cert, address="mallory@example.com") == []
    with pytest.raises(VerificationError):
        smime_verify(ca.certificate, cert)


# --------------------------------------------------------------------------- files


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("key_type", pki.KEY_TYPES)
def test_write_dev_pki(tmp_path: Path, key_type: str) -> None:
    out = tmp_path / "pki" / "nested"
    files = pki.write_dev_pki(out, ["alice@example.com"], key_type=key_type)
    assert files.directory == out
    assert not files.ca_reused
    assert files.ca_cert == out / "ca.pem"
    assert files.ca_key == out / "ca.key.pem"
    signer = files.signer("Alice@Example.com")
    assert signer.cert == out / "alice@example.com.pem"
    assert signer.key == out / "alice@example.com.key.pem"
    assert signer.p12 == out / "alice@example.com.p12"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["ca.pem", "ca.key.pem", "alice@example.com.pem", "alice@example.com.key.pem",
         "alice@example.com.p12"]
    )  # fmt: skip
    for private in (files.ca_key, signer.key, signer.p12):
        assert mode(private) == 0o600, private
    assert mode(out) == 0o700

    ca_cert = keys.load_certificate_file(files.ca_cert)
    leaf = keys.load_certificate_file(signer.cert)
    key = keys.load_private_key_file(signer.key)
    keys.check_key_matches(key, leaf)
    keys.check_key_matches(keys.load_private_key_file(files.ca_key), ca_cert)
    keys.check_signing_key(key)
    assert keys.smime_certificate_problems(leaf, address="alice@example.com") == []
    bundle = keys.load_pkcs12_file(signer.p12, None)
    assert bundle.certificate == leaf
    assert bundle.chain == (ca_cert,)
    smime_verify(ca_cert, leaf)


@needs_openssl
@pytest.mark.openssl
@pytest.mark.parametrize("key_type", pki.KEY_TYPES)
def test_openssl_accepts_dev_pki(tmp_path: Path, key_type: str) -> None:
    assert OPENSSL is not None
    files = pki.write_dev_pki(tmp_path, ["alice@example.com"], key_type=key_type)
    leaf = files.signer("alice@example.com").cert
    result = subprocess.run(
        [OPENSSL, "verify", "-CAfile", str(files.ca_cert), "-purpose", "smimesign", str(leaf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("OK")
    self_signed = tmp_path / "self.pem"
    self_signed.write_bytes(
        pki.issue_self_signed("eve@example.com", key_type="ec-p256").certificate.public_bytes(
            Encoding.PEM
        )
    )
    refused = subprocess.run(
        [
            OPENSSL,
            "verify",
            "-CAfile",
            str(files.ca_cert),
            "-purpose",
            "smimesign",
            str(self_signed),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0


def test_p12_password(tmp_path: Path) -> None:
    files = pki.write_dev_pki(
        tmp_path, ["alice@example.com"], key_type="ec-p256", p12_password=b"s3cret"
    )
    p12 = files.signer("alice@example.com").p12
    assert keys.load_pkcs12_file(p12, b"s3cret").certificate == keys.load_certificate_file(
        files.signer("alice@example.com").cert
    )
    with pytest.raises(PasswordError):
        keys.load_pkcs12_file(p12, None)


def test_reusing_a_directory_keeps_the_ca(tmp_path: Path) -> None:
    first = pki.write_dev_pki(tmp_path, ["alice@example.com"], key_type="ec-p256")
    ca_pem = first.ca_cert.read_bytes()
    ca_key = first.ca_key.read_bytes()
    old_leaf = first.signer("alice@example.com").cert.read_bytes()
    # An existing file with loose permissions is replaced by a 0600 one.
    first.signer("alice@example.com").key.chmod(0o644)

    second = pki.write_dev_pki(
        tmp_path, ["bob@example.com", "alice@example.com"], key_type="ed25519"
    )
    assert second.ca_reused
    assert first.ca_cert.read_bytes() == ca_pem
    assert first.ca_key.read_bytes() == ca_key
    assert second.signer("alice@example.com").cert.read_bytes() != old_leaf
    assert mode(second.signer("alice@example.com").key) == 0o600
    ca_cert = keys.load_certificate(ca_pem)
    for address in ("alice@example.com", "bob@example.com"):
        smime_verify(ca_cert, keys.load_certificate_file(second.signer(address).cert))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert pki.load_dev_ca(tmp_path).certificate == ca_cert


def test_half_a_ca_is_refused(tmp_path: Path) -> None:
    files = pki.write_dev_pki(tmp_path, ["alice@example.com"], key_type="ec-p256")
    files.ca_key.unlink()
    with pytest.raises(CertificateError, match=r"ca\.key\.pem is missing"):
        pki.write_dev_pki(tmp_path, ["bob@example.com"], key_type="ec-p256")
    assert not (tmp_path / "bob@example.com.pem").exists()


def test_expired_ca_is_refused(tmp_path: Path) -> None:
    old = pki.create_ca(
        key_type="ec-p256", days=1, now=datetime.now(timezone.utc) - timedelta(days=3)
    )
    (tmp_path / "ca.pem").write_bytes(old.certificate.public_bytes(Encoding.PEM))
    (tmp_path / "ca.key.pem").write_bytes(
        old.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    with pytest.raises(CertificateError, match="expired"):
        pki.write_dev_pki(tmp_path, ["alice@example.com"])


def test_addresses_that_are_not_file_names(tmp_path: Path) -> None:
    out = tmp_path / "never-created"
    with pytest.raises(CertificateError, match="file name"):
        pki.write_dev_pki(out, ["etc/passwd@example.com"])
    with pytest.raises(CertificateError):
        pki.write_dev_pki(out, ["../../etc/passwd@example.com"])
    with pytest.raises(CertificateError, match="not a plain ASCII"):
        pki.write_dev_pki(out, ["bad address@example.com"])
    with pytest.raises(UnsupportedKeyError):
        pki.write_dev_pki(out, ["alice@example.com"], key_type="dsa")
    assert not out.exists()


def test_write_dev_certificates_certifies_an_existing_key(tmp_path: Path) -> None:
    first = pki.write_dev_pki(tmp_path, ["bob@example.org", "alice@example.com"])
    key = ec.generate_private_key(ec.SECP384R1())
    files = pki.write_dev_certificates(tmp_path, ["alice@example.com", "a2@example.com"], key)
    assert files.ca_reused
    assert files.ca_cert == first.ca_cert
    ca = pki.load_dev_ca(tmp_path)
    for address, path in files.certificates:
        cert = keys.load_certificate_file(path)
        assert keys.key_matches_certificate(key, cert)
        assert keys.certificate_addresses(cert) == (address,)
        assert trust.validate_chain(cert, [], [ca.certificate], datetime.now(timezone.utc)).chain
    # Alice's old key and bundle belonged to another key: they are gone, Bob's stay.
    assert not (tmp_path / "alice@example.com.key.pem").exists()
    assert not (tmp_path / "alice@example.com.p12").exists()
    assert (tmp_path / "bob@example.org.p12").exists()
