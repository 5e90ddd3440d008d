"""Adversarial review of smime.verify: CMS differentials against OpenSSL, hostile BER, MIME
structures a mail reader splits differently, validation time and header protection.

Tests that fail pin a defect (the lead engineer fixes the code, not the test); tests that pass
pin attacks mimeseal already handles. Messages are built from raw DER so that each test varies
exactly one thing a hostile or careless sender controls.
"""

from __future__ import annotations

import base64
import contextlib
import email
import email.message
import email.policy
import hashlib
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

import pytest
from asn1crypto import algos, core
from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SENDER, DevPki, multipart_signed, needs_openssl, openssl_accepts
from mimeseal import ber, cms, pki, smime
from mimeseal.der import OID_DATA, OID_SIGNED_DATA, VERSION_1, tlv
from mimeseal.errors import MimesealError

OUTER = b"From: Alice Example <alice@example.com>\r\nTo: bob@example.org\r\nSubject: statement\r\n"
ENTITY = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nPay invoice 42 by Friday.\r\n"
EVIL = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nPay invoice 42 to account 666.\r\n"

CONTENT_TYPE, MESSAGE_DIGEST = "1.2.840.113549.1.9.3", "1.2.840.113549.1.9.4"
SIGNING_TIME = "1.2.840.113549.1.9.5"
SHA256 = algos.DigestAlgorithm({"algorithm": "sha256"}).dump()
SHA512 = algos.DigestAlgorithm({"algorithm": "sha512"}).dump()
RSA_PKCS1 = algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}).dump()
Signer = Callable[[object, bytes], bytes]


# --- building blocks ------------------------------------------------------------------------


def _oid(dotted: str) -> bytes:
    return bytes(core.ObjectIdentifier(dotted).dump())


def _attribute(oid: str, *values: bytes) -> bytes:
    return tlv(0x30, _oid(oid), tlv(0x31, *values))


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _attributes(content: bytes, when: datetime | None = None) -> list[bytes]:
    moment = when or datetime.now(timezone.utc).replace(microsecond=0)
    return [
        _attribute(CONTENT_TYPE, OID_DATA),
        _attribute(SIGNING_TIME, asn1_cms.Time({"utc_time": moment}).dump()),
        _attribute(MESSAGE_DIGEST, tlv(0x04, hashlib.sha256(content).digest())),
    ]


def _default_sign(key: object, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def _signer_info(
    key: object,
    cert: x509.Certificate,
    content: bytes,
    *,
    attributes: list[bytes] | None = None,
    digest_algorithm: bytes = SHA256,
    signature_algorithm: bytes | None = None,
    sign: Signer = _default_sign,
    sid: bytes | None = None,
) -> bytes:
    attrs = b"".join(sorted(_attributes(content) if attributes is None else attributes))
    if signature_algorithm is None:
        name = "rsassa_pkcs1v15" if isinstance(key, rsa.RSAPrivateKey) else "sha256_ecdsa"
        signature_algorithm = algos.SignedDigestAlgorithm({"algorithm": name}).dump()
    tbs = asn1_x509.Certificate.load(_der(cert))["tbs_certificate"]
    return tlv(
        0x30,
        VERSION_1 if sid is None else b"\x02\x01\x03",
        sid or tlv(0x30, tbs["issuer"].dump(), tbs["serial_number"].dump()),
        digest_algorithm,
        tlv(0xA0, attrs),
        signature_algorithm,
        tlv(0x04, sign(key, tlv(0x31, attrs))),
    )


def _signed_data(
    signer_infos: Sequence[bytes],
    certificates: Sequence[bytes],
    *,
    econtent: bytes | None = None,
    digest_algorithms: Sequence[bytes] = (SHA256,),
) -> bytes:
    encap = [OID_DATA] + ([] if econtent is None else [tlv(0xA0, econtent)])
    body = tlv(
        0x30,
        VERSION_1,
        tlv(0x31, *digest_algorithms),
        tlv(0x30, *encap),
        tlv(0xA0, *certificates),
        tlv(0x31, *signer_infos),
    )
    return tlv(0x30, OID_SIGNED_DATA, tlv(0xA0, body))


def _raw(dev: DevPki, content: bytes = ENTITY, **options: object) -> bytes:
    """A detached SignedData by ``dev``'s signer with one SignerInfo built from ``options``."""
    info = _signer_info(dev.signer.key, dev.signer.certificate, content, **options)  # type: ignore[arg-type]
    return _signed_data([info], [_der(dev.signer.certificate)])


def _opaque(der: bytes, outer: bytes = OUTER) -> bytes:
    return (
        outer + b"MIME-Version: 1.0\r\n"
        b"Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(der).replace(b"\n", b"\r\n")
    )


def _errors(verdict: smime.SmimeVerdict) -> set[str]:
    return {p.code for p in verdict.all_problems() if p.is_error}


def _valid_or_refused(message: bytes, trust: list[x509.Certificate], **options: object) -> bool:
    """Whether mimeseal calls ``message`` valid; a MimesealError counts as a refusal."""
    try:
        return smime.verify(message, trust=trust, **options).valid  # type: ignore[arg-type]
    except MimesealError:
        return False


# --- 1. MIME: the reader must see the part that was verified (RFC 2045 §5.1, RFC 2046 §5.1.1,
# RFC 2231 §3) -----------------------------------------------------------------------------


def _two_views(
    dev: DevPki, parameter: bytes, reader_boundary: bytes, verifier_boundary: bytes
) -> bytes:
    """A multipart/signed whose body holds two complete multiparts: one delimited the way a
    standard MIME reader reads ``parameter`` (the attacker's text, with Alice's signature
    part), the other the way mimeseal reads it (Alice's signed part and signature). Everything
    but Alice's part and signature is outside the signature, so anyone can write this."""
    cms_der = cms.build_signed_data(ENTITY, key=dev.signer.key, cert=dev.signer.certificate)
    signature = (
        b'Content-Type: application/pkcs7-signature; name="smime.p7s"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(cms_der).replace(b"\n", b"\r\n")
    )

    def multipart(boundary: bytes, first: bytes) -> bytes:
        delimiter = b"--" + boundary
        return (
            delimiter + b"\r\n" + first + b"\r\n" + delimiter + b"\r\n" + signature
            + delimiter + b"--\r\n"
        )  # fmt: skip

    return (
        OUTER + b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
        b"micalg=sha-256; boundary=" + parameter + b"\r\n\r\n"
        + multipart(reader_boundary, EVIL) + multipart(verifier_boundary, ENTITY)
    )  # fmt: skip


def _shown_by_reader(message: bytes) -> bytes:
    """The first part of the multipart/signed as Python's email package (policy.default, the
    RFC 5322/2045 parser behind EmailMessage) shows it."""
    parts = email.message_from_bytes(message, policy=email.policy.default).get_payload()
    assert isinstance(parts, list)
    first = parts[0]
    assert isinstance(first, email.message.Message)
    payload = first.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


BOUNDARY_TRICKS = {
    # RFC 2046 §5.1.1: a boundary cannot end in a space; every reader strips it (the stdlib's
    # get_boundary does, under both policies).
    "trailing-space": (b'"abc "', b"abc", b"abc "),
    # RFC 2045 §5.1 / RFC 5322 §3.2.2: a comment after a token is not part of the value.
    "comment": (b"abc (not part of it)", b"abc", b"abc (not part of it)"),
    # RFC 2045 §5.1: an unquoted value is a token, and a token ends at a space.
    "unquoted-space": (b"abc def", b"abc", b"abc def"),
    # RFC 2045 §5.1: after a quoted-string the value is over.
    "text-after-quotes": (b'"abc"x', b"abc", b'"abc"x'),
    # RFC 2231 §3: continuations are numbered 0, 1, 2…; a gap or a repeat ends the value.
    "rfc2231-gap": (b"x; boundary*0=ab; boundary*2=c", b"ab", b"abc"),
    "rfc2231-repeat": (b"x; boundary*0=ab; boundary*0=cd", b"ab", b"abcd"),
    # RFC 2047 §5 forbids encoded-words in parameters, so mimeseal's reading is the RFC's;
    # but the stdlib's modern parser decodes them, and one message must have one meaning.
    "encoded-word": (b'"=?utf-8?q?abc?="', b"abc", b"=?utf-8?q?abc?="),
}


@pytest.mark.parametrize("trick", list(BOUNDARY_TRICKS))
def test_a_boundary_read_differently_by_a_mail_reader_is_never_valid(
    rsa_pki: DevPki, trick: str
) -> None:
    """The boundary parameter is parsed with the legacy (compat32) splitter, which keeps
    comments, spaces and broken RFC 2231 continuations in the value; a standard reader splits
    the same body at other lines and shows the attacker's text as the signed part. A boundary
    that is not one RFC 2045/2046 token must be refused (ambiguous-structure)."""
    parameter, reader_boundary, verifier_boundary = BOUNDARY_TRICKS[trick]
    message = _two_views(rsa_pki, parameter, reader_boundary, verifier_boundary)
    if trick.startswith("rfc2231"):
        message = message.replace(b"boundary=x; ", b"")
    assert b"account 666" in _shown_by_reader(message)  # what the user is shown
    assert not _valid_or_refused(message, rsa_pki.trust)


@pytest.mark.parametrize("form", ["8-bit", "rfc2231-utf-8"])
def test_a_non_ascii_boundary_is_refused_not_replaced_by_question_marks(
    rsa_pki: DevPki, form: str
) -> None:
    """RFC 2046 §5.1.1: boundary characters are ASCII. mimeseal encodes the parameter with
    errors="replace", so "é" matches a literal "?" line, while a reader that decodes the
    message as UTF-8 (SMTPUTF8 mail, RFC 6532) splits at the "é" lines."""
    parameter = '"éx"'.encode() if form == "8-bit" else b"x; boundary*=utf-8''%C3%A9x"
    replaced = b"??x" if form == "8-bit" else b"?x"
    message = _two_views(rsa_pki, parameter, "éx".encode(), replaced)
    message = message.replace(b"boundary=x; ", b"")
    reader = email.message_from_string(message.decode("utf-8"), policy=email.policy.default)
    parts = reader.get_payload()
    assert isinstance(parts, list)
    shown = parts[0]
    assert isinstance(shown, email.message.Message)
    assert "account 666" in str(shown.get_payload())
    assert not _valid_or_refused(message, rsa_pki.trust)


# --- 2. certificates no parser here reads: skipped, never a foreign exception ---------------


def _with_duplicate_extension(cert: x509.Certificate) -> bytes:
    parsed = asn1_x509.Certificate.load(_der(cert))
    tbs = parsed["tbs_certificate"].copy()
    extensions = list(tbs["extensions"])
    tbs["extensions"] = asn1_x509.Extensions([e.copy() for e in [*extensions, extensions[0]]])
    return bytes(
        asn1_x509.Certificate(
            {
                "tbs_certificate": tbs,
                "signature_algorithm": parsed["signature_algorithm"],
                "signature_value": parsed["signature_value"],
            }
        ).dump(force=True)
    )


def _with_version(cert: x509.Certificate, version: int) -> bytes:
    der = _der(cert)
    at = der.index(bytes.fromhex("a003020102"))
    return der[:at] + bytes.fromhex("a0030201") + bytes([version]) + der[at + 5 :]


@pytest.mark.parametrize("damage", ["duplicate-extension", "version-6"])
def test_an_unreadable_certificate_in_the_set_is_skipped_not_a_crash(
    rsa_pki: DevPki, damage: str
) -> None:
    """parsing._certificate catches ValueError and TypeError only; cryptography raises
    x509.DuplicateExtension and x509.InvalidVersion (plain Exception subclasses), which escape
    smime.verify. The contract: a MimesealError or a verdict, and such certificates are
    skipped (the docstring's "unparsable certificates skipped, not fatal")."""
    cert = rsa_pki.signer.certificate
    bad = _with_duplicate_extension(cert) if damage.startswith("dup") else _with_version(cert, 5)
    info = _signer_info(rsa_pki.signer.key, cert, ENTITY)
    message = multipart_signed(OUTER, ENTITY, _signed_data([info], [bad, _der(cert)]))
    try:
        verdict = smime.verify(message, trust=rsa_pki.trust)
    except MimesealError:
        return
    assert "certificates-skipped" in {p.code for p in verdict.all_problems()}


# --- 3. bounded work per message, not per CMS structure ----------------------------------------

MiB = 1 << 20


def _ber_heavy_cms(size: int) -> bytes:
    """A SignedData that parses: its eContent is ``size`` octets of one-octet BER segments
    (X.690 §8.7.3), and it has no SignerInfo, so verify moves on to the next one."""
    segments = tlv(0x04, b"X: y\r\n\r\n") + b"\x04\x01A" * (size // 3)
    econtent = b"\x24\x80" + segments + b"\x00\x00"
    return _signed_data([], [], econtent=econtent, digest_algorithms=())


def _mixed(parts: Sequence[bytes]) -> bytes:
    body = b"".join(
        b"--b\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(part).replace(b"\n", b"\r\n")
        for part in parts
    )
    return (
        OUTER + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + body + b"--b--\r\n"
    )  # fmt: skip


def _seconds(message: bytes, trust: list[x509.Certificate], **options: object) -> float:
    started = time.perf_counter()
    with contextlib.suppress(MimesealError):  # LimitError included: refusing is bounded work
        smime.verify(message, trust=trust, **options)  # type: ignore[arg-type]
    return time.perf_counter() - started


def test_hostile_ber_costs_one_structure_per_message_not_one_per_part(rsa_pki: DevPki) -> None:
    """Each CMS structure may hold max_cms_bytes // 2 elements (1.3-2 s for 1 MiB here), and
    the budget is per structure: a 49 MiB message of 36 such parts took 45 s to verify.
    The element (or CMS byte) budget must be the message's: four structures cost no more
    than about one."""
    one = _seconds(_mixed([_ber_heavy_cms(MiB)]), rsa_pki.trust)
    four = _seconds(_mixed([_ber_heavy_cms(MiB)] * 4), rsa_pki.trust)
    assert four < 2 * one + 0.5, f"one structure {one:.2f} s, four {four:.2f} s"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _lattice() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, list[x509.Certificate]]:
    """Eight levels of four interchangeable CAs and a signer under them: every path search
    examines up to MAX_CANDIDATES issuers (each a signature check) before it gives up."""
    now = datetime.now(timezone.utc)
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(10)]

    def issue(
        subject: str, issuer: str, key: ec.EllipticCurvePrivateKey, signer_key: object, ca: bool
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(_name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.RFC822Name(SENDER)]), critical=False
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        assert isinstance(signer_key, ec.EllipticCurvePrivateKey)
        return builder.sign(signer_key, hashes.SHA256())

    pool = [issue("Level 8", "Level 8", keys[8], keys[8], True)]
    for level in range(7, -1, -1):
        pool += [issue(f"Level {level}", f"Level {level + 1}", keys[level], keys[level + 1], True)]
        pool += [
            issue(f"Level {level}", f"Level {level + 1}", keys[level], keys[level + 1], True)
            for _ in range(3)
        ]
    leaf = issue("Alice", "Level 0", keys[9], keys[0], False)
    return leaf, keys[9], pool


def test_path_searches_are_bounded_per_message_not_per_signer(rsa_pki: DevPki) -> None:
    """max_signers (8) and MAX_CANDIDATES (256) bound one CMS structure; a message may hold
    1,000 of them (max_mime_parts), each with eight SignerInfos naming a signer under a
    lattice of look-alike CAs: ~0.3 s each, about five minutes for a 22 MiB message. The number of
    path searches (or signed entities) per message needs a bound of its own."""
    leaf, key, pool = _lattice()
    info = _signer_info(key, leaf, ENTITY)
    certificates = [_der(leaf)] + [_der(c) for c in pool[:31]]
    opaque = _signed_data([info] * 8, certificates, econtent=tlv(0x04, ENTITY))
    one = _seconds(_mixed([opaque]), rsa_pki.trust)
    many = _seconds(_mixed([opaque] * 24), rsa_pki.trust)
    assert many < 6 * one + 0.5, f"one part {one:.2f} s, 24 parts {many:.2f} s"


@pytest.mark.parametrize(
    "data",
    [
        b"\x30\x88" + b"\xff" * 8 + b"\x00" * 16,  # a length of 2**64 - 1
        b"\x30\x80" * 70 + b"\x00\x00" * 70,  # indefinite nesting past MAX_DEPTH
        b"\x30\x80" + b"\x04\x01A" * 1000,  # no end-of-contents
        b"\x24\x80\x04\x01A\x00\x00",  # a constructed string where the ContentInfo goes
        b"\x30\x84\x00\x00\x00\x05\x06\x03\x2a\x03\x04",  # a non-minimal length, cut short
    ],
)
def test_hostile_ber_is_a_cms_error_quickly(data: bytes) -> None:
    """Handled: huge lengths, deep indefinite nesting and missing EOCs are CmsErrors."""
    started = time.perf_counter()
    with pytest.raises(MimesealError):
        cms.parse_signed_data(data)
    assert time.perf_counter() - started < 0.5


# --- 4. the validation time --------------------------------------------------------------------


def test_a_future_signing_time_is_refused_even_when_judging_at_the_signing_time(
    rsa_pki: DevPki,
) -> None:
    """at="signing-time" skips _signing_time_problems, so a signer may claim a time that has
    not come: a certificate not valid until next week validates today (OpenSSL and gpgsm
    refuse it; NSS, which also judges at the signing time, accepts it). RFC 5652 §11.3 makes
    signing-time the time the signer *performed* the signing: one after now (beyond
    CLOCK_SKEW) is false, whichever time the certificate is judged at."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    later = pki.issue_signer(
        rsa_pki.ca,
        SENDER,
        key_type="ec-p256",
        not_before=now + timedelta(days=7),
        not_after=now + timedelta(days=60),
    )
    der = cms.build_signed_data(
        ENTITY, key=later.key, cert=later.certificate, signing_time=now + timedelta(days=8)
    )
    message = multipart_signed(OUTER, ENTITY, der)
    assert not smime.verify(message, trust=rsa_pki.trust).valid  # judged now: refused
    assert not smime.verify(message, trust=rsa_pki.trust, at="signing-time").valid


@pytest.mark.parametrize("at", [None, "signing-time"])
def test_a_signing_time_without_a_time_zone_is_malformed_not_a_type_error(
    rsa_pki: DevPki, at: str | None
) -> None:
    """RFC 5652 §11.3: GeneralizedTime signing times MUST be in UTC ("Z") with seconds.
    asn1crypto reads "20261204191330" (no zone) as a naive datetime, and mimeseal compares it
    with aware ones: judged now, smime.verify raises TypeError; judged at the signing time,
    the naive time is silently taken as UTC and the verdict is valid. Such a time must be
    "signing-time-malformed" (and so unusable as a validation time)."""
    moment = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S").encode()
    attributes = _attributes(ENTITY)
    attributes[1] = _attribute(SIGNING_TIME, tlv(0x18, moment))
    message = multipart_signed(OUTER, ENTITY, _raw(rsa_pki, attributes=attributes))
    try:
        verdict = smime.verify(message, trust=rsa_pki.trust, at=at)  # type: ignore[arg-type]
    except MimesealError:
        return
    assert verdict.signers[0].signing_time is None or verdict.signers[0].signing_time.tzinfo
    if at == "signing-time":
        assert not verdict.valid


def test_a_generalized_time_before_2050_is_read(rsa_pki: DevPki) -> None:
    """Handled: RFC 5652 §11.3 says senders use UTCTime through 2049; a GeneralizedTime one
    is still a readable claim (OpenSSL and NSS read it too) and is used as it says."""
    moment = datetime.now(timezone.utc).replace(microsecond=0)
    attributes = _attributes(ENTITY)
    attributes[1] = _attribute(SIGNING_TIME, asn1_cms.Time({"generalized_time": moment}).dump())
    message = multipart_signed(OUTER, ENTITY, _raw(rsa_pki, attributes=attributes))
    verdict = smime.verify(message, trust=rsa_pki.trust, at="signing-time")
    assert verdict.valid, verdict.all_problems()
    assert verdict.signers[0].signing_time == moment


# --- 5. algorithm parameters are the ones used (RFC 4055 §3.1, RFC 4056, RFC 5652 §5.4) ------


def _pss(
    hash_name: str = "sha256", mgf_hash: str = "sha256", salt: int = 32, **extra: int
) -> bytes:
    parameters: dict[str, object] = {
        "hash_algorithm": {"algorithm": hash_name},
        "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": mgf_hash}},
        "salt_length": salt,
        **extra,
    }
    return bytes(
        algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": parameters}).dump()
    )


def _pss_signer(mgf_hash: type[hashes.HashAlgorithm], salt: int = 32) -> Signer:
    def sign(key: object, data: bytes) -> bytes:
        assert isinstance(key, rsa.RSAPrivateKey)
        return key.sign(data, padding.PSS(padding.MGF1(mgf_hash()), salt), hashes.SHA256())

    return sign


@needs_openssl
@pytest.mark.parametrize(
    ("declared", "mgf_used"),
    [("sha512", hashes.SHA256), ("sha1", hashes.SHA256)],
    ids=["declared-sha512", "declared-sha1"],
)
def test_pss_mask_generation_hash_is_the_declared_one(
    rsa_pki: DevPki, declared: str, mgf_used: type[hashes.HashAlgorithm]
) -> None:
    """_verify_raw builds MGF1 from hashAlgorithm and ignores maskGenAlgorithm (RFC 4055
    §3.1, RFC 8017 §9.1.2): a signature made with MGF1-SHA-256 verifies under parameters
    that say MGF1-SHA-512 or MGF1-SHA-1. OpenSSL refuses it."""
    der = _raw(rsa_pki, signature_algorithm=_pss(mgf_hash=declared), sign=_pss_signer(mgf_used))
    message = multipart_signed(OUTER, ENTITY, der)
    assert not openssl_accepts(message, rsa_pki.trust).ok
    assert not smime.verify(message, trust=rsa_pki.trust).valid


@needs_openssl
def test_pss_with_a_different_mask_hash_verifies_when_declared(rsa_pki: DevPki) -> None:
    """The other side of the same defect: SHA-256 with MGF1-SHA-512, declared as such, is a
    valid RSASSA-PSS signature (OpenSSL accepts it); mimeseal reports "the signature does not
    match", a tampering verdict for an untampered message. (Refusing the combination as a
    policy, under its own problem code, would be fine.)"""
    der = _raw(
        rsa_pki, signature_algorithm=_pss(mgf_hash="sha512"), sign=_pss_signer(hashes.SHA512)
    )
    message = multipart_signed(OUTER, ENTITY, der)
    assert openssl_accepts(message, rsa_pki.trust).ok
    verdict = smime.verify(message, trust=rsa_pki.trust)
    assert verdict.valid or "signature-invalid" not in _errors(verdict)


@needs_openssl
def test_pss_trailer_field_other_than_one_is_refused(rsa_pki: DevPki) -> None:
    """RFC 4055 §3.1: trailerField MUST be 1 (trailerFieldBC); OpenSSL refuses 2."""
    der = _raw(rsa_pki, signature_algorithm=_pss(trailer_field=2), sign=_pss_signer(hashes.SHA256))
    message = multipart_signed(OUTER, ENTITY, der)
    assert not openssl_accepts(message, rsa_pki.trust).ok
    assert not smime.verify(message, trust=rsa_pki.trust).valid


def _pss_sha512(key: object, data: bytes) -> bytes:
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.sign(data, padding.PSS(padding.MGF1(hashes.SHA512()), 64), hashes.SHA512())


@needs_openssl
@pytest.mark.parametrize("form", ["sha256WithRSAEncryption", "rsassa-pss-sha512"])
def test_the_signature_hash_is_the_signer_infos_digest_algorithm(
    rsa_pki: DevPki, form: str
) -> None:
    """RFC 5652 §5.4: the signed attributes are digested with digestAlgorithm. mimeseal
    takes the hash from the signature algorithm instead (sha256WithRSAEncryption, or the PSS
    hashAlgorithm), so a signature over another hash than digestAlgorithm names is valid to
    mimeseal and refused by OpenSSL. A disagreement between the two must not verify."""
    if form == "sha256WithRSAEncryption":
        digest, micalg, digest_of = SHA512, "sha-512", hashlib.sha512
        algorithm = algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}).dump()
        sign: Signer = _default_sign
    else:
        digest, micalg, digest_of = SHA256, "sha-256", hashlib.sha256
        algorithm, sign = _pss("sha512", "sha512", 64), _pss_sha512
    attributes = _attributes(ENTITY)
    attributes[2] = _attribute(MESSAGE_DIGEST, tlv(0x04, digest_of(ENTITY).digest()))
    der = _raw(
        rsa_pki,
        attributes=attributes,
        digest_algorithm=digest,
        signature_algorithm=algorithm,
        sign=sign,
    )
    message = multipart_signed(OUTER, ENTITY, der, micalg=micalg)
    assert not openssl_accepts(message, rsa_pki.trust).ok
    assert not smime.verify(message, trust=rsa_pki.trust).valid


@needs_openssl
def test_a_countersignature_among_the_signed_attributes_is_refused(rsa_pki: DevPki) -> None:
    """RFC 5652 §11.4: countersignature MUST NOT be a signed attribute. OpenSSL refuses it
    (ossl_cms_si_check_attributes); mimeseal lists it as an unknown attribute (info)."""
    countersignature = _attribute("1.2.840.113549.1.9.6", tlv(0x30, VERSION_1))
    message = multipart_signed(
        OUTER, ENTITY, _raw(rsa_pki, attributes=[*_attributes(ENTITY), countersignature])
    )
    assert not openssl_accepts(message, rsa_pki.trust).ok
    assert not smime.verify(message, trust=rsa_pki.trust).valid


# --- 6. header protection (RFC 9788) ------------------------------------------------------------


def test_an_outer_display_name_that_differs_from_the_signed_from_is_reported(
    rsa_pki: DevPki,
) -> None:
    """protection.py promises that every outer field differing from its signed copy is
    reported, but From is compared by bare address only: an outer "CEO Bob Boss" over a
    signed "Alice" is silent, and readers show the outer display name (RFC 9788 §4.1)."""
    entity = (
        b'Content-Type: text/plain; charset=us-ascii; hp="clear"\r\n'
        b"From: Alice <alice@example.com>\r\n\r\nPay invoice 42 by Friday.\r\n"
    )
    outer = OUTER.replace(b"Alice Example", b"CEO Bob Boss")
    der = cms.build_signed_data(entity, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate)
    verdict = smime.verify(multipart_signed(outer, entity, der), trust=rsa_pki.trust)
    reported = [p for p in verdict.all_problems() if p.code == "outer-header-differs"]
    assert reported, "an outer From display name differing from the signed one is silent"
    assert "From" in reported[0].message


def test_a_malformed_encoded_word_in_an_outer_field_is_not_a_crash(rsa_pki: DevPki) -> None:
    """protection._values suppresses ValueError, LookupError and UnicodeError, but
    email.header.decode_header raises email.errors.HeaderParseError (an Exception, not a
    ValueError) for a base64 encoded-word of bad length (RFC 2047 §4.1). The outer Subject is
    unsigned, so anyone can break verification of any header-protected message this way."""
    entity = (
        b'Content-Type: text/plain; charset=us-ascii; hp="clear"\r\n'
        b"From: alice@example.com\r\nSubject: statement\r\n\r\nPay invoice 42 by Friday.\r\n"
    )
    outer = OUTER.replace(b"Subject: statement", b"Subject: =?utf-8?b?a?=")
    der = cms.build_signed_data(entity, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate)
    try:
        verdict = smime.verify(multipart_signed(outer, entity, der), trust=rsa_pki.trust)
    except MimesealError:
        return
    assert "outer-header-differs" in {p.code for p in verdict.all_problems()}


# --- 7. attacks that are handled ----------------------------------------------------------------


def test_unsorted_signed_attributes_verify_as_received(rsa_pki: DevPki) -> None:
    """Not DER (RFC 5652 §5.4), but OpenSSL verifies the received order too: same verdict."""
    attributes = b"".join(sorted(_attributes(ENTITY), reverse=True))
    key = rsa_pki.signer.key
    assert isinstance(key, rsa.RSAPrivateKey)
    der = _raw(
        rsa_pki,
        attributes=[attributes],
        sign=lambda k, _: key.sign(tlv(0x31, attributes), padding.PKCS1v15(), hashes.SHA256()),
    )
    assert smime.verify(multipart_signed(OUTER, ENTITY, der), trust=rsa_pki.trust).valid


def test_opaque_content_in_nested_constructed_segments_is_joined(rsa_pki: DevPki) -> None:
    """X.690 §8.7.3: BER segments may themselves be constructed; OpenSSL agrees."""
    pieces = [ENTITY[:10], ENTITY[10:20], ENTITY[20:30], ENTITY[30:]]
    nested = (
        b"\x24\x80" + tlv(0x04, pieces[0])
        + b"\x24\x80" + tlv(0x04, pieces[1]) + tlv(0x24, tlv(0x04, pieces[2])) + b"\x00\x00"
        + tlv(0x04, pieces[3]) + b"\x00\x00"
    )  # fmt: skip
    info = _signer_info(rsa_pki.signer.key, rsa_pki.signer.certificate, ENTITY)
    der = _signed_data([info], [_der(rsa_pki.signer.certificate)], econtent=nested)
    verdict = smime.verify(_opaque(der), trust=rsa_pki.trust)
    assert verdict.valid, verdict.all_problems()
    assert verdict.parts[0].covered_octets == len(ENTITY)


def test_a_content_type_attribute_that_names_another_type_is_refused(rsa_pki: DevPki) -> None:
    """RFC 5652 §11.1: content-type must equal eContentType (OpenSSL does not check it)."""
    attributes = _attributes(ENTITY)
    attributes[0] = _attribute(CONTENT_TYPE, OID_SIGNED_DATA)
    message = multipart_signed(OUTER, ENTITY, _raw(rsa_pki, attributes=attributes))
    assert "content-type-mismatch" in _errors(smime.verify(message, trust=rsa_pki.trust))


def test_a_key_identifier_that_names_no_certificate_is_refused(rsa_pki: DevPki) -> None:
    """RFC 5652 §5.3: sid as subjectKeyIdentifier with no such certificate in the set."""
    cert = rsa_pki.signer.certificate
    info = _signer_info(rsa_pki.signer.key, cert, ENTITY, sid=tlv(0x80, b"\x01" * 20))
    der = _signed_data([info], [_der(rsa_pki.signer.certificate)])
    verdict = smime.verify(multipart_signed(OUTER, ENTITY, der), trust=rsa_pki.trust)
    assert "signer-certificate-missing" in _errors(verdict)


@pytest.mark.parametrize("twin_first", [True, False])
def test_a_twin_certificate_with_the_same_issuer_and_serial_never_verifies(
    rsa_pki: DevPki, twin_first: bool
) -> None:
    """Two certificates with Alice's issuer and serial, the twin holding the attacker's key:
    whichever is picked, the one whose key checks the signature is the one whose chain is
    validated (the twin's is not the CA's)."""
    real = rsa_pki.signer.certificate
    attacker = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.issuer)
        .public_key(attacker.public_key())
        .serial_number(real.serial_number)
        .not_valid_before(real.not_valid_before_utc)
        .not_valid_after(real.not_valid_after_utc)
    )
    for extension in real.extensions:
        if not isinstance(extension.value, x509.SubjectKeyIdentifier):
            builder = builder.add_extension(extension.value, extension.critical)
    twin = builder.sign(attacker, hashes.SHA256())
    certificates = [_der(twin), _der(real)] if twin_first else [_der(real), _der(twin)]
    der = _signed_data([_signer_info(attacker, twin, ENTITY)], certificates)
    verdict = smime.verify(multipart_signed(OUTER, ENTITY, der), trust=rsa_pki.trust)
    assert not verdict.valid


def test_a_signing_certificate_v2_naming_another_certificate_is_refused(rsa_pki: DevPki) -> None:
    """RFC 5035 §3: the first ESSCertIDv2 names the signer's certificate (OpenSSL 3 does not
    check this; mimeseal does)."""
    other = pki.issue_signer(rsa_pki.ca, SENDER, key_type="ec-p256").certificate
    cert_id = tlv(0x30, tlv(0x04, hashlib.sha256(_der(other)).digest()))
    attributes = [
        *_attributes(ENTITY),
        _attribute(cms.OID_SIGNING_CERTIFICATE_V2, tlv(0x30, tlv(0x30, cert_id))),
    ]
    message = multipart_signed(OUTER, ENTITY, _raw(rsa_pki, attributes=attributes))
    assert "signing-certificate-mismatch" in _errors(smime.verify(message, trust=rsa_pki.trust))


def test_an_algorithm_protection_mismatch_is_refused(rsa_pki: DevPki) -> None:
    """RFC 6211 §3: the protected identifiers must be the SignerInfo's."""
    protection = tlv(0x30, SHA512, b"\xa1" + RSA_PKCS1[1:])
    attributes = [*_attributes(ENTITY), _attribute("1.2.840.113549.1.9.52", protection)]
    message = multipart_signed(OUTER, ENTITY, _raw(rsa_pki, attributes=attributes))
    assert "algorithm-protection-mismatch" in _errors(smime.verify(message, trust=rsa_pki.trust))


@pytest.mark.parametrize("form", ["trailing-octet", "padded-integers"])
def test_a_non_der_ecdsa_signature_is_refused(pkis: dict[str, DevPki], form: str) -> None:
    """Signature malleability: trailing octets or BER-padded INTEGERs (OpenSSL refuses too)."""
    dev = pkis["ec-p256"]

    def sign(key: object, data: bytes) -> bytes:
        good = _default_sign(key, data)
        if form == "trailing-octet":
            return good + b"\x00"
        r, s = decode_dss_signature(good)
        return tlv(0x30, tlv(0x02, r.to_bytes(34, "big")), tlv(0x02, s.to_bytes(34, "big")))

    message = multipart_signed(OUTER, ENTITY, _raw(dev, sign=sign))
    assert "signature-invalid" in _errors(smime.verify(message, trust=dev.trust))


# --- 8. mutated signatures: a verdict or a MimesealError, quickly ------------------------------


def _elements(data: bytes) -> list[ber.Element]:
    found, stack = [], [ber.parse(data, max_elements=100_000)]
    while stack:
        element = stack.pop()
        found.append(element)
        stack.extend(element.children)
    return found


def _mutate(data: bytes, element: ber.Element, how: int, value: int) -> bytes:
    start, end = element.start, element.end
    if how == 0 and element.constructed:  # definite to indefinite length
        inner = data[element.content_start : element.content_end]
        return data[:start] + bytes((element.tag, 0x80)) + inner + b"\x00\x00" + data[end:]
    if how == 1 and element.tag == ber.OCTET_STRING:  # one-octet segments
        inner = data[element.content_start : element.content_end]
        segments = b"".join(tlv(0x04, inner[i : i + 1]) for i in range(len(inner)))
        return data[:start] + b"\x24\x80" + segments + b"\x00\x00" + data[end:]
    if how == 2:  # the first length octet
        return data[: start + 1] + bytes((value,)) + data[start + 2 :]
    if how == 3:  # the identifier octet
        return data[:start] + bytes((value,)) + data[start + 1 :]
    if how == 4:  # the element twice
        return data[:end] + data[start:end] + data[end:]
    if how == 5:  # the element dropped
        return data[:start] + data[end:]
    return data[: start + value % max(1, end - start)]  # cut inside the element


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.data())
def test_mutated_signatures_give_a_verdict_or_a_mimeseal_error(
    pkis: dict[str, DevPki], data: st.DataObject
) -> None:
    """Structure-aware mutations of real signatures (outside the certificate set, whose
    parser failures are pinned above) never raise anything else and never take 2 s."""
    dev = pkis[data.draw(st.sampled_from(sorted(pkis)))]
    opaque = data.draw(st.booleans())
    der = _SEEDS.setdefault(
        (id(dev), opaque),
        cms.build_signed_data(
            ENTITY, key=dev.signer.key, cert=dev.signer.certificate, detached=not opaque
        ),
    )
    for _ in range(data.draw(st.integers(1, 3))):
        try:
            candidates = [e for e in _elements(der) if not _in_certificates(der, e)]
        except MimesealError:
            break
        element = data.draw(st.sampled_from(candidates))
        der = _mutate(der, element, data.draw(st.integers(0, 6)), data.draw(st.integers(0, 255)))
    message = _opaque(der) if opaque else multipart_signed(OUTER, ENTITY, der)
    started = time.perf_counter()
    with contextlib.suppress(MimesealError):
        smime.verify(message, trust=dev.trust)
    assert time.perf_counter() - started < 2


_SEEDS: dict[tuple[int, bool], bytes] = {}


def _in_certificates(der: bytes, element: ber.Element) -> bool:
    try:
        signed = ber.parse(der, max_elements=100_000).children[1].children[0]
    except (MimesealError, IndexError):
        return False
    sets = [c for c in signed.children if c.tag == 0xA0]
    return any(s.start <= element.start < s.end for s in sets)
