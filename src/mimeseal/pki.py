"""A development PKI: a throw-away CA and S/MIME signer certificates for tests and demos.

Nothing here is fit for production. Keys are written unencrypted, the CA has no revocation, and
recipients do not trust it. It exists so that tests (and people trying mimeseal) can make
certificates that pass OpenSSL's ``-purpose smimesign`` and ``cryptography``'s path validator,
and deliberately bad ones (expired, wrong usage) to prove verifiers reject them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from mimeseal.errors import CertificateError, UnsupportedKeyError
from mimeseal.files import make_folder
from mimeseal.keys import (
    KeyBundle,
    SigningKey,
    check_key_matches,
    load_certificate_file,
    load_private_key_file,
)

__all__ = [
    "KEY_TYPES",
    "DevCA",
    "DevPkiFiles",
    "SignerFiles",
    "create_ca",
    "generate_key",
    "issue_self_signed",
    "issue_signer",
    "load_dev_ca",
    "write_dev_pki",
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
    _check_days(days)
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
    addresses = _addresses(email)
    _check_days(days)
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
    addresses = _addresses(email)
    _check_days(days)
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


def _addresses(email: str | Sequence[str]) -> tuple[str, ...]:
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


def _check_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise CertificateError(f"days must be a whole number of at least 1, not {days!r}")


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(timezone.utc)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class SignerFiles:
    """The files written for one signer address."""

    address: str
    cert: Path
    key: Path
    p12: Path


@dataclass(frozen=True)
class DevPkiFiles:
    """Every path :func:`write_dev_pki` wrote (or reused, for the CA)."""

    directory: Path
    ca_cert: Path
    ca_key: Path
    ca_reused: bool
    signers: tuple[SignerFiles, ...]

    def signer(self, address: str) -> SignerFiles:
        """The files for ``address`` (case-insensitive)."""
        for files in self.signers:
            if files.address.lower() == address.lower():
                return files
        raise KeyError(address)


def load_dev_ca(directory: str | os.PathLike[str]) -> DevCA:
    """Load the CA that :func:`write_dev_pki` wrote to ``directory`` (ca.pem, ca.key.pem)."""
    folder = Path(directory)
    cert = load_certificate_file(folder / "ca.pem")
    key = load_private_key_file(folder / "ca.key.pem")
    check_key_matches(key, cert)
    return DevCA(key=key, certificate=cert)


def write_dev_pki(
    out_dir: str | os.PathLike[str],
    emails: Sequence[str],
    *,
    key_type: str = "rsa2048",
    days: int = 365,
    p12_password: bytes | None = None,
) -> DevPkiFiles:
    """Write a development CA and one signer per address into ``out_dir``.

    Files: ``ca.pem``, ``ca.key.pem`` and, per address, ``<address>.pem``, ``<address>.key.pem``
    (PKCS#8, unencrypted) and ``<address>.p12`` (key, certificate and CA; encrypted only if
    ``p12_password`` is given; friendly name = address). Keys and bundles are created mode 0600
    and never exist with wider permissions. If ``out_dir`` already holds ``ca.pem`` and
    ``ca.key.pem``, that CA is reused, so addresses can be added later and earlier certificates
    stay valid; existing files for the same address are replaced.
    """
    if key_type not in KEY_TYPES:
        generate_key(key_type)  # raises with the list of valid types
    addresses = _addresses(emails) if not isinstance(emails, str) else _addresses([emails])
    for address in addresses:
        if "/" in address or "\\" in address or address.startswith("."):
            raise CertificateError(
                f"{address!r} cannot be used as a file name; give an address without / or \\"
            )
    _check_days(days)
    folder = Path(out_dir)
    make_folder(folder, mode=0o700)
    ca_cert_path, ca_key_path = folder / "ca.pem", folder / "ca.key.pem"
    if ca_cert_path.exists() or ca_key_path.exists():
        ca = _reuse_ca(folder, ca_cert_path, ca_key_path)
        reused = True
    else:
        ca = create_ca(key_type=key_type, days=days)
        _write_file(ca_key_path, _pkcs8(ca.key), private=True)
        _write_file(ca_cert_path, _pem(ca.certificate), private=False)
        reused = False

    signers: list[SignerFiles] = []
    for address in addresses:
        bundle = issue_signer(ca, address, key_type=key_type, days=days)
        files = SignerFiles(
            address=address,
            cert=folder / f"{address}.pem",
            key=folder / f"{address}.key.pem",
            p12=folder / f"{address}.p12",
        )
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(p12_password)
            if p12_password
            else serialization.NoEncryption()
        )
        p12 = pkcs12.serialize_key_and_certificates(
            address.encode("ascii"), bundle.key, bundle.certificate, [ca.certificate], encryption
        )
        _write_file(files.key, _pkcs8(bundle.key), private=True)
        _write_file(files.cert, _pem(bundle.certificate), private=False)
        _write_file(files.p12, p12, private=True)
        signers.append(files)
    return DevPkiFiles(
        directory=folder,
        ca_cert=ca_cert_path,
        ca_key=ca_key_path,
        ca_reused=reused,
        signers=tuple(signers),
    )


def _reuse_ca(folder: Path, cert_path: Path, key_path: Path) -> DevCA:
    for path in (cert_path, key_path):
        if not path.exists():
            raise CertificateError(
                f"{folder} holds only one of ca.pem and ca.key.pem ({path.name} is missing); "
                "restore it, or delete the other to create a new CA"
            )
    ca = load_dev_ca(folder)
    expires = ca.certificate.not_valid_after_utc
    if expires <= datetime.now(timezone.utc):
        raise CertificateError(
            f"the development CA in {folder} expired on {expires:%Y-%m-%d}; "
            "delete ca.pem and ca.key.pem to create a new one"
        )
    return ca


def _pkcs8(key: SigningKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_file(path: Path, data: bytes, *, private: bool) -> None:
    """Write atomically through a new temporary file created with the final mode.

    A private file is created 0600 from the start (``os.open`` with ``O_EXCL``), so its content
    is never readable by others, not even briefly; ``os.replace`` then swaps it in.
    """
    mode = 0o600 if private else 0o644
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), mode)  # os.open's mode was narrowed by the umask
            handle.write(data)
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
