"""Tests for mimeseal.dkim.verify: every receiver policy has a case that fails it.

Signatures come from mimeseal, from dkimpy, and from ``hand_sign`` below: a simple/simple
signer written in the test from RFC 6376 §3.4.1/§3.4.3/§3.5/§3.7 with nothing but hashlib
and cryptography, so a policy can be tested on a signature that is otherwise valid (dkimpy
and mimeseal both refuse to make some of them, e.g. an h= without From or i= outside d=).
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
from collections.abc import Callable
from typing import Any

import dkim as dkimpy
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hostile
from conftest import MESSAGE
from mimeseal import dkim
from mimeseal.dkim.signing import DkimKey
from mimeseal.errors import LimitError, MimesealError
from mimeseal.limits import Limits

DOMAIN = "example.com"
NOW = 1_790_000_000  # verification clock for mimeseal-made signatures (timestamp=NOW)


# --------------------------------------------------------------------------- helpers


def small_rsa_key(bits: int = 512, seed: int = 512) -> rsa.RSAPrivateKey:
    """A real RSA key of ``bits`` bits; ``cryptography`` refuses to *generate* under 1024.

    Two random primes (Miller-Rabin) assembled into private numbers, which it does load.
    """
    rng = random.Random(seed)

    def probable_prime(n: int) -> bool:
        if any(n % p == 0 for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)):
            return n in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
        d, s = n - 1, 0
        while d % 2 == 0:
            d, s = d // 2, s + 1
        for _ in range(32):
            x = pow(rng.randrange(2, n - 1), d, n)
            if x in (1, n - 1):
                continue
            for _ in range(s - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                return False
        return True

    def prime(size: int) -> int:
        while True:
            candidate = rng.getrandbits(size) | (3 << (size - 2)) | 1  # top two bits: full size
            if probable_prime(candidate):
                return candidate

    e = 65537
    while True:
        p, q = prime(bits // 2), prime(bits // 2)
        if p != q and math.gcd(e, (p - 1) * (q - 1)) == 1:
            break
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p,
        q,
        d,
        rsa.rsa_crt_dmp1(d, p),
        rsa.rsa_crt_dmq1(d, q),
        rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, p * q),
    )
    return numbers.private_key()


def hand_sign(
    message: bytes,
    key: DkimKey,
    *,
    selector: str,
    names: list[str],
    tags: dict[str, str] | None = None,
) -> bytes:
    """A simple/simple DKIM signature made from the RFC text, with any tags at all.

    Each name in ``names`` must occur at most once in ``message`` (unfolded headers).
    """
    head, _, body = message.partition(b"\r\n\r\n")
    fields = {line.split(b":", 1)[0].lower(): line + b"\r\n" for line in head.split(b"\r\n")}
    while body.endswith(b"\r\n"):  # §3.4.3: no empty lines at the end, one CRLF
        body = body[:-2]
    body_hash = hashlib.sha256(body + b"\r\n").digest()
    algorithm = "rsa-sha256" if isinstance(key, rsa.RSAPrivateKey) else "ed25519-sha256"
    values = {
        "v": "1",
        "a": algorithm,
        "c": "simple/simple",
        "d": DOMAIN,
        "s": selector,
        "t": str(NOW),
        "h": ":".join(names),
        "bh": base64.b64encode(body_hash).decode("ascii"),
    }
    values.update(tags or {})
    field = "DKIM-Signature: " + "; ".join(f"{k}={v}" for k, v in values.items()) + "; b="
    data = b"".join(fields.get(n.lower().encode(), b"") for n in names) + field.encode()
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = key.sign(hashlib.sha256(data).digest())
    return field.encode() + base64.b64encode(signature) + b"\r\n" + message


class Keys:
    """Keys and their records: selectors rsa (2048), ed, rsa1024, rsa512."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.rsa1024 = rsa.generate_private_key(65537, 1024)  # noqa: S505 - the RFC 8301 floor
        self.rsa512 = small_rsa_key()
        self.records = {
            dkim.record_name(selector, DOMAIN): dkim.format_key_record(key.public_key())
            for selector, key in self.by_selector().items()
        }

    def by_selector(self) -> dict[str, DkimKey]:
        return {"rsa": self.rsa, "ed": self.ed, "rsa1024": self.rsa1024, "rsa512": self.rsa512}

    def record(self, selector: str) -> str:
        return self.records[dkim.record_name(selector, DOMAIN)]

    def with_record(self, selector: str, text: str) -> dict[str, str]:
        return {**self.records, dkim.record_name(selector, DOMAIN): text}

    def sign(self, message: bytes, selector: str = "ed", **options: Any) -> bytes:
        options.setdefault("timestamp", NOW)
        key = self.by_selector()[selector]
        return dkim.sign(message, key=key, domain=DOMAIN, selector=selector, **options)

    def verify(
        self, message: bytes, records: dict[str, str] | None = None, **options: Any
    ) -> list[dkim.DkimResult]:
        options.setdefault("now", NOW)
        return dkim.verify(message, records=self.records if records is None else records, **options)

    def pem(self, selector: str) -> bytes:
        key = self.by_selector()[selector]
        assert isinstance(key, rsa.RSAPrivateKey)
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )

    def dkimpy_sign(self, message: bytes, selector: str, **options: Any) -> bytes:
        options.setdefault("canonicalize", (b"relaxed", b"relaxed"))
        header = dkimpy.sign(
            message, selector.encode(), DOMAIN.encode(), self.pem(selector), **options
        )
        assert isinstance(header, bytes)
        return header + message

    def dnsfunc(self) -> Callable[..., bytes | None]:
        def lookup(name: bytes, timeout: int = 5) -> bytes | None:
            value = self.records.get(name.decode("ascii").rstrip(".").lower())
            return None if value is None else value.encode("ascii")

        return lookup

    def dkimpy_verifies(self, message: bytes, minkey: int = 1024) -> bool:
        return bool(dkimpy.verify(message, dnsfunc=self.dnsfunc(), minkey=minkey))


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


def only(results: list[dkim.DkimResult]) -> dkim.DkimResult:
    assert len(results) == 1, results
    return results[0]


def replace_in_signature(message: bytes, old: bytes, new: bytes) -> bytes:
    """Edit the first DKIM-Signature header (and only it)."""
    end = message.index(b"\r\n", message.index(b"b=")) + 2
    while message[end : end + 1] in (b" ", b"\t"):
        end = message.index(b"\r\n", end) + 2
    header = message[:end]
    assert old in header, (old, header)
    return header.replace(old, new, 1) + message[end:]


# --------------------------------------------------------------------------- the baseline


@pytest.mark.parametrize("selector", ["rsa", "ed", "rsa1024"])
def test_hand_signed_baseline_passes(keys: Keys, selector: str) -> None:
    """The hand signer is sound: with h= including From its signatures pass everywhere."""
    signed = hand_sign(
        MESSAGE, keys.by_selector()[selector], selector=selector, names=["from", "to", "subject"]
    )
    result = only(keys.verify(signed))
    assert result.status == "pass", result.reason
    assert result.canonicalization == "simple/simple"
    assert keys.dkimpy_verifies(signed)


def test_rsa_1024_record_passes(keys: Keys) -> None:
    result = only(keys.verify(keys.sign(MESSAGE, selector="rsa1024")))
    assert result.status == "pass", result.reason
    assert result.key_bits == 1024


def test_no_signature_gives_no_results(keys: Keys) -> None:
    assert keys.verify(MESSAGE) == []


def test_result_to_dict(keys: Keys) -> None:
    result = only(keys.verify(keys.sign(MESSAGE, selector="rsa", identity="alice@example.com")))
    data = result.to_dict()
    assert data["status"] == "pass"
    assert data["domain"] == DOMAIN
    assert data["selector"] == "rsa"
    assert data["algorithm"] == "rsa-sha256"
    assert data["identity"] == "alice@example.com"
    assert data["canonicalization"] == "relaxed/relaxed"
    assert data["timestamp"] == NOW
    assert data["key_bits"] == 2048
    assert "from" in data["signed_headers"]
    assert data["body_length"] is None


# --------------------------------------------------------------------------- policies


def test_from_not_in_h_is_permerror(keys: Keys) -> None:
    """RFC 6376 §5.4: From MUST be signed. dkimpy accepts such a signature; mimeseal does not.

    The signature itself is valid (made by hand, since mimeseal and dkimpy both refuse to
    sign without From); the From check comes before any cryptography.
    """
    signed = hand_sign(MESSAGE, keys.ed, selector="ed", names=["to", "subject", "date"])
    result = only(keys.verify(signed))
    assert result.status == "permerror"
    assert "From" in result.reason
    assert keys.dkimpy_verifies(signed)  # the reference receiver is more lenient


def test_l_tag_fails_when_strict_and_passes_with_a_note_otherwise(keys: Keys) -> None:
    signed = keys.dkimpy_sign(MESSAGE, "rsa", length=True)
    strict = only(keys.verify(signed, now=None))
    assert strict.status == "fail"
    assert "l=" in strict.reason
    lenient = only(keys.verify(signed, now=None, strict=False))
    assert lenient.status == "pass", lenient.reason
    assert lenient.body_length is not None
    assert any("l=" in note for note in lenient.notes)
    # why strict refuses: with l=, content appended later still "verifies"
    appended = signed + b"\r\nP.S. wire the money to account 1234\r\n"
    assert keys.dkimpy_verifies(appended)
    assert only(keys.verify(appended, now=None, strict=False)).passed
    assert only(keys.verify(appended, now=None)).status == "fail"


def test_l_longer_than_the_body_is_permerror(keys: Keys) -> None:
    signed = hand_sign(MESSAGE, keys.ed, selector="ed", names=["from"], tags={"l": "999999"})
    result = only(keys.verify(signed, strict=False))
    assert result.status == "permerror"
    assert "l=" in result.reason


def test_rsa_sha1_fails(keys: Keys) -> None:
    """RFC 8301: rsa-sha1 must not be accepted; dkimpy still accepts it."""
    signed = keys.dkimpy_sign(MESSAGE, "rsa", signature_algorithm=b"rsa-sha1")
    result = only(keys.verify(signed, now=None))
    assert result.status == "fail"
    assert "rsa-sha1" in result.reason
    assert keys.dkimpy_verifies(signed)


def test_rsa_512_record_fails(keys: Keys) -> None:
    assert keys.rsa512.key_size == 512
    signed = hand_sign(MESSAGE, keys.rsa512, selector="rsa512", names=["from", "subject"])
    result = only(keys.verify(signed))
    assert result.status == "fail"
    assert "512 bits" in result.reason
    assert result.key_bits == 512
    # the signature is genuine: dkimpy accepts it once its own minimum is lowered
    assert keys.dkimpy_verifies(signed, minkey=512)
    assert not keys.dkimpy_verifies(signed)


def test_key_type_mismatch_is_permerror(keys: Keys) -> None:
    signed = keys.sign(MESSAGE, selector="ed")
    records = keys.with_record("ed", keys.record("rsa"))  # the record says k=rsa
    result = only(keys.verify(signed, records))
    assert result.status == "permerror"
    assert "rsa" in result.reason
    assert "ed25519" in result.reason


def test_record_h_sha1_only_is_permerror(keys: Keys) -> None:
    signed = keys.sign(MESSAGE, selector="rsa")
    p = keys.record("rsa").split("p=", 1)[1]
    sha1_only = keys.with_record("rsa", f"v=DKIM1; k=rsa; h=sha1; p={p}")
    result = only(keys.verify(signed, sha1_only))
    assert result.status == "permerror"
    assert "h=" in result.reason
    both = keys.with_record("rsa", f"v=DKIM1; k=rsa; h=sha1:sha256; p={p}")
    assert only(keys.verify(signed, both)).passed


def test_revoked_key_fails(keys: Keys) -> None:
    signed = keys.sign(MESSAGE, selector="rsa")
    result = only(keys.verify(signed, keys.with_record("rsa", "v=DKIM1; k=rsa; p=")))
    assert result.status == "fail"
    assert "revoked" in result.reason


def test_record_service_type_not_email_is_permerror(keys: Keys) -> None:
    signed = keys.sign(MESSAGE, selector="ed")
    p = keys.record("ed").split("p=", 1)[1]
    result = only(
        keys.verify(signed, keys.with_record("ed", f"v=DKIM1; k=ed25519; s=tlsrpt; p={p}"))
    )
    assert result.status == "permerror"
    assert "s=" in result.reason


def test_testing_flag_is_reported(keys: Keys) -> None:
    signed = keys.sign(MESSAGE, selector="ed")
    p = keys.record("ed").split("p=", 1)[1]
    result = only(keys.verify(signed, keys.with_record("ed", f"v=DKIM1; k=ed25519; t=y; p={p}")))
    assert result.passed, result.reason
    assert result.testing
    assert any("t=y" in note for note in result.notes)


def test_strict_identity_record_refuses_a_subdomain_identity(keys: Keys) -> None:
    p = keys.record("ed").split("p=", 1)[1]
    strict = keys.with_record("ed", f"v=DKIM1; k=ed25519; t=s; p={p}")
    sub = keys.sign(MESSAGE, selector="ed", identity="bounces@mail.example.com")
    result = only(keys.verify(sub, strict))
    assert result.status == "permerror"
    assert "t=s" in result.reason
    assert only(keys.verify(sub)).passed  # without t=s the subdomain is fine
    exact = keys.sign(MESSAGE, selector="ed", identity="alice@example.com")
    assert only(keys.verify(exact, strict)).passed


def test_timestamp_in_the_future_fails(keys: Keys) -> None:
    signed = keys.sign(MESSAGE, selector="ed", timestamp=NOW + 3600)
    result = only(keys.verify(signed))
    assert result.status == "fail"
    assert "future" in result.reason
    slightly = keys.sign(MESSAGE, selector="ed", timestamp=NOW + 60)  # clock skew is tolerated
    assert only(keys.verify(slightly)).passed


def test_expired_signature_fails(keys: Keys) -> None:
    signed = keys.sign(MESSAGE, selector="ed", timestamp=NOW - 7200, expires=NOW - 3600)
    result = only(keys.verify(signed))
    assert result.status == "fail"
    assert "expired" in result.reason
    assert result.expires == NOW - 3600
    assert only(keys.verify(signed, now=NOW - 5000)).passed


def test_x_before_t_is_permerror(keys: Keys) -> None:
    signed = hand_sign(
        MESSAGE, keys.ed, selector="ed", names=["from"], tags={"t": str(NOW), "x": str(NOW - 10)}
    )
    result = only(keys.verify(signed, now=NOW - 100))
    assert result.status == "permerror"
    assert "x=" in result.reason


@pytest.mark.parametrize("identity", ["joe@example.org", "joe@notexample.com", "@com"])
def test_identity_outside_d_is_permerror(keys: Keys, identity: str) -> None:
    signed = hand_sign(MESSAGE, keys.ed, selector="ed", names=["from"], tags={"i": identity})
    result = only(keys.verify(signed))
    assert result.status == "permerror"
    assert "i=" in result.reason


def test_missing_record_is_permerror(keys: Keys) -> None:
    signed = keys.sign(MESSAGE, selector="ed")
    result = only(keys.verify(signed, records={}))
    assert result.status == "permerror"
    assert "no key record" in result.reason
    assert "ed._domainkey.example.com" in result.reason


def test_resolver_failure_is_temperror(keys: Keys) -> None:
    def resolver(name: str) -> str | None:
        raise TimeoutError(f"SERVFAIL for {name}")

    signed = keys.sign(MESSAGE, selector="ed")
    result = only(dkim.verify(signed, records=resolver, now=NOW))
    assert result.status == "temperror"
    assert "SERVFAIL" in result.reason


def test_resolver_callable_answers(keys: Keys) -> None:
    asked: list[str] = []

    def resolver(name: str) -> str | None:
        asked.append(name)
        return keys.records.get(name)

    signed = keys.sign(MESSAGE, selector="ed")
    assert only(dkim.verify(signed, records=resolver, now=NOW)).passed
    assert asked == ["ed._domainkey.example.com"]


def test_malformed_record_is_permerror(keys: Keys) -> None:
    signed = keys.sign(MESSAGE, selector="ed")
    result = only(keys.verify(signed, keys.with_record("ed", "v=DKIM1; k=ed25519; p=AAAA")))
    assert result.status == "permerror"
    assert "32 octets" in result.reason


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b"v=1;", b"v=1; garbage;", "tag=value"),
        (b"v=1;", b"v=1; d=example.net;", "twice"),
        (b"v=1;", b"v=2;", "version"),
        (b"v=1;", b"", "v="),
        (b"a=ed25519-sha256", b"a=rsa-sha512", "algorithm"),
        (b"c=relaxed/relaxed", b"c=relaxed/nofws", "canonicalization"),
        (b"t=", b"t=soon", "t="),
        (b"t=", b"l=x; t=", "l="),
        (b"bh=", b"bh=!!", "bh="),
        (b" b=", b" b=!!", "b="),  # the leading space: not the end of bh=
        (b"bh=", b"xbh=", "bh="),
        (b"s=ed;", b"", "s="),
    ],
)
def test_malformed_signature_tags_are_permerror(
    keys: Keys, old: bytes, new: bytes, reason: str
) -> None:
    signed = replace_in_signature(keys.sign(MESSAGE, selector="ed"), old, new)
    result = only(keys.verify(signed))
    assert result.status == "permerror", result.reason
    assert reason in result.reason


def test_body_changed_fails_on_the_body_hash(keys: Keys) -> None:
    signed = keys.sign(MESSAGE, selector="rsa")
    result = only(keys.verify(signed.replace(b"attached", b"attacked")))
    assert result.status == "fail"
    assert "body hash" in result.reason


def test_header_changed_fails_on_the_signature(keys: Keys) -> None:
    signed = keys.sign(MESSAGE, selector="rsa")
    result = only(keys.verify(signed.replace(b"quarterly statement", b"urgent: pay now")))
    assert result.status == "fail"
    assert "signature" in result.reason
    assert "body hash" not in result.reason


def test_relaxed_survives_whitespace_and_case_changes(keys: Keys) -> None:
    signed = keys.sign(MESSAGE, selector="ed")
    rewrapped = signed.replace(
        b"Subject: quarterly statement", b"SUBJECT:   quarterly\r\n\tstatement"
    )
    rewrapped = rewrapped.replace(b"the statement is attached.", b"the  statement\tis attached.  ")
    assert only(keys.verify(rewrapped)).passed


def test_each_signature_gets_its_own_result(keys: Keys) -> None:
    both = keys.sign(keys.sign(MESSAGE, selector="rsa"), selector="ed")
    start = both.index(b" b=") + 3  # the first (ed25519) signature's b= value
    flipped = b"B" if both[start : start + 1] == b"A" else b"A"
    ed_broken = both[:start] + flipped + both[start + 1 :]  # same length, another signature
    results = keys.verify(ed_broken)
    assert [(r.index, r.algorithm, r.status) for r in results] == [
        (0, "ed25519-sha256", "fail"),
        (1, "rsa-sha256", "pass"),
    ]
    assert "signature" in results[0].reason
    no_rsa_record = {k: v for k, v in keys.records.items() if not k.startswith("rsa.")}
    results = keys.verify(both, no_rsa_record)
    assert [(r.index, r.status) for r in results] == [(0, "pass"), (1, "permerror")]
    # dkimpy checks only the first signature, so it says nothing about the second
    assert not keys.dkimpy_verifies(ed_broken)


def test_bare_lf_message_is_converted_with_a_note(keys: Keys) -> None:
    signed = keys.sign(MESSAGE, selector="ed")
    result = only(keys.verify(signed.replace(b"\r\n", b"\n")))
    assert result.passed, result.reason
    assert any("CRLF" in note for note in result.notes)


def test_record_with_unknown_key_algorithm_is_permerror(keys: Keys) -> None:
    spki = bytearray(
        keys.rsa.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    oid = bytes.fromhex("2a864886f70d010101")  # rsaEncryption
    spki[spki.index(oid) + len(oid) - 1] = 0x7F  # 1.2.840.113549.1.1.127: unknown
    record = "v=DKIM1; k=rsa; p=" + base64.b64encode(bytes(spki)).decode("ascii")
    signed = keys.sign(MESSAGE, selector="rsa")
    result = only(keys.verify(signed, keys.with_record("rsa", record)))
    assert result.status == "permerror"


# --------------------------------------------------------------------------- robustness


@pytest.fixture(scope="module")
def doubly_signed(keys: Keys) -> bytes:
    return keys.sign(keys.sign(MESSAGE, selector="rsa", canonicalization=("simple", "simple")))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_messages_give_results_or_mimeseal_errors(
    keys: Keys, doubly_signed: bytes, data: st.DataObject
) -> None:
    mutated = data.draw(hostile.mutated([doubly_signed], hostile.tokens_for([doubly_signed])))
    try:
        results = dkim.verify(mutated, records=keys.records, now=NOW)
    except MimesealError:
        return
    assert all(r.status in ("pass", "fail", "temperror", "permerror") for r in results)
    assert all(isinstance(r.reason, str) and r.reason for r in results)


_TAG_TEXT = st.text(
    alphabet=st.sampled_from("vabhdlstxic=;:/ -0123456789rsaed25519AZ+\t\r\n\u00e9"), max_size=80
)


@settings(max_examples=300, deadline=None)
@given(value=_TAG_TEXT, record=_TAG_TEXT)
def test_arbitrary_signature_and_record_text_never_escape(value: str, record: str) -> None:
    message = (
        b"DKIM-Signature:" + value.encode("utf-8").replace(b"\r\n", b"\r\n ") + b"\r\n" + MESSAGE
    )
    try:
        results = dkim.verify(message, records=lambda name: record, now=NOW)
    except MimesealError:
        return
    assert all(r.status in ("fail", "temperror", "permerror") for r in results)


# --------------------------------------------------------------------------- limits


def test_more_signatures_than_the_limit_are_refused_before_any_is_judged(keys: Keys) -> None:
    signed = MESSAGE
    for _ in range(4):
        signed = keys.sign(signed)
    assert [r.status for r in keys.verify(signed, limits=Limits(max_dkim_signatures=4))] == [
        "pass"
    ] * 4
    lookups: list[str] = []

    def record(name: str) -> str | None:
        lookups.append(name)
        return keys.records.get(name)

    with pytest.raises(LimitError) as caught:
        keys.verify(signed, records=record, limits=Limits(max_dkim_signatures=3))  # type: ignore[arg-type]
    assert (caught.value.limit, caught.value.value, caught.value.maximum) == (
        "max_dkim_signatures",
        4,
        3,
    )
    assert lookups == []  # refused before a single key record was fetched


def test_l_beyond_the_body_is_permerror_before_hashing(keys: Keys) -> None:
    """An l= past the body is the signature's own claim: a permerror verdict, not a refusal."""
    signed = hand_sign(MESSAGE, keys.ed, selector="ed", names=["from"], tags={"l": "999999"})
    result = only(keys.verify(signed, strict=False))
    assert result.status == "permerror"
    assert "longer than the body" in result.reason


def test_message_and_header_limits_apply(keys: Keys) -> None:
    signed = keys.sign(MESSAGE)
    with pytest.raises(LimitError) as caught:
        keys.verify(signed, limits=Limits(max_message_bytes=len(signed) - 1))
    assert caught.value.limit == "max_message_bytes"
    with pytest.raises(LimitError) as caught:
        keys.verify(signed, limits=Limits(max_header_bytes=64))
    assert caught.value.limit == "max_header_bytes"  # the DKIM-Signature field itself
