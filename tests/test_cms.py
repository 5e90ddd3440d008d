"""CMS SignedData builder and parser: attributes, encodings, and what the signature covers."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

import pytest
from asn1crypto import cms as asn1_cms
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from conftest import MESSAGE, SENDER, DevPki, needs_openssl
from mimeseal import cms, pki, references, smime
from mimeseal.errors import CmsError, LimitError, SigningError
from mimeseal.limits import Limits

CONTENT = b"Content-Type: text/plain\r\n\r\nhello\r\n"


def _signer_info(der: bytes) -> Any:
    return asn1_cms.ContentInfo.load(der)["content"]["signer_infos"][0]


def _attr(signer_info: Any, name: str) -> Any:
    for attr in signer_info["signed_attrs"]:
        if attr["type"].native == name or attr["type"].dotted == name:
            return attr["values"][0]
    raise AssertionError(f"no {name} attribute")


def test_signed_attributes(rsa_pki: DevPki) -> None:
    cert = rsa_pki.signer.certificate
    der = cms.build_signed_data(CONTENT, key=rsa_pki.signer.key, cert=cert)
    si = _signer_info(der)
    assert _attr(si, "content_type").native == "data"
    assert _attr(si, "message_digest").native == hashlib.sha256(CONTENT).digest()
    assert _attr(si, "signing_time").native is not None
    capabilities = [c["capability_id"].dotted for c in _attr(si, "smime_capabilities")]
    assert "2.16.840.1.101.3.4.1.42" in capabilities  # AES-256-CBC
    ess = _attr(si, cms.OID_SIGNING_CERTIFICATE_V2)
    cert_hash = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    assert cert_hash in ess.dump()


def test_signature_covers_the_attributes_as_a_set_of(rsa_pki: DevPki) -> None:
    """RFC 5652 §5.4: the DER SET OF (0x31), not the [0] IMPLICIT bytes in the message."""
    der = cms.build_signed_data(CONTENT, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate)
    si = _signer_info(der)
    as_set = si["signed_attrs"].untag().dump()
    assert as_set[0] == 0x31
    assert si["signed_attrs"].dump()[0] == 0xA0
    public_key = rsa_pki.signer.certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(si["signature"].native, as_set, padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize(("year", "choice"), [(2049, "utc_time"), (2050, "generalized_time")])
def test_signing_time_encoding(rsa_pki: DevPki, year: int, choice: str) -> None:
    when = datetime(year, 6, 1, 12, 0, tzinfo=timezone.utc)
    der = cms.build_signed_data(
        CONTENT, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate, signing_time=when
    )
    value = _attr(_signer_info(der), "signing_time")
    assert value.name == choice
    assert value.native == when


@pytest.mark.parametrize("detached", [True, False])
def test_encoding_is_canonical_der(rsa_pki: DevPki, detached: bool) -> None:
    """The hand-assembled outer layers equal asn1crypto's own full DER re-encoding."""
    for content in (b"", b"x" * 127, b"y" * 128, b"z" * 70_000):
        der = cms.build_signed_data(
            content,
            key=rsa_pki.signer.key,
            cert=rsa_pki.signer.certificate,
            chain=rsa_pki.signer.chain,
            detached=detached,
        )
        assert asn1_cms.ContentInfo.load(der).dump(force=True) == der
        assert cms.parse_signed_data(der).econtent == (None if detached else content)


def test_detached_has_no_econtent(rsa_pki: DevPki) -> None:
    der = cms.build_signed_data(CONTENT, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate)
    assert cms.parse_signed_data(der).econtent is None


def test_digest_choice() -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    ed_key = ed25519.Ed25519PrivateKey.generate()
    assert cms.digest_for_key(ed_key, None) == "sha-512"
    with pytest.raises(SigningError):
        cms.digest_for_key(ed_key, "sha-384")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert cms.digest_for_key(rsa_key, None) == "sha-256"
    with pytest.raises(SigningError, match="md5"):
        cms.digest_for_key(rsa_key, "md5")


@pytest.mark.parametrize(
    "data", [b"", b"\x30\x03\x02\x01", b"garbage" * 10, bytes.fromhex("3003060100")]
)
def test_malformed_cms_raises_cms_error(data: bytes) -> None:
    with pytest.raises(CmsError):
        cms.parse_signed_data(data)


def test_other_content_type_is_refused() -> None:
    data_info = asn1_cms.ContentInfo({"content_type": "data", "content": b"hi"}).dump()
    with pytest.raises(CmsError, match="not signed-data"):
        cms.parse_signed_data(data_info)


def test_certificate_substitution_is_caught(rsa_pki: DevPki) -> None:
    """Another certificate for the same key, swapped in: the signature still verifies, ESS
    signing-certificate-v2 (RFC 5035) is what binds the signer's certificate."""
    key = rsa_pki.signer.key
    other = pki.issue_signer(rsa_pki.ca, "bob@example.org", key=key)
    info = asn1_cms.ContentInfo.load(
        cms.build_signed_data(CONTENT, key=key, cert=rsa_pki.signer.certificate)
    )
    signed_data = info["content"]
    other_asn1 = asn1_cms.Certificate.load(
        other.certificate.public_bytes(serialization.Encoding.DER)
    )
    signed_data["certificates"] = [other_asn1]
    signed_data["signer_infos"][0]["sid"] = asn1_cms.SignerIdentifier(
        {
            "issuer_and_serial_number": {
                "issuer": other_asn1.issuer,
                "serial_number": other_asn1.serial_number,
            }
        }
    )
    parsed = cms.parse_signed_data(info.dump(force=True))
    check = cms.check_signer(0, parsed.signer_infos[0], parsed, CONTENT)
    assert check.certificate == other.certificate
    assert [p.code for p in check.problems] == ["signing-certificate-mismatch"]


class RemoteRsaKey(rsa.RSAPrivateKey):
    """A key that signs elsewhere (as a KMS or HSM key would): only sign() and public_key().

    It is an implementation of cryptography's interface, not a mock of mimeseal: the point is
    that mimeseal needs nothing from a key but the interface.
    """

    def __init__(self, inner: rsa.RSAPrivateKey) -> None:
        self._inner = inner
        self.calls = 0

    def sign(
        self,
        data: bytes,
        padding: padding.AsymmetricPadding,
        algorithm: hashes.HashAlgorithm | utils.Prehashed | utils.NoDigestInfo,
    ) -> bytes:
        self.calls += 1
        return self._inner.sign(data, padding, algorithm)

    def public_key(self) -> rsa.RSAPublicKey:
        return self._inner.public_key()

    @property
    def key_size(self) -> int:
        return self._inner.key_size

    def decrypt(self, ciphertext: bytes, padding: padding.AsymmetricPadding) -> bytes:
        raise NotImplementedError("a signing-only key")

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        raise NotImplementedError("the key never leaves its device")

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        raise NotImplementedError("the key never leaves its device")

    def __copy__(self) -> RemoteRsaKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> RemoteRsaKey:
        return self


@pytest.mark.parametrize("rsa_padding", ["pkcs1v15", "pss"])
def test_any_private_key_interface_signs(rsa_pki: DevPki, rsa_padding: str) -> None:
    inner = rsa_pki.signer.key
    assert isinstance(inner, rsa.RSAPrivateKey)
    remote = RemoteRsaKey(inner)
    signed = smime.sign(
        MESSAGE,
        key=remote,
        cert=rsa_pki.signer.certificate,
        rsa_padding="pss" if rsa_padding == "pss" else "pkcs1v15",
    )
    assert remote.calls == 1
    assert smime.verify(signed, trust=rsa_pki.trust).valid
    assert SENDER in smime.verify(signed, trust=rsa_pki.trust).signers[0].addresses
    _openssl_agrees(signed, rsa_pki)


@needs_openssl
def _openssl_agrees(signed: bytes, dev: DevPki) -> None:
    result = references.openssl_cms_verify(signed, dev.trust)
    assert result.ok, result.output


def test_parse_reads_what_asn1crypto_reads(rsa_pki: DevPki) -> None:
    """The offsets reader and asn1crypto see the same content, certificates and signature."""
    content = b"Content-Type: text/plain\r\n\r\n" + b"line\r\n" * 5000
    signed = cms.build_signed_data(
        content, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate, detached=False
    )
    parsed = cms.parse_signed_data(signed)
    full = asn1_cms.ContentInfo.load(signed)["content"]
    assert parsed.econtent == full["encap_content_info"]["content"].native == content
    assert [c.public_bytes(serialization.Encoding.DER) for c in parsed.certificates] == [
        c.chosen.dump() for c in full["certificates"]
    ]
    info, theirs = parsed.signer_infos[0], full["signer_infos"][0]
    assert info.signature == theirs["signature"].native
    assert info.signed_attrs_der == theirs["signed_attrs"].untag().dump()
    assert info.serial == theirs["sid"].chosen["serial_number"].native


# --- limits on hostile structures ----------------------------------------------------------------


def test_certificate_and_signer_counts_are_limited(rsa_pki: DevPki) -> None:
    der = cms.build_signed_data(
        CONTENT, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate, chain=rsa_pki.signer.chain
    )
    assert len(cms.parse_signed_data(der, Limits(max_certificates=2)).certificates) == 2
    with pytest.raises(LimitError) as caught:
        cms.parse_signed_data(der, Limits(max_certificates=1))
    assert (caught.value.limit, caught.value.value) == ("max_certificates", 2)
    info = asn1_cms.ContentInfo.load(der)
    info["content"]["signer_infos"] = [info["content"]["signer_infos"][0]] * 3
    three = info.dump(force=True)
    assert len(cms.parse_signed_data(three).signer_infos) == 3
    with pytest.raises(LimitError) as caught:
        cms.parse_signed_data(three, Limits(max_signers=2))
    assert (caught.value.limit, caught.value.value) == ("max_signers", 3)


@pytest.mark.parametrize("detached", [True, False])
def test_structure_size_excludes_the_content(rsa_pki: DevPki, detached: bool) -> None:
    """max_cms_bytes bounds certificates and signer infos; content is the message's to bound."""
    content = b"x" * 200_000
    der = cms.build_signed_data(
        content, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate, detached=detached
    )
    structure = len(der) - (0 if detached else len(content))
    assert structure < 5_000
    assert cms.parse_signed_data(der, Limits(max_cms_bytes=5_000)).signer_infos
    with pytest.raises(LimitError) as caught:
        cms.parse_signed_data(der, Limits(max_cms_bytes=1_000))
    assert caught.value.limit == "max_cms_bytes"
    assert caught.value.value < 5_000  # the content was not counted


def test_nested_indefinite_lengths_are_a_cms_error() -> None:
    """100,000 nested indefinite-length SEQUENCEs: asn1crypto recurses; we report CmsError."""
    with pytest.raises(CmsError, match="malformed"):
        cms.parse_signed_data(b"\x30\x80" * 100_000 + b"\x00\x00" * 100_000)
