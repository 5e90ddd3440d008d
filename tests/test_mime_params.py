"""mimeseal.mime_params: the strict Content-Type reading that structural fields must pass."""

from __future__ import annotations

import pytest

from mimeseal.mime import parse_content_type
from mimeseal.mime_params import strict_parameters, structure_disagreements, unfolded_value


def test_plain_values_are_read_as_the_lenient_parser_reads_them() -> None:
    value = (
        b'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;'
        b'\t boundary="{EAD5-F12C}";'
    )
    assert strict_parameters(value) == (
        "multipart/signed",
        {"protocol": "application/pkcs7-signature", "micalg": "sha-256", "boundary": "{EAD5-F12C}"},
    )
    assert structure_disagreements(value, parse_content_type(value.decode())) == []


def test_unfolding_keeps_the_octets() -> None:
    assert unfolded_value(b"Content-Type: multipart/mixed;\r\n boundary=x\r\n") == (
        b"multipart/mixed; boundary=x"
    )


@pytest.mark.parametrize(
    "value",
    [
        b'multipart/signed; boundary="abc "',  # a trailing space: readers strip it
        b"multipart/signed; boundary=abc (comment)",
        b"multipart/signed; boundary=abc def",
        b'multipart/signed; boundary="abc"x',
        b"multipart/signed; boundary*0=ab; boundary*1=c",
        b'multipart/signed; boundary="=?utf-8?q?abc?="',
        'multipart/signed; boundary="éx"'.encode(),
        b"multipart/signed",  # no boundary at all
        b'multipart/signed; boundary=""',
    ],
)
def test_what_parsers_read_differently_is_reported(value: bytes) -> None:
    lenient = parse_content_type(value.decode("utf-8"))
    assert structure_disagreements(value, lenient)


def test_a_long_hostile_value_is_linear() -> None:
    value = b"multipart/mixed; " + b"(" * 60_000
    assert strict_parameters(value) is None
