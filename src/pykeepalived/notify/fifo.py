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
  write never fails for want of a reader, and lines wait in the pipe (64 KiB on Linux) until
  a reader comes. A line is shorter than PIPE_BUF, so it is written whole or not at all.

When the pipe is full (no reader, or a slow one) keepalived loses the line. Here it waits in a
small backlog instead, holding only the latest line of each subject (an instance's or
group's state, its priority, a virtual or real server): a newer line replaces the waiting
one of its subject and goes to the end. The backlog is written as soon as the pipe has room
(the event loop watches the pipe; without a running loop, at the next write), so a reader
that catches up always ends with the latest state of everything, in order; lines in between
are dropped and counted (``dropped``), with a warning at most every ``_WARN_EVERY`` seconds.
The backlog holds at most ``max_backlog`` subjects (the oldest goes first), so memory stays
bounded whatever the reader does, and writing never blocks.

A reader going away costs nothing: the pipe has no writer-side error (the daemon holds a read
end, so there is no EPIPE; it opens read-write, so no ENXIO), lines wait in the pipe and the
backlog, and a reader that comes back reads them, as with keepalived.

Unlike keepalived, a FIFO that a reader replaced (keepalived's sample reader removes the FIFO
it made when it exits, and the next one makes a new one) is followed: the path is looked at
every ``_CHECK_EVERY`` seconds and before each write, and when it names another FIFO, that
one is opened and given the latest line of every subject (the state of every instance and
server now), then what follows. keepalived goes on writing into the old pipe, which no
reader can open again: every line after it is lost. While the path names no FIFO, lines
wait in the backlog. Each of these is logged once. At close, the FIFO is removed only if it
is still the one the daemon made.

Unlike keepalived, a path that exists but is not a FIFO is refused (keepalived would write into
a regular file).
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import logging
import os
import pwd
import stat
import time
from collections import OrderedDict
from typing import Final

from pykeepalived.notify.script import ScriptResult, ScriptRunner
from pykeepalived.notify.split import ScriptSyntaxError, split_script

__all__ = ["NotifyFifo", "lvs_rs_line", "lvs_vs_line", "vrrp_line"]

log = logging.getLogger(__name__)

_FIFO_MODE: Final = 0o644  # keepalived: S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH
_WARN_EVERY: Final = 10.0  # seconds between two "dropped" warnings
_CHECK_EVERY: Final = 1.0  # seconds between two looks at whether the path is still our FIFO
#: Subjects (instances, groups, servers) whose latest line can wait for room in the pipe.
DEFAULT_MAX_BACKLOG: Final = 4096
_STATE_WORDS: Final = frozenset({"MASTER", "BACKUP", "FAULT", "STOP", "DELETED"})


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


def _subject(line: str) -> tuple[str, str]:
    """What a line reports on, so that a newer line of the same subject replaces it.

    ``INSTANCE "VI_1" MASTER 100`` -> (``INSTANCE "VI_1"``, ``state``); the priority and
    event lines of an instance (MASTER_PRIORITY, MASTER_RX_LOWER_PRI ...) are subjects of
    their own; ``VS [192.0.2.15]:tcp:80 UP`` -> (``VS [192.0.2.15]:tcp:80``, ``state``).
    """
    text = line.rstrip("\n")
    if text.startswith(("INSTANCE ", "GROUP ")):
        head, _, _priority = text.rpartition(" ")
        head, _, word = head.rpartition(" ")
        return head, "state" if word in _STATE_WORDS else word
    head, _, _ = text.rpartition(" ")  # drop UP/DOWN
    return head or text, "state"


class NotifyFifo:
    """One notify FIFO and its optional reader script; see the module docstring.

    ``open()`` (or the first ``write``) creates and opens the FIFO and starts the script, which
    needs a running event loop. ``write`` never blocks and never raises.
    """

    def __init__(self, path: str, script: str | None = None,
                 runner: ScriptRunner | None = None, *, user: str | None = None,
                 group: str | None = None, script_user: str | None = None,
                 script_group: str | None = None,
                 max_backlog: int = DEFAULT_MAX_BACKLOG) -> None:
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
        self.max_backlog = max(1, max_backlog)
        self._backlog: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        # the latest line of each subject, for a reader that comes to a new FIFO
        self._latest: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None  # watching the pipe for room
        self._ident: tuple[int, int] | None = None  # (st_dev, st_ino) of the FIFO we hold
        self._lost: str | None = None  # why the path names no FIFO of ours now
        self._check: asyncio.TimerHandle | None = None

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
            self._fd = self._open()
        except OSError as exc:
            if self._created:
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
                self._created = False
            return self._fail(f"Unable to open notify fifo {self.path}: {exc.strerror}")
        log.info("Opened notify fifo %s", self.path)
        self._schedule_check()
        return True

    def _open(self) -> int:
        fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
        st = os.fstat(fd)
        self._ident = (st.st_dev, st.st_ino)
        return fd

    # ------------------------------------------------------------ the path
    def _schedule_check(self) -> None:
        """Look at the path again in _CHECK_EVERY seconds (while a loop runs)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: the path is looked at before each write only
        self._check = loop.call_later(_CHECK_EVERY, self._periodic_check)

    def _periodic_check(self) -> None:
        self._check = None
        if self._fd < 0:
            return
        self._follow()
        if self._backlog:
            self._flush()
        self._schedule_check()

    def _follow(self) -> bool:
        """Make the FIFO we write to the one the path names now (see the module docstring).
        True when it changed and the backlog now holds the latest line of every subject."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            self._lose("was removed")
            return False
        except OSError:
            return False  # cannot tell: keep the one we have
        if (st.st_dev, st.st_ino) == self._ident and self._lost is None:
            return False
        if not stat.S_ISFIFO(st.st_mode):
            self._lose("was replaced by something that is not a FIFO")
            return False
        if (st.st_dev, st.st_ino) == self._ident:  # ours came back (a bind mount, say)
            self._found("is back")
            return True
        try:
            fd = self._open()
        except OSError as exc:
            self._lose(f"was replaced by a FIFO that cannot be opened ({exc.strerror})")
            return False
        self._watch(False)
        os.close(self._fd)
        self._fd = fd
        self._created = False  # the new one is the reader's, not ours to remove
        self._found("was replaced by a new FIFO: writing to that one")
        return True

    def _lose(self, why: str) -> None:
        if self._lost != why:
            log.warning("notify fifo %s %s: lines wait until a FIFO is there again",
                        self.path, why)
        self._lost = why
        self._watch(False)

    def _found(self, how: str) -> None:
        """Writing to the FIFO at the path again: it gets the latest line of each subject."""
        log.warning("notify fifo %s %s, starting with the latest line of each of %d "
                    "instance(s) and server(s)", self.path, how, len(self._latest))
        self._lost = None
        self._backlog = OrderedDict(self._latest)

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

    @property
    def backlog(self) -> int:
        """Lines waiting for room in the pipe."""
        return len(self._backlog)

    def write(self, line: str) -> bool:
        """Queue one line (newline added if missing) and write what the pipe takes now.

        True when the line is in the pipe or waits in the backlog; False when it cannot be
        delivered at all (the FIFO could not be opened). Never blocks.
        """
        if not self._opened:
            self.open()
        if self._fd < 0:
            return False
        if not line.endswith("\n"):
            line += "\n"
        data = line.encode("utf-8", "surrogateescape")
        subject = _subject(line)
        self._latest.pop(subject, None)
        self._latest[subject] = data
        if len(self._latest) > self.max_backlog:
            self._latest.popitem(last=False)
        if self._follow():  # a new FIFO: the backlog holds this line and every other latest
            self._flush()
            return True
        if not self._backlog and self._lost is None:
            try:
                self._write(data)
            except BlockingIOError:
                pass  # the pipe is full: the line waits in the backlog
            except OSError as exc:  # pragma: no cover - we hold a read end: no EPIPE
                self._drop(exc.strerror or str(exc))
                return False
            else:
                return True
        self._queue(subject, data)
        self._flush()
        return True

    def _write(self, data: bytes) -> None:
        """One line into the pipe, whole (it is shorter than PIPE_BUF); BlockingIOError
        when the pipe is full."""
        done = os.write(self._fd, data)
        if done != len(data):  # pragma: no cover - lines are shorter than PIPE_BUF
            raise OSError(f"short write ({done} of {len(data)} bytes)")
        self.written += 1

    def _queue(self, subject: tuple[str, str], data: bytes) -> None:
        if self._backlog.pop(subject, None) is not None:
            why = (f"the FIFO {self._lost}" if self._lost is not None
                   else "the pipe is full (is the reader running?)")
            self._drop(f"{why}; superseded by a newer line")
        elif len(self._backlog) >= self.max_backlog:
            self._backlog.popitem(last=False)
            self._drop(f"backlog of {self.max_backlog} lines full")
        self._backlog[subject] = data

    def _flush(self) -> None:
        """Write waiting lines while the pipe takes them; then watch for room, or stop."""
        if self._lost is not None:
            return  # no FIFO at the path: the lines wait (the periodic check finds one)
        while self._backlog and self._fd >= 0:
            subject, data = next(iter(self._backlog.items()))
            try:
                self._write(data)
            except BlockingIOError:
                break
            except OSError as exc:  # pragma: no cover - we hold a read end: no EPIPE
                self._drop(exc.strerror or str(exc))
            del self._backlog[subject]
        self._watch(bool(self._backlog) and self._fd >= 0)

    def _watch(self, on: bool) -> None:
        """Have the event loop call :meth:`_flush` when the pipe has room, while lines wait."""
        if self._loop is not None and self._loop.is_closed():
            self._loop = None
        if on and self._loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop: the next write() flushes
            loop.add_writer(self._fd, self._flush)
            self._loop = loop
        elif not on and self._loop is not None:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_writer(self._fd)
            self._loop = None

    def write_vrrp(self, kind: str, name: str, state: str, priority: int) -> bool:
        """Write ``INSTANCE "name" STATE priority`` (see :func:`vrrp_line`)."""
        return self.write(vrrp_line(kind, name, state, priority))

    def _drop(self, reason: str, count: int = 1) -> None:
        self.dropped += count
        self._unwarned_drops += count
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY:
            log.warning("notify fifo %s: %d line(s) dropped: %s (%d in all)", self.path,
                        self._unwarned_drops, reason, self.dropped)
            self._last_warning = now
            self._unwarned_drops = 0

    def close(self) -> None:
        """Remove the FIFO if we made it and it is still the one at the path (first, so a
        looping reader cannot reopen it), close it, and terminate the reader script (the
        runner reaps it)."""
        if self._check is not None:
            self._check.cancel()
            self._check = None
        if self._created:
            with contextlib.suppress(OSError):
                st = os.lstat(self.path)
                if (st.st_dev, st.st_ino) == self._ident:
                    os.unlink(self.path)
            self._created = False
        if self._fd >= 0:
            self._watch(False)
            if self._backlog:
                self._last_warning = float("-inf")  # the last word on this FIFO: always logged
                self._drop("the fifo was closed before the reader took them",
                           len(self._backlog))
                self._backlog.clear()
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
