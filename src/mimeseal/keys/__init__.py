"""Signing keys and certificates: files, PKCS#12 bundles and keys that stay in AWS KMS.

Keys are typed as ``cryptography``'s private-key *interfaces* (:data:`SigningKey`), never its
concrete classes, so a remote signer (:class:`KmsRsaKey`, :class:`KmsEcKey`) is used wherever a
loaded key can. :func:`load_signer` names any of them with one string.
"""

from __future__ import annotations

from mimeseal.keys.kms import (
    RAW_MESSAGE_LIMIT,
    SUPPORTED_KEY_SPECS,
    KmsEcKey,
    KmsRetry,
    KmsRsaKey,
    load_kms_key,
)
from mimeseal.keys.kms_uri import KmsKeyRef, is_kms_spec, parse_kms_spec
from mimeseal.keys.local import (
    CertificateProblem,
    KeyBundle,
    SigningKey,
    certificate_addresses,
    check_key_matches,
    check_signing_key,
    check_smime_certificate,
    describe_certificate,
    key_matches_certificate,
    load_certificate,
    load_certificate_file,
    load_certificates,
    load_certificates_file,
    load_key_or_pkcs12_file,
    load_pkcs12,
    load_pkcs12_file,
    load_private_key,
    load_private_key_file,
    looks_like_pkcs12,
    smime_certificate_problems,
)
from mimeseal.keys.signer import describe_spec, load_signer

__all__ = [
    "RAW_MESSAGE_LIMIT",
    "SUPPORTED_KEY_SPECS",
    "CertificateProblem",
    "KeyBundle",
    "KmsEcKey",
    "KmsKeyRef",
    "KmsRetry",
    "KmsRsaKey",
    "SigningKey",
    "certificate_addresses",
    "check_key_matches",
    "check_signing_key",
    "check_smime_certificate",
    "describe_certificate",
    "describe_spec",
    "is_kms_spec",
    "key_matches_certificate",
    "load_certificate",
    "load_certificate_file",
    "load_certificates",
    "load_certificates_file",
    "load_key_or_pkcs12_file",
    "load_kms_key",
    "load_pkcs12",
    "load_pkcs12_file",
    "load_private_key",
    "load_private_key_file",
    "load_signer",
    "looks_like_pkcs12",
    "parse_kms_spec",
    "smime_certificate_problems",
]
