"""``mimeseal verify``: every S/MIME and DKIM signature in a message, each reported."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from cryptography import x509

from mimeseal import dkim, keys, smime
from mimeseal.cli.common import EXIT_FAILED, EXIT_OK, parse_time, print_lines, read_input
from mimeseal.errors import UsageError
from mimeseal.mime import to_crlf
from mimeseal.smime.parts import iter_signed_entities


def add_parser(sub: Any) -> None:
    ver = sub.add_parser("verify", help="verify the S/MIME and DKIM signatures of a message")
    ver.add_argument("input", metavar="IN", help="message file, or - for stdin")
    ver.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="CA.pem",
        help="S/MIME trust anchor(s) (repeatable; needed when the message is S/MIME-signed)",
    )
    ver.add_argument(
        "--at",
        metavar="ISO-8601|signing-time",
        help="judge certificates and DKIM t=/x= at this time instead of now (archived mail); "
        "'signing-time' trusts each S/MIME signer's own claim, and the verdict says so",
    )
    ver.add_argument(
        "--dkim-record",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a DKIM key record, e.g. s1._domainkey.example.com=@s1.txt (repeatable)",
    )
    ver.add_argument(
        "--dkim-records",
        metavar="FILE.json",
        help="a JSON object mapping record names to TXT values (without these, DNS is asked)",
    )
    ver.add_argument("--json", action="store_true", help="print the result as JSON (see README)")
    ver.set_defaults(func=run)


def dkim_records(args: argparse.Namespace) -> dict[str, str] | None:
    """Records from --dkim-records and --dkim-record; None (use DNS) when neither is given."""
    if not args.dkim_record and not args.dkim_records:
        return None
    found: dict[str, str] = {}
    if args.dkim_records:
        try:
            data = json.loads(Path(args.dkim_records).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read --dkim-records {args.dkim_records}: {exc}") from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise UsageError("--dkim-records must hold a JSON object of name → TXT value strings")
        found.update(data)
    for item in args.dkim_record:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--dkim-record {item!r} is not NAME=VALUE or NAME=@FILE")
        if value.startswith("@"):
            try:
                value = Path(value[1:]).read_text(encoding="ascii").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read the record file {value[1:]}: {exc}") from None
        found[name] = value
    return found


def _smime_lines(verdict: smime.SmimeVerdict) -> list[str]:
    lines = []
    for part in verdict.parts:
        where = "whole message" if part.is_root else f"part {part.path} only"
        if not part.signers:
            lines.append(f"FAIL smime {part.form} ({where}): no signers")
        for signer in part.signers:
            who = ", ".join(signer.addresses) or "unknown signer"
            status = "PASS" if signer.valid and part.is_root and part.valid else "FAIL"
            when = signer.signing_time.isoformat() if signer.signing_time else "no signing time"
            layer = f" layer={part.layer}" if part.layer > 1 else ""
            lines.append(
                f"{status} smime {part.form}{layer} signer={who} digest={signer.digest} "
                f"signed={when} judged={signer.validated_at.isoformat()} "
                f"({signer.validated_at_source}) covers={where}"
            )
            lines += [f"  {p.severity}: {p.code}: {p.message}" for p in signer.problems]
        lines += [f"  {p.severity}: {p.code}: {p.message}" for p in part.problems]
    lines += [f"{p.severity}: {p.code}: {p.message}" for p in verdict.problems]
    lines += [f"note: {n}" for n in verdict.notes]
    return lines


def _dkim_lines(results: list[dkim.DkimResult], verdict: dkim.DkimVerdict) -> list[str]:
    lines = []
    for result in results:
        status = "PASS" if result.authenticates else "TESTING" if result.passed else "FAIL"
        lines.append(
            f"{status} dkim d={result.domain} s={result.selector} a={result.algorithm} "
            f"({result.status}): {result.reason}"
        )
        lines += [f"  note: {n}" for n in result.notes]
    if results:
        status = "PASS" if verdict.authenticated else "FAIL"
        lines.append(f"{status} dkim message {verdict.status}: {verdict.reason}")
    return lines


def _has_smime(message: bytes) -> bool:
    try:
        return any(True for _ in iter_signed_entities(to_crlf(message)))
    except Exception:  # malformed S/MIME is reported by smime.verify once --trust is given
        return True


def run(args: argparse.Namespace, out: BinaryIO) -> int:
    message = read_input(args.input)
    anchors: list[x509.Certificate] = []
    for path in args.trust:
        anchors += keys.load_certificates_file(path)
    at: datetime | Literal["signing-time"] | None = None
    if args.at == "signing-time":
        at = "signing-time"
    elif args.at:
        at = parse_time(args.at)
    results = dkim.verify(
        message, records=dkim_records(args), now=at if isinstance(at, datetime) else None
    )
    verdict = None
    if anchors:
        verdict = smime.verify(message, trust=anchors, at=at)
        only_absent = [p.code for p in verdict.problems] == ["no-signature"]
        if only_absent and results:
            verdict = None  # a DKIM-only message: S/MIME is simply not there
    elif _has_smime(message):
        raise UsageError("the message is S/MIME-signed: pass the CA you trust with --trust CA.pem")
    signed = verdict is not None or bool(results)
    dkim_verdict = dkim.message_verdict(results)
    valid = (
        signed
        and (verdict is None or verdict.valid)
        and (not results or dkim_verdict.authenticated)
    )
    if args.json:
        document = {
            "valid": valid,
            "smime": verdict.to_dict() if verdict else None,
            "dkim": [r.to_dict() for r in results],
            "dkim_verdict": dkim_verdict.to_dict() if results else None,
        }
        print_lines(out, [json.dumps(document, indent=2)])
    else:
        lines = (_smime_lines(verdict) if verdict else []) + _dkim_lines(results, dkim_verdict)
        if not signed:
            lines.append("FAIL no signature: the message has no S/MIME or DKIM signature")
        print_lines(out, lines)
    return EXIT_OK if valid else EXIT_FAILED
