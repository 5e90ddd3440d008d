"""``mimeseal check``: will the signatures survive, and what else could make the message fail."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, BinaryIO

from cryptography import x509

from mimeseal import keys
from mimeseal.cli.common import EXIT_FAILED, EXIT_OK, print_lines, read_input
from mimeseal.cli.verify import dkim_records
from mimeseal.errors import UsageError


def add_parser(sub: Any) -> None:
    chk = sub.add_parser("check", help="check that signatures survive transit; list every risk")
    chk.add_argument("input", metavar="IN", nargs="?", help="message file, or - for stdin")
    chk.add_argument("--profile", default="ses", choices=("ses", "smtp", "strict"))
    chk.add_argument("--trust", action="append", default=[], metavar="CA.pem")
    chk.add_argument("--dkim-record", action="append", default=[], metavar="NAME=VALUE")
    chk.add_argument("--dkim-records", metavar="FILE.json")
    chk.add_argument("--json", action="store_true", help="the report as JSON (mimeseal.check/1)")
    chk.add_argument("--explain", metavar="RULE", help="explain a finding's rule and exit")
    chk.add_argument(
        "--no-references", action="store_true", help="skip dkimpy and openssl (faster)"
    )
    chk.set_defaults(func=run)


def run(args: argparse.Namespace, out: BinaryIO) -> int:
    from mimeseal.check import check
    from mimeseal.check.explain import explain

    if args.explain:
        print_lines(out, [explain(args.explain)])
        return EXIT_OK
    if args.input is None:
        raise UsageError("give a message file (or - for stdin), or --explain RULE")
    message = read_input(args.input)
    anchors: list[x509.Certificate] = []
    for path in args.trust:
        anchors += keys.load_certificates_file(path)
    report = check(
        message,
        profile=args.profile,
        trust=anchors,
        dkim_records=dkim_records(args),
        references=False if args.no_references else None,
    )
    if args.json:
        print_lines(out, [json.dumps(report.to_dict(), indent=2)])
    else:
        colour = getattr(out, "isatty", lambda: False)() and "NO_COLOR" not in os.environ
        print_lines(out, [report.render(colour=colour)])
    return EXIT_OK if report.ok else EXIT_FAILED
