"""A development PKI: a throw-away CA and S/MIME signer certificates for tests and demos.

Nothing here is fit for production. Keys are written unencrypted, the CA has no revocation, and
recipients do not trust it. It exists so that tests (and people trying mimeseal) can make
certificates that pass OpenSSL's ``-purpose smimesign`` and ``cryptography``'s path validator,
and deliberately bad ones (expired, wrong usage) to prove verifiers reject them. A certificate
can also be issued for a key that stays in AWS KMS (:func:`write_dev_certificates`).
"""

from __future__ import annotations

from mimeseal.pki.files import (
    DevCertificateFiles,
    DevPkiFiles,
    SignerFiles,
    load_dev_ca,
    write_dev_certificates,
    write_dev_pki,
)
from mimeseal.pki.issuing import (
    KEY_TYPES,
    DevCA,
    create_ca,
    generate_key,
    issue_self_signed,
    issue_signer,
)

__all__ = [
    "KEY_TYPES",
    "DevCA",
    "DevCertificateFiles",
    "DevPkiFiles",
    "SignerFiles",
    "create_ca",
    "generate_key",
    "issue_self_signed",
    "issue_signer",
    "load_dev_ca",
    "write_dev_certificates",
    "write_dev_pki",
]
