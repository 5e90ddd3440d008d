"""``mimeseal certs dev``: a development CA and signer certificates."""

from __future__ import annotations

import argparse
from typing import Any, BinaryIO

from mimeseal import keys, pki
from mimeseal.cli.common import EXIT_OK, password_from_env, print_lines
from mimeseal.errors import UsageError


def add_parser(sub: Any) -> None:
    certs = sub.add_parser("certs", help="certificates")
    certs_sub = certs.add_subparsers(dest="certs_command", required=True, metavar="SUBCOMMAND")
    dev = certs_sub.add_parser("dev", help="create a development CA and signer certificates")
    dev.add_argument(
        "--out", required=True, help="folder to write into (an existing CA there is reused)"
    )
    dev.add_argument("--email", action="append", required=True, help="signer address (repeatable)")
    dev.add_argument(
        "--key-type",
        choices=pki.KEY_TYPES,
        default="rsa2048",
        help="key type of new keys (with --kms-key: of a new CA only)",
    )
    dev.add_argument(
        "--days", type=int, default=365, help="validity in days (default: %(default)s)"
    )
    dev.add_argument("--password-env", metavar="VAR", help="encrypt the .p12 files with $VAR")
    dev.add_argument(
        "--kms-key",
        metavar="SPEC",
        help="certify this existing key (awskms:///alias/NAME, or a key file) instead of "
        "generating keys; writes only <address>.pem",
    )
    dev.set_defaults(func=run_dev)


def run_dev(args: argparse.Namespace, out: BinaryIO) -> int:
    if args.kms_key:
        return _run_dev_for_key(args, out)
    files = pki.write_dev_pki(
        args.out,
        args.email,
        key_type=args.key_type,
        days=args.days,
        p12_password=password_from_env(args.password_env),
    )
    lines = [f"{'reused' if files.ca_reused else 'wrote'} {files.ca_cert}"]
    if not files.ca_reused:
        lines.append(f"wrote {files.ca_key}")
    for signer in files.signers:
        lines += [f"wrote {signer.cert}", f"wrote {signer.key}", f"wrote {signer.p12}"]
    print_lines(out, lines)
    return EXIT_OK


def _run_dev_for_key(args: argparse.Namespace, out: BinaryIO) -> int:
    if args.password_env:
        raise UsageError("--password-env encrypts .p12 files, which --kms-key does not write")
    key = keys.load_signer(args.kms_key)
    files = pki.write_dev_certificates(
        args.out, args.email, key, key_type=args.key_type, days=args.days
    )
    lines = [f"{'reused' if files.ca_reused else 'wrote'} {files.ca_cert}"]
    if not files.ca_reused:
        lines.append(f"wrote {files.ca_key}")
    lines += [f"wrote {path}" for _, path in files.certificates]
    lines.append(f"the private key stays in {keys.describe_spec(args.kms_key)}")
    print_lines(out, lines)
    return EXIT_OK
