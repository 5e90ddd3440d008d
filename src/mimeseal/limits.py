"""Safety limits for hostile input: how much mimeseal will parse before it refuses.

Verifiers and the checker read mail that strangers wrote. Without bounds a few kilobytes can
cost minutes or gigabytes (a header folded into 100,000 lines, 100,000 empty MIME parts, MIME
nested 1,000 deep, a CMS structure carrying a thousand certificates). :class:`Limits` holds one
number per thing that is counted; every default is far above what real mail needs and far below
what hurts. The public entry points (``smime.verify``, ``dkim.verify``, ``check.check``,
``invite.from_ics``, ``invite.from_message``) take ``limits=`` and pass it down to every parser
they call; without it they use :data:`DEFAULT_LIMITS`.

Exception or verdict — the rule:

- A limit on the input *as a whole* (its size, its header block, its MIME structure, a CMS
  structure, the number of DKIM-Signature fields, a calendar's size or shape) raises
  :class:`~mimeseal.errors.LimitError` before the expensive work starts, from whichever entry
  point met it: the input cannot be judged within the budget, which is not a judgement on any
  signature. The message names the limit, what was found and how to raise it.
- Signing reads the sender's own message, which is not limited (:data:`UNLIMITED`): only
  the recursion ceiling (:data:`DEPTH_CEILING` levels of nesting) applies there.
- What *one signature claims* is judged, not refused: a certificate path longer than
  ``max_chain_length`` is that signer's ``chain-too-long`` problem, and a DKIM ``l=`` beyond
  the body is that signature's ``permerror``. Other signatures in the message are still judged.

Where each limit is checked: ``max_message_bytes`` at the entry of ``smime.verify``,
``dkim.verify``, ``check.check`` and ``invite.from_message``; ``max_header_count``,
``max_header_bytes`` and ``max_header_block_bytes`` in :func:`mimeseal.mime.parse_headers`
(every header block, MIME part headers included); ``max_mime_depth`` and ``max_mime_parts`` by
:class:`PartBudget` in every MIME walker (S/MIME parts, the checker's view, invitation parts) and in
:func:`mimeseal.multipart.split_multipart`; ``max_cms_bytes``, ``max_certificates`` and
``max_signers`` in :func:`mimeseal.cms.parse_signed_data` (``smime.verify`` counts the first two
and ``max_signers`` for the whole message, so many hostile parts cost what one does);
``max_chain_length`` in
:func:`mimeseal.trust.validate_chain`; ``max_dkim_signatures`` in ``dkim.verify``; the
``max_ics_*`` limits in :func:`mimeseal.invite.ics.ics_text`, before icalendar parses. In the
checker a LimitError from a rule (a calendar part too large) propagates like the others.

Checks are O(1) comparisons or piggyback on scans the parsers make anyway, so the verifiers'
hot paths are not slower for them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields

from mimeseal.errors import LimitError

KiB = 1024
MiB = 1024 * KiB
#: The most nesting any depth limit may allow (MIME and calendar parsers recurse per level).
DEPTH_CEILING = 200


def _limit(default: int, why: str) -> int:
    return field(default=default, metadata={"why": why})


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what one call parses; each field says why its default is what it is.

    Frozen, like ``email.policy`` objects: derive variants with :meth:`replace`
    (``DEFAULT_LIMITS.replace(max_header_count=5_000)``).
    """

    max_message_bytes: int = _limit(
        50 * MiB, "SES accepts 40 MB (API v2); 50 MiB leaves room to verify what others send"
    )
    max_header_count: int = _limit(
        1_000, "real messages carry well under 200 header fields, even after many relays"
    )
    max_header_bytes: int = _limit(
        64 * KiB, "one field with its folding; a 1,000-address To: is about 40 KB"
    )
    max_header_block_bytes: int = _limit(
        1 * MiB,
        "all fields of one header block together; real blocks, long Received and ARC chains "
        "included, stay under 100 KB, and each pass over the block costs the checker time",
    )
    max_mime_depth: int = _limit(
        32, "real messages nest under 10 levels; each level is a recursion step"
    )
    max_mime_parts: int = _limit(
        1_000, "MIME parts in the whole message, nested ones included; real mail has < 100"
    )
    max_cms_bytes: int = _limit(
        1 * MiB,
        "the CMS structures of one message without their encapsulated content "
        "(certificates, signer infos, attributes), all together; one is 2-20 KB. The content "
        "itself is bounded by max_message_bytes. In BER the headers of content chunks count "
        "here too, which bounds the number of chunks",
    )
    max_certificates: int = _limit(
        32, "certificates carried in one CMS structure; a signer needs its chain, 1-4"
    )
    max_signers: int = _limit(
        8,
        "SignerInfos in one message, all its signatures together; each costs a path "
        "validation, real messages have 1-2",
    )
    max_chain_length: int = _limit(
        10, "certificates in a validated path, signer and anchor included (8 intermediates)"
    )
    max_dkim_signatures: int = _limit(
        16, "DKIM-Signature fields verified per message; each may cost a body hash and a lookup"
    )
    max_ics_bytes: int = _limit(
        4 * MiB, "one event with hundreds of attendees is < 200 KB; the rest is for ATTACH data"
    )
    max_ics_components: int = _limit(
        1_000, "BEGIN:… components in one calendar (events, overrides, alarms, time zones)"
    )
    max_ics_properties: int = _limit(
        20_000, "content lines in one calendar: 1,000 components of 20 properties"
    )
    max_ics_depth: int = _limit(
        8, "component nesting; VCALENDAR > VEVENT > VALARM is 3, parsers recurse per level"
    )

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{item.name} must be a positive int, not {value!r}")
        for name in ("max_mime_depth", "max_ics_depth"):
            if getattr(self, name) > DEPTH_CEILING:
                raise ValueError(
                    f"Limits.{name} can be at most {DEPTH_CEILING}: the parsers recurse once "
                    "per level, and deeper nesting would exhaust Python's stack"
                )

    def replace(self, **changes: int) -> Limits:
        """A copy with ``changes`` (field name → new maximum); unknown names raise TypeError."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def why(cls, name: str) -> str:
        """The reason behind the default of the field ``name``."""
        return str(next(f.metadata["why"] for f in fields(cls) if f.name == name))


DEFAULT_LIMITS = Limits()
#: For the sender's own messages (signing, 7-bit preparation): nothing is counted, and only the
#: recursion ceiling remains. Limits protect readers of strangers' mail, not writers.
UNLIMITED = Limits(
    **{
        item.name: DEPTH_CEILING if item.name.endswith("_depth") else 2**62
        for item in fields(Limits)
    }
)


def resolve(limits: Limits | None) -> Limits:
    """``limits`` itself, or :data:`DEFAULT_LIMITS` for None (every entry point's default)."""
    return DEFAULT_LIMITS if limits is None else limits


def limit_error(
    name: str, value: int, maximum: int, what: str, *, at_least: bool = False
) -> LimitError:
    """The :class:`LimitError` for ``what`` having ``value`` where ``maximum`` is allowed.

    ``at_least`` says counting stopped at the first value over the limit.
    """
    found = f"more than {maximum:,}" if at_least else f"{value:,}"
    return LimitError(
        f"{what}: {found} found, at most {maximum:,} allowed ({name}; {Limits.why(name)}); "
        f"refused before parsing further — pass limits=Limits({name}=…) "
        "(mimeseal.limits) if this input is legitimate",
        limit=name,
        value=value,
        maximum=maximum,
    )


def check(limits: Limits, name: str, value: int, what: str) -> None:
    """Raise :class:`LimitError` if ``value`` exceeds the field ``name`` of ``limits``."""
    maximum: int = getattr(limits, name)
    if value > maximum:
        raise limit_error(name, value, maximum, what)


class PartBudget:
    """Counts MIME parts and depth over one walk of a message (all levels share the count).

    Walkers call :meth:`enter` per entity and :meth:`remaining` before splitting a multipart,
    so the splitter stops at the first part over the limit instead of listing them all.
    """

    __slots__ = ("limits", "parts")

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = resolve(limits)
        self.parts = 0

    def enter(self, depth: int) -> None:
        """Account for an entity at nesting ``depth`` (the root is 0)."""
        if depth > self.limits.max_mime_depth:
            raise limit_error(
                "max_mime_depth",
                depth,
                self.limits.max_mime_depth,
                "MIME parts nested inside each other (depth)",
                at_least=True,
            )

    def remaining(self) -> int:
        """How many more parts the message may have."""
        return self.limits.max_mime_parts - self.parts

    def add(self, count: int) -> None:
        """Account for ``count`` parts found in one multipart."""
        self.parts += count
        check(self.limits, "max_mime_parts", self.parts, "MIME parts in the message")


def shown(value: object, width: int = 60) -> str:
    """``value`` as text cut to ``width`` characters, for quoting hostile input in a message:
    a 60 KB content type or algorithm name must not become a 60 KB error or verdict."""
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"
