"""What every lint rule is made of (:class:`Hit`, :class:`Rule`) and the facts rules share.

A rule is a pure function of a :class:`~mimeseal.check.view.MessageView` and a
:class:`~mimeseal.check.profiles.Profile` that yields :class:`Hit` objects; the registry in
:mod:`mimeseal.check.rules` turns hits into findings. Facts several rules need (where each part
lies in the message, which parts an S/MIME signature covers, the parsed CMS structures) are
computed once per view and memoized on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from mimeseal import cms
from mimeseal.check.findings import Severity
from mimeseal.check.profiles import Profile
from mimeseal.check.view import MessageView, Part
from mimeseal.errors import LimitError, MimesealError
from mimeseal.mime import RawHeader, decode_transfer_encoding
from mimeseal.smime.parts import SignedEntity, iter_signed_entities

_T = TypeVar("_T")
_CALENDAR_TYPE = re.compile(rb"(?im)^content-type:[ \t]*text/calendar")


@dataclass(frozen=True)
class Hit:
    """One place where a rule applies: a one-sentence ``message`` and where it is.

    ``part`` is a MIME path ("" for the root), ``line`` a 1-based line number in the message.
    ``severity``, when set, replaces the rule's default for this hit only (for rules whose
    gravity depends on the content); a profile's explicit setting for the rule still wins.
    """

    message: str
    header: str | None = None
    part: str | None = None
    line: int | None = None
    severity: Severity | None = None


Check = Callable[[MessageView, Profile], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """A lint rule: a stable kebab-case ``id``, its explanation and its ``check``.

    ``default`` is the severity without profile settings; ``ses_default``, when set, replaces
    it under profiles that send through Amazon SES (their transforms include ``ses-transit``).
    ``note`` says when a hit's severity differs from the default.
    """

    id: str
    title: str
    default: Severity
    meaning: str
    why: str
    fix: str
    check: Check
    ses_default: Severity | None = None
    note: str = ""

    def default_in(self, profile: Profile) -> Severity:
        """The default severity for ``profile``, before the profile's own settings."""
        if self.ses_default is not None and sends_via_ses(profile):
            return self.ses_default
        return self.default


def sends_via_ses(profile: Profile) -> bool:
    """True for profiles describing Amazon SES transit (``ses``, ``strict`` and clones)."""
    return "ses-transit" in profile.transforms


def memo(view: MessageView, key: str, compute: Callable[[], _T]) -> _T:
    """``compute()`` once per view; the result lives exactly as long as the view does."""
    try:
        store: dict[str, Any] = vars(view).setdefault("_rule_memo", {})
    except TypeError:  # a view without __dict__: compute every time
        return compute()
    if key not in store:
        store[key] = compute()
    result: _T = store[key]
    return result


# --- where things are --------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A part's place in ``view.canonical``: entity start, body start, entity end."""

    part: Part
    start: int
    body_start: int
    end: int


def spans(view: MessageView) -> list[Span]:
    """Every part's span, in the view's (depth-first) order."""

    def compute() -> list[Span]:
        result = []
        for part in view.parts:
            header_bytes = sum(len(h.raw) for h in part.headers)
            body_start = part.offset + header_bytes
            if view.canonical.startswith(b"\r\n", body_start):
                body_start += 2
            result.append(Span(part, part.offset, body_start, body_start + len(part.body)))
        return result

    return memo(view, "spans", compute)


def span_of(view: MessageView, path: str) -> Span | None:
    return next((s for s in spans(view) if s.part.path == path), None)


def part_at(view: MessageView, position: int) -> str | None:
    """The path of the innermost part containing ``position`` in ``view.canonical``."""
    found = None
    for span in spans(view):
        if span.start <= position < max(span.end, span.start + 1):
            found = span.part.path
    return found


def line_at(view: MessageView, position: int) -> int:
    """1-based line number of ``position`` in ``view.canonical`` (CRLF line ends)."""
    return view.canonical.count(b"\n", 0, position) + 1


def header_at(view: MessageView, position: int) -> str | None:
    """The name of the top-level header field containing ``position``, if any."""
    offset = 0
    for header in view.headers:
        offset += len(header.raw)
        if position < offset:
            return header.name
    return None


def header_line(part: Part) -> int:
    """Line number of a part's first header line."""
    return part.body_line - 1 - sum(h.raw.count(b"\n") for h in part.headers)


def header_text(header: RawHeader) -> str:
    """The unfolded value decoded as UTF-8 (non-ASCII kept, unlike ``RawHeader.value``)."""
    body = header.raw.split(b":", 1)[1]
    unfolded = re.sub(rb"\r?\n(?=[ \t])", b"", body).rstrip(b"\r\n")
    return unfolded.strip().decode("utf-8", "replace")


def decoded(part: Part) -> bytes | None:
    """The part's body without its transfer encoding, or None if it does not decode."""
    try:
        return decode_transfer_encoding(part.body, part.transfer_encoding)
    except MimesealError:
        return None


def descendants(view: MessageView, path: str) -> list[Part]:
    """The part at ``path`` and every part inside it."""
    return [p for p in view.parts if in_region(p.path, path)]


def in_region(path: str, root: str) -> bool:
    return root == "" or path == root or path.startswith(root + ".")


def smime_roots(view: MessageView) -> list[str]:
    """Paths of the entities a multipart/signed signature covers (each one's first child).

    Memoized: rules ask once per part, and a message may have a thousand parts.
    """
    return memo(
        view,
        "smime_roots",
        lambda: [
            p.children[0]
            for p in view.parts
            if p.content_type.type == "multipart/signed" and p.children
        ],
    )


def in_smime_region(view: MessageView, path: str) -> bool:
    return any(in_region(path, root) for root in smime_roots(view))


def dkim_signed_headers(view: MessageView) -> set[str]:
    """Lower-case names of the headers any DKIM signature lists in h=."""
    return {name for sig in view.dkim for name in sig.signed_headers}


# --- S/MIME structures -------------------------------------------------------------------------


@dataclass(frozen=True)
class SmimeSigner:
    index: int
    certificate: x509.Certificate | None
    digest: str  # micalg spelling ("sha-256"), or the algorithm's own name when unknown


@dataclass(frozen=True)
class SmimeEntity:
    entity: SignedEntity
    signers: tuple[SmimeSigner, ...]
    error: str | None  # the CMS structure cannot be read
    detached_econtent: bool = False
    carries_calendar: bool = False  # an opaque signature's content has a text/calendar part


@dataclass(frozen=True)
class Smime:
    entities: tuple[SmimeEntity, ...]
    error: str | None  # the S/MIME structure itself cannot be read


def micalg_name(asn1_digest: str) -> str:
    """asn1crypto's digest name as a micalg value (RFC 8551 §3.5): ``sha256`` → ``sha-256``."""
    name = asn1_digest.lower()
    if name.startswith("sha") and name[3:].isdigit():
        return f"sha-{name[3:]}"
    return name


def smime(view: MessageView) -> Smime:
    """Every signed entity of the message with its signers (memoized)."""
    return memo(view, "smime", lambda: _read_smime(view))


def _read_smime(view: MessageView) -> Smime:
    found: list[SmimeEntity] = []
    error = None
    try:
        for entity in iter_signed_entities(view.canonical, view.limits):
            found.append(_read_entity(entity, view))
    except MimesealError as exc:
        error = str(exc)
    return Smime(tuple(found), error)


def _read_entity(entity: SignedEntity, view: MessageView) -> SmimeEntity:
    try:
        parsed = cms.parse_signed_data(entity.cms_der, view.limits)
    except LimitError:
        raise  # the caller's to see, as smime.verify would raise it
    except MimesealError as exc:
        return SmimeEntity(entity, (), str(exc))
    signers = []
    for index, info in enumerate(parsed.signer_infos):
        digest = micalg_name(cms.digest_of(info))
        signers.append(
            SmimeSigner(index, cms.signer_certificate(info, parsed.certificates), digest)
        )
    detached_econtent = entity.form == "detached" and parsed.econtent is not None
    calendar = bool(parsed.econtent and _CALENDAR_TYPE.search(parsed.econtent))
    return SmimeEntity(entity, tuple(signers), None, detached_econtent, calendar)


def signed_certificates(view: MessageView) -> Iterator[tuple[str, x509.Certificate]]:
    """(part path, certificate) for each signer whose certificate the message carries."""
    seen: set[tuple[str, bytes]] = set()
    for item in smime(view).entities:
        for signer in item.signers:
            cert = signer.certificate
            if cert is None:
                continue
            key = (item.entity.path, cert.fingerprint(hashes.SHA256()))
            if key not in seen:
                seen.add(key)
                yield item.entity.path, cert


def first_match(pattern: re.Pattern[bytes], data: bytes, start: int = 0) -> int:
    match = pattern.search(data, start)
    return -1 if match is None else match.start()
