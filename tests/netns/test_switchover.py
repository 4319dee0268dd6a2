"""Planned switchover between two pykeepalived nodes, seen by a client probing every 10 ms.

r1 (priority 150) is master, r2 (100) backup; the client pings the VIP every 10 ms (ping -i
0.009: iputils sends only every ~16 ms at -i 0.01). A TERM on
r1 (or ``pykeepalived --handover`` / ``--drain``) moves the VIP to r2, and no probe goes
unanswered: r1 says priority 0 but keeps answering for the VIP until r2 has advertised twice
(r2's gratuitous ARP, or with use_vmac its first advert, has moved the clients by then).
With ``vrrp_handover_immediate`` r1 releases at once, as keepalived does, and the client loses
the probes of r2's Skew_Time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab, wait_for
from tests.daemons import Daemon, holders, start_pykeepalived
from tests.netns.switchover_lab import VIP, VIP2, Pair, Pinger, TcpProbe
from tests.netns.switchover_lab import conf as switchover_conf

pytestmark = pytest.mark.netns

SRC = str(Path(__file__).resolve().parents[2] / "src")
SETTLE = 1.0  # seconds of answers from a master before and after the move


def term_and_wait(pair: Pair) -> None:
    """TERM the master; it exits once handed over, and r2 holds every VIP alone."""
    pair.master.signal(signal.SIGTERM)
    assert pair.master.proc.wait(timeout=15) == 0, pair.logs()
    for vip in pair.vips():
        assert wait_for(lambda v=vip: holders(pair.hosts, v) == ["r2"], 5), pair.logs()  # type: ignore[misc]


def pykeepalived(d: Daemon, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pykeepalived", *args, "-p",
                           str(d.log_path.parent / "ka.pid")], capture_output=True, text=True,
                          timeout=30, env=dict(os.environ, PYTHONPATH=SRC))


def instance_status(d: Daemon, name: str = "VI_1") -> dict[str, object]:
    reply = json.loads(pykeepalived(d, "--status", "--json").stdout)
    return {i["name"]: i for i in reply["vrrp"]["instances"]}[name]


@pytest.mark.parametrize(("version", "advert", "vmac"), [
    (3, "0.1", False), (2, "1", False), (3, "0.1", True), (2, "1", True)],
    ids=["v3-0.1", "v2-1", "v3-0.1-vmac", "v2-1-vmac"])
def test_term_hands_over_without_a_lost_probe(lab: Lab, tmp_path: Path, version: int,
                                              advert: str, vmac: bool) -> None:
    pair = Pair(lab, tmp_path, version=version, advert=advert, vmac=vmac)
    ping = None
    try:
        pair.start()
        ping = Pinger(pair.client)
        time.sleep(SETTLE)
        term_and_wait(pair)
        time.sleep(SETTLE)
        seen, ping = ping.stop(), None
        assert seen.answered > 100 and seen.lost == [], f"{seen}\n{pair.logs()}"
        log = pair.master.log()
        # make-before-break: r1 saw r2 as master, then released (and said nothing else)
        assert log.index("New master 192.0.2.2") < log.index("Handed over to 192.0.2.2") \
            < log.index("(VI_1) Stopped"), log
        assert "releasing the VIPs anyway" not in log
    finally:
        if ping is not None:
            ping.stop()
        pair.close()


def test_vrrp_handover_immediate_releases_at_once(lab: Lab, tmp_path: Path) -> None:
    """keepalived's way, kept on request: the VIP goes at once and r2 waits its Skew_Time."""
    pair = Pair(lab, tmp_path, global_extra=("vrrp_handover_immediate", ""))
    ping = None
    try:
        pair.start()
        ping = Pinger(pair.client)
        time.sleep(SETTLE)
        term_and_wait(pair)
        time.sleep(SETTLE)
        seen, ping = ping.stop(), None
        assert seen.answered > 100 and len(seen.lost) >= 2, f"{seen}\n{pair.logs()}"
        assert "Handing over" not in pair.master.log()
    finally:
        if ping is not None:
            ping.stop()
        pair.close()


def test_handover_and_drain_commands_move_the_master_and_keep_the_node(
        lab: Lab, tmp_path: Path) -> None:
    pair = Pair(lab, tmp_path)
    ping = None
    try:
        pair.start()
        r1 = pair.master
        # --handover: r2 becomes master without a lost probe; r1 stays up as a backup and,
        # though its priority is higher, does not take the VIP back
        ping = Pinger(pair.client)
        time.sleep(SETTLE)
        done = pykeepalived(r1, "--handover", "VI_1")
        assert done.returncode == 0 and "VI_1: BACKUP" in done.stdout, done
        assert holders(pair.hosts, VIP) == ["r2"]
        time.sleep(SETTLE)
        seen, ping = ping.stop(), None
        assert seen.lost == [], f"{seen}\n{pair.logs()}"
        assert r1.proc.poll() is None
        status = instance_status(r1)
        assert status["state"] == "BACKUP" and status["yielding"] is True, status
        assert status["master"] == "192.0.2.2"
        # --resume: r1 follows its configuration again, and preempts (as configured)
        assert pykeepalived(r1, "--resume", "VI_1").returncode == 0
        assert wait_for(lambda: holders(pair.hosts, VIP) == ["r1"], 5), pair.logs()
        # --drain: the same move, and r1's priority is 1 until resumed
        ping = Pinger(pair.client)
        time.sleep(SETTLE)
        done = pykeepalived(r1, "--drain", "all")
        assert done.returncode == 0, done
        time.sleep(SETTLE)
        seen, ping = ping.stop(), None
        assert seen.lost == [], f"{seen}\n{pair.logs()}"
        status = instance_status(r1)
        assert status["drained"] is True and status["effective_priority"] == 1, status
        assert holders(pair.hosts, VIP) == ["r2"]
        assert "not found" in pykeepalived(r1, "--drain", "VI_X").stderr.replace(
            "no vrrp_instance or vrrp_sync_group named", "not found")
    finally:
        if ping is not None:
            ping.stop()
        pair.close()


def test_sync_group_moves_together_without_a_lost_probe(lab: Lab, tmp_path: Path) -> None:
    pair = Pair(lab, tmp_path, group=True)
    pings: list[Pinger] = []
    try:
        pair.start()
        assert wait_for(lambda: holders(pair.hosts, VIP2) == ["r1"], 5), pair.logs()
        pings = [Pinger(pair.client, VIP), Pinger(pair.client, VIP2)]
        time.sleep(SETTLE)
        term_and_wait(pair)
        time.sleep(SETTLE)
        seen = [p.stop() for p in pings]
        pings = []
        for one in seen:
            assert one.answered > 100 and one.lost == [], f"{seen}\n{pair.logs()}"
        log = pair.master.log()
        # no member released before both had a new master
        last_seen = max(log.index(f"({name}) New master 192.0.2.2") for name in ("VI_1", "VI_2"))
        first_released = min(log.index(f"({name}) Stopped") for name in ("VI_1", "VI_2"))
        assert last_seen < first_released, log
    finally:
        for p in pings:
            p.stop()
        pair.close()


def test_tcp_through_the_vip_sees_no_reset(lab: Lab, tmp_path: Path) -> None:
    """A stateless service on both nodes: a new connection every 10 ms across the move is
    never reset, refused or stalled by a lost SYN (which costs a 1 s retransmission)."""
    pair = Pair(lab, tmp_path)
    tcp = None
    try:
        pair.start()
        tcp = TcpProbe([pair.r1, pair.r2], pair.client, 30.0)
        tcp.start()
        time.sleep(SETTLE)
        term_and_wait(pair)
        time.sleep(SETTLE)
        result = tcp.stop()
        results = result["results"]
        assert isinstance(results, dict) and set(results) == {"ok"}, (result, pair.logs())
        assert results["ok"] > 100, result
        assert isinstance(result["slowest_seconds"], float)
        assert result["slowest_seconds"] < 1.0, result  # no SYN retransmitted
    finally:
        if tcp is not None:
            tcp.close()
        pair.close()


def test_handover_with_no_other_node_keeps_the_vip(lab: Lab, tmp_path: Path) -> None:
    """Nobody takes over: the hand-over is abandoned at its bound, the VIP never leaves, and
    the command says so with exit status 1."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    client = lab.add_host("c", [["192.0.2.50/24"]], ipv6=False)
    conf = tmp_path / "r1.conf"
    conf.write_text(switchover_conf("r1", 150))
    d1 = start_pykeepalived(r1, conf, tmp_path)
    ping = None
    try:
        assert wait_for(lambda: r1.has_address(VIP), 15), d1.log()
        ping = Pinger(client)
        time.sleep(SETTLE)
        done = pykeepalived(d1, "--handover", "VI_1")
        assert done.returncode == 1 and "hand-over abandoned" in done.stdout, done
        seen, ping = ping.stop(), None
        assert seen.lost == [], f"{seen}\n{d1.log()}"
        assert r1.has_address(VIP) and instance_status(d1)["state"] == "MASTER"
        assert "hand-over abandoned, staying MASTER" in d1.log()
    finally:
        if ping is not None:
            ping.stop()
        d1.stop()


def test_second_term_releases_at_once(lab: Lab, tmp_path: Path) -> None:
    """A lone master waits for a new master until its bound; a second TERM cuts that short."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    conf = tmp_path / "r1.conf"
    conf.write_text(switchover_conf("r1", 150, version=2, advert="1"))
    d1 = start_pykeepalived(r1, conf, tmp_path)
    try:
        assert wait_for(lambda: r1.has_address(VIP), 15), d1.log()
        d1.signal(signal.SIGTERM)
        assert d1.wait_log("Handing over", 5), d1.log()
        d1.signal(signal.SIGTERM)
        assert d1.proc.wait(timeout=15) == 0, d1.log()
        log = d1.log()
        assert "Second stop signal: releasing the VIPs at once" in log, log
        assert "No new master within" not in log, log
        assert not r1.has_address(VIP)
    finally:
        d1.stop()
