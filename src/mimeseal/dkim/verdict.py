"""The message-level DKIM verdict: is the message DKIM-authenticated, and by which domains.

Signatures are judged one by one (:func:`mimeseal.dkim.verify`); a message is authenticated
by every domain with a signature that passes, and a failing signature counts as no signature
(RFC 6376 §6.1: a message whose signatures all fail is treated like an unsigned one). Two
things keep a passing signature from counting: its key record is in testing mode (``t=y``,
RFC 6376 §3.6.1: the message is treated as unsigned), and header composition (several From
fields, a shown field left unsigned above the signed one), which :func:`verify` already
turns into a failing status; a composition problem fails the message even when another
signature passes. The CLI, the pytest plugin and the checker all decide with
:func:`message_verdict`, so they agree.

What "authenticated" covers: the fields the authenticating signatures list in ``h=``, and the
body. Reader fields the message has that none of them lists are named in ``unsigned_fields``
(RFC 6376 §5.4.1 makes signing them a SHOULD, and real signers leave some out, so it is not a
failure). Whether ``d=`` is aligned with the From domain (DMARC, RFC 7489 §3.1) is not judged
here: ``domains`` says who signed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mimeseal.dkim.composition import VERDICT_REASONS
from mimeseal.dkim.verifying import DkimResult

VerdictStatus = Literal["pass", "testing", "fail", "temperror", "none"]


@dataclass(frozen=True)
class DkimVerdict:
    """Whether a message is DKIM-authenticated.

    ``status``: ``pass`` (at least one signature authenticates it), ``testing`` (only
    signatures whose key record has ``t=y`` verify), ``temperror`` (none passes, but a key
    lookup failed and may work later), ``fail`` (none passes), ``none`` (no signature).
    ``domains`` are the ``d=`` of the authenticating signatures, ``testing_domains`` those
    that verify only with a testing key, ``problems`` the composition problem codes seen
    (``multiple-from``, ``no-author``, ``unsigned-above-signed``).
    """

    status: VerdictStatus
    reason: str
    domains: tuple[str, ...] = ()
    testing_domains: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    results: tuple[DkimResult, ...] = ()
    #: Reader fields the message has that no authenticating signature covers (not in any of
    #: their ``h=``): authentication says nothing about them. Not a failure (RFC 6376 §5.4.1
    #: makes signing them a SHOULD), but what a reader sees there is unauthenticated.
    unsigned_fields: tuple[str, ...] = ()

    @property
    def authenticated(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "authenticated": self.authenticated,
            "reason": self.reason,
            "domains": list(self.domains),
            "testing_domains": list(self.testing_domains),
            "problems": list(self.problems),
            "unsigned_fields": list(self.unsigned_fields),
        }


def _domains(results: Sequence[DkimResult]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.domain for r in results if r.domain))


def message_verdict(results: Sequence[DkimResult]) -> DkimVerdict:
    """The message verdict from :func:`mimeseal.dkim.verify`'s results (one per signature)."""
    results = tuple(results)
    problems = tuple(dict.fromkeys(r.composition for r in results if r.composition))
    common: dict[str, Any] = {"problems": problems, "results": results}
    if not results:
        return DkimVerdict("none", "the message has no DKIM signature", **common)
    good = [r for r in results if r.authenticates]
    testing = [r for r in results if r.passed and r.testing]
    author = next((VERDICT_REASONS[p] for p in problems if p in VERDICT_REASONS), None)
    if author is not None:
        # A composition problem (several From fields, a shown field unsigned above a signed
        # one) stands for the message, whatever another signature says.
        return DkimVerdict("fail", author, **common)
    if good:
        domains = _domains(good)
        uncovered = set.intersection(*(set(r.unsigned_fields) for r in good))
        unsigned = tuple(n for n in dict.fromkeys(f for r in good for f in r.unsigned_fields)
                         if n in uncovered)  # fmt: skip
        also = f"; not covered by any of them: {', '.join(unsigned)}" if unsigned else ""
        return DkimVerdict(
            "pass",
            f"DKIM-authenticated by {', '.join(domains)}{also}",
            domains,
            _domains(testing),
            unsigned_fields=unsigned,
            **common,
        )
    if testing:
        domains = _domains(testing)
        return DkimVerdict(
            "testing",
            f"only signatures whose key record has t=y (testing) verify ({', '.join(domains)}): "
            "receivers treat the message as unsigned (RFC 6376 §3.6.1)",
            testing_domains=domains,
            **common,
        )
    temporary = [r for r in results if r.status == "temperror"]
    if temporary:
        return DkimVerdict(
            "temperror",
            f"no signature verifies; a key lookup failed: {temporary[0].reason}",
            **common,
        )
    why = "; ".join(f"[{r.index}] {r.status}: {r.reason}" for r in results[:3])
    more = f" (and {len(results) - 3} more)" if len(results) > 3 else ""
    return DkimVerdict("fail", f"no signature verifies: {why}{more}", **common)
