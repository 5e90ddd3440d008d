"""mimeseal.trust: path validation with the S/MIME policy, and the chain-length limit."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mimeseal import trust
from mimeseal.errors import VerificationInputError
from mimeseal.limits import Limits

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


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
