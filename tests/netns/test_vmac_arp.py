"""use_vmac as a client sees it: the VIP must stay at 00:00:5e:00:01:VRID in the client's
neighbour table whatever ARP traffic the master sends, and the VIP must answer whatever
reverse-path filtering the router had before the daemon started.

Only the client's sysctls are set here (arp_accept=1, so that it learns from gratuitous ARP);
everything the router needs, the daemon must set itself, and put back when it stops.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from scapy.layers.l2 import ARP, Ether

from pykeepalived.demo.lab import Host, Lab, wait_for
from tests.daemons import holders, instance, start_pykeepalived, write_conf
from tests.netns.test_vrrp_features import Capture, logs, running

pytestmark = pytest.mark.netns

VIP = "192.0.2.100"
VMAC = "00:00:5e:00:01:33"  # RFC 5798 7.3, VRID 51
CLIENT = "192.0.2.50"


def neighbour_mac(host: Host, ip: str) -> str | None:
    """The link-layer address ``host`` holds for ``ip``, or None when it holds none."""
    found = re.search(r"lladdr (\S+)", host.run("ip", "neigh", "show", ip))
    return found.group(1) if found else None


def sysctls(host: Host, dev: str, names: tuple[str, ...]) -> dict[str, str]:
    return {n: host.run("cat", f"/proc/sys/net/ipv4/conf/{dev}/{n}").strip() for n in names}


def router_conf(tmp: Path, host: Host, priority: int) -> Path:
    body = instance(state="BACKUP", priority=priority, vip=f"{VIP}/24", extra="use_vmac")
    return write_conf(tmp, host.name, f"global_defs {{\n router_id {host.name}\n}}\n{body}")


def test_client_holds_the_virtual_mac_after_garp_its_ping_and_the_routers_arp(
        lab: Lab, tmp_path: Path) -> None:
    """(a) the master's gratuitous ARP, (b) the client pinging the VIP (the master's reply
    needs the client's MAC: an ARP request), (c) the master pinging the client from the VIP
    (a service bound to the VIP): after each the client holds the VIP at the virtual MAC.
    Before the daemon set arp_announce=2 on the base interface, the master's ARP requests
    for (b) and (c) left through eth0 with the base MAC and the VIP as sender address, and
    the client moved the VIP to the base MAC."""
    router = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    client = lab.add_host("c1", [[f"{CLIENT}/24"]], ipv6=False)
    client.run("sysctl", "-qw", "net.ipv4.conf.eth0.arp_accept=1")
    base_mac = router.run("cat", "/sys/class/net/eth0/address").strip()
    names = ("arp_ignore", "arp_filter", "arp_announce")
    before = sysctls(router, "eth0", names)
    assert before == {"arp_ignore": "0", "arp_filter": "0", "arp_announce": "0"}
    cap = Capture(lab, tmp_path / "arp.pcap", bpf="arp")
    daemon = start_pykeepalived(router, router_conf(tmp_path, router, 200), tmp_path)
    with running(daemon):
        assert wait_for(lambda: router.has_address(VIP, "vrrp.51"), 10), logs(daemon)
        # (a) gratuitous ARP from the VMAC
        assert wait_for(lambda: neighbour_mac(client, VIP) == VMAC, 5), \
            client.run("ip", "neigh")
        # (b) the client pings the VIP; the master has to resolve the client for its reply
        router.run("ip", "neigh", "flush", "all")
        client.run("ping", "-c", "1", "-W", "2", VIP)
        assert neighbour_mac(client, VIP) == VMAC, client.run("ip", "neigh")
        # (c) the master's own traffic to the client, sourced from the VIP and not
        router.run("ip", "neigh", "flush", "all")
        router.run("ping", "-c", "1", "-W", "2", "-I", VIP, CLIENT)
        assert neighbour_mac(client, VIP) == VMAC, client.run("ip", "neigh")
        router.run("ip", "neigh", "flush", "all")
        router.run("ping", "-c", "1", "-W", "2", CLIENT)
        assert neighbour_mac(client, VIP) == VMAC, client.run("ip", "neigh")
        during = sysctls(router, "eth0", names)
    frames = cap.stop()
    # On the wire: the master resolved the client (b, c), and no ARP frame ever tied the VIP
    # to the base MAC.
    requests = [p for p in frames if p.haslayer(ARP) and p[ARP].op == 1
                and p[Ether].src == base_mac and p[ARP].pdst == CLIENT]
    assert len(requests) >= 3, [p.summary() for p in frames]
    claims = {(p[ARP].psrc, p[ARP].hwsrc) for p in frames if p.haslayer(ARP)}
    assert (VIP, VMAC) in claims, claims
    assert (VIP, base_mac) not in claims, claims
    # keepalived's arp_ignore=1 and arp_filter=1, with arp_announce=2, while a VMAC exists
    assert during == {"arp_ignore": "1", "arp_filter": "1", "arp_announce": "2"}
    # and the base interface as it was once the daemon has stopped
    assert sysctls(router, "eth0", names) == before


def test_strict_rp_filter_still_one_master_and_a_reachable_vip(lab: Lab,
                                                              tmp_path: Path) -> None:
    """With net.ipv4.conf.all.rp_filter=1 on the routers, the kernel drops what arrives on
    a VMAC from an address it routes through the base interface: the backup's adverts, the
    client's ping and ARP request to the VIP. keepalived therefore moves all.rp_filter to 0
    after raising default and every interface to its value (no interface's filtering
    changes), sets rp_filter=0 on the VMAC, and puts everything back when it stops.
    Before the daemon did the same, both routers held the VIP and the client's ping got no
    answer."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    r2 = lab.add_host("r2", [["192.0.2.2/24"]], ipv6=False)
    client = lab.add_host("c1", [[f"{CLIENT}/24"]], ipv6=False)
    routers = {"r1": r1, "r2": r2}
    for r in routers.values():
        r.run("sysctl", "-qw", "net.ipv4.conf.all.rp_filter=1")
    devs = ("all", "default", "eth0", "lo")

    def rp_filter(host: Host, dev: str) -> str:
        return host.run("cat", f"/proc/sys/net/ipv4/conf/{dev}/rp_filter").strip()

    before = {dev: rp_filter(r1, dev) for dev in devs}
    assert before == {"all": "1", "default": "0", "eth0": "0", "lo": "0"}
    d1 = start_pykeepalived(r1, router_conf(tmp_path, r1, 150), tmp_path)
    with running(d1):
        assert wait_for(lambda: holders(routers, VIP) == ["r1"], 10), logs(d1)
        d2 = start_pykeepalived(r2, router_conf(tmp_path, r2, 100), tmp_path)
        with running(d2):
            assert d2.wait_log("Entering BACKUP STATE", 10), logs(d1, d2)
            # the backup hears the master through its VMAC: it stays backup (its
            # master_down_interval is 0.36 s; watch for 1.5 s, bounded)
            for _ in range(15):
                assert holders(routers, VIP) == ["r1"], logs(d1, d2)
                time.sleep(0.1)
            assert "Entering MASTER STATE" not in d2.log(), logs(d1, d2)
            client.run("ping", "-c", "1", "-W", "2", VIP)
            assert neighbour_mac(client, VIP) == VMAC, client.run("ip", "neigh")
            during = {dev: rp_filter(r1, dev) for dev in (*devs, "vrrp.51")}
    assert during == {"all": "0", "default": "1", "eth0": "1", "lo": "1", "vrrp.51": "0"}
    assert {dev: rp_filter(r1, dev) for dev in devs} == before
