"""S/MIME signing: every output verifies in OpenSSL (GnuTLS for Ed25519) and in mimeseal."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import MESSAGE, SENDER, DevPki, needs_certtool, needs_openssl
from mimeseal import mime, pki, references, smime
from mimeseal.errors import CertificateError, KeyMismatchError, MessageError, SigningError
from mimeseal.smime.parts import iter_signed_entities

RSA_CASES = [
    ("rsa2048", "pkcs1v15", "sha-256"),
    ("rsa2048", "pkcs1v15", "sha-384"),
    ("rsa2048", "pkcs1v15", "sha-512"),
    ("rsa2048", "pss", "sha-256"),
    ("rsa2048", "pss", "sha-384"),
    ("rsa2048", "pss", "sha-512"),
    ("ec-p256", "pkcs1v15", "sha-256"),
    ("ec-p256", "pkcs1v15", "sha-384"),
    ("ec-p256", "pkcs1v15", "sha-512"),
]


def _sign(
    dev: DevPki, *, opaque: bool, padding: str = "pkcs1v15", digest: str | None = None
) -> bytes:
    return smime.sign(
        MESSAGE,
        key=dev.signer.key,
        cert=dev.signer.certificate,
        chain=dev.signer.chain,
        opaque=opaque,
        rsa_padding="pss" if padding == "pss" else "pkcs1v15",
        digest=digest,
    )


@needs_openssl
@pytest.mark.parametrize("opaque", [False, True], ids=["detached", "opaque"])
@pytest.mark.parametrize(("key_type", "padding", "digest"), RSA_CASES)
def test_openssl_verifies_every_rsa_and_ec_output(
    pkis: dict[str, DevPki], key_type: str, padding: str, digest: str, opaque: bool
) -> None:
    dev = pkis[key_type]
    signed = _sign(dev, opaque=opaque, padding=padding, digest=digest)
    result = references.openssl_cms_verify(signed, dev.trust)
    assert result.ok, result.output
    verdict = smime.verify(signed, trust=dev.trust)
    assert verdict.valid, verdict.all_problems()
    assert verdict.signers[0].digest == digest


@pytest.mark.parametrize("opaque", [False, True], ids=["detached", "opaque"])
def test_ed25519_output_verifies_in_gnutls_and_openssl_where_supported(
    pkis: dict[str, DevPki], opaque: bool
) -> None:
    dev = pkis["ed25519"]
    signed = _sign(dev, opaque=opaque)
    verdict = smime.verify(signed, trust=dev.trust)
    assert verdict.valid, verdict.all_problems()
    assert verdict.signers[0].digest == "sha-512"  # RFC 8419 §3.1
    assert verdict.signers[0].signature_algorithm == "ed25519"
    if references.openssl_verifies_ed25519():
        assert references.openssl_cms_verify(signed, dev.trust).ok
    entity = next(iter_signed_entities(signed))
    if references.gnutls_p7_verify(b"", None, []).output.endswith("not on PATH"):
        pytest.skip("GnuTLS certtool not on PATH (apt gnutls-bin)")
    content = None if opaque else entity.signed_bytes
    result = references.gnutls_p7_verify(entity.cms_der, content, dev.trust)
    assert result.ok, result.output


@needs_certtool
def test_gnutls_rejects_a_tampered_ed25519_signature(pkis: dict[str, DevPki]) -> None:
    """The reference must be able to fail, or its passes above prove nothing."""
    dev = pkis["ed25519"]
    entity = next(iter_signed_entities(_sign(dev, opaque=False)))
    tampered = entity.signed_bytes.replace(b"Dear Bob", b"Dear Rob")
    assert not references.gnutls_p7_verify(entity.cms_der, tampered, dev.trust).ok


@needs_openssl
def test_openssl_rejects_a_tampered_body(rsa_pki: DevPki) -> None:
    signed = _sign(rsa_pki, opaque=False).replace(b"Dear Bob", b"Dear Rob")
    assert not references.openssl_cms_verify(signed, rsa_pki.trust).ok


def test_detached_layout_keeps_outer_headers_and_signs_the_content_entity(rsa_pki: DevPki) -> None:
    signed = _sign(rsa_pki, opaque=False)
    head, _ = mime.split_message(signed)
    for name in (b"From: Alice Example", b"To: Bob", b"Subject: quarterly", b"Message-ID: <state"):
        assert name in head
    assert head.count(b"MIME-Version:") == 1
    parsed = email.message_from_bytes(signed, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/signed"
    assert parsed.get_param("protocol") == "application/pkcs7-signature"
    assert parsed.get_param("micalg") == "sha-256"
    parts = list(parsed.iter_parts())
    assert len(parts) == 2
    assert parts[1].get_content_type() == "application/pkcs7-signature"
    assert parts[1].get_filename() == "smime.p7s"
    entity = next(iter_signed_entities(signed))
    assert entity.signed_bytes == (
        b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        b"Dear Bob,\r\n\r\nthe statement is attached.\r\n\r\nAlice\r\n"
    )
    assert mime.is_transport_safe(signed)


def test_opaque_layout(rsa_pki: DevPki) -> None:
    signed = _sign(rsa_pki, opaque=True)
    parsed = email.message_from_bytes(signed, policy=email.policy.default)
    assert parsed.get_content_type() == "application/pkcs7-mime"
    assert parsed.get_param("smime-type") == "signed-data"
    assert parsed.get_filename() == "smime.p7m"
    assert mime.is_transport_safe(signed)


def test_eight_bit_and_lf_input_is_made_7bit_crlf_before_signing(rsa_pki: DevPki) -> None:
    message = (
        "From: alice@example.com\nTo: bob@example.org\nSubject: x\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        "Grüße aus Zürich   \nFrom here\n"
    ).encode()
    signed = smime.sign(message, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate)
    assert mime.is_transport_safe(signed)
    entity = next(iter_signed_entities(signed)).signed_bytes
    assert b"Content-Transfer-Encoding: quoted-printable" in entity
    assert b"=46rom here" in entity  # a relay's "From " escaping cannot touch it
    assert smime.verify(signed, trust=rsa_pki.trust).valid
    part = email.message_from_bytes(signed, policy=email.policy.default)
    first = next(part.iter_parts())
    decoded = first.get_content().replace("\r\n", "\n")
    assert decoded == "Grüße aus Zürich   \nFrom here\n"


def test_message_without_content_type_gets_an_explicit_one(rsa_pki: DevPki) -> None:
    message = b"From: alice@example.com\r\nTo: bob@example.org\r\n\r\nhello\r\n"
    signed = smime.sign(message, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate)
    entity = next(iter_signed_entities(signed)).signed_bytes
    assert entity.startswith(b"Content-Type: text/plain; charset=us-ascii\r\n\r\nhello")


def test_key_that_does_not_match_the_certificate_is_refused(pkis: dict[str, DevPki]) -> None:
    with pytest.raises(KeyMismatchError):
        smime.sign(MESSAGE, key=pkis["ec-p256"].signer.key, cert=pkis["rsa2048"].signer.certificate)


def test_certificate_not_naming_the_sender_is_refused(rsa_pki: DevPki) -> None:
    message = MESSAGE.replace(b"alice@example.com", b"mallory@example.net")
    with pytest.raises(CertificateError, match=r"mallory@example\.net"):
        smime.sign(message, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate)


def test_expired_certificate_is_refused(rsa_pki: DevPki) -> None:
    now = datetime.now(timezone.utc)
    old = pki.issue_signer(
        rsa_pki.ca, SENDER, not_before=now - timedelta(days=30), not_after=now - timedelta(days=1)
    )
    with pytest.raises(CertificateError, match="expired"):
        smime.sign(MESSAGE, key=old.key, cert=old.certificate)


def test_ed25519_with_sha256_is_refused(pkis: dict[str, DevPki]) -> None:
    dev = pkis["ed25519"]
    with pytest.raises(SigningError, match="RFC 8419"):
        smime.sign(MESSAGE, key=dev.signer.key, cert=dev.signer.certificate, digest="sha-256")


def test_unknown_digest_and_naive_signing_time_are_refused(rsa_pki: DevPki) -> None:
    key, cert = rsa_pki.signer.key, rsa_pki.signer.certificate
    with pytest.raises(SigningError, match="sha-1"):
        smime.sign(MESSAGE, key=key, cert=cert, digest="sha-1")
    with pytest.raises(SigningError, match="timezone"):
        smime.sign(MESSAGE, key=key, cert=cert, signing_time=datetime(2026, 1, 1))


def test_non_ascii_outer_header_is_refused(rsa_pki: DevPki) -> None:
    message = MESSAGE.replace(b"Subject: quarterly statement", "Subject: Grüße".encode())
    with pytest.raises(MessageError, match="RFC 2047"):
        smime.sign(message, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate)


def test_signing_time_is_recorded(rsa_pki: DevPki) -> None:
    when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=1)
    signed = smime.sign(
        MESSAGE, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate, signing_time=when
    )
    assert smime.verify(signed, trust=rsa_pki.trust).signers[0].signing_time == when


@needs_openssl
@pytest.mark.parametrize(
    ("curve", "micalg"), [(ec.SECP384R1(), "sha-384"), (ec.SECP521R1(), "sha-512")]
)
def test_ec_keys_default_to_the_hash_matching_their_curve(
    rsa_pki: DevPki, curve: ec.EllipticCurve, micalg: str
) -> None:
    bundle = pki.issue_signer(rsa_pki.ca, SENDER, key=ec.generate_private_key(curve))
    signed = smime.sign(MESSAGE, key=bundle.key, cert=bundle.certificate, chain=bundle.chain)
    assert f"micalg={micalg}".encode() in signed
    assert references.openssl_cms_verify(signed, [rsa_pki.ca.certificate]).ok
