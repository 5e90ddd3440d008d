"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 with STARTTLS, keeping the exact bytes.

The server certificate comes from a throw-away CA made at fixture time; clients trust that CA
through :attr:`SmtpTls.client` (an ``ssl.SSLContext``) or :attr:`SmtpTls.ca_file`. Each message
is stored as ``envelope.original_content``: the bytes received after undoing dot-stuffing,
before any decoding. A handler can be scripted to answer RCPT and DATA with the faults SES's
SMTP interface produces (454 throttling, 421, 554, a dropped connection).
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import ssl
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mimeseal import pki
from mimeseal.errors import UsageError

if TYPE_CHECKING:
    from mimeseal.ses.smtp import SmtpSender

__all__ = ["ReceivedMessage", "SmtpHandler", "SmtpServer", "SmtpTls", "TlsMode"]

TlsMode = Literal["starttls", "implicit", "none"]
_HOST = "127.0.0.1"


@dataclass(frozen=True)
class SmtpTls:
    """TLS material for the test server: a CA, a certificate for localhost/127.0.0.1/::1.

    ``server`` and ``client`` are ready contexts for both ends; ``ca_file`` is the CA as PEM for
    clients that take a path (``ssl.create_default_context(cafile=...)``, ``openssl -CAfile``).
    """

    ca_certificate: x509.Certificate
    ca_file: Path
    cert_file: Path
    key_file: Path
    server: ssl.SSLContext
    client: ssl.SSLContext

    @classmethod
    def create(cls, directory: Path) -> SmtpTls:
        ca = pki.create_ca(key_type="ec-p256", common_name="mimeseal SMTP test CA")
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _server_certificate(ca, key)
        directory.mkdir(parents=True, exist_ok=True)
        ca_file, cert_file, key_file = (directory / n for n in ("ca.pem", "server.pem", "key.pem"))
        ca_file.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_file.chmod(0o600)
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server.load_cert_chain(cert_file, key_file)
        client = ssl.create_default_context(cafile=str(ca_file))
        return cls(ca.certificate, ca_file, cert_file, key_file, server, client)


def _server_certificate(ca: pki.DevCA, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """A TLS server certificate (serverAuth) for the loopback names, valid for a day."""
    now = datetime.now(timezone.utc)
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    usage = dict.fromkeys(
        ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
         "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False,
    )  # fmt: skip
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.KeyUsage(digital_signature=True, **usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski.value),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )


@dataclass(frozen=True)
class ReceivedMessage:
    """What the server received: the exact bytes and the envelope (MAIL FROM, RCPT TO)."""

    data: bytes
    mail_from: str
    rcpt_tos: list[str]


@dataclass
class SmtpHandler:
    """Stores what arrives; ``rcpt`` and ``data`` script the next answers, in order.

    An answer is an SMTP reply line (``"454 Throttling failure"``), ``"drop"`` (close the
    connection without a reply, storing nothing) or, for DATA, ``"store+drop"`` (store the
    message, then close before replying: the client cannot know it was delivered).
    ``refuse`` maps recipient addresses to a permanent answer. ``credentials`` (user,
    password) is what AUTH accepts; ``logins`` records each attempt as (login, accepted).
    """

    rcpt: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    credentials: tuple[str, str] | None = None
    messages: list[ReceivedMessage] = field(default_factory=list)
    logins: list[tuple[bytes, bool]] = field(default_factory=list)
    data_calls: int = 0
    last_server: SMTP | None = None

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
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

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.last_server = server
        self.data_calls += 1
        answer = self.data.pop(0) if self.data else "store"
        if answer in ("store", "store+drop"):
            self.messages.append(
                ReceivedMessage(
                    bytes(envelope.original_content or b""),
                    envelope.mail_from or "",
                    list(envelope.rcpt_tos),
                )
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
        """aiosmtpd's authenticator: accept exactly ``credentials``."""
        login = data.login if isinstance(data, LoginPassword) else b""
        ok = (
            self.credentials is not None
            and isinstance(data, LoginPassword)
            and (data.login, data.password)
            == (self.credentials[0].encode(), self.credentials[1].encode())
        )
        self.logins.append((login, ok))
        # handled=False makes aiosmtpd answer 535; its default (handled=True) answers nothing.
        return AuthResult(success=ok, handled=False)


def _drop(server: SMTP) -> None:
    """Cut the connection at once, without a reply (a crash or network failure)."""
    if isinstance(server.transport, asyncio.Transport):
        server.transport.abort()


class SmtpServer(Controller):
    """aiosmtpd's Controller on 127.0.0.1 with a free port; counts client connections.

    ``messages`` holds what was received; :meth:`sender` gives a ``SmtpSender`` that trusts
    the test CA and logs in with the server's credentials.
    """

    def __init__(
        self, handler: SmtpHandler, *, tls: SmtpTls | None, mode: TlsMode = "starttls",
        **options: Any,
    ) -> None:  # fmt: skip
        super().__init__(handler, hostname=_HOST, port=0, **options)
        self.handler: SmtpHandler = handler
        self.tls, self.mode = tls, mode
        self.connections = 0

    @classmethod
    def build(
        cls, tls: SmtpTls, handler: SmtpHandler | None = None, *, mode: TlsMode = "starttls",
        credentials: tuple[str, str] | Literal["generate"] | None = "generate",
        **options: Any,
    ) -> SmtpServer:  # fmt: skip
        """A server (not yet started): STARTTLS required and AUTH offered only after it.

        ``mode="implicit"`` speaks TLS from the first byte (port 465 style); ``"none"`` no TLS.
        ``credentials`` are what AUTH accepts (generated unless given; None: no AUTH). AUTH is
        offered, not required. ``options`` go to aiosmtpd's ``Controller``/``SMTP`` and win.
        """
        if mode not in ("starttls", "implicit", "none"):
            raise UsageError(f"mode must be 'starttls', 'implicit' or 'none', not {mode!r}")
        handler = handler if handler is not None else SmtpHandler()
        if credentials == "generate":
            credentials = handler.credentials or ("mimeseal", secrets.token_urlsafe(12))
        handler.credentials = credentials
        if mode == "starttls":
            options.setdefault("tls_context", tls.server)
            options.setdefault("require_starttls", True)
        elif mode == "implicit":
            options.setdefault("ssl_context", tls.server)
        options.setdefault("authenticator", handler.authenticate if credentials else None)
        # aiosmtpd counts only STARTTLS as TLS for auth_require_tls, not TLS from the start.
        options.setdefault("auth_require_tls", mode == "starttls")
        return cls(handler, tls=tls, mode=mode, **options)

    def __repr__(self) -> str:
        return f"SmtpServer({_HOST}:{self.port}, {self.mode}, {len(self.messages)} message(s))"

    @property
    def host(self) -> str:
        return _HOST

    @property
    def messages(self) -> list[ReceivedMessage]:
        return self.handler.messages

    @property
    def username(self) -> str | None:
        return self.handler.credentials[0] if self.handler.credentials else None

    @property
    def password(self) -> str | None:
        return self.handler.credentials[1] if self.handler.credentials else None

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        create = super()._create_server()

        async def learn_port() -> asyncio.AbstractServer:
            server = await create
            if isinstance(server, asyncio.Server) and server.sockets:
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
        """Close the server side of the last connection, as SES does with idle clients."""
        smtp = self.handler.last_server
        if smtp is None or smtp.transport is None:
            raise UsageError("no client has connected to this SMTP server yet")
        self.loop.call_soon_threadsafe(smtp.transport.close)
        time.sleep(0.1)

    def sender(self, **options: Any) -> SmtpSender:
        """A ready ``SmtpSender`` for this server: the test CA trusted, retries without waits.

        Logs in with the server's credentials when it has some; ``options`` (``username``,
        ``retry``, ``check``...) override. Close it (or use ``with``) to QUIT.
        """
        from mimeseal.ses.retry import RetryPolicy
        from mimeseal.ses.smtp import SmtpSender

        if self.handler.credentials is not None:
            options.setdefault("username", self.handler.credentials[0])
            options.setdefault("password", self.handler.credentials[1])
        options.setdefault("security", {"starttls": "starttls", "implicit": "tls"}.get(
            self.mode, "plain"))  # fmt: skip
        if options["security"] == "plain":
            options.setdefault("allow_plain", True)
        if self.tls is not None:
            options.setdefault("ssl_context", self.tls.client)
        options.setdefault("retry", RetryPolicy(sleep=lambda seconds: None, base_delay=0))
        options.setdefault("timeout", 10)
        options.setdefault("local_hostname", "client.test")
        return SmtpSender(host=_HOST, port=self.port, **options)
