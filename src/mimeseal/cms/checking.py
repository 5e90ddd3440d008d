"""Parsing CMS SignedData and checking one SignerInfo: digest, attributes, signature, binding."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from mimeseal.cms.algorithms import DIGESTS, MICALG_BY_ASN1, OID_SIGNING_CERTIFICATE_V2
from mimeseal.der import lift_econtent
from mimeseal.errors import CmsError, LimitError
from mimeseal.limits import Limits, resolve, shown
from mimeseal.limits import check as check_limit
from mimeseal.verdict import Problem


class _EssCertIdV2(core.Sequence):  # type: ignore[misc]
    """ESSCertIDv2 (RFC 5035 §4): the hash algorithm defaults to SHA-256 and is then omitted."""

    _fields: ClassVar[list[Any]] = [
        ("hash_algorithm", algos.DigestAlgorithm, {"default": {"algorithm": "sha256"}}),
        ("cert_hash", core.OctetString),
        ("issuer_serial", cms.IssuerSerial, {"optional": True}),
    ]


class _EssCertIdsV2(core.SequenceOf):  # type: ignore[misc]
    _child_spec = _EssCertIdV2


class _SigningCertificateV2(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[Any]] = [
        ("certs", _EssCertIdsV2),
        ("policies", core.Any, {"optional": True}),
    ]


@dataclass(frozen=True)
class ParsedSignedData:
    """The parts of a SignedData that a verifier needs, certificates already converted."""

    econtent: bytes | None
    econtent_type: str
    certificates: tuple[x509.Certificate, ...]
    signer_infos: tuple[Any, ...]  # asn1crypto cms.SignerInfo


@dataclass(frozen=True)
class CmsSignerCheck:
    """What the CMS layer found for one SignerInfo; certificate trust is judged elsewhere."""

    index: int
    certificate: x509.Certificate | None
    digest: str
    signature_algorithm: str
    signing_time: datetime | None
    problems: tuple[Problem, ...]


def parse_signed_data(der: bytes, limits: Limits | None = None) -> ParsedSignedData:
    """Parse DER ContentInfo(SignedData); anything malformed raises :class:`CmsError`.

    A large eContent is lifted out first (:func:`mimeseal.der.lift_econtent`), so asn1crypto,
    which copies content once per nesting level, only ever sees the small remainder. The structure
    without its eContent, its certificates and its SignerInfos are bounded by ``limits``
    (:class:`~mimeseal.errors.LimitError`), checked before any certificate is loaded.
    """
    limits = resolve(limits)
    lifted = lift_econtent(der)
    # Without the DER fast path (BER, indefinite lengths) asn1crypto parses everything, and
    # merges chunked content in super-linear time: the whole structure is bounded then.
    size = len(der) if lifted is None else len(lifted[0])
    check_limit(limits, "max_cms_bytes", size, "octets of CMS structure")
    try:
        info = cms.ContentInfo.load(der if lifted is None else lifted[0], strict=True)
        if info["content_type"].native != "signed_data":
            raise CmsError(
                f"the CMS structure is {shown(info['content_type'].native)!r}, not signed-data; "
                "only signed messages can be verified"
            )
        signed = info["content"]
        encap = signed["encap_content_info"]
        raw_content = encap["content"]
        econtent = None if raw_content.native is None else bytes(raw_content.native)
        if lifted is not None:
            econtent = lifted[1]
        choices = signed["certificates"] or []
        check_limit(limits, "max_certificates", len(choices), "certificates in the CMS structure")
        signer_infos = tuple(signed["signer_infos"])
        check_limit(limits, "max_signers", len(signer_infos), "SignerInfos in the CMS structure")
        certificates = []
        for choice in choices:
            if choice.name == "certificate":
                cert = x509.load_der_x509_certificate(choice.chosen.dump())
                # cryptography parses lazily; make a malformed field fail here, not later.
                _ = (cert.subject, cert.issuer, cert.extensions, cert.not_valid_after_utc)
                certificates.append(cert)
        for signer_info in signer_infos:
            signer_info.native  # noqa: B018 - force a full parse now, inside this try
        return ParsedSignedData(
            econtent=econtent,
            econtent_type=str(encap["content_type"].native),
            certificates=tuple(certificates),
            signer_infos=signer_infos,
        )
    except (CmsError, LimitError):
        raise
    except Exception as exc:  # asn1crypto raises many types on hostile input
        raise CmsError(
            f"the CMS signature is malformed or truncated ({type(exc).__name__}); the message "
            "was damaged in transit or was not produced by an S/MIME signer"
        ) from None


def _find_certificate(
    signer_info: Any, certs: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    sid = signer_info["sid"]
    if sid.name == "issuer_and_serial_number":
        wanted_issuer = sid.chosen["issuer"]
        serial = sid.chosen["serial_number"].native
        for cert in certs:
            if cert.serial_number != serial:
                continue
            asn1_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
            if asn1_cert.issuer == wanted_issuer:  # asn1crypto compares names normalized
                return cert
        return None
    key_id = bytes(sid.chosen.native)
    for cert in certs:
        try:
            ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        except x509.ExtensionNotFound:
            continue
        if ski.digest == key_id:
            return cert
    return None


def _attribute(signed_attrs: Any, name_or_oid: str) -> list[Any]:
    return [
        attr["values"]
        for attr in signed_attrs
        if attr["type"].native == name_or_oid or attr["type"].dotted == name_or_oid
    ]


def _verify_raw(
    cert: x509.Certificate, algorithm: Any, digest: str, signature: bytes, data: bytes
) -> str | None:
    """Check one signature; return None if it holds, else a sentence saying why not."""
    try:
        public_key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return "the certificate's public key is of an unknown or malformed type"
    name = algorithm["algorithm"].native
    hash_cls = DIGESTS[digest][2]
    try:
        if name == "rsassa_pss":
            params = algorithm["parameters"]
            pss_hash = MICALG_BY_ASN1.get(params["hash_algorithm"]["algorithm"].native)
            if pss_hash is None:
                return "the RSA-PSS hash algorithm is not SHA-2"
            pss_cls = DIGESTS[pss_hash][2]
            if not isinstance(public_key, rsa.RSAPublicKey):
                return "RSA-PSS signature but the certificate key is not RSA"
            public_key.verify(
                signature,
                data,
                padding.PSS(mgf=padding.MGF1(pss_cls()), salt_length=params["salt_length"].native),
                pss_cls(),
            )
        elif name in ("rsassa_pkcs1v15", "sha256_rsa", "sha384_rsa", "sha512_rsa"):
            if not isinstance(public_key, rsa.RSAPublicKey):
                return "RSA signature but the certificate key is not RSA"
            if name != "rsassa_pkcs1v15":
                hash_cls = DIGESTS[MICALG_BY_ASN1[name.split("_")[0]]][2]
            public_key.verify(signature, data, padding.PKCS1v15(), hash_cls())
        elif name in ("sha256_ecdsa", "sha384_ecdsa", "sha512_ecdsa", "ecdsa"):
            if not isinstance(public_key, ec.EllipticCurvePublicKey):
                return "ECDSA signature but the certificate key is not EC"
            if name != "ecdsa":
                hash_cls = DIGESTS[MICALG_BY_ASN1[name.split("_")[0]]][2]
            public_key.verify(signature, data, ec.ECDSA(hash_cls()))
        elif name == "ed25519":
            if not isinstance(public_key, ed25519.Ed25519PublicKey):
                return "Ed25519 signature but the certificate key is not Ed25519"
            public_key.verify(signature, data)
        else:
            return f"signature algorithm {shown(name)} is not accepted (RFC 8551 §2.2)"
    except InvalidSignature:
        return "the signature does not match the signed data and the certificate's key"
    except (ValueError, TypeError, KeyError) as exc:
        return f"the signature could not be checked ({type(exc).__name__})"
    return None


def digest_of(signer_info: Any) -> str:
    """The micalg name of a SignerInfo's digest (``sha-256``…), or asn1crypto's name for others."""
    asn1_digest = signer_info["digest_algorithm"]["algorithm"].native
    return MICALG_BY_ASN1.get(asn1_digest, str(asn1_digest))


def check_signer(
    index: int,
    signer_info: Any,
    parsed: ParsedSignedData,
    content: bytes,
    content_digests: dict[str, bytes] | None = None,
) -> CmsSignerCheck:
    """Check one SignerInfo against ``content``: digest, attributes, signature, cert binding."""
    problems: list[Problem] = []
    asn1_digest = signer_info["digest_algorithm"]["algorithm"].native
    digest = digest_of(signer_info)
    algorithm_name = str(signer_info["signature_algorithm"]["algorithm"].native)
    cert = _find_certificate(signer_info, parsed.certificates)
    signing_time: datetime | None = None
    if cert is None:
        problems.append(
            Problem(
                "signer-certificate-missing",
                "the signer's certificate is not included in the signature, so it cannot be "
                "checked; sign with the certificate included",
            )
        )
    if digest not in DIGESTS:
        problems.append(
            Problem(
                "weak-digest",
                f"digest algorithm {shown(asn1_digest)} is not accepted; only SHA-256, SHA-384 and "
                "SHA-512 are (RFC 8551 §2.1)",
            )
        )
        return CmsSignerCheck(index, cert, digest, algorithm_name, None, tuple(problems))
    if content_digests is not None and digest in content_digests:
        actual = content_digests[digest]
    else:
        actual = hashlib.new(DIGESTS[digest][1], content).digest()
    signed_attrs = signer_info["signed_attrs"]
    if signed_attrs.native is None or len(signed_attrs) == 0:
        data_signed = content
    else:
        data_signed = signed_attrs.untag().dump()
        digests = _attribute(signed_attrs, "message_digest")
        types = _attribute(signed_attrs, "content_type")
        times = _attribute(signed_attrs, "signing_time")
        if len(digests) != 1 or len(digests[0]) != 1:
            problems.append(
                Problem("message-digest-missing", "the signed attributes lack a message-digest")
            )
        elif not hmac.compare_digest(bytes(digests[0][0].native), actual):
            problems.append(
                Problem(
                    "digest-mismatch",
                    "the signed content was changed after signing: its digest does not match "
                    "the message-digest attribute",
                )
            )
        if len(types) != 1 or types[0][0].native != parsed.econtent_type:
            problems.append(
                Problem(
                    "content-type-mismatch",
                    "the content-type attribute is missing or does not match the content",
                )
            )
        if times and len(times[0]) == 1:
            signing_time = times[0][0].native
        problems.extend(_check_signing_certificate(signed_attrs, cert))
    if cert is not None:
        reason = _verify_raw(
            cert,
            signer_info["signature_algorithm"],
            digest,
            bytes(signer_info["signature"].native),
            data_signed,
        )
        if reason is not None:
            problems.append(Problem("signature-invalid", reason))
    return CmsSignerCheck(index, cert, digest, algorithm_name, signing_time, tuple(problems))


def _check_signing_certificate(signed_attrs: Any, cert: x509.Certificate | None) -> list[Problem]:
    values = _attribute(signed_attrs, OID_SIGNING_CERTIFICATE_V2)
    if not values or cert is None:
        return []
    try:
        parsed = _SigningCertificateV2.load(values[0][0].dump())
        first = parsed["certs"][0]
        hash_name = first["hash_algorithm"]["algorithm"].native
        expected = hashlib.new(hash_name, cert.public_bytes(serialization.Encoding.DER)).digest()
        if hmac.compare_digest(bytes(first["cert_hash"].native), expected):
            return []
    except Exception:  # malformed attribute: reported below like a mismatch
        return [
            Problem(
                "signing-certificate-malformed",
                "the ESS signing-certificate-v2 attribute cannot be parsed",
            )
        ]
    return [
        Problem(
            "signing-certificate-mismatch",
            "the ESS signing-certificate-v2 attribute names a different certificate than the "
            "one that verifies the signature (possible certificate substitution)",
        )
    ]
