"""The published DKIM test vectors (RFC 8463 Appendix A, RFC 6376 Appendix A).

Each signature verifies with mimeseal and with dkimpy (the reference receiver), both fed the
vector's key records offline; re-signing RFC 8463's unsigned message with its keys reproduces
the vector's body hash exactly.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import dkim as dkimpy
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from mimeseal import dkim
from mimeseal.dkim.canonicalize import Canonicalization
from mimeseal.dkim.tags import parse_tag_list, remove_fws
from mimeseal.mime import header_boundaries, parse_headers

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors"
RFC8463 = VECTORS / "dkim-rfc8463"
RFC6376 = VECTORS / "dkim-rfc6376"

pytestmark = pytest.mark.skipif(
    not (RFC8463.is_dir() and RFC6376.is_dir()),
    reason=f"DKIM test vectors not found at {VECTORS} (check out the repo next to shared/)",
)

DnsFunc = Callable[..., "bytes | None"]


def load_records(folder: Path) -> dict[str, str]:
    """``selector._domainkey.domain`` → TXT value, from the vector's ``*.txt`` files."""
    return {
        path.name.removesuffix(".txt"): path.read_text("ascii").strip()
        for path in folder.glob("*._domainkey.*.txt")
    }


def dnsfunc_for(records: dict[str, str]) -> DnsFunc:
    """A dkimpy ``dnsfunc``: ``f(name: bytes, timeout=5) -> bytes | None``."""

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        value = records.get(name.decode("ascii").rstrip(".").lower())
        return None if value is None else value.encode("ascii")

    return lookup


def signature_tags(message: bytes) -> list[dict[str, str]]:
    """The tag lists of every DKIM-Signature header, top to bottom."""
    block_end, _ = header_boundaries(message)
    return [
        parse_tag_list(h.raw.split(b":", 1)[1].decode("ascii"), "test")
        for h in parse_headers(message[:block_end])
        if h.is_named("DKIM-Signature")
    ]


def without_first_signature(message: bytes) -> bytes:
    block_end, _ = header_boundaries(message)
    first = next(h for h in parse_headers(message[:block_end]) if h.is_named("DKIM-Signature"))
    start = message.index(first.raw)
    return message[:start] + message[start + len(first.raw) :]


# --------------------------------------------------------------------------- RFC 8463


def test_rfc8463_both_signatures_verify_with_mimeseal() -> None:
    message = (RFC8463 / "signed.eml").read_bytes()
    timestamp = int(signature_tags(message)[0]["t"])
    results = dkim.verify(message, records=load_records(RFC8463), now=timestamp)
    assert [(r.index, r.status, r.algorithm) for r in results] == [
        (0, "pass", "ed25519-sha256"),
        (1, "pass", "rsa-sha256"),
    ], [r.reason for r in results]
    assert [r.selector for r in results] == ["brisbane", "test"]
    assert {r.domain for r in results} == {"football.example.com"}
    assert results[0].timestamp == timestamp == 1528637909
    assert results[1].key_bits == 1024


def test_rfc8463_both_signatures_verify_with_dkimpy() -> None:
    message = (RFC8463 / "signed.eml").read_bytes()
    dnsfunc = dnsfunc_for(load_records(RFC8463))
    assert dkimpy.verify(message, dnsfunc=dnsfunc)  # the first (ed25519) signature
    assert dkimpy.DKIM(message).verify(idx=1, dnsfunc=dnsfunc)  # the second (rsa)
    assert dkimpy.verify(without_first_signature(message), dnsfunc=dnsfunc)


def test_rfc8463_tampered_vector_fails_everywhere() -> None:
    """The vectors are not trivially accepted: one changed body byte breaks both."""
    message = (RFC8463 / "signed.eml").read_bytes().replace(b"hungry", b"Hungry")
    records = load_records(RFC8463)
    results = dkim.verify(message, records=records, now=1528637909)
    assert [r.status for r in results] == ["fail", "fail"]
    assert all("body hash" in r.reason for r in results)
    assert not dkimpy.verify(message, dnsfunc=dnsfunc_for(records))


def ed25519_key() -> ed25519.Ed25519PrivateKey:
    seed = base64.b64decode((RFC8463 / "ed25519.seed.b64").read_text("ascii").strip())
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def rsa_key() -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(
        (RFC8463 / "rsa.private.pem").read_bytes(), password=None
    )
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def test_rfc8463_keys_match_the_published_records() -> None:
    records = load_records(RFC8463)
    ed_record = dkim.parse_key_record(records["brisbane._domainkey.football.example.com"])
    rsa_record = dkim.parse_key_record(records["test._domainkey.football.example.com"])
    assert ed_record.key_type == "ed25519"
    assert rsa_record.key_type == "rsa"
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert isinstance(ed_record.public_key, ed25519.Ed25519PublicKey)
    assert isinstance(rsa_record.public_key, rsa.RSAPublicKey)
    assert ed_record.public_key.public_bytes(*raw) == ed25519_key().public_key().public_bytes(*raw)
    assert rsa_record.public_key.public_bytes(*der) == rsa_key().public_key().public_bytes(*der)


@pytest.mark.parametrize("algorithm", ["ed25519-sha256", "rsa-sha256"])
def test_rfc8463_resigning_reproduces_the_body_hash(algorithm: str) -> None:
    signed = (RFC8463 / "signed.eml").read_bytes()
    vector = next(t for t in signature_tags(signed) if t["a"] == algorithm)
    header_c, body_c = vector["c"].split("/")
    assert header_c in ("simple", "relaxed")
    assert body_c in ("simple", "relaxed")
    canonicalization: tuple[Canonicalization, Canonicalization] = (
        "relaxed" if header_c == "relaxed" else "simple",
        "relaxed" if body_c == "relaxed" else "simple",
    )
    names = [n.strip() for n in remove_fws(vector["h"]).split(":")]
    key = ed25519_key() if algorithm == "ed25519-sha256" else rsa_key()
    out = dkim.sign(
        (RFC8463 / "unsigned.eml").read_bytes(),
        key=key,
        domain=vector["d"],
        selector=vector["s"],
        headers=names,
        canonicalization=canonicalization,
        timestamp=int(vector["t"]),
    )
    [produced] = signature_tags(out)
    assert produced["a"] == algorithm
    assert produced["c"] == vector["c"]
    assert produced["bh"] == vector["bh"] == "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="
    # mimeseal oversigns, so h= differs; the same names are signed at least as often
    signed_names = remove_fws(produced["h"]).split(":")
    assert {n.lower() for n in names} == set(signed_names)
    records = load_records(RFC8463)
    [result] = dkim.verify(out, records=records, now=int(vector["t"]))
    assert result.passed, result.reason
    assert dkimpy.verify(out, dnsfunc=dnsfunc_for(records))


# --------------------------------------------------------------------------- RFC 6376


def test_rfc6376_signature_verifies_with_mimeseal() -> None:
    message = (RFC6376 / "signed.eml").read_bytes()
    [tags] = signature_tags(message)
    assert "t" not in tags  # the RFC example has no timestamp; any clock will do
    [result] = dkim.verify(message, records=load_records(RFC6376), now=1528637909)
    assert result.status == "pass", result.reason
    assert (result.domain, result.selector) == ("example.com", "brisbane")
    assert result.identity == "joe@football.example.com"
    assert result.canonicalization == "simple/simple"
    assert result.signed_headers == ("received", "from", "to", "subject", "date", "message-id")


def test_rfc6376_signature_verifies_with_dkimpy() -> None:
    message = (RFC6376 / "signed.eml").read_bytes()
    assert dkimpy.verify(message, dnsfunc=dnsfunc_for(load_records(RFC6376)))


def test_rfc6376_simple_canonicalization_sees_a_whitespace_change() -> None:
    """simple/simple: one more space in the body is a different body."""
    message = (RFC6376 / "signed.eml").read_bytes().replace(b"game. Are", b"game.  Are")
    [result] = dkim.verify(message, records=load_records(RFC6376), now=1528637909)
    assert result.status == "fail"
    assert "body hash" in result.reason
