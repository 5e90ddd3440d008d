"""The survival matrix: every signature, verified again after every transformation.

Receivers are mimeseal's strict verifiers, dkimpy (as receivers running it would) for DKIM,
and ``openssl cms -verify`` for S/MIME when the command exists. Verdicts are cached by the
SHA-256 of the bytes, so a transformation that changes nothing costs nothing. On large
messages (over ``REFERENCE_LIMIT``) the slow reference receivers run on the original and on
the steps the profile requires signatures to survive, not on every cell.
"""

from __future__ import annotations

import hashlib
import importlib
import shutil
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cryptography import x509

from mimeseal import cms, dkim, references, smime
from mimeseal.dkim.records import RecordSource, lookup
from mimeseal.dkim.tags import parse_tag_list, remove_fws
from mimeseal.errors import LimitError, MimesealError
from mimeseal.limits import Limits, resolve
from mimeseal.mime import header_boundaries, parse_headers, to_crlf
from mimeseal.smime.parts import iter_signed_entities

REFERENCE_LIMIT = 2 * 1024 * 1024
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mimeseal-openssl")
Cell = Literal["survives", "breaks", "n/a"]


@dataclass(frozen=True)
class Verdict:
    """One receiver's answer on one signature: ``valid`` None means it could not judge."""

    receiver: str
    valid: bool | None
    reason: str


@dataclass
class SignatureRow:
    """A signature found in the original message, and what each receiver says about it."""

    key: str
    kind: Literal["smime", "dkim"]
    label: str
    original: list[Verdict] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        ours = [v for v in self.original if v.receiver == "mimeseal"]
        return bool(ours) and all(v.valid for v in ours)


@dataclass(frozen=True)
class MatrixCell:
    transform: str
    signature: str
    state: Cell
    verdicts: tuple[Verdict, ...]


Verifier = Callable[[bytes], dict[str, list[Verdict]]]


def _smime_verdicts(
    message: bytes,
    trust: Sequence[x509.Certificate],
    at: datetime | None,
    labels: dict[str, str],
    limits: Limits,
    original: bool = False,
) -> dict[str, list[Verdict]]:
    """mimeseal's verdict per S/MIME signer; ``labels`` gets a readable name for each.

    A limit the *original* message breaks is the caller's to see (LimitError); on a transformed
    copy it is just one more way the signature did not survive."""
    try:
        verdict = smime.verify(message, trust=trust, at=at, limits=limits)
    except LimitError:
        if original:
            raise
        return {"*smime": [Verdict("mimeseal", False, "unreadable: over a limit")]}
    except MimesealError as exc:
        return {"*smime": [Verdict("mimeseal", False, f"unreadable: {exc}")]}
    found: dict[str, list[Verdict]] = {}
    for part in verdict.parts:
        for signer in part.signers:
            problems = [p for p in signer.problems + part.problems if p.is_error]
            reason = "; ".join(f"{p.code}: {p.message}" for p in problems) or "valid"
            place = part.path if part.layer == 1 else f"layer {part.layer} {part.path}".strip()
            key = f"smime:{place}:{signer.index}"
            found[key] = [Verdict("mimeseal", not problems, reason)]
            where = "whole message" if part.is_root else f"part {part.path}"
            if part.layer > 1:
                where = f"layer {part.layer}, {where}"
            who = ", ".join(signer.addresses) or "unknown signer"
            labels.setdefault(key, f"S/MIME {who} ({part.form}, {where}, {signer.digest})")
    return found


def _dkim_key(header_b: str) -> str:
    return "dkim:" + remove_fws(header_b)[:24]


def _dkim_verdicts(
    message: bytes,
    records: RecordSource,
    now: datetime | None,
    limits: Limits,
    original: bool = False,
) -> dict[str, list[Verdict]]:
    found: dict[str, list[Verdict]] = {}
    try:
        results = dkim.verify(message, records=records, now=now, limits=limits)
        view_b = _dkim_b_values(message, limits)
    except LimitError:
        if original:
            raise
        return {"*dkim": [Verdict("mimeseal", False, "unreadable: over a limit")]}
    except MimesealError as exc:
        return {"*dkim": [Verdict("mimeseal", False, f"unreadable: {exc}")]}
    for result, b_value in zip(results, view_b, strict=False):
        found[_dkim_key(b_value)] = [_dkim_verdict(result)]
    return found


def _dkim_verdict(result: dkim.DkimResult) -> Verdict:
    """mimeseal's verdict on one signature, as :func:`dkim.message_verdict` counts it: a
    signature that verifies with a testing key (``t=y``) does not authenticate the message."""
    if result.status == "temperror":
        return Verdict("mimeseal", None, result.reason)
    if result.passed and result.testing:
        return Verdict(
            "mimeseal",
            False,
            "verifies, but the key record has t=y (testing): receivers treat the message as "
            "unsigned (RFC 6376 §3.6.1); publish the key without t=y",
        )
    return Verdict("mimeseal", result.authenticates, result.reason)


def _dkim_tags(message: bytes, limits: Limits | None = None) -> list[dict[str, str]]:
    """Tag lists of the DKIM-Signature headers, in order; reads only the header block."""
    block_end, _ = header_boundaries(message)
    tags = []
    for header in parse_headers(to_crlf(message[:block_end]), limits):
        if header.is_named("DKIM-Signature"):
            value = header.raw.split(b":", 1)[1].decode("ascii", "replace")
            try:
                tags.append(parse_tag_list(value, "DKIM-Signature"))
            except MimesealError:
                tags.append({})
    return tags


def _dkim_b_values(message: bytes, limits: Limits | None = None) -> list[str]:
    return [t.get("b", f"#{i}") for i, t in enumerate(_dkim_tags(message, limits))]


class Receivers:
    """Runs every receiver on a message, with results cached by the message's digest."""

    def __init__(
        self,
        *,
        trust: Sequence[x509.Certificate],
        records: RecordSource,
        now: datetime | None,
        references_on: bool,
        limits: Limits | None = None,
    ) -> None:
        self.trust, self.records, self.now = list(trust), records, now
        self.references_on = references_on
        # Transformations may grow a message (8bit → quoted-printable up to threefold): the
        # original passed the size limit, so its transformed copies are not refused for size.
        base = resolve(limits)
        self.limits = base.replace(max_message_bytes=4 * base.max_message_bytes)
        self.labels: dict[str, str] = {}  # readable signature names, from the first verdict
        self.ours: dict[bytes, dict[str, list[Verdict]]] = {}
        self.theirs: dict[bytes, dict[str, list[Verdict]]] = {}
        self._dkimpy = _load_dkimpy()
        self._openssl_usable: bool | None = None

    def verdicts(
        self, message: bytes, with_references: bool, *, original: bool = False
    ) -> dict[str, list[Verdict]]:
        """Every receiver's verdicts on ``message``; each receiver runs once per distinct bytes.

        ``original`` marks the message as given: a limit it breaks raises LimitError."""
        digest = hashlib.sha256(message).digest()
        if digest not in self.ours:
            found = (
                _smime_verdicts(message, self.trust, self.now, self.labels, self.limits, original)
                if self.trust
                else {}
            )
            dkim_found = _dkim_verdicts(message, self.records, self.now, self.limits, original)
            for key, values in dkim_found.items():
                found.setdefault(key, []).extend(values)
            self.ours[digest] = found
        merged = {key: list(values) for key, values in self.ours[digest].items()}
        if with_references and self.references_on:
            if digest not in self.theirs:
                self.theirs[digest] = self._references(message, merged)
            for key, values in self.theirs[digest].items():
                merged.setdefault(key, []).extend(values)
        return merged

    def _references(
        self, message: bytes, ours: dict[str, list[Verdict]]
    ) -> dict[str, list[Verdict]]:
        found: dict[str, list[Verdict]] = {}
        smime_keys = [k for k in ours if k.startswith("smime:")]
        openssl_run: Future[references.ReferenceResult] | None = None
        if smime_keys and shutil.which("openssl"):
            if self._openssl_usable is None:  # the signers' algorithms never change
                self._openssl_usable = _openssl_can_verify(message, self.limits)
            if self._openssl_usable:
                # A separate process: it runs on the other core while dkimpy holds the GIL.
                openssl_run = _POOL.submit(
                    references.openssl_cms_verify, to_crlf(message), self.trust
                )
        if self._dkimpy is not None:
            for index, b_value in enumerate(_dkim_b_values(message, self.limits)):
                key = _dkim_key(b_value)
                if key in ours:
                    found[key] = [self._dkimpy_verdict(message, index)]
        if openssl_run is not None:
            result = openssl_run.result()
            reason = result.output.splitlines()[-1] if result.output else ""
            for key in smime_keys:
                found[key] = [Verdict("openssl", result.ok, reason)]
        return found

    def _dkimpy_verdict(self, message: bytes, index: int) -> Verdict:
        module = self._dkimpy
        assert module is not None

        def dnsfunc(name: bytes | str, timeout: int = 5) -> bytes | None:
            text = name.decode("ascii") if isinstance(name, bytes) else name
            try:
                value = lookup(text.rstrip("."), self.records)
            except MimesealError:
                return None
            return value.encode("ascii") if value else None

        try:
            checker = module.DKIM(message)
            valid = bool(checker.verify(idx=index, dnsfunc=dnsfunc))
            return Verdict("dkimpy", valid, "pass" if valid else "dkimpy: signature did not verify")
        except Exception as exc:  # dkimpy raises its own types, and others, on odd input
            return Verdict("dkimpy", False, f"dkimpy: {type(exc).__name__}: {exc}")


def _load_dkimpy() -> Any:
    try:
        return importlib.import_module("dkim")
    except ImportError:
        return None


def _openssl_can_verify(message: bytes, limits: Limits) -> bool:
    """OpenSSL 3.0/3.1 cannot verify Ed25519 CMS at all: don't ask it to."""
    if references.openssl_verifies_ed25519():
        return True
    try:
        for entity in iter_signed_entities(to_crlf(message), limits):
            for signer in cms.parse_signed_data(entity.cms_der, limits).signer_infos:
                if cms.signature_algorithm_name(signer) == "ed25519":
                    return False
    except MimesealError:
        return True
    return True


def cell_state(original: Sequence[Verdict], after: Sequence[Verdict] | None) -> Cell:
    ours_before = next((v for v in original if v.receiver == "mimeseal"), None)
    if ours_before is None or not ours_before.valid:
        return "n/a"  # a signature that does not verify now cannot survive or break
    if after is None:
        return "breaks"  # the signature is gone or unreadable after the transformation
    return "survives" if all(v.valid is not False for v in after) else "breaks"


def label_for(key: str) -> str:
    if key.startswith("smime:"):
        _, path, index = key.split(":")
        return f"S/MIME signer {index} ({'root' if not path else 'part ' + path})"
    return key


def dkim_labels(message: bytes, limits: Limits | None = None) -> Mapping[str, str]:
    labels = {}
    for index, tags in enumerate(_dkim_tags(message, limits)):
        key = _dkim_key(tags.get("b", f"#{index}"))
        labels[key] = f"DKIM d={tags.get('d', '?')} s={tags.get('s', '?')} ({tags.get('a', '?')})"
    return labels
