"""Hostile input for the entry points: the ``fixtures/bad`` corpus and mutation strategies.

Shared by ``test_bad_corpus.py``, ``test_hostile_properties.py`` and ``fuzz/run.py`` (which
runs the same strategies at scale), so the suite and the fuzzer attack the code the same way.
The corpus manifest declares, per file, the entry point it targets and the outcome expected:
an exact error class (and for :class:`~mimeseal.errors.LimitError` the limit), or a verdict.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from hypothesis import strategies as st

from mimeseal import check, dkim, keys, smime
from mimeseal.check.report import Report
from mimeseal.dkim.verifying import DkimResult
from mimeseal.errors import LimitError, MimesealError
from mimeseal.invite import Invite
from mimeseal.limits import Limits
from mimeseal.smime.verifying import SmimeVerdict

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "fixtures" / "bad"


@dataclass(frozen=True)
class Entry:
    """One corpus input: a file, the entry point it attacks and what must come out."""

    id: str
    file: str
    target: str
    about: str
    expect: Mapping[str, Any]
    limits: Mapping[str, int] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    seed: bool = False

    def data(self, folder: Path = CORPUS) -> bytes:
        raw = (folder / self.file).read_bytes()
        return gzip.decompress(raw) if self.file.endswith(".gz") else raw


@dataclass(frozen=True)
class Corpus:
    """The manifest with its trust anchors, DKIM key records and fixed clock loaded."""

    folder: Path
    entries: tuple[Entry, ...]
    support: tuple[str, ...]
    trust: tuple[x509.Certificate, ...]
    records: Mapping[str, str]
    now: datetime

    def seeds(self, *targets: str) -> list[bytes]:
        """The valid inputs (``"seed": true``) for ``targets``: what mutations start from."""
        return [e.data(self.folder) for e in self.entries if e.seed and e.target in targets]


def load_corpus(folder: Path = CORPUS) -> Corpus:
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    entries = tuple(Entry(**item) for item in manifest["entries"])
    trust = tuple(keys.load_certificates((folder / manifest["trust"]).read_bytes()))
    return Corpus(
        folder=folder,
        entries=entries,
        support=tuple(manifest["support"]),
        trust=trust,
        records=dict(manifest["dkim_records"]),
        now=datetime.fromisoformat(manifest["now"]),
    )


# --- running an entry point --------------------------------------------------------------------


def _smime(data: bytes, corpus: Corpus, limits: Limits | None, options: Mapping[str, Any]) -> Any:
    return smime.verify(data, trust=corpus.trust, limits=limits)


def _dkim(data: bytes, corpus: Corpus, limits: Limits | None, options: Mapping[str, Any]) -> Any:
    strict = bool(options.get("strict", True))
    return dkim.verify(data, records=corpus.records, now=corpus.now, strict=strict, limits=limits)


def _check(data: bytes, corpus: Corpus, limits: Limits | None, options: Mapping[str, Any]) -> Any:
    return check.check(
        data,
        profile=str(options.get("profile", "ses")),
        trust=corpus.trust,
        dkim_records=corpus.records,
        now=corpus.now,
        references=False,
        limits=limits,
    )


def _ics(data: bytes, corpus: Corpus, limits: Limits | None, options: Mapping[str, Any]) -> Any:
    return Invite.from_ics(data, limits=limits)


def _message(data: bytes, corpus: Corpus, limits: Limits | None, opts: Mapping[str, Any]) -> Any:
    return Invite.from_message(data, limits=limits)


def _password(options: Mapping[str, Any]) -> bytes | None:
    value = options.get("password")
    return None if value is None else str(value).encode()


Runner = Callable[[bytes, Corpus, "Limits | None", Mapping[str, Any]], Any]
TARGETS: dict[str, Runner] = {
    "smime.verify": _smime,
    "dkim.verify": _dkim,
    "check": _check,
    "invite.from_ics": _ics,
    "invite.from_message": _message,
    "keys.load_pkcs12": lambda data, c, lim, o: keys.load_pkcs12(data, _password(o)),
    "keys.load_private_key": lambda data, c, lim, o: keys.load_private_key(data, _password(o)),
    "keys.load_certificates": lambda data, c, lim, o: keys.load_certificates(data),
}


def run(entry: Entry, corpus: Corpus, data: bytes | None = None) -> Any:
    """Run ``entry`` (or other ``data``) through its entry point with its limits and options."""
    limits = Limits().replace(**entry.limits) if entry.limits else None
    payload = entry.data(corpus.folder) if data is None else data
    return TARGETS[entry.target](payload, corpus, limits, entry.options)


def summary(result: object) -> dict[str, Any]:
    """What an entry point returned, in the manifest's terms (for comparison and reports)."""
    if isinstance(result, SmimeVerdict):
        codes = sorted({p.code for p in result.all_problems()})
        return {"valid": result.valid, "problems": codes}
    if isinstance(result, Report):
        errors = sorted({f.rule for f in result.findings if f.severity == "error"})
        return {
            "ok": result.ok,
            "errors": errors,
            "findings": sorted({f.rule for f in result.findings}),
        }
    if isinstance(result, Invite):
        return {"method": result.method}
    if isinstance(result, list) and all(isinstance(r, DkimResult) for r in result):
        return {"statuses": [r.status for r in result], "reasons": [r.reason for r in result]}
    return {"loaded": type(result).__name__}


def mismatch(entry: Entry, outcome: object) -> str | None:
    """None when ``outcome`` (a result or a raised exception) is what ``entry`` expects."""
    expect = entry.expect
    if "error" in expect:
        if not isinstance(outcome, BaseException):
            return f"expected {expect['error']}, got a result {summary(outcome)}"
        if type(outcome).__name__ != expect["error"]:
            return f"expected {expect['error']}, got {type(outcome).__name__}: {outcome}"
        if "limit" in expect and getattr(outcome, "limit", None) != expect["limit"]:
            return f"expected limit {expect['limit']}, got {getattr(outcome, 'limit', None)}"
        return None
    if isinstance(outcome, BaseException):
        return f"expected {dict(expect)}, got {type(outcome).__name__}: {outcome}"
    got = summary(outcome)
    for key, wanted in expect.items():
        if key == "findings":  # warnings vary with the rules: the listed ones must be among them
            missing = sorted(set(wanted) - set(got["findings"]))
            if missing:
                return f"findings {missing} missing from {got['findings']}"
        elif key == "absent":
            present = sorted(set(wanted) & set(got.get("findings", ())))
            if present:
                return f"findings {present} must not be reported"
        elif key == "reasons":  # reasons are sentences: each expected one is a substring
            if len(wanted) != len(got["reasons"]) or any(
                w not in r for w, r in zip(wanted, got["reasons"], strict=True)
            ):
                return f"reasons {got['reasons']} do not contain {wanted}"
        elif got.get(key) != wanted:
            return f"{key}: expected {wanted!r}, got {got.get(key)!r}"
    return None


def outcome_of(entry: Entry, corpus: Corpus, data: bytes | None = None) -> object:
    """The result of running ``entry``, or the MimesealError it raised (others propagate)."""
    try:
        return run(entry, corpus, data)
    except MimesealError as exc:
        return exc


def limit_error_is_consistent(exc: LimitError) -> bool:
    """A LimitError names a real limit and reports a value over its maximum."""
    return (
        exc.limit in Limits.__dataclass_fields__
        and exc.value > exc.maximum
        and f"{exc.limit}=" in str(exc)
    )


# --- mutations ---------------------------------------------------------------------------------

#: Tokens that change a parser's idea of the structure when dropped into the bytes.
STRUCTURAL = (
    b"\r\n", b"\n", b"\r", b"\r\n\r\n", b"\r\n ", b"\r\n\t", b"--", b"--\r\n", b":", b";", b"=",
    b"\x00", b"\xff\xfe", b"\xc3", b"==", b"!!!!", b"AAAA", b"////", b"====\r\n",
    b"Content-Type: multipart/mixed; boundary=x\r\n", b"\r\n--x\r\n", b"\r\n--x--\r\n",
    b"Content-Transfer-Encoding: base64\r\n", b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n",
    b"Content-Type: message/rfc822\r\n", b"DKIM-Signature: v=1; a=ed25519-sha256; b=; bh=\r\n",
    b"; l=1", b"; l=99999999999", b"; t=9999999999", b"; x=1", b"; h=From", b"; a=rsa-sha1",
    b"BEGIN:VEVENT\r\n", b"END:VEVENT\r\n", b"BEGIN:VCALENDAR\r\n", b"END:VCALENDAR\r\n",
    b"BEGIN:VALARM\r\n", b"METHOD:CANCEL\r\n", b"DTSTART:99999999T999999Z\r\n",
    b"RRULE:FREQ=DAILY;COUNT=-1\r\n", b"DTSTART;TZID=Nowhere/Land:20250101T000000\r\n",
    b"\x30\x80", b"\x00\x00", b"\x30\x84\xff\xff\xff\xff", b"\xa0\x80", b"\x24\x80",
)  # fmt: skip

_BOUNDARY = re.compile(rb'boundary="?([^";\r\n]+)')


def tokens_for(seeds: Sequence[bytes]) -> list[bytes]:
    """:data:`STRUCTURAL` plus the delimiter lines of every boundary the seeds use."""
    found = list(STRUCTURAL)
    for seed in seeds:
        for boundary in sorted(set(_BOUNDARY.findall(seed))):
            found += [b"\r\n--" + boundary + b"\r\n", b"\r\n--" + boundary + b"--\r\n", boundary]
    return found


@st.composite
def mutated(draw: st.DrawFn, seeds: Sequence[bytes], tokens: Sequence[bytes]) -> bytes:
    """A seed with 1-6 edits: bit flips, token insertions, deletions, truncations, repeats."""
    data = bytearray(draw(st.sampled_from(seeds)))
    # Half the edits land after the top header block, so they reach the MIME, CMS and DKIM
    # parsers more often than the header parser (which most random edits break first).
    body = data.find(b"\r\n\r\n") + 4 if draw(st.booleans()) else 0
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(("flip", "token", "bytes", "delete", "cut", "repeat")))
        at = draw(st.integers(min(max(body, 0), len(data)), len(data)))
        if action == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "token":
            data[at:at] = draw(st.sampled_from(tokens)) * draw(st.sampled_from((1, 1, 2, 40)))
        elif action == "bytes":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif action == "cut":
            del data[at:]
        else:  # repeat a short stretch many times: line, header and part bombs in miniature
            stretch = bytes(data[at : at + draw(st.integers(1, 80))])
            data[at:at] = stretch * draw(st.integers(2, 200))
    return bytes(data)


def hostile(seeds: Sequence[bytes], max_size: int = 4096) -> st.SearchStrategy[bytes]:
    """Mostly mutated seeds, sometimes arbitrary bytes."""
    tokens = tokens_for(seeds)
    return st.one_of(
        mutated(seeds, tokens),
        mutated(seeds, tokens),
        mutated(seeds, tokens),
        st.binary(max_size=max_size),
    )
