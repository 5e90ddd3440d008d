"""Signing keys that stay in AWS KMS, behind ``cryptography``'s private-key interfaces.

A :class:`KmsRsaKey` *is* an ``rsa.RSAPrivateKey`` and a :class:`KmsEcKey` an
``ec.EllipticCurvePrivateKey``, so the S/MIME and DKIM code signs with them unchanged; only
``sign`` goes over the network (``kms:Sign``), and the public key comes from
``kms:GetPublicKey`` once, when the key is loaded. Nothing else is ever asked of KMS.

How the data reaches KMS:

- ``MessageType=RAW`` when the data is at most 4,096 bytes (KMS's limit for RAW). KMS hashes
  it itself. CMS signed attributes (a few hundred bytes) always go this way, and so do DKIM
  header blocks unless the signed headers are unusually long (many recipients, a long
  References chain).
- ``MessageType=DIGEST`` above 4,096 bytes, or when the caller passes ``Prehashed``: mimeseal
  hashes locally and sends only the digest.

Every signature KMS returns is verified with the public key before it is handed back. A
fault, a wrong key, or an endpoint that mishandles DIGEST (moto hashes the digest again) then
fails with :class:`KmsError` instead of producing mail no recipient can verify.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.utils import Buffer

from mimeseal.errors import KmsError, UnsupportedKeyError
from mimeseal.keys.kms_client import (
    SPEC_ADVICE,
    KmsRetry,
    KmsSession,
    check_client_region,
    make_client,
)
from mimeseal.keys.kms_uri import KmsKeyRef

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
    from typing_extensions import Self  # typing.Self from Python 3.11

__all__ = [
    "RAW_MESSAGE_LIMIT",
    "SUPPORTED_KEY_SPECS",
    "KmsEcKey",
    "KmsRetry",
    "KmsRsaKey",
    "load_kms_key",
]


RAW_MESSAGE_LIMIT = 4096
"""The largest message KMS signs with ``MessageType=RAW``; above it mimeseal sends a digest."""

SUPPORTED_KEY_SPECS = (
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
)
"""KMS key specs whose signatures S/MIME (all) and DKIM (RSA only) recipients verify."""

_HASHES: dict[str, tuple[str, type[hashes.HashAlgorithm]]] = {
    "sha256": ("SHA_256", hashes.SHA256),
    "sha384": ("SHA_384", hashes.SHA384),
    "sha512": ("SHA_512", hashes.SHA512),
}


# --------------------------------------------------------------------------- the key classes


class _KmsKey:
    """What the RSA and EC classes share: the remote handle, the public key, signing."""

    _remote: KmsSession
    _spec: str
    _algorithms: frozenset[str]

    @property
    def ref(self) -> KmsKeyRef:
        """The key as named by the caller (alias, key id or ARN) and where it lives."""
        return self._remote.ref

    @property
    def key_id(self) -> str:
        """The key as KMS identified it in GetPublicKey: its ARN on AWS (moto: the bare id).

        Unlike :attr:`ref`, which may be an alias, this names the key itself, so logs and
        journals keep the identity of the key that signed even if the alias moves later."""
        return self._arn

    @property
    def key_spec(self) -> str:
        """KMS's KeySpec, e.g. ``RSA_3072`` or ``ECC_NIST_P256``."""
        return self._spec

    @property
    def signing_algorithms(self) -> frozenset[str]:
        """The KMS signing algorithms the key allows."""
        return self._algorithms

    @property
    def client(self) -> Any:
        """The boto3 KMS client used (for its ``meta.events`` or endpoint)."""
        return self._remote.client

    def _setup(self, remote: KmsSession, arn: str, spec: str, algorithms: frozenset[str]) -> None:
        self._remote, self._arn, self._spec, self._algorithms = remote, arn, spec, algorithms

    def _kms_sign(
        self, data: bytes, algorithm: utils.Prehashed | hashes.HashAlgorithm, family: str
    ) -> bytes:
        prehashed = isinstance(algorithm, utils.Prehashed)
        hash_name = _hash_name(algorithm)
        suffix, _ = _HASHES.get(hash_name, ("", hashes.SHA256))
        name = f"{family}_{suffix}"
        if not suffix or name not in self._algorithms:
            allowed = ", ".join(sorted(self._algorithms))
            raise UnsupportedKeyError(
                f"KMS key {self.ref} ({self._spec}) cannot sign with {family} over "
                f"{hash_name}; it allows {allowed} "
                "(for S/MIME pass a matching digest, e.g. --digest sha-384 for P-384)"
            )
        if prehashed:
            if len(data) != algorithm.digest_size:
                raise UnsupportedKeyError(
                    f"a prehashed {suffix} digest must be {algorithm.digest_size} bytes, "
                    f"not {len(data)}"
                )
            return self._remote.sign(data, "DIGEST", name)
        if 0 < len(data) <= RAW_MESSAGE_LIMIT:
            return self._remote.sign(data, "RAW", name)
        digest = hashlib.new(hash_name, data).digest()
        return self._remote.sign(digest, "DIGEST", name)

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        self._refuse("be exported")

    def __copy__(self) -> Self:
        return self  # a handle on a remote key: copies would all be the same key

    def __deepcopy__(self, memo: dict[int, object]) -> Self:
        return self

    def _refuse(self, what: str) -> NoReturn:
        raise UnsupportedKeyError(
            f"the private key of {self.ref} stays in AWS KMS: it cannot {what}"
        )

    def _bad_signature(self, detail: str) -> NoReturn:
        raise KmsError(
            f"KMS key {self.ref} returned a signature that does not verify with its own "
            f"public key ({detail}); nothing was signed. The endpoint may not implement "
            "MessageType=DIGEST (moto hashes the digest again) or may be faulty",
            code="InvalidSignature",
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.ref} {self._spec}>"


class KmsRsaKey(_KmsKey, rsa.RSAPrivateKey):
    """An RSA key in KMS: PKCS#1 v1.5 or PSS (salt = digest length, as KMS does)."""

    def __init__(
        self,
        remote: KmsSession,
        arn: str,
        spec: str,
        algorithms: frozenset[str],
        public: rsa.RSAPublicKey,
    ) -> None:
        self._setup(remote, arn, spec, algorithms)
        self._public = public

    def sign(
        self,
        data: Buffer,
        padding: padding.AsymmetricPadding,
        algorithm: object,
    ) -> bytes:
        """Sign through ``kms:Sign``; the padding picks RSASSA_PKCS1_V1_5_* or RSASSA_PSS_*."""
        data = bytes(data)
        algorithm = _check_hash(algorithm, self.ref)
        local = _rsa_padding(padding, algorithm)
        family = "RSASSA_PSS" if isinstance(local, _PSS) else "RSASSA_PKCS1_V1_5"
        signature = self._kms_sign(data, algorithm, family)
        try:
            self._public.verify(signature, data, local, algorithm)
        except InvalidSignature:
            if isinstance(local, _PSS) and _verifies_with_any_salt(
                self._public, signature, data, algorithm
            ):
                raise KmsError(
                    f"KMS key {self.ref} made an RSA-PSS signature whose salt is not the digest "
                    "length (AWS KMS uses the digest length; moto uses the maximum), so its "
                    "CMS parameters would be wrong; use PKCS#1 v1.5 with this endpoint",
                    code="InvalidSignature",
                ) from None
            self._bad_signature("RSA")
        return signature

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def decrypt(self, ciphertext: bytes, padding: padding.AsymmetricPadding) -> bytes:
        self._refuse("decrypt (it is a signing key)")

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        self._refuse("be exported")


class KmsEcKey(_KmsKey, ec.EllipticCurvePrivateKey):
    """An EC key in KMS (P-256, P-384, P-521): ECDSA with the hash KMS allows for the curve."""

    def __init__(
        self,
        remote: KmsSession,
        arn: str,
        spec: str,
        algorithms: frozenset[str],
        public: ec.EllipticCurvePublicKey,
    ) -> None:
        self._setup(remote, arn, spec, algorithms)
        self._public = public

    def sign(self, data: Buffer, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        """Sign through ``kms:Sign`` with ECDSA_SHA_*; returns a DER signature."""
        data = bytes(data)
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise UnsupportedKeyError(f"KMS key {self.ref} signs only with ECDSA")
        algorithm = _check_hash(signature_algorithm.algorithm, self.ref)
        signature = self._kms_sign(data, algorithm, "ECDSA")
        try:
            self._public.verify(signature, data, ec.ECDSA(algorithm))
        except InvalidSignature:
            self._bad_signature("ECDSA")
        return signature

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        self._refuse("do key agreement (it is a signing key)")

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        self._refuse("be exported")


_PSS = padding.PSS


def _check_hash(algorithm: object, ref: KmsKeyRef) -> utils.Prehashed | hashes.HashAlgorithm:
    if isinstance(algorithm, utils.Prehashed | hashes.HashAlgorithm):
        return algorithm
    raise UnsupportedKeyError(
        f"KMS key {ref} signs a SHA-2 hash of the data; {type(algorithm).__name__} is not one"
    )


def _hash_name(algorithm: utils.Prehashed | hashes.HashAlgorithm) -> str:
    """cryptography's name of the hash (``sha256``…), looking inside ``Prehashed``."""
    if isinstance(algorithm, utils.Prehashed):
        return str(algorithm._algorithm.name)
    return algorithm.name


def _rsa_padding(
    requested: padding.AsymmetricPadding, algorithm: utils.Prehashed | hashes.HashAlgorithm
) -> padding.AsymmetricPadding:
    """The padding to verify with; refuses what KMS cannot make (other PSS salts or MGF hashes)."""
    if isinstance(requested, padding.PKCS1v15):
        return requested
    if isinstance(requested, padding.PSS):
        _, hash_cls = _HASHES.get(_hash_name(algorithm), ("", hashes.SHA256))
        mgf = requested.mgf
        salt = requested._salt_length
        same_mgf = isinstance(mgf, padding.MGF1) and (mgf._algorithm.name == _hash_name(algorithm))
        if same_mgf and (salt is padding.PSS.DIGEST_LENGTH or salt == algorithm.digest_size):
            return padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=algorithm.digest_size)
        raise UnsupportedKeyError(
            "KMS makes RSA-PSS signatures only with MGF1 over the same hash and a salt as long "
            "as the digest; ask for that (mimeseal's rsa_padding='pss' does)"
        )
    raise UnsupportedKeyError(
        f"KMS RSA keys sign with PKCS#1 v1.5 or PSS, not {type(requested).__name__}"
    )


def _verifies_with_any_salt(
    public: rsa.RSAPublicKey,
    signature: bytes,
    data: bytes,
    algorithm: utils.Prehashed | hashes.HashAlgorithm,
) -> bool:
    _, hash_cls = _HASHES.get(_hash_name(algorithm), ("", hashes.SHA256))
    try:
        public.verify(
            signature,
            data,
            padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=padding.PSS.AUTO),
            algorithm,
        )
    except InvalidSignature:
        return False
    return True


# --------------------------------------------------------------------------- loading


def load_kms_key(
    ref: KmsKeyRef, *, client: Any = None, retry: KmsRetry | None = None
) -> KmsRsaKey | KmsEcKey:
    """Ask KMS for the key's public half and check it can sign email; no Sign call is made.

    ``client`` is a boto3 KMS client to use instead of one built from ``ref`` (region,
    profile) and botocore's own settings (``AWS_ENDPOINT_URL_KMS`` / ``AWS_ENDPOINT_URL``,
    credentials chain). Raises :class:`UnsupportedKeyError` for a key that cannot sign email
    (wrong usage or spec) and :class:`KmsError` when KMS refuses or cannot be reached.
    """
    if client is not None:
        check_client_region(client, ref)
    remote = KmsSession(
        ref, client if client is not None else make_client(ref), retry or KmsRetry()
    )
    answer = remote.get_public_key()
    usage = str(answer.get("KeyUsage", ""))
    spec = str(answer.get("KeySpec") or answer.get("CustomerMasterKeySpec") or "")
    if usage != "SIGN_VERIFY":
        raise UnsupportedKeyError(
            f"KMS key {ref} has KeyUsage {usage or 'unknown'}, so it cannot sign; {SPEC_ADVICE}"
        )
    if spec not in SUPPORTED_KEY_SPECS:
        raise UnsupportedKeyError(
            f"KMS key {ref} is a {spec or 'key of unknown spec'}, which mail recipients cannot "
            f"verify (or mimeseal cannot yet use); {SPEC_ADVICE}"
        )
    public = _public_key(answer.get("PublicKey"), ref)
    algorithms = frozenset(str(a) for a in answer.get("SigningAlgorithms", ()))
    arn = str(answer.get("KeyId") or ref.key_id)
    if spec.startswith("RSA_") and isinstance(public, rsa.RSAPublicKey):
        return KmsRsaKey(remote, arn, spec, algorithms, public)
    if spec.startswith("ECC_") and isinstance(public, ec.EllipticCurvePublicKey):
        return KmsEcKey(remote, arn, spec, algorithms, public)
    raise KmsError(
        f"KMS key {ref} says it is {spec} but its public key is a "
        f"{type(public).__name__}; the endpoint is inconsistent",
        code="InconsistentKey",
    )


def _public_key(blob: object, ref: KmsKeyRef) -> PublicKeyTypes:
    try:
        if not isinstance(blob, bytes | bytearray):
            raise TypeError
        return serialization.load_der_public_key(bytes(blob))
    except Exception:
        raise KmsError(
            f"KMS returned a public key for {ref} that cannot be parsed", code="BadPublicKey"
        ) from None
