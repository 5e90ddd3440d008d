"""``mimeseal dkim keygen`` and ``mimeseal dkim record``: DKIM keys and their DNS records."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, BinaryIO

from mimeseal import keys
from mimeseal.cli.common import EXIT_OK, password_from_env, print_lines
from mimeseal.dkim.keyfiles import (
    ALGORITHMS,
    as_dkim_key,
    generate_key,
    record_for_key,
    write_key_pair,
)
from mimeseal.dkim.records import zone_file_record


def add_parser(sub: Any) -> None:
    group = sub.add_parser("dkim", help="DKIM keys and DNS records")
    dkim_sub = group.add_subparsers(dest="dkim_command", required=True, metavar="SUBCOMMAND")
    keygen = dkim_sub.add_parser("keygen", help="create a key pair and its TXT record")
    keygen.add_argument("--domain", required=True, metavar="D")
    keygen.add_argument("--selector", required=True, metavar="S")
    keygen.add_argument("--out", required=True, metavar="DIR")
    keygen.add_argument("--algorithm", choices=ALGORITHMS, default="rsa")
    keygen.add_argument("--bits", type=int, default=2048, help="RSA key size (default 2048)")
    keygen.set_defaults(func=run_keygen)
    record = dkim_sub.add_parser("record", help="print the DNS record for an existing key")
    record.add_argument(
        "key", metavar="KEY", help="key file (PEM/DER/PKCS#12) or KMS key (awskms:///alias/NAME)"
    )
    record.add_argument("--domain", required=True, metavar="D")
    record.add_argument("--selector", required=True, metavar="S")
    record.add_argument("--password-env", metavar="VAR", help="read the key password from $VAR")
    record.set_defaults(func=run_record)


def run_keygen(args: argparse.Namespace, out: BinaryIO) -> int:
    key = generate_key(args.algorithm, args.bits)
    files = write_key_pair(key, Path(args.out), domain=args.domain, selector=args.selector)
    print_lines(out, [f"wrote {files.key}", f"wrote {files.record}", "", files.zone_record])
    return EXIT_OK


def run_record(args: argparse.Namespace, out: BinaryIO) -> int:
    key = as_dkim_key(keys.load_signer(args.key, password_from_env(args.password_env)))
    name, value = record_for_key(key, domain=args.domain, selector=args.selector)
    print_lines(out, [zone_file_record(name, value)])
    return EXIT_OK
