"""``mimeseal sign``: S/MIME and/or DKIM; with both, S/MIME signs first and DKIM last."""

from __future__ import annotations

import argparse
from typing import Any, BinaryIO

from cryptography import x509

from mimeseal import dkim, keys, smime
from mimeseal.cli.common import EXIT_OK, password_from_env, read_input, write_output
from mimeseal.dkim.keyfiles import as_dkim_key
from mimeseal.errors import UsageError


def add_parser(sub: Any) -> None:
    sign = sub.add_parser("sign", help="sign a message with S/MIME and/or DKIM")
    sign.add_argument("input", metavar="IN", help="message file, or - for stdin")
    sign.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout)")
    group = sign.add_argument_group("S/MIME")
    group.add_argument(
        "--smime-key",
        metavar="KEY",
        help="private key: a PEM/DER/PKCS#12 file or a KMS key (awskms:///alias/NAME?region=R)",
    )
    group.add_argument("--smime-cert", metavar="CERT", help="signer certificate")
    group.add_argument("--smime-chain", metavar="FILE", help="intermediate certificates to include")
    group.add_argument("--smime-p12", metavar="FILE", help="PKCS#12 bundle: key, cert and chain")
    group.add_argument(
        "--password-env", metavar="VAR", help="read the S/MIME key or bundle password from $VAR"
    )
    group.add_argument(
        "--opaque", action="store_true", help="application/pkcs7-mime instead of multipart/signed"
    )
    group.add_argument(
        "--digest",
        choices=("sha-256", "sha-384", "sha-512"),
        help="default sha-256 (sha-384 for EC P-384, sha-512 for P-521 and Ed25519)",
    )
    group.add_argument(
        "--rsa-pss", action="store_true", help="RSASSA-PSS instead of PKCS#1 v1.5 for RSA keys"
    )
    group = sign.add_argument_group("DKIM")
    group.add_argument(
        "--dkim-key",
        metavar="KEY",
        help="DKIM key (RSA or Ed25519): a PEM/DER/PKCS#12 file or an RSA key in KMS (awskms:///…)",
    )
    group.add_argument("--dkim-domain", metavar="D", help="signing domain (d=)")
    group.add_argument("--dkim-selector", metavar="S", help="selector (s=)")
    group.add_argument(
        "--dkim-header",
        action="append",
        metavar="H",
        help="header to sign (repeatable; replaces the default list; From is always signed)",
    )
    group.add_argument(
        "--dkim-canonicalization",
        default="relaxed/relaxed",
        choices=("relaxed/relaxed", "relaxed/simple", "simple/simple", "simple/relaxed"),
    )
    group.add_argument("--dkim-identity", metavar="I", help="agent or user identifier (i=)")
    group.add_argument(
        "--dkim-expires-in", type=int, metavar="SECONDS", help="set x= this long after signing"
    )
    group.add_argument(
        "--dkim-password-env", metavar="VAR", help="read the DKIM key password from $VAR"
    )
    group.add_argument(
        "--profile",
        choices=("ses",),
        help="ses: leave out what SES rewrites, refuse a second DKIM-Signature",
    )
    sign.set_defaults(func=run)


def smime_material(
    args: argparse.Namespace,
) -> tuple[keys.SigningKey, x509.Certificate, list[x509.Certificate]]:
    password = password_from_env(args.password_env)
    if args.smime_p12:
        if args.smime_key or args.smime_cert:
            raise UsageError("use either --smime-p12 or --smime-key with --smime-cert, not both")
        bundle = keys.load_pkcs12_file(args.smime_p12, password)
        chain = list(bundle.chain)
        key, cert = bundle.key, bundle.certificate
    else:
        if not (args.smime_key and args.smime_cert):
            raise UsageError(
                "S/MIME signing needs --smime-key KEY and --smime-cert CERT (or --smime-p12)"
            )
        key = keys.load_signer(args.smime_key, password)
        cert = keys.load_certificate_file(args.smime_cert)
        chain = []
    if args.smime_chain:
        chain += keys.load_certificates_file(args.smime_chain)
    return key, cert, [c for c in chain if c != cert]


def run(args: argparse.Namespace, out: BinaryIO) -> int:
    use_smime = bool(args.smime_p12 or args.smime_key or args.smime_cert)
    use_dkim = bool(args.dkim_key or args.dkim_domain or args.dkim_selector)
    if not (use_smime or use_dkim):
        raise UsageError(
            "nothing to sign with: give --smime-key/--smime-cert, --smime-p12, "
            "or --dkim-key with --dkim-domain and --dkim-selector"
        )
    if use_dkim and not (args.dkim_key and args.dkim_domain and args.dkim_selector):
        raise UsageError("DKIM signing needs --dkim-key, --dkim-domain and --dkim-selector")
    message = read_input(args.input)
    dkim_key = None
    if use_dkim:  # load every key before signing anything: fail early, sign nothing
        loaded = keys.load_signer(args.dkim_key, password_from_env(args.dkim_password_env))
        dkim_key = as_dkim_key(loaded)
    if use_smime:
        key, cert, chain = smime_material(args)
        message = smime.sign(
            message,
            key=key,
            cert=cert,
            chain=chain,
            digest=args.digest,
            opaque=args.opaque,
            rsa_padding="pss" if args.rsa_pss else "pkcs1v15",
        )
    if dkim_key is not None:
        header_c, body_c = args.dkim_canonicalization.split("/")
        expires = None
        if args.dkim_expires_in is not None:
            import time

            expires = int(time.time()) + args.dkim_expires_in
        message = dkim.sign(
            message,
            key=dkim_key,
            domain=args.dkim_domain,
            selector=args.dkim_selector,
            headers=args.dkim_header,
            canonicalization=(header_c, body_c),
            identity=args.dkim_identity,
            expires=expires,
            profile=args.profile,
        )
    write_output(message, args.output, out)
    return EXIT_OK
