"""Rules for what Amazon SES refuses or rewrites (DESIGN.md §3, Amazon SES)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message

from mimeseal.check.profiles import SES_V1_LIMIT, Profile
from mimeseal.check.rules_base import Hit, Rule, header_text, sends_via_ses
from mimeseal.check.view import MessageView, Part
from mimeseal.mime import first_header


def _words(text: str) -> list[str]:
    return text.split()


#: Headers SES rewrites or removes (its manual-DKIM page says not to sign them).
SES_REWRITTEN = frozenset({"message-id", "date", "return-path", "bounces-to"})

#: Headers SES accepts only once ("Amazon SES header fields"); DKIM-Signature is left to
#: the ses-two-dkim rule.
SES_SINGLE_HEADERS = frozenset(
    _words(
        """accept-language acceptlanguage archived-at auto-submitted bounces-to comments
    content-alternative content-base content-class content-description content-disposition
    content-duration content-id content-language content-length content-location content-md5
    content-transfer-encoding content-type date delivered-to disposition-notification-options
    disposition-notification-to domainkey-signature errors-to from importance in-reply-to
    keywords list-archive list-help list-id list-owner list-post list-subscribe list-unsubscribe
    list-unsubscribe-post message-context message-id mime-version organization original-from
    original-message-id original-recipient original-subject precedence priority references
    reply-to return-path return-receipt-to sender solicitation sensitivity subject thread-index
    thread-topic user-agent vbr-info"""
    )
)

#: Attachment extensions SES refuses ("Unsupported attachment types", SES developer guide).
BLOCKED_EXTENSIONS = frozenset(
    _words(
        """ade adp app asp bas bat cer chm cmd com cpl crt csh der exe fxp gadget hlp hta inf ins
    isp its js jse ksh lib lnk mad maf mag mam maq mar mas mat mau mav maw mda mdb mde mdt mdw
    mdz msc msh msh1 msh2 mshxml msh1xml msh2xml msi msp mst ops pcd pif plg prf prg reg scf
    scr sct shb shs sys ps1 ps1xml ps2 ps2xml psc1 psc2 tmp url vb vbe vbs vps vsmacros vss
    vst vsw vxd ws wsc wsf wsh xnk"""
    )
)


def _ses_dkim_covers_rewritten(view: MessageView, profile: Profile) -> Iterator[Hit]:
    rewritten = profile.unsigned_headers or SES_REWRITTEN
    for sig in view.dkim:
        signed = sig.signed_headers
        names = sorted({h for h in signed if h in rewritten or h.startswith("x-ses-")})
        if names:
            yield Hit(
                f"DKIM-Signature #{sig.index + 1} signs {', '.join(names)}, which SES "
                "rewrites or removes",
                header="DKIM-Signature",
                part="",
            )


def _ses_two_dkim(view: MessageView, profile: Profile) -> Iterator[Hit]:
    if len(view.dkim) > 1:
        yield Hit(
            f"the message has {len(view.dkim)} DKIM-Signature headers; SES allows one",
            header="DKIM-Signature",
        )


def _size(count: int) -> str:
    return f"{count:,} bytes" + (f" ({count / 1024 / 1024:.2f} MiB)" if count >= 1 << 20 else "")


def _ses_size_limit(view: MessageView, profile: Profile) -> Iterator[Hit]:
    size = len(view.raw)
    if profile.max_size is not None and size > profile.max_size:
        yield Hit(
            f"the message is {_size(size)}; the transport takes at most {_size(profile.max_size)}"
        )


def _ses_v1_size_limit(view: MessageView, profile: Profile) -> Iterator[Hit]:
    size = len(view.raw)
    limit = profile.max_size
    if limit is not None and limit > SES_V1_LIMIT and SES_V1_LIMIT < size <= limit:
        yield Hit(
            f"the message is {_size(size)}: over the {_size(SES_V1_LIMIT)} limit of SES API v1 "
            "(SendRawEmail) and SMTP, within API v2's"
        )


def _ses_duplicate_header(view: MessageView, profile: Profile) -> Iterator[Hit]:
    if not (profile.single_signature or sends_via_ses(profile)):
        return
    counts: dict[str, tuple[str, int]] = {}
    for header in view.headers:
        if header.key in SES_SINGLE_HEADERS:
            name, count = counts.get(header.key, (header.name, 0))
            counts[header.key] = (name, count + 1)
    for name, count in counts.values():
        if count > 1:
            yield Hit(f"the {name} header occurs {count} times; SES allows it once", header=name)


def _too_many_recipients(view: MessageView, profile: Profile) -> Iterator[Hit]:
    limit = profile.max_recipients
    if limit is None:
        return
    count = len({a.lower() for _, a in view.addresses("To", "Cc") if a})
    if count > limit:
        yield Hit(
            f"To and Cc name {count} recipients; the transport takes at most {limit} per "
            "message (Bcc recipients are in the envelope and count too)",
            header="To",
        )


def attachment_filename(part: Part) -> str | None:
    """The part's file name: Content-Disposition filename (RFC 2231 too), else Content-Type
    name; RFC 2047 encoded-words decoded."""
    disposition = first_header(part.headers, "Content-Disposition")
    content_type = first_header(part.headers, "Content-Type")
    if disposition is None and content_type is None:
        return None
    message = Message()
    for header in part.headers:
        if header.key in ("content-disposition", "content-type"):
            message[header.name] = header_text(header)
    try:
        name = message.get_filename()
    except Exception:  # email's RFC 2231 decoding fails in many ways on malformed parameters
        return None
    if not name:
        return None
    if "=?" in name:
        with contextlib.suppress(LookupError, ValueError, UnicodeError):
            name = str(make_header(decode_header(name)))
    return name


def _blocked_extension(name: str) -> str | None:
    base = re.split(r"[/\\]", name)[-1].strip().rstrip(". ").lower()
    _, dot, extension = base.rpartition(".")
    return extension if dot and extension in BLOCKED_EXTENSIONS else None


def _blocked_attachment(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for part in view.leaves():
        name = attachment_filename(part)
        extension = name and _blocked_extension(name)
        if extension:
            yield Hit(
                f"the attachment {name!r} has the extension .{extension}, which SES refuses",
                header="Content-Disposition",
                part=part.path,
            )


RULES = (
    Rule(
        id="ses-dkim-covers-rewritten",
        title="DKIM signs headers SES rewrites",
        default="error",
        meaning="A DKIM signature's h= lists Message-ID, Date, Return-Path, Bounces-To or an "
        "X-SES-* header.",
        why="SES overwrites Message-ID and Date and removes X-SES-* headers; AWS's manual-DKIM "
        "page says not to sign them, because the signature then fails at every receiver.",
        fix="Sign with mimeseal.dkim.sign(..., profile='ses'), which leaves these headers out.",
        check=_ses_dkim_covers_rewritten,
        note="the ses profile makes it an error; the smtp profile switches it off.",
    ),
    Rule(
        id="ses-two-dkim",
        title="More than one DKIM-Signature",
        default="error",
        meaning="The message has more than one DKIM-Signature header.",
        why="SES allows DKIM-Signature once (its header-fields page) and adds its own "
        "amazonses.com signature; a second one is rejected with 'InvalidParameterValue: "
        "Duplicate header'.",
        fix="Sign once with your domain's key; let SES add its own signature.",
        check=_ses_two_dkim,
        note="the ses profile makes it an error; the smtp profile switches it off.",
    ),
    Rule(
        id="ses-size-limit",
        title="Message over the transport's size limit",
        default="error",
        meaning="The message is larger than the profile's max_size (40 MB for SES API v2).",
        why="SES refuses larger messages (SendEmail v2: 40 MB; SendRawEmail v1 and SMTP: 10 MB), "
        "after any base64 growth of attachments.",
        fix="Send large files as links instead of attachments, or compress them.",
        check=_ses_size_limit,
    ),
    Rule(
        id="ses-v1-size-limit",
        title="Message over SES API v1's 10 MB",
        default="warning",
        meaning="The message fits SES API v2's 40 MB but is over 10 MB (10,485,760 bytes).",
        why="SES API v1 (SendRawEmail) and, by default, the SES SMTP interface take at most "
        "10 MB; only SendEmail in API v2 takes it.",
        fix="Send it with the API v2 sender, or make it smaller.",
        check=_ses_v1_size_limit,
    ),
    Rule(
        id="ses-duplicate-header",
        title="Header SES allows once is repeated",
        default="error",
        meaning="A top-level header that SES accepts only once (Content-Type, MIME-Version, "
        "Message-ID, From, References, List-Unsubscribe, Subject, Date, Sender, Reply-To, "
        "In-Reply-To, ...) occurs more than once.",
        why="SES rejects the message with 'InvalidParameterValue: Duplicate header' (SES "
        "header-fields page); RFC 5322 §3.6 also allows most of them once.",
        fix="Keep one copy of the header.",
        check=_ses_duplicate_header,
        note="checked under profiles with single_signature (SES) only.",
    ),
    Rule(
        id="too-many-recipients",
        title="Too many recipients",
        default="error",
        meaning="To and Cc name more recipients than the profile's max_recipients (50 for SES).",
        why="SES takes at most 50 recipients per message, counting To, Cc and Bcc (the Bcc ones "
        "are in the envelope, not the message); larger messages are refused.",
        fix="Split the mailing: send one message per recipient or per batch of 50.",
        check=_too_many_recipients,
    ),
    Rule(
        id="blocked-attachment",
        title="Attachment type SES refuses",
        default="warning",
        ses_default="error",
        meaning="An attachment's file name ends in an extension SES blocks (.exe, .bat, .js, "
        ".vbs, .ps1, .msi, ...).",
        why="SES rejects messages with these attachment types (SES developer guide, "
        "'Unsupported attachment types'); other providers quarantine or strip them.",
        fix="Zip the file (SES allows .zip) or share a link to it.",
        check=_blocked_attachment,
    ),
)
