"""Raw VRRP sockets: one per (interface, family), shared by every instance on that interface.

keepalived opens one socket per interface and address family and hands each received advert
to the instance with the matching VRID; so does pykeepalived, so that 1,000 instances on four
interfaces need eight sockets, not 1,000. Receiving is non-blocking through the event loop's
``add_reader`` (no thread per socket), into one preallocated buffer per socket.

Wire facts (RFC 5798 5.1.1 / 5.1.2, keepalived's behaviour measured on Debian's 2.2.7):
- IP protocol 112; IPv4 to 224.0.0.18 with TTL 255 and TOS 0xc0 (network control);
  IPv6 to ff02::12 with hop limit 255 and traffic class 0xc0.
- The receiver must drop adverts whose TTL/hop limit is not 255 (RFC 5798 7.1), so the hop
  limit of every received packet is reported: for IPv4 it is in the IP header the raw socket
  delivers, for IPv6 it comes as IPV6_HOPLIMIT ancillary data.
- Multicast loopback is off: a router must not hear its own adverts.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import socket
import struct
import time
from collections.abc import Callable
from typing import NamedTuple

from pykeepalived.net import interfaces

log = logging.getLogger(__name__)

IPPROTO_VRRP = 112
IPPROTO_AH = 51
VRRP_MCAST_GROUP4 = "224.0.0.18"
VRRP_MCAST_GROUP6 = "ff02::12"
VRRP_TTL = 255
VRRP_TOS = 0xC0

# Not all of these are exported by Python's socket module.
SO_BINDTODEVICE = 25
IP_MULTICAST_ALL = 49
IP_PKTINFO = 8
IP_MTU_DISCOVER = 10
IP_PMTUDISC_DONT = 0
IPV6_RECVPKTINFO = 49
IPV6_PKTINFO = 50
IPV6_RECVHOPLIMIT = 51
IPV6_HOPLIMIT = 52
IPV6_TCLASS = 67
IPV6_CHECKSUM = 7
VRRP_CHECKSUM_OFFSET = 6  # RFC 5798 5.2: version/type, VRID, priority, count, max adver int
SO_RCVBUFFORCE = 33
RCVBUF = 1 << 20  # room for ~1,000 queued adverts (an skb costs about 1 KiB of buffer)
SO_TIMESTAMPNS = 35  # <asm-generic/socket.h>; SCM_TIMESTAMPNS has the same value
_TIMESPEC = struct.Struct("=qq")
_unpack_timespec = _TIMESPEC.unpack_from
_SOL_SOCKET = socket.SOL_SOCKET
_MAX_DRAIN = 64  # datagrams read per readiness callback, so one busy socket cannot starve others
_GATHER = 0.003  # s a socket is not watched after a burst's datagrams emptied it (_gather)
# The largest valid VRRP datagram: IPv4 header with options (60) + AH (24) + VRRPv2 with 255
# addresses (1,036), or VRRPv3 over IPv6 with 255 addresses (4,088). A longer one arrives
# truncated and is dropped as malformed, as it would be anyway.
_BUFSIZE = 8192
_IN6_PKTINFO = struct.Struct("=16sI")
_MAX_NAMES = 256  # destination addresses remembered as text (the groups and our addresses)


class VrrpSocketError(OSError):
    """Opening or configuring a VRRP socket failed (message names the interface)."""


class ReceivedPacket(NamedTuple):
    """One datagram as it arrived.

    ``data`` is the full IPv4 datagram for IPv4 (``ip_header`` True: the raw socket delivers
    the header and the caller parses it, for the TTL check and the AH case), and the VRRP
    message alone for IPv6 (``ip_header`` False). ``ttl`` is the IPv4 TTL or IPv6 hop limit
    (-1 if the kernel did not say), ``dst`` the destination address (group or unicast).
    ``rx_time`` is the kernel's receive timestamp (SO_TIMESTAMPNS) moved onto the monotonic
    clock: a backup's Master_Down_Timer starts when the advert arrived, not when the process
    got round to reading it, which keeps takeovers on time under load.

    A named tuple rather than a frozen dataclass: one is made per datagram received (a
    thousand a second on a backup of 1,000 instances), and a tuple costs a quarter as much
    to build as a frozen dataclass, which sets each field through ``object.__setattr__``.
    """

    ifname: str
    family: int
    src: str
    dst: str
    ttl: int
    data: bytes
    ip_header: bool
    rx_time: float = 0.0  # when the kernel received it, on the monotonic clock (0: unknown)


# ReceivedPacket from a tuple of its fields without the named tuple's own __new__ (a Python
# function): the reader builds one for every datagram.
_received_packet: Callable[[tuple[str, int, str, str, int, bytes, bool, float]],
                           ReceivedPacket] = functools.partial(tuple.__new__, ReceivedPacket)


@functools.lru_cache(maxsize=1024)
def _link_scoped(address: str) -> bool:
    """Link-local unicast or link-scope multicast (ff02::12): needs the interface index."""
    ip = ipaddress.IPv6Address(address.split("%", 1)[0])
    return ip.is_link_local or (ip.is_multicast and (ip.packed[1] & 0x0F) == 2)


def _set_rcvbuf(sock: socket.socket, size: int) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)  # root: past rmem_max
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


def _rx_time(ancdata: list[tuple[int, int, bytes]], offset: float,
             now: float | None = None) -> float:
    """The SO_TIMESTAMPNS stamp in ``ancdata`` on the monotonic clock, or 0.0.

    ``offset`` is realtime minus monotonic when the stamp was taken; a stamp that lands in
    the future or more than a second back is not trusted.
    """
    for level, kind, cdata in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(cdata) >= 16:
            sec, nsec = _TIMESPEC.unpack_from(cdata)
            stamp: float = sec + nsec * 1e-9 - offset
            if now is None:
                now = time.monotonic()
            if now - 1.0 < stamp <= now:
                return stamp
    return 0.0


_STEP = 0.001  # realtime - monotonic moved more than this: the wall clock was stepped


class _StampClock:
    """Moves the kernel's receive stamps, taken on the wall clock (CLOCK_REALTIME), onto the
    monotonic clock -- and gives none while a step of the wall clock may lie between a
    datagram's stamp and its reading.

    realtime - monotonic only changes when the wall clock is stepped (settimeofday, an NTP
    step, a leap second; NTP's slewing moves both clocks alike). It is read again with each
    datagram: if it moved since the last reading, the datagrams read until the socket has
    been drained once may carry stamps of either side of the step, and get none (the caller
    takes its monotonic now). Without this, a wall clock stepped 0.5 s forward between an
    advert's arrival and its reading would make that advert 0.5 s older, and a backup's
    Master_Down_Timer fire that much early.
    """

    __slots__ = ("offset", "suspect")

    def __init__(self) -> None:
        self.offset = time.time() - time.monotonic()
        self.suspect = False

    def rx_time(self, ancdata: list[tuple[int, int, bytes]]) -> float:
        """The monotonic receive time of the datagram just read, or 0.0."""
        now = time.monotonic()
        offset = time.time() - now
        if abs(offset - self.offset) > _STEP:
            self.offset = offset
            self.suspect = True
        if self.suspect or not ancdata:
            return 0.0
        # The kernel puts the stamp first (sock_recv_cmsgs before the IP options): read it
        # there without a loop, for every datagram; anything else takes the general way.
        level, kind, cdata = ancdata[0]
        if level == _SOL_SOCKET and kind == SO_TIMESTAMPNS and len(cdata) >= 16:
            sec, nsec = _unpack_timespec(cdata)
            stamp: float = sec + nsec * 1e-9 - offset
            return stamp if now - 1.0 < stamp <= now else 0.0
        return _rx_time(ancdata, offset, now)

    def drained(self) -> None:
        """The socket is empty: what arrives from now on is stamped after this reading."""
        offset = time.time() - time.monotonic()
        self.suspect = abs(offset - self.offset) > _STEP
        self.offset = offset


def _check_local(af: int, address: tuple[str, int] | tuple[str, int, int, int]) -> None:
    """Fail now, not at the first advert, when ``src`` is not an address of this host.

    The VRRP socket itself is never bound to ``src``: a raw socket bound to an address
    only receives datagrams *to* that address, and would miss the multicast adverts.
    """
    with socket.socket(af, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as probe:
        probe.bind(address)


def _family_check(family: int) -> int:
    if family not in (4, 6):
        raise ValueError(f"family must be 4 or 6, not {family!r}")
    return socket.AF_INET if family == 4 else socket.AF_INET6


class VrrpSocket:
    """A raw IPPROTO_VRRP (or IPPROTO_AH) socket bound to one interface.

    Create it with :meth:`open`. ``send`` gives the kernel a VRRP message and the kernel
    adds the IP header; ``send_datagram`` sends a complete IPv4 datagram (IP_HDRINCL) for
    the AH case, where the IP header is part of the authenticated data (RFC 2402).
    """

    def __init__(self, sock: socket.socket, ifname: str, family: int, index: int,
                 protocol: int, src: str | None,
                 on_packet: Callable[[ReceivedPacket], None],
                 loop: asyncio.AbstractEventLoop | None) -> None:
        self.sock = sock
        self.ifname = ifname
        self.family = family
        self.ifindex = index
        self.protocol = protocol
        self.src = src
        self.on_packet = on_packet
        self.groups: list[str] = []
        self._loop = loop
        self._hdrincl: socket.socket | None = None
        self._pktinfo_cache: dict[str, tuple[int, int, bytes]] = {}
        self._dst_names: dict[bytes, str] = {}
        self._buf = bytearray(_BUFSIZE)
        self._anc = (socket.CMSG_SPACE(_IN6_PKTINFO.size) + socket.CMSG_SPACE(4)
                     + socket.CMSG_SPACE(_TIMESPEC.size))
        self._anc4 = socket.CMSG_SPACE(_TIMESPEC.size)
        self._clock = _StampClock()
        self._resume: asyncio.TimerHandle | None = None  # set while gathering (_gather)
        self.received = 0
        self.sent = 0
        self.send_errors = 0

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, ifname: str, family: int, *, multicast_group: str | None,
             src: str | None, on_packet: Callable[[ReceivedPacket], None],
             loop: asyncio.AbstractEventLoop | None = None,
             protocol: int = IPPROTO_VRRP, rcvbuf: int = RCVBUF) -> VrrpSocket:
        """Open, configure and (when ``loop`` or a running loop is there) start receiving.

        ``multicast_group`` is joined on this interface (vrrp_mcast_group4/6; None for
        unicast-only instances). ``src`` (mcast_src_ip / unicast_src_ip) is the source of
        every advert sent, set per message; it must be an address of this host (checked
        here), but may belong to another interface (a VMAC has no address as BACKUP).
        Without it the kernel picks the interface's primary address (IPv4) or its
        link-local (IPv6, as RFC 5798 5.1.2.1 requires). ``rcvbuf`` is the socket receive
        buffer: one socket carries the adverts of every instance on the interface, and
        hundreds can arrive at once (keepalived sizes it too: vrrp_rx_bufs_policy).
        """
        af = _family_check(family)
        if protocol not in (IPPROTO_VRRP, IPPROTO_AH):
            raise ValueError(f"protocol must be 112 (VRRP) or 51 (AH), not {protocol!r}")
        index = interfaces.ifindex(ifname)
        if index is None:
            raise VrrpSocketError(f"({ifname}) no such interface for the VRRP socket")
        sock = socket.socket(af, socket.SOCK_RAW | socket.SOCK_CLOEXEC, protocol)
        try:
            sock.setblocking(False)
            _set_rcvbuf(sock, rcvbuf)
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, ifname.encode())
            if family == 4:
                cls._setup4(sock, ifname, index, src, multicast_group)
            else:
                cls._setup6(sock, ifname, index, src, multicast_group)
        except OSError as exc:
            sock.close()
            raise VrrpSocketError(exc.errno, f"({ifname}) cannot set up the IPv{family} "
                                  f"VRRP socket: {exc.strerror or exc}") from exc
        self = cls(sock, ifname, family, index, protocol, src, on_packet, loop)
        if protocol == IPPROTO_AH:
            # Made now, in the namespace of the interface, not at the first send.
            try:
                self._hdrincl = self._open_hdrincl()
            except OSError as exc:
                sock.close()
                raise VrrpSocketError(exc.errno, f"({ifname}) cannot set up the IPv4 AH "
                                      f"send socket: {exc.strerror or exc}") from exc
        if multicast_group:
            self.groups.append(multicast_group)
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
        if loop is not None:
            self.start(loop)
        log.debug("(%s) opened IPv%d %s socket group=%s src=%s", ifname, family,
                  "AH" if protocol == IPPROTO_AH else "VRRP", multicast_group, src)
        return self

    @staticmethod
    def _setup4(sock: socket.socket, ifname: str, index: int, src: str | None,
                group: str | None) -> None:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, VRRP_TOS)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, VRRP_TTL)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, VRRP_TTL)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        # No DF bit, as in keepalived's adverts (it writes the IPv4 header itself).
        sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
        # Only the groups this socket joined, not every group some other socket joined.
        sock.setsockopt(socket.IPPROTO_IP, IP_MULTICAST_ALL, 0)
        local = socket.inet_aton(src) if src else b"\0\0\0\0"
        # struct ip_mreqn {multiaddr, address, ifindex}: send multicast out of this interface.
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                        struct.pack("=4s4si", b"\0\0\0\0", local, index))
        if src:
            _check_local(socket.AF_INET, (src, 0))
        if group:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                            struct.pack("=4s4si", socket.inet_aton(group), b"\0\0\0\0", index))

    @staticmethod
    def _setup6(sock: socket.socket, ifname: str, index: int, src: str | None,
                group: str | None) -> None:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_TCLASS, VRRP_TOS)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, VRRP_TTL)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, VRRP_TTL)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
        # As keepalived: the kernel fills in the VRRPv3 checksum (with the pseudo-header of
        # the source it actually uses, RFC 5798 5.2.8) and drops adverts whose checksum is bad.
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_CHECKSUM, VRRP_CHECKSUM_OFFSET)
        if src:
            scope = index if ipaddress.IPv6Address(src).is_link_local else 0
            _check_local(socket.AF_INET6, (src, 0, 0, scope))
        if group:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                            socket.inet_pton(socket.AF_INET6, group) + struct.pack("=I", index))

    def join(self, group: str) -> None:
        """Join one more multicast group on this interface (idempotent)."""
        if group in self.groups:
            return
        if self.family == 4:
            mreq = struct.pack("=4s4si", socket.inet_aton(group), b"\0\0\0\0", self.ifindex)
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        else:
            mreq6 = socket.inet_pton(socket.AF_INET6, group) + struct.pack("=I", self.ifindex)
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq6)
        self.groups.append(group)

    # ------------------------------------------------------------------ receiving
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Register the socket with ``loop`` (called by ``open`` when a loop is known)."""
        self._loop = loop
        loop.add_reader(self.sock.fileno(),
                        self._on_readable4 if self.family == 4 else self._on_readable6)

    def _gather(self) -> None:
        """A burst is arriving (one callback read several datagrams and emptied the socket):
        stop watching the socket for ``_GATHER`` seconds, so that the rest of the burst is
        read in one callback rather than in a wake-up for every few datagrams. A master of
        1,000 instances sends its adverts in one burst a second; read this way, the backup's
        VRRP process took a third less CPU (1.47 -> 0.97 % of a core, side by side).
        No decision is made late for it: every datagram carries its kernel receive stamp,
        the time the router is given, and a due timer drains the socket before it acts. A
        flood never stops the reading: a socket that is not emptied is not paused."""
        loop = self._loop
        if loop is None or self._resume is not None or self.sock.fileno() < 0:
            return
        loop.remove_reader(self.sock.fileno())
        self._resume = loop.call_later(_GATHER, self._watch_again)

    def _watch_again(self) -> None:
        self._resume = None
        if self._loop is not None and self.sock.fileno() >= 0:
            self.start(self._loop)

    def drain(self) -> None:
        """Deliver what is already queued, now (a due timer asks before it acts)."""
        if self._loop is not None:
            (self._on_readable4 if self.family == 4 else self._on_readable6)()

    def _on_readable4(self) -> None:
        buf = self._buf
        bufs = [buf]
        recv = self.sock.recvmsg_into
        anc = self._anc4
        ifname = self.ifname
        names = self._dst_names
        on_packet = self.on_packet
        clock = self._clock
        for read in range(_MAX_DRAIN):
            try:
                n, ancdata, _flags, addr = recv(bufs, anc)
            except (BlockingIOError, InterruptedError):
                clock.drained()
                if read > 1:
                    self._gather()
                return
            except OSError as exc:
                log.warning("(%s) VRRP receive error: %s", self.ifname, exc)
                return
            if n < 20:
                continue
            data = bytes(buf[:n])
            self.received += 1
            # The destination is one of a few addresses (the group, ours): named once each.
            raw_dst = data[16:20]
            dst = names.get(raw_dst)
            if dst is None:
                if len(names) >= _MAX_NAMES:
                    names.clear()
                dst = names[raw_dst] = socket.inet_ntoa(raw_dst)
            try:
                on_packet(_received_packet((ifname, 4, addr[0], dst, data[8], data, True,
                                            clock.rx_time(ancdata))))
            except Exception:  # one bad handler must not stop the socket
                log.exception("(%s) VRRP packet handler failed", ifname)

    def _on_readable6(self) -> None:
        buf = self._buf
        recv = self.sock.recvmsg_into
        bufs = [buf]
        clock = self._clock
        for read in range(_MAX_DRAIN):
            try:
                n, ancdata, _flags, addr = recv(bufs, self._anc)
            except (BlockingIOError, InterruptedError):
                clock.drained()
                if read > 1:
                    self._gather()
                return
            except OSError as exc:
                log.warning("(%s) VRRP receive error: %s", self.ifname, exc)
                return
            hops = -1
            dst = ""
            for level, kind, cdata in ancdata:
                if level != socket.IPPROTO_IPV6:
                    continue
                if kind == IPV6_HOPLIMIT and len(cdata) >= 4:
                    hops = int.from_bytes(cdata[:4], "little", signed=True)
                elif kind == IPV6_PKTINFO and len(cdata) >= _IN6_PKTINFO.size:
                    dst = socket.inet_ntop(socket.AF_INET6, cdata[:16])
            src = addr[0].split("%", 1)[0]
            self.received += 1
            self._deliver(ReceivedPacket(self.ifname, 6, src, dst, hops,
                                         bytes(memoryview(buf)[:n]), False,
                                         clock.rx_time(ancdata)))

    def _deliver(self, packet: ReceivedPacket) -> None:
        try:
            self.on_packet(packet)
        except Exception:  # one bad handler must not stop the socket
            log.exception("(%s) VRRP packet handler failed", self.ifname)

    # ------------------------------------------------------------------ sending
    def _dst(self, dst: str) -> tuple[str, int] | tuple[str, int, int, int]:
        if self.family == 4:
            return (dst, 0)
        return (dst, 0, 0, self.ifindex if _link_scoped(dst) else 0)

    def send(self, payload: bytes, dst: str, *, src: str | None = None) -> None:
        """Send one VRRP message to ``dst`` (the group or a unicast_peer); the kernel adds
        the IP header. The source is ``src`` if given (instances sharing the socket with
        different unicast_src_ip), else the socket's ``src``, else the kernel's choice; it
        is set per message with IP_PKTINFO / IPV6_PKTINFO. A full send buffer drops the
        advert (logged): VRRP tolerates loss, and blocking the event loop would delay every
        other instance.
        """
        try:
            if src is None:
                src = self.src
            if src is None:
                self.sock.sendto(payload, self._dst(dst))
            else:
                pktinfo = self._pktinfo_cache.get(src)
                if pktinfo is None:
                    pktinfo = self._pktinfo_cache[src] = self._pktinfo(src)
                self.sock.sendmsg([payload], [pktinfo], 0, self._dst(dst))
            self.sent += 1
        except OSError as exc:
            self.send_errors += 1
            log.warning("(%s) cannot send VRRP advert to %s: %s", self.ifname, dst, exc)

    def _pktinfo(self, src: str) -> tuple[int, int, bytes]:
        if self.family == 4:
            # struct in_pktinfo {ifindex, spec_dst (the source), addr}
            info = struct.pack("=i4s4s", self.ifindex, socket.inet_aton(src), b"\0\0\0\0")
            return (socket.IPPROTO_IP, IP_PKTINFO, info)
        return (socket.IPPROTO_IPV6, IPV6_PKTINFO,
                _IN6_PKTINFO.pack(socket.inet_pton(socket.AF_INET6, src), self.ifindex))

    def _open_hdrincl(self) -> socket.socket:
        # IPPROTO_RAW implies IP_HDRINCL and never receives: a send-only companion.
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                            socket.IPPROTO_RAW)
        try:
            raw.setblocking(False)
            raw.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, self.ifname.encode())
            raw.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
            raw.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                           struct.pack("=4s4si", b"\0\0\0\0", b"\0\0\0\0", self.ifindex))
        except OSError:
            raw.close()
            raise
        return raw

    def send_datagram(self, datagram: bytes, dst: str) -> None:
        """Send a complete IPv4 datagram (header built by the caller: the AH case)."""
        if self.family != 4:
            raise ValueError("send_datagram is for IPv4 (AH is IPv4-only in VRRPv2)")
        if self._hdrincl is None:
            self._hdrincl = self._open_hdrincl()
        try:
            self._hdrincl.sendto(datagram, (dst, 0))
            self.sent += 1
        except OSError as exc:
            self.send_errors += 1
            log.warning("(%s) cannot send VRRP datagram to %s: %s", self.ifname, dst, exc)

    def close(self) -> None:
        """Stop receiving and close (idempotent)."""
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None
        if self.sock.fileno() >= 0:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self.sock.fileno())
            self.sock.close()
        if self._hdrincl is not None:
            self._hdrincl.close()
            self._hdrincl = None

    def __repr__(self) -> str:
        return (f"VrrpSocket({self.ifname!r}, IPv{self.family}, protocol={self.protocol}, "
                f"groups={self.groups}, src={self.src!r})")
