"""Helpers shared by the benchmarks: failures, subprocesses, and peak-memory measurement.

The benchmarks run as scripts (``python benchmarks/bench_X.py``), so this module is imported
as ``_common`` from the script's own directory; it is not part of the mimeseal package.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class BenchmarkError(RuntimeError):
    """An operation under measurement failed; the benchmark refuses to time failures."""


def run_process(command: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, capture_output=True, check=False)


def check_process(done: subprocess.CompletedProcess[bytes]) -> None:
    if done.returncode != 0:
        shown = " ".join(str(a) for a in done.args)
        error = done.stderr.decode("utf-8", "replace").strip()
        raise BenchmarkError(f"`{shown}` exited with {done.returncode}: {error}")


def no_check(_result: object) -> None:
    """For operations whose result needs no check (a hash, a preparation step)."""
    return


def timed_runs(
    operation: Callable[[], object],
    check: Callable[[Any], None],
    *,
    repeat: int,
    warmup: int,
) -> tuple[float, ...]:
    """Milliseconds of ``repeat`` runs of ``operation`` after ``warmup`` untimed ones.

    Every result, warm-up included, goes to ``check`` outside the timed region, so a failing
    operation stops the benchmark instead of being timed.
    """
    times: list[float] = []
    for index in range(warmup + repeat):
        gc.collect()
        start = time.perf_counter()
        result = operation()
        elapsed = time.perf_counter() - start
        check(result)
        del result
        if index >= warmup:
            times.append(elapsed * 1000.0)
    return tuple(times)


def add_output_options(parser: argparse.ArgumentParser, *, memory: bool = True) -> None:
    """--json, --profile, and (with ``memory``) --no-memory plus the hidden child-process mode."""
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write figures as JSON")
    parser.add_argument(
        "--profile", type=int, metavar="N", default=0, help="also print top N cProfile entries"
    )
    if memory:
        parser.add_argument("--no-memory", action="store_true", help="skip the memory section")
        parser.add_argument("--child", help=argparse.SUPPRESS)
        parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)


def traced_peak(operation: Callable[[], object], check: Callable[[Any], None]) -> int:
    """Peak Python-heap bytes allocated by ``operation`` (tracemalloc; C/Rust heaps unseen)."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = operation()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    check(result)
    del result
    return peak


def maxrss_bytes(raw: int | None = None) -> int:
    """This process's peak RSS (or a raw ``ru_maxrss`` value) in bytes."""
    import resource

    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if raw is None else raw
    return int(value) if sys.platform == "darwin" else int(value) * 1024


# Linux carries the peak RSS of a forked copy of the parent across exec(), so a process forked
# straight from this (large) benchmark would report the benchmark's own peak as its maxrss.
# Commands are therefore started from this tiny launcher (``python -S -I``, a few MiB), which
# forks, execs the command and prints the command's rusage peak after its output.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
sys.stdout.write("\\n@maxrss %d\\n" % usage.ru_maxrss)
sys.exit(min(abs(os.waitstatus_to_exitcode(status)), 255))
"""


def child_report(script: str, name: str, directory: Path) -> tuple[dict[str, Any], int]:
    """Run ``script --child name --workdir directory`` in a fresh process (a benchmark's own
    memory-measuring mode): the JSON report it prints and its whole-process peak RSS."""
    out, peak = launch([sys.executable, script, "--child", name, "--workdir", str(directory)])
    report: dict[str, Any] = json.loads(out)
    return report, peak


def launch(command: Sequence[str]) -> tuple[bytes, int]:
    """Run ``command`` through the launcher; return its stdout and whole-process peak RSS."""
    done = run_process([sys.executable, "-S", "-I", "-c", _LAUNCHER, *command])
    done = subprocess.CompletedProcess(list(command), done.returncode, done.stdout, done.stderr)
    check_process(done)
    out, _, tail = done.stdout.rpartition(b"\n@maxrss ")
    return out, maxrss_bytes(int(tail))
