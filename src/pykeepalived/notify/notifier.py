"""Telling the operator's scripts and FIFO that a VRRP instance or sync group changed state.

keepalived.conf(5), vrrp_sync_group and vrrp_instance: ``notify_master``, ``notify_backup``,
``notify_fault``, ``notify_stop`` and ``notify_deleted`` run with their own arguments only; the
generic ``notify`` script "is called AFTER the notify_* script(s) and is executed with 4
additional arguments": ``INSTANCE``|``GROUP``, the name, the state (MASTER, BACKUP, FAULT,
STOP, DELETED; always upper case) and the priority (0 for a group). The notify FIFO gets the
same four words: ``INSTANCE "VI_1" MASTER 100``.

Other keepalived rules kept here:

- an instance deleted at reload is reported as FAULT (and runs notify_fault) unless
  ``notify_deleted`` was configured (``NotifyScripts.send_deleted``);
- the STOP scripts are given 1 second (keepalived's shutdown allowance) and then killed;
- ``notify_master_rx_lower_pri`` and the FIFO-only MASTER_RX_LOWER_PRI, MASTER_PRIORITY and
  BACKUP_PRIORITY lines (``notify_priority_changes``).

Ordering: keepalived starts the scripts of one change back to back and never waits for them, so
two quick changes can race. Here the scripts of one instance (or group) run one after another
in the order the states happened, each waiting for the previous one to finish, but for at most
``order_wait`` seconds: a hung script delays its own instance's later notifications by that
much, is left running (and reaped), and never delays the caller, other instances, or the FIFO.
A STOP cuts such waits short so that notify_stop runs at once at shutdown.

Deciding *whether* to notify (e.g. keepalived skips an instance's notifies when its sync group
already reported that state) is the caller's business.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Final

from pykeepalived.notify.fifo import NotifyFifo, vrrp_line
from pykeepalived.notify.script import ScriptResult, ScriptRunner
from pykeepalived.notify.split import ScriptSyntaxError, split_script

__all__ = [
    "DEFAULT_ORDER_WAIT",
    "STATES",
    "STOP_SCRIPT_TIMEOUT",
    "Notifier",
    "NotifyScripts",
    "Script",
]

log = logging.getLogger(__name__)

STATES: Final = ("MASTER", "BACKUP", "FAULT", "STOP", "DELETED")
#: How long the scripts of one instance wait for the previous one before going ahead.
DEFAULT_ORDER_WAIT: Final = 5.0
#: keepalived gives notify_stop scripts one second (TIMER_HZ) before killing them.
STOP_SCRIPT_TIMEOUT: Final = 1.0
_EVENTS: Final = ("MASTER_RX_LOWER_PRI",)


@dataclass(frozen=True, slots=True)
class Script:
    """A notify script with its own ``username [groupname]`` (``notify_master /x user grp``)."""

    cmd: str
    user: str | None = None
    group: str | None = None


ScriptSpec = str | Script | None


def _script(spec: ScriptSpec) -> Script | None:
    if spec is None or isinstance(spec, Script):
        return spec
    return Script(spec)


@dataclass(frozen=True, slots=True)
class NotifyScripts:
    """The notify scripts of one vrrp_instance or vrrp_sync_group, as configured strings.

    Each is the script string as written in the configuration (split here, keepalived's way)
    or a :class:`Script` carrying its own user. ``send_deleted`` is the ``notify_deleted``
    keyword, which may be given without a script.
    """

    notify_master: ScriptSpec = None
    notify_backup: ScriptSpec = None
    notify_fault: ScriptSpec = None
    notify_stop: ScriptSpec = None
    notify_deleted: ScriptSpec = None
    notify: ScriptSpec = None
    notify_master_rx_lower_pri: ScriptSpec = None
    send_deleted: bool = False

    def for_state(self, state: str) -> Script | None:
        """The per-state script for MASTER, BACKUP, FAULT, STOP or DELETED."""
        return _script({
            "MASTER": self.notify_master,
            "BACKUP": self.notify_backup,
            "FAULT": self.notify_fault,
            "STOP": self.notify_stop,
            "DELETED": self.notify_deleted,
        }.get(state))

    def problems(self) -> list[str]:
        """Configuration errors: script strings that cannot be split (for config checks)."""
        found = []
        for field in fields(self):
            if field.name == "send_deleted":
                continue
            spec = _script(getattr(self, field.name))
            if spec is None:
                continue
            try:
                split_script(spec.cmd)
            except ScriptSyntaxError as exc:
                found.append(f"{field.name}: {exc}")
        return found


@dataclass(frozen=True, slots=True)
class _Step:
    argv: tuple[str, ...]
    timeout: float | None
    user: str | None
    group: str | None


@dataclass(slots=True)
class _Lane:
    """The notifications of one instance or group, run in order by one worker task."""

    jobs: deque[tuple[str, list[_Step]]]
    hurry: asyncio.Event
    worker: asyncio.Task[None] | None = None
    busy: bool = False  # a job has been taken from ``jobs`` and is running


class Notifier:
    """Runs notify scripts and writes the notify FIFO; see the module docstring.

    Every method returns at once; scripts run in tasks of the running event loop.
    """

    def __init__(self, runner: ScriptRunner, fifo: NotifyFifo | None = None, *,
                 order_wait: float = DEFAULT_ORDER_WAIT,
                 stop_timeout: float = STOP_SCRIPT_TIMEOUT) -> None:
        self.runner = runner
        self.fifo = fifo
        self.order_wait = order_wait
        self.stop_timeout = stop_timeout
        self._lanes: dict[tuple[str, str], _Lane] = {}

    # ------------------------------------------------------------ reporting
    def instance_changed(self, name: str, state: str, priority: int,
                         scripts: NotifyScripts) -> None:
        """vrrp_instance ``name`` entered ``state`` with effective ``priority``."""
        state = _state(state)
        if state == "DELETED" and not scripts.send_deleted:
            state = "FAULT"  # keepalived's historical report for a deleted instance
        self._changed("INSTANCE", name, state, priority, scripts)

    def group_changed(self, name: str, state: str, scripts: NotifyScripts) -> None:
        """vrrp_sync_group ``name`` entered ``state`` (groups always report priority 0)."""
        state = _state(state)
        if state == "DELETED":
            state = "FAULT"  # DELETED only applies to instances
        self._changed("GROUP", name, state, 0, scripts)

    def instance_event(self, name: str, event: str, priority: int,
                       scripts: NotifyScripts) -> None:
        """MASTER_RX_LOWER_PRI: a master heard a lower priority advert.

        Runs ``notify_master_rx_lower_pri`` (its own argv only) and writes the FIFO line.
        """
        event = event.upper()
        if event not in _EVENTS:
            raise ValueError(f"unknown VRRP notify event {event!r}")
        steps = self._steps(name, scripts.notify_master_rx_lower_pri, (), None)
        if steps:
            self._enqueue(("INSTANCE", name), event, steps)
        self._fifo("INSTANCE", name, event, priority)

    def priority_changed(self, name: str, state: str, priority: int) -> None:
        """``notify_priority_changes``: FIFO line MASTER_PRIORITY or BACKUP_PRIORITY."""
        kind = "MASTER_PRIORITY" if _state(state) == "MASTER" else "BACKUP_PRIORITY"
        self._fifo("INSTANCE", name, kind, priority)

    def _changed(self, kind: str, name: str, state: str, priority: int,
                 scripts: NotifyScripts) -> None:
        timeout = self.stop_timeout if state == "STOP" else None
        steps = self._steps(name, scripts.for_state(state), (), timeout)
        steps += self._steps(name, _script(scripts.notify),
                             (kind, name, state, str(priority)), timeout)
        if steps:
            self._enqueue((kind, name), state, steps)
        self._fifo(kind, name, state, priority)

    def _steps(self, name: str, spec: ScriptSpec, extra: Sequence[str],
               timeout: float | None) -> list[_Step]:
        script = _script(spec)
        if script is None:
            return []
        try:
            argv = split_script(script.cmd)
        except ScriptSyntaxError as exc:
            log.error("(%s) notify script not run: %s", name, exc)
            return []
        return [_Step((*argv, *extra), timeout, script.user, script.group)]

    def _fifo(self, kind: str, name: str, state: str, priority: int) -> None:
        if self.fifo is not None:
            self.fifo.write(vrrp_line(kind, name, state, priority))

    # ------------------------------------------------------------- ordering
    def _enqueue(self, key: tuple[str, str], state: str, steps: list[_Step]) -> None:
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(deque(), asyncio.Event())
        lane.jobs.append((state, steps))
        if state == "STOP":
            lane.hurry.set()
        if lane.worker is None:
            lane.worker = asyncio.get_running_loop().create_task(
                self._work(key, lane), name=f"notify {key[0]} {key[1]}")

    async def _work(self, key: tuple[str, str], lane: _Lane) -> None:
        while lane.jobs:
            state, steps = lane.jobs.popleft()
            lane.busy = True
            if state == "STOP" and not any(s == "STOP" for s, _ in lane.jobs):
                lane.hurry.clear()
            for step in steps:
                try:
                    task = self.runner.spawn(step.argv, step.timeout, user=step.user,
                                             group=step.group)
                except Exception:  # a bug must not stop later notifications
                    log.exception("(%s) notify script %s could not be started", key[1],
                                  step.argv[0])
                    continue
                await self._await_in_order(key, lane, task, step)
            lane.busy = False
        lane.worker = None
        del self._lanes[key]

    async def _await_in_order(self, key: tuple[str, str], lane: _Lane,
                              task: asyncio.Task[ScriptResult], step: _Step) -> None:
        if step.timeout is not None:
            limit = step.timeout + self.runner.kill_grace + 1.0
        elif lane.hurry.is_set():
            return  # a STOP is waiting behind us: do not hold it up
        else:
            limit = self.order_wait
        hurry = asyncio.ensure_future(lane.hurry.wait())
        try:
            waiting = {task} if step.timeout is not None else {task, hurry}
            await asyncio.wait(waiting, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        finally:
            hurry.cancel()
        if not task.done():
            log.warning("(%s) notify script %s still running after %gs - going on with the "
                        "next notification", key[1], step.argv[0], limit)

    @property
    def pending(self) -> int:
        """Notifications queued or running."""
        return sum(len(lane.jobs) + lane.busy for lane in self._lanes.values())

    async def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every queued notification to have run.

        Used at shutdown after the STOP notifications, so notify_stop runs before exit.
        True when nothing is left.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        for _ in range(1000):  # bounded: each round waits for the workers seen then
            workers = {lane.worker for lane in self._lanes.values() if lane.worker is not None}
            remaining = deadline - loop.time()
            if not workers or remaining <= 0:
                break
            await asyncio.wait(workers, timeout=remaining)
        return not self._lanes


def _state(state: str) -> str:
    upper = state.upper()
    if upper not in STATES:
        raise ValueError(f"unknown VRRP state {state!r} (expected one of {', '.join(STATES)})")
    return upper
