"""Tests for mimeseal.check.transforms: each step a message meets in transit, real signatures.

For every transformation there is a signature that survives it and, where one exists, one that
breaks: S/MIME made by ``mimeseal.smime.sign`` (development PKI from conftest) and DKIM made by
``mimeseal.dkim.sign``, both checked by mimeseal's verifiers after the transformation.
"""

from __future__ import annotations

import base64
import email.policy
import re
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import MESSAGE, DevPki
from mimeseal import dkim, smime
from mimeseal.check.profiles import PROFILES, SES
from mimeseal.check.transforms import TRANSFORMS, Transformation
from mimeseal.compose import Attachment, compose
from mimeseal.errors import MimesealError
from mimeseal.mime import encode_base64_lines, fold_header

Sign = Callable[..., bytes]
Ok = Callable[[bytes], bool]

HEAD, _, BODY = MESSAGE.partition(b"\r\n\r\n")
HEAD += b"\r\n"
#: 7bit text exactly as a careless sender writes it: trailing space, a "From " line, a "." line.
RAW_TEXT = HEAD + b"\r\nDear Bob,  \r\nFrom the desk of Alice\r\n.\r\nAlice\r\n"
EIGHT_BIT = (
    HEAD.replace(b"us-ascii", b"utf-8")
    + b"Content-Transfer-Encoding: 8bit\r\n\r\nGr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln\r\n"
)


def apply(transform_id: str, data: bytes) -> bytes:
    return TRANSFORMS[transform_id].apply(data)


@pytest.fixture(scope="module")
def dkim_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def dsign(dkim_key: rsa.RSAPrivateKey) -> Sign:
    def sign(message: bytes, c: str = "relaxed/relaxed", **options: object) -> bytes:
        header_c, body_c = c.split("/")
        return dkim.sign(
            message, key=dkim_key, domain="example.com", selector="sel",
            canonicalization=(header_c, body_c), **options,  # type: ignore[arg-type]
        )  # fmt: skip

    return sign


@pytest.fixture(scope="module")
def dkim_ok(dkim_key: rsa.RSAPrivateKey) -> Ok:
    """True when every example.com signature passes (SES's amazonses.com one is not ours)."""
    records = {"sel._domainkey.example.com": dkim.format_key_record(dkim_key.public_key())}

    def ok(message: bytes) -> bool:
        ours = [r for r in dkim.verify(message, records=records) if r.domain == "example.com"]
        return bool(ours) and all(r.passed for r in ours)

    return ok


@pytest.fixture
def ssign(rsa_pki: DevPki) -> Sign:
    def sign(message: bytes, **options: object) -> bytes:
        signer = rsa_pki.signer
        return smime.sign(message, key=signer.key, cert=signer.certificate, **options)  # type: ignore[arg-type]

    return sign


@pytest.fixture
def smime_ok(rsa_pki: DevPki) -> Ok:
    return lambda message: smime.verify(message, trust=rsa_pki.trust).valid


def composed(**options: object) -> bytes:
    """A message as mimeseal composes it: QP text ("=20" trailing space, "=46rom", "=2E")."""
    return compose(
        from_="Alice Example <alice@example.com>", to=["Bob <bob@example.org>"],
        subject="quarterly statement", text="Dear Bob,  \nFrom the desk of Alice\n.\n",
        **options,  # type: ignore[arg-type]
    )  # fmt: skip


def with_pdf() -> bytes:
    return composed(
        attachments=[Attachment("statement.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 8)]
    )


# --- the registry ------------------------------------------------------------------------------


def test_registry_has_exactly_the_profile_ids_in_profile_order() -> None:
    assert tuple(TRANSFORMS) == SES.transforms
    for profile in PROFILES.values():
        assert set(profile.transforms) <= set(TRANSFORMS)
    for key, transform in TRANSFORMS.items():
        assert isinstance(transform, Transformation)
        assert transform.id == key
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key)
        assert transform.title
        assert transform.source
    with pytest.raises(AttributeError):
        TRANSFORMS["lf-line-endings"].id = "x"  # type: ignore[misc]


@pytest.mark.parametrize("transform_id", list(TRANSFORMS))
def test_transformations_are_pure(transform_id: str, ssign: Sign, dsign: Sign) -> None:
    message = dsign(ssign(with_pdf()))
    before = bytes(message)
    assert apply(transform_id, message) == apply(transform_id, message)
    assert message == before


# --- lf-line-endings ---------------------------------------------------------------------------


def test_lf_line_endings_survives_only_because_verifiers_canonicalize(
    rsa_pki: DevPki, ssign: Sign, dsign: Sign, dkim_ok: Ok
) -> None:
    signed = dsign(ssign(MESSAGE))
    out = apply("lf-line-endings", signed)
    assert b"\r" not in out
    assert out.count(b"\n") == signed.count(b"\r\n")
    verdict = smime.verify(out, trust=rsa_pki.trust)
    assert verdict.valid
    assert verdict.canonicalized
    assert dkim_ok(out)
    assert not smime.verify(signed, trust=rsa_pki.trust).canonicalized


# --- Python's email package ----------------------------------------------------------------------

ROUND_TRIPS = ["email-policy-default", "email-policy-smtp", "email-compat32"]


@pytest.mark.parametrize("transform_id", ROUND_TRIPS)
@pytest.mark.parametrize("opaque", [False, True])
def test_round_trips_leave_mimeseal_signed_messages_byte_identical(
    transform_id: str, opaque: bool, ssign: Sign, dsign: Sign, smime_ok: Ok, dkim_ok: Ok
) -> None:
    for message in (MESSAGE, composed(html="<p>Dear Bob</p>\n"), with_pdf()):
        signed = dsign(ssign(message, opaque=opaque), c="simple/simple")
        out = apply(transform_id, signed)
        assert out == signed
        assert smime_ok(out)
        assert dkim_ok(out)


@pytest.mark.parametrize("transform_id", ROUND_TRIPS)
def test_round_trips_do_not_refold_multipart_signed_parts(
    transform_id: str, ssign: Sign, smime_ok: Ok
) -> None:
    """The generator turns header wrapping off inside multipart/signed (RFC 1847 §2.1)."""
    long_type = b'text/plain; charset=us-ascii; format=flowed; name="quarterly-statement-2026.txt"'
    signed = ssign(MESSAGE.replace(b"text/plain; charset=us-ascii", long_type))
    assert len(long_type) > 78
    assert apply(transform_id, signed) == signed


LONG_WORDS = b"Subject: " + b"quarterly statement " * 5 + b"end"
LONG_WORD = b"Subject: " + b"x" * 100
#: A header line of 84 columns, as compose() writes long non-ASCII subjects.
LONG_ENCODED = (
    b"Subject: =?utf-8?b?R3LDvMOfZSBhdXMgS8O2bG4gR3LDvMOfZSBhdXMgS8O2bG4gR3LDvMOfZSBh?=\r\n"
    b" =?utf-8?b?dXMgS8O2bG4gR3LDvMOfZSBhdXMgS8O2bG4g?="
)


@pytest.mark.parametrize(
    ("subject", "transform_id", "relaxed", "simple"),
    [
        (LONG_WORDS, "email-policy-default", True, False),
        (LONG_WORDS, "email-policy-smtp", True, False),
        (LONG_WORDS, "email-compat32", True, False),
        (LONG_WORD, "email-policy-default", False, False),  # re-encoded as encoded-words
        (LONG_WORD, "email-policy-smtp", False, False),
        (LONG_WORD, "email-compat32", True, False),  # only folded after "Subject:"
        (LONG_ENCODED, "email-policy-default", False, False),  # decoded, refolded as text
        (LONG_ENCODED, "email-policy-smtp", False, False),
        (LONG_ENCODED, "email-compat32", True, False),
    ],
)
def test_round_trips_refold_header_lines_over_78_columns(
    subject: bytes, transform_id: str, relaxed: bool, simple: bool, dsign: Sign, dkim_ok: Ok
) -> None:
    message = MESSAGE.replace(b"Subject: quarterly statement", subject)
    for c, survives in (("relaxed/relaxed", relaxed), ("simple/simple", simple)):
        signed = dsign(message, c=c)
        out = apply(transform_id, signed)
        assert out != signed
        assert dkim_ok(out) is survives, c


# --- header-refold-78 --------------------------------------------------------------------------


def test_header_refold_breaks_simple_header_canonicalization_only(dsign: Sign, dkim_ok: Ok) -> None:
    folded = MESSAGE.replace(b"Subject: quarterly statement", b"Subject: quarterly\r\n statement")
    relaxed, simple = dsign(folded), dsign(folded, c="simple/simple")
    assert b"Subject: quarterly statement\r\n" in apply("header-refold-78", relaxed)
    assert dkim_ok(apply("header-refold-78", relaxed))
    assert not dkim_ok(apply("header-refold-78", simple))


def test_header_refold_keeps_mimeseal_dkim_and_smime_headers_as_they_are(
    ssign: Sign, dsign: Sign, smime_ok: Ok, dkim_ok: Ok
) -> None:
    """mimeseal folds its own DKIM-Signature and Content-Type fields the way a refolder does."""
    signed = dsign(ssign(MESSAGE), c="simple/simple")
    assert apply("header-refold-78", signed) == signed
    assert smime_ok(signed)
    assert dkim_ok(signed)


def test_header_refold_touches_only_top_level_headers(ssign: Sign, smime_ok: Ok) -> None:
    opaque = ssign(MESSAGE.replace(b"Subject: quarterly statement", LONG_WORDS), opaque=True)
    out = apply("header-refold-78", opaque)
    assert out != opaque  # the folded Content-Type is joined, the long Subject folded
    assert max(len(line) for line in out.split(b"\r\n\r\n")[0].split(b"\r\n")) <= 78
    assert out.split(b"\r\n\r\n", 1)[1] == opaque.split(b"\r\n\r\n", 1)[1]
    assert smime_ok(out)


WORDS = st.lists(st.text("abcxyz<>@.;=", min_size=1, max_size=30), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(words=WORDS)
def test_header_refold_is_a_fixed_point_of_mimeseal_folding(words: list[str]) -> None:
    """A field folded by mimeseal.mime.fold_header (as compose and the signers do) stays put."""
    field = fold_header("Subject", " ".join(words))
    message = b"From: a@example.com\r\n" + field + b"\r\nbody\r\n"
    assert apply("header-refold-78", message) == message


def test_header_refold_folds_long_lines_and_joins_short_folds() -> None:
    message = (
        b"Subject: " + b"word " * 30 + b"x" * 90 + b" end\r\n"
        b"To: a@example.org,\r\n\tb@example.org\r\n\r\n  body  \r\n"
    )
    out = apply("header-refold-78", message)
    head, body = out.split(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert body == b"  body  \r\n"
    assert lines[-1] == b"To: a@example.org,\tb@example.org"
    assert all(len(line) <= 78 for line in lines if b"xxx" not in line)
    assert b" " + b"x" * 90 in lines
    assert re.sub(rb"\r\n(?=[ \t])", b"", out) == re.sub(rb"\r\n(?=[ \t])", b"", message)


# --- strip-trailing-whitespace -------------------------------------------------------------------


def test_strip_trailing_whitespace_breaks_raw_text(
    ssign: Sign, dsign: Sign, smime_ok: Ok, dkim_ok: Ok
) -> None:
    assert not dkim_ok(apply("strip-trailing-whitespace", dsign(RAW_TEXT, c="simple/simple")))
    assert not smime_ok(apply("strip-trailing-whitespace", ssign(RAW_TEXT)))
    assert dkim_ok(apply("strip-trailing-whitespace", dsign(RAW_TEXT)))  # relaxed body


def test_strip_trailing_whitespace_leaves_composed_messages_alone(
    ssign: Sign, dsign: Sign, smime_ok: Ok, dkim_ok: Ok
) -> None:
    message = composed()
    assert b"Dear Bob, =20\r\n" in message
    signed = dsign(ssign(message), c="simple/simple")
    out = apply("strip-trailing-whitespace", signed)
    assert out == signed
    assert smime_ok(out)
    assert dkim_ok(out)


# --- downgrade-8bit-to-qp ------------------------------------------------------------------------


@pytest.mark.parametrize("c", ["relaxed/relaxed", "simple/simple"])
def test_downgrade_breaks_dkim_over_an_8bit_body(c: str, dsign: Sign, dkim_ok: Ok) -> None:
    signed = dsign(EIGHT_BIT, c=c)
    out = apply("downgrade-8bit-to-qp", signed)
    assert out.isascii()
    assert b"Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe" in out
    assert b"Content-Transfer-Encoding: 8bit" not in out
    assert not dkim_ok(out)


def test_downgrade_is_a_no_op_on_7bit_messages(
    ssign: Sign, dsign: Sign, smime_ok: Ok, dkim_ok: Ok
) -> None:
    for message in (MESSAGE, RAW_TEXT, with_pdf()):
        signed = dsign(ssign(message), c="simple/simple")
        assert apply("downgrade-8bit-to-qp", signed) == signed
    signed = dsign(ssign(EIGHT_BIT))  # S/MIME re-encodes 8bit text before it signs
    out = apply("downgrade-8bit-to-qp", signed)
    assert out == signed
    assert smime_ok(out)
    assert dkim_ok(out)


def test_downgrade_rewrites_only_8bit_parts() -> None:
    message = (
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=xyz\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\npreamble\r\n"
        b"--xyz\r\nContent-Type: text/plain\r\n\r\nplain  \r\n"
        b"--xyz \r\nContent-Type: text/plain; charset=utf-8\r\n\r\nK\xc3\xb6ln\r\n"
        b"--xyz\r\nContent-Type: message/rfc822\r\n\r\n"
        b"Subject: inner\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xe9\r\n"
        b"--xyz--\r\nepilogue\r\n"
    )
    out = apply("downgrade-8bit-to-qp", message)
    assert out == (
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=xyz\r\n"
        b"Content-Transfer-Encoding: 7bit\r\n\r\npreamble\r\n"
        b"--xyz\r\nContent-Type: text/plain\r\n\r\nplain  \r\n"
        b"--xyz \r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nK=C3=B6ln\r\n"
        b"--xyz\r\nContent-Type: message/rfc822\r\n\r\n"
        b"Subject: inner\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9\r\n"
        b"--xyz--\r\nepilogue\r\n"
    )


def test_base64_rewrap_keeps_delimiters_preamble_and_epilogue() -> None:
    payload = bytes(range(200))
    b76 = encode_base64_lines(payload)
    message = (
        b'Content-Type: multipart/mixed; boundary="b b"\r\n\r\npreamble\r\n--b b\t\r\n'
        b"Content-Type: text/plain\r\n\r\nQUJD\r\n--b b\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b76 + b"--b b--\r\nepilogue"
    )
    out = apply("base64-rewrap", message)
    b64 = base64.b64encode(payload)
    b64_lines = b"\r\n".join(b64[i : i + 64] for i in range(0, len(b64), 64)) + b"\r\n"
    assert out == message.replace(b76, b64_lines)
    corrupt = message.replace(b76[:8], b"!!not b64")
    assert apply("base64-rewrap", corrupt) == corrupt


# --- from-escaping -----------------------------------------------------------------------------


def test_from_escaping_breaks_raw_from_lines(
    ssign: Sign, dsign: Sign, smime_ok: Ok, dkim_ok: Ok
) -> None:
    for c in ("relaxed/relaxed", "simple/simple"):
        out = apply("from-escaping", dsign(RAW_TEXT, c=c))
        assert b"\r\n>From the desk" in out
        assert not dkim_ok(out)
    assert not smime_ok(apply("from-escaping", ssign(RAW_TEXT)))


def test_from_escaping_leaves_composed_messages_and_headers_alone(
    ssign: Sign, dsign: Sign, smime_ok: Ok, dkim_ok: Ok
) -> None:
    signed = dsign(ssign(composed()), c="simple/simple")
    assert b"\r\n=46rom the desk" in signed
    out = apply("from-escaping", signed)
    assert out == signed
    assert smime_ok(out)
    assert dkim_ok(out)
    assert apply("from-escaping", b"From x\r\n\r\nbody\r\n") == b"From x\r\n\r\nbody\r\n"


# --- smtp-dot-stuffing -------------------------------------------------------------------------


def test_dot_stuffing_is_a_no_op_on_messages_ending_in_crlf(
    ssign: Sign, dsign: Sign, smime_ok: Ok, dkim_ok: Ok
) -> None:
    for message in (RAW_TEXT, composed(), b".leading\n..two\nlf only\r\n"):
        assert apply("smtp-dot-stuffing", message) == message
    signed = dsign(ssign(RAW_TEXT), c="simple/simple")
    assert b"\r\n.\r\n" in signed
    out = apply("smtp-dot-stuffing", signed)
    assert out == signed
    assert smime_ok(out)
    assert dkim_ok(out)


@pytest.mark.parametrize("c", ["relaxed/relaxed", "simple/simple"])
def test_dot_stuffing_appends_the_final_crlf_which_dkim_tolerates(
    c: str, dsign: Sign, dkim_ok: Ok
) -> None:
    """RFC 6376 §3.4.3/§3.4.4 add a missing final CRLF when canonicalizing."""
    signed = dsign(MESSAGE.removesuffix(b"\r\n"), c=c)
    out = apply("smtp-dot-stuffing", signed)
    assert out == signed + b"\r\n"
    assert dkim_ok(out)


# --- base64-rewrap -----------------------------------------------------------------------------


def test_base64_rewrap_breaks_dkim_but_not_the_smime_signature_part(
    ssign: Sign, dsign: Sign, smime_ok: Ok, dkim_ok: Ok
) -> None:
    signed = dsign(ssign(MESSAGE))
    out = apply("base64-rewrap", signed)
    assert out != signed
    assert smime_ok(out)  # the signature part is outside what it signs
    assert not dkim_ok(out)  # body hash
    body = out.split(b"\r\n\r\n", 1)[1]
    b64_lines = [
        line for line in body.split(b"\r\n") if re.fullmatch(rb"[A-Za-z0-9+/=]{40,}", line)
    ]
    assert b64_lines
    assert max(map(len, b64_lines)) == 64


def test_base64_rewrap_breaks_smime_over_a_base64_attachment(ssign: Sign, smime_ok: Ok) -> None:
    signed = ssign(with_pdf())
    assert smime_ok(signed)
    assert not smime_ok(apply("base64-rewrap", signed))


def test_base64_rewrap_keeps_opaque_smime_valid(ssign: Sign, dsign: Sign, smime_ok: Ok) -> None:
    signed = ssign(with_pdf(), opaque=True)
    out = apply("base64-rewrap", signed)
    assert out != signed
    assert smime_ok(out)


def test_base64_rewrap_leaves_messages_without_base64_alone(dsign: Sign, dkim_ok: Ok) -> None:
    signed = dsign(composed(), c="simple/simple")
    out = apply("base64-rewrap", signed)
    assert out == signed
    assert dkim_ok(out)


# --- headers-added-on-top ----------------------------------------------------------------------


@pytest.mark.parametrize("c", ["relaxed/relaxed", "simple/simple"])
def test_headers_added_on_top_break_nothing(
    c: str, ssign: Sign, dsign: Sign, smime_ok: Ok, dkim_ok: Ok
) -> None:
    signed = dsign(ssign(MESSAGE), c=c)
    out = apply("headers-added-on-top", signed)
    assert out.startswith(b"Return-Path: <")
    assert out.endswith(signed)
    assert b"\r\nReceived: from " in out
    assert smime_ok(out)
    assert dkim_ok(out)
    lf = apply("headers-added-on-top", b"Subject: x\n\nbody\n")
    assert b"\r" not in lf


# --- ses-transit -------------------------------------------------------------------------------


def test_ses_transit_breaks_dkim_over_message_id_and_date(dsign: Sign, dkim_ok: Ok) -> None:
    for c in ("relaxed/relaxed", "simple/simple"):
        assert not dkim_ok(apply("ses-transit", dsign(MESSAGE, c=c)))
    only_date = dsign(MESSAGE, headers=["from", "to", "subject", "date"])
    assert not dkim_ok(apply("ses-transit", only_date))


@pytest.mark.parametrize("c", ["relaxed/relaxed", "simple/simple"])
def test_ses_transit_keeps_ses_profile_dkim_and_smime(
    c: str, ssign: Sign, dsign: Sign, smime_ok: Ok, dkim_ok: Ok
) -> None:
    message = MESSAGE.replace(
        b"MIME-Version:",
        b"X-SES-CONFIGURATION-SET: tx\r\nX-SES-SOURCE-ARN: arn:aws:ses:x\r\nMIME-Version:",
    )
    signed = dsign(ssign(message), c=c, profile="ses")
    out = apply("ses-transit", signed)
    assert smime_ok(out)
    assert dkim_ok(out)
    assert out.startswith(b"DKIM-Signature: v=1; a=rsa-sha256;")
    assert b"d=amazonses.com;" in out.split(b"\r\n\r\n")[0]
    assert b"X-SES-SOURCE-ARN" not in out
    assert b"X-SES-CONFIGURATION-SET: tx" in out
    assert b"<statement-1@example.com>" not in out
    assert re.search(rb"\r\nMessage-ID: <0100[0-9a-f-]+-000000@email\.amazonses\.com>\r\n", out)
    heads = [line.split(b":")[0] for line in out.split(b"\r\n\r\n")[0].split(b"\r\n")]
    assert heads.index(b"Date") < heads.index(b"Message-ID") < heads.index(b"MIME-Version")


def test_ses_transit_adds_missing_message_id_and_date() -> None:
    out = apply("ses-transit", b"From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n")
    head, body = out.split(b"\r\n\r\n")
    assert body == b"body\r\n"
    assert head.split(b"\r\n")[-2].startswith(b"Message-ID: <0100")
    assert head.split(b"\r\n")[-1].startswith(b"Date: ")


# --- arbitrary input ---------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        b"Content-Type: multipart/mixed; boundary=b\r\n", b"Content-Type: message/rfc822\r\n",
        b"Content-Transfer-Encoding: 8bit\r\n", b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Type: text/plain; charset=\"x\r\n", b"\r\n", b"\n", b"\r", b"--b\r\n", b"--b--",
        b"--b", b"QUJD\r\n", b"QQ=\r\n", b"From here\r\n", b".\r\n", b" folded\r\n", b"\t",
        b"Subject: " + b"w " * 50 + b"\r\n", b"Message-ID: <a@b>\r\n", b"Date: x\r\n",
        b"\xff\xfe", b"=?utf-8?b?w6k=?=", b":", b"X-SES-FROM-ARN: y\r\n",
    ]
)  # fmt: skip
MIME_LIKE = st.lists(FRAGMENTS | st.binary(max_size=20), max_size=30).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(data=st.one_of(st.binary(max_size=400), MIME_LIKE))
def test_arbitrary_bytes_give_bytes_or_a_mimeseal_error(data: bytes) -> None:
    for transform in TRANSFORMS.values():
        try:
            out = transform.apply(data)
        except MimesealError:
            continue
        assert isinstance(out, bytes)


@pytest.mark.parametrize(
    "transform", ["email-policy-default", "email-policy-smtp", "email-compat32"]
)
def test_large_bodies_stand_in_gives_the_same_bytes_as_the_full_round_trip(
    transform: str,
) -> None:
    """Large bodies are swapped for tokens around the email round trip, only for speed."""
    from mimeseal import compose
    from mimeseal.check import transforms

    message = compose.compose(
        from_="alice@example.com",
        to=["bob@example.org"],
        subject="a long subject line that the email package will want to fold somewhere",
        text="body line\n" * 20_000,
        attachments=[compose.Attachment("data.bin", bytes(range(256)) * 1000)],
    )
    assert len(transforms._large_bodies(message)) == 2
    policy = {"email-policy-default": email.policy.default, "email-policy-smtp": email.policy.SMTP}
    full = transforms._serialize(message, policy.get(transform))
    assert TRANSFORMS[transform].apply(message) == full


@pytest.mark.parametrize("transform_id", ["email-policy-default", "email-policy-smtp"])
def test_a_long_mime_parameter_name_is_refused_not_looped_on(transform_id: str) -> None:
    """The stdlib's _fold_mime_parameters never returns on a parameter name of ~60+ characters
    (found by fuzz/run.py); the policy round trips refuse such a message instead."""
    message = HEAD + b"Content-Disposition: attachment;" + b"a" * 100 + b"=x\r\n\r\nbody\r\n"
    with pytest.raises(MimesealError, match="loops forever"):
        TRANSFORMS[transform_id].apply(message)
    assert TRANSFORMS["email-compat32"].apply(message)  # compat32 folds differently: fine
    short = message.replace(b"a" * 100, b"a" * 40)
    assert b"x" in TRANSFORMS[transform_id].apply(short)
