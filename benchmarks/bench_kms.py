"""KMS signing benchmark: what a key in KMS costs over a local key, and what mimeseal adds.

Run ``python benchmarks/bench_kms.py [--iterations 50]``. Starts moto's KMS on loopback, so the
figures are loopback HTTP plus moto's own signing, not AWS's latency (tens of ms in-region);
the useful number is mimeseal's overhead over a bare ``boto3`` ``kms.sign`` call in the same
run (the floor), which includes the local check-after-sign.

Rows: S/MIME detached signing of a 2 KiB message and DKIM signing (rsa-sha256) with a local
RSA-2048 key, the same with a KMS RSA_2048 key, and a bare ``kms.sign`` of 300 octets. Every
signature made while preparing is verified by mimeseal and dkimpy; failures stop the run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3
import dkim as dkimpy
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from _common import BenchmarkError
from mimeseal import dkim, keys, pki, smime
from mimeseal.dkim.keyfiles import record_for_key
from mimeseal.local_aws import moto_server

SENDER = "alice@example.com"
MESSAGE = (
    f"From: {SENDER}\r\nTo: bob@example.org\r\nSubject: statement\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    + "Dear Bob, the statement for this quarter is attached.\r\n"
    * 38
).encode("ascii")


def median_ms(operation: Callable[[], object], iterations: int) -> float:
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        operation()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=50)
    args = parser.parse_args()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "bench")
    with moto_server() as url:
        client = boto3.client("kms", endpoint_url=url, region_name="us-east-1")
        key_id = client.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"][
            "KeyId"
        ]
        remote = keys.load_signer(f"awskms:///{key_id}", kms_client=client)
        local = rsa.generate_private_key(65537, 2048)
        assert isinstance(remote, rsa.RSAPrivateKey)
        rows = run(args.iterations, client, key_id, remote, local)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def run(
    iterations: int,
    client: Any,
    key_id: str,
    remote: rsa.RSAPrivateKey,
    local: rsa.RSAPrivateKey,
) -> list[tuple[str, str]]:
    ca = pki.create_ca()
    certs = {k: pki.issue_signer(ca, SENDER, key=k).certificate for k in (remote, local)}
    for key in (remote, local):  # every signer must produce verifying output before timing
        signed = smime.sign(MESSAGE, key=key, cert=certs[key], chain=[ca.certificate])
        if not smime.verify(signed, trust=[ca.certificate]).valid:
            raise BenchmarkError("an S/MIME signature did not verify")
        signed = dkim.sign(MESSAGE, key=key, domain="example.com", selector="b")
        answer = record_for_key(key, domain="example.com", selector="b")[1].encode()
        if not dkimpy.verify(signed, dnsfunc=lambda name, timeout=5, answer=answer: answer):
            raise BenchmarkError("dkimpy rejected a DKIM signature")

    def bare() -> object:
        return client.sign(KeyId=key_id, Message=b"x" * 300, MessageType="RAW",
                    SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")  # fmt: skip

    def smime_with(key: rsa.RSAPrivateKey) -> Callable[[], object]:
        return lambda: smime.sign(MESSAGE, key=key, cert=certs[key], chain=[ca.certificate])

    def dkim_with(key: rsa.RSAPrivateKey) -> Callable[[], object]:
        return lambda: dkim.sign(MESSAGE, key=key, domain="example.com", selector="b")

    signature = local.sign(b"x" * 300, padding.PKCS1v15(), hashes.SHA256())
    check = median_ms(
        lambda: local.public_key().verify(
            signature, b"x" * 300, padding.PKCS1v15(), hashes.SHA256()
        ),
        iterations * 20,
    )
    floor = median_ms(bare, iterations)
    figures = {
        "S/MIME sign, local key": median_ms(smime_with(local), iterations),
        "S/MIME sign, KMS key": median_ms(smime_with(remote), iterations),
        "DKIM sign, local key": median_ms(dkim_with(local), iterations),
        "DKIM sign, KMS key": median_ms(dkim_with(remote), iterations),
    }
    rows = [("bare boto3 kms.sign (floor)", f"{floor:.2f} ms")]
    rows += [(name, f"{value:.2f} ms") for name, value in figures.items()]
    for kind in ("S/MIME", "DKIM"):
        over = figures[f"{kind} sign, KMS key"] - floor
        rows.append(
            (f"{kind}: KMS key minus floor", f"{over:.2f} ms ({over / floor:.0%} of floor)")
        )
    rows.append(("check-after-sign (RSA-2048 verify)", f"{check:.3f} ms"))
    return rows


if __name__ == "__main__":
    main()
