"""The trackers that feed every instance its priority and faults, and the notifications.

``Tracker`` turns link events (netlink reflector), vrrp_script results and vrrp_track_file values
into ``set_priority`` / ``set_fault`` / ``clear_fault`` calls on the routers, owns the notify
script runner and notify_fifo, and the nftables table of no_accept instances.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pykeepalived.net import interfaces
from pykeepalived.net.firewall import NftFirewall
from pykeepalived.notify.fifo import NotifyFifo
from pykeepalived.notify.notifier import Notifier
from pykeepalived.notify.script import ScriptRunner
from pykeepalived.track.file import TrackedFile
from pykeepalived.track.script import TrackedScript
from pykeepalived.vrrp import tracking

if TYPE_CHECKING:
    from pykeepalived.daemon.runtime import InstanceRuntime
    from pykeepalived.daemon.vrrp_main import VrrpProcess

log = logging.getLogger("pykeepalived.vrrp")


class Tracker:
    """Interfaces, scripts and files that move priorities or cause FAULT, plus notifications."""

    def __init__(self, proc: VrrpProcess) -> None:
        self.proc = proc
        gdefs = proc.config.global_defs
        self.runner = ScriptRunner(user=gdefs.script_user, group=gdefs.script_group,
                                   security=bool(gdefs.enable_script_security))
        self.fifo: NotifyFifo | None = None
        self.notifier = Notifier(self.runner, None)
        self.link_up: dict[str, bool] = {}
        self.script_ok: dict[str, bool] = {}
        self.file_value: dict[str, int] = {}
        self.scripts: dict[str, TrackedScript] = {}
        self.files: dict[str, TrackedFile] = {}
        self.firewall: NftFirewall | None = None
        self.by_ifname: dict[str, list[InstanceRuntime]] = {}  # sourceless instances waiting

    def open_fifo(self) -> None:
        """vrrp_notify_fifo (or the global notify_fifo) and its reader script."""
        gdefs = self.proc.config.global_defs
        fifo_cfg = gdefs.vrrp_notify_fifo or gdefs.notify_fifo
        if fifo_cfg is None:
            return
        script_cfg = (gdefs.vrrp_notify_fifo_script if gdefs.vrrp_notify_fifo is not None
                      else gdefs.notify_fifo_script)
        self.fifo = NotifyFifo(fifo_cfg.name, script_cfg.command if script_cfg else None,
                               self.runner, user=fifo_cfg.user, group=fifo_cfg.group)
        self.fifo.open()
        self.notifier = Notifier(self.runner, self.fifo)

    async def start(self) -> None:
        cfg = self.proc.config
        for rt in self.proc.instances.values():
            if rt.src is None:
                for ifname in {rt.plan.ifname, rt.plan.xmit_ifname}:
                    self.by_ifname.setdefault(ifname, []).append(rt)
        names = {ifname for rt in self.proc.instances.values() for ifname in self.watched(rt)}
        for ifname in names:
            self.link_up[ifname] = interfaces.link_is_up(ifname)
        insts = list(self.proc.instances.values())
        used_scripts = {n for rt in insts for n, _, _ in rt.plan.track_scripts}
        for name in sorted(used_scripts):
            spec = cfg.vrrp_scripts.get(name)
            if spec is None or spec.script is None:
                continue
            self.script_ok[name] = not spec.init_fail
            ts = TrackedScript(name, spec.script, spec.interval, spec.timeout, spec.rise,
                               spec.fall, spec.init_fail, self.runner, self.on_script,
                               user=spec.user.user if spec.user else None,
                               group=spec.user.group if spec.user else None)
            self.scripts[name] = ts
            ts.start()
        used_files = {n for rt in insts for n, _, _ in rt.plan.track_files}
        for name in sorted(used_files):
            fspec = cfg.vrrp_track_files.get(name)
            if fspec is None or fspec.file is None:
                continue
            init = (fspec.init_file_value, fspec.init_file_overwrite) if fspec.init_file else None
            tf = TrackedFile(name, fspec.file, init, self.on_file)
            self.files[name] = tf
            tf.start()
            self.file_value[name] = tf.value

    def watched(self, rt: InstanceRuntime) -> list[str]:
        """Interfaces whose link state matters to ``rt`` (its own unless dont_track_primary)."""
        names = [n for n, _, _ in rt.plan.track_interfaces]
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
            await self.fifo.aclose()
        if self.firewall is not None:
            self.firewall.close()
        await self.runner.close()

    # ----------------------------------------------------------------- events
    def on_link(self, ifname: str, up: bool) -> None:
        if ifname not in self.link_up or self.link_up[ifname] == up:
            return
        if up != interfaces.link_is_up(ifname):
            # An event older than the state read at start: a VMAC made at start-up announces
            # its creation (down) after it is already up. The kernel's state now is the truth.
            return
        self.link_up[ifname] = up
        log.info("Netlink reflector reports %s %s", ifname, "UP" if up else "DOWN")
        for rt in self.proc.instances.values():
            rt.invalidate_gratuitous()
        self.reapply()

    def on_address(self, ifname: str, address: str, added: bool) -> None:
        """An address appeared: an instance that had no source address may now send."""
        if not added:
            return
        for rt in self.by_ifname.get(ifname, ()):
            if added and rt.src is None and ifname in (rt.plan.ifname, rt.plan.xmit_ifname):
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
        weights = {n: (w, r) for n, w, r in rt.plan.track_interfaces}
        items: list[tracking.TrackedItem] = []
        for ifname in self.watched(rt):
            weight, reverse = weights.get(ifname, (0, False))
            items.append(tracking.TrackedItem(ok=self.link_up.get(ifname, True), weight=weight,
                                              reverse=reverse, name=ifname))
        for name, sweight, reverse in rt.plan.track_scripts:
            spec = cfg.vrrp_scripts.get(name)
            w = sweight if sweight is not None else (spec.weight if spec else 0)
            rev = reverse or bool(spec and sweight is None and spec.weight_reverse)
            items.append(tracking.TrackedItem(ok=self.script_ok.get(name, True), weight=w,
                                              reverse=rev, name=name))
        file_items = []
        for name, fweight, reverse in rt.plan.track_files:
            fspec = cfg.vrrp_track_files.get(name)
            w = fweight if fweight is not None else (fspec.weight if fspec else 1)
            rev = reverse or bool(fspec and fweight is None and fspec.weight_reverse)
            file_items.append(tracking.TrackedFileValue(value=self.file_value.get(name, 0),
                                                        weight=w, reverse=rev, name=name))
        result = tracking.evaluate(rt.plan.router_config.priority, items, file_items)
        rt.router.set_priority(result.priority, now)
        if result.fault:
            if result.reason not in rt.router.faults:
                rt.router.set_fault(now, result.reason)
        elif rt.router.faults:
            rt.router.clear_fault(now)

    # ----------------------------------------------------------------- firewall
    def firewall_add(self, rt: InstanceRuntime) -> None:
        if self.firewall is None:
            self.firewall = NftFirewall()
            self.firewall.ensure()
        self.firewall.add_vips([v.ip for v in rt.plan.all_addresses])

    def firewall_remove(self, rt: InstanceRuntime) -> None:
        if self.firewall is not None:
            self.firewall.remove_vips([v.ip for v in rt.plan.all_addresses])
