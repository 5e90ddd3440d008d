"""S/MIME interop: four receivers mimeseal did not write judge its signatures, and it judges theirs.

The receivers (tests/receivers_smime.py) are OpenSSL ``cms -verify``, GnuTLS
``certtool --p7-verify``, NSS ``cmsutil -D`` (Thunderbird's CMS engine) and GnuPG ``gpgsm``.
Where a receiver cannot do something by design, the test asserts what it actually says (so a
change in the tool is noticed) and the comment says why. In the other direction, OpenSSL, NSS
and gpgsm sign, the test wraps their CMS into MIME, and mimeseal must accept it.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

import receivers_smime as rx
from conftest import MESSAGE, SENDER, DevPki, multipart_signed, needs_certtool, needs_openssl
from mimeseal import keys, pki, references, smime
from mimeseal.smime.parts import iter_signed_entities

needs_cmsutil = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("certutil", "cmsutil", "pk12util")),
    reason="NSS certutil/cmsutil/pk12util not on PATH (apt libnss3-tools)",
)
needs_gpgsm = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("gpgsm", "gpgconf")),
    reason="GnuPG gpgsm not on PATH (apt gpgsm)",
)
RECEIVERS = [
    pytest.param(name, marks=mark, id=name)
    for name, mark in (
        ("openssl", needs_openssl),
        ("gnutls", needs_certtool),
        ("nss", needs_cmsutil),
        ("gpgsm", needs_gpgsm),
    )
]
FORMS = ("detached", "opaque")
KEY_CASES = ("rsa-pkcs1v15", "rsa-pss", "ec-p256", "ec-p384", "ed25519")

HEADERS, _, ENTITY = MESSAGE.partition(b"MIME-Version: 1.0\r\n")
TOOL_TIMEOUT = 30


def receiver(name: str) -> rx.Receiver:
    return rx.RECEIVERS[name][1]


def error_codes(verdict: smime.SmimeVerdict) -> set[str]:
    return {p.code for p in verdict.all_problems() if p.is_error}


def opaque_message(headers: bytes, cms_der: bytes) -> bytes:
    """An application/pkcs7-mime signed-data message around ``cms_der`` (RFC 8551 §3.5.2)."""
    return (
        headers + b"MIME-Version: 1.0\r\n"
        b'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\r\n'
        b"Content-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="smime.p7m"\r\n\r\n'
        + base64.encodebytes(cms_der).replace(b"\n", b"\r\n")
    )


def wrap(cms_der: bytes, content: bytes | None) -> bytes:
    """A message around a detached (``content`` given) or opaque CMS signature."""
    if content is None:
        return opaque_message(HEADERS, cms_der)
    return multipart_signed(HEADERS, content, cms_der)


def with_cms(message: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """The message with its CMS structure changed by ``change`` (and rewrapped)."""
    cms_der, content = rx.split_signed(message)
    changed = change(cms_der)
    assert changed != cms_der
    return wrap(changed, content)


def run_tool(
    command: list[str], *, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run(
        command, input=stdin, capture_output=True, timeout=TOOL_TIMEOUT, check=False, env=env
    )
    assert proc.returncode == 0, (command, proc.stderr.decode(errors="replace"))
    return proc


# --- the signers mimeseal signs with ---------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    bundle: keys.KeyBundle
    ca: pki.DevCA
    padding: str = "pkcs1v15"

    @property
    def trust(self) -> list[x509.Certificate]:
        return [self.ca.certificate]


@pytest.fixture(scope="module")
def signers(pkis: dict[str, DevPki]) -> dict[str, Signer]:
    ec_ca = pkis["ec-p256"].ca
    p384 = pki.issue_signer(ec_ca, SENDER, key=ec.generate_private_key(ec.SECP384R1()))
    return {
        "rsa-pkcs1v15": Signer(pkis["rsa2048"].signer, pkis["rsa2048"].ca),
        "rsa-pss": Signer(pkis["rsa2048"].signer, pkis["rsa2048"].ca, "pss"),
        "ec-p256": Signer(pkis["ec-p256"].signer, ec_ca),
        "ec-p384": Signer(p384, ec_ca),  # sha-384 by default for the curve
        "ed25519": Signer(pkis["ed25519"].signer, pkis["ed25519"].ca),  # sha-512 (RFC 8419)
    }


def mimeseal_sign(signer: Signer, form: str) -> bytes:
    return smime.sign(
        MESSAGE,
        key=signer.bundle.key,
        cert=signer.bundle.certificate,
        chain=signer.bundle.chain,
        opaque=form == "opaque",
        rsa_padding="pss" if signer.padding == "pss" else "pkcs1v15",
    )


@pytest.fixture(scope="module")
def signed(signers: dict[str, Signer]) -> dict[tuple[str, str], bytes]:
    return {
        (case, form): mimeseal_sign(signers[case], form) for case in KEY_CASES for form in FORMS
    }


# --- mimeseal's signatures, judged by the four receivers -------------------------------------

# Ed25519 (RFC 8419): only GnuTLS verifies it among these receivers, which is why mimeseal does
# not sign with it by default. What each of the others says, word for word:
ED25519_REFUSALS = {
    # OpenSSL 3.0/3.1: the EdDSA provider refuses the digest CMS hands it (fixed in 3.2).
    "openssl": "eddsa_digest_signverify_init:invalid digest",
    # NSS 3.87 has no Ed25519 in its CMS code: the signer cannot even be processed.
    "nss": "signer0.status=ProcessingError",
    # gpgsm 2.2 passes the Ed25519 signature to libgcrypt as an (EC)DSA one and fails:
    # "DSA requires the hash length to be a multiple of 8 bits", "invalid signature".
    "gpgsm": "BADSIG",
}


def receiver_accepts(case: str, name: str) -> bool:
    """What a receiver says about a good mimeseal signature (mimeseal itself accepts all)."""
    if case != "ed25519":
        return True  # RSA PKCS#1 v1.5, RSA-PSS, ECDSA P-256/P-384: all four verify them
    if name == "openssl":
        return references.openssl_verifies_ed25519()
    return name == "gnutls"


@pytest.mark.parametrize("name", RECEIVERS)
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", KEY_CASES)
def test_receivers_judge_mimeseal_signatures(
    signed: dict[tuple[str, str], bytes],
    signers: dict[str, Signer],
    case: str,
    form: str,
    name: str,
) -> None:
    message, trust = signed[case, form], signers[case].trust
    verdict = smime.verify(message, trust=trust)
    assert verdict.valid, verdict.all_problems()
    result = receiver(name)(message, trust, None)
    expected = receiver_accepts(case, name)
    assert result.ok is expected, result.output
    if not expected:
        assert ED25519_REFUSALS[name] in result.output, result.output


def test_pss_and_p384_are_what_the_receivers_were_given(
    signed: dict[tuple[str, str], bytes], signers: dict[str, Signer]
) -> None:
    """The RSA-PSS and P-384 cases really are PSS and SHA-384 (else their passes prove little)."""
    pss = smime.verify(signed["rsa-pss", "detached"], trust=signers["rsa-pss"].trust).signers[0]
    p384 = smime.verify(signed["ec-p384", "opaque"], trust=signers["ec-p384"].trust).signers[0]
    assert "pss" in pss.signature_algorithm
    assert p384.digest == "sha-384"


# --- what every receiver must reject ---------------------------------------------------------


def tamper(message: bytes) -> bytes:
    """One byte of the signed text changed ("Dear Bob" → "Dear Rob"), in either form."""
    if b"Dear Bob" in message:  # detached: the text travels outside the CMS structure
        assert message.count(b"Dear Bob") == 1
        return message.replace(b"Dear Bob", b"Dear Rob")
    return with_cms(message, lambda der: der.replace(b"Dear Bob", b"Dear Rob"))


# Why each receiver rejects a tampered message, in its own words.
TAMPER_REASONS = {
    "openssl": "verify error",
    "gnutls": "verification failed",
    "nss": "signer0.status=DigestMismatch",
    "gpgsm": "BADSIG",
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", ["rsa-pkcs1v15", "rsa-pss", "ec-p256", "ec-p384"])
def test_every_receiver_rejects_a_tampered_signed_part(
    signed: dict[tuple[str, str], bytes], signers: dict[str, Signer], case: str, form: str
) -> None:
    message, trust = tamper(signed[case, form]), signers[case].trust
    assert "digest-mismatch" in error_codes(smime.verify(message, trust=trust))
    results = rx.all_receivers(message, trust)
    for name, result in results.items():
        assert not result.ok, (name, result.output)
        assert TAMPER_REASONS[name] in result.output, (name, result.output)


UNTRUSTED_REASONS = {
    "openssl": "self-signed certificate in certificate chain",
    "gnutls": "verification failed",
    "nss": "signer0.status=SigningCertNotTrusted",
    "gpgsm": "TRUST_UNDEFINED",  # GOODSIG, VALIDSIG, then "root certificate is not marked trusted"
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", ["rsa-pkcs1v15", "ec-p256"])
def test_every_receiver_rejects_a_ca_outside_the_trust_list(
    signed: dict[tuple[str, str], bytes], other_ca: DevPki, case: str, form: str
) -> None:
    # The message carries its own (self-signed) CA certificate: none may trust it for that.
    message, trust = signed[case, form], other_ca.trust
    assert error_codes(smime.verify(message, trust=trust)) == {"untrusted-chain"}
    for name, result in rx.all_receivers(message, trust).items():
        assert not result.ok, (name, result.output)
        assert UNTRUSTED_REASONS[name] in result.output, (name, result.output)


def same_issuer_and_serial(ca: pki.DevCA, cert: x509.Certificate) -> x509.Certificate:
    """Another certificate with ``cert``'s issuer, serial, subject and extensions, another key.

    RSA-2048 keys and an RSA CA make it exactly as long as ``cert``, so it can replace it in
    the CMS structure byte for byte.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(cert.issuer)
        .public_key(key.public_key())
        .serial_number(cert.serial_number)
        .not_valid_before(cert.not_valid_before_utc)
        .not_valid_after(cert.not_valid_after_utc)
    )
    for ext in cert.extensions:
        value = ext.value
        if isinstance(value, x509.SubjectKeyIdentifier):
            value = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        builder = builder.add_extension(value, ext.critical)
    return builder.sign(ca.key, hashes.SHA256())


TWIN_REASONS = {
    # The twin's modulus is random: when the signature value exceeds it, OpenSSL stops before
    # the padding check.
    "openssl": ("padding check failed", "data too large for modulus"),
    "gnutls": ("Public key signature verification has failed",),
    "nss": ("signer0.status=BadSignature",),
    "gpgsm": ("BADSIG",),
}


@pytest.mark.parametrize("form", FORMS)
def test_every_receiver_rejects_a_signer_certificate_swapped_for_a_twin(
    signed: dict[tuple[str, str], bytes], signers: dict[str, Signer], form: str
) -> None:
    """The SignerInfo names issuer+serial; a CA-issued twin with another key must not verify."""
    signer = signers["rsa-pkcs1v15"]
    original = signer.bundle.certificate.public_bytes(serialization.Encoding.DER)
    twin = same_issuer_and_serial(signer.ca, signer.bundle.certificate)
    twin_der = twin.public_bytes(serialization.Encoding.DER)
    assert len(twin_der) == len(original)

    def swap(der: bytes) -> bytes:
        assert der.count(original) == 1
        return der.replace(original, twin_der)

    message = with_cms(signed["rsa-pkcs1v15", form], swap)
    # mimeseal also sees that ESS signing-certificate-v2 names another certificate.
    codes = error_codes(smime.verify(message, trust=signer.trust))
    assert {"signature-invalid", "signing-certificate-mismatch"} <= codes, codes
    for name, result in rx.all_receivers(message, signer.trust).items():
        assert not result.ok, (name, result.output)
        assert any(reason in result.output for reason in TWIN_REASONS[name]), (name, result.output)


# --- validation time -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expired:
    """A signer whose certificate expired 30 days ago; the CA is still valid."""

    now: datetime
    inside: datetime  # a time inside the signer's validity
    ca: pki.DevCA
    while_valid: bytes  # signing-time claim inside the validity
    after_expiry: bytes  # signing-time claim now, after the expiry

    @property
    def trust(self) -> list[x509.Certificate]:
        return [self.ca.certificate]


@pytest.fixture(scope="module")
def expired() -> Expired:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    ca = pki.create_ca(key_type="ec-p256", days=3650, now=now - timedelta(days=800))
    leaf = pki.issue_signer(
        ca,
        SENDER,
        key_type="ec-p256",
        not_before=now - timedelta(days=400),
        not_after=now - timedelta(days=30),
    )
    inside = now - timedelta(days=100)

    def sign_at(when: datetime) -> bytes:
        return smime.sign(
            MESSAGE,
            key=leaf.key,
            cert=leaf.certificate,
            chain=leaf.chain,
            signing_time=when,
            check_certificate=False,
        )

    return Expired(now, inside, ca, sign_at(inside), sign_at(now))


def test_expired_signer_is_rejected_at_a_named_time_after_expiry(expired: Expired) -> None:
    """mimeseal and the receivers that take a time (OpenSSL -attime, gpgsm --faked-system-time)."""
    for message in (expired.while_valid, expired.after_expiry):
        verdict = smime.verify(message, trust=expired.trust, at=expired.now)
        assert "cert-expired" in error_codes(verdict)
        results = rx.all_receivers(message, expired.trust, expired.now)
        assert set(results) <= rx.TAKES_TIME
        for name, result in results.items():
            assert not result.ok, (name, result.output)
        if "gpgsm" in results:
            assert "EXPKEYSIG" in results["gpgsm"].output


def test_expired_signer_is_accepted_at_a_named_time_inside_its_validity(expired: Expired) -> None:
    message = expired.while_valid
    assert smime.verify(message, trust=expired.trust, at=expired.inside).valid
    for name, result in rx.all_receivers(message, expired.trust, expired.inside).items():
        assert result.ok, (name, result.output)


def test_a_signing_time_claim_outside_the_validity_is_mimeseals_own_rule(expired: Expired) -> None:
    """Judged at a time inside the validity, a message claiming a signing time after expiry.

    mimeseal rejects it: the claim is outside the certificate's validity and after the
    validation time. OpenSSL (-attime) and gpgsm (--faked-system-time) validate the chain at
    the time given and never compare the claim with it, so they accept. (NSS, which validates
    at the claim, rejects it: see the NSS test below.)
    """
    message = expired.after_expiry
    verdict = smime.verify(message, trust=expired.trust, at=expired.inside)
    assert "signing-time-outside-validity" in error_codes(verdict), verdict.all_problems()
    for name, result in rx.all_receivers(message, expired.trust, expired.inside).items():
        assert result.ok, (name, result.output)


def test_receivers_without_a_time_option_refuse_to_be_given_one(expired: Expired) -> None:
    for name in ("gnutls", "nss"):
        assert name not in rx.TAKES_TIME
        result = receiver(name)(expired.while_valid, expired.trust, expired.inside)
        assert not result.ok
        assert "cannot validate at a given time" in result.output


@needs_certtool
def test_gnutls_validates_now(expired: Expired) -> None:
    # certtool has no time option and judges the chain now, whatever the signing time says.
    # Its message for an expired signer is, oddly, a signature failure.
    for message in (expired.while_valid, expired.after_expiry):
        result = rx.gnutls_verify(message, expired.trust)
        assert not result.ok
        assert "Public key signature verification has failed" in result.output, result.output


@needs_cmsutil
def test_nss_validates_at_the_signers_own_signing_time_claim(expired: Expired) -> None:
    # NSS (NSS_CMSSignerInfo_VerifyCertificate) validates the chain at the signing-time
    # attribute, the signer's unauthenticated claim (RFC 8551 §2.5.1), else now; cmsutil has
    # no option for another time. So it accepts an expired signer that claims an earlier time.
    accepted = rx.nss_verify(expired.while_valid, expired.trust)
    assert accepted.ok, accepted.output
    refused = rx.nss_verify(expired.after_expiry, expired.trust)
    assert not refused.ok
    assert "signer0.status=SigningCertNotTrusted" in refused.output, refused.output


@needs_openssl
def test_openssl_without_a_time_validates_now(expired: Expired) -> None:
    result = rx.openssl_verify(expired.while_valid, expired.trust)
    assert not result.ok
    assert "certificate has expired" in result.output, result.output


@needs_gpgsm
def test_gpgsm_without_a_time_validates_now_and_its_exit_status_alone_would_accept(
    expired: Expired,
) -> None:
    # gpgsm says "Good signature" and exits 0 for an expired signer; only the EXPKEYSIG status
    # line (instead of GOODSIG) says it expired. The receiver reads the status and rejects.
    result = rx.gpgsm_verify(expired.while_valid, expired.trust)
    assert not result.ok
    assert "EXPKEYSIG" in result.output
    assert "certificate has expired" in result.output


def test_mimeseal_without_a_time_validates_now_like_openssl_gnutls_and_gpgsm(
    expired: Expired,
) -> None:
    """With no ``at``, validate now; the signing time is the signer's claim (RFC 8551 §2.5.1)."""
    verdict = smime.verify(expired.while_valid, trust=expired.trust)
    assert "cert-expired" in error_codes(verdict), verdict.all_problems()


# --- the receivers themselves fail closed ----------------------------------------------------


def test_receivers_fail_closed_on_unusable_input(signed: dict[tuple[str, str], bytes]) -> None:
    garbage = HEADERS + b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    wrapped = (
        HEADERS + b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="w"\r\n\r\n--w\r\n'
        b"Content-Type: text/plain\r\n\r\nread me first\r\n--w\r\n"
        b"Content-Type: message/rfc822\r\n\r\n"
        + signed["rsa-pkcs1v15", "detached"]
        + b"\r\n--w--\r\n"
    )
    broken = opaque_message(HEADERS, b"\x30\x03\x02\x01\x01")
    for message in (garbage, wrapped, broken):
        for name, result in rx.all_receivers(message, []).items():
            assert not result.ok, (name, result.output)


def test_receivers_fail_closed_without_their_tools(
    signed: dict[tuple[str, str], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)  # as every receiver finds its tool
    assert rx.all_receivers(signed["rsa-pkcs1v15", "detached"], []) == {}
    for name in rx.RECEIVERS:
        result = receiver(name)(signed["rsa-pkcs1v15", "detached"], [], None)
        assert not result.ok
        assert "not on PATH" in result.output


def _agents_for(prefix: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"gpg-agent" in cmdline and prefix.encode() in cmdline:
            found.append(entry.name)
    return found


@needs_gpgsm
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_gpgsm_leaves_no_agent_running(
    signed: dict[tuple[str, str], bytes], signers: dict[str, Signer]
) -> None:
    result = rx.gpgsm_verify(signed["ec-p256", "detached"], signers["ec-p256"].trust)
    assert result.ok, result.output
    prefix = str(Path(tempfile.gettempdir()) / "mimeseal-gpgsm-")
    deadline = time.monotonic() + 5
    while _agents_for(prefix) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _agents_for(prefix) == []


# --- the other direction: mimeseal judges OpenSSL's, NSS's and gpgsm's signatures ------------


def assert_everyone_accepts(message: bytes, trust: list[x509.Certificate]) -> None:
    """mimeseal must accept a third party's signature; the receivers check the wrapping."""
    verdict = smime.verify(message, trust=trust)
    assert verdict.valid, sorted((p.code, p.message) for p in verdict.all_problems())
    for name, result in rx.all_receivers(message, trust).items():
        assert result.ok, (name, result.output)


def _pem_files(folder: Path, bundle: keys.KeyBundle) -> tuple[Path, Path, Path]:
    cert, key, chain = folder / "signer.pem", folder / "signer.key", folder / "chain.pem"
    cert.write_bytes(bundle.certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        bundle.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    chain.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in bundle.chain))
    return cert, key, chain


def openssl_sign(
    folder: Path, bundle: keys.KeyBundle, *, opaque: bool, keyopts: Sequence[str]
) -> bytes:
    cert, key, chain = _pem_files(folder, bundle)
    (folder / "entity").write_bytes(ENTITY)
    command = [
        "openssl", "cms", "-sign", "-md", "sha256", "-binary",
        "-signer", str(cert), "-inkey", str(key), "-certfile", str(chain),
        "-in", str(folder / "entity"), "-outform", "DER", "-out", str(folder / "sig.der"),
    ]  # fmt: skip
    if opaque:
        command.append("-nodetach")
    for option in keyopts:
        command += ["-keyopt", option]
    run_tool(command)
    return (folder / "sig.der").read_bytes()


PSS = "rsa_padding_mode:pss"
OPENSSL_CASES = {
    "rsa-pkcs1v15-detached": ("rsa-pkcs1v15", "detached", ()),
    "rsa-pkcs1v15-opaque": ("rsa-pkcs1v15", "opaque", ()),
    # RSA-PSS with the salt as long as the hash (RFC 4055's default, what mimeseal writes).
    "rsa-pss-detached": ("rsa-pkcs1v15", "detached", (PSS, "rsa_pss_saltlen:digest")),
    # OpenSSL 3.0's own default PSS salt is the longest that fits (222 octets for RSA-2048).
    "rsa-pss-max-salt-detached": ("rsa-pkcs1v15", "detached", (PSS,)),
    "ec-p256-detached": ("ec-p256", "detached", ()),
    "ec-p256-opaque": ("ec-p256", "opaque", ()),
}
# Receivers that refuse OpenSSL's default (maximal) PSS salt, in their words. mimeseal, OpenSSL
# and NSS accept it: RFC 4055 lets the signer choose the salt length and says so in the
# parameters. GnuTLS 3.7 only takes a salt as long as the hash; gpgsm 2.2 refuses it
# ("rejected due to salt length 222") and then aborts ("double free detected").
MAX_SALT_REFUSALS = {
    "gnutls": "Public key signature verification has failed",
    "gpgsm": "rejected due to salt length 222",
}


@needs_openssl
@pytest.mark.parametrize("label", OPENSSL_CASES)
def test_mimeseal_accepts_openssl_signatures(
    signers: dict[str, Signer], tmp_path: Path, label: str
) -> None:
    case, form, keyopts = OPENSSL_CASES[label]
    signer = signers[case]
    der = openssl_sign(tmp_path, signer.bundle, opaque=form == "opaque", keyopts=keyopts)
    message = wrap(der, None if form == "opaque" else ENTITY)
    if "max-salt" not in label:
        assert_everyone_accepts(message, signer.trust)
        return
    verdict = smime.verify(message, trust=signer.trust)
    assert verdict.valid, sorted((p.code, p.message) for p in verdict.all_problems())
    for name, result in rx.all_receivers(message, signer.trust).items():
        if name in MAX_SALT_REFUSALS:
            assert not result.ok, (name, result.output)
            assert MAX_SALT_REFUSALS[name] in result.output, (name, result.output)
        else:
            assert result.ok, (name, result.output)


@needs_openssl
def test_mimeseal_accepts_openssl_smime_output(signers: dict[str, Signer], tmp_path: Path) -> None:
    """``openssl cms -sign`` writing the MIME itself: LF line ends outside the signed part."""
    signer = signers["rsa-pkcs1v15"]
    cert, key, chain = _pem_files(tmp_path, signer.bundle)
    (tmp_path / "entity").write_bytes(ENTITY)
    command = [
        "openssl", "cms", "-sign", "-md", "sha256",
        "-signer", str(cert), "-inkey", str(key), "-certfile", str(chain),
        "-from", "Alice Example <alice@example.com>", "-to", "bob@example.org",
        "-subject", "quarterly statement",
        "-in", str(tmp_path / "entity"), "-out", str(tmp_path / "msg.eml"),
    ]  # fmt: skip
    run_tool(command)
    message = (tmp_path / "msg.eml").read_bytes()
    verdict = smime.verify(message, trust=signer.trust)
    assert verdict.valid, sorted((p.code, p.message) for p in verdict.all_problems())
    assert verdict.canonicalized  # and it says so
    result = rx.openssl_verify(message, signer.trust)
    assert result.ok, result.output


# DER of the attribute types NSS adds with -Y: Microsoft's encryption-key-preference
# (1.3.6.1.4.1.311.16.4) and RFC 8551's SMIMEEncryptionKeyPreference (1.2.840.113549.1.9.16.2.11).
MS_KEY_PREFERENCE = bytes.fromhex("06092b0601040182371004")
SMIME_KEY_PREFERENCE = bytes.fromhex("060b2a864886f70d010910020b")


def is_indefinite_length(der: bytes) -> bool:
    """The outer ContentInfo SEQUENCE uses BER's indefinite length (0x30 0x80)."""
    return der[:2] == b"\x30\x80"


def nss_sign(folder: Path, bundle: keys.KeyBundle, *, opaque: bool, key_preference: bool) -> bytes:
    """``cmsutil -S`` with a key imported from PKCS#12 by ``pk12util``, as Thunderbird signs.

    ``-G -P`` add signing-time and SMIMECapabilities; with ``key_preference`` ``-Y`` adds
    Microsoft's encryption-key-preference (1.3.6.1.4.1.311.16.4) and RFC 8551's
    SMIMEEncryptionKeyPreference, which NSS only writes for a certificate that can encrypt.
    """
    db = f"sql:{folder / 'nssdb'}"
    (folder / "nssdb").mkdir()
    run_tool(["certutil", "-N", "--empty-password", "-d", db])
    for index, ca in enumerate(bundle.chain):
        path = folder / f"ca{index}.pem"
        path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        run_tool(["certutil", "-A", "-n", f"ca{index}", "-t", "C,C,C", "-i", str(path), "-d", db])
    p12 = pkcs12.serialize_key_and_certificates(
        b"alice",
        bundle.key,
        bundle.certificate,
        list(bundle.chain),
        serialization.BestAvailableEncryption(b"pw"),
    )
    (folder / "signer.p12").write_bytes(p12)
    run_tool(["pk12util", "-i", str(folder / "signer.p12"), "-d", db, "-W", "pw"])
    (folder / "entity").write_bytes(ENTITY)
    command = ["cmsutil", "-S", "-N", "alice", "-G", "-P", "-H", "SHA256"]
    command += ["-Y", "alice" if key_preference else "NONE"]
    if not opaque:
        command.append("-T")
    command += ["-i", str(folder / "entity"), "-o", str(folder / "sig.der"), "-d", db]
    run_tool(command)
    return (folder / "sig.der").read_bytes()


@pytest.fixture(scope="module")
def encrypting_signer(pkis: dict[str, DevPki]) -> keys.KeyBundle:
    """An RSA signer whose certificate also allows keyEncipherment, as real mail certs do."""
    return pki.issue_signer(
        pkis["rsa2048"].ca,
        SENDER,
        key_usage=("digital_signature", "content_commitment", "key_encipherment"),
    )


@needs_cmsutil
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("key_preference", [False, True], ids=["plain", "thunderbird"])
def test_mimeseal_accepts_nss_signatures(
    pkis: dict[str, DevPki],
    encrypting_signer: keys.KeyBundle,
    tmp_path: Path,
    form: str,
    key_preference: bool,
) -> None:
    bundle = encrypting_signer if key_preference else pkis["rsa2048"].signer
    der = nss_sign(tmp_path, bundle, opaque=form == "opaque", key_preference=key_preference)
    assert (MS_KEY_PREFERENCE in der) is key_preference
    assert (SMIME_KEY_PREFERENCE in der) is key_preference
    assert is_indefinite_length(der)  # NSS writes BER in both forms
    assert_everyone_accepts(wrap(der, None if form == "opaque" else ENTITY), pkis["rsa2048"].trust)


def gpgsm_sign(bundle: keys.KeyBundle, *, opaque: bool) -> bytes:
    """``gpgsm --sign`` / ``--detach-sign`` with a key imported from PKCS#12."""
    with tempfile.TemporaryDirectory(prefix="mimeseal-gpgsm-sign-") as tmp:
        home = Path(tmp)
        env = rx.gpgsm_home(home, list(bundle.chain))
        assert isinstance(env, dict), env
        with (home / "gpg-agent.conf").open("a", encoding="ascii") as conf:
            conf.write("s2k-count 65536\n")  # a throw-away key: no slow key derivation
        try:
            # gpgsm 2.2 cannot read PBES2 (AES) PKCS#12 ("encryptedData error at
            # pkcs5PBES2-params"): the legacy SHA-1/3DES form is what it imports.
            legacy = (
                serialization.PrivateFormat.PKCS12.encryption_builder()
                .kdf_rounds(2048)
                .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
                .hmac_hash(hashes.SHA1())  # noqa: S303
                .build(b"pw")
            )
            p12 = pkcs12.serialize_key_and_certificates(
                b"alice",
                bundle.key,
                bundle.certificate,
                list(bundle.chain),
                legacy,
            )
            (home / "signer.p12").write_bytes(p12)
            (home / "entity").write_bytes(ENTITY)
            # gpgsm has --passphrase-fd, not --passphrase (which its parser would take as an
            # abbreviation of --passphrase-fd).
            loopback = ["--pinentry-mode", "loopback", "--passphrase-fd", "0"]
            base = rx.gpgsm_base(home) + loopback
            run_tool([*base, "--import", str(home / "signer.p12")], stdin=b"pw\n", env=env)
            fingerprint = bundle.certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303
            mode = "--sign" if opaque else "--detach-sign"
            output = ["--output", str(home / "sig.der"), str(home / "entity")]
            run_tool([*base, "--local-user", fingerprint, mode, *output], stdin=b"pw\n", env=env)
            return (home / "sig.der").read_bytes()
        finally:
            rx.gpgsm_stop(home, env)


@needs_gpgsm
@pytest.mark.parametrize("form", FORMS)
def test_mimeseal_accepts_gpgsm_signatures(pkis: dict[str, DevPki], form: str) -> None:
    der = gpgsm_sign(pkis["rsa2048"].signer, opaque=form == "opaque")
    assert is_indefinite_length(der)  # gpgsm writes BER in both forms
    assert_everyone_accepts(wrap(der, None if form == "opaque" else ENTITY), pkis["rsa2048"].trust)


def test_messages_signed_by_others_are_found_where_expected(
    signed: dict[tuple[str, str], bytes],
) -> None:
    """The wrapping helpers make what mimeseal's own signer makes: one root signed entity."""
    for form in FORMS:
        cms_der, content = rx.split_signed(signed["rsa-pkcs1v15", form])
        rewrapped = wrap(cms_der, content)
        (entity,) = iter_signed_entities(rewrapped)
        assert entity.is_root
        assert entity.form == form
        assert entity.cms_der == cms_der
        assert b"Dear Bob" in (content or cms_der)
