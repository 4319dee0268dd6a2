"""The VRRP process: drives every virtual router of the configuration on one asyncio loop.

The routers and sync groups (``pykeepalived.vrrp``) are pure state machines. This module is the
thin shell around them: it moves packets between the shared raw sockets and the routers, keeps
their deadlines in one scheduler (``daemon.timers``), hands them what tracking observed, and
carries out the actions they return, in the order returned (through ``InstanceRuntime``). Every
input of an instance goes through its sync group (a group of one for an instance outside any
vrrp_sync_group). Time is the monotonic clock, the one ``loop.time()`` reads.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from collections.abc import Callable, Iterable
from typing import Any

from pykeepalived.daemon import release, vrrp_control
from pykeepalived.daemon.decoded import DecodedCache
from pykeepalived.daemon.instance import InstancePlan, as_setup, notify_scripts
from pykeepalived.daemon.kernel import FirewallWorker, VipBatch
from pykeepalived.daemon.runtime import FAULT_ADDRESS, FAULT_INTERFACE, InstanceRuntime
from pykeepalived.daemon.timers import Scheduler
from pykeepalived.daemon.tracker import Tracker
from pykeepalived.daemon.tuning import ProcessTuning
from pykeepalived.net import routes
from pykeepalived.net.addresses import AddressManager
from pykeepalived.net.reflector import NetlinkReflector
from pykeepalived.net.vrrp_socket import ReceivedPacket, VrrpSocket
from pykeepalived.notify.fifo import NotifyFifo
from pykeepalived.notify.notifier import Notifier
from pykeepalived.notify.script import ScriptRunner
from pykeepalived.notify.smtp import SHUTDOWN_DRAIN
from pykeepalived.notify.smtp_alerts import VrrpAlerts
from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import GroupStateChange, State, StateChange
from pykeepalived.vrrp.router import VirtualRouter
from pykeepalived.vrrp.sync_group import Emitted, SyncGroup

log = logging.getLogger("pykeepalived.vrrp")

VRRP_PROTO = 112
AH_PROTO = 51
HANDOVER_SLACK = 1.0  # beyond the longest Master_Down_Interval, the stop waits no more
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class VrrpProcess:
    """All virtual routers of one configuration, their sockets, trackers and notifications."""

    def __init__(self, config: Any, *, release_vips: bool = True) -> None:
        """``config``: a :class:`~pykeepalived.daemon.instance.VrrpSetup` (what the daemon
        gives), or a parsed model, planned here."""
        setup = as_setup(config)
        # the model without its vrrp_instance blocks: the plans stand for them
        self.config: Any = setup.config
        config = setup.config
        self.plans = setup.plans
        self.release_vips = release_vips
        self.loop = asyncio.get_event_loop()
        self.scheduler: Scheduler[InstanceRuntime] = Scheduler(self.loop, self.on_timer)
        self.batch = VipBatch(self.loop, AddressManager())
        self.firewall = FirewallWorker()
        gdefs = config.global_defs
        self.runner = ScriptRunner(user=gdefs.script_user, group=gdefs.script_group,
                                   security=bool(gdefs.enable_script_security))
        self.fifo: NotifyFifo | None = None
        self.notifier = Notifier(self.runner, None)
        self.alerts = self.notifier.alerts = VrrpAlerts(config, instances=setup.smtp_alert)
        self.instances: dict[str, InstanceRuntime] = {}
        self.groups: dict[str, SyncGroup] = {}  # vrrp_sync_group name -> group
        self.by_key: dict[tuple[str, int, int], InstanceRuntime] = {}
        self.by_router: dict[VirtualRouter, InstanceRuntime] = {}
        self.watchers: dict[str, list[SyncGroup]] = {}  # tracked object -> groups watching
        self.sockets: dict[tuple[str, int, int], VrrpSocket] = {}
        self.tracker = Tracker(config, self.runner, self.on_tracked)
        self.reflector: NetlinkReflector | None = None
        self.invalid_packets: dict[str, int] = {}
        self._decoded: DecodedCache[tuple[InstanceRuntime, IPAddress, packet.Advert]] = \
            DecodedCache()
        self._all_stopped: asyncio.Event | None = None  # set while TERM waits for hand-overs
        self.tuning = ProcessTuning("vrrp")  # vrrp_priority & co, the collector

    # ------------------------------------------------------------------ setup
    def build(self) -> None:
        """Create the runtime objects; touches nothing in the kernel yet."""
        for name, plan in self.plans.items():
            self._register(name, self._runtime(plan))
        self._build_groups({})

    def _runtime(self, plan: InstancePlan) -> InstanceRuntime:
        ignored = routes.unsupported([*plan.routes, *plan.rules])
        if ignored:
            log.warning("(%s) virtual_routes/virtual_rules option(s) not supported by "
                        "pykeepalived, not given to the kernel: %s", plan.name,
                        ", ".join(ignored))
        return InstanceRuntime(plan, loop=self.loop, batch=self.batch, firewall=self.firewall,
                               notifier=self.notifier)

    def _register(self, name: str, rt: InstanceRuntime) -> None:
        self.instances[name] = rt
        self.by_key[rt.plan.key] = rt
        self.by_router[rt.router] = rt

    def _build_groups(self, previous: dict[str, State]) -> None:
        """vrrp_sync_group blocks over the current instances; the others run on their own."""
        self.groups = {}
        grouped: set[str] = set()
        for name, group in self.config.vrrp_sync_groups.items():
            members = [self.instances[m] for m in group.group if m in self.instances]
            if not members:
                continue
            sg = SyncGroup(name, [m.router for m in members],
                           state=previous.get(name, State.INIT))
            self.groups[name] = sg
            for member in members:
                member.group = sg
                grouped.add(member.name)
        for name, rt in self.instances.items():
            if name not in grouped:
                rt.group = SyncGroup.solo(rt.router)
        self.watchers = {}
        for group in self.all_groups():
            for obj in {t.obj for r in group.routers for t in r.tracking.entries}:
                self.watchers.setdefault(obj, []).append(group)

    def all_groups(self) -> list[SyncGroup]:
        """Every group the process drives: the sync groups and each solo instance's."""
        seen: dict[int, SyncGroup] = {}
        for rt in self.instances.values():
            if rt.group is not None:
                seen.setdefault(id(rt.group), rt.group)
        return list(seen.values())

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

    def prepare(self, rt: InstanceRuntime) -> None:
        """Make ``rt`` able to send: its VMAC, its socket, its source address.

        A router that cannot send adverts must never hold the VIPs (it would be a silent
        second master), so each failure is a fault of its own source, cleared only when a
        later attempt (on a link or address event) succeeds.
        """
        group = rt.group
        assert group is not None
        now = self.loop.time()
        plan = rt.plan
        try:
            rt.prepare()
            rt.socket = self._socket_for(plan.xmit_ifname, plan.family, rt)
            if plan.router_config.auth_type == "AH" and plan.family == 4:
                self._socket_for(plan.xmit_ifname, plan.family, rt, AH_PROTO)
        except OSError as exc:
            # keepalived: an instance whose interface is unusable stays in FAULT
            log.error("(%s) cannot use interface %s: %s", plan.name, plan.ifname, exc)
            rt.socket = None
            self.emit(group.set_fault(rt.router, FAULT_INTERFACE,
                                      f"interface {plan.ifname} unusable: {exc}", now))
            return
        self.emit(group.clear_fault(rt.router, FAULT_INTERFACE, now))
        if rt.src_ip is None:
            log.warning("(%s) no %s address on %s: in FAULT until one is added", plan.name,
                        "IPv4" if plan.family == 4 else "IPv6", plan.ifname)
            self.emit(group.set_fault(rt.router, FAULT_ADDRESS,
                                      f"no IPv{plan.family} address on {plan.xmit_ifname}",
                                      now))
        else:
            self.emit(group.clear_fault(rt.router, FAULT_ADDRESS, now))
        self.arm(group)

    async def start(self) -> None:
        """Open sockets, start trackers and routers."""
        self.reflector = NetlinkReflector(on_link=self.on_link, on_address=self.on_address)
        self.reflector.start(self.loop)
        self.open_fifo()
        for rt in self.instances.values():
            self.prepare(rt)
        self.remove_stale_addresses()
        self.tracker.start(self.watchers)
        now = self.loop.time()
        for group in self.all_groups():
            self.emit(group.start(now))
            self.arm(group)

    def open_fifo(self) -> None:
        """vrrp_notify_fifo (or the global notify_fifo) and its reader script."""
        gdefs = self.config.global_defs
        fifo_cfg = gdefs.vrrp_notify_fifo or gdefs.notify_fifo
        if fifo_cfg is None:
            return
        script_cfg = (gdefs.vrrp_notify_fifo_script if gdefs.vrrp_notify_fifo is not None
                      else gdefs.notify_fifo_script)
        self.fifo = NotifyFifo(fifo_cfg.name, script_cfg.command if script_cfg else None,
                               self.runner, user=fifo_cfg.user, group=fifo_cfg.group)
        self.fifo.open()
        self.notifier.fifo = self.fifo

    def remove_stale_addresses(self) -> None:
        """Every instance starts without its VIPs, as keepalived does ("removing VIPs")."""
        release.remove_stale_addresses(self.batch.addresses,
                                       [rt.plan for rt in self.instances.values()])

    # ------------------------------------------------------------------ inputs
    def on_packet(self, pkt: ReceivedPacket) -> None:
        """One datagram from a VRRP socket: decode, find the router, feed its group.

        A datagram identical to one that decoded cleanly before skips decoding
        (:mod:`daemon.decoded`). AH datagrams always take the full path (their sequence number
        changes each time anyway).
        """
        ifname, family, _, _, ttl, data, _, now = pkt  # one unpacking, not five lookups
        if not now:
            now = self.loop.time()
        key: tuple[str, bytes, bytes] | None = None
        if family == 4:
            if len(data) > 20 and data[9] == VRRP_PROTO:
                # DecodedCache.key(ifname, data), written out: this runs for every datagram
                key = (ifname, data[:4] + data[6:10], data[12:])
                ttl = data[8]
        else:
            key = DecodedCache.key(ifname, data, pkt.src, pkt.dst)
        if key is not None:
            seen = self._decoded.get(key)
            if seen is not None:
                rt_seen, src_seen, advert_seen = seen
                self._receive(rt_seen, advert_seen, src_seen, now, ttl, None)
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
        if len(payload) < 2:
            # too short to name a VRID, so no instance to count it: the process counts it
            self._count_invalid("truncated", pkt)
            return
        rt = self.by_key.get((pkt.ifname, pkt.family, payload[1]))
        if rt is None:
            # A VRID we do not run: other groups share the LAN, so keepalived ignores it
            # (logging it only with log_unknown_vrids); counted here, not logged.
            self.invalid_packets["unknown_vrid"] = self.invalid_packets.get("unknown_vrid", 0) + 1
            return
        if rt.is_own_source(src):
            # Our own unicast advert to ourselves (one peer list for every node) is expected;
            # anything else from our address is forged or looped back by the segment.
            if not (rt.plan.unicast and pkt.dst in rt.plan.destinations):
                rt.router.receive_invalid("own_address", now)
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
            self._decoded.put(key, (rt, src, advert))
        self._receive(rt, advert, src, now, ttl, ah_seq)

    def _receive(self, rt: InstanceRuntime, advert: packet.Advert, src: IPAddress, now: float,
                 ttl: int, ah_seq: int | None) -> None:
        group = rt.group
        assert group is not None
        router = rt.router
        out = group.receive_advert(router, advert, src, now, ttl=ttl, ah_seq=ah_seq)
        if out:
            self.emit(out)
            self.arm(group)
            return
        when = router.get_timer()  # arm_one(rt), written out: once per advert received
        if when is None:
            self.scheduler.disarm(rt)
        else:
            self.scheduler.arm(rt, when)

    def _count_invalid(self, reason: str, pkt: ReceivedPacket) -> None:
        count = self.invalid_packets.get(reason, 0) + 1
        self.invalid_packets[reason] = count
        if count & (count - 1) == 0:  # 1, 2, 4, 8 ...: rate-limited
            log.warning("Dropped invalid VRRP packet from %s on %s: %s (%d so far)",
                        pkt.src, pkt.ifname, reason, count)

    def on_timer(self, rt: InstanceRuntime, now: float) -> None:
        when = rt.router.get_timer()
        if when is not None and when <= now and rt.router.state is State.BACKUP \
                and rt.socket is not None:
            # An advert already waiting in the socket is read before the Master_Down_Timer
            # is judged: a process kept off the CPU past the deadline finds the timerfd and
            # the socket ready together, in no set order, and the advert's receive stamp
            # (in time) moves the deadline back out of the past.
            rt.socket.drain()
            when = rt.router.get_timer()
        if when is None:
            return
        if when > now:
            self.scheduler.arm(rt, when)  # the deadline moved later meanwhile
            return
        group = rt.group
        assert group is not None
        self.emit(group.handle_timer(rt.router, now))
        self.arm(group)

    def on_tracked(self, obj: str, status: bool | int | None) -> None:
        """What the tracker observed, to every group with a member watching ``obj``."""
        now = self.loop.time()
        for group in self.watchers.get(obj, ()):
            self.emit(group.track(obj, status, now))
            self.arm(group)

    def on_link(self, ifname: str, up: bool) -> None:
        if self.tracker.on_link(ifname, up):
            for rt in self.instances.values():
                rt.invalidate_gratuitous()
        if up:
            for rt in self.instances.values():
                if FAULT_INTERFACE in rt.router.fault_sources and ifname in (
                        rt.plan.ifname, rt.plan.xmit_ifname):
                    self.prepare(rt)

    def on_address(self, ifname: str, address: str, added: bool) -> None:
        """An address came or went: an instance may now have (or lose) its source address."""
        for rt in self.instances.values():
            if ifname not in (rt.plan.ifname, rt.plan.xmit_ifname) or rt.plan.src is not None:
                continue
            lost = not added and rt.src is not None and address.split("/")[0] == rt.src
            if (added and rt.src_ip is None) or lost:
                self.prepare(rt)

    # ------------------------------------------------------------------ actions
    def emit(self, out: Iterable[Emitted]) -> None:
        """Carry out what the core returned, in its order: each action by its instance, a
        sync group's change by the group's notify scripts."""
        for router, action in out:
            if router is not None:
                self.by_router[router].carry_out(action)
            elif isinstance(action, GroupStateChange):
                self._group_changed(action)
        if self._all_stopped is not None and all(
                rt.router.state is State.STOP for rt in self.instances.values()):
            self._all_stopped.set()

    def _group_changed(self, change: GroupStateChange) -> None:
        group = self.config.vrrp_sync_groups.get(change.group)
        if group is not None:
            self.notifier.group_changed(change.group, change.new.value, notify_scripts(group))

    def arm(self, group: SyncGroup) -> None:
        """Re-arm the timers of every member of ``group`` after an event."""
        for router in group.routers:
            self.arm_one(self.by_router[router])

    def arm_one(self, rt: InstanceRuntime) -> None:
        when = rt.router.get_timer()
        if when is None:
            self.scheduler.disarm(rt)
        else:
            self.scheduler.arm(rt, when)

    # ------------------------------------------------------------------ reload
    async def reload(self, path: str, config_id: str | None) -> bool:
        """SIGHUP: read ``path`` in a child process, then apply it in one step."""
        from pykeepalived.daemon.reload import load_off_loop

        log.info("Reloading configuration %s", path)
        config = await load_off_loop(path, config_id, vrrp=True)
        if config is None:
            return False
        with self.tuning.reloading(lambda: self.config.global_defs):
            self.apply(config)
        return True

    def apply(self, config: Any) -> None:
        """Swap to ``config`` without dropping the VIPs of instances that stay.

        Instances whose plan is unchanged keep running untouched; a changed instance that was
        MASTER restarts as MASTER, so its addresses never leave the interface; removed
        instances stop as on TERM (priority-0 advert, VIPs removed). ``config``: as for
        the constructor.
        """
        now = self.loop.time()
        setup = as_setup(config)
        config = setup.config
        self.alerts.configure(config, instances=setup.smtp_alert)
        old_tracker = self.tracker
        old = self.instances
        previous = {name: g.state for name, g in self.groups.items()}
        self.instances, self.by_key, self.by_router = {}, {}, {}
        self._decoded.clear()
        self.config = config
        self.plans = setup.plans
        fresh: list[InstanceRuntime] = []
        resume: set[VirtualRouter] = set()
        for name, plan in setup.plans.items():
            rt = old.pop(name, None)
            if rt is None or rt.plan != plan:
                if rt is not None:
                    self.scheduler.disarm(rt)
                    gone = [v for v in rt.addresses if v not in plan.all_addresses]
                    rt.remove_vips(only=gone)
                    was_master = rt.router.state is State.MASTER
                    replaced = rt.router
                    rt = self._runtime(plan)
                    rt.router.keep_ah_sequence(replaced)
                    if was_master:
                        resume.add(rt.router)
                        rt.vips_installed = True
                else:
                    rt = self._runtime(plan)
                fresh.append(rt)
            self._register(name, rt)
        for name, gone_rt in old.items():
            log.info("(%s) removed from the configuration", name)
            self.scheduler.disarm(gone_rt)
            gone_rt.router.shutdown(now)
            for action in gone_rt.router.actions():
                if isinstance(action, StateChange):
                    # keepalived.conf(5) notify_deleted: a deleted instance reports DELETED
                    # with it, FAULT without it (the Notifier decides), never STOP
                    self.notifier.instance_changed(name, "DELETED", gone_rt.router.priority,
                                                   gone_rt.plan.notify)
                else:
                    gone_rt.carry_out(action)
            gone_rt.cleanup(self.release_vips)
        self._build_groups(previous)
        for rt in fresh:
            self.prepare(rt)
        self.tracker = Tracker(config, self.runner, self.on_tracked)
        self.tracker.adopt(old_tracker, self.watchers)
        for group in self.all_groups():
            self.emit(group.start(now, resume))
            self.arm(group)
        log.info("Configuration reloaded: %d instances", len(self.instances))

    # ------------------------------------------------------------------ stop
    async def stop(self, hurry: asyncio.Event | None = None) -> None:
        """TERM: every MASTER hands over without loss (priority-0 adverts, VIPs kept until
        the new master is in place, at most Master_Down_Interval), unless
        vrrp_handover_immediate asks for keepalived's immediate release or ``hurry`` (a
        second TERM) is set; then VIPs removed, notify_stop run, sockets closed."""
        self.batch.flush()
        if not self.config.global_defs.vrrp_handover_immediate:
            await self._hand_over_all(hurry)
        now = self.loop.time()
        for group in self.all_groups():
            self.emit(group.shutdown(now))
        for rt in self.instances.values():
            self.scheduler.disarm(rt)
        self.tracker.stop()
        if self.reflector is not None:
            # every instance is STOP: the links and addresses that cleanup() removes must
            # not bring an instance back (an IPv6 VMAC's address going would prepare it anew)
            self.reflector.stop()
            self.reflector = None
        for rt in self.instances.values():
            rt.cleanup(self.release_vips)
        await self.notifier.drain(5.0)
        await self.alerts.aclose(SHUTDOWN_DRAIN)
        if self.fifo is not None:
            await self.fifo.aclose()
        await self.firewall.aclose()
        await self.runner.close()
        for sock in self.sockets.values():
            sock.close()
        self.scheduler.close()
        if self.reflector is not None:
            self.reflector.stop()

    async def _hand_over_all(self, hurry: asyncio.Event | None) -> None:
        """Start every group's hand-over towards STOP, and keep serving the protocol until
        every instance has stopped, the routers' own bounds passed, or ``hurry`` is set."""
        now = self.loop.time()
        self._all_stopped = asyncio.Event()
        for group in self.all_groups():
            self.emit(group.hand_over(now, stop=True))
            self.arm(group)
        leaving = [rt.router for rt in self.instances.values() if rt.router.leaving]
        if not leaving:
            return
        bound = max(r.master_down_interval for r in leaving) + HANDOVER_SLACK
        waits = {asyncio.ensure_future(self._all_stopped.wait())}
        if hurry is not None:
            waits.add(asyncio.ensure_future(hurry.wait()))
        done, pending = await asyncio.wait(waits, timeout=bound,
                                           return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if hurry is not None and hurry.is_set() and not self._all_stopped.is_set():
            log.warning("Second stop signal: releasing the VIPs at once")
        elif not done:
            log.warning("Hand-overs not finished within %.3f s: releasing the VIPs", bound)

    def control(self, request: dict[str, Any]) -> dict[str, Any]:
        """The control socket's requests: ``status`` (the default), and the verbs of
        :mod:`daemon.vrrp_control` (``handover``, ``drain``, ``resume`` with a ``target``)."""
        cmd = request.get("cmd", "status")
        if cmd == "status":
            return self.status(request)
        if cmd not in vrrp_control.VERBS:
            return {"error": f"unknown command {cmd!r}"}
        name = request.get("target")
        if not isinstance(name, str) or not name:
            return {"error": f"{cmd}: give an instance, a sync group or 'all'"}
        groups = vrrp_control.targets(
            name, {n: rt.router for n, rt in self.instances.items()},
            {n: rt.group for n, rt in self.instances.items() if rt.group is not None},
            self.groups, self.all_groups())
        if not groups:
            return {"error": f"{cmd}: no vrrp_instance or vrrp_sync_group named {name!r}"}
        return vrrp_control.run(cmd, groups, self.loop.time(), self.emit, self.arm)

    def states(self) -> dict[str, State]:
        return {name: rt.router.state for name, rt in self.instances.items()}

    def status(self, request: dict[str, Any] | None = None) -> dict[str, Any]:
        """The control socket's answer: every instance and sync group as it is now (with
        ``{"history": true}``, each instance's transitions and failovers too; with
        ``{"process": true}``, only the process's own figures: the whole answer for 1,000
        instances holds the loop for tens of milliseconds), and the datagrams dropped
        before any instance could take them (``invalid_packets``)."""
        process = {**self.tuning.figures(), "timer_lateness": self.scheduler.lateness.figures()}
        if (request or {}).get("process"):
            return {"role": "vrrp", "process": process}
        now = self.loop.time()
        history = bool((request or {}).get("history"))
        instances = []
        for name, rt in self.instances.items():
            r = rt.router
            last = rt.availability.last_transition
            instances.append({
                "name": name, "state": r.state.value, "vrid": r.vrid,
                "interface": rt.plan.ifname, "version": r.version,
                "priority": r.base_priority, "effective_priority": r.priority,
                "master": str(r.master_address) if r.master_address else None,
                "master_priority": r.master_priority, "faults": sorted(r.faults),
                "sync_group": rt.plan.sync_group, "vips_installed": rt.vips_installed,
                "vips": rt.vips_status(),
                "leaving": r.leaving, "drained": r.drained, "yielding": r.yielding,
                "adverts_sent": r.stats.advert_sent, "adverts_received": r.stats.advert_rcvd,
                "adverts_not_sent": rt.send_errors, "dropped": r.stats.drops(),
                "transitions": rt.availability.changes,
                "last_transition": None if last is None else {
                    "wall": last.wall, "ago_seconds": now - last.at, "old": last.old,
                    "new": last.new, "reason": last.reason},
                "availability": rt.availability.figures(now),
                **({"history": rt.availability.history()} if history else {})})
        groups = [{"name": name, "state": g.state.value,
                   "members": [r.name for r in g.routers]} for name, g in self.groups.items()]
        return {"role": "vrrp", "instances": instances, "sync_groups": groups,
                "no_accept_firewall": self.firewall.status(),
                "invalid_packets": dict(self.invalid_packets), "process": process}


def _start_metrics(proc: VrrpProcess, address: str, port: int, control: str | None) -> None:
    """``metrics_address``: Prometheus metrics of this process and of the checker process."""
    import os

    from pykeepalived.control.client import ControlError, ask
    from pykeepalived.control.metrics import DaemonCollector, serve

    checker = (os.path.join(os.path.dirname(control), "pykeepalived-check.sock")
               if control is not None else None)

    def checker_status() -> dict[str, Any] | None:
        if checker is None or not os.path.exists(checker):
            return None
        try:
            return ask(checker, {"cmd": "status"}, timeout=2.0)
        except ControlError:
            return None

    try:
        serve(address, port, DaemonCollector(proc.loop, proc.status, checker_status))
    except OSError as exc:
        log.error("Prometheus metrics on %s:%d not served: %s", address, port, exc)


async def run_vrrp(config: Any, *, path: str | None = None, config_id: str | None = None,
                   release_vips: bool = True, control: str | None = None,
                   ready: Callable[[], None] | None = None) -> int:
    """Run the VRRP process until TERM/INT; HUP reloads, USR1/USR2 dump data and stats.
    ``ready`` is called once every instance has its first state, and after each reload."""
    proc = VrrpProcess(config, release_vips=release_vips)
    proc.build()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    hurry = asyncio.Event()  # a second TERM/INT: no waiting for hand-overs

    def on_stop() -> None:
        if stop.is_set():
            hurry.set()
        stop.set()

    loop.add_signal_handler(signal.SIGTERM, on_stop)
    loop.add_signal_handler(signal.SIGINT, on_stop)

    def dump(stats: bool) -> None:
        from pykeepalived.daemon import dumps  # at the first USR1/USR2: most never see one

        if stats:
            dumps.write_stats(proc.instances, proc.invalid_packets)
        else:
            dumps.write_data(proc.instances)

    loop.add_signal_handler(signal.SIGUSR1, dump, False)
    loop.add_signal_handler(signal.SIGUSR2, dump, True)
    reloads: set[asyncio.Task[bool]] = set()
    # start, each reload and stop run one at a time, however fast HUPs arrive
    busy = asyncio.Lock()

    def report_ready() -> None:
        if ready is not None:
            ready()

    async def guarded_reload(config_path: str) -> bool:
        try:
            async with busy:
                return await proc.reload(config_path, config_id)
        finally:
            report_ready()  # applied or refused, the reload is over

    def on_hup() -> None:
        if path is None:
            log.warning("Reload requested but no configuration file is known")
            report_ready()
            return
        task = loop.create_task(guarded_reload(path))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hup)
    server = None
    if control is not None:
        from pykeepalived.control.server import ControlServer

        server = ControlServer(control, proc.control)
        await server.start()
    gdefs = proc.config.global_defs
    if gdefs.metrics_address is not None:
        _start_metrics(proc, gdefs.metrics_address, gdefs.metrics_port, control)
    try:
        async with busy:
            await proc.start()
            proc.tuning.started(proc.config.global_defs)
        loop.call_soon(report_ready)  # after what start() queued for the loop (VIPs)
        await stop.wait()
        log.info("Stopping")
        async with busy:
            proc.tuning.scheduling.reset()  # one burst of work: at the normal policy
            await proc.stop(hurry)
    finally:
        if server is not None:
            await server.close()
    return 0
