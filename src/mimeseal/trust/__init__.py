"""Certificate path validation for S/MIME signers: RFC 5280 §6 with the RFC 8550 profile.

This is not Web PKI validation. ``cryptography``'s verifier encodes the TLS rules (an
authorityKeyIdentifier and a subjectAltName required, critical basicConstraints, TLS
clientAuth on every CA), which refuse real S/MIME chains whose CAs carry only
emailProtection (CA/Browser Forum S/MIME Baseline Requirements §7.1.2.2) and accept
clientAuth-only CAs. So the path is built (:mod:`.building`) and checked (:mod:`.validation`,
:mod:`.names`, :mod:`.signatures`) here, on ``cryptography``'s primitives.

Choices where the standards leave room (tested against ``openssl verify -purpose smimesign``,
with each deliberate difference written down in tests/test_trust.py):

- every certificate in ``trust`` is an anchor, self-signed or not (RFC 5280 §6.1.1 (d));
  OpenSSL needs ``-partial_chain`` for a non-self-signed one;
- the anchor's validity period and CA properties (basicConstraints, keyUsage, EKU,
  pathLenConstraint, nameConstraints) are checked, as OpenSSL and NSS check them;
- a self-issued signer certificate that is itself in ``trust`` validates as a path of one,
  as OpenSSL, NSS and gpgsm accept a directly trusted self-signed certificate; a signer
  certificate issued by another CA needs its path even when it is listed;
- a version 1 certificate may be an anchor, never an intermediate;
- MD5 certificate signatures are refused, SHA-1 ones accepted with a warning
  (:mod:`.signatures`);
- anyExtendedKeyUsage counts as allowing email protection (RFC 5280 §4.2.1.12); OpenSSL's
  smimesign purpose does not count it.

Revocation is not checked: there is no network access here, and no CRL or OCSP response
is passed in. A revoked signer or CA validates as long as its chain does.

The signer certificate's own fitness for mail (keyUsage, addresses, expiry as its own
problem codes) is judged first by :func:`mimeseal.keys.smime_certificate_problems`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509

from mimeseal.errors import VerificationInputError
from mimeseal.limits import Limits, resolve
from mimeseal.trust.building import MAX_CANDIDATES, search
from mimeseal.verdict import Problem

__all__ = ["MAX_CANDIDATES", "ChainResult", "validate_chain"]


@dataclass(frozen=True)
class ChainResult:
    """A validated chain (leaf first, anchor last), or None with the reason.

    ``problems`` holds errors when ``chain`` is None, and may hold warnings (severity
    ``"warning"``) beside a valid chain.
    """

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
    """Build and check a path from ``leaf`` through ``intermediates`` to one of ``trust``.

    Every certificate in ``trust`` is an anchor, self-signed or not (RFC 5280 §6.1.1 (d):
    an anchor is a name and a key someone chose to trust). A path needing more than
    ``limits.max_chain_length`` certificates (leaf and anchor included) is not searched:
    the verdict is ``chain-too-long``, not an exception, because the length is the
    signer's claim (see :mod:`mimeseal.limits`). Any other failure is ``untrusted-chain``,
    whose message names the certificate and the rule.
    """
    if not trust:
        raise VerificationInputError(
            "no trust anchors given; pass the CA certificate(s) you trust (CLI: --trust CA.pem)"
        )
    max_length = resolve(limits).max_chain_length
    when = at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)
    outcome = search(leaf, intermediates, trust, when, max_length)
    if outcome.path is not None:
        return ChainResult(outcome.path, outcome.warnings)
    if outcome.too_long:
        problem = Problem(
            "chain-too-long",
            f"no path of at most {max_length} certificates leads from the signer to a "
            "trusted CA (max_chain_length); pass limits=Limits(max_chain_length=…) if such "
            "long chains are legitimate for you",
        )
        return ChainResult(None, (problem,))
    reason = outcome.reason or "no path to a trusted CA was found"
    if outcome.exhausted:
        reason += (
            f" (the search stopped after {MAX_CANDIDATES} candidate issuers; the signature "
            "carries an unusual number of look-alike CA certificates)"
        )
    message = f"the signer certificate does not chain to a trusted CA: {reason}"
    return ChainResult(None, (Problem("untrusted-chain", message),))
