"""Tests for mimeseal.mime: the byte-level helpers every signing stage relies on."""

from __future__ import annotations

import base64
import contextlib
import quopri
import re
import secrets
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mimeseal import mime
from mimeseal.errors import HeaderInjectionError, LimitError, MessageError, MimesealError
from mimeseal.limits import DEPTH_CEILING, Limits

LINE_ENDS = (b"\r\n", b"\r", b"\n")


def naive_has_long_line(data: bytes, limit: int = mime.MAX_LINE) -> bool:
    return max(len(line) for line in re.split(rb"\r\n|\r|\n", data)) > limit


def decoded_body(entity: bytes) -> bytes:
    """The body of ``entity`` decoded from its Content-Transfer-Encoding."""
    block, body = mime.split_message(entity)
    cte = mime.first_header(mime.parse_headers(block), "Content-Transfer-Encoding")
    return mime.decode_transfer_encoding(body, cte)


def unfolded_value(name: str, field: bytes) -> str:
    """Undo RFC 5322 folding (remove each CRLF) and take the value after "Name:" and one space."""
    unfolded = field.replace(b"\r\n", b"").decode("ascii")
    prefix = f"{name}:"
    assert unfolded.startswith(prefix)
    return unfolded[len(prefix) :].removeprefix(" ")


def header_names(entity: bytes) -> list[str]:
    return [h.name.lower() for h in mime.parse_headers(mime.split_message(entity)[0])]


# --------------------------------------------------------------------------- line ends


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a\nb\n", b"a\r\nb\r\n"),
        (b"a\rb\r", b"a\r\nb\r\n"),
        (b"a\r\nb\nc\rd", b"a\r\nb\r\nc\r\nd"),
        (b"\n\r", b"\r\n\r\n"),  # LF then CR: two bare line ends, not one CRLF
        (b"\r\r\n", b"\r\n\r\n"),
        (b"\r\n\n", b"\r\n\r\n"),
        (b"\n\n\n", b"\r\n\r\n\r\n"),
        (b"\r", b"\r\n"),
        (b"\n", b"\r\n"),
    ],
)
def test_to_crlf_converts_bare_line_ends(data: bytes, expected: bytes) -> None:
    assert mime.to_crlf(data) == expected
    assert not mime.has_bare_line_ends(mime.to_crlf(data))


@pytest.mark.parametrize("data", [b"", b"no line end", b"a\r\nb\r\n", b"\r\n\r\n", b"x" * 5000])
def test_to_crlf_returns_canonical_input_unchanged(data: bytes) -> None:
    # Build a fresh object so that identity is meaningful (not an interned literal).
    original = bytes(bytearray(data))
    result = mime.to_crlf(original)
    assert result is original
    assert result == data


@given(st.binary(max_size=200))
def test_to_crlf_is_idempotent_and_keeps_non_line_end_bytes(data: bytes) -> None:
    once = mime.to_crlf(data)
    assert mime.to_crlf(once) == once
    assert not mime.has_bare_line_ends(once)
    assert once.replace(b"\r", b"").replace(b"\n", b"") == (
        data.replace(b"\r", b"").replace(b"\n", b"")
    )
    assert once.count(b"\r\n") == len(re.findall(rb"\r\n|\r|\n", data))


@pytest.mark.parametrize(
    ("data", "bare"),
    [
        (b"", False),
        (b"plain", False),
        (b"a\r\nb\r\n", False),
        (b"\r\n", False),
        (b"a\nb", True),
        (b"a\rb", True),
        (b"\n\r", True),
        (b"\r\r\n", True),
        (b"\r\n\n", True),
        (b"a\r\nb\r", True),
    ],
)
def test_has_bare_line_ends(data: bytes, bare: bool) -> None:
    assert mime.has_bare_line_ends(data) is bare


@given(st.binary(max_size=100))
def test_has_bare_line_ends_matches_regex(data: bytes) -> None:
    expected = re.search(rb"\r(?!\n)|(?<!\r)\n", data) is not None
    assert mime.has_bare_line_ends(data) is expected


# --------------------------------------------------------------------------- long lines


def _x(n: int) -> bytes:
    return b"x" * n


@pytest.mark.parametrize("end", LINE_ENDS)
@pytest.mark.parametrize(("length", "long"), [(997, False), (998, False), (999, True)])
def test_has_long_line_boundary_with_each_line_end(end: bytes, length: int, long: bool) -> None:
    assert mime.has_long_line(_x(length) + end) is long
    assert mime.has_long_line(_x(length) + end + b"short" + end) is long
    assert mime.has_long_line(b"short" + end + _x(length)) is long  # last line, no line end
    assert mime.has_long_line(end + _x(length) + end) is long  # after a leading line end
    assert mime.has_long_line(end * 700 + _x(length)) is long


@pytest.mark.parametrize(("length", "long"), [(0, False), (998, False), (999, True), (5000, True)])
def test_has_long_line_without_any_line_end(length: int, long: bool) -> None:
    assert mime.has_long_line(_x(length)) is long


@pytest.mark.parametrize("end", LINE_ENDS)
def test_has_long_line_at_start_and_end(end: bytes) -> None:
    short_lines = (b"y" * 70 + end) * 40
    assert mime.has_long_line(_x(999) + end + short_lines)
    assert mime.has_long_line(short_lines + _x(999))
    assert mime.has_long_line(short_lines + _x(999) + end)
    assert not mime.has_long_line(_x(998) + end + short_lines + _x(998))


def test_has_long_line_counts_octets_not_line_end_pairs() -> None:
    # 998 octets then a lone CR then 998 octets: two legal lines, not one of 1997.
    assert not mime.has_long_line(_x(998) + b"\r" + _x(998))
    # Many line ends in a row must not hide a long line sitting on a probe position.
    assert mime.has_long_line(b"\n" * 999 + _x(999))
    assert not mime.has_long_line(b"\r\n" * 1000)


def test_has_long_line_custom_limit() -> None:
    assert mime.has_long_line(b"abcd\r\nabcdef", limit=5)
    assert not mime.has_long_line(b"abcde\r\nabcde", limit=5)


_runs = st.one_of(
    st.sampled_from([997, 998, 999, 1000, 1997, 1998, 1999]).map(_x),
    st.integers(0, 2500).map(_x),
    st.sampled_from(LINE_ENDS),
    st.lists(st.sampled_from(LINE_ENDS), max_size=4).map(b"".join),
    st.binary(max_size=10),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_runs, max_size=10).map(b"".join))
def test_has_long_line_matches_naive_split(data: bytes) -> None:
    assert mime.has_long_line(data) is naive_has_long_line(data)


@settings(max_examples=500)
@given(
    st.lists(
        st.one_of(st.sampled_from(LINE_ENDS), st.integers(0, 12).map(_x), st.binary(max_size=6)),
        max_size=15,
    ).map(b"".join),
    st.integers(0, 8),
)
def test_has_long_line_matches_naive_split_small_limits(data: bytes, limit: int) -> None:
    # Small limits put a probe position every few bytes, exercising every edge of the search.
    assert mime.has_long_line(data, limit) is naive_has_long_line(data, limit)


def test_longest_line() -> None:
    assert mime.longest_line(b"") == 0
    assert mime.longest_line(b"ab\r\nabcd\rabc\nx") == 4


# --------------------------------------------------------------------------- transport safety


@pytest.mark.parametrize(
    ("data", "safe"),
    [
        (b"", True),
        (b"Subject: hi\r\n\r\nbody\r\n", True),
        (_x(998) + b"\r\n", True),
        (_x(999) + b"\r\n", False),
        (b"body\n", False),
        (b"body\r", False),
        (b"caf\xc3\xa9\r\n", False),
        (b"nul\x00\r\n", False),
        (b"\x7f\x01\x1b\t ok\r\n", True),  # control characters are 7-bit; only NUL is refused
    ],
)
def test_is_transport_safe(data: bytes, safe: bool) -> None:
    assert mime.is_transport_safe(data) is safe


# --------------------------------------------------------------------------- header block


@pytest.mark.parametrize(
    ("message", "block", "body"),
    [
        (b"A: 1\r\nB: 2\r\n\r\nbody\r\n", b"A: 1\r\nB: 2\r\n", b"body\r\n"),
        (b"A: 1\nB: 2\n\nbody\n", b"A: 1\nB: 2\n", b"body\n"),
        (b"A: 1\r\n\r\n\r\nbody", b"A: 1\r\n", b"\r\nbody"),  # body may start with a blank line
        (b"A: 1\r\n", b"A: 1\r\n", b""),
        (b"A: 1\r\n\r\n", b"A: 1\r\n", b""),
        (b"A: 1", b"A: 1", b""),
        (b"\r\nbody\r\n", b"", b"body\r\n"),
        (b"\nbody\n", b"", b"body\n"),
        (b"\r\n\r\nbody", b"", b"\r\nbody"),
        (b"A: 1\r\n\nbody", b"A: 1\r\n", b"body"),
    ],
)
def test_split_message(message: bytes, block: bytes, body: bytes) -> None:
    assert mime.split_message(message) == (block, body)


def test_split_message_body_blank_lines_do_not_move_the_split() -> None:
    message = b"A: 1\r\nB: 2\r\n\r\nline\n\nmore\r\n\r\nend"
    assert mime.split_message(message) == (b"A: 1\r\nB: 2\r\n", b"line\n\nmore\r\n\r\nend")


def test_parse_headers_keeps_folded_fields_byte_for_byte() -> None:
    block = (
        b"Subject: a long\r\n  subject\r\n\tline\r\n"
        b"To: bob@example.org,\r\n carol@example.org\r\n"
        b"X-Empty:\r\n"
        b"x-lower: v\r\n"
    )
    headers = mime.parse_headers(block)
    assert [h.name for h in headers] == ["Subject", "To", "X-Empty", "x-lower"]
    assert b"".join(h.raw for h in headers) == block
    assert headers[0].raw == b"Subject: a long\r\n  subject\r\n\tline\r\n"
    assert headers[0].value == "a long  subject\tline"
    assert headers[1].value == "bob@example.org, carol@example.org"
    assert headers[2].value == ""
    assert headers[3].is_named("X-LOWER")
    assert not headers[3].is_named("x-low")
    assert mime.header_values(headers, "subject") == ["a long  subject\tline"]
    assert mime.first_header(headers, "X-Missing") is None


def test_parse_headers_lf_block() -> None:
    block = b"Subject: a\n b\nTo: x\n"
    headers = mime.parse_headers(block)
    assert [h.raw for h in headers] == [b"Subject: a\n b\n", b"To: x\n"]
    assert headers[0].value == "a b"


def test_parse_headers_repeated_fields_in_order() -> None:
    headers = mime.parse_headers(b"Received: one\r\nReceived: two\r\nreceived: three\r\n")
    assert mime.header_values(headers, "Received") == ["one", "two", "three"]
    assert mime.first_header(headers, "RECEIVED") == "one"


@pytest.mark.parametrize(
    "block",
    [
        b"Subject: ok\r\nthis line has no colon\r\n",
        b"Bad Name: value\r\n",
        b": no name\r\n",
        b"Na\xffme: value\r\n",
        b"Subject: ok\r\n--boundary\r\n",
    ],
)
def test_parse_headers_rejects_malformed_lines(block: bytes) -> None:
    with pytest.raises(MessageError, match="not a header field"):
        mime.parse_headers(block)


@pytest.mark.parametrize("block", [b" continued\r\nSubject: x\r\n", b"\tx\r\n"])
def test_parse_headers_rejects_leading_continuation(block: bytes) -> None:
    with pytest.raises(MessageError, match="continuation"):
        mime.parse_headers(block)


@given(st.binary(max_size=200))
def test_parse_headers_raises_only_message_error(block: bytes) -> None:
    try:
        headers = mime.parse_headers(block)
    except MessageError:
        return
    for header in headers:
        assert isinstance(header.value, str)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"Subject: hello\r\n", "hello"),
        (b"Subject:hello\r\n", "hello"),
        (b"Subject:   padded   \r\n", "padded"),
        (b"Subject: a:b: c\r\n", "a:b: c"),
        (b"Subject: a\r\n b\r\n", "a b"),
        (b"Subject: a\r\n\tb\r\n", "a\tb"),
        (b"Subject: a\n b\n", "a b"),
        (b"Subject:\r\n", ""),
        (b"Subject: caf\xc3\xa9\r\n", "caf\ufffd\ufffd"),
    ],
)
def test_raw_header_value(raw: bytes, value: str) -> None:
    assert mime.RawHeader("Subject", raw).value == value


# --------------------------------------------------------------------------- content type


def test_parse_content_type_params() -> None:
    ctype = mime.parse_content_type('Text/HTML; CharSet="UTF-8"; format=flowed')
    assert ctype.type == "text/html"
    assert ctype.maintype == "text"
    assert not ctype.is_multipart
    assert ctype.params == {"charset": "UTF-8", "format": "flowed"}
    assert ctype.param("CHARSET") == "UTF-8"
    assert ctype.param("missing") is None


def test_parse_content_type_quoted_boundary() -> None:
    ctype = mime.parse_content_type(
        'multipart/signed; protocol="application/pkcs7-signature";\r\n'
        ' micalg=sha-256; boundary="=_a b;c=d"'
    )
    assert ctype.type == "multipart/signed"
    assert ctype.is_multipart
    assert ctype.param("boundary") == "=_a b;c=d"
    assert ctype.param("protocol") == "application/pkcs7-signature"
    assert ctype.param("micalg") == "sha-256"


def test_parse_content_type_rfc2231_continuation() -> None:
    ctype = mime.parse_content_type('application/pdf; name*0="annual report "; name*1="2026.pdf"')
    assert ctype.param("name") == "annual report 2026.pdf"


@pytest.mark.parametrize(
    "value",
    [
        "application/pdf; name*=utf-8''Z%C3%BCrich.pdf",
        "application/pdf; name*0*=utf-8''Z%C3%BC; name*1=rich.pdf",
    ],
)
def test_parse_content_type_rfc2231_charset(value: str) -> None:
    assert mime.parse_content_type(value).param("name") == "Zürich.pdf"


def test_parse_content_type_default() -> None:
    ctype = mime.parse_content_type(None)
    assert ctype.type == "text/plain"
    assert ctype.param("charset") == "us-ascii"
    assert mime.content_type_of(mime.parse_headers(b"Subject: x\r\n")) == ctype


def test_parse_content_type_invalid_falls_back_to_text_plain() -> None:
    assert mime.parse_content_type("garbage").type == "text/plain"


# --------------------------------------------------------------------------- multipart


def test_choose_boundary_avoids_contents() -> None:
    seen: set[str] = set()
    for _ in range(20):
        boundary = mime.choose_boundary(b"--=_mimeseal_", b"body")
        assert boundary.startswith("=_mimeseal_")
        assert boundary.isascii()
        assert len(boundary) <= 70  # RFC 2046 §5.1.1
        seen.add(boundary)
    assert len(seen) == 20


def test_choose_boundary_draws_again_when_a_candidate_occurs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The random source is the standard library's; replaying it proves the retry loop works.
    draws = iter(["aaaa", "bbbb", "cccc"])
    monkeypatch.setattr(secrets, "token_hex", lambda _n: next(draws))
    contents = (b"text with --=_mimeseal_aaaa in it", b"and =_mimeseal_bbbb too")
    assert mime.choose_boundary(*contents) == "=_mimeseal_cccc"


@given(st.lists(st.binary(max_size=100), max_size=4), st.sampled_from(["=_", "b-", "x"]))
def test_choose_boundary_never_occurs_in_content(contents: list[bytes], prefix: str) -> None:
    boundary = mime.choose_boundary(*contents, prefix=prefix)
    assert boundary.startswith(prefix)
    assert all(boundary.encode("ascii") not in content for content in contents)


BOUNDARY = "XyZ"


def test_split_multipart_preamble_parts_epilogue() -> None:
    body = (
        b"This is a preamble\r\n"
        b"--XyZ\r\n"
        b"Content-Type: text/plain\r\n\r\npart one\r\n"
        b"--XyZ\r\n"
        b"\r\npart two, no headers\r\n\r\n"
        b"--XyZ--\r\n"
        b"epilogue\r\n"
    )
    split = mime.split_multipart(body, BOUNDARY)
    assert split.preamble == b"This is a preamble"
    assert split.parts == (
        b"Content-Type: text/plain\r\n\r\npart one",
        b"\r\npart two, no headers\r\n",
    )
    assert split.epilogue == b"epilogue\r\n"
    assert split.closed
    # Every part is an exact slice, and the CRLF before a delimiter belongs to the delimiter.
    for part in split.parts:
        start = body.index(part)
        assert body[start + len(part) : start + len(part) + 5] == b"\r\n--X"


def test_split_multipart_transport_padding() -> None:
    body = b"--XyZ \t\r\nfirst\r\n--XyZ\t\r\nsecond\r\n--XyZ--  \r\n"
    split = mime.split_multipart(body, BOUNDARY)
    assert split.parts == (b"first", b"second")
    assert split.closed
    assert split.epilogue == b""


def test_split_multipart_ignores_lines_that_only_start_with_the_boundary() -> None:
    body = b"--XyZ\r\na\r\n--XyZX\r\n--XyZ-- not\r\nx--XyZ\r\n--XyZ--"
    split = mime.split_multipart(body, BOUNDARY)
    assert split.parts == (b"a\r\n--XyZX\r\n--XyZ-- not\r\nx--XyZ",)
    assert split.closed


def test_split_multipart_unclosed() -> None:
    split = mime.split_multipart(b"--XyZ\r\none\r\n--XyZ\r\ntwo\r\n", BOUNDARY)
    assert not split.closed
    assert split.parts == (b"one", b"two\r\n")
    assert split.epilogue == b""


def test_split_multipart_close_without_final_crlf() -> None:
    split = mime.split_multipart(b"--XyZ\r\none\r\n--XyZ--", BOUNDARY)
    assert split.parts == (b"one",)
    assert split.closed


def test_split_multipart_stops_at_the_close_delimiter() -> None:
    body = b"--XyZ\r\none\r\n--XyZ--\r\n--XyZ\r\nafter close\r\n"
    split = mime.split_multipart(body, BOUNDARY)
    assert split.parts == (b"one",)
    assert split.epilogue == b"--XyZ\r\nafter close\r\n"


@pytest.mark.parametrize(
    "body", [b"", b"no delimiter here\r\n", b"--OTHER\r\nx\r\n--OTHER--\r\n", b"text--XyZ\r\n"]
)
def test_split_multipart_missing_delimiter(body: bytes) -> None:
    with pytest.raises(MessageError, match="no '--XyZ' delimiter"):
        mime.split_multipart(body, BOUNDARY)


def test_join_multipart_layout() -> None:
    joined = mime.join_multipart([b"A: 1\r\n\r\nx", b"\r\ny"], BOUNDARY, preamble=b"pre")
    assert joined == b"pre\r\n--XyZ\r\nA: 1\r\n\r\nx\r\n--XyZ\r\n\r\ny\r\n--XyZ--\r\n"
    assert mime.join_multipart([], BOUNDARY) == b"--XyZ--\r\n"


_part = st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"\r\n"))


@given(st.lists(_part, max_size=5), _part)
def test_join_then_split_round_trip(parts: list[bytes], preamble: bytes) -> None:
    boundary = mime.choose_boundary(preamble, *parts)
    joined = mime.join_multipart(parts, boundary, preamble=preamble)
    split = mime.split_multipart(joined, boundary)
    assert split.parts == tuple(parts)
    assert split.preamble == preamble
    assert split.closed
    assert split.epilogue == b""


@given(st.binary(max_size=200))
def test_split_multipart_arbitrary_bodies(body: bytes) -> None:
    split = mime.split_multipart(b"--b\r\n" + body, "b")
    assert split.preamble == b""
    assert all(part in body for part in split.parts)
    without = body
    while b"--b" in without:
        without = without.replace(b"--b", b"")
    with pytest.raises(MessageError):
        mime.split_multipart(without, "b")


# --------------------------------------------------------------------------- header values


@pytest.mark.parametrize(
    "value", ["a\r\nBcc: eve@example.net", "a\nb", "a\rb", "trailing\r\n", "\n"]
)
def test_check_header_value_refuses_line_breaks(value: str) -> None:
    with pytest.raises(HeaderInjectionError, match="line break"):
        mime.check_header_value("Subject", value)
    with pytest.raises(HeaderInjectionError):
        mime.fold_header("Subject", value)


@pytest.mark.parametrize("name", ["", "Bad Name", "X:Y", "Sübject", "A\r\nB", "Tab\tName"])
def test_check_header_value_refuses_bad_names(name: str) -> None:
    with pytest.raises(HeaderInjectionError, match="not a valid header field name"):
        mime.check_header_value(name, "value")


def test_check_header_value_accepts_ordinary_fields() -> None:
    mime.check_header_value("X-Custom_Field.1", "any value: with; punctuation")
    mime.check_header_value("Subject", "")


def test_fold_header_refuses_non_ascii() -> None:
    with pytest.raises(MessageError, match="RFC 2047") as info:
        mime.fold_header("Subject", "Zürich")
    assert not isinstance(info.value, HeaderInjectionError)


def test_fold_header_short_value_is_one_line() -> None:
    assert mime.fold_header("Subject", "hello world") == b"Subject: hello world\r\n"
    assert mime.fold_header("Subject", "") in (b"Subject:\r\n", b"Subject: \r\n")


def test_fold_header_folds_long_values_at_spaces() -> None:
    value = " ".join(f"word{i}" for i in range(60))
    folded = mime.fold_header("Subject", value)
    lines = folded.split(b"\r\n")
    assert lines[-1] == b""
    lines = lines[:-1]
    assert len(lines) > 3
    assert all(len(line) <= 78 for line in lines)
    assert all(line.startswith(b" ") for line in lines[1:])
    assert folded.replace(b"\r\n", b"") == f"Subject: {value}".encode()
    header = mime.parse_headers(folded)[0]
    assert header.raw == folded
    assert header.value == value


def test_fold_header_keeps_an_unbreakable_word_whole() -> None:
    word = "x" * 120
    folded = mime.fold_header("X-Long", f"{word} tail")
    assert folded == f"X-Long: {word}\r\n tail\r\n".encode()


def test_fold_header_respects_custom_width() -> None:
    folded = mime.fold_header("To", "a@example.org, b@example.org, c@example.org", width=30)
    assert all(len(line) <= 30 for line in folded.split(b"\r\n"))
    assert folded.count(b"\r\n") >= 2
    assert unfolded_value("To", folded) == "a@example.org, b@example.org, c@example.org"


_word = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=30)


@given(st.lists(_word, max_size=40))
def test_fold_header_unfolds_back_and_keeps_lines_short(words: list[str]) -> None:
    value = " ".join(words)
    folded = mime.fold_header("Subject", value)
    assert folded.endswith(b"\r\n")
    assert unfolded_value("Subject", folded) == value
    lines = folded.split(b"\r\n")[:-1]
    assert all(len(line) <= 78 for line in lines)
    # A fold never leaves white space at the end of a line or a line of white space only.
    assert not any(line.endswith((b" ", b"\t")) for line in lines[:-1])
    assert all(line.strip() for line in lines[1:])
    assert mime.is_transport_safe(folded)


def test_fold_header_refuses_a_word_longer_than_a_line() -> None:
    with pytest.raises(MessageError, match="998"):
        mime.fold_header("X-Token", "a" * 1000)
    assert len(mime.fold_header("X-Token", "a" * 980)) == len("X-Token: ") + 980 + 2


def test_fold_header_never_emits_a_white_space_only_line() -> None:
    value = "a" * 70 + " "  # the trailing space does not fit on the first line
    folded = mime.fold_header("Subject", value)
    assert unfolded_value("Subject", folded) == value
    for line in folded.split(b"\r\n")[1:-1]:
        assert line.strip(b" \t"), folded


# --------------------------------------------------------------------------- encodings


def test_encode_quoted_printable_escapes_what_relays_change() -> None:
    text = (
        b"trailing spaces   \r\n"
        b"trailing tab\t\r\n"
        b"From the start\r\n"
        b".dot line\r\n"
        b"caf\xc3\xa9 = \xff\r\n" + b"L" * 300 + b"\r\n" + b"end with space "
    )
    encoded = mime.encode_quoted_printable(text)
    assert mime.is_transport_safe(encoded)
    assert all(len(line) <= 76 for line in encoded.split(b"\r\n"))
    lines = encoded.split(b"\r\n")
    assert not any(line.startswith((b"From ", b".")) for line in lines)
    assert not any(line.endswith((b" ", b"\t")) for line in lines)
    assert b"=46rom the start" in encoded
    assert b"=2Edot line" in encoded
    assert b"caf=C3=A9 =3D =FF" in encoded
    assert quopri.decodestring(encoded) == text
    assert mime.decode_transfer_encoding(encoded, "quoted-printable") == text


@pytest.mark.parametrize("start", [b"From ", b"."])
def test_encode_quoted_printable_escaped_lines_stay_within_76(start: bytes) -> None:
    text = start + b"a" * 100 + b"\r\n"
    encoded = mime.encode_quoted_printable(text)
    assert quopri.decodestring(encoded) == text
    assert all(len(line) <= 76 for line in encoded.split(b"\r\n")), encoded


def test_encode_quoted_printable_normalizes_line_ends() -> None:
    encoded = mime.encode_quoted_printable(b"one\ntwo\rthree\r\n")
    assert not mime.has_bare_line_ends(encoded)
    assert quopri.decodestring(encoded) == b"one\r\ntwo\r\nthree\r\n"


@given(st.binary(max_size=400))
def test_encode_quoted_printable_round_trip(data: bytes) -> None:
    encoded = mime.encode_quoted_printable(data)
    assert mime.is_transport_safe(encoded)
    assert all(len(line) <= 76 for line in encoded.split(b"\r\n"))
    assert not re.search(rb"^(From |\.)", encoded, re.MULTILINE)
    assert quopri.decodestring(encoded) == mime.to_crlf(data)


def test_encode_base64_lines() -> None:
    assert mime.encode_base64_lines(b"") == b""
    assert mime.encode_base64_lines(b"abc") == b"YWJj\r\n"
    exact = mime.encode_base64_lines(b"x" * 57)  # 57 octets → exactly 76 characters
    assert exact.count(b"\r\n") == 1
    assert len(exact) == 78
    data = bytes(range(256)) * 3
    encoded = mime.encode_base64_lines(data)
    lines = encoded.split(b"\r\n")
    assert lines[-1] == b""
    assert all(len(line) == 76 for line in lines[:-2])
    assert 0 < len(lines[-2]) <= 76
    assert base64.b64decode(encoded.replace(b"\r\n", b"")) == data
    assert mime.is_transport_safe(encoded)


@pytest.mark.parametrize("cte", [None, "7bit", "8bit", "binary", " 7BIT "])
def test_decode_transfer_encoding_identity(cte: str | None) -> None:
    assert mime.decode_transfer_encoding(b"raw \xff\r\n", cte) == b"raw \xff\r\n"


def test_decode_transfer_encoding_base64_and_qp() -> None:
    assert mime.decode_transfer_encoding(b"Zm9v\r\nYmFy\r\n", "base64") == b"foobar"
    assert mime.decode_transfer_encoding(b"Zm9vYmFy", " Base64 ") == b"foobar"
    assert mime.decode_transfer_encoding(b"a=3Db=\r\nc=C3=A9", "Quoted-Printable") == (
        b"a=bc\xc3\xa9"
    )


@pytest.mark.parametrize("cte", ["x-uuencode", "gzip", "8-bit"])
def test_decode_transfer_encoding_unknown(cte: str) -> None:
    with pytest.raises(MessageError, match="unknown Content-Transfer-Encoding"):
        mime.decode_transfer_encoding(b"x", cte)


def test_decode_transfer_encoding_empty_value_means_7bit() -> None:
    assert mime.decode_transfer_encoding(b"x\xff", "") == b"x\xff"


@pytest.mark.parametrize("body", [b"Zm9", b"Z", b"=", b"Zm9v=Zm9v"])
def test_decode_transfer_encoding_bad_base64(body: bytes) -> None:
    with pytest.raises(MessageError, match="base64"):
        mime.decode_transfer_encoding(body, "base64")


@given(st.binary(max_size=200))
def test_decode_transfer_encoding_base64_raises_only_message_error(body: bytes) -> None:
    with contextlib.suppress(MessageError):
        decoded = mime.decode_transfer_encoding(body, "base64")
        assert len(decoded) * 4 <= len(body) * 3


# --------------------------------------------------------------------------- prepare_7bit


def test_prepare_7bit_returns_safe_entity_unchanged() -> None:
    entity = bytes(
        bytearray(
            b"Content-Type: text/plain; charset=us-ascii\r\n"
            b"Content-Transfer-Encoding: 7bit\r\n\r\n"
            b"From here. Trailing space \r\n.dot\r\n"
        )
    )
    result = mime.prepare_7bit(entity)
    assert result == entity
    assert result is entity


def test_prepare_7bit_lf_only_ascii_entity_becomes_crlf() -> None:
    result = mime.prepare_7bit(b"Content-Type: text/plain\n\nhi\nthere\n")
    assert result == b"Content-Type: text/plain\r\n\r\nhi\r\nthere\r\n"


def test_prepare_7bit_text_becomes_quoted_printable() -> None:
    entity = (
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"Content-Disposition: inline\r\n\r\n"
        b"Z\xc3\xbcrich\r\nFrom here\r\n"
    )
    result = mime.prepare_7bit(entity)
    assert mime.is_transport_safe(result)
    block, body = mime.split_message(result)
    headers = mime.parse_headers(block)
    assert [h.raw for h in headers] == [
        b"Content-Type: text/plain; charset=utf-8\r\n",
        b"Content-Disposition: inline\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
    ]
    assert body == b"Z=C3=BCrich\r\n=46rom here\r\n"
    assert decoded_body(result) == b"Z\xc3\xbcrich\r\nFrom here\r\n"


def test_prepare_7bit_text_with_long_line_is_reencoded() -> None:
    entity = b"Content-Type: text/plain\r\n\r\n" + b"a" * 1500 + b"\r\n"
    result = mime.prepare_7bit(entity)
    assert mime.is_transport_safe(result)
    assert header_names(result) == ["content-type", "content-transfer-encoding"]
    assert decoded_body(result) == b"a" * 1500 + b"\r\n"


def test_prepare_7bit_binary_becomes_base64() -> None:
    payload = bytes(range(256))
    entity = b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: binary\r\n\r\n" + payload
    result = mime.prepare_7bit(entity)
    assert mime.is_transport_safe(result)
    block, body = mime.split_message(result)
    assert mime.first_header(mime.parse_headers(block), "Content-Transfer-Encoding") == "base64"
    assert header_names(result).count("content-transfer-encoding") == 1
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))
    assert decoded_body(result) == payload


@pytest.mark.parametrize("payload", [b"\n\xff", b"a\nb", b"\r\x00", b"\x89PNG\r\n\x1a\n"])
def test_prepare_7bit_binary_keeps_line_end_bytes(payload: bytes) -> None:
    entity = b"Content-Type: application/octet-stream\r\n\r\n" + payload
    result = mime.prepare_7bit(entity)
    assert mime.is_transport_safe(result)
    assert decoded_body(result) == payload


def test_prepare_7bit_lf_only_8bit_text() -> None:
    result = mime.prepare_7bit(b"Content-Type: text/plain; charset=utf-8\n\ncaf\xc3\xa9\nok\n")
    assert mime.is_transport_safe(result)
    assert result.startswith(b"Content-Type: text/plain; charset=utf-8\r\n")
    assert decoded_body(result) == b"caf\xc3\xa9\r\nok\r\n"


def test_prepare_7bit_reencodes_a_decoded_body() -> None:
    # A base64 text part with an over-long line is decoded and re-encoded as quoted-printable.
    text = b"caf\xc3\xa9 " * 10 + b"\r\n"
    entity = (
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(text * 30)
    )
    result = mime.prepare_7bit(entity)
    assert mime.is_transport_safe(result)
    assert (
        mime.first_header(
            mime.parse_headers(mime.split_message(result)[0]), "Content-Transfer-Encoding"
        )
        == "quoted-printable"
    )
    assert decoded_body(result) == text * 30


def test_prepare_7bit_binary_part_inside_multipart_keeps_its_bytes() -> None:
    payload = b"\x00a\nb\rc\r\n\xff"
    entity = (
        b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: application/octet-stream\r\n\r\n" + payload + b"\r\n"
        b"--XX--\r\n"
    )
    result = mime.prepare_7bit(entity)
    assert mime.is_transport_safe(result)
    (part,) = mime.split_multipart(mime.split_message(result)[1], "XX").parts
    assert decoded_body(part) == payload


def test_prepare_7bit_multipart_recursion_keeps_boundary_and_safe_parts() -> None:
    safe_part = b"Content-Type: text/plain\r\n\r\nplain ascii"
    entity = (
        b'Content-Type: multipart/mixed; boundary="=_outer"\r\n\r\n'
        b"preamble\r\n"
        b"--=_outer\r\n" + safe_part + b"\r\n"
        b"--=_outer\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        b"caf\xc3\xa9\r\n"
        b"--=_outer\r\n"
        b'Content-Type: multipart/alternative; boundary="=_inner"\r\n\r\n'
        b"--=_inner\r\n"
        b"Content-Type: application/octet-stream\r\n\r\n"
        b"\x00\x01\xfe\xff\r\n"
        b"--=_inner--\r\n"
        b"\r\n"
        b"--=_outer--\r\n"
        b"epilogue\r\n"
    )
    result = mime.prepare_7bit(entity)
    assert mime.is_transport_safe(result)
    block, body = mime.split_message(result)
    assert block == b'Content-Type: multipart/mixed; boundary="=_outer"\r\n'
    outer = mime.split_multipart(body, "=_outer")
    assert outer.closed
    assert outer.preamble == b"preamble"
    assert outer.epilogue == b"epilogue\r\n"
    assert len(outer.parts) == 3
    assert outer.parts[0] == safe_part
    assert decoded_body(outer.parts[1]) == b"caf\xc3\xa9"
    assert b"quoted-printable" in outer.parts[1]
    inner_block, inner_body = mime.split_message(outer.parts[2])
    assert mime.content_type_of(mime.parse_headers(inner_block)).param("boundary") == "=_inner"
    inner = mime.split_multipart(inner_body, "=_inner")
    assert len(inner.parts) == 1
    assert decoded_body(inner.parts[0]) == b"\x00\x01\xfe\xff"


def test_prepare_7bit_message_rfc822_is_recursed() -> None:
    inner = b"Subject: inner\r\nContent-Type: text/plain\r\n\r\nna\xefve\r\n"
    entity = b"Content-Type: message/rfc822\r\n\r\n" + inner
    result = mime.prepare_7bit(entity)
    assert mime.is_transport_safe(result)
    block, body = mime.split_message(result)
    assert block == b"Content-Type: message/rfc822\r\n"
    assert body.startswith(b"Subject: inner\r\n")
    assert decoded_body(body) == b"na\xefve\r\n"


def test_prepare_7bit_refuses_non_ascii_header() -> None:
    with pytest.raises(MessageError, match="Subject header is not ASCII"):
        mime.prepare_7bit(b"Subject: Z\xc3\xbcrich\r\nContent-Type: text/plain\r\n\r\nx\xff")


def test_prepare_7bit_refuses_overlong_header_line() -> None:
    entity = b"X-Long: " + b"a" * 1000 + b"\r\n\r\nbody \xff"
    with pytest.raises(MessageError, match="X-Long header has a line over 998"):
        mime.prepare_7bit(entity)


def test_prepare_7bit_refuses_multipart_without_boundary() -> None:
    with pytest.raises(MessageError, match="no boundary"):
        mime.prepare_7bit(b"Content-Type: multipart/mixed\r\n\r\n\xff")


def test_prepare_7bit_multipart_with_wrong_boundary() -> None:
    with pytest.raises(MessageError, match="delimiter"):
        mime.prepare_7bit(b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--c\r\n\xff\r\n")


_TEXT_HEADER = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
_BINARY_HEADER = b"Content-Type: application/octet-stream\r\n\r\n"


@settings(max_examples=150)
@given(st.binary(max_size=3000))
def test_prepare_7bit_text_property(body: bytes) -> None:
    result = mime.prepare_7bit(_TEXT_HEADER + body)
    assert mime.is_transport_safe(result)
    assert decoded_body(result) == mime.to_crlf(body)
    assert header_names(result).count("content-transfer-encoding") == 1


@settings(max_examples=150)
@given(st.binary(max_size=3000))
def test_prepare_7bit_binary_property(body: bytes) -> None:
    result = mime.prepare_7bit(_BINARY_HEADER + body)
    assert mime.is_transport_safe(result)
    assert decoded_body(result) == body


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_prepare_7bit_raises_only_mimeseal_errors(entity: bytes) -> None:
    try:
        result = mime.prepare_7bit(entity)
    except MimesealError:
        return
    assert mime.is_transport_safe(result)


def _naive_transport_safe(data: bytes) -> bool:
    lines = data.split(b"\r\n")
    return (
        data.isascii()
        and b"\x00" not in data
        and all(b"\r" not in line and b"\n" not in line for line in lines)
        and all(len(line) <= mime.MAX_LINE for line in lines)
    )


@settings(max_examples=300)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([b"\r\n", b"\n", b"\r", b"\x00", b"\xe9", b"a" * 997, b"b" * 999]),
            st.binary(max_size=40),
            st.integers(0, 1100).map(lambda n: b"x" * n),
        ),
        max_size=12,
    )
)
def test_is_transport_safe_matches_the_naive_definition(chunks: list[bytes]) -> None:
    data = b"".join(chunks)
    assert mime.is_transport_safe(data) == _naive_transport_safe(data)
    assert mime.has_bare_line_ends(data) == (
        not all(b"\r" not in line and b"\n" not in line for line in data.split(b"\r\n"))
    )


# --- hostile input: limits and linear-time parsing ---------------------------------------------


def test_parse_headers_refuses_more_fields_than_the_limit() -> None:
    block = b"".join(b"X-%d: v\r\n" % i for i in range(12))
    assert len(mime.parse_headers(block, Limits(max_header_count=12))) == 12
    with pytest.raises(LimitError) as caught:
        mime.parse_headers(block, Limits(max_header_count=11))
    assert (caught.value.limit, caught.value.value, caught.value.maximum) == (
        "max_header_count",
        12,
        11,
    )


def test_parse_headers_refuses_a_field_longer_than_the_limit() -> None:
    folded = b"Subject: a" + b"\r\n b" * 10 + b"\r\n"
    assert mime.parse_headers(folded, Limits(max_header_bytes=len(folded)))[0].raw == folded
    with pytest.raises(LimitError, match="Subject") as caught:
        mime.parse_headers(folded, Limits(max_header_bytes=len(folded) - 1))
    assert caught.value.limit == "max_header_bytes"


def test_a_field_folded_into_many_lines_is_parsed_in_linear_time() -> None:
    """Appending each continuation line to the field copied it once per line (quadratic)."""
    folded = b"Subject: a" + b"\r\n b" * 200_000 + b"\r\n"
    started = time.perf_counter()
    [field] = mime.parse_headers(folded, Limits(max_header_bytes=len(folded)))
    assert field.raw == folded
    assert time.perf_counter() - started < 1.0


def test_split_multipart_stops_at_the_first_part_over_the_limit() -> None:
    body = b"--b\r\n\r\n" * 6 + b"--b--\r\n"
    assert len(mime.split_multipart(body, "b", max_parts=6).parts) == 6
    with pytest.raises(LimitError) as caught:
        mime.split_multipart(body, "b", max_parts=5)
    assert caught.value.limit == "max_mime_parts"
    unclosed = b"--b\r\n\r\n" * 6  # the last part runs to the end: 6 parts as well
    with pytest.raises(LimitError):
        mime.split_multipart(unclosed, "b", max_parts=5)


def _nested(levels: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\n\xe9\r\n"
    for level in range(levels):
        body = (
            f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
            + body
            + f"\r\n--b{level}--\r\n".encode()
        )
    return body


def test_prepare_7bit_is_not_limited_but_for_the_recursion_ceiling() -> None:
    """The sender's own message: 150 levels are prepared, past the ceiling is refused."""
    assert b"=E9" in mime.prepare_7bit(_nested(150))
    with pytest.raises(LimitError, match="nested"):
        mime.prepare_7bit(_nested(DEPTH_CEILING + 1))


def test_parse_addresses_refuses_what_the_stdlib_would_recurse_on() -> None:
    """getaddresses() recurses once per group opener: 1,000 'x:' raise RecursionError."""
    assert mime.parse_addresses(["Team: a@example.com, b@example.com;"]) == [
        ("", "a@example.com"),
        ("", "b@example.com"),
    ]
    with pytest.raises(MessageError, match="group syntax"):
        mime.parse_addresses(["From:" * 1_000])
