"""VrrpSocket with real packets between namespaces; tcpdump captures (read back with scapy)
are the oracle for what went on the wire: TTL/hop limit 255, TOS/traffic class 0xc0."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.vrrp import VRRP, VRRPv3
from scapy.utils import rdpcap

from pykeepalived.demo.lab import Host, Lab
from pykeepalived.net import interfaces, netns
from pykeepalived.net.vrrp_socket import (
    IPPROTO_AH,
    VRRP_MCAST_GROUP4,
    VRRP_MCAST_GROUP6,
    ReceivedPacket,
    VrrpSocket,
)

pytestmark = pytest.mark.netns


def run_until(loop: asyncio.AbstractEventLoop, done: Callable[[], bool],
              timeout: float = 5.0) -> bool:
    """Run the loop until ``done()`` or ``timeout`` seconds (bounded)."""
    async def waiter() -> bool:
        for _ in range(int(timeout / 0.01)):
            if done():
                return True
            await asyncio.sleep(0.01)
        return done()

    return loop.run_until_complete(waiter())


class Capture:
    """tcpdump in a host, writing a pcap; stopped and read back with scapy."""

    def __init__(self, host: Host, path: Path, bpf: str) -> None:
        self.path = path
        self.proc = host.popen("tcpdump", "-i", "eth0", "-n", "-U", "--immediate-mode", "-Z",
                               "root", "-w", str(path), bpf,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # tcpdump says "listening on" once the capture is live
        assert self.proc.stderr is not None
        for _ in range(50):
            line = self.proc.stderr.readline()
            if b"listening on" in line or not line:
                break

    def packets(self) -> list:  # type: ignore[type-arg]
        time.sleep(0.2)
        self.proc.terminate()
        self.proc.wait(10)
        return list(rdpcap(str(self.path)))


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    the_loop = asyncio.new_event_loop()
    yield the_loop
    the_loop.close()


def vrrp2(vrid: int = 51) -> bytes:
    return bytes(VRRP(vrid=vrid, priority=100, ipcount=1, addrlist=["192.0.2.100"]))


def test_ipv4_multicast_advert_reaches_peer_ttl255_tos_c0(lab: Lab, loop: asyncio.AbstractEventLoop,
                                                         tmp_path: Path) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    r2 = lab.add_host("r2", [["192.0.2.2/24"]])
    got2: list[ReceivedPacket] = []
    got1: list[ReceivedPacket] = []
    cap = Capture(r2, tmp_path / "v4.pcap", "ip proto 112")
    with netns.enter(r2.netns):
        # a source address must not stop multicast reception (no bind() to it)
        rx = VrrpSocket.open("eth0", 4, multicast_group=VRRP_MCAST_GROUP4, src="192.0.2.2",
                             on_packet=got2.append, loop=loop)
    with netns.enter(r1.netns):
        tx = VrrpSocket.open("eth0", 4, multicast_group=VRRP_MCAST_GROUP4, src="192.0.2.1",
                             on_packet=got1.append, loop=loop)
    try:
        payload = vrrp2()
        tx.send(payload, VRRP_MCAST_GROUP4)
        assert run_until(loop, lambda: bool(got2))
        pkt = got2[0]
        assert pkt.family == 4 and pkt.ip_header
        assert pkt.src == "192.0.2.1" and pkt.dst == VRRP_MCAST_GROUP4
        assert pkt.ttl == 255
        assert pkt.data[1] == 0xC0  # TOS byte of the header as received
        assert pkt.data[(pkt.data[0] & 0x0F) * 4:] == payload
        assert pkt.ifname == "eth0"
        assert got1 == [], "IP_MULTICAST_LOOP must be off: a router does not hear itself"
        [wire] = [p for p in cap.packets() if p.haslayer(IP)]
        assert wire[IP].ttl == 255 and wire[IP].tos == 0xC0 and wire[IP].proto == 112
        assert wire[IP].dst == "224.0.0.18"
        assert not wire[IP].flags.DF  # keepalived 2.2.7 sends "flags [none]"
        assert wire.dst == "01:00:5e:00:00:12"  # Ethernet multicast for 224.0.0.18
        assert wire[VRRP].vrid == 51
    finally:
        rx.close()
        tx.close()


def test_ipv4_unicast_with_src(lab: Lab, loop: asyncio.AbstractEventLoop) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24", "192.0.2.11/24"]])
    r2 = lab.add_host("r2", [["192.0.2.2/24"]])
    got: list[ReceivedPacket] = []
    with netns.enter(r2.netns):
        rx = VrrpSocket.open("eth0", 4, multicast_group=None, src="192.0.2.2",
                             on_packet=got.append, loop=loop)
    with netns.enter(r1.netns):
        # unicast_src_ip: a secondary address, not the one the kernel would pick
        tx = VrrpSocket.open("eth0", 4, multicast_group=None, src="192.0.2.11",
                             on_packet=lambda p: None, loop=loop)
    try:
        tx.send(vrrp2(), "192.0.2.2")
        assert run_until(loop, lambda: bool(got))
        assert (got[0].src, got[0].dst, got[0].ttl) == ("192.0.2.11", "192.0.2.2", 255)
        assert got[0].data[1] == 0xC0
    finally:
        rx.close()
        tx.close()


def test_per_message_source_on_a_shared_socket(lab: Lab,
                                                loop: asyncio.AbstractEventLoop) -> None:
    """Two instances with different unicast_src_ip share one socket per interface."""
    r1 = lab.add_host("r1", [["192.0.2.1/24", "192.0.2.11/24", "2001:db8::1/64",
                              "2001:db8::11/64"]])
    r2 = lab.add_host("r2", [["192.0.2.2/24", "2001:db8::2/64"]])
    got: list[ReceivedPacket] = []
    with netns.enter(r2.netns):
        rx4 = VrrpSocket.open("eth0", 4, multicast_group=None, src=None, on_packet=got.append,
                              loop=loop)
        rx6 = VrrpSocket.open("eth0", 6, multicast_group=None, src=None, on_packet=got.append,
                              loop=loop)
    with netns.enter(r1.netns):
        tx4 = VrrpSocket.open("eth0", 4, multicast_group=None, src=None,
                              on_packet=lambda p: None, loop=loop)
        tx6 = VrrpSocket.open("eth0", 6, multicast_group=None, src=None,
                              on_packet=lambda p: None, loop=loop)
    try:
        tx4.send(vrrp2(1), "192.0.2.2", src="192.0.2.11")
        tx4.send(vrrp2(2), "192.0.2.2", src="192.0.2.1")
        tx6.send(b"\x31\x01\x64\x00" + bytes(4), "2001:db8::2", src="2001:db8::11")
        tx6.send(b"\x31\x02\x64\x00" + bytes(4), "2001:db8::2", src="2001:db8::1")
        assert run_until(loop, lambda: len(got) == 4)
        assert sorted((p.family, p.src) for p in got) == [
            (4, "192.0.2.1"), (4, "192.0.2.11"), (6, "2001:db8::1"), (6, "2001:db8::11")]
        assert all(p.ttl == 255 for p in got)
    finally:
        for s in (rx4, rx6, tx4, tx6):
            s.close()


def test_ipv6_multicast_hoplimit255_from_link_local(lab: Lab, loop: asyncio.AbstractEventLoop,
                                                    tmp_path: Path) -> None:
    r1 = lab.add_host("r1", [["2001:db8::1/64"]])
    r2 = lab.add_host("r2", [["2001:db8::2/64"]])
    got: list[ReceivedPacket] = []
    cap = Capture(r2, tmp_path / "v6.pcap", "ip6 proto 112")
    with netns.enter(r1.netns):
        ll1 = interfaces.primary_address("eth0", 6)
        assert ll1 is not None and ll1.startswith("fe80:")
    with netns.enter(r2.netns):
        ll2 = interfaces.primary_address("eth0", 6)
        rx = VrrpSocket.open("eth0", 6, multicast_group=VRRP_MCAST_GROUP6, src=ll2,
                             on_packet=got.append, loop=loop)
    with netns.enter(r1.netns):
        tx = VrrpSocket.open("eth0", 6, multicast_group=VRRP_MCAST_GROUP6, src=ll1,
                             on_packet=lambda p: None, loop=loop)
    try:
        want = bytes(IPv6(src=ll1, dst=VRRP_MCAST_GROUP6) / VRRPv3(
            vrid=52, priority=100, ipcount=1, addrlist=["2001:db8::100"]))[40:]
        payload = want[:6] + b"\0\0" + want[8:]  # checksum left to the kernel
        tx.send(payload, VRRP_MCAST_GROUP6)
        assert run_until(loop, lambda: bool(got))
        pkt = got[0]
        assert pkt.family == 6 and not pkt.ip_header
        assert (pkt.src, pkt.dst, pkt.ttl) == (ll1, VRRP_MCAST_GROUP6, 255)
        # the kernel filled in the checksum (IPV6_CHECKSUM) as scapy computes it
        assert pkt.data == want
        [wire] = [p for p in cap.packets() if p.haslayer(IPv6)]
        assert wire[IPv6].hlim == 255 and wire[IPv6].tc == 0xC0 and wire[IPv6].nh == 112
        assert wire[IPv6].src == ll1 and wire[IPv6].dst == "ff02::12"
    finally:
        rx.close()
        tx.close()


def test_ipv6_bad_checksum_dropped_by_kernel(lab: Lab,
                                             loop: asyncio.AbstractEventLoop) -> None:
    r1 = lab.add_host("r1", [["2001:db8::1/64"]])
    r2 = lab.add_host("r2", [["2001:db8::2/64"]])
    got: list[ReceivedPacket] = []
    with netns.enter(r2.netns):
        rx = VrrpSocket.open("eth0", 6, multicast_group=VRRP_MCAST_GROUP6, src=None,
                             on_packet=got.append, loop=loop)
    with netns.enter(r1.netns):
        # a plain raw socket: the checksum goes out exactly as given
        plain = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)
        plain.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        index = socket.if_nametoindex("eth0")
        ll1 = interfaces.primary_address("eth0", 6)
    try:
        good = bytes(IPv6(src=ll1, dst=VRRP_MCAST_GROUP6) / VRRPv3(
            vrid=9, priority=100, ipcount=1, addrlist=["2001:db8::100"]))[40:]
        bad = good[:6] + bytes([good[6] ^ 0xFF, good[7]]) + good[8:]
        plain.sendto(bad, (VRRP_MCAST_GROUP6, 0, 0, index))
        plain.sendto(good, (VRRP_MCAST_GROUP6, 0, 0, index))
        assert run_until(loop, lambda: bool(got))
        time.sleep(0.05)
        loop.run_until_complete(asyncio.sleep(0.05))
        assert [p.data for p in got] == [good]
    finally:
        plain.close()
        rx.close()


def test_ipv6_unicast_peer(lab: Lab, loop: asyncio.AbstractEventLoop) -> None:
    r1 = lab.add_host("r1", [["2001:db8::1/64"]])
    r2 = lab.add_host("r2", [["2001:db8::2/64"]])
    got: list[ReceivedPacket] = []
    with netns.enter(r2.netns):
        rx = VrrpSocket.open("eth0", 6, multicast_group=None, src=None, on_packet=got.append,
                             loop=loop)
        ll2 = interfaces.primary_address("eth0", 6)
        assert ll2 is not None
    with netns.enter(r1.netns):
        tx = VrrpSocket.open("eth0", 6, multicast_group=None, src="2001:db8::1",
                             on_packet=lambda p: None, loop=loop)
        ll1 = interfaces.primary_address("eth0", 6)
    try:
        tx.send(b"\x31\x34\x64\x00" + b"\0" * 4, "2001:db8::2")
        assert run_until(loop, lambda: bool(got))
        assert (got[0].src, got[0].dst, got[0].ttl) == ("2001:db8::1", "2001:db8::2", 255)
        # a link-local unicast_peer, from the link-local source
        tx.send(b"\x31\x34\x64\x00" + b"\0" * 4, ll2, src=ll1)
        assert run_until(loop, lambda: len(got) == 2)
        assert (got[1].src, got[1].dst, got[1].ttl) == (ll1, ll2, 255)
    finally:
        rx.close()
        tx.close()


def test_socket_is_bound_to_its_interface() -> None:
    """Two segments: a socket on eth1 must not see adverts arriving on eth0."""
    loop = asyncio.new_event_loop()
    with Lab(segments=2) as lab:
        r1 = lab.add_host("r1", [["192.0.2.1/24"], ["198.51.100.1/24"]])
        r2 = lab.add_host("r2", [["192.0.2.2/24"], ["198.51.100.2/24"]])
        on0: list[ReceivedPacket] = []
        on1: list[ReceivedPacket] = []
        with netns.enter(r2.netns):
            rx0 = VrrpSocket.open("eth0", 4, multicast_group=VRRP_MCAST_GROUP4, src=None,
                                  on_packet=on0.append, loop=loop)
            rx1 = VrrpSocket.open("eth1", 4, multicast_group=VRRP_MCAST_GROUP4, src=None,
                                  on_packet=on1.append, loop=loop)
        with netns.enter(r1.netns):
            tx0 = VrrpSocket.open("eth0", 4, multicast_group=None, src=None,
                                  on_packet=lambda p: None, loop=loop)
            tx1 = VrrpSocket.open("eth1", 4, multicast_group=None, src=None,
                                  on_packet=lambda p: None, loop=loop)
        try:
            for vrid in range(1, 6):
                tx0.send(vrrp2(vrid), VRRP_MCAST_GROUP4)
            tx1.send(vrrp2(200), VRRP_MCAST_GROUP4)
            assert run_until(loop, lambda: len(on0) == 5 and len(on1) == 1)
            assert {p.data[21] for p in on0} == {1, 2, 3, 4, 5}  # VRID byte after the header
            assert [p.data[21] for p in on1] == [200]
            assert all(p.ifname == "eth0" for p in on0)
            assert on1[0].src == "198.51.100.1"
        finally:
            for s in (rx0, rx1, tx0, tx1):
                s.close()
    loop.close()


def test_burst_of_a_thousand_adverts_all_received(lab: Lab,
                                                  loop: asyncio.AbstractEventLoop) -> None:
    """One socket carries every instance of its interface: a burst of 1,000 adverts (all
    masters of a big peer sending at once) must fit its receive buffer. With the kernel's
    default buffer about half of them are lost."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    r2 = lab.add_host("r2", [["192.0.2.2/24"]])
    got: list[ReceivedPacket] = []
    with netns.enter(r2.netns):
        rx = VrrpSocket.open("eth0", 4, multicast_group=VRRP_MCAST_GROUP4, src=None,
                             on_packet=got.append, loop=loop)
    with netns.enter(r1.netns):
        tx = VrrpSocket.open("eth0", 4, multicast_group=None, src=None,
                             on_packet=lambda p: None, loop=loop)
    try:
        for i in range(1000):
            tx.send(vrrp2(i % 255 + 1), VRRP_MCAST_GROUP4)
        assert tx.sent == 1000
        assert run_until(loop, lambda: len(got) == 1000), len(got)
        assert rx.received == 1000
    finally:
        rx.close()
        tx.close()


def test_ah_datagram_send_and_receive(lab: Lab, loop: asyncio.AbstractEventLoop) -> None:
    """AH (protocol 51): a full IPv4 datagram built by the caller goes out as is."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    r2 = lab.add_host("r2", [["192.0.2.2/24"]])
    got: list[ReceivedPacket] = []
    with netns.enter(r2.netns):
        rx = VrrpSocket.open("eth0", 4, multicast_group=VRRP_MCAST_GROUP4, src=None,
                             on_packet=got.append, loop=loop, protocol=IPPROTO_AH)
    with netns.enter(r1.netns):
        tx = VrrpSocket.open("eth0", 4, multicast_group=None, src=None,
                             on_packet=lambda p: None, loop=loop, protocol=IPPROTO_AH)
    try:
        body = b"\x70\x04\x00\x00" + b"\x11" * 20 + vrrp2()  # AH header-ish + VRRP
        datagram = bytes(IP(src="192.0.2.1", dst="224.0.0.18", ttl=255, tos=0xC0, proto=51,
                            id=7) / body)
        tx.send_datagram(datagram, VRRP_MCAST_GROUP4)
        assert run_until(loop, lambda: bool(got))
        pkt = got[0]
        assert pkt.ttl == 255 and pkt.src == "192.0.2.1" and pkt.data[9] == 51
        assert pkt.data[20:] == body
        assert IP(pkt.data).id == 7  # our header, not one the kernel made
    finally:
        rx.close()
        tx.close()


def test_open_errors_name_the_interface(lab: Lab, loop: asyncio.AbstractEventLoop) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    with netns.enter(r1.netns), pytest.raises(OSError, match="nosuch0"):
        VrrpSocket.open("nosuch0", 4, multicast_group=None, src=None,
                        on_packet=lambda p: None, loop=loop)
    with netns.enter(r1.netns), pytest.raises(OSError, match="eth0"):
        # an address the host does not have cannot be bound
        VrrpSocket.open("eth0", 4, multicast_group=None, src="203.0.113.9",
                        on_packet=lambda p: None, loop=loop)
