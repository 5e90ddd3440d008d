"""The sender interface: one ``send`` method, real and test implementations side by side.

Every sender hands over exactly the bytes it is given and proves it: the result carries the
SHA-256 and size of what was handed to SES (or the SMTP server).
"""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SendResult:
    """What was sent: the service's message id, and the digest of the exact bytes handed over."""

    message_id: str
    sha256: str
    size: int
    api: str
    attempts: int
    source: str | None = None
    destinations: tuple[str, ...] = ()


def digest(message: bytes) -> str:
    return hashlib.sha256(message).hexdigest()


class Sender(ABC):
    """Base class of every sender (SES API v2/v1, SES SMTP, recording)."""

    api: str = "abstract"

    @abstractmethod
    def send(
        self,
        message: bytes,
        *,
        source: str | None = None,
        destinations: Sequence[str] | None = None,
    ) -> SendResult:
        """Send ``message`` unaltered; raise SesRuleError before sending, SendError after."""

    def close(self) -> None:  # noqa: B027 - optional hook, most senders hold nothing
        """Release connections (SMTP); the default has nothing to release."""


@dataclass
class RecordedMessage:
    data: bytes
    source: str | None
    destinations: tuple[str, ...]


@dataclass
class RecordingSender(Sender):
    """Keeps the exact bytes instead of sending them: for tests and dry runs."""

    api: str = "recording"
    sent: list[RecordedMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(
        self,
        message: bytes,
        *,
        source: str | None = None,
        destinations: Sequence[str] | None = None,
    ) -> SendResult:
        with self._lock:
            self.sent.append(RecordedMessage(bytes(message), source, tuple(destinations or ())))
            number = len(self.sent)
        return SendResult(
            message_id=f"recorded-{number}",
            sha256=digest(message),
            size=len(message),
            api=self.api,
            attempts=1,
            source=source,
            destinations=tuple(destinations or ()),
        )
