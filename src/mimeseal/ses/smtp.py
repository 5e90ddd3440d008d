"""Sending through the SES SMTP interface, byte for byte.

``smtplib.send_message`` re-flattens the message with ``email.generator`` and mangles lines
starting with "From " (cpython#89462), which breaks S/MIME and DKIM signatures. This sender
hands the raw bytes to ``SMTP.data`` itself (via ``mail``/``rcpt``/``data`` rather than
``sendmail``, to keep SES's ``250 Ok <message-id>`` reply). ``data`` only dot-stuffs, which the
server undoes, and adds a CRLF the message already ends with: the server stores the input.

Security: TLS is never optional. STARTTLS (port 587) or TLS from the start (port 465) is used;
a server that does not offer STARTTLS is refused rather than spoken to in plain text, and plain
SMTP is allowed only to a loopback address for local test servers. The password is never
logged or shown in ``repr``.

Retries: RFC 5321 §3.8 says a connection lost before the end of the data counts as a 451
(nothing was delivered, safe to retry); one lost after the data was sent may have delivered
it, and :class:`RetryPolicy` reports that as ``unknown`` unless told to retry anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import re
import smtplib
import socket
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

from mimeseal.errors import SesRuleError, UsageError
from mimeseal.ses.api import envelope
from mimeseal.ses.base import Sender, SendResult, digest
from mimeseal.ses.presend import check_before_sending
from mimeseal.ses.retry import RetryPolicy

log = logging.getLogger("mimeseal")

Security = Literal["starttls", "tls", "plain"]

#: SES's ports for TLS from the first byte ("TLS wrapper"); its others (25, 587, 2587) use STARTTLS.
TLS_WRAPPER_PORTS = frozenset({465, 2465})
#: SES accepts at most 50 recipients per message (DESIGN.md §3).
MAX_RECIPIENTS = 50

_REGION = re.compile(r"[a-z]{2,}(?:-[a-z]+)+-\d+")
_ENHANCED_STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}\s+")
# An envelope address goes into an SMTP command line: no spaces, controls or angle brackets.
_ADDRESS = re.compile(r"[^\s<>\x00-\x1f\x7f]+@[^\s<>\x00-\x1f\x7f@]+")
# Failures that mean the connection is gone (classified as maybe-delivered by RetryPolicy).
_DISCONNECTS = (smtplib.SMTPServerDisconnected, ConnectionError, socket.timeout)


def ses_smtp_host(region: str) -> str:
    """SES's SMTP endpoint for ``region``, e.g. ``email-smtp.us-east-1.amazonaws.com``."""
    return f"email-smtp.{_check_region(region)}.amazonaws.com"


def ses_smtp_password(secret_key: str, region: str) -> str:
    """The SES SMTP password for an IAM secret access key in ``region`` (AWS's derivation).

    A SigV4-style HMAC-SHA256 chain with the fixed date "11111111", version byte 0x04, base64.
    The password is region-specific: one derived for another region fails with 535.
    """
    key = ("AWS4" + secret_key).encode("utf-8")
    for part in ("11111111", _check_region(region), "ses", "aws4_request", "SendRawEmail"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(b"\x04" + key).decode("ascii")


def _check_region(region: str) -> str:
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise UsageError(f"{region!r} is not an AWS region name (for example 'us-east-1')")
    return region


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ``::1`` (never leaves the machine)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class _Unsent(smtplib.SMTPResponseException):
    """The connection failed before the data was sent: a 451 by RFC 5321 §3.8, safe to retry."""

    def __init__(self, exc: BaseException) -> None:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        super().__init__(451, f"connection lost before the message was sent ({detail})")


class _RecipientsRefused(smtplib.SMTPResponseException):
    """Some recipients were refused, so nothing was sent: all recipients or none."""

    def __init__(self, refused: dict[str, tuple[int, bytes]]) -> None:
        # A permanent refusal decides the outcome; only all-temporary refusals are retryable.
        code = min(refused.values(), key=lambda r: (r[0] < 500, r[0]))[0]
        listed = "; ".join(
            f"{address}: {c} {text.decode('utf-8', 'replace')}"
            for address, (c, text) in refused.items()
        )
        super().__init__(code, f"{len(refused)} recipient(s) refused, nothing was sent: {listed}")
        self.refused = refused


def message_id_from_reply(reply: bytes) -> str:
    """The message id in a 250 reply to DATA: SES answers ``250 Ok <message-id>``.

    An enhanced status code (``2.0.0``) is skipped; without ``Ok`` the whole text is the id.
    """
    text = reply.decode("utf-8", "replace").strip()
    text = _ENHANCED_STATUS.sub("", text, count=1)
    if text[:3].lower() == "ok " and text[3:].strip():
        return text[3:].strip()
    return text


@dataclass
class SmtpSender(Sender):
    """Send raw messages through SES's SMTP interface (or any SMTP server), unaltered.

    One connection is opened on the first send and reused; it is dropped after any failure
    and reopened by the next attempt. Use :meth:`close` (or ``with``) to QUIT.
    """

    host: str
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security: Security = "starttls"
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    allow_plain: bool = False
    timeout: float = 30
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    check: bool = True
    local_hostname: str | None = None
    api: str = field(default="smtp", init=False)
    _conn: smtplib.SMTP | None = field(default=None, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not self.host or not isinstance(self.host, str):
            raise UsageError("host is required, e.g. ses_smtp_host('us-east-1')")
        if self.security not in ("starttls", "tls", "plain"):
            raise UsageError(
                f"security must be 'starttls', 'tls' or 'plain', not {self.security!r}"
            )
        if self.security == "starttls" and self.port in TLS_WRAPPER_PORTS:
            self.security = "tls"  # STARTTLS on a TLS-wrapper port would wait for ever
        if self.security == "plain":
            if not self.allow_plain:
                raise UsageError(
                    "security='plain' sends the message and password unencrypted; use "
                    "'starttls' or 'tls' (or allow_plain=True for a local test server)"
                )
            if not is_loopback(self.host):
                raise UsageError(
                    f"plain SMTP is allowed only to a loopback address (localhost, 127.0.0.0/8, "
                    f"::1), not to {self.host!r}; use security='starttls' or 'tls'"
                )
        if (self.username is None) != (self.password is None):
            raise UsageError("give both username and password for SMTP AUTH, or neither")
        if self.ssl_context is None:
            self.ssl_context = ssl.create_default_context()

    @classmethod
    def for_region(
        cls, region: str, access_key_id: str, secret_access_key: str, **options: Any
    ) -> SmtpSender:
        """A sender for SES in ``region`` authenticating with an IAM key (STARTTLS on 587)."""
        return cls(
            host=ses_smtp_host(region),
            username=access_key_id,
            password=ses_smtp_password(secret_access_key, region),
            **options,
        )

    def send(
        self,
        message: bytes,
        *,
        source: str | None = None,
        destinations: Sequence[str] | None = None,
    ) -> SendResult:
        """Check, then hand ``message`` to the server unaltered; retries what may be retried.

        The envelope defaults to the From address and the To and Cc addresses (give
        ``destinations`` for Bcc). Either every recipient is accepted or nothing is sent.
        """
        if self.check:
            check_before_sending(message, self.api)
        if source is None or destinations is None:
            default_source, default_destinations = envelope(message)
            source = source if source is not None else default_source
            destinations = destinations if destinations is not None else default_destinations
        recipients = list(destinations)
        sender = _check_envelope(source, recipients)
        sha256, size = digest(message), len(message)

        with self._lock:
            reply, attempts = self.retry.run(lambda: self._attempt(message, sender, recipients))
        message_id = message_id_from_reply(reply)
        log.info(
            "sent %d octets via SMTP %s:%d: %s (sha256 %s)",
            size, self.host, self.port, message_id, sha256,
        )  # fmt: skip
        return SendResult(message_id, sha256, size, self.api, attempts, sender, tuple(recipients))

    def close(self) -> None:
        """QUIT the open connection, if any."""
        with self._lock:
            self._drop(polite=True)

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _attempt(self, message: bytes, source: str, recipients: list[str]) -> bytes:
        """One transaction: MAIL, every RCPT, DATA; returns the text of the 250 reply."""
        try:
            conn = self._open_transaction(source, len(message))
            refused: dict[str, tuple[int, bytes]] = {}
            for address in recipients:
                code, text = conn.rcpt(address)
                if code not in (250, 251):
                    refused[address] = (code, text)
            if refused:
                conn.rset()
                raise _RecipientsRefused(refused)
        except _DISCONNECTS as exc:
            self._drop()
            raise _Unsent(exc) from exc
        except BaseException:
            self._drop()
            raise
        try:
            # From here the server may have the message: a lost connection is "maybe delivered".
            code, text = conn.data(message)
        except BaseException:
            self._drop()
            raise
        if code != 250:
            self._drop()
            raise smtplib.SMTPDataError(code, text)
        return text

    def _open_transaction(self, source: str, size: int) -> smtplib.SMTP:
        """MAIL FROM on the open connection, reconnecting once if it was closed while idle."""
        reused = self._conn is not None
        conn = self._conn or self._connect()
        options = [f"SIZE={size}"] if conn.has_extn("size") else []
        try:
            code, text = conn.mail(source, options)
        except _DISCONNECTS:
            if not reused:
                raise
            code, text = 421, b""
        if reused and code == 421:
            # Servers (SES too) close idle connections, some with a 421 first: reconnect once.
            self._drop()
            conn = self._connect()
            options = [f"SIZE={size}"] if conn.has_extn("size") else []
            code, text = conn.mail(source, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, text, source)
        return conn

    def _connect(self) -> smtplib.SMTP:
        """Connect, say EHLO, secure the channel and log in; the connection is kept."""
        # The host goes to the constructor, not to connect(): smtplib takes the name it checks
        # the certificate against (server_hostname) from the constructor only.
        context = self.ssl_context
        conn: smtplib.SMTP
        if self.security == "tls":
            conn = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=context,
            )
        else:
            conn = smtplib.SMTP(
                self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
        try:
            conn.ehlo_or_helo_if_needed()
            if self.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError(
                        f"{self.host}:{self.port} does not offer STARTTLS; refusing to send "
                        "in plain text (check the port: SES uses STARTTLS on 587, TLS on 465)"
                    )
                conn.starttls(context=context)  # raises unless the answer is 220
                conn.ehlo()
            if self.username is not None and self.password is not None:
                conn.login(self.username, self.password)
        except BaseException:
            conn.close()
            raise
        log.debug("connected to %s:%d (%s)", self.host, self.port, self.security)
        self._conn = conn
        return conn

    def _drop(self, *, polite: bool = False) -> None:
        """Forget the connection (QUIT first if ``polite``); the next attempt reconnects."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if polite:
                conn.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            conn.close()


def _check_envelope(source: str | None, recipients: Sequence[str]) -> str:
    """Refuse an envelope SES would reject, or that would not fit in an SMTP command."""
    if not source:
        raise UsageError("the message has no From address; pass source='sender@example.com'")
    if not recipients:
        raise UsageError("no recipients: the message has no To or Cc; pass destinations=[...]")
    if len(recipients) > MAX_RECIPIENTS:
        raise SesRuleError(
            f"not sent: {len(recipients)} recipients; SES accepts at most {MAX_RECIPIENTS} "
            "per message (send it several times)"
        )
    for address in (source, *recipients):
        if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
            raise UsageError(f"{address!r} is not a usable envelope address (user@domain)")
        if not address.isascii():
            raise SesRuleError(
                f"not sent: {address!r} is not ASCII; SES does not support SMTPUTF8 "
                "(use a punycode domain and an ASCII local part)"
            )
    return source
