"""VRRP features of a running pykeepalived daemon, proved with real daemons in namespaces.

use_vmac, the priority-0 advert on TERM, notify scripts and the notify FIFO, preempt_delay,
vrrp_strict's no_accept firewall, vrrp_track_file, virtual_routes / excluded addresses /
label-brd-scope, and the USR1/USR2 dumps. Adverts on the wire are captured with tcpdump in the
switch namespace and decoded with scapy's VRRP layers (an independent decoder).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pykeepalived.demo.lab import Host, Lab, LabError, wait_for
from tests.daemons import Daemon, holders, instance, start_pykeepalived, write_conf

pytestmark = pytest.mark.netns

VIP = "192.0.2.10"
VMAC = "00:00:5e:00:01:33"  # RFC 5798 7.3, VRID 51




def start(host: Host, tmp: Path, body: str, global_extra: str = "") -> Daemon:
    text = f"global_defs {{\n router_id {host.name}\n {global_extra}\n}}\n{body}"
    return start_pykeepalived(host, write_conf(tmp, host.name, text), tmp)


def two_routers(lab: Lab) -> tuple[Host, Host]:
    return (lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False),
            lab.add_host("r2", [["192.0.2.2/24"]], ipv6=False))


def logs(*daemons: Daemon) -> str:
    return "\n".join(f"--- {d.kind} on {d.host.name}\n{d.log()[-20000:]}" for d in daemons)


def master_then_backup(tmp: Path, r1: Host, body1: str, r2: Host, body2: str,
                       global2: str = "") -> tuple[Daemon, Daemon]:
    """r1 started and MASTER first, then r2, which comes up BACKUP and stays so (started
    together, the faster of the two could win the first election and flap once)."""
    d1 = start(r1, tmp, body1)
    try:
        assert wait_for(lambda: r1.has_address(VIP), 10), d1.log()
        d2 = start(r2, tmp, body2, global2)
    except BaseException:
        d1.stop()
        raise
    try:
        assert d2.wait_log("Entering BACKUP STATE", 10), d2.log()
    except BaseException:
        d1.stop()
        d2.stop()
        raise
    return d1, d2


@contextlib.contextmanager
def running(*daemons: Daemon) -> Iterator[None]:
    """Stop every daemon when the block ends, whatever happened inside."""
    try:
        yield
    finally:
        for d in daemons:
            d.stop()


class Capture:
    """tcpdump on a bridge of the switch namespace, packets written to a pcap file."""

    def __init__(self, lab: Lab, path: Path, bpf: str = "ip proto 112",
                 iface: str = "br0") -> None:
        self.path = path
        self.proc = lab.switch.popen("tcpdump", "-i", iface, "-n", "-U", "--immediate-mode",
                                     "-s", "256", "-w",
                                     str(path), bpf, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        # tcpdump says "listening on" once the capture is live; wait for it (bounded).
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 10
        seen = b""
        while b"listening on" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.5)
            if ready:
                seen += os.read(self.proc.stderr.fileno(), 4096)
        assert b"listening on" in seen, seen

    def stop(self) -> list[Any]:
        """End the capture and return the packets (scapy objects)."""
        import scapy.layers.vrrp  # noqa: F401  (binds IP protocol 112 before dissecting)
        from scapy.utils import rdpcap

        if self.proc.poll() is None:
            time.sleep(0.2)  # the last packets are on their way through the bridge
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return list(rdpcap(str(self.path)))


def vrrp_layer(pkt: Any) -> Any:
    """scapy's VRRP (v2) or VRRPv3 layer of a captured frame, or None."""
    from scapy.layers.vrrp import VRRP, VRRPv3

    for layer in (VRRPv3, VRRP):
        if pkt.haslayer(layer):
            return pkt[layer]
    return None


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def recorder(tmp: Path, out: Path) -> Path:
    """A notify script appending its arguments, one line per call, to ``out``."""
    return executable(tmp / "record.sh", f'#!/bin/sh\necho "$*" >> {out}\n')


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


# ---------------------------------------------------------------------------- use_vmac
def test_use_vmac_virtual_mac_on_the_wire_and_in_clients(lab: Lab, tmp_path: Path) -> None:
    """The VIP lives on macvlan vrrp.51 (00:00:5e:00:01:33); adverts leave with that source
    MAC; a client learns the VIP at the virtual MAC, and after failover still reaches it
    (the bridge learned the MAC on the new master's port); TERM deletes the macvlan."""
    from scapy.layers.l2 import Ether

    r1, r2 = two_routers(lab)
    client = lab.add_host("c", [["192.0.2.100/24"]], ipv6=False)
    client.run("sysctl", "-qw", "net.ipv4.conf.eth0.arp_accept=1")
    # the routers' sysctls (arp_ignore, arp_filter, arp_announce on eth0) are the daemon's
    # part: see tests/netns/test_vmac_arp.py
    hosts = {"r1": r1, "r2": r2}
    cap = Capture(lab, tmp_path / "vmac.pcap")
    d1, d2 = master_then_backup(tmp_path, r1, instance(priority=150, extra="use_vmac"),
                                r2, instance(priority=100, extra="use_vmac"))
    with running(d1, d2):
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), logs(d1, d2)
        assert r1.has_address(VIP, "vrrp.51"), r1.run("ip", "addr")
        link = r1.run("ip", "-d", "link", "show", "vrrp.51")
        assert VMAC in link and "macvlan" in link, link
        assert r2.run("ip", "link", "show", "vrrp.51", check=False), "backup has its VMAC too"
        # the base interface must not answer ARP for the VIP with its own MAC
        assert r1.run("sysctl", "-n", "net.ipv4.conf.eth0.arp_ignore").strip() == "1"
        client.run("ping", "-c", "2", "-i", "0.2", "-W", "1", VIP)
        neigh = client.run("ip", "neigh", "show", VIP)
        assert VMAC in neigh, neigh

        d1.stop()
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 5), logs(d1, d2)
        assert r1.run("ip", "link", "show", "vrrp.51", check=False) == "", "TERM removes VMAC"
        assert r2.has_address(VIP, "vrrp.51")
        port_r2 = r2.ports["eth0"]
        assert wait_for(lambda: any(VMAC in line and f"dev {port_r2}" in line for line in
                                    lab.switch.run("bridge", "fdb", "show").splitlines()), 5)
        client.run("ping", "-c", "2", "-i", "0.2", "-W", "1", VIP)
        assert VMAC in client.run("ip", "neigh", "show", VIP)
    assert r2.run("ip", "link", "show", "vrrp.51", check=False) == ""
    adverts = [p for p in cap.stop() if vrrp_layer(p) is not None]
    by_src: dict[str, set[str]] = {}
    for p in adverts:
        by_src.setdefault(p["IP"].src, set()).add(p[Ether].src)
    assert by_src.get("192.0.2.1") == {VMAC}, by_src
    assert by_src.get("192.0.2.2") == {VMAC}, by_src


# ---------------------------------------------------------------------------- TERM
def test_term_sends_one_priority_zero_advert_and_runs_notify_stop(lab: Lab,
                                                                    tmp_path: Path) -> None:
    r1, r2 = two_routers(lab)
    hosts = {"r1": r1, "r2": r2}
    out = tmp_path / "notify.out"
    rec = recorder(tmp_path, out)
    cap = Capture(lab, tmp_path / "term.pcap")
    d1, d2 = master_then_backup(
        tmp_path, r1, instance(priority=150, extra=f'notify_stop "{rec} stop"'),
        r2, instance(priority=100))
    with running(d1, d2):
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), logs(d1, d2)
        assert d1.stop() == 0
        assert not r1.has_address(VIP)
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 5), logs(d1, d2)
        time.sleep(0.3)  # a few of r2's adverts after the handover
    packets = [p for p in cap.stop() if vrrp_layer(p) is not None]
    from_r1 = [vrrp_layer(p) for p in packets if p["IP"].src == "192.0.2.1"]
    assert from_r1, "no adverts from r1 captured"
    priorities = [v.priority for v in from_r1]
    assert priorities.count(0) == 1, priorities[-5:]
    assert priorities[-1] == 0, "the priority-0 advert is r1's last"
    assert all(p == 150 for p in priorities[:-1])
    zero = from_r1[-1]
    assert zero.version == 3 and zero.vrid == 51 and zero.ipcount == 1 and zero.addrlist == [VIP]
    assert lines(out) == ["stop"], lines(out)


# ---------------------------------------------------------------------------- notify
def open_fifo(path: Path) -> int:
    """Make the FIFO and hold it open for reading (lines wait in the pipe for us)."""
    os.mkfifo(path)
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK)


def read_fifo(fd: int) -> list[str]:
    data = b""
    with contextlib.suppress(BlockingIOError):
        for _ in range(100):
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    return data.decode().splitlines()


def test_notify_scripts_and_fifo_follow_every_state(lab: Lab, tmp_path: Path) -> None:
    """BACKUP, MASTER, FAULT, BACKUP, MASTER, STOP: per-state scripts with their own
    arguments, then the generic script with keepalived's four, in order; FIFO lines too.
    No enable_script_security: keepalived only warns, and so must the daemon."""
    r1, r2 = two_routers(lab)
    hosts = {"r1": r1, "r2": r2}
    out = tmp_path / "notify.out"
    rec = recorder(tmp_path, out)
    fifo = tmp_path / "notify.fifo"
    scripts = "\n".join(f'notify_{s} "{rec} {s}"' for s in ("master", "backup", "fault", "stop"))
    expected: list[str] = []

    def step(state: str) -> None:
        expected.extend([state.lower(), f"INSTANCE VI_1 {state} 100"])
        assert wait_for(lambda: lines(out) == expected, 10), (lines(out), logs(d2))

    fd = open_fifo(fifo)
    try:
        d1, d2 = master_then_backup(
            tmp_path, r1, instance(priority=150),
            r2, instance(priority=100, extra=f'{scripts}\n notify "{rec}"'),
            global2=f"vrrp_notify_fifo {fifo}")
        with running(d1, d2):
            assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), logs(d1, d2)
            step("BACKUP")
            d1.stop()
            step("MASTER")
            r2.cut()
            step("FAULT")
            r2.mend()
            step("BACKUP")
            step("MASTER")
        step("STOP")
        fifo_lines = read_fifo(fd)
    finally:
        os.close(fd)
    assert fifo_lines == [f'INSTANCE "VI_1" {s} 100' for s in
                          ("BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER", "STOP")], fifo_lines
    assert d2.proc.returncode == 0
    assert "SECURITY VIOLATION" in d2.log()  # a warning, as keepalived's: scripts still ran


def test_sync_group_notifies_group_lines(lab: Lab, tmp_path: Path) -> None:
    """A sync group reports GROUP lines (priority 0) to its scripts and the FIFO, as
    keepalived 2.2.7 does, including GROUP "G1" STOP 0 at shutdown."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    out = tmp_path / "notify.out"
    rec = recorder(tmp_path, out)
    fifo = tmp_path / "notify.fifo"
    fd = open_fifo(fifo)
    group = f"""vrrp_sync_group G1 {{
    group {{
        VI_1
        VI_2
    }}
    notify_master "{rec} G1-master"
    notify_backup "{rec} G1-backup"
    notify_fault "{rec} G1-fault"
    notify_stop "{rec} G1-stop"
    notify "{rec}"
}}
"""
    body = group + instance() + instance("VI_2", vrid=52, vip="192.0.2.20/24")
    d1 = start(r1, tmp_path, body, global_extra=f"vrrp_notify_fifo {fifo}")
    try:
        with running(d1):
            assert wait_for(lambda: r1.has_address(VIP) and r1.has_address("192.0.2.20"), 10)
            r1.cut()
            assert d1.wait_log("Entering FAULT STATE", 5), d1.log()
            r1.mend()
            assert wait_for(lambda: r1.has_address(VIP) and r1.has_address("192.0.2.20"), 10)
        fifo_lines = read_fifo(fd)
    finally:
        os.close(fd)
    group_fifo = [line for line in fifo_lines if line.startswith("GROUP")]
    assert group_fifo == [f'GROUP "G1" {s} 0' for s in
                          ("BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER", "STOP")], fifo_lines
    assert fifo_lines[-1] == 'GROUP "G1" STOP 0'  # after both instances' STOP
    assert sum(line.startswith("INSTANCE") for line in fifo_lines) == 12, fifo_lines
    # the group's own scripts: one lane, in order
    group_lines = [line for line in lines(out) if line.startswith(("G1-", "GROUP"))]
    assert group_lines == [x for s in ("backup", "master", "fault", "backup", "master", "stop")
                           for x in (f"G1-{s}", f"GROUP G1 {s.upper()} 0")], group_lines


# ---------------------------------------------------------------------------- preempt_delay
def log_times(log: str, text: str) -> list[float]:
    """Seconds since midnight of every log line containing ``text``."""
    found = []
    for line in log.splitlines():
        if text in line:
            clock = line.split()[3]  # "Wed Nov 25 16:05:54.603 pykeepalived..."
            h, m, s = clock.split(":")
            found.append(int(h) * 3600 + int(m) * 60 + float(s))
    return found


def test_preempt_delay_holds_back_the_returning_master(lab: Lab, tmp_path: Path) -> None:
    r1, r2 = two_routers(lab)
    hosts = {"r1": r1, "r2": r2}
    d1, d2 = master_then_backup(tmp_path, r1, instance(priority=150, extra="preempt_delay 3"),
                                r2, instance(priority=100))
    with running(d1, d2):
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), logs(d1, d2)
        r1.cut()
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 5), logs(d1, d2)
        assert d1.wait_log("Entering FAULT STATE", 5)
        mark = len(d1.log())
        r1.mend()
        assert wait_for(lambda: "Entering BACKUP STATE" in d1.log()[mark:], 5), d1.log()
        time.sleep(1.5)  # half the delay: a preempting r1 would have taken over long ago
        assert holders(hosts, VIP) == ["r2"], logs(d1, d2)
        assert "start preempt delay" in d1.log()[mark:], d1.log()
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), logs(d1, d2)
        after = d1.log()[mark:]
        backup_at = log_times(after, "(VI_1) Entering BACKUP STATE")[0]
        master_at = log_times(after, "(VI_1) Entering MASTER STATE")[0]
        assert master_at - backup_at >= 2.9, (backup_at, master_at)
        assert wait_for(lambda: "Entering BACKUP STATE" in d2.log().split(
            "Entering MASTER STATE")[-1], 5), d2.log()


# ---------------------------------------------------------------------------- vrrp_strict
def pings(host: Host, address: str) -> bool:
    argv = host.cmd("ping", "-c", "2", "-i", "0.2", "-W", "1", address)
    return subprocess.run(argv, capture_output=True, timeout=30).returncode == 0


def nft_tables(host: Host) -> str:
    return host.run("nft", "list", "tables")


@pytest.mark.parametrize("accept", [False, True])
def test_vrrp_strict_no_accept_drops_traffic_to_the_vip(lab: Lab, tmp_path: Path,
                                                        accept: bool) -> None:
    """vrrp_strict makes a non-owner master no_accept: keepalived's nftables table drops
    traffic to the VIP while it is there, and goes at stop; ``accept`` lifts it."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    client = lab.add_host("c", [["192.0.2.100/24"]], ipv6=False)
    d1 = start(r1, tmp_path, instance(priority=150, extra="accept" if accept else ""),
               global_extra="vrrp_strict")
    with running(d1):
        assert wait_for(lambda: r1.has_address(VIP), 10), d1.log()
        assert pings(client, "192.0.2.1"), "the router's own address answers"
        if accept:
            assert pings(client, VIP), d1.log()
            assert "keepalived" not in nft_tables(r1)
        else:
            assert not pings(client, VIP), "no_accept: traffic to the VIP must be dropped"
            assert r1.has_address(VIP)
            assert VIP in r1.run("nft", "list", "set", "ip", "keepalived", "vips")
    assert not r1.has_address(VIP)
    assert "keepalived" not in nft_tables(r1), "the table goes when the daemon stops"


# ---------------------------------------------------------------------------- track_file
def write_value(path: Path, value: int) -> None:
    """Write and rename into place: the daemon never reads a half-written file."""
    tmp = path.with_suffix(".new")
    tmp.write_text(f"{value}\n")
    tmp.rename(path)


def test_track_file_moves_the_master_and_weight_zero_faults(lab: Lab, tmp_path: Path) -> None:
    r1, r2 = two_routers(lab)
    hosts = {"r1": r1, "r2": r2}
    prio = tmp_path / "prio"
    down = tmp_path / "down"
    write_value(prio, 0)
    write_value(down, 0)
    files = f"""
vrrp_track_file tf_prio {{
    file {prio}
}}
vrrp_track_file tf_down {{
    file {down}
}}
"""
    track = "track_file {\n tf_prio weight 1\n tf_down weight 0\n }"
    d1, d2 = master_then_backup(tmp_path, r1, files + instance(priority=150, extra=track),
                                r2, instance(priority=100))
    with running(d1, d2):
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), logs(d1, d2)
        write_value(prio, -60)  # 150 - 60 = 90 < 100
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 5), logs(d1, d2)
        assert "Changing effective priority from 150 to 90" in d1.log()
        assert "Entering BACKUP STATE" in d1.log().split("Entering MASTER STATE")[-1]
        write_value(prio, 0)
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 5), logs(d1, d2)
        write_value(down, 1)  # weight 0: any non-zero value is FAULT
        assert d1.wait_log("Entering FAULT STATE", 5), d1.log()
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 5), logs(d1, d2)
        write_value(down, 0)
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), logs(d1, d2)


# ---------------------------------------------------------------------------- routes, eVIPs
def addr_lines(host: Host) -> str:
    """``ip -o -4 addr`` of eth0; retried while addresses change ("Dump was interrupted"),
    and an error (never an empty string, which would make "absent" pass) if it keeps
    failing."""
    for _ in range(4):
        try:
            return host.run("ip", "-o", "-4", "addr", "show", "dev", "eth0")
        except LabError:
            time.sleep(0.05)
    return host.run("ip", "-o", "-4", "addr", "show", "dev", "eth0")


def owned(host: Host) -> dict[str, bool]:
    """Which of the instance's addresses, routes and rules ``host`` has now."""
    addrs = addr_lines(host)
    routes = host.run("ip", "-4", "route", "show", "table", "all")
    rules = host.run("ip", "-4", "rule", "show")
    return {
        "vip": "inet 192.0.2.10/24 brd 192.0.2.255 scope global secondary eth0:vip" in addrs,
        "evip": "inet 203.0.113.5/32 scope global eth0" in addrs,
        "route_via": "198.51.100.0/25 via 192.0.2.254 dev eth0" in routes,
        "route_src": any("198.51.100.128/25 dev eth0" in r and "src 192.0.2.10" in r
                         for r in routes.splitlines()),
        "route_table": "203.0.113.0/24 via 192.0.2.254 dev eth0 table 100" in routes,
        "rule": "from 192.0.2.10 lookup 100" in rules,
    }


def test_virtual_routes_rules_and_excluded_only_on_the_master(lab: Lab, tmp_path: Path) -> None:
    """label/brd/scope on the VIP, virtual_ipaddress_excluded, virtual_routes and
    virtual_rules: all present on the master only; removed on BACKUP and on stop."""
    r1, r2 = two_routers(lab)
    hosts = {"r1": r1, "r2": r2}
    extras = """
    virtual_ipaddress_excluded {
        203.0.113.5/32 dev eth0
    }
    virtual_routes {
        198.51.100.0/25 via 192.0.2.254 dev eth0
        src 192.0.2.10 to 198.51.100.128/25 dev eth0
        203.0.113.0/24 via 192.0.2.254 dev eth0 table 100
    }
    virtual_rules {
        from 192.0.2.10/32 table 100
    }
"""
    vip = "192.0.2.10/24 brd 192.0.2.255 dev eth0 scope global label eth0:vip"
    everything = dict.fromkeys(owned(r1), True)
    nothing = dict.fromkeys(everything, False)
    # r2 first: it is master alone, then r1 (higher) preempts it and r2 goes BACKUP
    d2 = start(r2, tmp_path, instance(priority=100, vip=vip, extra=extras))
    d1 = None
    try:
        assert wait_for(lambda: owned(r2) == everything, 10), (owned(r2), d2.log())
        d1 = start(r1, tmp_path, instance(priority=150, vip=vip, extra=extras))
        assert wait_for(lambda: owned(r1) == everything, 10), (owned(r1), d1.log())
        assert wait_for(lambda: owned(r2) == nothing, 5), (owned(r2), d2.log())
        assert holders(hosts, VIP) == ["r1"]
        d1.stop()
        assert owned(r1) == nothing, "TERM removes everything"
        assert wait_for(lambda: owned(r2) == everything, 5), (owned(r2), d2.log())
    finally:
        d2.stop()
        if d1 is not None:
            d1.stop()
    assert owned(r2) == nothing
    assert "failed" not in d2.log() and "ERROR" not in d2.log(), d2.log()


# ---------------------------------------------------------------------------- USR1/USR2


def parse_data(text: str) -> dict[str, dict[str, Any]]:
    """keepalived.data as monitoring tools read it: instance -> key -> value (VIP lists)."""
    found: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    key = ""
    for line in text.splitlines():
        if line.startswith(" VRRP Instance = "):
            current = found.setdefault(line.split("=", 1)[1].strip(), {})
        elif line.startswith("     ") and current is not None:
            current.setdefault(key, []).append(line.strip())
        elif line.startswith("   ") and current is not None:
            sep = "=" if "=" in line else ":"
            key, _, value = line.strip().partition(sep)
            key = key.strip()
            current[key] = value.strip() or []  # "Virtual IP (1):" opens a list
        else:
            current = None
    return found


def parse_stats(text: str) -> dict[str, dict[str, int]]:
    """keepalived.stats: instance -> "Section/Key" (or "Key") -> count."""
    found: dict[str, dict[str, int]] = {}
    current: dict[str, int] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("VRRP Instance: "):
            current = found.setdefault(line.split(":", 1)[1].strip(), {})
        elif line.startswith("    "):
            key, _, value = line.strip().partition(":")
            current[f"{section}/{key}"] = int(value)
        elif line.startswith("  ") and line.endswith(":"):
            section = line.strip()[:-1]
        elif line.startswith("  "):
            key, _, value = line.strip().partition(":")
            current[key] = int(value)
    return found


def test_usr1_usr2_write_data_and_stats(lab: Lab, tmp_path: Path,
                                        dump_files: tuple[Path, Path]) -> None:
    data_file, stats_file = dump_files
    r1, r2 = two_routers(lab)
    hosts = {"r1": r1, "r2": r2}
    d1, d2 = master_then_backup(tmp_path, r1, instance(priority=150),
                                r2, instance(priority=100))
    with running(d1, d2):
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), logs(d1, d2)
        time.sleep(0.5)
        for daemon, state in ((d1, "MASTER"), (d2, "BACKUP")):
            data_file.unlink(missing_ok=True)
            stats_file.unlink(missing_ok=True)
            daemon.signal(signal.SIGUSR1)
            daemon.signal(signal.SIGUSR2)
            assert wait_for(lambda: data_file.exists() and stats_file.exists(), 5), daemon.log()
            time.sleep(0.1)  # written in one go, but let the writer close it
            data = parse_data(data_file.read_text())["VI_1"]
            stats = parse_stats(stats_file.read_text())["VI_1"]
            assert data["State"] == state and data["Wantstate"] == state, data
            assert data["Virtual Router ID"] == "51" and data["Interface"] == "eth0"
            assert data["Advert interval"] == "100 milli-sec", data
            vip_line = f"{VIP}/24 dev eth0 scope global" + (" set" if state == "MASTER" else "")
            assert data["Virtual IP (1)"] == [vip_line], data
            if state == "MASTER":
                assert data["Effective priority"] == "150"
                assert stats["Became master"] == 1 and stats["Advertisements/Sent"] > 3, stats
            else:
                assert data["Master router"] == "192.0.2.1", data
                assert data["Master priority"] == "150", data
                assert stats["Became master"] == 0, stats
                assert stats["Advertisements/Received"] > 3, stats
            assert stats["Packet Errors/TTL"] == 0 and stats["Priority Zero/Sent"] == 0
        assert d1.proc.poll() is None and d2.proc.poll() is None


def test_v3_checksum_as_v2_on_the_wire(lab: Lab, tmp_path: Path) -> None:
    """With v3_checksum_as_v2 the VRRPv3 checksum leaves out the IPv4 pseudo-header (RFC 9568
    reading); two such nodes still elect each other, and the default stays keepalived's."""
    from scapy.layers.inet import IP
    from scapy.layers.vrrp import VRRPv3
    from scapy.utils import checksum

    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    r2 = lab.add_host("r2", [["192.0.2.2/24"]], ipv6=False)
    gdefs = "global_defs {\n v3_checksum_as_v2\n}\n"
    cap = Capture(lab, tmp_path / "v3.pcap")
    d1 = start_pykeepalived(r1, write_conf(tmp_path, "r1", gdefs + instance(priority=150)),
                            tmp_path)
    d2 = start_pykeepalived(r2, write_conf(tmp_path, "r2", gdefs + instance(priority=100)),
                            tmp_path)
    try:
        assert wait_for(lambda: holders({"r1": r1, "r2": r2}, VIP) == ["r1"], 10), d1.log()
        assert d2.wait_log("(VI_1) Entering BACKUP STATE", 5), d2.log()
        time.sleep(0.5)
        assert holders({"r1": r1, "r2": r2}, VIP) == ["r1"]
    finally:
        d1.stop()
        d2.stop()
    adverts = [p for p in cap.stop() if p.haslayer(VRRPv3) and p[IP].src == "192.0.2.1"
               and p[VRRPv3].priority == 150]
    assert adverts
    raw = bytearray(bytes(adverts[-1][VRRPv3]))
    sent = int.from_bytes(raw[6:8], "big")
    raw[6:8] = b"\0\0"
    assert sent == checksum(bytes(raw))  # the VRRP message alone
    rebuilt = IP(bytes(adverts[-1][IP]))
    del rebuilt[VRRPv3].chksum
    assert IP(bytes(rebuilt))[VRRPv3].chksum != sent  # scapy's pseudo-header checksum differs
