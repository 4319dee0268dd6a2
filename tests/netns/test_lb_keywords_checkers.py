"""Checker keywords on the wire: keepalived.conf text, loaded and run by the checker process
(its checks as it makes them, from the state machine's targets) against real servers in a
namespace (tests/netns/checker_lab.py).

Each test writes the keywords it is about in full and checks what the servers see or say.
``config.support`` names these tests as the evidence of its "acted" rows.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.check.result import CheckResult
from pykeepalived.daemon.check_main import CheckerProcess, all_checkers
from tests.unit.check.lvs_helpers import load
from tests.unit.daemon.test_check_process import FakeBackend
from tests.unit.notify._util import wait_until

from .checker_lab import LB4_2, RS4, CheckerLab, make_lab, next_port, servers_stopped
from .checker_pki import WWW, Pki, make_pki
from .test_checkers_protocols import start_dnsmasq

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def world() -> Iterator[CheckerLab]:
    yield from make_lab()


@pytest.fixture
def net(world: CheckerLab) -> Iterator[CheckerLab]:
    yield from servers_stopped(world)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def attempts(net: CheckerLab, text: str) -> dict[str, list[CheckResult]]:
    """One attempt of every checker of ``text``, made in the lab's load balancer by the
    checker process: real server address -> the results of its checkers, in order."""
    config = load(text)

    async def run() -> dict[str, list[CheckResult]]:
        proc = CheckerProcess(config, FakeBackend(), all_checkers(), bootstrap=0.05)
        out: dict[str, list[CheckResult]] = {}
        try:
            for ck in proc.core.checkers():
                out.setdefault(str(ck.rs.address), []).append(await proc.attempt(ck))
        finally:
            await proc.runner.close()
        return out

    return net.run(run())


def _counted(net: CheckerLab, rule: str, text: str) -> int:
    """Packets the load balancer sent that match ``rule`` while ``text``'s checks ran."""
    net.lb.run("nft", "add table inet kw")
    net.lb.run("nft", "add chain inet kw out { type filter hook output priority 0 ; }")
    net.lb.run("nft", f"add rule inet kw out {rule} counter")
    try:
        attempts(net, text)
        listing = net.lb.run("nft", "list chain inet kw out")
    finally:
        net.lb.run("nft", "delete table inet kw")
    [count] = [int(line.split("counter packets ")[1].split()[0])
               for line in listing.splitlines() if "counter packets" in line]
    return count


@pytest.mark.parametrize("kind", ["TCP_CHECK", "HTTP_GET", "SSL_GET", "SMTP_CHECK",
                                  "DNS_CHECK", "UDP_CHECK", "PING_CHECK"])
def test_connection_keywords_on_the_wire(net: CheckerLab, kind: str) -> None:
    port = next_port()
    url = "url {\n path /\n }" if "GET" in kind else ""
    text = f"""
virtual_server 203.0.113.10 80 {{
    protocol TCP
    real_server 198.51.100.77 80 {{
        {kind} {{
            connect_ip {RS4}
            connect_port {port}
            bindto {LB4_2}
            bind_port 40123
            bind_if eth0
            fwmark 42
            connect_timeout 1
            {url}
        }}
    }}
}}
"""
    # every packet of the check goes to connect_ip:connect_port, from bindto:bind_port,
    # out of bind_if, marked fwmark; the real server's own address has no route at all
    what = "icmp type echo-request" if kind == "PING_CHECK" else \
        f"meta l4proto {{ tcp, udp }} th sport 40123 th dport {port}"
    rule = f'ip saddr {LB4_2} ip daddr {RS4} oifname "eth0" meta mark 0x2a {what}'
    assert _counted(net, rule, text) > 0
    # the same rule counts nothing for the check without those keywords
    plain = f"""
virtual_server 203.0.113.10 80 {{
    protocol TCP
    real_server {RS4} {port} {{
        {kind} {{
            connect_timeout 1
            {url}
        }}
    }}
}}
"""
    assert _counted(net, rule, plain) == 0


@pytest.mark.parametrize("kind", ["HTTP_GET", "SSL_GET"])
def test_http_and_ssl_get_keywords(net: CheckerLab, pki: Pki, tmp_path: Path,
                                   kind: str) -> None:
    log = tmp_path / "requests"
    port = next_port()
    if kind == "SSL_GET":
        net.serve("https", port, "--cert", str(pki.www[0]), "--key", str(pki.www[1]),
                  "--log", str(log))
    else:
        net.serve("http", port, "--log", str(log))
    hello = hashlib.md5(b"hello\n").hexdigest()
    results = attempts(net, f"""
virtual_server 203.0.113.10 80 {{
    protocol TCP
    real_server 198.51.100.1 80 {{
        {kind} {{
            connect_ip {RS4}
            connect_port {port}
            http_protocol 1.1
            virtualhost checker.example.test
            url {{
                path /first
            }}
            url {{
                path /second
                virtualhost url.example.test
            }}
        }}
    }}
    real_server 198.51.100.2 80 {{
        {kind} {{
            connect_ip {RS4}
            connect_port {port}
            url {{
                path /
                digest {hello}
                status_code 200
                regex "^HEL+O$"
                regex_options caseless multiline
            }}
            url {{
                path /status/503
                status_code 200-299 500-599
            }}
        }}
        {kind} {{
            connect_ip {RS4}
            connect_port {port}
            url {{
                path /
                regex l+o
                regex_min_offset 3
                regex_max_offset 3
            }}
        }}
    }}
    real_server 198.51.100.3 80 {{
        {kind} {{
            connect_ip {RS4}
            connect_port {port}
            url {{
                path /
                digest {'0' * 32}
            }}
        }}
        {kind} {{
            connect_ip {RS4}
            connect_port {port}
            url {{
                path /status/503
            }}
        }}
        {kind} {{
            connect_ip {RS4}
            connect_port {port}
            url {{
                path /
                regex hello
                regex_no_match
            }}
        }}
        {kind} {{
            connect_ip {RS4}
            connect_port {port}
            url {{
                path /
                regex l+o
                regex_min_offset 4
            }}
        }}
        {kind} {{
            connect_ip {RS4}
            connect_port {port}
            url {{
                path /
                regex l+o
                regex_max_offset 1
            }}
        }}
    }}
}}
""")
    assert results["198.51.100.1"] == [CheckResult(True, "url /first: HTTP status 200; "
                                                   "url /second: HTTP status 200")]
    heads = [head[head.index(b"GET /"):] for head in log.read_bytes().split(b"--\n")
             if b"GET /" in head]  # an https server's log has "sni" lines too
    assert heads[0].startswith(b"GET /first HTTP/1.1\r\n")
    assert b"Connection: close" in heads[0] and b"Host: checker.example.test" in heads[0]
    assert heads[1].startswith(b"GET /second HTTP/1.1\r\n")
    assert b"Host: url.example.test" in heads[1]
    assert [r.ok for r in results["198.51.100.2"]] == [True, True]
    assert [r.detail for r in results["198.51.100.3"]] == [
        f"MD5 digest {hello}, expected {'0' * 32} (url /)",
        "HTTP status 503, expected 200-299 (url /status/503)",
        "regex 'hello' matched at offset 0 (regex_no_match) (url /)",
        "regex 'l+o' did not match (url /)",
        "regex 'l+o' did not match (url /)"]


def test_fast_recovery_brings_a_server_up_after_one_round(net: CheckerLab) -> None:
    port = next_port()
    net.serve("http", port)
    config = load(f"""
virtual_server 203.0.113.10 80 {{
    protocol TCP
    delay_loop 30
    alpha
    real_server 198.51.100.1 80 {{
        HTTP_GET {{
            connect_ip {RS4}
            connect_port {port}
            fast_recovery
            warmup 0
            url {{
                path /
            }}
            url {{
                path /status/204
            }}
            url {{
                path /status/200
            }}
        }}
    }}
}}
""")

    async def run() -> float | None:
        proc = CheckerProcess(config, FakeBackend(), all_checkers(), bootstrap=0.05)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await proc.start()
        try:
            if await wait_until(lambda: proc.status()[0]["real_servers"][0]["alive"], 10.0):
                return loop.time() - started
            return None
        finally:
            await proc.stop()

    # every url checked in one round: up long before one delay_loop (keepalived without
    # fast_recovery would take a delay_loop per url)
    took = net.run(run())
    assert took is not None and took < 10.0


def test_ssl_get_keywords_and_the_ssl_block(net: CheckerLab, pki: Pki, tmp_path: Path) -> None:
    log = tmp_path / "log"
    port = next_port()
    net.serve("https", port, "--cert", str(pki.www[0]), "--key", str(pki.www[1]), "--log",
              str(log), "--client-ca", str(pki.ca))
    rogue = next_port()
    net.serve("https", rogue, "--cert", str(pki.rogue[0]), "--key", str(pki.rogue[1]))
    cert, key = pki.client
    results = attempts(net, f"""
SSL {{
    password s3cret
    ca {pki.ca}
    certificate {cert}
    key {key}
}}
virtual_server 203.0.113.10 443 {{
    protocol TCP
    real_server 198.51.100.1 443 {{
        SSL_GET {{
            connect_ip {RS4}
            connect_port {port}
            enable_sni
            virtualhost {WWW}
            url {{
                path /
            }}
        }}
    }}
    real_server 198.51.100.2 443 {{
        SSL_GET {{
            connect_ip {RS4}
            connect_port {rogue}
            url {{
                path /
            }}
        }}
    }}
}}
""")
    # the client certificate (key unlocked by password) is what the server asked for, the
    # server name was sent, and the chain was checked against ca
    assert results["198.51.100.1"] == [CheckResult(True, "url /: HTTP status 200")]
    assert [line for line in log.read_text().splitlines() if line.startswith("sni ")] == [
        f"sni {WWW}"]
    assert results["198.51.100.2"] == [CheckResult(
        False, "certificate verification failed: unable to get local issuer certificate "
        "(url /)")]


def test_smtp_check_keywords_and_host_blocks(net: CheckerLab) -> None:
    good, refusing = next_port(), next_port()
    net.serve("smtp", good)
    net.serve("smtp", refusing, "--refuse-helo")
    results = attempts(net, f"""
virtual_server 203.0.113.10 25 {{
    protocol TCP
    real_server 198.51.100.1 25 {{
        SMTP_CHECK {{
            connect_ip {RS4}
            connect_port {refusing}
            helo_name lb.example.test
        }}
    }}
    real_server 198.51.100.2 25 {{
        SMTP_CHECK {{
            helo_name lb.example.test
            host {{
                connect_ip {RS4}
                connect_port {good}
            }}
            host {{
                connect_ip {RS4}
                connect_port {refusing}
                bindto {LB4_2}
            }}
        }}
    }}
}}
""")
    assert results["198.51.100.1"] == [CheckResult(
        False, "HELO lb.example.test answered '550 5.7.1 HELO refused', expected 250")]
    # each (deprecated) host block is a checker of its own, with its connection options
    assert results["198.51.100.2"] == [
        CheckResult(True, "HELO answered '250 mail.example.test'"),
        CheckResult(False, "HELO lb.example.test answered '550 5.7.1 HELO refused', "
                    "expected 250")]


def test_dns_check_keywords(net: CheckerLab) -> None:
    port = next_port()
    start_dnsmasq(net, port)
    results = attempts(net, f"""
virtual_server 203.0.113.10 53 {{
    protocol UDP
    real_server {RS4} {port} {{
        DNS_CHECK {{
            type A
            name www.example.test
        }}
        DNS_CHECK {{
            type AAAA
            name nope.example.test
        }}
        DNS_CHECK {{
        }}
    }}
}}
""")
    assert results[RS4] == [
        CheckResult(True, "DNS answer NOERROR for www.example.test A"),
        CheckResult(False, "DNS answer NXDOMAIN for nope.example.test AAAA, expected NOERROR"),
        CheckResult(False, "DNS answer REFUSED for . SOA, expected NOERROR")]


def test_udp_check_keywords(net: CheckerLab, tmp_path: Path) -> None:
    port = next_port()
    log = tmp_path / "datagrams"
    net.serve("udp-echo", port, "--log", str(log))
    results = attempts(net, f"""
virtual_server 203.0.113.10 7 {{
    protocol UDP
    real_server {RS4} {port} {{
        UDP_CHECK {{
            payload 50494e47 2034 32
            require_reply 50494e4720XX
        }}
        UDP_CHECK {{
            payload 50494e47 2034 32
            require_reply 50 4f
        }}
        UDP_CHECK {{
            payload 30313233343536
            require_reply 30
            max_reply_length 5
        }}
        UDP_CHECK {{
            payload 3031
            require_reply 30
            min_reply_length 3
        }}
    }}
}}
""")
    assert log.read_text().split() == ["50494e47203432", "50494e47203432", "30313233343536",
                                       "3031"]
    assert results[RS4] == [
        CheckResult(True, "reply of 7 bytes"),
        CheckResult(False, "reply byte 1 is 49, expected 50 4f (reply 50494e47203432)"),
        CheckResult(False, "reply of more than 5 bytes, expected 0..5"),
        CheckResult(False, "reply of 2 bytes, expected 3..255")]
