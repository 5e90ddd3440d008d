"""Loading private keys and certificates from files, and checking them for S/MIME signing.

Keys are typed as ``cryptography``'s private-key *interfaces* (:data:`SigningKey`), never its
concrete classes, so any object implementing them (for instance a remote signer that subclasses
``rsa.RSAPrivateKey``) can be used wherever a loaded key can.

Error messages name the file or say "the private key", but never contain key bytes or
passwords: exceptions from the underlying parsers are replaced (``from None``) because their
text can echo the input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeAlias, TypeVar

from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mimeseal.errors import (
    CertificateError,
    KeyLoadError,
    KeyMismatchError,
    PasswordError,
    UnsupportedKeyError,
)

__all__ = [
    "CertificateProblem",
    "KeyBundle",
    "SigningKey",
    "certificate_addresses",
    "check_key_matches",
    "check_signing_key",
    "check_smime_certificate",
    "describe_certificate",
    "key_matches_certificate",
    "load_certificate",
    "load_certificate_file",
    "load_certificates",
    "load_certificates_file",
    "load_key_or_pkcs12_file",
    "load_pkcs12",
    "load_pkcs12_file",
    "load_private_key",
    "load_private_key_file",
    "looks_like_pkcs12",
    "smime_certificate_problems",
]

SigningKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
"""A key that can sign S/MIME and DKIM: anything implementing one of these interfaces."""

MIN_RSA_BITS = 2048
"""RSA keys below this size are refused for signing (RFC 8301, CA/B Forum S/MIME BR)."""

_SIGNING_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})
_ALLOWED = "use RSA (≥2048), EC P-256/P-384/P-521 or Ed25519"
_UNLOCK_HINT = "pass its password (CLI: --password-env VAR)"
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----.*?-----END \1-----", re.DOTALL)
_CERT_LABELS = frozenset({b"CERTIFICATE", b"X509 CERTIFICATE"})
_PKCS7_LABELS = frozenset({b"PKCS7", b"CMS"})

_T = TypeVar("_T")
_E = TypeVar("_E", bound=x509.ExtensionType)


# --------------------------------------------------------------------------- private keys


def load_private_key(data: bytes, password: bytes | None = None) -> SigningKey:
    """Load a PEM or DER private key (PKCS#8, PKCS#1 or SEC1, optionally encrypted).

    A password given for an unencrypted key is ignored, so one ``--password-env`` can serve a
    set of files of which only some are encrypted.
    """
    return _load_private_key(data, password, "the private key")


def load_private_key_file(
    path: str | os.PathLike[str], password: bytes | None = None
) -> SigningKey:
    """Load a private key from a file; see :func:`load_private_key`. Messages name the file."""
    return _load_private_key(_read(path, "key file"), password, f"key file {os.fspath(path)}")


def _load_private_key(data: bytes, password: bytes | None, source: str) -> SigningKey:
    data = bytes(data)
    if b"-----BEGIN " in data:
        blocks = [m for m in _PEM_BLOCK.finditer(data) if m.group(1).endswith(b"PRIVATE KEY")]
        if not blocks:
            raise KeyLoadError(_no_key_message(data, source)) from None
        if len(blocks) > 1:
            raise KeyLoadError(
                f"{source} holds {len(blocks)} private keys; keep exactly one key per file"
            )
        label = blocks[0].group(1)
        if label == b"OPENSSH PRIVATE KEY":
            raise KeyLoadError(
                f"{source} is in OpenSSH format; convert it to PKCS#8 PEM first "
                "(ssh-keygen -p -m PKCS8 -f FILE)"
            )
        key = _decode_key(serialization.load_pem_private_key, blocks[0].group(0), password, source)
    elif not data.strip():
        raise KeyLoadError(f"{source} is empty; expected a PEM or DER private key")
    else:
        key = _decode_key(serialization.load_der_private_key, data, password, source)
    return _as_signing_key(key, source)


def _decode_key(
    loader: Callable[[bytes, bytes | None], object],
    blob: bytes,
    password: bytes | None,
    source: str,
) -> object:
    """Run a cryptography loader, turning its errors into mimeseal errors without their text."""
    try:
        return loader(blob, None)
    except TypeError:
        pass  # the key is encrypted: cryptography wants a password
    except UnsupportedAlgorithm:
        raise UnsupportedKeyError(
            f"{source} uses a key type or curve that cannot be loaded; {_ALLOWED}"
        ) from None
    except Exception:
        raise KeyLoadError(
            f"{source} could not be parsed: it is corrupt or not a PEM/DER private key "
            "(PKCS#8, PKCS#1 or SEC1)"
        ) from None
    if not password:
        raise PasswordError(f"{source} is encrypted: {_UNLOCK_HINT}") from None
    try:
        return loader(blob, password)
    except UnsupportedAlgorithm:
        raise UnsupportedKeyError(
            f"{source} uses a key type or encryption algorithm that cannot be loaded; "
            f"{_ALLOWED}, encrypted as PKCS#8 with AES"
        ) from None
    except Exception:
        raise PasswordError(
            f"wrong password for {source}; check the password (CLI: --password-env VAR)"
        ) from None


def _no_key_message(data: bytes, source: str) -> str:
    labels = {m.group(1) for m in _PEM_BLOCK.finditer(data)}
    if labels & _CERT_LABELS:
        return f"{source} holds a certificate, not a private key; pass the key file instead"
    if b"PUBLIC KEY" in labels or b"RSA PUBLIC KEY" in labels:
        return f"{source} holds a public key, not a private key; pass the private key file"
    return f"{source} holds no PEM private key block (expected BEGIN PRIVATE KEY or similar)"


def _kind(key: object) -> str:
    kinds: tuple[tuple[type[object], str], ...] = (
        (rsa.RSAPrivateKey, "RSA"),
        (ec.EllipticCurvePrivateKey, "EC"),
        (ed25519.Ed25519PrivateKey, "Ed25519"),
        (dsa.DSAPrivateKey, "DSA"),
        (x25519.X25519PrivateKey, "X25519"),
        (x448.X448PrivateKey, "X448"),
        (ed448.Ed448PrivateKey, "Ed448"),
    )
    for cls, name in kinds:
        if isinstance(key, cls):
            return name
    return type(key).__name__


def _as_signing_key(key: object, source: str) -> SigningKey:
    if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)):
        return key
    kind = _kind(key)
    raise UnsupportedKeyError(
        f"{source} is a {kind} key: {kind} keys cannot sign S/MIME or DKIM; {_ALLOWED}"
    )


def check_signing_key(key: object) -> None:
    """Refuse keys that cannot make a signature recipients accept.

    Accepted: RSA of at least 2048 bits, EC on P-256/P-384/P-521, Ed25519 (by interface, so
    remote signers qualify). Other curves are refused because S/MIME clients do not verify them.
    """
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise UnsupportedKeyError(
                f"{key.key_size}-bit RSA keys are too weak to sign; use an RSA key of at least "
                f"{MIN_RSA_BITS} bits, EC P-256/P-384/P-521 or Ed25519"
            )
        return
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in _SIGNING_CURVES:
            raise UnsupportedKeyError(
                f"EC keys on curve {key.curve.name} are not accepted by mail clients; {_ALLOWED}"
            )
        return
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return
    kind = _kind(key)
    raise UnsupportedKeyError(f"{kind} keys cannot sign S/MIME or DKIM; {_ALLOWED}")


# --------------------------------------------------------------------------- certificates


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Load every certificate from PEM (one or many blocks), DER, or a PKCS#7 certs-only bundle.

    PEM blocks that are not certificates (a private key in a combined file, EC parameters) are
    skipped. Raises :class:`KeyLoadError` when no certificate is found.
    """
    return _load_certificates(data, "the certificate data")


def load_certificate(data: bytes) -> x509.Certificate:
    """Load exactly one certificate; several or none is an error (a chain goes elsewhere)."""
    return _exactly_one(_load_certificates(data, "the certificate data"), "the certificate data")


def load_certificates_file(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    """Load every certificate from a file; see :func:`load_certificates`."""
    source = f"certificate file {os.fspath(path)}"
    return _load_certificates(_read(path, "certificate file"), source)


def load_certificate_file(path: str | os.PathLike[str]) -> x509.Certificate:
    """Load exactly one certificate from a file; see :func:`load_certificate`."""
    source = f"certificate file {os.fspath(path)}"
    return _exactly_one(_load_certificates(_read(path, "certificate file"), source), source)


def _exactly_one(certs: list[x509.Certificate], source: str) -> x509.Certificate:
    if len(certs) != 1:
        raise KeyLoadError(
            f"{source} holds {len(certs)} certificates; expected exactly one "
            "(pass the signer certificate alone and the chain separately)"
        )
    return certs[0]


def _load_certificates(data: bytes, source: str) -> list[x509.Certificate]:
    data = bytes(data)
    certs: list[x509.Certificate] = []
    if b"-----BEGIN " in data:
        for match in _PEM_BLOCK.finditer(data):
            label, block = match.group(1), match.group(0)
            if label in _CERT_LABELS:
                block = block.replace(b"X509 CERTIFICATE-----", b"CERTIFICATE-----")
                certs.append(_parse(x509.load_pem_x509_certificate, block, source, "certificate"))
            elif label in _PKCS7_LABELS:
                block = block.replace(label + b"-----", b"PKCS7-----")
                certs.extend(_parse(_pem_pkcs7, block, source, "PKCS#7 bundle"))
    elif data.strip():
        try:
            certs.append(x509.load_der_x509_certificate(data))
        except Exception:
            certs.extend(_parse(_der_pkcs7, data, source, "certificate"))
    if not certs:
        raise KeyLoadError(
            f"no certificate found in {source}; expected PEM, DER or a PKCS#7 certificate bundle"
        )
    return certs


def _pem_pkcs7(data: bytes) -> list[x509.Certificate]:
    return pkcs7.load_pem_pkcs7_certificates(data)


def _der_pkcs7(data: bytes) -> list[x509.Certificate]:
    return pkcs7.load_der_pkcs7_certificates(data)


def _parse(loader: Callable[[bytes], _T], data: bytes, source: str, what: str) -> _T:
    try:
        return loader(data)
    except Exception:
        raise KeyLoadError(
            f"{source} holds a {what} that could not be parsed; it is corrupt or not in "
            "PEM, DER or PKCS#7 form"
        ) from None


def _read(path: str | os.PathLike[str], what: str) -> bytes:
    name = os.fspath(path)
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise KeyLoadError(f"{what} {name} does not exist; check the path") from None
    except IsADirectoryError:
        raise KeyLoadError(f"{what} {name} is a directory, not a file") from None
    except PermissionError:
        raise KeyLoadError(f"{what} {name} cannot be read: permission denied") from None
    except OSError as exc:
        raise KeyLoadError(f"{what} {name} cannot be read: {exc.strerror}") from None


# --------------------------------------------------------------------------- PKCS#12


@dataclass(frozen=True)
class KeyBundle:
    """A signing key with its certificate and the intermediate certificates to send along."""

    key: SigningKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()


def load_pkcs12(data: bytes, password: bytes | None) -> KeyBundle:
    """Load a PKCS#12 (.p12/.pfx) bundle holding a key, its certificate and optionally a chain.

    If the bundle's main certificate does not belong to the key but one of the extra
    certificates does, that one becomes the certificate; if none does, :class:`KeyMismatchError`.
    """
    return _load_pkcs12(bytes(data), password, "the PKCS#12 bundle")


def load_pkcs12_file(path: str | os.PathLike[str], password: bytes | None) -> KeyBundle:
    """Load a PKCS#12 bundle from a file; see :func:`load_pkcs12`."""
    data = _read(path, "PKCS#12 file")
    return _load_pkcs12(data, password, f"PKCS#12 file {os.fspath(path)}")


def load_key_or_pkcs12_file(
    path: str | os.PathLike[str], password: bytes | None = None
) -> SigningKey:
    """The private key in a key file or a PKCS#12 bundle, told apart by content (read once)."""
    data = _read(path, "key file")
    if looks_like_pkcs12(data):
        return _load_pkcs12(data, password, f"PKCS#12 file {os.fspath(path)}").key
    return _load_private_key(data, password, f"key file {os.fspath(path)}")


def _load_pkcs12(data: bytes, password: bytes | None, source: str) -> KeyBundle:
    loaded = None
    # Try the password given, then none at all: an unencrypted bundle rejects any password.
    for attempt in (password, None) if password else (None, b""):
        try:
            loaded = pkcs12.load_pkcs12(data, attempt)
            break
        except Exception:  # noqa: S112 - every failure is judged below without its text
            continue
    if loaded is None:
        if not looks_like_pkcs12(data):
            raise KeyLoadError(f"{source} could not be parsed: it is corrupt or not PKCS#12")
        if not password:
            raise PasswordError(f"{source} is encrypted: {_UNLOCK_HINT}")
        raise PasswordError(
            f"wrong password for {source}; check the password (CLI: --password-env VAR)"
        )
    if loaded.key is None:
        raise KeyLoadError(f"{source} holds no private key; export it with its key")
    key = _as_signing_key(loaded.key, source)
    others = [c.certificate for c in loaded.additional_certs]
    cert = loaded.cert.certificate if loaded.cert is not None else None
    if cert is None or not key_matches_certificate(key, cert):
        matching = [c for c in others if key_matches_certificate(key, c)]
        if matching:
            cert = matching[0]
        elif cert is None:
            raise KeyLoadError(
                f"{source} holds no certificate for its key; export it with its certificate"
            )
        else:
            check_key_matches(key, cert)
    chain = tuple(c for c in others if c != cert)
    return KeyBundle(key=key, certificate=cert, chain=chain)


def looks_like_pkcs12(data: bytes) -> bool:
    """Whether the bytes are a structurally sound PKCS#12 PFX (whatever the password)."""
    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        return bool(pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native)
    except Exception:
        return False


# --------------------------------------------------------------------------- key/cert matching


def _spki(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_matches_certificate(key: SigningKey, cert: x509.Certificate) -> bool:
    """Whether the private key belongs to the certificate (same SubjectPublicKeyInfo DER)."""
    try:
        return _spki(key.public_key()) == _spki(cert.public_key())
    except (ValueError, UnsupportedAlgorithm):
        return False


def check_key_matches(key: SigningKey, cert: x509.Certificate) -> None:
    """Raise :class:`KeyMismatchError` unless the key belongs to the certificate.

    Signing with a key that is not the certificate's makes signatures no recipient can verify,
    so this is checked before signing rather than discovered by recipients.
    """
    if not key_matches_certificate(key, cert):
        raise KeyMismatchError(
            f"the private key does not belong to certificate {describe_certificate(cert)}; "
            "use the key the certificate was issued for"
        )


# --------------------------------------------------------------------------- S/MIME checks


def _extension(cert: x509.Certificate, ext_type: type[_E]) -> _E | None:
    try:
        return cert.extensions.get_extension_for_class(ext_type).value
    except x509.ExtensionNotFound:
        return None
    except Exception:
        raise CertificateError(
            f"certificate {_serial_text(cert)} has malformed or duplicated extensions; "
            "it cannot be used"
        ) from None


def certificate_addresses(cert: x509.Certificate) -> tuple[str, ...]:
    """The certificate's email addresses, lower-cased, in order, without duplicates.

    From subjectAltName rfc822Name entries (RFC 8550) and, for legacy certificates, the
    subject's emailAddress attributes.
    """
    found: list[str] = []
    san = _extension(cert, x509.SubjectAlternativeName)
    if san is not None:
        found.extend(san.get_values_for_type(x509.RFC822Name))
    for attribute in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS):
        value = attribute.value
        found.append(value if isinstance(value, str) else value.decode("ascii", "replace"))
    return tuple(dict.fromkeys(address.lower() for address in found))


@dataclass(frozen=True)
class CertificateProblem:
    """One reason a certificate cannot sign S/MIME mail; ``code`` is stable for programs."""

    code: str
    message: str


def smime_certificate_problems(
    cert: x509.Certificate, *, at: datetime | None = None, address: str | None = None
) -> list[CertificateProblem]:
    """List why the certificate cannot sign S/MIME mail from ``address`` at time ``at``.

    Codes: ``no-address``, ``address-mismatch``, ``key-usage``, ``eku``, ``expired``,
    ``not-yet-valid``, ``is-ca``, ``weak-key``. ``at`` defaults to now; a naive ``at`` is taken
    as UTC. An empty list means the certificate itself is fit (trust is judged elsewhere).
    """
    problems: list[CertificateProblem] = []

    def add(code: str, message: str) -> None:
        problems.append(CertificateProblem(code, message))

    addresses = certificate_addresses(cert)
    if not addresses:
        add(
            "no-address",
            "The certificate names no email address (no rfc822Name in subjectAltName, no "
            "emailAddress in the subject); get one issued for the sender's address.",
        )
    elif address is not None and address.lower() not in addresses:
        add(
            "address-mismatch",
            f"The certificate is for {', '.join(addresses)}, not {_printable(address)}; "
            "sign with a certificate issued for the From address.",
        )
    key_usage = _extension(cert, x509.KeyUsage)
    if key_usage is not None and not (key_usage.digital_signature or key_usage.content_commitment):
        add(
            "key-usage",
            "The certificate's keyUsage allows neither digitalSignature nor nonRepudiation "
            "(it may be an encryption-only certificate); use a signing certificate.",
        )
    eku = _extension(cert, x509.ExtendedKeyUsage)
    if eku is not None and not (
        ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
        or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku
    ):
        add(
            "eku",
            "The certificate's extendedKeyUsage lacks emailProtection; "
            "use a certificate issued for S/MIME.",
        )
    now = _utc(at)
    if now > cert.not_valid_after_utc:
        add(
            "expired",
            f"The certificate expired on {_when(cert.not_valid_after_utc)}; renew it.",
        )
    if now < cert.not_valid_before_utc:
        add(
            "not-yet-valid",
            f"The certificate is not valid before {_when(cert.not_valid_before_utc)}; "
            "wait until then or check the system clock.",
        )
    constraints = _extension(cert, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        add(
            "is-ca",
            "The certificate is a CA certificate; sign with an end-entity certificate instead.",
        )
    try:
        public_key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        public_key = None
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < MIN_RSA_BITS:
        add(
            "weak-key",
            f"The certificate has a {public_key.key_size}-bit RSA key; get a new key of at "
            f"least {MIN_RSA_BITS} bits and a certificate for it.",
        )
    return problems


def check_smime_certificate(
    cert: x509.Certificate, *, at: datetime | None = None, address: str | None = None
) -> None:
    """Raise :class:`CertificateError` listing every problem found by
    :func:`smime_certificate_problems`, so one run tells the operator everything to fix."""
    problems = smime_certificate_problems(cert, at=at, address=address)
    if problems:
        details = " ".join(f"[{p.code}] {p.message}" for p in problems)
        raise CertificateError(
            f"certificate {describe_certificate(cert)} cannot sign S/MIME mail: {details}"
        )


def describe_certificate(cert: x509.Certificate) -> str:
    """A short, log-safe name for a certificate: who, serial, expiry."""
    names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    who = names[0] if names and isinstance(names[0], str) else ""
    if not who:
        try:
            addresses = certificate_addresses(cert)
        except CertificateError:
            addresses = ()
        who = addresses[0] if addresses else cert.subject.rfc4514_string() or "(empty subject)"
    return (
        f'"{_printable(who)}" ({_serial_text(cert)}, '
        f"valid until {cert.not_valid_after_utc:%Y-%m-%d})"
    )


def _serial_text(cert: x509.Certificate) -> str:
    return f"serial {cert.serial_number:x}"


def _printable(text: str, limit: int = 80) -> str:
    cleaned = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _utc(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(timezone.utc)
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"
