"""Directory change notifications through Linux inotify, via ctypes (no new dependency).

keepalived watches the *directory* of each track_file for IN_CLOSE_WRITE, IN_DELETE and
IN_MOVE, so it sees a file written in place, replaced by a rename, or removed. One inotify
instance serves every watch of an event loop (the per-user limit on inotify instances is
small, 128 by default); its descriptor is read by the loop, never blocking.
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import logging
import os
import struct
from collections.abc import Callable
from typing import Final

__all__ = [
    "IN_CLOSE_WRITE",
    "IN_DELETE",
    "IN_IGNORED",
    "IN_ISDIR",
    "IN_MOVED_FROM",
    "IN_MOVED_TO",
    "IN_Q_OVERFLOW",
    "InotifyError",
    "InotifyWatcher",
]

log = logging.getLogger(__name__)

# <sys/inotify.h>
IN_CLOSE_WRITE: Final = 0x00000008
IN_MOVED_FROM: Final = 0x00000040
IN_MOVED_TO: Final = 0x00000080
IN_DELETE: Final = 0x00000200
IN_Q_OVERFLOW: Final = 0x00004000
IN_IGNORED: Final = 0x00008000
IN_ISDIR: Final = 0x40000000
_IN_NONBLOCK: Final = os.O_NONBLOCK
_IN_CLOEXEC: Final = os.O_CLOEXEC
WATCH_MASK: Final = IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO
_EVENT: Final = struct.Struct("iIII")  # wd, mask, cookie, len

Callback = Callable[[str, int], None]


class InotifyError(OSError):
    """inotify is not available, or a watch could not be added."""


class _Libc:
    def __init__(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self.init1 = libc.inotify_init1
        self.init1.argtypes = [ctypes.c_int]
        self.init1.restype = ctypes.c_int
        self.add_watch = libc.inotify_add_watch
        self.add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self.add_watch.restype = ctypes.c_int
        self.rm_watch = libc.inotify_rm_watch
        self.rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
        self.rm_watch.restype = ctypes.c_int


_libc: _Libc | None = None


def _get_libc() -> _Libc:
    global _libc
    if _libc is None:
        try:
            _libc = _Libc()
        except (OSError, AttributeError) as exc:
            raise InotifyError(errno.ENOSYS, f"inotify is not available: {exc}") from exc
    return _libc


class InotifyWatcher:
    """Watches directories; ``callback(name, mask)`` gets each event on a watched directory.

    ``name`` is the entry's name within the directory. On queue overflow every callback is
    called with ``("", IN_Q_OVERFLOW)``; when a directory stops being watched (it was removed)
    its callbacks get ``("", IN_IGNORED)``.
    """

    _by_loop: dict[int, InotifyWatcher] = {}

    @classmethod
    def for_loop(cls, loop: asyncio.AbstractEventLoop) -> InotifyWatcher:
        """The loop's shared watcher (created on first use); raises InotifyError."""
        watcher = cls._by_loop.get(id(loop))
        if watcher is None or watcher._loop is not loop or watcher._fd < 0:
            watcher = cls(loop)
            cls._by_loop[id(loop)] = watcher
        return watcher

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._libc = _get_libc()
        self._loop = loop
        fd = self._libc.init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise InotifyError(err, f"inotify_init1: {os.strerror(err)}")
        self._fd = fd
        self._callbacks: dict[int, dict[int, Callback]] = {}  # wd -> handle -> callback
        self._handles: dict[int, int] = {}  # handle -> wd
        self._next = 0
        loop.add_reader(fd, self._readable)

    def add(self, directory: str, callback: Callback) -> int:
        """Watch ``directory``; returns a handle for :meth:`remove`. Raises InotifyError."""
        wd = self._libc.add_watch(self._fd, os.fsencode(directory), WATCH_MASK)
        if wd < 0:
            err = ctypes.get_errno()
            raise InotifyError(err, f"cannot watch {directory}: {os.strerror(err)}")
        self._next += 1
        self._callbacks.setdefault(wd, {})[self._next] = callback
        self._handles[self._next] = wd
        return self._next

    def remove(self, handle: int) -> None:
        """Stop one watch; the inotify instance closes when none is left."""
        wd = self._handles.pop(handle, None)
        if wd is None:
            return
        callbacks = self._callbacks.get(wd, {})
        callbacks.pop(handle, None)
        if not callbacks:
            self._callbacks.pop(wd, None)
            self._libc.rm_watch(self._fd, wd)  # EINVAL if the kernel dropped it: fine
        if not self._handles:
            self.close()

    def close(self) -> None:
        if self._fd < 0:
            return
        self._loop.remove_reader(self._fd)
        os.close(self._fd)
        self._fd = -1
        self._callbacks.clear()
        self._handles.clear()
        if self._by_loop.get(id(self._loop)) is self:
            del self._by_loop[id(self._loop)]

    def _readable(self) -> None:
        for _ in range(64):  # bounded: each read drains up to 64 KiB of events
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return
            except OSError as exc:
                log.error("inotify read failed: %s", exc)
                return
            if not data:
                return
            self._dispatch(data)
            if not self._handles:  # every watched directory went away
                self.close()
                return

    def _dispatch(self, data: bytes) -> None:
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
            raw = data[offset + _EVENT.size: offset + _EVENT.size + length]
            offset += _EVENT.size + length
            name = os.fsdecode(raw.split(b"\0", 1)[0])
            if mask & IN_Q_OVERFLOW:
                log.warning("inotify event queue overflowed - re-reading every track file")
                for every in list(self._callbacks.values()):
                    self._call(every, "", IN_Q_OVERFLOW)
                continue
            callbacks = self._callbacks.get(wd)
            if callbacks is None:
                continue
            if mask & IN_IGNORED:
                self._callbacks.pop(wd, None)
                for handle in list(callbacks):
                    self._handles.pop(handle, None)
                name = ""
            self._call(callbacks, name, mask)

    @staticmethod
    def _call(callbacks: dict[int, Callback], name: str, mask: int) -> None:
        for callback in list(callbacks.values()):
            try:
                callback(name, mask)
            except Exception:
                log.exception("inotify callback failed")
