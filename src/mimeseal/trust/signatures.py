"""Certificate signatures, checked with the issuer's public key, and their strength.

``Certificate.verify_directly_issued_by`` is not used: it demands that the issuer's subject be
byte-identical to the certificate's issuer field, where RFC 5280 §7.1 compares prepared
strings (NIST PKITS §4.3), and it refuses SHA-1 outright, which this profile only warns
about. So the signature is verified here with the algorithm the certificate names: RSA
PKCS #1 v1.5 and RSASSA-PSS (RFC 4055), ECDSA (RFC 5758), Ed25519/Ed448 (RFC 8410), DSA.

Strength: MD2, MD4 and MD5 signatures are refused (RFC 6151: MD5 collisions are practical,
and a rogue CA certificate has been forged with one). SHA-1 signatures below the trust anchor
are accepted with a ``weak-certificate-signature`` warning: archived mail signed years ago
depends on them, and ``openssl verify``/``openssl cms -verify`` accept them too (they set no
authentication security level; at ``-auth_level 1`` OpenSSL 3 refuses SHA-1 and MD5 alike),
but a chosen-prefix collision on SHA-1 is affordable ("SHA-1 is a Shambles", 2020). An
anchor's own signature is not checked at all: the anchor is trusted as given (RFC 5280
§6.1.1 (d)). RSA and DSA CA keys under 2048 bits get a ``weak-ca-key`` warning (NIST
SP 800-131A asks for 112-bit security); under 1024 bits they are refused.
"""

from __future__ import annotations

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PSS, PKCS1v15
from cryptography.hazmat.primitives.serialization import Encoding

from mimeseal.trust.names import describe, printable
from mimeseal.verdict import Problem

MIN_CA_KEY_BITS = 1024
"""RSA and DSA CA keys smaller than this are refused: they can be factored."""

WEAK_CA_KEY_BITS = 2048
"""RSA and DSA CA keys smaller than this carry a ``weak-ca-key`` warning."""

_BROKEN = {
    "1.2.840.113549.1.1.2": "md2WithRSAEncryption",
    "1.2.840.113549.1.1.3": "md4WithRSAEncryption",
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
}
_ED25519 = "1.3.101.112"
_ED448 = "1.3.101.113"


def _algorithm_name(cert: x509.Certificate) -> str:
    try:
        digest = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        digest = None
    name = f" with {digest.name}" if digest is not None else ""
    return printable(f"{cert.signature_algorithm_oid.dotted_string}{name}", 80)


def _algorithms_agree(cert: x509.Certificate) -> bool:
    """RFC 5280 §4.1.1.2: the signed ``signature`` field must equal ``signatureAlgorithm``."""
    parsed = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
    inner: bytes = parsed["tbs_certificate"]["signature"].dump()
    outer: bytes = parsed["signature_algorithm"].dump()
    return inner == outer


def _verify(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Verify the signature; False if the algorithm does not fit the issuer's key type."""
    key = issuer.public_key()
    params = cert.signature_algorithm_parameters
    digest = cert.signature_hash_algorithm
    data, signature = cert.tbs_certificate_bytes, cert.signature
    oid = cert.signature_algorithm_oid.dotted_string
    if isinstance(key, rsa.RSAPublicKey) and isinstance(params, (PKCS1v15, PSS)) and digest:
        key.verify(signature, data, params, digest)
    elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(params, ec.ECDSA):
        key.verify(signature, data, params)
    elif (isinstance(key, ed25519.Ed25519PublicKey) and oid == _ED25519) or (
        isinstance(key, ed448.Ed448PublicKey) and oid == _ED448
    ):
        key.verify(signature, data)
    elif isinstance(key, dsa.DSAPublicKey) and digest is not None and params is None:
        key.verify(signature, data, digest)
    else:
        return False
    return True


def signature_failure(cert: x509.Certificate, issuer: x509.Certificate) -> str | None:
    """Why ``issuer``'s key does not verify the signature on ``cert``, or None if it does."""
    oid = cert.signature_algorithm_oid.dotted_string
    if oid in _BROKEN:
        return (
            f"{describe(cert)} is signed with {_BROKEN[oid]}, which is broken (RFC 6151) and "
            "refused; the CA must reissue it with SHA-256"
        )
    try:
        if not _algorithms_agree(cert):
            return (
                f"{describe(cert)} names one signature algorithm inside its signed part and "
                "another outside it (RFC 5280 §4.1.1.2 requires them equal); it is malformed"
            )
        if not _verify(cert, issuer):
            return (
                f"the signature algorithm {_algorithm_name(cert)} of {describe(cert)} does not "
                f"fit the public key of {describe(issuer)}"
            )
    except InvalidSignature:
        return (
            f"the signature on {describe(cert)} does not verify with the public key of "
            f"{describe(issuer)}; one of them is forged or damaged"
        )
    except (UnsupportedAlgorithm, ValueError, TypeError) as exc:
        return (
            f"the signature on {describe(cert)} cannot be checked with the key of "
            f"{describe(issuer)} ({printable(str(exc), 80)})"
        )
    return None


def weak_signature(cert: x509.Certificate) -> Problem | None:
    """A warning if ``cert`` (below the anchor) is signed with SHA-1."""
    try:
        digest = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    if not isinstance(digest, hashes.SHA1):
        return None
    return Problem(
        "weak-certificate-signature",
        f"{describe(cert)} is signed with SHA-1, for which chosen-prefix collisions are "
        "practical; the chain is accepted, but the CA should reissue it with SHA-256",
        "warning",
    )


def ca_key_strength(cert: x509.Certificate) -> tuple[str | None, Problem | None]:
    """(why the CA key is refused, or a ``weak-ca-key`` warning); both None if it is fine."""
    try:
        key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError) as exc:
        return (f"the public key of {describe(cert)} cannot be used ({exc})", None)
    if not isinstance(key, (rsa.RSAPublicKey, dsa.DSAPublicKey)):
        return (None, None)
    bits = key.key_size
    if bits < MIN_CA_KEY_BITS:
        return (
            f"{describe(cert)} has a {bits}-bit key, which can be factored; it is refused",
            None,
        )
    if bits < WEAK_CA_KEY_BITS:
        return (
            None,
            Problem(
                "weak-ca-key",
                f"the CA certificate {describe(cert)} has a {bits}-bit key, under the "
                f"{WEAK_CA_KEY_BITS} bits NIST SP 800-131A asks for; the chain is accepted",
                "warning",
            ),
        )
    return (None, None)
