"""``mimeseal demo``: the whole pipeline on built-in defaults, each step checked.

Creates a development PKI, composes a message, signs it (detached and opaque), verifies both
with mimeseal and, when the ``openssl`` command exists, with OpenSSL. Every file it writes is
named in the report; the demo succeeds only if every step held.
"""

from __future__ import annotations

import importlib
import importlib.util
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from mimeseal import compose, dkim, invite, keys, pki, references, smime
from mimeseal.dkim.keyfiles import as_dkim_key, generate_key, record_for_key, write_key_pair
from mimeseal.errors import MimesealError
from mimeseal.files import make_folder
from mimeseal.local_aws import moto_server

SENDER = "alice@example.com"
RECIPIENT = "bob@example.org"
DKIM_DOMAIN, DKIM_SELECTOR = "example.com", "mimeseal"


@dataclass
class Step:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class DemoReport:
    """What the demo did: steps in order and the files it wrote."""

    folder: Path
    steps: list[Step] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    def lines(self) -> list[str]:
        out = [f"mimeseal demo in {self.folder}"]
        for step in self.steps:
            mark = "ok  " if step.ok else "FAIL"
            out.append(f"  [{mark}] {step.name}" + (f": {step.detail}" if step.detail else ""))
        out += self.shown
        out.append("files written:")
        out += [f"  {path}" for path in self.files]
        out.append("result: " + ("every step held" if self.ok else "a step FAILED"))
        return out

    def check(self, name: str, action: Callable[[], str]) -> bool:
        """Run one step; a MimesealError becomes a failed step rather than a crash."""
        try:
            detail = action()
        except (MimesealError, OSError) as exc:
            self.steps.append(Step(name, False, str(exc)))
            return False
        self.steps.append(Step(name, True, detail))
        return True

    def write(self, path: Path, data: bytes) -> None:
        path.write_bytes(data)
        self.files.append(path)


def _dkim_holds(results: list[dkim.DkimResult]) -> bool:
    """Every signature the demo made passes, and together they authenticate the message."""
    return (
        bool(results)
        and all(r.passed for r in results)
        and (dkim.message_verdict(results).authenticated)
    )


def _text() -> str:
    return (
        "Dear Bob,\n\n"
        "the quarterly statement is attached as agreed.  Lines ending in spaces,   \n"
        "From lines and non-ASCII text (Zürich, 東京) are encoded before signing,\n"
        ".so that no relay can change the signed bytes.\n\n"
        "Alice\n"
    )


def run(folder: Path) -> DemoReport:
    """Run the demo, writing into ``folder``; never raises for a failed step."""
    make_folder(folder)
    report = DemoReport(folder)
    state: dict[str, bytes] = {}
    pki_dir = folder / "pki"

    def make_pki() -> str:
        files = pki.write_dev_pki(pki_dir, [SENDER])
        report.files += [files.ca_cert, files.ca_key]
        for signer in files.signers:
            report.files += [signer.cert, signer.key, signer.p12]
        return f"CA and {SENDER} certificate (RSA-2048) in {pki_dir}"

    def make_message() -> str:
        message = compose.compose(
            from_=f"Alice Example <{SENDER}>",
            to=[f"Bob Example <{RECIPIENT}>"],
            subject="Quarterly statement (signed)",
            text=_text(),
            attachments=[compose.Attachment("statement.csv", b"date,amount\n2026-11-24,100.00\n")],
        )
        state["message"] = message
        report.write(folder / "message.eml", message)
        return f"{len(message)} octets, CRLF, 7-bit"

    def sign(opaque: bool) -> Callable[[], str]:
        def action() -> str:
            key = keys.load_private_key_file(pki_dir / f"{SENDER}.key.pem")
            cert = keys.load_certificate_file(pki_dir / f"{SENDER}.pem")
            ca = keys.load_certificate_file(pki_dir / "ca.pem")
            signed = smime.sign(state["message"], key=key, cert=cert, chain=[ca], opaque=opaque)
            name = "signed-opaque.eml" if opaque else "signed-detached.eml"
            state[name] = signed
            report.write(folder / name, signed)
            return f"{name}, {len(signed)} octets"

        return action

    def verify(name: str) -> Callable[[], str]:
        def action() -> str:
            ca = keys.load_certificate_file(pki_dir / "ca.pem")
            verdict = smime.verify(state[name], trust=[ca])
            if not verdict.valid:
                codes = ", ".join(p.code for p in verdict.all_problems())
                raise MimesealError(f"{name} did not verify: {codes}")
            signer = verdict.signers[0]
            return f"{name}: valid, signer {', '.join(signer.addresses)}, {signer.digest}"

        return action

    def openssl_verify(name: str) -> Callable[[], str]:
        def action() -> str:
            ca = keys.load_certificate_file(pki_dir / "ca.pem")
            result = references.openssl_cms_verify(state[name], [ca])
            if not result.ok:
                raise MimesealError(f"openssl rejected {name}: {result.output}")
            return f"{name}: {result.output.splitlines()[-1] if result.output else 'ok'}"

        return action

    dkim_record: dict[str, str] = {}

    def make_dkim_key() -> str:
        name = dkim.record_name(DKIM_SELECTOR, DKIM_DOMAIN)
        key_path = folder / "dkim" / f"{name}.key.pem"
        if key_path.exists():  # a second run reuses the key, as it reuses the PKI
            key = as_dkim_key(keys.load_private_key_file(key_path))
            dkim_record[name] = dkim.format_key_record(key.public_key())
            state["dkim-key"] = key_path.read_bytes()
            return f"reused {key_path}, record {name}"
        files = write_key_pair(
            generate_key("rsa", 2048), folder / "dkim", domain=DKIM_DOMAIN, selector=DKIM_SELECTOR
        )
        report.files += [files.key, files.record]
        dkim_record[files.name] = files.value
        state["dkim-key"] = files.key.read_bytes()
        return f"RSA-2048, record {files.name}"

    def dkim_sign() -> str:
        key = as_dkim_key(keys.load_private_key(state["dkim-key"]))
        signed = dkim.sign(
            state["signed-detached.eml"],
            key=key,
            domain=DKIM_DOMAIN,
            selector=DKIM_SELECTOR,
            profile="ses",
        )
        state["signed-dkim.eml"] = signed
        report.write(folder / "signed-dkim.eml", signed)
        return f"signed-dkim.eml: S/MIME inside, DKIM over the whole message, {len(signed)} octets"

    def dkim_verify() -> str:
        results = dkim.verify(state["signed-dkim.eml"], records=dkim_record)
        if len(results) != 1 or not _dkim_holds(results):
            raise MimesealError(f"DKIM did not verify: {[r.reason for r in results]}")
        return f"signed-dkim.eml: pass (d={results[0].domain}, {results[0].algorithm})"

    def dkimpy_verify() -> str:
        try:
            dkimpy = importlib.import_module("dkim")
        except ImportError:
            return "skipped: dkimpy is not installed (pip install 'mimeseal[local]')"

        def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
            value = dkim_record.get(name.decode("ascii").rstrip("."))
            return value.encode("ascii") if value else None

        if not dkimpy.verify(state["signed-dkim.eml"], dnsfunc=dnsfunc):
            raise MimesealError("dkimpy rejected the DKIM signature")
        return "signed-dkim.eml: pass"

    steps: list[tuple[str, Callable[[], str]]] = [
        ("create development PKI", make_pki),
        ("compose message", make_message),
        ("S/MIME sign, detached (multipart/signed)", sign(False)),
        ("S/MIME sign, opaque (application/pkcs7-mime)", sign(True)),
        ("verify detached with mimeseal", verify("signed-detached.eml")),
        ("verify opaque with mimeseal", verify("signed-opaque.eml")),
    ]
    if shutil.which("openssl"):
        steps += [
            ("verify detached with openssl cms -verify", openssl_verify("signed-detached.eml")),
            ("verify opaque with openssl cms -verify", openssl_verify("signed-opaque.eml")),
        ]
    steps += [
        ("create DKIM key and DNS record", make_dkim_key),
        ("DKIM-sign the S/MIME message (profile ses)", dkim_sign),
        ("S/MIME still verifies under the DKIM signature", verify("signed-dkim.eml")),
        ("verify DKIM with mimeseal", dkim_verify),
        ("verify DKIM with dkimpy (reference receiver)", dkimpy_verify),
    ]
    steps += _invitation_steps(report, folder, state, dkim_record)
    steps.append(("check --profile ses on every message built", _check_step(report, dkim_record)))
    steps.append(
        (
            "send through SES API v2 (embedded endpoint) and read back",
            _send_step(report, dkim_record),
        )
    )
    steps.append(
        (
            "S/MIME and DKIM with keys in AWS KMS (embedded endpoint)",
            _kms_step(report, state),
        )
    )
    for name, action in steps:
        if not report.check(name, action):
            break
    if not shutil.which("openssl"):
        report.steps.append(Step("openssl cross-check", True, "skipped: openssl not on PATH"))
    return report


def _invitation_steps(
    report: DemoReport, folder: Path, state: dict[str, bytes], records: dict[str, str]
) -> list[tuple[str, Callable[[], str]]]:
    """An invitation, its update and its cancellation, each DKIM-signed and checked."""
    zone = ZoneInfo("Europe/Berlin")
    day = (datetime.now(zone) + timedelta(days=14)).date()
    start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=zone)
    chain: list[invite.Invite] = []

    def stage(name: str, make: Callable[[], invite.Invite]) -> Callable[[], str]:
        def action() -> str:
            event = make()
            chain.append(event)
            key = as_dkim_key(keys.load_private_key(state["dkim-key"]))
            signed = dkim.sign(
                invite.to_message(event), key=key, domain=DKIM_DOMAIN, selector=DKIM_SELECTOR,
                profile="ses",
            )  # fmt: skip
            results = dkim.verify(signed, records=records)
            if not _dkim_holds(results):
                raise MimesealError(f"{name}: DKIM did not verify: {[r.reason for r in results]}")
            if invite.from_message(signed) != event:
                raise MimesealError(f"{name}: the calendar in the message does not read back")
            report.write(folder / name, signed)
            return (
                f"{name}: METHOD:{event.method} SEQUENCE:{event.sequence} UID:{event.uid[:13]}…,"
                " DKIM pass"
            )

        return action

    def show_vtimezone() -> str:
        text = invite.to_ics(chain[0]).decode("utf-8")
        block = text[text.index("BEGIN:VTIMEZONE") : text.index("END:VTIMEZONE") + 13]
        report.shown += ["generated VTIMEZONE (RRULE-based, no RDATE, as Outlook needs):"]
        report.shown += [f"    {line}" for line in block.splitlines()]
        return "Europe/Berlin: STANDARD and DAYLIGHT with YEARLY RRULEs"

    return [
        (
            "invitation (REQUEST, Europe/Berlin) built and DKIM-signed",
            stage(
                "invite-request.eml",
                lambda: invite.Invite(
                    method="REQUEST",
                    organizer=invite.Person(SENDER, "Alice Example"),
                    attendees=(invite.Attendee(RECIPIENT, "Bob Example"),),
                    summary="Quarterly review",
                    location="Room 1",
                    start=start,
                    end=start + timedelta(hours=1),
                    alarms=(invite.Alarm(timedelta(minutes=15)),),
                ),
            ),
        ),
        (
            "update: moved one hour later, SEQUENCE bumped",
            stage(
                "invite-update.eml",
                lambda: chain[0].update(
                    start=start + timedelta(hours=1), end=start + timedelta(hours=2)
                ),
            ),
        ),
        (
            "cancellation: same UID, STATUS:CANCELLED",
            stage("invite-cancel.eml", lambda: chain[1].cancel()),
        ),
        ("show the generated VTIMEZONE", show_vtimezone),
    ]


def _check_step(report: DemoReport, records: dict[str, str]) -> Callable[[], str]:
    """Run the survival checker on every message the demo wrote; print one matrix."""

    def action() -> str:
        from mimeseal.check import check  # the checker imports every receiver: load it late

        ca = keys.load_certificate_file(report.folder / "pki" / "ca.pem")
        messages = [p for p in report.files if p.suffix == ".eml" and p.name != "message.eml"]
        failed, shown = [], False
        for path in messages:
            result = check(path.read_bytes(), profile="ses", trust=[ca], dkim_records=records)
            if not result.ok:
                failed.append(f"{path.name}: {', '.join(f.rule for f in result.errors)}")
            if path.name == "signed-dkim.eml" and not shown:
                report.shown += [f"check --profile ses {path.name}:"]
                report.shown += [f"    {line}" for line in result.render().splitlines()]
                shown = True
        if failed:
            raise MimesealError("check found errors: " + "; ".join(failed))
        return f"{len(messages)} messages, no error-level findings"

    return action


_NEEDS_MOTO = "needs moto (pip install 'mimeseal[local]')"


@contextmanager
def _embedded_aws() -> Iterator[Callable[[str], Any] | None]:
    """moto's server on loopback for one step, as a factory of boto3 clients for it (fake
    credentials); None when moto is not installed."""
    if importlib.util.find_spec("moto") is None:
        yield None
        return
    import boto3

    with moto_server() as url:
        options = {"endpoint_url": url, "region_name": "us-east-1",
                   "aws_access_key_id": "demo", "aws_secret_access_key": "demo"}  # fmt: skip
        make: Any = boto3.client  # its overloads name every service; this one is dynamic
        yield lambda service: make(service, **options)


def _send_step(report: DemoReport, records: dict[str, str]) -> Callable[[], str]:
    """Send the signed message and the invitation to moto's SES server on loopback, read the
    stored bytes back, and prove they are identical and still verify."""

    def action() -> str:
        from mimeseal.ses import SesSender

        with _embedded_aws() as client_for:
            if client_for is None:
                return f"skipped: the embedded SES endpoint {_NEEDS_MOTO}"
            from moto.ses.models import ses_backends

            client_for("ses").verify_email_identity(EmailAddress=SENDER)
            sender = SesSender(api="v2", client=client_for("sesv2"))
            names = ["signed-dkim.eml", "invite-request.eml"]
            sent = [(report.folder / n).read_bytes() for n in names]
            results = [sender.send(message) for message in sent]
            stored = [
                m.raw_data.encode("utf-8")
                for m in ses_backends["123456789012"]["us-east-1"].sent_messages
            ][-len(sent) :]
        if stored != sent:
            raise MimesealError("the bytes SES stored differ from the bytes sent")
        ca = keys.load_certificate_file(report.folder / "pki" / "ca.pem")
        if not smime.verify(stored[0], trust=[ca]).valid:
            raise MimesealError("S/MIME no longer verifies after sending")
        for message in stored:
            if not _dkim_holds(dkim.verify(message, records=records)):
                raise MimesealError("DKIM no longer verifies after sending")
        ids = ", ".join(f"{r.message_id[:12]}… sha256 {r.sha256[:12]}…" for r in results)
        return f"{len(sent)} messages stored byte for byte and still verifying ({ids})"

    return action


def _kms_step(report: DemoReport, state: dict[str, bytes]) -> Callable[[], str]:
    """Create an EC P-256 and an RSA key in moto's KMS, certify the first with the dev CA, sign
    S/MIME and DKIM through kms:Sign, and verify with mimeseal (and OpenSSL when present)."""

    def action() -> str:
        with _embedded_aws() as client_for:
            if client_for is None:
                return f"skipped: the embedded KMS endpoint {_NEEDS_MOTO}"
            client = client_for("kms")
            signers, uris = [], []
            tag = secrets.token_hex(3)  # moto keeps keys per process: fresh aliases each run
            for alias, spec in (
                (f"alias/mail-{tag}", "ECC_NIST_P256"),
                (f"alias/dkim-{tag}", "RSA_2048"),
            ):
                key_id = client.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
                client.create_alias(AliasName=alias, TargetKeyId=key_id["KeyId"])
                uris.append(f"awskms:///{alias}")
                signers.append(keys.load_signer(uris[-1], kms_client=client))
            ca = pki.load_dev_ca(report.folder / "pki")
            certificate = pki.issue_signer(ca, SENDER, key=signers[0]).certificate
            signed = smime.sign(
                state["message"], key=signers[0], cert=certificate, chain=[ca.certificate]
            )
            dkim_key = as_dkim_key(signers[1])
            signed = dkim.sign(signed, key=dkim_key, domain=DKIM_DOMAIN, selector="kms")
        report.write(report.folder / "signed-kms.eml", signed)
        if not smime.verify(signed, trust=[ca.certificate]).valid:
            raise MimesealError("the S/MIME signature made in KMS does not verify")
        name, record = record_for_key(dkim_key, domain=DKIM_DOMAIN, selector="kms")
        report.write(report.folder / "dkim" / f"{name}.txt", record.encode("ascii"))
        if not _dkim_holds(dkim.verify(signed, records={name: record})):
            raise MimesealError("the DKIM signature made in KMS does not verify")
        checked = "mimeseal"
        if shutil.which("openssl"):
            if not references.openssl_cms_verify(signed, [ca.certificate]).ok:
                raise MimesealError("openssl cms -verify rejects the S/MIME signature made in KMS")
            checked += " and openssl"
        return (
            f"signed-kms.eml: awskms:///alias/mail (P-256), awskms:///alias/dkim; {checked}: pass"
        )

    return action
