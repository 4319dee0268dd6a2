"""Real pykeepalived daemons in namespaces: election, failover, hand-back, TERM, tracking."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Host, Lab, wait_for
from tests.daemons import Daemon, holders, instance, start_pykeepalived, write_conf

pytestmark = pytest.mark.netns

VIP = "192.0.2.10"




def two_routers(lab: Lab, v6: bool = False) -> tuple[Host, Host]:
    a1 = [["192.0.2.1/24", "2001:db8::1/64"]] if v6 else [["192.0.2.1/24"]]
    a2 = [["192.0.2.2/24", "2001:db8::2/64"]] if v6 else [["192.0.2.2/24"]]
    return lab.add_host("r1", a1, ipv6=v6), lab.add_host("r2", a2, ipv6=v6)


def start(host: Host, tmp: Path, body: str, name: str | None = None) -> Daemon:
    text = f"global_defs {{\n router_id {host.name}\n}}\n{body}"
    conf = write_conf(tmp, name or host.name, text)
    return start_pykeepalived(host, conf, tmp)


def test_election_then_term_hands_over(lab: Lab, tmp_path: Path) -> None:
    r1, r2 = two_routers(lab)
    d1 = start(r1, tmp_path, instance(priority=150, state="MASTER"))
    d2 = start(r2, tmp_path, instance(priority=100))
    hosts = {"r1": r1, "r2": r2}
    try:
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), d1.log() + d2.log()
        assert d2.wait_log("(VI_1) Entering BACKUP STATE", 5)
        assert d1.wait_log("(VI_1) Entering MASTER STATE", 5)
        time.sleep(0.5)
        assert holders(hosts, VIP) == ["r1"]  # exactly once, and stays there
        assert d1.stop() == 0
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 5), d2.log()
        assert not r1.has_address(VIP)
    finally:
        d1.stop()
        d2.stop()
    assert not r2.has_address(VIP), "TERM must remove the VIPs"


def test_dead_master_link_cut_then_preempting_handback(lab: Lab, tmp_path: Path) -> None:
    r1, r2 = two_routers(lab)
    d1 = start(r1, tmp_path, instance(priority=150))
    d2 = start(r2, tmp_path, instance(priority=100))
    hosts = {"r1": r1, "r2": r2}
    try:
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), d1.log()
        r1.cut()
        assert wait_for(lambda: r2.has_address(VIP), 5), d2.log()
        assert d1.wait_log("(VI_1) Entering FAULT STATE", 5), d1.log()
        assert wait_for(lambda: not r1.has_address(VIP), 5)
        r1.mend()
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), d1.log() + d2.log()
        assert d2.wait_log("(VI_1) Entering BACKUP STATE", 5)
    finally:
        d1.stop()
        d2.stop()


def test_nopreempt_keeps_the_new_master(lab: Lab, tmp_path: Path) -> None:
    r1, r2 = two_routers(lab)
    hosts = {"r1": r1, "r2": r2}
    # r1 first: with nopreempt, whichever node is MASTER first keeps the VIP
    d1 = start(r1, tmp_path, instance(priority=150, extra="nopreempt"))
    assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), d1.log()
    d2 = start(r2, tmp_path, instance(priority=100))
    try:
        assert d2.wait_log("(VI_1) Entering BACKUP STATE", 10), d2.log()
        assert holders(hosts, VIP) == ["r1"]
        r1.cut()
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 5), d2.log()
        r1.mend()
        assert d1.wait_log("(VI_1) Entering BACKUP STATE", 5), d1.log()
        time.sleep(1.0)  # ten adverts: a preempting r1 would have taken over by now
        assert holders(hosts, VIP) == ["r2"]
    finally:
        d1.stop()
        d2.stop()


def test_active_active_two_vrids(lab: Lab, tmp_path: Path) -> None:
    r1, r2 = two_routers(lab)
    vip2 = "192.0.2.20"
    d1 = start(r1, tmp_path, instance(priority=150) +
               instance("VI_2", vrid=52, priority=100, vip=f"{vip2}/24"))
    d2 = start(r2, tmp_path, instance(priority=100) +
               instance("VI_2", vrid=52, priority=150, vip=f"{vip2}/24"))
    hosts = {"r1": r1, "r2": r2}
    try:
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"] and holders(hosts, vip2) == ["r2"],
                        10), d1.log() + d2.log()
        d2.stop()
        assert wait_for(lambda: holders(hosts, vip2) == ["r1"], 5)
        assert holders(hosts, VIP) == ["r1"]
    finally:
        d1.stop()
        d2.stop()


def test_unicast_peers(lab: Lab, tmp_path: Path) -> None:
    r1, r2 = two_routers(lab)
    uni1 = "unicast_src_ip 192.0.2.1\n unicast_peer {\n 192.0.2.2\n }"
    uni2 = "unicast_src_ip 192.0.2.2\n unicast_peer {\n 192.0.2.1\n }"
    d1 = start(r1, tmp_path, instance(priority=150, extra=uni1))
    d2 = start(r2, tmp_path, instance(priority=100, extra=uni2))
    hosts = {"r1": r1, "r2": r2}
    try:
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), d1.log() + d2.log()
        time.sleep(0.5)
        assert holders(hosts, VIP) == ["r1"]
        d1.stop()
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 5), d2.log()
    finally:
        d1.stop()
        d2.stop()


def test_ipv6_vrrpv3(lab: Lab, tmp_path: Path) -> None:
    r1, r2 = two_routers(lab, v6=True)
    vip6 = "2001:db8::10"
    d1 = start(r1, tmp_path, instance(priority=150, vip=f"{vip6}/64"))
    d2 = start(r2, tmp_path, instance(priority=100, vip=f"{vip6}/64"))
    hosts = {"r1": r1, "r2": r2}
    try:
        assert wait_for(lambda: holders(hosts, vip6) == ["r1"], 10), d1.log() + d2.log()
        r1.cut()
        assert wait_for(lambda: holders(hosts, vip6) == ["r2"], 5), d2.log()
    finally:
        d1.stop()
        d2.stop()


def test_track_script_moves_the_master(lab: Lab, tmp_path: Path) -> None:
    r1, r2 = two_routers(lab)
    flag = tmp_path / "healthy"
    flag.write_text("")
    script = f"""
vrrp_script chk {{
    script "/usr/bin/test -e {flag}"
    interval 1
    weight -60
    fall 1
    rise 1
}}
"""
    d1 = start(r1, tmp_path, script + instance(priority=150, extra="track_script {\n chk\n }"))
    d2 = start(r2, tmp_path, instance(priority=100))
    hosts = {"r1": r1, "r2": r2}
    try:
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), d1.log()
        flag.unlink()
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 10), d1.log() + d2.log()
        flag.write_text("")
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), d1.log()
    finally:
        d1.stop()
        d2.stop()


def test_sync_group_moves_together(tmp_path: Path) -> None:
    with Lab(segments=2) as lab:
        sync_group_moves_together(lab, tmp_path)


def sync_group_moves_together(lab: Lab, tmp_path: Path) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"], ["198.51.100.1/24"]], ipv6=False)
    r2 = lab.add_host("r2", [["192.0.2.2/24"], ["198.51.100.2/24"]], ipv6=False)
    hosts = {"r1": r1, "r2": r2}
    vip_in = "198.51.100.10"

    def body(prio: int) -> str:
        return ("vrrp_sync_group G1 {\n group {\n VI_1\n VI_2\n }\n}\n" + instance(priority=prio)
                + instance("VI_2", vrid=52, priority=prio, vip=f"{vip_in}/24",
                           interface="eth1"))
    d1 = start(r1, tmp_path, body(150))
    d2 = start(r2, tmp_path, body(100))
    try:
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"] and holders(hosts, vip_in) == ["r1"],
                        10), d1.log() + d2.log()
        r1.cut("eth1")  # only the inside link fails: the whole group must move
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"] and holders(hosts, vip_in) == ["r2"],
                        10), d1.log() + d2.log()
    finally:
        d1.stop()
        d2.stop()


def test_hup_with_broken_config_keeps_running(lab: Lab, tmp_path: Path) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    d1 = start(r1, tmp_path, instance(priority=150))
    try:
        assert wait_for(lambda: r1.has_address(VIP), 10), d1.log()
        (tmp_path / "r1.conf").write_text("vrrp_instance VI_1 {\n  priority 500\n")
        d1.signal(signal.SIGHUP)
        assert d1.wait_log("reload refused", 5), d1.log()
        time.sleep(0.5)
        assert d1.proc.poll() is None
        assert r1.has_address(VIP)
    finally:
        d1.stop()
    assert not r1.has_address(VIP)


def test_hup_reload_keeps_vips_and_applies_changes(lab: Lab, tmp_path: Path) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    d1 = start(r1, tmp_path, instance(priority=150))
    try:
        assert wait_for(lambda: r1.has_address(VIP), 10), d1.log()
        conf = tmp_path / "r1.conf"
        conf.write_text(conf.read_text().replace(f"{VIP}/24", f"{VIP}/24\n 192.0.2.11/24"))
        before = len(d1.log())
        d1.signal(signal.SIGHUP)
        assert wait_for(lambda: r1.has_address("192.0.2.11"), 5), d1.log()
        assert r1.has_address(VIP)
        assert d1.wait_log("Configuration reloaded", 5)
        assert "Entering BACKUP STATE" not in d1.log()[before:]
    finally:
        d1.stop()


def test_missing_interface_refuses_to_start_like_keepalived(lab: Lab, tmp_path: Path) -> None:
    """keepalived 2.2.7 exits ("Non-existent interface specified in configuration")."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    d1 = start(r1, tmp_path, instance(priority=150, interface="eth9"))
    try:
        assert d1.proc.wait(timeout=10) != 0
    finally:
        d1.stop()
    assert "r1.conf:" in d1.log() and "eth9" in d1.log(), d1.log()
    assert not r1.has_address(VIP)


def test_garbage_packets_are_counted_and_change_nothing(lab: Lab, tmp_path: Path) -> None:
    """Malformed, wrong-checksum, wrong-TTL, wrong-VRID and higher-priority-but-bad adverts."""
    from scapy.layers.inet import IP
    from scapy.layers.vrrp import VRRPv3

    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    attacker = lab.add_host("x", [["192.0.2.66/24"]], ipv6=False)
    d1 = start(r1, tmp_path, instance(priority=150))
    try:
        assert wait_for(lambda: r1.has_address(VIP), 10), d1.log()
        good = IP(src="192.0.2.66", dst="224.0.0.18", ttl=255) / VRRPv3(
            vrid=51, priority=254, ipcount=1, addrlist=[VIP], adv=10)
        raw = bytes(good)
        bad = {
            "truncated": raw[:24],
            "checksum": raw[:26] + bytes([raw[26] ^ 0xFF]) + raw[27:],
            "ttl": bytes(IP(src="192.0.2.66", dst="224.0.0.18", ttl=64) / VRRPv3(
                vrid=51, priority=254, ipcount=1, addrlist=[VIP], adv=10)),
            "version": bytes(IP(src="192.0.2.66", dst="224.0.0.18", ttl=255) / VRRPv3(
                version=4, vrid=51, priority=254, ipcount=1, addrlist=[VIP], adv=10)),
            "garbage": raw[:20] + b"\xff" * 40,
        }
        sender = (
            "import socket,sys,binascii\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_RAW)\n"
            "s.setsockopt(socket.SOL_SOCKET,25,b'eth0')\n"
            "for h in sys.argv[1:]:\n"
            "  [s.sendto(binascii.unhexlify(h),('224.0.0.18',0)) for _ in range(20)]\n")
        attacker.run("python3", "-c", sender, *[b.hex() for b in bad.values()])
        time.sleep(1.0)
        assert r1.has_address(VIP), d1.log()
        assert "Entering BACKUP STATE" not in d1.log().split("Entering MASTER STATE", 1)[1]
    finally:
        d1.stop()
    log = d1.log()
    assert "checksum" in log and "ttl" in log.lower(), log


def test_watchdog_respawns_a_killed_vrrp_child(lab: Lab, tmp_path: Path) -> None:
    """SIGKILL the VRRP child: the parent starts a new one, with the configuration as last
    reloaded, which clears the stale VIPs and is elected again."""
    r1, r2 = two_routers(lab)
    d1 = start(r1, tmp_path, instance(priority=150))
    d2 = start(r2, tmp_path, instance(priority=100))
    hosts = {"r1": r1, "r2": r2}
    try:
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), d1.log()
        conf = tmp_path / "r1.conf"  # a reload first: the respawned child must run it too
        # (an excluded VIP: the advertised list must stay the one r2 has, or each would
        # drop the other's adverts, as keepalived does)
        conf.write_text(conf.read_text().replace(
            "virtual_ipaddress {", "virtual_ipaddress_excluded {\n 192.0.2.11/24\n}\n"
            "    virtual_ipaddress {"))
        d1.signal(signal.SIGHUP)
        assert wait_for(lambda: r1.has_address("192.0.2.11"), 5), d1.log()
        child_pid_file = d1.log_path.parent / "vrrp.pid"
        assert wait_for(child_pid_file.exists, 5)
        child = int(child_pid_file.read_text())
        r1.run("kill", "-9", str(child))
        assert d1.wait_log("died", 5), d1.log()
        # r2 takes over while r1's child is gone; the new child takes it back (preempt)
        def after_death() -> str:
            return d1.log().split("died", 1)[1]

        assert wait_for(lambda: "Entering MASTER STATE" in after_death(), 15), d1.log()
        respawned = after_death()
        assert "pid=" in respawned
        # the stale VIP was cleared before the new child's election
        assert respawned.index("removed VIP") < respawned.index("Entering BACKUP STATE")
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 15), d1.log() + d2.log()
        assert wait_for(lambda: r1.has_address("192.0.2.11"), 5), d1.log()
        assert d1.proc.poll() is None
        assert int(child_pid_file.read_text()) != child
    finally:
        d1.stop()
        d2.stop()
    assert not r1.has_address(VIP) and not r2.has_address(VIP)
    assert not r1.has_address("192.0.2.11"), "the respawned child did not own the reloaded VIP"


def test_hup_reload_with_a_sync_group(tmp_path: Path) -> None:
    """Reloading a configuration whose sync group is unchanged keeps the group working."""
    with Lab(segments=2) as lab:
        r1 = lab.add_host("r1", [["192.0.2.1/24"], ["198.51.100.1/24"]], ipv6=False)
        body = ("vrrp_sync_group G1 {\n group {\n VI_1\n VI_2\n }\n}\n"
                + instance(priority=150)
                + instance("VI_2", vrid=52, priority=150, vip="198.51.100.10/24",
                           interface="eth1"))
        d1 = start(r1, tmp_path, body)
        try:
            assert wait_for(lambda: r1.has_address(VIP) and r1.has_address("198.51.100.10"),
                            10), d1.log()
            conf = tmp_path / "r1.conf"
            conf.write_text(conf.read_text().replace(f"{VIP}/24", f"{VIP}/24\n 192.0.2.11/24"))
            d1.signal(signal.SIGHUP)
            assert d1.wait_log("Configuration reloaded", 5), d1.log()
            assert wait_for(lambda: r1.has_address("192.0.2.11"), 5), d1.log()
            assert r1.has_address("198.51.100.10") and r1.has_address(VIP)
            r1.cut("eth1")  # the group still acts as one: VI_1 leaves MASTER with VI_2
            assert wait_for(lambda: not r1.has_address(VIP), 5), d1.log()
        finally:
            d1.stop()


def test_signal_storm_changes_nothing(lab: Lab, tmp_path: Path,
                                      dump_files: tuple[Path, Path]) -> None:
    """HUPs (reloads of the same file) and USR1/USR2 by the dozen, right from start-up: the
    daemon stays up, the master keeps its VIP and no transition happens."""
    r1, r2 = two_routers(lab)
    d1 = start(r1, tmp_path, instance(priority=150))
    assert d1.wait_log("Starting VRRP child process", 10), d1.log()
    for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2) * 3:  # the child is starting
        d1.signal(sig)
    d2 = start(r2, tmp_path, instance(priority=100))
    hosts = {"r1": r1, "r2": r2}
    try:
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), d1.log()
        before = d1.log().count("Entering")
        for _ in range(10):
            for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP):
                d1.signal(sig)
            time.sleep(0.02)
        assert wait_for(lambda: d1.log().count("Configuration reloaded") >= 5, 10), d1.log()
        time.sleep(0.5)
        assert d1.proc.poll() is None
        assert holders(hosts, VIP) == ["r1"]
        assert d1.log().count("Entering") == before, d1.log()
        assert "died" not in d1.log() and "Traceback" not in d1.log()
    finally:
        d1.stop()
        d2.stop()


def test_ipv6_with_vmac(lab: Lab, tmp_path: Path) -> None:
    """IPv6 VIP on a VMAC (00:00:5e:00:02:VRID): election, failover, hand-back, clean stop."""
    r1, r2 = two_routers(lab, v6=True)
    vip6 = "2001:db8::10"
    d1 = start(r1, tmp_path, instance(priority=150, vip=f"{vip6}/64", extra="use_vmac"))
    d2 = start(r2, tmp_path, instance(priority=100, vip=f"{vip6}/64", extra="use_vmac"))
    hosts = {"r1": r1, "r2": r2}
    try:
        assert wait_for(lambda: holders(hosts, vip6) == ["r1"], 10), d1.log() + d2.log()
        assert r1.has_address(vip6, "vrrp.51")
        assert "00:00:5e:00:02:33" in r1.run("ip", "-o", "link", "show", "vrrp.51")
        r1.cut()
        assert wait_for(lambda: holders(hosts, vip6) == ["r2"], 5), d2.log()
        r1.mend()
        assert wait_for(lambda: holders(hosts, vip6) == ["r1"], 10), d1.log()
    finally:
        d1.stop()
        d2.stop()
    assert "vrrp.51" not in r1.run("ip", "-o", "link", "show")


def test_hup_takes_a_config_with_warnings_only(lab: Lab, tmp_path: Path) -> None:
    """Scripts without enable_script_security (keepalived's SECURITY VIOLATION) and an
    unknown keyword are reported but do not stop a reload, as they do not stop a start."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    d1 = start(r1, tmp_path, instance(priority=150))
    try:
        assert wait_for(lambda: r1.has_address(VIP), 10), d1.log()
        conf = tmp_path / "r1.conf"
        text = conf.read_text().replace(f"{VIP}/24", f"{VIP}/24\n 192.0.2.11/24")
        text = ("vrrp_script chk {\n script /bin/true\n}\n" + text.replace(
            "advert_int 0.1", "advert_int 0.1\n no_such_keyword 1\n track_script {\n chk\n }"))
        conf.write_text(text)
        d1.signal(signal.SIGHUP)
        assert d1.wait_log("Configuration reloaded", 5), d1.log()
        assert wait_for(lambda: r1.has_address("192.0.2.11"), 5), d1.log()
        assert "no_such_keyword" in d1.log()
    finally:
        d1.stop()
