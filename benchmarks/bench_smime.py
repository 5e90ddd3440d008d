"""Side-by-side S/MIME benchmark: mimeseal against OpenSSL's CLI and ``cryptography``.

Run ``python benchmarks/bench_smime.py [--size-mb 10] [--repeat 5] [--key-type rsa2048]``.

Every row works on the same message (a 7-bit, CRLF, 76-character-line text body) and the same
key and certificate, issued by a development PKI written to a temporary directory. Timings are
wall-clock (``time.perf_counter``); OpenSSL rows time the whole ``openssl`` process (start-up,
reading the key and files, writing the output), mimeseal and ``cryptography`` rows time the
in-process call only. This is a comparison, not a pass/fail test: it fails only if an
operation does not succeed, so that it never times a failure.

``--child NAME --workdir DIR`` is an internal mode: it runs one operation on the files the
parent prepared and prints the growth of the process's peak resident set (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import os
import platform
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import cryptography
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from _common import (
    BenchmarkError,
    add_output_options,
    check_process,
    child_report,
    launch,
    maxrss_bytes,
    no_check,
    run_process,
    timed_runs,
    traced_peak,
)
from mimeseal import keys, pki, smime

SENDER = "alice@example.com"
RECIPIENT = "bob@example.com"
LINE_LENGTH = 76
CONTENT_HEADER = b"Content-Type: text/plain; charset=us-ascii\r\n"
NO_CMS_VERIFY = "skipped: cryptography has no PKCS#7/CMS verification API"
_WORDS_TEXT = (
    "signature digest certificate message entity canonical boundary header body octet line "
    "mailbox sender recipient transport relay envelope chain anchor issuer subject serial "
    "attribute content encoding quoted printable base64 compliance calendar invitation sealed"
)


# --------------------------------------------------------------------------- the inputs


def build_message(size: int, seed: int = 8551) -> tuple[bytes, bytes]:
    """Return (message, content entity) of about ``size`` octets in total.

    The body is lower-case 7-bit text in CRLF lines of exactly 76 characters, none starting
    with "From " or "." and none ending in white space, so no signer needs to re-encode it.
    The entity (Content-Type header, blank line, body) is what every signer signs.
    """
    outer = (
        f"From: {SENDER}\r\nTo: {RECIPIENT}\r\nSubject: mimeseal S/MIME benchmark message\r\n"
    ).encode("ascii")
    rng = random.Random(seed)
    words = _WORDS_TEXT.split()
    pool: list[bytes] = []
    for _ in range(1024):
        text = " ".join(rng.choice(words) for _ in range(16))[:LINE_LENGTH].rstrip()
        pool.append(text.ljust(LINE_LENGTH, "x").encode("ascii") + b"\r\n")
    head = CONTENT_HEADER + b"\r\n"
    lines = max(1, (size - len(outer) - len(head)) // (LINE_LENGTH + 2))
    body = b"".join(pool[i % len(pool)] for i in range(lines))
    entity = head + body
    return outer + entity, entity


@dataclass(frozen=True)
class Workspace:
    """The files one run works on, all in ``directory``."""

    directory: Path

    @property
    def message(self) -> Path:
        return self.directory / "message.eml"

    @property
    def entity(self) -> Path:
        return self.directory / "entity.txt"

    @property
    def key(self) -> Path:
        return self.directory / "pki" / f"{SENDER}.key.pem"

    @property
    def cert(self) -> Path:
        return self.directory / "pki" / f"{SENDER}.pem"

    @property
    def ca(self) -> Path:
        return self.directory / "pki" / "ca.pem"

    @property
    def detached(self) -> Path:
        return self.directory / "mimeseal-detached.eml"

    @property
    def opaque(self) -> Path:
        return self.directory / "mimeseal-opaque.eml"

    def out(self, name: str) -> Path:
        return self.directory / f"out-{name}"


@dataclass(frozen=True)
class Material:
    """Everything loaded from a workspace."""

    message: bytes
    entity: bytes
    key: keys.SigningKey
    cert: x509.Certificate
    ca: x509.Certificate


def load_material(ws: Workspace) -> Material:
    return Material(
        message=ws.message.read_bytes(),
        entity=ws.entity.read_bytes(),
        key=keys.load_private_key_file(ws.key),
        cert=keys.load_certificate_file(ws.cert),
        ca=keys.load_certificate_file(ws.ca),
    )


def prepare(directory: Path, size: int, key_type: str) -> Material:
    """Write the dev PKI, the message and mimeseal's signed outputs into ``directory``."""
    ws = Workspace(directory)
    pki.write_dev_pki(directory / "pki", [SENDER], key_type=key_type)
    message, entity = build_message(size)
    ws.message.write_bytes(message)
    ws.entity.write_bytes(entity)
    material = load_material(ws)
    detached = mimeseal_sign(material, opaque=False)
    if entity not in detached:
        raise BenchmarkError(
            "mimeseal did not sign the entity byte for byte (it re-encoded the body); the "
            "references would sign different bytes, so the comparison would be unfair"
        )
    ws.detached.write_bytes(detached)
    ws.opaque.write_bytes(mimeseal_sign(material, opaque=True))
    return material


# --------------------------------------------------------------------------- the operations


def mimeseal_sign(m: Material, *, opaque: bool) -> bytes:
    return smime.sign(m.message, key=m.key, cert=m.cert, chain=[m.ca], opaque=opaque)


def mimeseal_verify(signed: bytes, m: Material) -> smime.SmimeVerdict:
    return smime.verify(signed, trust=[m.ca])


def check_verdict(verdict: smime.SmimeVerdict, what: str) -> None:
    if not verdict.valid:
        listed = "; ".join(f"{p.code}: {p.message}" for p in verdict.all_problems())
        raise BenchmarkError(f"mimeseal.smime.verify said {what} is NOT valid: {listed}")


def cryptography_key(m: Material) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None:
    """The key if ``PKCS7SignatureBuilder`` accepts it (RSA and EC only)."""
    return m.key if isinstance(m.key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) else None


def cryptography_sign(m: Material, *, opaque: bool) -> bytes:
    key = cryptography_key(m)
    if key is None:
        raise BenchmarkError("cryptography's PKCS7SignatureBuilder supports RSA and EC keys only")
    # The CA is added so the output carries the same certificates as mimeseal's and openssl's.
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(m.entity)
        .add_signer(m.cert, key, hashes.SHA256())
        .add_certificate(m.ca)
    )
    options = [] if opaque else [pkcs7.PKCS7Options.DetachedSignature]
    return builder.sign(serialization.Encoding.SMIME, options)


def openssl_digest(m: Material) -> str:
    """mimeseal's digest for this key: SHA-256, or SHA-512 for Ed25519 (RFC 8419)."""
    return "sha512" if isinstance(m.key, ed25519.Ed25519PrivateKey) else "sha256"


def openssl_sign_command(ws: Workspace, *, opaque: bool, md: str = "sha256") -> list[str]:
    command = [
        "openssl", "cms", "-sign", "-in", str(ws.entity), "-signer", str(ws.cert),
        "-inkey", str(ws.key), "-certfile", str(ws.ca), "-md", md,
        "-out", str(ws.out("openssl-opaque.eml" if opaque else "openssl-detached.eml")),
    ]  # fmt: skip
    return [*command, "-nodetach"] if opaque else command


def openssl_verify_command(path: Path, ws: Workspace) -> list[str]:
    return [
        "openssl", "cms", "-verify", "-CAfile", str(ws.ca), "-purpose", "smimesign",
        "-in", str(path), "-out", os.devnull,
    ]  # fmt: skip


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Row:
    """One measured (or skipped) operation; times in milliseconds."""

    key: str
    label: str
    scope: str
    times_ms: tuple[float, ...] = ()
    skipped: str | None = None

    @property
    def best_ms(self) -> float:
        return min(self.times_ms)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)


def measure(
    key: str,
    label: str,
    scope: str,
    operation: Callable[[], object],
    check: Callable[[Any], None],
    *,
    repeat: int,
    warmup: int,
) -> Row:
    """Time ``operation`` ``repeat`` times after ``warmup`` runs; ``check`` every result."""
    times = timed_runs(operation, check, repeat=repeat, warmup=warmup)
    return Row(key, label, scope, times)


# --------------------------------------------------------------------------- child mode

CHILD_OPERATIONS = (
    "mimeseal-sign-detached",
    "mimeseal-sign-opaque",
    "mimeseal-verify-detached",
    "mimeseal-verify-opaque",
    "cryptography-sign-detached",
    "cryptography-sign-opaque",
)


def run_child(name: str, directory: Path) -> dict[str, Any]:
    """Run one operation in this (fresh) process and report its peak-RSS growth.

    A tiny warm-up operation first loads every lazily imported module and cache, so the
    growth is the operation's own working memory, not import cost.
    """
    ws = Workspace(directory)
    m = load_material(ws)
    tiny_entity = CONTENT_HEADER + b"\r\nhi\r\n"
    outer = m.message[: m.message.index(CONTENT_HEADER)]
    small = Material(outer + tiny_entity, tiny_entity, m.key, m.cert, m.ca)
    operation: Callable[[], object]
    if name.startswith("mimeseal-sign-"):
        opaque = name.endswith("opaque")
        mimeseal_sign(small, opaque=opaque)
        operation = partial(mimeseal_sign, m, opaque=opaque)
    elif name.startswith("mimeseal-verify-"):
        opaque = name.endswith("opaque")
        check_verdict(mimeseal_verify(mimeseal_sign(small, opaque=opaque), small), "warm-up")
        signed = (ws.opaque if opaque else ws.detached).read_bytes()
        operation = partial(mimeseal_verify, signed, m)
    elif name.startswith("cryptography-sign-"):
        opaque = name.endswith("opaque")
        cryptography_sign(small, opaque=opaque)
        operation = partial(cryptography_sign, m, opaque=opaque)
    else:
        raise BenchmarkError(f"unknown child operation {name!r}; use one of {CHILD_OPERATIONS}")
    gc.collect()
    before = maxrss_bytes()
    result = operation()
    after = maxrss_bytes()
    if isinstance(result, smime.SmimeVerdict):
        check_verdict(result, name)
    return {"name": name, "before": before, "after": after, "growth": after - before}


# --------------------------------------------------------------------------- the benchmark


@dataclass(frozen=True)
class MemoryRow:
    key: str
    label: str
    traced_peak_bytes: int | None = None
    rss_growth_bytes: int | None = None
    rss_total_bytes: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Comparison:
    operation: str
    mimeseal: str
    reference: str
    best_ratio: float  # mimeseal ÷ reference (below 1: mimeseal is faster)
    median_ratio: float


@dataclass(frozen=True)
class Operation:
    """One row of the benchmark: an in-process call or an ``openssl`` command line."""

    key: str
    label: str
    scope: str
    run: Callable[[], object] | None = None
    check: Callable[[Any], None] = no_check
    command: tuple[str, ...] = ()
    skipped: str | None = None


def process_operation(key: str, label: str, command: Sequence[str]) -> Operation:
    frozen = tuple(command)
    return Operation(key, label, "process", partial(run_process, frozen), check_process, frozen)


def verdict_check(what: str) -> Callable[[Any], None]:
    return partial(check_verdict, what=what)


def openssl_probe(m: Material, ws: Workspace) -> tuple[str | None, str | None]:
    """Why this openssl cannot sign / verify with the key, or None (tried on a tiny message).

    OpenSSL 3.0, for instance, can neither sign nor verify CMS with Ed25519 keys.
    """
    tiny = Workspace(ws.directory / "probe")
    tiny.directory.mkdir(exist_ok=True)
    entity = CONTENT_HEADER + b"\r\nprobe\r\n"
    tiny.entity.write_bytes(entity)
    outer = m.message[: m.message.index(CONTENT_HEADER)]
    tiny.detached.write_bytes(mimeseal_sign(replace(m, message=outer + entity), opaque=False))
    sign = openssl_sign_command(ws, opaque=False, md=openssl_digest(m))
    sign[sign.index(str(ws.entity))] = str(tiny.entity)
    sign[sign.index("-out") + 1] = str(tiny.out("probe.eml"))
    problems: list[str | None] = []
    for what, command in (("sign", sign), ("verify", openssl_verify_command(tiny.detached, ws))):
        done = run_process(command)
        problems.append(
            None
            if done.returncode == 0
            else f"skipped: openssl cms -{what} fails with this key ({openssl_reason(done)})"
        )
    return problems[0], problems[1]


def openssl_reason(done: subprocess.CompletedProcess[bytes]) -> str:
    """The reason text of OpenSSL's first error line (``…:error:code:lib:func:REASON:…``)."""
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    for line in lines:
        fields = line.split(":")
        if len(fields) > 5 and fields[1] == "error":
            return fields[5]
    return lines[0] if lines else f"exit status {done.returncode}"


def operations(m: Material, ws: Workspace, openssl: str | None) -> list[Operation]:
    """Every row, in table order; rows that cannot run carry the reason in ``skipped``."""
    detached, opaque = ws.detached.read_bytes(), ws.opaque.read_bytes()
    no_openssl = "skipped: openssl not found" if openssl is None else None
    no_sign, no_verify = (None, None) if openssl is None else openssl_probe(m, ws)
    no_pkcs7 = None if cryptography_key(m) else "skipped: PKCS7SignatureBuilder: RSA/EC only"
    ops = [
        Operation("floor", "sha256(message) floor", "in-process", partial(sha256, m.message)),
        Operation(
            "mimeseal-sign-detached",
            "mimeseal sign, detached",
            "in-process",
            partial(mimeseal_sign, m, opaque=False),
        ),
        Operation(
            "mimeseal-sign-opaque",
            "mimeseal sign, opaque",
            "in-process",
            partial(mimeseal_sign, m, opaque=True),
        ),
        process_operation(
            "openssl-sign-detached",
            "openssl cms -sign",
            openssl_sign_command(ws, opaque=False, md=openssl_digest(m)),
        ),
        process_operation(
            "openssl-sign-opaque",
            "openssl cms -sign -nodetach",
            openssl_sign_command(ws, opaque=True, md=openssl_digest(m)),
        ),
        Operation(
            "cryptography-sign-detached",
            "cryptography PKCS7 sign, detached",
            "in-process",
            partial(cryptography_sign, m, opaque=False),
            skipped=no_pkcs7,
        ),
        Operation(
            "cryptography-sign-opaque",
            "cryptography PKCS7 sign, opaque",
            "in-process",
            partial(cryptography_sign, m, opaque=True),
            skipped=no_pkcs7,
        ),
        Operation(
            "mimeseal-verify-detached",
            "mimeseal verify, detached",
            "in-process",
            partial(mimeseal_verify, detached, m),
            verdict_check("the detached message"),
        ),
        Operation(
            "mimeseal-verify-opaque",
            "mimeseal verify, opaque",
            "in-process",
            partial(mimeseal_verify, opaque, m),
            verdict_check("the opaque message"),
        ),
        process_operation(
            "openssl-verify-detached",
            "openssl cms -verify, detached",
            openssl_verify_command(ws.detached, ws),
        ),
        process_operation(
            "openssl-verify-opaque",
            "openssl cms -verify, opaque",
            openssl_verify_command(ws.opaque, ws),
        ),
        Operation("cryptography-verify", "cryptography verify", "-", skipped=NO_CMS_VERIFY),
    ]
    for index, op in enumerate(ops):
        reason = no_sign if op.key.startswith("openssl-sign-") else no_verify
        if op.scope == "process" and (no_openssl or reason):
            ops[index] = replace(op, skipped=no_openssl or reason)
    return ops


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def run_timings(ops: Sequence[Operation], *, repeat: int, warmup: int) -> list[Row]:
    rows: list[Row] = []
    for op in ops:
        if op.skipped or op.run is None:
            rows.append(Row(op.key, op.label, op.scope, skipped=op.skipped or "skipped"))
            continue
        print(f"  timing {op.label} …", file=sys.stderr, flush=True)
        rows.append(
            measure(op.key, op.label, op.scope, op.run, op.check, repeat=repeat, warmup=warmup)
        )
    return rows


def run_memory(ops: Sequence[Operation], ws: Workspace) -> list[MemoryRow]:
    """tracemalloc and fresh-process RSS for the Python rows; whole-process RSS for openssl."""
    rows: list[MemoryRow] = []
    for op in ops:
        if op.key not in CHILD_OPERATIONS and op.scope != "process":
            continue
        if op.skipped or op.run is None:
            rows.append(MemoryRow(op.key, op.label, note=op.skipped or "skipped"))
            continue
        print(f"  memory {op.label} …", file=sys.stderr, flush=True)
        if op.scope == "process":
            _, peak = launch(op.command)
            rows.append(
                MemoryRow(op.key, op.label, rss_total_bytes=peak, note="whole openssl process")
            )
            continue
        traced = traced_peak(op.run, op.check)
        report, peak = child_report(__file__, op.key, ws.directory)
        note = "Rust heap unseen by tracemalloc" if op.key.startswith("cryptography") else ""
        rows.append(MemoryRow(op.key, op.label, traced, int(report["growth"]), peak, note))
    return rows


PAIRS = (
    ("sign, detached", "mimeseal-sign-detached", "openssl-sign-detached", "openssl cms -sign"),
    ("sign, detached", "mimeseal-sign-detached", "cryptography-sign-detached",
     "cryptography PKCS7 sign"),
    ("sign, opaque", "mimeseal-sign-opaque", "openssl-sign-opaque", "openssl cms -sign -nodetach"),
    ("sign, opaque", "mimeseal-sign-opaque", "cryptography-sign-opaque",
     "cryptography PKCS7 sign"),
    ("verify, detached", "mimeseal-verify-detached", "openssl-verify-detached",
     "openssl cms -verify"),
    ("verify, opaque", "mimeseal-verify-opaque", "openssl-verify-opaque", "openssl cms -verify"),
)  # fmt: skip


def compare(rows: Sequence[Row]) -> list[Comparison]:
    by_key = {row.key: row for row in rows}
    found: list[Comparison] = []
    for operation, ours, theirs, name in PAIRS:
        mine, ref = by_key[ours], by_key[theirs]
        if mine.skipped or ref.skipped:
            continue
        found.append(
            Comparison(
                operation,
                ours,
                name,
                mine.best_ms / ref.best_ms,
                mine.median_ms / ref.median_ms,
            )
        )
    return found


# --------------------------------------------------------------------------- output


def _mb(octets: int | None) -> str:
    return "-" if octets is None else f"{octets / 2**20:.1f}"


def _times(octets: int | None, size: int) -> str:
    return "-" if octets is None else f"{octets / size:.2f}×"


def _speed(ratio: float) -> str:
    return f"{1 / ratio:.2f}× faster" if ratio <= 1 else f"{ratio:.2f}× slower"


def render(
    rows: Sequence[Row],
    memory: Sequence[MemoryRow],
    comparisons: Sequence[Comparison],
    info: dict[str, Any],
) -> str:
    size = int(info["message_octets"])
    floor = next(r for r in rows if r.key == "floor")
    out = [
        f"mimeseal S/MIME benchmark — {size:,} octet message ({size / 2**20:.2f} MiB), "
        f"{info['key_type']}, best and median of {info['repeat']} (after {info['warmup']} "
        "warm-up)",
        f"Python {info['python']}, cryptography {info['cryptography']}, "
        f"{info['openssl'] or 'openssl: not found'}, {info['platform']}",
        "",
        f"{'operation':<36} {'scope':<10} {'best ms':>9} {'median ms':>9} {'÷ floor':>9}",
    ]
    for row in rows:
        if row.skipped:
            out.append(f"{row.label:<36} {row.scope:<10} {row.skipped}")
            continue
        out.append(
            f"{row.label:<36} {row.scope:<10} {row.best_ms:>9.1f} {row.median_ms:>9.1f} "
            f"{row.best_ms / floor.best_ms:>8.1f}×"
        )
    if info.get("openssl_startup_ms") is not None:
        out.append(
            f"(openssl process start-up alone, `openssl version`: "
            f"{info['openssl_startup_ms']:.1f} ms best; process rows include it)"
        )
    out += ["", "mimeseal ÷ reference (below 1 = mimeseal faster)"]
    if not comparisons:
        out.append("  (no reference could run)")
    for c in comparisons:
        out.append(
            f"  {c.operation:<17} vs {c.reference:<28} best {c.best_ratio:5.2f} "
            f"median {c.median_ratio:5.2f}  → mimeseal is {_speed(c.best_ratio)}"
        )
    out += [
        "",
        "peak memory (MiB; ×msg = ÷ message size)",
        f"{'operation':<36} {'tracemalloc':>11} {'×msg':>6} {'RSS growth':>10} {'×msg':>6} "
        f"{'RSS total':>9}  note",
    ]
    for m in memory:
        traced, growth, total = m.traced_peak_bytes, m.rss_growth_bytes, m.rss_total_bytes
        out.append(
            f"{m.label:<36} {_mb(traced):>11} {_times(traced, size):>6} {_mb(growth):>10} "
            f"{_times(growth, size):>6} {_mb(total):>9}  {m.note}".rstrip()
        )
    out += [
        "",
        "tracemalloc = peak Python-heap bytes during one in-process call (allocations made by",
        "  Rust/C code, e.g. inside cryptography or OpenSSL, are invisible to it).",
        "RSS growth = ru_maxrss after − before the call, in a fresh Python process per",
        "  operation (inputs loaded and code warmed up first): whole-process working memory.",
        "RSS total = that process's peak RSS: interpreter, imports and inputs included for",
        "  Python rows; the whole openssl process for openssl rows"
        + (
            f" (`openssl version` alone: {_mb(info['openssl_idle_rss_bytes'])} MiB)."
            if info.get("openssl_idle_rss_bytes")
            else "."
        ),
        NO_CMS_VERIFY.replace("skipped: ", "note: ") + " (verify rows have no cryptography row).",
    ]
    return "\n".join(out)


def openssl_version(openssl: str | None) -> str | None:
    if openssl is None:
        return None
    done = run_process([openssl, "version"])
    return done.stdout.decode("ascii", "replace").strip() or None


def profile(m: Material, ws: Workspace, top: int) -> str:
    """cProfile one call each of sign and verify (detached and opaque, already warmed up)."""
    signed = {"detached": ws.detached.read_bytes(), "opaque": ws.opaque.read_bytes()}
    out = []
    for form, opaque in (("detached", False), ("opaque", True)):
        for name in ("sign", "verify"):
            profiler = cProfile.Profile()
            if name == "sign":
                profiler.runcall(partial(smime.sign, key=m.key, cert=m.cert, opaque=opaque,
                                         chain=[m.ca]), m.message)  # fmt: skip
            else:
                check_verdict(profiler.runcall(smime.verify, signed[form], trust=[m.ca]), form)
            stream = io.StringIO()
            stats = pstats.Stats(profiler, stream=stream)
            stats.strip_dirs().sort_stats("cumulative").print_stats(top)
            text = stream.getvalue().strip("\n")
            out += [f"--- cProfile: mimeseal.smime.{name} ({form}), top {top} by cumulative", text]
    return "\n\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=float, default=10.0, help="message size in MiB")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per row")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before timing")
    parser.add_argument("--key-type", default="rsa2048", choices=pki.KEY_TYPES)
    add_output_options(parser)
    args = parser.parse_args(argv)
    if args.child:
        if args.workdir is None:
            parser.error("--child needs --workdir")
        print(json.dumps(run_child(args.child, args.workdir)))
        return 0
    if args.repeat < 1 or args.warmup < 0 or args.size_mb <= 0:
        parser.error("--repeat must be ≥ 1, --warmup ≥ 0 and --size-mb > 0")
    openssl = shutil.which("openssl")
    with tempfile.TemporaryDirectory(prefix="mimeseal-bench-") as temp:
        ws = Workspace(Path(temp))
        print("preparing the PKI and the message …", file=sys.stderr, flush=True)
        m = prepare(ws.directory, int(args.size_mb * 2**20), args.key_type)
        startup = None
        if openssl is not None:
            startup = measure(
                "openssl-startup",
                "openssl version",
                "process",
                lambda: run_process(["openssl", "version"]),
                check_process,
                repeat=args.repeat,
                warmup=args.warmup,
            ).best_ms
        ops = operations(m, ws, openssl)
        rows = run_timings(ops, repeat=args.repeat, warmup=args.warmup)
        memory = [] if args.no_memory else run_memory(ops, ws)
        idle_rss = launch(["openssl", "version"])[1] if openssl and not args.no_memory else None
        profiled = profile(m, ws, args.profile) if args.profile else ""
    comparisons = compare(rows)
    info: dict[str, Any] = {
        "message_octets": len(m.message),
        "entity_octets": len(m.entity),
        "key_type": args.key_type,
        "repeat": args.repeat,
        "warmup": args.warmup,
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "openssl": openssl_version(openssl),
        "openssl_startup_ms": startup,
        "openssl_idle_rss_bytes": idle_rss,
        "platform": platform.platform(terse=True),
    }
    print(render(rows, memory, comparisons, info))
    if profiled:
        print()
        print(profiled)
    if args.json:
        figures = {
            "info": info,
            "rows": [
                {
                    **asdict(row),
                    "best_ms": None if row.skipped else row.best_ms,
                    "median_ms": None if row.skipped else row.median_ms,
                }
                for row in rows
            ],
            "comparisons": [asdict(c) for c in comparisons],
            "memory": [asdict(mem) for mem in memory],
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
