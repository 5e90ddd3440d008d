"""mimeseal.trust: RFC 5280 §6 path validation with the S/MIME profile.

Every synthetic case is also run through ``openssl verify -purpose smimesign``; where the two
disagree on purpose, the case says so and why (``OPENSSL_DIFFERS``). The NIST PKITS cases
(fixtures/pkits/) that do not need revocation or policy processing run at the end.
"""

from __future__ import annotations

import ipaddress
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from conftest import needs_openssl
from mimeseal import trust
from mimeseal.errors import VerificationInputError
from mimeseal.limits import Limits
from mimeseal.trust import names, signatures

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
EMAIL = ExtendedKeyUsageOID.EMAIL_PROTECTION
ANY_EKU = ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH
SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
PKITS = Path(__file__).resolve().parent.parent / "fixtures" / "pkits"


def _certificate(
    name: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey]
) -> x509.Certificate:
    issuer_name, issuer_key = issuer
    ca = name.startswith("CA")
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
        .add_extension(
            x509.KeyUsage(not ca, not ca, False, False, False, ca, ca, False, False), critical=True
        )
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(name)]), False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
    return builder.sign(issuer_key, hashes.SHA256())


def _chain(intermediates: int) -> tuple[x509.Certificate, list[x509.Certificate], x509.Certificate]:
    """(leaf, intermediates, root): a path of ``intermediates + 2`` certificates."""
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(intermediates + 2)]
    root = _certificate("CA 0", keys[0], ("CA 0", keys[0]))
    middle = [
        _certificate(f"CA {i}", keys[i], (f"CA {i - 1}", keys[i - 1]))
        for i in range(1, intermediates + 1)
    ]
    leaf = _certificate("alice@example.com", keys[-1], (f"CA {intermediates}", keys[-2]))
    return leaf, middle, root


def test_a_path_within_the_limit_validates() -> None:
    leaf, middle, root = _chain(3)
    result = trust.validate_chain(leaf, middle, [root], NOW, limits=Limits(max_chain_length=5))
    assert result.problems == ()
    assert result.chain is not None
    assert len(result.chain) == 5


def test_a_path_longer_than_the_limit_is_the_signers_problem() -> None:
    leaf, middle, root = _chain(3)
    result = trust.validate_chain(leaf, middle, [root], NOW, limits=Limits(max_chain_length=4))
    assert result.chain is None
    assert [p.code for p in result.problems] == ["chain-too-long"]
    assert "max_chain_length" in result.problems[0].message


def test_the_default_allows_eight_intermediates_as_before() -> None:
    leaf, middle, root = _chain(8)
    assert trust.validate_chain(leaf, middle, [root], NOW).chain is not None
    leaf, middle, root = _chain(9)
    assert [p.code for p in trust.validate_chain(leaf, middle, [root], NOW).problems] == [
        "chain-too-long"
    ]


def test_an_unrelated_anchor_is_untrusted_not_too_long() -> None:
    leaf, middle, _ = _chain(1)
    _, _, other_root = _chain(0)
    result = trust.validate_chain(leaf, middle, [other_root], NOW)
    assert [p.code for p in result.problems] == ["untrusted-chain"]


def test_no_anchors_is_an_input_error() -> None:
    leaf, middle, _ = _chain(0)
    with pytest.raises(VerificationInputError, match="trust anchors"):
        trust.validate_chain(leaf, middle, [], NOW)


# --- a small certificate factory ------------------------------------------------------------

Key = Any  # a private key of any type cryptography can sign certificates with


@dataclass(frozen=True)
class Authority:
    """A certificate with the key it certifies (to issue with, if it is a CA)."""

    cert: x509.Certificate
    key: Key


def _name(cn: str, *extra: tuple[ObjectIdentifier, str]) -> x509.Name:
    attributes = [x509.NameAttribute(oid, value) for oid, value in extra]
    return x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ec() -> Key:
    return ec.generate_private_key(ec.SECP256R1())


def issue(
    subject: str | x509.Name,
    issuer: Authority | None = None,
    *,
    key: Key = None,
    ca: bool = True,
    basic_constraints: str | None = "critical",
    path_length: int | None = None,
    key_usage: x509.KeyUsage | str | None = "default",
    eku: Sequence[ObjectIdentifier] | None = None,
    san: Sequence[x509.GeneralName] | None = None,
    name_constraints: x509.NameConstraints | None = None,
    nc_critical: bool = True,
    not_before: datetime = NOW - timedelta(days=1),
    not_after: datetime = NOW + timedelta(days=30),
    key_ids: bool = True,
    extra: Sequence[tuple[x509.ExtensionType, bool]] = (),
    issuer_name: x509.Name | None = None,
    pss: bool = False,
) -> Authority:
    """A certificate; self-signed when ``issuer`` is None. Defaults: an S/MIME CA."""
    key = key if key is not None else _ec()
    name = subject if isinstance(subject, x509.Name) else _name(subject)
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or (issuer.cert.subject if issuer else name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if basic_constraints is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=ca, path_length=path_length),
            critical=basic_constraints == "critical",
        )
    if key_usage == "default":
        builder = builder.add_extension(
            x509.KeyUsage(not ca, False, False, False, False, ca, ca, False, False), critical=True
        )
    elif isinstance(key_usage, x509.KeyUsage):
        builder = builder.add_extension(key_usage, critical=True)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(san)), critical=False)
    if name_constraints is not None:
        builder = builder.add_extension(name_constraints, critical=nc_critical)
    if key_ids:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
            critical=False,
        )
    for extension, critical in extra:
        builder = builder.add_extension(extension, critical=critical)
    digest = None if isinstance(signer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    rsa_padding = padding.PSS(padding.MGF1(hashes.SHA256()), 32) if pss else None
    return Authority(builder.sign(signer_key, digest, rsa_padding=rsa_padding), key)


def signer(
    issuer: Authority | None,
    address: str = "alice@example.com",
    *,
    subject: x509.Name | None = None,
    eku: Sequence[ObjectIdentifier] | None = (EMAIL,),
    **options: Any,
) -> Authority:
    """An S/MIME signer certificate for ``address`` (in subjectAltName unless san= says)."""
    options.setdefault("san", [x509.RFC822Name(address)])
    options.setdefault("basic_constraints", None)
    return issue(subject or _name("Alice"), issuer, ca=False, eku=eku, **options)


def resign(
    cert: x509.Certificate, key: rsa.RSAPrivateKey, algorithm: str, *, v1: bool = False
) -> x509.Certificate:
    """``cert`` signed again with an RSA ``algorithm`` cryptography refuses to sign with
    (sha1_rsa, md5_rsa), optionally as a version 1 certificate without extensions."""
    parsed = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    tbs = parsed["tbs_certificate"]
    if v1:
        tbs["version"] = "v1"
        tbs["extensions"] = None
    tbs["signature"] = asn1_x509.SignedDigestAlgorithm({"algorithm": algorithm})
    parsed["signature_algorithm"] = asn1_x509.SignedDigestAlgorithm({"algorithm": algorithm})
    weak = {"sha1_rsa": hashes.SHA1(), "md5_rsa": hashes.MD5()}  # noqa: S303 - on purpose
    digest: dict[str, hashes.HashAlgorithm] = {**weak, "sha256_rsa": hashes.SHA256()}
    parsed["signature_value"] = key.sign(
        tbs.dump(force=True), padding.PKCS1v15(), digest[algorithm]
    )
    return x509.load_der_x509_certificate(parsed.dump(force=True))


# --- cases: PKITS-style, each also run through OpenSSL --------------------------------------

KU_CA = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
KU_NO_CERT_SIGN = x509.KeyUsage(True, False, False, False, False, False, True, False, False)
PRIVATE_OID = ObjectIdentifier("1.3.6.1.4.1.55555.1")


@dataclass(frozen=True)
class Scenario:
    leaf: x509.Certificate
    intermediates: list[x509.Certificate]
    anchors: list[x509.Certificate]


@dataclass(frozen=True)
class Case:
    """``valid`` is mimeseal's verdict; ``openssl`` OpenSSL 3.0's where it differs, and why."""

    build: Callable[[], Scenario]
    valid: bool
    openssl: bool | None = None
    why: str = ""
    warnings: tuple[str, ...] = ()
    says: str = ""


CASES: dict[str, Case] = {}
_BUILT: dict[str, Scenario] = {}


def case(valid: bool, **options: Any) -> Callable[[Callable[[], Scenario]], Callable[[], Scenario]]:
    def register(build: Callable[[], Scenario]) -> Callable[[], Scenario]:
        CASES[build.__name__] = Case(build, valid, **options)
        return build

    return register


def scenario(name: str) -> Scenario:
    if name not in _BUILT:
        _BUILT[name] = CASES[name].build()
    return _BUILT[name]


def two_level(
    inter_options: dict[str, Any] | None = None,
    leaf_options: dict[str, Any] | None = None,
    root_options: dict[str, Any] | None = None,
) -> Scenario:
    """Root CA → Issuing CA → Alice, with options for each."""
    root = issue("Root CA", **(root_options or {}))
    inter = issue("Issuing CA", root, **(inter_options or {}))
    leaf = signer(inter, **(leaf_options or {}))
    return Scenario(leaf.cert, [inter.cert], [root.cert])


@case(True)
def valid_path() -> Scenario:
    return two_level({"eku": [EMAIL]})


@case(True)
def no_key_identifiers_and_no_san() -> Scenario:
    """Legacy: no AKI or SKI anywhere, the address only in the subject's emailAddress."""
    subject = _name("Alice", (NameOID.EMAIL_ADDRESS, "alice@example.com"))
    return two_level(
        {"key_ids": False},
        {"key_ids": False, "san": None, "subject": subject},
        {"key_ids": False},
    )


@case(False, says="expired")
def expired_intermediate() -> Scenario:
    return two_level({"not_before": NOW - timedelta(days=60), "not_after": NOW - timedelta(days=1)})


@case(False, says="not valid before")
def not_yet_valid_intermediate() -> Scenario:
    return two_level({"not_before": NOW + timedelta(days=1), "not_after": NOW + timedelta(days=9)})


@case(False, says="the trust anchor")
def expired_anchor() -> Scenario:
    return two_level(
        root_options={
            "not_before": NOW - timedelta(days=60),
            "not_after": NOW - timedelta(seconds=1),
        }
    )


@case(False, says="does not verify")
def wrong_signature() -> Scenario:
    root = issue("Root CA")
    inter = issue("Issuing CA", root)
    leaf = signer(Authority(inter.cert, _ec()))  # names the CA, signed by another key
    return Scenario(leaf.cert, [inter.cert], [root.cert])


@case(False, says="no basicConstraints")
def intermediate_without_basic_constraints() -> Scenario:
    return two_level({"basic_constraints": None})


@case(False, says="cA=FALSE")
def intermediate_ca_false() -> Scenario:
    return two_level({"ca": False, "key_usage": KU_CA})


@case(True, warnings=("ca-basic-constraints-not-critical",))
def basic_constraints_not_critical() -> Scenario:
    return two_level({"basic_constraints": "noncritical"})


@case(False, says="pathLenConstraint")
def path_length_zero_violated() -> Scenario:
    root = issue("Root CA", path_length=0)
    inter = issue("Issuing CA", root)
    return Scenario(signer(inter).cert, [inter.cert], [root.cert])


@case(True)
def path_length_satisfied() -> Scenario:
    root = issue("Root CA", path_length=2)
    inter = issue("Policy CA", root, path_length=1)
    issuing = issue("Issuing CA", inter, path_length=0)
    leaf = signer(issuing)
    return Scenario(leaf.cert, [issuing.cert, inter.cert], [root.cert])


@case(False, says="pathLenConstraint")
def path_length_one_violated_two_levels_down() -> Scenario:
    root = issue("Root CA")
    inter = issue("Policy CA", root, path_length=0)
    issuing = issue("Issuing CA", inter)
    return Scenario(signer(issuing).cert, [issuing.cert, inter.cert], [root.cert])


@case(False, says="keyCertSign")
def key_usage_without_cert_sign() -> Scenario:
    return two_level({"key_usage": KU_NO_CERT_SIGN})


@case(True)
def intermediate_eku_email_protection() -> Scenario:
    return two_level({"eku": [EMAIL]})


@case(
    True,
    openssl=False,
    why="OpenSSL's smimesign purpose wants the S/MIME EKU bit itself and does not count "
    "anyExtendedKeyUsage (X509_V_ERR_INVALID_PURPOSE); RFC 5280 §4.2.1.12 lets anyEKU "
    "stand for every purpose, and NSS accepts it",
)
def intermediate_eku_any() -> Scenario:
    return two_level({"eku": [ANY_EKU]})


@case(False, says="emailProtection")
def intermediate_eku_client_auth_only() -> Scenario:
    return two_level({"eku": [CLIENT_AUTH]})


@case(False, says="emailProtection")
def intermediate_eku_server_auth_only() -> Scenario:
    return two_level({"eku": [SERVER_AUTH]})


@case(True)
def intermediate_eku_client_auth_and_email() -> Scenario:
    return two_level({"eku": [CLIENT_AUTH, EMAIL]})


@case(False, says="emailProtection")
def anchor_eku_server_auth_only() -> Scenario:
    return two_level(root_options={"eku": [SERVER_AUTH]})


@case(
    False,
    says="no basicConstraints",
    openssl=True,
    why="OpenSSL tolerates a version 3 root without basicConstraints when its keyUsage "
    "allows keyCertSign (check_ca() returns 4); RFC 5280 §4.2.1.9 has every CA "
    "certificate assert cA, and mimeseal holds the anchor to that (only version 1 "
    "anchors are exempt)",
)
def anchor_without_basic_constraints() -> Scenario:
    return two_level(root_options={"basic_constraints": None})


@case(True, warnings=("ca-basic-constraints-not-critical",))
def anchor_basic_constraints_not_critical() -> Scenario:
    return two_level(root_options={"basic_constraints": "noncritical"})


@case(False, says="emailProtection")
def signer_eku_client_auth_only() -> Scenario:
    return two_level(leaf_options={"eku": [CLIENT_AUTH]})


@case(
    True,
    openssl=False,
    why="OpenSSL's smimesign purpose does not count anyExtendedKeyUsage on the signer "
    "either; RFC 5280 §4.2.1.12 and RFC 8550 §4.4.4 do",
)
def signer_eku_any() -> Scenario:
    return two_level(leaf_options={"eku": [ANY_EKU]})


@case(False, says=PRIVATE_OID.dotted_string)
def unknown_critical_extension_on_intermediate() -> Scenario:
    extension = x509.UnrecognizedExtension(PRIVATE_OID, b"\x05\x00")
    return two_level({"extra": [(extension, True)]})


@case(False, says=PRIVATE_OID.dotted_string)
def unknown_critical_extension_on_signer() -> Scenario:
    extension = x509.UnrecognizedExtension(PRIVATE_OID, b"\x05\x00")
    return two_level(leaf_options={"extra": [(extension, True)]})


@case(True)
def unknown_extension_not_critical() -> Scenario:
    extension = x509.UnrecognizedExtension(PRIVATE_OID, b"\x05\x00")
    return two_level({"extra": [(extension, False)]}, {"extra": [(extension, False)]})


@case(True)
def critical_certificate_policies() -> Scenario:
    policies = x509.CertificatePolicies([x509.PolicyInformation(PRIVATE_OID, None)])
    return two_level({"extra": [(policies, True)]})


def constrained(
    permitted: Sequence[x509.GeneralName] | None = None,
    excluded: Sequence[x509.GeneralName] | None = None,
    address: str = "alice@example.com",
    **leaf_options: Any,
) -> Scenario:
    nc = x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=excluded)
    return two_level({"name_constraints": nc}, {"address": address, **leaf_options})


def mail(value: str) -> x509.RFC822Name:
    return x509.RFC822Name(value)


@case(True)
def nc_mailbox_permitted() -> Scenario:
    return constrained([mail("alice@example.com")])


@case(False, says="outside the permitted subtrees")
def nc_mailbox_other_than_permitted() -> Scenario:
    return constrained([mail("bob@example.com")])


@case(False, says="outside the permitted subtrees")
def nc_mailbox_local_part_is_case_sensitive() -> Scenario:
    return constrained([mail("Alice@example.com")])


@case(True)
def nc_mailbox_domain_is_case_insensitive() -> Scenario:
    return constrained([mail("alice@EXAMPLE.com")], address="alice@example.COM")


@case(True)
def nc_host_permitted() -> Scenario:
    return constrained([mail("example.com")], address="alice@Example.COM")


@case(False, says="outside the permitted subtrees")
def nc_host_does_not_cover_subdomains() -> Scenario:
    return constrained([mail("example.com")], address="alice@mail.example.com")


@case(True)
def nc_domain_permits_subdomains() -> Scenario:
    return constrained([mail(".example.com")], address="alice@mail.example.com")


@case(False, says="outside the permitted subtrees")
def nc_domain_does_not_cover_the_host_itself() -> Scenario:
    return constrained([mail(".example.com")], address="alice@example.com")


@case(False, says="excluded subtree")
def nc_host_excluded() -> Scenario:
    return constrained(excluded=[mail("example.com")])


@case(False, says="excluded subtree")
def nc_mailbox_excluded() -> Scenario:
    return constrained(excluded=[mail("alice@example.com")])


@case(True)
def nc_other_host_excluded() -> Scenario:
    return constrained(excluded=[mail("evil.example")])


@case(True)
def nc_subject_email_address_permitted() -> Scenario:
    subject = _name("Alice", (NameOID.EMAIL_ADDRESS, "alice@example.com"))
    return constrained([mail("example.com")], san=None, subject=subject)


@case(False, says="rfc822Name 'alice@evil.example'")
def nc_subject_email_address_outside() -> Scenario:
    subject = _name("Alice", (NameOID.EMAIL_ADDRESS, "alice@evil.example"))
    return constrained([mail("example.com")], san=None, subject=subject)


@case(False, says="mallory@evil.example")
def nc_subject_email_address_beside_a_permitted_san() -> Scenario:
    subject = _name("Alice", (NameOID.EMAIL_ADDRESS, "mallory@evil.example"))
    return constrained([mail("example.com")], subject=subject)


@case(True)
def nc_dns_permitted() -> Scenario:
    san = [mail("alice@example.com"), x509.DNSName("host.example.com")]
    return constrained([x509.DNSName("example.com")], san=san)


@case(False, says="dNSName 'host.evil.example'")
def nc_dns_outside() -> Scenario:
    san = [mail("alice@example.com"), x509.DNSName("host.evil.example")]
    return constrained([x509.DNSName("example.com")], san=san)


ORG = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example")])


@case(True)
def nc_directory_name_permitted() -> Scenario:
    subject = _name("Alice", (NameOID.ORGANIZATION_NAME, "Example"))
    return constrained([x509.DirectoryName(ORG)], subject=subject)


@case(False, says="directoryName")
def nc_directory_name_outside() -> Scenario:
    subject = _name("Alice", (NameOID.ORGANIZATION_NAME, "Other"))
    return constrained([x509.DirectoryName(ORG)], subject=subject)


@case(False, says="excluded subtree")
def nc_directory_name_excluded() -> Scenario:
    subject = _name("Alice", (NameOID.ORGANIZATION_NAME, "Example"))
    return constrained(excluded=[x509.DirectoryName(ORG)], subject=subject)


@case(False, says="name constraints")
def nc_on_the_anchor() -> Scenario:
    nc = x509.NameConstraints(permitted_subtrees=[mail("example.org")], excluded_subtrees=None)
    return two_level(root_options={"name_constraints": nc})


OTHER = x509.OtherName(PRIVATE_OID, b"\x0c\x05alice")


@case(False, says="cannot be checked")
def nc_unsupported_type_applies_to_a_present_name() -> Scenario:
    return constrained([OTHER], san=[mail("alice@example.com"), OTHER])


@case(True)
def nc_unsupported_type_with_no_name_of_that_type() -> Scenario:
    return constrained([OTHER, mail("example.com")])


@case(True)
def self_signed_signer_trusted_directly() -> Scenario:
    leaf = signer(
        None, key_usage=x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    )
    return Scenario(leaf.cert, [], [leaf.cert])


@case(False, says="no certificate given is the issuer")
def self_signed_signer_not_trusted() -> Scenario:
    leaf = signer(None)
    return Scenario(leaf.cert, [], [issue("Root CA").cert])


def _rsa(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, bits)


@case(True)
def version_1_anchor() -> Scenario:
    key = _rsa()
    root = Authority(resign(issue("Root CA", key=key).cert, key, "sha256_rsa", v1=True), key)
    inter = issue("Issuing CA", root)
    return Scenario(signer(inter).cert, [inter.cert], [root.cert])


@case(False, says="version 1")
def version_1_intermediate() -> Scenario:
    root_key = _rsa()
    root = issue("Root CA", key=root_key)
    inter_key = _rsa()
    inter_cert = resign(
        issue("Issuing CA", root, key=inter_key).cert, root_key, "sha256_rsa", v1=True
    )
    leaf = signer(Authority(inter_cert, inter_key))
    return Scenario(leaf.cert, [inter_cert], [root.cert])


@case(True, warnings=("weak-certificate-signature",))
def sha1_signed_intermediate() -> Scenario:
    root_key = _rsa()
    root = issue("Root CA", key=root_key)
    inter = issue("Issuing CA", root)
    inter_cert = resign(inter.cert, root_key, "sha1_rsa")
    return Scenario(signer(inter).cert, [inter_cert], [root.cert])


@case(
    False,
    says="md5WithRSAEncryption",
    openssl=True,
    why="openssl verify sets no authentication security level, so OpenSSL 3.0 accepts an "
    "MD5 certificate signature (it refuses it with -auth_level 1); RFC 6151 says MD5 must "
    "not be trusted for signatures",
)
def md5_signed_intermediate() -> Scenario:
    root_key = _rsa()
    root = issue("Root CA", key=root_key)
    inter = issue("Issuing CA", root)
    inter_cert = resign(inter.cert, root_key, "md5_rsa")
    return Scenario(signer(inter).cert, [inter_cert], [root.cert])


@case(True, warnings=("weak-ca-key",))
def rsa_1024_intermediate() -> Scenario:
    return two_level({"key": _rsa(1024)})


def one_algorithm(key: Callable[[], Key], *, pss: bool = False) -> Scenario:
    root = issue("Root CA", key=key(), pss=pss)
    inter = issue("Issuing CA", root, key=key(), pss=pss)
    return Scenario(signer(inter, pss=pss).cert, [inter.cert], [root.cert])


@case(True)
def rsa_pkcs1_v15_chain() -> Scenario:
    return one_algorithm(_rsa)


@case(True)
def rsa_pss_chain() -> Scenario:
    return one_algorithm(_rsa, pss=True)


@case(True)
def ed25519_chain() -> Scenario:
    return one_algorithm(ed25519.Ed25519PrivateKey.generate)


@case(False, says="lead back into the path")
def cross_signed_loop_without_anchor() -> Scenario:
    key_a, key_b = _ec(), _ec()
    a_by_b = issue("CA A", Authority(issue("CA B", key=key_b).cert, key_b), key=key_a)
    b_by_a = issue("CA B", Authority(a_by_b.cert, key_a), key=key_b)
    leaf = signer(a_by_b)
    return Scenario(leaf.cert, [a_by_b.cert, b_by_a.cert], [issue("Other Root").cert])


@case(True)
def cross_signed_loop_beside_a_good_path() -> Scenario:
    root, key_a, key_b = issue("Root CA"), _ec(), _ec()
    a_by_b = issue("CA A", Authority(issue("CA B", key=key_b).cert, key_b), key=key_a)
    b_by_a = issue("CA B", Authority(a_by_b.cert, key_a), key=key_b)
    a_by_root = issue("CA A", root, key=key_a)
    leaf = signer(a_by_b)
    return Scenario(leaf.cert, [a_by_b.cert, b_by_a.cert, a_by_root.cert], [root.cert])


def decoys(key_ids: bool) -> Scenario:
    root = issue("Root CA", key_ids=key_ids)
    fakes = [issue("Issuing CA", root, key_ids=key_ids).cert for _ in range(31)]
    inter = issue("Issuing CA", root, key_ids=key_ids)
    return Scenario(signer(inter, key_ids=key_ids).cert, [*fakes, inter.cert], [root.cert])


@case(True)
def same_name_decoys_with_key_identifiers() -> Scenario:
    return decoys(key_ids=True)


@case(
    True,
    openssl=False,
    why="without key identifiers OpenSSL takes the first untrusted certificate with the "
    "issuer's name and does not backtrack when its signature fails (X509_V_ERR_CERT_"
    "SIGNATURE_FAILURE); RFC 4158 path building tries the other candidates",
)
def same_name_decoys_without_key_identifiers() -> Scenario:
    return decoys(key_ids=False)


@case(
    True,
    openssl=False,
    why="OpenSSL builds one chain through the first matching untrusted issuer and, when it "
    "ends at an unknown root, only looks for alternatives among trusted certificates; "
    "mimeseal backtracks to the second cross-certificate (RFC 4158 §2.4)",
)
def backtracks_past_a_dead_end() -> Scenario:
    root, key = issue("Root CA"), _ec()
    elsewhere = issue("Other Root")
    dead_end = issue("Issuing CA", elsewhere, key=key)
    good = issue("Issuing CA", root, key=key)
    return Scenario(signer(good).cert, [dead_end.cert, good.cert], [root.cert])


@case(True)
def backtracks_past_an_expired_candidate() -> Scenario:
    root, key = issue("Root CA"), _ec()
    old = issue(
        "Issuing CA",
        root,
        key=key,
        not_before=NOW - timedelta(days=90),
        not_after=NOW - timedelta(days=30),
    )
    good = issue("Issuing CA", root, key=key)
    return Scenario(signer(good).cert, [old.cert, good.cert], [root.cert])


@case(
    True,
    openssl=False,
    why="RFC 5280 §6.1.1 (d) takes any trusted certificate as an anchor; OpenSSL wants a "
    "self-signed root unless -partial_chain is given",
)
def intermediate_trusted_as_anchor() -> Scenario:
    chain = two_level()
    return Scenario(chain.leaf, [], chain.intermediates)


def _openssl(tmp_path: Path, built: Scenario) -> tuple[bool, str]:
    def write(name: str, certs: Sequence[x509.Certificate]) -> str:
        path = tmp_path / name
        path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
        return str(path)

    command = ["openssl", "verify", "-purpose", "smimesign", "-attime", str(int(NOW.timestamp()))]
    command += ["-CAfile", write("anchors.pem", built.anchors)]
    if built.intermediates:
        command += ["-untrusted", write("untrusted.pem", built.intermediates)]
    command.append(write("leaf.pem", [built.leaf]))
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", list(CASES))
def test_case(name: str) -> None:
    expected, built = CASES[name], scenario(name)
    result = trust.validate_chain(built.leaf, built.intermediates, built.anchors, NOW)
    errors = [p for p in result.problems if p.is_error]
    if expected.valid:
        assert result.chain is not None, errors
        assert result.chain[0] == built.leaf
        assert result.chain[-1] in built.anchors
        assert not errors
    else:
        assert result.chain is None
        assert [p.code for p in errors] == ["untrusted-chain"]
        assert expected.says in errors[0].message
    assert tuple(p.code for p in result.problems if not p.is_error) == expected.warnings


@needs_openssl
@pytest.mark.parametrize("name", list(CASES))
def test_openssl_agrees_unless_by_design(name: str, tmp_path: Path) -> None:
    expected, built = CASES[name], scenario(name)
    ok, output = _openssl(tmp_path, built)
    wanted = expected.valid if expected.openssl is None else expected.openssl
    assert ok == wanted, f"{name}: {expected.why or 'OpenSSL should agree'}\n{output}"


# --- NIST PKITS ---------------------------------------------------------------------------
# Sections 4.1 (signatures), 4.2 (validity), 4.3 (name chaining), 4.6 (basic constraints),
# 4.7 (key usage, without the CRL-signing cases), 4.13 (name constraints) and 4.16 (private
# extensions) of the NIST Public Key Interoperability Test Suite, with the expected results
# of its test descriptions. Left out: 4.1.5 (DSA parameter inheritance, which cryptography
# cannot load), 4.4 and 4.7.4-5 (CRLs: revocation is not checked), 4.5 (key rollover with
# CRL signing keys) and 4.8-4.12 (policy processing, not implemented). See fixtures/pkits/.

PKITS_TIME = datetime(2020, 1, 1, tzinfo=timezone.utc)  # inside the suite's 2010-2030 validity

_DN1 = "nameConstraintsDN1CACert"
_DN3 = "nameConstraintsDN3CACert"
_P6_00 = [
    "pathLenConstraint6subsubCA00Cert",
    "pathLenConstraint6subCA0Cert",
    "pathLenConstraint6CACert",
]
_P6_11 = [
    "pathLenConstraint6subsubsubCA11XCert",
    "pathLenConstraint6subsubCA11Cert",
    "pathLenConstraint6subCA1Cert",
    "pathLenConstraint6CACert",
]
_P6_41 = [
    "pathLenConstraint6subsubsubCA41XCert",
    "pathLenConstraint6subsubCA41Cert",
    "pathLenConstraint6subCA4Cert",
    "pathLenConstraint6CACert",
]
PKITS_CASES = [
    ("4.1.1", "ValidCertificatePathTest1EE", ["GoodCACert"], True),
    ("4.1.2", "InvalidCASignatureTest2EE", ["BadSignedCACert"], False),
    ("4.1.3", "InvalidEESignatureTest3EE", ["GoodCACert"], False),
    ("4.1.4", "ValidDSASignaturesTest4EE", ["DSACACert"], True),
    ("4.1.6", "InvalidDSASignatureTest6EE", ["DSACACert"], False),
    ("4.2.1", "InvalidCAnotBeforeDateTest1EE", ["BadnotBeforeDateCACert"], False),
    ("4.2.2", "InvalidEEnotBeforeDateTest2EE", ["GoodCACert"], False),
    ("4.2.3", "Validpre2000UTCnotBeforeDateTest3EE", ["GoodCACert"], True),
    ("4.2.4", "ValidGeneralizedTimenotBeforeDateTest4EE", ["GoodCACert"], True),
    ("4.2.5", "InvalidCAnotAfterDateTest5EE", ["BadnotAfterDateCACert"], False),
    ("4.2.6", "InvalidEEnotAfterDateTest6EE", ["GoodCACert"], False),
    ("4.2.7", "Invalidpre2000UTCEEnotAfterDateTest7EE", ["GoodCACert"], False),
    ("4.2.8", "ValidGeneralizedTimenotAfterDateTest8EE", ["GoodCACert"], True),
    ("4.3.1", "InvalidNameChainingTest1EE", ["GoodCACert"], False),
    ("4.3.2", "InvalidNameChainingOrderTest2EE", ["NameOrderingCACert"], False),
    ("4.3.3", "ValidNameChainingWhitespaceTest3EE", ["GoodCACert"], True),
    ("4.3.4", "ValidNameChainingWhitespaceTest4EE", ["GoodCACert"], True),
    ("4.3.5", "ValidNameChainingCapitalizationTest5EE", ["GoodCACert"], True),
    ("4.3.6", "ValidNameUIDsTest6EE", ["UIDCACert"], True),
    (
        "4.3.7",
        "ValidRFC3280MandatoryAttributeTypesTest7EE",
        ["RFC3280MandatoryAttributeTypesCACert"],
        True,
    ),
    (
        "4.3.8",
        "ValidRFC3280OptionalAttributeTypesTest8EE",
        ["RFC3280OptionalAttributeTypesCACert"],
        True,
    ),
    ("4.3.9", "ValidUTF8StringEncodedNamesTest9EE", ["UTF8StringEncodedNamesCACert"], True),
    (
        "4.3.10",
        "ValidRolloverfromPrintableStringtoUTF8StringTest10EE",
        ["RolloverfromPrintableStringtoUTF8StringCACert"],
        True,
    ),
    (
        "4.3.11",
        "ValidUTF8StringCaseInsensitiveMatchTest11EE",
        ["UTF8StringCaseInsensitiveMatchCACert"],
        True,
    ),
    ("4.6.1", "InvalidMissingbasicConstraintsTest1EE", ["MissingbasicConstraintsCACert"], False),
    ("4.6.2", "InvalidcAFalseTest2EE", ["basicConstraintsCriticalcAFalseCACert"], False),
    ("4.6.3", "InvalidcAFalseTest3EE", ["basicConstraintsNotCriticalcAFalseCACert"], False),
    (
        "4.6.4",
        "ValidbasicConstraintsNotCriticalTest4EE",
        ["basicConstraintsNotCriticalCACert"],
        True,
    ),
    (
        "4.6.5",
        "InvalidpathLenConstraintTest5EE",
        ["pathLenConstraint0subCACert", "pathLenConstraint0CACert"],
        False,
    ),
    (
        "4.6.6",
        "InvalidpathLenConstraintTest6EE",
        ["pathLenConstraint0subCACert", "pathLenConstraint0CACert"],
        False,
    ),
    ("4.6.7", "ValidpathLenConstraintTest7EE", ["pathLenConstraint0CACert"], True),
    ("4.6.8", "ValidpathLenConstraintTest8EE", ["pathLenConstraint0CACert"], True),
    ("4.6.9", "InvalidpathLenConstraintTest9EE", _P6_00, False),
    ("4.6.10", "InvalidpathLenConstraintTest10EE", _P6_00, False),
    ("4.6.11", "InvalidpathLenConstraintTest11EE", _P6_11, False),
    ("4.6.12", "InvalidpathLenConstraintTest12EE", _P6_11, False),
    ("4.6.13", "ValidpathLenConstraintTest13EE", _P6_41, True),
    ("4.6.14", "ValidpathLenConstraintTest14EE", _P6_41, True),
    (
        "4.6.15",
        "ValidSelfIssuedpathLenConstraintTest15EE",
        ["pathLenConstraint0SelfIssuedCACert", "pathLenConstraint0CACert"],
        True,
    ),
    (
        "4.6.16",
        "InvalidSelfIssuedpathLenConstraintTest16EE",
        [
            "pathLenConstraint0subCA2Cert",
            "pathLenConstraint0SelfIssuedCACert",
            "pathLenConstraint0CACert",
        ],
        False,
    ),
    (
        "4.6.17",
        "ValidSelfIssuedpathLenConstraintTest17EE",
        [
            "pathLenConstraint1SelfIssuedsubCACert",
            "pathLenConstraint1subCACert",
            "pathLenConstraint1SelfIssuedCACert",
            "pathLenConstraint1CACert",
        ],
        True,
    ),
    (
        "4.7.1",
        "InvalidkeyUsageCriticalkeyCertSignFalseTest1EE",
        ["keyUsageCriticalkeyCertSignFalseCACert"],
        False,
    ),
    (
        "4.7.2",
        "InvalidkeyUsageNotCriticalkeyCertSignFalseTest2EE",
        ["keyUsageNotCriticalkeyCertSignFalseCACert"],
        False,
    ),
    ("4.7.3", "ValidkeyUsageNotCriticalTest3EE", ["keyUsageNotCriticalCACert"], True),
    ("4.13.1", "ValidDNnameConstraintsTest1EE", [_DN1], True),
    ("4.13.2", "InvalidDNnameConstraintsTest2EE", [_DN1], False),
    ("4.13.3", "InvalidDNnameConstraintsTest3EE", [_DN1], False),
    ("4.13.4", "ValidDNnameConstraintsTest4EE", [_DN1], True),
    ("4.13.5", "ValidDNnameConstraintsTest5EE", ["nameConstraintsDN2CACert"], True),
    ("4.13.6", "ValidDNnameConstraintsTest6EE", [_DN3], True),
    ("4.13.7", "InvalidDNnameConstraintsTest7EE", [_DN3], False),
    ("4.13.8", "InvalidDNnameConstraintsTest8EE", ["nameConstraintsDN4CACert"], False),
    ("4.13.9", "InvalidDNnameConstraintsTest9EE", ["nameConstraintsDN4CACert"], False),
    ("4.13.10", "InvalidDNnameConstraintsTest10EE", ["nameConstraintsDN5CACert"], False),
    ("4.13.11", "ValidDNnameConstraintsTest11EE", ["nameConstraintsDN5CACert"], True),
    ("4.13.12", "InvalidDNnameConstraintsTest12EE", ["nameConstraintsDN1subCA1Cert", _DN1], False),
    ("4.13.13", "InvalidDNnameConstraintsTest13EE", ["nameConstraintsDN1subCA2Cert", _DN1], False),
    ("4.13.14", "ValidDNnameConstraintsTest14EE", ["nameConstraintsDN1subCA2Cert", _DN1], True),
    ("4.13.15", "InvalidDNnameConstraintsTest15EE", ["nameConstraintsDN3subCA1Cert", _DN3], False),
    ("4.13.16", "InvalidDNnameConstraintsTest16EE", ["nameConstraintsDN3subCA1Cert", _DN3], False),
    ("4.13.17", "InvalidDNnameConstraintsTest17EE", ["nameConstraintsDN3subCA2Cert", _DN3], False),
    ("4.13.18", "ValidDNnameConstraintsTest18EE", ["nameConstraintsDN3subCA2Cert", _DN3], True),
    (
        "4.13.19",
        "ValidDNnameConstraintsTest19EE",
        ["nameConstraintsDN1SelfIssuedCACert", _DN1],
        True,
    ),
    ("4.13.20", "InvalidDNnameConstraintsTest20EE", [_DN1], False),
    ("4.13.21", "ValidRFC822nameConstraintsTest21EE", ["nameConstraintsRFC822CA1Cert"], True),
    ("4.13.22", "InvalidRFC822nameConstraintsTest22EE", ["nameConstraintsRFC822CA1Cert"], False),
    ("4.13.23", "ValidRFC822nameConstraintsTest23EE", ["nameConstraintsRFC822CA2Cert"], True),
    ("4.13.24", "InvalidRFC822nameConstraintsTest24EE", ["nameConstraintsRFC822CA2Cert"], False),
    ("4.13.25", "ValidRFC822nameConstraintsTest25EE", ["nameConstraintsRFC822CA3Cert"], True),
    ("4.13.26", "InvalidRFC822nameConstraintsTest26EE", ["nameConstraintsRFC822CA3Cert"], False),
    (
        "4.13.27",
        "ValidDNandRFC822nameConstraintsTest27EE",
        ["nameConstraintsDN1subCA3Cert", _DN1],
        True,
    ),
    (
        "4.13.28",
        "InvalidDNandRFC822nameConstraintsTest28EE",
        ["nameConstraintsDN1subCA3Cert", _DN1],
        False,
    ),
    (
        "4.13.29",
        "InvalidDNandRFC822nameConstraintsTest29EE",
        ["nameConstraintsDN1subCA3Cert", _DN1],
        False,
    ),
    ("4.13.30", "ValidDNSnameConstraintsTest30EE", ["nameConstraintsDNS1CACert"], True),
    ("4.13.31", "InvalidDNSnameConstraintsTest31EE", ["nameConstraintsDNS1CACert"], False),
    ("4.13.32", "ValidDNSnameConstraintsTest32EE", ["nameConstraintsDNS2CACert"], True),
    ("4.13.33", "InvalidDNSnameConstraintsTest33EE", ["nameConstraintsDNS2CACert"], False),
    ("4.13.34", "ValidURInameConstraintsTest34EE", ["nameConstraintsURI1CACert"], True),
    ("4.13.35", "InvalidURInameConstraintsTest35EE", ["nameConstraintsURI1CACert"], False),
    ("4.13.36", "ValidURInameConstraintsTest36EE", ["nameConstraintsURI2CACert"], True),
    ("4.13.37", "InvalidURInameConstraintsTest37EE", ["nameConstraintsURI2CACert"], False),
    ("4.13.38", "InvalidDNSnameConstraintsTest38EE", ["nameConstraintsDNS1CACert"], False),
    ("4.16.1", "ValidUnknownNotCriticalCertificateExtensionTest1EE", [], True),
    ("4.16.2", "InvalidUnknownCriticalCertificateExtensionTest2EE", [], False),
]


def _pkits(name: str) -> x509.Certificate:
    return x509.load_der_x509_certificate((PKITS / f"{name}.crt").read_bytes())


@pytest.mark.parametrize(
    ("section", "leaf", "path", "valid"), PKITS_CASES, ids=[c[0] for c in PKITS_CASES]
)
def test_pkits(section: str, leaf: str, path: list[str], valid: bool) -> None:
    anchor = _pkits("TrustAnchorRootCertificate")
    result = trust.validate_chain(
        _pkits(leaf), [_pkits(name) for name in path], [anchor], PKITS_TIME
    )
    errors = [p for p in result.problems if p.is_error]
    assert (result.chain is not None) == valid, f"PKITS {section} {leaf}: {errors}"
    if valid:
        assert result.chain is not None
        assert [c.subject for c in result.chain[1:-1]] == [_pkits(n).subject for n in path]
    else:
        assert [p.code for p in errors] == ["untrusted-chain"]


def test_the_pkits_fixtures_are_the_ones_listed() -> None:
    listed = {"TrustAnchorRootCertificate"}
    for _, leaf, path, _ in PKITS_CASES:
        listed.update([leaf, *path])
    assert {p.stem for p in PKITS.glob("*.crt")} == listed


# --- bounded search -------------------------------------------------------------------------


def test_many_same_named_issuers_with_wrong_keys_are_tried_quickly() -> None:
    root = issue("Root CA", key_ids=False)
    fakes = [issue("Issuing CA", root, key_ids=False).cert for _ in range(32)]
    leaf = signer(Authority(fakes[0], _ec()), key_ids=False)  # none of them signed it
    started = time.perf_counter()
    result = trust.validate_chain(leaf.cert, fakes, [root.cert], NOW)
    assert time.perf_counter() - started < 2
    assert [p.code for p in result.problems] == ["untrusted-chain"]
    assert "does not verify" in result.problems[0].message


def test_a_lattice_of_interchangeable_issuers_does_not_explode() -> None:
    """Eight levels of four look-alike CAs, each level signed by the next level's key and
    the top by nobody trusted: 4**8 paths; the search gives up after MAX_CANDIDATES."""
    keys = [_ec() for _ in range(9)]
    top = Authority(issue("Level 8", key=keys[8]).cert, keys[8])
    levels: list[list[Authority]] = []
    above = top
    for level in range(7, -1, -1):
        copies = [issue(f"Level {level}", above, key=keys[level]) for _ in range(4)]
        levels.append(copies)
        above = copies[0]
    pool = [copy.cert for copies in levels for copy in copies]
    leaf = signer(levels[-1][0])
    started = time.perf_counter()
    result = trust.validate_chain(
        leaf.cert, pool, [issue("Root CA").cert], NOW, limits=Limits(max_chain_length=12)
    )
    assert time.perf_counter() - started < 5
    assert [p.code for p in result.problems] == ["untrusted-chain"]
    assert f"after {trust.MAX_CANDIDATES} candidate issuers" in result.problems[0].message


def test_the_good_path_is_found_among_decoys_whatever_their_order() -> None:
    built = decoys(key_ids=False)
    for pool in (built.intermediates, built.intermediates[::-1]):
        assert trust.validate_chain(built.leaf, pool, built.anchors, NOW).chain is not None


# --- single rules -----------------------------------------------------------------------------


def test_an_expired_directly_trusted_signer_is_refused() -> None:
    leaf = signer(None, not_after=NOW - timedelta(days=1), not_before=NOW - timedelta(days=9))
    result = trust.validate_chain(leaf.cert, [], [leaf.cert], NOW)
    assert result.chain is None
    assert "expired" in result.problems[0].message


def test_a_naive_validation_time_is_utc() -> None:
    built = two_level()
    naive = NOW.replace(tzinfo=None)
    assert trust.validate_chain(built.leaf, built.intermediates, built.anchors, naive).chain


def test_the_anchor_copy_in_the_signature_is_not_an_extra_level() -> None:
    built = two_level()
    pool = [*built.intermediates, *built.anchors, built.leaf]  # what CMS bags often carry
    result = trust.validate_chain(built.leaf, pool, built.anchors, NOW)
    assert result.chain is not None
    assert len(result.chain) == 3


@pytest.mark.parametrize("kind", ["rsa", "rsa-pss", "ec", "ed25519"])
def test_signatures_are_checked_like_verify_directly_issued_by(kind: str) -> None:
    make: Callable[[], Key] = {
        "rsa": _rsa,
        "rsa-pss": _rsa,
        "ec": _ec,
        "ed25519": ed25519.Ed25519PrivateKey.generate,
    }[kind]
    issuer = issue("Issuing CA", key=make(), pss=kind == "rsa-pss")
    good = signer(issuer, pss=kind == "rsa-pss").cert
    forged = signer(Authority(issuer.cert, make()), pss=kind == "rsa-pss").cert
    good.verify_directly_issued_by(issuer.cert)
    with pytest.raises(InvalidSignature):
        forged.verify_directly_issued_by(issuer.cert)
    assert signatures.signature_failure(good, issuer.cert) is None
    assert "does not verify" in (signatures.signature_failure(forged, issuer.cert) or "")


def test_names_compare_as_rfc_5280_says() -> None:
    printable = x509.Name(
        [
            x509.NameAttribute(
                NameOID.COMMON_NAME, "Good  CA ", _type=x509.name._ASN1Type.PrintableString
            )
        ]
    )
    utf8 = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "good ca")])
    assert printable != utf8
    assert names.name_key(printable) == names.name_key(utf8)
    assert names.name_key(utf8) != names.name_key(
        _name("good ca", (NameOID.ORGANIZATION_NAME, "x"))
    )


@pytest.mark.parametrize(
    ("name", "base", "inside"),
    [
        (x509.IPAddress(ipaddress.ip_address("192.0.2.7")), "192.0.2.0/24", True),
        (x509.IPAddress(ipaddress.ip_address("198.51.100.7")), "192.0.2.0/24", False),
        (x509.IPAddress(ipaddress.ip_address("2001:db8::1")), "192.0.2.0/24", False),
        (x509.UniformResourceIdentifier("https://www.example.com/x"), ".example.com", True),
        (x509.UniformResourceIdentifier("https://example.com/x"), ".example.com", False),
        (x509.UniformResourceIdentifier("https://EXAMPLE.com/x"), "example.com", True),
        (x509.DNSName("wwwexample.com"), "example.com", False),
        (x509.DNSName("WWW.Example.com"), "example.com", True),
    ],
)
def test_other_name_forms_under_constraints(
    name: x509.GeneralName, base: str, inside: bool
) -> None:
    tree: x509.GeneralName
    if isinstance(name, x509.IPAddress):
        tree = x509.IPAddress(ipaddress.ip_network(base))
    elif isinstance(name, x509.UniformResourceIdentifier):
        tree = x509.UniformResourceIdentifier(base)
    else:
        tree = x509.DNSName(base)
    constraints = x509.NameConstraints(permitted_subtrees=[tree], excluded_subtrees=None)
    found = names.violation(constraints, True, [names.general_name(name)])
    assert (found is None) == inside, found


def test_a_uri_without_a_host_fails_a_critical_uri_constraint() -> None:
    constraints = x509.NameConstraints(
        permitted_subtrees=[x509.UniformResourceIdentifier(".example.com")], excluded_subtrees=None
    )
    name = names.general_name(x509.UniformResourceIdentifier("urn:isbn:0451450523"))
    assert "cannot be checked" in (names.violation(constraints, True, [name]) or "")
    assert names.violation(constraints, False, [name]) is None


def test_undecodable_names_are_a_verdict_not_a_traceback() -> None:
    built = two_level()
    der = built.leaf.public_bytes(serialization.Encoding.DER)
    assert der.count(b"\x0c\x05Alice") == 1
    broken = x509.load_der_x509_certificate(der.replace(b"\x0c\x05Alice", b"\x0c\x05\xff\xfeice"))
    result = trust.validate_chain(broken, built.intermediates, built.anchors, NOW)
    assert [p.code for p in result.problems] == ["untrusted-chain"]
    assert "malformed" in result.problems[0].message
    ca = built.intermediates[0]
    ca_der = ca.public_bytes(serialization.Encoding.DER)
    bad_ca = x509.load_der_x509_certificate(ca_der.replace(b"Issuing CA", b"\xffssuing CA"))
    result = trust.validate_chain(built.leaf, [bad_ca, ca], built.anchors, NOW)
    assert result.chain is not None
