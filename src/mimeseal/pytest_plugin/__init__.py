"""mimeseal's pytest plugin: prove in your own CI that your mail is signed and survives transit.

Installed with mimeseal (entry point ``pytest11: mimeseal``), so the fixtures are available in
every test without imports. Fixtures (all prefixed ``mimeseal_``):

- ``mimeseal_pki`` / ``mimeseal_pki_factory``: a development CA and S/MIME signers
- ``mimeseal_dkim_key`` / ``mimeseal_dkim_keys``: DKIM keys with their records
- ``mimeseal_aws``: moto's server on loopback for the session; ``mimeseal_ses`` and
  ``mimeseal_kms`` (signing keys kept in KMS) on top of it
- ``mimeseal_smtp`` / ``mimeseal_smtp_factory`` / ``mimeseal_smtp_tls``: aiosmtpd with STARTTLS

Assertions (import them from here): :func:`assert_smime_valid`, :func:`assert_dkim_valid`,
:func:`assert_survives`, :func:`assert_invite`.

Loading the plugin imports only this package and pytest; cryptography, boto3, moto, aiosmtpd
and dkimpy are imported when a fixture or assertion is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mimeseal.pytest_plugin.fixtures import (
    SmtpFactory,
    mimeseal_aws,
    mimeseal_dkim_key,
    mimeseal_dkim_keys,
    mimeseal_kms,
    mimeseal_pki,
    mimeseal_pki_factory,
    mimeseal_ses,
    mimeseal_smtp,
    mimeseal_smtp_factory,
    mimeseal_smtp_tls,
)

if TYPE_CHECKING:
    from mimeseal.pytest_plugin.assertions import (
        assert_dkim_valid,
        assert_invite,
        assert_smime_valid,
        assert_survives,
    )
    from mimeseal.pytest_plugin.aws import AwsEndpoint, SentMessage, SesEndpoint
    from mimeseal.pytest_plugin.kms import KmsEndpoint
    from mimeseal.pytest_plugin.material import DevPki, DkimKeys, DkimTestKey, PkiFactory, Signer
    from mimeseal.pytest_plugin.smtp import ReceivedMessage, SmtpHandler, SmtpServer, SmtpTls

__all__ = [
    "AwsEndpoint",
    "DevPki",
    "DkimKeys",
    "DkimTestKey",
    "KmsEndpoint",
    "PkiFactory",
    "ReceivedMessage",
    "SentMessage",
    "SesEndpoint",
    "Signer",
    "SmtpFactory",
    "SmtpHandler",
    "SmtpServer",
    "SmtpTls",
    "assert_dkim_valid",
    "assert_invite",
    "assert_smime_valid",
    "assert_survives",
    "mimeseal_aws",
    "mimeseal_dkim_key",
    "mimeseal_dkim_keys",
    "mimeseal_kms",
    "mimeseal_pki",
    "mimeseal_pki_factory",
    "mimeseal_ses",
    "mimeseal_smtp",
    "mimeseal_smtp_factory",
    "mimeseal_smtp_tls",
]

_LAZY = {
    "assert_dkim_valid": "assertions",
    "assert_invite": "assertions",
    "assert_smime_valid": "assertions",
    "assert_survives": "assertions",
    "AwsEndpoint": "aws",
    "SentMessage": "aws",
    "SesEndpoint": "aws",
    "KmsEndpoint": "kms",
    "DevPki": "material",
    "DkimKeys": "material",
    "DkimTestKey": "material",
    "PkiFactory": "material",
    "Signer": "material",
    "ReceivedMessage": "smtp",
    "SmtpHandler": "smtp",
    "SmtpServer": "smtp",
    "SmtpTls": "smtp",
}


def __getattr__(name: str) -> Any:
    """Import assertions and classes on first use (PEP 562), keeping plugin loading cheap."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
