"""Issuing development certificates: a throw-away CA and S/MIME signer certificates.

Nothing here is fit for production. Keys are written unencrypted, the CA has no revocation, and
recipients do not trust it. It exists so that tests (and people trying mimeseal) can make
certificates that pass OpenSSL's ``-purpose smimesign`` and ``cryptography``'s path validator,
and deliberately bad ones (expired, wrong usage) to prove verifiers reject them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from mimeseal.errors import CertificateError, UnsupportedKeyError
from mimeseal.keys import (
    KeyBundle,
    SigningKey,
)

__all__ = [
    "KEY_TYPES",
    "DevCA",
    "create_ca",
    "generate_key",
    "issue_self_signed",
    "issue_signer",
]

KEY_TYPES = ("rsa2048", "rsa3072", "ec-p256", "ed25519")
"""Key types the development PKI can generate."""

# cryptography's path validator refuses Ed25519 CA keys, so Ed25519 signers get an EC CA.
_CA_KEY_TYPE = {
    "rsa2048": "rsa2048",
    "rsa3072": "rsa3072",
    "ec-p256": "ec-p256",
    "ed25519": "ec-p256",
}
_BACKDATE = timedelta(minutes=5)  # tolerate small clock differences between machines
_KEY_USAGES = (
    "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
    "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
)  # fmt: skip
# Accept cryptography's names and RFC 5280's (digitalSignature, nonRepudiation, ...).
_KEY_USAGE_NAMES = {name.replace("_", ""): name for name in _KEY_USAGES}
_KEY_USAGE_NAMES["nonrepudiation"] = "content_commitment"
_ATEXT = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~."
)
_DOMAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")


def generate_key(key_type: str) -> SigningKey:
    """Generate a fresh key of one of :data:`KEY_TYPES`."""
    if key_type == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "rsa3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    if key_type == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise UnsupportedKeyError(
        f"unknown key type {key_type!r}; choose one of {', '.join(KEY_TYPES)}"
    )


@dataclass(frozen=True)
class DevCA:
    """A development certificate authority: its key and self-signed certificate."""

    key: SigningKey
    certificate: x509.Certificate


def create_ca(
    *,
    key_type: str = "rsa2048",
    days: int = 365,
    common_name: str = "mimeseal development CA",
    now: datetime | None = None,
) -> DevCA:
    """Create a self-signed development CA whose certificates pass OpenSSL and cryptography.

    ``key_type`` names the kind of signer the CA is for: ``rsa2048``/``rsa3072`` give an RSA CA
    of that size, ``ec-p256`` an EC P-256 CA, and ``ed25519`` also an EC P-256 CA, because
    ``cryptography.x509.verification`` refuses Ed25519 CA keys ("Forbidden public key
    algorithm") while accepting Ed25519 leaves under an EC CA.
    """
    if key_type not in _CA_KEY_TYPE:
        generate_key(key_type)  # raises with the list of valid types
    check_days(days)
    key = generate_key(_CA_KEY_TYPE[key_type])
    start = _utc(now)
    name = x509.Name(
        [
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, "mimeseal development (not for production)"
            ),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - _BACKDATE)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            _key_usage(("digital_signature", "key_cert_sign", "crl_sign")), critical=True
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    )
    return DevCA(key=key, certificate=builder.sign(key, _hash_for(key)))


def issue_signer(
    ca: DevCA,
    email: str | Sequence[str],
    *,
    key_type: str = "rsa2048",
    days: int = 365,
    now: datetime | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key_usage: tuple[str, ...] | None = None,
    eku: tuple[ObjectIdentifier, ...] | None = (ExtendedKeyUsageOID.EMAIL_PROTECTION,),
    key: SigningKey | None = None,
) -> KeyBundle:
    """Issue an S/MIME signing certificate from ``ca`` for one or more addresses.

    The defaults make a certificate RFC 8550 accepts: subject CN = first address, an
    rfc822Name for each address, keyUsage digitalSignature + nonRepudiation, EKU
    emailProtection. The overrides exist to make deliberately bad certificates for tests:
    ``not_before``/``not_after`` (expired, not yet valid), ``key_usage`` (names such as
    ``"key_encipherment"``; ``()`` omits the extension), ``eku=None`` omits the EKU, ``key``
    certifies an existing key instead of generating one. By default the certificate does not
    outlive the CA.
    """
    addresses = normalize_addresses(email)
    check_days(days)
    start = _utc(now)
    if not_after is None:
        not_after = min(start + timedelta(days=days), ca.certificate.not_valid_after_utc)
    leaf_key = key if key is not None else generate_key(key_type)
    builder = _end_entity_builder(
        addresses,
        leaf_key,
        not_before=_utc(not_before) if not_before is not None else start - _BACKDATE,
        not_after=_utc(not_after),
        key_usage=key_usage,
        eku=eku,
    )
    builder = builder.issuer_name(ca.certificate.subject).add_extension(
        _authority_key_id(ca), critical=False
    )
    cert = builder.sign(ca.key, _hash_for(ca.key))
    return KeyBundle(key=leaf_key, certificate=cert, chain=(ca.certificate,))


def issue_self_signed(
    email: str | Sequence[str],
    *,
    key_type: str = "rsa2048",
    days: int = 365,
    now: datetime | None = None,
) -> KeyBundle:
    """Issue a self-signed end-entity certificate with the S/MIME extensions.

    Verifiers must reject it (no CA vouches for it); tests use it to prove they do.
    """
    addresses = normalize_addresses(email)
    check_days(days)
    start = _utc(now)
    key = generate_key(key_type)
    builder = _end_entity_builder(
        addresses,
        key,
        not_before=start - _BACKDATE,
        not_after=start + timedelta(days=days),
        key_usage=None,
        eku=(ExtendedKeyUsageOID.EMAIL_PROTECTION,),
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = builder.issuer_name(_leaf_name(addresses[0])).add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
    )
    return KeyBundle(key=key, certificate=builder.sign(key, _hash_for(key)), chain=())


def _end_entity_builder(
    addresses: tuple[str, ...],
    key: SigningKey,
    *,
    not_before: datetime,
    not_after: datetime,
    key_usage: tuple[str, ...] | None,
    eku: tuple[ObjectIdentifier, ...] | None,
) -> x509.CertificateBuilder:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_leaf_name(addresses[0]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(a) for a in addresses]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if key_usage is None:
        key_usage = ("digital_signature", "content_commitment")
    if key_usage:
        builder = builder.add_extension(_key_usage(key_usage), critical=True)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    return builder


def _authority_key_id(ca: DevCA) -> x509.AuthorityKeyIdentifier:
    try:
        ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value)


def _leaf_name(address: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)])


def _key_usage(names: Sequence[str]) -> x509.KeyUsage:
    flags = dict.fromkeys(_KEY_USAGES, False)
    for name in names:
        canonical = _KEY_USAGE_NAMES.get(name.lower().replace("_", ""))
        if canonical is None:
            raise CertificateError(
                f"unknown keyUsage {name!r}; use names such as digital_signature, "
                "content_commitment, key_encipherment"
            )
        flags[canonical] = True
    try:
        return x509.KeyUsage(**flags)
    except ValueError:
        raise CertificateError(
            "encipher_only and decipher_only need key_agreement in keyUsage"
        ) from None


def _hash_for(key: SigningKey) -> hashes.SHA256 | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def normalize_addresses(email: str | Sequence[str]) -> tuple[str, ...]:
    raw = (email,) if isinstance(email, str) else tuple(email)
    if not raw:
        raise CertificateError("give at least one email address for the certificate")
    for address in raw:
        _check_address(address)
    # Deduplicate case-insensitively, keeping the first spelling.
    seen: dict[str, str] = {}
    for address in raw:
        seen.setdefault(address.lower(), address)
    return tuple(seen.values())


def _check_address(address: object) -> None:
    if not isinstance(address, str):
        raise CertificateError(f"email addresses must be strings, not {type(address).__name__}")
    shown = address.encode("ascii", "backslashreplace").decode("ascii")
    local, _at, domain = address.rpartition("@")
    if (
        address.count("@") != 1
        or not local
        or not domain
        or not set(local) <= _ATEXT
        or not set(domain) <= _DOMAIN_CHARS
        or local.startswith(".")
        or local.endswith(".")
        or ".." in address
        or domain.startswith((".", "-"))
        or domain.endswith((".", "-"))
        or len(address) > 254
    ):
        raise CertificateError(
            f"{shown!r} is not a plain ASCII email address (local@domain, no spaces, "
            "IDN domains in punycode); give the bare address"
        )


def check_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise CertificateError(f"days must be a whole number of at least 1, not {days!r}")


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(timezone.utc)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
