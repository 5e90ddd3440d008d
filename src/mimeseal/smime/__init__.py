"""S/MIME (RFC 8551): sign messages and verify them, with CMS built by :mod:`mimeseal.cms`."""

from __future__ import annotations

from mimeseal.smime.signing import sign
from mimeseal.smime.verifying import SignedPart, SignerResult, SmimeVerdict, verify

__all__ = ["SignedPart", "SignerResult", "SmimeVerdict", "sign", "verify"]
