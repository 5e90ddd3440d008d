"""The plugin's fixtures. This module imports only pytest: each fixture imports what it needs
(cryptography, moto, aiosmtpd, boto3) when it first runs, because pytest loads the plugin in
every test run of every project that has mimeseal installed.

Key material and servers that cost time to make are session-scoped and read-only in use;
what a test changes (stored messages, a scripted SMTP server) is reset or made per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mimeseal.pytest_plugin.aws import AwsEndpoint, SesEndpoint
    from mimeseal.pytest_plugin.kms import KmsEndpoint
    from mimeseal.pytest_plugin.material import DevPki, DkimKeys, DkimTestKey, PkiFactory
    from mimeseal.pytest_plugin.smtp import SmtpHandler, SmtpServer, SmtpTls

__all__ = [
    "SmtpFactory",
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


# --------------------------------------------------------------------------- key material


@pytest.fixture(scope="session")
def mimeseal_pki_factory(tmp_path_factory: pytest.TempPathFactory) -> PkiFactory:
    """Make independent development PKIs: ``mimeseal_pki_factory(key_type="ec-p256")``.

    A second PKI is how a test proves that a verifier refuses a signer from an unknown CA.
    """
    from mimeseal.pytest_plugin.material import PkiFactory

    return PkiFactory(tmp_path_factory.mktemp("mimeseal-pki"))


@pytest.fixture(scope="session")
def mimeseal_pki(mimeseal_pki_factory: PkiFactory) -> DevPki:
    """A development CA (RSA 2048) with signers on demand: ``mimeseal_pki.signer("bob@...")``.

    ``.default`` is alice@example.com; ``.trust`` goes to verifiers as ``trust=``; ``.ca_pem``
    and each signer's ``cert_pem``/``key_pem``/``p12`` are files for code that reads paths.
    """
    return mimeseal_pki_factory()


@pytest.fixture
def mimeseal_dkim_keys(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> DkimKeys:
    """Make DKIM keys: ``mimeseal_dkim_keys("example.org", "s2", algorithm="ed25519")``.

    Keys are generated once per session; ``.records`` (for ``records=`` / ``dkim_records=``)
    and ``.dnsfunc`` (dkimpy) cover the default key and the keys this test asked for.
    """
    return _dkim_store(request, tmp_path_factory).view()


@pytest.fixture(scope="session")
def mimeseal_dkim_key(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> DkimTestKey:
    """An RSA 2048 DKIM key for ``mimeseal._domainkey.example.com``, with its record."""
    return _dkim_store(request, tmp_path_factory)()


_DKIM_STORE = pytest.StashKey["DkimKeys"]()


def _dkim_store(request: pytest.FixtureRequest, factory: pytest.TempPathFactory) -> DkimKeys:
    """The session's DKIM key store, kept in the pytest config's stash."""
    from mimeseal.pytest_plugin.material import DkimKeys

    stash = request.config.stash
    if _DKIM_STORE not in stash:
        stash[_DKIM_STORE] = DkimKeys(factory.mktemp("mimeseal-dkim"))
    return stash[_DKIM_STORE]


# --------------------------------------------------------------------------- AWS / SES


@pytest.fixture(scope="session")
def mimeseal_aws() -> Iterator[AwsEndpoint]:
    """moto's server on 127.0.0.1 for the whole session: ``url``, ``region``, ``client(name)``.

    Sets test values for AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION where
    they are unset (restored at the end). Every AWS service moto knows is served.
    """
    from mimeseal.pytest_plugin.aws import running_aws_server

    with running_aws_server() as endpoint:
        yield endpoint


@pytest.fixture
def mimeseal_ses(
    mimeseal_aws: AwsEndpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SesEndpoint]:
    """SES on the session's moto server, with no stored messages at the start and the end.

    ``.sender()`` gives a ready ``SesSender``; ``.verify_identity("alice@example.com")`` (or a
    domain) allows a sender; ``.sent()`` / ``.stored()`` / ``.last`` read back the exact bytes.
    During the test AWS_ENDPOINT_URL_SES and AWS_ENDPOINT_URL_SESV2 point at the server, so
    code that builds its own boto3 clients sends there too, never to real SES.
    """
    from mimeseal.pytest_plugin.aws import SesEndpoint

    _route_to_moto(monkeypatch, mimeseal_aws, "SES", "SESV2")
    endpoint = SesEndpoint(mimeseal_aws)
    endpoint.clear()
    yield endpoint
    endpoint.clear()


@pytest.fixture
def mimeseal_kms(mimeseal_aws: AwsEndpoint, monkeypatch: pytest.MonkeyPatch) -> KmsEndpoint:
    """KMS on the session's moto server: ``.create_key(spec)`` gives an ``awskms:///`` URI,
    ``.signer(spec)`` a loaded key that signs S/MIME (RSA, EC) and DKIM (RSA).

    During the test AWS_ENDPOINT_URL_KMS points at the server (with fake credentials), so
    ``keys.load_signer`` and ``mimeseal sign --smime-key awskms:///…`` in the code under test
    reach it, never real KMS. moto hashes DIGEST messages again and salts PSS to the maximum:
    sign with PKCS#1 v1.5 or EC and keep DKIM header blocks under 4,096 bytes.
    """
    from mimeseal.pytest_plugin.kms import KmsEndpoint

    _route_to_moto(monkeypatch, mimeseal_aws, "KMS")
    return KmsEndpoint(mimeseal_aws)


def _route_to_moto(monkeypatch: pytest.MonkeyPatch, aws: AwsEndpoint, *services: str) -> None:
    """Point the code under test at moto for ``services``, with fake credentials, for one test.

    A developer's real credentials and profile are hidden and configured endpoints are forced
    on, so nothing a test does can reach real AWS, whatever the shell exported.
    """
    from mimeseal.pytest_plugin.aws import FAKE_CREDENTIALS

    for service in services:
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", aws.url)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        monkeypatch.delenv(name, raising=False)


# --------------------------------------------------------------------------- SMTP


def _smtp() -> Any:
    """The SMTP server module, or a clear error when aiosmtpd is missing."""
    try:
        from mimeseal.pytest_plugin import smtp
    except ImportError as exc:
        from mimeseal.errors import UsageError

        raise UsageError(f"the SMTP fixtures need aiosmtpd ({exc}); pip install aiosmtpd") from None
    return smtp


@pytest.fixture(scope="session")
def mimeseal_smtp_tls(tmp_path_factory: pytest.TempPathFactory) -> SmtpTls:
    """TLS material for the SMTP test server: ``server``/``client`` contexts, ``ca_file``."""
    tls: SmtpTls = _smtp().SmtpTls.create(tmp_path_factory.mktemp("mimeseal-smtp-tls"))
    return tls


class SmtpFactory:
    """Starts SMTP test servers and stops every one of them when the test ends."""

    def __init__(self, tls: SmtpTls) -> None:
        self.tls = tls
        self.running: list[SmtpServer] = []

    def __call__(self, handler: SmtpHandler | None = None, **options: Any) -> SmtpServer:
        """Start a server; ``options`` as :meth:`SmtpServer.build` (``mode``, ``credentials``,
        aiosmtpd's own settings)."""
        server: SmtpServer = _smtp().SmtpServer.build(self.tls, handler, **options)
        server.start()
        self.running.append(server)
        return server

    def stop_all(self) -> None:
        while self.running:
            self.running.pop().stop(no_assert=True)


@pytest.fixture
def mimeseal_smtp_factory(mimeseal_smtp_tls: SmtpTls) -> Iterator[SmtpFactory]:
    """Start SMTP servers with other settings: a scripted handler, implicit TLS, no AUTH.

    ``mimeseal_smtp_factory(SmtpHandler(data=["454 Throttling failure"]), mode="implicit")``
    """
    factory = SmtpFactory(mimeseal_smtp_tls)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture
def mimeseal_smtp(mimeseal_smtp_factory: SmtpFactory) -> SmtpServer:
    """A running SMTP server on 127.0.0.1: STARTTLS required, AUTH offered after it.

    ``.messages`` holds each message's exact bytes with MAIL FROM and RCPT TO; ``.sender()``
    gives a ready ``SmtpSender``; ``.tls.client`` / ``.tls.ca_file`` let other clients in.
    """
    return mimeseal_smtp_factory()
