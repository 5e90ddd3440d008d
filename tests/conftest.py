"""Shared fixtures: development PKIs per key type, made once per session."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mimeseal import keys, pki, references

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


@dataclass(frozen=True)
class SesEndpoint:
    """moto's SES server on loopback: a real HTTP endpoint for boto3, and what it stored."""

    url: str
    region: str = "us-east-1"
    account: str = "123456789012"

    def stored(self) -> list[bytes]:
        """The raw messages SES accepted, in order (moto keeps them decoded as UTF-8)."""
        from moto.ses.models import ses_backends

        backend = ses_backends[self.account][self.region]
        return [m.raw_data.encode("utf-8") for m in backend.sent_messages]

    def clear(self) -> None:
        from moto.ses.models import ses_backends

        ses_backends[self.account][self.region].sent_messages.clear()

    def verify_identity(self, address: str) -> None:
        import boto3

        client = boto3.client("ses", endpoint_url=self.url, region_name=self.region)
        client.verify_email_identity(EmailAddress=address)


@pytest.fixture(scope="session")
def ses_endpoint() -> Iterator[SesEndpoint]:
    import os

    from moto.server import ThreadedMotoServer

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = SesEndpoint(url=f"http://{host}:{port}")
    endpoint.verify_identity("alice@example.com")
    try:
        yield endpoint
    finally:
        server.stop()
