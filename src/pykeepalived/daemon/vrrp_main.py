"""The VRRP process: drives every virtual router of the configuration on one asyncio loop.

The routers (``pykeepalived.vrrp``) are pure state machines. This module is the thin shell around
them: it moves packets between the shared raw sockets and the routers, keeps their deadlines in
one scheduler (``daemon.timers``), carries out the actions they return (adverts, VIPs, gratuitous
ARP, notify scripts) and feeds them tracking results (interfaces, scripts, files). Time is the
monotonic clock, the one ``loop.time()`` reads.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from typing import Any

from pykeepalived.daemon import release
from pykeepalived.daemon.instance import InstancePlan, plan_instance
from pykeepalived.daemon.runtime import InstanceRuntime
from pykeepalived.daemon.timers import Scheduler
from pykeepalived.daemon.tracker import Tracker
from pykeepalived.net.addresses import AddressManager
from pykeepalived.net.reflector import NetlinkReflector
from pykeepalived.net.vrrp_socket import ReceivedPacket, VrrpSocket
from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import State
from pykeepalived.vrrp.sync_group import SyncGroup

log = logging.getLogger("pykeepalived.vrrp")

VRRP_PROTO = 112
AH_PROTO = 51
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class VrrpProcess:
    """All virtual routers of one configuration, their sockets, trackers and notifications."""

    def __init__(self, config: Any, *, release_vips: bool = True) -> None:
        self.config = config
        self.release_vips = release_vips
        self.loop = asyncio.get_event_loop()
        self.scheduler: Scheduler[InstanceRuntime] = Scheduler(self.loop, self.on_timer)
        self.addresses = AddressManager()
        self.instances: dict[str, InstanceRuntime] = {}
        self.by_key: dict[tuple[str, int, int], InstanceRuntime] = {}
        self.sockets: dict[tuple[str, int, int], VrrpSocket] = {}
        self.sync_groups: dict[str, SyncGroup] = {}
        self.sync_members: dict[str, list[InstanceRuntime]] = {}
        self.tracker = Tracker(self)
        self.reflector: NetlinkReflector | None = None
        self.invalid_packets: dict[str, int] = {}
        # datagrams that decoded cleanly, by (interface, addresses, VRRP message)
        self._decoded: dict[tuple[str, bytes, bytes], tuple[InstanceRuntime, IPAddress,
                                                            packet.Advert]] = {}
        # work that batches across instances, flushed once the current event is handled
        self._pending_vips: dict[InstanceRuntime, None] = {}
        self._pending_gratuitous: list[InstanceRuntime] = []
        self._flush_scheduled = False

    # ------------------------------------------------------------------ setup
    def build(self) -> None:
        """Create the runtime objects; touches nothing in the kernel yet."""
        gdefs = self.config.global_defs
        for name, inst in self.config.vrrp_instances.items():
            plan: InstancePlan = plan_instance(inst, gdefs)
            rt = InstanceRuntime(self, plan)
            self.instances[name] = rt
            self.by_key[plan.key] = rt
        self.build_sync_groups()

    def build_sync_groups(self) -> None:
        """vrrp_sync_group blocks over the current instances (at start and after a reload)."""
        self.sync_groups = {}
        self.sync_members = {}
        for rt in self.instances.values():
            rt.sync_group = None
            rt.router.sync_group = None  # a router kept across a reload leaves its old group
        for name, group in self.config.vrrp_sync_groups.items():
            members = [self.instances[m] for m in group.group if m in self.instances]
            if not members:
                continue
            sg = SyncGroup(name, [m.router for m in members])
            self.sync_groups[name] = sg
            self.sync_members[name] = members
            for member in members:
                member.sync_group = sg
                member.sync_group_config = group

    def _socket_for(self, ifname: str, family: int, rt: InstanceRuntime,
                    protocol: int = VRRP_PROTO) -> VrrpSocket:
        """The shared socket of (interface, family, protocol), joined to ``rt``'s group."""
        key = (ifname, family, protocol)
        sock = self.sockets.get(key)
        group = None if rt.plan.unicast else rt.plan.destinations[0]
        if sock is None:
            sock = VrrpSocket.open(ifname, family, multicast_group=group, src=None,
                                   on_packet=self.on_packet, loop=self.loop, protocol=protocol)
            self.sockets[key] = sock
        elif group is not None:
            sock.join(group)
        return sock

    def attach(self, rt: InstanceRuntime) -> None:
        """Give ``rt`` its socket, on its VMAC or its interface, for sending and receiving."""
        plan = rt.plan
        rt.socket = self._socket_for(plan.xmit_ifname, plan.family, rt)
        if plan.router_config.auth_type == "AH" and plan.family == 4:
            self._socket_for(plan.xmit_ifname, plan.family, rt, AH_PROTO)

    async def start(self) -> None:
        """Open sockets, start trackers and routers."""
        self.reflector = NetlinkReflector(on_link=self.tracker.on_link,
                                          on_address=self.tracker.on_address)
        self.reflector.start(self.loop)
        now = self.loop.time()
        self.tracker.open_fifo()
        for rt in self.instances.values():
            try:
                rt.prepare()
                self.attach(rt)
            except OSError as exc:
                # keepalived: an instance whose interface is missing stays in FAULT
                log.error("(%s) cannot use interface %s: %s", rt.plan.name, rt.plan.ifname, exc)
                rt.router.set_fault(now, f"interface {rt.plan.ifname} unusable")
        self.remove_stale_addresses()
        await self.tracker.start()
        for rt in self.instances.values():
            self.tracker.apply(rt, now)
            rt.router.start(now)
            self.process(rt)

    def remove_stale_addresses(self) -> None:
        """Every instance starts without its VIPs, as keepalived does ("removing VIPs")."""
        release.remove_stale_addresses(self.addresses,
                                       [rt.plan for rt in self.instances.values()])

    # ------------------------------------------------------------------ packets
    def on_packet(self, pkt: ReceivedPacket) -> None:
        """One datagram from a VRRP socket: decode, find the router, feed it.

        A master repeats the same bytes every advert_int, so a datagram identical (same
        interface, addresses and VRRP message) to one that decoded cleanly before is handed
        to its router without decoding it again; the router still makes every per-advert
        check (TTL, priority, timers). AH datagrams always take the full path (their
        sequence number changes each time anyway).
        """
        now = pkt.rx_time or self.loop.time()
        data = pkt.data
        key: tuple[str, bytes, bytes] | None = None
        if pkt.family == 4:
            if len(data) > 20 and data[9] == VRRP_PROTO:
                key = (pkt.ifname, data[12:20], data[(data[0] & 0x0F) * 4:])
        else:
            key = (pkt.ifname, f"{pkt.src} {pkt.dst}".encode(), data)
        if key is not None:
            seen = self._decoded.get(key)
            if seen is not None:
                rt_seen, src_seen, advert_seen = seen
                rt_seen.router.receive_advert(advert_seen, src_seen, now,
                                              ttl=data[8] if pkt.family == 4 else pkt.ttl)
                self.process(rt_seen)
                return
        ah_seq: int | None = None
        try:
            if pkt.family == 4:
                ip = packet.decode_ipv4(pkt.data)
                src: IPAddress = ip.src
                payload = ip.vrrp
                ttl = ip.ttl
            else:
                src = ipaddress.ip_address(pkt.src)
                payload = pkt.data
                ttl = pkt.ttl
        except (packet.PacketError, ValueError) as exc:
            # not attributable to an instance: counted (and logged, rate-limited) here
            self._count_invalid(getattr(exc, "reason", "malformed"), pkt)
            return
        vrid = payload[1] if len(payload) > 1 else -1
        rt = self.by_key.get((pkt.ifname, pkt.family, vrid))
        if rt is None:
            # A VRID we do not run: other groups share the LAN; keepalived ignores it too.
            return
        if rt.is_own_source(src):
            return
        cfg = rt.plan.router_config
        try:
            if pkt.family == 4:
                use_ah = cfg.auth_type == "AH" and ip.ah is not None
                advert = packet.decode_received(
                    ip, ah_auth_pass=cfg.auth_pass if use_ah else None, unicast=rt.plan.unicast,
                    accept_v3_checksum_as_v2=cfg.v3_checksum_as_v2)
                ah_seq = ip.ah.seq if use_ah and ip.ah is not None else None
            else:
                advert = packet.decode(payload, src, ipaddress.ip_address(pkt.dst),
                                       accept_v3_checksum_as_v2=cfg.v3_checksum_as_v2)
        except packet.PacketError as exc:
            rt.router.receive_invalid(exc.reason, now)  # counts and logs, rate-limited
            return
        if key is not None and ah_seq is None:
            if len(self._decoded) >= 4096:
                self._decoded.clear()
            self._decoded[key] = (rt, src, advert)
        rt.router.receive_advert(advert, src, now, ttl=ttl, ah_seq=ah_seq)
        self.process(rt)

    def forget_decoded(self) -> None:
        """Drop the decoded-datagram cache (the instances it points at are being replaced)."""
        self._decoded.clear()

    def _count_invalid(self, reason: str, pkt: ReceivedPacket) -> None:
        count = self.invalid_packets.get(reason, 0) + 1
        self.invalid_packets[reason] = count
        if count & (count - 1) == 0:  # 1, 2, 4, 8 ...: rate-limited
            log.warning("Dropped invalid VRRP packet from %s on %s: %s (%d so far)",
                        pkt.src, pkt.ifname, reason, count)

    # ------------------------------------------------------------------ actions
    def process(self, rt: InstanceRuntime) -> None:
        """Carry out what the router (and its sync group) asked for; re-arm its timer."""
        rt.carry_out(rt.router.actions())
        sg = rt.sync_group
        if sg is not None:
            sg.after_event(self.loop.time())
            for member in self.sync_members[sg.name]:
                if member is not rt:
                    member.carry_out(member.router.actions())
                    member.arm_timer()
            for change in sg.actions():
                rt.group_action(sg, change)
        rt.arm_timer()

    def queue_vips(self, rt: InstanceRuntime) -> None:
        self._pending_vips[rt] = None
        self._schedule_flush()

    def unqueue_vips(self, rt: InstanceRuntime) -> None:
        self._pending_vips.pop(rt, None)

    def queue_gratuitous(self, rt: InstanceRuntime) -> None:
        self._pending_gratuitous.append(rt)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        """Install the VIPs of every instance that became MASTER in the last event, in one
        netlink batch, then send their gratuitous ARP/NA rounds.

        A thousand instances whose timers expire together would otherwise take turns: each
        one's VIP waiting for the others' gratuitous frames.
        """
        self._flush_scheduled = False
        pending = list(self._pending_vips)
        self._pending_vips.clear()
        if pending:
            try:
                self.addresses.add_many([v for rt in pending for v in rt.plan.all_addresses])
            except OSError as exc:
                log.error("Adding VIPs failed: %s", exc)
            for rt in pending:
                try:
                    rt.install_extras()
                except OSError as exc:
                    log.error("(%s) installing routes/rules failed: %s", rt.plan.name, exc)
        rounds = self._pending_gratuitous
        self._pending_gratuitous = []
        for rt in rounds:
            rt.gratuitous_round()

    def on_timer(self, rt: InstanceRuntime, now: float) -> None:
        when = rt.router.get_timer()
        if when is not None and when > now:
            self.scheduler.arm(rt, when)  # the deadline moved later meanwhile
            return
        rt.router.handle_timer(now)
        self.process(rt)

    # ------------------------------------------------------------------ stop
    async def stop(self) -> None:
        """TERM: priority-0 adverts, VIPs removed, notify_stop run, sockets closed."""
        now = self.loop.time()
        self.flush()
        for rt in self.instances.values():
            rt.router.shutdown(now)
            rt.carry_out(rt.router.actions())
            rt.cancel_timer()
        # The last member to stop moves its group to STOP: keepalived reports that too
        # (`GROUP "G1" STOP 0`, the group's notify_stop and notify scripts).
        for rt in self.instances.values():
            sg = rt.sync_group
            if sg is not None:
                for change in sg.actions():
                    rt.group_action(sg, change)
        await self.tracker.stop()
        for rt in self.instances.values():
            rt.cleanup()
        await self.tracker.drain_notifications()
        for sock in self.sockets.values():
            sock.close()
        self.scheduler.close()
        if self.reflector is not None:
            self.reflector.stop()

    def states(self) -> dict[str, State]:
        return {name: rt.router.state for name, rt in self.instances.items()}


async def run_vrrp(config: Any, *, path: str | None = None, config_id: str | None = None,
                   release_vips: bool = True) -> int:
    """Run the VRRP process until TERM/INT; HUP reloads, USR1/USR2 dump data and stats."""
    from pykeepalived.daemon import dumps
    from pykeepalived.daemon.reload import reload

    proc = VrrpProcess(config, release_vips=release_vips)
    proc.build()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, lambda: dumps.write_data(proc))
    loop.add_signal_handler(signal.SIGUSR2, lambda: dumps.write_stats(proc))
    reloads: set[asyncio.Task[bool]] = set()
    # start, each reload and stop run one at a time, however fast HUPs arrive
    busy = asyncio.Lock()

    async def guarded_reload(config_path: str) -> bool:
        async with busy:
            return await reload(proc, config_path, config_id)

    def on_hup() -> None:
        if path is None:
            log.warning("Reload requested but no configuration file is known")
            return
        task = loop.create_task(guarded_reload(path))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hup)
    async with busy:
        await proc.start()
    await stop.wait()
    log.info("Stopping")
    async with busy:
        await proc.stop()
    return 0
