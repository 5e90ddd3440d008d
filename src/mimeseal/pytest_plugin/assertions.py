"""Assertions for mail in tests: signed, verifiable, survives transit, a well-formed invitation.

Each one returns the verdict it judged (for further checks) or raises ``AssertionError`` whose
first line names the problem codes and whose body says what was expected and what was found.
A mistake in the test itself (wrong argument types, no trust anchors) raises a
:class:`~mimeseal.errors.MimesealError` instead, so it is not mistaken for bad mail.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from mimeseal.errors import MimesealError, UsageError
from mimeseal.pytest_plugin.inputs import (
    MessageInput,
    RecordsInput,
    TrustInput,
    lookup_function,
    message_bytes,
    record_source,
    trust_anchors,
)

if TYPE_CHECKING:
    from cryptography import x509

    from mimeseal.check import Profile, Report
    from mimeseal.dkim import DkimResult, DkimVerdict
    from mimeseal.dkim.records import RecordSource
    from mimeseal.invite import Invite
    from mimeseal.smime import SmimeVerdict
    from mimeseal.verdict import Problem

__all__ = ["assert_dkim_valid", "assert_invite", "assert_smime_valid", "assert_survives"]


def _fail(headline: str, codes: Sequence[str], body: Iterable[str]) -> AssertionError:
    """One failure text: ``headline: code, code`` then the indented explanation."""
    unique = list(dict.fromkeys(codes))
    first = f"{headline}: {', '.join(unique)}" if unique else headline
    return AssertionError("\n".join([first, *body]))


def _addresses(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    for item in items:
        if not isinstance(item, str) or "@" not in item:
            raise UsageError(f"expected bare e-mail addresses, not {item!r}")
    return [item.strip().lower() for item in items]


def _problem_lines(problems: Iterable[Problem], indent: str) -> list[str]:
    return [f"{indent}{p.severity} {p.code}: {p.message}" for p in problems]


# --------------------------------------------------------------------------- S/MIME


def assert_smime_valid(
    message: MessageInput,
    trust: TrustInput,
    *,
    signer: str | Iterable[str] | None = None,
    now: datetime | None = None,
    form: Literal["detached", "opaque"] | None = None,
    openssl: bool | None = None,
) -> SmimeVerdict:
    """Assert that ``message`` carries a valid S/MIME signature over the whole message.

    ``trust`` are the anchors (certificates, PEM paths, or ``mimeseal_pki``). ``signer``: an
    address (or several) that a signer certificate must name. ``now`` judges certificates at
    that moment instead of now. ``form`` requires ``"detached"``
    (multipart/signed) or ``"opaque"``. ``openssl``: None checks with ``openssl cms -verify``
    too when it is installed and can (not with ``now``, not Ed25519 before OpenSSL 3.2); True
    requires that check; False skips it. Returns the verdict.

    >>> assert_smime_valid(signed, mimeseal_pki, signer="alice@example.com")
    """
    __tracebackhide__ = True
    from mimeseal import smime

    data, anchors, wanted = message_bytes(message), trust_anchors(trust), _addresses(signer)
    try:
        verdict = smime.verify(data, trust=anchors, at=now)
    except MimesealError as exc:
        raise _fail("S/MIME signature cannot be verified", ["unreadable"],
                    [f"  {type(exc).__name__}: {exc}"]) from None  # fmt: skip
    codes = [p.code for p in verdict.all_problems() if p.is_error]
    if not verdict.valid and not codes:
        codes.append("invalid")
    found_addresses = {a.lower() for s in verdict.signers for a in s.addresses}
    missing = [a for a in wanted if a not in found_addresses]
    if missing:
        codes.append("signer-mismatch")
    wrong_form = [p for p in verdict.parts if form is not None and p.form != form]
    if wrong_form:
        codes.append("form-mismatch")
    reference = None
    if not codes:
        reference = _openssl_check(data, anchors, verdict, openssl, now)
        if reference is not None:
            codes.append("openssl-rejects")
    if not codes:
        return verdict
    expected = "a valid S/MIME signature over the whole message"
    if wanted:
        expected += f", signed by {', '.join(wanted)}"
    if form:
        expected += f", {form}"
    anchors_text = "; ".join(c.subject.rfc4514_string() for c in anchors)
    body = [f"  expected: {expected}", f"  trust anchors: {anchors_text}"]
    if now is not None:
        body.append(f"  certificates judged at: {now.isoformat()}")
    if missing:
        signed_by = ", ".join(sorted(found_addresses)) or "nobody"
        body.append(f"  signer-mismatch: signed by {signed_by}, not by {', '.join(missing)}")
    body.append(f"  found: {len(verdict.parts)} signed part(s)")
    for part in verdict.parts:
        where = "root" if part.is_root else part.path
        state = "valid" if part.valid else "INVALID"
        body.append(f"    part {where} ({part.form}, {part.media_type}, "
                    f"{part.covered_octets} octets): {state}")  # fmt: skip
        body += _problem_lines(part.problems, "      ")
        for one in part.signers:
            who = ", ".join(one.addresses) or "unknown signer"
            state = "valid" if one.valid else "INVALID"
            body.append(f"      signer {one.index} {who} ({one.digest}, "
                        f"{one.signature_algorithm}): {state}")  # fmt: skip
            body += _problem_lines(one.problems, "        ")
    if verdict.problems:
        body.append("    message:")
        body += _problem_lines(verdict.problems, "      ")
    body += [f"  note: {note}" for note in verdict.notes]
    if reference is not None:
        body.append("  openssl-rejects: mimeseal accepts the signature, "
                    "`openssl cms -verify -purpose smimesign` does not:")  # fmt: skip
        body += [f"    {line}" for line in reference.splitlines()[-6:]]
    raise _fail("S/MIME signature not valid", codes, body)


def _openssl_check(
    data: bytes,
    anchors: list[x509.Certificate],
    verdict: SmimeVerdict,
    openssl: bool | None,
    now: datetime | None,
) -> str | None:
    """OpenSSL's complaint, or None when it agrees or is not asked."""
    if openssl is False:
        return None
    from mimeseal import references
    from mimeseal.mime import to_crlf

    ed25519 = any(s.signature_algorithm == "ed25519" for s in verdict.signers)
    reason = None
    if shutil.which("openssl") is None:
        reason = "the openssl command is not on PATH"
    elif ed25519 and not references.openssl_verifies_ed25519():
        reason = "this OpenSSL cannot verify Ed25519 CMS signatures (3.2 or newer can)"
    elif now is not None:
        reason = "OpenSSL judges certificates at the current time, not at now="
    if reason is not None:
        if openssl:
            raise UsageError(f"openssl=True, but {reason}; pass openssl=None to skip it then")
        return None
    result = references.openssl_cms_verify(to_crlf(data), anchors)
    return None if result.ok else (result.output or "openssl failed without a message")


# --------------------------------------------------------------------------- DKIM


def assert_dkim_valid(
    message: MessageInput,
    records: RecordsInput,
    *,
    domain: str | None = None,
    selector: str | None = None,
    headers: Iterable[str] = (),
    now: datetime | int | None = None,
    dkimpy: bool | None = None,
    every: bool = True,
) -> list[DkimResult]:
    """Assert that ``message`` is DKIM-authenticated and (by default) every signature passes.

    Authenticated is :func:`mimeseal.dkim.message_verdict`'s ``pass``, as the CLI and the
    checker decide: a signature verifies, its key record is not in testing mode (``t=y``),
    and the message has one From field and no shown field left unsigned above a signed one.
    ``every``: True (the default) also fails on any other signature that does not pass;
    False accepts what a receiver accepts, one authenticating signature. ``records`` are the
    key records: a mapping of ``sel._domainkey.domain`` to TXT values, a callable, a DKIM
    test key (``mimeseal_dkim_key``), or None to ask DNS. ``domain`` and ``selector``: an
    authenticating signature must have that d= (and s=). ``headers``: header names that
    signature must cover (say ``"List-Unsubscribe"``). ``now`` fixes the clock for t=/x=
    (a timezone-aware datetime or POSIX seconds). ``dkimpy``: None also checks with dkimpy,
    the reference receiver, when it is installed; True requires that; False skips it.
    dkimpy has no clock parameter, so with ``now`` it is not asked about a signature whose
    t=/x= it would judge differently at the real time. Returns one result per signature.

    >>> assert_dkim_valid(sealed, mimeseal_dkim_key, domain="example.com")
    """
    __tracebackhide__ = True
    from mimeseal import dkim

    data, source = message_bytes(message), record_source(records)
    if isinstance(now, datetime) and now.utcoffset() is None:
        raise UsageError("now= is a naive datetime; give it a time zone (timezone.utc)")
    try:
        results = dkim.verify(data, records=source, now=now)
    except MimesealError as exc:
        raise _fail("DKIM signature cannot be verified", ["unreadable"],
                    [f"  {type(exc).__name__}: {exc}"]) from None  # fmt: skip
    verdict = dkim.message_verdict(results)
    codes: list[str] = [
        r.status for r in results if not r.passed and (every or not verdict.authenticated)
    ]
    if not verdict.authenticated:
        codes += _verdict_codes(verdict)
    matching = [
        r for r in results if r.authenticates
        and (domain is None or (r.domain or "").lower() == domain.lower().rstrip("."))
        and (selector is None or (r.selector or "").lower() == selector.lower())
    ]  # fmt: skip
    if (domain or selector) and verdict.authenticated and not matching:
        codes.append("domain-mismatch")
    needed = [h.strip().lower() for h in headers]
    unsigned = [h for h in needed if matching and not any(h in r.signed_headers for r in matching)]
    if unsigned:
        codes.append("header-not-signed")
    dissent: list[str] = []
    if not codes:
        dissent = _dkimpy_check(data, source, results, dkimpy, now)
        if any(line.startswith("  dkimpy-rejects") for line in dissent):
            codes.append("dkimpy-rejects")
    if not codes:
        return results
    expected = "the message DKIM-authenticated" + (", every signature passing" if every else "")
    if domain or selector:
        expected += f", one with d={domain or '*'} s={selector or '*'}"
    if needed:
        expected += f" covering {', '.join(needed)}"
    body = [f"  expected: {expected}", f"  verdict: {verdict.status} — {verdict.reason}",
            f"  found: {len(results)} DKIM signature(s)"]  # fmt: skip
    for r in results:
        body.append(f"    [{r.index}] d={r.domain} s={r.selector} a={r.algorithm}: "
                    f"{r.status} — {r.reason}")  # fmt: skip
        body.append(f"        h={':'.join(r.signed_headers)}")
        body += [f"        note: {n}" for n in r.notes]
    if unsigned:
        body.append(f"  header-not-signed: {', '.join(unsigned)} not in h= of the signature")
    body += dissent
    if now is not None:
        when = now.isoformat() if isinstance(now, datetime) else str(now)
        body.append(f"  t=/x= judged at: {when}")
    body.append("  records: " + _records_text(source))
    raise _fail("DKIM signature not valid", codes, body)


def _verdict_codes(verdict: DkimVerdict) -> list[str]:
    """Problem codes for a message that is not DKIM-authenticated."""
    if verdict.status == "none":
        return ["no-signature"]
    codes = list(verdict.problems)
    if verdict.status == "testing":
        codes.append("testing")
    return codes or ["not-authenticated"]


def _records_text(source: RecordSource) -> str:
    if source is None:
        return "looked up in DNS"
    if callable(source):
        return "from the callable given"
    return ", ".join(sorted(source)) or "none given"


def _dkimpy_check(
    data: bytes,
    source: RecordSource,
    results: list[DkimResult],
    dkimpy: bool | None,
    now: datetime | int | None,
) -> list[str]:
    """Lines on where dkimpy disagrees with mimeseal's pass (``dkimpy-rejects: …``), or
    notes on the signatures it was not asked about; empty when it agrees."""
    if dkimpy is False:
        return []
    try:
        import dkim as dkimpy_module
    except ImportError:
        if dkimpy:
            raise UsageError(
                "dkimpy=True, but dkimpy is not installed (pip install dkimpy)"
            ) from None
        return []
    find = lookup_function(source)
    options: dict[str, Any] = {}
    if find is not None:

        def dnsfunc(name: bytes | str, timeout: float = 5) -> bytes | None:
            text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
            value = find(text.rstrip("."))
            return value.encode("ascii") if value else None

        options["dnsfunc"] = dnsfunc
    lines = []
    for result in (r for r in results if r.passed):
        if now is not None and not _dkimpy_clock_agrees(result):
            lines.append(f"  note: [{result.index}] not checked with dkimpy: it judges t=/x= "
                         "at the real time and has no clock parameter")  # fmt: skip
            continue
        try:
            ok = bool(dkimpy_module.DKIM(data).verify(idx=result.index, **options))
            why = "signature did not verify"
        except Exception as exc:  # dkimpy raises its own types, and others, on odd input
            ok, why = False, f"{type(exc).__name__}: {exc}"
        if not ok:
            lines.append(f"  dkimpy-rejects: [{result.index}] passes in mimeseal, but dkimpy "
                         f"(the reference receiver) says: {why}")  # fmt: skip
    return lines


DKIMPY_SLACK = 36_000  # dkimpy 1.1 accepts t= up to 10 hours ahead and x= 10 hours past


def _dkimpy_clock_agrees(result: DkimResult) -> bool:
    """Would dkimpy, judging at the real time, accept this signature's t= and x=?"""
    import time

    real = int(time.time())
    if result.timestamp is not None and result.timestamp > real + DKIMPY_SLACK:
        return False
    return result.expires is None or result.expires >= real - DKIMPY_SLACK


# --------------------------------------------------------------------------- survival


def assert_survives(
    message: MessageInput,
    profile: str | Profile = "ses",
    *,
    trust: TrustInput | None = None,
    dkim_records: RecordsInput = None,
    now: datetime | None = None,
    references: bool | None = None,
    signed: bool = True,
    ignore: Iterable[str] = (),
    strict: bool = False,
) -> Report:
    """Assert that the checker finds no error: every signature verifies and survives transit.

    Runs :func:`mimeseal.check.check` under ``profile`` (``ses``, ``smtp``, ``strict`` or a
    ``Profile``): signatures on the original bytes and after each transformation the profile
    requires them to survive, plus the lint rules. ``trust``/``dkim_records`` as for the other
    assertions (without ``trust``, S/MIME chains end at the certificates the message carries).
    ``signed``: at least one signature must be found. ``ignore``: finding ids to tolerate.
    ``strict``: warnings fail too. Returns the report.

    >>> assert_survives(sealed, "ses", trust=mimeseal_pki, dkim_records=mimeseal_dkim_key)
    """
    __tracebackhide__ = True
    from mimeseal.check import check

    data = message_bytes(message)
    anchors = trust_anchors(trust) if trust is not None else []
    report = check(data, profile=profile, trust=anchors, dkim_records=record_source(dkim_records),
                   now=now, references=references)  # fmt: skip
    skip = set(ignore)
    levels = ("error", "warning") if strict else ("error",)
    failing = [f for f in report.findings if f.severity in levels and f.rule not in skip]
    codes = [f.rule for f in failing]
    if signed and not report.signatures:
        codes.insert(0, "no-signature")
    if not codes:
        return report
    expected = "no error findings" + (" and no warnings" if strict else "")
    if signed:
        expected += "; at least one signature, and every signature survives"
    body = [f"  expected: {expected} (profile {report.profile})"]
    if skip:
        body.append(f"  ignored: {', '.join(sorted(skip))}")
    body += ["", *report.render(colour=False).splitlines()]
    raise _fail(f"message will not survive profile {report.profile}", codes, body)


# --------------------------------------------------------------------------- invitations


def assert_invite(
    message: MessageInput,
    method: str = "REQUEST",
    *,
    uid: str | None = None,
    sequence: int | None = None,
    attendees: Iterable[str] | None = None,
    organizer: str | None = None,
    summary: str | None = None,
    status: str | None = None,
    strict: bool = False,
) -> Invite:
    """Assert that ``message`` is an invitation clients will show, with the iTIP method given.

    Reads the first text/calendar (or .ics) part, checks METHOD, the RFC 5546 rules of that
    method, the checker's calendar rules (method= matching METHOD, VTIMEZONE, floating times,
    where the part sits) and the values asked for: ``uid``, ``sequence``, ``attendees`` (the
    exact set of addresses), ``organizer``, ``summary``, ``status``. ``strict``: calendar
    warnings fail too. Returns the parsed :class:`~mimeseal.invite.Invite`.

    >>> assert_invite(cancellation, "CANCEL", uid=request_uid, sequence=2)
    """
    __tracebackhide__ = True
    from mimeseal.invite import from_message, validate

    data = message_bytes(message)
    wanted_method = method.strip().upper()
    findings, notes = _calendar_findings(data, strict)
    try:
        invite = from_message(data)
    except MimesealError as exc:
        raise _fail("no readable invitation", ["unreadable", *(c for c, _ in findings)],
                    [f"  expected: METHOD:{wanted_method}", f"  found: {exc}",
                     *(f"  {c}: {text}" for c, text in findings)]) from None  # fmt: skip
    problems: list[tuple[str, str]] = []
    if invite.method != wanted_method:
        problems.append(("method-mismatch", f"METHOD:{invite.method}, expected {wanted_method}"))
    try:
        validate(invite)
    except MimesealError as exc:
        problems.append(("itip-invalid", str(exc)))
    problems += _value_problems(invite, uid, sequence, organizer, summary, status, attendees)
    problems += findings
    if not problems:
        return invite
    body = [f"  expected: METHOD:{wanted_method}" + "".join(
        f", {label} {value}" for label, value in (
            ("UID", uid), ("SEQUENCE", sequence), ("ORGANIZER", organizer),
            ("SUMMARY", summary), ("STATUS", status),
        ) if value is not None)]  # fmt: skip
    body.append(f"  found: METHOD:{invite.method}, UID {invite.uid}, SEQUENCE {invite.sequence}, "
                f"ORGANIZER {invite.organizer.address}, "
                f"ATTENDEE {', '.join(a.address for a in invite.attendees) or 'none'}")  # fmt: skip
    body += [f"  {code}: {text}" for code, text in problems]
    body += [f"  note: {text}" for text in notes]
    raise _fail("invitation not as expected", [c for c, _ in problems], body)


def _value_problems(
    invite: Invite, uid: str | None, sequence: int | None, organizer: str | None,
    summary: str | None, status: str | None, attendees: Iterable[str] | None,
) -> list[tuple[str, str]]:  # fmt: skip
    found: list[tuple[str, str]] = []
    if uid is not None and invite.uid != uid:
        found.append(("uid-mismatch", f"UID {invite.uid}, expected {uid}"))
    if sequence is not None and invite.sequence != sequence:
        found.append(("sequence-mismatch", f"SEQUENCE {invite.sequence}, expected {sequence}"))
    if organizer is not None and invite.organizer.address.lower() != organizer.strip().lower():
        found.append(("organizer-mismatch",
                      f"ORGANIZER {invite.organizer.address}, expected {organizer}"))  # fmt: skip
    if summary is not None and invite.summary != summary:
        found.append(("summary-mismatch", f"SUMMARY {invite.summary!r}, expected {summary!r}"))
    if status is not None and (invite.status or "").upper() != status.upper():
        found.append(("status-mismatch", f"STATUS {invite.status}, expected {status.upper()}"))
    if attendees is not None:
        wanted = set(_addresses(attendees))
        present = {a.address.lower() for a in invite.attendees}
        if wanted != present:
            missing, extra = sorted(wanted - present), sorted(present - wanted)
            found.append(("attendees-mismatch", f"missing {', '.join(missing) or 'none'}; "
                          f"not expected {', '.join(extra) or 'none'}"))  # fmt: skip
    return found


def _calendar_findings(data: bytes, strict: bool) -> tuple[list[tuple[str, str]], list[str]]:
    """The checker's calendar rules: (failing rule, text) pairs and notes for the rest."""
    from mimeseal.check.profiles import get_profile
    from mimeseal.check.rules import run_rules
    from mimeseal.check.rules_calendar import RULES as CALENDAR_RULES
    from mimeseal.check.view import build_view

    ids = {rule.id for rule in CALENDAR_RULES}
    try:
        findings = run_rules(build_view(data), get_profile("smtp"))
    except MimesealError as exc:
        return [("unreadable", f"{type(exc).__name__}: {exc}")], []
    failing, notes = [], []
    for finding in findings:
        if finding.rule not in ids:
            continue
        text = f"{finding.message} ({finding.location}); fix: {finding.fix}"
        if finding.severity == "error" or (strict and finding.severity == "warning"):
            failing.append((finding.rule, text))
        else:
            notes.append(f"{finding.severity} {finding.rule}: {text}")
    return failing, notes
