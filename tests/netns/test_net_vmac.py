"""use_vmac in a namespace: the macvlan, its MAC and sysctls, the IPv6 link-local, and a
client that reaches a VIP on the VMAC through the virtual router MAC."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest
from scapy.layers.l2 import Ether
from scapy.utils import rdpcap

from pykeepalived.demo.lab import Host, Lab, wait_for
from pykeepalived.net import gratuitous, interfaces, netns, vmac
from pykeepalived.net.addresses import AddressManager, VipSpec
from pykeepalived.net.vrrp_socket import (
    VRRP_MCAST_GROUP4,
    VRRP_MCAST_GROUP6,
    ReceivedPacket,
    VrrpSocket,
)

pytestmark = pytest.mark.netns


def sysctl(host: Host, path: str) -> str:
    return host.run("cat", f"/proc/sys/{path}").strip()


def test_ipv4_vmac_link_and_sysctls(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    with netns.enter(r1.netns):
        name = vmac.create_vmac("eth0", 51)
        assert name == "vrrp.51"
        assert interfaces.mac_address(name) == "00:00:5e:00:01:33"
        assert interfaces.link_is_up(name)
    link = r1.run("ip", "-d", "link", "show", "vrrp.51")
    assert "vrrp.51@eth0" in link
    assert "macvlan mode private" in link
    assert "addrgenmode none" in link
    # what keepalived 2.2.7 sets (see pykeepalived.net.vmac)
    assert sysctl(r1, "net/ipv4/conf/vrrp.51/arp_ignore") == "1"
    assert sysctl(r1, "net/ipv4/conf/vrrp.51/accept_local") == "1"
    assert sysctl(r1, "net/ipv4/conf/vrrp.51/promote_secondaries") == "1"
    assert sysctl(r1, "net/ipv4/conf/vrrp.51/rp_filter") == "0"
    assert sysctl(r1, "net/ipv6/conf/vrrp.51/disable_ipv6") == "1"
    assert sysctl(r1, "net/ipv4/conf/eth0/arp_ignore") == "1"
    assert sysctl(r1, "net/ipv4/conf/eth0/arp_filter") == "1"
    assert sysctl(r1, "net/ipv4/conf/eth0/arp_announce") == "2"  # beyond keepalived
    assert not any(":" in a for a in r1.addresses("vrrp.51")), "no IPv6 on an IPv4 VMAC"
    with netns.enter(r1.netns):
        assert vmac.create_vmac("eth0", 51) == "vrrp.51"  # adopts the existing one
        vmac.delete_vmac("vrrp.51")
        vmac.delete_vmac("vrrp.51")  # gone already: fine
        assert not interfaces.exists("vrrp.51")
    for name in ("arp_ignore", "arp_filter", "arp_announce"):
        assert sysctl(r1, f"net/ipv4/conf/eth0/{name}") == "0", name


BASE = ("arp_ignore", "arp_filter", "arp_announce")


def test_base_sysctls_last_vmac_puts_back_what_is_still_ours(lab: Lab) -> None:
    """Two VMACs on one base interface: the settings stay until the second goes; then each
    is put back unless the operator changed it in between."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    r1.run("sysctl", "-qw", "net.ipv4.conf.eth0.arp_ignore=2")  # keepalived sets 1 anyway

    def base() -> dict[str, str]:
        return {n: sysctl(r1, f"net/ipv4/conf/eth0/{n}") for n in BASE}

    with netns.enter(r1.netns):
        vmac.create_vmac("eth0", 51)
        vmac.create_vmac("eth0", 52)
        vmac.create_vmac("eth0", 51)  # adopted: counted once
        assert base() == {"arp_ignore": "1", "arp_filter": "1", "arp_announce": "2"}
        vmac.delete_vmac("vrrp.51")
        assert base() == {"arp_ignore": "1", "arp_filter": "1", "arp_announce": "2"}
        r1.run("sysctl", "-qw", "net.ipv4.conf.eth0.arp_filter=0")
        r1.run("sysctl", "-qw", "net.ipv4.conf.eth0.arp_filter=1")  # back as we set it
        r1.run("sysctl", "-qw", "net.ipv4.conf.eth0.arp_announce=1")  # the operator's now
        vmac.delete_vmac("vrrp.52")
        assert base() == {"arp_ignore": "2", "arp_filter": "0", "arp_announce": "1"}
        # an IPv6 VMAC changes none of them (keepalived 2.2.7 neither)
        vmac.create_vmac("eth0", 53, family=6)
        assert base() == {"arp_ignore": "2", "arp_filter": "0", "arp_announce": "1"}
        vmac.delete_vmac("vrrp.53")


def test_rp_filter_cleared_without_loosening_any_interface(lab: Lab) -> None:
    """all.rp_filter=2 before: all goes to 0 once default and every interface filter at
    least 2, the VMAC at 0; the last IPv4 VMAC puts back each value still as set."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    r1.run("sysctl", "-qw", "net.ipv4.conf.all.rp_filter=2")
    r1.run("sysctl", "-qw", "net.ipv4.conf.lo.rp_filter=1")
    r1.run("sysctl", "-qw", "net.ipv4.conf.default.rp_filter=1")
    devs = ("all", "default", "eth0", "lo")

    def rp() -> dict[str, str]:
        return {d: sysctl(r1, f"net/ipv4/conf/{d}/rp_filter") for d in devs}

    before = rp()
    assert before == {"all": "2", "default": "1", "eth0": "0", "lo": "1"}
    with netns.enter(r1.netns):
        vmac.create_vmac("eth0", 51)
        assert rp() == {"all": "0", "default": "2", "eth0": "2", "lo": "2"}
        assert sysctl(r1, "net/ipv4/conf/vrrp.51/rp_filter") == "0"
        vmac.create_vmac("eth0", 52)
        vmac.delete_vmac("vrrp.51")
        assert rp()["all"] == "0", "vrrp.52 still needs it"
        vmac.delete_vmac("vrrp.52")
    assert rp() == before


def test_ipv6_vmac_gets_base_link_local_deprecated(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["2001:db8::1/64"]])
    with netns.enter(r1.netns):
        base_ll = interfaces.primary_address("eth0", 6)
        name = vmac.create_vmac("eth0", 52, family=6)
        assert name == "vrrp.52"  # keepalived 2.2.7 uses vrrp.<VRID> for IPv6 too
        assert interfaces.mac_address(name) == "00:00:5e:00:02:34"
        assert interfaces.primary_address(name, 6) == base_ll
    addr = r1.run("ip", "-6", "-o", "addr", "show", "dev", "vrrp.52")
    assert f"inet6 {base_ll}/64 scope link nodad deprecated" in addr
    assert len(addr.splitlines()) == 1, "no address generated from the shared MAC"
    assert sysctl(r1, "net/ipv6/conf/vrrp.52/addr_gen_mode") == "1"
    assert sysctl(r1, "net/ipv6/conf/vrrp.52/disable_ipv6") == "0"


def test_custom_name_and_errors(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    with netns.enter(r1.netns):
        assert vmac.create_vmac("eth0", 7, name="vrrp.eth0.7") == "vrrp.eth0.7"
        assert interfaces.mac_address("vrrp.eth0.7") == "00:00:5e:00:01:07"
        with pytest.raises(vmac.VmacError, match="not a macvlan"):
            vmac.create_vmac("eth0", 8, name="lo")
        with pytest.raises(vmac.VmacError, match="nosuch0"):
            vmac.create_vmac("nosuch0", 9)
        with pytest.raises(vmac.VmacError, match="15 characters"):
            vmac.create_vmac("eth0", 10, name="a-very-long-vmac-name")
        vmac.delete_vmac("vrrp.eth0.7")


def test_client_reaches_vip_through_the_virtual_mac(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    client = lab.add_host("c1", [["192.0.2.50/24"]])
    client.run("sysctl", "-qw", "net.ipv4.conf.eth0.arp_accept=1")
    with netns.enter(r1.netns), AddressManager() as mgr:
        name = vmac.create_vmac("eth0", 51)
        mgr.add(VipSpec("192.0.2.100/24", name))
        gratuitous.send_garp(name, "192.0.2.100")
        gratuitous.close_all()
    assert wait_for(lambda: "00:00:5e:00:01:33" in client.run(
        "ip", "neigh", "show", "192.0.2.100"), 5)
    client.run("ping", "-c", "1", "-W", "2", "192.0.2.100")
    # a fresh ARP resolution is answered by the VMAC, not by eth0 (arp_ignore on the base)
    client.run("ip", "neigh", "flush", "dev", "eth0")
    client.run("ping", "-c", "1", "-W", "2", "192.0.2.100")
    assert "00:00:5e:00:01:33" in client.run("ip", "neigh", "show", "192.0.2.100")
    assert vmac.advert_interface("eth0", name, vmac_xmit_base=False) == name
    assert vmac.advert_interface("eth0", name, vmac_xmit_base=True) == "eth0"


def test_adverts_through_the_vmac_both_ways(lab: Lab, tmp_path: Path) -> None:
    """A VRRP socket on the VMAC sends with the virtual MAC (source address from the base
    interface, as a BACKUP's VMAC has no address yet) and hears the peer's adverts."""
    r1 = lab.add_host("r1", [["192.0.2.1/24", "2001:db8::1/64"]])
    r2 = lab.add_host("r2", [["192.0.2.2/24", "2001:db8::2/64"]])
    loop = asyncio.new_event_loop()
    at_r1: list[ReceivedPacket] = []
    at_r2: list[ReceivedPacket] = []
    pcap = tmp_path / "vmac.pcap"
    dump = r2.popen("tcpdump", "-i", "eth0", "-n", "-U", "--immediate-mode", "-Z", "root",
                    "-w", str(pcap), "ip proto 112 or ip6 proto 112",
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert dump.stderr is not None
    dump.stderr.readline()
    with netns.enter(r1.netns):
        v4 = vmac.create_vmac("eth0", 51)
        v6 = vmac.create_vmac("eth0", 52, family=6)
        src4 = interfaces.primary_address("eth0", 4)
        s4 = VrrpSocket.open(v4, 4, multicast_group=VRRP_MCAST_GROUP4, src=src4,
                             on_packet=at_r1.append, loop=loop)
        s6 = VrrpSocket.open(v6, 6, multicast_group=VRRP_MCAST_GROUP6, src=None,
                             on_packet=at_r1.append, loop=loop)
        ll1 = interfaces.primary_address("eth0", 6)
    with netns.enter(r2.netns):
        p4 = VrrpSocket.open("eth0", 4, multicast_group=VRRP_MCAST_GROUP4, src=None,
                             on_packet=at_r2.append, loop=loop)
        p6 = VrrpSocket.open("eth0", 6, multicast_group=VRRP_MCAST_GROUP6, src=None,
                             on_packet=at_r2.append, loop=loop)
    try:
        s4.send(b"\x21\x33\x64\x00" + bytes(12), VRRP_MCAST_GROUP4)
        s6.send(b"\x31\x34\x64\x00" + bytes(4), VRRP_MCAST_GROUP6)
        p4.send(b"\x21\x33\x32\x00" + bytes(12), VRRP_MCAST_GROUP4)
        p6.send(b"\x31\x34\x32\x00" + bytes(4), VRRP_MCAST_GROUP6)

        async def both() -> bool:
            for _ in range(500):
                if len(at_r1) >= 2 and len(at_r2) >= 2:
                    return True
                await asyncio.sleep(0.01)
            return False

        assert loop.run_until_complete(both()), (at_r1, at_r2)
        assert {(p.family, p.src) for p in at_r2} == {(4, "192.0.2.1"), (6, ll1)}
        assert {p.family for p in at_r1} == {4, 6}
        time.sleep(0.2)
        dump.terminate()
        dump.wait(10)
        macs = {(p[Ether].src, p[Ether].dst) for p in rdpcap(str(pcap))}
        assert ("00:00:5e:00:01:33", "01:00:5e:00:00:12") in macs
        assert ("00:00:5e:00:02:34", "33:33:00:00:00:12") in macs
    finally:
        for s in (s4, s6, p4, p6):
            s.close()
        loop.close()
