"""Sending through the SES API: v2 ``SendEmail`` (raw, up to 40 MB) or v1 ``SendRawEmail`` (10 MB).

boto3 base64-encodes ``Data`` itself, so the raw bytes are passed as they are. boto3's own
retries are switched off on clients made here so that :class:`RetryPolicy` alone decides (and
counts) attempts; a client you pass in keeps its own configuration.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any, Literal

from mimeseal.errors import UsageError
from mimeseal.mime import header_boundaries, header_values, parse_headers
from mimeseal.ses.base import Sender, SendResult, digest
from mimeseal.ses.presend import check_before_sending
from mimeseal.ses.retry import RetryPolicy

log = logging.getLogger("mimeseal")


def make_client(
    service: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
) -> Any:
    """A boto3 client with botocore's usual sources for credentials, region and endpoints."""
    import boto3
    from botocore.config import Config

    session: Any = boto3.Session(profile_name=profile) if profile else boto3.Session()
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    return session.client(service, region_name=region, endpoint_url=endpoint_url, config=config)


def envelope(message: bytes) -> tuple[str | None, list[str]]:
    """(From address, To + Cc addresses) of a message, for when none are given."""
    block_end, _ = header_boundaries(message)
    headers = parse_headers(message[:block_end])
    senders = [a for _, a in getaddresses(header_values(headers, "From")) if a]
    recipients = [
        a for _, a in getaddresses(header_values(headers, "To") + header_values(headers, "Cc")) if a
    ]
    return (senders[0] if senders else None), recipients


@dataclass
class SesSender(Sender):
    """Send raw messages through SES API v2 (default) or v1, with retries and pre-send checks."""

    api: Literal["v2", "v1"] = "v2"
    client: Any = None
    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None
    configuration_set: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    check: bool = True

    def __post_init__(self) -> None:
        if self.api not in ("v2", "v1"):
            raise UsageError(f"api must be 'v2' or 'v1' (or use SmtpSender), not {self.api!r}")
        if self.client is None:
            service = "sesv2" if self.api == "v2" else "ses"
            self.client = make_client(
                service, region=self.region, endpoint_url=self.endpoint_url, profile=self.profile
            )

    def send(
        self,
        message: bytes,
        *,
        source: str | None = None,
        destinations: Sequence[str] | None = None,
    ) -> SendResult:
        """Check, then hand ``message`` to SES unaltered; retries what may be retried."""
        if self.check:
            check_before_sending(message, self.api)
        sha256, size = digest(message), len(message)
        tags = [{"Name": k, "Value": v} for k, v in self.tags.items()]

        def call() -> str:
            if self.api == "v2":
                request: dict[str, Any] = {"Content": {"Raw": {"Data": message}}}
                if source:
                    request["FromEmailAddress"] = source
                if destinations:
                    request["Destination"] = {"ToAddresses": list(destinations)}
                if self.configuration_set:
                    request["ConfigurationSetName"] = self.configuration_set
                if tags:
                    request["EmailTags"] = tags
                return str(self.client.send_email(**request)["MessageId"])
            raw: dict[str, Any] = {"RawMessage": {"Data": message}}
            if source:
                raw["Source"] = source
            if destinations:
                raw["Destinations"] = list(destinations)
            if self.configuration_set:
                raw["ConfigurationSetName"] = self.configuration_set
            if tags:
                raw["Tags"] = tags
            return str(self.client.send_raw_email(**raw)["MessageId"])

        message_id, attempts = self.retry.run(call)
        log.info("sent %d octets via SES %s: %s (sha256 %s)", size, self.api, message_id, sha256)
        return SendResult(
            message_id, sha256, size, self.api, attempts, source, tuple(destinations or ())
        )
