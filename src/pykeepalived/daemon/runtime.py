"""One running vrrp_instance: a router and what makes its decisions real.

``InstanceRuntime`` carries out the actions of one router (adverts to the wire, VIPs into the
kernel, gratuitous ARP rounds, notify scripts) and asks the shared scheduler for its timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from typing import TYPE_CHECKING

from pykeepalived.daemon.instance import InstancePlan, notify_scripts
from pykeepalived.net import gratuitous, interfaces
from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import (
    Action,
    AddVips,
    RemoveVips,
    SendAdvert,
    SendGratuitous,
    State,
    StateChange,
)
from pykeepalived.vrrp.router import VirtualRouter

if TYPE_CHECKING:
    from pykeepalived.config.model_vrrp import VrrpSyncGroup
    from pykeepalived.daemon.vrrp_main import VrrpProcess
    from pykeepalived.net.vrrp_socket import VrrpSocket
    from pykeepalived.vrrp.sync_group import SyncGroup

log = logging.getLogger("pykeepalived.vrrp")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class InstanceRuntime:
    """A router plus the sockets, addresses and timer that make it real."""

    def __init__(self, proc: VrrpProcess, plan: InstancePlan) -> None:
        self.proc = proc
        self.plan = plan
        self.router = VirtualRouter(plan.router_config)
        self.socket: VrrpSocket | None = None  # sends and receives (on the VMAC with use_vmac)
        self.sched_when: float | None = None  # owned by daemon.timers.Scheduler
        self.sync_group: SyncGroup | None = None
        self.sync_group_config: VrrpSyncGroup | None = None
        self.vips_installed = False
        self.src: str | None = plan.src
        self.own_addresses: set[IPAddress] = set()
        self.src_ip: IPAddress | None = None
        self.dst_ips = [(d, ipaddress.ip_address(d)) for d in plan.destinations]
        # gratuitous ARP / unsolicited NA, frames pre-built per interface the VIPs live on
        by_dev: dict[str, list[str]] = {}
        for vip in plan.all_addresses:
            by_dev.setdefault(vip.dev, []).append(vip.ip)
        self.announcers = [gratuitous.Announcer(dev, ips) for dev, ips in by_dev.items()]
        self.garp_tasks: set[asyncio.Task[None]] = set()
        self.ip_id = 0
        # The router hands out the same Advert object until something in it changes: encode
        # it once per destination and reuse the bytes (the per-advert path stays cheap).
        self._encoded_for: packet.Advert | None = None
        self._encoded: list[bytes] = []
        self.scripts = plan.notify

    # ----------------------------------------------------------------- set-up
    def prepare(self) -> None:
        """Create the VMAC, learn our source address (RFC 5798 5.1.1.1 / 5.1.2.1)."""
        plan = self.plan
        if plan.vmac:
            from pykeepalived.net import vmac

            vmac.create_vmac(plan.ifname, plan.router_config.vrid, plan.family, plan.vmac)
        if self.src is None:
            self.src = interfaces.primary_address(plan.xmit_ifname, plan.family) or \
                interfaces.primary_address(plan.ifname, plan.family)
        if self.src is None:
            log.warning("(%s) no %s address on %s: adverts cannot be sent until one is added",
                        plan.name, "IPv4" if plan.family == 4 else "IPv6", plan.ifname)
        else:
            self.src_ip = ipaddress.ip_address(self.src)
            self.router.set_primary_address(self.src_ip)
            self._encoded_for = None
        self.proc.addresses.warm(self.plan.all_addresses)
        primary = interfaces.primary_address(self.plan.ifname, self.plan.family)
        self.own_addresses = {ipaddress.ip_address(a) for a in (primary, self.src) if a}

    def is_own_source(self, src: IPAddress) -> bool:
        """Our own adverts looped back (unicast to self, or a shared segment): never fed back."""
        return src in self.own_addresses

    # ----------------------------------------------------------------- timer
    def arm_timer(self) -> None:
        """Ask the shared scheduler for a call-back at the router's next deadline."""
        when = self.router.get_timer()
        if when is None:
            self.proc.scheduler.disarm(self)
        else:
            self.proc.scheduler.arm(self, when)

    def cancel_timer(self) -> None:
        self.proc.scheduler.disarm(self)

    # ----------------------------------------------------------------- actions
    def carry_out(self, actions: list[Action]) -> None:
        # A new master's first advert is what ends the takeover on the wire: send it before
        # the state change is logged and notified, not after.
        for i in range(len(actions) - 1):
            if isinstance(actions[i], StateChange) and isinstance(actions[i + 1], SendAdvert):
                actions[i], actions[i + 1] = actions[i + 1], actions[i]
        for action in actions:
            try:
                if isinstance(action, SendAdvert):
                    self.send_advert(action)
                elif isinstance(action, AddVips):
                    self.add_vips()
                elif isinstance(action, RemoveVips):
                    self.remove_vips()
                elif isinstance(action, SendGratuitous):
                    self.send_gratuitous()
                elif isinstance(action, StateChange):
                    self.state_changed(action)
            except OSError as exc:
                # The kernel refused (interface gone, address clash...): log, keep the protocol up.
                log.error("(%s) %s failed: %s", self.plan.name, type(action).__name__, exc)

    def send_advert(self, action: SendAdvert) -> None:
        sock = self.socket
        src = self.src_ip
        if sock is None or src is None:
            return
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
            self._encoded = [packet.encode(action.advert, src, dst,
                                           v3_checksum_as_v2=cfg.v3_checksum_as_v2)
                             for _, dst in self.dst_ips]
            self._encoded_for = action.advert
        for (dst_text, _), payload in zip(self.dst_ips, self._encoded, strict=True):
            sock.send(payload, dst_text, src=self.src)

    def add_vips(self) -> None:
        """Queue the VIPs: the process installs every queued instance's in one netlink batch
        once the current event is handled (``VrrpProcess.flush``)."""
        self.proc.queue_vips(self)

    def install_extras(self) -> None:
        """After the batch added the addresses: routes, rules and the no_accept firewall."""
        mgr = self.proc.addresses
        for route in self.plan.routes:
            mgr.add_route(route)
        for rule in self.plan.rules:
            mgr.add_rule(rule)
        if self.plan.no_accept:
            self.proc.tracker.firewall_add(self)
        self.vips_installed = True

    def remove_vips(self) -> None:
        self.proc.unqueue_vips(self)
        if not self.vips_installed and not any(
                self.proc.addresses.present(v) for v in self.plan.vips):
            return
        mgr = self.proc.addresses
        for rule in self.plan.rules:
            with contextlib.suppress(OSError):
                mgr.remove_rule(rule)
        for route in self.plan.routes:
            with contextlib.suppress(OSError):
                mgr.remove_route(route)
        mgr.remove_many(self.plan.all_addresses)
        if self.plan.no_accept:
            self.proc.tracker.firewall_remove(self)
        self.vips_installed = False

    def send_gratuitous(self) -> None:
        """Queue one round of GARP/NA: sent after the VIPs of this event are installed."""
        self.proc.queue_gratuitous(self)

    def gratuitous_round(self) -> None:
        """One round of GARP/NA for every VIP; vrrp_garp_interval spaces the frames."""
        if self.router.state is not State.MASTER:
            return
        interval = self.plan.garp_interval
        if interval <= 0:
            for announcer in self.announcers:
                announcer.send()
            return
        task = self.proc.loop.create_task(self._gratuitous_spaced(interval))
        self.garp_tasks.add(task)
        task.add_done_callback(self.garp_tasks.discard)

    async def _gratuitous_spaced(self, interval: float) -> None:
        for announcer in self.announcers:
            for address in announcer.addresses:
                if self.router.state is not State.MASTER:
                    return
                one = gratuitous.Announcer(announcer.ifname, [address])
                one.send()
                await asyncio.sleep(interval)

    def invalidate_gratuitous(self) -> None:
        """A link changed: MACs, indexes and sockets are looked up again on the next round."""
        for announcer in self.announcers:
            announcer.invalidate()

    def state_changed(self, change: StateChange) -> None:
        name = self.plan.name
        if change.new is State.STOP:
            log.info("(%s) Stopped", name)
        else:
            log.info("(%s) Entering %s STATE", name, change.new.value)
        self.proc.tracker.notifier.instance_changed(name, change.new.value,
                                                    self.router.priority, self.scripts)

    def group_action(self, sg: SyncGroup, action: Action) -> None:
        if isinstance(action, StateChange):
            assert self.sync_group_config is not None
            scripts = notify_scripts(self.sync_group_config)
            self.proc.tracker.notifier.group_changed(sg.name, action.new.value, scripts)

    # ----------------------------------------------------------------- stop
    def cleanup(self) -> None:
        """Nothing of ours left behind: VIPs, routes, rules, VMAC."""
        if self.proc.release_vips:
            with contextlib.suppress(OSError):
                self.remove_vips()
        for task in self.garp_tasks:
            task.cancel()
        if self.plan.vmac:
            from pykeepalived.net import vmac

            with contextlib.suppress(OSError):
                vmac.delete_vmac(self.plan.vmac)
