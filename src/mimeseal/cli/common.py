"""What every command shares: reading input, writing output, passwords, times, exit codes."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from mimeseal.errors import UsageError

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def read_input(path: str) -> bytes:
    """The bytes of ``path``, or of standard input for ``-``."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def read_text(path: str) -> str:
    try:
        return read_input(path).decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None


def write_output(data: bytes, path: str | None, stdout: BinaryIO) -> None:
    """Write to ``path``, or to standard output when it is None or ``-``."""
    if path is None or path == "-":
        stdout.write(data)
        stdout.flush()
        return
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def password_from_env(env_var: str | None) -> bytes | None:
    """The password in ``$env_var`` (never taken on the command line, where ps shows it)."""
    if env_var is None:
        return None
    value = os.environ.get(env_var)
    if value is None:
        raise UsageError(
            f"--password-env names {env_var}, but that environment variable is not set"
        )
    return value.encode("utf-8")


def parse_time(value: str, option: str = "--at") -> datetime:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {value!r} is not an ISO-8601 time (e.g. 2026-01-31T12:00:00Z)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def print_lines(out: BinaryIO, lines: list[str]) -> None:
    out.write(("\n".join(lines) + "\n").encode("utf-8"))
