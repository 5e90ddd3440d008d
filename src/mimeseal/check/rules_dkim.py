"""Rules about each DKIM-Signature's tags (RFC 6376, RFC 8301, RFC 8058)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

from mimeseal.check.profiles import Profile
from mimeseal.check.rules_base import Hit, Rule
from mimeseal.check.view import DkimSignature, MessageView
from mimeseal.dkim import grammar
from mimeseal.dkim.tags import remove_fws

MIN_DKIM_RSA_BITS = 2048


def _line_of(view: MessageView, sig: DkimSignature) -> int:
    line = 1
    for header in view.headers:
        if header is sig.header:
            return line
        line += header.raw.count(b"\n")
    return line


def _dkim_hit(view: MessageView, sig: DkimSignature, message: str) -> Hit:
    label = f"DKIM-Signature #{sig.index + 1}"
    if sig.tags and "d" in sig.tags:
        label += f" (d={sig.tags['d']})"
    return Hit(f"{label}: {message}", header="DKIM-Signature", part="", line=_line_of(view, sig))


def _dkim_malformed(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for sig in view.dkim:
        if sig.tags is None:
            yield _dkim_hit(view, sig, f"the tag list does not parse: {sig.error}")
            continue
        for problem in grammar.problems(sig.tags):
            yield _dkim_hit(view, sig, problem)


def _algorithm(sig: DkimSignature) -> str:
    return (sig.tags or {}).get("a", "").lower()


def _dkim_rsa_sha1(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for sig in view.dkim:
        if _algorithm(sig) == "rsa-sha1":
            yield _dkim_hit(view, sig, "signed with a=rsa-sha1")


def _dkim_l_tag(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for sig in view.dkim:
        if sig.tags is not None and "l" in sig.tags:
            yield _dkim_hit(view, sig, f"l={sig.tags['l']} limits the signed body length")


def rsa_bits(signature: str) -> int | None:
    """The RSA modulus size a DKIM b= value implies, or None if it is not base64.

    An RSASSA-PKCS1-v1_5 signature is exactly as long as the modulus (RFC 8017 §8.2.1), so
    the decoded b= length times 8 is the key size (to the byte) without fetching the key.
    """
    try:
        data = base64.b64decode(remove_fws(signature), validate=True)
    except (binascii.Error, ValueError):
        return None
    return len(data) * 8 or None


def _dkim_rsa_short(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for sig in view.dkim:
        if not _algorithm(sig).startswith("rsa-") or sig.tags is None:
            continue
        bits = rsa_bits(sig.tags.get("b", ""))
        if bits is not None and bits < MIN_DKIM_RSA_BITS:
            refused = " (verifiers refuse keys under 1024 bits)" if bits < 1024 else ""
            yield _dkim_hit(view, sig, f"the signature implies a {bits}-bit RSA key{refused}")


def _dkim_simple_header(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for sig in view.dkim:
        if sig.tags is None:
            continue
        canon = sig.tags.get("c", "simple/simple").lower()
        if canon.partition("/")[0] == "simple":
            shown = f"c={sig.tags['c']}" if "c" in sig.tags else "no c= tag (simple/simple)"
            yield _dkim_hit(view, sig, f"{shown} signs headers with simple canonicalization")


def _from_not_oversigned(view: MessageView, profile: Profile) -> Iterator[Hit]:
    present = len(view.header_values("From"))
    for sig in view.dkim:
        listed = sig.signed_headers.count("from")
        if listed and listed <= present:
            yield _dkim_hit(
                view,
                sig,
                f"h= lists From {listed} time(s) for {present} From header(s); "
                "a From added later would not break the signature",
            )


def _list_unsubscribe_not_signed(view: MessageView, profile: Profile) -> Iterator[Hit]:
    if not view.header_values("List-Unsubscribe-Post"):
        return
    wanted = {"list-unsubscribe", "list-unsubscribe-post"}
    if not any(wanted <= set(sig.signed_headers) for sig in view.dkim):
        yield Hit(
            "List-Unsubscribe-Post is present but no DKIM signature covers both it and "
            "List-Unsubscribe",
            header="List-Unsubscribe-Post",
        )


RULES = (
    Rule(
        id="dkim-malformed",
        title="Malformed DKIM-Signature",
        default="error",
        meaning="A DKIM-Signature's tag list does not parse, lacks a required tag (v, a, b, bh, "
        "d, h, s), breaks the tag grammar of RFC 6376 §3.5 (d= not a domain name, s= not a "
        "selector, i= without '@' or outside d=, q= without dns/txt, t=/x= over 12 digits, "
        "empty h= entries…), or does not sign From. The verifier applies the same grammar.",
        why="Verifiers return permerror for it (RFC 6376 §6.1.1), so it counts as no signature "
        "at all, and DMARC fails.",
        fix="Sign with mimeseal.dkim.sign; do not edit the header afterwards.",
        check=_dkim_malformed,
    ),
    Rule(
        id="dkim-rsa-sha1",
        title="DKIM rsa-sha1",
        default="error",
        meaning="A DKIM signature uses a=rsa-sha1.",
        why="RFC 8301 §3.1: signers must not use rsa-sha1 and verifiers must treat it as "
        "failing; Gmail and others ignore such signatures.",
        fix="Sign with rsa-sha256 (or ed25519-sha256 plus an rsa-sha256 signature).",
        check=_dkim_rsa_sha1,
    ),
    Rule(
        id="dkim-l-tag",
        title="DKIM body length limit (l=)",
        default="error",
        meaning="A DKIM signature has an l= tag, signing only the first part of the body.",
        why="Anyone can append content after the signed length and keep the signature valid "
        "(RFC 6376 §8.2); many receivers distrust or ignore such signatures.",
        fix="Sign without l= (mimeseal never uses it).",
        check=_dkim_l_tag,
    ),
    Rule(
        id="dkim-rsa-short",
        title="DKIM RSA key under 2048 bits",
        default="warning",
        meaning="An RSA DKIM signature implies a key shorter than 2048 bits. The size is read "
        "from the signature itself: an RSA signature is exactly as long as the modulus, so "
        "8 x (decoded length of b=) is the key size.",
        why="RFC 8301 §3.2: signers must use at least 1024 bits and should use 2048; verifiers "
        "refuse keys under 1024 bits, and short keys can be factored.",
        fix="Generate a 2048-bit (or larger) key, publish it under a new selector and sign "
        "with it.",
        check=_dkim_rsa_short,
    ),
    Rule(
        id="dkim-simple-header",
        title="DKIM simple header canonicalization",
        default="warning",
        meaning="A DKIM signature uses c=simple/... (or no c= tag, which means simple/simple).",
        why="With simple header canonicalization any re-folding or white-space change in a "
        "signed header by a relay breaks the signature (RFC 6376 §3.4.1); relaxed survives it.",
        fix="Sign with c=relaxed/relaxed (mimeseal's default).",
        check=_dkim_simple_header,
    ),
    Rule(
        id="from-not-oversigned",
        title="From is not oversigned",
        default="warning",
        meaning="h= lists From no more times than the message has From headers.",
        why="RFC 6376 §8.15: listing a header once more than it occurs stops anyone adding a "
        "second From that clients display while the signature stays valid.",
        fix="List From in h= once more than it occurs (mimeseal.dkim.sign does this).",
        check=_from_not_oversigned,
    ),
    Rule(
        id="list-unsubscribe-not-signed",
        title="One-click unsubscribe headers not DKIM-signed",
        default="warning",
        meaning="List-Unsubscribe-Post is present but no DKIM signature covers both it and "
        "List-Unsubscribe.",
        why="RFC 8058 §4 requires a valid DKIM signature over both headers; Gmail and Yahoo "
        "ignore one-click unsubscribe (and bulk-sender rules then count against you) otherwise.",
        fix="DKIM-sign with list-unsubscribe and list-unsubscribe-post in h= (mimeseal's default).",
        check=_list_unsubscribe_not_signed,
    ),
)
