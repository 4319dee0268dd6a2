"""notify_fifo: state changes written as lines to a named pipe, never blocking the daemon.

keepalived.conf(5), ``notify_fifo FIFO_NAME [username [groupname]]``: "Rather than using notify
scripts, specifying a fifo allows more efficient processing of notify events, and guarantees
that they will be delivered in the correct sequence." The lines (``vrrp_notify_fifo``):
``INSTANCE "VI_1" MASTER 100`` and ``GROUP "VG_1" BACKUP 0``; for ``lvs_notify_fifo``:
``VS [192.0.2.15]:tcp:80 UP`` and ``RS [198.51.100.4]:tcp:80 [192.0.2.15]:tcp:80 DOWN``; each
terminated by a newline.

What keepalived does, and this module too:

- the FIFO is created (mode 0644) when missing and removed at close only if we created it;
- ``notify_fifo_script`` is started before the FIFO is opened, with the FIFO's name appended as
  its last argument; it is not restarted when it exits (that is logged);
- the FIFO is opened read-write and non-blocking: the daemon is then a reader itself, so a
  write never fails for want of a reader. Lines wait in the pipe (64 KiB on Linux) until a
  reader comes; when the pipe is full a line is dropped, with a rate-limited warning. A line is
  shorter than PIPE_BUF, so it is written whole or not at all.

Unlike keepalived, a path that exists but is not a FIFO is refused (keepalived would write into
a regular file).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import grp
import logging
import os
import pwd
import stat
import time
from typing import Final

from pykeepalived.notify.script import ScriptResult, ScriptRunner
from pykeepalived.notify.split import ScriptSyntaxError, split_script

__all__ = ["NotifyFifo", "lvs_rs_line", "lvs_vs_line", "vrrp_line"]

log = logging.getLogger(__name__)

_FIFO_MODE: Final = 0o644  # keepalived: S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH
_WARN_EVERY: Final = 10.0  # seconds between two "dropped" warnings


def vrrp_line(kind: str, name: str, state: str, priority: int) -> str:
    """``INSTANCE "VI_1" MASTER 100\\n`` (``kind`` is INSTANCE or GROUP; groups send 0).

    The name is written between double quotes as it is, without escaping, as keepalived does.
    """
    return f'{kind} "{name}" {state} {priority}\n'


def lvs_vs_line(vs: str, up: bool) -> str:
    """``VS [192.0.2.15]:tcp:80 UP\\n``: ``vs`` is the service as keepalived formats it."""
    return f"VS {vs} {'UP' if up else 'DOWN'}\n"


def lvs_rs_line(rs: str, vs: str, up: bool) -> str:
    """``RS [198.51.100.4]:tcp:80 [192.0.2.15]:tcp:80 DOWN\\n``."""
    return f"RS {rs} {vs} {'UP' if up else 'DOWN'}\n"


class NotifyFifo:
    """One notify FIFO and its optional reader script; see the module docstring.

    ``open()`` (or the first ``write``) creates and opens the FIFO and starts the script, which
    needs a running event loop. ``write`` never blocks and never raises.
    """

    def __init__(self, path: str, script: str | None = None,
                 runner: ScriptRunner | None = None, *, user: str | None = None,
                 group: str | None = None, script_user: str | None = None,
                 script_group: str | None = None) -> None:
        self.path = path
        self.script = script
        self.runner = runner if runner is not None else ScriptRunner()
        self.user = user
        self.group = group
        self.script_user = script_user
        self.script_group = script_group
        self.error: str | None = None
        self.written = 0
        self.dropped = 0
        self._fd = -1
        self._created = False
        self._opened = False
        self._script_task: asyncio.Task[ScriptResult] | None = None
        self._last_warning = float("-inf")
        self._unwarned_drops = 0

    @property
    def is_open(self) -> bool:
        return self._fd >= 0

    def open(self) -> bool:
        """Create the FIFO if needed, start the reader script, open it; False on failure."""
        if self._opened:
            return self._fd >= 0
        self._opened = True
        try:
            os.mkfifo(self.path, _FIFO_MODE)
        except FileExistsError:
            pass
        except OSError as exc:
            return self._fail(f"Unable to create notify fifo {self.path}: {exc.strerror}")
        else:
            self._created = True
            self._chown()
        try:
            st = os.lstat(self.path)
        except OSError as exc:
            return self._fail(f"Unable to examine notify fifo {self.path}: {exc.strerror}")
        if not stat.S_ISFIFO(st.st_mode):
            return self._fail(f"notify fifo {self.path} exists and is not a FIFO")
        if self.script is not None:
            self._start_script()
        try:
            self._fd = os.open(self.path,
                               os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError as exc:
            if self._created:
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
                self._created = False
            return self._fail(f"Unable to open notify fifo {self.path}: {exc.strerror}")
        log.info("Opened notify fifo %s", self.path)
        return True

    def _fail(self, message: str) -> bool:
        self.error = message
        log.error("%s", message)
        return False

    def _chown(self) -> None:
        if self.user is None and self.group is None:
            return
        try:
            uid = pwd.getpwnam(self.user).pw_uid if self.user is not None else -1
            gid = grp.getgrnam(self.group).gr_gid if self.group is not None else -1
            if self.user is not None and self.group is None:
                gid = pwd.getpwnam(self.user).pw_gid
            os.chown(self.path, uid, gid)
        except (KeyError, OSError) as exc:
            log.warning("Failed to set owner of notify fifo %s: %s", self.path, exc)

    def _start_script(self) -> None:
        assert self.script is not None
        try:
            argv = [*split_script(self.script), self.path]
        except ScriptSyntaxError as exc:
            log.error("notify_fifo_script: %s", exc)
            return
        try:
            task = self.runner.spawn(argv, None, user=self.script_user, group=self.script_group)
        except RuntimeError:
            log.error("notify_fifo_script %s not started: no running event loop", argv[0])
            return
        task.add_done_callback(self._script_ended)
        self._script_task = task

    def _script_ended(self, task: asyncio.Task[ScriptResult]) -> None:
        if task.cancelled():
            return
        result = task.result()
        if result.error is None:
            log.warning("notify fifo script %s terminated (status %s)", result.argv[0],
                        result.returncode)

    def write(self, line: str) -> bool:
        """Write one line (newline added if missing); False when it was dropped."""
        if not self._opened:
            self.open()
        if self._fd < 0:
            return False
        if not line.endswith("\n"):
            line += "\n"
        data = line.encode("utf-8", "surrogateescape")
        try:
            done = os.write(self._fd, data)
        except BlockingIOError:
            return self._drop("the pipe is full (is the reader running?)")
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # pragma: no cover - we hold a read end
                return self._drop("no reader")
            return self._drop(exc.strerror or str(exc))
        if done != len(data):  # pragma: no cover - lines are shorter than PIPE_BUF
            return self._drop(f"short write ({done} of {len(data)} bytes)")
        self.written += 1
        return True

    def write_vrrp(self, kind: str, name: str, state: str, priority: int) -> bool:
        """Write ``INSTANCE "name" STATE priority`` (see :func:`vrrp_line`)."""
        return self.write(vrrp_line(kind, name, state, priority))

    def _drop(self, reason: str) -> bool:
        self.dropped += 1
        self._unwarned_drops += 1
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY:
            log.warning("notify fifo %s: %d line(s) dropped: %s", self.path,
                        self._unwarned_drops, reason)
            self._last_warning = now
            self._unwarned_drops = 0
        return False

    def close(self) -> None:
        """Remove the FIFO if we made it (first, so a looping reader cannot reopen it), close
        it, and terminate the reader script (the runner reaps it)."""
        if self._created:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self._created = False
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._script_task is not None and not self._script_task.done():
            self._script_task.cancel()

    async def aclose(self, timeout: float = 5.0) -> None:
        """:meth:`close`, then wait (bounded) until the reader script has been reaped."""
        task = self._script_task
        self.close()
        if task is not None:
            await asyncio.wait({task}, timeout=timeout)
