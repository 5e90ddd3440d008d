"""Independent reference verifiers run as external commands: OpenSSL and GnuTLS.

mimeseal checks its own signatures with implementations it did not write. OpenSSL 3.0 cannot
verify Ed25519 CMS signatures (its EdDSA provider refuses the digest CMS passes it, fixed in
later releases), so Ed25519 S/MIME is checked with GnuTLS's ``certtool --p7-verify`` as well.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4"
_TIMEOUT = 120


@dataclass(frozen=True)
class ReferenceResult:
    """What a reference tool said: ``ok`` is its exit status 0, ``output`` its stderr/stdout."""

    tool: str
    ok: bool
    output: str


@functools.lru_cache(maxsize=1)
def openssl_version() -> tuple[int, int] | None:
    """(major, minor) of the ``openssl`` command, or None if it is not on PATH."""
    exe = shutil.which("openssl")
    if exe is None:
        return None
    text = subprocess.run([exe, "version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"OpenSSL (\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def openssl_verifies_ed25519() -> bool:
    """OpenSSL verifies Ed25519 CMS from 3.2 on."""
    version = openssl_version()
    return version is not None and version >= (3, 2)


def _pem_bundle(certs: list[x509.Certificate], folder: Path) -> Path:
    path = folder / "trust.pem"
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return path


def _run(tool: str, command: list[str]) -> ReferenceResult:
    """Run a reference tool; exit status 0 is its "valid", its output the reason."""
    proc = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    return ReferenceResult(tool, proc.returncode == 0, (proc.stderr + proc.stdout).strip())


def openssl_cms_verify(message: bytes, trust: list[x509.Certificate]) -> ReferenceResult:
    """``openssl cms -verify -purpose smimesign`` on an S/MIME message (detached or opaque)."""
    exe = shutil.which("openssl")
    if exe is None:
        return ReferenceResult("openssl", False, "openssl is not on PATH")
    with tempfile.TemporaryDirectory(prefix="mimeseal-openssl-") as tmp:
        folder = Path(tmp)
        (folder / "msg.eml").write_bytes(message)
        cafile = _pem_bundle(trust, folder)
        return _run(
            "openssl",
            [
                exe,
                "cms",
                "-verify",
                "-CAfile",
                str(cafile),
                "-purpose",
                "smimesign",
                "-in",
                str(folder / "msg.eml"),
                "-out",
                str(folder / "content"),
            ],
        )


def gnutls_p7_verify(
    cms_der: bytes, content: bytes | None, trust: list[x509.Certificate]
) -> ReferenceResult:
    """GnuTLS ``certtool --p7-verify`` on a DER CMS structure (detached if ``content``)."""
    exe = shutil.which("certtool")
    if exe is None:
        return ReferenceResult("certtool", False, "certtool (GnuTLS) is not on PATH")
    with tempfile.TemporaryDirectory(prefix="mimeseal-gnutls-") as tmp:
        folder = Path(tmp)
        (folder / "sig.p7").write_bytes(cms_der)
        cafile = _pem_bundle(trust, folder)
        command = [
            exe,
            "--p7-verify",
            "--inder",
            "--infile",
            str(folder / "sig.p7"),
            "--load-ca-certificate",
            str(cafile),
            "--verify-purpose",
            EMAIL_PROTECTION,
        ]
        if content is not None:
            (folder / "content").write_bytes(content)
            command += ["--load-data", str(folder / "content")]
        return _run("certtool", command)
