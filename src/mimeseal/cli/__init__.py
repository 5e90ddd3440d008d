"""The ``mimeseal`` command: a thin layer over the library, one module per command.

Exit status: 0 success (for ``verify``: at least one signature, every one valid, and each
S/MIME signature covering the whole message), 1 a verdict that did not hold, 2 unusable input
or a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import BinaryIO

from mimeseal import __version__
from mimeseal.cli import certs, check, compose, demo, dkim_keys, invite, send, sign, verify
from mimeseal.cli.common import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE
from mimeseal.errors import MimesealError

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_UNUSABLE", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mimeseal",
        description="Compose, sign (S/MIME, DKIM), verify and check compliance-grade email.",
    )
    parser.add_argument("--version", action="version", version=f"mimeseal {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (demo, certs, dkim_keys, compose, invite, sign, verify, check, send):
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None, stdout: BinaryIO | None = None) -> int:
    """Run the command; return its exit status (also used by the console script)."""
    out = stdout or sys.stdout.buffer
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args, out))
    except MimesealError as exc:
        sys.stderr.write(f"mimeseal: error: {exc}\n")
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        sys.stderr.write("mimeseal: interrupted\n")
        return 130
