"""The lint rules: what is wrong with a message before it is sent, where, and how to fix it.

Each :class:`Rule` has a stable id, an explanation (meaning, why, fix) and a ``check`` that
reads a :class:`~mimeseal.check.view.MessageView` and yields :class:`Hit` objects.
:func:`run_rules` applies a profile's severities and turns hits into findings; :func:`explain`
prints a rule's documentation. The rules live in topic modules:

- :mod:`~mimeseal.check.rules_mime`: line ends and lengths, 8-bit data, what relays rewrite
  inside signed content, MIME structure, required headers;
- :mod:`~mimeseal.check.rules_signatures`: S/MIME structure and certificates, DKIM tags;
- :mod:`~mimeseal.check.rules_ses`: what Amazon SES refuses or rewrites;
- :mod:`~mimeseal.check.rules_calendar`: invitations (iTIP/iMIP, VTIMEZONE, structure).
"""

from __future__ import annotations

import difflib
import itertools
import re
import textwrap
from collections.abc import Iterable

from mimeseal.check import (
    rules_calendar,
    rules_dkim,
    rules_headers,
    rules_mime,
    rules_ses,
    rules_smime,
)
from mimeseal.check.findings import SEVERITY_ORDER, Finding, Severity
from mimeseal.check.profiles import PROFILES, Profile
from mimeseal.check.rules_base import Check, Hit, Rule
from mimeseal.check.view import MessageView
from mimeseal.errors import LimitError, UsageError

__all__ = ["INTERNAL_ERROR", "MAX_HITS", "RULES", "Check", "Hit", "Rule", "explain", "run_rules"]

#: Findings listed per rule; beyond that one finding says how many more there are.
MAX_HITS = 20
_RULE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _registry(*groups: Iterable[Rule]) -> dict[str, Rule]:
    registry: dict[str, Rule] = {}
    for rule in itertools.chain(*groups):
        if not _RULE_ID.fullmatch(rule.id) or rule.id in registry:
            raise ValueError(f"rule id {rule.id!r} is not kebab-case or is defined twice")
        registry[rule.id] = rule
    return dict(sorted(registry.items()))


RULES: dict[str, Rule] = _registry(
    rules_mime.RULES,
    rules_headers.RULES,
    rules_smime.RULES,
    rules_dkim.RULES,
    rules_ses.RULES,
    rules_calendar.RULES,
)

INTERNAL_ERROR = Rule(
    id="internal-error",
    title="A rule failed",
    default="warning",
    meaning="A lint rule raised an unexpected error on this message, so it was skipped; the "
    "other rules and the signature checks still ran.",
    why="The message has a shape the rule did not expect; what that rule checks is unknown for "
    "this message.",
    fix="Report it to the mimeseal maintainers with the message (or a redacted copy).",
    check=lambda view, profile: (),
)


def run_rules(view: MessageView, profile: Profile) -> list[Finding]:
    """Every rule's findings for ``view`` under ``profile``, most severe first, then by rule id.

    Rules the profile switches off are not run. A rule that raises becomes one
    ``internal-error`` finding naming it; the check itself never fails because of a rule,
    except that a :class:`~mimeseal.errors.LimitError` (a part beyond the limits) propagates.
    """
    findings: list[Finding] = []
    for rule in RULES.values():
        if profile.severity.get(rule.id) == "off":
            continue
        base = rule.default_in(profile)
        try:
            hits = list(itertools.islice(rule.check(view, profile), MAX_HITS + 1))
        except LimitError:
            raise  # input beyond the limits is refused, not reported (mimeseal.limits)
        except Exception as exc:  # a rule's bug must not hide the other findings
            findings += _internal_error(rule, exc, profile)
            continue
        for hit in hits[:MAX_HITS]:
            severity = profile.severity_of(rule.id, hit.severity or base)
            if severity is not None:
                findings.append(
                    Finding(
                        rule.id, severity, hit.message, rule.fix, hit.header, hit.part, hit.line
                    )
                )
        severity = profile.severity_of(rule.id, base)
        if len(hits) > MAX_HITS and severity is not None:
            message = f"more places break this rule; only the first {MAX_HITS} are listed"
            findings.append(Finding(rule.id, severity, message, rule.fix))
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.rule))
    return findings


def _internal_error(rule: Rule, exc: Exception, profile: Profile) -> list[Finding]:
    severity = profile.severity_of(INTERNAL_ERROR.id, INTERNAL_ERROR.default)
    if severity is None:
        return []
    detail = str(exc)[:200]
    message = (
        f"the rule {rule.id} failed on this message ({type(exc).__name__}"
        f"{': ' + detail if detail else ''}) and was skipped"
    )
    return [Finding(INTERNAL_ERROR.id, severity, message, INTERNAL_ERROR.fix)]


def severity_in(rule: Rule, profile: Profile) -> Severity | None:
    """The severity ``rule``'s findings get under ``profile`` (None: switched off)."""
    return profile.severity_of(rule.id, rule.default_in(profile))


def _wrapped(text: str) -> list[str]:
    return textwrap.wrap(
        text, width=92, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False
    )


def explain(rule_id: str) -> str:
    """A rule's documentation: title, meaning, why, fix and its severity in each profile.

    Raises :class:`UsageError`, naming close matches, for an unknown rule id.
    """
    rule = INTERNAL_ERROR if rule_id == INTERNAL_ERROR.id else RULES.get(rule_id)
    if rule is None:
        known = [*RULES, INTERNAL_ERROR.id]
        close = difflib.get_close_matches(rule_id, known, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else f"there are {len(known)} rules"
        raise UsageError(f"unknown rule {rule_id!r}; {hint} (see mimeseal.check.RULES)")
    by_profile = ", ".join(
        f"{name}: {severity_in(rule, profile) or 'off'}" for name, profile in PROFILES.items()
    )
    lines = [f"{rule.id}: {rule.title}", ""]
    lines += ["What it means:", *_wrapped(rule.meaning)]
    lines += ["Why it matters:", *_wrapped(rule.why)]
    lines += ["How to fix it:", *_wrapped(rule.fix)]
    lines += ["Severity:", f"  default {rule.default}; {by_profile}"]
    if rule.ses_default:
        lines.append(f"  ({rule.ses_default} under profiles that send through SES)")
    if rule.note:
        lines += _wrapped(f"({rule.note})")
    return "\n".join(lines)
