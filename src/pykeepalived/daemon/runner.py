"""The daemon: a parent that watches over a VRRP child and a checker child, as keepalived runs.

The parent forks the VRRP process when the configuration has vrrp_instances and the checker
process when it has virtual_servers (``-P`` / ``-C`` choose one); ``daemon.watchdog`` then
forwards HUP/USR1/USR2, respawns a child that dies unexpectedly (waiting longer when it dies
young, so a crash loop cannot spin), tells systemd when the daemon is ready, and on TERM/INT
stops every child, killing one that outlives child_wait_time. ``-n`` keeps the parent in the
foreground; otherwise it detaches.

Whatever the timing of a stop, nothing of ours stays on the host: when the parent ends and a
child did not stop cleanly (it was killed, died of the TERM that came before its handlers were
in place, or was not running because the parent was waiting to respawn it), the parent removes
what the configuration owns (``daemon.release``: VIPs, routes, rules, VMACs, nftables; the
load-balancer table) in a short-lived process. Signals are held while a child is forked, so
that one arriving then is neither lost nor run by the parent's handlers in the child.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from pykeepalived.daemon.logsetup import set_role, setup_logging
from pykeepalived.daemon.pidfile import PidFileError, remove_pidfile, write_pidfile
from pykeepalived.daemon.process import (
    EXIT_CONFIG,
    EXIT_FATAL,
    EXIT_OK,
    FORWARDED,
    RELEASE_SIGNALS,
    ending,
    fork,
    run_child,
    run_reader,
    signals_held,
)
from pykeepalived.daemon.sdnotify import SystemdNotifier
from pykeepalived.daemon.watchdog import CHILD_WAIT_TIME, RoleBody, Watchdog

log = logging.getLogger("pykeepalived.daemon")

DEFAULT_CONFIG = "/etc/keepalived/keepalived.conf"
DEFAULT_PID = "/run/keepalived.pid"
DEFAULT_VRRP_PID = "/run/keepalived_vrrp.pid"
DEFAULT_CHECKERS_PID = "/run/keepalived_checkers.pid"

#: How long the clean-up process may take before it is killed.
RELEASE_TIMEOUT = 15.0


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


ROLES = ("vrrp", "check")


class ConfigFacts(NamedTuple):
    """What the parent needs to know of a configuration it does not keep. (A named tuple:
    ``dataclasses`` would bring ``inspect``, ``ast`` and ``dis`` into the parent, whose pages
    the children then copy as they touch them.)"""

    roles: frozenset[str]  # the subsystems it configures: "vrrp", "check"
    child_wait_time: float  # global_defs child_wait_time


def check_config(path: str, config_id: str | None) -> ConfigFacts | None:
    """Parse and check the configuration in a short-lived process of its own; the facts the
    parent needs, or None when it cannot be run.

    The parent only watches over its children: keeping a parsed configuration (and the
    parser) in it would cost as much memory again as a child's own copy. Every diagnostic is
    logged here, once; the children then load the file quietly.
    """
    def body(write_end: int) -> int:
        config = load(path, config_id)
        if config is None:
            return EXIT_CONFIG
        roles = [role for role, present in (("vrrp", config.vrrp_instances),
                                            ("check", config.virtual_servers)) if present]
        facts = {"roles": roles,
                 "child_wait_time": getattr(config.global_defs, "child_wait_time",
                                            CHILD_WAIT_TIME)}
        os.write(write_end, json.dumps(facts).encode())
        return EXIT_OK

    code, reply = run_reader(body, f"Checking {path}")
    if code != EXIT_OK:
        return None
    facts = json.loads(reply)
    return ConfigFacts(frozenset(r for r in facts["roles"] if r in ROLES),
                       float(facts["child_wait_time"]))


def wanted_roles(args: argparse.Namespace, configured: set[str]) -> list[str]:
    """The children to run: what is configured, narrowed by ``-P`` / ``-C``; a VRRP child
    (idle) when nothing is, as before there was a checker process."""
    only = {role for role, flag in (("vrrp", "vrrp"), ("check", "check"))
            if _opt(args, flag, False)}
    roles = (configured & only) if only else set(configured)
    if not roles:
        roles = {"check"} if only == {"check"} else {"vrrp"}
    return [role for role in ROLES if role in roles]


def release_host(path: str, config_id: str | None, *, release_vips: bool,
                 timeout: float = RELEASE_TIMEOUT) -> bool:
    """Remove what the configuration owns from the host (``daemon.release``), in a
    short-lived process: the parent keeps no configuration, and a clean-up that hangs (a
    netlink call that never answers) is killed after ``timeout`` seconds. True when done."""

    def body() -> int:
        from pykeepalived.daemon.release import release

        set_role("pykeepalived_vrrp")
        config = load(path, config_id, quiet=True)
        if config is None:
            log.error("%s cannot be loaded: what the VRRP child left on the host stays", path)
            return EXIT_CONFIG
        release(config, release_vips=release_vips)
        return EXIT_OK

    return _bounded_child(body, "Removing the VRRP child's addresses", timeout)


def release_table(path: str, config_id: str | None, *,
                  timeout: float = RELEASE_TIMEOUT) -> bool:
    """Remove the load-balancer table a checker child left (it was killed), in a
    short-lived process as :func:`release_host` does for the VRRP child's addresses."""

    def body() -> int:
        from pykeepalived.daemon.check_main import backend_for

        set_role("pykeepalived_check")
        config = load(path, config_id, quiet=True)
        if config is None:
            log.error("%s cannot be loaded: the load-balancer table stays", path)
            return EXIT_CONFIG
        from pykeepalived.check.health import HealthCore
        from pykeepalived.check.table import group_services
        from pykeepalived.lb.errors import LbError

        try:
            backend = backend_for(config)
            adopt = getattr(backend, "adopt", None)
            if adopt is not None:  # IPVS: remove what the configuration would have installed
                adopt(HealthCore(config.virtual_servers).services(group_services(config)))
            backend.clear()
        except LbError as exc:
            log.error("Removing the load-balancer table failed: %s", exc)
            return EXIT_FATAL
        return EXIT_OK

    return _bounded_child(body, "Removing the checker child's load-balancer table", timeout)


def _bounded_child(body: Callable[[], int], what: str, timeout: float) -> bool:
    """Run ``body`` in a child that ignores the daemon's signals, killed after ``timeout``."""
    with signals_held():
        pid = fork(RELEASE_SIGNALS)
        if pid == 0:
            run_child(body, what)
    deadline = time.monotonic() + timeout
    while True:  # bounded by the deadline
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) == EXIT_OK
        if time.monotonic() >= deadline:
            log.error("%s took over %g s: abandoned", what, timeout)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return False
        time.sleep(0.01)


def _control(args: argparse.Namespace, role: str) -> str:
    """The control socket of ``role``, beside the parent's pid file (``--status`` finds it
    from the same ``-p``)."""
    from pykeepalived.control.server import socket_path

    return socket_path(_opt(args, "pid", DEFAULT_PID), role)


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


def _import_asyncio_without_tls() -> None:
    """Import asyncio without letting it load ``ssl``.

    asyncio imports ``ssl`` (and with it libssl) only to offer TLS transports, and treats a
    missing ``ssl`` as "no TLS". The VRRP process speaks no TLS: keeping ``ssl`` out saves
    0.9 MiB in it. The block lasts only for this import, so code that imports ``ssl`` itself
    later still gets it.
    """
    if "asyncio" in sys.modules or "ssl" in sys.modules:
        return
    sys.modules["ssl"] = None  # type: ignore[assignment]  # an import of it fails now
    try:
        import asyncio  # noqa: F401
    finally:
        del sys.modules["ssl"]


def _run_check_child(args: argparse.Namespace, ready: Callable[[], None]) -> int:
    """Body of the checker child: load the configuration, run every virtual_server's checks
    and keep the load-balancer table until TERM; ``ready`` once the first table is in place
    and after each reload."""
    import asyncio

    set_role("pykeepalived_check")
    pid_path = _opt(args, "checkers_pid", DEFAULT_CHECKERS_PID)
    try:
        write_pidfile(pid_path)
    except (PidFileError, OSError) as exc:
        log.error("%s", exc)
        return EXIT_FATAL
    from pykeepalived.daemon.check_main import run_checker
    from pykeepalived.daemon.priorities import new_event_loop

    config = load(_opt(args, "use_file", DEFAULT_CONFIG), _opt(args, "config_id"), quiet=True)
    if config is None:
        remove_pidfile(pid_path)
        return EXIT_CONFIG
    try:
        with asyncio.Runner(loop_factory=new_event_loop) as loop_runner:
            return loop_runner.run(run_checker(
                config, path=_opt(args, "use_file"), config_id=_opt(args, "config_id"),
                release=not _opt(args, "dont_release_ipvs", False),
                control=_control(args, "check"), ready=ready))
    finally:
        remove_pidfile(pid_path)


def _run_vrrp_child(args: argparse.Namespace, ready: Callable[[], None]) -> int:
    """Body of the VRRP child process: receive the configuration (checked just before by
    the parent) from a short-lived reader child, as the instances' plans
    (:func:`daemon.loadconf.read_forked`), then run every vrrp_instance until TERM;
    ``ready`` once every instance has its first state and after each reload."""
    _import_asyncio_without_tls()  # here, not at the top: the parent never runs a loop
    import asyncio

    set_role("pykeepalived_vrrp")
    # Signals are as CHILD_SIGNALS sets them (at the fork) until the loop takes them over.
    pid_path = _opt(args, "vrrp_pid", DEFAULT_VRRP_PID)
    try:
        write_pidfile(pid_path)
    except (PidFileError, OSError) as exc:
        log.error("%s", exc)
        return EXIT_FATAL
    from pykeepalived.daemon.loadconf import read_forked
    from pykeepalived.daemon.priorities import new_event_loop
    from pykeepalived.daemon.vrrp_main import run_vrrp

    try:
        # read in a child of its own: the parser never loads here
        config = read_forked(_opt(args, "use_file", DEFAULT_CONFIG), _opt(args, "config_id"))
    except BaseException:
        remove_pidfile(pid_path)
        raise
    if config is None:
        remove_pidfile(pid_path)
        return EXIT_CONFIG
    try:
        with asyncio.Runner(loop_factory=new_event_loop) as loop_runner:
            return loop_runner.run(run_vrrp(
                config, path=_opt(args, "use_file"), config_id=_opt(args, "config_id"),
                release_vips=not _opt(args, "dont_release_vrrp", False),
                control=_control(args, "vrrp"), ready=ready))
    finally:
        remove_pidfile(pid_path)


def release_vrrp(args: argparse.Namespace, ended: dict[str, int]) -> None:
    """The last VRRP child did not stop cleanly (``ended``: role -> how its last child
    ended): remove what it left on the host, and mark it as left clean.

    Called as soon as the child is reaped, not only at stop: a peer takes over after its
    master_down_interval, and the dead child's VIPs must not wait for the respawn (whose
    delay grows for a child that keeps dying young), or they are on two hosts."""
    vrrp = ended.get("vrrp")
    if vrrp in (None, EXIT_OK):
        return
    path = _opt(args, "use_file", DEFAULT_CONFIG)
    release_vips = not bool(_opt(args, "dont_release_vrrp", False))
    log.warning("VRRP child did not stop cleanly (%s): removing the %s of %s",
                ending(vrrp),
                "addresses, routes, rules, VMACs and nftables table" if release_vips
                else "VMACs and nftables table (-V)", path)
    if release_host(path, _opt(args, "config_id"), release_vips=release_vips):
        log.info("Removed what the VRRP child left on the host")
        ended["vrrp"] = EXIT_OK  # nothing of it is left


def release_if_unclean(args: argparse.Namespace, ended: dict[str, int]) -> None:
    """A child ended without stopping cleanly (``ended``: role -> how its last child ended):
    remove what it left behind."""
    path = _opt(args, "use_file", DEFAULT_CONFIG)
    config_id = _opt(args, "config_id")
    release_vrrp(args, ended)
    check = ended.get("check")
    if check not in (None, EXIT_OK) and not _opt(args, "dont_release_ipvs", False):
        log.warning("Healthcheck child did not stop cleanly (%s): removing the "
                    "load-balancer table of %s", ending(check), path)
        if release_table(path, config_id):
            log.info("Removed the load-balancer table the healthcheck child left")


def role_bodies(args: argparse.Namespace) -> dict[str, RoleBody]:
    """What each child runs, given the function it calls when ready."""
    return {"vrrp": lambda ready: _run_vrrp_child(args, ready),
            "check": lambda ready: _run_check_child(args, ready)}


def run_daemon(args: argparse.Namespace) -> int:
    """Entry point for ``pykeepalived`` without ``-t``/``-v``/``-h``."""
    for sig in FORWARDED:  # not fatal while starting up; the watchdog forwards them later
        signal.signal(sig, signal.SIG_IGN)
    systemd = SystemdNotifier.from_environment()  # before any child: they must not see it
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
    config_id = _opt(args, "config_id")
    facts = check_config(path, config_id)
    if facts is None:
        return EXIT_CONFIG
    roles = wanted_roles(args, set(facts.roles))
    if not bool(_opt(args, "dont_fork", False)):
        _daemonize()
    pid_path = _opt(args, "pid", DEFAULT_PID)
    try:
        write_pidfile(pid_path)
    except (PidFileError, OSError) as exc:
        log.error("%s", exc)
        return EXIT_FATAL

    def recheck() -> float | None:
        again = check_config(path, config_id)
        return None if again is None else again.child_wait_time

    log.info("Starting pykeepalived (config %s)", path)
    watchdog = Watchdog(role_bodies(args), respawn=not bool(_opt(args, "dont_respawn", False)),
                        child_wait_time=facts.child_wait_time, recheck=recheck,
                        systemd=systemd, on_died=lambda role, ended: (
                            release_vrrp(args, ended) if role == "vrrp" else None))
    try:
        code = watchdog.run(roles)
        release_if_unclean(args, watchdog.ended)
        log.info("Stopped pykeepalived")
        return code
    finally:
        remove_pidfile(pid_path)
