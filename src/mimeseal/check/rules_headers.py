"""Rules about the top-level header fields: From, addresses, required and unwanted fields."""

from __future__ import annotations

from collections.abc import Iterator

from mimeseal.check.profiles import Profile
from mimeseal.check.rules_base import Hit, Rule, header_text
from mimeseal.check.view import MessageView
from mimeseal.errors import MessageError
from mimeseal.mime import parse_addresses


def _from_mailboxes(view: MessageView) -> list[str]:
    return [address for _, address in view.addresses("From") if address]


def _no_from(view: MessageView, profile: Profile) -> Iterator[Hit]:
    if not view.header_values("From"):
        yield Hit("the message has no From header")
    elif not _from_mailboxes(view):
        yield Hit("the From header holds no address", header="From")


def _multiple_from(view: MessageView, profile: Profile) -> Iterator[Hit]:
    fields = len(view.header_values("From"))
    mailboxes = _from_mailboxes(view)
    if fields > 1:
        yield Hit(f"the message has {fields} From headers", header="From")
    elif len(mailboxes) > 1:
        yield Hit(
            f"the From header lists {len(mailboxes)} mailboxes ({', '.join(mailboxes)})",
            header="From",
        )


def _non_ascii_header(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for part in view.parts or []:
        for header in part.headers:
            if not header.raw.isascii():
                yield Hit(
                    f"the {header.name} header contains raw non-ASCII bytes",
                    header=header.name,
                    part=part.path,
                )
    if not view.parts:
        for header in view.headers:
            if not header.raw.isascii():
                yield Hit(
                    f"the {header.name} header contains raw non-ASCII bytes", header=header.name
                )


_ADDRESS_HEADERS = ("from", "sender", "reply-to", "to", "cc", "bcc")


def _domain_problem(domain: str) -> str | None:
    if not domain.isascii():
        return "is not punycode (ASCII)"
    for label in domain.lower().split("."):
        if label.startswith("xn--"):
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                return f"has an invalid punycode label {label!r}"
    return None


def _non_ascii_address(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for header in view.headers:
        if header.key not in _ADDRESS_HEADERS:
            continue
        try:
            pairs = parse_addresses([header_text(header)])
        except MessageError:
            continue  # the view's parse error says so
        for _, address in pairs:
            local, at, domain = address.rpartition("@")
            if not at:
                continue
            if not local.isascii():
                yield Hit(f"the address {address!r} has a non-ASCII local part", header=header.name)
            problem = _domain_problem(domain)
            if problem:
                yield Hit(f"the domain of {address!r} {problem}", header=header.name)


def _missing_date(view: MessageView, profile: Profile) -> Iterator[Hit]:
    if not view.header_values("Date"):
        yield Hit("the message has no Date header")


def _missing_message_id(view: MessageView, profile: Profile) -> Iterator[Hit]:
    if not view.header_values("Message-ID"):
        yield Hit("the message has no Message-ID header")


def _bcc_header(view: MessageView, profile: Profile) -> Iterator[Hit]:
    if view.header_values("Bcc"):
        yield Hit("the message carries a Bcc header", header="Bcc")


RULES = (
    Rule(
        id="no-from",
        title="No From address",
        default="error",
        meaning="The message has no From header, or it holds no address.",
        why="RFC 5322 §3.6 requires From; SES refuses the message, DKIM requires From to be "
        "signed (RFC 6376 §5.4) and S/MIME verifiers compare it with the certificate.",
        fix="Add a From header with the sender's address.",
        check=_no_from,
    ),
    Rule(
        id="multiple-from",
        title="Several From headers or mailboxes",
        default="error",
        meaning="The message has more than one From header, or one From with several mailboxes.",
        why="Verifiers and clients pick different ones, the basis of ID attacks on S/MIME "
        "('Johnny, you are fired!', USENIX Security 2019) and of DKIM spoofing; DMARC "
        "receivers reject such mail (RFC 7489 §6.6.1), and SES allows From once.",
        fix="Use exactly one From header with one mailbox; put other authors in Sender or "
        "Reply-To.",
        check=_multiple_from,
    ),
    Rule(
        id="non-ascii-header",
        title="Raw non-ASCII bytes in a header",
        default="error",
        meaning="A header field contains bytes above 127 instead of RFC 2047 encoded-words.",
        why="SES does not support SMTPUTF8, and RFC 5322 headers are ASCII; relays reject or "
        "mangle such fields, and signatures over them break.",
        fix="Encode non-ASCII text as RFC 2047 encoded-words (=?utf-8?q?...?=) and filenames "
        "with RFC 2231.",
        check=_non_ascii_header,
    ),
    Rule(
        id="non-ascii-address",
        title="Internationalized address",
        default="error",
        meaning="An address has a non-ASCII local part, or a domain that is not in punycode.",
        why="Such addresses need SMTPUTF8 (RFC 6531), which SES does not offer; one malformed "
        "address makes SES reject the whole message.",
        fix="Write domains in punycode (xn--...); a non-ASCII local part cannot be sent "
        "through SES at all.",
        check=_non_ascii_address,
    ),
    Rule(
        id="missing-date",
        title="No Date header",
        default="warning",
        ses_default="info",
        meaning="The message has no Date header.",
        why="RFC 5322 §3.6 requires Date; relays other than SES may add one (changing the "
        "message) or score it as spam. SES overwrites Date anyway, so under SES it is only "
        "information.",
        fix="Add a Date header (email.utils.format_datetime).",
        check=_missing_date,
    ),
    Rule(
        id="missing-message-id",
        title="No Message-ID header",
        default="warning",
        ses_default="info",
        meaning="The message has no Message-ID header.",
        why="RFC 5322 §3.6.4 says every message should have one; replies and invitations are "
        "threaded by it and spam filters penalise its absence. SES replaces Message-ID anyway, "
        "so under SES it is only information.",
        fix="Add a Message-ID (email.utils.make_msgid with your domain).",
        check=_missing_message_id,
    ),
    Rule(
        id="bcc-header",
        title="Bcc header in the message",
        default="warning",
        meaning="The message carries a Bcc header field.",
        why="Blind copies belong in the envelope (RFC 5321 RCPT TO, SES Destinations); a Bcc "
        "field in the message may reach the other recipients and reveal them (RFC 5322 §3.6.3).",
        fix="Remove the Bcc header and pass those addresses as envelope recipients only.",
        check=_bcc_header,
    ),
)
