"""NftFirewall with real traffic: a client's pings to a VIP are dropped while the VIP is in
the table (no_accept), and flow again once it is removed; ND keeps working."""

from __future__ import annotations

import pytest

from pykeepalived.demo.lab import Host, Lab
from pykeepalived.net import netns
from pykeepalived.net.firewall import FirewallError, NftFirewall

pytestmark = pytest.mark.netns


def pings(host: Host, address: str) -> bool:
    out = host.run("ping", "-c", "1", "-W", "1", address, check=False)
    return " 0% packet loss" in out


@pytest.mark.parametrize("use_library", [True, False], ids=["libnftables", "nft-command"])
def test_no_accept_drops_vip_traffic_until_removed(lab: Lab, use_library: bool) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24", "192.0.2.100/24", "2001:db8::1/64",
                              "2001:db8::100/64"]])
    client = lab.add_host("c1", [["192.0.2.50/24", "2001:db8::50/64"]])
    assert pings(client, "192.0.2.100") and pings(client, "2001:db8::100")
    with netns.enter(r1.netns):
        fw = NftFirewall(use_library=use_library)
        assert fw.backend == ("library" if use_library else "command")
        fw.ensure()
        fw.add_vips(["192.0.2.100/24", "2001:db8::100"])
    try:
        client.run("ip", "neigh", "flush", "all")
        assert not pings(client, "192.0.2.100")
        assert not pings(client, "2001:db8::100")
        # the router's own addresses are untouched, and ND for the VIP still works
        assert pings(client, "192.0.2.1") and pings(client, "2001:db8::1")
        assert "lladdr" in client.run("ip", "-6", "neigh", "show", "2001:db8::100")
        # nor can the router itself send from the VIP
        assert "100% packet loss" in r1.run("ping", "-c", "1", "-W", "1", "-I", "192.0.2.100",
                                            "192.0.2.50", check=False)
        ruleset = r1.run("nft", "list", "table", "ip", "keepalived")
        assert "ip daddr @vips drop" in ruleset and "192.0.2.100" in ruleset
        with netns.enter(r1.netns):
            fw.remove_vips(["192.0.2.100", "2001:db8::100/64"])
            fw.remove_vips(["192.0.2.100"])  # not there any more: ignored
        assert pings(client, "192.0.2.100") and pings(client, "2001:db8::100")
    finally:
        with netns.enter(r1.netns):
            fw.close()
    assert "keepalived" not in r1.run("nft", "list", "tables")


def test_link_local_vip_dropped_only_on_its_interface(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["2001:db8::1/64"]])
    client = lab.add_host("c1", [["2001:db8::50/64"]])
    r1.run("ip", "addr", "add", "fe80::100/64", "dev", "eth0", "nodad")
    assert pings(client, "fe80::100%eth0")
    with netns.enter(r1.netns):
        fw = NftFirewall()
        fw.add_vips(["fe80::100%eth0"])
    try:
        assert not pings(client, "fe80::100%eth0")
        with netns.enter(r1.netns):
            fw.remove_vips(["fe80::100%eth0"])
        assert pings(client, "fe80::100%eth0")
    finally:
        with netns.enter(r1.netns):
            fw.close()


def test_stale_table_replaced_and_vmac_map(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    r1.run("nft", "add", "table", "ip", "keepalived")
    r1.run("nft", "add", "chain", "ip", "keepalived", "leftover")
    r1.run("ip", "link", "add", "vrrp.51", "link", "eth0", "type", "macvlan", "mode", "private")
    with netns.enter(r1.netns):
        fw = NftFirewall()
        fw.ensure()
        fw.add_vmac("vrrp.51", "eth0")
        ruleset = fw.ruleset()
        assert "leftover" not in ruleset
        assert '"vrrp.51" : "eth0"' in ruleset
        fw.remove_vmac("vrrp.51")
        assert '"vrrp.51"' not in fw.ruleset()
        with pytest.raises(FirewallError):
            fw.add_vmac("nosuch0", "eth0")
        fw.close()
