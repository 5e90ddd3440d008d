"""The ``mimeseal`` command: a thin layer over the library.

Exit status: 0 success (for ``verify``: every signature valid and covering the whole message),
1 a verdict that did not hold, 2 unusable input or a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from cryptography import x509

from mimeseal import __version__, compose, keys, pki, smime
from mimeseal.errors import MimesealError, UsageError

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def _write_output(data: bytes, path: str | None, stdout: BinaryIO) -> None:
    if path in (None, "-"):
        stdout.write(data)
        stdout.flush()
        return
    assert path is not None
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def _password(env_var: str | None) -> bytes | None:
    if env_var is None:
        return None
    value = os.environ.get(env_var)
    if value is None:
        raise UsageError(
            f"--password-env names {env_var}, but that environment variable is not set"
        )
    return value.encode("utf-8")


def _read_text(path: str) -> str:
    try:
        return _read_input(path).decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None


# --- certs dev ------------------------------------------------------------------------------


def _cmd_certs_dev(args: argparse.Namespace, out: BinaryIO) -> int:
    files = pki.write_dev_pki(
        args.out,
        args.email,
        key_type=args.key_type,
        days=args.days,
        p12_password=_password(args.password_env),
    )
    lines = [f"{'reused' if files.ca_reused else 'wrote'} {files.ca_cert}"]
    if not files.ca_reused:
        lines.append(f"wrote {files.ca_key}")
    for signer in files.signers:
        lines += [f"wrote {signer.cert}", f"wrote {signer.key}", f"wrote {signer.p12}"]
    out.write(("\n".join(lines) + "\n").encode())
    return EXIT_OK


# --- compose --------------------------------------------------------------------------------


def _cmd_compose(args: argparse.Namespace, out: BinaryIO) -> int:
    if args.text is None and args.html is None and not args.attach:
        raise UsageError("give a body: --text FILE (or - for stdin), --html FILE or --attach FILE")
    message = compose.compose(
        from_=args.from_,
        to=args.to,
        cc=args.cc,
        reply_to=args.reply_to,
        subject=args.subject,
        text=_read_text(args.text) if args.text is not None else None,
        html=_read_text(args.html) if args.html is not None else None,
        attachments=[compose.Attachment.from_path(p) for p in args.attach],
    )
    _write_output(message, args.output, out)
    return EXIT_OK


# --- sign -----------------------------------------------------------------------------------


def _smime_material(
    args: argparse.Namespace,
) -> tuple[keys.SigningKey, x509.Certificate, list[x509.Certificate]]:
    password = _password(args.password_env)
    if args.smime_p12:
        if args.smime_key or args.smime_cert:
            raise UsageError("use either --smime-p12 or --smime-key with --smime-cert, not both")
        bundle = keys.load_pkcs12_file(args.smime_p12, password)
        chain = list(bundle.chain)
        key, cert = bundle.key, bundle.certificate
    else:
        if not (args.smime_key and args.smime_cert):
            raise UsageError(
                "S/MIME signing needs --smime-key KEY and --smime-cert CERT (or --smime-p12)"
            )
        key = keys.load_private_key_file(args.smime_key, password)
        cert = keys.load_certificate_file(args.smime_cert)
        chain = []
    if args.smime_chain:
        chain += keys.load_certificates_file(args.smime_chain)
    return key, cert, [c for c in chain if c != cert]


def _cmd_sign(args: argparse.Namespace, out: BinaryIO) -> int:
    if not (args.smime_p12 or args.smime_key or args.smime_cert):
        raise UsageError("nothing to sign with: give --smime-key/--smime-cert or --smime-p12")
    message = _read_input(args.input)
    key, cert, chain = _smime_material(args)
    signed = smime.sign(
        message,
        key=key,
        cert=cert,
        chain=chain,
        digest=args.digest,
        opaque=args.opaque,
        rsa_padding="pss" if args.rsa_pss else "pkcs1v15",
    )
    _write_output(signed, args.output, out)
    return EXIT_OK


# --- verify ---------------------------------------------------------------------------------


def _parse_time(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--at {value!r} is not an ISO-8601 time (e.g. 2026-01-31T12:00:00Z)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _verdict_lines(verdict: smime.SmimeVerdict) -> list[str]:
    lines = []
    for part in verdict.parts:
        where = "whole message" if part.is_root else f"part {part.path} only"
        if not part.signers:
            lines.append(f"FAIL smime {part.form} ({where}): no signers")
        for signer in part.signers:
            who = ", ".join(signer.addresses) or "unknown signer"
            status = "PASS" if signer.valid and part.is_root and part.valid else "FAIL"
            when = signer.signing_time.isoformat() if signer.signing_time else "no signing time"
            lines.append(
                f"{status} smime {part.form} signer={who} digest={signer.digest} "
                f"signed={when} covers={where}"
            )
            lines += [f"  {p.severity}: {p.code}: {p.message}" for p in signer.problems]
        lines += [f"  {p.severity}: {p.code}: {p.message}" for p in part.problems]
    lines += [f"{p.severity}: {p.code}: {p.message}" for p in verdict.problems]
    lines += [f"note: {n}" for n in verdict.notes]
    return lines


def _cmd_verify(args: argparse.Namespace, out: BinaryIO) -> int:
    message = _read_input(args.input)
    anchors: list[x509.Certificate] = []
    for path in args.trust:
        anchors += keys.load_certificates_file(path)
    at = _parse_time(args.at) if args.at else None
    verdict = smime.verify(message, trust=anchors, at=at)
    if args.json:
        text = json.dumps({"smime": verdict.to_dict(), "valid": verdict.valid}, indent=2)
    else:
        text = "\n".join(_verdict_lines(verdict))
    out.write((text + "\n").encode())
    return EXIT_OK if verdict.valid else EXIT_FAILED


# --- demo -----------------------------------------------------------------------------------


def _cmd_demo(args: argparse.Namespace, out: BinaryIO) -> int:
    from mimeseal import demo  # imported late: only the demo needs subprocess and openssl

    report = demo.run(Path(args.out))
    out.write(("\n".join(report.lines()) + "\n").encode())
    return EXIT_OK if report.ok else EXIT_FAILED


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mimeseal",
        description="Compose, sign (S/MIME), verify and check compliance-grade email.",
    )
    parser.add_argument("--version", action="version", version=f"mimeseal {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the whole pipeline on built-in defaults")
    demo.add_argument(
        "--out", default="mimeseal-demo", help="folder for the files (default: %(default)s)"
    )
    demo.set_defaults(func=_cmd_demo)

    certs = sub.add_parser("certs", help="certificates")
    certs_sub = certs.add_subparsers(dest="certs_command", required=True, metavar="SUBCOMMAND")
    dev = certs_sub.add_parser("dev", help="create a development CA and signer certificates")
    dev.add_argument(
        "--out", required=True, help="folder to write into (an existing CA there is reused)"
    )
    dev.add_argument("--email", action="append", required=True, help="signer address (repeatable)")
    dev.add_argument("--key-type", choices=pki.KEY_TYPES, default="rsa2048")
    dev.add_argument(
        "--days", type=int, default=365, help="validity in days (default: %(default)s)"
    )
    dev.add_argument("--password-env", metavar="VAR", help="encrypt the .p12 files with $VAR")
    dev.set_defaults(func=_cmd_certs_dev)

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
    comp.set_defaults(func=_cmd_compose)

    sign = sub.add_parser("sign", help="sign a message with S/MIME")
    sign.add_argument("input", metavar="IN", help="message file, or - for stdin")
    sign.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout)")
    sign.add_argument("--smime-key", metavar="KEY", help="private key (PEM or DER)")
    sign.add_argument("--smime-cert", metavar="CERT", help="signer certificate")
    sign.add_argument("--smime-chain", metavar="FILE", help="intermediate certificates to include")
    sign.add_argument("--smime-p12", metavar="FILE", help="PKCS#12 bundle with key, cert and chain")
    sign.add_argument(
        "--password-env", metavar="VAR", help="read the key or bundle password from $VAR"
    )
    sign.add_argument(
        "--opaque", action="store_true", help="application/pkcs7-mime instead of multipart/signed"
    )
    sign.add_argument(
        "--digest",
        choices=("sha-256", "sha-384", "sha-512"),
        help="default sha-256 (sha-512 for Ed25519)",
    )
    sign.add_argument(
        "--rsa-pss", action="store_true", help="RSASSA-PSS instead of PKCS#1 v1.5 for RSA keys"
    )
    sign.set_defaults(func=_cmd_sign)

    ver = sub.add_parser("verify", help="verify the signatures of a message")
    ver.add_argument("input", metavar="IN", help="message file, or - for stdin")
    ver.add_argument(
        "--trust",
        action="append",
        default=[],
        required=True,
        metavar="CA.pem",
        help="trust anchor(s) (repeatable)",
    )
    ver.add_argument(
        "--at",
        metavar="ISO-8601",
        help="judge certificates at this time instead of the signing time",
    )
    ver.add_argument(
        "--json", action="store_true", help="print the verdict as JSON (schema in README)"
    )
    ver.set_defaults(func=_cmd_verify)
    return parser


def main(argv: Sequence[str] | None = None, stdout: BinaryIO | None = None) -> int:
    """Run the command; return its exit status (also used by the console script)."""
    out = stdout or sys.stdout.buffer
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args, out))
    except MimesealError as exc:
        sys.stderr.write(f"mimeseal: error: {exc}\n")
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        sys.stderr.write("mimeseal: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
