"""``mimeseal send``: hand messages to SES unaltered; print each SES message id and SHA-256."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any, BinaryIO

from mimeseal.cli.common import EXIT_FAILED, EXIT_OK, password_from_env, print_lines, read_input
from mimeseal.errors import MimesealError, SendError, UsageError
from mimeseal.ses.base import RecordingSender, Sender


def add_parser(sub: Any) -> None:
    snd = sub.add_parser("send", help="send messages through Amazon SES (API v2, v1 or SMTP)")
    snd.add_argument("inputs", metavar="IN", nargs="+", help="message files (- for stdin)")
    snd.add_argument("--api", choices=("v2", "v1", "smtp"), default="v2")
    snd.add_argument("--region", metavar="R")
    snd.add_argument("--endpoint-url", metavar="URL", help="e.g. a local SES endpoint")
    snd.add_argument("--aws-profile", metavar="P")
    snd.add_argument("--configuration-set", metavar="NAME")
    snd.add_argument("--tag", action="append", default=[], metavar="K=V")
    snd.add_argument("--from", dest="from_", metavar="ADDR", help="envelope sender")
    snd.add_argument("--to", action="append", default=[], metavar="ADDR", help="envelope rcpt")
    snd.add_argument("--smtp-host", metavar="H", help="default email-smtp.<region>.amazonaws.com")
    snd.add_argument("--smtp-port", type=int, default=587, metavar="P")
    snd.add_argument("--smtp-user", metavar="U")
    snd.add_argument("--smtp-password-env", metavar="VAR")
    snd.add_argument("--journal", metavar="FILE.sqlite", help="record and resume a bulk run")
    snd.add_argument("--rate", type=float, metavar="N", help="at most N messages per second")
    snd.add_argument("--concurrency", type=int, default=4, metavar="N")
    snd.add_argument(
        "--resend-unknown", action="store_true", help="resend messages whose fate is unknown"
    )
    snd.add_argument("--dry-run", action="store_true", help="run the pre-send checks, send nothing")
    snd.set_defaults(func=run)


def _tags(values: list[str]) -> dict[str, str]:
    tags = {}
    for value in values:
        key, sep, tag = value.partition("=")
        if not sep or not key:
            raise UsageError(f"--tag {value!r} is not K=V")
        tags[key] = tag
    return tags


def make_sender(args: argparse.Namespace) -> Sender:
    """The sender the options describe; credentials come from botocore's usual sources."""
    tags = _tags(args.tag)
    if args.dry_run:
        return _DryRun(api=args.api)
    if args.api == "smtp":
        from mimeseal.ses.smtp import SmtpSender, ses_smtp_host

        if not args.smtp_host and not args.region:
            raise UsageError("--api smtp needs --smtp-host or --region")
        secret = password_from_env(args.smtp_password_env)
        return SmtpSender(
            host=args.smtp_host or ses_smtp_host(args.region),
            port=args.smtp_port,
            username=args.smtp_user,
            password=secret.decode("utf-8") if secret is not None else None,
        )
    from mimeseal.ses.api import SesSender

    return SesSender(
        api=args.api,
        region=args.region,
        endpoint_url=args.endpoint_url,
        profile=args.aws_profile,
        configuration_set=args.configuration_set,
        tags=tags,
    )


class _DryRun(RecordingSender):
    """Runs the pre-send rules of the API, keeps nothing: ``--dry-run``."""

    def __init__(self, api: str) -> None:
        super().__init__()
        self.target = api

    def send(self, message: bytes, **kwargs: Any) -> Any:
        from mimeseal.ses.presend import check_before_sending

        check_before_sending(message, self.target)
        return super().send(message, **kwargs)


def run(args: argparse.Namespace, out: BinaryIO) -> int:
    sender = make_sender(args)
    try:
        if args.journal:
            return _bulk(args, sender, out)
        failures = 0
        for name in args.inputs:
            message = read_input(name)
            try:
                result = sender.send(message, source=args.from_, destinations=args.to or None)
            except (SendError, MimesealError) as exc:
                if len(args.inputs) == 1:
                    raise
                failures += 1
                print_lines(out, [f"FAILED {name}: {exc}"])
                continue
            print_lines(out, [f"{result.message_id} sha256={result.sha256} {name}"])
        return EXIT_FAILED if failures else EXIT_OK
    finally:
        sender.close()


def _bulk(args: argparse.Namespace, sender: Sender, out: BinaryIO) -> int:
    from mimeseal.ses.bulk import BulkInterrupted, format_progress, send_many

    paths = [Path(p) for p in args.inputs]
    terminal = sys.stderr.isatty()
    width = shutil.get_terminal_size((80, 20)).columns

    def progress(state: Any) -> None:
        if terminal:
            sys.stderr.write("\r" + format_progress(state, width))
            sys.stderr.flush()

    try:
        report = send_many(
            paths,
            sender=sender,
            journal=args.journal,
            rate=args.rate,
            concurrency=args.concurrency,
            resend_unknown=args.resend_unknown,
            progress=progress,
        )
    except BulkInterrupted as stopped:  # Ctrl-C or SIGTERM: in-flight sends were recorded
        report = stopped.report
    if terminal:
        sys.stderr.write("\n")
    lines = [
        f"sent {report.sent}, skipped {report.skipped} (already sent), failed {report.failed}, "
        f"unknown {report.unknown}, not attempted {report.not_attempted}"
    ]

    def name(sha: str) -> str:
        return report.names.get(sha, sha[:16] + "…")

    lines += [f"FAILED {name(sha)}: {reason}" for sha, reason in report.failed_messages]
    lines += [
        f"UNKNOWN {name(sha)}: {reason} (check SES before resending; --resend-unknown)"
        for sha, reason in report.unknown_messages
    ]
    if report.interrupted:
        lines.append(f"interrupted: the journal {report.journal} is consistent; run again")
    print_lines(out, lines)
    if report.interrupted:
        return 130
    return EXIT_OK if not (report.failed or report.unknown) else EXIT_FAILED
