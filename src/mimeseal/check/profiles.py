"""Profiles: which transformations a message must survive and how strict each rule is.

Like ``email.policy``, a profile is a frozen settings object; new ones are made from an
existing one with :meth:`Profile.clone`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mimeseal.check.findings import Severity
from mimeseal.errors import UsageError

SES_V1_LIMIT = 10 * 1024 * 1024  # SendRawEmail (API v1), DESIGN.md §3
SES_V2_LIMIT = 40 * 1024 * 1024  # SendEmail raw (API v2)


@dataclass(frozen=True)
class Profile:
    """What a message must survive (``transforms``) and rule severities (``severity``).

    ``severity`` overrides a rule's default severity, or switches it off with ``"off"``.
    ``max_size`` is the largest message the transport takes; ``max_recipients`` how many
    recipients it allows; ``single_signature`` refuses a second DKIM-Signature (SES adds its own).
    A signature broken by a transformation in ``must_survive`` is an error, by any other a
    warning: those steps happen on some paths only (a gateway, a mailbox store).
    """

    name: str
    description: str
    transforms: tuple[str, ...]
    severity: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    max_size: int | None = None
    max_recipients: int | None = None
    single_signature: bool = False
    unsigned_headers: frozenset[str] = frozenset()
    must_survive: frozenset[str] = frozenset()

    def clone(self, **changes: Any) -> Profile:
        """A new profile with ``changes`` (a dict for ``severity`` is merged in)."""
        if "severity" in changes:
            merged = dict(self.severity)
            merged.update(changes["severity"])
            changes["severity"] = MappingProxyType(merged)
        return dataclasses.replace(self, **changes)

    def severity_of(self, rule: str, default: Severity) -> Severity | None:
        """The rule's severity here, or None when the profile switches it off.

        A ``"*"`` entry raises every warning to its value (info stays info).
        """
        value = self.severity.get(rule)
        if value is None:
            escalate = self.severity.get("*")
            value = escalate if escalate and default == "warning" else default
        return None if value == "off" else value  # type: ignore[return-value]


_COMMON = (
    "lf-line-endings",
    "email-policy-default",
    "email-policy-smtp",
    "email-compat32",
    "header-refold-78",
    "strip-trailing-whitespace",
    "downgrade-8bit-to-qp",
    "from-escaping",
    "smtp-dot-stuffing",
    "base64-rewrap",
    "headers-added-on-top",
)

SMTP = Profile(
    name="smtp",
    description="a generic relay chain: what MTAs, mailbox stores and Python tools do to mail",
    transforms=_COMMON,
    severity=MappingProxyType({"ses-dkim-covers-rewritten": "off", "ses-two-dkim": "off"}),
    must_survive=frozenset({"headers-added-on-top", "smtp-dot-stuffing", "header-refold-78"}),
)

SES = SMTP.clone(
    name="ses",
    description="Amazon SES (API and SMTP interface), as DESIGN.md §3 documents it",
    transforms=(*_COMMON, "ses-transit"),
    severity={"ses-dkim-covers-rewritten": "error", "ses-two-dkim": "error"},
    max_size=SES_V2_LIMIT,
    max_recipients=50,
    single_signature=True,
    unsigned_headers=frozenset({"message-id", "date", "return-path", "bounces-to"}),
    must_survive=frozenset(
        {"ses-transit", "headers-added-on-top", "smtp-dot-stuffing", "header-refold-78"}
    ),
)

STRICT = SES.clone(
    name="strict",
    description="everything: every transformation, and every warning treated as an error",
    severity={"*": "error"},
    must_survive=frozenset(_COMMON) | {"ses-transit"},
)

PROFILES: dict[str, Profile] = {p.name: p for p in (SES, SMTP, STRICT)}


def get_profile(profile: str | Profile) -> Profile:
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise UsageError(f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}") from None
