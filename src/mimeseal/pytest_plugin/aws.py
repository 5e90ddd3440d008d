"""An AWS endpoint on loopback (moto's ``ThreadedMotoServer``) and an SES view on top of it.

One server per test session serves every AWS service moto knows (SES now, KMS later), so the
server part knows nothing about SES. boto3 and moto are imported only when a fixture runs.

What moto keeps of a raw message: it decodes the bytes as UTF-8 and stores the text, so
:meth:`SesEndpoint.sent` gives back exactly the bytes sent for every message that is valid
UTF-8 — all 7-bit mail (CRLF, bare CR or LF, dots, ``From `` lines included) and 8-bit UTF-8.
Other 8-bit bytes make moto answer HTTP 500 (real SES would take them); mimeseal's pre-send
rules refuse 8-bit content before that anyway.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from mimeseal.errors import UsageError
from mimeseal.local_aws import moto_server

if TYPE_CHECKING:
    from mimeseal.ses.api import SesSender

__all__ = ["AwsEndpoint", "SentMessage", "SesEndpoint", "running_aws_server"]

#: Fake credentials: set for the session when the environment has none, and always used by
#: the clients made here, so a developer's real keys are never read for a fake server.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
DEFAULT_REGION = "us-east-1"
_INSTALL_HINT = "install moto's server (pip install 'moto[server]', or 'mimeseal[local]')"


@dataclass(frozen=True)
class AwsEndpoint:
    """A running AWS endpoint: give ``url`` to boto3 as ``endpoint_url``."""

    url: str
    region: str
    account: str

    def client(self, service: str, **options: Any) -> Any:
        """A boto3 client for ``service`` on this endpoint, with fake credentials.

        botocore's own retries are off (as in mimeseal's senders), so a test sees every
        attempt; ``options`` go to ``boto3.client`` and override these defaults.
        """
        import boto3
        from botocore.config import Config

        settings: dict[str, Any] = {
            "endpoint_url": self.url,
            "region_name": self.region,
            "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "config": Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        }
        settings.update(options)
        return boto3.client(service, **settings)  # type: ignore[call-overload]


@contextmanager
def running_aws_server() -> Iterator[AwsEndpoint]:
    """Start moto's server on 127.0.0.1 (a free port), stop it and restore the environment after.

    ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_DEFAULT_REGION`` get test
    values only where unset, so code under test that builds its own clients works. werkzeug's
    per-request log lines are silenced while the server runs (moto's ``verbose=False`` does not).
    """
    try:
        from moto.core.models import DEFAULT_ACCOUNT_ID
    except ImportError:
        raise UsageError(f"the AWS fixtures need moto; {_INSTALL_HINT}") from None
    saved = {name: os.environ.get(name) for name in (*FAKE_CREDENTIALS, "AWS_DEFAULT_REGION")}
    for name, value in (*FAKE_CREDENTIALS.items(), ("AWS_DEFAULT_REGION", DEFAULT_REGION)):
        os.environ.setdefault(name, value)
    try:
        with moto_server() as url:
            yield AwsEndpoint(
                url=url,
                region=os.environ["AWS_DEFAULT_REGION"],
                account=os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID),
            )
    finally:
        for name, before in saved.items():
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before


@dataclass(frozen=True)
class SentMessage:
    """One message SES accepted: the exact bytes, the envelope and SES's message id."""

    data: bytes
    source: str | None
    destinations: tuple[str, ...]
    message_id: str

    @property
    def sha256(self) -> str:
        """Compare with ``SendResult.sha256`` to prove the bytes arrived unchanged."""
        return hashlib.sha256(self.data).hexdigest()


class SesEndpoint:
    """SES on the shared AWS endpoint: send through it, read back what it stored, reset it.

    Sent messages live in moto's memory for the whole session; :meth:`clear` empties them
    (the ``mimeseal_ses`` fixture does, before and after each test). Verified identities
    are kept, as in a real account.
    """

    def __init__(self, aws: AwsEndpoint) -> None:
        self.aws = aws

    def __repr__(self) -> str:
        return f"SesEndpoint(url={self.url!r}, region={self.region!r})"

    @property
    def url(self) -> str:
        return self.aws.url

    @property
    def region(self) -> str:
        return self.aws.region

    @property
    def account(self) -> str:
        return self.aws.account

    def _backend(self) -> Any:
        from moto.ses.models import ses_backends

        return ses_backends[self.account][self.region]

    def sent(self) -> list[SentMessage]:
        """Every raw message SES accepted in this endpoint's region since the last
        :meth:`clear`, oldest first.

        Only raw sends are listed (SendRawEmail, SendEmail with ``Content.Raw``: what mimeseal
        sends, and the only kind whose bytes can be signed); simple and templated sends, which
        SES composes itself, are left out.
        """
        return [
            SentMessage(
                data=m.raw_data.encode("utf-8"),
                source=m.source,
                destinations=tuple(m.destinations),
                message_id=m.id,
            )
            for m in list(self._backend().sent_messages)
            if isinstance(getattr(m, "raw_data", None), str)
        ]

    def stored(self) -> list[bytes]:
        """The raw bytes of every message SES accepted, oldest first."""
        return [m.data for m in self.sent()]

    @property
    def last(self) -> bytes:
        """The bytes of the most recent message; an AssertionError if none was sent."""
        __tracebackhide__ = True
        stored = self.stored()
        if not stored:
            raise AssertionError("SES (moto) has stored no message since the test began")
        return stored[-1]

    def clear(self) -> None:
        """Forget the sent messages (identities stay verified)."""
        self._backend().sent_messages.clear()

    def verify_identity(self, *identities: str) -> None:
        """Verify sender addresses (``alice@example.com``) or whole domains (``example.com``).

        moto, like SES in the sandbox, refuses to send from an unverified identity.
        """
        if not identities:
            raise UsageError("name at least one address or domain to verify")
        client = self.aws.client("ses")
        for identity in identities:
            if not isinstance(identity, str) or not identity or identity.strip() != identity:
                raise UsageError(f"{identity!r} is not an address or domain to verify")
            if "@" in identity:
                client.verify_email_identity(EmailAddress=identity)
            else:
                client.verify_domain_identity(Domain=identity)

    def sender(self, api: Literal["v2", "v1"] = "v2", **options: Any) -> SesSender:
        """A ready ``SesSender`` for this endpoint: fake credentials, and retries without waits.

        ``options`` are ``SesSender``'s (``configuration_set``, ``tags``, ``retry``, ``check``).
        """
        from mimeseal.ses.api import SesSender
        from mimeseal.ses.retry import RetryPolicy

        options.setdefault("retry", RetryPolicy(sleep=lambda seconds: None, base_delay=0))
        if "client" not in options:
            options["client"] = self.aws.client("sesv2" if api == "v2" else "ses")
        return SesSender(api=api, region=self.region, endpoint_url=self.url, **options)
