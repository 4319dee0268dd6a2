"""The nftables transaction as text (it is fed to nft for real in tests/netns/test_lb_*.py)."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from pykeepalived.lb import nft_script
from pykeepalived.lb.errors import LbError
from pykeepalived.lb.model import Destination, Service, Tunnel


def rs(last: int, weight: int = 1, method: str = "NAT", port: int = 80) -> Destination:
    return Destination(address=ip_address(f"198.51.100.{last}"), port=port, weight=weight,
                       method=method)


WEB = Service(protocol="TCP", address=ip_address("203.0.113.10"), port=80, scheduler="wrr",
              persistence_timeout=300, persistence_granularity="255.255.255.0",
              destinations=(rs(11), rs(12, 2, port=8080), rs(13, 0)))
DNS6 = Service(protocol="UDP", address=ip_address("2001:db8::53"), port=53, family=6,
               scheduler="sh", flags=("sh-port",),
               destinations=(Destination(ip_address("2001:db8::11"), 53, weight=1),
                             Destination(ip_address("2001:db8::12"), 53, weight=2,
                                         method="DR")))
# the real servers' chains of WEB, named after them
RS11, RS12, RS13 = "s0-198.51.100.11-80", "s0-198.51.100.12-8080", "s0-198.51.100.13-80"
FWM = Service(protocol="TCP", address=None, port=0, fwmark=7, scheduler="fo",
              destinations=(rs(21, port=0), rs(22, 3, port=0)))


def chain(script: str, name: str) -> list[str]:
    """The rule lines of chain ``name`` in the first table that has it."""
    lines = script.splitlines()
    start = lines.index(f"    chain {name} {{")
    end = lines.index("    }", start)
    return [line.strip() for line in lines[start + 1:end]]


def test_transaction_replaces_both_tables_first() -> None:
    text = nft_script.script(nft_script.layout([WEB]))
    assert text.splitlines()[:4] == [
        "add table inet pykeepalived", "delete table inet pykeepalived",
        "add table netdev pykeepalived", "delete table netdev pykeepalived"]
    assert "table netdev pykeepalived {" not in text  # nothing is DR
    assert "postrouting" not in text  # no masquerade unless asked


def test_nat_service_layout() -> None:
    text = nft_script.script(nft_script.layout([WEB]))
    assert chain(text, "dispatch") == [
        "ip daddr . meta l4proto . th dport vmap { 203.0.113.10 . tcp . 80 : jump s0 }"]
    assert chain(text, "s0") == [
        'counter comment "pk-svc TCP 203.0.113.10 80 - 4 wrr - 300 24"',
        f"ip saddr & 255.255.255.0 @{RS11}p goto {RS11}",
        f"ip saddr & 255.255.255.0 @{RS12}p goto {RS12}",
        f"ip saddr & 255.255.255.0 @{RS13}p goto {RS13}",  # weight 0 keeps its clients
        f"numgen inc mod 3 vmap {{ 0 : goto {RS12}, 1 : goto {RS11}, 2 : goto {RS12} }}"]
    assert chain(text, RS12) == [
        f"update @{RS12}p {{ ip saddr & 255.255.255.0 }}",
        "counter meta l4proto tcp dnat ip to 198.51.100.12:8080 "
        'comment "pk-rs 198.51.100.12 8080 2 NAT"']
    assert (f"set {RS13}p {{ type ipv4_addr; flags dynamic,timeout; timeout 300s; }}"
            in text)
    assert chain(text, "forward")[1:] == [
        "ct direction original ct status dnat meta l4proto tcp ct original ip daddr "
        "203.0.113.10 ct original proto-dst 80 jump s0r"]
    assert chain(text, "s0r")[1] == ("ip daddr 198.51.100.12 th dport 8080 "
                                     f"update @{RS12}p {{ ip saddr & 255.255.255.0 }}")


def test_fwmark_failover_and_masquerade() -> None:
    text = nft_script.script(nft_script.layout([FWM]), masquerade=True)
    assert chain(text, "dispatch") == ["meta nfproto ipv4 meta mark vmap { 7 : jump s0 }"]
    assert chain(text, "s0")[1:] == ["goto s0-198.51.100.22-0"]
    assert chain(text, "s0-198.51.100.22-0") == [
        'counter dnat ip to 198.51.100.22 comment "pk-rs 198.51.100.22 0 3 NAT"']
    assert chain(text, "postrouting")[1:] == [
        "ct status dnat meta nfproto ipv4 meta mark { 7 } masquerade"]


def test_mixed_nat_and_dr_service() -> None:
    entries = nft_script.layout([DNS6])
    text = nft_script.script(entries, devices={ip_address("2001:db8::12"): "eth1"},
                             ingress=["eth0"])
    inet, netdev = text.split("table netdev pykeepalived {")
    # NAT part: only the NAT server, in the inet table
    assert chain(inet, "s0")[1:] == ["goto s0-2001_db8__11-53"]
    assert chain(inet, "s0-2001_db8__11-53")[0].endswith('dnat ip6 to [2001:db8::11]:53 comment '
                                           '"pk-rs 2001:db8::11 53 1 NAT"')
    # DR part at ingress: every server holds slots; NAT slots go on to the inet table
    assert chain(netdev, "s0")[1:] == [
        "jhash ip6 saddr . th sport mod 3 seed 0x0 vmap "
        "{ 0 : accept, 1-2 : goto s0-2001_db8__12-53 }"]
    assert chain(netdev, "s0-2001_db8__12-53") == [
        'counter fwd ip6 to 2001:db8::12 device "eth1" comment '
        '"pk-rs 2001:db8::12 53 2 DR"']
    assert 'type filter hook ingress device "eth0" priority -1;' in chain(netdev, "in0")[0]
    assert 'type filter hook ingress device "eth1" priority -1;' in chain(netdev, "in1")[0]


def test_tun_and_foreign_family_servers_are_left_out() -> None:
    service = Service(protocol="TCP", address=ip_address("203.0.113.10"), port=80,
                      scheduler="rr",
                      destinations=(Destination(ip_address("192.0.2.9"), 80, method="TUN",
                                                tunnel=Tunnel()),
                                    Destination(ip_address("2001:db8::9"), 80)))
    text = nft_script.script(nft_script.layout([service]))
    assert chain(text, "s0") == ['counter comment "pk-svc TCP 203.0.113.10 80 - 4 rr - - -"']
    assert "dnat" not in text


def test_comments_read_back() -> None:
    for service in (WEB, DNS6, FWM):
        (entry,) = nft_script.layout([service])
        back = nft_script.parse_service_comment(nft_script.service_comment(entry))
        assert back.key() == service.key()
        assert back.persistence_timeout == service.persistence_timeout
    web_back = nft_script.parse_service_comment(
        nft_script.service_comment(nft_script.layout([WEB])[0]))
    assert web_back.persistence_granularity == "255.255.255.0"
    assert nft_script.parse_dest_comment(nft_script.dest_comment(rs(12, 2, port=8080))) == \
        rs(12, 2, port=8080)


def test_carried_persistence_entries() -> None:
    entries = nft_script.layout([WEB])
    key = (WEB.key(), (ip_address("198.51.100.12"), 8080))
    text = nft_script.script(entries, carried={key: [("192.0.2.0", 120), ("192.0.3.0", 900)],
                                               (WEB.key(), (ip_address("198.51.100.99"), 80)):
                                               [("192.0.4.0", 50)]})
    assert text.endswith(f"add element inet pykeepalived {RS12}p {{ 192.0.2.0 timeout 300s "
                         "expires 120s, 192.0.3.0 timeout 300s expires 300s }\n")
    assert "192.0.4.0" not in text  # that real server is gone


def test_errors_name_the_service() -> None:
    with pytest.raises(LbError, match="listed twice"):
        nft_script.layout([WEB, WEB])
    with pytest.raises(LbError, match="a real server is listed twice"):
        nft_script.layout([Service(protocol="TCP", address=ip_address("203.0.113.10"),
                                   port=80, destinations=(rs(1), rs(1, 3)))])
    with pytest.raises(LbError, match=r"needs an address of its family \(IPv4\)"):
        nft_script.layout([Service(protocol="TCP", address=ip_address("2001:db8::1"),
                                   port=80)])
    with pytest.raises(LbError, match="unknown protocol 'ICMP'"):
        nft_script.layout([Service(protocol="ICMP", address=ip_address("203.0.113.10"),
                                   port=0)])
