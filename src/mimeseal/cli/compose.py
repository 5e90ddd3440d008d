"""``mimeseal compose``: build a CRLF, 7-bit message from parts."""

from __future__ import annotations

import argparse
from typing import Any, BinaryIO

from mimeseal import compose
from mimeseal.cli.common import EXIT_OK, read_text, write_output
from mimeseal.errors import UsageError


def add_parser(sub: Any) -> None:
    comp = sub.add_parser("compose", help="build a message (CRLF, 7-bit) from parts")
    comp.add_argument("--from", dest="from_", required=True, metavar="ADDRESS")
    comp.add_argument("--to", action="append", default=[], metavar="ADDRESS")
    comp.add_argument("--cc", action="append", default=[], metavar="ADDRESS")
    comp.add_argument("--reply-to", action="append", default=[], metavar="ADDRESS")
    comp.add_argument("--subject", default="")
    comp.add_argument("--text", metavar="FILE", help="plain-text body (- for stdin)")
    comp.add_argument("--html", metavar="FILE", help="HTML body")
    comp.add_argument("--attach", action="append", default=[], metavar="FILE")
    comp.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout)")
    comp.set_defaults(func=run)


def run(args: argparse.Namespace, out: BinaryIO) -> int:
    if args.text is None and args.html is None and not args.attach:
        raise UsageError("give a body: --text FILE (or - for stdin), --html FILE or --attach FILE")
    message = compose.compose(
        from_=args.from_,
        to=args.to,
        cc=args.cc,
        reply_to=args.reply_to,
        subject=args.subject,
        text=read_text(args.text) if args.text is not None else None,
        html=read_text(args.html) if args.html is not None else None,
        attachments=[compose.Attachment.from_path(p) for p in args.attach],
    )
    write_output(message, args.output, out)
    return EXIT_OK
