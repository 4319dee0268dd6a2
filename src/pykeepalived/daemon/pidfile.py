"""Pid files with keepalived's semantics: refuse to start when the recorded process still runs.

A stale file (its process gone, or the pid reused by a process that is not us) is replaced, which
avoids keepalived's well-known "daemon is already running" after a crash. "Us" is a Python
interpreter running pykeepalived: a ``journalctl -u pykeepalived`` or an editor on
``pykeepalived.conf`` that happens to get the dead daemon's pid names pykeepalived too, and
must not keep the service from starting. Nor does this process's own parent (a child's pid
file may still name the parent of a new daemon, once pids wrap).
"""

from __future__ import annotations

import contextlib
import os


class PidFileError(RuntimeError):
    """Another instance holds this pid file."""


def _alive_and_ours(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read()
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return True
    return exe.startswith("python") and b"pykeepalived" in cmdline


def write_pidfile(path: str) -> None:
    """Write our pid to ``path``; raise PidFileError when a live pykeepalived owns it."""
    try:
        with open(path) as fh:
            pid = int(fh.read().strip() or "0")
    except (OSError, ValueError):
        pid = 0
    if pid and pid not in (os.getpid(), os.getppid()) and _alive_and_ours(pid):
        raise PidFileError(f"daemon is already running (pid {pid} in {path})")
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        fh.write(f"{os.getpid()}\n")
    os.replace(tmp, path)


def remove_pidfile(path: str) -> None:
    """Remove ``path`` if it still names this process."""
    with contextlib.suppress(OSError, ValueError), open(path) as fh:
        if int(fh.read().strip() or "0") != os.getpid():
            return
    with contextlib.suppress(OSError):
        os.unlink(path)
