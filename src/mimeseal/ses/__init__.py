"""Sending to Amazon SES unaltered: API v2 and v1, the SMTP interface, and a recording sender.

Every sender runs the pre-send rules first (what SES would reject, or what would break the
signatures) and refuses with :class:`~mimeseal.errors.SesRuleError` before any network call;
it then hands over exactly the bytes it was given and reports their SHA-256.
"""

from __future__ import annotations

from mimeseal.ses.api import SesSender
from mimeseal.ses.base import RecordingSender, Sender, SendResult
from mimeseal.ses.retry import RetryPolicy, classify

__all__ = ["RecordingSender", "RetryPolicy", "SendResult", "Sender", "SesSender", "classify"]
