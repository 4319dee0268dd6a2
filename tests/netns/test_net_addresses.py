"""AddressManager in a namespace: VIPs (label/brd/scope/nodad/lifetimes), idempotence,
batches, virtual routes and rules; ``ip`` is the oracle."""

from __future__ import annotations

import time

import pytest

from pykeepalived.daemon.instance import vip_spec
from pykeepalived.demo.lab import Lab
from pykeepalived.net import netns
from pykeepalived.net.addresses import AddressError, AddressManager, VipSpec
from tests.unit.net.config_lines import routes as parse_routes
from tests.unit.net.config_lines import rules as parse_rules
from tests.unit.net.config_lines import vips

pytestmark = pytest.mark.netns


def addr_lines(host: object, dev: str = "eth0") -> list[str]:
    out: str = host.run("ip", "-o", "addr", "show", "dev", dev)  # type: ignore[attr-defined]
    return out.splitlines()


def line_for(lines: list[str], address: str) -> str:
    found = [line for line in lines if f" {address} " in line]
    assert len(found) == 1, lines
    return found[0]


def test_vip_with_label_brd_scope_visible_in_ip_addr(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    specs = [vip_spec(v, "eth0") for v in vips(
        "192.0.2.100/24 brd 192.0.2.255 label eth0:vip scope global",
        "192.0.2.101",
        "198.51.100.7/24 brd + scope link",
        "192.0.2.102/32 scope host")]
    with netns.enter(r1.netns), AddressManager() as mgr:
        mgr.add_many(specs)
        assert all(mgr.present(s) for s in specs)
        lines = addr_lines(r1)
        # the kernel makes it secondary (same subnet as 192.0.2.1/24): as with `ip addr add`
        assert "brd 192.0.2.255 scope global secondary eth0:vip" in line_for(
            lines, "192.0.2.100/24")
        assert "scope global eth0" in line_for(lines, "192.0.2.101/32")
        brd_line = line_for(lines, "198.51.100.7/24")
        assert "brd 198.51.100.255 scope link" in brd_line
        assert "scope host" in line_for(lines, "192.0.2.102/32")
        # idempotent both ways
        mgr.add_many(specs)
        mgr.remove(specs[0])
        mgr.remove(specs[0])
        assert not mgr.present(specs[0])
        assert "192.0.2.100" not in " ".join(addr_lines(r1))
        assert mgr.present(specs[1])
        mgr.remove_many(specs)
        assert r1.addresses("eth0") == {"192.0.2.1"} | {
            a for a in r1.addresses("eth0") if a.startswith("fe80:")}


def test_ipv6_vips_nodad_and_deprecated_host_route(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["2001:db8::1/64"]])
    with netns.enter(r1.netns), AddressManager() as mgr:
        prefix = VipSpec("2001:db8::100/64", "eth0")
        host = VipSpec("2001:db8::101/128", "eth0")  # keepalived: /128 is deprecated
        forever = VipSpec("2001:db8::102/128", "eth0", preferred_lft=0xFFFFFFFF)
        mgr.add_many([prefix, host, forever])
        lines = addr_lines(r1)
        assert "nodad" in line_for(lines, "2001:db8::100/64")
        assert "tentative" not in line_for(lines, "2001:db8::100/64")
        assert "deprecated" in line_for(lines, "2001:db8::101/128")
        assert "deprecated" not in line_for(lines, "2001:db8::102/128")
        assert "deprecated" not in line_for(lines, "2001:db8::100/64")
        mgr.remove_many([prefix, host, forever])
        assert not any(mgr.present(s) for s in (prefix, host, forever))


def test_errors_are_reported_after_trying_all(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    with netns.enter(r1.netns), AddressManager() as mgr:
        good = VipSpec("192.0.2.100/24", "eth0")
        bad = VipSpec("192.0.2.101/24", "nosuch0")
        with pytest.raises(AddressError) as info:
            mgr.add_many([bad, good])
        assert [f[0] for f in info.value.failures] == [bad]
        assert mgr.present(good), "the good VIP is added although another failed"
        mgr.remove_many([bad, good])  # removing from a missing interface is not an error
        assert not mgr.present(good)


def test_thousand_vips_batch(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24", "2001:db8::1/64"]])
    specs = [VipSpec(f"198.51.100.{i % 250 + 1}/32", "eth0") for i in range(250)]
    specs += [VipSpec(f"203.0.113.{i % 250 + 1}/32", "eth0") for i in range(250)]
    specs += [VipSpec(f"2001:db8::1:{i:x}/64", "eth0") for i in range(500)]
    with netns.enter(r1.netns), AddressManager() as mgr:
        t0 = time.perf_counter()
        mgr.add_many(specs)
        added = time.perf_counter() - t0
        assert len(r1.addresses("eth0")) >= 1000
        t0 = time.perf_counter()
        mgr.remove_many(specs)
        removed = time.perf_counter() - t0
        print(f"\n1000 VIPs: add_many {added * 1000:.1f} ms, remove_many {removed * 1000:.1f} ms")
        assert not any(a.startswith(("198.51.100.", "203.0.113.", "2001:db8::1:"))
                       for a in r1.addresses("eth0"))


def test_virtual_routes(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24", "2001:db8::1/64"]])
    r1.run("ip", "addr", "add", "198.51.100.1/24", "dev", "eth0")
    routes = parse_routes(
        "src 192.0.2.1 to 203.0.113.0/24 via 192.0.2.254 dev eth0 no_track",
        "blackhole 203.0.113.128/25",
        "198.51.100.128/25 dev eth0 scope link table 100 metric 7",
        "default via 192.0.2.254 table 101 no_track",
        "2001:db8:5::/48 via 2001:db8::fe dev eth0 no_track",
        "203.0.113.64/26 via 192.0.2.253 or 198.51.100.253 dev eth0 no_track",
        "203.0.113.192/26 via 192.0.2.254 dev eth0 mtu 1400 no_track")
    with netns.enter(r1.netns), AddressManager() as mgr:
        for route in routes:
            mgr.add_route(route)
            mgr.add_route(route)  # idempotent
        main = r1.run("ip", "route", "show")
        assert "203.0.113.0/24 via 192.0.2.254 dev eth0 src 192.0.2.1" in main
        assert "blackhole 203.0.113.128/25" in main
        multipath = r1.run("ip", "route", "show", "203.0.113.64/26")
        assert "nexthop via 192.0.2.253" in multipath
        assert "nexthop via 198.51.100.253" in multipath
        t100 = r1.run("ip", "route", "show", "table", "100")
        # tracked (dev given, no no_track): keepalived's protocol, RTPROT_KEEPALIVED (18)
        assert "198.51.100.128/25 dev eth0 proto 18 scope link metric 7" in t100 or \
            "198.51.100.128/25 dev eth0 proto keepalived scope link metric 7" in t100, t100
        assert "mtu 1400" in r1.run("ip", "route", "show", "203.0.113.192/26")
        assert "default via 192.0.2.254 dev eth0" in r1.run("ip", "route", "show", "table", "101")
        assert "2001:db8:5::/48 via 2001:db8::fe dev eth0" in r1.run("ip", "-6", "route")
        for route in routes:
            mgr.remove_route(route)
            mgr.remove_route(route)
        assert "203.0.113" not in r1.run("ip", "route", "show")
        assert r1.run("ip", "route", "show", "table", "100").strip() == ""
        assert "2001:db8:5::" not in r1.run("ip", "-6", "route")


def test_virtual_rules(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24", "2001:db8::1/64"]])
    rules = parse_rules(
        "from 192.0.2.0/24 table 100 priority 100",
        "to 198.51.100.7 table 101 priority 101",
        "from 2001:db8::/64 table 102 priority 102",
        "from all fwmark 0x10/0xff iif eth0 table 103 priority 103",
        "from 203.0.113.0/24 priority 104 prohibit")
    with netns.enter(r1.netns), AddressManager() as mgr:
        for rule in rules:
            mgr.add_rule(rule)
            mgr.add_rule(rule)
        v4 = r1.run("ip", "rule")
        assert "100:\tfrom 192.0.2.0/24 lookup 100" in v4
        assert "101:\tfrom all to 198.51.100.7 lookup 101" in v4
        assert "103:\tfrom all fwmark 0x10/0xff iif eth0 lookup 103" in v4
        assert "104:\tfrom 203.0.113.0/24 prohibit" in v4
        assert v4.count("lookup 100") == 1, "adding twice must not duplicate"
        assert "102:\tfrom 2001:db8::/64 lookup 102" in r1.run("ip", "-6", "rule")
        for rule in rules:
            mgr.remove_rule(rule)
            mgr.remove_rule(rule)
        assert all(f"{p}:" not in r1.run("ip", "rule") for p in (100, 101, 103, 104))
        assert "102:" not in r1.run("ip", "-6", "rule")
