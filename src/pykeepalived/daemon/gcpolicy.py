"""The garbage collector in a long-lived daemon: what it walks, and how long it stops us.

CPython's cyclic collector stops the process for as long as a pass takes, and a full pass
(generation 2) walks every container object alive: for a VRRP process with 1,000 instances,
its configuration model, routers and runtimes, tens of milliseconds, during which no advert
is sent or read. Those objects live as long as the configuration: once a child has started
(and after each reload), they are moved to the collector's permanent generation
(``gc.freeze``), after a collection so that no garbage is kept with them. Later passes walk
only what was made since. After a reload, what it made is frozen too, without a collection
(:func:`freeze_new`): a full one there holds the loop past a Master_Down_Interval with a
large configuration; :func:`settle` with ``again`` (unfreeze, collect, freeze) is the way to
give back what an old configuration left in reference cycles, at that cost.

:class:`GcPauses` measures every pass (``gc.callbacks``): the longest pause per generation is
part of the process's status.
"""

from __future__ import annotations

import ctypes
import gc
import time
from typing import Any


def settle(*, again: bool = False) -> None:
    """Collect, then freeze what is left; ``again`` (a reload): first unfreeze the objects
    an earlier call froze, so that those that have become garbage are collected too."""
    if again:
        gc.unfreeze()
    gc.collect()
    gc.freeze()
    trim_heap()


def trim_heap() -> bool:
    """Give the C heap's free pages back to the kernel (glibc's ``malloc_trim``): what
    the start freed (the configuration read, the collection just run) stays in the
    process otherwise, counted in its memory for its whole life (1,000-instance VRRP
    process: about 0.15 MiB). False where the C library has no such call."""
    try:
        return bool(ctypes.CDLL(None).malloc_trim(0))
    except (AttributeError, OSError):
        return False


def freeze_new() -> None:
    """After a reload: freeze what was made since, without a collection. A full collection
    there (unfreeze, collect) walks the old and the new configuration at once and holds the
    loop past a Master_Down_Interval with a large configuration; what the old one left in
    reference cycles stays frozen instead."""
    gc.freeze()


class GcPauses:
    """The duration of every collection, by generation (installed with :meth:`install`)."""

    __slots__ = ("_started", "collected", "collections", "longest", "total")

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.collected = 0
        self.longest = [0.0, 0.0, 0.0]  # seconds
        self.total = 0.0
        self._started = 0.0

    def reset(self) -> None:
        """Start counting afresh (the pauses of start-up are not those of running)."""
        self.collections = [0, 0, 0]
        self.collected = 0
        self.longest = [0.0, 0.0, 0.0]
        self.total = 0.0

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        gen = info.get("generation", 2)
        self.collections[gen] += 1
        self.collected += info.get("collected", 0)
        self.total += pause
        if pause > self.longest[gen]:
            self.longest[gen] = pause

    def figures(self) -> dict[str, Any]:
        """For the status: counts, longest pauses (ms) per generation, frozen objects."""
        return {"collections": list(self.collections), "collected": self.collected,
                "longest_pause_ms": [round(p * 1000, 3) for p in self.longest],
                "total_pause_ms": round(self.total * 1000, 3),
                "frozen_objects": gc.get_freeze_count(), "thresholds": list(gc.get_threshold())}
