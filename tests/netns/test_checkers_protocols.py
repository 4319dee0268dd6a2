"""SMTP_CHECK (aiosmtpd), DNS_CHECK (dnsmasq), UDP_CHECK (an echo server and a closed port)
and PING_CHECK (the kernel's ICMP and ICMPv6), each with the failure it must detect."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.check.dns_check import check_dns
from pykeepalived.check.ping_check import _open, check_ping
from pykeepalived.check.result import CheckResult
from pykeepalived.check.smtp_check import check_smtp
from pykeepalived.check.udp_check import DEFAULT_PAYLOAD, check_udp
from pykeepalived.config.model_lvs import DnsCheck, PingCheck, SmtpCheck, UdpCheck
from pykeepalived.net import netns

from .checker_lab import (
    LB4_2,
    NOBODY4,
    NOBODY6,
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


# ------------------------------------------------------------------ SMTP_CHECK
def test_smtp_check_against_aiosmtpd(net: CheckerLab) -> None:
    good, refusing = next_port(), next_port()
    net.serve("smtp", good)
    net.serve("smtp", refusing, "--refuse-helo")
    assert net.run(check_smtp(SmtpCheck(), target(RS4, good))) == \
        CheckResult(True, "HELO answered '250 mail.example.test'")
    assert net.run(check_smtp(SmtpCheck(helo_name="lb.example.test"), target(RS4, refusing))) \
        == CheckResult(False, "HELO lb.example.test answered '550 5.7.1 HELO refused', "
                       "expected 250")
    assert net.run(check_smtp(SmtpCheck(), target(RS4, good + 1000))) == \
        CheckResult(False, "connection refused")


@pytest.mark.parametrize(("kind", "detail"), [
    ("silent", "timeout after 1 s waiting for the greeting banner"),
    ("garbage", "bad greeting banner '\\x00\\x01garbage, no protocol at all', expected 220"),
    ("http", "timeout after 1 s waiting for the greeting banner"),  # waits for a request
    ("reset", "connection reset by the server"),
])
def test_smtp_check_bad_servers(net: CheckerLab, kind: str, detail: str) -> None:
    port = next_port()
    net.serve(kind, port)
    result = net.run(check_smtp(SmtpCheck(), target(RS4, port, timeout=1.0)), limit=3.0)
    assert not result.ok and result.detail.startswith(detail), result.detail


# ------------------------------------------------------------------- DNS_CHECK
def start_dnsmasq(net: CheckerLab, port: int) -> subprocess.Popen[bytes]:
    proc = net.start("dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                     "--conf-file=/dev/null", "--pid-file=", "--user=root",
                     f"--listen-address={RS4}", f"--listen-address={RS6}",
                     "--bind-interfaces", f"--port={port}", "--local=/example.test/",
                     "--host-record=www.example.test,192.0.2.80", "--log-facility=-")
    probe = DnsCheck(type="A", name="www.example.test")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if net.run(check_dns(probe, target(RS4, port, timeout=0.5))).ok:
            return proc
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
    raise AssertionError("dnsmasq did not answer")


def test_dns_check_against_dnsmasq(net: CheckerLab) -> None:
    port = next_port()
    start_dnsmasq(net, port)
    for address in (RS4, RS6):
        assert net.run(check_dns(DnsCheck(type="A", name="www.example.test"),
                                 target(address, port))) == \
            CheckResult(True, "DNS answer NOERROR for www.example.test A")
        assert net.run(check_dns(DnsCheck(type="A", name="nope.example.test"),
                                 target(address, port))) == \
            CheckResult(False, "DNS answer NXDOMAIN for nope.example.test A, expected NOERROR")
    # keepalived's rule: NOERROR passes even with no record of that type in the answer
    assert net.run(check_dns(DnsCheck(type="AAAA", name="www.example.test"),
                             target(RS4, port))).ok
    # the default query (. SOA) is refused by a server that does not recurse
    assert net.run(check_dns(DnsCheck(), target(RS4, port))) == \
        CheckResult(False, "DNS answer REFUSED for . SOA, expected NOERROR")


def test_dns_check_without_a_server(net: CheckerLab) -> None:
    silent = next_port()
    net.serve("udp-silent", silent)
    assert net.run(check_dns(DnsCheck(), target(RS4, silent, timeout=1.0))) == \
        CheckResult(False, "timeout after 1 s waiting for the answer")
    assert net.run(check_dns(DnsCheck(), target(RS4, silent + 1000))) == \
        CheckResult(False, "ICMP port unreachable while waiting for the answer")


# ------------------------------------------------------------------- UDP_CHECK
def test_udp_check_against_an_echo_server(net: CheckerLab, tmp_path: Path) -> None:
    port = next_port()
    log = tmp_path / "datagrams"
    net.serve("udp-echo", port, "--log", str(log))
    assert net.run(check_udp(UdpCheck(require_reply=True), target(RS4, port))) == \
        CheckResult(True, "reply of 32 bytes")
    assert log.read_text().split() == [DEFAULT_PAYLOAD.hex()]
    ping = UdpCheck(payload=b"PING 42", require_reply=True, require_reply_data="50494e4720XX")
    assert net.run(check_udp(ping, target(RS4, port))).ok
    wrong = UdpCheck(payload=b"PONG 42", require_reply=True, require_reply_data="50494e47")
    result = net.run(check_udp(wrong, target(RS4, port)))
    assert result == CheckResult(False, "reply byte 1 is 4f, expected 50494e47 "
                                 "(reply 504f4e47203432)")
    too_long = UdpCheck(payload=b"0123456789", require_reply=True, require_reply_data="30",
                        max_reply_length=5)
    assert net.run(check_udp(too_long, target(RS4, port))) == \
        CheckResult(False, "reply of more than 5 bytes, expected 0..5")


def test_udp_check_icmp_unreachable_and_silence(net: CheckerLab) -> None:
    silent = next_port()
    net.serve("udp-silent", silent)
    closed = silent + 1000
    for address in (RS4, RS6):
        for required in (False, True):
            assert net.run(check_udp(UdpCheck(require_reply=required),
                                     target(address, closed))) == \
                CheckResult(False, "ICMP port unreachable while waiting for a reply")
    assert net.run(check_udp(UdpCheck(), target(RS4, silent, timeout=1.0))) == \
        CheckResult(True, "no ICMP error within 1 s")
    assert net.run(check_udp(UdpCheck(require_reply=True), target(RS4, silent, timeout=1.0))) \
        == CheckResult(False, "no reply within 1 s")


def test_udp_check_reply_comes_back_to_bindto(net: CheckerLab, tmp_path: Path) -> None:
    port = next_port()
    net.serve("udp-echo", port, "--reply", "6f6b")
    spec = UdpCheck(require_reply=True, require_reply_data="6f6b")
    assert net.run(check_udp(spec, target(RS4, port, bindto=LB4_2, bind_port=40125))) == \
        CheckResult(True, "reply of 2 bytes")


# ------------------------------------------------------------------ PING_CHECK
@pytest.mark.parametrize("ping_sockets", [False, True])
def test_ping_check_echo_and_silence(net: CheckerLab, ping_sockets: bool) -> None:
    allowed = "0 2147483647" if ping_sockets else "1 0"
    net.lb.run("sysctl", "-qw", f"net.ipv4.ping_group_range={allowed}")
    try:
        with netns.enter(net.lb.netns):
            sock, raw = _open(target(RS4, None))
            sock.close()
        assert raw is not ping_sockets
        for address in (RS4, RS6):
            result = net.run(check_ping(PingCheck(), target(address, None)))
            assert result.ok and result.detail.startswith("echo reply in "), result
        for address in (NOBODY4, NOBODY6):
            assert net.run(check_ping(PingCheck(), target(address, None, timeout=1.0))) == \
                CheckResult(False, "no echo reply within 1 s")
    finally:
        net.lb.run("sysctl", "-qw", "net.ipv4.ping_group_range=1 0")


def test_concurrent_pings_get_their_own_replies(net: CheckerLab) -> None:
    # raw sockets see every ICMP message: each check must take only the reply to its request
    async def both() -> list[CheckResult]:
        checks = []
        for _ in range(5):
            checks.append(check_ping(PingCheck(), target(RS4, None, timeout=1.0)))
            checks.append(check_ping(PingCheck(), target(NOBODY4, None, timeout=1.0)))
            checks.append(check_ping(PingCheck(), target(RS6, None, timeout=1.0)))
            checks.append(check_ping(PingCheck(), target(NOBODY6, None, timeout=1.0)))
        return list(await asyncio.gather(*checks))

    results = net.run(both(), limit=10.0)
    assert [r.ok for r in results] == [True, False, True, False] * 5
