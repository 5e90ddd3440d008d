"""Shared fixtures: development PKIs per key type, made once per session."""

from __future__ import annotations

import base64
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mimeseal import keys, pki, references
from mimeseal.pytest_plugin.aws import AwsEndpoint
from mimeseal.pytest_plugin.aws import SesEndpoint as SesEndpoint  # tests import it from here

pytest_plugins = ["pytester"]

SENDER = "alice@example.com"
MESSAGE = (
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: Bob <bob@example.org>\r\n"
    b"Subject: quarterly statement\r\n"
    b"Date: Tue, 24 Nov 2026 09:00:00 +0000\r\n"
    b"Message-ID: <statement-1@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"Dear Bob,\r\n\r\nthe statement is attached.\r\n\r\nAlice\r\n"
)

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not on PATH")
needs_certtool = pytest.mark.skipif(
    shutil.which("certtool") is None, reason="GnuTLS certtool not on PATH (apt gnutls-bin)"
)


@dataclass(frozen=True)
class DevPki:
    """A CA and one signer, in memory and on disk (for the reference command-line tools)."""

    ca: pki.DevCA
    signer: keys.KeyBundle
    folder: Path

    @property
    def trust(self) -> list[x509.Certificate]:
        return [self.ca.certificate]

    @property
    def ca_pem(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def cert_pem(self) -> Path:
        return self.folder / f"{SENDER}.pem"

    @property
    def key_pem(self) -> Path:
        return self.folder / f"{SENDER}.key.pem"


def _make_pki(folder: Path, key_type: str) -> DevPki:
    pki.write_dev_pki(folder, [SENDER], key_type=key_type)
    ca = pki.load_dev_ca(folder)
    signer = keys.KeyBundle(
        keys.load_private_key_file(folder / f"{SENDER}.key.pem"),
        keys.load_certificate_file(folder / f"{SENDER}.pem"),
        (ca.certificate,),
    )
    return DevPki(ca, signer, folder)


@pytest.fixture(scope="session")
def pkis(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DevPki]:
    """One development PKI per key type: rsa2048, ec-p256, ed25519."""
    return {
        key_type: _make_pki(tmp_path_factory.mktemp(key_type), key_type)
        for key_type in ("rsa2048", "ec-p256", "ed25519")
    }


@pytest.fixture(scope="session")
def rsa_pki(pkis: dict[str, DevPki]) -> DevPki:
    return pkis["rsa2048"]


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """A second, unrelated PKI: its CA must never validate the first one's signers."""
    return _make_pki(tmp_path_factory.mktemp("other"), "ec-p256")


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def multipart_signed(
    headers: bytes, entity: bytes, cms_der: bytes, *, micalg: str = "sha-256"
) -> bytes:
    """Wrap a signed entity and a detached CMS signature the way RFC 8551 §3.5 says."""
    b64 = base64.encodebytes(cms_der).replace(b"\n", b"\r\n")
    return (
        headers + b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
        b"micalg=" + micalg.encode() + b'; boundary="XX-boundary"\r\n\r\n'
        b"--XX-boundary\r\n" + entity + b"\r\n--XX-boundary\r\n"
        b'Content-Type: application/pkcs7-signature; name="smime.p7s"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64 + b"--XX-boundary--\r\n"
    )


def openssl_accepts(message: bytes, trust: list[x509.Certificate]) -> references.ReferenceResult:
    return references.openssl_cms_verify(message, trust)


@pytest.fixture(scope="session")
def ses_endpoint(mimeseal_aws: AwsEndpoint) -> SesEndpoint:
    """SES on the plugin's session moto server (``mimeseal_aws``), alice@example.com verified."""
    endpoint = SesEndpoint(mimeseal_aws)
    endpoint.verify_identity("alice@example.com")
    return endpoint
