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

Ordering and bounds: keepalived starts the scripts of one change back to back and never waits
for them, so two quick changes race and a script that never exits stays forever, next to the
ones started after it. Here the scripts of one instance (or group) run one after another, in
the order the states happened, so that at most one notify script process of an instance runs
at any time, and:

- each script is given ``script_timeout`` seconds (keepalived's default for the startup and
  shutdown scripts it waits for); then its process group gets SIGTERM, and SIGKILL after the
  runner's ``kill_grace``, as keepalived does for a ``vrrp_script`` that overruns;
- a state waiting for its turn is superseded by a newer report of the same state: it is
  dropped and the newer one queues at the end. What runs is always a subsequence of what
  happened, in order, ending with the latest state, and an instance never has more than one
  waiting notification per state, however fast it flaps. Drops are counted (``dropped``) and
  logged, at most once per ``DROP_LOG_INTERVAL`` per instance, and once more when it settles;
- STOP drops what is still waiting and ends the instance's running script (unless it is a
  STOP script itself), so notify_stop runs at once at shutdown; the STOP scripts are given
  ``stop_timeout`` seconds.

A hung script never delays the caller, other instances, or the FIFO.

A script that cannot be started because the machine has no room for a process (fork fails:
a pids limit reached, say by a notify script forking without end) is not lost, as it is with
keepalived: it is tried again, ``START_RETRY_FIRST`` seconds later and then twice as long
each time (at most ``START_RETRY_MAX``), ``START_RETRIES`` times at most, unless a newer
state of its instance is waiting by then (that one is notified instead, in turn) or the
instance stops. The runner logs the lack of resources once, and when scripts start again.

Deciding *whether* to notify (e.g. keepalived skips an instance's notifies when its sync group
already reported that state) is the caller's business.

Instance and group changes also go to ``alerts`` when the daemon set it
(:class:`~pykeepalived.notify.smtp_alerts.VrrpAlerts`: keepalived's SMTP alerts, which decide
for themselves whether a change is mailed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Final

from pykeepalived.notify.fifo import NotifyFifo, vrrp_line
from pykeepalived.notify.script import ScriptResult, ScriptRunner
from pykeepalived.notify.split import ScriptSyntaxError, split_script

if TYPE_CHECKING:
    from pykeepalived.notify.smtp_alerts import VrrpAlerts

__all__ = [
    "DEFAULT_SCRIPT_TIMEOUT",
    "DROP_LOG_INTERVAL",
    "STATES",
    "STOP_SCRIPT_TIMEOUT",
    "Notifier",
    "NotifyScripts",
    "Script",
]

log = logging.getLogger(__name__)

STATES: Final = ("MASTER", "BACKUP", "FAULT", "STOP", "DELETED")
#: How long a notify script may run before its process group is terminated (keepalived's
#: default for startup_script_timeout and shutdown_script_timeout).
DEFAULT_SCRIPT_TIMEOUT: Final = 10.0
#: Seconds between two "notifications dropped" warnings of one instance or group.
DROP_LOG_INTERVAL: Final = 10.0
#: keepalived gives notify_stop scripts one second (TIMER_HZ) before killing them.
STOP_SCRIPT_TIMEOUT: Final = 1.0
_EVENTS: Final = ("MASTER_RX_LOWER_PRI",)
#: A notify script that found no room for its process is tried again after this many
#: seconds, doubling up to START_RETRY_MAX, START_RETRIES times at most (about 5 minutes).
START_RETRY_FIRST: Final = 0.5
START_RETRY_MAX: Final = 5.0
START_RETRIES: Final = 64


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
        for entry in fields(self):
            if entry.name == "send_deleted":
                continue
            spec = _script(getattr(self, entry.name))
            if spec is None:
                continue
            try:
                split_script(spec.cmd)
            except ScriptSyntaxError as exc:
                found.append(f"{entry.name}: {exc}")
        return found


@dataclass(frozen=True, slots=True)
class _Step:
    argv: tuple[str, ...]
    timeout: float
    user: str | None
    group: str | None


@dataclass(slots=True)
class _Job:
    """The scripts of one reported state (or event), run one after the other."""

    state: str
    steps: list[_Step]


@dataclass(slots=True)
class _Lane:
    """The notifications of one instance or group: one running job, at most one waiting job
    per state (see the module docstring), one worker task."""

    waiting: deque[_Job]
    worker: asyncio.Task[None] | None = None
    running: _Job | None = None
    script: asyncio.Task[ScriptResult] | None = None  # the one script process of the lane
    dropped: int = 0  # in all
    unlogged: int = 0  # dropped since the last warning
    last_dropped: str = ""
    last_warning: float = float("-inf")
    news: asyncio.Event = field(default_factory=asyncio.Event)  # a job was queued


class Notifier:
    """Runs notify scripts and writes the notify FIFO; see the module docstring.

    Every method returns at once; scripts run in tasks of the running event loop.
    """

    def __init__(self, runner: ScriptRunner, fifo: NotifyFifo | None = None, *,
                 script_timeout: float = DEFAULT_SCRIPT_TIMEOUT,
                 stop_timeout: float = STOP_SCRIPT_TIMEOUT) -> None:
        self.runner = runner
        self.fifo = fifo
        self.script_timeout = script_timeout
        self.stop_timeout = stop_timeout
        self.dropped = 0  # notifications superseded before their turn, all instances
        self.alerts: VrrpAlerts | None = None  # SMTP alerts (smtp_alert), when configured
        self._lanes: dict[tuple[str, str], _Lane] = {}

    # ------------------------------------------------------------ reporting
    def instance_changed(self, name: str, state: str, priority: int,
                         scripts: NotifyScripts) -> None:
        """vrrp_instance ``name`` entered ``state`` with effective ``priority``."""
        state = _state(state)
        if state == "DELETED" and not scripts.send_deleted:
            state = "FAULT"  # keepalived's historical report for a deleted instance
        self._changed("INSTANCE", name, state, priority, scripts)
        if self.alerts is not None:
            self.alerts.instance_changed(name, state)

    def group_changed(self, name: str, state: str, scripts: NotifyScripts) -> None:
        """vrrp_sync_group ``name`` entered ``state`` (groups always report priority 0)."""
        state = _state(state)
        if state == "DELETED":
            state = "FAULT"  # DELETED only applies to instances
        self._changed("GROUP", name, state, 0, scripts)
        if self.alerts is not None:
            self.alerts.group_changed(name, state)

    def instance_event(self, name: str, event: str, priority: int,
                       scripts: NotifyScripts) -> None:
        """MASTER_RX_LOWER_PRI: a master heard a lower priority advert.

        Runs ``notify_master_rx_lower_pri`` (its own argv only) and writes the FIFO line.
        """
        event = event.upper()
        if event not in _EVENTS:
            raise ValueError(f"unknown VRRP notify event {event!r}")
        steps = self._steps(name, scripts.notify_master_rx_lower_pri, (), self.script_timeout)
        if steps:
            self._enqueue(("INSTANCE", name), _Job(event, steps))
        self._fifo("INSTANCE", name, event, priority)

    def priority_changed(self, name: str, state: str, priority: int) -> None:
        """``notify_priority_changes``: FIFO line MASTER_PRIORITY or BACKUP_PRIORITY."""
        kind = "MASTER_PRIORITY" if _state(state) == "MASTER" else "BACKUP_PRIORITY"
        self._fifo("INSTANCE", name, kind, priority)

    def lvs_changed(self, kind: str, name: str, up: bool, script: ScriptSpec,
                    line: str) -> None:
        """A real server (``RS``, notify_up / notify_down) or a virtual server's quorum
        (``VS``, quorum_up / quorum_down) changed: its script with its own argv, in order with
        the subject's earlier ones, and the LVS FIFO ``line``."""
        state = "UP" if up else "DOWN"
        steps = self._steps(name, script, (), self.script_timeout)
        if steps:
            self._enqueue((kind, name), _Job(state, steps))
        if self.fifo is not None:
            self.fifo.write(line)

    def _changed(self, kind: str, name: str, state: str, priority: int,
                 scripts: NotifyScripts) -> None:
        timeout = self.stop_timeout if state == "STOP" else self.script_timeout
        steps = self._steps(name, scripts.for_state(state), (), timeout)
        steps += self._steps(name, _script(scripts.notify),
                             (kind, name, state, str(priority)), timeout)
        if steps:
            self._enqueue((kind, name), _Job(state, steps))
        elif state == "STOP":
            self._stop_lane((kind, name))
        self._fifo(kind, name, state, priority)

    def _steps(self, name: str, spec: ScriptSpec, extra: Sequence[str],
               timeout: float) -> list[_Step]:
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
    def _enqueue(self, key: tuple[str, str], job: _Job) -> None:
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(deque())
        if job.state == "STOP":
            self._stop_lane(key)
        else:
            older = [queued for queued in lane.waiting if queued.state == job.state]
            for queued in older:
                lane.waiting.remove(queued)
            self._dropped(key, lane, older)
        lane.waiting.append(job)
        lane.news.set()
        if lane.worker is None:
            lane.worker = asyncio.get_running_loop().create_task(
                self._work(key, lane), name=f"notify {key[0]} {key[1]}")

    def _stop_lane(self, key: tuple[str, str]) -> None:
        """The instance stops: what waits is stale, and a running script is ended so that the
        STOP scripts start without a second process of the lane alongside."""
        lane = self._lanes.get(key)
        if lane is None:
            return
        stale = [job for job in lane.waiting if job.state != "STOP"]
        for job in stale:
            lane.waiting.remove(job)
        self._dropped(key, lane, stale)
        running = lane.running
        if running is not None and running.state != "STOP" and lane.script is not None:
            lane.script.cancel()  # the runner terminates its process group, then reaps it

    def _dropped(self, key: tuple[str, str], lane: _Lane, jobs: list[_Job]) -> None:
        if not jobs:
            return
        lane.dropped += len(jobs)
        lane.unlogged += len(jobs)
        lane.last_dropped = jobs[-1].state
        self.dropped += len(jobs)
        now = time.monotonic()
        if now - lane.last_warning >= DROP_LOG_INTERVAL:
            lane.last_warning = now
            self._log_drops(key, lane)

    @staticmethod
    def _log_drops(key: tuple[str, str], lane: _Lane) -> None:
        busy = f" while {lane.running.state} was notified" if lane.running is not None else ""
        log.warning("(%s) %d notification(s) dropped (last %s): superseded by newer state "
                    "changes%s; %d dropped in all", key[1], lane.unlogged, lane.last_dropped,
                    busy, lane.dropped)
        lane.unlogged = 0

    async def _work(self, key: tuple[str, str], lane: _Lane) -> None:
        while lane.waiting:
            job = lane.running = lane.waiting.popleft()
            for step in job.steps:
                if job.state != "STOP" and any(w.state == "STOP" for w in lane.waiting):
                    break  # stopping: the rest of this job is stale
                await self._run_step(key, lane, job, step)
            lane.running = None
        if lane.unlogged:
            self._log_drops(key, lane)
        lane.worker = None

    async def _run_step(self, key: tuple[str, str], lane: _Lane, job: _Job,
                        step: _Step) -> None:
        """One script of a job, tried again while the machine has no room for its process
        (see the module docstring); bounded by START_RETRIES."""
        delay = START_RETRY_FIRST
        for attempt in range(START_RETRIES + 1):
            try:
                task = self.runner.spawn(step.argv, step.timeout, user=step.user,
                                         group=step.group)
            except Exception:  # a bug must not stop later notifications
                log.exception("(%s) notify script %s could not be started", key[1],
                              step.argv[0])
                return
            lane.script = task
            try:
                await self._await_script(key, task, step)
            finally:
                lane.script = None
            if not task.done() or task.cancelled() or task.exception() is not None \
                    or not task.result().transient:
                return
            if attempt == START_RETRIES:
                log.error("(%s) notify script %s for %s not run: no room for a process "
                          "after %d attempts", key[1], step.argv[0], job.state, attempt + 1)
                return
            lane.news.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lane.news.wait(), delay)
            if lane.waiting:  # a newer state (or STOP) is due: it is notified instead
                self._dropped(key, lane, [job])
                return
            delay = min(delay * 2, START_RETRY_MAX)

    async def _await_script(self, key: tuple[str, str], task: asyncio.Task[ScriptResult],
                            step: _Step) -> None:
        """Until the script has ended: the runner kills it at its timeout, or when the lane
        cancels it; bounded here too, for a process that even SIGKILL cannot end at once."""
        limit = step.timeout + 2 * self.runner.kill_grace + 1.0
        await asyncio.wait({task}, timeout=limit)
        if not task.done():
            log.error("(%s) notify script %s still running %gs after it was started, and "
                      "cannot be ended - going on with the next notification", key[1],
                      step.argv[0], limit)

    @property
    def pending(self) -> int:
        """Notifications waiting or running."""
        return sum(len(lane.waiting) + (lane.running is not None)
                   for lane in self._lanes.values())

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
        return all(lane.worker is None for lane in self._lanes.values())


def _state(state: str) -> str:
    upper = state.upper()
    if upper not in STATES:
        raise ValueError(f"unknown VRRP state {state!r} (expected one of {', '.join(STATES)})")
    return upper
