"""Talking to AWS KMS for one key: the client, retries, and errors a user can act on.

Only two actions are ever called, ``kms:GetPublicKey`` (once, when a key is loaded) and
``kms:Sign``. botocore's own retries are off: :class:`KmsRetry` retries what can pass
(throttling, faults inside KMS, a dropped connection) with jittered backoff, and every other
failure becomes a :class:`KmsError` (or :class:`UnsupportedKeyError` for a key that cannot sign)
saying what to change. botocore's error texts carry no secrets, so they are kept.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from mimeseal.errors import KmsError, UnsupportedKeyError, UsageError
from mimeseal.keys.kms_uri import KmsKeyRef

__all__ = ["SPEC_ADVICE", "KmsRetry", "KmsSession", "make_client"]

log = logging.getLogger("mimeseal.keys.kms")

SPEC_ADVICE = (
    "create a KMS key with KeyUsage=SIGN_VERIFY and KeySpec RSA_2048/3072/4096 or "
    "ECC_NIST_P256/P384/P521"
)
CONNECT_TIMEOUT, READ_TIMEOUT = 5.0, 15.0
"""Seconds; botocore's 60 s defaults would stall a signing run for minutes on a dead endpoint."""

_RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "KeyUnavailableException",
        "InternalFailure",
        "ServiceUnavailable",
        "RequestTimeout",
    }
)
_CANNOT_SIGN = frozenset({"InvalidKeyUsageException", "UnsupportedOperationException"})
_ACTIONS = {"sign": "Sign", "get_public_key": "GetPublicKey"}
_VERBS = {"sign": "signing with", "get_public_key": "reading the public key of"}


@dataclass(frozen=True)
class KmsRetry:
    """How often to try a KMS request that failed for a passing reason (throttling, a fault).

    Exponential backoff with full jitter: attempt *n* waits up to ``base_delay * 2**(n-1)``
    seconds, capped at ``max_delay``. ``sleep`` is injectable so tests need not wait.
    """

    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise UsageError(f"max_attempts must be an int, not {self.max_attempts!r}")
        if self.max_attempts < 1 or self.base_delay < 0 or self.max_delay < 0:
            raise UsageError(
                "KmsRetry needs max_attempts ≥ 1 and delays ≥ 0 "
                f"(got {self.max_attempts}, {self.base_delay}, {self.max_delay})"
            )

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class KmsSession:
    """One key's KMS client and name; makes the calls and turns failures into mimeseal errors."""

    def __init__(self, ref: KmsKeyRef, client: Any, retry: KmsRetry) -> None:
        self.ref, self.client, self.retry = ref, client, retry

    def get_public_key(self) -> Mapping[str, Any]:
        return self._call("get_public_key", KeyId=self.ref.key_id)

    def sign(self, message: bytes, message_type: str, algorithm: str) -> bytes:
        log.debug("KMS Sign %s %s %s (%d bytes)", self.ref, algorithm, message_type, len(message))
        response = self._call(
            "sign",
            KeyId=self.ref.key_id,
            Message=message,
            MessageType=message_type,
            SigningAlgorithm=algorithm,
        )
        signature = response.get("Signature")
        if not isinstance(signature, bytes | bytearray) or not signature:
            raise KmsError(
                f"KMS answered a Sign request for {self.ref} without a signature; the endpoint "
                "is faulty",
                code="MalformedResponse",
            )
        return bytes(signature)

    def _call(self, operation: str, **params: Any) -> Mapping[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.retry.max_attempts
            try:
                response = getattr(self.client, operation)(**params)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                code = str(error.get("Code") or "Unknown")
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                retryable = code in _RETRYABLE_CODES or int(status or 0) >= 500
                if retryable and not last:
                    self._wait(operation, code, attempt)
                    continue
                self._fail(operation, code, str(error.get("Message") or ""), retryable, attempt)
            except BotoCoreError as exc:
                retryable = _is_transient(exc)
                if retryable and not last:
                    self._wait(operation, type(exc).__name__, attempt)
                    continue
                raise KmsError(
                    f"{_VERBS[operation]} {self.ref} failed: {botocore_advice(exc)}",
                    code=type(exc).__name__,
                    retryable=retryable,
                ) from None
            if not isinstance(response, Mapping):
                raise KmsError(
                    f"KMS gave an unreadable answer for {self.ref}", code="MalformedResponse"
                )
            return response

    def _wait(self, operation: str, code: str, attempt: int) -> None:
        delay = self.retry.delay(attempt)
        log.info("KMS %s on %s: %s; retrying in %.2fs", operation, self.ref, code, delay)
        self.retry.sleep(delay)

    def _fail(
        self, operation: str, code: str, detail: str, retryable: bool, attempts: int
    ) -> NoReturn:
        region = getattr(getattr(self.client, "meta", None), "region_name", None) or "?"
        where = f"{_VERBS[operation]} {self.ref} failed ({code})"
        if code in _CANNOT_SIGN:
            raise UnsupportedKeyError(f"{where}: the key cannot sign; {SPEC_ADVICE}")
        slower = "sign more slowly" if operation == "sign" else "load keys less often"
        advice = {
            "AccessDeniedException": "the IAM policy and the key policy must allow "
            f"kms:{_ACTIONS[operation]}",
            "DisabledException": "the key is disabled; enable it (aws kms enable-key) or use "
            "another key",
            "KMSInvalidStateException": "the key is not usable now (pending deletion or import); "
            "cancel the deletion or use another key",
            "NotFoundException": f"no such key or alias in region {region}; check the key id, "
            "alias and region",
            "ThrottlingException": f"KMS throttled all {attempts} attempts; {slower} or ask AWS "
            "for a higher KMS request quota",
        }.get(code, f"KMS said: {detail or 'no detail'}" + (
            f" (after {attempts} attempts)" if attempts > 1 else ""))  # fmt: skip
        raise KmsError(f"{where}: {advice}", code=code, retryable=retryable)


def _is_transient(exc: Exception) -> bool:
    """A dropped or refused connection or a timeout may pass; a TLS failure will not."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError, SSLError

    return isinstance(exc, BotoConnectionError | HTTPClientError) and not isinstance(exc, SSLError)


def botocore_advice(exc: Exception) -> str:
    """What to do about a failure that happened before KMS could answer."""
    from botocore.exceptions import (
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
        SSLError,
    )

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            "no AWS credentials found; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run where an IAM role is available"
        )
    if isinstance(exc, NoRegionError):
        return "no AWS region; add ?region=REGION to the key URI or set AWS_REGION"
    if isinstance(exc, ProfileNotFound):
        return f"{exc}; add it to ~/.aws/config or drop ?profile= from the key URI"
    if isinstance(exc, SSLError):
        return f"the TLS connection to KMS failed ({exc}); check AWS_CA_BUNDLE and proxies"
    if _is_transient(exc):
        return f"KMS cannot be reached ({exc}); check the network and AWS_ENDPOINT_URL_KMS"
    return str(exc) or type(exc).__name__


def make_client(ref: KmsKeyRef) -> Any:
    """A KMS client for ``ref``'s region and profile; the endpoint from botocore's settings."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.session.Session(profile_name=ref.profile)
        return session.client(
            "kms",
            region_name=ref.region,
            config=Config(
                retries={"total_max_attempts": 1},
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
                user_agent_extra="mimeseal",
            ),
        )
    except BotoCoreError as exc:
        raise KmsError(
            f"cannot set up a KMS client for {ref}: {botocore_advice(exc)}",
            code=type(exc).__name__,
        ) from None
    except ValueError as exc:  # botocore's answer to a malformed endpoint URL
        raise KmsError(
            f"cannot set up a KMS client for {ref}: {exc}; check AWS_ENDPOINT_URL_KMS and "
            "AWS_ENDPOINT_URL",
            code="InvalidEndpoint",
        ) from None


def check_client_region(client: Any, ref: KmsKeyRef) -> None:
    """Refuse a caller's client for another region than the one the key URI names."""
    region = getattr(getattr(client, "meta", None), "region_name", None)
    if ref.region and region and region != ref.region:
        raise KmsError(
            f"the KMS client given is for region {region} but {ref} names {ref.region}; "
            "pass a client for that region or drop it and let mimeseal make one",
            code="RegionMismatch",
        )
