"""virtual_server_group, virtual_server and real_server keywords the daemon acts on: from
keepalived.conf text to the checks the checker process runs, the table an IPVS kernel is
given (bytes read back as ip_vs_ctl.c reads them), the scripts and FIFO lines.

Each test writes the keywords it is about in full and checks their effect.
``config.support`` names these tests as the evidence of its "acted" rows.
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from pykeepalived.check.health import CheckerHealth
from pykeepalived.check.http_response import build_request, host_header
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.daemon.check_main import CheckerProcess
from pykeepalived.lb import ipvs_codec as codec
from tests.unit.check.lvs_helpers import KO, OK, core, drive, kernel, load
from tests.unit.daemon.keyword_helpers import ME
from tests.unit.daemon.test_check_process import FakeBackend
from tests.unit.notify._util import argv_logger, read_argv_log, run_async, wait_until

UDP, TCP, SCTP = socket.IPPROTO_UDP, socket.IPPROTO_TCP, 132
NAT, TUN, DR = 0, 2, 3


def test_service_keywords_reach_the_kernel() -> None:
    config = load("""
virtual_server 203.0.113.10 53 {
    protocol UDP
    lvs_sched sh
    sh-port
    sh-fallback
    ops
    lvs_method DR
    persistence_timeout 120
    persistence_granularity 255.255.255.0
    real_server 198.51.100.1 53 {
        weight 3
        uthreshold 100
        lthreshold 10
    }
    real_server 198.51.100.2 53 {
        lvs_method TUN type gue port 6080 csum
    }
}
virtual_server 203.0.113.11 443 {
    protocol SCTP
    lb_algo wrr
    lb_kind NAT
    flag-1
    flag-2
    flag-3
    persistence_timeout
    real_server 198.51.100.3 8443 {
    }
    real_server 198.51.100.4 443 {
        lb_kind DR
    }
}
virtual_server fwmark 7 {
    ip_family inet6
    lvs_sched mh
    mh-port
    mh-fallback
    lvs_method TUN type gre
    real_server 2001:db8::1 {
    }
}
""")
    services = kernel(config, core(config))
    dns = services[(socket.AF_INET, UDP, "203.0.113.10", 53)]
    assert dns.sched == "sh"
    assert dns.flags & ~codec.F_HASHED == (codec.F_SCHED1 | codec.F_SCHED2 | codec.F_ONEPACKET
                                           | codec.F_PERSISTENT)
    assert (dns.timeout, dns.netmask_raw) == (120, socket.inet_aton("255.255.255.0"))
    one, two = dns.dests[("198.51.100.1", 53)], dns.dests[("198.51.100.2", 53)]
    assert (one.fwd, one.weight, one.u_thresh, one.l_thresh) == (DR, 3, 100, 10)
    assert (two.fwd, two.weight, two.tun_type, two.tun_port, two.tun_flags) == (
        TUN, 1, codec.TUNNEL_TYPES["gue"], 6080, codec.TUNNEL_CSUM["csum"])
    web = services[(socket.AF_INET, SCTP, "203.0.113.11", 443)]
    assert web.sched == "wrr"
    assert web.flags & ~codec.F_HASHED == (codec.F_SCHED1 | codec.F_SCHED2 | codec.F_SCHED3
                                           | codec.F_PERSISTENT)
    assert web.timeout == 360  # persistence_timeout without a value
    assert {key: d.fwd for key, d in web.dests.items()} == {
        ("198.51.100.3", 8443): NAT, ("198.51.100.4", 443): DR}
    mark = services[("fwm", socket.AF_INET6, 7)]
    assert (mark.sched, mark.flags & ~codec.F_HASHED) == ("mh", codec.F_SCHED1 | codec.F_SCHED2)
    [dest] = mark.dests.values()
    assert (dest.addr, dest.fwd, dest.tun_type) == ("2001:db8::1", TUN,
                                                    codec.TUNNEL_TYPES["gre"])


def test_virtual_server_group_stands_for_every_address_and_fwmark() -> None:
    config = load("""
virtual_server_group web {
    203.0.113.1-3 80
    203.0.113.8/31 8080
    fwmark 9
}
virtual_server group web {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    real_server 198.51.100.1 80 {
    }
}
""")
    services = kernel(config, core(config))
    assert set(services) == {
        (socket.AF_INET, TCP, "203.0.113.1", 80), (socket.AF_INET, TCP, "203.0.113.2", 80),
        (socket.AF_INET, TCP, "203.0.113.3", 80), (socket.AF_INET, TCP, "203.0.113.8", 8080),
        (socket.AF_INET, TCP, "203.0.113.9", 8080), ("fwm", socket.AF_INET, 9)}
    for service in services.values():
        assert service.sched == "rr"
        assert [(d.addr, d.port, d.fwd) for d in service.dests.values()] == [
            ("198.51.100.1", 80, NAT)]


def test_check_timers_come_from_the_virtual_and_the_real_server() -> None:
    config = load("""
virtual_server 203.0.113.10 80 {
    protocol TCP
    delay_loop 10
    retry 2
    delay_before_retry 4
    warmup 6
    connect_timeout 7
    real_server 198.51.100.1 80 {
        TCP_CHECK {
        }
    }
    real_server 198.51.100.2 80 {
        delay_loop 20
        delay_before_retry 5
        warmup 8
        connect_timeout 9
        TCP_CHECK {
            retry 0
        }
    }
}
""")
    c = core(config)
    assert {str(ck.rs.address): ck.target.timeout for ck in c.checkers()} == {
        "198.51.100.1": 7.0, "198.51.100.2": 9.0}
    c.start(0.0)
    attempts: list[tuple[float, str]] = []
    events = drive(c, 50.0, lambda ck, now: KO, attempts)
    # first attempts: bootstrap 1 s + half the warmup; .1 retried twice 4 s apart, then
    # every delay_loop (10 s); .2 not retried (its checker's retry 0: a server's retry is
    # 1 or more in keepalived), every 20 s
    assert attempts == [(4.0, "198.51.100.1"), (5.0, "198.51.100.2"), (8.0, "198.51.100.1"),
                        (12.0, "198.51.100.1"), (22.0, "198.51.100.1"),
                        (25.0, "198.51.100.2"), (26.0, "198.51.100.1"),
                        (30.0, "198.51.100.1"), (40.0, "198.51.100.1"),
                        (44.0, "198.51.100.1"), (45.0, "198.51.100.2"),
                        (48.0, "198.51.100.1")]
    assert [e for e in events if "retrying" not in e[1]] == [
        (5.0, "198.51.100.2 DOWN"), (12.0, "198.51.100.1 DOWN"), (12.0, "quorum DOWN")]


def _pool(config: Any, c: Any) -> dict[str, int]:
    [service] = kernel(config, c).values()
    return {d.addr: d.weight for d in service.dests.values()}


def test_alpha_inhibit_on_failure_and_weight() -> None:
    config = load("""
virtual_server 203.0.113.10 80 {
    protocol TCP
    alpha
    inhibit_on_failure
    real_server 198.51.100.1 80 {
        weight 4
        TCP_CHECK {
            retry 0
            warmup 0
        }
    }
    real_server 198.51.100.2 80 {
        alpha no
        inhibit_on_failure no
        TCP_CHECK {
            retry 0
            warmup 0
        }
    }
}
""")
    c = core(config)
    c.start(0.0)
    # .1 starts down (alpha), kept at weight 0 (inhibit_on_failure); .2 starts up
    assert _pool(config, c) == {"198.51.100.1": 0, "198.51.100.2": 1}
    assert drive(c, 1.0, lambda ck, now: OK) == [(1.0, "198.51.100.1 UP")]
    assert _pool(config, c) == {"198.51.100.1": 4, "198.51.100.2": 1}
    drive(c, 61.0, lambda ck, now: KO)
    assert _pool(config, c) == {"198.51.100.1": 0}  # .2 is removed, .1 inhibited


def test_quorum_hysteresis_and_the_sorry_server() -> None:
    config = load("""
virtual_server 203.0.113.10 80 {
    protocol TCP
    lvs_method NAT
    quorum 3
    hysteresis 1
    sorry_server 198.51.100.99 8080
    sorry_server_lvs_method DR
    sorry_server_inhibit
    delay_loop 10
    real_server 198.51.100.1 80 {
        weight 2
        TCP_CHECK {
            retry 0
            warmup 0
        }
    }
    real_server 198.51.100.2 80 {
        TCP_CHECK {
            retry 0
            warmup 0
        }
    }
    real_server 198.51.100.3 80 {
        TCP_CHECK {
            retry 0
            warmup 0
        }
    }
}
""")
    c = core(config)
    c.start(0.0)
    assert _pool(config, c) == {"198.51.100.1": 2, "198.51.100.2": 1, "198.51.100.3": 1,
                                "198.51.100.99": 0}  # inhibited sorry server
    down: set[str] = set()

    def outcome(ck: CheckerHealth, now: float) -> CheckResult:
        return KO if str(ck.rs.address) in down else OK

    down = {"198.51.100.2", "198.51.100.3"}  # live weight 2 >= quorum 3 - hysteresis 1
    assert drive(c, 1.0, outcome) == [(1.0, "198.51.100.2 DOWN"), (1.0, "198.51.100.3 DOWN")]
    down = {"198.51.100.1", "198.51.100.2", "198.51.100.3"}  # 0: lost
    assert drive(c, 11.0, outcome) == [(11.0, "198.51.100.1 DOWN"), (11.0, "quorum DOWN")]
    [service] = kernel(config, c).values()
    [sorry] = service.dests.values()
    assert (sorry.addr, sorry.port, sorry.weight, sorry.fwd) == ("198.51.100.99", 8080, 1, DR)
    down = {"198.51.100.3"}  # 3 < quorum 3 + hysteresis 1: not yet
    assert drive(c, 21.0, outcome) == [(21.0, "198.51.100.1 UP"), (21.0, "198.51.100.2 UP")]
    assert _pool(config, c) == {"198.51.100.99": 1}
    down = set()
    assert drive(c, 31.0, outcome) == [(31.0, "198.51.100.3 UP"), (31.0, "quorum UP")]
    assert _pool(config, c) == {"198.51.100.1": 2, "198.51.100.2": 1, "198.51.100.3": 1,
                                "198.51.100.99": 0}


def test_virtualhost_of_the_virtual_and_the_real_server_is_the_host_header() -> None:
    config = load("""
virtual_server 203.0.113.10 80 {
    protocol TCP
    virtualhost www.example.test
    real_server 198.51.100.1 80 {
        HTTP_GET {
            url {
                path /health
            }
        }
    }
    real_server 198.51.100.2 80 {
        virtualhost rs2.example.test
        HTTP_GET {
            url {
                path /health
            }
        }
    }
}
""")
    requests = {}
    for ck in core(config).checkers():
        [url] = ck.spec.url
        requests[str(ck.rs.address)] = build_request(
            "/health", host_header(url, ck.spec, ck.target), ck.spec.http_protocol)
    assert b"\r\nHost: www.example.test\r\n" in requests["198.51.100.1"]
    assert b"\r\nHost: rs2.example.test\r\n" in requests["198.51.100.2"]


def _tcp_check(state: dict[str, bool]) -> Any:
    async def check(spec: Any, target: Target, context: Any = None) -> CheckResult:
        return OK if state.get(str(target.address), True) else KO
    return check


@run_async
async def test_notify_and_quorum_scripts_and_omega(tmp_path: Path) -> None:
    rec = argv_logger(tmp_path / "rec.sh", tmp_path / "calls")
    config = load(f"""
global_defs {{
    script_user {ME}
}}
virtual_server 203.0.113.10 80 {{
    protocol TCP
    delay_loop 0.05
    omega
    quorum_up "{rec} quorum-up"
    quorum_down "{rec} quorum-down"
    real_server 198.51.100.1 80 {{
        notify_up "{rec} rs-up"
        notify_down "{rec} rs-down"
        TCP_CHECK {{
            retry 0
            warmup 0
        }}
    }}
}}
""")
    state = {"198.51.100.1": True}
    backend = FakeBackend()
    proc = CheckerProcess(config, backend, {"TCP_CHECK": _tcp_check(state)}, bootstrap=0.05)
    calls_dir = tmp_path / "calls"

    def calls() -> list[str]:
        return [argv[1] for argv in read_argv_log(calls_dir)]

    await proc.start()
    try:
        await asyncio.sleep(0.3)
        assert calls() == []  # up from the start: nothing to tell
        state["198.51.100.1"] = False
        assert await wait_until(lambda: len(calls()) == 2, 10.0), calls()
        assert sorted(calls()) == ["quorum-down", "rs-down"]
        state["198.51.100.1"] = True
        assert await wait_until(lambda: len(calls()) == 4, 10.0), calls()
        assert sorted(calls()[2:]) == ["quorum-up", "rs-up"]
    finally:
        await proc.stop()  # omega: the down scripts run at stop
    assert sorted(calls()[4:]) == ["quorum-down", "rs-down"]


@run_async
async def test_ha_suspend_follows_the_virtual_address() -> None:
    config = load("""
virtual_server 203.0.113.10 80 {
    protocol TCP
    ha_suspend
    delay_loop 0.05
    real_server 198.51.100.1 80 {
        TCP_CHECK {
            warmup 0
        }
    }
}
virtual_server 203.0.113.11 80 {
    protocol TCP
    delay_loop 0.05
    real_server 198.51.100.2 80 {
        TCP_CHECK {
            warmup 0
        }
    }
}
""")
    checked: list[str] = []

    async def tcp(spec: Any, target: Target, context: Any = None) -> CheckResult:
        checked.append(str(target.address))
        return OK

    backend = FakeBackend()
    proc = CheckerProcess(config, backend, {"TCP_CHECK": tcp}, bootstrap=0.05)
    proc.set_local_addresses(["192.0.2.1/24"])  # the VIP 203.0.113.10 is not here
    await proc.start()
    try:
        assert await wait_until(lambda: checked.count("198.51.100.2") >= 3, 5.0)
        assert "198.51.100.1" not in checked
        assert [str(s.address) for s in backend.read()] == ["203.0.113.11"]
        proc.set_local_addresses(["192.0.2.1/24", "203.0.113.10/32"])  # it came
        assert await wait_until(lambda: "198.51.100.1" in checked, 5.0)
        assert await wait_until(lambda: [str(s.address) for s in backend.read()] == [
            "203.0.113.10", "203.0.113.11"], 5.0), backend.read()
        proc.set_local_addresses(["192.0.2.1/24"])  # and went
        assert await wait_until(lambda: [str(s.address) for s in backend.read()] == [
            "203.0.113.11"], 5.0)
        count = checked.count("198.51.100.1")
        await asyncio.sleep(0.3)
        assert checked.count("198.51.100.1") <= count + 1  # at most the one in flight
    finally:
        await proc.stop()


@pytest.mark.parametrize(("fifo_keyword", "script_keyword"), [
    ("lvs_notify_fifo", "lvs_notify_fifo_script"),
    ("notify_fifo", "notify_fifo_script"),  # without lvs_notify_fifo: the shared one
])
@run_async
async def test_lvs_notify_fifo_and_its_script(tmp_path: Path, fifo_keyword: str,
                                              script_keyword: str) -> None:
    fifo = tmp_path / "lvs.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    rec = argv_logger(tmp_path / "rec.sh", tmp_path / "calls")
    config = load(f"""
global_defs {{
    script_user {ME}
    {fifo_keyword} {fifo}
    {script_keyword} {rec}
}}
virtual_server 203.0.113.10 80 {{
    protocol TCP
    delay_loop 0.05
    real_server 198.51.100.1 80 {{
        TCP_CHECK {{
            retry 0
            warmup 0
        }}
    }}
}}
""")
    state = {"198.51.100.1": True}
    proc = CheckerProcess(config, FakeBackend(), {"TCP_CHECK": _tcp_check(state)},
                          bootstrap=0.05)
    await proc.start()
    try:
        state["198.51.100.1"] = False
        assert await wait_until(lambda: proc.status()[0]["quorum_up"] is False, 5.0)
        await asyncio.sleep(0.2)
    finally:
        await proc.stop()
    lines = os.read(reader, 65536).decode().splitlines()
    os.close(reader)
    assert lines == ["RS [198.51.100.1]:tcp:80 [203.0.113.10]:tcp:80 DOWN",
                     "VS [203.0.113.10]:tcp:80 DOWN"]
    # the FIFO script was started with the FIFO's name (it reads the lines from it)
    assert [argv[1:] for argv in read_argv_log(tmp_path / "calls")] == [[str(fifo)]]
