"""The daemon: a parent that watches over a VRRP child and a checker child, as keepalived runs.

The parent forks the VRRP process when the configuration has vrrp_instances and the checker
process when it has virtual_servers (``-P`` / ``-C`` choose one), forwards HUP/TERM/INT/USR1/USR2
to its children and respawns a child that dies unexpectedly, waiting longer when it dies young (so a
crash loop cannot spin). ``-n`` keeps the parent in the foreground; otherwise it detaches.

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
import gc
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

from pykeepalived.daemon.logsetup import set_role, setup_logging
from pykeepalived.daemon.parentdeath import stop_with_parent
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
_HELD = {signal.SIGTERM, signal.SIGINT, *_FORWARDED}
#: A child's signals until it takes them over: TERM/INT stop it, the others must not kill it
#: (their default action) while it starts.
_CHILD_SIGNALS: dict[signal.Signals, Any] = {
    signal.SIGTERM: signal.SIG_DFL, signal.SIGINT: signal.SIG_DFL,
    **dict.fromkeys(_FORWARDED, signal.SIG_IGN)}
#: The clean-up process finishes its work whatever the operator sends meanwhile.
_RELEASE_SIGNALS: dict[signal.Signals, Any] = dict.fromkeys(_HELD, signal.SIG_IGN)
#: How long the clean-up process may take before it is killed.
RELEASE_TIMEOUT = 15.0


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Block the daemon's signals (they stay pending, none is lost) for the block."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _fork(dispositions: dict[signal.Signals, Any]) -> int:
    """``os.fork()`` inside :func:`_signals_held`: the child sets ``dispositions`` before any
    signal reaches it (the parent's handlers never run in it), then takes signals again.

    Everything the parent holds goes to the collector's permanent generation first
    (``gc.freeze``, after a collection so that no garbage is kept): the child's collections
    then never write into those objects, and the pages the two processes share stay shared
    instead of being copied by the first collection in the child (1,000-instance VRRP
    process: 1.3 MiB less for parent and child together).

    The child stops when the parent dies (:mod:`daemon.parentdeath`); the TERM that says so
    waits, like any other, for the dispositions.
    """
    gc.collect()
    gc.freeze()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        stop_with_parent(parent)
        for sig, how in dispositions.items():
            signal.signal(sig, how)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
    return pid


def _run_child(body: Callable[[], int], what: str) -> NoReturn:
    """The end of every forked child: run ``body``, exit with its code, never return."""
    code = EXIT_FATAL
    try:
        code = body()
    except BaseException:
        log.exception("%s failed", what)
    finally:
        logging.shutdown()
        os._exit(code)


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


def check_config(path: str, config_id: str | None) -> set[str] | None:
    """Parse and check the configuration in a short-lived process of its own; the
    subsystems it configures ("vrrp", "check"), or None when it cannot be run.

    The parent only watches over its children: keeping a parsed configuration (and the
    parser) in it would cost as much memory again as a child's own copy. Every diagnostic is
    logged here, once; the children then load the file quietly.
    """
    read_end, write_end = os.pipe()

    def body() -> int:
        os.close(read_end)
        config = load(path, config_id)
        if config is None:
            return EXIT_CONFIG
        roles = [role for role, present in (("vrrp", config.vrrp_instances),
                                            ("check", config.virtual_servers)) if present]
        os.write(write_end, ",".join(roles).encode())
        return EXIT_OK

    with _signals_held():
        pid = _fork(_CHILD_SIGNALS)
        if pid == 0:
            _run_child(body, f"Checking {path}")
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        reply = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != EXIT_OK:
        return None
    return {role for role in reply.split(",") if role in ROLES}


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

        backend = backend_for(config)
        adopt = getattr(backend, "adopt", None)
        if adopt is not None:  # IPVS: remove what the configuration would have installed
            adopt(HealthCore(config.virtual_servers).services(group_services(config)))
        backend.clear()
        return EXIT_OK

    return _bounded_child(body, "Removing the checker child's load-balancer table", timeout)


def _bounded_child(body: Callable[[], int], what: str, timeout: float) -> bool:
    """Run ``body`` in a child that ignores the daemon's signals, killed after ``timeout``."""
    with _signals_held():
        pid = _fork(_RELEASE_SIGNALS)
        if pid == 0:
            _run_child(body, what)
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


def _run_check_child(args: argparse.Namespace) -> int:
    """Body of the checker child: load the configuration, run every virtual_server's checks
    and keep the load-balancer table until TERM."""
    import asyncio

    set_role("pykeepalived_check")
    pid_path = _opt(args, "checkers_pid", DEFAULT_CHECKERS_PID)
    try:
        write_pidfile(pid_path)
    except (PidFileError, OSError) as exc:
        log.error("%s", exc)
        return EXIT_FATAL
    from pykeepalived.daemon.check_main import run_checker

    config = load(_opt(args, "use_file", DEFAULT_CONFIG), _opt(args, "config_id"), quiet=True)
    if config is None:
        remove_pidfile(pid_path)
        return EXIT_CONFIG
    try:
        return asyncio.run(run_checker(config, path=_opt(args, "use_file"),
                                       config_id=_opt(args, "config_id"),
                                       release=not _opt(args, "dont_release_ipvs", False),
                                       control=_control(args, "check")))
    finally:
        remove_pidfile(pid_path)


def _run_vrrp_child(args: argparse.Namespace) -> int:
    """Body of the VRRP child process: load the configuration (checked just before by the
    parent), then run every vrrp_instance until TERM."""
    _import_asyncio_without_tls()  # here, not at the top: the parent never runs a loop
    import asyncio

    set_role("pykeepalived_vrrp")
    # Signals are as _CHILD_SIGNALS sets them (at the fork) until the loop takes them over.
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
                                    release_vips=not _opt(args, "dont_release_vrrp", False),
                                    control=_control(args, "vrrp")))
    finally:
        remove_pidfile(pid_path)


class Watchdog:
    """The parent: start children, forward signals, respawn the dead, clean up after them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.children: dict[int, str] = {}
        self.started: dict[str, float] = {}
        self.stopping = False
        self.respawn = not bool(_opt(args, "dont_respawn", False))
        self.exit_code = EXIT_OK
        # How the last child of each role that may have touched the host ended (an exit
        # code, or minus a signal number): 0 is a clean stop, EXIT_CONFIG never touched
        # anything, anything else may have left its VIPs (or its table) behind. Absent: no
        # child of the role has ended yet.
        self.ended: dict[str, int] = {}

    @property
    def vrrp_ended(self) -> int | None:
        return self.ended.get("vrrp")

    def spawn(self, role: str) -> None:
        body = _run_check_child if role == "check" else _run_vrrp_child
        what = "Healthcheck" if role == "check" else "VRRP"
        with _signals_held():
            pid = _fork(_CHILD_SIGNALS)
            if pid == 0:
                _run_child(lambda: body(self.args), f"{what} child")
            self.children[pid] = role
            self.started[role] = time.monotonic()
        # A TERM held during the fork has run _on_stop now, for this child too; one that
        # came before the fork found no child to pass it to.
        if self.stopping:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        log.info("Starting %s child process, pid=%d", what, pid)

    def _on_stop(self, signum: int, _frame: Any) -> None:
        self.stopping = True
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _forward(self, signum: int, _frame: Any) -> None:
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def run(self, roles: list[str] | None = None) -> int:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        for sig in _FORWARDED:
            signal.signal(sig, self._forward)
        for role in roles or ["vrrp"]:
            self.spawn(role)
        delays: dict[str, float] = {}
        while self.children:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            ended = self.children.pop(pid, None)
            if ended is None:
                continue
            role = ended
            code = os.waitstatus_to_exitcode(status)
            if code != EXIT_CONFIG:
                self.ended[role] = code
            if self.stopping:
                log.info("%s child process(%d) exited: %s", role.upper(), pid, _ending(code))
                continue
            lived = time.monotonic() - self.started.get(role, 0.0)
            log.warning("%s child process(%d) died: exit %d", role.upper(), pid, code)
            if not self.respawn or code == EXIT_CONFIG:
                self.stopping = True
                break
            if role == "vrrp":
                # a peer takes over after its master_down_interval: the dead child's VIPs
                # must not wait for the respawn (its delay grows), or they are on two hosts
                self.release_vrrp()
            delay = 0.0 if lived > 30 else min(max(delays.get(role, 0.0) * 2, 0.5), 30.0)
            delays[role] = delay
            if delay:
                log.info("Respawning %s child in %.1f s", role, delay)
                deadline = time.monotonic() + delay
                while not self.stopping and time.monotonic() < deadline:  # TERM cuts it short
                    time.sleep(0.05)
            if self.stopping:
                break
            path = _opt(self.args, "use_file", DEFAULT_CONFIG)
            usable = check_config(path, _opt(self.args, "config_id")) is not None
            if self.stopping:  # a TERM while the configuration was checked
                break
            if not usable:
                log.error("%s cannot be run: not respawning the %s child", path, role)
                self.exit_code = EXIT_CONFIG
                break
            self.spawn(role)
        self.release_if_unclean()
        log.info("Stopped pykeepalived")
        return self.exit_code

    def release_vrrp(self) -> None:
        """The last VRRP child did not stop cleanly: remove what it left on the host."""
        vrrp = self.ended.get("vrrp")
        if vrrp in (None, EXIT_OK):
            return
        path = _opt(self.args, "use_file", DEFAULT_CONFIG)
        release_vips = not bool(_opt(self.args, "dont_release_vrrp", False))
        log.warning("VRRP child did not stop cleanly (%s): removing the %s of %s",
                    _ending(vrrp),
                    "addresses, routes, rules, VMACs and nftables table" if release_vips
                    else "VMACs and nftables table (-V)", path)
        if release_host(path, _opt(self.args, "config_id"), release_vips=release_vips):
            log.info("Removed what the VRRP child left on the host")
            self.ended["vrrp"] = EXIT_OK  # nothing of it is left

    def release_if_unclean(self) -> None:
        """A child ended without stopping cleanly: remove what it left behind."""
        path = _opt(self.args, "use_file", DEFAULT_CONFIG)
        config_id = _opt(self.args, "config_id")
        self.release_vrrp()
        check = self.ended.get("check")
        if check not in (None, EXIT_OK) and not _opt(self.args, "dont_release_ipvs", False):
            log.warning("Healthcheck child did not stop cleanly (%s): removing the "
                        "load-balancer table of %s", _ending(check), path)
            if release_table(path, config_id):
                log.info("Removed the load-balancer table the healthcheck child left")


def _ending(code: int) -> str:
    """``exit 0`` or ``killed by signal 9 (SIGKILL)`` from waitstatus_to_exitcode's value."""
    if code >= 0:
        return f"exit {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = "?"
    return f"killed by signal {-code} ({name})"


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
    configured = check_config(path, _opt(args, "config_id"))
    if configured is None:
        return EXIT_CONFIG
    roles = wanted_roles(args, configured)
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
        return Watchdog(args).run(roles)
    finally:
        remove_pidfile(pid_path)
