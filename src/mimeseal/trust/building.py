"""Path building: a depth-first search from the signer towards a trust anchor (RFC 4158).

Issuers are found by name (RFC 5280 §7.1 comparison, see :mod:`mimeseal.trust.names`);
among those, anchors come first, then certificates whose subjectKeyIdentifier equals the
child's authorityKeyIdentifier, then those valid at the validation time: a preference
order, not a requirement (RFC 4158 §3.5). A candidate that fails a check, or leads only to
failing paths, is abandoned and the next one tried, so one bad cross-certificate cannot hide
a good path.

The search is bounded, because the certificates come from the signer (hostile input may
carry dozens with one subject name): no certificate, nor any two with the same subject and
key, appears twice in a path (cross-signed loops end); a path never exceeds the caller's
``max_chain_length``; and at most :data:`MAX_CANDIDATES` issuer candidates are examined in
one search, each costing at most one signature check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mimeseal.trust.names import NameKey, describe, is_self_issued, name_key, printable
from mimeseal.trust.signatures import signature_failure
from mimeseal.trust.validation import Role, Verdict, certificate_verdict, extension, path_verdict
from mimeseal.verdict import Problem

MAX_CANDIDATES = 256
"""Issuer candidates examined per search; real chains need a handful."""

_Identity = tuple[NameKey, bytes]


@dataclass(frozen=True)
class Outcome:
    """A valid path (signer first) with its warnings, or why none was found."""

    path: tuple[x509.Certificate, ...] | None
    warnings: tuple[Problem, ...] = ()
    reason: str | None = None
    too_long: bool = False
    exhausted: bool = False


def _identity(cert: x509.Certificate) -> _Identity:
    """Subject and key: two certificates with both equal are the same CA (RFC 4158 §2.4.2)."""
    try:
        spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    except (UnsupportedAlgorithm, ValueError):
        spki = cert.fingerprint(hashes.SHA256())
    return (name_key(cert.subject), spki)


def _readable(cert: x509.Certificate) -> bool:
    """Whether the names decode; a certificate whose names do not is never a candidate."""
    try:
        name_key(cert.subject)
        name_key(cert.issuer)
    except ValueError:
        return False
    return True


def _key_ids(cert: x509.Certificate) -> tuple[bytes | None, bytes | None]:
    """(authorityKeyIdentifier keyIdentifier, subjectKeyIdentifier), either possibly None."""
    aki = extension(cert, x509.AuthorityKeyIdentifier)
    ski = extension(cert, x509.SubjectKeyIdentifier)
    return (aki.value.key_identifier if aki else None, ski.value.digest if ski else None)


@dataclass
class _Failure:
    depth: int  # how far the search got: a reason found deeper explains more
    rank: int  # 1: a candidate issuer failed a check; 0: there was no candidate
    reason: str


@dataclass
class _Search:
    anchors: Sequence[x509.Certificate]
    intermediates: Sequence[x509.Certificate]
    at: datetime
    max_length: int
    budget: int = MAX_CANDIDATES
    too_long: bool = False
    exhausted: bool = False
    best: _Failure | None = None
    complete: str | None = None  # why the first path that reached an anchor failed
    _by_name: dict[NameKey, list[tuple[x509.Certificate, bool]]] = field(default_factory=dict)
    _verdicts: dict[tuple[x509.Certificate, Role], Verdict] = field(default_factory=dict)
    _signatures: dict[tuple[x509.Certificate, x509.Certificate], str | None] = field(
        default_factory=dict
    )
    _identities: dict[x509.Certificate, _Identity] = field(default_factory=dict)

    def __post_init__(self) -> None:
        anchor_ids = {_identity(a) for a in self.anchors if _readable(a)}
        for cert, is_anchor in [*((a, True) for a in self.anchors), *self._pool(anchor_ids)]:
            if _readable(cert):
                self._by_name.setdefault(name_key(cert.subject), []).append((cert, is_anchor))

    def _pool(self, anchor_ids: set[_Identity]) -> list[tuple[x509.Certificate, bool]]:
        """The intermediates, without copies of anchors (CMS bags often carry the root)."""
        return [
            (cert, False)
            for cert in self.intermediates
            if cert not in self.anchors and _readable(cert) and _identity(cert) not in anchor_ids
        ]

    def identity(self, cert: x509.Certificate) -> _Identity:
        if cert not in self._identities:
            self._identities[cert] = _identity(cert)
        return self._identities[cert]

    def fail(self, depth: int, rank: int, reason: str) -> None:
        if self.best is None or (depth, rank) > (self.best.depth, self.best.rank):
            self.best = _Failure(depth, rank, reason)

    def signature(self, child: x509.Certificate, issuer: x509.Certificate) -> str | None:
        key = (child, issuer)
        if key not in self._signatures:
            self._signatures[key] = signature_failure(child, issuer)
        return self._signatures[key]

    def verdict(self, cert: x509.Certificate, role: Role) -> Verdict:
        key = (cert, role)
        if key not in self._verdicts:
            self._verdicts[key] = certificate_verdict(cert, role, self.at)
        return self._verdicts[key]

    def candidates(self, cert: x509.Certificate) -> list[tuple[x509.Certificate, bool]]:
        """Possible issuers of ``cert``: anchors first, then by key identifier and validity."""
        wanted, _ = _key_ids(cert)

        def order(item: tuple[x509.Certificate, bool]) -> tuple[bool, int, bool]:
            candidate, is_anchor = item
            _, ski = _key_ids(candidate)
            id_rank = 1 if wanted is None or ski is None else (0 if wanted == ski else 2)
            current = candidate.not_valid_before_utc <= self.at <= candidate.not_valid_after_utc
            return (not is_anchor, id_rank, not current)

        return sorted(self._by_name.get(name_key(cert.issuer), []), key=order)

    def extend(self, path: list[x509.Certificate], seen: set[_Identity]) -> Outcome | None:
        """Try every issuer of ``path[-1]``; return the first valid complete path."""
        child = path[-1]
        options = self.candidates(child)
        if not options:
            self.fail(
                len(path),
                0,
                f"no certificate given is the issuer of {describe(child)} (issuer "
                f"'{printable(child.issuer.rfc4514_string())}'); pass that CA with --trust "
                "(trust=), or the signer used a CA you do not trust",
            )
        looped = 0
        for candidate, is_anchor in options:
            if self.budget <= 0:
                self.exhausted = True
                return None
            self.budget -= 1
            identity = self.identity(candidate)
            if identity in seen:
                looped += 1  # a loop of cross-certificates, or the same CA twice
                continue
            problem = self.signature(child, candidate)
            if problem is None:
                role: Role = "anchor" if is_anchor else "intermediate"
                problem = self.verdict(candidate, role).failure
            if problem is not None:
                self.fail(len(path), 1, problem)
                continue
            trial = [*path, candidate]
            if is_anchor:
                outcome = self.finish(trial)
                if outcome is not None:
                    return outcome
                continue
            if len(trial) + 1 > self.max_length:
                self.too_long = True
                continue
            outcome = self.extend(trial, seen | {identity})
            if outcome is not None or self.exhausted:
                return outcome
        if options and looped == len(options):
            self.fail(
                len(path),
                0,
                f"the issuers given for {describe(child)} lead back into the path "
                "(cross-certificates in a loop), never to a trusted CA; pass the root CA "
                "with --trust (trust=)",
            )
        return None

    def finish(self, path: list[x509.Certificate]) -> Outcome | None:
        """Judge a path that reached an anchor; None (and the reason kept) if it fails."""
        whole = path_verdict(path)
        if whole.failure is not None:
            self.complete = self.complete or whole.failure
            return None
        middle: list[Role] = ["intermediate"] * (len(path) - 2)
        roles: list[Role] = ["signer", *middle, "anchor"]
        warnings: list[Problem] = []
        for cert, role in zip(path, roles, strict=True):
            for warning in self.verdict(cert, role).warnings:
                if warning not in warnings:
                    warnings.append(warning)
        return Outcome(tuple(path), tuple(warnings))


def search(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    at: datetime,
    max_length: int,
) -> Outcome:
    """Find a valid path of at most ``max_length`` certificates from ``leaf`` to an anchor.

    A self-issued signer certificate that is itself in ``anchors`` is a path of one (OpenSSL,
    NSS and gpgsm, too, accept a directly trusted self-signed certificate): it is still checked
    for its dates, critical extensions and extendedKeyUsage, not for CA properties it does not
    claim. A signer certificate issued by someone else needs a path to an anchor even when it is
    listed itself, as every one of those receivers demands.
    """
    state = _Search(anchors, intermediates, at, max_length)
    if leaf in anchors and is_self_issued(leaf):
        trusted = state.verdict(leaf, "trusted-signer")
        if trusted.failure is None:
            return Outcome((leaf,), trusted.warnings)
        return Outcome(None, reason=trusted.failure)
    own = state.verdict(leaf, "signer")
    if own.failure is not None:
        return Outcome(None, reason=own.failure)
    if max_length < 2:
        return Outcome(None, too_long=True)
    found = state.extend([leaf], {state.identity(leaf)})
    if found is not None:
        return found
    if state.complete is not None:
        return Outcome(None, reason=state.complete, exhausted=state.exhausted)
    reason = state.best.reason if state.best is not None else None
    return Outcome(None, reason=reason, too_long=state.too_long, exhausted=state.exhausted)
