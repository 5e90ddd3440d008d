"""smime.protection: header protection (RFC 9788), the signed From and outer fields that differ."""

from __future__ import annotations

import pytest

from conftest import DevPki, multipart_signed
from mimeseal import cms, smime

OUTER = b"From: Alice Example <alice@example.com>\r\nTo: bob@example.org\r\nSubject: statement\r\n"
BODY = b"\r\nPay invoice 42 by Friday.\r\n"


def _message(dev: DevPki, protected: bytes, outer: bytes = OUTER) -> bytes:
    entity = b'Content-Type: text/plain; charset=us-ascii; hp="clear"\r\n' + protected + BODY
    der = cms.build_signed_data(entity, key=dev.signer.key, cert=dev.signer.certificate)
    return multipart_signed(outer, entity, der)


def _problems(dev: DevPki, message: bytes) -> dict[str, str]:
    verdict = smime.verify(message, trust=dev.trust)
    return {p.code: p.severity for p in verdict.all_problems()}


def test_protected_headers_that_match_are_listed(rsa_pki: DevPki) -> None:
    message = _message(
        rsa_pki, b"From: alice@example.com\r\nTo: bob@example.org\r\nSubject: statement\r\n"
    )
    verdict = smime.verify(message, trust=rsa_pki.trust)
    assert verdict.valid, verdict.all_problems()
    listed = [p for p in verdict.all_problems() if p.code == "protected-headers"]
    assert "From, Subject, To" in listed[0].message


def test_an_outer_subject_that_differs_is_reported(rsa_pki: DevPki) -> None:
    message = _message(rsa_pki, b"From: alice@example.com\r\nSubject: your statement\r\n")
    found = _problems(rsa_pki, message)
    assert found["outer-header-differs"] == "warning"


def test_an_encoded_subject_equal_to_the_outer_one_is_not_a_difference(rsa_pki: DevPki) -> None:
    protected = b"From: Alice Example <alice@example.com>\r\nSubject: =?utf-8?q?statement?=\r\n"
    assert "outer-header-differs" not in _problems(rsa_pki, _message(rsa_pki, protected))


def test_an_outer_display_name_that_differs_is_reported(rsa_pki: DevPki) -> None:
    """The address matches, but a reader shows the outer, unsigned name."""
    found = _problems(rsa_pki, _message(rsa_pki, b"From: Alice <alice@example.com>\r\n"))
    assert found["outer-header-differs"] == "warning"


@pytest.mark.parametrize(
    ("protected", "code"),
    [
        (b"From: mallory@example.net\r\n", "protected-from-mismatch"),
        (b"From: alice@example.com, mallory@example.net\r\n", "protected-multiple-from"),
        (b"From: alice@example.com\r\nFrom: mallory@example.net\r\n", "protected-multiple-from"),
    ],
)
def test_a_signed_from_that_is_not_the_signer_is_an_error(
    rsa_pki: DevPki, protected: bytes, code: str
) -> None:
    verdict = smime.verify(_message(rsa_pki, protected), trust=rsa_pki.trust)
    assert not verdict.valid
    assert code in {p.code for p in verdict.all_problems() if p.is_error}


def test_an_outer_from_that_is_not_the_signed_one_is_an_error(rsa_pki: DevPki) -> None:
    outer = OUTER.replace(b"alice@example.com", b"alice@example.net")
    verdict = smime.verify(
        _message(rsa_pki, b"From: alice@example.com\r\n", outer), trust=rsa_pki.trust
    )
    assert "protected-from-differs" in {p.code for p in verdict.all_problems() if p.is_error}


def test_declared_protection_without_from_is_a_warning(rsa_pki: DevPki) -> None:
    found = _problems(rsa_pki, _message(rsa_pki, b"Subject: statement\r\n"))
    assert found["protected-headers-without-from"] == "warning"


def test_no_protection_no_findings(rsa_pki: DevPki) -> None:
    entity = b"Content-Type: text/plain\r\n" + BODY
    der = cms.build_signed_data(entity, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate)
    verdict = smime.verify(multipart_signed(OUTER, entity, der), trust=rsa_pki.trust)
    assert not {p.code for p in verdict.all_problems()} & {
        "protected-headers",
        "outer-header-differs",
    }
