"""Interop with independent receivers: dkimpy, Mail::DKIM and OpenDKIM.

Every signature mimeseal makes verifies in dkimpy, and mimeseal verifies every signature
dkimpy makes, for rsa-sha256 (2048-bit) and ed25519-sha256 under three canonicalizations
over a set of awkward messages. The one place they disagree is dkimpy's relaxed-body bug
(trailing whitespace on a last line without CRLF); that is asserted, not skipped.

Then one set of messages (valid, tampered, composition attacks, testing keys, bad tags,
l=, rsa-sha1, x= on a fixed clock, the RFC vectors) goes through mimeseal and the three
receivers of ``receivers_dkim``, and every signature's pass or fail is compared. Where they
differ the case records which receiver says what and why (mimeseal deliberately stricter,
or a receiver behind the RFCs); anything else is a failure.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.header import Header

import dkim as dkimpy
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

import receivers_dkim as receivers
from conftest import MESSAGE, DevPki
from mimeseal import dkim, smime
from mimeseal.dkim.canonicalize import Canonicalization
from mimeseal.dkim.signing import DkimKey
from mimeseal.errors import MimesealError
from mimeseal.mime import has_bare_line_ends
from test_dkim_vectors import RFC6376, RFC8463, load_records

DOMAIN = "example.com"
SELECTORS = {"rsa-sha256": "rsa2048", "ed25519-sha256": "ed1"}
CANONICALIZATIONS: list[tuple[Canonicalization, Canonicalization]] = [
    ("relaxed", "relaxed"),
    ("relaxed", "simple"),
    ("simple", "simple"),
]
C_IDS = ["relaxed-relaxed", "relaxed-simple", "simple-simple"]

HEADERS = (
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: Bob <bob@example.org>\r\n"
    b"Subject: interop\r\n"
    b"Date: Tue, 24 Nov 2026 09:00:00 +0000\r\n"
    b"Message-ID: <interop-1@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
)

TRAILING_WHITESPACE = HEADERS + (
    b"\r\n"
    b"line with trailing spaces   \r\n"
    b"line with a trailing tab\t\r\n"
    b"  leading  and   inner\t\truns \t \r\n"
    b" \t \r\n"
    b"after a whitespace-only line\r\n"
    b"\r\n"
    b"   \r\n"
    b"\r\n"
)

EMPTY_BODY = HEADERS + b"\r\n"

_RECIPIENTS = ",\r\n\t".join(f"Recipient {n} <r{n}@example.org>" for n in range(25))
LONG_FOLDED = (
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: " + _RECIPIENTS.encode("ascii") + b"\r\n"
    b"Cc: carol@example.net,  \r\n   dave@example.net  \r\n"
    b"Subject: a subject that is long enough to be folded over\r\n"
    b" several lines,\t\twith tabs   and runs of spaces  \r\n"
    b"\tand a final tab-indented continuation\r\n"
    b"Date: Tue, 24 Nov 2026 09:00:00 +0000\r\n"
    b"Message-ID: <interop-2@example.com>\r\n"
    b"References: <a1@example.com> <a2@example.com>\r\n <a3@example.com>\r\n"
    b"\t<a4@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain;\r\n charset=us-ascii;\r\n format=flowed\r\n"
    b"\r\n"
    b"Body.\r\n"
)


def _encoded_word(text: str) -> bytes:
    return Header(text, "utf-8").encode().encode("ascii")


ENCODED_WORDS = (
    b"From: " + _encoded_word("Jörg Müller") + b" <joerg@example.com>\r\n"
    b"To: =?iso-8859-1?q?Fran=E7ois?= <francois@example.org>\r\n"
    b"Subject: " + _encoded_word("Grüße aus Köln — café ☕") + b"\r\n"
    b"Date: Tue, 24 Nov 2026 09:00:00 +0000\r\n"
    b"Message-ID: <interop-3@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"Gr=C3=BC=C3=9Fe!\r\n"
)

MESSAGES: dict[str, bytes] = {
    "trailing-whitespace": TRAILING_WHITESPACE,
    "empty-body": EMPTY_BODY,
    "long-folded-headers": LONG_FOLDED,
    "encoded-words": ENCODED_WORDS,
}
MESSAGE_IDS = [*MESSAGES, "smime-signed"]


class Keys:
    """One RSA 2048 and one Ed25519 key, their records and dkimpy's forms of them."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.records = {
            dkim.record_name(SELECTORS["rsa-sha256"], DOMAIN): dkim.format_key_record(
                self.rsa.public_key()
            ),
            dkim.record_name(SELECTORS["ed25519-sha256"], DOMAIN): dkim.format_key_record(
                self.ed.public_key()
            ),
        }

    def key(self, algorithm: str) -> DkimKey:
        return self.rsa if algorithm == "rsa-sha256" else self.ed

    def dkimpy_private(self, algorithm: str) -> bytes:
        """RSA as PKCS#1 PEM, Ed25519 as base64 of the 32-byte seed (dkimpy's formats)."""
        if algorithm == "rsa-sha256":
            return self.rsa.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        seed = self.ed.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return base64.b64encode(seed)

    def dnsfunc(self) -> Callable[..., bytes | None]:
        def lookup(name: bytes, timeout: int = 5) -> bytes | None:
            value = self.records.get(name.decode("ascii").rstrip(".").lower())
            return None if value is None else value.encode("ascii")

        return lookup

    def dkimpy_sign(
        self,
        message: bytes,
        algorithm: str,
        canonicalization: tuple[Canonicalization, Canonicalization],
    ) -> bytes:
        header = dkimpy.sign(
            message,
            SELECTORS[algorithm].encode(),
            DOMAIN.encode(),
            self.dkimpy_private(algorithm),
            canonicalize=(canonicalization[0].encode(), canonicalization[1].encode()),
            signature_algorithm=algorithm.encode(),
        )
        assert isinstance(header, bytes)
        return header + message

    def dkimpy_verifies(self, message: bytes) -> bool:
        return bool(dkimpy.verify(message, dnsfunc=self.dnsfunc()))

    def mimeseal_sign(
        self,
        message: bytes,
        algorithm: str,
        canonicalization: tuple[Canonicalization, Canonicalization],
    ) -> bytes:
        return dkim.sign(
            message,
            key=self.key(algorithm),
            domain=DOMAIN,
            selector=SELECTORS[algorithm],
            canonicalization=canonicalization,
        )

    def mimeseal_results(self, message: bytes) -> list[dkim.DkimResult]:
        return dkim.verify(message, records=self.records)


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def smime_message(rsa_pki: DevPki) -> bytes:
    """MESSAGE S/MIME-signed (multipart/signed) with the development PKI."""
    signer = rsa_pki.signer
    return smime.sign(MESSAGE, key=signer.key, cert=signer.certificate, chain=signer.chain)


@pytest.fixture(params=MESSAGE_IDS)
def message(request: pytest.FixtureRequest, smime_message: bytes) -> bytes:
    name: str = request.param
    return smime_message if name == "smime-signed" else MESSAGES[name]


# --------------------------------------------------------------------------- the matrix


@pytest.mark.parametrize("canonicalization", CANONICALIZATIONS, ids=C_IDS)
@pytest.mark.parametrize("algorithm", ["rsa-sha256", "ed25519-sha256"])
def test_mimeseal_signature_verifies_in_dkimpy(
    keys: Keys,
    message: bytes,
    algorithm: str,
    canonicalization: tuple[Canonicalization, Canonicalization],
) -> None:
    signed = keys.mimeseal_sign(message, algorithm, canonicalization)
    assert signed.endswith(message)  # the message itself is copied byte for byte
    assert keys.dkimpy_verifies(signed)
    [result] = keys.mimeseal_results(signed)
    assert result.status == "pass", result.reason
    assert result.algorithm == algorithm
    assert result.canonicalization == "/".join(canonicalization)


@pytest.mark.parametrize("canonicalization", CANONICALIZATIONS, ids=C_IDS)
@pytest.mark.parametrize("algorithm", ["rsa-sha256", "ed25519-sha256"])
def test_dkimpy_signature_verifies_in_mimeseal(
    keys: Keys,
    message: bytes,
    algorithm: str,
    canonicalization: tuple[Canonicalization, Canonicalization],
) -> None:
    signed = keys.dkimpy_sign(message, algorithm, canonicalization)
    assert keys.dkimpy_verifies(signed)  # dkimpy agrees with itself
    [result] = keys.mimeseal_results(signed)
    assert result.status == "pass", result.reason
    assert result.algorithm == algorithm
    assert result.canonicalization == "/".join(canonicalization)
    assert result.key_bits == (2048 if algorithm == "rsa-sha256" else None)


def test_smime_signature_survives_dkim_signing(
    keys: Keys, smime_message: bytes, rsa_pki: DevPki
) -> None:
    """DKIM signs last (DESIGN.md §1): prepending the header leaves S/MIME intact."""
    signed = keys.mimeseal_sign(smime_message, "rsa-sha256", ("relaxed", "relaxed"))
    verdict = smime.verify(signed, trust=rsa_pki.trust)
    assert verdict.valid, verdict.all_problems()


# --------------------------------------------------------------------------- dkimpy's bug

NO_FINAL_CRLF = HEADERS + b"\r\nHello  "


@pytest.mark.parametrize("header_c", ["relaxed", "simple"])
@pytest.mark.parametrize("algorithm", ["rsa-sha256", "ed25519-sha256"])
def test_relaxed_body_trailing_whitespace_without_crlf_disagrees_with_dkimpy(
    keys: Keys, algorithm: str, header_c: Canonicalization
) -> None:
    """The body ``b"Hello  "`` (no final CRLF) under relaxed body canonicalization.

    RFC 6376 §3.4.4 strips whitespace at the end of every line, the last one included, then
    adds the missing CRLF: ``b"Hello\\r\\n"`` (what mimeseal, OpenDKIM and Mail::DKIM hash).
    dkimpy 1.1.8 only strips whitespace followed by CRLF and adds the CRLF afterwards, so it
    hashes ``b"Hello \\r\\n"``. The two therefore reject each other's signatures, in both
    directions, with a body hash mismatch; mimeseal is the one following the RFC.
    """
    canonicalization: tuple[Canonicalization, Canonicalization] = (header_c, "relaxed")
    ours = keys.mimeseal_sign(NO_FINAL_CRLF, algorithm, canonicalization)
    [own] = keys.mimeseal_results(ours)
    assert own.passed, own.reason
    assert not keys.dkimpy_verifies(ours)

    theirs = keys.dkimpy_sign(NO_FINAL_CRLF, algorithm, canonicalization)
    assert keys.dkimpy_verifies(theirs)
    [result] = keys.mimeseal_results(theirs)
    assert result.status == "fail"
    assert "body hash" in result.reason


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "ed25519-sha256"])
def test_simple_body_trailing_whitespace_without_crlf_agrees_with_dkimpy(
    keys: Keys, algorithm: str
) -> None:
    """simple body canonicalization keeps the whitespace; both add CRLF: no disagreement."""
    canonicalization: tuple[Canonicalization, Canonicalization] = ("relaxed", "simple")
    ours = keys.mimeseal_sign(NO_FINAL_CRLF, algorithm, canonicalization)
    assert keys.dkimpy_verifies(ours)
    theirs = keys.dkimpy_sign(NO_FINAL_CRLF, algorithm, canonicalization)
    [result] = keys.mimeseal_results(theirs)
    assert result.status == "pass", result.reason


# --------------------------------------------------------------------------- line ends


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "ed25519-sha256"])
def test_bare_lf_input_is_signed_as_crlf(keys: Keys, algorithm: str) -> None:
    lf_message = TRAILING_WHITESPACE.replace(b"\r\n", b"\n")
    signed = keys.mimeseal_sign(lf_message, algorithm, ("relaxed", "relaxed"))
    assert not has_bare_line_ends(signed)
    assert signed.endswith(TRAILING_WHITESPACE)  # converted, otherwise unchanged
    [result] = keys.mimeseal_results(signed)
    assert result.status == "pass", result.reason
    assert result.notes == ()  # nothing had to be converted at verification time
    assert keys.dkimpy_verifies(signed)


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "ed25519-sha256"])
def test_headers_only_message_without_final_crlf_simple_headers(keys: Keys, algorithm: str) -> None:
    message = b"From: Alice <alice@example.com>\r\nSubject: no body, no final CRLF"
    canonicalization: tuple[Canonicalization, Canonicalization] = ("simple", "simple")
    theirs = keys.dkimpy_sign(message, algorithm, canonicalization)
    assert keys.dkimpy_verifies(theirs)
    [result] = keys.mimeseal_results(theirs)
    assert result.status == "pass", result.reason
    try:
        ours = keys.mimeseal_sign(message, algorithm, canonicalization)
    except MimesealError:
        return  # refusing such a message would also be a fix
    assert keys.dkimpy_verifies(ours)


def test_signature_times_are_now(keys: Keys) -> None:
    before = int(time.time())
    signed = keys.mimeseal_sign(EMPTY_BODY, "ed25519-sha256", ("relaxed", "relaxed"))
    [result] = keys.mimeseal_results(signed)
    assert result.timestamp is not None
    assert before <= result.timestamp <= int(time.time()) + 1


# --------------------------------------------------------------------------- three receivers

RECEIVERS = ("dkimpy", "maildkim", "opendkim")
AVAILABLE: dict[str, Callable[[], bool]] = {
    "dkimpy": lambda: True,
    "maildkim": receivers.mail_dkim_available,
    "opendkim": receivers.opendkim_available,
}
SIGNED = ["from", "to", "subject", "date", "message-id", "mime-version", "content-type"]
T0 = int(time.time()) - 30 * 86400  # a signing time whose x= has long passed at the real time
BODY_LENGTH = len(b"Dear Bob,\r\n")  # l= covering the first line of the body only


@dataclass(frozen=True)
class Case:
    """One message; ``statuses`` are mimeseal's, per signature; ``differ`` the receivers
    whose pass/fail is not mimeseal's, with their answer per signature and the reason."""

    statuses: tuple[str, ...]
    differ: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    why: str = ""
    now: int | None = None  # a fixed clock for t=/x= (receivers without one are skipped)


STRICTER = "mimeseal is deliberately stricter: "
ALL_PASS = {"dkimpy": ("pass",), "maildkim": ("pass",), "opendkim": ("pass",)}
CASES: dict[str, Case] = {
    "valid-rsa": Case(("pass",)),
    "valid-ed25519": Case(("pass",), {"maildkim": ("fail",)}, "Mail::DKIM 1.20230212 has no "
                          "Ed25519 (RFC 8463): 'unsupported algorithm ed25519-sha256'"),
    "tampered-body": Case(("fail",)),
    "tampered-header": Case(("fail",)),
    "extra-from-above": Case(("permerror",), {"maildkim": ("pass",), "opendkim": ("pass",)},
                             STRICTER + "two From fields leave no author (RFC 6376 §8.15). "
                             "dkimpy agrees (it always verifies one From more than h= lists); "
                             "Mail::DKIM has a TODO for it; OpenDKIM refuses it only with "
                             "strict header checks"),
    "extra-subject-above": Case(("fail",), ALL_PASS, STRICTER + "readers show the unsigned "
                                "Subject above the signed one (RFC 6376 §8.15)"),
    "testing-key": Case(("pass",)),  # the message verdict is "testing": see below
    "i-without-at": Case(("permerror",), {"dkimpy": ("pass",)}, "dkimpy only checks that i= "
                         "ends in d=; RFC 6376 §3.5 requires '@' (Mail::DKIM, OpenDKIM agree)"),
    "d-not-a-domain": Case(("permerror",), ALL_PASS, STRICTER + "d=example.com_ is not an "
                           "RFC 6376 §3.5 domain-name (letters, digits, '-' labels)"),
    "d-empty": Case(("permerror",)),
    "q-unknown": Case(("permerror",)),
    "q-list": Case(("pass",), {"dkimpy": ("fail",)}, "dkimpy demands q=dns/txt exactly; RFC "
                   "6376 §3.5 has the verifier use the first method it supports"),
    "l-appended": Case(("fail",), ALL_PASS, STRICTER + "with l=, content appended after "
                       "signing still verifies (RFC 6376 §8.2); refused in strict mode"),
    "rsa-sha1": Case(("fail",), ALL_PASS, STRICTER + "RFC 8301 §3.1 forbids rsa-sha1 "
                     "(Mail::DKIM's Strict mode agrees)"),
    "from-not-in-h": Case(("permerror",), {"dkimpy": ("pass",), "maildkim": ("pass",)},
                          STRICTER + "RFC 6376 §5.4 requires From signed (OpenDKIM agrees)"),
    "x-valid-fixed-clock": Case(("pass",), now=T0 + 60),
    "x-expired-fixed-clock": Case(("fail",), now=T0 + 2 * 86400),
    "rfc8463": Case(("pass", "pass"), {"maildkim": ("fail", "pass")}, "Mail::DKIM 1.20230212 "
                    "has no Ed25519: the ed25519-sha256 signature is 'invalid'"),
    "rfc6376": Case(("pass",)),
}  # fmt: skip


@dataclass(frozen=True)
class Sample:
    message: bytes
    records: dict[str, str]


def _samples(keys: Keys) -> dict[str, Sample]:
    base = HEADERS + b"\r\nDear Bob,\r\nthe statement is attached.\r\n"
    rsa_sel = SELECTORS["rsa-sha256"]
    p = keys.records[dkim.record_name(rsa_sel, DOMAIN)].split("p=", 1)[1]

    def craft(
        *,
        names: list[str] = SIGNED,
        domain: str = DOMAIN,
        tags: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> bytes:
        return receivers.craft_sign(
            base, keys.rsa, domain=domain, selector=rsa_sel, names=names, tags=tags,
            timestamp=timestamp,
        )  # fmt: skip

    valid = keys.mimeseal_sign(base, "rsa-sha256", ("relaxed", "relaxed"))
    plain = craft()
    messages = {
        "valid-rsa": valid,
        "valid-ed25519": keys.mimeseal_sign(base, "ed25519-sha256", ("relaxed", "relaxed")),
        "tampered-body": valid.replace(b"attached", b"attacked"),
        "tampered-header": valid.replace(b"Subject: interop", b"Subject: pay now"),
        "extra-from-above": b"From: Mallory <mallory@example.com>\r\n" + plain,
        "extra-subject-above": b"Subject: urgent: wire the money\r\n" + plain,
        "testing-key": plain,
        "i-without-at": craft(tags={"i": "mail.example.com"}),
        "d-not-a-domain": craft(domain="example.com_"),
        "d-empty": craft(domain=""),
        "q-unknown": craft(tags={"q": "https/json"}),
        "q-list": craft(tags={"q": "other/x:dns/txt"}),
        "l-appended": craft(tags={"l": str(BODY_LENGTH)}) + b"P.S. new account: 1234\r\n",
        "rsa-sha1": craft(tags={"a": "rsa-sha1"}),
        "from-not-in-h": craft(names=["to", "subject", "date"]),
        "x-valid-fixed-clock": craft(timestamp=T0, tags={"x": str(T0 + 3600)}),
        "x-expired-fixed-clock": craft(timestamp=T0, tags={"x": str(T0 + 3600)}),
    }
    samples = {name: Sample(message, dict(keys.records)) for name, message in messages.items()}
    odd = dkim.record_name(rsa_sel, "example.com_")
    samples["d-not-a-domain"].records[odd] = keys.records[dkim.record_name(rsa_sel, DOMAIN)]
    testing = f"v=DKIM1; k=rsa; t=y; p={p}"
    samples["testing-key"].records[dkim.record_name(rsa_sel, DOMAIN)] = testing
    for name, folder in (("rfc8463", RFC8463), ("rfc6376", RFC6376)):
        if folder.is_dir():
            samples[name] = Sample((folder / "signed.eml").read_bytes(), load_records(folder))
    return samples


@pytest.fixture(scope="module")
def samples(keys: Keys) -> dict[str, Sample]:
    return _samples(keys)


def _sample(samples: dict[str, Sample], name: str) -> Sample:
    if name not in samples:
        pytest.skip(f"test vectors not found at {RFC8463.parent}")
    return samples[name]


def _receiver_verdicts(receiver: str, sample: Sample, now: int | None) -> receivers.Verdicts:
    if receiver == "dkimpy":
        return receivers.dkimpy_verify(sample.message, sample.records, now=now)
    if receiver == "maildkim":
        return receivers.mail_dkim_verify(sample.message, sample.records, now=now)
    return receivers.opendkim_verify(sample.message, sample.records)


@pytest.mark.parametrize("name", list(CASES))
def test_mimeseal_statuses(samples: dict[str, Sample], name: str) -> None:
    sample, case = _sample(samples, name), CASES[name]
    results = dkim.verify(sample.message, records=sample.records, now=case.now)
    assert tuple(r.status for r in results) == case.statuses, [r.reason for r in results]


@pytest.mark.parametrize("receiver", RECEIVERS)
@pytest.mark.parametrize("name", list(CASES))
def test_receivers_agree_per_signature_or_differ_as_recorded(
    samples: dict[str, Sample], name: str, receiver: str
) -> None:
    sample, case = _sample(samples, name), CASES[name]
    if not AVAILABLE[receiver]():
        pytest.skip(f"{receiver} is not installed (Debian: libmail-dkim-perl, libopendkim11)")
    if receiver == "opendkim" and case.now is not None:
        pytest.skip("libopendkim judges x= by time(); DKIM_OPTS_FIXEDTIME sets only signing t=")
    ours = tuple("pass" if s == "pass" else "fail" for s in case.statuses)
    verdicts = _receiver_verdicts(receiver, sample, case.now)
    theirs = tuple("pass" if receivers.passed(r) else "fail" for r, _ in verdicts)
    expected = case.differ.get(receiver, ours)
    assert theirs == expected, (verdicts, case.why)
    if receiver in case.differ:
        assert theirs != ours  # a recorded difference is a real one
        assert case.why  # and explained


def test_testing_key_counts_for_no_receiver_verdict(samples: dict[str, Sample]) -> None:
    """t=y: every receiver verifies the signature; mimeseal marks it and the message
    verdict does not count it (RFC 6376 §3.6.1). OpenDKIM flags it too (DKIM_SIGFLAG_TESTKEY)."""
    sample = samples["testing-key"]
    [result] = dkim.verify(sample.message, records=sample.records)
    assert result.passed
    assert result.testing
    assert not result.authenticates
    verdict = dkim.message_verdict([result])
    assert (verdict.status, verdict.domains, verdict.testing_domains) == ("testing", (), (DOMAIN,))
    if receivers.opendkim_available():
        assert receivers.opendkim_verify(sample.message, sample.records) == [("pass", "testkey")]


def test_composition_attacks_leave_the_message_unauthenticated(
    samples: dict[str, Sample],
) -> None:
    for name, problem in (("extra-from-above", "multiple-from"),
                          ("extra-subject-above", "unsigned-above-signed")):  # fmt: skip
        sample = samples[name]
        verdict = dkim.message_verdict(dkim.verify(sample.message, records=sample.records))
        assert (verdict.status, verdict.problems) == ("fail", (problem,)), verdict.reason
    sample = samples["extra-subject-above"]
    [result] = dkim.verify(sample.message, records=sample.records)
    assert result.unsigned_instances == ("subject",)


@pytest.mark.skipif(not receivers.opendkim_available(), reason="libopendkim11 not installed")
def test_opendkim_strict_headers_refuses_a_second_from(samples: dict[str, Sample]) -> None:
    sample = samples["extra-from-above"]
    [(result, detail)] = receivers.opendkim_verify(
        sample.message, sample.records, strict_headers=True
    )
    assert (result, detail) == ("fail", "multiple From: header fields present")


@pytest.mark.skipif(not receivers.mail_dkim_available(), reason="Mail::DKIM not installed")
def test_mail_dkim_strict_mode_refuses_rsa_sha1(samples: dict[str, Sample]) -> None:
    sample = samples["rsa-sha1"]
    [(result, detail)] = receivers.mail_dkim_verify(sample.message, sample.records, strict=True)
    assert result == "invalid"
    assert "rsa-sha1" in detail


def test_l_passes_when_not_strict_like_the_receivers(samples: dict[str, Sample]) -> None:
    sample = samples["l-appended"]
    [result] = dkim.verify(sample.message, records=sample.records, strict=False)
    assert result.passed, result.reason
    assert any("l=" in note for note in result.notes)
