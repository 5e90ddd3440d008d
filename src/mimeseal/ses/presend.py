"""The checks that run before anything is sent: what SES would reject, or would break.

A subset of the checker's rules, with the size limit of the API in use. Errors refuse the
send with :class:`SesRuleError` listing the findings; nothing reaches the network.
"""

from __future__ import annotations

from mimeseal.check.findings import Finding
from mimeseal.check.profiles import SES, SES_V1_LIMIT, SES_V2_LIMIT
from mimeseal.check.rules import run_rules
from mimeseal.check.view import build_view
from mimeseal.errors import SesRuleError

#: Rules whose errors SES rejects on, or that break the signatures on the way.
PRESEND_RULES = frozenset({
    "ses-size-limit", "ses-duplicate-header", "too-many-recipients", "non-ascii-header",
    "non-ascii-address", "blocked-attachment", "ses-dkim-covers-rewritten", "ses-two-dkim",
    "eight-bit-in-signed-region", "line-too-long", "no-from", "multiple-from",
    "lf-line-endings", "mixed-line-endings", "parse-error", "dkim-l-tag", "eight-bit-content",
})  # fmt: skip
LIMITS = {"v2": SES_V2_LIMIT, "v1": SES_V1_LIMIT, "smtp": SES_V1_LIMIT}


def presend_findings(message: bytes, api: str) -> list[Finding]:
    """Error-level findings of the pre-send rules for ``api`` (v2, v1 or smtp)."""
    profile = SES.clone(
        max_size=LIMITS.get(api, SES_V1_LIMIT),
        # SES does not keep 8-bit content when it modifies a body: only 7-bit is sent.
        severity={"blocked-attachment": "error", "eight-bit-content": "error"},
    )
    findings = run_rules(build_view(message), profile)
    return [f for f in findings if f.rule in PRESEND_RULES and f.severity == "error"]


def check_before_sending(message: bytes, api: str) -> None:
    """Raise :class:`SesRuleError` if SES would reject ``message`` or break its signatures."""
    errors = presend_findings(message, api)
    if errors:
        listed = "; ".join(f"{f.rule}: {f.message}" for f in errors)
        raise SesRuleError(f"not sent: {listed}", tuple(errors))
