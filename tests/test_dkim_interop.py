"""Interop with dkimpy, the reference receiver (DESIGN.md §4).

Every signature mimeseal makes verifies in dkimpy, and mimeseal verifies every signature
dkimpy makes, for rsa-sha256 (2048-bit) and ed25519-sha256 under three canonicalizations
over a set of awkward messages. The one place they disagree is dkimpy's relaxed-body bug
(trailing whitespace on a last line without CRLF); that is asserted, not skipped.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from email.header import Header

import dkim as dkimpy
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from conftest import MESSAGE, DevPki
from mimeseal import dkim, smime
from mimeseal.dkim.canonicalize import Canonicalization
from mimeseal.dkim.signing import DkimKey
from mimeseal.errors import MimesealError
from mimeseal.mime import has_bare_line_ends

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
