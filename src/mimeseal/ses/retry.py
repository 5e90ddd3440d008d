"""Which failures are worth another attempt, and the backoff between attempts.

Throttling (``Throttling`` "Maximum sending rate exceeded", v2 ``TooManyRequestsException``),
5xx answers and connection errors are retried with exponential backoff and full jitter,
bounded in attempts and total time. ``MessageRejected``, unverified identities, paused
sending, missing configuration sets, invalid parameters and the daily quota are not
(DESIGN.md §3, SES). A read timeout *after* the request was sent is the one case that can
duplicate: SES may have accepted the message. It is retried only when the caller allows it,
and reported as ``unknown`` otherwise.
"""

from __future__ import annotations

import random
import smtplib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from mimeseal.errors import SendError

T = TypeVar("T")

RETRYABLE_CODES = frozenset({
    "Throttling", "ThrottlingException", "TooManyRequestsException", "ServiceUnavailable",
    "InternalFailure", "InternalServerError", "RequestTimeout", "RequestTimeoutException",
    "SlowDown",
})  # fmt: skip
PERMANENT_CODES = frozenset({
    "MessageRejected", "MailFromDomainNotVerifiedException", "MailFromDomainNotVerified",
    "AccountSendingPausedException", "AccountSuspendedException", "SendingPausedException",
    "ConfigurationSetDoesNotExist", "ConfigurationSetDoesNotExistException",
    "ConfigurationSetSendingPausedException", "InvalidParameterValue",
    "InvalidParameterValueException",
    "BadRequestException", "NotFoundException", "AccessDenied", "AccessDeniedException",
})  # fmt: skip
_RETRYABLE_SMTP = frozenset({421, 450, 451, 452, 454})


@dataclass(frozen=True)
class Failure:
    """A classified failure: its code, whether to retry, and whether the send may have happened."""

    code: str
    message: str
    retryable: bool
    maybe_delivered: bool = False


def classify(exc: BaseException) -> Failure:
    """Classify an exception from boto3/botocore or smtplib."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if "daily message quota" in message.lower():
            return Failure(code, message, retryable=False)
        if code in PERMANENT_CODES:
            return Failure(code, message, retryable=False)
        return Failure(code, message, retryable=code in RETRYABLE_CODES or status >= 500)
    if isinstance(exc, ReadTimeoutError | ConnectionClosedError):
        return Failure(type(exc).__name__, str(exc), retryable=True, maybe_delivered=True)
    if isinstance(exc, EndpointConnectionError):
        return Failure("EndpointConnectionError", str(exc), retryable=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return Failure(f"SMTP {exc.smtp_code}", text, retryable=exc.smtp_code in _RETRYABLE_SMTP)
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError | socket.timeout):
        return Failure(type(exc).__name__, str(exc), retryable=True, maybe_delivered=True)
    return Failure(type(exc).__name__, str(exc), retryable=False)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by ``max_attempts`` and ``max_total``."""

    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 10.0
    max_total: float = 60.0
    retry_maybe_delivered: bool = False
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))

    def run(self, action: Callable[[], T]) -> tuple[T, int]:
        """Run ``action`` until it succeeds or may not be retried; returns (result, attempts)."""
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return action(), attempt
            except Exception as exc:
                failure = classify(exc)
                pause = self.delay(attempt)
                may_retry = failure.retryable and (
                    not failure.maybe_delivered or self.retry_maybe_delivered
                )
                out_of_budget = (
                    attempt >= self.max_attempts
                    or time.monotonic() - started + pause > self.max_total
                )
                if not may_retry or out_of_budget:
                    raise SendError(
                        f"sending failed after {attempt} attempt(s): {failure.code}: "
                        f"{failure.message}"
                        + (
                            " (SES may have accepted it: check before resending)"
                            if failure.maybe_delivered
                            else ""
                        ),
                        code=failure.code,
                        retryable=failure.retryable,
                        attempts=attempt,
                        unknown=failure.maybe_delivered,
                    ) from None
                self.sleep(pause)
