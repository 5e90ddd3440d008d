"""Tests for mimeseal.keys: loading keys and certificates, matching, S/MIME certificate checks."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x25519
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from mimeseal import keys, pki
from mimeseal.errors import (
    CertificateError,
    KeyLoadError,
    KeyMismatchError,
    MimesealError,
    PasswordError,
    UnsupportedKeyError,
)

Enc = serialization.Encoding
Fmt = serialization.PrivateFormat
PASSWORD = b"correct horse battery staple"
WRONG = b"Tr0ub4dor&3-wrong"
NOW = datetime.now(timezone.utc)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def ca() -> pki.DevCA:
    return pki.create_ca(key_type="ec-p256")


@pytest.fixture(scope="module")
def signer(ca: pki.DevCA, rsa_key: rsa.RSAPrivateKey) -> keys.KeyBundle:
    return pki.issue_signer(ca, ["alice@example.com", "Alice.Two@Example.com"], key=rsa_key)


def spki(key: keys.SigningKey) -> bytes:
    return key.public_key().public_bytes(Enc.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def base64_lines(pem: bytes) -> list[str]:
    """A few body lines of a PEM block: none may ever appear in an error message."""
    body = [ln for ln in pem.decode().splitlines() if ln and "-----" not in ln and ":" not in ln]
    return body[:3] + body[-2:]


def assert_no_secrets(exc: BaseException, pem: bytes | None = None) -> None:
    text = str(exc)
    assert PASSWORD.decode() not in text
    assert WRONG.decode() not in text
    if pem is not None:
        for line in base64_lines(pem):
            assert line not in text
    # The underlying exception (whose text may echo the input) must not be chained.
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__


class RemoteRSAKey(rsa.RSAPrivateKey):
    """Stands in for a remote signer (AWS KMS): implements the interface, is not OpenSSL's key."""

    def __init__(self, inner: rsa.RSAPrivateKey) -> None:
        self._inner = inner

    def decrypt(self, ciphertext: bytes, padding: Any) -> bytes:
        raise NotImplementedError

    @property
    def key_size(self) -> int:
        return self._inner.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._inner.public_key()

    def sign(self, data: bytes, padding: Any, algorithm: Any) -> bytes:
        return self._inner.sign(data, padding, algorithm)

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        raise NotImplementedError("the key never leaves the remote service")

    def private_bytes(self, encoding: Any, format: Any, encryption_algorithm: Any) -> bytes:
        raise NotImplementedError("the key never leaves the remote service")

    def __copy__(self) -> RemoteRSAKey:
        return self

    def __deepcopy__(self, memo: dict[Any, Any]) -> RemoteRSAKey:
        return self


# --------------------------------------------------------------------------- private keys


@pytest.mark.parametrize(
    ("which", "encoding", "fmt"),
    [
        ("rsa", Enc.PEM, Fmt.TraditionalOpenSSL),  # PKCS#1 "RSA PRIVATE KEY"
        ("rsa", Enc.PEM, Fmt.PKCS8),
        ("rsa", Enc.DER, Fmt.TraditionalOpenSSL),
        ("rsa", Enc.DER, Fmt.PKCS8),
        ("ec", Enc.PEM, Fmt.TraditionalOpenSSL),  # SEC1 "EC PRIVATE KEY"
        ("ec", Enc.PEM, Fmt.PKCS8),
        ("ec", Enc.DER, Fmt.TraditionalOpenSSL),
        ("ec", Enc.DER, Fmt.PKCS8),
        ("ed", Enc.PEM, Fmt.PKCS8),
        ("ed", Enc.DER, Fmt.PKCS8),
    ],
)
def test_load_private_key_round_trip(
    request: pytest.FixtureRequest, which: str, encoding: Enc, fmt: Fmt
) -> None:
    key: keys.SigningKey = request.getfixturevalue(f"{which}_key")
    data = key.private_bytes(encoding, fmt, serialization.NoEncryption())
    loaded = keys.load_private_key(data)
    assert spki(loaded) == spki(key)
    # A password given for an unencrypted key is ignored.
    assert spki(keys.load_private_key(data, PASSWORD)) == spki(key)


@pytest.mark.parametrize(
    ("encoding", "fmt"),
    [
        (Enc.PEM, Fmt.PKCS8),  # "ENCRYPTED PRIVATE KEY"
        (Enc.PEM, Fmt.TraditionalOpenSSL),  # legacy Proc-Type/DEK-Info PEM
        (Enc.DER, Fmt.PKCS8),
    ],
)
def test_encrypted_private_key(rsa_key: rsa.RSAPrivateKey, encoding: Enc, fmt: Fmt) -> None:
    data = rsa_key.private_bytes(encoding, fmt, serialization.BestAvailableEncryption(PASSWORD))
    assert spki(keys.load_private_key(data, PASSWORD)) == spki(rsa_key)

    with pytest.raises(PasswordError, match=r"wrong password") as wrong:
        keys.load_private_key(data, WRONG)
    assert_no_secrets(wrong.value, data if encoding is Enc.PEM else None)

    for missing in (None, b""):
        with pytest.raises(PasswordError, match=r"is encrypted: .*--password-env") as exc:
            keys.load_private_key(data, missing)
        assert_no_secrets(exc.value, data if encoding is Enc.PEM else None)


def test_private_key_file_messages_name_the_file(
    tmp_path: Path, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    path = tmp_path / "signer.key.pem"
    data = ec_key.private_bytes(Enc.PEM, Fmt.PKCS8, serialization.BestAvailableEncryption(PASSWORD))
    path.write_bytes(data)
    assert spki(keys.load_private_key_file(path, PASSWORD)) == spki(ec_key)
    assert spki(keys.load_private_key_file(str(path), PASSWORD)) == spki(ec_key)
    with pytest.raises(PasswordError, match="is encrypted") as exc:
        keys.load_private_key_file(path)
    assert str(path) in str(exc.value)
    with pytest.raises(PasswordError, match="wrong password") as exc:
        keys.load_private_key_file(path, WRONG)
    assert str(path) in str(exc.value)
    assert_no_secrets(exc.value, data)


def test_private_key_file_unreadable(tmp_path: Path) -> None:
    with pytest.raises(KeyLoadError, match="does not exist") as exc:
        keys.load_private_key_file(tmp_path / "missing.pem")
    assert "missing.pem" in str(exc.value)
    with pytest.raises(KeyLoadError, match="directory"):
        keys.load_private_key_file(tmp_path)


def test_pem_with_other_blocks(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey, signer: keys.KeyBundle
) -> None:
    params = b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
    sec1 = ec_key.private_bytes(Enc.PEM, Fmt.TraditionalOpenSSL, serialization.NoEncryption())
    assert spki(keys.load_private_key(params + sec1)) == spki(ec_key)
    combined = signer.certificate.public_bytes(Enc.PEM) + rsa_key.private_bytes(
        Enc.PEM, Fmt.PKCS8, serialization.NoEncryption()
    )
    assert spki(keys.load_private_key(combined.replace(b"\n", b"\r\n"))) == spki(rsa_key)
    with pytest.raises(KeyLoadError, match="2 private keys"):
        keys.load_private_key(combined + sec1)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "empty"),
        (b"\x30\x82\x01\x00garbage", "could not be parsed"),
        (b"not a key at all", "could not be parsed"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "could not be parsed"),
        (b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQ", "no PEM private key"),
    ],
)
def test_corrupt_private_key(data: bytes, match: str) -> None:
    with pytest.raises(KeyLoadError, match=match) as exc:
        keys.load_private_key(data)
    assert not isinstance(exc.value, PasswordError)
    assert "MIIEvQIBADANBgkqhkiG9w0BAQ" not in str(exc.value)


def test_truncated_pem_key_does_not_leak(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = rsa_key.private_bytes(Enc.PEM, Fmt.PKCS8, serialization.NoEncryption())
    lines = pem.splitlines(keepends=True)
    damaged = b"".join(lines[:10] + lines[-1:])
    with pytest.raises(KeyLoadError, match="could not be parsed") as exc:
        keys.load_private_key(damaged)
    assert_no_secrets(exc.value, pem)


def test_wrong_kind_of_pem(
    signer: keys.KeyBundle, rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey
) -> None:
    with pytest.raises(KeyLoadError, match="holds a certificate, not a private key"):
        keys.load_private_key(signer.certificate.public_bytes(Enc.PEM))
    public = rsa_key.public_key().public_bytes(Enc.PEM, serialization.PublicFormat.PKCS1)
    with pytest.raises(KeyLoadError, match="public key, not a private key"):
        keys.load_private_key(public)
    openssh = ed_key.private_bytes(Enc.PEM, Fmt.OpenSSH, serialization.NoEncryption())
    with pytest.raises(KeyLoadError, match="OpenSSH format"):
        keys.load_private_key(openssh)


@pytest.mark.parametrize("kind", ["DSA", "X25519", "Ed448"])
@pytest.mark.parametrize("encoding", [Enc.PEM, Enc.DER])
def test_unsupported_key_types(kind: str, encoding: Enc) -> None:
    key: Any
    if kind == "DSA":
        key = dsa.generate_private_key(key_size=1024)  # noqa: S505
    elif kind == "X25519":
        key = x25519.X25519PrivateKey.generate()
    else:
        key = ed448.Ed448PrivateKey.generate()
    data = key.private_bytes(encoding, Fmt.PKCS8, serialization.NoEncryption())
    with pytest.raises(UnsupportedKeyError, match=f"{kind} keys cannot sign S/MIME or DKIM"):
        keys.load_private_key(data)
    with pytest.raises(UnsupportedKeyError, match="use RSA"):
        keys.check_signing_key(key)


def test_check_signing_key(
    rsa_key: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
    ed_key: ed25519.Ed25519PrivateKey,
) -> None:
    for good in (rsa_key, ec_key, ed_key, RemoteRSAKey(rsa_key)):
        keys.check_signing_key(good)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    with pytest.raises(UnsupportedKeyError, match="1024-bit RSA"):
        keys.check_signing_key(weak)
    with pytest.raises(UnsupportedKeyError, match="1024-bit RSA"):
        keys.check_signing_key(RemoteRSAKey(weak))
    with pytest.raises(UnsupportedKeyError, match="secp256k1"):
        keys.check_signing_key(ec.generate_private_key(ec.SECP256K1()))
    # A weak key still loads: refusing it is the signer's decision, not the loader's.
    pem = weak.private_bytes(Enc.PEM, Fmt.PKCS8, serialization.NoEncryption())
    loaded = keys.load_private_key(pem)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert loaded.key_size == 1024


# --------------------------------------------------------------------------- certificates


def test_load_certificates_forms(signer: keys.KeyBundle, ca: pki.DevCA) -> None:
    leaf, root = signer.certificate, ca.certificate
    assert keys.load_certificates(leaf.public_bytes(Enc.PEM)) == [leaf]
    assert keys.load_certificates(leaf.public_bytes(Enc.DER)) == [leaf]
    assert keys.load_certificate(leaf.public_bytes(Enc.DER)) == leaf
    several = leaf.public_bytes(Enc.PEM) + b"\n" + root.public_bytes(Enc.PEM)
    assert keys.load_certificates(several) == [leaf, root]
    assert keys.load_certificates(several.replace(b"\n", b"\r\n")) == [leaf, root]
    for encoding in (Enc.PEM, Enc.DER):
        bundle = pkcs7.serialize_certificates([leaf, root], encoding)  # sorted as a DER SET OF
        assert set(keys.load_certificates(bundle)) == {leaf, root}
    # A key in the same file is skipped.
    key_pem = signer.key.private_bytes(Enc.PEM, Fmt.PKCS8, serialization.NoEncryption())
    assert keys.load_certificates(key_pem + several) == [leaf, root]
    legacy = leaf.public_bytes(Enc.PEM).replace(b" CERTIFICATE-----", b" X509 CERTIFICATE-----")
    assert keys.load_certificate(legacy) == leaf


def test_load_certificate_wants_exactly_one(signer: keys.KeyBundle, ca: pki.DevCA) -> None:
    several = signer.certificate.public_bytes(Enc.PEM) + ca.certificate.public_bytes(Enc.PEM)
    with pytest.raises(KeyLoadError, match="holds 2 certificates; expected exactly one"):
        keys.load_certificate(several)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello",
        b"\x30\x03\x02\x01\x01",
        b"-----BEGIN CERTIFICATE-----\nMIIBIjAN\n-----END CERTIFICATE-----\n",
        b"-----BEGIN PKCS7-----\nMIIBIjAN\n-----END PKCS7-----\n",
        b"-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----\n",
    ],
)
def test_corrupt_certificates(data: bytes) -> None:
    with pytest.raises(KeyLoadError):
        keys.load_certificates(data)


def test_certificate_files(tmp_path: Path, signer: keys.KeyBundle, ca: pki.DevCA) -> None:
    one = tmp_path / "leaf.pem"
    one.write_bytes(signer.certificate.public_bytes(Enc.PEM))
    chain = tmp_path / "chain.p7b"
    chain.write_bytes(pkcs7.serialize_certificates([ca.certificate], Enc.DER))
    assert keys.load_certificate_file(one) == signer.certificate
    assert keys.load_certificates_file(chain) == [ca.certificate]
    with pytest.raises(KeyLoadError, match="does not exist") as exc:
        keys.load_certificate_file(tmp_path / "nope.pem")
    assert "nope.pem" in str(exc.value)
    empty = tmp_path / "empty.pem"
    empty.write_bytes(b"")
    with pytest.raises(KeyLoadError, match=r"empty\.pem"):
        keys.load_certificates_file(empty)


# --------------------------------------------------------------------------- PKCS#12


def _p12(bundle: keys.KeyBundle, password: bytes | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(
        b"alice", bundle.key, bundle.certificate, list(bundle.chain), encryption
    )


@pytest.mark.parametrize("password", [PASSWORD, None])
def test_pkcs12_round_trip(signer: keys.KeyBundle, password: bytes | None, tmp_path: Path) -> None:
    data = _p12(signer, password)
    bundle = keys.load_pkcs12(data, password)
    assert spki(bundle.key) == spki(signer.key)
    assert bundle.certificate == signer.certificate
    assert bundle.chain == signer.chain
    path = tmp_path / "alice.p12"
    path.write_bytes(data)
    assert keys.load_pkcs12_file(path, password).certificate == signer.certificate
    if password is None:  # a password for an unencrypted bundle is ignored
        assert keys.load_pkcs12(data, WRONG).certificate == signer.certificate


def test_pkcs12_password_errors(signer: keys.KeyBundle, tmp_path: Path) -> None:
    data = _p12(signer, PASSWORD)
    with pytest.raises(PasswordError, match="wrong password") as exc:
        keys.load_pkcs12(data, WRONG)
    assert_no_secrets(exc.value)
    with pytest.raises(PasswordError, match=r"is encrypted: .*--password-env"):
        keys.load_pkcs12(data, None)
    path = tmp_path / "alice.p12"
    path.write_bytes(data)
    with pytest.raises(PasswordError, match=r"alice\.p12"):
        keys.load_pkcs12_file(path, WRONG)


def test_pkcs12_corrupt_or_incomplete(signer: keys.KeyBundle, ca: pki.DevCA) -> None:
    for garbage in (b"", b"garbage", _p12(signer, None)[:100]):
        with pytest.raises(KeyLoadError) as exc:
            keys.load_pkcs12(garbage, PASSWORD)
        assert not isinstance(exc.value, PasswordError)
    certs_only = pkcs12.serialize_key_and_certificates(
        b"ca", None, None, [ca.certificate], serialization.NoEncryption()
    )
    with pytest.raises(KeyLoadError, match="no private key"):
        keys.load_pkcs12(certs_only, None)
    key_only = pkcs12.serialize_key_and_certificates(
        b"k", signer.key, None, None, serialization.NoEncryption()
    )
    with pytest.raises(KeyLoadError, match="no certificate"):
        keys.load_pkcs12(key_only, None)


def test_pkcs12_finds_the_certificate_for_its_key(
    signer: keys.KeyBundle, ca: pki.DevCA, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    # cryptography refuses to write a bundle whose main certificate does not match its key,
    # so exercise the search instead: the leaf stored among the extra certificates is found.
    loose = pkcs12.serialize_key_and_certificates(
        b"k", signer.key, None, [ca.certificate, signer.certificate], serialization.NoEncryption()
    )
    bundle = keys.load_pkcs12(loose, None)
    assert bundle.certificate == signer.certificate
    assert bundle.chain == (ca.certificate,)
    unrelated = pkcs12.serialize_key_and_certificates(
        b"k", ec_key, None, [signer.certificate], serialization.NoEncryption()
    )
    with pytest.raises(KeyLoadError, match="no certificate for its key"):
        keys.load_pkcs12(unrelated, None)


# --------------------------------------------------------------------------- matching


def test_key_matches_certificate(
    signer: keys.KeyBundle, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    assert keys.key_matches_certificate(signer.key, signer.certificate)
    assert keys.key_matches_certificate(RemoteRSAKey(rsa_key), signer.certificate)
    keys.check_key_matches(signer.key, signer.certificate)
    assert not keys.key_matches_certificate(ec_key, signer.certificate)
    with pytest.raises(KeyMismatchError) as exc:
        keys.check_key_matches(ec_key, signer.certificate)
    message = str(exc.value)
    assert "does not belong to certificate" in message
    assert f"{signer.certificate.serial_number:x}" in message
    assert "alice@example.com" in message


# --------------------------------------------------------------------------- S/MIME checks


def _hand_made(
    subject: list[x509.NameAttribute[str]], san: list[x509.GeneralName] | None
) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(x509.Name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
    )
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(key, hashes.SHA256())


def test_certificate_addresses(signer: keys.KeyBundle) -> None:
    assert keys.certificate_addresses(signer.certificate) == (
        "alice@example.com",
        "alice.two@example.com",
    )
    legacy = _hand_made(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Bob"),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "Bob@Example.org"),
        ],
        [x509.RFC822Name("bob@example.com"), x509.RFC822Name("BOB@example.org")],
    )
    assert keys.certificate_addresses(legacy) == ("bob@example.com", "bob@example.org")


def _codes(cert: x509.Certificate, **kwargs: Any) -> list[str]:
    return [p.code for p in keys.smime_certificate_problems(cert, **kwargs)]


def test_clean_certificate_has_no_problems(signer: keys.KeyBundle) -> None:
    assert keys.smime_certificate_problems(signer.certificate) == []
    assert _codes(signer.certificate, address="ALICE@example.com") == []
    assert _codes(signer.certificate, address="alice.two@example.com") == []
    keys.check_smime_certificate(signer.certificate, address="alice@example.com")


def test_each_problem_code(ca: pki.DevCA, signer: keys.KeyBundle, ec_key: Any) -> None:
    leaf = signer.certificate
    assert _codes(leaf, address="mallory@example.com") == ["address-mismatch"]
    assert _codes(leaf, address="alice@example.com.evil") == ["address-mismatch"]
    assert _codes(leaf, at=NOW + timedelta(days=400)) == ["expired"]
    assert _codes(leaf, at=(NOW - timedelta(days=1)).replace(tzinfo=None)) == ["not-yet-valid"]
    no_address = _hand_made([x509.NameAttribute(NameOID.COMMON_NAME, "nobody")], None)
    assert _codes(no_address, address="alice@example.com") == ["no-address"]

    def issue(**kwargs: Any) -> x509.Certificate:
        kwargs.setdefault("key", ec_key)
        return pki.issue_signer(ca, "alice@example.com", **kwargs).certificate

    assert _codes(issue(key_usage=("key_encipherment",))) == ["key-usage"]
    assert _codes(issue(key_usage=("content_commitment",))) == []
    assert _codes(issue(key_usage=())) == []
    assert _codes(issue(eku=(ExtendedKeyUsageOID.CLIENT_AUTH,))) == ["eku"]
    assert _codes(issue(eku=(ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,))) == []
    assert _codes(issue(eku=None)) == []
    assert _codes(
        issue(not_before=NOW - timedelta(days=30), not_after=NOW - timedelta(days=1))
    ) == ["expired"]
    assert _codes(issue(not_before=NOW + timedelta(days=1))) == ["not-yet-valid"]
    assert "is-ca" in _codes(ca.certificate)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    assert _codes(issue(key=weak)) == ["weak-key"]


def test_check_smime_certificate_lists_every_problem(ca: pki.DevCA, ec_key: Any) -> None:
    bad = pki.issue_signer(
        ca,
        "alice@example.com",
        key=ec_key,
        key_usage=("key_encipherment",),
        eku=(ExtendedKeyUsageOID.SERVER_AUTH,),
        not_before=NOW - timedelta(days=10),
        not_after=NOW - timedelta(days=5),
    ).certificate
    with pytest.raises(CertificateError) as exc:
        keys.check_smime_certificate(bad, address="bob@example.com")
    message = str(exc.value)
    for code in ("address-mismatch", "key-usage", "eku", "expired"):
        assert f"[{code}]" in message
    assert keys.describe_certificate(bad) in message


def test_describe_certificate(signer: keys.KeyBundle) -> None:
    text = keys.describe_certificate(signer.certificate)
    assert "alice@example.com" in text
    assert f"{signer.certificate.serial_number:x}" in text
    assert f"{signer.certificate.not_valid_after_utc:%Y-%m-%d}" in text
    sneaky = _hand_made([x509.NameAttribute(NameOID.COMMON_NAME, "evil\r\nBcc: x")], None)
    assert "\r" not in keys.describe_certificate(sneaky)
    nameless = _hand_made([], [x509.RFC822Name("carol@example.com")])
    assert "carol@example.com" in keys.describe_certificate(nameless)


# --------------------------------------------------------------------------- robustness


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_mimeseal_errors(data: bytes) -> None:
    loaders = (
        lambda: keys.load_private_key(data, PASSWORD),
        lambda: keys.load_private_key(data),
        lambda: keys.load_certificates(data),
        lambda: keys.load_pkcs12(data, PASSWORD),
    )
    for load in loaders:
        with contextlib.suppress(MimesealError):
            load()


_SMALL_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
_PEM_KEY = _SMALL_KEY.private_bytes(
    Enc.PEM, Fmt.PKCS8, serialization.BestAvailableEncryption(PASSWORD)
)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(_PEM_KEY) - 1), st.binary(min_size=1, max_size=3))
def test_mutated_pem_raises_only_mimeseal_errors(at: int, patch: bytes) -> None:
    data = _PEM_KEY[:at] + patch + _PEM_KEY[at + len(patch) :]
    error: MimesealError | None = None
    try:
        keys.load_private_key(data, PASSWORD)
    except MimesealError as exc:
        error = exc
    if error is not None:
        assert_no_secrets(error)
        assert "\n" not in str(error)
