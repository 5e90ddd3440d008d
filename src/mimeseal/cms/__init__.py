"""CMS SignedData (RFC 5652): built and checked by mimeseal; the math is ``cryptography``'s.

The project owns this code because ``cryptography`` cannot verify PKCS #7, cannot sign with
Ed25519 in CMS, and emits no ESS signing-certificate-v2 attribute.
"""

from __future__ import annotations

from mimeseal.cms.algorithms import (
    DIGESTS,
    MICALG_BY_ASN1,
    OID_SIGNING_CERTIFICATE_V2,
    RsaPadding,
    SigningKey,
    digest_for_key,
)
from mimeseal.cms.building import build_signed_data
from mimeseal.cms.checking import (
    CmsSignerCheck,
    check_signer,
    digest_of,
    signature_algorithm_name,
)
from mimeseal.cms.parsing import (
    Attribute,
    ParsedSignedData,
    SignerInfo,
    parse_signed_data,
    signer_certificate,
)

__all__ = [
    "DIGESTS",
    "MICALG_BY_ASN1",
    "OID_SIGNING_CERTIFICATE_V2",
    "Attribute",
    "CmsSignerCheck",
    "ParsedSignedData",
    "RsaPadding",
    "SignerInfo",
    "SigningKey",
    "build_signed_data",
    "check_signer",
    "digest_for_key",
    "digest_of",
    "parse_signed_data",
    "signature_algorithm_name",
    "signer_certificate",
]
