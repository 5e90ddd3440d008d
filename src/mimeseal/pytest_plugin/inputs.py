"""What the assertions accept, turned into what the verifiers take.

A message may be bytes, a path, or anything with a ``data`` attribute holding bytes (what the
SES and SMTP fixtures store); trust anchors may be certificates, PEM files or anything with a
``trust`` attribute (a development PKI); DKIM records may be a mapping, a callable, None for
DNS, or anything with a ``records`` attribute (a DKIM test key or the key factory).
Wrong types raise :class:`~mimeseal.errors.UsageError`: a mistake in the test, not in the mail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography import x509

from mimeseal.dkim.records import RecordSource
from mimeseal.errors import UsageError

__all__ = [
    "HasData",
    "HasRecords",
    "HasTrust",
    "MessageInput",
    "RecordsInput",
    "TrustInput",
    "lookup_function",
    "message_bytes",
    "record_source",
    "trust_anchors",
]


@runtime_checkable
class HasData(Protocol):
    """A stored message (``SentMessage``, ``ReceivedMessage``, ``RecordedMessage``)."""

    @property
    def data(self) -> bytes: ...


@runtime_checkable
class HasTrust(Protocol):
    """A development PKI (``DevPki``)."""

    @property
    def trust(self) -> tuple[x509.Certificate, ...]: ...


@runtime_checkable
class HasRecords(Protocol):
    """A DKIM test key or key factory."""

    @property
    def records(self) -> Mapping[str, str]: ...


_TrustItem = x509.Certificate | os.PathLike[str] | str | HasTrust
MessageInput = bytes | bytearray | memoryview | os.PathLike[str] | HasData
TrustInput = _TrustItem | Iterable[_TrustItem]
RecordsInput = RecordSource | HasRecords | Iterable[HasRecords]


def message_bytes(message: MessageInput) -> bytes:
    """The message as bytes; a path is read."""
    if isinstance(message, bytes | bytearray | memoryview):
        return bytes(message)
    if isinstance(message, str):
        raise UsageError(
            "pass the message as bytes (text.encode()) or as a pathlib.Path to read, not str: "
            "signatures cover bytes"
        )
    if isinstance(message, os.PathLike):
        try:
            return Path(message).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read the message {message}: {exc.strerror}") from None
    if isinstance(message, HasData) and isinstance(message.data, bytes):
        return message.data
    raise UsageError(
        f"expected the message as bytes, a path, or a stored message, not {type(message).__name__}"
    )


def _load_pem(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    from mimeseal.keys import load_certificates_file

    return list(load_certificates_file(path))


def trust_anchors(trust: TrustInput) -> list[x509.Certificate]:
    """Certificates from certificates, PEM files, PKIs, or a mix; at least one."""
    found: list[x509.Certificate] = []
    single = isinstance(trust, (x509.Certificate, str, os.PathLike, HasTrust))
    items = [trust] if single else list(trust)  # type: ignore[arg-type]
    for item in items:
        if isinstance(item, x509.Certificate):
            found.append(item)
        elif isinstance(item, str | os.PathLike):
            found += _load_pem(item)
        elif isinstance(item, HasTrust):
            found += list(item.trust)
        else:
            raise UsageError(
                "trust must be certificates, PEM file paths or a PKI (mimeseal_pki), "
                f"not {type(item).__name__}"
            )
    if not found:
        raise UsageError("no trust anchors given: pass trust=mimeseal_pki or your CA certificate")
    return found


def record_source(records: RecordsInput) -> RecordSource:
    """A ``records=`` value for mimeseal's DKIM verifier: mapping, callable, or None (DNS)."""
    if records is None:
        return None
    if isinstance(records, HasRecords):  # before callable(): the key factory is callable
        return dict(records.records)
    if isinstance(records, Mapping):
        return dict(records)
    if callable(records):
        return records
    if isinstance(records, str | bytes):
        raise UsageError(
            "records must map names to TXT values, e.g. {'s1._domainkey.example.com': "
            "'v=DKIM1; k=rsa; p=...'}, not a single string"
        )
    merged: dict[str, str] = {}
    for item in records:
        if not isinstance(item, HasRecords):
            raise UsageError(
                "records must be a mapping, a callable, None (DNS), a DKIM test key, or a list "
                f"of DKIM test keys, not a list holding {type(item).__name__}"
            )
        merged.update(item.records)
    return merged


def lookup_function(records: RecordSource) -> Callable[[str], str | None] | None:
    """The records as one function of the record name (None: DNS)."""
    if records is None:
        return None
    from mimeseal.dkim.records import lookup

    source = records
    return lambda name: lookup(name, source)
