"""Writing a development PKI to a folder, and reading its CA back.

Private files are created 0600 from the start; an existing CA in the folder is reused so
addresses can be added later and earlier certificates stay valid.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from mimeseal.errors import CertificateError
from mimeseal.files import make_folder
from mimeseal.keys import (
    SigningKey,
    check_key_matches,
    load_certificate_file,
    load_private_key_file,
)
from mimeseal.pki.issuing import (
    KEY_TYPES,
    DevCA,
    check_days,
    create_ca,
    generate_key,
    issue_signer,
    normalize_addresses,
)

__all__ = [
    "DevCertificateFiles",
    "DevPkiFiles",
    "SignerFiles",
    "load_dev_ca",
    "write_dev_certificates",
    "write_dev_pki",
]


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
    addresses, folder, ca, reused = _prepare(out_dir, emails, key_type=key_type, days=days)
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
        ca_cert=folder / _CA_CERT,
        ca_key=folder / _CA_KEY,
        ca_reused=reused,
        signers=tuple(signers),
    )


@dataclass(frozen=True)
class DevCertificateFiles:
    """What :func:`write_dev_certificates` wrote: the CA (or reused it) and one certificate per
    address. There is no key file: the key stays where it is (in AWS KMS)."""

    directory: Path
    ca_cert: Path
    ca_key: Path
    ca_reused: bool
    certificates: tuple[tuple[str, Path], ...]


def write_dev_certificates(
    out_dir: str | os.PathLike[str],
    emails: Sequence[str],
    key: SigningKey,
    *,
    key_type: str = "rsa2048",
    days: int = 365,
) -> DevCertificateFiles:
    """Certify an existing key, such as a key in AWS KMS, for each address in ``emails``.

    Like :func:`write_dev_pki` (same folder layout, same CA reuse; ``key_type`` is only used if
    a new CA is made) but only ``<address>.pem`` is written per address, and a key file or
    bundle left there for the address by :func:`write_dev_pki` is removed (it belongs to
    another key). Only the key's public half is used: the CA signs, so a KMS key is not asked
    to sign anything here.
    """
    addresses, folder, ca, reused = _prepare(out_dir, emails, key_type=key_type, days=days)
    written: list[tuple[str, Path]] = []
    for address in addresses:
        bundle = issue_signer(ca, address, days=days, key=key)
        path = folder / f"{address}.pem"
        _write_file(path, _pem(bundle.certificate), private=False)
        for stale in (f"{address}.key.pem", f"{address}.p12"):  # another key's, from write_dev_pki
            (folder / stale).unlink(missing_ok=True)
        written.append((address, path))
    return DevCertificateFiles(
        directory=folder,
        ca_cert=folder / _CA_CERT,
        ca_key=folder / _CA_KEY,
        ca_reused=reused,
        certificates=tuple(written),
    )


_CA_CERT, _CA_KEY = "ca.pem", "ca.key.pem"


def _prepare(
    out_dir: str | os.PathLike[str], emails: Sequence[str], *, key_type: str, days: int
) -> tuple[tuple[str, ...], Path, DevCA, bool]:
    """Check the arguments, then create the folder and its CA or reuse the CA already there."""
    if key_type not in KEY_TYPES:
        generate_key(key_type)  # raises with the list of valid types
    addresses = normalize_addresses([emails] if isinstance(emails, str) else emails)
    for address in addresses:
        if "/" in address or "\\" in address or address.startswith("."):
            raise CertificateError(
                f"{address!r} cannot be used as a file name; give an address without / or \\"
            )
    check_days(days)
    folder = Path(out_dir)
    make_folder(folder, mode=0o700)
    ca_cert_path, ca_key_path = folder / _CA_CERT, folder / _CA_KEY
    if ca_cert_path.exists() or ca_key_path.exists():
        return addresses, folder, _reuse_ca(folder, ca_cert_path, ca_key_path), True
    ca = create_ca(key_type=key_type, days=days)
    _write_file(ca_key_path, _pkcs8(ca.key), private=True)
    _write_file(ca_cert_path, _pem(ca.certificate), private=False)
    return addresses, folder, ca, False


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
