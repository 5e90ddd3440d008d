"""The RFC 5280 §6.1 checks, with the S/MIME profile: one certificate at a time, then a path.

Per certificate (:func:`certificate_verdict`), by its role in the path:

- every certificate, the anchor included, must be valid at the validation time (RFC 5280
  §6.1.3 (a)(2); OpenSSL and NSS check the anchor's dates too) and carry no critical
  extension outside :data:`PROCESSED` (RFC 5280 §4.2);
- a CA certificate (intermediate or anchor) of version 3 needs basicConstraints cA=TRUE
  (§6.1.4 (k)); a basicConstraints that is not critical, as some legacy CAs issue, is
  accepted with a ``ca-basic-constraints-not-critical`` warning, as OpenSSL and NSS accept
  it. A keyUsage must assert keyCertSign (§6.1.4 (n)). An extendedKeyUsage must include
  emailProtection or anyExtendedKeyUsage: the CA/Browser Forum S/MIME Baseline
  Requirements (§7.1.2.2) give subordinate S/MIME CAs exactly emailProtection, and a
  TLS-only CA (clientAuth or serverAuth alone) must not vouch for mail, which is also what
  NSS enforces;
- a version 1 certificate may be a trust anchor (old roots were issued that way and are
  trusted because someone put them in the store), never an intermediate: without
  basicConstraints nothing says it may issue certificates (OpenSSL draws the same line);
- the signer's own extendedKeyUsage, if present, must allow emailProtection or
  anyExtendedKeyUsage (RFC 5280 §4.2.1.12, RFC 8550 §4.4.4). Nothing else is asked of the
  signer here: no authorityKeyIdentifier, no subjectAltName (legacy certificates carry the
  address in the subject's emailAddress, RFC 8550 §3), no critical basicConstraints. Its
  keyUsage and addresses are judged by :func:`mimeseal.keys.smime_certificate_problems`.

Per path (:func:`path_verdict`): pathLenConstraint (§4.2.1.9: counts the CA certificates
below that are not self-issued, the signer excluded) and nameConstraints (§4.2.1.10), both
taken from every CA on the path, the anchor included, as OpenSSL and NSS do.

Certificate policies are recognized, not enforced: this validator asks for no particular
policy (initial-policy-set anyPolicy, no explicit policy), so certificatePolicies,
policyMappings, policyConstraints and inhibitAnyPolicy, critical or not, do not change the
outcome. A CA that sets requireExplicitPolicy is therefore not held to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from mimeseal.trust.names import (
    constrained_names,
    describe,
    is_self_issued,
    name_key,
    violation,
)
from mimeseal.trust.signatures import ca_key_strength, weak_signature
from mimeseal.verdict import Problem

Role = Literal["signer", "intermediate", "anchor", "trusted-signer"]
"""Where a certificate sits: the signer, a CA between, the anchor, or a signer trusted as is."""

PROCESSED = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.ISSUER_ALTERNATIVE_NAME,
        ExtensionOID.NAME_CONSTRAINTS,
        ExtensionOID.CERTIFICATE_POLICIES,
        ExtensionOID.POLICY_MAPPINGS,
        ExtensionOID.POLICY_CONSTRAINTS,
        ExtensionOID.INHIBIT_ANY_POLICY,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.CRL_DISTRIBUTION_POINTS,
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
    }
)
"""Extensions this validator understands; any other critical extension fails the path."""

_MAIL_EKUS = frozenset(
    {ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
)
_E = TypeVar("_E", bound=x509.ExtensionType)
_MALFORMED = (
    ValueError,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)


@dataclass(frozen=True)
class Verdict:
    """``failure`` says why the certificate or path is refused; ``warnings`` hold otherwise."""

    failure: str | None = None
    warnings: tuple[Problem, ...] = ()


def extension(cert: x509.Certificate, kind: type[_E]) -> x509.Extension[_E] | None:
    """The certificate's extension of ``kind``, or None (also if the extensions are
    malformed: :func:`certificate_verdict` refuses such certificates first)."""
    try:
        return cert.extensions.get_extension_for_class(kind)
    except (x509.ExtensionNotFound, *_MALFORMED):
        return None


def _who(role: Role) -> str:
    return {
        "signer": "the signer certificate",
        "trusted-signer": "the signer certificate",
        "intermediate": "the CA certificate",
        "anchor": "the trust anchor",
    }[role]


def _validity(cert: x509.Certificate, role: Role, at: datetime) -> str | None:
    when = f"{at:%Y-%m-%d %H:%M} UTC"
    if at < cert.not_valid_before_utc:
        return (
            f"{_who(role)} {describe(cert)} is not valid before "
            f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC (validation time {when}); "
            "check the clock, or the time passed as at="
        )
    if at > cert.not_valid_after_utc:
        return (
            f"{_who(role)} {describe(cert)} expired on "
            f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC (validation time {when}); use "
            "a current certificate, or validate at the signing time (at=)"
        )
    return None


def _unprocessed_critical(cert: x509.Certificate, role: Role) -> str | None:
    for ext in cert.extensions:
        if ext.critical and ext.oid not in PROCESSED:
            return (
                f"{_who(role)} {describe(cert)} carries the critical extension "
                f"{ext.oid.dotted_string}, which this validator does not process; RFC 5280 "
                "§4.2 requires refusing such a certificate"
            )
    return None


def _eku_refusal(cert: x509.Certificate, role: Role) -> str | None:
    eku = extension(cert, x509.ExtendedKeyUsage)
    if eku is None or _MAIL_EKUS.intersection(eku.value):
        return None
    listed = ", ".join(oid.dotted_string for oid in list(eku.value)[:4]) or "nothing"
    rule = (
        "a CA may issue S/MIME certificates only if it allows email protection "
        "(CA/Browser Forum S/MIME Baseline Requirements §7.1.2.2)"
        if role in ("intermediate", "anchor")
        else "the certificate may not be used for mail (RFC 5280 §4.2.1.12, RFC 8550 §4.4.4)"
    )
    return (
        f"{_who(role)} {describe(cert)} has an extendedKeyUsage ({listed}) without "
        f"emailProtection or anyExtendedKeyUsage; {rule}"
    )


def _ca_verdict(cert: x509.Certificate, role: Role) -> Verdict:
    """RFC 5280 §6.1.4 (k), (n) and the S/MIME EKU rule for an intermediate or anchor."""
    who = f"{_who(role)} {describe(cert)}"
    warnings: list[Problem] = []
    if cert.version is x509.Version.v1:
        if role == "intermediate":
            return Verdict(
                f"{who} is a version 1 certificate, which cannot be an intermediate CA "
                "(no basicConstraints says it may issue; RFC 5280 §6.1.4 (k)); trust it "
                "directly as an anchor if you mean to"
            )
    else:
        constraints = extension(cert, x509.BasicConstraints)
        if constraints is None:
            return Verdict(
                f"{who} has no basicConstraints extension, so it is not a CA "
                "(RFC 5280 §6.1.4 (k)); it cannot issue certificates"
            )
        if not constraints.value.ca:
            return Verdict(
                f"{who} has basicConstraints cA=FALSE, so it is not a CA "
                "(RFC 5280 §6.1.4 (k)); it cannot issue certificates"
            )
        if not constraints.critical:
            warnings.append(
                Problem(
                    "ca-basic-constraints-not-critical",
                    f"{who} marks basicConstraints non-critical (RFC 5280 §4.2.1.9 says "
                    "critical); accepted, as OpenSSL and NSS accept such legacy CAs",
                    "warning",
                )
            )
    usage = extension(cert, x509.KeyUsage)
    if usage is not None and not usage.value.key_cert_sign:
        return Verdict(
            f"{who} has a keyUsage without keyCertSign, so its key may not sign certificates "
            "(RFC 5280 §4.2.1.3, §6.1.4 (n))"
        )
    refusal = _eku_refusal(cert, role)
    if refusal is not None:
        return Verdict(refusal)
    key_failure, key_warning = ca_key_strength(cert)
    if key_failure is not None:
        return Verdict(key_failure)
    if key_warning is not None:
        warnings.append(key_warning)
    return Verdict(None, tuple(warnings))


def certificate_verdict(cert: x509.Certificate, role: Role, at: datetime) -> Verdict:
    """The checks on ``cert`` that do not depend on the rest of the path."""
    try:
        # Decode once what later checks read, so that malformed certificates stop here.
        _ = (cert.extensions, cert.version, name_key(cert.subject), name_key(cert.issuer))
    except _MALFORMED as exc:
        return Verdict(
            f"{_who(role)} {describe(cert)} is malformed ({str(exc)[:80]}); it cannot be "
            "judged and is refused"
        )
    failure = _validity(cert, role, at) or _unprocessed_critical(cert, role)
    if failure is not None:
        return Verdict(failure)
    warnings: list[Problem] = []
    if role in ("intermediate", "anchor"):
        verdict = _ca_verdict(cert, role)
        if verdict.failure is not None:
            return verdict
        warnings.extend(verdict.warnings)
    else:
        refusal = _eku_refusal(cert, role)
        if refusal is not None:
            return Verdict(refusal)
    if role in ("signer", "intermediate"):  # signed by someone else: judge the signature
        weak = weak_signature(cert)
        if weak is not None:
            warnings.append(weak)
    return Verdict(None, tuple(warnings))


def _path_length_failure(path: Sequence[x509.Certificate]) -> str | None:
    for position in range(1, len(path)):
        ca = path[position]
        constraints = extension(ca, x509.BasicConstraints)
        if constraints is None or constraints.value.path_length is None:
            continue
        below = [c for c in path[1:position] if not is_self_issued(c)]
        allowed = constraints.value.path_length
        if len(below) > allowed:
            return (
                f"the CA certificate {describe(ca)} allows {allowed} intermediate CA "
                f"certificate(s) below it (pathLenConstraint, RFC 5280 §4.2.1.9), but the "
                f"path has {len(below)} below it, the first {describe(below[-1])}"
            )
    return None


def _name_constraint_failure(path: Sequence[x509.Certificate]) -> str | None:
    for position in range(1, len(path)):
        ca = path[position]
        constraints = extension(ca, x509.NameConstraints)
        if constraints is None:
            continue
        for index, cert in enumerate(path[:position]):
            if index > 0 and is_self_issued(cert):
                continue  # RFC 5280 §6.1.3 (b): self-issued CA certificates are exempt
            san = extension(cert, x509.SubjectAlternativeName)
            names = constrained_names(cert, san.value if san else None)
            problem = violation(constraints.value, constraints.critical, names)
            if problem is not None:
                return (
                    f"{describe(cert)} breaks the name constraints of the CA {describe(ca)}: "
                    f"{problem} (RFC 5280 §4.2.1.10); that CA may not certify this name"
                )
    return None


def path_verdict(path: Sequence[x509.Certificate]) -> Verdict:
    """The checks that need the whole path, signer first and anchor last."""
    failure = _path_length_failure(path) or _name_constraint_failure(path)
    return Verdict(failure)
