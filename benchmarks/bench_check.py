"""Checker benchmark: ``mimeseal.check.check`` on signed messages, against the time to sign them.

Run ``python benchmarks/bench_check.py [--size-mb 10] [--small-kb 50] [--repeat 3]``.

Two messages go through the same pipeline: ``mimeseal.compose`` (a UTF-8 text body, sent as
quoted-printable, and a base64 attachment of pseudo-random octets), ``mimeseal.smime.sign``
with a development PKI (RSA-2048), then ``mimeseal.dkim.sign(..., profile="ses")`` with its own
RSA-2048 key. For each, the signing (S/MIME + DKIM, in-process) is timed against
``check(signed, profile="ses", trust=[ca], dkim_records=records)`` with ``references`` left
at its default and forced off and on. A breakdown then times, with wrappers around the
checker's own functions, every transformation and every receiver (mimeseal S/MIME, mimeseal
DKIM, dkimpy, OpenSSL) inside one call in each mode. Figures are wall-clock
(``time.perf_counter``); targets are reported as met or missed, never asserted. The benchmark
fails only if signing or a check does not give the expected result, so it never times a
failure.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import importlib
import importlib.util
import io
import json
import os
import platform
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

import cryptography
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from _common import BenchmarkError, add_output_options, no_check, timed_runs
from mimeseal import compose, dkim, keys, pki, references, smime
from mimeseal.check import Report, check
from mimeseal.check import survival as survival_module
from mimeseal.check import view as view_module
from mimeseal.check.profiles import get_profile
from mimeseal.check.transforms import TRANSFORMS

SENDER = "alice@example.com"
RECIPIENT = "bob@example.org"
DOMAIN = "example.com"
SELECTOR = "sel"
PROFILE = "ses"
SIGN_RATIO_TARGET = 20.0  # check < 20× the time to sign the same message (10 MiB)
SMALL_TARGET_MS = 200.0  # check of the small message under 200 ms
MODES: tuple[tuple[str, bool | None], ...] = (("auto", None), ("off", False), ("on", True))
MODE_LABELS = {
    "auto": "references=None (default)",
    "off": "references=False",
    "on": "references=True",
}
_WORDS_TEXT = (
    "Quartalsabschluss statement Übersicht invoice Prüfung payment Größe delivery account "
    "Überweisung balance schedule contract Änderung review meeting Straße office report "
    "résumé attached figures München customer reference naïve period total über summary"
)

P = ParamSpec("P")
R = TypeVar("R")
_CHECKER = importlib.import_module("mimeseal.check")  # the package module, not the function


# --------------------------------------------------------------------------- the inputs


def letter_text(octets: int, seed: int) -> str:
    """About ``octets`` octets of UTF-8 letter text: paragraphs of 72-column lines, umlauts."""
    rng, words = random.Random(seed), _WORDS_TEXT.split()
    out: list[str] = ["Dear Bob,", "", "the figures for the quarter are attached. Grüße!", ""]
    size = sum(len(line.encode("utf-8")) + 1 for line in out)
    line: list[str] = []
    while size < octets:
        word = rng.choice(words)
        if sum(len(w) + 1 for w in line) + len(word) > 72:
            text = " ".join(line)
            out.append(text)
            size += len(text.encode("utf-8")) + 1
            line = []
            if rng.random() < 0.12:
                out.append("")
                size += 1
        line.append(word)
    out += [" ".join(line), "", "Alice", ""]
    return "\n".join(out)


def build_message(size: int, attachment_share: float, seed: int = 8551) -> bytes:
    """A composed message of about ``size`` octets, ``attachment_share`` of it base64."""

    def message(text: str, attachment: bytes | None) -> bytes:
        return compose.compose(
            from_=f"Alice Example <{SENDER}>",
            to=[f"Bob <{RECIPIENT}>"],
            subject="Quarterly statement and figures",
            text=text,
            attachments=[compose.Attachment("statement.pdf", attachment)] if attachment else [],
            message_id=f"<statement-{seed}@{DOMAIN}>",
            always_mixed=True,
        )

    text = letter_text(int(size * (1 - attachment_share) * 0.85), seed)  # QP grows it ~15%
    without = message(text, None)
    if attachment_share == 0:
        return without
    encoded = max(size - len(without) - 200, 57)  # 200: the attachment's part headers
    raw = random.Random(seed).randbytes(encoded * 57 // 78)  # 57 octets per 78-octet line
    return message(text, raw)


@dataclass(frozen=True)
class Material:
    """Keys and certificates for one run: a dev PKI for S/MIME, a DKIM key and its record."""

    key: keys.SigningKey
    cert: x509.Certificate
    ca: x509.Certificate
    dkim_key: rsa.RSAPrivateKey
    records: dict[str, str]


def make_material(directory: Path) -> Material:
    pki.write_dev_pki(directory, [SENDER], key_type="rsa2048")
    dkim_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return Material(
        key=keys.load_private_key_file(directory / f"{SENDER}.key.pem"),
        cert=keys.load_certificate_file(directory / f"{SENDER}.pem"),
        ca=keys.load_certificate_file(directory / "ca.pem"),
        dkim_key=dkim_key,
        records={dkim.record_name(SELECTOR, DOMAIN): dkim.format_key_record(dkim_key.public_key())},
    )


# --------------------------------------------------------------------------- the operations


def smime_sign(message: bytes, m: Material) -> bytes:
    return smime.sign(message, key=m.key, cert=m.cert, chain=[m.ca])


def dkim_sign(message: bytes, m: Material) -> bytes:
    return dkim.sign(message, key=m.dkim_key, domain=DOMAIN, selector=SELECTOR, profile=PROFILE)


def sign_both(message: bytes, m: Material) -> bytes:
    return dkim_sign(smime_sign(message, m), m)


def verify_both(signed: bytes, m: Material) -> tuple[smime.SmimeVerdict, list[dkim.DkimResult]]:
    return smime.verify(signed, trust=[m.ca]), dkim.verify(signed, records=m.records)


def run_check(signed: bytes, m: Material, refs: bool | None) -> Report:
    return check(signed, profile=PROFILE, trust=[m.ca], dkim_records=m.records, references=refs)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def verified_check(m: Material, what: str) -> Callable[[Any], None]:
    def checked(signed: bytes) -> None:
        check_verified(verify_both(signed, m), what)

    return checked


def check_verified(result: tuple[smime.SmimeVerdict, list[dkim.DkimResult]], what: str) -> None:
    verdict, results = result
    if not verdict.valid:
        listed = "; ".join(f"{p.code}: {p.message}" for p in verdict.all_problems())
        raise BenchmarkError(f"the S/MIME signature on {what} does not verify: {listed}")
    if len(results) != 1 or not results[0].passed:
        reasons = "; ".join(r.reason for r in results) or "no DKIM-Signature"
        raise BenchmarkError(f"the DKIM signature on {what} does not verify: {reasons}")


def report_check(what: str, refs: bool | None) -> Callable[[Any], None]:
    """A check result must show both signatures valid, and survival of every must-survive step.

    With references on, the original must also carry the reference receivers' verdicts, and
    they must agree (when dkimpy and openssl are installed).
    """

    def checked(report: Report) -> None:
        kinds = sorted(row.kind for row in report.signatures)
        if kinds != ["dkim", "smime"]:
            raise BenchmarkError(f"check found signatures {kinds} on {what}, not one of each")
        for row in report.signatures:
            if not row.valid or any(v.valid is False for v in row.original):
                said = "; ".join(f"{v.receiver}: {v.reason}" for v in row.original)
                raise BenchmarkError(f"check says {row.label} on {what} is invalid: {said}")
            wanted = {"smime": "openssl", "dkim": "dkimpy"}[row.kind]
            if refs is not False and available(wanted) and wanted not in receivers_of(row):
                raise BenchmarkError(f"check did not run {wanted} on the original {what}")
        must = {t.id for t in report.transforms if t.must_survive}
        broken = [f"{c.transform}/{c.signature}" for c in report.matrix
                  if c.transform in must and c.state != "survives"]  # fmt: skip
        if broken:
            raise BenchmarkError(f"check says must-survive cells break on {what}: {broken}")

    return checked


def receivers_of(row: survival_module.SignatureRow) -> set[str]:
    return {v.receiver for v in row.original}


def available(receiver: str) -> bool:
    if receiver == "openssl":
        return shutil.which("openssl") is not None
    return importlib.util.find_spec("dkim") is not None


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Row:
    """One measured operation; times in milliseconds."""

    key: str
    label: str
    times_ms: tuple[float, ...]

    @property
    def best_ms(self) -> float:
        return min(self.times_ms)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)


def measure(
    key: str,
    label: str,
    operation: Callable[[], object],
    check_result: Callable[[Any], None],
    *,
    repeat: int,
    warmup: int,
) -> Row:
    """Time ``operation`` ``repeat`` times after ``warmup`` runs; check every result (untimed)."""
    print(f"  timing {label} …", file=sys.stderr, flush=True)
    times = timed_runs(operation, check_result, repeat=repeat, warmup=warmup)
    return Row(key, label, times)


@dataclass(frozen=True)
class Section:
    name: str
    message: bytes
    signed: bytes
    rows: tuple[Row, ...]

    def row(self, key: str) -> Row:
        return next(r for r in self.rows if r.key == key)


def time_section(name: str, message: bytes, m: Material, *, repeat: int, warmup: int) -> Section:
    signed = sign_both(message, m)
    check_verified(verify_both(signed, m), f"the {name} message")
    what = f"the {name} message"
    ops: list[tuple[str, str, Callable[[], object], Callable[[Any], None]]] = [
        ("floor", "sha256(signed message) (floor)", partial(sha256, signed), no_check),
        ("smime-sign", "S/MIME sign (mimeseal)", partial(smime_sign, message, m), no_check),
        ("dkim-sign", "DKIM sign, profile=ses (mimeseal)",
         partial(dkim_sign, smime_sign(message, m), m), no_check),
        ("sign", "sign: S/MIME + DKIM", partial(sign_both, message, m), verified_check(m, what)),
        ("verify", "verify once: S/MIME + DKIM (mimeseal)", partial(verify_both, signed, m),
         partial(check_verified, what=what)),
    ]  # fmt: skip
    for mode, refs in MODES:
        ops.append((f"check-{mode}", f"check, {MODE_LABELS[mode]}",
                    partial(run_check, signed, m, refs), report_check(what, refs)))  # fmt: skip
    rows = [measure(k, label, op, ok, repeat=repeat, warmup=warmup) for k, label, op, ok in ops]
    return Section(name, message, signed, tuple(rows))


# --------------------------------------------------------------------------- the breakdown


@dataclass
class Tally:
    """Exclusive time (nested timed calls subtracted) of one component in one phase."""

    seconds: float = 0.0
    calls: int = 0
    inputs: set[bytes] = field(default_factory=set)


OWN = "check() own code (report digest, findings)"
GROUPS = {  # component label → the receiver or stage it belongs to, for the per-phase table
    "mimeseal S/MIME verify": "smime",
    "mimeseal DKIM verify": "dkim",
    "dkimpy verify": "dkimpy",
    "openssl cms -verify (process)": "openssl",
    "openssl version probe (process)": "openssl",
    "openssl Ed25519 pre-check (parses CMS)": "openssl",
}


class Breakdown:
    """Wrappers that time the checker's functions inside one ``check`` call.

    Each timed call's nested timed calls are subtracted from its own time, so the tallies add
    up to the whole call. Time is kept per phase: "original" until the first transformation
    runs, then the transformation's id (the receivers that run next judge its output).
    Recording which distinct inputs a receiver saw costs time that is kept out of every tally.
    """

    def __init__(self) -> None:
        self.tallies: dict[tuple[str, str], Tally] = {}
        self.phase = "original"
        self.changed: dict[str, bool] = {}
        self.bookkeeping = 0.0
        self._children: list[float] = []

    def _exclude(self, seconds: float) -> None:
        self.bookkeeping += seconds
        if self._children:
            self._children[-1] += seconds

    def timed(
        self, label: str, fn: Callable[P, R], *, input_at: int | None = None,
        transform: str | None = None,
    ) -> Callable[P, R]:  # fmt: skip
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if transform is not None:
                self.phase = transform
            tally = self.tallies.setdefault((self.phase, label), Tally())
            if input_at is not None:
                begin = time.perf_counter()
                tally.inputs.add(
                    hashlib.blake2b(cast(bytes, args[input_at]), digest_size=16).digest()
                )
                self._exclude(time.perf_counter() - begin)
            self._children.append(0.0)
            start = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                children = self._children.pop()
                tally.seconds += elapsed - children
                tally.calls += 1
                if self._children:
                    self._children[-1] += elapsed
            if transform is not None:
                begin = time.perf_counter()
                self.changed[transform] = result != args[0]
                self._exclude(time.perf_counter() - begin)
            return result

        return wrapper

    def component(self, label: str) -> Tally:
        """One component summed over the phases (distinct inputs united)."""
        total = Tally()
        for (_, name), tally in self.tallies.items():
            if name == label:
                total.seconds += tally.seconds
                total.calls += tally.calls
                total.inputs |= tally.inputs
        return total

    def transforms_total(self) -> Tally:
        total = Tally()
        for (_, name), tally in self.tallies.items():
            if name.startswith("transform "):
                total.seconds += tally.seconds
                total.calls += tally.calls
        return total

    def total(self) -> float:
        return sum(t.seconds for t in self.tallies.values())


@contextmanager
def instrumented(bd: Breakdown) -> Iterator[None]:
    """Patch the checker's functions with ``bd``'s timers for the duration (restored after)."""
    receivers = survival_module.Receivers
    patches: list[tuple[Any, str, str, int | None]] = [
        (_CHECKER, "build_view", "message view (build_view)", 0),
        (view_module, "build_view", "message view (build_view)", 0),
        (_CHECKER, "run_rules", "lint rules", None),
        (_CHECKER, "dkim_labels", "DKIM labels (own code)", None),
        (_CHECKER, "_after", "cell glue (_after: compare with original)", None),
        (receivers, "verdicts", "verdict cache key (sha256 of message)", None),
        (survival_module, "_smime_verdicts", "mimeseal S/MIME verify", 0),
        (survival_module, "_dkim_verdicts", "mimeseal DKIM verify", 0),
        (survival_module, "_dkim_b_values", "DKIM b= values (own code)", None),
        (receivers, "_references", "reference glue (to_crlf …)", None),
        (survival_module, "_openssl_can_verify", "openssl Ed25519 pre-check (parses CMS)", None),
        (references, "openssl_version", "openssl version probe (process)", None),
        (references, "openssl_cms_verify", "openssl cms -verify (process)", 0),
        (receivers, "_dkimpy_verdict", "dkimpy verify", 1),
    ]
    saved: list[tuple[Any, str, Any]] = []
    saved_transforms = dict(TRANSFORMS)
    try:
        for owner, name, label, input_at in patches:
            original = owner.__dict__[name]
            saved.append((owner, name, original))
            setattr(owner, name, bd.timed(label, original, input_at=input_at))
        for key, transform in saved_transforms.items():
            wrapped = bd.timed(f"transform {key}", transform.apply, transform=key)
            TRANSFORMS[key] = replace(transform, apply=wrapped)
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)
        TRANSFORMS.update(saved_transforms)


def breakdown(signed: bytes, m: Material, refs: bool | None, what: str) -> Breakdown:
    """One instrumented check (after an untimed warm-up call has loaded everything)."""
    print(f"  breakdown {what}, {MODE_LABELS[_mode(refs)]} …", file=sys.stderr, flush=True)
    bd = Breakdown()
    gc.collect()
    with instrumented(bd):
        report = bd.timed(OWN, run_check)(signed, m, refs)
    report_check(what, refs)(report)
    return bd


def _mode(refs: bool | None) -> str:
    return next(mode for mode, value in MODES if value is refs)


def profile(signed: bytes, m: Material, top: int) -> str:
    profiler = cProfile.Profile()
    report_check("the large message", None)(profiler.runcall(run_check, signed, m, None))
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    text = stream.getvalue().strip("\n")
    return (
        f"--- cProfile: check(large message, {MODE_LABELS['auto']}), top {top} by tottime\n{text}"
    )


# --------------------------------------------------------------------------- output


def _size(octets: int) -> str:
    return f"{octets / 2**20:.2f} MiB" if octets >= 2**20 else f"{octets / 1024:.1f} KiB"


def render_section(section: Section) -> list[str]:
    sign = section.row("sign")
    out = [
        f"{section.name} message: {len(section.message):,} octets composed, "
        f"{len(section.signed):,} signed ({_size(len(section.signed))})",
        f"{'operation':<44} {'best ms':>9} {'median ms':>9} {'÷ sign':>8}",
    ]
    for row in section.rows:
        out.append(
            f"{row.label:<44} {row.best_ms:>9.1f} {row.median_ms:>9.1f} "
            f"{row.best_ms / sign.best_ms:>7.1f}×"
        )
    return out


def _cell(tally: Tally, with_inputs: bool) -> str:
    if not tally.calls:
        return f"{'-':>8} {'':<6}"
    count = f"{tally.calls}/{len(tally.inputs)}" if with_inputs else f"{tally.calls}"
    return f"{tally.seconds * 1000:>8.1f} {count:<6}"


COMPONENTS = (
    "mimeseal S/MIME verify",
    "mimeseal DKIM verify",
    "dkimpy verify",
    "openssl cms -verify (process)",
    "openssl version probe (process)",
    "openssl Ed25519 pre-check (parses CMS)",
    "reference glue (to_crlf …)",
    "transformations (apply)",
    "message view (build_view)",
    "lint rules",
    "DKIM b= values (own code)",
    "DKIM labels (own code)",
    "verdict cache key (sha256 of message)",
    "cell glue (_after: compare with original)",
    OWN,
)
WITH_INPUTS = {
    "mimeseal S/MIME verify",
    "mimeseal DKIM verify",
    "dkimpy verify",
    "openssl cms -verify (process)",
    "message view (build_view)",
}


def _tally(bd: Breakdown, label: str) -> Tally:
    return bd.transforms_total() if label == "transformations (apply)" else bd.component(label)


def render_components(columns: Sequence[tuple[str, Breakdown, float]]) -> list[str]:
    """Per component (summed over phases): ms and calls (calls/distinct inputs) per column."""
    first = columns[0][1]
    order = sorted(COMPONENTS, key=lambda label: -_tally(first, label).seconds)
    head = f"{'component (exclusive time)':<42}" + "".join(f" {n:>15}" for n, _, _ in columns)
    out = [head, f"{'':<42}" + f" {'ms':>8} {'calls':<6}" * len(columns)]
    for label in order:
        cells = "".join(
            f" {_cell(_tally(bd, label), label in WITH_INPUTS)}" for _, bd, _ in columns
        )
        out.append(f"{label:<42}{cells}")
    out.append(
        f"{'sum of components':<42}"
        + "".join(f" {bd.total() * 1000:>8.1f} {'':<6}" for _, bd, _ in columns)
    )
    out.append(
        f"{'check, uninstrumented (best timed run)':<42}"
        + "".join(f" {best:>8.1f} {'':<6}" for _, _, best in columns)
    )
    out.append(
        f"{'  (timer bookkeeping, excluded)':<42}"
        + "".join(f" {bd.bookkeeping * 1000:>8.1f} {'':<6}" for _, bd, _ in columns)
    )
    return out


def render_phases(bd: Breakdown, phases: Sequence[str]) -> list[str]:
    """Per phase: the transformation's own time and what the receivers then spent on its output."""
    head = (
        f"{'phase':<28} {'changed':>7} {'apply':>8} {'S/MIME':>8} {'DKIM':>8} {'dkimpy':>8} "
        f"{'openssl':>8} {'other':>8} {'total':>8}"
    )
    out = [head]
    for phase in ["original", *phases]:
        sums = dict.fromkeys(("apply", "smime", "dkim", "dkimpy", "openssl", "other"), 0.0)
        for (where, label), tally in bd.tallies.items():
            if where != phase or label == OWN:
                continue
            group = "apply" if label.startswith("transform ") else GROUPS.get(label, "other")
            sums[group] += tally.seconds * 1000
        changed = "-" if phase == "original" else "yes" if bd.changed.get(phase) else "no"
        name = "original (view, lint, …)" if phase == "original" else phase
        out.append(
            f"{name:<28} {changed:>7} "
            + " ".join(f"{sums[k]:>8.1f}" for k in sums)
            + f" {sum(sums.values()):>8.1f}"
        )
    own = bd.component(OWN).seconds * 1000
    out.append(f"{'check() own code':<28} {'':>7} {'':>8} " + " " * 45 + f"{own:>8.1f}")
    out.append(f"{'total':<28} {'':>7} {'':>8} " + " " * 45 + f"{bd.total() * 1000:>8.1f}")
    return out


SUMMARY = (
    ("transformations", ("transformations (apply)",)),
    ("mimeseal receivers", ("mimeseal S/MIME verify", "mimeseal DKIM verify")),
    ("reference receivers", ("dkimpy verify", "openssl cms -verify (process)",
                             "openssl version probe (process)",
                             "openssl Ed25519 pre-check (parses CMS)",
                             "reference glue (to_crlf …)")),
)  # fmt: skip


def render_summary(columns: Sequence[tuple[str, Breakdown, float]]) -> list[str]:
    """Where the time goes: transformations, mimeseal's receivers, the references, the rest."""
    out = []
    for name, bd, _ in columns:
        total = bd.total()
        shares = []
        for group, labels in SUMMARY:
            spent = sum(_tally(bd, label).seconds for label in labels)
            shares.append((group, spent))
        shares.append(("parsing, lint, glue", total - sum(s for _, s in shares)))
        listed = ", ".join(f"{g} {s * 1000:.0f} ms ({s / total:.0%})" for g, s in shares)
        out.append(f"  {name:<13} {listed}")
    return ["where the time goes (share of the instrumented call)", *out]


def top_costs(bd: Breakdown, count: int) -> list[str]:
    merged: dict[str, float] = {}
    for (phase, label), tally in bd.tallies.items():
        name = label if label.startswith("transform ") else f"{label} [{phase}]"
        merged[name] = merged.get(name, 0.0) + tally.seconds
    total = bd.total()
    ranked = sorted(merged.items(), key=lambda item: -item[1])[:count]
    return [f"  {s * 1000:>8.1f} ms {s / total:>6.1%}  {name}" for name, s in ranked]


def targets(large: Section, small: Section) -> list[tuple[str, str, float, bool]]:
    sign = large.row("sign").best_ms
    found = []
    for mode, _ in MODES:
        ratio = large.row(f"check-{mode}").best_ms / sign
        name = f"{large.name}: check, {MODE_LABELS[mode]} ÷ sign"
        if mode != "auto":
            name += " (info)"
        found.append((name, f"< {SIGN_RATIO_TARGET:.0f}×", ratio, ratio < SIGN_RATIO_TARGET))
    for mode, _ in MODES:
        row = small.row(f"check-{mode}")
        suffix = "" if mode == "auto" else " (info)"
        for which, value in (("best", row.best_ms), ("median", row.median_ms)):
            name = f"{small.name}: check, {MODE_LABELS[mode]}, {which}{suffix}"
            found.append((name, f"< {SMALL_TARGET_MS:.0f} ms", value, value < SMALL_TARGET_MS))
    return found


def render(
    sections: Sequence[Section],
    large_bd: Sequence[tuple[str, Breakdown, float]],
    small_bd: Breakdown,
    info: dict[str, Any],
    top: int,
) -> str:
    large, small = sections
    out = [
        f"mimeseal check benchmark — profile={PROFILE}, S/MIME and DKIM keys RSA-2048; best and "
        f"median of {info['repeat']} ({large.name}) / {info['small_repeat']} ({small.name}) runs "
        f"after {info['warmup']} warm-up",
        f"Python {info['python']}, cryptography {info['cryptography']}, dkimpy "
        f"{info['dkimpy'] or 'not installed'}, {info['openssl'] or 'openssl: not found'}",
        f"{info['platform']}, {info['cpus']} CPUs",
        f"messages: compose(text → quoted-printable, statement.pdf → base64 ≈ "
        f"{info['attachment_share']:.0%}) → smime.sign → dkim.sign(profile='ses')",
        f"reference receivers (dkimpy, openssl) run on every cell up to "
        f"{info['reference_limit'] // 2**20} MiB by default, above only on the original and "
        "where mimeseal's verdict changes",
        "",
    ]
    for section in sections:
        out += [*render_section(section), ""]
    out += ["targets (from the issue; best times unless marked; never asserted)"]
    for name, goal, value, met in targets(large, small):
        shown = f"{value:.1f}×" if goal.endswith("×") else f"{value:.1f} ms"
        out.append(f"  {name:<60} {goal:>9} {shown:>10}  {'met' if met else 'MISSED'}")
    columns = [(f"{large.name} {mode}", bd, best) for mode, bd, best in large_bd]
    columns.append((f"{small.name} auto", small_bd, small.row("check-auto").best_ms))
    out += [
        "",
        "breakdown: one instrumented check per column (auto = references=None, off = False,",
        "on = True); ms = exclusive time (nested timed calls subtracted), calls/N = calls on N",
        "distinct messages",
        *render_components(columns),
        "",
        *render_summary(columns),
        "",
        f"per phase, {large.name}, references=None: each transformation, then the receivers on "
        "its output",
        *render_phases(large_bd[0][1], info["transforms"]),
        "",
        f"per phase, {large.name}, references=True",
        *render_phases(large_bd[2][1], info["transforms"]),
        "",
        f"top {top} costs, {large.name}, references=None (component [phase])",
        *top_costs(large_bd[0][1], top),
        "",
        f"top {top} costs, {large.name}, references=True (component [phase])",
        *top_costs(large_bd[2][1], top),
    ]
    return "\n".join(out)


def _version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def openssl_version() -> str | None:
    exe = shutil.which("openssl")
    if exe is None:
        return None
    import subprocess

    done = subprocess.run([exe, "version"], capture_output=True, check=False)
    return done.stdout.decode("ascii", "replace").strip() or None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=float, default=10.0, help="large message, MiB")
    parser.add_argument("--small-kb", type=float, default=50.0, help="small message, KiB")
    parser.add_argument("--attachment-share", type=float, default=0.7,
                        help="share of each message that is the base64 attachment")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, large message")
    parser.add_argument("--small-repeat", type=int, default=15, help="timed runs, small message")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before timing")
    parser.add_argument("--top", type=int, default=12, help="top costs listed")
    add_output_options(parser, memory=False)
    args = parser.parse_args(argv)
    if min(args.repeat, args.small_repeat) < 1 or args.warmup < 0:
        parser.error("--repeat and --small-repeat must be ≥ 1, --warmup ≥ 0")
    if args.size_mb <= 0 or args.small_kb <= 0 or not 0 <= args.attachment_share < 1:
        parser.error("sizes must be > 0 and --attachment-share in [0, 1)")
    large_name, small_name = f"{args.size_mb:g} MiB", f"{args.small_kb:g} KiB"
    with tempfile.TemporaryDirectory(prefix="mimeseal-bench-check-") as temp:
        print("preparing the PKI, the keys and the messages …", file=sys.stderr, flush=True)
        m = make_material(Path(temp) / "pki")
    large_message = build_message(int(args.size_mb * 2**20), args.attachment_share)
    small_message = build_message(int(args.small_kb * 1024), args.attachment_share)
    compose_row = measure(
        "compose", "compose (for information)",
        partial(build_message, int(args.size_mb * 2**20), args.attachment_share), no_check,
        repeat=1, warmup=0,
    )  # fmt: skip
    large = time_section(large_name, large_message, m, repeat=args.repeat, warmup=args.warmup)
    large = replace(large, rows=(*large.rows[:1], compose_row, *large.rows[1:]))
    small = time_section(small_name, small_message, m, repeat=args.small_repeat,
                         warmup=args.warmup)  # fmt: skip
    large_bd = [
        (mode, breakdown(large.signed, m, refs, large_name), large.row(f"check-{mode}").best_ms)
        for mode, refs in MODES
    ]
    small_bd = breakdown(small.signed, m, None, small_name)
    profiled = profile(large.signed, m, args.profile) if args.profile else ""
    info: dict[str, Any] = {
        "repeat": args.repeat,
        "small_repeat": args.small_repeat,
        "warmup": args.warmup,
        "attachment_share": args.attachment_share,
        "reference_limit": survival_module.REFERENCE_LIMIT,
        "transforms": list(get_profile(PROFILE).transforms),
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "dkimpy": _version("dkimpy"),
        "openssl": openssl_version(),
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
    }
    print(render([large, small], large_bd, small_bd, info, args.top))
    if profiled:
        print()
        print(profiled)
    if args.json:
        figures = {
            "info": info,
            "sections": [
                {
                    "name": s.name,
                    "message_octets": len(s.message),
                    "signed_octets": len(s.signed),
                    "rows": [
                        {**asdict(r), "best_ms": r.best_ms, "median_ms": r.median_ms}
                        for r in s.rows
                    ],
                }
                for s in (large, small)
            ],
            "targets": [
                {"name": n, "goal": g, "value": v, "met": ok}
                for n, g, v, ok in targets(large, small)
            ],
            "breakdown": {
                name: {
                    f"{phase}|{label}": {
                        "ms": t.seconds * 1000,
                        "calls": t.calls,
                        "distinct_inputs": len(t.inputs),
                    }
                    for (phase, label), t in bd.tallies.items()
                }
                for name, bd in [(f"large-{n}", b) for n, b, _ in large_bd] + [("small", small_bd)]
            },
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
