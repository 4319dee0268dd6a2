"""Forking the daemon's processes: signals held across the fork, and the end of every child.

The parent's signal handlers must never run in a child (a TERM there would be taken for the
parent's own), and no signal may be lost while a child is being made: the daemon's signals are
blocked around ``fork()``, and the child sets its own dispositions before it takes them again.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

from pykeepalived.daemon.parentdeath import stop_with_parent

log = logging.getLogger("pykeepalived.daemon")

# keepalived's exit codes (lib/scheduler.h KEEPALIVED_EXIT_*)
EXIT_OK = 0
#: A child that cannot run at all (its pid file, the kernel lacks what it needs: no IPVS):
#: keepalived's "exited with permanent error FATAL". Not respawned.
EXIT_FATAL = 1
EXIT_CONFIG = 4
#: A child that failed unexpectedly (keepalived's KEEPALIVED_EXIT_PROGRAM_ERROR, EX_SOFTWARE):
#: respawned.
EXIT_PROGRAM_ERROR = 70

FORWARDED = (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
HELD = {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, *FORWARDED}
#: A child's signals until it takes them over: TERM/INT stop it, the others must not kill it
#: (their default action) while it starts. SIGCHLD is its own business, not the watchdog's.
CHILD_SIGNALS: dict[signal.Signals, Any] = {
    signal.SIGTERM: signal.SIG_DFL, signal.SIGINT: signal.SIG_DFL,
    signal.SIGCHLD: signal.SIG_DFL, **dict.fromkeys(FORWARDED, signal.SIG_IGN)}
#: The clean-up process finishes its work whatever the operator sends meanwhile.
RELEASE_SIGNALS: dict[signal.Signals, Any] = {
    **dict.fromkeys(HELD - {signal.SIGCHLD}, signal.SIG_IGN), signal.SIGCHLD: signal.SIG_DFL}


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Block the daemon's signals (they stay pending, none is lost) for the block."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def fork(dispositions: dict[signal.Signals, Any]) -> int:
    """``os.fork()`` inside :func:`signals_held`: the child sets ``dispositions`` before any
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
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)
    return pid


def run_child(body: Callable[[], int], what: str) -> NoReturn:
    """The end of every forked child: run ``body``, exit with its code, never return."""
    code = EXIT_PROGRAM_ERROR
    try:
        code = body()
    except BaseException:
        log.exception("%s failed", what)
    finally:
        logging.shutdown()
        os._exit(code)


def run_reader(body: Callable[[int], int], what: str) -> tuple[int, bytes]:
    """Run ``body(write_fd)`` in a short-lived forked child: its exit code
    (waitstatus_to_exitcode's value) and every byte it wrote to ``write_fd``.

    What the parent wants from a configuration it does not keep (its facts, the VRRP
    process's plans) is made there, so that the parser's modules and its temporary objects
    never load in the process that asks.
    """
    read_end, write_end = os.pipe()

    def child() -> int:
        os.close(read_end)
        return body(write_end)

    with signals_held():
        pid = fork(CHILD_SIGNALS)
        if pid == 0:
            run_child(child, what)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), data


def ending(code: int) -> str:
    """``exit 0`` or ``killed by signal 9 (SIGKILL)`` from waitstatus_to_exitcode's value."""
    if code >= 0:
        return f"exit {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = "?"
    return f"killed by signal {-code} ({name})"
