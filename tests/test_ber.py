"""mimeseal.ber: offsets, indefinite lengths, chunked strings, and bounds on hostile input."""

from __future__ import annotations

import time

import pytest
from asn1crypto import core

from mimeseal import ber
from mimeseal.errors import CmsError


def test_definite_sequence_offsets() -> None:
    data = core.Sequence.load(bytes.fromhex("3006020101040161")).dump()
    root = ber.parse(data, max_elements=10)
    assert (root.tag, root.start, root.content_start, root.end) == (0x30, 0, 2, 8)
    assert ber.integer(data, root.children[0]) == 1
    assert ber.octets(data, root.children[1]) == b"a"


def test_indefinite_lengths_and_constructed_octet_strings() -> None:
    """What Outlook and `openssl -stream` write: 0x80 lengths, content in segments."""
    data = bytes.fromhex("308024800402abcd24800401ef0000000006032a03040000")
    root = ber.parse(data, max_elements=20)
    assert root.indefinite
    assert root.end == len(data)
    string, identifier = root.children
    assert ber.octets(data, string) == bytes.fromhex("abcdef")
    assert ber.string_length(string) == 3
    assert ber.oid(data, identifier) == "1.2.3.4"


def test_as_set_of_keeps_the_content_octets() -> None:
    data = bytes.fromhex("a006300406022a03")
    root = ber.parse(data, max_elements=10)
    assert ber.as_set_of(data, root) == bytes.fromhex("3106300406022a03")


@pytest.mark.parametrize(
    "hex_data",
    [
        "30",  # cut off
        "3005020101",  # longer than the input
        "0480",  # indefinite primitive
        "3080020101",  # no end-of-contents
        "1f2100",  # high tag number
        "300302010100",  # trailing octet
        "2403020101",  # a segment of an OCTET STRING that is an INTEGER
        "3089ffffffffffffffffff",  # a 9-octet length
    ],
)
def test_malformed_input_is_a_cms_error(hex_data: str) -> None:
    data = bytes.fromhex(hex_data)
    with pytest.raises(CmsError, match="malformed"):
        _read_all(data)


def _read_all(data: bytes) -> bytes:
    root = ber.parse(data, max_elements=100)
    return ber.octets(data, root)  # a string's segments are checked when it is read


def test_deep_nesting_and_element_counts_are_bounded() -> None:
    with pytest.raises(CmsError, match="nested"):
        ber.parse(b"\x30\x80" * 100_000 + b"\x00\x00" * 100_000, max_elements=10**6)
    many = b"\x24\x80" + b"\x04\x01x" * 200_000 + b"\x00\x00"
    with pytest.raises(ber.ElementBudgetError):
        ber.parse(many, max_elements=1000)
    started = time.perf_counter()
    assert ber.octets(many, ber.parse(many, max_elements=10**6)) == b"x" * 200_000
    assert time.perf_counter() - started < 5  # linear: 200,000 one-octet segments
