"""S/MIME verification: accepts what the references sign, rejects each attack with its code."""

from __future__ import annotations

import base64
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms as asn1_cms
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hostile
from conftest import MESSAGE, SENDER, DevPki, multipart_signed, needs_certtool, needs_openssl
from mimeseal import cms, pki, smime
from mimeseal.errors import (
    CmsError,
    LimitError,
    MessageError,
    MimesealError,
    VerificationInputError,
)
from mimeseal.limits import Limits
from mimeseal.mime import to_crlf
from mimeseal.smime.parts import decode_base64_strict, iter_signed_entities
from mimeseal.smime.signing import split_entity

OUTER = b"From: Alice Example <alice@example.com>\r\nTo: bob@example.org\r\nSubject: statement\r\n"
ENTITY = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nPay invoice 42 by Friday.\r\n"


def codes(verdict: smime.SmimeVerdict) -> set[str]:
    return {p.code for p in verdict.all_problems() if p.is_error}


def _sign(dev: DevPki, message: bytes = MESSAGE, **options: Any) -> bytes:
    return smime.sign(message, key=dev.signer.key, cert=dev.signer.certificate, **options)


def _detached_der(dev: DevPki, content: bytes, **options: Any) -> bytes:
    return cms.build_signed_data(
        content, key=dev.signer.key, cert=dev.signer.certificate, chain=(), **options
    )


# --- what independent signers produce ---------------------------------------------------------


@needs_openssl
@pytest.mark.parametrize("key_type", ["rsa2048", "ec-p256"])
@pytest.mark.parametrize("detach", [True, False], ids=["detached", "nodetach"])
@pytest.mark.parametrize("digest", ["sha256", "sha384"])
def test_accepts_openssl_cms_sign(
    pkis: dict[str, DevPki], tmp_path: Path, key_type: str, detach: bool, digest: str
) -> None:
    dev = pkis[key_type]
    (tmp_path / "entity").write_bytes(ENTITY)
    command = [
        "openssl", "cms", "-sign", "-in", str(tmp_path / "entity"), "-signer", str(dev.cert_pem),
        "-inkey", str(dev.key_pem), "-md", digest, "-out", str(tmp_path / "out.eml"),
    ]  # fmt: skip
    if not detach:
        command.append("-nodetach")
    subprocess.run(command, check=True, capture_output=True)
    message = OUTER + (tmp_path / "out.eml").read_bytes()
    verdict = smime.verify(message, trust=dev.trust)
    assert verdict.valid, verdict.all_problems()
    assert verdict.parts[0].form == ("detached" if detach else "opaque")
    assert verdict.signers[0].addresses == (SENDER,)
    tampered = message.replace(b"invoice 42", b"invoice 43")
    if detach:
        assert "digest-mismatch" in codes(smime.verify(tampered, trust=dev.trust))


def _cryptography_builder(dev: DevPki) -> pkcs7.PKCS7SignatureBuilder:
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(ENTITY)
        .add_signer(dev.signer.certificate, dev.signer.key, hashes.SHA256())  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("key_type", ["rsa2048", "ec-p256"])
def test_accepts_cryptography_pkcs7_builder_detached(
    pkis: dict[str, DevPki], key_type: str
) -> None:
    dev = pkis[key_type]
    smime_bytes = _cryptography_builder(dev).sign(
        serialization.Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature]
    )
    verdict = smime.verify(OUTER + smime_bytes, trust=dev.trust)
    assert verdict.valid, verdict.all_problems()
    # cryptography still writes the pre-RFC 5751 x-pkcs7 type: reported, not fatal.
    assert "legacy-media-type" in {p.code for p in verdict.all_problems()}


@pytest.mark.parametrize("key_type", ["rsa2048", "ec-p256"])
def test_accepts_cryptography_pkcs7_builder_opaque(pkis: dict[str, DevPki], key_type: str) -> None:
    dev = pkis[key_type]
    der = _cryptography_builder(dev).sign(serialization.Encoding.DER, [])
    body = base64.encodebytes(der).replace(b"\n", b"\r\n")
    message = (
        OUTER + b"MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; "
        b'smime-type=signed-data; name="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + body
    )
    verdict = smime.verify(message, trust=dev.trust)
    assert verdict.valid, verdict.all_problems()
    assert verdict.parts[0].form == "opaque"


def test_cryptography_non_detached_smime_carries_econtent_and_is_refused(rsa_pki: DevPki) -> None:
    """Without DetachedSignature, cryptography writes multipart/signed *and* embeds the content.

    The reader is shown the MIME part while the signature vouches for the embedded copy; a
    strict verifier cannot tell the two apart safely, so this hybrid is rejected.
    """
    smime_bytes = _cryptography_builder(rsa_pki).sign(serialization.Encoding.SMIME, [])
    verdict = smime.verify(OUTER + smime_bytes, trust=rsa_pki.trust)
    assert "econtent-in-detached" in codes(verdict)


@needs_certtool
def test_accepts_gnutls_ed25519_signature(pkis: dict[str, DevPki], tmp_path: Path) -> None:
    dev = pkis["ed25519"]
    (tmp_path / "entity").write_bytes(ENTITY)
    subprocess.run(
        [
            "certtool", "--p7-detached-sign", "--p7-time", "--outder",
            "--load-privkey", str(dev.key_pem), "--load-certificate", str(dev.cert_pem),
            "--infile", str(tmp_path / "entity"), "--outfile", str(tmp_path / "sig.p7s"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    der = (tmp_path / "sig.p7s").read_bytes()
    verdict = smime.verify(multipart_signed(OUTER, ENTITY, der, micalg="sha-512"), trust=dev.trust)
    assert verdict.valid, verdict.all_problems()
    assert verdict.signers[0].signature_algorithm == "ed25519"


# --- rejections, each with its own code -------------------------------------------------------


def test_changed_body_byte(rsa_pki: DevPki) -> None:
    signed = _sign(rsa_pki).replace(b"the statement", b"the statemenT")
    verdict = smime.verify(signed, trust=rsa_pki.trust)
    assert not verdict.valid
    assert codes(verdict) == {"digest-mismatch"}


def test_changed_signed_attributes(rsa_pki: DevPki) -> None:
    der = _detached_der(rsa_pki, ENTITY)
    info = asn1_cms.ContentInfo.load(der)
    attrs = info["content"]["signer_infos"][0]["signed_attrs"]
    for attr in attrs:
        if attr["type"].native == "signing_time":
            attr["values"] = [
                asn1_cms.Time({"utc_time": datetime(2026, 1, 1, tzinfo=timezone.utc)})
            ]
    forged = info.dump(force=True)
    verdict = smime.verify(multipart_signed(OUTER, ENTITY, forged), trust=rsa_pki.trust)
    assert "signature-invalid" in codes(verdict)
    assert "digest-mismatch" not in codes(verdict)


def test_wrong_from(rsa_pki: DevPki) -> None:
    signed = _sign(rsa_pki).replace(
        b"From: Alice Example <alice@example.com>", b"From: ceo@example.com"
    )
    verdict = smime.verify(signed, trust=rsa_pki.trust)
    assert codes(verdict) == {"from-mismatch"}


def test_display_name_trick_compares_bare_address(rsa_pki: DevPki) -> None:
    signed = _sign(rsa_pki).replace(
        b"From: Alice Example <alice@example.com>",
        b'From: "alice@example.com" <mallory@example.net>',
    )
    assert codes(smime.verify(signed, trust=rsa_pki.trust)) == {"from-mismatch"}


def test_two_from_headers_and_two_mailboxes(rsa_pki: DevPki) -> None:
    signed = _sign(rsa_pki)
    two_headers = b"From: mallory@example.net\r\n" + signed
    assert "multiple-from" in codes(smime.verify(two_headers, trust=rsa_pki.trust))
    two_boxes = signed.replace(
        b"From: Alice Example <alice@example.com>",
        b"From: Alice Example <alice@example.com>, mallory@example.net",
    )
    assert "multiple-from" in codes(smime.verify(two_boxes, trust=rsa_pki.trust))


def test_expired_certificate(rsa_pki: DevPki) -> None:
    now = datetime.now(timezone.utc)
    old = pki.issue_signer(
        rsa_pki.ca, SENDER, not_before=now - timedelta(days=60), not_after=now - timedelta(days=30)
    )
    signed = smime.sign(MESSAGE, key=old.key, cert=old.certificate, check_certificate=False)
    verdict = smime.verify(signed, trust=rsa_pki.trust)
    assert "cert-expired" in codes(verdict)
    # Judged at a time inside its validity, the same signature holds.
    inside = smime.verify(signed, trust=rsa_pki.trust, at=now - timedelta(days=45))
    assert "cert-expired" not in codes(inside)
    assert "digest-mismatch" not in codes(inside)


def test_not_yet_valid_certificate(rsa_pki: DevPki) -> None:
    now = datetime.now(timezone.utc)
    future = pki.issue_signer(
        rsa_pki.ca, SENDER, not_before=now + timedelta(days=10), not_after=now + timedelta(days=40)
    )
    signed = smime.sign(MESSAGE, key=future.key, cert=future.certificate, check_certificate=False)
    assert "cert-not-yet-valid" in codes(smime.verify(signed, trust=rsa_pki.trust))


def test_untrusted_root(rsa_pki: DevPki, other_ca: DevPki) -> None:
    verdict = smime.verify(_sign(rsa_pki), trust=other_ca.trust)
    assert codes(verdict) == {"untrusted-chain"}


def test_self_signed_signer(rsa_pki: DevPki) -> None:
    rogue = pki.issue_self_signed(SENDER)
    signed = smime.sign(MESSAGE, key=rogue.key, cert=rogue.certificate)
    assert "untrusted-chain" in codes(smime.verify(signed, trust=rsa_pki.trust))


def test_no_email_protection(rsa_pki: DevPki) -> None:
    bad = pki.issue_signer(rsa_pki.ca, SENDER, eku=())
    assert bad.certificate.extensions  # made without the emailProtection EKU
    from cryptography.x509.oid import ExtendedKeyUsageOID

    tls = pki.issue_signer(rsa_pki.ca, SENDER, eku=(ExtendedKeyUsageOID.SERVER_AUTH,))
    signed = smime.sign(MESSAGE, key=tls.key, cert=tls.certificate, check_certificate=False)
    verdict = smime.verify(signed, trust=rsa_pki.trust)
    assert {"cert-eku", "untrusted-chain"} <= codes(verdict)


def test_econtent_inside_detached_signature(rsa_pki: DevPki) -> None:
    """The signature carries other content than the MIME part shown to the reader."""
    shown = b"Content-Type: text/plain\r\n\r\nPay 1,000,000 to account X.\r\n"
    der = _detached_der(rsa_pki, shown, detached=False)
    verdict = smime.verify(multipart_signed(OUTER, shown, der), trust=rsa_pki.trust)
    assert "econtent-in-detached" in codes(verdict)
    assert not verdict.valid


def test_no_signers(rsa_pki: DevPki) -> None:
    info = asn1_cms.ContentInfo.load(_detached_der(rsa_pki, ENTITY))
    info["content"]["signer_infos"] = []
    verdict = smime.verify(
        multipart_signed(OUTER, ENTITY, info.dump(force=True)), trust=rsa_pki.trust
    )
    assert "no-signers" in codes(verdict)
    assert not verdict.valid


def test_two_signers_one_bad(rsa_pki: DevPki, pkis: dict[str, DevPki]) -> None:
    good = asn1_cms.ContentInfo.load(_detached_der(rsa_pki, ENTITY))
    ec_dev = pkis["ec-p256"]
    second = asn1_cms.ContentInfo.load(
        cms.build_signed_data(
            ENTITY.replace(b"42", b"43"), key=ec_dev.signer.key, cert=ec_dev.signer.certificate
        )
    )
    signed_data = good["content"]
    signed_data["signer_infos"] = [
        signed_data["signer_infos"][0],
        second["content"]["signer_infos"][0],
    ]
    signed_data["certificates"] = list(signed_data["certificates"]) + list(
        second["content"]["certificates"]
    )
    signed_data["digest_algorithms"] = [{"algorithm": "sha256"}]
    both = good.dump(force=True)
    trust = rsa_pki.trust + ec_dev.trust
    verdict = smime.verify(multipart_signed(OUTER, ENTITY, both), trust=trust)
    # DER sorts the SET OF SignerInfos, so find each signer by its certificate.
    by_cert = {s.certificate: s for s in verdict.signers}
    assert len(by_cert) == 2
    good_signer = by_cert[rsa_pki.signer.certificate]
    bad_signer = by_cert[ec_dev.signer.certificate]
    assert good_signer.valid, good_signer.problems
    assert not bad_signer.valid
    assert {p.code for p in bad_signer.problems} == {"digest-mismatch"}
    assert not verdict.valid  # one good signer never makes the part valid


def test_signed_part_wrapped_in_unsigned_multipart(rsa_pki: DevPki) -> None:
    signed = _sign(rsa_pki)
    outer_headers, signed_entity = split_entity(signed)
    wrapper = (
        b"".join(h.raw for h in outer_headers)
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="wrap"\r\n\r\n'
        b"--wrap\r\nContent-Type: text/plain\r\n\r\nURGENT: wire the money today.\r\n"
        b"--wrap\r\n" + signed_entity + b"\r\n--wrap--\r\n"
    )
    verdict = smime.verify(wrapper, trust=rsa_pki.trust)
    assert not verdict.valid
    assert "wrapped" in codes(verdict)
    (part,) = verdict.parts
    assert part.path == "2"
    assert part.valid  # the signature itself holds; it just does not cover the message
    assert not part.is_root


def test_micalg_mismatch_is_a_warning(rsa_pki: DevPki) -> None:
    signed = _sign(rsa_pki).replace(b"micalg=sha-256", b"micalg=sha-512")
    verdict = smime.verify(signed, trust=rsa_pki.trust)
    assert verdict.valid
    assert "micalg-mismatch" in {p.code for p in verdict.all_problems()}


def test_lf_only_input_is_canonicalized_and_said(rsa_pki: DevPki) -> None:
    signed = _sign(rsa_pki).replace(b"\r\n", b"\n")
    verdict = smime.verify(signed, trust=rsa_pki.trust)
    assert verdict.valid
    assert verdict.canonicalized
    assert any("CRLF" in note for note in verdict.notes)


def test_no_signature(rsa_pki: DevPki) -> None:
    verdict = smime.verify(MESSAGE, trust=rsa_pki.trust)
    assert not verdict.valid
    assert codes(verdict) == {"no-signature"}


# --- unusable input raises MimesealError ------------------------------------------------------


def test_truncated_cms(rsa_pki: DevPki) -> None:
    der = _detached_der(rsa_pki, ENTITY)
    with pytest.raises(CmsError):
        smime.verify(multipart_signed(OUTER, ENTITY, der[: len(der) // 2]), trust=rsa_pki.trust)


def test_garbage_base64(rsa_pki: DevPki) -> None:
    signed = _sign(rsa_pki)
    head, _, tail = signed.rpartition(
        b'Content-Disposition: attachment; filename="smime.p7s"\r\n\r\n'
    )
    garbage = head + b"\r\n\r\n!!!! not base64 ****\r\n" + tail[tail.index(b"--=_mimeseal") :]
    with pytest.raises(VerificationInputError, match="base64"):
        smime.verify(garbage, trust=rsa_pki.trust)


def test_missing_boundary(rsa_pki: DevPki) -> None:
    signed = _sign(rsa_pki)
    broken = signed.replace(b"--=_mimeseal_", b"--=_other_")
    with pytest.raises(MessageError, match="delimiter"):
        smime.verify(broken, trust=rsa_pki.trust)


def test_three_parts(rsa_pki: DevPki) -> None:
    der = _detached_der(rsa_pki, ENTITY)
    message = multipart_signed(OUTER, ENTITY, der).replace(
        b"--XX-boundary--",
        b"--XX-boundary\r\nContent-Type: text/plain\r\n\r\nextra\r\n--XX-boundary--",
    )
    with pytest.raises(VerificationInputError, match="exactly two parts"):
        smime.verify(message, trust=rsa_pki.trust)


def test_no_trust_anchors(rsa_pki: DevPki) -> None:
    with pytest.raises(VerificationInputError, match="trust"):
        smime.verify(_sign(rsa_pki), trust=[])


def test_deep_nesting_is_refused(rsa_pki: DevPki) -> None:
    body = b"\r\nx\r\n"  # a part with no header fields
    for level in range(40):
        body = (
            f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
            + body
            + f"\r\n--b{level}--\r\n".encode()
        )
    with pytest.raises(LimitError, match="nested") as caught:
        smime.verify(OUTER + body, trust=rsa_pki.trust)
    assert caught.value.limit == "max_mime_depth"
    # The same message is judged when the caller allows the depth.
    verdict = smime.verify(OUTER + body, trust=rsa_pki.trust, limits=Limits(max_mime_depth=64))
    assert [p.code for p in verdict.problems] == ["no-signature"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_messages_give_a_verdict_or_a_mimeseal_error(
    rsa_pki: DevPki, data: st.DataObject
) -> None:
    signed = _SIGNED_CACHE.setdefault("detached", _sign(rsa_pki))
    if data.draw(st.booleans()):
        signed = _SIGNED_CACHE.setdefault("opaque", _sign(rsa_pki, opaque=True))
    mutated = data.draw(hostile.mutated([signed], hostile.tokens_for([signed])))
    try:
        verdict = smime.verify(mutated, trust=rsa_pki.trust)
    except MimesealError:
        return
    assert isinstance(verdict.valid, bool)
    if verdict.valid:
        # A mutation may only survive where it touches nothing signed: same signed content.
        original = next(iter_signed_entities(signed))
        survivor = next(iter_signed_entities(to_crlf(mutated)))  # as verify() saw it
        assert survivor.signed_bytes == original.signed_bytes
        assert (
            cms.parse_signed_data(survivor.cms_der).econtent
            == cms.parse_signed_data(original.cms_der).econtent
        )


_SIGNED_CACHE: dict[str, bytes] = {}


def test_base64_of_signature_is_strict() -> None:
    garbage = base64.b64encode(b"abc") + b"*"
    with pytest.raises(VerificationInputError):
        decode_base64_strict(garbage, "signature part")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not on PATH")
def test_openssl_and_mimeseal_agree_on_tampering(rsa_pki: DevPki) -> None:
    from mimeseal import references

    signed = _sign(rsa_pki)
    for tampered in (signed.replace(b"Dear Bob", b"Dear Rob"), signed):
        ours = smime.verify(tampered, trust=rsa_pki.trust).valid
        theirs = references.openssl_cms_verify(tampered, rsa_pki.trust).ok
        assert ours == theirs


@needs_openssl
def test_accepts_openssl_streamed_ber_signature(rsa_pki: DevPki, tmp_path: Path) -> None:
    """`-stream` writes indefinite-length BER: parsed by asn1crypto, not the DER fast path."""
    (tmp_path / "entity").write_bytes(ENTITY)
    subprocess.run(
        [
            "openssl", "cms", "-sign", "-nodetach", "-stream", "-in", str(tmp_path / "entity"),
            "-signer", str(rsa_pki.cert_pem), "-inkey", str(rsa_pki.key_pem),
            "-out", str(tmp_path / "out.eml"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    message = OUTER + (tmp_path / "out.eml").read_bytes()
    entity = next(iter_signed_entities(message))
    assert entity.cms_der[1] == 0x80  # really BER: an indefinite length
    verdict = smime.verify(message, trust=rsa_pki.trust)
    assert verdict.valid, verdict.all_problems()


def test_a_from_field_the_stdlib_would_recurse_on_is_a_message_error(rsa_pki: DevPki) -> None:
    """email.utils.getaddresses recursed once per 'x:' group opener (found by fuzz/run.py)."""
    signed = _sign(rsa_pki)
    hostile = signed.replace(b"From: ", b"From: " + b"From:" * 1_000, 1)
    with pytest.raises(MessageError, match="group syntax"):
        smime.verify(hostile, trust=rsa_pki.trust)


def test_limits_reach_the_cms_parser(rsa_pki: DevPki) -> None:
    signed = _sign(rsa_pki, chain=rsa_pki.signer.chain)  # two certificates in the CMS
    with pytest.raises(LimitError) as caught:
        smime.verify(signed, trust=rsa_pki.trust, limits=Limits(max_certificates=1))
    assert caught.value.limit == "max_certificates"
    with pytest.raises(LimitError) as caught:
        smime.verify(signed, trust=rsa_pki.trust, limits=Limits(max_message_bytes=100))
    assert caught.value.limit == "max_message_bytes"


def test_hostile_values_are_quoted_briefly_in_errors(rsa_pki: DevPki) -> None:
    """A 5,000-character media type came back whole in the error (found by the properties)."""
    signed = _sign(rsa_pki)
    hostile = signed.replace(
        b"Content-Type: application/pkcs7-signature", b"Content-Type: application/" + b"x" * 5_000
    )
    with pytest.raises(VerificationInputError) as caught:
        smime.verify(hostile, trust=rsa_pki.trust)
    assert len(str(caught.value)) < 300
