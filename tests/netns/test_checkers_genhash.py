"""HTTP_GET / SSL_GET next to keepalived's own HTTP code: ``genhash`` (shipped with Debian's
keepalived) sends keepalived's request and prints the digest keepalived compares. The same
server answers both; the requests must be the same bytes and genhash's digest must pass."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.check.http_get import check_http_get, check_ssl_get
from pykeepalived.check.result import CheckResult
from pykeepalived.config.model_lvs import HttpGet, SslGet, Url

from .checker_lab import RS4, RS6, CheckerLab, make_lab, next_port, servers_stopped, target
from .checker_pki import WWW, make_pki

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(shutil.which("genhash") is None, reason="needs keepalived's genhash"),
]


@pytest.fixture(scope="module")
def world() -> Iterator[CheckerLab]:
    yield from make_lab()


@pytest.fixture
def net(world: CheckerLab) -> Iterator[CheckerLab]:
    yield from servers_stopped(world)


def genhash(net: CheckerLab, address: str, port: int, path: str, *extra: str) -> str:
    out = net.lb.run("genhash", "-s", address, "-p", str(port), "-u", path, *extra,
                     timeout=20)
    digest = out.strip()
    assert len(digest) == 32 and all(c in "0123456789abcdef" for c in digest), out
    return digest


@pytest.mark.parametrize("address", [RS4, RS6])
@pytest.mark.parametrize(("genhash_options", "spec_options", "vhost"), [
    ((), {}, None),
    (("-V", "www.example.test"), {}, "www.example.test"),
    (("-P", "1.0c"), {"http_protocol": "1.0C"}, None),
    (("-P", "1.1", "-V", "h.example.test"), {"http_protocol": "1.1"}, "h.example.test"),
])
def test_request_bytes_are_genhash_bytes(net: CheckerLab, tmp_path: Path, address: str,
                                         genhash_options: tuple[str, ...],
                                         spec_options: dict[str, str],
                                         vhost: str | None) -> None:
    port = next_port()
    theirs, ours = tmp_path / "genhash", tmp_path / "ours"
    net.serve("record", port, "--log", str(theirs), host=address)
    genhash(net, address, port, "/x?y=1", *genhash_options)
    net.stop_servers()
    net.serve("record", port, "--log", str(ours), host=address)
    spec = HttpGet(url=[Url(path="/x?y=1")], **spec_options)  # type: ignore[arg-type]
    assert net.run(check_http_get(spec, target(address, port, virtualhost=vhost))).ok
    assert ours.read_bytes() == theirs.read_bytes()
    assert b"User-Agent: KeepAliveClient" in ours.read_bytes()


@pytest.mark.parametrize("path", ["/", "/chunked", "/short", "/status/503"])
def test_genhash_digest_passes_and_a_wrong_one_fails(net: CheckerLab, path: str) -> None:
    port = next_port()
    net.serve("http", port)
    digest = genhash(net, RS4, port, path)
    accept_any = [(100, 999)]
    spec = HttpGet(url=[Url(path=path, digest=digest, status_code=accept_any)])
    assert net.run(check_http_get(spec, target(RS4, port))).ok
    wrong = "f" * 32 if digest != "f" * 32 else "0" * 32
    failed = net.run(check_http_get(
        HttpGet(url=[Url(path=path, digest=wrong, status_code=accept_any)]),
        target(RS4, port)))
    assert failed == CheckResult(False, f"MD5 digest {digest}, expected {wrong} (url {path})")


def test_genhash_digest_over_tls_with_sni(net: CheckerLab, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    port = next_port()
    log = tmp_path / "log"
    net.serve("https", port, "--cert", str(pki.www[0]), "--key", str(pki.www[1]), "--log",
              str(log))
    digest = genhash(net, RS4, port, "/", "-S", "-I", "-V", WWW)
    spec = SslGet(enable_sni=True, virtualhost=WWW, url=[Url(path="/", digest=digest)])
    assert net.run(check_ssl_get(spec, target(RS4, port))).ok
    sni = [line for line in log.read_text().splitlines() if line.startswith("sni ")]
    assert sni == [f"sni {WWW}", f"sni {WWW}"]  # genhash's, then ours
