"""DKIM signing (RFC 6376 §5) with rsa-sha256 and ed25519-sha256 (RFC 8463).

The signature is made through the key object's ``sign`` method only, so any implementation
of ``cryptography``'s private-key interface (a KMS or HSM key) signs. The message body is
hashed in place; the only copy made is the returned message.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from mimeseal.dkim.canonicalize import Canonicalization, canonical_body, canonical_header
from mimeseal.dkim.headers import SignatureHeaders, select_headers
from mimeseal.errors import DkimError, UnsupportedKeyError
from mimeseal.limits import UNLIMITED
from mimeseal.mime import CRLF, RawHeader, header_boundaries, parse_headers, to_crlf

log = logging.getLogger("mimeseal")

DkimKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
MIN_RSA_BITS = 1024
RECOMMENDED_RSA_BITS = 2048

#: Signed when present.
DEFAULT_HEADERS = (
    "from", "to", "cc", "subject", "reply-to", "date", "message-id", "mime-version",
    "content-type", "content-transfer-encoding", "in-reply-to", "references",
    "list-unsubscribe", "list-unsubscribe-post",
)  # fmt: skip
#: Listed once more than they occur, so none can be added after signing.
OVERSIGNED = frozenset(
    {
        "from", "to", "cc", "subject", "reply-to", "content-type", "mime-version",
        "list-unsubscribe", "list-unsubscribe-post",
    }
)  # fmt: skip
#: Never signed: added, rewritten or removed in transit.
FORBIDDEN = frozenset(
    {"return-path", "received", "bcc", "dkim-signature", "arc-seal", "arc-message-signature",
     "arc-authentication-results", "authentication-results", "x-ses-source-arn",
     "x-ses-from-arn", "x-ses-return-path-arn", "bounces-to"}
)  # fmt: skip
#: Left out under profile="ses": SES replaces or removes them (DESIGN.md §3, SES).
SES_UNSIGNED = frozenset({"message-id", "date", "return-path", "bounces-to"})
PROFILES = ("ses",)
#: What h= can carry: a field name without ';', '=' or white space (which would inject tags).
_FIELD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def algorithm_for(key: object) -> str:
    """``rsa-sha256`` or ``ed25519-sha256``, from the key type; refuses RSA under 1024 bits."""
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise UnsupportedKeyError(
                f"a {key.key_size}-bit RSA key is too short for DKIM (RFC 8301: at least "
                f"{MIN_RSA_BITS}, {RECOMMENDED_RSA_BITS} recommended); generate a new key"
            )
        if key.key_size < RECOMMENDED_RSA_BITS:
            log.warning(
                "DKIM-signing with a %d-bit RSA key; receivers may treat it as weak, use %d bits",
                key.key_size,
                RECOMMENDED_RSA_BITS,
            )
        return "rsa-sha256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519-sha256"
    raise UnsupportedKeyError(
        f"{type(key).__name__} cannot DKIM-sign; use an RSA (≥2048-bit) or Ed25519 key"
    )


def raw_signature(key: DkimKey, data: bytes) -> bytes:
    """Sign the header hash input: RSA over the data, Ed25519 over its SHA-256 (RFC 8463 §3)."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(hashlib.sha256(data).digest())


def _check_domain(value: str, what: str) -> str:
    if not value or not value.isascii() or any(c in value for c in " ;=\t\r\n"):
        raise DkimError(
            f"{what} {value!r} is not a valid ASCII domain or selector (use punycode for IDNs)"
        )
    return value.lower().rstrip(".")


def _header_list(
    headers: Sequence[RawHeader], wanted: Iterable[str] | None, profile: str | None
) -> list[str]:
    explicit = wanted is not None
    names = [n.strip().lower() for n in (wanted if wanted is not None else DEFAULT_HEADERS)]
    malformed = [n for n in names if not _FIELD_NAME.fullmatch(n)]
    if malformed:
        raise DkimError(
            f"not header field names (letters, digits and '-' only): {', '.join(malformed)}"
        )
    if "from" not in names:
        names.insert(0, "from")
    refused = [n for n in names if n in FORBIDDEN or n.startswith("x-ses-")]
    if refused:
        raise DkimError(
            f"these headers must not be DKIM-signed (they change in transit): {', '.join(refused)}"
        )
    if profile == "ses":
        dropped = [n for n in names if n in SES_UNSIGNED]
        if explicit and dropped:
            raise DkimError(
                f"under profile 'ses' these headers cannot be signed, SES rewrites them: "
                f"{', '.join(dropped)}"
            )
        names = [n for n in names if n not in SES_UNSIGNED]
    listed: list[str] = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        count = sum(1 for h in headers if h.key == name)
        if explicit and not count and name not in OVERSIGNED:
            log.warning("DKIM: the message has no %s header to sign (typo?)", name)
        listed += [name] * (count + (1 if name in OVERSIGNED else 0))
    return listed


def _fold_tags(tags: list[tuple[str, str]], width: int = 78) -> str:
    """``DKIM-Signature:`` field text, lines filled to ``width`` (h= may break at its colons)."""
    words: list[str] = []
    for name, value in tags:
        if name == "h":  # FWS is allowed around the colons of h= (RFC 6376 §3.5)
            names = value.split(":")
            words += [f"h={names[0]}"] + [f":{n}" for n in names[1:]]
            words[-1] += ";"
        else:
            words.append(f"{name}={value};")
    lines, line = [], "DKIM-Signature:"
    for word in words:
        joiner = "" if word.startswith(":") else " "
        if len(line) + len(joiner) + len(word) > width and line.strip():
            lines.append(line)
            line = " " + word.lstrip(":") if not word.startswith(":") else " " + word
            continue
        line += joiner + word
    lines.append(line)
    return "\r\n".join(lines)


def _fold_b64(value: str) -> str:
    return "\r\n ".join(value[i : i + 72] for i in range(0, len(value), 72))


def sign(
    message: bytes,
    *,
    key: DkimKey,
    domain: str,
    selector: str,
    headers: Iterable[str] | None = None,
    canonicalization: tuple[Canonicalization, Canonicalization] = ("relaxed", "relaxed"),
    identity: str | None = None,
    expires: datetime | int | None = None,
    profile: str | None = None,
    timestamp: datetime | int | None = None,
) -> bytes:
    """Return ``message`` with a ``DKIM-Signature`` header prepended.

    Input with bare LF (or CR) line ends is converted to CRLF first, and the converted bytes
    are returned. ``headers`` replaces the default list (From is always signed); headers in
    ``OVERSIGNED`` are listed once more than they occur. ``profile="ses"`` leaves out what SES
    rewrites and refuses a second DKIM-Signature (SES rejects duplicate headers). ``l=`` is
    never used; ``t=`` is always set, ``x=`` when ``expires`` is given.
    """
    algorithm = algorithm_for(key)
    domain, selector = _check_domain(domain, "domain"), _check_domain(selector, "selector")
    if profile not in (None, *PROFILES):
        raise DkimError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    header_c, body_c = canonicalization
    if header_c not in ("simple", "relaxed") or body_c not in ("simple", "relaxed"):
        raise DkimError(f"canonicalization must be simple or relaxed, not {canonicalization}")
    message = to_crlf(message)
    block_end, body_start = header_boundaries(message)
    parsed = parse_headers(message[:block_end], UNLIMITED)  # the sender's own message
    if not any(h.is_named("From") for h in parsed):
        raise DkimError("the message has no From header; DKIM requires From to be signed")
    if profile == "ses" and any(h.is_named("DKIM-Signature") for h in parsed):
        raise DkimError(
            "the message already has a DKIM-Signature; SES adds its own and rejects a message "
            "with a repeated DKIM-Signature header (profile 'ses')"
        )
    if identity is not None:
        _, at, host = identity.rpartition("@")
        host = host.lower()
        if not at or not (host == domain or host.endswith("." + domain)):
            raise DkimError(f"identity {identity!r} must be an address at {domain} or a subdomain")
    signed_names = _header_list(parsed, headers, profile)
    body_hash = hashlib.sha256()
    for piece in canonical_body(message, body_c, body_start):
        body_hash.update(piece)
    now = _epoch(timestamp) if timestamp is not None else int(time.time())
    tags = [("v", "1"), ("a", algorithm), ("c", f"{header_c}/{body_c}"), ("d", domain),
            ("s", selector), ("t", str(now))]  # fmt: skip
    if expires is not None:
        expiry = _epoch(expires)
        if expiry <= now:
            raise DkimError("expires must be after the signing time")
        tags.append(("x", str(expiry)))
    if identity is not None:
        tags.append(("i", identity))
    tags += [("h", ":".join(signed_names)),
             ("bh", base64.b64encode(body_hash.digest()).decode("ascii"))]  # fmt: skip
    unsigned = _fold_tags(tags) + "\r\n b="
    hash_input = SignatureHeaders(parsed).hash_input(signed_names, header_c)
    hash_input += canonical_header(unsigned.encode("ascii"), header_c).removesuffix(CRLF)
    signature = raw_signature(key, hash_input)
    field = unsigned + _fold_b64(base64.b64encode(signature).decode("ascii")) + "\r\n"
    log.debug("DKIM-signed for d=%s s=%s (%s, h=%s)", domain, selector, algorithm, signed_names)
    return field.encode("ascii") + message


def _epoch(value: datetime | int) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise DkimError("times must be timezone-aware (for example datetime.now(UTC))")
        return int(value.astimezone(timezone.utc).timestamp())
    return int(value)


__all__ = ["DEFAULT_HEADERS", "FORBIDDEN", "OVERSIGNED", "algorithm_for", "select_headers", "sign"]
