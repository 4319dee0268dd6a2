"""track_file (vrrp_track_file): an integer read from a file, re-read whenever it changes.

keepalived.conf(5), "Track files": "The file will be read whenever it is modified ... A value
will be read as a number in text from the file." What keepalived does, and this module too
(keepalived/trackers/track_file.c):

- the number is read as C's ``strtol(text, NULL, 0)`` reads it from the first 127 bytes:
  leading white space, an optional sign, then ``0x``-prefixed hex, ``0``-prefixed *octal*
  (so ``010`` is 8) or decimal, and anything after the number is ignored. No number at all, an
  empty file or a missing file read as 0;
- a number outside [-2147483648, 2147483648] is logged as invalid and ignored (the previous
  value stays);
- the file's directory is watched with inotify: a write (on close), a rename into place, or a
  removal (which reads as 0) is seen at once. If the directory does not exist at start the
  track file cannot work: keepalived removes it, here ``error`` says why;
- ``init_file [VALUE] [overwrite]`` writes VALUE (default 0) and a newline at start when the
  file is missing, or always with ``overwrite`` (never on reload).

As with keepalived, a file is read when a writer closes it; a second writer that has just
truncated it makes it read as 0. Writers that must avoid that rename a new file into place.

``on_change(name, value)`` is called when the value changes, not for the first read at start
(read ``value`` after :meth:`start`). The weight and reverse arithmetic is vrrp.tracking's job.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Callable
from typing import Final

from pykeepalived.track.inotify import (
    IN_CLOSE_WRITE,
    IN_DELETE,
    IN_IGNORED,
    IN_ISDIR,
    IN_MOVED_FROM,
    IN_MOVED_TO,
    IN_Q_OVERFLOW,
    InotifyError,
    InotifyWatcher,
)

__all__ = ["DEFAULT_POLL_INTERVAL", "TrackedFile", "parse_value"]

log = logging.getLogger(__name__)

_READ_SIZE: Final = 127  # keepalived reads into a 128-byte buffer
_MIN: Final = -(2**31)
_MAX: Final = 2**31  # keepalived accepts INT32_MAX + 1
_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1
_C_SPACE: Final = b" \t\n\v\f\r"
#: How often the file is re-read when inotify cannot be used.
DEFAULT_POLL_INTERVAL: Final = 0.5


def _strtol(text: bytes) -> int | None:
    """C ``strtol(text, NULL, 0)`` for a 64-bit long; None on overflow (ERANGE)."""
    text = text.split(b"\0", 1)[0].lstrip(_C_SPACE)
    sign = 1
    if text[:1] in (b"+", b"-"):
        sign = -1 if text[:1] == b"-" else 1
        text = text[1:]
    digits = b"0123456789"
    base = 10
    if text[:2].lower() == b"0x" and text[2:3] and text[2:3] in b"0123456789abcdefABCDEF":
        base, text, digits = 16, text[2:], b"0123456789abcdefABCDEF"
    elif text[:1] == b"0":
        base, digits = 8, b"01234567"
    end = 0
    while end < len(text) and text[end:end + 1] in digits:
        end += 1
    if end == 0:
        return 0
    value = sign * int(text[:end], base)
    if value > _LONG_MAX or value < _LONG_MIN:
        return None
    return value


def parse_value(data: bytes) -> int | None:
    """The number in a track file's content, keepalived's way; None if out of range."""
    value = _strtol(data[:_READ_SIZE])
    if value is None or not _MIN <= value <= _MAX:
        return None
    return value


class TrackedFile:
    """One ``track_file``; see the module docstring.

    ``init_file`` is ``(value, overwrite)`` from ``init_file [VALUE] [overwrite]`` (value None
    means 0), or None when the keyword is absent. ``poll_interval`` forces polling instead of
    inotify (which is used when available).
    """

    def __init__(self, name: str, path: str,
                 init_file: tuple[int | None, bool] | None = None,
                 on_change: Callable[[str, int], None] | None = None, *,
                 reload: bool = False, poll_interval: float | None = None) -> None:
        self.name = name
        self.path = path
        self.init_file = init_file
        self.on_change = on_change
        self.reload = reload
        self.poll_interval = poll_interval
        self.error: str | None = None
        self._value = 0
        self._watch: tuple[InotifyWatcher, int] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._base = os.path.basename(path)
        self._started = False

    @property
    def value(self) -> int:
        """The last value read (0 for a missing or empty file)."""
        return self._value

    @property
    def watching(self) -> str | None:
        """'inotify', 'poll' or None."""
        if self._watch is not None:
            return "inotify"
        if self._poller is not None and not self._poller.done():
            return "poll"
        return None

    def initialise(self) -> None:
        """Apply ``init_file``: write the value when the file is missing (or with overwrite)."""
        if self.init_file is None:
            return
        value, overwrite = self.init_file
        value = 0 if value is None else value
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            self._fail(f"Unable to initialise track file {self.name}: {exc.strerror}")
            return
        else:
            if not overwrite or self.reload:
                return
            if not stat.S_ISREG(st.st_mode):
                self._fail(f"Cannot initialise track file {self.name} - {self.path} is not a "
                           "regular file")
                return
        try:
            with open(self.path, "w", encoding="ascii") as handle:
                handle.write(f"{value}\n")
        except OSError as exc:
            self._fail(f"Unable to initialise track file {self.name}: {exc.strerror}")

    def _fail(self, message: str) -> None:
        self.error = message
        log.error("%s", message)

    def start(self) -> None:
        """init_file, first read (no callback), then watch the file (needs a running loop)."""
        if self._started:
            return
        self._started = True
        self.initialise()
        # keepalived watches where the path really leads (symlinks resolved).
        if os.path.exists(self.path):
            resolved = os.path.realpath(self.path)
        else:
            resolved = os.path.join(os.path.realpath(os.path.dirname(self.path) or "."),
                                    os.path.basename(self.path))
        directory, self._base = os.path.split(resolved)
        if not os.path.isdir(directory):
            self._fail(f"Track file directory for {self.name} ({directory}) does not exist")
            return
        value = self._read()
        if value is not None:
            self._value = value
        loop = asyncio.get_running_loop()
        if self.poll_interval is None:
            try:
                watcher = InotifyWatcher.for_loop(loop)
                self._watch = (watcher, watcher.add(directory, self._event))
            except InotifyError as exc:
                log.warning("track_file %s: %s - polling every %gs instead", self.name, exc,
                            DEFAULT_POLL_INTERVAL)
        if self._watch is None:
            self._start_polling(self.poll_interval or DEFAULT_POLL_INTERVAL)

    def stop(self) -> None:
        """Stop watching (the value stays as last read)."""
        if self._watch is not None:
            watcher, handle = self._watch
            watcher.remove(handle)
            self._watch = None
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
        self._started = False

    def refresh(self) -> int:
        """Read the file now, reporting a change; returns the value."""
        value = self._read()
        if value is not None:
            self._update(value)
        return self._value

    def _read(self) -> int | None:
        """The file's value; 0 when it is missing or unreadable; None when invalid."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return 0
        try:
            data = os.read(fd, _READ_SIZE)
        except OSError:
            data = b""
        finally:
            os.close(fd)
        value = parse_value(data)
        if value is None:
            log.warning("Invalid number %r read from %s - ignoring",
                        data.strip()[:40].decode("ascii", "replace"), self.path)
        return value

    def _update(self, value: int) -> None:
        if value == self._value:
            return
        self._value = value
        log.info("Track file %s (%s) now %d", self.name, self.path, value)
        if self.on_change is not None:
            try:
                self.on_change(self.name, value)
            except Exception:
                log.exception("track_file %s: on_change callback failed", self.name)

    def _event(self, name: str, mask: int) -> None:
        if mask & IN_Q_OVERFLOW:
            self.refresh()
            return
        if mask & IN_IGNORED:
            log.warning("track_file %s: directory of %s is no longer watched - polling",
                        self.name, self.path)
            self._watch = None
            self.refresh()
            self._start_polling(self.poll_interval or DEFAULT_POLL_INTERVAL)
            return
        if name != self._base or mask & IN_ISDIR:
            return
        if mask & (IN_DELETE | IN_MOVED_FROM):
            self._update(0)  # keepalived: a file that disappears reads as 0
        elif mask & (IN_CLOSE_WRITE | IN_MOVED_TO):
            self.refresh()

    def _start_polling(self, interval: float) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(
                self._poll(interval), name=f"track_file {self.name}")

    async def _poll(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                self.refresh()
            except Exception:  # keep polling whatever a callback did
                log.exception("track_file %s: refresh failed", self.name)
