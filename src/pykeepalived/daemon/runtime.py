"""One running vrrp_instance: a router and what makes its decisions real.

``InstanceRuntime`` carries out the actions of one router, one at a time and in the order the
core gave them: adverts to the wire, VIPs into the kernel (through the process's
:class:`~pykeepalived.daemon.kernel.VipBatch`), gratuitous ARP rounds, notifications. It is
given what it needs (the batch, the firewall worker, the notifier) and holds no reference to
the process that owns it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from pykeepalived.daemon.availability import Availability
from pykeepalived.daemon.instance import InstancePlan
from pykeepalived.daemon.kernel import FirewallWorker, Refusal, VipBatch, describe_refusal
from pykeepalived.net import gratuitous, interfaces
from pykeepalived.net.addresses import VipSpec
from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import (
    Action,
    AddVips,
    LowerPriorityReceived,
    MasterGap,
    PriorityChanged,
    RemoveVips,
    SendAdvert,
    SendGratuitous,
    State,
    StateChange,
)
from pykeepalived.vrrp.router import VirtualRouter
from pykeepalived.vrrp.stats import DropLog

if TYPE_CHECKING:
    from pykeepalived.net.vrrp_socket import VrrpSocket
    from pykeepalived.notify.notifier import Notifier
    from pykeepalived.vrrp.sync_group import SyncGroup

log = logging.getLogger("pykeepalived.vrrp")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

FAULT_INTERFACE = "interface"  # the interface could not be prepared (VMAC, socket)
FAULT_ADDRESS = "address"  # no address to send adverts from

#: Each destinations tuple of the plans (one object for all the instances that share it:
#: the multicast group, a peer list) with its addresses parsed, made once.
_DESTINATIONS: dict[tuple[str, ...], tuple[tuple[str, IPAddress], ...]] = {}


def destination_addresses(destinations: tuple[str, ...]) -> tuple[tuple[str, IPAddress], ...]:
    """``destinations`` as (text, address) pairs, one tuple for every instance that has them."""
    pairs = _DESTINATIONS.get(destinations)
    if pairs is None:
        pairs = _DESTINATIONS[destinations] = tuple(
            (d, ipaddress.ip_address(d)) for d in destinations)
    return pairs


class InstanceRuntime:
    """A router plus the socket, addresses and timer that make it real. (Slotted: one per
    instance.)"""

    __slots__ = (
        "_encoded", "_encoded_for", "_send_drops", "announcers", "availability", "batch",
        "dst_ips", "firewall", "garp_tasks", "group", "ip_id", "loop", "notifier",
        "own_addresses", "plan", "router", "sched_at", "sched_when", "send_errors", "socket", "src",
        "src_ip", "vip_errors", "vips_installed",
    )

    def __init__(self, plan: InstancePlan, *, loop: asyncio.AbstractEventLoop,
                 batch: VipBatch, firewall: FirewallWorker, notifier: Notifier) -> None:
        self.plan = plan
        self.loop = loop
        self.batch = batch
        self.firewall = firewall
        self.notifier = notifier
        self.router = VirtualRouter(plan.router_config)
        self.group: SyncGroup | None = None  # set by the process: every input goes through it
        self.socket: VrrpSocket | None = None  # sends and receives (on the VMAC with use_vmac)
        self.sched_when: float | None = None  # owned by daemon.timers.Scheduler
        self.sched_at: float | None = None  # (its heap entry)
        self.vips_installed = False
        # VIPs the kernel refused at the last install, and why (kept after the instance
        # leaves MASTER, so that the same refusal at the next install is not logged again)
        self.vip_errors: dict[VipSpec, str] = {}
        self.src: str | None = plan.src
        # our own addresses (one or two): a tuple, a set would take 216 bytes an instance
        self.own_addresses: Collection[IPAddress] = ()
        self.src_ip: IPAddress | None = None
        self.dst_ips = destination_addresses(plan.destinations)
        # gratuitous ARP / unsolicited NA, frames pre-built per interface the VIPs live on
        by_dev: dict[str, list[str]] = {}
        for vip in plan.all_addresses:
            by_dev.setdefault(vip.dev, []).append(vip.ip)
        self.announcers = tuple(gratuitous.Announcer(dev, ips) for dev, ips in by_dev.items())
        # spaced GARP rounds (vrrp_garp_interval) still running; made at the first one
        self.garp_tasks: set[asyncio.Task[None]] | None = None
        self.ip_id = 0
        # The router hands out the same Advert object until something in it changes: encode
        # it once per destination and reuse the bytes (the per-advert path stays cheap).
        self._encoded_for: packet.Advert | None = None
        self._encoded: tuple[bytes, ...] = ()
        self.send_errors = 0  # adverts that could not be sent (no socket, or the kernel said no)
        self.availability = Availability(loop.time())
        self._send_drops = DropLog(log)

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def addresses(self) -> tuple[VipSpec, ...]:
        """Every address the instance installs as MASTER (VIPs and excluded VIPs)."""
        return self.plan.all_addresses

    # ----------------------------------------------------------------- set-up
    def prepare(self) -> None:
        """Create the VMAC, learn our source address (RFC 5798 5.1.1.1 / 5.1.2.1).

        Raises OSError when the interface cannot be used; leaves ``src_ip`` None when it has
        no address to send from (the process puts the router in FAULT for either).
        """
        plan = self.plan
        if plan.vmac:
            from pykeepalived.net import vmac

            vmac.create_vmac(plan.ifname, plan.router_config.vrid, plan.family, plan.vmac)
            # before the socket joins the VRRP group on it: no report with the virtual MAC
            self.firewall.add_vmac(plan.vmac, plan.ifname, plan.family)
        src = self.src
        if plan.src is None:
            src = interfaces.primary_address(plan.xmit_ifname, plan.family) or \
                interfaces.primary_address(plan.ifname, plan.family)
        self.src = src
        if src is None:
            self.src_ip = None
        else:
            self.src_ip = ipaddress.ip_address(src)
            self.router.set_primary_address(self.src_ip)
            self._encoded_for = None
        self.batch.addresses.warm(plan.all_addresses)
        primary = interfaces.primary_address(plan.ifname, plan.family)
        self.own_addresses = tuple({ipaddress.ip_address(a) for a in (primary, self.src) if a})

    def is_own_source(self, src: IPAddress) -> bool:
        """Our own adverts looped back (unicast to self, or a shared segment): never fed back."""
        return src in self.own_addresses

    # ----------------------------------------------------------------- actions
    def carry_out(self, action: Action) -> None:
        """Do one action of the router; a kernel refusal is logged and the protocol goes on."""
        try:
            if isinstance(action, SendAdvert):
                self.send_advert(action)
            elif isinstance(action, AddVips):
                self.batch.add(self)
            elif isinstance(action, RemoveVips):
                self.remove_vips()
            elif isinstance(action, SendGratuitous):
                self.batch.gratuitous(self)
            elif isinstance(action, StateChange):
                self.state_changed(action)
            elif isinstance(action, PriorityChanged):
                if self.plan.notify_priority_changes:
                    self.notifier.priority_changed(self.name, action.state.value, action.new)
            elif isinstance(action, LowerPriorityReceived):
                self.notifier.instance_event(self.name, "MASTER_RX_LOWER_PRI",
                                             self.router.priority, self.plan.notify)
            elif isinstance(action, MasterGap):
                self.availability.gap(action)
                log.info("(%s) %s without a master: %.3f s", self.name,
                         "planned hand-over" if action.planned else "failover",
                         action.end - action.start)
        except OSError as exc:
            # The kernel refused (interface gone, address clash...): log, keep the protocol up.
            log.error("(%s) %s failed: %s", self.name, type(action).__name__, exc)

    def send_advert(self, action: SendAdvert) -> None:
        if self.batch.pending(self):
            # the core ordered our VIPs first (a planned takeover): they go in, then this
            self.batch.after_vips(lambda: self._send_advert(action))
            return
        self._send_advert(action)

    def _send_advert(self, action: SendAdvert) -> None:
        sock = self.socket
        src = self.src_ip
        if sock is None or src is None:
            self._send_dropped("no socket or source address")
            return
        try:
            self._send(sock, src, action)
        except OSError as exc:
            self._send_dropped(exc.strerror or str(exc))

    def _send(self, sock: VrrpSocket, src: IPAddress, action: SendAdvert) -> None:
        cfg = self.plan.router_config
        if action.ah_seq is not None and isinstance(src, ipaddress.IPv4Address):
            for dst_text, dst in self.dst_ips:
                assert isinstance(dst, ipaddress.IPv4Address)
                self.ip_id = (self.ip_id % 0xFFFF) + 1  # keepalived skips 0
                sock.send_datagram(packet.build_ipv4_ah(
                    action.advert, src, dst, cfg.auth_pass, action.ah_seq, self.ip_id,
                    unicast=self.plan.unicast), dst_text)
            return
        if action.advert is not self._encoded_for:
            self._encoded = tuple(packet.encode(action.advert, src, dst,
                                                v3_checksum_as_v2=cfg.v3_checksum_as_v2)
                                  for _, dst in self.dst_ips)
            self._encoded_for = action.advert
        for (dst_text, _), payload in zip(self.dst_ips, self._encoded, strict=True):
            sock.send(payload, dst_text, src=self.src)

    def _send_dropped(self, why: str) -> None:
        self.send_errors += 1
        self._send_drops.drop("send", self.loop.time(), "(%s) advert not sent: %s (%d so far)",
                              self.name, why, self.send_errors)

    def vips_added(self, refused: Mapping[VipSpec, Refusal]) -> None:
        """The batch added the addresses but ``refused``: each refusal is logged once with
        the address and errno (again only if its cause changes), a VIP added after it had
        been refused is logged too, and :meth:`vip_installed` tells which are there.

        keepalived 2.2.7 goes on to MASTER with the other addresses (seen: an IPv6 VIP on an
        interface with IPv6 disabled, "Netlink: error: Permission denied(13)"); so does this
        instance. A VIP whose interface is gone does not get here: that interface is tracked
        and the instance is in FAULT (daemon.instance.tracking).
        """
        for vip in self.plan.all_addresses:
            before = self.vip_errors.get(vip)
            refusal = refused.get(vip)
            if refusal is None:
                if before is not None:
                    del self.vip_errors[vip]
                    log.info("(%s) VIP %s added on %s (it had been refused: %s)", self.name,
                             vip.address, vip.dev, before)
                continue
            why = describe_refusal(refusal)
            self.vip_errors[vip] = why
            log.log(logging.DEBUG if why == before else logging.ERROR,
                    "(%s) cannot add VIP %s on %s: %s - going on without it", self.name,
                    vip.address, vip.dev, why)

    def vip_installed(self, vip: VipSpec) -> bool:
        """Whether ``vip`` is on its interface by our doing now."""
        return self.vips_installed and vip not in self.vip_errors

    def vips_status(self) -> list[dict[str, Any]]:
        """Each VIP and excluded VIP, whether it is installed, and why not if refused."""
        excluded = set(self.plan.excluded)
        return [{"address": vip.address, "dev": vip.dev, "excluded": vip in excluded,
                 "installed": self.vip_installed(vip), "error": self.vip_errors.get(vip)}
                for vip in self.plan.all_addresses]

    def install_extras(self) -> None:
        """After the batch added the addresses: routes, rules and the no_accept firewall."""
        mgr = self.batch.addresses
        for route in self.plan.routes:
            mgr.add_route(route)
        for rule in self.plan.rules:
            mgr.add_rule(rule)
        if self.plan.no_accept:
            self.firewall.add_vips([v.ip for v in self.plan.all_addresses])
        self.vips_installed = True

    def remove_vips(self, only: list[VipSpec] | None = None) -> None:
        """Remove the instance's addresses, routes and rules (``only``: just these VIPs)."""
        self.batch.cancel(self)
        mgr = self.batch.addresses
        if only is not None:
            mgr.remove_many(only)
            return
        if not self.vips_installed and not any(mgr.present(v) for v in self.plan.vips):
            return
        for rule in self.plan.rules:
            with contextlib.suppress(OSError):
                mgr.remove_rule(rule)
        for route in self.plan.routes:
            with contextlib.suppress(OSError):
                mgr.remove_route(route)
        mgr.remove_many(self.plan.all_addresses)
        if self.plan.no_accept:
            self.firewall.remove_vips([v.ip for v in self.plan.all_addresses])
        self.vips_installed = False

    def gratuitous_round(self) -> None:
        """One round of GARP/NA for every VIP; vrrp_garp_interval spaces the frames. None
        while handing over: the clients are the new master's."""
        if self.router.state is not State.MASTER or self.router.leaving:
            return
        interval = self.plan.garp_interval
        if interval <= 0:
            for announcer in self.announcers:
                announcer.send()
            return
        task = self.loop.create_task(self._gratuitous_spaced(interval))
        if self.garp_tasks is None:
            self.garp_tasks = set()
        self.garp_tasks.add(task)
        task.add_done_callback(self.garp_tasks.discard)

    async def _gratuitous_spaced(self, interval: float) -> None:
        for announcer in self.announcers:
            for address in announcer.addresses:
                if self.router.state is not State.MASTER or self.router.leaving:
                    return
                one = gratuitous.Announcer(announcer.ifname, [address])
                one.send()
                await asyncio.sleep(interval)

    def invalidate_gratuitous(self) -> None:
        """A link changed: MACs, indexes and sockets are looked up again on the next round."""
        for announcer in self.announcers:
            announcer.invalidate()

    def state_changed(self, change: StateChange) -> None:
        self.availability.transition(self.loop.time(), change.old.value, change.new.value,
                                     change.reason)
        if change.new is State.STOP:
            log.info("(%s) Stopped", self.name)
        else:
            log.info("(%s) Entering %s STATE", self.name, change.new.value)
        self.notifier.instance_changed(self.name, change.new.value, self.router.priority,
                                       self.plan.notify)

    # ----------------------------------------------------------------- stop
    def cleanup(self, release_vips: bool) -> None:
        """Nothing of ours left behind: VIPs, routes, rules, VMAC."""
        if release_vips:
            with contextlib.suppress(OSError):
                self.remove_vips()
        for task in self.garp_tasks or ():
            task.cancel()
        if self.plan.vmac:
            from pykeepalived.net import vmac

            self.firewall.remove_vmac(self.plan.vmac, self.plan.family)
            with contextlib.suppress(OSError):
                vmac.delete_vmac(self.plan.vmac)
