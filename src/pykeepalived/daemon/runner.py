"""The daemon: a parent that watches over a VRRP child, as keepalived runs.

The parent forks the VRRP process (and, later, the checker process), forwards HUP/TERM/INT/USR1/USR2
to its children and respawns a child that dies unexpectedly, waiting longer when it dies young (so a
crash loop cannot spin). ``-n`` keeps the parent in the foreground; otherwise it detaches.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from typing import Any

from pykeepalived.daemon.logsetup import set_role, setup_logging
from pykeepalived.daemon.pidfile import PidFileError, remove_pidfile, write_pidfile

log = logging.getLogger("pykeepalived.daemon")

DEFAULT_PID = "/run/keepalived.pid"
DEFAULT_VRRP_PID = "/run/keepalived_vrrp.pid"
DEFAULT_CHECKERS_PID = "/run/keepalived_checkers.pid"

# keepalived's exit codes (lib/scheduler.h KEEPALIVED_EXIT_*)
EXIT_OK = 0
EXIT_FATAL = 1
EXIT_CONFIG = 4

_FORWARDED = (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)


def _opt(args: argparse.Namespace, name: str, default: Any = None) -> Any:
    value = getattr(args, name, default)
    return default if value is None else value


def load(path: str, config_id: str | None) -> Any:
    """Load the configuration; None (with the reasons logged) when it cannot be run.

    As keepalived, errors that only drop a keyword or a block are logged and the rest runs;
    a configuration is refused when keepalived would refuse it too: a missing file, an
    interface that does not exist, or a fatal error.
    """
    from pykeepalived.config import Category, load_config

    result = load_config(path, config_id=config_id)
    for diag in result.diagnostics:
        (log.error if diag.severity == "error" else log.warning)("%s", diag)
    fatal = [d for d in result.diagnostics
             if d.severity == "error" and Category.OK < d.category <= Category.FATAL]
    if result.fatal_exit is not None or fatal:
        log.error("Configuration cannot be run; not starting")
        return None
    return result.config


def _daemonize() -> None:
    """Detach: fork, new session, fork, stdio to /dev/null."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)


def _run_vrrp_child(args: argparse.Namespace, config: Any) -> int:
    """Body of the VRRP child process."""
    set_role("pykeepalived_vrrp")
    # TERM/INT stop the child until its loop takes them over; a HUP or USR1/2 arriving before
    # then must not kill it (their default action), so they are ignored meanwhile.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    for sig in _FORWARDED:
        signal.signal(sig, signal.SIG_IGN)
    pid_path = _opt(args, "vrrp_pid", DEFAULT_VRRP_PID)
    try:
        write_pidfile(pid_path)
    except (PidFileError, OSError) as exc:
        log.error("%s", exc)
        return EXIT_FATAL
    from pykeepalived.daemon.vrrp_main import run_vrrp

    try:
        return asyncio.run(run_vrrp(config, path=_opt(args, "use_file"),
                                    config_id=_opt(args, "config_id"),
                                    release_vips=not _opt(args, "dont_release_vrrp", False)))
    finally:
        remove_pidfile(pid_path)


class Watchdog:
    """The parent: start children, forward signals, respawn the dead."""

    def __init__(self, args: argparse.Namespace, config: Any) -> None:
        self.args = args
        self.config = config
        self.children: dict[int, str] = {}
        self.started: dict[str, float] = {}
        self.stopping = False
        self.respawn = not bool(_opt(args, "dont_respawn", False))

    def spawn(self, role: str) -> None:
        pid = os.fork()
        if pid == 0:
            code = EXIT_FATAL
            try:
                code = _run_vrrp_child(self.args, self.config)
            except BaseException:  # the child must never return into the parent's code
                logging.getLogger("pykeepalived.vrrp").exception("VRRP child crashed")
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = role
        self.started[role] = time.monotonic()
        log.info("Starting VRRP child process, pid=%d", pid)

    def refresh_config(self) -> None:
        """A respawned child runs the configuration as it is now (reloads included), or the
        last one that could run when the file has since been broken."""
        path = _opt(self.args, "use_file", "/etc/keepalived/keepalived.conf")
        try:
            config = load(path, _opt(self.args, "config_id"))
        except Exception as exc:  # a respawn must not fail on a configuration problem
            log.error("Cannot re-read %s (%s); respawning with the last good one", path, exc)
            return
        if config is None:
            log.error("%s cannot be run; respawning with the last good configuration", path)
        else:
            self.config = config

    def _on_stop(self, signum: int, _frame: Any) -> None:
        self.stopping = True
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _forward(self, signum: int, _frame: Any) -> None:
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        for sig in _FORWARDED:
            signal.signal(sig, self._forward)
        self.spawn("vrrp")
        delay = 0.0
        while self.children:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            role = self.children.pop(pid, None)
            if role is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if self.stopping:
                continue
            lived = time.monotonic() - self.started.get(role, 0.0)
            log.warning("%s child process(%d) died: exit %d", role.upper(), pid, code)
            if not self.respawn or code == EXIT_CONFIG:
                self.stopping = True
                break
            delay = 0.0 if lived > 30 else min(max(delay * 2, 0.5), 30.0)
            if delay:
                log.info("Respawning %s child in %.1f s", role, delay)
                deadline = time.monotonic() + delay
                while not self.stopping and time.monotonic() < deadline:  # TERM cuts it short
                    time.sleep(0.05)
            if not self.stopping:
                self.refresh_config()
                self.spawn(role)
        log.info("Stopped pykeepalived")
        return EXIT_OK


def run_daemon(args: argparse.Namespace) -> int:
    """Entry point for ``pykeepalived`` without ``-t``/``-v``/``-h``."""
    for sig in _FORWARDED:  # not fatal while starting up; the watchdog forwards them later
        signal.signal(sig, signal.SIG_IGN)
    console = bool(_opt(args, "log_console", False))
    setup_logging(console=console, detail=bool(_opt(args, "log_detail", False)),
                  facility=_opt(args, "log_facility"),
                  syslog=not bool(_opt(args, "no_syslog", False)))
    set_role("pykeepalived")
    path = _opt(args, "use_file", "/etc/keepalived/keepalived.conf")
    if not os.path.isfile(path):
        log.error("Configuration file '%s' is not a regular file", path)
        if not console:
            print(f"pykeepalived: configuration file '{path}' not found", file=sys.stderr)
        return EXIT_CONFIG
    if _opt(args, "check", False) and not _opt(args, "vrrp", False):
        log.error("-C/--check: the health-checker subsystem is not available in this version")
        return EXIT_FATAL
    config = load(path, _opt(args, "config_id"))
    if config is None:
        return EXIT_CONFIG
    if not config.vrrp_instances:
        log.warning("No vrrp_instance in %s: the VRRP subsystem has nothing to run", path)
    if not bool(_opt(args, "dont_fork", False)):
        _daemonize()
    pid_path = _opt(args, "pid", DEFAULT_PID)
    try:
        write_pidfile(pid_path)
    except (PidFileError, OSError) as exc:
        log.error("%s", exc)
        return EXIT_FATAL
    log.info("Starting pykeepalived (config %s)", path)
    try:
        return Watchdog(args, config).run()
    finally:
        remove_pidfile(pid_path)
