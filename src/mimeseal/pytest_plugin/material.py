"""Throw-away key material for tests: a development PKI and DKIM keys with their records.

Everything is made with :mod:`mimeseal.pki` and :mod:`mimeseal.dkim.keyfiles`, in memory and on
disk (PEM files for the command-line tools and for applications that load keys from paths).
Nothing here is fit for production: keys are unencrypted and the CA is trusted by nobody.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import pkcs12

from mimeseal import dkim, pki, smime
from mimeseal.dkim.keyfiles import generate_key, write_key_pair
from mimeseal.dkim.records import lookup, zone_file_record
from mimeseal.dkim.signing import DkimKey
from mimeseal.errors import UsageError
from mimeseal.keys import KeyBundle, KmsEcKey, KmsRsaKey, SigningKey

__all__ = [
    "DEFAULT_DKIM_DOMAIN",
    "DEFAULT_DKIM_SELECTOR",
    "DEFAULT_SIGNER",
    "DevPki",
    "DkimKeys",
    "DkimTestKey",
    "PkiFactory",
    "Signer",
]

DEFAULT_SIGNER = "alice@example.com"
DEFAULT_DKIM_DOMAIN = "example.com"
DEFAULT_DKIM_SELECTOR = "mimeseal"


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, *, private: bool = False) -> Path:
    """Write a new file; private ones (unencrypted keys) are created readable by the owner only."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags, 0o600 if private else 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    return path


def _file_stem(address: str) -> str:
    """A file name for an address: the address itself, which pki.write_dev_pki also uses."""
    return "".join(c if c.isalnum() or c in "@.-_+" else "_" for c in address)


@dataclass(frozen=True)
class Signer:
    """One S/MIME signer: key, certificate, chain, and the same as files.

    ``cert_pem``, ``key_pem`` (PKCS#8, unencrypted, mode 0600), ``chain_pem`` (the CA) and
    ``p12`` (key, certificate and CA, no password) exist for applications and tools that read
    key material from paths. ``key_pem`` and ``p12`` are None for a key that cannot be
    exported (one kept in KMS, from ``mimeseal_kms``).
    """

    bundle: KeyBundle
    cert_pem: Path
    key_pem: Path | None
    chain_pem: Path
    p12: Path | None

    def __repr__(self) -> str:
        return f"Signer({', '.join(self.addresses)}, key {type(self.key).__name__})"

    @property
    def key(self) -> SigningKey:
        return self.bundle.key

    @property
    def certificate(self) -> x509.Certificate:
        return self.bundle.certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return self.bundle.chain

    @property
    def addresses(self) -> tuple[str, ...]:
        names = self.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        return tuple(names.value.get_values_for_type(x509.RFC822Name))

    @property
    def address(self) -> str:
        """The first address the certificate names (the one the signer was made for)."""
        return self.addresses[0]

    def sign(self, message: bytes, **options: Any) -> bytes:
        """``mimeseal.smime.sign`` with this signer; ``options`` as that function takes."""
        return smime.sign(message, key=self.key, cert=self.certificate, chain=self.chain, **options)


@dataclass
class DevPki:
    """A development CA, its trust anchors, and signers issued on demand (cached by address).

    Build with :meth:`create`, or through the ``mimeseal_pki`` / ``mimeseal_pki_factory``
    fixtures. ``trust`` is what verifiers and the checker take as ``trust=``.
    """

    ca: pki.DevCA
    directory: Path
    key_type: str = "rsa2048"
    _signers: dict[tuple[tuple[str, ...], str], Signer] = field(
        default_factory=dict, init=False, repr=False
    )
    _made: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __repr__(self) -> str:
        subject = self.ca.certificate.subject.rfc4514_string()
        return f"DevPki({subject!r}, {self.key_type}, {self.directory})"

    @classmethod
    def create(
        cls, directory: Path, *, key_type: str = "rsa2048", common_name: str | None = None
    ) -> DevPki:
        """A new CA in ``directory`` (``ca.pem`` written there) for signers of ``key_type``."""
        name = common_name or f"mimeseal test CA ({directory.name})"
        ca = pki.create_ca(key_type=key_type, common_name=name)
        directory.mkdir(parents=True, exist_ok=True)
        _write(directory / "ca.pem", _pem(ca.certificate))
        return cls(ca=ca, directory=directory, key_type=key_type)

    @property
    def ca_certificate(self) -> x509.Certificate:
        return self.ca.certificate

    @property
    def ca_pem(self) -> Path:
        """The CA certificate as a PEM file (``openssl -CAfile``, ``mimeseal --trust``)."""
        return self.directory / "ca.pem"

    @property
    def trust(self) -> tuple[x509.Certificate, ...]:
        """The trust anchors to pass as ``trust=`` to verifiers, the checker and assertions."""
        return (self.ca.certificate,)

    @property
    def default(self) -> Signer:
        """The signer for ``alice@example.com``."""
        return self.signer()

    def signer(
        self, address: str | Sequence[str] = DEFAULT_SIGNER, *, key_type: str | None = None,
        **options: Any,
    ) -> Signer:  # fmt: skip
        """A signer certificate for ``address`` (or several addresses), issued by this CA.

        ``key_type`` is one of ``mimeseal.pki.KEY_TYPES`` (default: the PKI's). ``options``
        go to :func:`mimeseal.pki.issue_signer` to make deliberately bad certificates
        (``not_after=``, ``key_usage=``, ``eku=None``...); such signers are never cached.
        """
        addresses = tuple(address) if isinstance(address, list | tuple) else (address,)
        if not addresses or not all(isinstance(a, str) for a in addresses):
            raise UsageError(f"give the signer's e-mail address as a string, not {address!r}")
        wanted = key_type or self.key_type
        cache_key = (tuple(a.lower() for a in addresses), wanted)
        with self._lock:
            if not options and cache_key in self._signers:
                return self._signers[cache_key]
            bundle = pki.issue_signer(self.ca, addresses, key_type=wanted, **options)
            made = self._save(bundle, addresses[0])
            if not options:
                self._signers[cache_key] = made
            return made

    def self_signed(self, address: str = DEFAULT_SIGNER, *, key_type: str | None = None) -> Signer:
        """A signer whose certificate is self-signed: every verifier must reject it."""
        bundle = pki.issue_self_signed(address, key_type=key_type or self.key_type)
        with self._lock:
            return self._save(bundle, address)

    def _save(self, bundle: KeyBundle, address: str) -> Signer:
        self._made += 1
        stem = f"{self._made:02d}-{_file_stem(address)}"
        key_file = p12_file = None
        if not isinstance(bundle.key, KmsRsaKey | KmsEcKey):  # a key in KMS has no file
            key_pem = bundle.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            p12 = pkcs12.serialize_key_and_certificates(
                address.encode("ascii", "replace"), bundle.key, bundle.certificate,
                list(bundle.chain) or None, serialization.NoEncryption(),
            )  # fmt: skip
            key_file = _write(self.directory / f"{stem}.key.pem", key_pem, private=True)
            p12_file = _write(self.directory / f"{stem}.p12", p12, private=True)
        return Signer(
            bundle=bundle,
            cert_pem=_write(self.directory / f"{stem}.pem", _pem(bundle.certificate)),
            key_pem=key_file,
            chain_pem=_write(
                self.directory / f"{stem}.chain.pem", b"".join(_pem(c) for c in bundle.chain)
            ),
            p12=p12_file,
        )


@dataclass
class PkiFactory:
    """Makes independent development PKIs: a second CA proves a verifier refuses strangers."""

    base: Path
    _count: int = field(default=0, init=False, repr=False)

    def __call__(self, key_type: str = "rsa2048", *, common_name: str | None = None) -> DevPki:
        self._count += 1
        return DevPki.create(
            self.base / f"pki-{self._count}", key_type=key_type, common_name=common_name
        )


def _as_text(name: bytes | str) -> str:
    return name.decode("ascii", "replace") if isinstance(name, bytes) else name


def _dnsfunc(records: Mapping[str, str], name: bytes | str) -> bytes | None:
    """dkimpy's ``dnsfunc`` contract: the TXT value as bytes, or None when there is none."""
    value = lookup(_as_text(name).rstrip("."), records)
    return value.encode("ascii") if value else None


@dataclass(frozen=True)
class DkimTestKey:
    """A DKIM key pair and its record: what to sign with and what a receiver looks up.

    ``records`` is a one-entry mapping usable as ``records=`` (``mimeseal.dkim.verify``,
    ``assert_dkim_valid``) and ``dkim_records=`` (``mimeseal.check.check``); ``dnsfunc`` is
    the same for dkimpy's ``verify(dnsfunc=...)``.
    """

    key: DkimKey
    domain: str
    selector: str
    name: str
    value: str
    key_pem: Path
    record_file: Path

    def __repr__(self) -> str:
        return f"DkimTestKey({self.name}, {self.algorithm})"

    @property
    def algorithm(self) -> str:
        return "ed25519" if isinstance(self.key, ed25519.Ed25519PrivateKey) else "rsa"

    @property
    def records(self) -> Mapping[str, str]:
        return MappingProxyType({self.name: self.value})

    @property
    def zone_record(self) -> str:
        """The record as a zone-file line, the value split into 255-octet strings."""
        return zone_file_record(self.name, self.value)

    def dnsfunc(self, name: bytes | str, timeout: float = 5) -> bytes | None:
        return _dnsfunc(self.records, name)

    def sign(self, message: bytes, **options: Any) -> bytes:
        """``mimeseal.dkim.sign`` with this key, domain and selector; ``options`` as it takes."""
        return dkim.sign(
            message, key=self.key, domain=self.domain, selector=self.selector, **options
        )


@dataclass
class DkimKeys:
    """Makes DKIM keys on demand and gathers the records of one test's keys.

    Keys are generated once per session (cached by name, algorithm and size) but each test
    gets its own view (:meth:`view`): its ``records`` hold the default key and the keys that
    test asked for, so no test passes or fails because of what another test made.
    """

    directory: Path
    _store: dict[tuple[str, str, int], DkimTestKey] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _keys: dict[str, DkimTestKey] = field(default_factory=dict, init=False, repr=False)

    def __repr__(self) -> str:
        return f"DkimKeys({', '.join(sorted(self._keys)) or 'no keys yet'})"

    def view(self) -> DkimKeys:
        """A fresh view on the same key store, holding only the default key."""
        fresh = DkimKeys(self.directory, self._store, self._lock)
        fresh()
        return fresh

    def __call__(
        self, domain: str = DEFAULT_DKIM_DOMAIN, selector: str = DEFAULT_DKIM_SELECTOR, *,
        algorithm: str = "rsa", bits: int = 2048,
    ) -> DkimTestKey:  # fmt: skip
        """The key published at ``selector._domainkey.domain``, made on first use.

        One name holds one key per test: asking again for it with another algorithm or size is
        an error, because a receiver could only ever see one of them.
        """
        name = dkim.record_name(selector, domain)
        known = self._keys.get(name)
        if known is not None:
            size = getattr(known.key, "key_size", None)
            if known.algorithm != algorithm or (algorithm == "rsa" and size != bits):
                raise UsageError(
                    f"{name} already holds a {known.algorithm} key; use another selector "
                    "for a second key"
                )
            return known
        with self._lock:
            made = self._store.get((name, algorithm, bits))
            if made is None:
                key = generate_key(algorithm, bits)
                folder = self.directory / f"{algorithm}-{bits}-{len(self._store)}"
                files = write_key_pair(key, folder, domain=domain, selector=selector)
                made = DkimTestKey(
                    key, domain.lower(), selector, files.name, files.value, files.key, files.record
                )
                self._store[name, algorithm, bits] = made
        self._keys[name] = made
        return made

    @property
    def records(self) -> Mapping[str, str]:
        """The default key's record and those of this test's keys, for ``records=``."""
        return MappingProxyType({k.name: k.value for k in self._keys.values()})

    def dnsfunc(self, name: bytes | str, timeout: float = 5) -> bytes | None:
        """dkimpy's ``dnsfunc`` answering from :attr:`records`."""
        return _dnsfunc(self.records, name)
