"""The parent process: start the children, pass signals on, respawn the dead, stop them all.

One loop waits on one pipe. Children write ``R<pid>`` lines to it when they are ready (every
VRRP instance has its first state; the checker has its first table) and again when they have
dealt with a reload (applied or refused). The parent's SIGCHLD handler writes a byte to the
same pipe, so a child's exit, a ready child and a timer are all one wait.

Readiness, for systemd: ``READY=1`` goes out once every child started has reported, and again
after a HUP once every child has reported since it (``RELOADING=1`` went out on the HUP).

Stopping: TERM/INT pass TERM to every child. A child still running ``child_wait_time``
seconds later (keepalived's global_defs keyword: it ignores TERM, or hangs) is killed with
SIGKILL, and what it left on the host is then removed. The watchdog never ends while a child
of its runs: left behind, a child would be killed by systemd with no clean-up (the unit's
``KillMode=mixed`` SIGKILLs what remains once the main process has gone), or, outside
systemd, run on with nothing to stop it. A child that dies while the daemon runs is
respawned; one that cannot be (``-R``, or a configuration that no longer loads) stops the
others, and the daemon with them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import time
from collections.abc import Callable, Mapping
from typing import Any

from pykeepalived.daemon.process import (
    CHILD_SIGNALS,
    EXIT_CONFIG,
    EXIT_FATAL,
    EXIT_OK,
    FORWARDED,
    ending,
    fork,
    run_child,
    signals_held,
)
from pykeepalived.daemon.sdnotify import SystemdNotifier

log = logging.getLogger("pykeepalived.daemon")

#: A child's body: runs in the forked child, calls its argument when ready, returns the exit code.
RoleBody = Callable[[Callable[[], None]], int]
#: Checks the configuration again before a respawn: its child_wait_time, or None if unusable.
Recheck = Callable[[], float | None]
#: Told of a child that died (its role, and :attr:`Watchdog.ended`) before its respawn waits.
OnDied = Callable[[str, dict[str, int]], None]

NAMES = {"vrrp": "VRRP", "check": "Healthcheck"}
#: keepalived's default child_wait_time.
CHILD_WAIT_TIME = 5.0


class Watchdog:
    """The parent: start children, forward signals, respawn the dead, stop and reap them all."""

    def __init__(self, bodies: Mapping[str, RoleBody], *, respawn: bool = True,
                 child_wait_time: float = CHILD_WAIT_TIME,
                 recheck: Recheck | None = None,
                 systemd: SystemdNotifier | None = None,
                 on_died: OnDied | None = None) -> None:
        self.bodies = bodies
        self.on_died = on_died
        self.respawn = respawn
        self.child_wait_time = child_wait_time
        self.recheck = recheck
        self.systemd = systemd or SystemdNotifier(None)
        self.children: dict[int, str] = {}
        self.started: dict[str, float] = {}
        self.stopping = False
        self.exit_code = EXIT_OK
        # How the last child of each role that may have touched the host ended (an exit
        # code, or minus a signal number): 0 is a clean stop, EXIT_CONFIG and EXIT_FATAL
        # (a child that could not run at all) never touched
        # anything, anything else may have left its VIPs (or its table) behind. Absent: no
        # child of the role has ended yet.
        self.ended: dict[str, int] = {}
        self.killed: set[int] = set()
        self.stop_deadline = 0.0
        self.respawn_at: dict[str, float] = {}
        self.delays: dict[str, float] = {}
        # children whose "ready" is awaited, and whether systemd awaits READY=1
        self.pending: set[int] = set()
        self.ready_due = True
        self._events_r, self._events_w = os.pipe()
        os.set_blocking(self._events_r, False)
        os.set_blocking(self._events_w, False)  # a signal handler must never block

    # ------------------------------------------------------------------ children
    def spawn(self, role: str) -> None:
        body = self.bodies[role]
        what = NAMES.get(role, role)
        events_w, events_r = self._events_w, self._events_r

        def ready() -> None:
            with contextlib.suppress(OSError):  # a full pipe: the parent has plenty to read
                os.write(events_w, f"R{os.getpid()}\n".encode())

        def child() -> int:
            os.close(events_r)
            return body(ready)

        with signals_held():
            pid = fork(CHILD_SIGNALS)
            if pid == 0:
                run_child(child, f"{what} child")
            self.children[pid] = role
            self.started[role] = time.monotonic()
            self.pending.add(pid)
        # A TERM held during the fork has run _on_stop now, for this child too; one that
        # came before the fork found no child to pass it to.
        if self.stopping:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        log.info("Starting %s child process, pid=%d", what, pid)

    def _stop(self) -> None:
        """TERM every child, and give them child_wait_time to end."""
        if not self.stopping:
            self.stopping = True
            self.stop_deadline = time.monotonic() + self.child_wait_time
            self.respawn_at.clear()
            self.systemd.stopping()
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    # ------------------------------------------------------------------ signals
    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._events_w, b"\n")

    def _on_stop(self, _signum: int, _frame: Any) -> None:
        self._stop()
        self._wake()  # the wait in progress resumes with a timeout that knows nothing of it

    def _on_child(self, _signum: int, _frame: Any) -> None:
        self._wake()

    def _forward(self, signum: int, _frame: Any) -> None:
        if signum == signal.SIGHUP and not self.stopping:
            self.systemd.reloading()
            self.pending.update(self.children)
            self.ready_due = True
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
        self._wake()

    # ------------------------------------------------------------------ the loop
    def run(self, roles: list[str]) -> int:
        """Run ``roles``' children until they have all ended; the daemon's exit code."""
        signal.signal(signal.SIGCHLD, self._on_child)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        for sig in FORWARDED:
            signal.signal(sig, self._forward)
        try:
            for role in roles:
                self.spawn(role)
            while self.children or self.respawn_at:  # ends: children are reaped or killed
                self._wait()
                self._read_events()
                self._reap()
                self._respawn_due()
                self._kill_overdue()
                self._announce()
        finally:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(self._events_r)
            os.close(self._events_w)
        return self.exit_code

    def _timeout(self) -> float | None:
        deadlines = list(self.respawn_at.values())
        if self.stopping and any(pid not in self.killed for pid in self.children):
            deadlines.append(self.stop_deadline)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - time.monotonic())

    def _wait(self) -> None:
        select.select([self._events_r], [], [], self._timeout())

    def _read_events(self) -> None:
        data = b""
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self._events_r, 4096):
                data += chunk
        for line in data.split(b"\n"):
            if line.startswith(b"R") and line[1:].isdigit():
                self.pending.discard(int(line[1:]))

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            role = self.children.pop(pid, None)
            if role is not None:
                self._ended(pid, role, os.waitstatus_to_exitcode(status))

    def _ended(self, pid: int, role: str, code: int) -> None:
        self.pending.discard(pid)
        self.killed.discard(pid)
        if code not in (EXIT_CONFIG, EXIT_FATAL):  # those never touched the host
            self.ended[role] = code
        if self.stopping:
            log.info("%s child process(%d) exited: %s", role.upper(), pid, ending(code))
            return
        if code == EXIT_FATAL and self.respawn:
            # keepalived: "exited with permanent error FATAL"; it would stop the whole
            # daemon, here the other child goes on, and this one is not respawned into the
            # same failure again and again
            log.error("%s child process(%d) exited with permanent error FATAL: not "
                      "respawning it%s", role.upper(), pid,
                      "; the other child goes on" if self.children else "")
            self.exit_code = EXIT_FATAL
            return
        log.warning("%s child process(%d) died: %s", role.upper(), pid, ending(code))
        if code == EXIT_CONFIG or not self.respawn:
            self.exit_code = EXIT_CONFIG if code == EXIT_CONFIG else EXIT_FATAL
            self._stop()
            return
        if self.on_died is not None:
            try:
                self.on_died(role, self.ended)
            except Exception:  # the parent must go on respawning whatever happened here
                log.exception("Cleaning up after the %s child failed", role)
        lived = time.monotonic() - self.started.get(role, 0.0)
        delay = 0.0 if lived > 30 else min(max(self.delays.get(role, 0.0) * 2, 0.5), 30.0)
        self.delays[role] = delay
        if delay:
            log.info("Respawning %s child in %.1f s", role, delay)
        self.respawn_at[role] = time.monotonic() + delay

    def _respawn_due(self) -> None:
        now = time.monotonic()
        for role, when in list(self.respawn_at.items()):
            if self.stopping or when > now:
                continue
            del self.respawn_at[role]
            wait_time = self.recheck() if self.recheck is not None else self.child_wait_time
            if self.stopping:  # a TERM while the configuration was checked
                return
            if wait_time is None:
                log.error("The configuration cannot be run: not respawning the %s child", role)
                self.exit_code = EXIT_CONFIG
                self._stop()
                return
            self.child_wait_time = wait_time
            self.spawn(role)

    def _kill_overdue(self) -> None:
        if not self.stopping or time.monotonic() < self.stop_deadline:
            return
        for pid, role in self.children.items():
            if pid in self.killed:
                continue
            log.warning("%s child process(%d) still running %g s after TERM "
                        "(child_wait_time): killing it", role.upper(), pid,
                        self.child_wait_time)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self.killed.add(pid)

    def _announce(self) -> None:
        if self.ready_due and not self.stopping and not self.pending and not self.respawn_at:
            self.ready_due = False
            roles = sorted({NAMES.get(r, r) for r in self.children.values()})
            self.systemd.ready(f"Running: {' and '.join(roles)} child" +
                               ("ren" if len(roles) > 1 else ""))
