"""What the instances track, observed: interfaces, vrrp_scripts, track files.

The tracker only watches and reports ``(object, status)``: "interface eth0" up or down,
"script chk_web" OK or failed (None before its first result), "file tf1" and its value. What
that does to priorities and FAULT is the VRRP core's arithmetic
(:class:`pykeepalived.vrrp.tracking.InstanceTracking`), reached through the process.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pykeepalived.net import interfaces
from pykeepalived.notify.script import ScriptRunner

if TYPE_CHECKING:  # imported by the first vrrp_script or track_file
    from pykeepalived.track.file import TrackedFile
    from pykeepalived.track.script import TrackedScript

log = logging.getLogger("pykeepalived.vrrp")

Report = Callable[[str, "bool | int | None"], None]


class Tracker:
    """Interfaces, scripts and files of one configuration, reported to ``report``."""

    def __init__(self, config: Any, runner: ScriptRunner, report: Report) -> None:
        self.config = config
        self.runner = runner
        self.report = report
        self.link_up: dict[str, bool] = {}
        self.scripts: dict[str, TrackedScript] = {}
        self.files: dict[str, TrackedFile] = {}

    def start(self, objects: Iterable[str]) -> None:
        """Read every watched interface, start every script and file; report each status."""
        cfg = self.config
        for obj in sorted(set(objects)):
            kind, _, name = obj.partition(" ")
            if kind == "interface":
                self.link_up[name] = interfaces.link_is_up(name)
                self.report(obj, self.link_up[name])
            elif kind == "script":
                spec = cfg.vrrp_scripts.get(name)
                if spec is None or spec.script is None:
                    continue
                ts = self.scripts.get(name)
                if ts is None:
                    from pykeepalived.track.script import TrackedScript

                    ts = TrackedScript(name, spec.script, spec.interval, spec.timeout,
                                       spec.rise, spec.fall, spec.init_fail, self.runner,
                                       self._on_script,
                                       user=spec.user.user if spec.user else None,
                                       group=spec.user.group if spec.user else None)
                    self.scripts[name] = ts
                    ts.start()
                self.report(obj, ts.ok)
            elif kind == "file":
                fspec = cfg.vrrp_track_files.get(name)
                if fspec is None or fspec.file is None:
                    continue
                tf = self.files.get(name)
                if tf is None:
                    init = ((fspec.init_file_value, fspec.init_file_overwrite)
                            if fspec.init_file else None)
                    from pykeepalived.track.file import TrackedFile

                    tf = TrackedFile(name, fspec.file, init, self._on_file)
                    self.files[name] = tf
                    tf.start()
                self.report(obj, tf.value)

    def adopt(self, old: Tracker, objects: Iterable[str]) -> None:
        """After a reload: scripts and files whose settings did not change keep running (and
        keep their results, so a reload moves no priority); the others stop; then
        :meth:`start` reports every status and starts what is new."""
        wanted = set(objects)
        for name, ts in old.scripts.items():
            if (f"script {name}" in wanted and _settings(self.config.vrrp_scripts.get(name))
                    == _settings(old.config.vrrp_scripts.get(name))):
                ts.on_change = self._on_script
                self.scripts[name] = ts
            else:
                ts.stop()
        for name, tf in old.files.items():
            if (f"file {name}" in wanted and _settings(self.config.vrrp_track_files.get(name))
                    == _settings(old.config.vrrp_track_files.get(name))):
                tf.on_change = self._on_file
                self.files[name] = tf
            else:
                tf.stop()
        self.start(wanted)

    def stop(self) -> None:
        for ts in self.scripts.values():
            ts.stop()
        for tf in self.files.values():
            tf.stop()

    def on_link(self, ifname: str, up: bool) -> bool:
        """A link event; True when it changed a watched interface's state."""
        if ifname not in self.link_up or self.link_up[ifname] == up:
            return False
        if up != interfaces.link_is_up(ifname):
            # An event older than the state read at start: a VMAC made at start-up announces
            # its creation (down) after it is already up. The kernel's state now is the truth.
            return False
        self.link_up[ifname] = up
        log.info("Netlink reflector reports %s %s", ifname, "UP" if up else "DOWN")
        self.report(f"interface {ifname}", up)
        return True

    def _on_script(self, name: str, ok: bool) -> None:
        self.report(f"script {name}", ok)

    def _on_file(self, name: str, value: int) -> None:
        log.info("VRRP_Track_File(%s) value %d", name, value)
        self.report(f"file {name}", value)


def _settings(spec: Any) -> tuple[Any, ...] | None:
    """A vrrp_script's or track_file's settings, without where they were written."""
    if spec is None:
        return None
    return tuple(getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name != "location")
