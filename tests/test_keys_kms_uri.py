"""Tests for mimeseal.keys.kms_uri: the awskms: URIs and ARNs that name a key in KMS."""

from __future__ import annotations

import pytest

from mimeseal.errors import KeyLoadError
from mimeseal.keys import KmsKeyRef, is_kms_spec, load_signer, parse_kms_spec

ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALIAS_ARN = "arn:aws:kms:eu-west-1:111122223333:alias/team/mail"
MRK = "mrk-1234abcd12ab34cd56ef1234567890ab"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("awskms:///alias/mail", KmsKeyRef("alias/mail")),
        ("awskms:///alias/mail?region=eu-west-1", KmsKeyRef("alias/mail", "eu-west-1")),
        ("awskms:///alias/a/b_2?profile=signer", KmsKeyRef("alias/a/b_2", None, "signer")),
        (
            "awskms:///1234abcd-12ab-34cd-56ef-1234567890ab",
            KmsKeyRef("1234abcd-12ab-34cd-56ef-1234567890ab"),
        ),
        (f"awskms:///{MRK}", KmsKeyRef(MRK)),
        ("AWSKMS:///alias/mail", KmsKeyRef("alias/mail")),
        (f"awskms:///{ALIAS_ARN}", KmsKeyRef(ALIAS_ARN, "eu-west-1")),
        (
            "arn:aws-cn:kms:cn-north-1:111122223333:alias/mail",
            KmsKeyRef("arn:aws-cn:kms:cn-north-1:111122223333:alias/mail", "cn-north-1"),
        ),
        ("awskms:///alias/m?region=eusc-de-east-1", KmsKeyRef("alias/m", "eusc-de-east-1")),
        ("awskms:///alias/m?profile=a%26region%3Dx", KmsKeyRef("alias/m", None, "a&region=x")),
        (f"awskms:///{ARN}", KmsKeyRef(ARN, "eu-west-1")),
        (f"awskms:///{ARN}?region=eu-west-1", KmsKeyRef(ARN, "eu-west-1")),
        (ARN, KmsKeyRef(ARN, "eu-west-1")),
        (
            "arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/mail",
            KmsKeyRef("arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/mail", "us-gov-west-1"),
        ),
    ],
)  # fmt: skip
def test_accepted_forms(spec: str, expected: KmsKeyRef) -> None:
    assert is_kms_spec(spec)
    ref = parse_kms_spec(spec)
    assert ref == expected
    assert parse_kms_spec(str(ref)) == ref  # the printed form names the same key


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("awskms://localhost:4566/alias/mail", "AWS_ENDPOINT_URL_KMS"),
        ("awskms:///alias/mail?endpoint=http://x", "unknown parameter 'endpoint'"),
        ("awskms:///alias/mail?region=eu-west-1&region=us-east-1", "region twice"),
        ("awskms:///alias/mail?region=Europe", "not an AWS region"),
        ("awskms:///alias/mail?profile=", "profile is empty"),
        ("awskms:///", "does not name a key"),
        ("awskms:///alias/", "does not name a key"),
        ("awskms:///not a key", "does not name a key"),
        (f"awskms:///{ARN}?region=us-east-1", "the ARN is in eu-west-1"),
        ("arn:aws:kms:eu-west-1:1111:key/x", "not a KMS key ARN"),
        ("arn:aws:kms:eu-west-1:111122223333:secret/x", "not a KMS key ARN"),
        ("arn:aws:kms:eu-west-1:111122223333:key/not-a-uuid", "not a KMS key ARN"),
        ("awskms:///--------", "does not name a key"),
        ("awskms:///alias/mail#frag", "fragment"),
    ],
)
def test_malformed_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(KeyLoadError, match=message.replace("?", r"\?")):
        parse_kms_spec(spec)


@pytest.mark.parametrize("spec", ["key.pem", "./awskms", "/tmp/arn:aws:kms", "C:\\keys\\a.pem"])
def test_file_names_are_not_kms_specs(spec: str) -> None:
    assert not is_kms_spec(spec)


def test_other_uri_schemes_are_refused_clearly() -> None:
    with pytest.raises(KeyLoadError, match=r"key URI scheme .*pkcs11:"):
        load_signer("pkcs11:token=mail;object=signer")
    with pytest.raises(KeyLoadError, match="empty"):
        load_signer("")
