"""SSL_GET against real TLS servers: no verification without ``ca`` (keepalived's way), SNI
with enable_sni, certificate chain and name checked with ``ca``, client certificates."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.check import CheckContext
from pykeepalived.check.http_get import check_ssl_get
from pykeepalived.check.result import CheckResult
from pykeepalived.config.model_lvs import SslConfig, SslGet, Url

from .checker_lab import RS4, CheckerLab, make_lab, next_port, servers_stopped, target
from .checker_pki import OTHER, WWW, Pki, make_pki

pytestmark = pytest.mark.netns

@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


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
