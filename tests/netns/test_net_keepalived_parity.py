"""Side by side with Debian's keepalived 2.2.7: the same VMACs, sysctls, VMAC link-local and
no_accept rules. keepalived runs in one namespace, the net layer in another, and what each
leaves in its kernel is compared."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.vrrp import VRRPv3

from pykeepalived.demo.lab import Host, Lab, wait_for
from pykeepalived.net import interfaces, netns, vmac
from pykeepalived.net.addresses import AddressManager, VipSpec
from pykeepalived.net.firewall import NftFirewall
from pykeepalived.net.vrrp_socket import (
    VRRP_MCAST_GROUP4,
    VRRP_MCAST_GROUP6,
    ReceivedPacket,
    VrrpSocket,
)
from tests.daemons import start_keepalived, write_conf

pytestmark = [pytest.mark.netns, pytest.mark.interop]

CONF = """
global_defs {
    router_id k1
    vrrp_strict
}
vrrp_instance VI_4 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    use_vmac
    virtual_ipaddress {
        192.0.2.100/24
        192.0.2.101
    }
}
vrrp_instance VI_6 {
    state MASTER
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    use_vmac
    virtual_ipaddress {
        2001:db8::100/64
    }
}
"""
# per-interface sysctls that differ for reasons other than VMAC handling
IGNORED = {"stable_secret"}
# where pykeepalived sets more than keepalived 2.2.7, (ours, keepalived's): see
# pykeepalived.net.vmac_sysctl
DIFFERENT = {("ipv4", "eth0"): {"arp_announce": ("2", "0")}}


def conf_dir(host: Host, family: str, dev: str) -> dict[str, str]:
    out = host.run("sh", "-c", f"cd /proc/sys/net/{family}/conf/{dev} && grep -r . . || true")
    values = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        key = key.removeprefix("./")
        if key not in IGNORED:
            values[key] = value
    return values


def chain_rules(ruleset: str, family: str, chain: str) -> list[str]:
    table = ruleset.split(f"table {family} keepalived {{", 1)[1].split("\n}\n", 1)[0]
    body = table.split(f"chain {chain} {{", 1)[1].split("}", 1)[0]
    return [line.strip() for line in body.strip().splitlines()]


def vips(ruleset: str, family: str) -> set[str]:
    table = ruleset.split(f"table {family} keepalived {{", 1)[1].split("\n}\n", 1)[0]
    block = table.split("set vips {", 1)[1].split("}\n", 1)[0]
    found = re.search(r"elements = \{([^}]*)", block)
    return {e.strip() for e in found.group(1).split(",")} if found else set()


def test_vmac_and_no_accept_match_keepalived(lab: Lab, tmp_path: Path) -> None:
    k1 = lab.add_host("k1", [["192.0.2.1/24", "2001:db8::1/64"]])
    p1 = lab.add_host("p1", [["192.0.2.2/24", "2001:db8::2/64"]])
    daemon = start_keepalived(k1, write_conf(tmp_path, "k1", CONF), tmp_path)
    try:
        assert wait_for(lambda: k1.has_address("192.0.2.100", "vrrp.51")
                        and k1.has_address("2001:db8::100", "vrrp.52"), 15), daemon.log()
        with netns.enter(p1.netns), AddressManager() as mgr:
            v4 = vmac.create_vmac("eth0", 51)
            v6 = vmac.create_vmac("eth0", 52, family=6)
            mgr.add_many([VipSpec("192.0.2.100/24", v4), VipSpec("192.0.2.101/32", v4),
                          VipSpec("2001:db8::100/64", v6)])
            fw = NftFirewall()
            fw.add_vips(["192.0.2.100", "192.0.2.101", "2001:db8::100"])
            fw.add_vmac(v4, "eth0", 4)
            fw.add_vmac(v6, "eth0", 6)
        for family in ("ipv4", "ipv6"):
            for dev in ("eth0", "vrrp.51", "vrrp.52"):
                ours, theirs = conf_dir(p1, family, dev), conf_dir(k1, family, dev)
                diff = {k: (ours.get(k), theirs.get(k)) for k in set(ours) | set(theirs)
                        if ours.get(k) != theirs.get(k)}
                assert diff == DIFFERENT.get((family, dev), {}), \
                    f"{family}/{dev}: (ours, keepalived) {diff}"
        for dev in ("vrrp.51", "vrrp.52"):
            ours_link = p1.run("ip", "-d", "-o", "link", "show", dev)
            theirs_link = k1.run("ip", "-d", "-o", "link", "show", dev)
            for word in ("macvlan mode private", "addrgenmode none", "state UP"):
                assert (word in ours_link) == (word in theirs_link), word
            assert (ours_link.split("link/ether ")[1][:17]
                    == theirs_link.split("link/ether ")[1][:17])

        def link_local_flags(host: Host) -> str:
            line = host.run("ip", "-6", "-o", "addr", "show", "dev", "vrrp.52", "scope", "link")
            return line.split("scope link", 1)[1].split("\\")[0].strip()

        assert link_local_flags(p1) == link_local_flags(k1)  # "nodad deprecated"
        ours_rs = p1.run("nft", "list", "ruleset")
        theirs_rs = k1.run("nft", "list", "ruleset")
        for family in ("ip", "ip6"):
            for chain in ("in", "out"):
                assert chain_rules(ours_rs, family, chain) == chain_rules(theirs_rs, family,
                                                                          chain)
            assert vips(ours_rs, family) == vips(theirs_rs, family)
    finally:
        daemon.stop()
        with netns.enter(p1.netns):
            NftFirewall().close()


PLAIN = """
global_defs {
    router_id k1
}
vrrp_instance VI_4 {
    state MASTER
    interface eth0
    virtual_router_id 61
    priority 200
    advert_int 0.1
    version 3
    virtual_ipaddress {
        192.0.2.161/24
    }
}
vrrp_instance VI_6 {
    state MASTER
    interface eth0
    virtual_router_id 62
    priority 200
    advert_int 0.1
    virtual_ipaddress {
        2001:db8::162/64
    }
}
"""


def test_keepalived_adverts_heard_by_vrrp_sockets(lab: Lab, tmp_path: Path) -> None:
    """keepalived's own adverts (its IPv4 header, its IPv6 checksum) pass our sockets."""
    k1 = lab.add_host("k1", [["192.0.2.1/24", "2001:db8::1/64"]])
    p1 = lab.add_host("p1", [["192.0.2.2/24", "2001:db8::2/64"]])
    loop = asyncio.new_event_loop()
    got: list[ReceivedPacket] = []
    with netns.enter(p1.netns):
        s4 = VrrpSocket.open("eth0", 4, multicast_group=VRRP_MCAST_GROUP4, src=None,
                             on_packet=got.append, loop=loop)
        s6 = VrrpSocket.open("eth0", 6, multicast_group=VRRP_MCAST_GROUP6, src=None,
                             on_packet=got.append, loop=loop)
    with netns.enter(k1.netns):
        k1_ll = interfaces.primary_address("eth0", 6)
    daemon = start_keepalived(k1, write_conf(tmp_path, "k1", PLAIN), tmp_path)
    try:
        async def both() -> bool:
            for _ in range(1500):
                if {p.family for p in got} == {4, 6}:
                    return True
                await asyncio.sleep(0.01)
            return False

        assert loop.run_until_complete(both()), daemon.log()
        v4 = next(p for p in got if p.family == 4)
        v6 = next(p for p in got if p.family == 6)
        assert (v4.src, v4.dst, v4.ttl, v4.data[1]) == ("192.0.2.1", "224.0.0.18", 255, 0xC0)
        assert v4.data[20] >> 4 == 3 and v4.data[21] == 61  # VRRPv3, VRID 61
        assert (v6.src, v6.dst, v6.ttl) == (k1_ll, "ff02::12", 255)
        assert v6.data[0] >> 4 == 3 and v6.data[1] == 62
    finally:
        daemon.stop()
        s4.close()
        s6.close()
        loop.close()


BACKUP = """
global_defs {
    router_id k1
}
vrrp_instance VI_4 {
    state BACKUP
    interface eth0
    virtual_router_id 71
    priority 100
    advert_int 0.1
    version 3
    virtual_ipaddress {
        192.0.2.171/24
    }
}
vrrp_instance VI_6 {
    state BACKUP
    interface eth0
    virtual_router_id 72
    priority 100
    advert_int 0.1
    virtual_ipaddress {
        2001:db8::172/64
    }
}
"""


def test_keepalived_backup_accepts_our_adverts(lab: Lab, tmp_path: Path) -> None:
    """Adverts sent through our sockets (built by scapy) keep keepalived a BACKUP: it would
    be MASTER 0.36 s after starting without them."""
    k1 = lab.add_host("k1", [["192.0.2.1/24", "2001:db8::1/64"]])
    p1 = lab.add_host("p1", [["192.0.2.2/24", "2001:db8::2/64"]])
    loop = asyncio.new_event_loop()
    with netns.enter(p1.netns):
        ll = interfaces.primary_address("eth0", 6)
        assert ll is not None
        s4 = VrrpSocket.open("eth0", 4, multicast_group=VRRP_MCAST_GROUP4, src="192.0.2.2",
                             on_packet=lambda p: None, loop=loop)
        s6 = VrrpSocket.open("eth0", 6, multicast_group=VRRP_MCAST_GROUP6, src=None,
                             on_packet=lambda p: None, loop=loop)
    advert4 = bytes(IP(src="192.0.2.2", dst=VRRP_MCAST_GROUP4) / VRRPv3(
        vrid=71, priority=200, adv=10, ipcount=1, addrlist=["192.0.2.171"]))[20:]
    advert6 = bytes(IPv6(src=ll, dst=VRRP_MCAST_GROUP6) / VRRPv3(
        vrid=72, priority=200, adv=10, ipcount=1, addrlist=["2001:db8::172"]))[40:]
    s4.send(advert4, VRRP_MCAST_GROUP4)
    s6.send(advert6, VRRP_MCAST_GROUP6)
    daemon = start_keepalived(k1, write_conf(tmp_path, "k1", BACKUP), tmp_path)
    try:
        for _ in range(30):  # 3 s of adverts every 0.1 s
            s4.send(advert4, VRRP_MCAST_GROUP4)
            s6.send(advert6, VRRP_MCAST_GROUP6)
            time.sleep(0.1)
        log = daemon.log()
        assert "(VI_4) Entering BACKUP STATE" in log and "(VI_6) Entering BACKUP STATE" in log
        assert "Entering MASTER STATE" not in log, log
        assert not k1.has_address("192.0.2.171") and not k1.has_address("2001:db8::172")
        # and without them it takes over: the adverts were what held it back
        assert daemon.wait_log("(VI_4) Entering MASTER STATE", 10), log
    finally:
        daemon.stop()
        s4.close()
        s6.close()
        loop.close()
