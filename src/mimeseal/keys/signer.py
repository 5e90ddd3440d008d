"""One way to name a signing key, wherever it lives: :func:`load_signer`.

The CLI's ``--smime-key`` and ``--dkim-key`` take such a *spec*, so a script switches from a
key file to a key in AWS KMS by changing one argument.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from mimeseal.errors import KeyLoadError
from mimeseal.keys.kms import KmsRetry, load_kms_key
from mimeseal.keys.kms_uri import is_kms_spec, parse_kms_spec
from mimeseal.keys.local import (
    SigningKey,
    check_signing_key,
    load_key_or_pkcs12_file,
)

__all__ = ["describe_spec", "load_signer"]

_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")


def load_signer(
    spec: str | os.PathLike[str],
    password: bytes | None = None,
    *,
    kms_client: Any = None,
    kms_retry: KmsRetry | None = None,
) -> SigningKey:
    """The signing key named by ``spec``, checked to be strong enough to sign mail.

    ``spec`` is one of:

    - a key file: PEM or DER (PKCS#8, PKCS#1, SEC1), optionally encrypted with ``password``;
    - a PKCS#12 file (``.p12``/``.pfx``, recognised by content): its key is returned;
    - an AWS KMS key: ``awskms:///alias/NAME?region=R``, ``awskms:///KEY_ID``,
      ``awskms:///ARN`` or a bare ARN. The result implements ``cryptography``'s RSA or EC
      private-key interface and signs through ``kms:Sign``; see :mod:`mimeseal.keys.kms`.
      ``kms_client`` and ``kms_retry`` override the boto3 client and the retry policy.

    Raises :class:`KeyLoadError` (or a subclass), :class:`UnsupportedKeyError` for a key
    that cannot sign mail, and :class:`KmsError` when KMS refuses.
    """
    if not isinstance(spec, str):
        return _load_file(Path(spec), password)
    if not spec:
        raise KeyLoadError("the key spec is empty; give a key file or an awskms:/// URI")
    if is_kms_spec(spec):
        key = load_kms_key(parse_kms_spec(spec), client=kms_client, retry=kms_retry)
        check_signing_key(key)
        return key
    scheme = _URI_SCHEME.match(spec)
    if scheme and not Path(spec).exists() and not re.match(r"[A-Za-z]:[\\/]", spec):
        raise KeyLoadError(
            f"{spec!r} uses a key URI scheme mimeseal does not know ({scheme.group(0)}); "
            "give a key file, a PKCS#12 file or awskms:///alias/NAME"
        )
    return _load_file(Path(spec), password)


def _load_file(path: Path, password: bytes | None) -> SigningKey:
    key = load_key_or_pkcs12_file(path, password)
    check_signing_key(key)
    return key


def describe_spec(spec: str | os.PathLike[str]) -> str:
    """A short, secret-free name for a key spec, for logs and messages."""
    if isinstance(spec, str) and is_kms_spec(spec):
        return str(parse_kms_spec(spec))
    return f"key file {os.fspath(spec)}"
