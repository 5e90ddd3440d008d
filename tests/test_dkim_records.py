"""Tests for mimeseal.dkim.records: key record format/parse, zone-file output, lookups."""

from __future__ import annotations

import base64
import contextlib
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from mimeseal import dkim
from mimeseal.dkim.records import RecordLookupError, lookup
from mimeseal.errors import DkimError, MimesealError, UnsupportedKeyError

SPKI = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------- round trips


def test_rsa_record_round_trip(rsa_key: rsa.RSAPrivateKey) -> None:
    text = dkim.format_key_record(rsa_key.public_key())
    assert text.startswith("v=DKIM1; k=rsa; p=")
    record = dkim.parse_key_record(text)
    assert record.key_type == "rsa"
    assert isinstance(record.public_key, rsa.RSAPublicKey)
    assert record.public_key.public_bytes(*SPKI) == rsa_key.public_key().public_bytes(*SPKI)
    assert record.public_key.key_size == 2048
    assert record.hash_algorithms is None
    assert record.flags == ()
    assert record.services == ("*",)
    assert not record.testing
    assert not record.strict_identity


def test_ed25519_record_round_trip(ed_key: ed25519.Ed25519PrivateKey) -> None:
    text = dkim.format_key_record(ed_key.public_key())
    assert text.startswith("v=DKIM1; k=ed25519; p=")
    # RFC 8463 §4: p= is the raw 32-octet key, not a SubjectPublicKeyInfo
    assert len(base64.b64decode(text.split("p=", 1)[1])) == 32
    record = dkim.parse_key_record(text)
    assert record.key_type == "ed25519"
    assert isinstance(record.public_key, ed25519.Ed25519PublicKey)
    assert record.public_key.public_bytes(*RAW) == ed_key.public_key().public_bytes(*RAW)


def test_record_options_are_parsed(rsa_key: rsa.RSAPrivateKey) -> None:
    p = b64(rsa_key.public_key().public_bytes(*SPKI))
    # folding white space inside p= (as after joining TXT strings) is ignored
    folded = p[:100] + " \r\n\t" + p[100:]
    record = dkim.parse_key_record(f"v=DKIM1; h=sha1 : SHA256; t=y:s; s=email; k=RSA; p={folded}")
    assert record.hash_algorithms == ("sha1", "sha256")
    assert record.flags == ("y", "s")
    assert record.testing
    assert record.strict_identity
    assert record.services == ("email",)
    assert record.key_type == "rsa"
    assert record.public_key is not None


def test_record_without_v_and_k_defaults_to_rsa(rsa_key: rsa.RSAPrivateKey) -> None:
    record = dkim.parse_key_record("p=" + b64(rsa_key.public_key().public_bytes(*SPKI)))
    assert record.key_type == "rsa"
    assert isinstance(record.public_key, rsa.RSAPublicKey)


def test_bare_pkcs1_rsa_key_is_accepted(rsa_key: rsa.RSAPrivateKey) -> None:
    pkcs1 = rsa_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )
    record = dkim.parse_key_record("v=DKIM1; k=rsa; p=" + b64(pkcs1))
    assert isinstance(record.public_key, rsa.RSAPublicKey)
    assert record.public_key.public_numbers() == rsa_key.public_key().public_numbers()


def test_empty_p_means_revoked() -> None:
    record = dkim.parse_key_record("v=DKIM1; k=rsa; p=")
    assert record.public_key is None


def test_format_refuses_other_key_types() -> None:
    with pytest.raises(UnsupportedKeyError, match="RSA or Ed25519"):
        dkim.format_key_record(ec.generate_private_key(ec.SECP256R1()).public_key())


def test_record_name() -> None:
    assert dkim.record_name("Sel1", "Example.COM.") == "sel1._domainkey.example.com"


# --------------------------------------------------------------------------- zone file

_QUOTED = re.compile(r'"([^"]*)"')


@pytest.mark.parametrize("bits", [1024, 2048])
def test_zone_file_record_splits_into_255_octet_strings(
    bits: int, rsa_key: rsa.RSAPrivateKey
) -> None:
    key = rsa_key if bits == 2048 else rsa.generate_private_key(65537, bits)
    value = dkim.format_key_record(key.public_key())
    name = dkim.record_name("s1", "example.com")
    zone = dkim.zone_file_record(name, value)
    assert zone.startswith(f"{name}. IN TXT ")
    strings = _QUOTED.findall(zone)
    assert all(len(s.encode("ascii")) <= 255 for s in strings)
    assert "".join(strings) == value
    assert len(strings) == -(-len(value) // 255)
    if len(strings) > 1:  # multi-string records use parentheses so they can span lines
        assert "(" in zone
        assert zone.rstrip().endswith(")")
    # the joined strings are a record that parses back to the same key
    joined = dkim.parse_key_record("".join(strings))
    assert isinstance(joined.public_key, rsa.RSAPublicKey)
    assert joined.public_key.public_numbers() == key.public_key().public_numbers()


@pytest.mark.parametrize("length", [255, 256, 510, 511, 1000])
def test_zone_file_record_chunk_boundaries(length: int) -> None:
    value = ("v=DKIM1; k=rsa; p=" + "ABCD" * 300)[:length]
    strings = _QUOTED.findall(dkim.zone_file_record("s._domainkey.example.com", value))
    assert [len(s) for s in strings[:-1]] == [255] * (len(strings) - 1)
    assert 0 < len(strings[-1]) <= 255
    assert "".join(strings) == value


def test_zone_file_record_short_value_is_one_string(ed_key: ed25519.Ed25519PrivateKey) -> None:
    value = dkim.format_key_record(ed_key.public_key())
    zone = dkim.zone_file_record("s._domainkey.example.com", value)
    assert zone == f's._domainkey.example.com. IN TXT "{value}"'


# --------------------------------------------------------------------------- malformed


def _ed_spki(ed_key: ed25519.Ed25519PrivateKey) -> str:
    return b64(ed_key.public_key().public_bytes(*SPKI))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("v=DKIM1; k=rsa", "p="),
        ("v=DKIM2; p=", "DKIM1"),
        ("k=rsa; v=DKIM1; p=", "first"),
        ("v=DKIM1; k=dsa; p=AAAA", "k=dsa"),
        ("v=DKIM1; k=rsa; p=not base64!", "base64"),
        ("v=DKIM1; k=rsa; p=AAECAwQ=", "RSA public key"),
        ("v=DKIM1; k=ed25519; p=AAECAwQ=", "32 octets"),
        ("v=DKIM1; p=; p=", "twice"),
        ("v=DKIM1; garbage; p=", "tag=value"),
        ("v=DKIM1; 1k=rsa; p=", "tag=value"),
        ("=x; p=", "tag=value"),
    ],
)
def test_malformed_records_raise_dkim_error(text: str, reason: str) -> None:
    with pytest.raises(DkimError, match=re.escape(reason)):
        dkim.parse_key_record(text)


def test_rsa_record_holding_another_key_type(ed_key: ed25519.Ed25519PrivateKey) -> None:
    with pytest.raises(DkimError, match="another kind of key"):
        dkim.parse_key_record("v=DKIM1; k=rsa; p=" + _ed_spki(ed_key))


def test_record_with_unknown_key_algorithm_oid_raises_dkim_error(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    spki = bytearray(rsa_key.public_key().public_bytes(*SPKI))
    oid = bytes.fromhex("2a864886f70d010101")  # rsaEncryption, 1.2.840.113549.1.1.1
    spki[spki.index(oid) + len(oid) - 1] = 0x7F  # → 1.2.840.113549.1.1.127, unknown
    with pytest.raises(DkimError):
        dkim.parse_key_record("v=DKIM1; k=rsa; p=" + b64(bytes(spki)))


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("vkphst=;: \t\r\nDKIM1rsaed25519ABC+/y*"), max_size=60)
)
def test_arbitrary_record_text_parses_or_raises_dkim_error(text: str) -> None:
    with contextlib.suppress(DkimError):
        dkim.parse_key_record(text)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300), key_type=st.sampled_from(["rsa", "ed25519"]))
def test_arbitrary_p_bytes_parse_or_raise_mimeseal_error(data: bytes, key_type: str) -> None:
    with contextlib.suppress(MimesealError):
        dkim.parse_key_record(f"v=DKIM1; k={key_type}; p={b64(data)}")


# --------------------------------------------------------------------------- lookup


def test_lookup_from_mapping_is_case_and_dot_insensitive() -> None:
    records = {"S1._domainkey.Example.com.": "v=DKIM1; p="}
    assert lookup("s1._domainkey.example.com", records) == "v=DKIM1; p="
    assert lookup("other._domainkey.example.com", records) is None


def test_lookup_from_callable() -> None:
    asked: list[str] = []

    def resolver(name: str) -> str | None:
        asked.append(name)
        return "v=DKIM1; p=" if name.startswith("s1.") else None

    assert lookup("s1._domainkey.example.com", resolver) == "v=DKIM1; p="
    assert lookup("s2._domainkey.example.com", resolver) is None
    assert asked == ["s1._domainkey.example.com", "s2._domainkey.example.com"]


def test_lookup_failure_is_a_record_lookup_error() -> None:
    def resolver(name: str) -> str | None:
        raise TimeoutError("resolver timed out")

    with pytest.raises(RecordLookupError, match="timed out") as caught:
        lookup("s1._domainkey.example.com", resolver)
    assert isinstance(caught.value, DkimError)
