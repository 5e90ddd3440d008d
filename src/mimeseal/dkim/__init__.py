"""DKIM (RFC 6376, RFC 8463, RFC 8301): canonicalization, signing, verification, key records.

mimeseal owns this engine: the reference implementation (dkimpy) signs RSA in pure Python,
cannot sign with a remote key, canonicalizes one edge case wrongly and accepts signatures a
strict receiver must refuse. dkimpy stays in the test suite as the reference receiver.
:func:`verify` judges each signature; :func:`message_verdict` says whether the message as a
whole is DKIM-authenticated, and by which domains.
"""

from __future__ import annotations

from mimeseal.dkim.records import (
    KeyRecord,
    format_key_record,
    parse_key_record,
    record_name,
    zone_file_record,
)
from mimeseal.dkim.signing import DEFAULT_HEADERS, OVERSIGNED, sign
from mimeseal.dkim.verdict import DkimVerdict, message_verdict
from mimeseal.dkim.verifying import DkimResult, verify

__all__ = [
    "DEFAULT_HEADERS",
    "OVERSIGNED",
    "DkimResult",
    "DkimVerdict",
    "KeyRecord",
    "format_key_record",
    "message_verdict",
    "parse_key_record",
    "record_name",
    "sign",
    "verify",
    "zone_file_record",
]
