"""What a child process does about its own running once it has started: its scheduling
(:mod:`daemon.priorities`) and its garbage collector (:mod:`daemon.gcpolicy`).

keepalived applies its process priorities at the end of each start and reload of a child, and
runs the reload itself at the normal policy; a child here does the same, and freezes its
long-lived objects at the same two moments.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from pykeepalived.daemon import gcpolicy
from pykeepalived.daemon.priorities import RT_WATCHDOG, ProcessScheduling, Scheduling


class ProcessTuning:
    """One child's scheduling and collector, for global_defs keywords ``prefix``_*."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.scheduling = ProcessScheduling()
        self.gc = gcpolicy.GcPauses()

    def started(self, gdefs: Any) -> None:
        """The child is up: freeze what it built, then take its scheduling."""
        self.gc.install()
        gcpolicy.settle()
        self.gc.reset()  # the figures are those of the running process from here on
        self.scheduling.apply(Scheduling.from_global_defs(gdefs, self.prefix))

    @contextlib.contextmanager
    def reloading(self, gdefs: Callable[[], Any]) -> Iterator[None]:
        """The block (a reload) at the normal policy; then a new freeze and the scheduling
        of ``gdefs()``, the global_defs in force after the block."""
        self.scheduling.reset()
        try:
            yield
        finally:
            gcpolicy.freeze_new()
            self.scheduling.apply(Scheduling.from_global_defs(gdefs(), self.prefix))

    def figures(self) -> dict[str, Any]:
        """For the status: the collector's pauses and the scheduling in force."""
        applied = self.scheduling.applied
        return {"gc": self.gc.figures(),
                "scheduling": None if applied is None else {
                    "nice": applied.nice, "rt_priority": applied.rt_priority,
                    "rlimit_rttime": applied.rlimit_rttime, "no_swap": applied.no_swap,
                    "cpus": list(applied.cpus)},
                "rt_breaths": RT_WATCHDOG.breaths}
