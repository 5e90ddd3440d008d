"""Adversarial review of the DKIM verifier and its message verdict.

Two kinds of tests, each labelled in its docstring:

* **DEFECT**: pins the behaviour the contract asks for (every failure a user can cause is a
  ``MimesealError``, never a hang or unbounded memory; never "authenticated" where an attacker
  controls what a reader sees; agreement with dkimpy, Mail::DKIM and OpenDKIM except where
  mimeseal is documented as stricter). These fail until the defect is fixed.
* **HANDLED**: an attack mimeseal already resists, kept so it stays resisted.

Signatures are made by ``receivers_dkim.craft_sign`` (simple/simple, any ``h=``), so the
receivers see exactly what a sender could send. Python's ``email`` with ``policy.default``
stands in for the mail reader ("what a reader sees as From/Subject").
"""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import random
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from asn1crypto import core as asn1_core
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

import receivers_dkim as receivers
from mimeseal import dkim
from mimeseal.dkim import verifying
from mimeseal.dkim.canonicalize import canonical_body
from mimeseal.dkim.records import parse_key_record
from mimeseal.errors import DkimError, MessageError, MimesealError
from mimeseal.pytest_plugin.assertions import assert_dkim_valid

ED = ed25519.Ed25519PrivateKey.generate()
ED_OTHER = ed25519.Ed25519PrivateKey.generate()
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RECORDS = {
    "sel._domainkey.example.com": dkim.format_key_record(ED.public_key()),
    "sel._domainkey.example.net": dkim.format_key_record(ED_OTHER.public_key()),
    "rsa._domainkey.example.com": dkim.format_key_record(RSA.public_key()),
}
MESSAGE = (
    b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: statement\r\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain\r\n\r\nHello.\r\nSecond line.\r\n"
)
NAMES = ("from", "to", "subject", "date", "content-type")


def sign(
    message: bytes = MESSAGE,
    names: tuple[str, ...] = NAMES,
    *,
    domain: str = "example.com",
    rsa_key: bool = False,
    tags: dict[str, str] | None = None,
) -> bytes:
    """A simple/simple signature at the real time (OpenDKIM has no clock to set)."""
    key: receivers.Key = RSA if rsa_key else (ED if domain == "example.com" else ED_OTHER)
    selector = "rsa" if rsa_key else "sel"
    return receivers.craft_sign(
        message, key, domain=domain, selector=selector, names=list(names), tags=tags
    )


def verify(message: bytes, records: Any = None, **options: Any) -> list[dkim.DkimResult]:
    return dkim.verify(message, records=RECORDS if records is None else records, **options)


def reader(message: bytes) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def receivers_all_fail(message: bytes) -> None:
    """dkimpy, Mail::DKIM and OpenDKIM (where installed) each refuse every signature."""
    answers = [receivers.dkimpy_verify(message, RECORDS)]
    if receivers.mail_dkim_available():
        answers.append(receivers.mail_dkim_verify(message, RECORDS))
    if receivers.opendkim_available():
        answers.append(receivers.opendkim_verify(message, RECORDS))
    for answer in answers:
        assert not any(receivers.passed(result) for result, _ in answer), answers


def results_or_mimeseal_error(call: Callable[[], list[dkim.DkimResult]]) -> None:
    """The contract: a verdict, or a MimesealError; no other exception escapes."""
    with contextlib.suppress(MimesealError):
        call()


# =========================================================================== DEFECTS: bounds


def _dh_spki(bits: int) -> bytes:
    """A SubjectPublicKeyInfo for X9.42 Diffie-Hellman with ``bits``-bit p and q (not primes)."""
    rng = random.Random(7)
    p = rng.getrandbits(bits) | 1 | (1 << (bits - 1))
    q = rng.getrandbits(bits - 1) | 1
    params = asn1_keys.DomainParameters({"p": p, "g": 2, "q": q})
    info = asn1_keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "dh", "parameters": params},
            "public_key": asn1_core.Integer(12345),
        }
    )
    return bytes(info.dump())


def test_a_diffie_hellman_key_in_p_is_refused_without_validating_its_parameters() -> None:
    """DEFECT (CPU exhaustion from an attacker's key record).

    ``records._decode_public_key`` hands any DER in ``p=`` to ``load_der_public_key``, which
    for a DH SubjectPublicKeyInfo validates the group (modular exponentiations with p and q
    of the record's size) before mimeseal looks at the key type. A 5.4 KB record (16,000-bit
    p and q) costs ~2 s here; 20,000 bits ~15 s (6.7 KB record, fits a DNS TXT answer); one
    message with 16 signatures naming 16 selectors of the attacker's domain costs minutes,
    before any body hash. dkimpy, Mail::DKIM and OpenDKIM only parse RSA (and Ed25519) keys here.
    RFC 6376 §3.6.1: ``k=rsa`` means an RSA key. Fix: read the SPKI's algorithm OID (and an
    upper bound on the size) before calling ``cryptography``; refuse anything but rsaEncryption.
    """
    record = "v=DKIM1; k=rsa; p=" + base64.b64encode(_dh_spki(16_000)).decode("ascii")
    parse_key_record.cache_clear()
    start = time.perf_counter()
    with pytest.raises(DkimError):
        parse_key_record(record)
    assert time.perf_counter() - start < 0.3


def _bare_lf_message(count: int) -> bytes:
    """A signed message whose body is one CR and then ``count`` bare LFs."""
    return sign() + b"x\r" + b"\n" * count


def test_bare_line_end_conversion_uses_memory_proportional_to_the_message() -> None:
    """DEFECT (memory exhaustion, no key record needed).

    ``verify`` converts bare CR/LF with ``mime.to_crlf``, a ``re.sub`` that makes one object
    per match: ~90 octets of memory per bare LF. Measured: a 10 MB message peaks at 0.9 GB,
    a 52 MB one (under the default ``max_message_bytes``) at 4.6 GB and 40 s. The same helper
    serves ``dkim.sign`` and ``smime.verify``. Fix: ``to_crlf`` with C-speed passes
    (``replace(b"\\r\\n", b"\\n").replace(b"\\r", b"\\n").replace(b"\\n", b"\\r\\n")`` maps
    CRLF, bare CR and bare LF to one CRLF each, as the regex does).
    """
    message = _bare_lf_message(500_000)
    tracemalloc.start()
    try:
        results = verify(message)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert results[0].status in ("pass", "fail")
    assert peak < 8 * len(message), f"peak {peak:,} octets for a {len(message):,}-octet message"


def test_trailing_empty_lines_are_stripped_at_c_speed() -> None:
    """DEFECT (CPU: one Python loop step per empty line).

    ``canonicalize._trailing_blank_lines_start`` walks back two octets per step in Python.
    A body of 2,000,000 empty lines (4 MB) takes ~0.6 s per method where a 4 MB text body takes
    ~5 ms; at 50 MB that is ~8 s per c= body method (and per distinct ``l=`` when not strict,
    see below). Fix: strip with ``bytes.rstrip`` on a tail window (or ``len - len(rstrip)``).
    """
    blank = b"\r\n" * 2_000_000
    text = b"x" * (len(blank) - 2) + b"\r\n"
    for method in ("simple", "relaxed"):
        start = time.perf_counter()
        canonical_body(text, method)
        reference = time.perf_counter() - start
        start = time.perf_counter()
        canonical_body(blank, method)
        took = time.perf_counter() - start
        assert took < 20 * reference + 0.25, (method, took, reference)  # the old loop: 0.6 s


def test_each_body_canonicalization_is_computed_once_whatever_l_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DEFECT (work amplification, ``strict=False``).

    The body hash cache is keyed on ``(method, l=)``, so 16 signatures with 16 different
    ``l=`` values canonicalize and hash the whole body 16 times, although each only needs a
    prefix (measured: a 10 MB body, one signature 0.17 s, 16 signatures 2.5 s; a body of empty
    lines, see above, ~8 s per pass at 50 MB). The signatures need no valid ``b=``: the body
    hash is computed before the signature is checked. Fix: canonicalize once per method and
    hash prefixes of the same pieces (or feed one pass into one hasher per ``l=``).
    """
    calls: list[str] = []

    def counting(data: bytes, method: Any, start: int = 0) -> Any:
        calls.append(method)
        return canonical_body(data, method, start)

    monkeypatch.setattr(verifying, "canonical_body", counting)
    fake = base64.b64encode(bytes(32)).decode("ascii")
    fields = b"".join(
        f"DKIM-Signature: v=1; a=ed25519-sha256; c=simple/{method}; d=example.com; s=sel; "
        f"h=from; l={5 + i}; bh={fake}; b={fake}\r\n".encode("ascii")
        for i, method in enumerate(["simple", "relaxed"] * 8)
    )
    results = verify(fields + MESSAGE, strict=False)
    assert [r.reason for r in results] == [results[0].reason] * 16
    assert len(calls) <= 2, calls


# =========================================================================== DEFECTS: exceptions


@pytest.mark.parametrize("depth", [600, 3_000])
def test_nested_comments_in_from_are_a_verdict_not_a_recursion_error(depth: int) -> None:
    """DEFECT (an exception that is no MimesealError).

    ``composition.authors`` parses From with ``email.utils.getaddresses``, which recurses once
    per ``(`` (``getcomment``); ``mime.check_addresses`` bounds only ``:``. ``From: (((…``
    with ~500 or more ``(`` raises RecursionError out of ``dkim.verify`` (and ``check.check``)
    for any message with a DKIM-Signature field, signed or not. RFC 5322 §3.2.2 allows nested
    comments but no reader needs hundreds. Fix: bound unescaped ``(`` in ``check_addresses``
    (as for ``:``), or turn RecursionError into MessageError in ``parse_addresses``; the
    verdict is then no-author.
    """
    message = MESSAGE.replace(
        b"From: Alice <alice@example.com>", b"From: " + b"(" * depth + b"alice@example.com"
    )
    results_or_mimeseal_error(lambda: verify(sign(message)))
    results_or_mimeseal_error(lambda: verify(b"DKIM-Signature: v=1\r\n" + message))


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda text: text.encode("ascii"), id="bytes (dkimpy's dnsfunc, dnspython)"),
        pytest.param(lambda text: [text], id="a list of strings"),
        pytest.param(lambda text: 42, id="not text"),
    ],
)
def test_a_records_callable_answering_other_than_str_is_a_mimeseal_error(
    answer: Callable[[str], Any],
) -> None:
    """DEFECT (TypeError/AttributeError escape).

    ``records`` may be a callable; one written for dkimpy (``dnsfunc`` returns bytes) or
    returning dnspython's TXT strings makes ``parse_key_record`` raise TypeError or
    AttributeError out of ``dkim.verify``; the same for a mapping with bytes values. Fix in
    ``records.lookup``: decode bytes as ASCII, and refuse any other type with DkimError (or a
    permerror/temperror for that signature).
    """
    signed = sign()

    def source(name: str) -> Any:
        text = RECORDS.get(name)
        return None if text is None else answer(text)

    results_or_mimeseal_error(lambda: verify(signed, records=source))
    results_or_mimeseal_error(
        lambda: verify(signed, records={k: answer(v) for k, v in RECORDS.items()})
    )


@pytest.mark.parametrize("now", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_clock_is_a_dkim_error(now: float) -> None:
    """DEFECT (ValueError/OverflowError escape).

    ``_epoch`` accepts any float and calls ``int()``: NaN raises ValueError, infinity
    OverflowError. Fix: ``math.isfinite`` check in ``verifying._epoch``, DkimError otherwise.
    """
    with pytest.raises(DkimError):
        verify(sign(), now=now)


# =========================================================================== DEFECTS: verdict


def test_a_composition_problem_on_one_signature_is_not_cured_by_another() -> None:
    """DEFECT (reader shows an attacker's Subject; the verdict says authenticated).

    Two signatures of example.com: one signs Subject, the other (an ESP's, say) does not. An
    attacker prepends ``Subject:``; readers show it. mimeseal fails the first signature
    (``unsigned-above-signed``) but the second passes, so ``message_verdict`` is ``pass`` with
    that problem listed. README ("authenticated when at least one signature passes and no
    composition problem stands") and ``assert_dkim_valid``'s docstring ("no shown field left
    unsigned above a signed one") say it is not. dkimpy, Mail::DKIM and OpenDKIM pass both:
    RFC 6376 §8.15 leaves this to the verifier, and mimeseal chose to close it. Fix in
    ``verdict.message_verdict``: an ``unsigned-above-signed`` problem of any signature makes
    the message ``fail`` (the shown field is known to be forged).
    """
    first = sign(names=("from", "to", "subject", "date", "content-type"))
    both = sign(first, names=("from", "to", "date", "content-type"))
    forged = both.replace(b"From: Alice", b"Subject: URGENT: new bank details\r\nFrom: Alice", 1)
    assert reader(forged)["Subject"] == "URGENT: new bank details"
    results = verify(forged)
    assert sorted(r.status for r in results) == ["fail", "pass"]
    verdict = dkim.message_verdict(results)
    assert verdict.problems == ("unsigned-above-signed",)
    assert not verdict.authenticated, verdict.reason


def test_a_subject_the_signature_never_covered_is_named_in_the_verdict() -> None:
    """Policy (documented in dkim.verdict): ``authenticated`` covers what ``h=`` lists.

    With ``h=from:to:date:content-type`` the Subject is outside every signature and an
    attacker may rewrite it. dkimpy, Mail::DKIM and OpenDKIM pass, and RFC 6376 §5.4.1 only
    says Subject SHOULD be signed (Gmail leaves Content-Type out of h=), so failing the message
    would refuse real mail; instead the verdict names every reader field no authenticating
    signature covers, in ``unsigned_fields`` and in its reason.
    """
    signed = sign(names=("from", "to", "date", "content-type"))
    forged = signed.replace(b"Subject: statement", b"Subject: URGENT: new bank details")
    assert reader(forged)["Subject"] == "URGENT: new bank details"
    verdict = dkim.message_verdict(verify(forged))
    assert verdict.authenticated
    assert "subject" in verdict.unsigned_fields
    assert "subject" in verdict.reason
    assert verdict.to_dict()["unsigned_fields"] == list(verdict.unsigned_fields)


def test_an_unsigned_list_unsubscribe_above_the_signed_one_fails() -> None:
    """DEFECT (one-click unsubscribe hijack; RFC 8058 §4).

    RFC 8058 §4: List-Unsubscribe and List-Unsubscribe-Post MUST be covered by a valid DKIM
    signature before a mailbox provider acts on them (mimeseal's own signer oversigns both).
    An attacker prepends ``List-Unsubscribe: <https://evil.example/…>``: readers take the
    first field, mimeseal passes with only a note because ``READER_FIELDS`` omits these, and
    ``assert_dkim_valid(headers=["List-Unsubscribe"])`` passes. Fix: add
    ``list-unsubscribe`` and ``list-unsubscribe-post`` to ``composition.READER_FIELDS``.
    """
    message = MESSAGE.replace(
        b"Content-Type:",
        b"List-Unsubscribe: <https://example.com/u/123>\r\n"
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nContent-Type:",
    )
    signed = sign(message, (*NAMES, "list-unsubscribe", "list-unsubscribe-post"))
    forged = b"List-Unsubscribe: <https://evil.example/track>\r\n" + signed
    assert reader(forged)["List-Unsubscribe"] == "<https://evil.example/track>"
    [result] = verify(forged)
    assert result.status == "fail"
    assert result.composition == "unsigned-above-signed"
    with pytest.raises(AssertionError):
        assert_dkim_valid(forged, RECORDS, headers=["List-Unsubscribe"], dkimpy=False)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(b"statement\r\n", b"statement\r", id="header line ends in a bare CR"),
        pytest.param(b"Hello.\r\n", b"Hello.\r", id="body line ends in a bare CR"),
        pytest.param(b"text/plain\r\n\r\n", b"text/plain\r\n\r", id="separator CRLF CR"),
    ],
)
def test_bare_cr_is_not_accepted_where_every_receiver_refuses_it(old: bytes, new: bytes) -> None:
    """DEFECT (more lenient than all three receivers, undocumented for DKIM).

    ``verify`` converts every bare CR to CRLF before hashing, so a signed message whose CRLFs
    were changed to bare CRs still passes; dkimpy, Mail::DKIM and OpenDKIM all fail it (the
    signer signed CRLF: RFC 6376 §5.3 has the *signer* convert local line ends; RFC 5322 §2.3
    forbids a bare CR). A reader that does not take a lone CR as a line end sees a different
    header structure than the one verified (a ``\\r\\n\\r`` separator is one line end to it,
    so body lines become header fields). Converting bare LF (Unix files) is documented and
    dkimpy does it too; bare CR is neither. Fix in ``verifying.verify``: convert bare LF only,
    and in strict mode fail (or permerror) a message with a bare CR.
    """
    forged = sign(rsa_key=True).replace(old, new, 1)
    receivers_all_fail(forged)
    assert not any(r.passed for r in verify(forged))


# =========================================================================== HANDLED


@pytest.mark.parametrize(
    "added",
    [
        pytest.param(b"FROM: Eve <eve@evil.example>\r\n", id="upper-case FROM on top"),
        pytest.param(b"from: Eve <eve@evil.example>\r\n", id="lower-case from on top"),
    ],
)
def test_handled_a_second_from_in_any_case_leaves_no_author(added: bytes) -> None:
    """HANDLED: a second From in another letter case is still a second From (Mail::DKIM and
    OpenDKIM pass it: they sign the bottom one; Python's reader shows the top one)."""
    forged = added + sign()
    assert reader(forged).get_all("From")[0].startswith("Eve")  # type: ignore[index]
    [result] = verify(forged)
    assert (result.status, result.composition) == ("permerror", "multiple-from")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(
            b"Subject: statement\r\n",
            b"Subject: statement\r\n \r\nFrom: eve@evil.example\r\n",
            id="whitespace-only line then From",
        ),
        pytest.param(b"To: Bob", b"From: eve@evil.example\nTo: Bob", id="bare LF then From"),
        pytest.param(b"To: Bob", b"From: eve@evil.example\rTo: Bob", id="bare CR then From"),
    ],
)
def test_handled_a_from_smuggled_by_line_structure_is_a_second_from(old: bytes, new: bytes) -> None:
    """HANDLED: header-block tricks that give Python's reader a second From give mimeseal one
    too (it splits on every CR and LF, as the reader does)."""
    forged = sign().replace(old, new, 1)
    assert len(reader(forged).get_all("From") or []) == 2
    [result] = verify(forged)
    assert result.composition == "multiple-from"
    assert not dkim.message_verdict([result]).authenticated


@pytest.mark.parametrize(
    "line",
    [b"From : Eve <eve@evil.example>\r\n", b"Fr\x00om: eve@evil.example\r\n"],
    ids=["space before the colon (RFC 5322 obs-optional)", "NUL in the name"],
)
def test_handled_a_field_name_readers_may_read_as_from_is_refused(line: bytes) -> None:
    """HANDLED: ``From :`` (obs syntax, RFC 5322 §4.5.6) or a name with a NUL: dkimpy,
    Mail::DKIM and OpenDKIM pass the signature below; mimeseal refuses the header block
    (MessageError), so no verdict says authenticated whatever a reader makes of it."""
    with pytest.raises(MessageError):
        verify(line + sign())


@pytest.mark.parametrize("separator", [b"\x0b", b"\x0c", b"\x1c", b"\x1e"])
def test_handled_other_control_characters_do_not_split_fields_for_the_reader(
    separator: bytes,
) -> None:
    """HANDLED: Python 3.11's reader, like mimeseal, does not end a line at VT, FF, FS or RS,
    so ``Subject: x<FF>From: eve`` hides no From from mimeseal (the signature breaks)."""
    forged = sign().replace(b"statement", b"statement" + separator + b"From: eve@evil.example")
    assert reader(forged).get_all("From") == ["Alice <alice@example.com>"]
    assert not any(r.passed for r in verify(forged))


def test_handled_testing_keys_and_failures_never_authenticate() -> None:
    """HANDLED: t=y (RFC 6376 §3.6.1) and a failing signature beside it do not authenticate."""
    records = dict(RECORDS)
    records["sel._domainkey.example.com"] += "; t=y"
    signed = sign()
    broken = signed.replace(b"Hello.", b"Hullo.")
    for message in (signed, broken):
        verdict = dkim.message_verdict(verify(message, records))
        assert not verdict.authenticated


def test_handled_h_listing_dkim_signature_agrees_with_the_receivers() -> None:
    """HANDLED: ``h=`` naming DKIM-Signature selects the signature itself at the bottom
    (RFC 6376 §5.4.2 bottom-up); mimeseal fails it like dkimpy, Mail::DKIM and OpenDKIM."""
    signed = sign(names=(*NAMES, "dkim-signature"), rsa_key=True)
    receivers_all_fail(signed)
    assert [r.status for r in verify(signed)] == ["fail"]


@pytest.mark.parametrize(
    ("modulus", "status"),
    [
        pytest.param(RSA.public_key().public_numbers().n + 1, "fail", id="even modulus"),
        # Larger than any RSA key up to 16,384 bits: the record itself is refused.
        pytest.param((1 << 20_000) | 1, "permerror", id="20001-bit modulus"),
    ],
)
def test_handled_absurd_rsa_keys_fail_fast(modulus: int, status: str) -> None:
    """HANDLED: an even or 20,001-bit modulus loads but fails verification at once (OpenSSL
    caps RSA at 16,384 bits and public exponents at 64 bits above 3,072)."""
    spki = asn1_keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "rsa"},
            "public_key": asn1_keys.RSAPublicKey({"modulus": modulus, "public_exponent": 65537}),
        }
    ).dump()
    records = {"rsa._domainkey.example.com": "v=DKIM1; p=" + base64.b64encode(spki).decode()}
    start = time.perf_counter()
    [result] = verify(sign(rsa_key=True), records)
    assert result.status == status
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize(
    ("tags", "passes"),
    [
        pytest.param({"a": "RSA-SHA256"}, True, id="a= upper case (Mail::DKIM, OpenDKIM pass)"),
        pytest.param({"v": " 1 "}, True, id="v= with white space"),
        pytest.param({"q": "DNS/TXT"}, False, id="q= upper case (all receivers fail)"),
    ],
)
def test_handled_tag_value_case_and_space(tags: dict[str, str], passes: bool) -> None:
    """HANDLED: tag values as the receivers read them (RFC 6376 §3.2, §3.5)."""
    [result] = verify(sign(rsa_key=True, tags=tags))
    assert result.passed is passes


def test_handled_padding_inside_b_is_a_permerror() -> None:
    """HANDLED: ``b=`` with ``==`` inside is not base64 (RFC 6376 §3.5; all receivers fail)."""
    signed = sign()
    head, _, rest = signed.partition(b"; b=")
    value, _, tail = rest.partition(b"\r\n")
    [result] = verify(head + b"; b=" + value[:8] + b"==" + value[8:] + b"\r\n" + tail)
    assert result.status == "permerror"
