"""SES API v2 and v1 against moto's real HTTP server: exact bytes, pre-send rules, faults."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from cryptography.hazmat.primitives.asymmetric import ed25519

from conftest import MESSAGE, DevPki, SesEndpoint
from faults import FaultInjector, json_error, xml_error
from mimeseal import compose, dkim, smime
from mimeseal.errors import SendError, SesRuleError, UsageError
from mimeseal.ses import RecordingSender, RetryPolicy, SesSender, classify

NO_WAIT = RetryPolicy(sleep=lambda seconds: None, base_delay=0)
DKIM_KEY = ed25519.Ed25519PrivateKey.generate()
RECORDS = {"s1._domainkey.example.com": dkim.format_key_record(DKIM_KEY.public_key())}


@pytest.fixture
def ses(ses_endpoint: SesEndpoint) -> Iterator[SesEndpoint]:
    ses_endpoint.clear()
    yield ses_endpoint
    ses_endpoint.clear()


def sender(endpoint: SesEndpoint, api: str = "v2", **options: Any) -> SesSender:
    return SesSender(api=api, endpoint_url=endpoint.url, region=endpoint.region,  # type: ignore[arg-type]
                     retry=options.pop("retry", NO_WAIT), **options)  # fmt: skip


TRICKY = (
    b"From: alice@example.com\r\nTo: bob@example.org\r\nSubject: dots and From lines\r\n"
    b"Date: Tue, 24 Nov 2026 09:00:00 +0000\r\nMessage-ID: <tricky@example.com>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    b"From the start of a line\r\n.\r\n..two dots\r\n" + b"x" * 998 + b"\r\nend\r\n"
)


def _tricky() -> bytes:
    """Raw 7bit lines SMTP and mbox tools like to change: "From ", ".", a 998-octet line."""
    return TRICKY


def _signed(rsa_pki: DevPki) -> bytes:
    signed = smime.sign(MESSAGE, key=rsa_pki.signer.key, cert=rsa_pki.signer.certificate)
    return dkim.sign(signed, key=DKIM_KEY, domain="example.com", selector="s1", profile="ses")


@pytest.mark.parametrize("api", ["v2", "v1"])
def test_stored_bytes_equal_the_input(ses: SesEndpoint, rsa_pki: DevPki, api: str) -> None:
    messages = [_tricky(), _signed(rsa_pki)]
    results = [sender(ses, api).send(m) for m in messages]
    assert ses.stored() == messages
    for message, result in zip(messages, results, strict=True):
        assert result.sha256 == hashlib.sha256(message).hexdigest()
        assert (result.api, result.attempts, result.size) == (api, 1, len(message))
        assert result.message_id
    stored = ses.stored()[1]
    assert smime.verify(stored, trust=rsa_pki.trust).valid
    assert [r.status for r in dkim.verify(stored, records=RECORDS)] == ["pass"]


def test_source_destinations_configuration_set_and_tags(ses: SesEndpoint) -> None:
    result = sender(ses, tags={"campaign": "q4"}).send(
        _tricky(), source="alice@example.com", destinations=["carol@example.net"]
    )
    assert result.destinations == ("carol@example.net",)
    assert ses.stored() == [_tricky_stored := ses.stored()[0]]
    assert _tricky_stored.startswith(b"From: alice@example.com")


class RequestCounter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, **kwargs: Any) -> None:
        self.calls += 1


@pytest.mark.parametrize(
    ("message", "rule"),
    [
        (b"From: alice@example.com\r\nTo: bob@example.org\r\n\r\n" + b"x" * 1200 + b"\r\n",
         "line-too-long"),
        (MESSAGE.replace(b"Subject: quarterly statement", "Subject: Grüße".encode()),
         "non-ascii-header"),
        (MESSAGE.replace(b"To: Bob <bob@example.org>", b"To: " + b", ".join(
            f"r{i}@example.org".encode() for i in range(51))), "too-many-recipients"),
        (MESSAGE.replace(b"Subject:", b"Subject: one\r\nSubject:"), "ses-duplicate-header"),
        (dkim.sign(MESSAGE, key=DKIM_KEY, domain="example.com", selector="s1"),
         "ses-dkim-covers-rewritten"),
        (MESSAGE.replace(b"\r\n", b"\n"), "lf-line-endings"),
        (MESSAGE.replace(b"Dear Bob", "Dear Björn".encode()), "eight-bit-content"),
    ],
)  # fmt: skip
def test_presend_rules_refuse_before_any_request(
    ses: SesEndpoint, message: bytes, rule: str
) -> None:
    client_sender = sender(ses)
    counter = RequestCounter()
    client_sender.client.meta.events.register("before-send", counter)
    with pytest.raises(SesRuleError, match=rule) as info:
        client_sender.send(message)
    assert counter.calls == 0
    assert ses.stored() == []
    assert any(getattr(f, "rule", None) == rule for f in info.value.findings)


def test_blocked_attachment_and_size_limits(ses: SesEndpoint) -> None:
    exe = compose.compose(from_="alice@example.com", to=["bob@example.org"], text="see file\n",
                          attachments=[compose.Attachment("setup.exe", b"MZ\x90\x00")])  # fmt: skip
    with pytest.raises(SesRuleError, match="blocked-attachment"):
        sender(ses).send(exe)
    payload = compose.Attachment("data.bin", b"\x00" * 8_000_000)
    big = compose.compose(
        from_="alice@example.com", to=["bob@example.org"], text="big\n", attachments=[payload]
    )
    assert len(big) > 10 * 1024 * 1024
    with pytest.raises(SesRuleError, match="ses-size-limit"):
        sender(ses, "v1").send(big)  # 10 MB is SendRawEmail's limit …
    assert sender(ses, "v2").send(big).size == len(big)  # … while v2 takes up to 40 MB
    assert ses.stored() == [big]


# --- faults ----------------------------------------------------------------------------------


V2, V1 = "sesv2.SendEmail", "ses.SendRawEmail"


@pytest.mark.parametrize(
    ("api", "event", "answer"),
    [
        ("v2", V2, lambda: json_error(429, "TooManyRequestsException", "slow down")),
        ("v2", V2, lambda: json_error(500, "InternalFailure", "oops")),
        ("v2", V2, lambda: EndpointConnectionError(endpoint_url="https://ses")),
        ("v1", V1, lambda: xml_error(400, "Throttling", "Maximum sending rate exceeded.")),
        ("v1", V1, lambda: xml_error(503, "ServiceUnavailable", "busy")),
    ],
)
def test_transient_faults_are_retried_and_sent_once(
    ses: SesEndpoint, api: str, event: str, answer: Callable[[], Any]
) -> None:
    active = sender(ses, api)
    injector = FaultInjector(answer, count=2)
    active.client.meta.events.register(f"before-send.{event}", injector)
    result = active.send(_tricky())
    assert result.attempts == 3
    assert ses.stored() == [_tricky()]


def test_retries_are_bounded(ses: SesEndpoint) -> None:
    active = sender(ses, retry=RetryPolicy(max_attempts=3, sleep=lambda s: None, base_delay=0))
    injector = FaultInjector(lambda: json_error(500, "InternalFailure", "down"), count=99)
    active.client.meta.events.register("before-send.sesv2.SendEmail", injector)
    with pytest.raises(SendError) as info:
        active.send(_tricky())
    assert (info.value.attempts, info.value.retryable, info.value.code) == (
        3,
        True,
        "InternalFailure",
    )
    assert injector.calls == 3
    assert ses.stored() == []


@pytest.mark.parametrize(
    ("api", "event", "answer", "code"),
    [
        ("v1", V1, lambda: xml_error(400, "Throttling", "Daily message quota exceeded."), "Thr"),
        ("v2", V2, lambda: json_error(400, "AccountSuspendedException", "paused"), "Acc"),
        ("v1", V1, lambda: xml_error(400, "ConfigurationSetDoesNotExist", "nope"), "Con"),
    ],
)
def test_permanent_errors_are_not_retried(
    ses: SesEndpoint, api: str, event: str, answer: Callable[[], Any], code: str
) -> None:
    active = sender(ses, api)
    injector = FaultInjector(answer, count=99)
    active.client.meta.events.register(f"before-send.{event}", injector)
    with pytest.raises(SendError) as info:
        active.send(_tricky())
    assert (info.value.attempts, info.value.retryable) == (1, False)
    assert (info.value.code or "").startswith(code)
    assert injector.calls == 1


def test_unverified_sender_is_rejected_by_moto_and_not_retried(ses: SesEndpoint) -> None:
    message = _tricky().replace(b"From: alice@example.com", b"From: mallory@example.com")
    with pytest.raises(SendError) as info:
        sender(ses).send(message)
    assert info.value.attempts == 1
    assert not info.value.retryable
    assert ses.stored() == []


def test_timeout_after_sending_is_unknown_not_resent(ses: SesEndpoint) -> None:
    """The one duplicate case: SES may have accepted it. Not retried unless allowed."""
    active = sender(ses)
    timeout = FaultInjector(lambda: ReadTimeoutError(endpoint_url="https://ses"), count=1)
    active.client.meta.events.register("before-send.sesv2.SendEmail", timeout)
    with pytest.raises(SendError) as info:
        active.send(_tricky())
    assert info.value.unknown
    assert info.value.attempts == 1
    allowed = sender(ses, retry=RetryPolicy(sleep=lambda s: None, retry_maybe_delivered=True))
    allowed.client.meta.events.register(
        "before-send.sesv2.SendEmail",
        FaultInjector(lambda: ReadTimeoutError(endpoint_url="https://ses"), count=1),
    )
    assert allowed.send(_tricky()).attempts == 2


def test_classify_client_errors() -> None:
    def error(code: str, message: str = "", status: int = 400) -> ClientError:
        response: Any = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return ClientError(response, "SendEmail")

    assert classify(error("Throttling", "Maximum sending rate exceeded.")).retryable
    assert not classify(error("Throttling", "Daily message quota exceeded.")).retryable
    assert not classify(error("MessageRejected", "Email address is not verified.")).retryable
    assert classify(error("Whatever", status=502)).retryable
    assert not classify(error("Whatever", status=400)).retryable


def test_recording_sender_keeps_exact_bytes() -> None:
    recorder = RecordingSender()
    result = recorder.send(MESSAGE, source="alice@example.com", destinations=["bob@example.org"])
    assert recorder.sent[0].data == MESSAGE
    assert result.sha256 == hashlib.sha256(MESSAGE).hexdigest()


def test_unknown_api_is_refused() -> None:
    with pytest.raises(UsageError):
        SesSender(api="v3", client=object())  # type: ignore[arg-type]
