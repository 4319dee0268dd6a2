"""Decode keepalived 2.2.7's own adverts and re-encode them byte for byte.

The bytes in data/keepalived_2.2.7.json were captured on a lab bridge from two Debian
keepalived 2.2.7 nodes (see data/capture_keepalived.py): VRRPv2 with PASS, VRRPv2 with AH,
VRRPv3 over IPv4 and IPv6, including each node's priority-0 advert at shutdown.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from typing import Any

import pytest

from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import SendAdvert, State
from pykeepalived.vrrp.packet import PacketError, decode, decode_ipv4
from pykeepalived.vrrp.router import RouterConfig, VirtualRouter

DATA = json.loads((Path(__file__).parent / "data" / "keepalived_2.2.7.json").read_text())
META: dict[str, Any] = DATA["meta"]
PACKETS: list[dict[str, Any]] = DATA["packets"]
PASSWORDS: dict[str, str] = META["passwords"]


def by_scenario(name: str) -> list[bytes]:
    return [bytes.fromhex(p["ip"]) for p in PACKETS if p["scenario"] == name]


def test_fixture_covers_every_scenario() -> None:
    assert {p["scenario"] for p in PACKETS} == {"v2_pass", "v2_ah", "v3_ipv4", "v3_ipv6"}
    for name in ("v2_pass", "v2_ah", "v3_ipv4", "v3_ipv6"):
        assert len(by_scenario(name)) >= 4


@pytest.mark.parametrize("raw", by_scenario("v2_pass") + by_scenario("v3_ipv4"))
def test_ipv4_decode_and_reencode(raw: bytes) -> None:
    received = decode_ipv4(raw)
    assert received.ttl == 255 and received.tos == 0xC0 and received.ah is None
    assert received.dst == packet.VRRP_MCAST_IPV4
    advert = decode(received.vrrp, received.src, received.dst)
    assert advert.vrid == META["vrid"]
    # node 192.0.2.1 ran priority 150, node 192.0.2.2 priority 100; 0 is each one's goodbye
    expected = {IPv4Address("192.0.2.1"): (150, 0), IPv4Address("192.0.2.2"): (100, 0)}
    assert advert.priority in expected[received.src]
    if advert.version == 2:
        assert advert.auth_type == packet.AUTH_PASS
        assert advert.auth_data == packet.auth_key(PASSWORDS["v2_pass"]) == b"longsecr"
        assert advert.addresses == (IPv4Address("192.0.2.100"), IPv4Address("192.0.2.101"))
    else:
        assert advert.advert_int == 0.5
    assert packet.build_ipv4(advert, received.src, received.dst, received.ident) == raw


@pytest.mark.parametrize("raw", by_scenario("v3_ipv6"))
def test_ipv6_decode_and_reencode(raw: bytes) -> None:
    src, dst = ip_address(raw[8:24]), ip_address(raw[24:40])
    assert raw[7] == 255 and raw[6] == 112  # hop limit, next header
    assert isinstance(src, IPv6Address) and src.is_link_local
    assert dst == packet.VRRP_MCAST_IPV6
    advert = decode(raw[40:], src, dst)
    assert advert.addresses == (IPv6Address("2001:db8::100"),)
    assert packet.encode(advert, src, dst) == raw[40:]


@pytest.mark.parametrize("raw", by_scenario("v2_ah"))
def test_ah_verify_and_rebuild(raw: bytes) -> None:
    received = decode_ipv4(raw)
    assert received.protocol == packet.IPPROTO_AH and received.ah is not None
    packet.verify_ipv4_ah(received, PASSWORDS["v2_ah"])
    with pytest.raises(PacketError):
        packet.verify_ipv4_ah(received, "ahsecreT")
    advert = decode(received.vrrp, received.src, received.dst)
    assert advert.auth_type == packet.AUTH_AH and advert.auth_data == bytes(8)
    rebuilt = packet.build_ipv4_ah(advert, received.src, received.dst, PASSWORDS["v2_ah"],
                                   received.ah.seq, received.ident)
    assert rebuilt == raw


def test_ah_sequence_numbers_as_keepalived_counts() -> None:
    """r1 counts 1, 2, ...; r2, which saw r1's last number, continues from it."""
    seqs = []
    for raw in by_scenario("v2_ah"):
        received = decode_ipv4(raw)
        assert received.ah is not None
        seqs.append((received.src, received.ah.seq))
    r1 = [s for src, s in seqs if src == IPv4Address("192.0.2.1")]
    r2 = [s for src, s in seqs if src == IPv4Address("192.0.2.2")]
    assert r1 == list(range(1, len(r1) + 1))
    assert r2 == list(range(r1[-1] + 1, r1[-1] + 1 + len(r2)))


def test_router_reproduces_the_ah_sequence() -> None:
    """A VirtualRouter in r2's place: fed r1's adverts, it takes over with r1's last + 1."""
    config = RouterConfig("VI_1", 51, 100, 1, auth_type="AH", auth_pass="ahsecret",
                          vips=("192.0.2.100/24",), primary_address=IPv4Address("192.0.2.2"))
    router = VirtualRouter(config)
    now = 0.0
    router.start(now)
    for raw in by_scenario("v2_ah"):
        received = decode_ipv4(raw)
        assert received.ah is not None
        if received.src != IPv4Address("192.0.2.1"):
            break
        packet.verify_ipv4_ah(received, "ahsecret")
        advert = decode(received.vrrp, received.src, received.dst)
        now += 1
        router.receive_advert(advert, received.src, now, ttl=received.ttl,
                              ah_seq=received.ah.seq)
        router.handle_timer(now)
        last = received.ah.seq
    assert router.state is State.BACKUP
    router.handle_timer(now + router.skew_time)  # r1's last advert had priority 0
    assert router.state is State.MASTER
    sends = [a for a in router.actions() if isinstance(a, SendAdvert)]
    assert sends[0].ah_seq == last + 1
    assert router.stats.auth_failure == 0 and router.stats.pri_zero_rcvd == 1
    # and what it sends is what keepalived r2 sent, byte for byte but for the IP id
    first_r2 = next(r for r in by_scenario("v2_ah")
                    if decode_ipv4(r).src == IPv4Address("192.0.2.2"))
    ours = packet.build_ipv4_ah(sends[0].advert, IPv4Address("192.0.2.2"),
                                packet.VRRP_MCAST_IPV4, "ahsecret", sends[0].ah_seq,
                                decode_ipv4(first_r2).ident)
    assert ours == first_r2


def test_replayed_ah_advert_is_dropped() -> None:
    config = RouterConfig("VI_1", 51, 100, 1, auth_type="AH", auth_pass="ahsecret",
                          vips=("192.0.2.100/24",))
    router = VirtualRouter(config)
    router.start(0.0)
    received = decode_ipv4(by_scenario("v2_ah")[2])
    assert received.ah is not None
    advert = decode(received.vrrp, received.src, received.dst)
    router.receive_advert(advert, received.src, 1.0, ah_seq=received.ah.seq)
    timer = router.get_timer()
    router.receive_advert(advert, received.src, 2.0, ah_seq=received.ah.seq)
    assert router.stats.auth_failure == 1 and router.stats.advert_rcvd == 1
    assert router.get_timer() == timer  # the replay did not refresh the down timer


def test_takeover_timing_matches_skew() -> None:
    """In the capture r2 (priority 100) took over one skew time after r1's priority 0."""
    for scenario, skew in (("v2_pass", (256 - 100) / 256), ("v3_ipv4", (256 - 100) * 0.5 / 256)):
        rows = [p for p in PACKETS if p["scenario"] == scenario]
        zero = next(p for p in rows if decode_ipv4(bytes.fromhex(p["ip"])).src == IPv4Address(
            "192.0.2.1") and bytes.fromhex(p["ip"])[22] == 0)
        first = next(p for p in rows if decode_ipv4(bytes.fromhex(p["ip"])).src == IPv4Address(
            "192.0.2.2"))
        gap = first["time"] - zero["time"]
        assert skew - 0.05 < gap < skew + 0.1, (scenario, gap)
