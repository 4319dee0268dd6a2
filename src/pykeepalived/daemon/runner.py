"""The daemon: a parent that watches over a VRRP child, as keepalived runs.

The parent forks the VRRP process (and, later, the checker process), forwards HUP/TERM/INT/USR1/USR2
to its children and respawns a child that dies unexpectedly, waiting longer when it dies young (so a
crash loop cannot spin). ``-n`` keeps the parent in the foreground; otherwise it detaches.
"""

from __future__ import annotations

import argparse
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

DEFAULT_CONFIG = "/etc/keepalived/keepalived.conf"
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


def load(path: str, config_id: str | None, *, quiet: bool = False) -> Any:
    """Load the configuration; None (with the reasons logged) when it cannot be run.

    As keepalived, errors that only drop a keyword or a block are logged and the rest runs;
    a configuration is refused when keepalived would refuse it too: a missing file, an
    interface that does not exist, or a fatal error.
    """
    from pykeepalived.config import load_config
    from pykeepalived.config.support_report import unsupported_uses

    result = load_config(path, config_id=config_id)
    for diag in result.diagnostics:
        if quiet:  # already reported by check_config() in a process of its own
            log.debug("%s", diag)
        else:
            (log.error if diag.severity == "error" else log.warning)("%s", diag)
    if not result.runnable:
        log.error("Configuration cannot be run; not starting")
        return None
    # keywords -t accepts that the daemon does nothing with: say so, once per keyword
    for unsupported in unsupported_uses(result.keyword_uses):
        (log.debug if quiet else log.warning)("%s", unsupported.message())
    return result.config


def check_config(path: str, config_id: str | None) -> bool:
    """Parse and check the configuration in a short-lived process of its own.

    The parent only watches over its children: keeping a parsed configuration (and the
    parser) in it would cost as much memory again as the VRRP process's own copy. Every
    diagnostic is logged here, once; the VRRP process then loads the file quietly.
    """
    pid = os.fork()
    if pid == 0:
        code = EXIT_CONFIG
        try:
            code = EXIT_OK if load(path, config_id) is not None else EXIT_CONFIG
        except BaseException:
            log.exception("Checking %s failed", path)
        finally:
            logging.shutdown()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == EXIT_OK


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


def _run_vrrp_child(args: argparse.Namespace) -> int:
    """Body of the VRRP child process: load the configuration (checked just before by the
    parent), then run every vrrp_instance until TERM."""
    import asyncio  # here, not at the top: the parent never runs an event loop

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

    config = load(_opt(args, "use_file", DEFAULT_CONFIG), _opt(args, "config_id"), quiet=True)
    if config is None:
        remove_pidfile(pid_path)
        return EXIT_CONFIG
    try:
        return asyncio.run(run_vrrp(config, path=_opt(args, "use_file"),
                                    config_id=_opt(args, "config_id"),
                                    release_vips=not _opt(args, "dont_release_vrrp", False)))
    finally:
        remove_pidfile(pid_path)


class Watchdog:
    """The parent: start children, forward signals, respawn the dead."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.children: dict[int, str] = {}
        self.started: dict[str, float] = {}
        self.stopping = False
        self.respawn = not bool(_opt(args, "dont_respawn", False))
        self.exit_code = EXIT_OK

    def spawn(self, role: str) -> None:
        pid = os.fork()
        if pid == 0:
            code = EXIT_FATAL
            try:
                code = _run_vrrp_child(self.args)
            except BaseException:  # the child must never return into the parent's code
                logging.getLogger("pykeepalived.vrrp").exception("VRRP child crashed")
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = role
        self.started[role] = time.monotonic()
        log.info("Starting VRRP child process, pid=%d", pid)

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
                path = _opt(self.args, "use_file", DEFAULT_CONFIG)
                if not check_config(path, _opt(self.args, "config_id")):
                    log.error("%s cannot be run: not respawning the %s child", path, role)
                    self.exit_code = EXIT_CONFIG
                    break
                self.spawn(role)
        log.info("Stopped pykeepalived")
        return self.exit_code


def run_daemon(args: argparse.Namespace) -> int:
    """Entry point for ``pykeepalived`` without ``-t``/``-v``/``-h``."""
    for sig in _FORWARDED:  # not fatal while starting up; the watchdog forwards them later
        signal.signal(sig, signal.SIG_IGN)
    console = bool(_opt(args, "log_console", False))
    setup_logging(console=console, detail=bool(_opt(args, "log_detail", False)),
                  facility=_opt(args, "log_facility"),
                  syslog=not bool(_opt(args, "no_syslog", False)))
    set_role("pykeepalived")
    path = _opt(args, "use_file", DEFAULT_CONFIG)
    if not os.path.isfile(path):
        log.error("Configuration file '%s' is not a regular file", path)
        if not console:
            print(f"pykeepalived: configuration file '{path}' not found", file=sys.stderr)
        return EXIT_CONFIG
    if _opt(args, "check", False) and not _opt(args, "vrrp", False):
        log.error("-C/--check: the health-checker subsystem is not available in this version")
        return EXIT_FATAL
    if not check_config(path, _opt(args, "config_id")):
        return EXIT_CONFIG
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
        return Watchdog(args).run()
    finally:
        remove_pidfile(pid_path)
