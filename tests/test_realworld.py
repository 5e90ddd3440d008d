"""Real-world signed mail that this project did not make (fixtures/realworld/MANIFEST.json).

Each entry of the manifest names a message, where it comes from, the trust anchors (S/MIME) or
key records (DKIM), a validation time, and the verdict every receiver gives. The tests check
three things:

- each independent receiver still says what the manifest says (so the manifest is honest);
- mimeseal gives the verdict the manifest expects of it, with exactly the problem codes listed
  (codes under ``tolerated`` may also appear);
- mimeseal raises nothing but a verdict, unless the manifest expects ``error:<ClassName>``.

Messages are stored as their source stores them (often with bare LF). mimeseal is handed the
file as stored (it canonicalizes and says so); the S/MIME command-line receivers are handed the
CRLF form, as the message travels. OpenSSL and gpgsm validate at the entry's ``at``; GnuTLS has
no time option and validates now; NSS validates at the signer's signing-time attribute.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import dkim
import pytest
from cryptography import x509

import receivers_smime
from mimeseal import dkim as mdkim
from mimeseal import smime
from mimeseal.errors import MimesealError
from mimeseal.keys import load_certificates
from mimeseal.mime import has_bare_line_ends, to_crlf

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "realworld"
MANIFEST: dict[str, Any] = json.loads((CORPUS / "MANIFEST.json").read_text(encoding="utf-8"))
ENTRIES: list[dict[str, Any]] = MANIFEST["messages"]
SMIME = [e for e in ENTRIES if e["kind"] == "smime"]
DKIM = [e for e in ENTRIES if e["kind"] == "dkim"]
SMIME_RECEIVERS = ["openssl", "gnutls", "nss", "gpgsm"]
DKIM_RECEIVERS = ["mail_dkim", "opendkim"]
MAX_CORPUS_OCTETS = 2 * 1024 * 1024


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in entries]


def _message(entry: dict[str, Any]) -> bytes:
    return (CORPUS / str(entry["file"])).read_bytes()


def _trust(entry: dict[str, Any]) -> list[x509.Certificate]:
    return [c for name in entry["trust"] for c in load_certificates((CORPUS / name).read_bytes())]


def _at(entry: dict[str, Any]) -> datetime | None:
    return datetime.fromisoformat(entry["at"].replace("Z", "+00:00")) if entry["at"] else None


def _wire(message: bytes) -> bytes:
    """The message as it travels: CRLF line ends."""
    return bytes(to_crlf(message)) if has_bare_line_ends(message) else message


def _verdict(ok: bool) -> str:
    return "valid" if ok else "invalid"


def _records(entry: dict[str, Any]) -> dict[str, str]:
    return dict(entry["records"])


def _dnsfunc(entry: dict[str, Any]) -> Any:
    records = {name.lower(): value.encode("ascii") for name, value in entry["records"].items()}

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        return records.get(name.decode("ascii", "replace").rstrip(".").lower())

    return dnsfunc


# --- the manifest itself ---------------------------------------------------------------------


def test_manifest_names_every_file_and_only_existing_ones() -> None:
    named = {e["file"] for e in ENTRIES} | set(MANIFEST["files"])
    for entry in SMIME:
        named.update(entry["trust"])
    present = {
        str(p.relative_to(CORPUS))
        for p in CORPUS.rglob("*")
        if p.is_file() and p.parent != CORPUS and "LICENSES" not in p.parts
    }
    assert named - present == set(), "the manifest names files that are missing"
    assert present - named == set(), "files in the corpus that the manifest does not describe"
    for entry in SMIME:
        assert set(entry["trust"]) <= set(MANIFEST["files"]), entry["id"]


def test_files_are_the_bytes_the_manifest_describes() -> None:
    described = [(e["file"], e["sha256"]) for e in ENTRIES]
    described += [(name, f["sha256"]) for name, f in MANIFEST["files"].items()]
    for name, digest in described:
        assert hashlib.sha256((CORPUS / name).read_bytes()).hexdigest() == digest, name


def test_manifest_entries_are_complete() -> None:
    assert len({e["id"] for e in ENTRIES}) == len(ENTRIES)
    for entry in ENTRIES:
        for key in ("file", "kind", "source", "licence", "at", "expected", "problems", "why"):
            assert key in entry, (entry["id"], key)
        assert {"repository", "path", "commit"} <= set(entry["source"]), entry["id"]
        assert len(entry["source"]["commit"]) == 40, entry["id"]
        assert entry["licence"]["spdx"], entry["id"]
        assert "mimeseal" in entry["expected"], entry["id"]
        assert ("trust" in entry) == (entry["kind"] == "smime"), entry["id"]
        assert ("records" in entry) == (entry["kind"] == "dkim"), entry["id"]


def test_corpus_is_small() -> None:
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert total < MAX_CORPUS_OCTETS


# --- S/MIME: the receivers -------------------------------------------------------------------


@pytest.mark.parametrize("receiver", SMIME_RECEIVERS)
@pytest.mark.parametrize("entry", SMIME, ids=_ids(SMIME))
def test_smime_receiver_says_what_the_manifest_says(entry: dict[str, Any], receiver: str) -> None:
    command, verify = receivers_smime.RECEIVERS[receiver]
    if shutil.which(command) is None:
        pytest.skip(f"{command} is not installed")
    expected = entry["expected"].get(receiver)
    if expected is None:
        pytest.skip(f"the manifest records no {receiver} verdict for {entry['id']}")
    at = _at(entry) if receiver in receivers_smime.TAKES_TIME else None
    result = verify(_wire(_message(entry)), _trust(entry), at)
    assert _verdict(result.ok) == expected, f"{receiver} said:\n{result.output}"


# --- S/MIME: mimeseal ------------------------------------------------------------------------


@pytest.mark.parametrize("entry", SMIME, ids=_ids(SMIME))
def test_smime_mimeseal_verdict(entry: dict[str, Any]) -> None:
    expected: str = entry["expected"]["mimeseal"]
    message, trust, at = _message(entry), _trust(entry), _at(entry)
    if expected.startswith("error:"):
        with pytest.raises(MimesealError) as caught:
            smime.verify(message, trust=trust, at=at)
        assert type(caught.value).__name__ == expected.split(":", 1)[1], str(caught.value)
        return
    verdict = smime.verify(message, trust=trust, at=at)
    errors = {p.code for p in verdict.all_problems() if p.is_error}
    shown = "\n".join(f"{p.code}: {p.message}" for p in verdict.all_problems())
    assert _verdict(verdict.valid) == expected, shown
    listed = set(entry["problems"])
    assert listed <= errors, f"missing problem codes {sorted(listed - errors)}:\n{shown}"
    extra = errors - listed - set(entry.get("tolerated", ()))
    assert not extra, f"unexpected problem codes {sorted(extra)}:\n{shown}"
    assert verdict.canonicalized == has_bare_line_ends(message)


# --- DKIM: the receivers ---------------------------------------------------------------------


@pytest.mark.parametrize("entry", DKIM, ids=_ids(DKIM))
def test_dkim_dkimpy_says_what_the_manifest_says(entry: dict[str, Any]) -> None:
    message, dnsfunc = _message(entry), _dnsfunc(entry)
    assert _verdict(dkim.verify(message, dnsfunc=dnsfunc)) == entry["expected"]["dkimpy"]
    checker = dkim.DKIM(message)
    count = sum(1 for name, _ in checker.headers if name.lower() == b"dkim-signature")
    statuses = [
        "pass" if dkim.DKIM(message).verify(idx=i, dnsfunc=dnsfunc) else "fail"
        for i in range(count)
    ]
    assert statuses == entry["signatures"]["dkimpy"]


def _receivers_dkim() -> Any:
    """tests/receivers_dkim.py (Mail::DKIM and OpenDKIM), or a skip if it is not there."""
    path = Path(__file__).resolve().parent / "receivers_dkim.py"
    if not path.exists():
        pytest.skip("tests/receivers_dkim.py is not there")
    spec = importlib.util.spec_from_file_location("receivers_dkim", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("receiver", DKIM_RECEIVERS)
@pytest.mark.parametrize("entry", DKIM, ids=_ids(DKIM))
def test_dkim_receiver_says_what_the_manifest_says(entry: dict[str, Any], receiver: str) -> None:
    expected = entry["expected"].get(receiver)
    if expected is None:
        pytest.skip(f"the manifest records no {receiver} verdict for {entry['id']}")
    module = _receivers_dkim()
    if not getattr(module, f"{receiver}_available")():
        pytest.skip(f"{receiver} is not installed")
    words = [
        word
        for word, _ in getattr(module, f"{receiver}_verify")(
            _wire(_message(entry)), _records(entry)
        )
    ]
    assert words == entry["signatures"][receiver]
    assert _verdict(any(module.passed(word) for word in words)) == expected


# --- DKIM: mimeseal --------------------------------------------------------------------------


@pytest.mark.parametrize("entry", DKIM, ids=_ids(DKIM))
def test_dkim_mimeseal_verdict(entry: dict[str, Any]) -> None:
    results = mdkim.verify(_message(entry), records=_records(entry), now=_at(entry))
    shown = "\n".join(f"{r.index}: {r.status} ({r.reason})" for r in results)
    assert [r.status for r in results] == entry["signatures"]["mimeseal"], shown
    authenticated = mdkim.message_verdict(results).authenticated
    assert _verdict(authenticated) == entry["expected"]["mimeseal"], shown
