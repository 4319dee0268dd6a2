"""Bad packets are dropped, counted, logged at a limited rate, and never change state."""

from __future__ import annotations

import logging
from ipaddress import IPv4Address, IPv6Address
from typing import Any

import pytest

from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import State
from pykeepalived.vrrp.packet import PacketError, decode, decode_ipv4
from pykeepalived.vrrp.router import VirtualRouter
from tests.unit.vrrp.helpers import PEER_HIGH, PEER_LOW, advert, started_backup, started_master

GOOD_PASS = dict(auth_type=packet.AUTH_PASS, auth_data=b"secret")

# (router options, advert options, receive options, counter)
BAD_ADVERTS: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], str]] = [
    ("ttl", {}, {}, {"ttl": 64}, "ip_ttl_err"),
    ("version", {}, {"version": 3}, {}, "version_err"),
    ("vrid", {}, {"vrid": 52}, {}, "vrid_err"),
    ("interval", {}, {"interval": 3}, {}, "advert_interval_err"),
    ("no auth vs PASS", {"auth_type": "PASS", "auth_pass": "secret"}, {}, {},
     "authtype_mismatch"),
    ("PASS vs no auth", {}, GOOD_PASS, {}, "authtype_mismatch"),
    ("wrong password", {"auth_type": "PASS", "auth_pass": "secret"},
     {"auth_type": 1, "auth_data": b"guess"}, {}, "auth_failure"),
    ("invalid auth type", {}, {"auth_type": 7}, {}, "invalid_authtype"),
    ("missing AH header", {"auth_type": "AH", "auth_pass": "k"}, {"auth_type": 2}, {},
     "authtype_mismatch"),
    ("unexpected AH header", {}, {}, {"ah_seq": 5}, "authtype_mismatch"),
    ("family", {}, {"addresses": (IPv6Address("2001:db8::1"),)}, {"src6": True},
     "packet_len_err"),
]


def feed_bad(r: VirtualRouter, adv_kw: dict[str, Any], rx_kw: dict[str, Any],
             now: float) -> None:
    rx = dict(rx_kw)
    source = IPv6Address("fe80::9") if rx.pop("src6", False) else PEER_HIGH
    r.receive_advert(advert(250, **adv_kw), source, now, **rx)


@pytest.mark.parametrize(("name", "router_kw", "adv_kw", "rx_kw", "counter"), BAD_ADVERTS,
                         ids=[b[0] for b in BAD_ADVERTS])
@pytest.mark.parametrize("master", [False, True], ids=["backup", "master"])
def test_bad_advert_dropped(name: str, router_kw: dict[str, Any], adv_kw: dict[str, Any],
                            rx_kw: dict[str, Any], counter: str, master: bool,
                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="pykeepalived.vrrp.router")
    kw = dict(router_kw, garp_master_delay=0)
    r = started_master(0.0, **kw) if master else started_backup(0.0, **kw)
    state, timer = r.state, r.get_timer()
    for i in range(50):
        feed_bad(r, adv_kw, rx_kw, 0.5 + i * 0.01)
    assert r.state is state and r.get_timer() == timer and r.actions() == []
    assert getattr(r.stats, counter) == 50
    assert r.stats.advert_rcvd == 0
    dropped = [rec for rec in caplog.records if "(VI_1)" in rec.getMessage()]
    assert len(dropped) == 1  # one line for fifty packets
    # a minute later the next one is logged again, saying how many were silent
    feed_bad(r, adv_kw, rx_kw, 61.0)
    lines = [rec.getMessage() for rec in caplog.records if "(VI_1)" in rec.getMessage()]
    assert len(lines) == 2 and "49 similar packets" in lines[1]


def good_wire() -> bytes:
    return packet.build_ipv4(advert(250, **GOOD_PASS), PEER_HIGH, packet.VRRP_MCAST_IPV4, 1)


def corrupt(index: int, xor: int) -> bytes:
    raw = bytearray(good_wire())
    raw[index] ^= xor
    return bytes(raw)


@pytest.mark.parametrize(("wire", "reason", "counter"), [
    (good_wire()[:-3], "truncated", "packet_len_err"),
    (good_wire()[:24], "truncated", "packet_len_err"),
    (corrupt(20 + 7, 0x10), "checksum", "chk_err"),
    (corrupt(20 + 14, 0x01), "checksum", "chk_err"),  # inside the password
    (corrupt(20, 0x30), "version", "version_err"),  # version 1
    (corrupt(20, 0x03), "type", "invalid_type_rcvd"),
    (corrupt(20 + 3, 0x02), "truncated", "packet_len_err"),  # count says 3 addresses
])
def test_undecodable_wire_is_counted(wire: bytes, reason: str, counter: str) -> None:
    """The driver's path: decode fails, the router only counts it."""
    r = started_backup(0.0, auth_type="PASS", auth_pass="secret")
    timer = r.get_timer()
    for i in range(3):
        with pytest.raises(PacketError) as err:
            received = decode_ipv4(wire)
            decode(received.vrrp, received.src, received.dst)
        assert err.value.reason == reason
        r.receive_invalid(err.value.reason, 1.0 + i)
    assert getattr(r.stats, counter) == 3
    assert r.state is State.BACKUP and r.get_timer() == timer and r.actions() == []
    # the untouched datagram is accepted and does reset the timer
    received = decode_ipv4(good_wire())
    r.receive_advert(decode(received.vrrp, received.src, received.dst), received.src, 5.0,
                     ttl=received.ttl)
    assert r.stats.advert_rcvd == 1 and r.get_timer() == 5.0 + r.master_down_interval


def test_ah_wrong_key_counted_via_driver_path() -> None:
    wire = packet.build_ipv4_ah(advert(250, auth_type=2), PEER_HIGH, packet.VRRP_MCAST_IPV4,
                                "other", seq=1, ip_id=1)
    r = started_backup(0.0, auth_type="AH", auth_pass="mine")
    with pytest.raises(PacketError) as err:
        packet.verify_ipv4_ah(decode_ipv4(wire), "mine")
    r.receive_invalid(err.value.reason, 1.0)
    assert r.stats.auth_failure == 1 and r.state is State.BACKUP


def test_foreign_adverts_do_not_disturb_master() -> None:
    r = started_master(0.0, garp_master_delay=0)
    timer = r.get_timer()
    r.receive_advert(advert(250, vrid=9), PEER_LOW, 0.2)
    r.receive_advert(advert(250), PEER_LOW, 0.3, ttl=1)
    assert r.state is State.MASTER and r.get_timer() == timer
    assert r.stats.vrid_err == 1 and r.stats.ip_ttl_err == 1


def test_v3_interval_mismatch_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    r = started_backup(0.0, version=3, advert_int=1.0)
    for i in range(5):
        r.receive_advert(advert(150, version=3, interval=2.0), PEER_HIGH, 1.0 + i)
    assert r.stats.advert_rcvd == 5 and r.stats.advert_interval_err == 0
    assert sum("interval mismatch" in rec.getMessage() for rec in caplog.records) == 1


def test_stats_as_dict_has_keepalived_names() -> None:
    r = started_backup(0.0)
    names = set(r.stats.as_dict())
    assert {"advert_rcvd", "advert_sent", "became_master", "released_master",
            "packet_len_err", "ip_ttl_err", "invalid_type_rcvd", "advert_interval_err",
            "addr_list_err", "invalid_authtype", "authtype_mismatch", "auth_failure",
            "pri_zero_rcvd", "pri_zero_sent"} <= names
    r.receive_invalid("something new", 0.0)
    assert r.stats.other_err == 1


def test_unrelated_source_family_is_ignored_in_v6() -> None:
    r = started_backup(0.0, family=6, version=3, vips=("2001:db8::100/64",))
    r.receive_advert(advert(150, version=3, addresses=(IPv4Address("192.0.2.1"),)),
                     PEER_HIGH, 1.0)
    assert r.stats.packet_len_err == 1 and r.stats.advert_rcvd == 0
