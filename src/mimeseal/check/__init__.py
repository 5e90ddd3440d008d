"""The canonicalization checker: will each signature still verify after transit, and why not.

``check`` verifies every signature (S/MIME per signer, DKIM per header) on the original bytes,
again after each transformation the profile models (a survival matrix), and runs the lint
rules. Disagreements between receivers (mimeseal, dkimpy, OpenSSL) are findings of their own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509

from mimeseal import cms
from mimeseal.check.findings import Finding, Severity
from mimeseal.check.profiles import PROFILES, Profile, get_profile
from mimeseal.check.report import Report, TransformInfo
from mimeseal.check.rules import RULES, explain, run_rules
from mimeseal.check.survival import (
    REFERENCE_LIMIT,
    MatrixCell,
    Receivers,
    SignatureRow,
    Verdict,
    cell_state,
    dkim_labels,
    label_for,
)
from mimeseal.check.transforms import TRANSFORMS
from mimeseal.check.view import build_view
from mimeseal.dkim.records import RecordSource
from mimeseal.errors import MimesealError
from mimeseal.limits import Limits, resolve
from mimeseal.limits import check as check_limit
from mimeseal.mime import to_crlf
from mimeseal.smime.parts import iter_signed_entities

__all__ = ["PROFILES", "RULES", "TRANSFORMS", "Profile", "Report", "check", "explain"]


def _embedded_certificates(message: bytes, limits: Limits) -> list[x509.Certificate]:
    found: list[x509.Certificate] = []
    try:
        for entity in iter_signed_entities(to_crlf(message), limits):
            found += cms.parse_signed_data(entity.cms_der, limits).certificates
    except MimesealError:
        pass
    return found


def check(
    message: bytes,
    *,
    profile: str | Profile = "ses",
    trust: Sequence[x509.Certificate] = (),
    dkim_records: RecordSource = None,
    now: datetime | None = None,
    references: bool | None = None,
    limits: Limits | None = None,
) -> Report:
    """Check ``message`` against ``profile`` (``ses``, ``smtp``, ``strict`` or a Profile).

    Without ``trust``, S/MIME survival is judged against the certificates the message carries
    (and a finding says the chain was not checked against your anchors). ``references``
    forces the reference receivers on (True) or off (False); by default they run on every
    cell for messages up to 2 MiB, and on larger ones on the original and on the steps the
    profile requires a signature to survive. A message beyond ``limits`` (size, header block,
    MIME depth or parts) raises :class:`~mimeseal.errors.LimitError` before any check runs.
    """
    limits = resolve(limits)
    check_limit(limits, "max_message_bytes", len(message), "message octets")
    settings = get_profile(profile)
    view = build_view(message, limits)
    findings: list[Finding] = run_rules(view, settings)
    anchors = list(trust)
    if not anchors:
        anchors = _embedded_certificates(message, limits)
        if anchors:
            findings.append(_finding(
                "smime-trust-not-given", "info",
                "no trust anchors were given, so S/MIME chains were judged against the "
                "certificates the message carries",
                "pass the CA you trust (CLI: --trust CA.pem) to check the chain too",
            ))  # fmt: skip
    everywhere = references if references is not None else len(message) <= REFERENCE_LIMIT
    receivers = Receivers(
        trust=anchors,
        records=dkim_records,
        now=now,
        references_on=references is not False,
        limits=limits,
    )
    original = receivers.verdicts(message, with_references=True, original=True)
    labels = {**receivers.labels, **dkim_labels(message, limits)}
    rows = [
        SignatureRow(key, "smime" if key.startswith("smime") else "dkim",
                     labels.get(key) or label_for(key), verdicts)
        for key, verdicts in original.items() if not key.startswith("*")
    ]  # fmt: skip
    for row in rows:
        if not row.valid:
            reasons = "; ".join(v.reason for v in row.original if v.receiver == "mimeseal")
            findings.append(_finding(
                "signature-invalid", "error", f"{row.label} does not verify: {reasons}",
                "re-sign the message after its last change; nothing may touch signed bytes",
            ))  # fmt: skip
        findings += _disagreements(row.label, "the original message", row.original)
    matrix, infos = [], []
    for transform_id in settings.transforms:
        transform = TRANSFORMS[transform_id]
        must = transform_id in settings.must_survive
        infos.append(TransformInfo(transform.id, transform.title, transform.source, must))
        try:
            changed = transform.apply(message)
        except MimesealError as exc:
            changed = None
            findings.append(_finding(
                "transform-failed", "warning", f"{transform.title}: {exc}",
                "the message cannot be processed the way this step would; fix its structure",
            ))  # fmt: skip
        cells = _after(receivers, changed, message, rows, everywhere or must)
        for row in rows:
            after = cells.get(row.key) if cells is not None else None
            state = cell_state(row.original, after)
            matrix.append(MatrixCell(transform.id, row.key, state, tuple(after or ())))
            if state == "breaks":
                why = "; ".join(f"{v.receiver}: {v.reason}" for v in after or () if not v.valid)
                findings.append(_finding(
                    f"breaks-{transform.id}", "error" if must else "warning",
                    f"{row.label} breaks under '{transform.title}' ({transform.source})"
                    + (f": {why}" if why else ""),
                    "sign 7-bit CRLF content that is already encoded (quoted-printable or "
                    f"base64) with relaxed DKIM; `mimeseal check --explain breaks-{transform.id}`",
                ))  # fmt: skip
            if after:
                findings += _disagreements(row.label, f"'{transform.title}'", after)
    findings.sort(key=lambda f: ({"error": 0, "warning": 1, "info": 2}[f.severity], f.rule))
    return Report(
        profile=settings.name,
        size=len(message),
        sha256=hashlib.sha256(message).hexdigest(),
        signatures=tuple(rows),
        transforms=tuple(infos),
        matrix=tuple(matrix),
        findings=tuple(findings),
    )


def _after(
    receivers: Receivers,
    changed: bytes | None,
    message: bytes,
    rows: Sequence[SignatureRow],
    references: bool,
) -> dict[str, list[Verdict]] | None:
    """Verdicts after a transformation, per signature; None when it could not be applied.

    The reference receivers run when ``references`` is set (every step of a small message,
    the must-survive steps of a large one); a step that changed nothing costs nothing.
    """
    if changed is None:
        return None
    if changed == message:
        return {row.key: list(row.original) for row in rows}
    return receivers.verdicts(changed, with_references=references)


def _disagreements(label: str, where: str, verdicts: Sequence[Verdict]) -> list[Finding]:
    answers = {v.receiver: v.valid for v in verdicts}
    decided = {r: a for r, a in answers.items() if a is not None}
    if len(set(decided.values())) <= 1:
        return []
    said = ", ".join(f"{r} {'accepts' if a else 'rejects'}" for r, a in decided.items())
    return [_finding(
        "receivers-disagree", "warning", f"{label} on {where}: {said}",
        "receivers judge this signature differently; expect it to fail at some recipients",
    )]  # fmt: skip


def _finding(rule: str, severity: Severity, message: str, fix: str) -> Finding:
    return Finding(rule=rule, severity=severity, message=message, fix=fix)
