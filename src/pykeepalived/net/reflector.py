"""The netlink reflector: link and address events from the kernel, as they happen.

keepalived keeps a netlink socket subscribed to link and address changes (its "netlink
reflector") so that a tracked interface going down puts the instance in FAULT at once,
rather than at the next poll. Here it is one rtnetlink socket in the asyncio loop
(``add_reader``), subscribed to RTMGRP_LINK, RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR.

``on_link(ifname, up)`` is called when an interface's state changes, where up means
IFF_UP and IFF_RUNNING (administratively up with carrier: a veth whose peer went down, or a
NIC that lost its cable, is not up), and when an interface appears or disappears.
``on_address(ifname, address, added)`` is called for each RTM_NEWADDR/RTM_DELADDR (the
kernel also sends RTM_NEWADDR when an address's flags change, so ``added`` may repeat).

If the socket's buffer overflows (ENOBUFS: events were lost), the links are dumped again and
every difference from the last known state is reported.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Callable

from pykeepalived.net import _netlink as nl

log = logging.getLogger(__name__)

LinkCallback = Callable[[str, bool], None]
AddressCallback = Callable[[str, str, bool], None]
_MAX_DRAIN = 256


class NetlinkReflector:
    """Link/address event source. ``start(loop)`` seeds the link table from a dump and
    starts listening; ``stop()`` closes the socket."""

    def __init__(self, on_link: LinkCallback | None = None,
                 on_address: AddressCallback | None = None, *,
                 addresses: bool = True) -> None:
        self.on_link = on_link
        self.on_address = on_address
        self._groups = nl.RTMGRP_LINK
        if addresses:
            self._groups |= nl.RTMGRP_IPV4_IFADDR | nl.RTMGRP_IPV6_IFADDR
        self._rtnl: nl.RtnlSocket | None = None
        self._dumper: nl.RtnlSocket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.links: dict[int, nl.LinkInfo] = {}
        self.events = 0
        self.resyncs = 0

    # ------------------------------------------------------------------ queries
    def link_up(self, ifname: str) -> bool | None:
        """The last known state of ``ifname`` (None: not known to exist)."""
        for info in self.links.values():
            if info.name == ifname:
                return info.up
        return None

    def index_of(self, ifname: str) -> int | None:
        for index, info in self.links.items():
            if info.name == ifname:
                return index
        return None

    # ------------------------------------------------------------------ life cycle
    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        if self._rtnl is not None:
            return
        loop = loop or asyncio.get_running_loop()
        # Subscribe first, then dump: a change between the two is seen twice, never missed.
        self._rtnl = nl.RtnlSocket(groups=self._groups, rcvbuf=4 << 20)
        self._rtnl.sock.setblocking(False)
        # Made now, in the namespace being watched, for the dumps of later resyncs.
        self._dumper = nl.RtnlSocket(rcvbuf=1 << 20)
        self._resync(report=False)
        self._loop = loop
        loop.add_reader(self._rtnl.fileno(), self._on_readable)
        log.debug("netlink reflector started with %d links", len(self.links))

    def stop(self) -> None:
        if self._rtnl is None:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._rtnl.fileno())
        self._rtnl.close()
        self._rtnl = None
        if self._dumper is not None:
            self._dumper.close()
            self._dumper = None
        self._loop = None

    # ------------------------------------------------------------------ events
    def _resync(self, *, report: bool) -> None:
        if self._dumper is None:
            return
        current = {info.index: info for info in nl.dump_links(self._dumper)}
        old = self.links
        self.links = current
        if not report:
            return
        self.resyncs += 1
        for index, info in current.items():
            before = old.get(index)
            if before is None or before.up != info.up or before.name != info.name:
                self._emit_link(info.name, info.up)
        for index, info in old.items():
            if index not in current:
                self._emit_link(info.name, False)

    def _on_readable(self) -> None:
        rtnl = self._rtnl
        if rtnl is None:
            return
        for _ in range(_MAX_DRAIN):
            try:
                data = rtnl.recv()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    log.warning("netlink reflector overrun: events lost, resynchronising")
                    self._resync(report=True)
                    continue
                log.error("netlink reflector receive error: %s", exc)
                return
            for kind, _flags, _seq, body in nl.iter_messages(data):
                self.events += 1
                try:
                    self._dispatch(kind, body)
                except Exception:  # a bad message or callback must not stop the reflector
                    log.exception("netlink reflector: cannot handle message type %d", kind)

    def _dispatch(self, kind: int, body: memoryview) -> None:
        if kind == nl.RTM_NEWLINK:
            info = nl.parse_link(body)
            before = self.links.get(info.index)
            self.links[info.index] = info
            if before is None or before.up != info.up or before.name != info.name:
                if before is not None and before.name != info.name:
                    self._emit_link(before.name, False)
                self._emit_link(info.name, info.up)
        elif kind == nl.RTM_DELLINK:
            info = nl.parse_link(body)
            gone = self.links.pop(info.index, info)
            self._emit_link(gone.name or info.name, False)
        elif kind in (nl.RTM_NEWADDR, nl.RTM_DELADDR) and self.on_address is not None:
            addr = nl.parse_addr(body)
            link = self.links.get(addr.index)
            name = link.name if link is not None else str(addr.index)
            self.on_address(name, addr.address, kind == nl.RTM_NEWADDR)

    def _emit_link(self, ifname: str, up: bool) -> None:
        log.debug("netlink: %s is %s", ifname, "up" if up else "down")
        if self.on_link is not None:
            self.on_link(ifname, up)
