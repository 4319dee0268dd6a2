"""FILE_CHECK: the number in a ``track_file``, times a weight, is added to the real server's
weight; a result at or below -2147483648 (or, with weight 0, a non-zero number) is a failure.

keepalived.conf(5) "Track files" and keepalived/trackers/track_file.c, whose rules are kept:

- the file is read as :func:`pykeepalived.track.file.parse_value` reads it (C's strtol,
  base 0, from the first 127 bytes; a missing or empty file reads as 0; a number outside
  [-2147483648, 2147483648] is invalid and ignored);
- the weight is FILE_CHECK's ``weight [reverse]``, else the track_file block's;
- weight 0: the check passes when the number is 0 and fails otherwise (``reverse`` swaps
  the two); the result's ``weight`` is 0;
- any other weight: number x weight (negated with ``reverse``), clamped to 32 bits, is the
  result's ``weight``, to be added to the real server's configured weight; the check fails
  when that is -2147483648 (keepalived's IPVS_WEIGHT_FAULT).

keepalived does not poll the file: it watches it. :class:`FileCheckWatcher` does the same
with :class:`~pykeepalived.track.file.TrackedFile` (inotify), reporting a new
:class:`CheckResult` whenever the number changes; :func:`check_file` reads it once.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Final

from pykeepalived.check.context import CheckContext
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.config.model_lvs import FileCheck
from pykeepalived.config.model_vrrp import VrrpTrackFile
from pykeepalived.track.file import TrackedFile, parse_value

__all__ = ["IPVS_WEIGHT_FAULT", "FileCheckWatcher", "check_file", "file_verdict"]

IPVS_WEIGHT_FAULT: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1
_READ_SIZE: Final = 127


def _weight_of(spec: FileCheck, track: VrrpTrackFile) -> tuple[int, bool]:
    if spec.weight is not None:
        return spec.weight, spec.weight_reverse
    return track.weight, track.weight_reverse


def file_verdict(value: int, weight: int, reverse: bool) -> CheckResult:
    """What the number ``value`` means with ``weight [reverse]``."""
    if weight == 0:
        failed = (value != 0) != reverse
        expected = "non-zero" if reverse else "0"
        if failed:
            return CheckResult(False, f"track file reads {value}, expected {expected} "
                               "(weight 0)", weight=0)
        return CheckResult(True, f"track file reads {value} (weight 0)", weight=0)
    product = value * weight * (-1 if reverse else 1)
    status = max(IPVS_WEIGHT_FAULT, min(_INT_MAX, product))
    shown = f"{value} x {weight}{' reverse' if reverse else ''} = {status}"
    if status == IPVS_WEIGHT_FAULT:
        return CheckResult(False, f"track file reads {value}: {shown}, at or below "
                           f"{IPVS_WEIGHT_FAULT}")
    return CheckResult(True, f"track file reads {shown}", weight=status)


def _read_value(path: str) -> tuple[int, str]:
    """The file's number (0 when missing), and a note when the content was invalid."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return 0, ""
    try:
        data = os.read(fd, _READ_SIZE)
    except OSError:
        data = b""
    finally:
        os.close(fd)
    value = parse_value(data)
    if value is None:
        shown = data.strip()[:40].decode("ascii", "replace")
        return 0, f" (invalid number {shown!r} ignored)"
    return value, ""


def _track_of(spec: FileCheck, context: CheckContext) -> VrrpTrackFile | str:
    if spec.track_file is None:
        return "FILE_CHECK has no track_file"
    track = context.track_files.get(spec.track_file)
    if track is None:
        return f"track_file {spec.track_file} is not configured"
    if not track.file:
        return f"track_file {spec.track_file} has no file"
    return track


async def check_file(spec: FileCheck, target: Target,
                     context: CheckContext | None = None) -> CheckResult:
    """Read the track file once (in a thread: a file system may be slow) and judge it."""
    track = _track_of(spec, context if context is not None else CheckContext())
    if isinstance(track, str):
        return CheckResult(False, track)
    assert track.file is not None
    try:
        async with asyncio.timeout(target.timeout):
            value, note = await asyncio.to_thread(_read_value, track.file)
    except TimeoutError:
        return CheckResult(False, f"reading {track.file} took over {target.timeout:g} s")
    result = file_verdict(value, *_weight_of(spec, track))
    return CheckResult(result.ok, result.detail + note, result.weight)


class FileCheckWatcher:
    """Watches a FILE_CHECK's track file and reports each change as a :class:`CheckResult`.

    ``on_result`` is called with the new result whenever the number changes (not for the
    first read: read :attr:`result` after :meth:`start`). Needs a running event loop.
    """

    def __init__(self, spec: FileCheck, context: CheckContext,
                 on_result: Callable[[CheckResult], None], *, reload: bool = False) -> None:
        track = _track_of(spec, context)
        if isinstance(track, str):
            raise ValueError(track)
        assert track.file is not None
        self._weight, self._reverse = _weight_of(spec, track)
        self._on_result = on_result
        init = (track.init_file_value, track.init_file_overwrite) if track.init_file else None
        self.tracked = TrackedFile(track.name, track.file, init, self._changed, reload=reload)

    @property
    def result(self) -> CheckResult:
        """The verdict on the value last read."""
        return file_verdict(self.tracked.value, self._weight, self._reverse)

    def start(self) -> None:
        self.tracked.start()

    def stop(self) -> None:
        self.tracked.stop()

    def _changed(self, name: str, value: int) -> None:
        self._on_result(file_verdict(value, self._weight, self._reverse))
