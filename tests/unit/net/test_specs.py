"""Parsing virtual_ipaddress / virtual_routes / virtual_rules word lists into specs."""

from __future__ import annotations

import socket

import pytest

from pykeepalived.net.addresses import VipSpec, vip_from_words
from pykeepalived.net.routes import RouteSpec, RuleSpec, route_from_words, rule_from_words


def w(line: str) -> list[str]:
    return line.split()


def test_vip_defaults_to_host_prefix_and_given_dev() -> None:
    spec = vip_from_words(["192.0.2.7"], "eth0")
    assert spec == VipSpec("192.0.2.7/32", "eth0")
    assert (spec.ip, spec.family) == ("192.0.2.7", 4)
    assert vip_from_words(["2001:db8::7"], "eth1").address == "2001:db8::7/128"


def test_vip_all_options() -> None:
    spec = vip_from_words(w("192.0.2.7/24 brd 192.0.2.255 dev eth1 scope link label eth1:7 "
                            "peer 192.0.2.8 home noprefixroute autojoin mngtmpaddr "
                            "preferred_lft forever no_track use_vmac track_group G1"), "eth0")
    assert spec == VipSpec("192.0.2.7/24", "eth1", brd="192.0.2.255", scope="link",
                           label="eth1:7", peer="192.0.2.8", home=True, noprefixroute=True,
                           autojoin=True, mngtmpaddr=True, preferred_lft=0xFFFFFFFF)
    assert not vip_from_words(w("2001:db8::7/64 -nodad"), "eth0").nodad


@pytest.mark.parametrize("words,message", [
    ([], "empty"),
    (["192.0.2.999"], "not an IP"),
    (w("192.0.2.7 colour blue"), "colour"),
    (w("192.0.2.7 brd"), "needs a value"),
    (w("192.0.2.7 scope galaxy"), "galaxy"),
])
def test_vip_errors(words: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        vip_from_words(words, "eth0")


def test_routes_from_the_man_page() -> None:
    r = route_from_words(w("src 192.168.100.1 to 192.168.109.0/24 via 192.168.200.254 dev eth1"))
    assert r == RouteSpec("192.168.109.0/24", via=("192.168.200.254",), dev="eth1",
                          src="192.168.100.1")
    assert route_from_words(w("192.168.111.0/24 dev eth2 no_track")).dev == "eth2"
    multi = route_from_words(w("192.168.113.0/24 via 192.168.200.254 or 192.168.100.254 "
                               "dev eth1"))
    assert multi.via == ("192.168.200.254", "192.168.100.254")
    hole = route_from_words(w("blackhole 192.168.114.0/24"))
    assert (hole.type, hole.dst) == ("blackhole", "192.168.114.0/24")
    default = route_from_words(w("0.0.0.0/0 gw 192.168.0.1 table 100"))
    assert (default.dst, default.table, default.via) == ("0.0.0.0/0", 100, ("192.168.0.1",))
    v6 = route_from_words(w("default via 2001:db8::1 table main metric 5 proto static onlink"))
    assert (v6.family, v6.table, v6.metric, v6.protocol, v6.onlink) == (6, 254, 5, 4, True)


def test_route_pyroute2_args() -> None:
    args = route_from_words(w("203.0.113.0/24 via 192.0.2.254 scope link table 7 metric 9"
                              " src 192.0.2.1")).pyroute2_args()
    assert args == {"family": socket.AF_INET, "type": "unicast", "dst": "203.0.113.0/24",
                    "gateway": "192.0.2.254", "prefsrc": "192.0.2.1", "scope": 253,
                    "table": 7, "priority": 9, "proto": 3}
    assert route_from_words(w("default via 2001:db8::1")).pyroute2_args()["dst"] == "::/0"
    multi = route_from_words(w("203.0.113.0/24 via 192.0.2.1 or 192.0.2.2")).pyroute2_args()
    assert multi["multipath"] == [{"gateway": "192.0.2.1"}, {"gateway": "192.0.2.2"}]


@pytest.mark.parametrize("line", ["via 192.0.2.1", "192.0.2.0/24 frobnicate",
                                  "192.0.2.0/24 table nowhere", "192.0.2.0/24 via"])
def test_route_errors(line: str) -> None:
    with pytest.raises(ValueError):
        route_from_words(w(line))


def test_rules() -> None:
    assert rule_from_words(w("from 192.168.2.0/24 table 1")) == RuleSpec(
        from_="192.168.2.0/24", table=1)
    r = rule_from_words(w("to 2001:db8::/32 table 2 no_track priority 20"))
    assert (r.to, r.table, r.priority, r.family) == ("2001:db8::/32", 2, 20, 6)
    r = rule_from_words(w("not from all fwmark 0x10/0xff iif eth0 oif eth1 tos 0x10 goto 30"))
    assert (r.invert, r.fwmark, r.fwmask, r.iif, r.oif, r.tos, r.action, r.goto) == (
        True, 16, 255, "eth0", "eth1", 16, "goto", 30)
    assert rule_from_words(w("from 192.0.2.0/24 prohibit")).action == "prohibit"
    args = rule_from_words(w("from 192.0.2.7 to 198.51.100.0/24 table 5 pref 9")).pyroute2_args()
    assert args == {"family": socket.AF_INET, "src": "192.0.2.7", "src_len": 32,
                    "dst": "198.51.100.0", "dst_len": 24, "table": 5, "priority": 9}
    assert str(rule_from_words(w("from 192.0.2.0/24 table 1"))) == "from 192.0.2.0/24 table 1"


@pytest.mark.parametrize("line", ["from 192.0.2.0/24", "from 192.0.2.0/24 table",
                                  "sideways table 1"])
def test_rule_errors(line: str) -> None:
    with pytest.raises(ValueError):
        rule_from_words(w(line))
