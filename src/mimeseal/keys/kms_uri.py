"""Naming a key in AWS KMS: ``awskms:`` URIs and ARNs.

Accepted forms::

    awskms:///alias/mail?region=eu-west-1
    awskms:///1234abcd-12ab-34cd-56ef-1234567890ab
    awskms:///arn:aws:kms:eu-west-1:111122223333:key/1234abcd-…
    arn:aws:kms:eu-west-1:111122223333:alias/mail

Query parameters: ``region`` and ``profile`` (a profile in the AWS config files). The endpoint
is deliberately not part of the URI: botocore's own settings choose it (``AWS_ENDPOINT_URL_KMS``,
``AWS_ENDPOINT_URL``, the config file), so the same URI works against AWS and a local server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from mimeseal.errors import KeyLoadError

__all__ = ["KmsKeyRef", "is_kms_spec", "parse_kms_spec"]

_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:kms:(?P<region>[a-z]{2,4}(?:-[a-z]+)+-\d+):(?P<account>\d{12}):"
    r"(?:key/(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})"
    r"|alias/[A-Za-z0-9/_-]{1,250})"
)
_ARN_START = re.compile(r"arn:aws(?:-[a-z]+)*:kms:")
_SCHEME = re.compile(r"awskms:", re.IGNORECASE)
_ALIAS = re.compile(r"alias/[A-Za-z0-9/_-]{1,250}")
_KEY_ID = re.compile(r"mrk-[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")
_REGION = re.compile(r"[a-z]{2,4}(?:-[a-z]+)+-\d+")
_PARAMS = frozenset({"region", "profile"})
_FORMS = "awskms:///alias/NAME, awskms:///KEY_ID, awskms:///ARN or an ARN"


@dataclass(frozen=True)
class KmsKeyRef:
    """Which KMS key, in which region, with which AWS profile (None: botocore's defaults)."""

    key_id: str
    region: str | None = None
    profile: str | None = None

    def __str__(self) -> str:
        query = urlencode(
            [
                (name, value)
                for name, value in (("region", self.region), ("profile", self.profile))
                if value and not (name == "region" and self.key_id.startswith("arn:"))
            ]
        )
        return f"awskms:///{self.key_id}" + (f"?{query}" if query else "")


def is_kms_spec(spec: str) -> bool:
    """Whether ``spec`` names a KMS key rather than a file."""
    return _SCHEME.match(spec) is not None or _ARN_START.match(spec) is not None


def parse_kms_spec(spec: str) -> KmsKeyRef:
    """Parse an ``awskms:`` URI or KMS ARN; :class:`KeyLoadError` says what is wrong."""
    if spec.startswith("arn:"):
        return _from_arn(spec, None, None, spec)
    parts = urlsplit(spec)
    if parts.scheme.lower() != "awskms":
        raise KeyLoadError(f"{spec!r} is not a KMS key; use {_FORMS}")
    if parts.fragment or spec.endswith("#"):
        raise KeyLoadError(f"{spec!r} has a #fragment, which a KMS key URI cannot have")
    if parts.netloc:
        raise KeyLoadError(
            f"{spec!r} names a host ({parts.netloc}); write awskms:///… (three slashes) and set "
            "the endpoint with AWS_ENDPOINT_URL_KMS instead"
        )
    params: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in _PARAMS:
            raise KeyLoadError(
                f"{spec!r} has an unknown parameter {name!r}; only region and profile are accepted"
            )
        if name in params:
            raise KeyLoadError(f"{spec!r} gives {name} twice")
        params[name] = value
    region, profile = params.get("region"), params.get("profile")
    if region is not None and not _REGION.fullmatch(region):
        raise KeyLoadError(f"{spec!r}: {region!r} is not an AWS region name (e.g. eu-west-1)")
    if profile is not None and not profile:
        raise KeyLoadError(f"{spec!r}: profile is empty")
    key_id = parts.path.removeprefix("/")
    if key_id.startswith("arn:"):
        return _from_arn(key_id, region, profile, spec)
    if not (_ALIAS.fullmatch(key_id) or _KEY_ID.fullmatch(key_id)):
        raise KeyLoadError(
            f"{spec!r} does not name a key: after awskms:/// give alias/NAME, a key id or an ARN"
        )
    return KmsKeyRef(key_id=key_id, region=region, profile=profile)


def _from_arn(arn: str, region: str | None, profile: str | None, spec: str) -> KmsKeyRef:
    match = _ARN.fullmatch(arn)
    if not match:
        raise KeyLoadError(
            f"{spec!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or …:alias/NAME)"
        )
    if region is not None and region != match["region"]:
        raise KeyLoadError(
            f"{spec!r} asks for region {region} but the ARN is in {match['region']}; "
            "drop ?region= or fix the ARN"
        )
    return KmsKeyRef(key_id=arn, region=match["region"], profile=profile)
