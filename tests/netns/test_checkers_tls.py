"""SSL_GET against real TLS servers: no verification without ``ca`` (keepalived's way), SNI
with enable_sni, certificate chain and name checked with ``ca``, client certificates."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pykeepalived.check import CheckContext
from pykeepalived.check.http_get import check_ssl_get
from pykeepalived.check.result import CheckResult
from pykeepalived.config.model_lvs import SslConfig, SslGet, Url

from .checker_lab import RS4, CheckerLab, make_lab, next_port, servers_stopped, target

pytestmark = pytest.mark.netns

WWW = "www.example.test"
OTHER = "other.example.test"


@dataclass
class Pki:
    ca: Path
    www: tuple[Path, Path]
    other: tuple[Path, Path]
    rogue: tuple[Path, Path]
    client: tuple[Path, Path]  # key encrypted with "s3cret"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _issue(subject: str, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
           *, ca: bool = False, server: bool = True,
           ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer if issuer is not None else (_name(subject), key)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]),
                                        critical=False)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()), key


def _write(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey,
           password: bytes | None = None) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password
        else serialization.NoEncryption())
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8, encryption))
    return cert_path, key_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca_cert, ca_key = _issue("Test CA", None, ca=True)
    rogue_ca_cert, rogue_ca_key = _issue("Rogue CA", None, ca=True)
    ca_path, _ = _write(directory, "ca", ca_cert, ca_key)
    signer = (ca_cert.subject, ca_key)
    return Pki(
        ca=ca_path,
        www=_write(directory, "www", *_issue(WWW, signer)),
        other=_write(directory, "other", *_issue(OTHER, signer)),
        rogue=_write(directory, "rogue", *_issue(WWW, (rogue_ca_cert.subject, rogue_ca_key))),
        client=_write(directory, "client", *_issue("checker", signer, server=False),
                      password=b"s3cret"),
    )


@pytest.fixture(scope="module")
def world() -> Iterator[CheckerLab]:
    yield from make_lab()


@pytest.fixture
def net(world: CheckerLab) -> Iterator[CheckerLab]:
    yield from servers_stopped(world)


def https(net: CheckerLab, pair: tuple[Path, Path], log: Path, *extra: str) -> int:
    port = next_port()
    net.serve("https", port, "--cert", str(pair[0]), "--key", str(pair[1]), "--log", str(log),
              *extra)
    return port


def sni_sent(log: Path) -> list[str]:
    return [line.split()[1] for line in log.read_text().splitlines() if line.startswith("sni ")]


def test_without_ca_any_certificate_is_accepted(net: CheckerLab, pki: Pki,
                                                tmp_path: Path) -> None:
    log = tmp_path / "log"
    port = https(net, pki.rogue, log)
    hello = hashlib.md5(b"hello\n").hexdigest()
    spec = SslGet(url=[Url(path="/", digest=hello)])
    assert net.run(check_ssl_get(spec, target(RS4, port))) == \
        CheckResult(True, "url /: HTTP status 200")
    assert net.run(check_ssl_get(SslGet(url=[Url(path="/status/500")]), target(RS4, port))) \
        == CheckResult(False, "HTTP status 500, expected 200-299 (url /status/500)")
    assert sni_sent(log) == ["-", "-"]  # no enable_sni: no server name sent


def test_enable_sni_sends_the_virtualhost(net: CheckerLab, pki: Pki, tmp_path: Path) -> None:
    log = tmp_path / "log"
    port = https(net, pki.www, log)
    spec = SslGet(enable_sni=True, virtualhost=WWW,
                  url=[Url(path="/"), Url(path="/status/204", virtualhost=OTHER)])
    assert net.run(check_ssl_get(spec, target(RS4, port))).ok
    from_server = net.run(check_ssl_get(SslGet(enable_sni=True, url=[Url(path="/")]),
                                        target(RS4, port, virtualhost="rs.example.test")))
    assert from_server.ok
    assert sni_sent(log) == [WWW, OTHER, "rs.example.test"]


def test_with_ca_the_name_and_chain_are_verified(net: CheckerLab, pki: Pki,
                                                 tmp_path: Path) -> None:
    context = CheckContext(ssl_config=SslConfig(ca=str(pki.ca)))
    spec = SslGet(enable_sni=True, virtualhost=WWW, url=[Url(path="/")])
    good = https(net, pki.www, tmp_path / "good")
    assert net.run(check_ssl_get(spec, target(RS4, good), context)).ok
    wrong_name = https(net, pki.other, tmp_path / "other")
    assert net.run(check_ssl_get(spec, target(RS4, wrong_name), context)) == CheckResult(
        False, "certificate verification failed: Hostname mismatch, certificate is not valid "
        f"for '{WWW}'. (url /)")
    rogue = https(net, pki.rogue, tmp_path / "rogue")
    failed = net.run(check_ssl_get(spec, target(RS4, rogue), context))
    assert failed == CheckResult(False, "certificate verification failed: unable to get local "
                                 "issuer certificate (url /)")
    # without SNI there is no name to check: the chain still is
    no_sni = SslGet(url=[Url(path="/")])
    assert net.run(check_ssl_get(no_sni, target(RS4, wrong_name), context)).ok
    assert not net.run(check_ssl_get(no_sni, target(RS4, rogue), context)).ok
    # the same servers pass keepalived's way, without ca
    assert net.run(check_ssl_get(spec, target(RS4, rogue))).ok


def test_client_certificate_with_password(net: CheckerLab, pki: Pki, tmp_path: Path) -> None:
    port = https(net, pki.www, tmp_path / "log", "--client-ca", str(pki.ca))
    spec = SslGet(url=[Url(path="/")])
    cert, key = pki.client
    with_cert = CheckContext(ssl_config=SslConfig(certificate=str(cert), key=str(key),
                                                  password="s3cret"))
    assert net.run(check_ssl_get(spec, target(RS4, port), with_cert)) == \
        CheckResult(True, "url /: HTTP status 200")
    assert not net.run(check_ssl_get(spec, target(RS4, port, timeout=2.0))).ok
    wrong_password = CheckContext(ssl_config=SslConfig(certificate=str(cert), key=str(key),
                                                       password="nope"))
    refused = net.run(check_ssl_get(spec, target(RS4, port), wrong_password))
    assert not refused.ok and refused.detail.startswith(f"SSL certificate {cert}: cannot load")


@pytest.mark.parametrize(("kind", "start"), [
    ("http", "TLS handshake failed: "),
    ("silent", "timeout after 1 s in the TLS handshake (url /)"),
    ("reset", "connection reset by the server"),
    ("garbage", "TLS handshake failed: "),
])
def test_not_a_tls_server(net: CheckerLab, kind: str, start: str) -> None:
    port = next_port()
    net.serve(kind, port)
    result = net.run(check_ssl_get(SslGet(url=[Url(path="/")]), target(RS4, port, timeout=1.0)),
                     limit=3.0)
    assert not result.ok and result.detail.startswith(start), result.detail
