"""``--explain``: what a finding's rule means, why it matters and how to fix it.

Lint rules explain themselves (:mod:`mimeseal.check.rules`); the findings the survival matrix
produces are explained here.
"""

from __future__ import annotations

from mimeseal.check import rules
from mimeseal.check.profiles import PROFILES
from mimeseal.check.transforms import TRANSFORMS

_MATRIX_RULES = {
    "signature-invalid": (
        "A signature does not verify on the message as it is now.",
        "Receivers will reject it before any transit step: something changed signed bytes "
        "after signing, or the key, certificate or record is wrong.",
        "Sign last, after every other change; check keys, certificates and DNS records.",
    ),
    "receivers-disagree": (
        "mimeseal, dkimpy and OpenSSL do not agree on a signature.",
        "Recipients run different verifiers; a disagreement means some of them will fail it.",
        "Read each receiver's reason in the matrix; usually a canonicalization edge case "
        "(trailing white space without a final CRLF, bare LF) is to blame.",
    ),
    "smime-trust-not-given": (
        "S/MIME was checked against the certificates inside the message.",
        "Survival is judged correctly, but nobody checked the chain against anchors you trust.",
        "Pass --trust CA.pem (or trust=[…]) to check the chain as your recipients will.",
    ),
    "transform-failed": (
        "A transformation could not process the message.",
        "A relay doing the same step would fail or mangle the message.",
        "Fix the message structure the finding names.",
    ),
}


def explain(rule_id: str) -> str:
    """Multi-line text for any finding's rule id."""
    if rule_id.startswith("breaks-") and rule_id[7:] in TRANSFORMS:
        transform = TRANSFORMS[rule_id[7:]]
        required = [p.name for p in PROFILES.values() if transform.id in p.must_survive]
        return "\n".join([
            f"{rule_id}: a signature breaks under '{transform.title}'",
            f"what: after this step ({transform.source}) the signature no longer verifies.",
            "why: mail on a path that does this step will fail verification at the recipient.",
            "fix: send 7-bit CRLF content encoded before signing (quoted-printable for text), "
            "use relaxed/relaxed DKIM canonicalization, and never re-serialize signed bytes.",
            "severity: error under " + (", ".join(required) or "no profile")
            + "; warning under the others",
        ])  # fmt: skip
    if rule_id in _MATRIX_RULES:
        what, why, fix = _MATRIX_RULES[rule_id]
        return f"{rule_id}\nwhat: {what}\nwhy: {why}\nfix: {fix}"
    return rules.explain(rule_id)
