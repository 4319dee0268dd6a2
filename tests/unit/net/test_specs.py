"""virtual_ipaddress / virtual_routes / virtual_rules lines, read once by the configuration
parser, in the kernel's terms (VipSpec, pyroute2's route and rule arguments)."""

from __future__ import annotations

import socket

from pykeepalived.daemon.instance import vip_spec
from pykeepalived.net.addresses import VipSpec
from pykeepalived.net.routes import (
    RTNH_F_ONLINK,
    describe,
    route_args,
    route_unsupported,
    rule_args,
    rule_unsupported,
    table_id,
)
from tests.unit.net.config_lines import routes, rules, vips


def test_vip_defaults_to_host_prefix_and_the_instance_device() -> None:
    spec = vip_spec(vips("192.0.2.7")[0], "eth0")
    assert spec == VipSpec("192.0.2.7/32", "eth0")
    assert (spec.ip, spec.family) == ("192.0.2.7", 4)
    assert vip_spec(vips("2001:db8::7")[0], "eth1").address == "2001:db8::7/128"


def test_vip_options_reach_the_address() -> None:
    spec = vip_spec(vips("192.0.2.7/24 brd 192.0.2.255 dev eth1 scope link label eth1:7 "
                         "home noprefixroute preferred_lft forever")[0], "eth0")
    assert spec == VipSpec("192.0.2.7/24", "eth1", brd="192.0.2.255", scope="link",
                           label="eth1:7", home=True, noprefixroute=True,
                           preferred_lft=0xFFFFFFFF)
    six = vip_spec(vips("2001:db8::7/64 -nodad autojoin mngtmpaddr")[0], "eth0")
    assert (six.nodad, six.autojoin, six.mngtmpaddr) == (False, True, True)
    assert vip_spec(vips("2001:db8::8/64")[0], "eth0").nodad  # keepalived adds with NODAD


def test_route_args_from_the_man_page() -> None:
    src_via, no_track, hole, table = routes(
        "src 192.0.2.1 to 203.0.113.0/24 via 192.0.2.254 scope link table 7 metric 9",
        "198.51.100.0/24 dev lo no_track",
        "blackhole 198.51.100.128/25",
        "0.0.0.0/0 via 192.0.2.254 table main")
    assert route_args(src_via) == {
        "family": socket.AF_INET, "type": "unicast", "dst": "203.0.113.0/24",
        "gateway": "192.0.2.254", "prefsrc": "192.0.2.1", "scope": 253, "table": 7,
        "priority": 9, "proto": 18}  # tracked: keepalived's RTPROT_KEEPALIVED
    assert route_args(no_track)["oif"] == socket.if_nametoindex("lo")
    assert route_args(no_track)["proto"] == 3  # not tracked: boot, as ip route add
    assert (route_args(hole)["type"], route_args(hole)["dst"]) == ("blackhole",
                                                                 "198.51.100.128/25")
    assert (route_args(table)["dst"], route_args(table)["table"]) == ("0.0.0.0/0", 254)
    assert describe(src_via) == "203.0.113.0/24 via 192.0.2.254 table 7 metric 9"


def test_multipath_metrics_and_onlink() -> None:
    multi, hops, metrics = routes(
        "203.0.113.0/24 via 192.0.2.1 or 192.0.2.2 no_track",
        "203.0.113.0/24 no_track nexthop via 192.0.2.1 weight 2 nexthop via 192.0.2.2 onlink",
        "203.0.113.0/24 via 192.0.2.1 mtu 1400 advmss lock 1360 onlink no_track")
    assert route_args(multi)["multipath"] == [{"gateway": "192.0.2.1"},
                                              {"gateway": "192.0.2.2"}]
    assert "gateway" not in route_args(multi)
    assert route_args(hops)["multipath"] == [{"gateway": "192.0.2.1", "hops": 1},
                                             {"gateway": "192.0.2.2", "flags": RTNH_F_ONLINK}]
    args = route_args(metrics)
    assert args["metrics"] == {"mtu": 1400, "advmss": 1360}
    assert args["flags"] == RTNH_F_ONLINK
    assert route_unsupported(metrics) == ["advmss_lock"]  # said, not dropped silently


def test_rule_args() -> None:
    plain, six, marked, prohibit = rules(
        "from 192.0.2.0/24 table 1 preference 10",
        "to 2001:db8::/32 table 2 no_track priority 20",
        "from all fwmark 0x10/0xff iif lo tos 0x10 goto 30 priority 5",
        "from 192.0.2.0/24 priority 104 prohibit")
    assert rule_args(plain) == {"family": socket.AF_INET, "src": "192.0.2.0", "src_len": 24,
                                "table": 1, "priority": 10}
    assert (rule_args(six)["family"], rule_args(six)["dst_len"]) == (socket.AF_INET6, 32)
    args = rule_args(marked)
    assert (args["fwmark"], args["fwmask"], args["iifname"], args["tos"], args["action"],
            args["goto"]) == (16, 255, "lo", 16, "goto", 30)
    assert rule_args(prohibit)["action"] == "prohibit"
    assert rule_unsupported(plain) == []
    assert describe(plain) == "from 192.0.2.0/24 priority 10 table 1"


def test_table_names() -> None:
    assert (table_id("main"), table_id("local"), table_id("default"), table_id("42")) == (
        254, 255, 253, 42)
