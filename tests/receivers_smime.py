"""Four S/MIME receivers mimeseal did not write: OpenSSL, GnuTLS, NSS and GnuPG's gpgsm.

Each function takes a whole message (multipart/signed or application/pkcs7-mime signed-data),
the trust anchors and optionally a validation time, and returns a
:class:`mimeseal.references.ReferenceResult`. Every receiver fails closed: a missing tool, a
time-out, a message it cannot be given or any status other than a good, trusted signature is
``ok=False`` with the tool's output. Each call works in its own temporary folder (NSS database,
``GNUPGHOME``), so no call sees another's certificates and none touches the user's ``~/.gnupg``
or NSS database.

What the tools do with a validation time:

- OpenSSL: ``-attime`` validates the chain at any given time, else now.
- GnuTLS ``certtool --p7-verify`` has no time option; it validates now.
- NSS ``cmsutil`` has no time option; it validates at the signer's signing-time attribute
  (an unauthenticated claim, RFC 8551 §2.5.1), else now.
- gpgsm: ``--faked-system-time`` sets the time it validates at (the shell model, now by
  default).

The receivers that cannot take a time (:data:`TAKES_TIME` lacks them) fail closed when one is
given, and :func:`all_receivers` leaves them out then.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from mimeseal import references
from mimeseal.errors import MimesealError
from mimeseal.references import ReferenceResult
from mimeseal.smime.parts import iter_signed_entities

__all__ = [
    "RECEIVERS",
    "TAKES_TIME",
    "ReferenceResult",
    "all_receivers",
    "gnutls_verify",
    "gpgsm_verify",
    "nss_verify",
    "openssl_verify",
    "split_signed",
]

TIMEOUT = 30.0
"""Seconds any one command may run before the receiver gives up (and fails)."""

Receiver = Callable[[bytes, Sequence[x509.Certificate], "datetime | None"], ReferenceResult]


class _RefusedError(Exception):
    """The message cannot be handed to a receiver (no root signature, unparsable MIME)."""


def split_signed(message: bytes) -> tuple[bytes, bytes | None]:
    """The CMS DER of the message's root signature, and the detached content (None if opaque).

    A message whose signature is not the message root (or that has none) is refused: the
    command-line receivers judge CMS blobs and would not notice a wrapped part.
    """
    try:
        entities = list(iter_signed_entities(message))
    except MimesealError as exc:
        raise _RefusedError(
            f"the message cannot be split into signature and content: {exc}"
        ) from exc
    if not entities:
        raise _RefusedError("the message has no S/MIME signature")
    entity = entities[0]
    if not entity.is_root or len(entities) > 1:
        raise _RefusedError(
            f"the signed part is MIME part {entity.path or 'root'} of {len(entities)}; a receiver "
            "is given only a message whose root is the one signed entity"
        )
    return entity.cms_der, (entity.signed_bytes if entity.form == "detached" else None)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def _run(
    tool: str, command: list[str], *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str] | ReferenceResult:
    """Run one command with a time-out; a failure to run it at all is a failed result."""
    try:
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT,
            check=False,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return ReferenceResult(tool, False, f"{command[0]} did not finish in {TIMEOUT:.0f} s")
    except OSError as exc:
        return ReferenceResult(tool, False, f"{command[0]} could not be run: {exc}")


def _output(proc: subprocess.CompletedProcess[str]) -> str:
    return (proc.stdout + proc.stderr).strip()


def _missing(tool: str, package: str) -> ReferenceResult:
    return ReferenceResult(tool, False, f"{tool} is not on PATH (Debian package {package})")


def _no_time(tool: str) -> ReferenceResult:
    return ReferenceResult(
        tool, False, f"{tool} cannot validate at a given time; it was not asked to guess"
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


# --- OpenSSL ---------------------------------------------------------------------------------


def openssl_verify(
    message: bytes, trust: Sequence[x509.Certificate], at: datetime | None = None
) -> ReferenceResult:
    """``openssl cms -verify -purpose smimesign`` (with ``-attime`` when ``at`` is given)."""
    if at is None:
        try:
            return references.openssl_cms_verify(message, list(trust))
        except (subprocess.TimeoutExpired, OSError) as exc:
            return ReferenceResult("openssl", False, f"openssl failed to run: {exc}")
    exe = shutil.which("openssl")
    if exe is None:
        return _missing("openssl", "openssl")
    with tempfile.TemporaryDirectory(prefix="mimeseal-openssl-") as tmp:
        folder = Path(tmp)
        (folder / "msg.eml").write_bytes(message)
        (folder / "trust.pem").write_bytes(b"".join(_pem(c) for c in trust))
        command = [
            exe, "cms", "-verify",
            "-CAfile", str(folder / "trust.pem"),
            "-purpose", "smimesign",
            "-attime", str(int(_utc(at).timestamp())),
            "-in", str(folder / "msg.eml"),
            "-out", str(folder / "content"),
        ]  # fmt: skip
        proc = _run("openssl", command)
        if isinstance(proc, ReferenceResult):
            return proc
        return ReferenceResult("openssl", proc.returncode == 0, _output(proc))


# --- GnuTLS ----------------------------------------------------------------------------------


def gnutls_verify(
    message: bytes, trust: Sequence[x509.Certificate], at: datetime | None = None
) -> ReferenceResult:
    """GnuTLS ``certtool --p7-verify`` (purpose emailProtection); it validates now only."""
    if at is not None:
        return _no_time("certtool")
    if shutil.which("certtool") is None:
        return _missing("certtool", "gnutls-bin")
    try:
        cms_der, content = split_signed(message)
    except _RefusedError as exc:
        return ReferenceResult("certtool", False, str(exc))
    try:
        return references.gnutls_p7_verify(cms_der, content, list(trust))
    except (subprocess.TimeoutExpired, OSError) as exc:
        return ReferenceResult("certtool", False, f"certtool failed to run: {exc}")


# --- NSS -------------------------------------------------------------------------------------

_NSS_SIGNERS = re.compile(r"nsigners=(\d+);")
_NSS_STATUS = re.compile(r"signer(\d+)\.status=(\w+);")


def nss_verify(
    message: bytes, trust: Sequence[x509.Certificate], at: datetime | None = None
) -> ReferenceResult:
    """NSS ``cmsutil -D`` (certUsageEmailSigner) in a throw-away database trusting ``trust``.

    ``cmsutil -D -h 1`` prints ``nsigners=N`` and ``signerK.status=...`` for each signer and
    exits 0 even when a signer's status is bad (without ``-h`` it stops at the first bad one,
    exit 1), so the verdict is read from the statuses: valid only if there is at least one
    signer and every one is ``GoodSignature`` (others: ``DigestMismatch``, ``BadSignature``,
    ``SigningCertNotFound``, ``SigningCertNotTrusted``, ``ProcessingError``, ...).
    """
    if at is not None:
        return _no_time("cmsutil")
    certutil, cmsutil = shutil.which("certutil"), shutil.which("cmsutil")
    if certutil is None or cmsutil is None:
        return _missing("cmsutil", "libnss3-tools")
    try:
        cms_der, content = split_signed(message)
    except _RefusedError as exc:
        return ReferenceResult("cmsutil", False, str(exc))
    with tempfile.TemporaryDirectory(prefix="mimeseal-nss-") as tmp:
        folder = Path(tmp)
        db = f"sql:{folder / 'db'}"
        (folder / "db").mkdir()
        steps = [[certutil, "-N", "--empty-password", "-d", db]]
        for index, cert in enumerate(trust):
            path = folder / f"ca{index}.pem"
            path.write_bytes(_pem(cert))
            steps.append(
                [certutil, "-A", "-n", f"ca{index}", "-t", "C,C,C", "-i", str(path), "-d", db]
            )
        for step in steps:
            proc = _run("cmsutil", step)
            if isinstance(proc, ReferenceResult):
                return proc
            if proc.returncode != 0:
                return ReferenceResult("cmsutil", False, f"setting up NSS: {_output(proc)}")
        (folder / "sig.der").write_bytes(cms_der)
        command = [cmsutil, "-D", "-n", "-h", "1", "-u", "4", "-i", str(folder / "sig.der")]
        if content is not None:
            (folder / "content").write_bytes(content)
            command += ["-c", str(folder / "content")]
        proc = _run("cmsutil", [*command, "-d", db])
        if isinstance(proc, ReferenceResult):
            return proc
        text = _output(proc)
        counted = _NSS_SIGNERS.search(proc.stdout)
        statuses = [status for _, status in _NSS_STATUS.findall(proc.stdout)]
        ok = (
            proc.returncode == 0
            and counted is not None
            and int(counted.group(1)) == len(statuses) > 0
            and all(status == "GoodSignature" for status in statuses)
        )
        return ReferenceResult("cmsutil", ok, text)


# --- GnuPG gpgsm -----------------------------------------------------------------------------

_GOOD_TRUST = ("TRUST_FULLY", "TRUST_ULTIMATE")
_BAD_STATUS = (
    "BADSIG", "ERRSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG",
    "TRUST_UNDEFINED", "TRUST_NEVER", "TRUST_MARGINAL",
)  # fmt: skip


def gpgsm_status_ok(status_lines: Sequence[str]) -> bool:
    """True if every signature (each ``NEWSIG``) is GOODSIG + VALIDSIG + full trust."""
    blocks: list[list[str]] = []
    for line in status_lines:
        if not line.startswith("[GNUPG:] "):
            continue
        keyword = line.split()[1]
        if keyword == "NEWSIG":
            blocks.append([])
        elif blocks:
            blocks[-1].append(keyword)
    return bool(blocks) and all(
        "GOODSIG" in block
        and "VALIDSIG" in block
        and any(t in block for t in _GOOD_TRUST)
        and not any(b in block for b in _BAD_STATUS)
        for block in blocks
    )


def _sha1_colons(cert: x509.Certificate) -> str:
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA1()))  # noqa: S303


def gpgsm_home(folder: Path, trust: Sequence[x509.Certificate]) -> dict[str, str] | ReferenceResult:
    """Make ``folder`` a GNUPGHOME trusting exactly ``trust``; returns the environment for it.

    The agent never asks anyone to mark a root trusted (``no-allow-mark-trusted``); the roots
    are listed in ``trustlist.txt`` with the S/MIME flag ``S``.
    """
    gpgsm = shutil.which("gpgsm")
    if gpgsm is None:
        return _missing("gpgsm", "gpgsm")
    folder.chmod(0o700)
    (folder / "gpg-agent.conf").write_text(
        "no-allow-mark-trusted\nallow-loopback-pinentry\n", encoding="ascii"
    )
    (folder / "trustlist.txt").write_text(
        "".join(f"{_sha1_colons(cert)} S\n" for cert in trust), encoding="ascii"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GNUPG", "GPG_", "DISPLAY", "PINENTRY"))
    }
    env["GNUPGHOME"] = str(folder)
    if trust:
        bundle = folder / "anchors.pem"
        bundle.write_bytes(b"".join(_pem(c) for c in trust))
        proc = _run("gpgsm", [*gpgsm_base(folder), "--import", str(bundle)], env=env)
        if isinstance(proc, ReferenceResult):
            return proc
        if proc.returncode != 0:
            return ReferenceResult("gpgsm", False, f"importing the anchors: {_output(proc)}")
    return env


def gpgsm_base(home: Path) -> list[str]:
    """gpgsm with the home, offline and no-prompt options every call uses."""
    return [
        shutil.which("gpgsm") or "gpgsm",
        "--homedir", str(home),
        "--batch", "--no-tty",
        "--disable-dirmngr",
        "--no-common-certs-import",
        "--disable-crl-checks", "--disable-trusted-cert-crl-check",
        "--disable-ocsp",
        "--disable-policy-checks",
    ]  # fmt: skip


def gpgsm_stop(home: Path, env: dict[str, str]) -> None:
    """Stop the gpg-agent (and any dirmngr) started for ``home`` and remove its socket dir."""
    gpgconf = shutil.which("gpgconf")
    if gpgconf is None:
        return
    for args in (["--kill", "all"], ["--remove-socketdir"]):
        _run("gpgsm", [gpgconf, "--homedir", str(home), *args], env=env)


def gpgsm_verify(
    message: bytes, trust: Sequence[x509.Certificate], at: datetime | None = None
) -> ReferenceResult:
    """``gpgsm --verify`` in a throw-away GNUPGHOME whose trustlist holds exactly ``trust``.

    Offline (no dirmngr, no CRL, OCSP or policy checks). ``at`` becomes
    ``--faked-system-time``. Valid only if gpgsm exits 0 and every signature has GOODSIG,
    VALIDSIG and TRUST_FULLY (or ULTIMATE): the exit status alone is not enough, because
    gpgsm exits 0 for an expired signer (EXPKEYSIG, "Good signature"). The agent is stopped
    before returning.
    """
    if shutil.which("gpgsm") is None:
        return _missing("gpgsm", "gpgsm")
    try:
        cms_der, content = split_signed(message)
    except _RefusedError as exc:
        return ReferenceResult("gpgsm", False, str(exc))
    with tempfile.TemporaryDirectory(prefix="mimeseal-gpgsm-") as tmp:
        home = Path(tmp)
        env = gpgsm_home(home, trust)
        if isinstance(env, ReferenceResult):
            gpgsm_stop(home, dict(os.environ, GNUPGHOME=str(home)))
            return env
        try:
            (home / "sig.der").write_bytes(cms_der)
            command = [*gpgsm_base(home), "--status-fd", "1", "--assume-binary"]
            if at is not None:
                command += ["--faked-system-time", _utc(at).strftime("%Y%m%dT%H%M%S")]
            if content is None:
                command += ["--output", str(home / "content"), "--verify", str(home / "sig.der")]
            else:
                (home / "content").write_bytes(content)
                command += ["--verify", str(home / "sig.der"), str(home / "content")]
            proc = _run("gpgsm", command, env=env)
            if isinstance(proc, ReferenceResult):
                return proc
            ok = proc.returncode == 0 and gpgsm_status_ok(proc.stdout.splitlines())
            return ReferenceResult("gpgsm", ok, _output(proc))
        finally:
            gpgsm_stop(home, env)


# --- all of them -----------------------------------------------------------------------------

RECEIVERS: dict[str, tuple[str, Receiver]] = {
    "openssl": ("openssl", openssl_verify),
    "gnutls": ("certtool", gnutls_verify),
    "nss": ("cmsutil", nss_verify),
    "gpgsm": ("gpgsm", gpgsm_verify),
}
"""Receiver name → (the command it needs on PATH, the function)."""

TAKES_TIME = frozenset({"openssl", "gpgsm"})
"""The receivers that can validate at a time the caller names."""


def all_receivers(
    message: bytes, trust: Sequence[x509.Certificate], at: datetime | None = None
) -> dict[str, ReferenceResult]:
    """Every receiver whose tool is on PATH (only those in :data:`TAKES_TIME` if ``at``)."""
    return {
        name: verify(message, trust, at)
        for name, (command, verify) in RECEIVERS.items()
        if shutil.which(command) is not None and (at is None or name in TAKES_TIME)
    }
