"""Side-by-side DKIM benchmark: mimeseal against dkimpy and a bare ``cryptography`` signature.

Run ``python benchmarks/bench_dkim.py [--size-mb 10] [--memory-mb 40] [--repeat 3]``.

Everything runs in one process, on the same messages and the same keys (RSA-2048, plus an
Ed25519 key for informational rows), with relaxed/relaxed canonicalization and the same ``h=``
list for both signers (mimeseal's default list, given to dkimpy as ``include_headers``):

- a message of about 2 KiB, signed and verified ``--iterations`` times per timed round
  (throughput); the floor is a bare RSA-2048 PKCS#1 v1.5 SHA-256 signature of 400 octets;
- a ``--size-mb`` MiB text body of lines full of white-space runs and trailing white space;
- a ``--size-mb`` MiB base64 body in 76-character lines;
- peak memory for signing a ``--memory-mb`` MiB message with each of those bodies, each
  signer run once per body in a fresh process.

Every signature made — while preparing and by every timed call — is verified by both mimeseal
and dkimpy outside the timed region; any failure stops the benchmark with an error, so it
never times a failure. The targets from the issue are reported as met or missed, not asserted.

``--child NAME --workdir DIR`` is an internal mode: it signs one prepared message once and
prints the growth of the process's peak resident set (``ru_maxrss``) and tracemalloc's peak.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import gc
import hashlib
import io
import json
import platform
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import cryptography
import dkim as dkimpy
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from _common import (
    BenchmarkError,
    add_output_options,
    child_report,
    maxrss_bytes,
    no_check,
    timed_runs,
    traced_peak,
)
from mimeseal import dkim as mimeseal_dkim

DOMAIN = "example.com"
SELECTOR = "sel"
RECORD_NAME = f"{SELECTOR}._domainkey.{DOMAIN}"
CANONICALIZATION = (b"relaxed", b"relaxed")
SMALL_OCTETS = 2048
FLOOR_OCTETS = 400
BODIES = ("whitespace", "base64")
_WORDS = (
    "signature", "digest", "domain", "selector", "canonical", "header", "body", "octet", "line",
    "mailbox", "sender", "recipient", "relay", "envelope", "record", "key", "hash", "relaxed",
    "simple", "folding", "white", "space", "tab",
)  # fmt: skip
_SEPARATORS = (" ", " ", "  ", "   ", " \t ", "\t", " \t", "\t\t")
_TRAILERS = ("", " ", "  ", "\t", " \t ", "   ")


# --------------------------------------------------------------------------- the inputs


def header_block(content_type: str, encoding: str) -> bytes:
    """The header block (ending in its blank line) every benchmark message starts with."""
    fields = (
        "From: Alice Example <alice@example.com>",
        "To: Bob Example <bob@example.org>",
        "Subject: mimeseal DKIM benchmark message",
        "Date: Mon, 01 Jun 2026 09:00:00 +0000",
        "Message-ID: <dkim-benchmark@example.com>",
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}",
        f"Content-Transfer-Encoding: {encoding}",
    )
    return ("\r\n".join(fields) + "\r\n\r\n").encode("ascii")


def _fill(head: bytes, block: bytes, size: int) -> bytes:
    """``head`` and copies of ``block`` (CRLF lines), cut at a line end, about ``size`` octets."""
    wanted = max(size - len(head), 2)
    body = block * (wanted // len(block) + 1)
    end = body.rfind(b"\r\n", 0, wanted) + 2
    return head + body[: end if end > 2 else body.index(b"\r\n") + 2]


def small_message(size: int = SMALL_OCTETS, seed: int = 6376) -> bytes:
    """An ordinary text message of about ``size`` octets (single spaces, no trailing ones)."""
    rng = random.Random(seed)
    lines = []
    for _ in range(64):
        text = " ".join(rng.choice(_WORDS) for _ in range(14))[:72].rstrip()
        lines.append(text.encode("ascii") + b"\r\n")
    head = header_block("text/plain; charset=us-ascii", "7bit")
    return _fill(head, b"".join(lines), size)


def whitespace_message(size: int, seed: int = 6376) -> bytes:
    """A text body whose lines are full of white-space runs and end in white space.

    Lines look like ``word   word \\t word  ``: the worst case for relaxed body
    canonicalization, which must squeeze every run and strip every line end.
    """
    rng = random.Random(seed)
    lines = []
    for _ in range(1024):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(3, 10))]
        text = words[0]
        for word in words[1:]:
            text += rng.choice(_SEPARATORS) + word
        lines.append((text[:70] + rng.choice(_TRAILERS)).encode("ascii") + b"\r\n")
    head = header_block("text/plain; charset=us-ascii", "7bit")
    return _fill(head, b"".join(lines), size)


def base64_message(size: int, seed: int = 6376) -> bytes:
    """A base64 body (pseudo-random octets) in CRLF lines of 76 characters."""
    head = header_block("application/octet-stream", "base64")
    raw = random.Random(seed).randbytes(max(size - len(head), 78) * 57 // 78 + 57)
    block = base64.encodebytes(raw).replace(b"\n", b"\r\n")
    return _fill(head, block, size)


def body_message(body: str, size: int) -> bytes:
    return whitespace_message(size) if body == "whitespace" else base64_message(size)


@dataclass(frozen=True)
class Keys:
    """One RSA-2048 and one Ed25519 key, in the forms each implementation takes."""

    rsa_key: rsa.RSAPrivateKey
    rsa_pem: bytes  # PKCS#1 PEM: dkimpy reads only this form
    rsa_record: str
    ed_key: ed25519.Ed25519PrivateKey
    ed_seed: bytes  # base64 of the 32-octet seed, dkimpy's Ed25519 key form
    ed_record: str

    def private(self, algorithm: str) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
        return self.rsa_key if algorithm == "rsa" else self.ed_key

    def record(self, algorithm: str) -> str:
        return self.rsa_record if algorithm == "rsa" else self.ed_record

    def for_dkimpy(self, algorithm: str) -> bytes:
        return self.rsa_pem if algorithm == "rsa" else self.ed_seed


def rsa_keys(private: rsa.RSAPrivateKey) -> tuple[bytes, str]:
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return pem, mimeseal_dkim.format_key_record(private.public_key())


def make_keys() -> Keys:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem, record = rsa_keys(private)
    ed = ed25519.Ed25519PrivateKey.generate()
    seed = ed.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    ed_record = mimeseal_dkim.format_key_record(ed.public_key())
    return Keys(private, pem, record, ed, base64.b64encode(seed), ed_record)


def load_rsa(directory: Path) -> tuple[rsa.RSAPrivateKey, str]:
    """The RSA key and its key record, as the parent wrote them to ``directory``."""
    key = serialization.load_pem_private_key((directory / "rsa.pem").read_bytes(), None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise BenchmarkError("rsa.pem does not hold an RSA private key")
    return key, (directory / "rsa.txt").read_text(encoding="ascii")


# --------------------------------------------------------------------------- the operations


def mimeseal_sign(message: bytes, key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    """The signed message (mimeseal returns the message with its DKIM-Signature prepended)."""
    return mimeseal_dkim.sign(
        message, key=key, domain=DOMAIN, selector=SELECTOR, canonicalization=("relaxed", "relaxed")
    )


def dkimpy_sign(message: bytes, key: bytes, algorithm: str, headers: Sequence[bytes]) -> bytes:
    """The DKIM-Signature header only (what ``dkim.sign`` returns; prepend it to the message)."""
    header: bytes = dkimpy.sign(
        message,
        SELECTOR.encode("ascii"),
        DOMAIN.encode("ascii"),
        key,
        canonicalize=CANONICALIZATION,
        signature_algorithm=b"rsa-sha256" if algorithm == "rsa" else b"ed25519-sha256",
        include_headers=list(headers),
    )
    return header


def mimeseal_verify(signed: bytes, record: str) -> list[mimeseal_dkim.DkimResult]:
    return mimeseal_dkim.verify(signed, records={RECORD_NAME: record})


def dkimpy_verify(signed: bytes, record: str) -> bool:
    value = record.encode("ascii")
    wanted = RECORD_NAME.encode("ascii")

    def dnsfunc(name: bytes, timeout: float = 5) -> bytes | None:
        return value if name.rstrip(b".").lower() == wanted else None

    return bool(dkimpy.verify(signed, dnsfunc=dnsfunc))


def check_mimeseal_results(results: list[mimeseal_dkim.DkimResult], what: str) -> None:
    if len(results) != 1 or not results[0].passed:
        found = "; ".join(f"{r.status}: {r.reason}" for r in results) or "no DKIM-Signature"
        raise BenchmarkError(f"mimeseal.dkim.verify did not pass {what}: {found}")


def check_dkimpy_result(ok: bool, what: str) -> None:
    if not ok:
        raise BenchmarkError(f"dkimpy's dkim.verify returned False for {what}")


def check_signed(signed: bytes, record: str, what: str) -> None:
    """Both verifiers must accept ``signed``; raise :class:`BenchmarkError` otherwise."""
    check_mimeseal_results(mimeseal_verify(signed, record), what)
    check_dkimpy_result(dkimpy_verify(signed, record), what)


def check_dkimpy_header(header: bytes, message: bytes, record: str, what: str) -> None:
    check_signed(header + message, record, what)


def check_bare_rsa(signature: bytes, key: rsa.RSAPublicKey, data: bytes) -> None:
    key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())


def check_bare_ed25519(signature: bytes, key: ed25519.Ed25519PublicKey, data: bytes) -> None:
    key.verify(signature, data)


def signed_headers(signed: bytes, record: str) -> tuple[bytes, ...]:
    """The ``h=`` list of the (only) signature on ``signed``, as mimeseal reads it."""
    results = mimeseal_verify(signed, record)
    check_mimeseal_results(results, "the h= probe")
    return tuple(name.encode("ascii") for name in results[0].signed_headers)


# --------------------------------------------------------------------------- preparing


@dataclass(frozen=True)
class Section:
    """One message and what is timed on it."""

    key: str
    title: str
    message: bytes
    iterations: int  # calls per timed round
    note: str = ""


@dataclass(frozen=True)
class Operation:
    key: str
    label: str
    run: Callable[[], object]
    check: Callable[[Any], None] = no_check
    floor: str = "floor"  # key of the row the "÷ floor" column divides by


def signed_pair(
    message: bytes, keys: Keys, algorithm: str, what: str
) -> tuple[bytes, bytes, tuple[bytes, ...]]:
    """mimeseal's and dkimpy's signed messages, each checked by both verifiers, and h=.

    dkimpy is given mimeseal's ``h=`` list, and the benchmark checks that its signature
    ended up with the same list, so both sign exactly the same header fields.
    """
    record = keys.record(algorithm)
    ours = mimeseal_sign(message, keys.private(algorithm))
    check_signed(ours, record, f"mimeseal's {algorithm} signature of the {what}")
    headers = signed_headers(ours, record)
    theirs = dkimpy_sign(message, keys.for_dkimpy(algorithm), algorithm, headers) + message
    check_signed(theirs, record, f"dkimpy's {algorithm} signature of the {what}")
    if signed_headers(theirs, record) != headers:
        raise BenchmarkError(
            f"dkimpy signed other header fields than mimeseal for the {what} "
            f"({signed_headers(theirs, record)!r} vs {headers!r}); the comparison would be unfair"
        )
    return ours, theirs, headers


def sign_and_verify_ops(
    message: bytes, keys: Keys, algorithm: str, what: str, suffix: str = "", floor: str = "floor"
) -> list[Operation]:
    """mimeseal and dkimpy sign, and the three verify rows, for one message and key."""
    ours, theirs, headers = signed_pair(message, keys, algorithm, what)
    record = keys.record(algorithm)
    name = "rsa-sha256" if algorithm == "rsa" else "ed25519-sha256"
    nacl = " (PyNaCl)" if algorithm == "ed25519" else ""
    return [
        Operation(
            "mimeseal-sign" + suffix,
            f"mimeseal dkim.sign, {name}",
            partial(mimeseal_sign, message, keys.private(algorithm)),
            partial(check_signed, record=record, what=f"a timed mimeseal signature ({what})"),
            floor,
        ),
        Operation(
            "dkimpy-sign" + suffix,
            f"dkimpy dkim.sign, {name}{nacl}",
            partial(dkimpy_sign, message, keys.for_dkimpy(algorithm), algorithm, headers),
            partial(
                check_dkimpy_header,
                message=message,
                record=record,
                what=f"a timed dkimpy signature ({what})",
            ),
            floor,
        ),
        Operation(
            "mimeseal-verify" + suffix,
            f"mimeseal dkim.verify, {name}, own signature",
            partial(mimeseal_verify, ours, record),
            partial(check_mimeseal_results, what=f"mimeseal's signature ({what})"),
            floor,
        ),
        Operation(
            "mimeseal-verify-dkimpy" + suffix,
            f"mimeseal dkim.verify, {name}, dkimpy's signature",
            partial(mimeseal_verify, theirs, record),
            partial(check_mimeseal_results, what=f"dkimpy's signature ({what})"),
            floor,
        ),
        Operation(
            "dkimpy-verify" + suffix,
            f"dkimpy dkim.verify, {name}, own signature",
            partial(dkimpy_verify, theirs, record),
            partial(check_dkimpy_result, what=f"dkimpy's signature ({what})"),
            floor,
        ),
    ]


def small_operations(message: bytes, keys: Keys) -> list[Operation]:
    """The RSA rows with their floor, then the Ed25519 rows (for information) with theirs."""
    data = message[:FLOOR_OCTETS]
    digest = hashlib.sha256(data).digest()
    pkcs1 = padding.PKCS1v15()
    return [
        Operation(
            "floor",
            f"bare RSA-2048 sign, {FLOOR_OCTETS} octets (floor)",
            partial(keys.rsa_key.sign, data, pkcs1, hashes.SHA256()),
            partial(check_bare_rsa, key=keys.rsa_key.public_key(), data=data),
        ),
        *sign_and_verify_ops(message, keys, "rsa", "small message"),
        Operation(
            "floor-ed25519",
            "bare Ed25519 sign, SHA-256 digest (floor)",
            partial(keys.ed_key.sign, digest),
            partial(check_bare_ed25519, key=keys.ed_key.public_key(), data=digest),
            "floor-ed25519",
        ),
        *[
            op
            for op in sign_and_verify_ops(
                message, keys, "ed25519", "small message", "-ed25519", "floor-ed25519"
            )
            if op.key != "mimeseal-verify-dkimpy-ed25519"
        ],
    ]


def large_operations(message: bytes, keys: Keys, what: str) -> list[Operation]:
    return [
        Operation("floor", "sha256(message) (floor)", partial(sha256, message)),
        *sign_and_verify_ops(message, keys, "rsa", what),
    ]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Row:
    """One measured operation: the wall-clock time of each timed round, in milliseconds."""

    section: str
    key: str
    label: str
    floor: str
    iterations: int
    round_ms: tuple[float, ...]

    @property
    def best_ms(self) -> float:
        """Per call, from the fastest round."""
        return min(self.round_ms) / self.iterations

    @property
    def median_ms(self) -> float:
        return statistics.median(self.round_ms) / self.iterations


def measure(section: Section, op: Operation, *, repeat: int, warmup: int) -> Row:
    """Time rounds of ``section.iterations`` calls; ``op.check`` every result, untimed."""

    def one_round() -> list[object]:
        return [op.run() for _ in range(section.iterations)]

    def check_round(results: list[object]) -> None:
        for result in results:
            op.check(result)

    rounds = timed_runs(one_round, check_round, repeat=repeat, warmup=warmup)
    return Row(section.key, op.key, op.label, op.floor, section.iterations, rounds)


def run_timings(
    plan: Sequence[tuple[Section, Sequence[Operation]]], *, repeat: int, warmup: int
) -> list[Row]:
    rows = []
    for section, ops in plan:
        for op in ops:
            print(f"  timing {section.key}: {op.label} …", file=sys.stderr, flush=True)
            rows.append(measure(section, op, repeat=repeat, warmup=warmup))
    return rows


# --------------------------------------------------------------------------- child mode

CHILD_OPERATIONS = tuple(f"{who}-{body}" for body in BODIES for who in ("mimeseal", "dkimpy"))


def run_child(name: str, directory: Path) -> dict[str, Any]:
    """Sign one prepared message in this (fresh) process; report RSS growth and traced peak.

    A warm-up on the first 4 KiB of the same message loads every lazily imported module and
    compiled pattern first, so the growth is the call's own working memory. The call is then
    repeated under tracemalloc; both results are verified by mimeseal and dkimpy.
    """
    if name not in CHILD_OPERATIONS:
        raise BenchmarkError(f"unknown child operation {name!r}; use one of {CHILD_OPERATIONS}")
    who, _, body = name.partition("-")
    key, record = load_rsa(directory)
    message = (directory / f"memory-{body}.eml").read_bytes()
    start_of_body = message.index(b"\r\n\r\n") + 4
    tiny = message[: message.index(b"\r\n", start_of_body + 4096) + 2]
    headers = signed_headers(mimeseal_sign(tiny, key), record)
    operation: Callable[[], bytes]
    check: Callable[[bytes], None]
    what = f"{who}'s signature of the {len(message):,}-octet {body} message"
    if who == "mimeseal":
        check_signed(mimeseal_sign(tiny, key), record, "the warm-up")
        operation = partial(mimeseal_sign, message, key)
        check = partial(check_signed, record=record, what=what)
    else:
        pem = (directory / "rsa.pem").read_bytes()
        check_dkimpy_header(dkimpy_sign(tiny, pem, "rsa", headers), tiny, record, "the warm-up")
        operation = partial(dkimpy_sign, message, pem, "rsa", headers)
        check = partial(check_dkimpy_header, message=message, record=record, what=what)
    gc.collect()
    before = maxrss_bytes()
    start = time.perf_counter()
    result = operation()
    seconds = time.perf_counter() - start
    after = maxrss_bytes()
    check(result)
    first = hashlib.sha256(result).digest()
    del result

    def same_or_verified(again: bytes) -> None:  # identical bytes are already verified
        if hashlib.sha256(again).digest() != first:
            check(again)

    traced = traced_peak(operation, same_or_verified)
    return {
        "name": name,
        "octets": len(message),
        "seconds": seconds,
        "before": before,
        "after": after,
        "growth": after - before,
        "traced_peak": traced,
    }


@dataclass(frozen=True)
class MemoryRow:
    key: str
    label: str
    body: str
    octets: int
    seconds: float
    traced_peak_bytes: int
    rss_growth_bytes: int
    rss_total_bytes: int


def run_memory(keys: Keys, directory: Path, size: int) -> list[MemoryRow]:
    """Write the large messages and the key, then sign each once per signer in a child."""
    (directory / "rsa.pem").write_bytes(keys.rsa_pem)
    (directory / "rsa.txt").write_text(keys.rsa_record, encoding="ascii")
    for body in BODIES:
        (directory / f"memory-{body}.eml").write_bytes(body_message(body, size))
    rows = []
    for name in CHILD_OPERATIONS:
        who, _, body = name.partition("-")
        label = f"{who} dkim.sign, {body} body"
        print(f"  memory {label} (one call, fresh process) …", file=sys.stderr, flush=True)
        report, peak = child_report(__file__, name, directory)
        rows.append(
            MemoryRow(
                name,
                label,
                body,
                int(report["octets"]),
                float(report["seconds"]),
                int(report["traced_peak"]),
                int(report["growth"]),
                peak,
            )
        )
    return rows


# --------------------------------------------------------------------------- comparisons


@dataclass(frozen=True)
class Comparison:
    section: str
    operation: str
    mimeseal: str
    reference: str
    best_speedup: float  # reference time ÷ mimeseal time (above 1: mimeseal is faster)
    median_speedup: float
    target: float | None = None


@dataclass(frozen=True)
class Target:
    """One goal from the issue and where this run stands."""

    goal: str
    value: float
    relation: str  # "≥", "≤" or "<"
    threshold: float
    unit: str = "×"
    detail: str = ""
    met: bool = field(init=False)

    def __post_init__(self) -> None:
        met = {
            "≥": self.value >= self.threshold,
            "≤": self.value <= self.threshold,
            "<": self.value < self.threshold,
        }[self.relation]
        object.__setattr__(self, "met", met)


#: (section, operation, mimeseal row, reference row, target speed-up or None)
PAIRS: tuple[tuple[str, str, str, str, float | None], ...] = (
    ("small", "RSA sign", "mimeseal-sign", "dkimpy-sign", 15.0),
    ("small", "RSA verify, own signatures", "mimeseal-verify", "dkimpy-verify", 5.0),
    ("small", "RSA verify, dkimpy's signature", "mimeseal-verify-dkimpy", "dkimpy-verify", 5.0),
    ("small", "Ed25519 sign", "mimeseal-sign-ed25519", "dkimpy-sign-ed25519", None),
    ("small", "Ed25519 verify, own", "mimeseal-verify-ed25519", "dkimpy-verify-ed25519", None),
    ("whitespace", "sign", "mimeseal-sign", "dkimpy-sign", 10.0),
    ("whitespace", "verify, own signatures", "mimeseal-verify", "dkimpy-verify", 5.0),
    ("whitespace", "verify, dkimpy's signature", "mimeseal-verify-dkimpy", "dkimpy-verify", 5.0),
    ("base64", "sign", "mimeseal-sign", "dkimpy-sign", 5.0),
    ("base64", "verify, own signatures", "mimeseal-verify", "dkimpy-verify", 5.0),
    ("base64", "verify, dkimpy's signature", "mimeseal-verify-dkimpy", "dkimpy-verify", 5.0),
)
MEMORY_TARGET = 3.0


def compare(rows: Sequence[Row]) -> list[Comparison]:
    by_key = {(row.section, row.key): row for row in rows}
    found = []
    for section, operation, ours, theirs, target in PAIRS:
        mine, ref = by_key.get((section, ours)), by_key.get((section, theirs))
        if mine is None or ref is None:
            continue
        found.append(
            Comparison(
                section,
                operation,
                ours,
                ref.label,
                ref.best_ms / mine.best_ms,
                ref.median_ms / mine.median_ms,
                target,
            )
        )
    return found


def targets(
    rows: Sequence[Row],
    comparisons: Sequence[Comparison],
    memory: Sequence[MemoryRow],
    titles: dict[str, str],
) -> list[Target]:
    found = []
    for c in comparisons:
        if c.target is not None:
            goal = f"{titles[c.section]}: {c.operation} ≥ {c.target:g}× faster than dkimpy"
            found.append(Target(goal, c.best_speedup, "≥", c.target, detail="best times"))
    by_key = {(row.section, row.key): row for row in rows}
    sign, floor = by_key.get(("small", "mimeseal-sign")), by_key.get(("small", "floor"))
    if sign and floor:
        found.insert(
            1,
            Target(
                f"{titles['small']}: RSA sign within 2× of a bare RSA-2048 signature",
                sign.best_ms / floor.best_ms,
                "≤",
                2.0,
                detail="mimeseal time ÷ bare signature time",
            ),
        )
    for m in memory:
        if not m.key.startswith("mimeseal-"):
            continue
        for what, octets in (("tracemalloc peak", m.traced_peak_bytes),
                             ("RSS growth", m.rss_growth_bytes)):  # fmt: skip
            found.append(
                Target(
                    f"{m.octets / 2**20:.0f} MiB {m.body} message: sign {what} < "
                    f"{MEMORY_TARGET:g}× the message",
                    octets / m.octets,
                    "<",
                    MEMORY_TARGET,
                    detail="÷ message size",
                )
            )
    return found


# --------------------------------------------------------------------------- output


def _mb(octets: int) -> str:
    return f"{octets / 2**20:.1f}"


def _size(octets: int) -> str:
    return f"{octets / 2**20:.2f} MiB" if octets >= 2**20 else f"{octets / 2**10:.1f} KiB"


def render_section(section: Section, rows: Sequence[Row], info: dict[str, Any]) -> list[str]:
    floors = {row.key: row for row in rows}
    size = len(section.message)
    out = [
        f"{section.title} — {size:,} octets ({_size(size)}), "
        f"{section.iterations} call{'s' if section.iterations > 1 else ''} per round, "
        f"best and median of {info['repeat']} rounds (after {info['warmup']} warm-up)",
    ]
    if section.note:
        out.append(section.note)
    small = section.iterations > 1
    if small:
        out.append(
            f"{'operation':<54} {'best µs':>9} {'median µs':>9} {'best /s':>9} {'÷ floor':>8}"
        )
    else:
        out.append(f"{'operation':<54} {'best ms':>9} {'median ms':>9} {'MiB/s':>9} {'÷ floor':>8}")
    for row in rows:
        ratio = row.best_ms / floors[row.floor].best_ms
        if small:
            figures = (
                f"{row.best_ms * 1000:>9.1f} {row.median_ms * 1000:>9.1f} "
                f"{1000 / row.best_ms:>9,.0f}"
            )
        else:
            figures = (
                f"{row.best_ms:>9.1f} {row.median_ms:>9.1f} "
                f"{size / 2**20 / (row.best_ms / 1000):>9,.1f}"
            )
        out.append(f"{row.label:<54} {figures} {ratio:>7.1f}×")
    return out


def render(
    sections: Sequence[Section],
    rows: Sequence[Row],
    comparisons: Sequence[Comparison],
    memory: Sequence[MemoryRow],
    goals: Sequence[Target],
    info: dict[str, Any],
) -> str:
    out = [
        f"mimeseal DKIM benchmark — mimeseal vs dkimpy {info['dkimpy']}, "
        f"c=relaxed/relaxed, RSA-2048 (Ed25519 rows for information)",
        f"Python {info['python']}, cryptography {info['cryptography']}, "
        f"PyNaCl {info['pynacl']}, {info['platform']}",
        f"h= (both signers): {info['signed_headers']}",
    ]
    for section in sections:
        out.append("")
        out += render_section(section, [r for r in rows if r.section == section.key], info)
    out += ["", "speed-up = dkimpy time ÷ mimeseal time (above 1 = mimeseal faster)"]
    titles = {s.key: s.key for s in sections}
    for c in comparisons:
        target = f"target ≥ {c.target:g}×" if c.target is not None else "(no target)"
        out.append(
            f"  {titles[c.section]:<10} {c.operation:<31} best {c.best_speedup:6.2f}× "
            f"median {c.median_speedup:6.2f}×  {target}"
        )
    if memory:
        out += [
            "",
            f"peak memory signing a {_mb(memory[0].octets)} MiB message (one call per row, "
            "each in a fresh process; MiB, ×msg = ÷ message size)",
            f"{'operation':<36} {'time s':>7} {'tracemalloc':>11} {'×msg':>6} "
            f"{'RSS growth':>10} {'×msg':>6} {'RSS total':>9}",
        ]
        for m in memory:
            out.append(
                f"{m.label:<36} {m.seconds:>7.2f} {_mb(m.traced_peak_bytes):>11} "
                f"{m.traced_peak_bytes / m.octets:>5.2f}× {_mb(m.rss_growth_bytes):>10} "
                f"{m.rss_growth_bytes / m.octets:>5.2f}× {_mb(m.rss_total_bytes):>9}"
            )
        out += [
            "time s = that one call, untraced. tracemalloc = peak Python-heap bytes during a",
            "  second, traced call. RSS growth = ru_maxrss after − before the untraced call",
            "  (inputs loaded, code warmed up first). RSS total = the child's whole peak RSS.",
        ]
    out += ["", "targets from the issue (reported, not asserted)"]
    for goal in goals:
        verdict = "met   " if goal.met else "MISSED"
        out.append(f"  {verdict} {goal.goal:<70} {goal.value:7.2f}{goal.unit}  ({goal.detail})")
    met = sum(goal.met for goal in goals)
    out.append(f"  {met} of {len(goals)} targets met")
    return "\n".join(out)


def profile(message: bytes, keys: Keys, top: int) -> str:
    """cProfile one call each of mimeseal's sign and verify on ``message`` (warmed up)."""
    out = []
    signed = mimeseal_sign(message, keys.rsa_key)
    check_signed(signed, keys.rsa_record, "the profiled signature")
    for name in ("sign", "verify"):
        profiler = cProfile.Profile()
        if name == "sign":
            profiler.runcall(mimeseal_sign, message, keys.rsa_key)
        else:
            results = profiler.runcall(mimeseal_verify, signed, keys.rsa_record)
            check_mimeseal_results(results, "the profiled signature")
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.strip_dirs().sort_stats("cumulative").print_stats(top)
        text = stream.getvalue().strip("\n")
        out += [
            f"--- cProfile: mimeseal.dkim.{name}, whitespace body ({len(message):,} octets), "
            f"top {top} by cumulative",
            text,
        ]
    return "\n\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=float, default=10.0, help="large bodies, MiB")
    parser.add_argument("--memory-mb", type=float, default=40.0, help="memory rows' size, MiB")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds per row")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds before timing")
    parser.add_argument(
        "--iterations", type=int, default=200, help="calls per round on the small message"
    )
    add_output_options(parser)
    args = parser.parse_args(argv)
    if args.child:
        if args.workdir is None:
            parser.error("--child needs --workdir")
        print(json.dumps(run_child(args.child, args.workdir)))
        return 0
    if args.repeat < 1 or args.warmup < 0 or args.iterations < 1:
        parser.error("--repeat and --iterations must be ≥ 1, --warmup ≥ 0")
    if args.size_mb <= 0 or args.memory_mb <= 0:
        parser.error("--size-mb and --memory-mb must be > 0")
    started = time.perf_counter()
    print("preparing keys and messages, checking every signature …", file=sys.stderr, flush=True)
    keys = make_keys()
    size = int(args.size_mb * 2**20)
    sections = [
        Section(
            "small",
            "small message",
            small_message(),
            args.iterations,
            f"(text/plain, single-spaced; the floors sign its first {FLOOR_OCTETS} octets (RSA) "
            "or their SHA-256 digest (Ed25519))",
        ),
        Section(
            "whitespace",
            "whitespace body",
            whitespace_message(size),
            1,
            "(text/plain; lines like 'word   word \\t word  ': white-space runs and trailing "
            "white space)",
        ),
        Section(
            "base64",
            "base64 body",
            base64_message(size),
            1,
            "(application/octet-stream, base64 of pseudo-random octets in 76-character lines)",
        ),
    ]
    plan = [
        (sections[0], small_operations(sections[0].message, keys)),
        *[(s, large_operations(s.message, keys, f"{s.key} message")) for s in sections[1:]],
    ]
    headers = signed_headers(mimeseal_sign(sections[0].message, keys.rsa_key), keys.rsa_record)
    rows = run_timings(plan, repeat=args.repeat, warmup=args.warmup)
    memory: list[MemoryRow] = []
    if not args.no_memory:
        with tempfile.TemporaryDirectory(prefix="mimeseal-bench-dkim-") as temp:
            memory = run_memory(keys, Path(temp), int(args.memory_mb * 2**20))
    profiled = profile(sections[1].message, keys, args.profile) if args.profile else ""
    comparisons = compare(rows)
    goals = targets(rows, comparisons, memory, {s.key: s.title for s in sections})
    info: dict[str, Any] = {
        "message_octets": {s.key: len(s.message) for s in sections},
        "iterations": args.iterations,
        "repeat": args.repeat,
        "warmup": args.warmup,
        "signed_headers": b":".join(headers).decode("ascii"),
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "dkimpy": metadata.version("dkimpy"),
        "pynacl": metadata.version("pynacl"),
        "platform": platform.platform(terse=True),
    }
    print(render(sections, rows, comparisons, memory, goals, info))
    if profiled:
        print()
        print(profiled)
    elapsed = time.perf_counter() - started
    info["elapsed_seconds"] = elapsed
    print(f"\n(whole benchmark: {elapsed:.0f} s)")
    if args.json:
        figures = {
            "info": info,
            "rows": [
                {**asdict(row), "best_ms": row.best_ms, "median_ms": row.median_ms} for row in rows
            ],
            "comparisons": [asdict(c) for c in comparisons],
            "memory": [asdict(m) for m in memory],
            "targets": [asdict(goal) for goal in goals],
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
