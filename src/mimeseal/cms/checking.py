"""Checking one SignerInfo (RFC 5652 §5.3-5.6): digest, attributes, signature, certificate binding.

Only the attributes a verdict depends on are decoded, each on its own, so an undecodable value
costs that attribute, never the signature: content-type, message-digest and signing-time
(single-valued, once each: RFC 5652 §11), the ESS signing-certificate attributes (RFC 2634 §5.4,
RFC 5035) and CMS algorithm protection (RFC 6211). Everything else is listed as ``info``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import algos, cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from mimeseal import ber
from mimeseal.cms.algorithms import DIGESTS, MICALG_BY_ASN1, OID_SIGNING_CERTIFICATE_V2
from mimeseal.cms.parsing import (
    Attribute,
    ParsedSignedData,
    SignerInfo,
    oid_name,
    signer_certificate,
)
from mimeseal.errors import CmsError
from mimeseal.limits import shown
from mimeseal.verdict import Problem

OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
OID_COUNTERSIGNATURE = "1.2.840.113549.1.9.6"
OID_SIGNING_CERTIFICATE = "1.2.840.113549.1.9.16.2.12"
OID_ALGORITHM_PROTECTION = "1.2.840.113549.1.9.52"
#: Attributes a signer adds that carry nothing for the verdict; they are not listed as unknown.
_KNOWN_UNCHECKED = {
    "1.2.840.113549.1.9.15",  # SMIMECapabilities (RFC 8551 §2.5.2)
    "1.2.840.113549.1.9.16.2.11",  # SMIMEEncryptionKeyPreference (RFC 8551 §2.5.3)
    "1.3.6.1.4.1.311.16.4",  # Microsoft's encryption-key preference ([MS-OXOSMIME] §2.1.1)
}
_CHECKED = {
    OID_CONTENT_TYPE,
    OID_MESSAGE_DIGEST,
    OID_SIGNING_TIME,
    OID_SIGNING_CERTIFICATE,
    OID_SIGNING_CERTIFICATE_V2,
    OID_ALGORITHM_PROTECTION,
}
_HASH_BY_OID = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}


@dataclass(frozen=True)
class CmsSignerCheck:
    """What the CMS layer found for one SignerInfo; certificate trust is judged elsewhere."""

    index: int
    certificate: x509.Certificate | None
    digest: str
    signature_algorithm: str
    signing_time: datetime | None
    problems: tuple[Problem, ...]


def algorithm_oid(der: bytes) -> str:
    """The OID of an AlgorithmIdentifier's exact DER."""
    element = ber.parse(der, max_elements=64)
    if element.tag != ber.SEQUENCE or not element.children:
        raise ber.malformed("an AlgorithmIdentifier is not a SEQUENCE")
    return ber.oid(der, element.children[0])


def digest_of(signer_info: SignerInfo) -> str:
    """The micalg name of a SignerInfo's digest (``sha-256``…), or another name for others."""
    try:
        oid = algorithm_oid(signer_info.digest_algorithm_der)
    except CmsError:
        return "malformed"
    name = algos.DigestAlgorithmId._map.get(oid, oid)
    return MICALG_BY_ASN1.get(name, str(name))


def signature_algorithm_name(signer_info: SignerInfo) -> str:
    """asn1crypto's name of the signature algorithm (``rsassa_pss``, ``ed25519``…) or its OID."""
    try:
        oid = algorithm_oid(signer_info.signature_algorithm_der)
    except CmsError:
        return "malformed"
    return str(algos.SignedDigestAlgorithmId._map.get(oid, oid))


def _single_value(der: bytes, tag: int, what: str) -> ber.Element:
    element = ber.parse(der, max_elements=16)
    return ber.expect(element, tag, what)


def check_signer(
    index: int,
    signer_info: SignerInfo,
    parsed: ParsedSignedData,
    content: bytes,
    content_digests: dict[str, bytes] | None = None,
) -> CmsSignerCheck:
    """Check one SignerInfo against ``content``: digest, attributes, signature, cert binding."""
    problems: list[Problem] = []
    digest = digest_of(signer_info)
    algorithm_name = signature_algorithm_name(signer_info)
    cert = signer_certificate(signer_info, parsed.certificates)
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
                f"digest algorithm {shown(digest)} is not accepted; only SHA-256, SHA-384 and "
                "SHA-512 are (RFC 8551 §2.1)",
            )
        )
        return CmsSignerCheck(index, cert, digest, algorithm_name, None, tuple(problems))
    if content_digests is not None and digest in content_digests:
        actual = content_digests[digest]
    else:
        actual = hashlib.new(DIGESTS[digest][1], content).digest()
    signing_time: datetime | None = None
    if signer_info.signed_attrs_der is None:
        data_signed = content
        problems.append(
            Problem(
                "no-signed-attributes",
                "the signature has no signed attributes, so it carries no signing time and does "
                "not bind the content type (RFC 8551 §2.5 asks for them)",
                "info",
            )
        )
    else:
        data_signed = signer_info.signed_attrs_der
        problems += _attribute_problems(signer_info, parsed, actual)
        signing_time, time_problems = _signing_time(signer_info)
        problems += time_problems
        problems += _check_signing_certificate(signer_info, cert)
    if signer_info.unsigned_attributes:
        names = ", ".join(sorted({a.name for a in signer_info.unsigned_attributes}))
        problems.append(
            Problem(
                "unsigned-attributes",
                f"unsigned attributes, not covered by the signature and not interpreted: {names}",
                "info",
            )
        )
    if cert is not None:
        reason = _verify_raw(cert, signer_info, algorithm_name, digest, data_signed)
        if reason is not None:
            problems.append(Problem("signature-invalid", reason))
    return CmsSignerCheck(index, cert, digest, algorithm_name, signing_time, tuple(problems))


def _attribute_problems(
    signer_info: SignerInfo, parsed: ParsedSignedData, actual: bytes
) -> list[Problem]:
    problems: list[Problem] = []
    if signer_info.signed_attrs_indefinite:
        problems.append(
            Problem(
                "signed-attributes-not-der",
                "the signed attributes are not DER-encoded (RFC 5652 §5.4 requires DER); they "
                "were checked as re-tagged, as OpenSSL does",
                "warning",
            )
        )
    seen: dict[str, int] = {}
    for attribute in signer_info.signed_attributes:
        seen[attribute.oid] = seen.get(attribute.oid, 0) + 1
    for oid in (OID_CONTENT_TYPE, OID_MESSAGE_DIGEST, OID_SIGNING_TIME):
        if seen.get(oid, 0) > 1 or any(len(a.values) != 1 for a in signer_info.attribute(oid)):
            problems.append(
                Problem(
                    "duplicate-attribute",
                    f"the signed attribute {oid_name(oid)} must appear once with one value "
                    "(RFC 5652 §11); two values let two verifiers read two different things",
                )
            )
    unknown = sorted({a.name for a in signer_info.signed_attributes} - _names(_CHECKED))
    unknown = [name for name in unknown if name not in _names(_KNOWN_UNCHECKED)]
    if unknown:
        problems.append(
            Problem(
                "unknown-attributes",
                f"signed attributes this verifier does not interpret (kept, covered by the "
                f"signature): {', '.join(shown(n) for n in unknown)}",
                "info",
            )
        )
    if signer_info.attribute(OID_COUNTERSIGNATURE):
        problems.append(
            Problem(
                "countersignature-signed",
                "a countersignature is among the signed attributes; RFC 5652 §11.4 allows it "
                "only as an unsigned attribute",
            )
        )
    digests = signer_info.attribute(OID_MESSAGE_DIGEST)
    if len(digests) != 1 or len(digests[0].values) != 1:
        if not digests:
            problems.append(
                Problem("message-digest-missing", "the signed attributes lack a message-digest")
            )
    else:
        try:
            value = _single_value(digests[0].values[0], ber.OCTET_STRING, "message-digest")
            claimed = ber.octets(digests[0].values[0], value)
        except CmsError:
            claimed = b""
        if not hmac.compare_digest(claimed, actual):
            problems.append(
                Problem(
                    "digest-mismatch",
                    "the signed content was changed after signing: its digest does not match "
                    "the message-digest attribute",
                )
            )
    problems += _content_type_problems(signer_info, parsed)
    problems += _algorithm_protection_problems(signer_info)
    return problems


def _names(oids: set[str]) -> set[str]:
    return {oid_name(oid) for oid in oids}


def _content_type_problems(signer_info: SignerInfo, parsed: ParsedSignedData) -> list[Problem]:
    types = signer_info.attribute(OID_CONTENT_TYPE)
    claimed = None
    if len(types) == 1 and len(types[0].values) == 1:
        try:
            value = types[0].values[0]
            claimed = oid_name(ber.oid(value, _single_value(value, ber.OID, "content-type")))
        except CmsError:
            claimed = None
    if claimed is None or claimed != parsed.econtent_type:
        return [
            Problem(
                "content-type-mismatch",
                "the content-type attribute is missing or does not match the content",
            )
        ]
    return []


def _signing_time(signer_info: SignerInfo) -> tuple[datetime | None, list[Problem]]:
    times = signer_info.attribute(OID_SIGNING_TIME)
    if len(times) != 1 or len(times[0].values) != 1:
        return None, []
    try:
        value = cms.Time.load(times[0].values[0], strict=True).native
    except Exception:  # asn1crypto raises several types on malformed times
        value = None
    if not isinstance(value, datetime) or value.utcoffset() != timedelta(0):
        # RFC 5652 §11.3: UTC ("Z"); a time without a zone names no instant at all.
        return None, [
            Problem(
                "signing-time-malformed",
                "the signing-time attribute cannot be read; the signature has no usable time",
                "warning",
            )
        ]
    return value, []


def _algorithm_protection_problems(signer_info: SignerInfo) -> list[Problem]:
    """RFC 6211 §3: when present, the protected algorithms must be the ones used."""
    found = signer_info.attribute(OID_ALGORITHM_PROTECTION)
    if not found:
        return []
    try:
        value = cms.CMSAlgorithmProtection.load(found[0].values[0], strict=True)
        digest_ok = value["digest_algorithm"].dump() == signer_info.digest_algorithm_der
        signature = value["signature_algorithm"]
        signature_ok = (
            signature.native is not None
            and b"\x30" + signature.dump()[1:] == signer_info.signature_algorithm_der
        )
    except Exception:  # malformed: reported like a mismatch
        digest_ok = signature_ok = False
    if len(found) == 1 and len(found[0].values) == 1 and digest_ok and signature_ok:
        return []
    return [
        Problem(
            "algorithm-protection-mismatch",
            "the CMS algorithm protection attribute (RFC 6211) does not name the algorithms the "
            "signature uses: the algorithm identifiers were changed after signing",
        )
    ]


def _verify_raw(
    cert: x509.Certificate, signer_info: SignerInfo, name: str, digest: str, data: bytes
) -> str | None:
    """Check one signature; return None if it holds, else a sentence saying why not.

    The hash is the SignerInfo's digestAlgorithm (RFC 5652 §5.4); a signature algorithm that
    names another one (sha512WithRSA over a SHA-256 digest, PSS with another hash) is refused,
    as OpenSSL, NSS and gpgsm refuse it.
    """
    try:
        public_key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return "the certificate's public key is of an unknown or malformed type"
    hash_cls = DIGESTS[digest][2]
    signature = signer_info.signature
    named = name.split("_")[0] if name.endswith(("_rsa", "_ecdsa")) else None
    if named is not None and MICALG_BY_ASN1.get(named) != digest:
        return f"the signature algorithm {shown(name)} does not use the digest {digest}"
    try:
        if name == "rsassa_pss":
            if not isinstance(public_key, rsa.RSAPublicKey):
                return "RSA-PSS signature but the certificate key is not RSA"
            pss = _pss_padding(signer_info.signature_algorithm_der, digest)
            if isinstance(pss, str):
                return pss
            public_key.verify(signature, data, pss, hash_cls())
        elif name in ("rsassa_pkcs1v15", "sha256_rsa", "sha384_rsa", "sha512_rsa"):
            if not isinstance(public_key, rsa.RSAPublicKey):
                return "RSA signature but the certificate key is not RSA"
            public_key.verify(signature, data, padding.PKCS1v15(), hash_cls())
        elif name in ("sha256_ecdsa", "sha384_ecdsa", "sha512_ecdsa", "ecdsa"):
            if not isinstance(public_key, ec.EllipticCurvePublicKey):
                return "ECDSA signature but the certificate key is not EC"
            public_key.verify(signature, data, ec.ECDSA(hash_cls()))
        elif name == "ed25519":
            if not isinstance(public_key, ed25519.Ed25519PublicKey):
                return "Ed25519 signature but the certificate key is not Ed25519"
            public_key.verify(signature, data)
        else:
            return f"signature algorithm {shown(name)} is not accepted (RFC 8551 §2.2)"
    except InvalidSignature:
        return "the signature does not match the signed data and the certificate's key"
    except Exception as exc:  # malformed parameters: asn1crypto and cryptography raise many
        return f"the signature could not be checked ({type(exc).__name__})"
    return None


def _pss_padding(algorithm_der: bytes, digest: str) -> padding.PSS | str:
    """RSASSA-PSS parameters as declared (RFC 4055 §3.1), or why they cannot be used: the hash
    must be the digest, the mask generation MGF1 with a SHA-2 hash, the trailer field 1."""
    params = algos.SignedDigestAlgorithm.load(algorithm_der)["parameters"]
    if MICALG_BY_ASN1.get(params["hash_algorithm"]["algorithm"].native) != digest:
        return f"the RSA-PSS hash algorithm is not the digest {digest}"
    mask = params["mask_gen_algorithm"]
    mgf_hash = MICALG_BY_ASN1.get(mask["parameters"]["algorithm"].native)
    if mask["algorithm"].native != "mgf1" or mgf_hash is None:
        return "the RSA-PSS mask generation is not MGF1 with SHA-256, SHA-384 or SHA-512"
    if params["trailer_field"].native != "trailer_field_bc":
        return "the RSA-PSS trailer field is not 1 (RFC 4055 §3.1)"
    salt = params["salt_length"].native
    return padding.PSS(mgf=padding.MGF1(DIGESTS[mgf_hash][2]()), salt_length=salt)


def _cert_hash_matches(value: bytes, default_hash: str | None, cert_der: bytes) -> bool:
    """Whether the first ESSCertID(v2) of a SigningCertificate(V2) value names ``cert_der``."""
    outer = ber.parse(value, max_elements=4096)
    certs = ber.expect(outer, ber.SEQUENCE, "SigningCertificate").children
    first = ber.expect(ber.expect(certs[0], ber.SEQUENCE, "certs").children[0], ber.SEQUENCE, "id")
    fields = first.children
    hash_name = default_hash
    if fields[0].tag == ber.SEQUENCE:  # ESSCertIDv2's hashAlgorithm, present unless SHA-256
        hash_name = _HASH_BY_OID.get(ber.oid(value, fields[0].children[0]))
        fields = fields[1:]
    if hash_name is None:
        return False
    claimed = ber.octets(value, ber.expect(fields[0], ber.OCTET_STRING, "certHash"))
    return hmac.compare_digest(claimed, hashlib.new(hash_name, cert_der).digest())


def _check_signing_certificate(
    signer_info: SignerInfo, cert: x509.Certificate | None
) -> list[Problem]:
    attributes: list[tuple[Attribute, str]] = [
        (a, "sha256") for a in signer_info.attribute(OID_SIGNING_CERTIFICATE_V2)
    ] + [(a, "sha1") for a in signer_info.attribute(OID_SIGNING_CERTIFICATE)]
    if not attributes or cert is None:
        return []
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    problems = []
    for attribute, default_hash in attributes:
        try:
            if len(attribute.values) != 1:
                raise ber.malformed("more than one value")
            if _cert_hash_matches(attribute.values[0], default_hash, cert_der):
                continue
        except (CmsError, IndexError):
            problems.append(
                Problem(
                    "signing-certificate-malformed",
                    f"the ESS {attribute.name} attribute cannot be parsed",
                )
            )
            continue
        problems.append(
            Problem(
                "signing-certificate-mismatch",
                f"the ESS {attribute.name} attribute names a different certificate than the "
                "one that verifies the signature (possible certificate substitution)",
            )
        )
    return problems
