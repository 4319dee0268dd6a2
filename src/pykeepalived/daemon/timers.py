"""One precise timer for every virtual router: a deadline heap behind a Linux timerfd.

asyncio's own timers cost an object and a heap operation each, and wake up through epoll's
millisecond timeout, so they fire up to a millisecond late. A VRRP takeover is judged to the
millisecond (Master_Down_Interval, RFC 5798 6.4.2) and a thousand routers each re-arm once a
second, so the routers share one timerfd (CLOCK_MONOTONIC, the clock ``loop.time()`` reads) armed
for the earliest deadline, with nanosecond resolution, and one heap of (deadline, key) entries.

A key's deadline is what :meth:`Scheduler.arm` set last, and a key keeps at most one live heap
entry, at or before that deadline. Moving a deadline *later* (what a backup does on every advert)
only stores it: no heap operation, no kernel call. When the entry comes up and the deadline has
moved on, the entry is queued again at the deadline without calling anyone; and before the
timerfd is set, every such entry at the head of the heap is moved on too, so that the kernel
timer is set for a deadline that still holds. A backup of a thousand instances hearing their
masters is then woken once per Master_Down_Interval for all of them, not once per instance.
Where timerfd is missing, ``loop.call_at`` stands in.

Each callback is given the time it actually runs, not the time the batch started: a thousand
routers whose deadlines fell together (they started together) are then re-armed a little apart,
and a router with a short advert_int is not held up behind all of them the next time round.
How late every callback ran after its deadline is kept (:class:`Lateness`) for the status: under
load that is where a false failover starts. Between two callbacks the realtime watchdog
(``daemon.priorities``) may sleep a few microseconds, so that a long batch under SCHED_RR stays
within RLIMIT_RTTIME.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import ctypes
import heapq
import itertools
import logging
import os
import time
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from pykeepalived.daemon.priorities import RT_WATCHDOG

log = logging.getLogger("pykeepalived.vrrp")

CLOCK_MONOTONIC = 1
TFD_NONBLOCK = os.O_NONBLOCK
TFD_CLOEXEC = os.O_CLOEXEC
TFD_TIMER_ABSTIME = 1


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


class Timed(Protocol):
    """Anything the scheduler can hold: its deadline in ``sched_when`` (None: disarmed), and
    the time of its live heap entry in ``sched_at`` (None: none queued); both are the
    scheduler's to write."""

    sched_when: float | None
    sched_at: float | None


K = TypeVar("K", bound=Timed)


class _TimerFd:
    """A CLOCK_MONOTONIC timerfd set to absolute deadlines (timerfd_create(2))."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self._settime = libc.timerfd_settime
        self._settime.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(_Itimerspec),
                                  ctypes.c_void_p]
        fd = libc.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        self.fd: int = fd
        self._spec = _Itimerspec()

    def arm(self, when: float) -> None:
        sec = int(when)
        nsec = int((when - sec) * 1e9)
        if sec <= 0 and nsec <= 0:
            nsec = 1  # an all-zero value would disarm the timer instead
        self._spec.it_value.tv_sec = sec
        self._spec.it_value.tv_nsec = nsec
        if self._settime(self.fd, TFD_TIMER_ABSTIME, ctypes.byref(self._spec), None) < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    def clear(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.read(self.fd, 8)

    def close(self) -> None:
        os.close(self.fd)


class Lateness:
    """How late callbacks ran after their deadlines: a count per bucket, and the longest."""

    BOUNDS_MS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 1000.0)
    __slots__ = ("buckets", "count", "longest")

    def __init__(self) -> None:
        self.count = 0
        self.longest = 0.0  # seconds
        self.buckets = [0] * (len(self.BOUNDS_MS) + 1)  # the last one: over 1 s

    def add(self, late: float) -> None:
        self.count += 1
        if late > self.longest:
            self.longest = late
        self.buckets[bisect.bisect_left(self.BOUNDS_MS, late * 1000.0)] += 1

    def figures(self) -> dict[str, Any]:
        labels = [f"<={b:g}ms" for b in self.BOUNDS_MS] + [f">{self.BOUNDS_MS[-1]:g}ms"]
        return {"count": self.count, "longest_ms": round(self.longest * 1000, 3),
                "histogram": dict(zip(labels, self.buckets, strict=True))}


class Scheduler(Generic[K]):
    """Deadlines for many keys, one kernel timer; ``callback(key, now)`` when one is due."""

    def __init__(self, loop: asyncio.AbstractEventLoop,
                 callback: Callable[[K, float], None]) -> None:
        self._loop = loop
        self._callback = callback
        self._heap: list[tuple[float, int, K]] = []
        self._seq = itertools.count()
        self._armed_at: float | None = None
        self._firing = False
        self._fallback: asyncio.TimerHandle | None = None
        self.lateness = Lateness()
        self._tfd: _TimerFd | None
        try:
            self._tfd = _TimerFd()
            loop.add_reader(self._tfd.fd, self._fire)
        except (OSError, AttributeError) as exc:
            log.debug("timerfd unavailable (%s): using asyncio timers", exc)
            self._tfd = None

    def arm(self, key: K, when: float) -> None:
        """Set ``key``'s deadline to ``when`` (monotonic seconds), in place of the one it had:
        ``callback(key, now)`` runs once it is due."""
        key.sched_when = when
        queued = key.sched_at
        if queued is not None and queued <= when:
            return  # its entry comes up first, and is moved on to ``when`` then
        key.sched_at = when
        heapq.heappush(self._heap, (when, next(self._seq), key))
        if not self._firing and (self._armed_at is None or when < self._armed_at):
            self._set(when)

    def disarm(self, key: K) -> None:
        """Forget ``key``'s deadline (its heap entry is dropped when it comes up)."""
        key.sched_when = None

    def _set(self, when: float) -> None:
        self._armed_at = when
        if self._tfd is not None:
            self._tfd.arm(when)
            return
        if self._fallback is not None:
            self._fallback.cancel()
        self._fallback = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        if self._tfd is not None:
            self._tfd.clear()
        self._armed_at = None
        self._firing = True  # callbacks re-arming keys: the kernel timer is set once, below
        heap = self._heap
        lateness = self.lateness
        try:
            now = time.monotonic()
            while heap and heap[0][0] <= now:
                at, _, key = heapq.heappop(heap)
                if key.sched_at != at:
                    continue  # replaced by an earlier entry of the same key
                when = key.sched_when
                if when is None:
                    key.sched_at = None  # disarmed
                    continue
                if when > at:  # moved later meanwhile: queued again, not called
                    key.sched_at = when
                    heapq.heappush(heap, (when, next(self._seq), key))
                    continue
                key.sched_at = key.sched_when = None
                lateness.add(now - when)
                try:
                    self._callback(key, now)
                except Exception:  # one router's failure must not stop the others' timers
                    log.exception("timer callback failed")
                RT_WATCHDOG.breathe()
                now = time.monotonic()
            self._settle_head()
        finally:
            self._firing = False
        # a callback that re-armed its key (a backup's real deadline, later) did not set the
        # kernel timer: the earliest live entry is the one it waits for
        if heap and (self._armed_at is None or heap[0][0] < self._armed_at):
            self._set(heap[0][0])

    def _settle_head(self) -> None:
        """Drop dead entries at the head of the heap and move on those whose deadline moved
        later, until the head is a deadline that holds (each key moves at most once: its
        entry goes to its deadline, which stays where it is meanwhile)."""
        heap = self._heap
        while heap:
            at, _, key = heap[0]
            if key.sched_at != at:
                heapq.heappop(heap)
                continue
            when = key.sched_when
            if when is None:
                key.sched_at = None
                heapq.heappop(heap)
                continue
            if when <= at:
                return
            key.sched_at = when
            heapq.heapreplace(heap, (when, next(self._seq), key))

    def close(self) -> None:
        if self._tfd is not None:
            self._loop.remove_reader(self._tfd.fd)
            self._tfd.close()
            self._tfd = None
        if self._fallback is not None:
            self._fallback.cancel()
        self._heap.clear()
