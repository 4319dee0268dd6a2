"""Every datagram the VRRP process refuses is counted somewhere an operator can read.

The process feeds datagrams to routers by (interface, family, VRID). Those it cannot hand to
any router (no VRID to read, a VRID it does not run) are counted per process; those from one
of the instance's own addresses that are not its own unicast advert to itself are counted on
the instance (``own_address_err``). Both show in ``--status --json``, which is what a test
of a hostile peer (tests/netns/test_hostile_peer.py) reads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from pykeepalived.daemon.vrrp_main import VrrpProcess
from pykeepalived.net.vrrp_socket import ReceivedPacket
from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import State
from tests.unit.daemon.keyword_helpers import load

ME4 = IPv4Address("192.0.2.1")
PEER4 = IPv4Address("192.0.2.2")
ME6 = IPv6Address("fe80::1")
PEER6 = IPv6Address("fe80::2")


def text(vip: str, extra: str = "", vrid: int = 51) -> str:
    return f"""
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id {vrid}
    priority 100
    version 3
    advert_int 1
    {extra}
    virtual_ipaddress {{
        {vip}
    }}
}}
"""


@contextmanager
def process(conf: str, own: set[IPv4Address | IPv6Address]) -> Iterator[VrrpProcess]:
    """The VRRP process over ``conf``, built, its instance started as BACKUP (no socket)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        proc = VrrpProcess(load(conf))
        proc.build()
        rt = proc.instances["VI_1"]
        rt.own_addresses = set(own)
        rt.router.set_primary_address(next(iter(own)))
        for group in proc.all_groups():
            group.start(0.0)
        yield proc
        proc.tracker.stop()
        proc.scheduler.close()
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def v4(src: IPv4Address, dst: str, vrid: int = 51, priority: int = 200,
       vip: str = "192.0.2.10") -> ReceivedPacket:
    advert = packet.Advert(3, vrid, priority, 1.0, (IPv4Address(vip),))
    data = packet.build_ipv4(advert, src, IPv4Address(dst), 1)
    return ReceivedPacket("eth0", 4, str(src), dst, 255, data, True)


def v6(src: IPv6Address, priority: int = 200) -> ReceivedPacket:
    advert = packet.Advert(3, 51, priority, 1.0, (IPv6Address("2001:db8::10"),))
    data = packet.encode(advert, src, packet.VRRP_MCAST_IPV6)
    return ReceivedPacket("eth0", 6, str(src), str(packet.VRRP_MCAST_IPV6), 255, data, False)


def test_unknown_vrid_is_counted_for_the_process_not_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with process(text("192.0.2.10/24"), {ME4}) as proc:
        for _ in range(3):
            proc.on_packet(v4(PEER4, "224.0.0.18", vrid=52))
        assert proc.invalid_packets == {"unknown_vrid": 3}
        assert proc.status()["invalid_packets"] == {"unknown_vrid": 3}
        assert proc.status()["instances"][0]["dropped"] == {}
    # other groups share the LAN: a line per advert of theirs would flood the log
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO
            and r.name.startswith("pykeepalived.vrrp") and "52" in r.getMessage()] == []


def test_a_datagram_too_short_to_name_a_vrid_is_counted() -> None:
    with process(text("192.0.2.10/24"), {ME4}) as proc:
        whole = v4(PEER4, "224.0.0.18").data
        for size in (20, 21):  # the IPv4 header and no VRRP byte, or one
            data = bytearray(whole[:size])
            data[2:4] = size.to_bytes(2, "big")
            proc.on_packet(ReceivedPacket("eth0", 4, str(PEER4), "224.0.0.18", 255,
                                          bytes(data), True))
        proc.on_packet(ReceivedPacket("eth0", 6, str(PEER6), "ff02::12", 255, b"\x31", False))
        assert proc.status()["invalid_packets"] == {"truncated": 3}


def test_an_advert_from_our_own_address_is_counted_and_ignored() -> None:
    """A forged (or looped) advert with our source address and a higher priority: dropped,
    counted on the instance; the same advert from a peer does move the router."""
    with process(text("2001:db8::10/64"), {ME6}) as proc:
        router = proc.instances["VI_1"].router
        assert router.state is State.BACKUP
        proc.on_packet(v6(ME6, priority=254))
        assert proc.status()["instances"][0]["dropped"] == {"own_address_err": 1}
        assert router.master_address is None and router.stats.advert_rcvd == 0
        proc.on_packet(v6(PEER6, priority=254))
        assert router.master_address == PEER6 and router.stats.advert_rcvd == 1


def test_our_unicast_advert_to_ourselves_is_not_counted() -> None:
    """One unicast_peer list shared by every node names this node too: its own adverts
    come back to it, and that is not an attack."""
    unicast = "unicast_src_ip 192.0.2.1\n unicast_peer {\n 192.0.2.1\n 192.0.2.2\n }"
    with process(text("192.0.2.10/24", unicast), {ME4}) as proc:
        proc.on_packet(v4(ME4, "192.0.2.1"))
        assert proc.status()["instances"][0]["dropped"] == {}
        proc.on_packet(v4(ME4, "224.0.0.18"))  # not one of our destinations
        assert proc.status()["instances"][0]["dropped"] == {"own_address_err": 1}
        assert ip_address("192.0.2.1") in proc.instances["VI_1"].own_addresses


def ah_text(priority: int) -> str:
    return f"""
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority {priority}
    version 2
    advert_int 1
    authentication {{
        auth_type AH
        auth_pass secret
    }}
    virtual_ipaddress {{
        192.0.2.10/24
    }}
}}
"""


def ah_advert(seq: int, priority: int = 250) -> ReceivedPacket:
    advert = packet.Advert(2, 51, priority, 1.0, (IPv4Address("192.0.2.10"),), packet.AUTH_AH)
    data = packet.build_ipv4_ah(advert, PEER4, packet.VRRP_MCAST_IPV4, "secret", seq, seq)
    return ReceivedPacket("eth0", 4, str(PEER4), "224.0.0.18", 255, data, True)


def test_a_reload_that_changes_the_instance_keeps_the_ah_sequence_number() -> None:
    """RFC 2402 3.4.3 anti-replay is one counter: a reload that rebuilt the router from 0
    would take every AH advert captured before it as new, and follow a replayed master.
    keepalived keeps the counter over a reload; so does pykeepalived."""
    with process(ah_text(200), {ME4}) as proc:
        proc.prepare = lambda rt: None  # type: ignore[method-assign]  # no interface here
        old = proc.instances["VI_1"].router
        proc.on_packet(ah_advert(40))
        assert old.master_address == PEER4 and old.stats.advert_rcvd == 1
        proc.apply(load(ah_text(201)))  # priority changed: a new router
        new = proc.instances["VI_1"].router
        assert new is not old and new.state is State.BACKUP and new.base_priority == 201
        proc.on_packet(ah_advert(40))  # the replay
        assert new.stats.auth_failure == 1 and new.stats.advert_rcvd == 0
        assert new.master_address is None
        proc.on_packet(ah_advert(41))  # the peer's next advert is new
        assert new.stats.advert_rcvd == 1 and new.master_address == PEER4
