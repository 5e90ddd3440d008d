"""AWS KMS on the shared moto endpoint: signing keys that behave like keys kept in KMS.

moto's KMS signs correctly with ``MessageType=RAW`` and PKCS#1 v1.5 or ECDSA. It differs from
AWS in two ways mimeseal's check-after-sign turns into ``KmsError``: it hashes a DIGEST message
again, and it salts RSA-PSS to the maximum length. Tests that sign through it should therefore
use PKCS#1 v1.5 or EC keys, and check the results with an independent verifier (OpenSSL,
dkimpy), never with KMS's own ``Verify``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from mimeseal.errors import UsageError

if TYPE_CHECKING:
    from mimeseal.keys import KmsEcKey, KmsRsaKey
    from mimeseal.pytest_plugin.aws import AwsEndpoint

__all__ = ["KmsEndpoint"]


class KmsEndpoint:
    """KMS on the session's moto server: make signing keys and load them as mimeseal signers."""

    def __init__(self, aws: AwsEndpoint) -> None:
        self.aws = aws
        self.client: Any = aws.client("kms")

    def __repr__(self) -> str:
        return f"KmsEndpoint(url={self.aws.url!r}, region={self.aws.region!r})"

    def create_key(
        self, spec: str = "RSA_2048", *, alias: str | None = None, usage: str = "SIGN_VERIFY"
    ) -> str:
        """Create a key and return its ``awskms:///alias/…`` URI (a fresh alias by default).

        ``spec`` is a KMS KeySpec (RSA_2048…4096, ECC_NIST_P256/P384/P521 can sign mail);
        another ``usage`` or spec makes a key for testing that your code reports it unusable.
        """
        name = alias or f"alias/mimeseal-test-{uuid.uuid4().hex[:12]}"
        if not name.startswith("alias/"):
            raise UsageError(f"KMS aliases start with 'alias/', not {name!r}")
        key_id = self.client.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["KeyId"]
        self.client.create_alias(AliasName=name, TargetKeyId=key_id)
        return f"awskms:///{name}?region={self.aws.region}"

    def signer(self, spec: str = "RSA_2048", **load_options: Any) -> KmsRsaKey | KmsEcKey:
        """A new key of ``spec``, loaded through ``keys.load_signer`` as your code would."""
        from mimeseal.keys import KmsEcKey, KmsRsaKey, load_signer

        key = load_signer(self.create_key(spec), **load_options)
        assert isinstance(key, KmsRsaKey | KmsEcKey)
        return key
