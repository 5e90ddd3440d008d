"""Tests for mimeseal.ses.smtp against a real aiosmtpd server on 127.0.0.1 (DESIGN.md §3, SES).

The server speaks STARTTLS with a certificate from a test CA, requires it before MAIL and
AUTH, and stores ``envelope.original_content``: the exact bytes it received after undoing the
dot-stuffing. A scripted handler injects the faults SES produces (454, 421, 554, dropped
connections) so the retry rules are exercised over a real socket.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import MESSAGE, DevPki
from mimeseal import dkim, smime
from mimeseal.errors import SendError, SesRuleError, UsageError
from mimeseal.pytest_plugin import SmtpFactory
from mimeseal.pytest_plugin.smtp import SmtpHandler, SmtpServer, SmtpTls
from mimeseal.ses.base import digest
from mimeseal.ses.retry import RetryPolicy
from mimeseal.ses.smtp import (
    SmtpSender,
    is_loopback,
    message_id_from_reply,
    ses_smtp_host,
    ses_smtp_password,
)

USER = "AKIAIOSFODNN7EXAMPLE"
PASSWORD = "BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS"
FAST = RetryPolicy(sleep=lambda seconds: None)
HEADERS = (
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: Bob <bob@example.org>, carol@example.net\r\n"
    b"Subject: bytes on the wire\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
)
# Lines smtplib dot-stuffs (the server must unstuff them) and the line send_message mangles.
DOTS_AND_FROM = HEADERS + (
    b".leading dot\r\n"
    b"..two dots\r\n"
    b".\r\n"
    b"From the start of a line (send_message would write >From, cpython#89462)\r\n"
    b">From already quoted\r\n"
    b" .indented dot\r\n"
    b"last line\r\n"
)
# 998 octets + CRLF, the RFC 5322 maximum; the leading dot makes it 1,001 on the wire.
LONGEST_LINE = HEADERS + b"." + b"x" * 997 + b"\r\nshort\r\n"


# --- the server: the plugin's aiosmtpd with STARTTLS (mimeseal.pytest_plugin.smtp) ------------


@pytest.fixture
def tls(mimeseal_smtp_tls: SmtpTls) -> SmtpTls:
    """The plugin's test CA, server certificate for localhost/127.0.0.1, and both contexts."""
    return mimeseal_smtp_tls


Running = tuple[SmtpServer, SmtpHandler]
StartServer = Callable[..., Running]


@pytest.fixture
def start_server(mimeseal_smtp_factory: SmtpFactory) -> StartServer:
    """Start servers: STARTTLS required, AUTH (USER/PASSWORD) only after TLS, unless told."""

    def start(handler: SmtpHandler | None = None, **options: Any) -> Running:
        options.setdefault("credentials", (USER, PASSWORD))
        server = mimeseal_smtp_factory(handler, **options)
        return server, server.handler

    return start


@pytest.fixture
def server(start_server: StartServer) -> Running:
    return start_server()


def make_sender(server: SmtpServer, tls: SmtpTls, **options: Any) -> SmtpSender:
    options.setdefault("username", USER)
    options.setdefault("password", PASSWORD)
    options.setdefault("ssl_context", tls.client)
    options.setdefault("retry", FAST)
    options.setdefault("timeout", 5)
    options.setdefault("local_hostname", "client.test")
    return SmtpSender(host="127.0.0.1", port=server.port, **options)


# --- the SMTP password ----------------------------------------------------------------------


def test_password_matches_aws_published_value() -> None:
    # AWS SDK for PHP's SesClient::generateSmtpPasswordV4 test, made with AWS's sample code.
    assert ses_smtp_password("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-2") == PASSWORD


def test_password_chain_step_by_step() -> None:
    secret, region = "abcdEFGH/ijkl+MNOP1234567890qrstUVWXyz01", "eu-west-1"
    k_date = hmac.new(b"AWS4" + secret.encode(), b"11111111", hashlib.sha256).digest()
    k_region = hmac.new(k_date, b"eu-west-1", hashlib.sha256).digest()
    k_service = hmac.new(k_region, b"ses", hashlib.sha256).digest()
    k_terminal = hmac.new(k_service, b"aws4_request", hashlib.sha256).digest()
    k_message = hmac.new(k_terminal, b"SendRawEmail", hashlib.sha256).digest()
    expected = base64.b64encode(bytes([4]) + k_message).decode()
    password = ses_smtp_password(secret, region)
    assert password == expected
    assert len(base64.b64decode(password)) == 33
    assert ses_smtp_password(secret, "eu-west-2") != password  # region-specific


@pytest.mark.parametrize("region", ["", "US-EAST-1", "us-east-1\r\nX: y", "useast1"])
def test_region_names_are_checked(region: str) -> None:
    with pytest.raises(UsageError):
        ses_smtp_password("secret", region)
    with pytest.raises(UsageError):
        ses_smtp_host(region)


def test_host_and_for_region() -> None:
    assert ses_smtp_host("us-gov-west-1") == "email-smtp.us-gov-west-1.amazonaws.com"
    sender = SmtpSender.for_region("us-east-2", USER, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert (sender.host, sender.port, sender.security) == (
        "email-smtp.us-east-2.amazonaws.com",
        587,
        "starttls",
    )
    assert (sender.username, sender.password) == (USER, PASSWORD)
    assert PASSWORD not in repr(sender)


def test_port_465_means_tls_from_the_start() -> None:
    assert SmtpSender(host="email-smtp.us-east-1.amazonaws.com", port=465).security == "tls"
    assert SmtpSender(host="email-smtp.us-east-1.amazonaws.com").security == "starttls"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"Ok 0100018c1a2b3c4d-11112222-3333-4444-5555-666677778888-000000",
         "0100018c1a2b3c4d-11112222-3333-4444-5555-666677778888-000000"),
        (b"2.0.0 Ok abc-123", "abc-123"),
        (b"OK", "OK"),
        (b"2.0.0 Ok: queued as 4XyZ", "Ok: queued as 4XyZ"),
    ],
)  # fmt: skip
def test_message_id_from_reply(reply: bytes, expected: str) -> None:
    assert message_id_from_reply(reply) == expected


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True),
     ("[::1]", True), ("10.0.0.1", False), ("smtp.example.com", False),
     ("localhost.example.com", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# --- the bytes arrive unaltered -------------------------------------------------------------


@pytest.mark.parametrize("message", [DOTS_AND_FROM, LONGEST_LINE], ids=["dots-from", "998"])
def test_server_stores_the_exact_bytes(server: Running, tls: SmtpTls, message: bytes) -> None:
    smtp, handler = server
    with make_sender(smtp, tls) as sender:
        result = sender.send(message)
    [stored] = handler.messages
    assert stored.data == message
    assert result.sha256 == digest(stored.data) == hashlib.sha256(message).hexdigest()
    assert result.size == len(message)
    assert result.message_id == "0100018c-000001-ses-like-id-000000"
    assert (result.api, result.attempts) == ("smtp", 1)
    assert (stored.mail_from, stored.rcpt_tos) == (
        "alice@example.com",
        ["bob@example.org", "carol@example.net"],
    )
    assert (result.source, result.destinations) == (
        "alice@example.com",
        ("bob@example.org", "carol@example.net"),
    )
    assert handler.logins == [(USER.encode(), True)]


def test_signed_message_still_verifies_after_the_round_trip(
    server: Running, tls: SmtpTls, rsa_pki: DevPki
) -> None:
    smtp, handler = server
    signer = rsa_pki.signer
    signed = smime.sign(MESSAGE, key=signer.key, cert=signer.certificate, chain=signer.chain)
    dkim_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sealed = dkim.sign(signed, key=dkim_key, domain="example.com", selector="s1", profile="ses")
    records = {dkim.record_name("s1", "example.com"): dkim.format_key_record(dkim_key.public_key())}

    with make_sender(smtp, tls) as sender:
        result = sender.send(sealed)

    [stored] = handler.messages
    assert stored.data == sealed
    assert result.sha256 == digest(stored.data)
    assert smime.verify(stored.data, trust=rsa_pki.trust).valid
    [verdict] = dkim.verify(stored.data, records=records)
    assert verdict.passed, verdict.reason


def test_explicit_envelope_is_used(server: Running, tls: SmtpTls) -> None:
    smtp, handler = server
    with make_sender(smtp, tls) as sender:
        result = sender.send(
            DOTS_AND_FROM, source="bounces@example.com", destinations=["hidden@example.net"]
        )
    [stored] = handler.messages
    assert (stored.mail_from, stored.rcpt_tos) == ("bounces@example.com", ["hidden@example.net"])
    assert result.destinations == ("hidden@example.net",)


def test_one_connection_is_reused_and_reopened(server: Running, tls: SmtpTls) -> None:
    smtp, handler = server
    sender = make_sender(smtp, tls)
    assert smtp.connections == 0  # lazy: nothing until the first send
    first = sender.send(DOTS_AND_FROM)
    second = sender.send(LONGEST_LINE)
    assert smtp.connections == 1
    assert first.message_id != second.message_id
    smtp.close_client_connections()  # the server closes the idle connection
    third = sender.send(DOTS_AND_FROM)
    assert third.attempts == 1  # reconnected inside the attempt
    assert smtp.connections == 2
    sender.close()
    sender.close()  # idempotent
    sender.send(DOTS_AND_FROM)
    assert smtp.connections == 3
    sender.close()
    assert [m.data for m in handler.messages] == [
        DOTS_AND_FROM, LONGEST_LINE, DOTS_AND_FROM, DOTS_AND_FROM
    ]  # fmt: skip


# --- TLS is not optional --------------------------------------------------------------------


def test_server_without_starttls_is_refused(start_server: StartServer, tls: SmtpTls) -> None:
    smtp, handler = start_server(mode="none", auth_require_tls=False)
    with pytest.raises(SendError, match="does not offer STARTTLS") as caught:
        make_sender(smtp, tls).send(DOTS_AND_FROM)
    assert caught.value.attempts == 1
    assert not caught.value.retryable
    assert handler.logins == []  # the password never went out in plain text
    assert handler.messages == []


def test_untrusted_server_certificate_is_refused(server: Running) -> None:
    smtp, handler = server
    sender = SmtpSender(
        host="127.0.0.1", port=smtp.port, username=USER, password=PASSWORD, retry=FAST,
        local_hostname="client.test",
    )  # fmt: skip
    with pytest.raises(SendError, match="CERTIFICATE_VERIFY_FAILED") as caught:
        sender.send(DOTS_AND_FROM)
    assert caught.value.attempts == 1
    assert handler.logins == []
    assert handler.messages == []


def test_tls_from_the_start(start_server: StartServer, tls: SmtpTls) -> None:
    # aiosmtpd counts only STARTTLS as TLS for auth_require_tls, not TLS from the start.
    smtp, handler = start_server(mode="implicit", auth_require_tls=False)
    with make_sender(smtp, tls, security="tls") as sender:
        sender.send(DOTS_AND_FROM)
    assert [m.data for m in handler.messages] == [DOTS_AND_FROM]
    assert handler.logins == [(USER.encode(), True)]


def test_plain_only_when_allowed_and_loopback(start_server: StartServer) -> None:
    smtp, handler = start_server(mode="none", credentials=None)
    with pytest.raises(UsageError, match="allow_plain"):
        SmtpSender(host="127.0.0.1", port=smtp.port, security="plain")
    with pytest.raises(UsageError, match="loopback"):
        SmtpSender(host="smtp.example.com", port=smtp.port, security="plain", allow_plain=True)
    with pytest.raises(UsageError, match="loopback"):
        SmtpSender(host="10.1.2.3", port=smtp.port, security="plain", allow_plain=True)
    assert smtp.connections == 0
    with SmtpSender(
        host="127.0.0.1", port=smtp.port, security="plain", allow_plain=True, retry=FAST,
        local_hostname="client.test",
    ) as sender:  # fmt: skip
        sender.send(DOTS_AND_FROM)
    assert [m.data for m in handler.messages] == [DOTS_AND_FROM]


# --- AUTH -----------------------------------------------------------------------------------


def test_wrong_password_is_permanent_and_not_leaked(
    server: Running, tls: SmtpTls, caplog: pytest.LogCaptureFixture
) -> None:
    smtp, handler = server
    wrong = ses_smtp_password("not-the-secret", "us-east-1")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SendError) as caught:
        make_sender(smtp, tls, password=wrong).send(DOTS_AND_FROM)
    assert (caught.value.code, caught.value.attempts) == ("SMTP 535", 1)
    assert not caught.value.retryable
    assert handler.messages == []
    assert handler.logins
    assert all(not ok for _, ok in handler.logins)
    assert wrong not in str(caught.value)
    assert wrong not in caplog.text


def test_password_never_logged(
    server: Running, tls: SmtpTls, caplog: pytest.LogCaptureFixture
) -> None:
    smtp, _ = server
    caplog.set_level(logging.DEBUG)
    with make_sender(smtp, tls) as sender:
        sender.send(DOTS_AND_FROM)
        assert PASSWORD not in repr(sender)
    assert "sent" in caplog.text
    assert PASSWORD not in caplog.text


def test_credentials_come_in_pairs() -> None:
    with pytest.raises(UsageError, match="both"):
        SmtpSender(host="email-smtp.us-east-1.amazonaws.com", username=USER)


# --- faults and retries ---------------------------------------------------------------------


FAULT_454 = "454 Throttling failure: Maximum sending rate exceeded."
FAULT_421 = "421 4.4.2 Timeout waiting for data from client."


@pytest.mark.parametrize(
    ("rcpt", "data"),
    [
        # RCPT answers in order: bob deferred (then carol accepted, but nothing is sent), twice.
        ([FAULT_454, "250 OK", FAULT_454, "250 OK"], []),
        ([], [FAULT_454, FAULT_454]),
        ([], [FAULT_421, FAULT_421]),
    ],
    ids=["rcpt-454", "data-454", "data-421"],
)
def test_temporary_failures_are_retried_and_sent_once(
    start_server: StartServer, tls: SmtpTls, rcpt: list[str], data: list[str]
) -> None:
    handler = SmtpHandler(rcpt=rcpt, data=data)
    smtp, _ = start_server(handler)
    with make_sender(smtp, tls) as sender:
        result = sender.send(DOTS_AND_FROM)
    assert result.attempts == 3
    assert [m.data for m in handler.messages] == [DOTS_AND_FROM]
    assert smtp.connections == 3  # the connection is dropped after each failure


def test_retries_are_bounded(start_server: StartServer, tls: SmtpTls) -> None:
    handler = SmtpHandler(data=["454 Temporary service failure"] * 10)
    smtp, _ = start_server(handler)
    policy = RetryPolicy(max_attempts=3, sleep=lambda seconds: None)
    with pytest.raises(SendError) as caught:
        make_sender(smtp, tls, retry=policy).send(DOTS_AND_FROM)
    assert (caught.value.code, caught.value.attempts) == ("SMTP 454", 3)
    assert caught.value.retryable
    assert not caught.value.unknown
    assert handler.messages == []


def test_permanent_rejection_is_not_retried(start_server: StartServer, tls: SmtpTls) -> None:
    handler = SmtpHandler(data=["554 Message rejected: Email address is not verified."])
    smtp, _ = start_server(handler)
    with pytest.raises(SendError, match="not verified") as caught:
        make_sender(smtp, tls).send(DOTS_AND_FROM)
    assert (caught.value.code, caught.value.attempts) == ("SMTP 554", 1)
    assert not caught.value.retryable
    assert handler.data_calls == 1
    assert handler.messages == []


def test_partial_recipient_refusal_sends_nothing(start_server: StartServer, tls: SmtpTls) -> None:
    handler = SmtpHandler(refuse={"carol@example.net": "550 5.1.1 mailbox unavailable"})
    smtp, _ = start_server(handler)
    with pytest.raises(SendError, match=r"carol@example\.net") as caught:
        make_sender(smtp, tls).send(DOTS_AND_FROM)
    assert (caught.value.code, caught.value.attempts) == ("SMTP 550", 1)
    assert handler.data_calls == 0
    assert handler.messages == []


def test_temporary_recipient_refusal_is_retried(start_server: StartServer, tls: SmtpTls) -> None:
    # bob accepted, carol deferred: nothing sent, then both on the next attempt.
    handler = SmtpHandler(rcpt=["250 OK", "452 4.5.3 Too many recipients"])
    smtp, _ = start_server(handler)
    with make_sender(smtp, tls) as sender:
        result = sender.send(DOTS_AND_FROM)
    assert result.attempts == 2
    [stored] = handler.messages
    assert stored.rcpt_tos == ["bob@example.org", "carol@example.net"]


def test_drop_after_data_is_reported_unknown(start_server: StartServer, tls: SmtpTls) -> None:
    handler = SmtpHandler(data=["store+drop"])
    smtp, _ = start_server(handler)
    with pytest.raises(SendError, match="may have accepted") as caught:
        make_sender(smtp, tls).send(DOTS_AND_FROM)
    assert caught.value.unknown
    assert caught.value.attempts == 1
    assert [m.data for m in handler.messages] == [DOTS_AND_FROM]  # delivered, not duplicated


def test_drop_after_data_is_retried_when_allowed(start_server: StartServer, tls: SmtpTls) -> None:
    handler = SmtpHandler(data=["drop"])
    smtp, _ = start_server(handler)
    policy = RetryPolicy(retry_maybe_delivered=True, sleep=lambda seconds: None)
    with make_sender(smtp, tls, retry=policy) as sender:
        result = sender.send(DOTS_AND_FROM)
    assert result.attempts == 2
    assert [m.data for m in handler.messages] == [DOTS_AND_FROM]


def test_drop_before_data_is_safe_to_retry(start_server: StartServer, tls: SmtpTls) -> None:
    # RFC 5321 §3.8: a connection lost before the data counts as a 451; nothing was delivered.
    handler = SmtpHandler(rcpt=["drop"])
    smtp, _ = start_server(handler)
    with make_sender(smtp, tls) as sender:
        result = sender.send(DOTS_AND_FROM)
    assert result.attempts == 2
    assert [m.data for m in handler.messages] == [DOTS_AND_FROM]


def test_nobody_listening_is_retried_then_reported(tls: SmtpTls) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = RetryPolicy(max_attempts=3, sleep=lambda seconds: None)
    sender = SmtpSender(host="127.0.0.1", port=port, ssl_context=tls.client, retry=policy)
    with pytest.raises(SendError, match="before the message was sent") as caught:
        sender.send(DOTS_AND_FROM)
    assert (caught.value.code, caught.value.attempts) == ("SMTP 451", 3)
    assert not caught.value.unknown


# --- pre-send checks ------------------------------------------------------------------------


def test_presend_rules_refuse_before_connecting(server: Running, tls: SmtpTls) -> None:
    smtp, handler = server
    sender = make_sender(smtp, tls)
    with pytest.raises(SesRuleError, match="line-too-long"):
        sender.send(HEADERS + b"y" * 1200 + b"\r\n")
    with pytest.raises(SesRuleError, match="lf-line-endings"):
        sender.send(DOTS_AND_FROM.replace(b"\r\n", b"\n"))
    assert smtp.connections == 0
    assert handler.messages == []


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"source": "a@example.com\r\nRCPT TO:<x@evil.test>"}, UsageError),
        ({"destinations": []}, UsageError),
        ({"destinations": ["not-an-address"]}, UsageError),
        ({"destinations": ["jörg@example.org"]}, SesRuleError),
        ({"destinations": [f"r{n}@example.org" for n in range(51)]}, SesRuleError),
    ],
)
def test_bad_envelopes_refused_before_connecting(
    server: Running, tls: SmtpTls, options: dict[str, Any], error: type[Exception]
) -> None:
    smtp, _ = server
    with pytest.raises(error):
        make_sender(smtp, tls).send(DOTS_AND_FROM, **options)
    assert smtp.connections == 0


def test_message_without_from_needs_a_source(server: Running, tls: SmtpTls) -> None:
    smtp, _ = server
    no_from = DOTS_AND_FROM.replace(b"From: Alice Example <alice@example.com>\r\n", b"")
    with pytest.raises(UsageError, match="source="):
        make_sender(smtp, tls, check=False).send(no_from)
