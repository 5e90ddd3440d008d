"""The DKIM-Signature tag grammar (RFC 6376 §3.5): each rule, as the verifier applies it.

Signatures are made by ``receivers_dkim.craft_sign`` (simple/simple from the RFC text), so
each one is otherwise valid: a permerror here is the grammar rule and nothing else.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from mimeseal import dkim
from mimeseal.dkim import grammar
from mimeseal.errors import DkimError
from receivers_dkim import craft_sign

NOW = 1_790_000_000
KEY = ed25519.Ed25519PrivateKey.generate()
RECORD = dkim.format_key_record(KEY.public_key())
MESSAGE = (
    b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: grammar\r\n"
    b"\r\nHello.\r\n"
)
VALID = {"v": "1", "a": "ed25519-sha256", "b": "AAAA", "bh": "AAAA", "d": "example.com",
         "h": "from:to", "s": "sel"}  # fmt: skip


def verify_with(
    tags: dict[str, str], *, domain: str = "example.com", selector: str = "sel"
) -> dkim.DkimResult:
    signed = craft_sign(
        MESSAGE, KEY, domain=domain, selector=selector, names=["from", "to"], tags=tags,
        timestamp=NOW,
    )  # fmt: skip
    records = {f"{selector}._domainkey.{domain}".lower(): RECORD}
    [result] = dkim.verify(signed, records=records, now=NOW)
    return result


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ({"i": "mail.example.com"}, "has no '@'"),
        ({"i": "alice@example.org"}, "is not within d=example.com"),
        ({"i": "alice@notexample.com"}, "is not within"),
        ({"i": "alice@mail..example.com"}, "is not a domain name"),
        ({"i": "alice=@example.com"}, "not dkim-quoted-printable"),
        ({"i": "=FF@example.com"}, "not UTF-8"),
        ({"q": "https/json"}, "names no query method this verifier supports"),
        ({"q": "dns/txt:"}, "is not a list of query methods"),
        ({"q": "DNS/TXT"}, "names no query method"),
        ({"t": "1234567890123"}, "1 to 12 digits"),
        ({"t": "-5"}, "1 to 12 digits"),
        ({"x": "１２３"}, "1 to 12 digits"),  # fullwidth digits are not DIGIT
        ({"x": "1000"}, "x= is before t="),
        ({"l": "1" * 77}, "1 to 76 digits"),
        ({"l": "1" * 30}, "out of range"),
        ({"h": "from::to"}, "no empty names"),
        ({"h": "from:to:"}, "no empty names"),
        ({"h": "to:subject"}, "From is not in h="),
        ({"c": "relaxed/"}, "is not header[/body]"),
        ({"c": "relaxed/simple/simple"}, "is not header[/body]"),
        ({"c": "nowsp"}, "unknown canonicalization"),
        ({"a": "rsa_sha256"}, "is not an algorithm name"),
        ({"a": "ed448-shake256"}, "unknown algorithm"),
        ({"v": "2"}, "unknown version"),
        ({"v": "-"}, "the required tag v= is missing"),
    ],
)
def test_grammar_rules_are_permerrors(tags: dict[str, str], reason: str) -> None:
    result = verify_with(tags)
    assert result.status == "permerror", result.reason
    assert reason in result.reason


@pytest.mark.parametrize(
    ("domain", "selector", "reason"),
    [
        ("example.com_", "sel", "d=example.com_ is not a domain name"),
        ("com", "sel", "at least two"),
        ("-example.com", "sel", "is not a domain name"),
        ("example.com.", "sel", "is not a domain name"),  # no trailing dot in the ABNF
        ("exämple.com", "sel", "A-labels"),
        ("a" * 64 + ".com", "sel", "is not a domain name"),
        ("example.com", "sel_1", "s=sel_1 is not a selector"),
        ("example.com", "sel.", "is not a selector"),
    ],
)
def test_d_and_s_must_be_domain_names(domain: str, selector: str, reason: str) -> None:
    result = verify_with({}, domain=domain, selector=selector)
    assert result.status == "permerror", result.reason
    assert reason in result.reason


@pytest.mark.parametrize(
    "tags",
    [
        {"i": "alice@example.com"},
        {"i": "@mail.example.com"},
        {"i": "alice=40wonderland@example.com"},  # =40 is '@': the last '@' separates
        {"i": "J=C3=B6rg@Mail.Example.COM"},  # UTF-8 local part, any case
        {"q": "dns/txt"},
        {"q": "other/x:dns/txt"},  # the first method this verifier supports is used
        {"h": "From : To"},  # FWS around the colons
        {"x": str(NOW + 10)},
        {"t": "0" * 12},
    ],
)
def test_valid_tags_pass(tags: dict[str, str]) -> None:
    result = verify_with(tags)
    assert result.status == "pass", result.reason


def test_identity_is_reported_decoded() -> None:
    result = verify_with({"i": "J=C3=B6rg@mail.example.com"})
    assert result.identity == "Jörg@mail.example.com"


def test_selector_and_domain_may_have_several_labels_and_digits() -> None:
    result = verify_with({}, domain="mail2.sub-1.example.com", selector="2026.k1")
    assert result.status == "pass", result.reason


def test_v_need_not_come_first() -> None:
    """RFC 6376 §3.5 asks that of key records only (§3.6.1). craft_sign puts v= first:
    drop it there and add it again at the end ("v =1": FWS before '=' is allowed)."""
    late = craft_sign(MESSAGE, KEY, selector="sel", names=["from"], tags={"v": "-", "v ": "1"},
                      timestamp=NOW)  # fmt: skip
    assert b"; v =1; bh=" in late
    [result] = dkim.verify(late, records={"sel._domainkey.example.com": RECORD}, now=NOW)
    assert result.status == "pass", result.reason


def test_problems_lists_every_broken_rule() -> None:
    tags = {**VALID, "s": "", "q": "x/y", "t": "soon", "i": "nobody", "bh": " "}
    found = grammar.problems(tags)
    assert [p.split(" ")[0] for p in found] == ["bh=", "s=", "q=x/y", "t=soon", "i=nobody"]
    assert grammar.problems(VALID) == []
    del tags["h"]
    assert grammar.problems(tags)[0] == "the required tag h= is missing"


def test_parse_signature_raises_the_first_problem() -> None:
    with pytest.raises(DkimError, match="s= is empty"):
        grammar.parse_signature({**VALID, "s": ""})
    parsed = grammar.parse_signature({**VALID, "c": "Relaxed", "h": "From:\r\n TO"})
    assert (parsed.header_canonicalization, parsed.body_canonicalization) == ("relaxed", "simple")
    assert parsed.signed_headers == ("from", "to")
    assert (parsed.identity, parsed.identity_domain) == ("@example.com", "example.com")


def test_supported_query() -> None:
    assert grammar.supported_query("dns/txt") == "dns/txt"
    assert grammar.supported_query("x-new/y : dns/txt") == "dns/txt"
    assert grammar.supported_query("dns") is None
