"""``mimeseal demo``: the whole pipeline on built-in defaults."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, BinaryIO

from mimeseal.cli.common import EXIT_FAILED, EXIT_OK, print_lines


def add_parser(sub: Any) -> None:
    demo = sub.add_parser("demo", help="run the whole pipeline on built-in defaults")
    demo.add_argument(
        "--out", default="mimeseal-demo", help="folder for the files (default: %(default)s)"
    )
    demo.set_defaults(func=run)


def run(args: argparse.Namespace, out: BinaryIO) -> int:
    from mimeseal import demo  # imported late: only the demo runs external tools

    report = demo.run(Path(args.out))
    print_lines(out, report.lines())
    return EXIT_OK if report.ok else EXIT_FAILED
