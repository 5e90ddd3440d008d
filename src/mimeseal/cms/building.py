"""Building CMS SignedData (RFC 5652 §5) with one SignerInfo; the math is ``cryptography``'s.

Signing goes through the key object's ``sign`` method only, so any object implementing
``cryptography``'s private-key interface (a KMS or HSM signer) works. The signature covers the DER
encoding of the signed attributes as a SET OF (tag 0x31), never the ``[0] IMPLICIT`` bytes stored
in the SignerInfo (RFC 5652 §5.4). The outer layers are assembled by :mod:`mimeseal.der`, so a
large eContent is copied once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from mimeseal.cms.algorithms import DIGESTS, OID_SIGNING_CERTIFICATE_V2, RsaPadding, SigningKey
from mimeseal.der import VERSION_1, assemble_signed_data, tlv
from mimeseal.errors import SigningError, UnsupportedKeyError

#: Capabilities announced to correspondents: AES-256/192/128-CBC (RFC 8551 §2.7).
_CAPABILITIES = ("2.16.840.1.101.3.4.1.42", "2.16.840.1.101.3.4.1.22", "2.16.840.1.101.3.4.1.2")


def _signing_time_value(when: datetime) -> cms.Time:
    """UTCTime through 2049, GeneralizedTime from 2050 (RFC 5652 §11.3)."""
    when = when.astimezone(timezone.utc).replace(microsecond=0)
    if when.year < 2050:
        return cms.Time({"utc_time": when})
    return cms.Time({"generalized_time": when})


def _signing_certificate_v2_attribute(
    cert_der: bytes, issuer_der: bytes, serial_der: bytes
) -> bytes:
    """ESS signing-certificate-v2 (RFC 5035 §3) naming the signer's certificate by SHA-256.

    Encoded by hand: asn1crypto has no class for it and copies the issuer name several times.
    ESSCertIDv2's hashAlgorithm is left out because SHA-256 is its DEFAULT (DER omits it).
    """
    issuer_serial = tlv(0x30, tlv(0x30, tlv(0xA4, issuer_der)), serial_der)
    cert_id = tlv(0x30, tlv(0x04, hashlib.sha256(cert_der).digest()), issuer_serial)
    value = tlv(0x30, tlv(0x30, cert_id))
    return tlv(0x30, _OID_SIGNING_CERTIFICATE_V2, tlv(0x31, value))


_OID_SIGNING_CERTIFICATE_V2 = core.ObjectIdentifier(OID_SIGNING_CERTIFICATE_V2).dump()
_SMIME_CAPABILITIES_ATTRIBUTE = cms.CMSAttribute(
    {"type": "smime_capabilities", "values": [[{"capability_id": oid} for oid in _CAPABILITIES]]}
).dump()


def _signature_algorithm(key: object, micalg: str, rsa_padding: RsaPadding) -> dict[str, Any]:
    asn1_digest = DIGESTS[micalg][0]
    if isinstance(key, rsa.RSAPrivateKey):
        if rsa_padding == "pss":
            hash_cls = DIGESTS[micalg][2]
            return {
                "algorithm": "rsassa_pss",
                "parameters": {
                    "hash_algorithm": {"algorithm": asn1_digest},
                    "mask_gen_algorithm": {
                        "algorithm": "mgf1",
                        "parameters": {"algorithm": asn1_digest},
                    },
                    "salt_length": hash_cls().digest_size,
                    "trailer_field": "trailer_field_bc",
                },
            }
        return {"algorithm": "rsassa_pkcs1v15"}
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"algorithm": f"{asn1_digest}_ecdsa"}
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return {"algorithm": "ed25519"}
    raise UnsupportedKeyError(
        f"{type(key).__name__} cannot sign CMS; use an RSA, EC or Ed25519 private key"
    )


def _raw_sign(key: object, data: bytes, micalg: str, rsa_padding: RsaPadding) -> bytes:
    hash_cls = DIGESTS[micalg][2]
    if isinstance(key, rsa.RSAPrivateKey):
        pad: padding.AsymmetricPadding = (
            padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=hash_cls().digest_size)
            if rsa_padding == "pss"
            else padding.PKCS1v15()
        )
        return key.sign(data, pad, hash_cls())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hash_cls()))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    raise UnsupportedKeyError(
        f"{type(key).__name__} cannot sign CMS; use an RSA, EC or Ed25519 private key"
    )


def build_signed_data(
    content: bytes | Sequence[bytes | memoryview],
    *,
    key: SigningKey,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
    digest: str = "sha-256",
    rsa_padding: RsaPadding = "pkcs1v15",
    signing_time: datetime | None = None,
    detached: bool = True,
    content_digest: bytes | None = None,
) -> bytes:
    """DER ContentInfo with one SignerInfo over ``content`` (eContent omitted when detached).

    ``content`` may be given as pieces to be joined (they are copied once, into the result);
    ``content_digest`` lets a caller that already hashed the content skip a second pass.
    """
    asn1_digest, hashlib_name, _ = DIGESTS[digest]
    pieces = (content,) if isinstance(content, bytes) else tuple(content)
    if content_digest is None:
        hasher = hashlib.new(hashlib_name)
        for piece in pieces:
            hasher.update(piece)
        content_digest = hasher.digest()
    when = signing_time or datetime.now(timezone.utc)
    if when.tzinfo is None:
        raise SigningError("signing_time must be timezone-aware (for example datetime.now(UTC))")
    cert_ders = [c.public_bytes(serialization.Encoding.DER) for c in (cert, *chain)]
    tbs = asn1_x509.Certificate.load(cert_ders[0])["tbs_certificate"]
    issuer_der, serial_der = tbs["issuer"].dump(), tbs["serial_number"].dump()
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump(),
        cms.CMSAttribute({"type": "signing_time", "values": [_signing_time_value(when)]}).dump(),
        cms.CMSAttribute({"type": "message_digest", "values": [content_digest]}).dump(),
        _SMIME_CAPABILITIES_ATTRIBUTE,
        _signing_certificate_v2_attribute(cert_ders[0], issuer_der, serial_der),
    ]
    to_be_signed = tlv(0x31, *sorted(attributes))  # DER orders a SET OF by encoding
    signature = _raw_sign(key, to_be_signed, digest, rsa_padding)
    digest_algorithm = algos.DigestAlgorithm({"algorithm": asn1_digest}).dump()
    signer_info = tlv(
        0x30,
        VERSION_1,
        tlv(0x30, issuer_der, serial_der),  # IssuerAndSerialNumber
        digest_algorithm,
        b"\xa0" + to_be_signed[1:],  # the same attributes as [0] IMPLICIT
        algos.SignedDigestAlgorithm(_signature_algorithm(key, digest, rsa_padding)).dump(),
        tlv(0x04, signature),
    )
    return assemble_signed_data(
        digest_algorithm=digest_algorithm,
        certificates=cert_ders,
        signer_info=signer_info,
        content=None if detached else pieces,
    )
