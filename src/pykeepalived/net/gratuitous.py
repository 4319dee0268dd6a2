"""Gratuitous ARP and unsolicited neighbour advertisements for a new MASTER's VIPs.

RFC 5798 6.4.1 / 6.4.2: on becoming MASTER "for each IPv4 address associated with the
Virtual Router, broadcast a gratuitous ARP request containing the virtual router MAC address"
and "for each IPv6 address ... send an Unsolicited ND Neighbor Advertisement with the Router
Flag (R) set to 1, the Override flag (O) set to 1 ... to the all-nodes multicast address".

Frames are the ones Debian's keepalived 2.2.7 sends (captured with tcpdump):
- ARP: Ethernet broadcast, request "who-has VIP tell VIP", sender MAC = interface or VMAC,
  target hardware address ff:ff:ff:ff:ff:ff.
- NA: from the VIP itself to ff02::1 (Ethernet 33:33:00:00:00:01), hop limit 255, flags
  Override, plus Router when IPv6 forwarding is on for the interface, and a target
  link-layer address option.

Both are built here with struct and sent on AF_PACKET sockets, one per interface, kept for
reuse and non-blocking: a MASTER with 1,000 VIPs sends thousands of frames in one burst.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import struct
from collections.abc import Iterable

from pykeepalived.net import interfaces

log = logging.getLogger(__name__)

ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD
ETH_BROADCAST = b"\xff" * 6
ETH_ALL_NODES = bytes.fromhex("333300000001")
ALL_NODES = ipaddress.IPv6Address("ff02::1").packed
ND_NA_FLAG_ROUTER = 0x80000000
ND_NA_FLAG_OVERRIDE = 0x20000000
_SNDBUF = 4 << 20


def parse_mac(mac: str) -> bytes:
    parts = mac.replace("-", ":").split(":")
    if len(parts) != 6:
        raise ValueError(f"not a MAC address: {mac!r}")
    return bytes(int(p, 16) for p in parts)


def arp_frame(address: str, mac: bytes) -> bytes:
    """Ethernet + ARP request "who-has ADDRESS tell ADDRESS" from ``mac`` (RFC 5227 3)."""
    ip = ipaddress.IPv4Address(address).packed
    eth = ETH_BROADCAST + mac + struct.pack("!H", ETH_P_ARP)
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + ip + ETH_BROADCAST + ip
    return eth + arp


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def na_frame(address: str, mac: bytes, router: bool) -> bytes:
    """Ethernet + IPv6 + ICMPv6 unsolicited Neighbor Advertisement (RFC 4861 4.4, 7.2.6)."""
    target = ipaddress.IPv6Address(address).packed
    flags = ND_NA_FLAG_OVERRIDE | (ND_NA_FLAG_ROUTER if router else 0)
    option = struct.pack("!BB", 2, 1) + mac  # target link-layer address, 8 bytes
    icmp = struct.pack("!BBHI", 136, 0, 0, flags) + target + option
    pseudo = target + ALL_NODES + struct.pack("!I3xB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", _checksum(pseudo + icmp)) + icmp[4:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 255) + target + ALL_NODES
    eth = ETH_ALL_NODES + mac + struct.pack("!H", ETH_P_IPV6)
    return eth + ip6 + icmp


def _netns_id() -> int:
    try:
        return os.stat("/proc/thread-self/ns/net").st_ino
    except OSError:
        return 0


class _PacketSockets:
    """AF_PACKET sockets by (namespace, ifname, ifindex): a recreated interface (a VMAC
    deleted and made again) gets a new index, hence a new socket."""

    def __init__(self) -> None:
        self._socks: dict[tuple[int, str, int], socket.socket] = {}

    def get(self, ifname: str) -> socket.socket | None:
        index = interfaces.ifindex(ifname)
        if index is None:
            return None
        key = (_netns_id(), ifname, index)
        sock = self._socks.get(key)
        if sock is None:
            for old in [k for k in self._socks if k[:2] == key[:2]]:
                self._socks.pop(old).close()
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)
            sock.setblocking(False)
            try:
                sock.setsockopt(socket.SOL_SOCKET, 32, _SNDBUF)  # SO_SNDBUFFORCE
            except OSError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SNDBUF)
            sock.bind((ifname, 0))
            self._socks[key] = sock
        return sock

    def close_all(self) -> None:
        for sock in self._socks.values():
            sock.close()
        self._socks.clear()


_sockets = _PacketSockets()


def close_all() -> None:
    """Close the cached packet sockets (on shutdown; they are reopened on demand)."""
    _sockets.close_all()


def _send(ifname: str, frame: bytes, count: int, what: str) -> int:
    sock = _sockets.get(ifname)
    if sock is None:
        log.warning("(%s) cannot send %s: no such interface", ifname, what)
        return 0
    sent = 0
    for _ in range(count):
        try:
            sock.send(frame)
            sent += 1
        except BlockingIOError:
            log.warning("(%s) send buffer full, %d %s not sent", ifname, count - sent, what)
            break
        except OSError as exc:
            log.warning("(%s) cannot send %s: %s", ifname, what, exc)
            break
    return sent


def _mac_for(ifname: str, mac: str | None) -> bytes | None:
    if mac is not None:
        return parse_mac(mac)
    return interfaces.mac_bytes(ifname)


def send_garp(ifname: str, address: str, count: int = 1, mac: str | None = None) -> int:
    """Broadcast ``count`` gratuitous ARP requests for ``address`` on ``ifname``.

    ``mac`` is the sender hardware address (the VMAC when the VIP lives on a macvlan but
    the frame goes out of the base interface); by default the interface's own. Returns the
    number of frames handed to the kernel.
    """
    hw = _mac_for(ifname, mac)
    if hw is None:
        log.warning("(%s) cannot send gratuitous ARP: no such interface", ifname)
        return 0
    return _send(ifname, arp_frame(address, hw), count, f"gratuitous ARP for {address}")


def _ipv6_forwarding(ifname: str) -> bool:
    try:
        with open(f"/proc/sys/net/ipv6/conf/{ifname}/forwarding") as f:
            return f.read().strip() not in ("", "0")
    except OSError:
        return False


def send_unsolicited_na(ifname: str, address: str, count: int = 1,
                        mac: str | None = None, router: bool | None = None) -> int:
    """Send ``count`` unsolicited neighbour advertisements for ``address`` to ff02::1.

    ``router`` None means what keepalived does: the Router flag follows the interface's
    IPv6 forwarding setting (RFC 4861 4.4: R is set when the sender is a router).
    """
    hw = _mac_for(ifname, mac)
    if hw is None:
        log.warning("(%s) cannot send unsolicited NA: no such interface", ifname)
        return 0
    if router is None:
        router = _ipv6_forwarding(ifname)
    return _send(ifname, na_frame(address, hw, router), count,
                 f"unsolicited NA for {address}")


class Announcer:
    """Gratuitous ARP / unsolicited NA for a fixed set of VIPs on one interface, pre-built.

    A MASTER repeats the same frames (garp_master_repeat, garp_master_refresh), and a
    thousand instances becoming MASTER at once send thousands: the frames, the interface's
    MAC and its packet socket are worked out once and reused until :meth:`invalidate` (a
    link changed) or a send fails, which rebuilds them on the next round. (Slotted, its
    sequences tuples: every instance has one per interface of its VIPs.)
    """

    __slots__ = ("_frames", "_sock", "addresses", "ifname", "mac")

    def __init__(self, ifname: str, addresses: Iterable[str], mac: str | None = None) -> None:
        self.ifname = ifname
        self.addresses = tuple(addresses)
        self.mac = mac
        self._sock: socket.socket | None = None
        self._frames: tuple[bytes, ...] = ()

    def invalidate(self) -> None:
        self._sock = None
        self._frames = ()

    def _build(self) -> bool:
        hw = _mac_for(self.ifname, self.mac)
        sock = _sockets.get(self.ifname)
        if hw is None or sock is None:
            log.warning("(%s) cannot send gratuitous ARP/NA: no such interface", self.ifname)
            return False
        # IPv6 forwarding (the NA's Router flag) is read only when there is an NA to send.
        router = any(":" in a for a in self.addresses) and _ipv6_forwarding(self.ifname)
        self._frames = tuple(na_frame(a, hw, router) if ":" in a else arp_frame(a, hw)
                             for a in self.addresses)
        self._sock = sock
        return True

    def send(self) -> int:
        """One round: one frame per address. Returns the number handed to the kernel."""
        if self._sock is None and not self._build():
            return 0
        sock = self._sock
        assert sock is not None
        sent = 0
        for frame in self._frames:
            try:
                sock.send(frame)
                sent += 1
            except BlockingIOError:
                log.warning("(%s) send buffer full, %d gratuitous frames not sent", self.ifname,
                            len(self._frames) - sent)
                break
            except OSError as exc:
                log.warning("(%s) cannot send gratuitous ARP/NA: %s", self.ifname, exc)
                self.invalidate()
                break
        return sent
