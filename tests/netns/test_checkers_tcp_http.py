"""TCP_CHECK and HTTP_GET against real servers in a namespace, and against bad ones."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.check import CHECKERS
from pykeepalived.check.http_get import check_http_get
from pykeepalived.check.result import CheckResult
from pykeepalived.check.tcp_check import check_tcp
from pykeepalived.config.model_lvs import HttpGet, TcpCheck, Url

from .checker_lab import (
    LB4,
    LB4_2,
    LB6,
    NOBODY4,
    RS4,
    RS6,
    CheckerLab,
    make_lab,
    next_port,
    servers_stopped,
    target,
)

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def world() -> Iterator[CheckerLab]:
    yield from make_lab()


@pytest.fixture
def net(world: CheckerLab) -> Iterator[CheckerLab]:
    yield from servers_stopped(world)


def test_tcp_check_connects_and_names_each_failure(net: CheckerLab) -> None:
    port = next_port()
    net.serve("http", port)
    assert net.run(check_tcp(TcpCheck(), target(RS4, port))) == CheckResult(True, "connected")
    assert net.run(check_tcp(TcpCheck(), target(RS4, port + 1000))) == \
        CheckResult(False, "connection refused")
    # no host answers ARP for this address: the connect never completes
    assert net.run(check_tcp(TcpCheck(), target(NOBODY4, port, timeout=1.0))) in (
        CheckResult(False, "timeout after 1 s connecting"),
        CheckResult(False, "no route to host"))


def test_tcp_check_source_address_port_and_interface(net: CheckerLab) -> None:
    port = next_port()
    net.serve("http", port)
    assert net.run(check_tcp(TcpCheck(), target(RS4, port, bindto=LB4_2, bind_port=40123))).ok
    bound = net.run(check_tcp(TcpCheck(), target(RS4, port, bindto=RS4)))
    assert bound == CheckResult(False, f"cannot bind to {RS4}:0: source address not available")
    assert net.run(check_tcp(TcpCheck(), target(RS4, port, bind_if="eth0"))).ok
    wrong_if = net.run(check_tcp(TcpCheck(), target(RS4, port, bind_if="lo", timeout=1.0)))
    assert not wrong_if.ok
    assert net.run(check_tcp(TcpCheck(), target(RS4, port, bind_if="nosuch0"))) == \
        CheckResult(False, "cannot set bind_if nosuch0: no such interface")
    assert net.run(check_tcp(TcpCheck(), target(RS6, port, bindto=LB4))) == \
        CheckResult(False, f"bindto {LB4} is not of the family of {RS6}")


def test_source_address_reaches_the_server(net: CheckerLab) -> None:
    port = next_port()
    net.serve("http", port)
    # ss in rs shows the checker's connection from bindto:bind_port while it is open
    seen = []

    async def probe() -> None:
        result = await check_http_get(HttpGet(url=[Url(path="/")]),
                                      target(RS4, port, bindto=LB4_2, bind_port=40124))
        seen.append(result)

    net.run(probe())
    assert seen == [CheckResult(True, "url /: HTTP status 200")]
    states = net.rs.run("ss", "-tanH", f"sport = :{port}")
    assert f"{LB4_2}:40124" in states  # the closed connection lingers in TIME-WAIT


def test_fwmark_marks_the_checker_packets(net: CheckerLab) -> None:
    port = next_port()
    net.serve("http", port)
    net.lb.run("nft", "add table inet chk")
    net.lb.run("nft", "add chain inet chk out { type filter hook output priority 0 ; }")
    net.lb.run("nft", f"add rule inet chk out tcp dport {port} meta mark 0x2a counter")
    try:
        assert net.run(check_tcp(TcpCheck(), target(RS4, port, fwmark=0x2A))).ok
        counted = net.lb.run("nft", "list chain inet chk out")
        assert "counter packets 0 " not in counted and "counter packets" in counted
    finally:
        net.lb.run("nft", "delete table inet chk")


def test_http_get_status_digest_regex_and_every_url(net: CheckerLab) -> None:
    port = next_port()
    net.serve("http", port)
    hello = hashlib.md5(b"hello\n").hexdigest()

    def check(*urls: Url) -> CheckResult:
        return net.run(check_http_get(HttpGet(url=list(urls)), target(RS4, port)))

    assert check(Url(path="/")) == CheckResult(True, "url /: HTTP status 200")
    assert check(Url(path="/", digest=hello, regex="^hel+o$",
                     regex_options=["multiline"])).ok
    assert check(Url(path="/status/503")) == \
        CheckResult(False, "HTTP status 503, expected 200-299 (url /status/503)")
    assert check(Url(path="/status/503", status_code=[(500, 599)])).ok
    assert check(Url(path="/", digest="0" * 32)) == CheckResult(
        False, f"MD5 digest {hello}, expected {'0' * 32} (url /)")
    assert check(Url(path="/", regex="goodbye")) == \
        CheckResult(False, "regex 'goodbye' did not match (url /)")
    # every url must pass; the first that fails is named
    assert check(Url(path="/"), Url(path="/status/404"), Url(path="/status/200")) == \
        CheckResult(False, "HTTP status 404, expected 200-299 (url /status/404)")
    assert check(Url(path="/"), Url(path="/status/204")) == \
        CheckResult(True, "url /: HTTP status 200; url /status/204: HTTP status 204")
    assert net.run(check_http_get(HttpGet(url=[Url(path="/")]), target(RS6, port))) == \
        CheckResult(False, "connection refused (url /)")  # this server listens on IPv4 only


def test_http_get_sends_keepalived_request(net: CheckerLab, tmp_path: Path) -> None:
    port = next_port()
    log = tmp_path / "requests"
    net.serve("record", port, "--log", str(log), host=RS6)
    assert net.run(check_http_get(HttpGet(url=[Url(path="/a")]), target(RS6, port))).ok
    assert net.run(check_http_get(
        HttpGet(url=[Url(path="/b")], http_protocol="1.1"),
        target(RS6, port, virtualhost="www.example.test"))).ok
    assert log.read_bytes() == (
        b"GET /a HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\n"
        + f"Host: [{RS6}]:{port}\r\n\r\n".encode() + b"--\n"
        b"GET /b HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\n"
        b"Host: www.example.test\r\n\r\n--\n")


@pytest.mark.parametrize(("kind", "detail"), [
    ("silent", "timeout after 1 s reading the answer (url /)"),
    ("garbage", "no HTTP header in 30 bytes received (url /)"),
    ("reset", None),
])
def test_bad_servers_fail_within_the_timeout(net: CheckerLab, kind: str,
                                             detail: str | None) -> None:
    port = next_port()
    net.serve(kind, port)
    spec = HttpGet(url=[Url(path="/")])
    result = net.run(check_http_get(spec, target(RS4, port, timeout=1.0)), limit=3.0)
    assert not result.ok
    if detail is not None:
        assert result.detail == detail.replace("in 30", "in the 30")
    else:  # the reset may come before the connect is seen to complete, or after; on a
        # loaded machine it may even come before the request is written (EPIPE)
        assert result.detail.startswith(("connection reset by the server",
                                         "connection closed by the server")) \
            and result.detail.endswith("(url /)"), result.detail
        return
    tcp = net.run(check_tcp(TcpCheck(), target(RS4, port, timeout=1.0)), limit=3.0)
    assert tcp.ok  # both accept connections: TCP_CHECK cannot tell


def test_a_silent_server_does_not_slow_other_checks(net: CheckerLab) -> None:
    silent, good = next_port(), next_port()
    net.serve("silent", silent)
    net.serve("http", good)
    spec = HttpGet(url=[Url(path="/")])

    async def together() -> tuple[CheckResult, list[CheckResult], int]:
        stuck = [asyncio.ensure_future(check_http_get(spec, target(RS4, silent, timeout=5.0)))
                 for _ in range(20)]
        await asyncio.sleep(0)
        fine = await check_http_get(spec, target(RS4, good, timeout=5.0))
        # the good server's answer came while all twenty still waited on the silent one
        pending = sum(not task.done() for task in stuck)
        return fine, list(await asyncio.gather(*stuck)), pending

    fine, stuck, pending_when_fine = net.run(together(), limit=15.0)
    assert fine == CheckResult(True, "url /: HTTP status 200")
    assert pending_when_fine == 20
    assert stuck == [CheckResult(False, "timeout after 5 s reading the answer (url /)")] * 20


def test_registry_runs_the_checkers_by_keyword(net: CheckerLab) -> None:
    port = next_port()
    net.serve("http", port, host=RS6)
    assert net.run(CHECKERS["TCP_CHECK"](TcpCheck(), target(RS6, port, bindto=LB6))).ok
    assert net.run(CHECKERS["HTTP_GET"](HttpGet(url=[Url(path="/")]), target(RS6, port))).ok
