"""Reading CMS SignedData (RFC 5652 §5) as real signers send it, decoding only what a verdict needs.

Thunderbird (NSS), Outlook and Windows CryptoAPI add attributes a generic decoder may not know
or cannot decode (Microsoft's encryption-key preference, 1.3.6.1.4.1.311.16.4), and Outlook
sends BER with indefinite lengths and chunked content. So the structure is walked with
:mod:`mimeseal.ber`, every attribute is kept as its OID and exact value octets, and only the few
attributes the verifier checks are decoded, each on its own (:mod:`mimeseal.cms.checking`). One
attribute nobody here knows never makes a signature "malformed".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from cryptography import x509

from mimeseal import ber
from mimeseal.errors import CmsError, LimitError
from mimeseal.limits import Limits, resolve, shown
from mimeseal.limits import check as check_limit

OID_DATA = "1.2.840.113549.1.7.1"
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"

#: The names of object identifiers a verdict shows (RFC 5652 §11, RFC 8551 §2.5, RFC 5035,
#: RFC 6211, Microsoft's [MS-OXOSMIME]); anything else is shown dotted.
OID_NAMES = {
    OID_DATA: "data",
    OID_SIGNED_DATA: "signed-data",
    "1.2.840.113549.1.9.3": "content-type",
    "1.2.840.113549.1.9.4": "message-digest",
    "1.2.840.113549.1.9.5": "signing-time",
    "1.2.840.113549.1.9.6": "countersignature",
    "1.2.840.113549.1.9.15": "smime-capabilities",
    "1.2.840.113549.1.9.52": "cms-algorithm-protection",
    "1.2.840.113549.1.9.16.2.11": "smime-encryption-key-preference",
    "1.2.840.113549.1.9.16.2.12": "signing-certificate",
    "1.2.840.113549.1.9.16.2.14": "signature-time-stamp-token",
    "1.2.840.113549.1.9.16.2.47": "signing-certificate-v2",
    "1.3.6.1.4.1.311.16.4": "microsoft-encryption-key-preference",
}


def oid_name(oid: str) -> str:
    return OID_NAMES.get(oid, oid)


@dataclass(frozen=True)
class Attribute:
    """One attribute: its type and each value's exact DER, undecoded."""

    oid: str
    values: tuple[bytes, ...]

    @property
    def name(self) -> str:
        return oid_name(self.oid)


@dataclass(frozen=True)
class SignerInfo:
    """One SignerInfo (RFC 5652 §5.3), its parts kept as the exact octets of the message.

    ``signed_attrs_der`` is what the signature covers: the signed attributes' content octets
    under the SET OF tag (RFC 5652 §5.4), or None when there are no signed attributes.
    """

    version: int
    issuer_der: bytes | None
    serial: int | None
    key_id: bytes | None
    digest_algorithm_der: bytes
    signature_algorithm_der: bytes
    signed_attrs_der: bytes | None
    signed_attrs_indefinite: bool
    signed_attributes: tuple[Attribute, ...]
    signature: bytes
    unsigned_attributes: tuple[Attribute, ...]

    def attribute(self, oid: str) -> list[Attribute]:
        """Every signed attribute of type ``oid`` (more than one is a problem for most)."""
        return [a for a in self.signed_attributes if a.oid == oid]


@dataclass(frozen=True)
class ParsedSignedData:
    """The parts of a SignedData that a verifier needs, certificates already converted.

    ``skipped_certificates`` counts entries of the certificate set that are not X.509
    certificates, or that no X.509 parser here accepts; they are reported, not fatal.
    """

    econtent: bytes | None
    econtent_type: str
    certificates: tuple[x509.Certificate, ...]
    signer_infos: tuple[SignerInfo, ...]
    skipped_certificates: int = 0
    #: Octets of the structure besides its content: what it took of ``max_cms_bytes``.
    structure_octets: int = 0


def parse_signed_data(
    der: bytes, limits: Limits | None = None, *, used: int = 0
) -> ParsedSignedData:
    """Parse a BER or DER ContentInfo(SignedData); anything malformed raises :class:`CmsError`.

    Everything but the encapsulated content (headers, certificates, SignerInfos) is bounded by
    ``limits.max_cms_bytes``, and the certificate and SignerInfo counts by their limits
    (:class:`~mimeseal.errors.LimitError`), before any certificate is loaded. ``used`` is what
    earlier structures of the same message took of ``max_cms_bytes``: the budget is the
    message's, so a thousand hostile parts cost no more than one.
    """
    limits = resolve(limits)
    what = "octets of CMS structure besides its content, all signatures of the message together"
    try:
        root = ber.parse(der, max_elements=max(limits.max_cms_bytes - used, 0) // 2 + 64)
    except ber.ElementBudgetError:
        check_limit(limits, "max_cms_bytes", used + len(der), what)
        raise
    info = _children(root, ber.SEQUENCE, "the ContentInfo", 2)
    content_type = ber.oid(der, info[0])
    if content_type != OID_SIGNED_DATA:
        raise CmsError(
            f"the CMS structure is {shown(oid_name(content_type))!r}, not signed-data; only "
            "signed messages can be verified"
        )
    signed = _children(_explicit(info[1], 0, "the ContentInfo content"), ber.SEQUENCE, "SignedData")
    if len(signed) < 4:
        raise ber.malformed("SignedData has fewer than four fields")
    encap = _children(signed[2], ber.SEQUENCE, "the EncapsulatedContentInfo")
    econtent_element = _explicit(encap[1], 0, "the eContent") if len(encap) > 1 else None
    overhead = len(der) - (0 if econtent_element is None else ber.string_length(econtent_element))
    check_limit(limits, "max_cms_bytes", used + overhead, what)
    rest = list(signed[3:])
    certificates: list[x509.Certificate] = []
    skipped = 0
    if rest and rest[0].is_context(0):
        choices = rest.pop(0).children
        check_limit(limits, "max_certificates", len(choices), "certificates in the CMS structure")
        for choice in choices:
            cert = _certificate(der, choice)
            if cert is None:
                skipped += 1
            else:
                certificates.append(cert)
    if rest and rest[0].is_context(1):
        rest.pop(0)  # CRLs: revocation is not checked
    if len(rest) != 1:
        raise ber.malformed("SignedData does not end with its SignerInfos")
    infos = _children(rest[0], ber.SET, "the SignerInfos")
    check_limit(limits, "max_signers", len(infos), "SignerInfos in the CMS structure")
    return ParsedSignedData(
        econtent=None if econtent_element is None else _econtent(der, econtent_element),
        econtent_type=oid_name(ber.oid(der, encap[0])),
        certificates=tuple(certificates),
        signer_infos=tuple(_signer_info(der, element) for element in infos),
        skipped_certificates=skipped,
        structure_octets=overhead,
    )


def _children(element: ber.Element, tag: int, what: str, count: int = 0) -> tuple[ber.Element, ...]:
    ber.expect(element, tag, what)
    if len(element.children) < count:
        raise ber.malformed(f"{what} has {len(element.children)} fields, expected {count}")
    return element.children


def _explicit(element: ber.Element, number: int, what: str) -> ber.Element:
    if element.tag != 0xA0 | number or len(element.children) != 1:
        raise ber.malformed(f"{what} is not an explicit [{number}]")
    return element.children[0]


def _econtent(der: bytes, element: ber.Element) -> bytes:
    if element.tag & 0xDF != ber.OCTET_STRING:
        raise ber.malformed("the eContent is not an OCTET STRING")
    return ber.octets(der, element)


def _certificate(der: bytes, choice: ber.Element) -> x509.Certificate | None:
    """An X.509 certificate of the CertificateSet, or None for other choices (attribute
    certificates, RFC 5652 §10.2.2) and certificates no parser here accepts."""
    if choice.tag != ber.SEQUENCE or choice.indefinite:
        return None
    try:
        cert = x509.load_der_x509_certificate(ber.exact(der, choice))
        # cryptography parses lazily; make a malformed field fail here, not in a verdict.
        _ = (cert.subject, cert.issuer, cert.extensions, cert.not_valid_after_utc)
    except Exception:  # cryptography raises InvalidVersion, DuplicateExtension, ValueError…
        return None
    return cert


def _signer_info(der: bytes, element: ber.Element) -> SignerInfo:
    fields = list(_children(element, ber.SEQUENCE, "a SignerInfo", 5))
    version = ber.integer(der, fields.pop(0))
    sid = fields.pop(0)
    issuer_der = serial = key_id = None
    if sid.tag == ber.SEQUENCE and len(sid.children) == 2:
        issuer_der = ber.exact(der, ber.expect(sid.children[0], ber.SEQUENCE, "the issuer"))
        serial = ber.integer(der, sid.children[1])
    elif sid.is_context(0):
        key_id = ber.octets(der, sid)
    else:
        raise ber.malformed("the SignerIdentifier is neither issuer-and-serial nor a key id")
    digest_algorithm = ber.exact(der, ber.expect(fields.pop(0), ber.SEQUENCE, "digestAlgorithm"))
    signed_attrs: ber.Element | None = fields.pop(0) if fields[0].is_context(0) else None
    if len(fields) < 2:
        raise ber.malformed("a SignerInfo lacks its signature")
    algorithm = ber.exact(der, ber.expect(fields.pop(0), ber.SEQUENCE, "signatureAlgorithm"))
    signature_element = fields.pop(0)
    if signature_element.tag & 0xDF != ber.OCTET_STRING:
        raise ber.malformed("the signature is not an OCTET STRING")
    unsigned = fields.pop(0) if fields and fields[0].is_context(1) else None
    if fields:
        raise ber.malformed("a SignerInfo has fields after its unsigned attributes")
    return SignerInfo(
        version=version,
        issuer_der=issuer_der,
        serial=serial,
        key_id=key_id,
        digest_algorithm_der=digest_algorithm,
        signature_algorithm_der=algorithm,
        signed_attrs_der=None if signed_attrs is None else ber.as_set_of(der, signed_attrs),
        signed_attrs_indefinite=signed_attrs is not None and signed_attrs.indefinite,
        signed_attributes=() if signed_attrs is None else _attributes(der, signed_attrs),
        signature=ber.octets(der, signature_element),
        unsigned_attributes=() if unsigned is None else _attributes(der, unsigned),
    )


def _attributes(der: bytes, element: ber.Element) -> tuple[Attribute, ...]:
    if not element.constructed:
        raise ber.malformed("an attribute set is not constructed")
    found = []
    for attribute in element.children:
        parts = _children(attribute, ber.SEQUENCE, "an attribute", 2)
        values = ber.expect(parts[1], ber.SET, "the values of an attribute")
        found.append(
            Attribute(ber.oid(der, parts[0]), tuple(ber.exact(der, v) for v in values.children))
        )
    return tuple(found)


def signer_certificate(
    signer_info: SignerInfo, certificates: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    """The certificate a SignerInfo names (issuer and serial, or subject key identifier)."""
    if signer_info.key_id is not None:
        for cert in certificates:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            except (x509.ExtensionNotFound, ValueError):
                continue
            if ski.digest == signer_info.key_id:
                return cert
        return None
    try:
        wanted = asn1_x509.Name.load(signer_info.issuer_der)
        for cert in certificates:
            if cert.serial_number != signer_info.serial:
                continue
            # asn1crypto compares names as RFC 5280 §7.1 asks (case and spaces folded).
            if asn1_x509.Name.load(cert.issuer.public_bytes()) == wanted:
                return cert
    except (ValueError, TypeError, LimitError):
        return None
    return None
