"""Rules about S/MIME signatures: the multipart/signed structure, the CMS SignedData and the
signer's certificate (RFC 8551, RFC 8550)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from mimeseal import keys
from mimeseal.check.profiles import Profile
from mimeseal.check.rules_base import Hit, Rule, signed_certificates, smime
from mimeseal.check.view import MessageView

EXPIRY_WARNING = timedelta(days=30)
_EKU_NAMES = {
    oid: name.lower().replace("_", "-")
    for name, oid in vars(ExtendedKeyUsageOID).items()
    if isinstance(oid, x509.ObjectIdentifier)
}


def _micalg_mismatch(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for item in smime(view).entities:
        entity = item.entity
        if entity.form != "detached" or not item.signers:
            continue
        used = sorted({s.digest for s in item.signers})
        if entity.micalg is None:
            yield Hit(
                f"multipart/signed has no micalg parameter; the signer used {', '.join(used)}",
                header="Content-Type",
                part=entity.path,
            )
            continue
        declared = sorted({m.strip() for m in entity.micalg.split(",") if m.strip()})
        if declared != used:
            yield Hit(
                f"multipart/signed says micalg={entity.micalg} but the signature uses "
                f"{', '.join(used)}",
                header="Content-Type",
                part=entity.path,
            )


def _legacy_x_pkcs7(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for part in view.parts:
        ctype = part.content_type
        if ctype.type.startswith("application/x-pkcs7-"):
            yield Hit(f"the part uses the legacy type {ctype.type}", part=part.path)
        protocol = (ctype.param("protocol") or "").lower()
        if ctype.type == "multipart/signed" and protocol.startswith("application/x-pkcs7-"):
            yield Hit(
                f"multipart/signed names the legacy protocol {protocol}",
                header="Content-Type",
                part=part.path,
            )


def _looks_like_smime(view: MessageView) -> bool:
    for part in view.parts:
        ctype = part.content_type
        protocol = (ctype.param("protocol") or "").lower()
        if "pkcs7" in ctype.type or (ctype.type == "multipart/signed" and "pkcs7" in protocol):
            return True
    return False


def _smime_malformed(view: MessageView, profile: Profile) -> Iterator[Hit]:
    found = smime(view)
    if found.error and _looks_like_smime(view):
        yield Hit(f"the S/MIME structure cannot be read: {found.error}")
    for item in found.entities:
        path = item.entity.path
        if item.error:
            yield Hit(f"the CMS signature cannot be read: {item.error}", part=path)
        elif not item.signers:
            yield Hit("the CMS signature has no SignerInfo: nobody signed it", part=path)
        if item.detached_econtent:
            yield Hit(
                "a detached signature (multipart/signed) also carries eContent; verifiers "
                "may check one content and clients show the other",
                part=path,
            )


def _smime_wrapped(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for item in smime(view).entities:
        if item.entity.path:
            yield Hit(
                f"the S/MIME signature covers only part {item.entity.path}; the rest of the "
                "message, and the top-level headers, are not signed",
                part=item.entity.path,
            )


def _from_addresses(view: MessageView) -> list[str]:
    return [address.lower() for _, address in view.addresses("From") if address]


def _cert_not_covering_from(view: MessageView, profile: Profile) -> Iterator[Hit]:
    senders = _from_addresses(view)
    for path, cert in signed_certificates(view):
        names = keys.certificate_addresses(cert)
        for sender in senders:
            if sender not in names:
                shown = ", ".join(names) or "no address at all"
                yield Hit(
                    f"the signer certificate names {shown}, not the From address {sender}",
                    header="From",
                    part=path,
                )


def _cert_expiring_soon(view: MessageView, profile: Profile) -> Iterator[Hit]:
    now = datetime.now(timezone.utc)
    for path, cert in signed_certificates(view):
        ends = cert.not_valid_after_utc
        if now <= ends <= now + EXPIRY_WARNING:
            days = (ends - now).days
            yield Hit(
                f"the signer certificate expires on {ends:%Y-%m-%d} (in {days} days)",
                part=path,
            )


def _cert_expired(view: MessageView, profile: Profile) -> Iterator[Hit]:
    now = datetime.now(timezone.utc)
    for path, cert in signed_certificates(view):
        if now > cert.not_valid_after_utc:
            yield Hit(
                f"the signer certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}",
                part=path,
            )
        elif now < cert.not_valid_before_utc:
            yield Hit(
                f"the signer certificate is not valid before "
                f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
                part=path,
            )


def _cert_no_email_protection(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for path, cert in signed_certificates(view):
        try:
            eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            continue
        problems = keys.smime_certificate_problems(cert)
        if any(p.code == "eku" for p in problems):
            names = ", ".join(_EKU_NAMES.get(oid, oid.dotted_string) for oid in eku)
            yield Hit(
                f"the signer certificate's extendedKeyUsage ({names}) lacks emailProtection",
                part=path,
            )


def _cert_key_usage(view: MessageView, profile: Profile) -> Iterator[Hit]:
    for path, cert in signed_certificates(view):
        if any(p.code == "key-usage" for p in keys.smime_certificate_problems(cert)):
            yield Hit(
                "the signer certificate's keyUsage allows neither digitalSignature nor "
                "nonRepudiation",
                part=path,
            )


RULES = (
    Rule(
        id="micalg-mismatch",
        title="micalg does not match the signature",
        default="error",
        meaning="The multipart/signed micalg parameter is missing or names a different digest "
        "than the one the signer used.",
        why="RFC 8551 §3.5 and RFC 1847 §2.1 require micalg to name the signer's digest; "
        "Outlook and other clients that trust micalg report the signature as invalid.",
        fix="Set micalg to the digest the signer uses (sha-256 for SHA-256); let "
        "mimeseal.smime.sign write the header.",
        check=_micalg_mismatch,
    ),
    Rule(
        id="legacy-x-pkcs7",
        title="Legacy application/x-pkcs7 media type",
        default="warning",
        meaning="The message uses application/x-pkcs7-signature or application/x-pkcs7-mime.",
        why="RFC 8551 names application/pkcs7-signature and application/pkcs7-mime; the "
        "x- forms are pre-standard (cryptography's Encoding.SMIME still writes them) and some "
        "receivers treat them as plain attachments.",
        fix="Use application/pkcs7-signature / application/pkcs7-mime (mimeseal.smime.sign does).",
        check=_legacy_x_pkcs7,
    ),
    Rule(
        id="smime-malformed",
        title="Unreadable S/MIME structure",
        default="error",
        meaning="A multipart/signed or pkcs7-mime part, or its CMS SignedData, cannot be read; "
        "or it has no signer, or a detached signature also carries content.",
        why="Verifiers fail such messages outright, and a detached signature with eContent is "
        "the shape of signature-wrapping attacks ('Johnny, you are fired!', USENIX Security "
        "2019).",
        fix="Re-sign the message with mimeseal.smime.sign; do not edit signed parts.",
        check=_smime_malformed,
    ),
    Rule(
        id="smime-wrapped",
        title="S/MIME signature does not cover the message",
        default="warning",
        meaning="The signed entity is not the message root: other parts sit outside it.",
        why="Clients show unsigned parts next to the signed one, often with the same 'signed' "
        "badge (MIME wrapping, 'Johnny, you are fired!').",
        fix="Sign the whole message body so multipart/signed (or pkcs7-mime) is the root.",
        check=_smime_wrapped,
    ),
    Rule(
        id="cert-not-covering-from",
        title="Signer certificate is not for the From address",
        default="error",
        meaning="None of the signer certificate's email addresses is the From address.",
        why="RFC 8550 §3 makes receivers compare From with the certificate's "
        "rfc822Name; Outlook and Thunderbird show a mismatch warning or an invalid signature.",
        fix="Sign with a certificate issued for the From address, or send from the certified "
        "address.",
        check=_cert_not_covering_from,
    ),
    Rule(
        id="cert-expiring-soon",
        title="Signer certificate expires within 30 days",
        default="warning",
        meaning="The signer certificate's notAfter is less than 30 days away.",
        why="Mail signed today is judged at reading time by many clients; once the certificate "
        "expires, messages still in transit or queued show an expired signature (RFC 5280 §6).",
        fix="Renew the certificate now and switch the signer to the new one.",
        check=_cert_expiring_soon,
    ),
    Rule(
        id="cert-expired",
        title="Signer certificate expired or not yet valid",
        default="error",
        meaning="The signer certificate is outside its validity period right now.",
        why="Path validation fails (RFC 5280 §6.1.3): every receiver reports the signature as "
        "invalid.",
        fix="Renew the certificate (or check the system clock for a not-yet-valid one).",
        check=_cert_expired,
    ),
    Rule(
        id="cert-no-email-protection",
        title="Certificate not issued for S/MIME",
        default="error",
        meaning="The signer certificate has an extendedKeyUsage without emailProtection.",
        why="RFC 8550 §4.4.4: when extendedKeyUsage is present it must include emailProtection; "
        "receivers refuse TLS-only or code-signing certificates for mail.",
        fix="Use a certificate issued for S/MIME (EKU emailProtection).",
        check=_cert_no_email_protection,
    ),
    Rule(
        id="cert-key-usage",
        title="Certificate key usage forbids signing",
        default="error",
        meaning="The signer certificate's keyUsage allows neither digitalSignature nor "
        "nonRepudiation.",
        why="RFC 8550 §4.4.2: a signing certificate needs one of them; encryption-only "
        "certificates are refused by verifiers.",
        fix="Sign with the signing certificate of the pair, not the encryption one.",
        check=_cert_key_usage,
    ),
)
