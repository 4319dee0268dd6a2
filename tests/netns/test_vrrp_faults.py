"""Faults a review found in the running daemon, each shown on real daemons in namespaces.

- A router that cannot send adverts (here: no address on its interface) stays in FAULT and
  never holds the VIP, until it can; the advert it could not send is counted.
- A vrrp_sync_group's own track_file / track_interface / track_script move every member.
- notify_priority_changes and notify_master_rx_lower_pri write keepalived's FIFO lines and
  run the script; notify_deleted decides what an instance removed by a reload reports.
- A higher-priority advert whose address list is not ours leaves the master in place.

Where keepalived defines the behaviour, the same test runs against Debian's keepalived 2.2.7 and
must give the same result.
"""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Host, Lab, wait_for
from tests.daemons import (
    Daemon,
    holders,
    instance,
    start_keepalived,
    start_pykeepalived,
    write_conf,
)
from tests.netns.test_vrrp_features import (
    logs,
    open_fifo,
    read_fifo,
    recorder,
    running,
    write_value,
)

pytestmark = pytest.mark.netns

VIP = "192.0.2.10"
IMPLEMENTATIONS = ["pykeepalived", "keepalived"]


def start(kind: str, host: Host, tmp: Path, text: str) -> Daemon:
    if kind == "keepalived" and shutil.which("keepalived") is None:
        pytest.skip("needs Debian's keepalived")
    conf = write_conf(tmp, f"{kind}-{host.name}", text)
    if kind == "keepalived":
        return start_keepalived(host, conf, tmp)
    return start_pykeepalived(host, conf, tmp)


def conf(body: str, global_extra: str = "", name: str = "r") -> str:
    return f"global_defs {{\n router_id {name}\n {global_extra}\n}}\n{body}"


def send_raw(host: Host, datagrams: list[bytes], count: int = 1) -> None:
    """Send whole IPv4 datagrams (header included) from ``host``'s eth0."""
    sender = (
        "import socket,sys,binascii\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_RAW)\n"
        "s.setsockopt(socket.SOL_SOCKET,25,b'eth0')\n"
        "for h in sys.argv[2:]:\n"
        "  [s.sendto(binascii.unhexlify(h),('224.0.0.18',0)) for _ in range(int(sys.argv[1]))]\n")
    host.run("python3", "-c", sender, str(count), *[d.hex() for d in datagrams])


def advert_v3(src: str, priority: int, vips: list[str], vrid: int = 51) -> bytes:
    """A valid VRRPv3 advert, built by scapy (an encoder that is not ours)."""
    from scapy.layers.inet import IP
    from scapy.layers.vrrp import VRRPv3

    return bytes(IP(src=src, dst="224.0.0.18", ttl=255) / VRRPv3(
        vrid=vrid, priority=priority, ipcount=len(vips), addrlist=vips, adv=10))


def advert_v2(src: str, priority: int, vips: list[str], vrid: int = 51) -> bytes:
    from scapy.layers.inet import IP
    from scapy.layers.vrrp import VRRP

    return bytes(IP(src=src, dst="224.0.0.18", ttl=255) / VRRP(
        vrid=vrid, priority=priority, ipcount=len(vips), addrlist=vips, adv=1))


# ------------------------------------------------------------------ a router that cannot send
def test_no_address_means_fault_never_a_silent_master(lab: Lab, tmp_path: Path) -> None:
    """r1 (priority 150) has no address on eth0: it cannot send adverts, so it must not take
    the VIP from r2 by timing out. Once an address appears it takes over as it should; when
    the address goes, it leaves MASTER (FAULT) and gives the VIP back."""
    r1 = lab.add_host("r1", [[]], ipv6=False)
    r2 = lab.add_host("r2", [["192.0.2.2/24"]], ipv6=False)
    hosts = {"r1": r1, "r2": r2}
    d2 = start_pykeepalived(r2, write_conf(tmp_path, "r2", conf(instance(priority=100))),
                            tmp_path)
    d1 = start_pykeepalived(r1, write_conf(tmp_path, "r1", conf(instance(priority=150))),
                            tmp_path)
    with running(d1, d2):
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 10), logs(d1, d2)
        assert d1.wait_log("Entering FAULT STATE", 10), d1.log()
        time.sleep(1.0)  # ten Master_Down_Intervals: a timing-out r1 would have taken it
        assert holders(hosts, VIP) == ["r2"], logs(d1, d2)
        assert "Entering MASTER STATE" not in d1.log()
        r1.run("ip", "addr", "add", "192.0.2.1/24", "dev", "eth0")
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), logs(d1, d2)
        assert d1.wait_log("Entering MASTER STATE", 5), d1.log()
        r1.run("ip", "addr", "del", "192.0.2.1/24", "dev", "eth0")
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 10), logs(d1, d2)
        assert "Entering FAULT STATE" in d1.log().split("Entering MASTER STATE")[-1]
        assert d1.wait_log("advert not sent", 5), d1.log()  # the priority-0 one, counted


# ------------------------------------------------------------------ sync group tracking
GROUP_PAIR = instance("VI_1", vrid=51, priority=150) + instance(
    "VI_2", vrid=52, priority=150, vip="192.0.2.20/24")


@pytest.mark.parametrize("kind", IMPLEMENTATIONS)
def test_sync_group_track_file_and_interface_move_every_member(tmp_path: Path,
                                                               kind: str) -> None:
    """track_file and track_interface written in the vrrp_sync_group (not in the instances)
    put both members in FAULT and back (keepalived.conf(5) vrrp_sync_group)."""
    with Lab(segments=2) as lab:
        _group_tracking(lab, tmp_path, kind)


def _group_tracking(lab: Lab, tmp_path: Path, kind: str) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"], ["198.51.100.1/24"]], ipv6=False)
    down = tmp_path / "down"
    write_value(down, 0)
    group = f"""
vrrp_track_file tf_down {{
    file {down}
}}
vrrp_sync_group G1 {{
    group {{
        VI_1
        VI_2
    }}
    track_file {{
        tf_down weight 0
    }}
    track_interface {{
        eth1
    }}
}}
"""
    d1 = start(kind, r1, tmp_path, conf(group + GROUP_PAIR))
    both = ("192.0.2.10", "192.0.2.20")

    def held() -> list[bool]:
        return [r1.has_address(v) for v in both]

    with running(d1):
        assert wait_for(lambda: held() == [True, True], 10), d1.log()
        write_value(down, 1)
        assert wait_for(lambda: held() == [False, False], 5), d1.log()
        write_value(down, 0)
        assert wait_for(lambda: held() == [True, True], 10), d1.log()
        r1.cut("eth1")
        assert wait_for(lambda: held() == [False, False], 5), d1.log()
        r1.mend("eth1")
        assert wait_for(lambda: held() == [True, True], 10), d1.log()


def test_sync_group_track_script_moves_every_member(lab: Lab, tmp_path: Path) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    flag = tmp_path / "ok"
    flag.write_text("")
    check = tmp_path / "check.sh"
    check.write_text(f"#!/bin/sh\ntest -e {flag}\n")
    check.chmod(0o755)
    group = f"""
vrrp_script chk {{
    script "{check}"
    interval 0.2
}}
vrrp_sync_group G1 {{
    group {{
        VI_1
        VI_2
    }}
    track_script {{
        chk
    }}
}}
"""
    d1 = start_pykeepalived(r1, write_conf(tmp_path, "r1", conf(
        group + GROUP_PAIR, "enable_script_security\n script_user root")), tmp_path)
    both = ("192.0.2.10", "192.0.2.20")
    with running(d1):
        assert wait_for(lambda: all(r1.has_address(v) for v in both), 10), d1.log()
        flag.unlink()
        assert wait_for(lambda: not any(r1.has_address(v) for v in both), 5), d1.log()
        flag.write_text("")
        assert wait_for(lambda: all(r1.has_address(v) for v in both), 10), d1.log()


# ------------------------------------------------------------------ notifications
@pytest.mark.parametrize("kind", IMPLEMENTATIONS)
def test_priority_changes_and_lower_priority_adverts_are_notified(
        lab: Lab, tmp_path: Path, kind: str) -> None:
    """notify_priority_changes: a MASTER_PRIORITY line per change of the effective priority.
    A master hearing a lower priority: notify_master_rx_lower_pri runs and MASTER_RX_LOWER_PRI
    goes to the FIFO with our priority (keepalived vrrp_notify.c)."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    peer = lab.add_host("x", [["192.0.2.66/24"]], ipv6=False)
    prio = tmp_path / "prio"
    write_value(prio, 0)
    fifo = tmp_path / "notify.fifo"
    fd = open_fifo(fifo)
    calls = tmp_path / "calls"
    rec = recorder(tmp_path, calls)
    body = f"""
vrrp_track_file tf {{
    file {prio}
}}
""" + instance(priority=100, extra=f"""notify_priority_changes
    notify_master_rx_lower_pri "{rec} lower"
    track_file {{
        tf weight 1
    }}""")
    d1 = start(kind, r1, tmp_path, conf(body, f"vrrp_notify_fifo {fifo}\n"
                                        " enable_script_security\n script_user root"))
    try:
        with running(d1):
            assert wait_for(lambda: r1.has_address(VIP), 10), d1.log()
            write_value(prio, 10)
            assert d1.wait_log("to 110", 5), d1.log()
            send_raw(peer, [advert_v3("192.0.2.66", 50, [VIP])])
            assert wait_for(lambda: "lower" in calls.read_text() if calls.exists() else False,
                            5), d1.log()
            assert r1.has_address(VIP)
            time.sleep(0.3)
        fifo_lines = read_fifo(fd)
    finally:
        import os
        os.close(fd)
    assert 'INSTANCE "VI_1" MASTER_PRIORITY 110' in fifo_lines, fifo_lines
    assert 'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 110' in fifo_lines, fifo_lines
    assert calls.read_text().splitlines() == ["lower"]


@pytest.mark.parametrize("kind", IMPLEMENTATIONS)
@pytest.mark.parametrize("deleted", ["", "notify_deleted"])
def test_an_instance_removed_by_a_reload_reports_fault_or_deleted(
        lab: Lab, tmp_path: Path, kind: str, deleted: str) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    fifo = tmp_path / "notify.fifo"
    fd = open_fifo(fifo)
    keep = instance("VI_1", priority=150)
    gone = instance("VI_2", vrid=52, priority=150, vip="192.0.2.20/24", extra=deleted)
    text = conf(keep + gone, f"vrrp_notify_fifo {fifo}")
    d1 = start(kind, r1, tmp_path, text)
    try:
        with running(d1):
            assert wait_for(lambda: r1.has_address("192.0.2.20"), 10), d1.log()
            (tmp_path / f"{kind}-r1.conf").write_text(conf(keep, f"vrrp_notify_fifo {fifo}"))
            d1.signal(signal.SIGHUP)
            assert wait_for(lambda: not r1.has_address("192.0.2.20"), 10), d1.log()
            assert r1.has_address(VIP)
            time.sleep(0.3)
            fifo_lines = read_fifo(fd)
    finally:
        import os
        os.close(fd)
    vi2 = [line for line in fifo_lines if '"VI_2"' in line]
    word = "DELETED" if deleted else "FAULT"
    assert vi2[-1].startswith(f'INSTANCE "VI_2" {word} '), fifo_lines
    assert not any(" STOP " in line for line in vi2), fifo_lines


# ------------------------------------------------------------------ the address list
@pytest.mark.parametrize("kind", IMPLEMENTATIONS)
@pytest.mark.parametrize("version", [2, 3])
def test_higher_priority_advert_with_another_address_list_leaves_the_master(
        lab: Lab, tmp_path: Path, kind: str, version: int) -> None:
    """RFC 3768 7.1 / keepalived: an advert carrying 1 of our 3 VIPs is dropped whatever its
    priority; the same advert with our list moves the master (so the test can fail)."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    peer = lab.add_host("x", [["192.0.2.66/24"]], ipv6=False)
    vips = ["192.0.2.10", "192.0.2.11", "192.0.2.12"]
    body = instance(priority=100, version=version, advert="1",
                    vip="\n        ".join(f"{v}/24" for v in vips))
    d1 = start(kind, r1, tmp_path, conf(body))
    make: Callable[[str, int, list[str]], bytes] = advert_v2 if version == 2 else advert_v3
    with running(d1):
        assert wait_for(lambda: all(r1.has_address(v) for v in vips), 10), d1.log()
        send_raw(peer, [make("192.0.2.66", 200, vips[:1])], count=3)
        time.sleep(1.0)
        assert all(r1.has_address(v) for v in vips), d1.log()
        assert "Entering BACKUP STATE" not in d1.log().split("Entering MASTER STATE")[-1]
        send_raw(peer, [make("192.0.2.66", 200, vips)])
        assert wait_for(lambda: not r1.has_address(VIP), 5), d1.log()
