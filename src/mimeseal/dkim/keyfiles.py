"""DKIM key pairs on disk: ``S._domainkey.D.key.pem`` (PKCS#8, 0600) and ``S._domainkey.D.txt``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from mimeseal import keys
from mimeseal.dkim.records import format_key_record, record_name, zone_file_record
from mimeseal.dkim.signing import DkimKey, algorithm_for
from mimeseal.errors import OutputError, UnsupportedKeyError
from mimeseal.files import make_folder

ALGORITHMS = ("rsa", "ed25519")


@dataclass(frozen=True)
class DkimKeyFiles:
    """What :func:`write_key_pair` wrote, and the DNS record to publish."""

    key: Path
    record: Path
    name: str
    value: str

    @property
    def zone_record(self) -> str:
        return zone_file_record(self.name, self.value)


def generate_key(algorithm: str = "rsa", bits: int = 2048) -> DkimKey:
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm != "rsa":
        raise UnsupportedKeyError(f"unknown DKIM algorithm {algorithm!r}; use rsa or ed25519")
    if bits < 1024 or bits > 8192:
        raise UnsupportedKeyError(
            f"RSA DKIM keys must have 1024 to 8192 bits (2048 advised), not {bits}"
        )
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def as_dkim_key(key: keys.SigningKey) -> DkimKey:
    """The key, if DKIM can sign with it (RSA ≥ 1024 bits or Ed25519); else UnsupportedKeyError."""
    algorithm_for(key)
    if isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        return key
    raise UnsupportedKeyError(f"{type(key).__name__} cannot DKIM-sign; use RSA or Ed25519")


def record_for_key(key: DkimKey, *, domain: str, selector: str) -> tuple[str, str]:
    """(record name, TXT value) publishing ``key``'s public half."""
    return record_name(selector, domain), format_key_record(key.public_key())


def write_key_pair(key: DkimKey, out_dir: Path, *, domain: str, selector: str) -> DkimKeyFiles:
    """Write the private key (PKCS#8 PEM, mode 0600 from creation) and the TXT value."""
    name, value = record_for_key(key, domain=domain, selector=selector)
    make_folder(out_dir, mode=0o700)
    key_path, record_path = out_dir / f"{name}.key.pem", out_dir / f"{name}.txt"
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        if key_path.exists():
            raise OutputError(f"{key_path} exists; refusing to overwrite a private key")
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        record_path.write_text(value + "\n", encoding="ascii")
    except OSError as exc:
        raise OutputError(f"cannot write the DKIM key files in {out_dir}: {exc.strerror}") from None
    return DkimKeyFiles(key_path, record_path, name, value)
