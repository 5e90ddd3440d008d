"""Three DKIM receivers mimeseal did not write, all offline: dkimpy, Mail::DKIM and OpenDKIM.

Each ``*_verify(message, records, ...)`` returns one ``(result, detail)`` pair per
DKIM-Signature header, top to bottom, where ``result`` is the receiver's own word (``pass``,
``fail``, ``invalid``…) and :func:`passed` tells which of them are a pass. Key records come
from ``records`` (``"sel._domainkey.domain"`` → TXT value), never from DNS:

- dkimpy 1.1: its ``dnsfunc`` hook. It judges t=/x= by ``time.time()`` (10 hours of slack);
  :func:`dkimpy_verify` with ``now`` swaps the ``time`` module dkimpy sees for a fixed clock.
- Mail::DKIM (Perl, 1.20230212 in Debian 12): ``tests/maildkim_verify.pl`` installs a fake
  resolver through ``Mail::DKIM::DNS::resolver``. ``now`` replaces Perl's ``time()`` before
  Mail::DKIM is compiled; ``strict`` is its ``Strict`` option (refuses rsa-sha1, RSA < 1024).
  This version has no Ed25519 (``unsupported key type``).
- OpenDKIM (libopendkim 2.11, Debian's ``libopendkim11``), driven through ``ctypes``: its
  file query method (``DKIM_QUERY_FILE``: ``name value`` lines) replaces DNS.
  ``opendkim-testmsg`` itself only asks DNS and reports one result per message, hence the
  library. It judges x= and t= by ``time()``, with no way to set the clock for verifying
  (``DKIM_OPTS_FIXEDTIME`` only sets the t= of signatures it makes), so it takes no ``now``.
  ``strict_headers`` sets ``DKIM_LIBFLAGS_STRICTHDRS`` (RFC 5322 field counts: one From).

:func:`craft_sign` makes simple/simple signatures with any tags at all (bad ``i=``, ``q=``,
``l=``, rsa-sha1, ``h=`` without oversigning), from the RFC 6376 text with hashlib and
``cryptography`` only, so the receivers can be shown signatures mimeseal refuses to make.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import functools
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dkim as dkimpy
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

Verdicts = list[tuple[str, str]]
SCRIPT = Path(__file__).with_name("maildkim_verify.pl")
TIMEOUT = 60.0

__all__ = [
    "craft_sign",
    "dkimpy_verify",
    "mail_dkim_available",
    "mail_dkim_verify",
    "opendkim_available",
    "opendkim_verify",
    "passed",
    "signature_b_values",
]


def passed(result: str) -> bool:
    """Whether a receiver's word for one signature is a pass."""
    return result == "pass"


def signature_b_values(message: bytes) -> list[str]:
    """The b= value (FWS removed) of each DKIM-Signature field, top to bottom."""
    head = re.split(rb"\r?\n\r?\n", message, maxsplit=1)[0]
    fields = re.split(rb"\r?\n(?![ \t])", head)
    found = []
    for field in fields:
        name, _, value = field.partition(b":")
        if name.strip().lower() != b"dkim-signature":
            continue
        match = re.search(rb"(?:^|;)\s*b\s*=([^;]*)", value)
        found.append(re.sub(rb"\s+", b"", match.group(1)).decode("ascii") if match else "")
    return found


# --------------------------------------------------------------------------- dkimpy


@contextlib.contextmanager
def _dkimpy_clock(now: int | None) -> Iterator[None]:
    """dkimpy reads ``time.time()`` through its module global ``time``: swap that only."""
    if now is None:
        yield
        return
    real = dkimpy.time
    dkimpy.time = types.SimpleNamespace(time=lambda: float(now))
    try:
        yield
    finally:
        dkimpy.time = real


def dkimpy_verify(
    message: bytes, records: Mapping[str, str], *, now: int | None = None
) -> Verdicts:
    """dkimpy's answer per signature (``DKIM.verify(idx=i)``; it judges one at a time)."""
    table = {k.lower().rstrip("."): v for k, v in records.items()}

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        value = table.get(name.decode("ascii", "replace").rstrip(".").lower())
        return None if value is None else value.encode("ascii")

    verdicts: Verdicts = []
    with _dkimpy_clock(now):
        for index in range(len(signature_b_values(message))):
            try:
                ok = bool(dkimpy.DKIM(message).verify(idx=index, dnsfunc=dnsfunc))
                verdicts.append(("pass", "") if ok else ("fail", "did not verify"))
            except Exception as exc:  # dkimpy raises its own types, and others
                verdicts.append(("fail", f"{type(exc).__name__}: {exc}"))
    return verdicts


# --------------------------------------------------------------------------- Mail::DKIM


@functools.cache
def mail_dkim_available() -> bool:
    try:
        done = subprocess.run(
            ["perl", "-MMail::DKIM::Verifier", "-MJSON::PP", "-MNet::DNS", "-e1"],
            capture_output=True,
            timeout=TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def mail_dkim_verify(
    message: bytes,
    records: Mapping[str, str],
    *,
    now: int | None = None,
    strict: bool = False,
) -> Verdicts:
    """Mail::DKIM::Verifier's result and result_detail per signature.

    A signature Mail::DKIM could not even parse is missing from its list; it is reported as
    ``("invalid", <its reject reason>)``, matched by b= value.
    """
    with tempfile.TemporaryDirectory(prefix="mimeseal-maildkim-") as folder:
        path = Path(folder) / "records.json"
        path.write_text(json.dumps(dict(records)), encoding="ascii")
        env = {**os.environ, "MAILDKIM_STRICT": "1" if strict else ""}
        env["MAILDKIM_NOW"] = "" if now is None else str(int(now))
        done = subprocess.run(
            ["perl", str(SCRIPT), str(path)],
            input=message,
            capture_output=True,
            timeout=TIMEOUT,
            env=env,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"maildkim_verify.pl failed: {done.stderr.decode(errors='replace')}")
    answer: dict[str, Any] = json.loads(done.stdout)
    by_b = {re.sub(r"\s+", "", s["b"]): s for s in answer["signatures"]}
    verdicts: Verdicts = []
    for b_value in signature_b_values(message):
        one = by_b.get(b_value)
        if one is None:
            verdicts.append(("invalid", str(answer.get("detail") or "not parsed")))
        else:
            verdicts.append((str(one["result"]), str(one["detail"])))
    return verdicts


# --------------------------------------------------------------------------- OpenDKIM

_DKIM_OP_SETOPT = 1
_DKIM_OPTS_FLAGS, _DKIM_OPTS_QUERYMETHOD, _DKIM_OPTS_QUERYINFO = 0, 6, 7
_DKIM_QUERY_FILE = 1
_DKIM_LIBFLAGS_STRICTHDRS = 0x1000
_DKIM_SIGFLAG_PASSED, _DKIM_SIGFLAG_TESTKEY = 0x04, 0x08
_DKIM_SIGBH_MATCH = 0


@functools.cache
def _libopendkim() -> Any:
    lib = ctypes.CDLL("libopendkim.so.11")
    pointer, integer, text = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    signatures: dict[str, tuple[Any, list[Any]]] = {
        "dkim_init": (pointer, [pointer, pointer]),
        "dkim_options": (integer, [pointer, integer, integer, pointer, ctypes.c_size_t]),
        "dkim_verify": (pointer, [pointer, text, pointer, ctypes.POINTER(integer)]),
        "dkim_chunk": (integer, [pointer, text, ctypes.c_size_t]),
        "dkim_eom": (integer, [pointer, pointer]),
        "dkim_getsiglist": (
            integer,
            [pointer, ctypes.POINTER(ctypes.POINTER(pointer)), ctypes.POINTER(integer)],
        ),
        "dkim_sig_getflags": (ctypes.c_uint, [pointer]),
        "dkim_sig_getbh": (integer, [pointer]),
        "dkim_sig_geterror": (integer, [pointer]),
        "dkim_sig_geterrorstr": (text, [integer]),
        "dkim_geterror": (text, [pointer]),
        "dkim_getresultstr": (text, [integer]),
        "dkim_free": (integer, [pointer]),
        "dkim_close": (None, [pointer]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


@functools.cache
def opendkim_available() -> bool:
    try:
        _libopendkim()
    except OSError:
        return False
    return True


def opendkim_verify(
    message: bytes, records: Mapping[str, str], *, strict_headers: bool = False
) -> Verdicts:
    """libopendkim's verdict per signature: ``pass`` when it is marked passed and the body
    hash matched (its ``DKIM_SIG_CHECK``), else ``fail`` with its error string (``testkey``
    is added to the detail of a pass whose key record has t=y)."""
    lib = _libopendkim()
    count = len(signature_b_values(message))
    with tempfile.TemporaryDirectory(prefix="mimeseal-opendkim-") as folder:
        keys = Path(folder) / "keys"
        keys.write_text(
            "".join(f"{name.rstrip('.')} {value}\n" for name, value in records.items()),
            encoding="ascii",
        )
        handle = lib.dkim_init(None, None)
        try:
            method = ctypes.c_int(_DKIM_QUERY_FILE)
            info = str(keys).encode()
            flags = ctypes.c_uint32(_DKIM_LIBFLAGS_STRICTHDRS if strict_headers else 0)
            for option, value, size in (
                (_DKIM_OPTS_QUERYMETHOD, ctypes.byref(method), ctypes.sizeof(method)),
                (_DKIM_OPTS_QUERYINFO, ctypes.c_char_p(info), len(info)),
                (_DKIM_OPTS_FLAGS, ctypes.byref(flags), ctypes.sizeof(flags)),
            ):
                if lib.dkim_options(handle, _DKIM_OP_SETOPT, option, value, size) != 0:
                    raise RuntimeError(f"dkim_options({option}) failed")
            return _opendkim_run(lib, handle, message, count)
        finally:
            lib.dkim_close(handle)


def _opendkim_run(lib: Any, handle: Any, message: bytes, count: int) -> Verdicts:
    status = ctypes.c_int(0)
    context = lib.dkim_verify(handle, b"mimeseal-test", None, ctypes.byref(status))
    if not context:
        raise RuntimeError(f"dkim_verify failed: {status.value}")
    try:
        lib.dkim_chunk(context, message, len(message))
        lib.dkim_chunk(context, None, 0)
        final = lib.dkim_eom(context, None)
        signatures = ctypes.POINTER(ctypes.c_void_p)()
        found = ctypes.c_int(0)
        lib.dkim_getsiglist(context, ctypes.byref(signatures), ctypes.byref(found))
        if found.value == 0:  # the message itself was refused (e.g. strict header counts)
            error = lib.dkim_geterror(context) or lib.dkim_getresultstr(final)
            return [("fail", error.decode(errors="replace"))] * count
        verdicts: Verdicts = []
        for index in range(found.value):
            signature = signatures[index]
            flags = lib.dkim_sig_getflags(signature)
            ok = flags & _DKIM_SIGFLAG_PASSED and lib.dkim_sig_getbh(signature) == 0
            if ok:
                verdicts.append(("pass", "testkey" if flags & _DKIM_SIGFLAG_TESTKEY else ""))
            else:
                error = lib.dkim_sig_geterrorstr(lib.dkim_sig_geterror(signature)) or b""
                if lib.dkim_sig_getbh(signature) == 1:
                    error = b"body hash mismatch"
                verdicts.append(("fail", error.decode(errors="replace")))
        return verdicts
    finally:
        lib.dkim_free(context)


# --------------------------------------------------------------------------- crafted signatures

Key = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def _header_fields(head: bytes) -> list[bytes]:
    """The fields of a CRLF header block, each with its folds and final CRLF."""
    return [f + b"\r\n" for f in re.split(rb"\r\n(?![ \t])", head) if f]


def craft_sign(
    message: bytes,
    key: Key,
    *,
    domain: str = "example.com",
    selector: str,
    names: Sequence[str],
    tags: Mapping[str, str] | None = None,
    timestamp: int | None = None,
) -> bytes:
    """``message`` with a simple/simple DKIM-Signature over ``names`` prepended.

    RFC 6376 §3.4.1 and §3.4.3 canonicalization, §5.4.2 instance selection (the last unused
    instance of a name, bottom up), §3.7 hashing; ``tags`` override or add any tag
    (``a=rsa-sha1`` hashes with SHA-1, ``l=N`` signs the first N octets of the canonical
    body, a value of ``None``-like ``"-"`` drops the tag).
    """
    head, _, body = message.partition(b"\r\n\r\n")
    fields = _header_fields(head)
    while body.endswith(b"\r\n"):  # §3.4.3: no empty lines at the end, then one CRLF
        body = body[:-2]
    canonical_body = body + b"\r\n"
    values = {
        "v": "1",
        "a": "rsa-sha256" if isinstance(key, rsa.RSAPrivateKey) else "ed25519-sha256",
        "c": "simple/simple",
        "d": domain,
        "s": selector,
        "t": str(int(time.time()) - 60 if timestamp is None else timestamp),
        "h": ":".join(names),
    }
    values.update(tags or {})
    sha1 = values["a"] == "rsa-sha1"
    hashed = canonical_body[: int(values["l"])] if "l" in values else canonical_body
    digest = hashlib.sha1(hashed) if sha1 else hashlib.sha256(hashed)  # noqa: S324
    values["bh"] = base64.b64encode(digest.digest()).decode("ascii")
    field = "DKIM-Signature: " + "; ".join(f"{k}={v}" for k, v in values.items() if v != "-")
    field += "; b="
    remaining = dict(enumerate(fields))
    data = b""
    for name in (n.strip() for n in values["h"].split(":")):
        candidates = [
            i for i, f in remaining.items()
            if f.split(b":", 1)[0].strip().lower() == name.lower().encode()
        ]  # fmt: skip
        if candidates:
            data += remaining.pop(candidates[-1])
    data += field.encode("utf-8")  # UTF-8 only where a test wants non-ASCII tags
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm: hashes.HashAlgorithm = hashes.SHA1() if sha1 else hashes.SHA256()  # noqa: S303
        signature = key.sign(data, padding.PKCS1v15(), algorithm)
    else:
        signature = key.sign(hashlib.sha256(data).digest())
    return field.encode("utf-8") + base64.b64encode(signature) + b"\r\n" + message
