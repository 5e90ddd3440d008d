"""The algorithms mimeseal's CMS accepts (RFC 8551 §2.1-2.2) and their names in each library."""

from __future__ import annotations

from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from mimeseal.errors import SigningError

RsaPadding = Literal["pkcs1v15", "pss"]

#: micalg name (RFC 8551 §3.5.3.2) → (asn1crypto digest name, hashlib name, cryptography hash).
DIGESTS: dict[str, tuple[str, str, type[hashes.HashAlgorithm]]] = {
    "sha-256": ("sha256", "sha256", hashes.SHA256),
    "sha-384": ("sha384", "sha384", hashes.SHA384),
    "sha-512": ("sha512", "sha512", hashes.SHA512),
}
MICALG_BY_ASN1 = {asn1: micalg for micalg, (asn1, _, _) in DIGESTS.items()}

OID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


_EC_DEFAULT_DIGESTS = {"secp384r1": "sha-384", "secp521r1": "sha-512"}


def digest_for_key(key: object, requested: str | None) -> str:
    """The micalg to use: SHA-512 for Ed25519 (RFC 8419 §3.1), else ``requested``, else the
    hash matching the key: SHA-384 for P-384, SHA-512 for P-521 (the pairs RFC 5480 §4 names,
    and the only ones a KMS EC key will sign with), SHA-256 otherwise."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        if requested not in (None, "sha-512"):
            raise SigningError(
                f"Ed25519 signatures with signed attributes must use sha-512 (RFC 8419), not "
                f"{requested}; pass digest='sha-512' or leave it unset"
            )
        return "sha-512"
    chosen = requested or _EC_DEFAULT_DIGESTS.get(
        key.curve.name if isinstance(key, ec.EllipticCurvePrivateKey) else "", "sha-256"
    )
    if chosen not in DIGESTS:
        raise SigningError(f"unsupported digest {chosen!r}; use one of {', '.join(DIGESTS)}")
    return chosen
