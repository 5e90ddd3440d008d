"""The exception tree.

Every failure a user can cause raises a subclass of :class:`MimesealError` whose message says
what is wrong and what to do about it. No message ever contains private key material.

::

    MimesealError
    ├── KeyLoadError            a key or certificate file cannot be read or decrypted
    │   └── PasswordError       the password is missing or wrong
    ├── CertificateError        a certificate cannot be used for what was asked
    ├── KeyMismatchError        the private key does not belong to the certificate
    ├── UnsupportedKeyError     the key type or size cannot do what was asked
    ├── MessageError            message bytes cannot be parsed or are unsafe to emit
    │   └── HeaderInjectionError  a header value contains CR or LF
    ├── ComposeError            a message cannot be composed from the given parts
    ├── SigningError            a signature cannot be produced
    │   └── KmsError            AWS KMS refused or failed a request for a remote key
    ├── CmsError                a CMS (PKCS #7) structure is malformed
    ├── DkimError               a DKIM signature, key record or option is malformed
    ├── InviteError             an invitation breaks an iCalendar/iTIP rule
    ├── SesRuleError            SES would reject the message or break its signatures (not sent)
    ├── SendError               sending failed after the allowed attempts
    ├── VerificationInputError  input to a verifier is unusable (not a verdict)
    ├── LimitError              input exceeds a safety limit (size, count, depth)
    ├── OutputError         a file or folder cannot be written
    └── UsageError          a command-line option or file is missing or unusable

Signature *verdicts* (a bad signature, an untrusted chain) are not exceptions: verifiers return
results that carry problem codes. Exceptions are for input that cannot be judged at all.
"""

from __future__ import annotations


class MimesealError(Exception):
    """Root of every error mimeseal raises on purpose."""


class KeyLoadError(MimesealError):
    """A key, certificate or bundle cannot be loaded."""


class PasswordError(KeyLoadError):
    """The key or bundle needs a password, or the password given is wrong."""


class CertificateError(MimesealError):
    """A certificate is not usable for the requested purpose."""


class KeyMismatchError(MimesealError):
    """A private key does not match the public key in its certificate."""


class UnsupportedKeyError(MimesealError):
    """The key type or size is not supported for this operation."""


class MessageError(MimesealError):
    """Message bytes cannot be parsed, or would be unsafe to emit."""


class HeaderInjectionError(MessageError):
    """A header value contains CR or LF, which would inject extra headers."""


class ComposeError(MimesealError):
    """A message cannot be composed from the parts given."""


class SigningError(MimesealError):
    """A signature cannot be produced."""


class KmsError(SigningError):
    """AWS KMS refused or failed a request for a remote key (get the public key, or sign).

    ``code`` is KMS's error code (``AccessDeniedException``, ``DisabledException``…) or None,
    ``retryable`` whether the same request could succeed later (throttling, a fault in KMS).
    """

    def __init__(self, message: str, *, code: str | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.code, self.retryable = code, retryable


class CmsError(MimesealError):
    """A CMS (PKCS #7) structure is malformed or uses something unsupported."""


class DkimError(MimesealError):
    """A DKIM option, signature header or key record is malformed or not allowed."""


class InviteError(MimesealError):
    """An invitation breaks an RFC 5545/5546 rule; the message names the rule and property."""


class SesRuleError(MimesealError):
    """The message breaks a rule SES enforces (or one that would break its signatures).

    Raised before any network call; ``findings`` lists every error-level finding.
    """

    def __init__(self, message: str, findings: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.findings = findings


class SendError(MimesealError):
    """Sending failed. ``code`` is SES's or the SMTP server's error code, ``retryable`` whether
    a later attempt could succeed, ``attempts`` how many were made, ``unknown`` whether SES may
    have accepted the message although no answer arrived (a timeout after sending)."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retryable: bool = False,
        attempts: int = 0,
        unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.code, self.retryable, self.attempts, self.unknown = code, retryable, attempts, unknown


class VerificationInputError(MimesealError):
    """The input to a verifier cannot be judged at all (as opposed to a failed verdict)."""


class LimitError(MimesealError):
    """Input exceeds a safety limit (message size, header count, nesting depth, parts…).

    ``limit`` names the limit (a field of :class:`mimeseal.limits.Limits`), ``value`` is what
    the input has and ``maximum`` what is allowed. Raised before the expensive work starts.
    """

    def __init__(self, message: str, *, limit: str, value: int, maximum: int) -> None:
        super().__init__(message)
        self.limit, self.value, self.maximum = limit, value, maximum


class UsageError(MimesealError):
    """A command-line option is missing or contradicts another, or a named file is unusable."""


class OutputError(MimesealError):
    """A file or folder cannot be written (exists as something else, no permission, disk full)."""
