"""One running vrrp_instance, and the trackers that feed every instance its priority and faults.

``InstanceRuntime`` carries out the actions of one router (adverts to the wire, VIPs into the kernel,
gratuitous ARP rounds, notify scripts) and owns its timer. ``Tracker`` turns link events, vrrp_script
results and vrrp_track_file values into ``set_priority`` / ``set_fault`` / ``clear_fault`` calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from typing import TYPE_CHECKING, Any

from pykeepalived.daemon.instance import InstancePlan
from pykeepalived.net import gratuitous, interfaces
from pykeepalived.net.addresses import route_from_words, rule_from_words
from pykeepalived.notify.notifier import Notifier, NotifyScripts
from pykeepalived.notify.script import ScriptRunner
from pykeepalived.track.file import TrackedFile
from pykeepalived.track.script import TrackedScript
from pykeepalived.vrrp import packet, tracking
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
    from pykeepalived.daemon.vrrp_main import VrrpProcess
    from pykeepalived.net.vrrp_socket import VrrpSocket
    from pykeepalived.vrrp.sync_group import SyncGroup

log = logging.getLogger("pykeepalived.vrrp")


class InstanceRuntime:
    """A router plus the sockets, addresses and timer that make it real."""

    def __init__(self, proc: VrrpProcess, plan: InstancePlan) -> None:
        self.proc = proc
        self.plan = plan
        self.router = VirtualRouter(plan.router_config)
        self.recv_socket: VrrpSocket | None = None
        self.send_socket: VrrpSocket | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.sync_group: SyncGroup | None = None
        self.sync_group_config: Any = None
        self.vips_installed = False
        self.src: str | None = plan.src
        self.own_addresses: set[str] = set()
        self.garp_tasks: set[asyncio.Task[None]] = set()
        self.history: list[tuple[float, State]] = []
        self.scripts = NotifyScripts(**{k: v for k, v in plan.notify.items()})

    # ----------------------------------------------------------------- set-up
    def prepare(self) -> None:
        """Create the VMAC, learn our source address (RFC 5798 5.1.1.1 / 5.1.2.1)."""
        plan = self.plan
        if plan.vmac:
            from pykeepalived.net import vmac

            if not interfaces.exists(plan.vmac):
                vmac.create_vmac(plan.ifname, plan.router_config.vrid, plan.family, plan.vmac)
        if self.src is None:
            self.src = interfaces.primary_address(plan.xmit_ifname, plan.family) or \
                interfaces.primary_address(plan.ifname, plan.family)
        if self.src is None:
            log.warning("(%s) no %s address on %s: adverts cannot be sent until one is added",
                        plan.name, "IPv4" if plan.family == 4 else "IPv6", plan.ifname)
        else:
            self.router.set_primary_address(ipaddress.ip_address(self.src))
        self.refresh_own_addresses()

    def refresh_own_addresses(self) -> None:
        self.own_addresses = {a for a in (
            interfaces.primary_address(self.plan.ifname, self.plan.family),
            self.src) if a}

    def is_own_source(self, src: Any) -> bool:
        """Our own adverts looped back (unicast to self, or a shared segment): never fed back."""
        return str(src) in self.own_addresses

    # ----------------------------------------------------------------- timer
    def arm_timer(self) -> None:
        when = self.router.get_timer()
        if self.timer is not None:
            if when is not None and self.timer.when() == when:
                return
            self.timer.cancel()
            self.timer = None
        if when is not None:
            self.timer = self.proc.loop.call_at(when, self.proc.on_timer, self)

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    # ----------------------------------------------------------------- actions
    def carry_out(self, actions: list[Action]) -> None:
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
        sock = self.send_socket
        if sock is None or self.src is None:
            return
        src = ipaddress.ip_address(self.src)
        cfg = self.plan.router_config
        for dst_text in self.plan.destinations:
            dst = ipaddress.ip_address(dst_text)
            if cfg.auth_type == "AH" and self.plan.family == 4 and action.ah_seq is not None:
                datagram = packet.build_ipv4_ah(action.advert, src, dst, cfg.auth_pass,
                                                action.ah_seq, action.ah_seq & 0xFFFF)
                sock.send_datagram(datagram, dst_text)
            else:
                payload = packet.encode(action.advert, src, dst,
                                        v3_checksum_as_v2=cfg.v3_checksum_as_v2)
                sock.send(payload, dst_text)

    def add_vips(self) -> None:
        mgr = self.proc.addresses
        mgr.add_many(self.plan.vips + self.plan.excluded)
        for words in self.plan.routes:
            mgr.add_route(route_from_words(words))
        for words in self.plan.rules:
            mgr.add_rule(rule_from_words(words))
        if self.plan.no_accept:
            self.proc.tracker.firewall_add(self)
        self.vips_installed = True

    def remove_vips(self) -> None:
        if not self.vips_installed and not any(
                self.proc.addresses.present(v) for v in self.plan.vips):
            return
        mgr = self.proc.addresses
        for words in self.plan.rules:
            with contextlib.suppress(OSError):
                mgr.remove_rule(rule_from_words(words))
        for words in self.plan.routes:
            with contextlib.suppress(OSError):
                mgr.remove_route(route_from_words(words))
        mgr.remove_many(self.plan.vips + self.plan.excluded)
        if self.plan.no_accept:
            self.proc.tracker.firewall_remove(self)
        self.vips_installed = False

    def send_gratuitous(self) -> None:
        interval = self.plan.garp_interval
        vips = self.plan.vips + self.plan.excluded
        if interval <= 0:
            for vip in vips:
                self._gratuitous_one(vip.dev, vip.address.split("/")[0])
            return
        task = self.proc.loop.create_task(self._gratuitous_spaced(vips, interval))
        self.garp_tasks.add(task)
        task.add_done_callback(self.garp_tasks.discard)

    async def _gratuitous_spaced(self, vips: list[Any], interval: float) -> None:
        for vip in vips:
            if self.router.state is not State.MASTER:
                return
            self._gratuitous_one(vip.dev, vip.address.split("/")[0])
            await asyncio.sleep(interval)

    def _gratuitous_one(self, dev: str, address: str) -> None:
        try:
            if ":" in address:
                gratuitous.send_unsolicited_na(dev, address)
            else:
                gratuitous.send_garp(dev, address)
        except OSError as exc:
            log.debug("(%s) gratuitous for %s on %s failed: %s", self.plan.name, address, dev, exc)

    def state_changed(self, change: StateChange) -> None:
        name = self.plan.name
        now = self.proc.loop.time()
        self.history.append((now, change.new))
        if change.new is State.STOP:
            log.info("(%s) Stopped", name)
        else:
            log.info("(%s) Entering %s STATE%s", name, change.new.value,
                     f" ({change.reason})" if change.reason and change.new is not State.MASTER
                     else "")
        priority = self.router.priority if change.new is not State.STOP else 0
        self.proc.tracker.notifier.instance_changed(name, change.new.value,
                                                    self.router.priority, self.scripts)
        _ = priority

    def group_action(self, sg: SyncGroup, action: Action) -> None:
        if isinstance(action, StateChange):
            log.info("VRRP_Group(%s) Syncing instances to %s state", sg.name, action.new.value)
            cfg = self.sync_group_config
            scripts = NotifyScripts(**{k: getattr(cfg, k, None) for k in (
                "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify")})
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


class Tracker:
    """Interfaces, scripts and files that move priorities or cause FAULT, plus notifications."""

    def __init__(self, proc: VrrpProcess) -> None:
        self.proc = proc
        gdefs = proc.config.global_defs
        self.runner = ScriptRunner(user=getattr(gdefs, "script_user", None),
                                   security=bool(getattr(gdefs, "enable_script_security", False)))
        self.fifo: Any = None
        self.notifier = Notifier(self.runner, None)
        self.link_up: dict[str, bool] = {}
        self.script_ok: dict[str, bool] = {}
        self.file_value: dict[str, int] = {}
        self.scripts: dict[str, TrackedScript] = {}
        self.files: dict[str, TrackedFile] = {}
        self.firewall: Any = None

    async def start(self) -> None:
        cfg = self.proc.config
        gdefs = cfg.global_defs
        fifo_path = getattr(gdefs, "vrrp_notify_fifo", None) or getattr(gdefs, "notify_fifo", None)
        if fifo_path:
            from pykeepalived.notify.fifo import NotifyFifo

            script = (getattr(gdefs, "vrrp_notify_fifo_script", None)
                      or getattr(gdefs, "notify_fifo_script", None))
            self.fifo = NotifyFifo(str(fifo_path), script, self.runner)
            self.notifier = Notifier(self.runner, self.fifo)
        names = {ifname for rt in self.proc.instances.values() for ifname in self.watched(rt)}
        for ifname in names:
            self.link_up[ifname] = interfaces.link_is_up(ifname)
        used_scripts = {n for rt in self.proc.instances.values() for n, _, _ in rt.plan.track_scripts}
        used_scripts |= {t.name for sg in cfg.vrrp_sync_groups.values()
                         for t in (getattr(sg, "track_script", None) or [])}
        for name in used_scripts:
            spec = cfg.vrrp_scripts.get(name)
            if spec is None:
                continue
            self.script_ok[name] = not bool(getattr(spec, "init_fail", False))
            ts = TrackedScript(name, spec.script, float(spec.interval or 1),
                               getattr(spec, "timeout", None), int(spec.rise or 1),
                               int(spec.fall or 1), bool(getattr(spec, "init_fail", False)),
                               self.runner, self.on_script)
            self.scripts[name] = ts
            ts.start()
        used_files = {n for rt in self.proc.instances.values() for n, _, _ in rt.plan.track_files}
        for name in used_files:
            fspec = cfg.vrrp_track_files.get(name)
            if fspec is None:
                continue
            tf = TrackedFile(name, fspec.file, getattr(fspec, "init_file", None), self.on_file)
            self.files[name] = tf
            tf.start()
            self.file_value[name] = tf.value

    def watched(self, rt: InstanceRuntime) -> list[str]:
        names = [n for n, _ in rt.plan.track_interfaces]
        if not rt.plan.dont_track_primary:
            names.append(rt.plan.ifname)
            if rt.plan.vmac:
                names.append(rt.plan.vmac)
        return names

    async def stop(self) -> None:
        for ts in self.scripts.values():
            ts.stop()
        for tf in self.files.values():
            tf.stop()

    async def drain_notifications(self) -> None:
        await self.notifier.drain(5.0)
        if self.fifo is not None:
            self.fifo.close()
        if self.firewall is not None:
            self.firewall.close()
        await self.runner.close()

    # ----------------------------------------------------------------- events
    def on_link(self, ifname: str, up: bool) -> None:
        if ifname not in self.link_up or self.link_up[ifname] == up:
            return
        self.link_up[ifname] = up
        log.info("Netlink reflector reports %s %s", ifname, "UP" if up else "DOWN")
        self.reapply()

    def on_address(self, ifname: str, address: str, added: bool) -> None:
        for rt in self.proc.instances.values():
            if rt.plan.ifname == ifname and rt.plan.src is None and added and rt.src is None:
                rt.prepare()

    def on_script(self, name: str, ok: bool) -> None:
        self.script_ok[name] = ok
        log.info("VRRP_Script(%s) %s", name, "succeeded" if ok else "failed")
        self.reapply()

    def on_file(self, name: str, value: int) -> None:
        self.file_value[name] = value
        log.info("VRRP_Track_File(%s) value %d", name, value)
        self.reapply()

    def reapply(self) -> None:
        now = self.proc.loop.time()
        for rt in self.proc.instances.values():
            self.apply(rt, now)
            self.proc.process(rt)

    def apply(self, rt: InstanceRuntime, now: float) -> None:
        """Fold every tracked thing of ``rt`` into FAULT or an effective priority."""
        cfg = self.proc.config
        items: list[tracking.TrackedItem] = []
        for ifname in self.watched(rt):
            weight = dict(rt.plan.track_interfaces).get(ifname, 0)
            items.append(tracking.TrackedItem(ok=self.link_up.get(ifname, True), weight=weight))
        for name, weight, reverse in rt.plan.track_scripts:
            spec = cfg.vrrp_scripts.get(name)
            w = weight if weight is not None else int(getattr(spec, "weight", 0) or 0)
            items.append(tracking.TrackedItem(ok=self.script_ok.get(name, True), weight=w,
                                              reverse=reverse))
        file_items = []
        for name, weight, reverse in rt.plan.track_files:
            fspec = cfg.vrrp_track_files.get(name)
            w = weight if weight is not None else int(getattr(fspec, "weight", 1) or 0)
            file_items.append(tracking.TrackedFileValue(value=self.file_value.get(name, 0),
                                                        weight=w, reverse=reverse))
        result = tracking.evaluate(rt.plan.router_config.priority, items, file_items)
        if result.fault:
            if rt.router.state is not State.FAULT:
                rt.router.set_fault(now, result.reason)
        else:
            if rt.router.state is State.FAULT:
                rt.router.set_priority(result.priority, now)
                rt.router.clear_fault(now)
            else:
                rt.router.set_priority(result.priority, now)

    # ----------------------------------------------------------------- firewall
    def firewall_add(self, rt: InstanceRuntime) -> None:
        if self.firewall is None:
            from pykeepalived.net.firewall import NftFirewall

            self.firewall = NftFirewall()
            self.firewall.ensure()
        self.firewall.add_vips([v.address.split("/")[0] for v in rt.plan.vips + rt.plan.excluded])

    def firewall_remove(self, rt: InstanceRuntime) -> None:
        if self.firewall is not None:
            self.firewall.remove_vips([v.address.split("/")[0]
                                       for v in rt.plan.vips + rt.plan.excluded])
