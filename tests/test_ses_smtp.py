"""Tests for mimeseal.ses.smtp against a real aiosmtpd server on 127.0.0.1 (DESIGN.md §3, SES).

The server speaks STARTTLS with a certificate from a test CA, requires it before MAIL and
AUTH, and stores ``envelope.original_content``: the exact bytes it received after undoing the
dot-stuffing. A scripted handler injects the faults SES produces (454, 421, 554, dropped
connections) so the retry rules are exercised over a real socket.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import MESSAGE, DevPki
from mimeseal import dkim, pki, smime
from mimeseal.errors import SendError, SesRuleError, UsageError
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


# --- the server ----------------------------------------------------------------------------


@dataclass
class Stored:
    data: bytes
    mail_from: str
    rcpt_tos: list[str]


@dataclass
class Handler:
    """Stores what arrives; ``rcpt`` and ``data`` script the next answers, in order.

    An answer is an SMTP reply line, ``"drop"`` (close the connection without storing) or,
    for DATA, ``"store+drop"`` (store the message, then close before replying).
    """

    rcpt: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    messages: list[Stored] = field(default_factory=list)
    logins: list[tuple[bytes, bool]] = field(default_factory=list)
    data_calls: int = 0
    last_server: SMTP | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.last_server = server
        answer = self.rcpt.pop(0) if self.rcpt else self.refuse.get(address, "250 OK")
        if answer == "drop":
            _drop(server)
            return "250 OK"
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.last_server = server
        self.data_calls += 1
        answer = self.data.pop(0) if self.data else "store"
        if answer in ("store", "store+drop"):
            assert envelope.original_content is not None
            assert envelope.mail_from is not None
            self.messages.append(
                Stored(envelope.original_content, envelope.mail_from, list(envelope.rcpt_tos))
            )
        if answer.endswith("drop"):
            _drop(server)
            return "250 Ok never-seen"
        if answer == "store":
            return f"250 Ok 0100018c-{len(self.messages):06d}-ses-like-id-000000"
        return answer

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        self.logins.append((data.login if isinstance(data, LoginPassword) else b"", ok))
        # handled=False makes aiosmtpd answer 535; its default (handled=True) answers nothing.
        return AuthResult(success=ok, handled=False)


def _drop(server: SMTP) -> None:
    """Cut the connection at once, without a reply (a crash or network failure)."""
    assert isinstance(server.transport, asyncio.Transport)
    server.transport.abort()


class Server(Controller):
    """aiosmtpd's Controller on 127.0.0.1 with a free port, counting connections."""

    def __init__(self, handler: Handler, **options: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=0, **options)
        self.connections = 0

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        create = super()._create_server()

        async def learn_port() -> asyncio.AbstractServer:
            server = await create
            assert isinstance(server, asyncio.Server)
            self.port = server.sockets[0].getsockname()[1]
            return server

        return learn_port()

    def factory(self) -> SMTP:
        self.connections += 1
        return SMTP(self.handler, **self.SMTP_kwargs)

    def start(self) -> None:
        super().start()
        self.connections = 0  # the Controller's own readiness probe is not a client

    def close_client_connections(self) -> None:
        """Close the server side of the open connection, as SES does with idle clients."""
        smtp = self.handler.last_server
        assert smtp is not None
        assert smtp.transport is not None
        self.loop.call_soon_threadsafe(smtp.transport.close)
        time.sleep(0.1)


# --- certificates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


def _server_certificate(ca: pki.DevCA) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc)
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski.value),
            critical=False,
        )
    )
    signed = cert.sign(ca.key, hashes.SHA256())
    return signed, key


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A test CA, a server certificate for localhost/127.0.0.1, and contexts for both ends."""
    ca = pki.create_ca(key_type="ec-p256", common_name="mimeseal SMTP test CA")
    cert, key = _server_certificate(ca)
    folder = tmp_path_factory.mktemp("smtp-tls")
    (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "server.pem", folder / "server.key")
    ca_pem = ca.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return Tls(server=server, client=ssl.create_default_context(cadata=ca_pem))


StartServer = Callable[..., tuple[Server, Handler]]


@pytest.fixture
def start_server(tls: Tls) -> Iterator[StartServer]:
    """Start servers: STARTTLS required, AUTH only after TLS, unless options say otherwise."""
    running: list[Server] = []

    def start(handler: Handler | None = None, **options: Any) -> tuple[Server, Handler]:
        handler = handler or Handler()
        if options.pop("starttls", True):
            options.setdefault("tls_context", tls.server)
            options.setdefault("require_starttls", True)
        options.setdefault("authenticator", handler.authenticate)
        options.setdefault("auth_require_tls", True)
        server = Server(handler, **options)
        server.start()
        running.append(server)
        return server, handler

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def server(start_server: StartServer) -> tuple[Server, Handler]:
    return start_server()


def make_sender(server: Server, tls: Tls, **options: Any) -> SmtpSender:
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
def test_server_stores_the_exact_bytes(
    server: tuple[Server, Handler], tls: Tls, message: bytes
) -> None:
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
    server: tuple[Server, Handler], tls: Tls, rsa_pki: DevPki
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


def test_explicit_envelope_is_used(server: tuple[Server, Handler], tls: Tls) -> None:
    smtp, handler = server
    with make_sender(smtp, tls) as sender:
        result = sender.send(
            DOTS_AND_FROM, source="bounces@example.com", destinations=["hidden@example.net"]
        )
    [stored] = handler.messages
    assert (stored.mail_from, stored.rcpt_tos) == ("bounces@example.com", ["hidden@example.net"])
    assert result.destinations == ("hidden@example.net",)


def test_one_connection_is_reused_and_reopened(server: tuple[Server, Handler], tls: Tls) -> None:
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


def test_server_without_starttls_is_refused(start_server: StartServer, tls: Tls) -> None:
    smtp, handler = start_server(starttls=False, auth_require_tls=False)
    with pytest.raises(SendError, match="does not offer STARTTLS") as caught:
        make_sender(smtp, tls).send(DOTS_AND_FROM)
    assert caught.value.attempts == 1
    assert not caught.value.retryable
    assert handler.logins == []  # the password never went out in plain text
    assert handler.messages == []


def test_untrusted_server_certificate_is_refused(server: tuple[Server, Handler]) -> None:
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


def test_tls_from_the_start(start_server: StartServer, tls: Tls) -> None:
    # aiosmtpd counts only STARTTLS as TLS for auth_require_tls, not TLS from the start.
    smtp, handler = start_server(starttls=False, ssl_context=tls.server, auth_require_tls=False)
    with make_sender(smtp, tls, security="tls") as sender:
        sender.send(DOTS_AND_FROM)
    assert [m.data for m in handler.messages] == [DOTS_AND_FROM]
    assert handler.logins == [(USER.encode(), True)]


def test_plain_only_when_allowed_and_loopback(start_server: StartServer) -> None:
    smtp, handler = start_server(starttls=False, authenticator=None)
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
    server: tuple[Server, Handler], tls: Tls, caplog: pytest.LogCaptureFixture
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
    server: tuple[Server, Handler], tls: Tls, caplog: pytest.LogCaptureFixture
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
    start_server: StartServer, tls: Tls, rcpt: list[str], data: list[str]
) -> None:
    handler = Handler(rcpt=rcpt, data=data)
    smtp, _ = start_server(handler)
    with make_sender(smtp, tls) as sender:
        result = sender.send(DOTS_AND_FROM)
    assert result.attempts == 3
    assert [m.data for m in handler.messages] == [DOTS_AND_FROM]
    assert smtp.connections == 3  # the connection is dropped after each failure


def test_retries_are_bounded(start_server: StartServer, tls: Tls) -> None:
    handler = Handler(data=["454 Temporary service failure"] * 10)
    smtp, _ = start_server(handler)
    policy = RetryPolicy(max_attempts=3, sleep=lambda seconds: None)
    with pytest.raises(SendError) as caught:
        make_sender(smtp, tls, retry=policy).send(DOTS_AND_FROM)
    assert (caught.value.code, caught.value.attempts) == ("SMTP 454", 3)
    assert caught.value.retryable
    assert not caught.value.unknown
    assert handler.messages == []


def test_permanent_rejection_is_not_retried(start_server: StartServer, tls: Tls) -> None:
    handler = Handler(data=["554 Message rejected: Email address is not verified."])
    smtp, _ = start_server(handler)
    with pytest.raises(SendError, match="not verified") as caught:
        make_sender(smtp, tls).send(DOTS_AND_FROM)
    assert (caught.value.code, caught.value.attempts) == ("SMTP 554", 1)
    assert not caught.value.retryable
    assert handler.data_calls == 1
    assert handler.messages == []


def test_partial_recipient_refusal_sends_nothing(start_server: StartServer, tls: Tls) -> None:
    handler = Handler(refuse={"carol@example.net": "550 5.1.1 mailbox unavailable"})
    smtp, _ = start_server(handler)
    with pytest.raises(SendError, match=r"carol@example\.net") as caught:
        make_sender(smtp, tls).send(DOTS_AND_FROM)
    assert (caught.value.code, caught.value.attempts) == ("SMTP 550", 1)
    assert handler.data_calls == 0
    assert handler.messages == []


def test_temporary_recipient_refusal_is_retried(start_server: StartServer, tls: Tls) -> None:
    # bob accepted, carol deferred: nothing sent, then both on the next attempt.
    handler = Handler(rcpt=["250 OK", "452 4.5.3 Too many recipients"])
    smtp, _ = start_server(handler)
    with make_sender(smtp, tls) as sender:
        result = sender.send(DOTS_AND_FROM)
    assert result.attempts == 2
    [stored] = handler.messages
    assert stored.rcpt_tos == ["bob@example.org", "carol@example.net"]


def test_drop_after_data_is_reported_unknown(start_server: StartServer, tls: Tls) -> None:
    handler = Handler(data=["store+drop"])
    smtp, _ = start_server(handler)
    with pytest.raises(SendError, match="may have accepted") as caught:
        make_sender(smtp, tls).send(DOTS_AND_FROM)
    assert caught.value.unknown
    assert caught.value.attempts == 1
    assert [m.data for m in handler.messages] == [DOTS_AND_FROM]  # delivered, not duplicated


def test_drop_after_data_is_retried_when_allowed(start_server: StartServer, tls: Tls) -> None:
    handler = Handler(data=["drop"])
    smtp, _ = start_server(handler)
    policy = RetryPolicy(retry_maybe_delivered=True, sleep=lambda seconds: None)
    with make_sender(smtp, tls, retry=policy) as sender:
        result = sender.send(DOTS_AND_FROM)
    assert result.attempts == 2
    assert [m.data for m in handler.messages] == [DOTS_AND_FROM]


def test_drop_before_data_is_safe_to_retry(start_server: StartServer, tls: Tls) -> None:
    # RFC 5321 §3.8: a connection lost before the data counts as a 451; nothing was delivered.
    handler = Handler(rcpt=["drop"])
    smtp, _ = start_server(handler)
    with make_sender(smtp, tls) as sender:
        result = sender.send(DOTS_AND_FROM)
    assert result.attempts == 2
    assert [m.data for m in handler.messages] == [DOTS_AND_FROM]


def test_nobody_listening_is_retried_then_reported(tls: Tls) -> None:
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


def test_presend_rules_refuse_before_connecting(server: tuple[Server, Handler], tls: Tls) -> None:
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
    server: tuple[Server, Handler], tls: Tls, options: dict[str, Any], error: type[Exception]
) -> None:
    smtp, _ = server
    with pytest.raises(error):
        make_sender(smtp, tls).send(DOTS_AND_FROM, **options)
    assert smtp.connections == 0


def test_message_without_from_needs_a_source(server: tuple[Server, Handler], tls: Tls) -> None:
    smtp, _ = server
    no_from = DOTS_AND_FROM.replace(b"From: Alice Example <alice@example.com>\r\n", b"")
    with pytest.raises(UsageError, match="source="):
        make_sender(smtp, tls, check=False).send(no_from)
