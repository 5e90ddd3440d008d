"""Names in path validation: comparing distinguished names and applying name constraints.

Issuer and subject names are compared the way RFC 5280 §7.1 asks (RFC 4518 string
preparation: case-insensitive, insignificant spaces dropped, the string type ignored), not by
their DER bytes: a CA that re-encodes its name from PrintableString to UTF8String, or a
subscriber certificate whose issuer differs in case, still chains (NIST PKITS §4.3).

Name constraints (RFC 5280 §4.2.1.10) are applied to rfc822Name (a mailbox, a host, or
``.domain`` for any subdomain), dNSName, uniformResourceIdentifier (its host), iPAddress and
directoryName subtrees. The subject's emailAddress attributes count as rfc822Names (RFC 5280
§4.2.1.10, "legacy implementations"; RFC 8550 §3 still uses them). Mailbox local parts are
compared exactly, domains case-insensitively (RFC 5280 §7.5). A name that a critical
constraint covers but this module cannot judge (an otherName, a malformed address) fails the
path: constraints fail closed.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import NameOID

NameKey = tuple[frozenset[tuple[str, str | bytes]], ...]
"""A distinguished name in RFC 5280 §7.1 comparison form: one set of (type, value) per RDN."""

_SMTP_UTF8_MAILBOX = "1.3.6.1.5.5.7.8.9"  # RFC 9598: rfc822Name constraints apply to it too


def _prepared(value: str | bytes) -> str | bytes:
    """RFC 4518 §2 in short: compatibility-normalize, fold case, squeeze spaces."""
    if isinstance(value, bytes):
        return value
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def name_key(name: x509.Name) -> NameKey:
    """The comparison form of ``name``: equal keys mean the same name (RFC 5280 §7.1)."""
    return tuple(
        frozenset((attribute.oid.dotted_string, _prepared(attribute.value)) for attribute in rdn)
        for rdn in name.rdns
    )


def is_self_issued(cert: x509.Certificate) -> bool:
    """Subject and issuer are the same name (RFC 5280 §6.1: such CA certificates are key
    rollovers, not extra levels; pathLenConstraint and name constraints skip them)."""
    return name_key(cert.subject) == name_key(cert.issuer)


def printable(text: str, limit: int = 100) -> str:
    """``text`` made safe to quote in a verdict: control characters escaped, length capped."""
    cleaned = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def describe(cert: x509.Certificate) -> str:
    """A certificate as a person reads it: subject and serial number."""
    try:
        subject = cert.subject.rfc4514_string() or "(empty subject)"
    except ValueError:  # an undecodable attribute value: say so rather than fail
        subject = "(unreadable subject)"
    return f"'{printable(subject)}' (serial {printable(f'{cert.serial_number:x}', 40)})"


# --- name constraints -----------------------------------------------------------------------

_Named = tuple[str, object]
"""(kind, value): kind is rfc822, dns, uri, ip, dir, or other:<OID> for names not judged."""


def general_name(general: x509.GeneralName) -> _Named:
    if isinstance(general, x509.RFC822Name):
        return ("rfc822", general.value)
    if isinstance(general, x509.DNSName):
        return ("dns", general.value)
    if isinstance(general, x509.UniformResourceIdentifier):
        return ("uri", general.value)
    if isinstance(general, x509.IPAddress):
        return ("ip", general.value)
    if isinstance(general, x509.DirectoryName):
        return ("dir", general.value)
    if isinstance(general, x509.OtherName):
        if general.type_id.dotted_string == _SMTP_UTF8_MAILBOX:
            return ("rfc822-utf8", general.value)
        return (f"other:{general.type_id.dotted_string}", general.value)
    return (f"other:{type(general).__name__}", general.value)


def _constrained_by(kind: str) -> set[str]:
    """Which constraint kinds apply to a name of ``kind``."""
    if kind == "rfc822-utf8":  # RFC 9598 §6: rfc822Name constraints cover SmtpUTF8Mailbox
        return {"rfc822", "rfc822-utf8"}
    return {kind}


def _host_within(host: str, base: str) -> bool:
    """RFC 5280 §4.2.1.10 for URIs and mail domains: ``.example.com`` is any subdomain,
    ``example.com`` that host only; compared case-insensitively."""
    host, base = host.lower().rstrip("."), base.lower().rstrip(".")
    return host.endswith(base) if base.startswith(".") else host == base


def _within(kind: str, value: object, base: object) -> bool | None:
    """Whether the name lies in the subtree ``base``; None if it cannot be judged."""
    if kind == "dir" and isinstance(value, x509.Name) and isinstance(base, x509.Name):
        prefix = name_key(base)
        return name_key(value)[: len(prefix)] == prefix
    if not isinstance(base, str) and kind != "ip":
        return None
    if kind == "dns" and isinstance(value, str) and isinstance(base, str):
        host, suffix = value.lower().rstrip("."), base.lower().rstrip(".")
        if not suffix:
            return True
        if suffix.startswith("."):
            return host.endswith(suffix)
        return host == suffix or host.endswith("." + suffix)
    if kind == "rfc822" and isinstance(value, str) and isinstance(base, str):
        local, at, domain = value.rpartition("@")
        if not at or not local or not domain:
            return None
        if "@" in base:
            base_local, _, base_domain = base.rpartition("@")
            return local == base_local and domain.lower() == base_domain.lower()
        return _host_within(domain, base)
    if kind == "uri" and isinstance(value, str) and isinstance(base, str):
        try:
            uri_host = urlsplit(value).hostname
        except ValueError:
            return None
        return _host_within(uri_host, base) if uri_host else None
    if kind == "ip" and isinstance(base, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        if not isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            return None
        return value.version == base.version and value in base
    return None


def constrained_names(
    cert: x509.Certificate, san: x509.SubjectAlternativeName | None
) -> list[_Named]:
    """The names of ``cert`` that name constraints apply to (RFC 5280 §6.1.3 (b), (c))."""
    names: list[_Named] = []
    if cert.subject.rdns:
        names.append(("dir", cert.subject))
    for attribute in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS):
        value = attribute.value
        names.append(("rfc822", value if isinstance(value, str) else repr(value)))
    if san is not None:
        names.extend(general_name(general) for general in san)
    return names


def _text(value: object) -> str:
    return value.rfc4514_string() if isinstance(value, x509.Name) else str(value)


def _shown(kind: str, value: object) -> str:
    text = _text(value)
    label = {"rfc822": "rfc822Name", "dns": "dNSName", "uri": "URI", "ip": "iPAddress"}
    return f"{label.get(kind, 'directoryName' if kind == 'dir' else kind)} '{printable(text)}'"


def _subtrees(trees: Sequence[x509.GeneralName] | None) -> list[_Named]:
    return [general_name(general) for general in trees or ()]


def _judge(kind: str, value: object, trees: Iterable[_Named], critical: bool) -> str | None:
    """None if the name passes ``trees`` as a permitted set, else why not."""
    applicable = [base for base_kind, base in trees if base_kind in _constrained_by(kind)]
    if not applicable:
        return None
    results = [_within(kind, value, base) for base in applicable]
    if any(results):
        return None
    if None in results and not critical:
        return None
    shown_trees = ", ".join(printable(_text(base), 40) for base in applicable[:4])
    if None in results:
        return f"{_shown(kind, value)} cannot be checked against the permitted subtrees"
    return f"{_shown(kind, value)} is outside the permitted subtrees ({shown_trees})"


def violation(
    constraints: x509.NameConstraints, critical: bool, names: Iterable[_Named]
) -> str | None:
    """Why ``names`` break ``constraints`` (RFC 5280 §4.2.1.10), or None if they do not.

    A name must lie in one permitted subtree of its type, if the CA lists any of that type,
    and in no excluded subtree. A name the rules cannot judge fails a critical extension.
    """
    permitted = _subtrees(constraints.permitted_subtrees)
    excluded = _subtrees(constraints.excluded_subtrees)
    for kind, value in names:
        problem = _judge(kind, value, permitted, critical)
        if problem is not None:
            return problem
        for base_kind, base in excluded:
            if base_kind not in _constrained_by(kind):
                continue
            inside = _within(kind, value, base)
            if inside:
                excluded_text = printable(_text(base))
                return f"{_shown(kind, value)} is in the excluded subtree '{excluded_text}'"
            if inside is None and critical:
                return f"{_shown(kind, value)} cannot be checked against the excluded subtrees"
    return None
