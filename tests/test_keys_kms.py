"""Tests for mimeseal.keys.kms against moto's KMS over HTTP (the plugin's ``mimeseal_kms``).

moto's KMS ignores ``MessageType=DIGEST`` (it hashes the digest again) and makes RSA-PSS
signatures with the maximum salt length, so no test here trusts KMS's own ``Verify``: every
signature is checked by OpenSSL, dkimpy or ``cryptography``, and mimeseal's verifier.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

import boto3
import dkim as dkimpy
import pytest
from botocore.awsrequest import AWSResponse
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from conftest import MESSAGE, needs_openssl, openssl_accepts
from faults import FaultInjector, json_answer, json_error
from mimeseal import dkim, keys, pki, smime
from mimeseal.dkim.keyfiles import as_dkim_key, record_for_key
from mimeseal.errors import KmsError, UnsupportedKeyError, UsageError
from mimeseal.keys import KmsEcKey, KmsRetry, KmsRsaKey
from mimeseal.pytest_plugin import AwsEndpoint, KmsEndpoint

NO_WAIT = KmsRetry(sleep=lambda seconds: None)
ALICE = "alice@example.com"


@dataclass
class Kms:
    """The plugin's KMS fixture, with keys cached per spec (RSA_4096 takes moto a while)."""

    endpoint: KmsEndpoint
    made: dict[tuple[str, str], str]

    @property
    def client(self) -> Any:
        return self.endpoint.client

    def create(self, spec: str = "RSA_2048", usage: str = "SIGN_VERIFY") -> str:
        if (spec, usage) not in self.made:
            self.made[spec, usage] = self.endpoint.create_key(spec, usage=usage)
        return self.made[spec, usage]

    def load(self, spec: str = "RSA_2048") -> KmsRsaKey | KmsEcKey:
        key = keys.load_signer(self.create(spec), kms_retry=NO_WAIT)
        assert isinstance(key, KmsRsaKey | KmsEcKey)
        return key

    def rsa(self, spec: str = "RSA_2048", retry: KmsRetry = NO_WAIT) -> KmsRsaKey:
        key = keys.load_signer(self.create(spec), kms_retry=retry)
        assert isinstance(key, KmsRsaKey)
        return key

    def ec(self, spec: str = "ECC_NIST_P384") -> KmsEcKey:
        key = self.load(spec)
        assert isinstance(key, KmsEcKey)
        return key


@pytest.fixture(scope="module")
def made_keys() -> dict[tuple[str, str], str]:
    return {}


@pytest.fixture
def kms(mimeseal_kms: KmsEndpoint, made_keys: dict[tuple[str, str], str]) -> Kms:
    return Kms(mimeseal_kms, made_keys)


@pytest.fixture(scope="module")
def ca() -> pki.DevCA:
    return pki.create_ca()


def certify(ca: pki.DevCA, key: keys.SigningKey) -> x509.Certificate:
    return pki.issue_signer(ca, ALICE, key=key).certificate


class Requests:
    """Records the parameters of every Sign request a key's client sends."""

    def __init__(self, key: KmsRsaKey | KmsEcKey) -> None:
        self.sent: list[dict[str, Any]] = []
        key.client.meta.events.register("provide-client-params.kms.Sign", self._record)

    def _record(self, params: dict[str, Any], **kwargs: Any) -> None:
        self.sent.append(dict(params))


# --------------------------------------------------------------------------- the key objects


def test_rsa_key_is_an_rsa_private_key_with_the_kms_public_key(kms: Kms) -> None:
    key = kms.load("RSA_3072")
    assert isinstance(key, rsa.RSAPrivateKey)
    published = kms.client.get_public_key(KeyId=key.ref.key_id)["PublicKey"]
    assert (
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == published
    )
    assert (key.key_size, key.key_spec) == (3072, "RSA_3072")
    meta = kms.client.describe_key(KeyId=key.ref.key_id)["KeyMetadata"]
    assert key.key_id in (meta["Arn"], meta["KeyId"])  # AWS answers with the ARN, moto the id
    assert "RSASSA_PKCS1_V1_5_SHA_256" in key.signing_algorithms
    assert repr(key) == f"<KmsRsaKey {key.ref} RSA_3072>"
    assert copy.copy(key) is key
    assert copy.deepcopy(key) is key


@pytest.mark.parametrize(
    ("spec", "curve"), [("ECC_NIST_P256", "secp256r1"), ("ECC_NIST_P384", "secp384r1")]
)
def test_ec_key_is_an_ec_private_key(kms: Kms, spec: str, curve: str) -> None:
    key = kms.ec(spec)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == curve
    with pytest.raises(UnsupportedKeyError, match="key agreement"):
        key.exchange(ec.ECDH(), ec.generate_private_key(ec.SECP256R1()).public_key())


def test_private_half_cannot_be_exported_or_used_to_decrypt(kms: Kms) -> None:
    key = kms.rsa()
    with pytest.raises(UnsupportedKeyError, match="stays in AWS KMS: it cannot be exported"):
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    with pytest.raises(UnsupportedKeyError, match="cannot be exported"):
        key.private_numbers()
    with pytest.raises(UnsupportedKeyError, match="decrypt"):
        key.decrypt(b"x" * 256, padding.PKCS1v15())


# --------------------------------------------------------------------------- S/MIME and DKIM


@needs_openssl
@pytest.mark.parametrize(
    ("spec", "opaque"),
    [
        ("RSA_2048", False),
        ("RSA_4096", True),
        ("ECC_NIST_P256", False),
        ("ECC_NIST_P384", True),
        ("ECC_NIST_P521", False),
    ],
)
def test_smime_signatures_made_in_kms_verify_with_openssl(
    kms: Kms, ca: pki.DevCA, spec: str, opaque: bool
) -> None:
    key = kms.load(spec)
    requests = Requests(key)
    cert = certify(ca, key)
    signed = smime.sign(MESSAGE, key=key, cert=cert, chain=[ca.certificate], opaque=opaque)
    assert openssl_accepts(signed, [ca.certificate]).ok
    verdict = smime.verify(signed, trust=[ca.certificate])
    assert verdict.valid, verdict
    # One Sign request, over the DER signed attributes, sent whole (RAW).
    assert len(requests.sent) == 1
    assert requests.sent[0]["MessageType"] == "RAW"
    assert len(requests.sent[0]["Message"]) < 1024


def test_p384_defaults_to_sha384_and_refuses_sha256_before_asking_kms(
    kms: Kms, ca: pki.DevCA
) -> None:
    key = kms.load("ECC_NIST_P384")
    cert = certify(ca, key)
    assert b"micalg=sha-384" in smime.sign(MESSAGE, key=key, cert=cert, chain=[ca.certificate])
    requests = Requests(key)
    with pytest.raises(UnsupportedKeyError, match=r"allows ECDSA_SHA_384 .*--digest sha-384"):
        smime.sign(MESSAGE, key=key, cert=cert, digest="sha-256")
    assert requests.sent == []


def test_dkim_signature_made_in_kms_verifies_with_dkimpy(kms: Kms) -> None:
    key = as_dkim_key(kms.load("RSA_2048"))
    name, record = record_for_key(key, domain="example.com", selector="kms")
    signed = dkim.sign(MESSAGE, key=key, domain="example.com", selector="kms", profile="ses")
    assert dkimpy.verify(signed, dnsfunc=lambda qname, timeout=5: record.encode())
    [result] = dkim.verify(signed, records={name: record})
    assert result.status == "pass", result


@needs_openssl
def test_one_kms_key_object_signs_smime_then_dkim(kms: Kms, ca: pki.DevCA) -> None:
    key = kms.rsa()
    requests = Requests(key)
    signed = smime.sign(MESSAGE, key=key, cert=certify(ca, key), chain=[ca.certificate])
    signed = dkim.sign(signed, key=key, domain="example.com", selector="one")
    _, record = record_for_key(key, domain="example.com", selector="one")
    assert openssl_accepts(signed, [ca.certificate]).ok
    assert dkimpy.verify(signed, dnsfunc=lambda qname, timeout=5: record.encode())
    assert [r["MessageType"] for r in requests.sent] == ["RAW", "RAW"]


def test_ec_kms_key_cannot_dkim_sign(kms: Kms) -> None:
    with pytest.raises(UnsupportedKeyError, match="cannot DKIM-sign"):
        dkim.sign(MESSAGE, key=kms.load("ECC_NIST_P256"), domain="example.com", selector="s")  # type: ignore[arg-type]


def test_one_key_signs_from_many_threads(kms: Kms, ca: pki.DevCA) -> None:
    key = kms.load()
    cert = certify(ca, key)
    results: list[bytes] = []

    def sign() -> None:
        results.append(smime.sign(MESSAGE, key=key, cert=cert, chain=[ca.certificate]))

    threads = [threading.Thread(target=sign) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    assert all(smime.verify(m, trust=[ca.certificate]).valid for m in results)


# --------------------------------------------------------------------------- RAW, DIGEST, PSS


def test_data_over_4096_bytes_is_sent_as_its_digest(kms: Kms) -> None:
    key = kms.rsa()
    requests = Requests(key)
    data = b"x" * 5000
    # moto hashes the digest again, so the signature cannot verify; mimeseal notices.
    with pytest.raises(KmsError, match=r"does not verify .*DIGEST") as info:
        key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    assert info.value.code == "InvalidSignature"
    [sent] = requests.sent
    assert (sent["MessageType"], sent["SigningAlgorithm"]) == (
        "DIGEST",
        "RSASSA_PKCS1_V1_5_SHA_256",
    )
    assert sent["Message"] == hashlib.sha256(data).digest()


def test_prehashed_data_is_sent_as_digest(kms: Kms) -> None:
    key = kms.ec("ECC_NIST_P384")
    requests = Requests(key)
    digest = hashlib.sha384(b"headers").digest()
    with pytest.raises(KmsError, match="does not verify"):
        key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA384())))
    assert [(r["MessageType"], r["Message"]) for r in requests.sent] == [("DIGEST", digest)]
    with pytest.raises(UnsupportedKeyError, match="must be 48 bytes"):
        key.sign(b"short", ec.ECDSA(utils.Prehashed(hashes.SHA384())))


def test_data_up_to_4096_bytes_is_sent_raw_and_verifies(kms: Kms) -> None:
    key = kms.rsa()
    data = b"y" * keys.RAW_MESSAGE_LIMIT
    signature = key.sign(data, padding.PKCS1v15(), hashes.SHA512())
    key.public_key().verify(signature, data, padding.PKCS1v15(), hashes.SHA512())


def test_pss_uses_kms_pss_and_refuses_mismatched_salt(kms: Kms, ca: pki.DevCA) -> None:
    key = kms.rsa()
    requests = Requests(key)
    cert = certify(ca, key)
    # moto salts PSS to the maximum where AWS KMS uses the digest length; the CMS would lie.
    with pytest.raises(KmsError, match="salt is not the digest length"):
        smime.sign(MESSAGE, key=key, cert=cert, rsa_padding="pss")
    assert [r["SigningAlgorithm"] for r in requests.sent] == ["RSASSA_PSS_SHA_256"]
    with pytest.raises(UnsupportedKeyError, match="salt as long as the digest"):
        key.sign(b"z", padding.PSS(padding.MGF1(hashes.SHA256()), 20), hashes.SHA256())
    with pytest.raises(UnsupportedKeyError, match="SHA-2 hash"):
        key.sign(b"z", padding.PKCS1v15(), object())


# --------------------------------------------------------------------------- refusals and errors


@pytest.mark.parametrize(
    ("spec", "usage", "message"),
    [
        ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "cannot sign"),
        ("RSA_2048", "ENCRYPT_DECRYPT", "KeyUsage ENCRYPT_DECRYPT"),
        ("ECC_SECG_P256K1", "SIGN_VERIFY", "ECC_SECG_P256K1, which mail recipients cannot verify"),
        ("HMAC_256", "GENERATE_VERIFY_MAC", "cannot sign"),
    ],
)
def test_keys_that_cannot_sign_mail_are_refused_when_loaded(
    kms: Kms, spec: str, usage: str, message: str
) -> None:
    with pytest.raises(UnsupportedKeyError, match=message):
        keys.load_signer(kms.create(spec, usage), kms_retry=NO_WAIT)


def test_unknown_alias_names_region_and_is_not_retried(kms: Kms) -> None:
    with pytest.raises(KmsError, match="no such key or alias in region us-east-1") as info:
        keys.load_signer("awskms:///alias/does-not-exist?region=us-east-1", kms_retry=NO_WAIT)
    assert (info.value.code, info.value.retryable) == ("NotFoundException", False)


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        ("AccessDeniedException", "must allow kms:Sign"),
        ("DisabledException", "the key is disabled"),
        ("KMSInvalidStateException", "pending deletion"),
    ],
)
def test_kms_refusals_become_clear_errors_without_retries(
    kms: Kms, ca: pki.DevCA, code: str, advice: str
) -> None:
    key = kms.load()
    cert = certify(ca, key)
    injector = FaultInjector(lambda: json_error(400, code, "refused"), count=99)
    key.client.meta.events.register("before-send.kms.Sign", injector)
    try:
        with pytest.raises(KmsError, match=f"{code}.*{advice}") as info:
            smime.sign(MESSAGE, key=key, cert=cert)
    finally:
        key.client.meta.events.unregister("before-send.kms.Sign", injector)
    assert (info.value.code, info.value.retryable, injector.calls) == (code, False, 1)


@pytest.mark.parametrize("code", ["InvalidKeyUsageException", "UnsupportedOperationException"])
def test_kms_saying_the_key_cannot_sign_is_an_unsupported_key(kms: Kms, code: str) -> None:
    key = kms.rsa()
    injector = FaultInjector(lambda: json_error(400, code, "no"), count=99)
    key.client.meta.events.register("before-send.kms.Sign", injector)
    try:
        with pytest.raises(UnsupportedKeyError, match=f"{code}.*KeyUsage=SIGN_VERIFY"):
            key.sign(b"data", padding.PKCS1v15(), hashes.SHA256())
    finally:
        key.client.meta.events.unregister("before-send.kms.Sign", injector)
    assert injector.calls == 1


def test_faults_inside_kms_are_retried(kms: Kms) -> None:
    key = kms.rsa()
    for status, code in ((500, "KMSInternalException"), (503, "ServiceUnavailable")):
        injector = FaultInjector(functools.partial(json_error, status, code, "oops"), count=1)
        key.client.meta.events.register("before-send.kms.Sign", injector)
        signature = key.sign(b"data", padding.PKCS1v15(), hashes.SHA256())
        key.client.meta.events.unregister("before-send.kms.Sign", injector)
        key.public_key().verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())
        assert injector.calls == 2


def test_throttled_get_public_key_is_retried(mimeseal_aws: AwsEndpoint, kms: Kms) -> None:
    client = mimeseal_aws.client("kms")
    injector = FaultInjector(lambda: json_error(400, "ThrottlingException", "slow"), count=2)
    client.meta.events.register("before-send.kms.GetPublicKey", injector)
    key = keys.load_signer(kms.create(), kms_client=client, kms_retry=NO_WAIT)
    assert isinstance(key, KmsRsaKey)
    assert injector.calls == 3


def test_answer_without_signature_is_an_error(kms: Kms) -> None:
    key = kms.rsa()
    empty = FaultInjector(lambda: json_answer({}), count=1)
    key.client.meta.events.register("before-send.kms.Sign", empty)
    try:
        with pytest.raises(KmsError, match="without a signature") as info:
            key.sign(b"data", padding.PKCS1v15(), hashes.SHA256())
    finally:
        key.client.meta.events.unregister("before-send.kms.Sign", empty)
    assert info.value.code == "MalformedResponse"


def test_a_client_for_another_region_is_refused(mimeseal_aws: AwsEndpoint, kms: Kms) -> None:
    other = mimeseal_aws.client("kms", region_name="eu-west-1")
    with pytest.raises(KmsError, match="client given is for region eu-west-1") as info:
        keys.load_signer(kms.create(), kms_client=other)  # the URI says us-east-1
    assert info.value.code == "RegionMismatch"


@pytest.mark.parametrize(
    "options", [{"max_attempts": 0}, {"max_attempts": 1.5}, {"base_delay": -1.0}]
)
def test_retry_policy_is_checked(options: dict[str, Any]) -> None:
    with pytest.raises(UsageError, match="max_attempts"):
        KmsRetry(**options)


def test_access_denied_on_get_public_key_fails_the_load(kms: Kms) -> None:
    client = boto3.client("kms", region_name="us-east-1")
    client.meta.events.register(
        "before-send.kms.GetPublicKey",
        FaultInjector(lambda: json_error(400, "AccessDeniedException", "no"), count=1),
    )
    with pytest.raises(KmsError, match=r"reading the public key of .*kms:GetPublicKey"):
        keys.load_signer(kms.create(), kms_client=client)


def test_throttling_is_retried_with_backoff(kms: Kms) -> None:
    waits: list[float] = []
    key = kms.rsa(retry=KmsRetry(sleep=waits.append))
    injector = FaultInjector(lambda: json_error(400, "ThrottlingException", "slow down"), count=2)
    key.client.meta.events.register("before-send.kms.Sign", injector)
    signature = key.sign(b"data", padding.PKCS1v15(), hashes.SHA256())
    key.public_key().verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())
    assert injector.calls == 3
    assert len(waits) == 2
    assert 0 <= waits[0] <= 0.2  # full jitter under base_delay, then doubling
    assert 0 <= waits[1] <= 0.4


def test_persistent_throttling_gives_up_retryable(kms: Kms) -> None:
    key = kms.rsa(retry=KmsRetry(max_attempts=3, sleep=lambda s: None))
    injector = FaultInjector(lambda: json_error(400, "ThrottlingException", "slow"), count=99)
    key.client.meta.events.register("before-send.kms.Sign", injector)
    with pytest.raises(KmsError, match="throttled all 3 attempts") as info:
        key.sign(b"data", padding.PKCS1v15(), hashes.SHA256())
    assert (info.value.retryable, injector.calls) == (True, 3)


def test_unreachable_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:9")
    waits: list[float] = []
    with pytest.raises(KmsError, match="cannot be reached") as info:
        keys.load_signer("awskms:///alias/mail?region=us-east-1", kms_retry=KmsRetry(
            max_attempts=3, sleep=waits.append))  # fmt: skip
    assert info.value.retryable
    assert len(waits) == 2  # three attempts


def test_malformed_endpoint_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", "not a url")
    with pytest.raises(KmsError, match="AWS_ENDPOINT_URL_KMS"):
        keys.load_signer("awskms:///alias/mail?region=us-east-1", kms_retry=NO_WAIT)


@pytest.fixture
def no_aws_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
        "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_aws_config")
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("awskms:///alias/mail", "no AWS region; add \\?region=REGION"),
        ("awskms:///alias/mail?region=us-east-1", "no AWS credentials found"),
    ],
)
def test_missing_region_or_credentials(spec: str, message: str) -> None:
    with pytest.raises(KmsError, match=message):
        keys.load_signer(spec, kms_retry=NO_WAIT)


class FaithfulKms:
    """Answers Sign as AWS KMS does where moto does not (DIGEST messages, PSS salt = digest
    length), with the key material moto holds for the key, so those paths can be checked
    end to end by OpenSSL and dkimpy."""

    def __init__(self, endpoint: KmsEndpoint) -> None:
        self.aws, self.calls = endpoint.aws, 0

    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse:
        from moto.kms.models import kms_backends

        self.calls += 1
        body = json.loads(request.body)
        backend = kms_backends[self.aws.account][self.aws.region]
        record: Any = backend.describe_key(body["KeyId"])
        private = record.private_key.private_key  # moto's own cryptography key object
        algorithm = body["SigningAlgorithm"]
        digest: hashes.HashAlgorithm = {
            "256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()
        }[algorithm[-3:]]  # fmt: skip
        chosen: Any = digest
        if body.get("MessageType") == "DIGEST":
            chosen = utils.Prehashed(digest)
        message = base64.b64decode(body["Message"])
        if algorithm.startswith("RSASSA_PSS"):
            pad = padding.PSS(padding.MGF1(digest), digest.digest_size)
            signature = private.sign(message, pad, chosen)
        elif algorithm.startswith("RSASSA"):
            signature = private.sign(message, padding.PKCS1v15(), chosen)
        else:
            signature = private.sign(message, ec.ECDSA(chosen))
        answer = {"KeyId": body["KeyId"], "Signature": base64.b64encode(signature).decode(),
                  "SigningAlgorithm": algorithm}  # fmt: skip
        return json_answer(answer)


@needs_openssl
def test_pss_and_digest_paths_verify_where_kms_behaves_like_aws(
    kms: Kms, mimeseal_kms: KmsEndpoint, ca: pki.DevCA
) -> None:
    key = kms.rsa()
    faithful = FaithfulKms(mimeseal_kms)
    key.client.meta.events.register("before-send.kms.Sign", faithful)
    requests = Requests(key)
    try:
        signed = smime.sign(
            MESSAGE, key=key, cert=certify(ca, key), chain=[ca.certificate], rsa_padding="pss"
        )
        many = ", ".join(f"r{i}@example.org" for i in range(300))  # a header block over 4 KB
        long_to = MESSAGE.replace(b"To: ", f"To: {many},\r\n ".encode(), 1)
        dkim_signed = dkim.sign(long_to, key=key, domain="example.com", selector="big")
    finally:
        key.client.meta.events.unregister("before-send.kms.Sign", faithful)
    assert [r["MessageType"] for r in requests.sent] == ["RAW", "DIGEST"]
    assert [r["SigningAlgorithm"] for r in requests.sent] == [
        "RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256"]  # fmt: skip
    assert faithful.calls == 2
    assert openssl_accepts(signed, [ca.certificate]).ok
    _, record = record_for_key(key, domain="example.com", selector="big")
    assert dkimpy.verify(dkim_signed, dnsfunc=lambda qname, timeout=5: record.encode())


def test_pss_signature_from_kms_is_sound_apart_from_its_salt(kms: Kms) -> None:
    """The request was right: moto's PSS signature verifies with any salt length."""
    key = kms.rsa()
    raw: list[bytes] = []

    def keep(parsed: dict[str, Any], **kwargs: Any) -> None:
        raw.append(parsed["Signature"])

    key.client.meta.events.register("after-call.kms.Sign", lambda **kw: keep(kw["parsed"]))
    with pytest.raises(KmsError):
        key.sign(b"data", padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    auto = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO)
    key.public_key().verify(raw[0], b"data", auto, hashes.SHA256())
