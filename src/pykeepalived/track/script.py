"""vrrp_script: run a check script every ``interval`` seconds and report OK / KO with rise/fall.

keepalived.conf(5), "VRRP script(s)": the script runs every ``interval`` seconds (default 1);
exit status 0 is success; a run longer than ``timeout`` (default: the interval) is killed and
counts as a failure; ``rise`` consecutive successes make it OK, ``fall`` consecutive failures
make it KO; ``init_fail`` means "assume script initially is in failed state".

The rise/fall counter is the VRRP core's :class:`~pykeepalived.vrrp.tracking.ScriptState`
(keepalived's vrrp_scheduler.c arithmetic). This class runs the script and reports OK/KO;
what that does to priorities is vrrp.tracking's job too.

A deliberate difference: keepalived 2.2.7 (and its master branch) resets a script's init state
when an instance's track_script refers to it, so ``init_fail`` never takes effect there; here it
does what keepalived.conf(5) documents (tests/netns/test_notify_track_interop.py shows both).

A run still going when the next is due is not doubled: that run is skipped (and logged).
A script that cannot be started counts as a failure (keepalived would have disabled it at
startup; use :meth:`ScriptRunner.check` for that), except when the machine had no room for
its process (fork failed: a pids limit reached, no memory): as keepalived ("Failed fork
process"), such a run gives no result and the script keeps its state until a run does.
An instance does not leave MASTER because a notify script forks without end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Final

from pykeepalived.notify.script import ScriptResult, ScriptRunner
from pykeepalived.notify.split import ScriptSyntaxError, split_script
from pykeepalived.vrrp.tracking import ScriptState

__all__ = ["DEFAULT_INTERVAL", "TrackedScript"]

log = logging.getLogger(__name__)

DEFAULT_INTERVAL: Final = 1.0


class TrackedScript:
    """One ``vrrp_script``; ``on_change(name, ok)`` is called on every OK/KO transition."""

    def __init__(self, name: str, script: str, interval: float = DEFAULT_INTERVAL,
                 timeout: float | None = None, rise: int = 1, fall: int = 1,
                 init_fail: bool = False, runner: ScriptRunner | None = None,
                 on_change: Callable[[str, bool], None] | None = None, *,
                 user: str | None = None, group: str | None = None) -> None:
        if interval <= 0:
            raise ValueError(f"vrrp_script {name}: interval must be > 0, not {interval}")
        if rise < 1 or fall < 1:
            raise ValueError(f"vrrp_script {name}: rise and fall must be >= 1")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"vrrp_script {name}: timeout must be > 0, not {timeout}")
        self.name = name
        self.script = script
        self.interval = interval
        self.timeout = timeout
        self.rise = rise
        self.fall = fall
        self.init_fail = init_fail
        self.runner = runner if runner is not None else ScriptRunner()
        self.on_change = on_change
        self.user = user
        self.group = group
        self.argv: list[str] | None
        self.error: str | None = None
        try:
            self.argv = split_script(script)
        except ScriptSyntaxError as exc:
            self.argv = None
            self.error = str(exc)
        self.state = ScriptState(rise, fall, init_fail)
        self._last_status: int | None = None
        self.runs = 0
        self.skipped = 0
        self._loop_task: asyncio.Task[None] | None = None
        self._run_task: asyncio.Task[ScriptResult] | None = None

    # ------------------------------------------------------------- state
    @property
    def ok(self) -> bool | None:
        """True when OK, False when KO, None before the first result (no ``init_fail``)."""
        return self.state.ok

    @property
    def result(self) -> int:
        """keepalived's counter, 0 .. rise + fall - 1 (shown in its data dump)."""
        return self.state.result

    def record(self, success: bool, reason: str = "") -> bool | None:
        """Apply one result; calls ``on_change`` and returns the new state on a transition.

        The rise/fall arithmetic is the VRRP core's (:class:`ScriptState`), the one
        implementation the tests check against a plain model.
        """
        if not self.state.feed(success):
            return None
        changed = bool(self.state.ok)
        if changed:
            log.info("VRRP_Script(%s) succeeded", self.name)
        else:
            log.info("VRRP_Script(%s) %s", self.name, reason or "failed")
        if self.on_change is not None:
            try:
                self.on_change(self.name, changed)
            except Exception:
                log.exception("VRRP_Script(%s): on_change callback failed", self.name)
        return changed

    # --------------------------------------------------------------- runs
    def start(self) -> None:
        """Start running the script now and every ``interval`` seconds (needs a running loop)."""
        if self._loop_task is not None and not self._loop_task.done():
            return
        if self.argv is None:
            log.error("VRRP_Script(%s) not started: %s", self.name, self.error)
        self._loop_task = asyncio.get_running_loop().create_task(
            self._schedule(), name=f"vrrp_script {self.name}")

    def stop(self) -> None:
        """Stop scheduling runs and terminate a run in progress (the runner reaps it)."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            self._loop_task = None
        if self._run_task is not None and not self._run_task.done():
            self._run_task.cancel()

    async def aclose(self) -> None:
        """:meth:`stop`, then wait until a run in progress has been terminated and reaped."""
        run = self._run_task
        self.stop()
        if run is not None:
            await asyncio.wait({run}, timeout=self.runner.kill_grace + 2.0)

    async def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            self._launch()
            due += self.interval
            now = loop.time()
            if due < now:  # the loop was held up: start again from now, do not burst
                due = now + self.interval
            await asyncio.sleep(due - now)

    def _launch(self) -> None:
        if self._run_task is not None and not self._run_task.done():
            self.skipped += 1
            log.info("Track script %s is already running, expect idle - skipping run",
                     self.name)
            return
        self.runs += 1
        if self.argv is None:
            self.record(False, f"failed ({self.error})")
            return
        timeout = self.timeout if self.timeout is not None else self.interval
        task = self.runner.spawn(self.argv, timeout, user=self.user, group=self.group)
        task.add_done_callback(self._finished)
        self._run_task = task

    def _finished(self, task: asyncio.Task[ScriptResult]) -> None:
        if task.cancelled():
            return
        with contextlib.suppress(asyncio.InvalidStateError):
            result = task.result()
            self._apply(result)

    def _apply(self, result: ScriptResult) -> None:
        if result.transient:  # no room for a process: nothing known (the runner logged it)
            log.debug("VRRP_Script(%s) not run: %s", self.name, result.error)
            return
        if result.error is not None:
            self.record(False, f"failed ({result.error})")
            return
        if result.timed_out:
            self.record(False, "timed_out")
            return
        code = result.returncode
        assert code is not None
        if code >= 0:
            if code != self._last_status:
                log.info("Script `%s` now returning %d", self.name, code)
            self._last_status = code
            self.record(code == 0, f"failed (exited with status {code})")
        else:
            self.record(False, f"failed (due to signal {-code})")
