"""smime.verify: one signed message has one meaning — attributes, MIME structure, nested layers,
and the validation time (RFC 5652 §11, RFC 2045 §6.4, RFC 8551 §2.5.1 and §3.8)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from conftest import MESSAGE, DevPki, multipart_signed, needs_openssl, openssl_accepts
from mimeseal import cms, pki, smime
from mimeseal.der import VERSION_1, assemble_signed_data, tlv
from mimeseal.errors import VerificationInputError

OUTER = b"From: Alice Example <alice@example.com>\r\nTo: bob@example.org\r\nSubject: statement\r\n"
ENTITY = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nPay invoice 42 by Friday.\r\n"


def errors(verdict: smime.SmimeVerdict) -> set[str]:
    return {p.code for p in verdict.all_problems() if p.is_error}


def everything(verdict: smime.SmimeVerdict) -> set[str]:
    return {p.code for p in verdict.all_problems()}


def _resigned(dev: DevPki, der: bytes, edit: Any) -> bytes:
    """``der`` with its signed attributes edited by ``edit`` and signed again by ``dev``'s key,
    so only the edit can make the signature unacceptable. Built from raw DER: asn1crypto
    cannot re-encode the attribute values real signers send, which is the point of the test."""
    parsed = cms.parse_signed_data(der)
    info = parsed.signer_infos[0]
    attributes = [
        (a.oid, tlv(0x30, core.ObjectIdentifier(a.oid).dump(), tlv(0x31, *a.values)))
        for a in info.signed_attributes
    ]
    to_be_signed = tlv(0x31, *sorted(d for _, d in edit(attributes)))
    key = dev.signer.key
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(to_be_signed, padding.PKCS1v15(), hashes.SHA256())
    assert info.issuer_der is not None
    signer_info = tlv(
        0x30,
        VERSION_1,
        tlv(0x30, info.issuer_der, core.Integer(info.serial).dump()),
        info.digest_algorithm_der,
        b"\xa0" + to_be_signed[1:],
        info.signature_algorithm_der,
        tlv(0x04, signature),
    )
    return assemble_signed_data(
        digest_algorithm=info.digest_algorithm_der,
        certificates=[c.public_bytes(serialization.Encoding.DER) for c in parsed.certificates],
        signer_info=signer_info,
        content=None,
    )


def _detached(dev: DevPki, der: bytes) -> bytes:
    return multipart_signed(OUTER, ENTITY, der)


def _der(dev: DevPki, **options: Any) -> bytes:
    return cms.build_signed_data(ENTITY, key=dev.signer.key, cert=dev.signer.certificate, **options)


# --- attributes ---------------------------------------------------------------------------------


def _attribute(oid: str, value: bytes) -> tuple[str, bytes]:
    return oid, tlv(0x30, core.ObjectIdentifier(oid).dump(), tlv(0x31, value))


@needs_openssl
def test_undecodable_and_unknown_attributes_never_fail_a_signature(rsa_pki: DevPki) -> None:
    """NSS and Outlook add attributes generic decoders choke on; OpenSSL verifies them."""
    garbage_pref = b"\xa0\x03\x02\x01\x05"  # not the IssuerAndSerialNumber asn1crypto expects
    extra = [
        _attribute("1.2.840.113549.1.9.16.2.11", garbage_pref),  # SMIMEEncryptionKeyPreference
        _attribute("1.3.6.1.4.1.311.16.4", b"\x30\x00"),  # Microsoft encryption-key preference
        _attribute("1.3.6.1.4.1.99999.1", b"\x13\x02hi"),  # nobody knows this one
    ]
    message = _detached(rsa_pki, _resigned(rsa_pki, _der(rsa_pki), lambda a: a + extra))
    assert openssl_accepts(message, rsa_pki.trust).ok
    verdict = smime.verify(message, trust=rsa_pki.trust)
    assert verdict.valid, verdict.all_problems()
    unknown = [p for p in verdict.all_problems() if p.code == "unknown-attributes"]
    assert [p.severity for p in unknown] == ["info"]
    assert "1.3.6.1.4.1.99999.1" in unknown[0].message
    assert "microsoft" not in unknown[0].message  # known, merely unchecked


@pytest.mark.parametrize("name", ["signing_time", "content_type", "message_digest"])
def test_a_single_valued_attribute_given_twice_is_refused(rsa_pki: DevPki, name: str) -> None:
    oid = {"signing_time": "1.2.840.113549.1.9.5", "content_type": "1.2.840.113549.1.9.3"}.get(
        name, "1.2.840.113549.1.9.4"
    )

    def twice(attributes: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        return attributes + [a for a in attributes if a[0] == oid]

    message = _detached(rsa_pki, _resigned(rsa_pki, _der(rsa_pki), twice))
    assert "duplicate-attribute" in errors(smime.verify(message, trust=rsa_pki.trust))


def test_the_re_signing_helper_alone_keeps_the_signature_valid(rsa_pki: DevPki) -> None:
    message = _detached(rsa_pki, _resigned(rsa_pki, _der(rsa_pki), lambda a: a))
    assert smime.verify(message, trust=rsa_pki.trust).valid


# --- one MIME structure ------------------------------------------------------------------------


SIGNED_TYPE = b"Content-Type: multipart/signed;"


def _signed(dev: DevPki) -> bytes:
    return smime.sign(MESSAGE, key=dev.signer.key, cert=dev.signer.certificate)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'boundary="', b'boundary="decoy"; boundary="'),
        (SIGNED_TYPE, b"Content-Type: text/plain\r\n" + SIGNED_TYPE),
        (SIGNED_TYPE, b"Content-Transfer-Encoding: base64\r\n" + SIGNED_TYPE),
        (b"micalg=sha-256", b"micalg=sha-256; micalg=sha-1"),
    ],
    ids=["two-boundaries", "two-content-types", "encoded-multipart", "two-micalgs"],
)  # fmt: skip
def test_ambiguous_structure_is_an_error(rsa_pki: DevPki, old: bytes, new: bytes) -> None:
    signed = _signed(rsa_pki)
    assert old in signed
    verdict = smime.verify(signed.replace(old, new, 1), trust=rsa_pki.trust)
    assert not verdict.valid
    assert "ambiguous-structure" in errors(verdict)


def test_a_second_content_type_on_the_signed_entity_is_an_error(rsa_pki: DevPki) -> None:
    entity = b"Content-Type: text/html\r\n" + ENTITY
    message = multipart_signed(OUTER, entity, cms.build_signed_data(
        entity, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate
    ))  # fmt: skip
    verdict = smime.verify(message, trust=rsa_pki.trust)
    assert "ambiguous-structure" in errors(verdict)
    assert "digest-mismatch" not in errors(verdict)  # the signature itself holds


# --- nested layers -----------------------------------------------------------------------------


def _opaque(dev: DevPki, inner: bytes) -> bytes:
    """An opaque signed-data entity whose signed content is ``inner``."""
    der = cms.build_signed_data(
        inner, key=dev.signer.key, cert=dev.signer.certificate, detached=False
    )
    return (
        b"Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(der).replace(b"\n", b"\r\n")
    )


def test_opaque_inside_opaque_is_judged_layer_by_layer(rsa_pki: DevPki) -> None:
    message = OUTER + b"MIME-Version: 1.0\r\n" + _opaque(rsa_pki, _opaque(rsa_pki, ENTITY))
    verdict = smime.verify(message, trust=rsa_pki.trust)
    assert verdict.valid, verdict.all_problems()
    assert [(p.layer, p.path) for p in verdict.parts] == [(1, ""), (2, "")]


def test_a_broken_inner_layer_makes_the_message_invalid(rsa_pki: DevPki) -> None:
    inner = multipart_signed(b"", ENTITY, _der(rsa_pki)).replace(b"invoice 42", b"invoice 43")
    message = OUTER + _opaque(rsa_pki, inner)
    verdict = smime.verify(message, trust=rsa_pki.trust)
    assert verdict.parts[0].valid
    assert [p.layer for p in verdict.parts] == [1, 2]
    assert not verdict.parts[1].valid
    assert not verdict.valid
    assert "digest-mismatch" in errors(verdict)


def test_a_wrapped_inner_layer_is_reported(rsa_pki: DevPki) -> None:
    signed_part = multipart_signed(b"", ENTITY, _der(rsa_pki))
    mixed = (
        b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\n'
        b"Content-Type: text/plain\r\n\r\nunsigned text the reader sees first\r\n--m\r\n"
        + signed_part + b"\r\n--m--\r\n"
    )  # fmt: skip
    verdict = smime.verify(OUTER + _opaque(rsa_pki, mixed), trust=rsa_pki.trust)
    assert "wrapped" in errors(verdict)
    assert not verdict.valid


# --- validation time ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def old_pki() -> DevPki:
    """A CA made 90 days ago, so its anchor was valid when the old signer signed."""
    ca = pki.create_ca(now=datetime.now(timezone.utc) - timedelta(days=90))
    return DevPki(ca, pki.issue_signer(ca, "alice@example.com"), Path("unused"))


def _old_signer(dev: DevPki) -> tuple[Any, datetime]:
    now = datetime.now(timezone.utc)
    old = pki.issue_signer(
        dev.ca, "alice@example.com", not_before=now - timedelta(days=60),
        not_after=now - timedelta(days=30),
    )  # fmt: skip
    return old, now - timedelta(days=45)


def test_the_signing_time_is_not_trusted_by_default(old_pki: DevPki) -> None:
    """A signer's own claim to have signed while the certificate was valid proves nothing."""
    rsa_pki = old_pki
    old, signed_at = _old_signer(rsa_pki)
    message = smime.sign(
        MESSAGE, key=old.key, cert=old.certificate, signing_time=signed_at, check_certificate=False
    )
    verdict = smime.verify(message, trust=rsa_pki.trust)
    assert "cert-expired" in errors(verdict)
    assert verdict.signers[0].validated_at_source == "now"
    claimed = smime.verify(message, trust=rsa_pki.trust, at="signing-time")
    assert claimed.valid, claimed.all_problems()
    assert claimed.signers[0].validated_at == signed_at.replace(microsecond=0)
    assert claimed.signers[0].to_dict()["validated_at_source"] == "signing-time"
    given = smime.verify(message, trust=rsa_pki.trust, at=signed_at + timedelta(days=1))
    assert given.valid
    assert given.signers[0].validated_at_source == "given"


def test_a_signing_time_after_the_validation_time_is_an_error(rsa_pki: DevPki) -> None:
    message = _signed(rsa_pki)
    earlier = datetime.now(timezone.utc) - timedelta(hours=1)
    verdict = smime.verify(message, trust=rsa_pki.trust, at=earlier)
    assert "signing-time-after-validation" in errors(verdict)


def test_a_signing_time_outside_the_certificate_is_an_error(old_pki: DevPki) -> None:
    rsa_pki = old_pki
    old, signed_at = _old_signer(rsa_pki)
    late = smime.sign(MESSAGE, key=old.key, cert=old.certificate, check_certificate=False)
    verdict = smime.verify(late, trust=rsa_pki.trust, at=signed_at)
    assert "signing-time-outside-validity" in errors(verdict)


def test_validation_time_must_be_aware_and_known(rsa_pki: DevPki) -> None:
    with pytest.raises(VerificationInputError, match="timezone-aware"):
        smime.verify(_signed(rsa_pki), trust=rsa_pki.trust, at=datetime(2026, 1, 1))
    with pytest.raises(VerificationInputError, match="signing-time"):
        smime.verify(_signed(rsa_pki), trust=rsa_pki.trust, at="yesterday")  # type: ignore[arg-type]


# --- certificates as older CAs issue them ---------------------------------------------------------


def _legacy_signer(dev: DevPki) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """The address only in the subject's emailAddress (no SAN, no SKI, no AKI), as older CAs and
    NSS's test PKI issue them, plus an extension nobody knows."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(timezone.utc)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Alice Example"),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "alice@example.com"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(dev.ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.7"), b"\x05\x00"),
            critical=False,
        )
        .sign(dev.ca.key, hashes.SHA256())
    )
    return key, cert


@needs_openssl
def test_a_subject_email_address_and_an_unknown_extension_are_accepted(rsa_pki: DevPki) -> None:
    key, cert = _legacy_signer(rsa_pki)
    message = smime.sign(MESSAGE, key=key, cert=cert, check_certificate=False)
    assert openssl_accepts(message, rsa_pki.trust).ok
    verdict = smime.verify(message, trust=rsa_pki.trust)
    assert verdict.valid, verdict.all_problems()
    assert verdict.signers[0].addresses == ("alice@example.com",)
    assert "unknown-extensions" in everything(verdict)
