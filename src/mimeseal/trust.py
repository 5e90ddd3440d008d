"""Certificate path validation for S/MIME signers.

``cryptography``'s verifier has no S/MIME policy and its client policy demands TLS clientAuth,
so the end-entity extension policy here replaces the EKU rule: an extendedKeyUsage, if present,
must allow emailProtection (RFC 8550 §4.4.4). Leaf checks that deserve their own problem code
(expiry, key usage, addresses) are made first by :mod:`mimeseal.keys`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from mimeseal.errors import VerificationInputError
from mimeseal.limits import Limits, resolve
from mimeseal.verdict import Problem


def _eku_allows_email(
    _policy: Policy, _cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None
) -> None:
    if eku is None:
        return
    allowed = {ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
    if not allowed.intersection(eku):
        raise ValueError("extendedKeyUsage does not include emailProtection")


def _ee_policy() -> ExtensionPolicy:
    return ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _eku_allows_email
    )


@dataclass(frozen=True)
class ChainResult:
    """A validated chain (leaf first, anchor last), or None with the reason."""

    chain: tuple[x509.Certificate, ...] | None
    problems: tuple[Problem, ...]


def validate_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    trust: Sequence[x509.Certificate],
    at: datetime,
    *,
    limits: Limits | None = None,
) -> ChainResult:
    """Build and check a path from ``leaf`` to one of ``trust`` at time ``at``.

    A path needing more than ``limits.max_chain_length`` certificates (leaf and anchor
    included) is not searched further: the verdict is ``chain-too-long``, not an exception,
    because the length is the signer's claim (see :mod:`mimeseal.limits`).
    """
    if not trust:
        raise VerificationInputError(
            "no trust anchors given; pass the CA certificate(s) you trust (CLI: --trust CA.pem)"
        )
    max_length = resolve(limits).max_chain_length
    try:
        verifier = (
            PolicyBuilder()
            .store(Store(list(trust)))
            .time(at)
            .max_chain_depth(max(max_length - 2, 0))  # cryptography counts intermediates
            .extension_policies(
                ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_ee_policy()
            )
            .build_client_verifier()
        )
        verified = verifier.verify(leaf, list(intermediates))
    except (VerificationError, UnsupportedAlgorithm, ValueError) as exc:
        if "max depth" in str(exc):
            problem = Problem(
                "chain-too-long",
                f"no path of at most {max_length} certificates leads from the signer to a "
                "trusted CA (max_chain_length); pass limits=Limits(max_chain_length=…) if such "
                "long chains are legitimate for you",
            )
        else:
            problem = Problem(
                "untrusted-chain",
                f"the signer certificate does not chain to a trusted CA ({exc}); "
                "pass the issuing CA with --trust, or the signer used an unknown CA",
            )
        return ChainResult(None, (problem,))
    return ChainResult(tuple(verified.chain), ())
