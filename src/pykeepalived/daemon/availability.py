"""A virtual router's service over the daemon's life, as this node saw it.

Made of what the router reports (:class:`~pykeepalived.vrrp.actions.MasterGap`: a time with no
master, from the master's last sign of life to the next master's first) and of its state
changes. The figures are the usual ones of reliability engineering:

* failovers: how many times the service had no master, and for how long each time (the gap
  a client of the VIP lived through, seen from here);
* MTTR: the mean of those gaps; MTBF: the mean time with a master between them;
* availability A = MTBF / (MTBF + MTTR), which over the daemon's life is the share of time
  with a master.

Time is the monotonic clock (``loop.time()``); wall-clock times are kept only to print.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pykeepalived.vrrp.actions import MasterGap

KEPT = 100  # gaps and transitions kept for --status --history (the totals count them all)


@dataclass(frozen=True, slots=True)
class Transition:
    """One state change of an instance, for the history."""

    at: float  # monotonic
    wall: float
    old: str
    new: str
    reason: str


@dataclass(slots=True)
class Availability:
    """The failovers and state changes of one virtual router since ``started``.

    The history is kept in lists trimmed to :data:`KEPT` entries rather than in
    ``deque(maxlen=KEPT)``: an empty deque takes about 600 bytes at once, a list grows with
    what it holds, and with a thousand instances that is a megabyte of the VRRP process.
    """

    started: float  # monotonic
    wall_started: float = field(default_factory=time.time)
    failovers: int = 0
    down: float = 0.0  # seconds without a master, in all
    planned: int = 0  # failovers that began with the master's goodbye (priority 0)
    changes: int = 0  # state changes, in all
    gaps: list[tuple[float, MasterGap]] = field(default_factory=list)  # the last KEPT
    transitions: list[Transition] = field(default_factory=list)  # the last KEPT

    def gap(self, gap: MasterGap, wall_end: float | None = None) -> None:
        self.failovers += 1
        self.planned += gap.planned
        self.down += max(0.0, gap.end - gap.start)
        self.gaps.append((wall_end if wall_end is not None else time.time(), gap))
        if len(self.gaps) > KEPT:
            del self.gaps[0]

    def transition(self, now: float, old: str, new: str, reason: str) -> None:
        self.changes += 1
        self.transitions.append(Transition(now, time.time(), old, new, reason))
        if len(self.transitions) > KEPT:
            del self.transitions[0]

    @property
    def last_transition(self) -> Transition | None:
        return self.transitions[-1] if self.transitions else None

    def figures(self, now: float) -> dict[str, float | int | None]:
        """Failovers, time without master, MTBF, MTTR and availability, up to ``now``."""
        life = max(0.0, now - self.started)
        up = max(0.0, life - self.down)
        mttr = self.down / self.failovers if self.failovers else None
        mtbf = up / self.failovers if self.failovers else None
        return {
            "life_seconds": life, "failovers": self.failovers, "planned": self.planned,
            "down_seconds": self.down, "last_gap_seconds": (
                self.gaps[-1][1].end - self.gaps[-1][1].start) if self.gaps else None,
            "mtbf_seconds": mtbf, "mttr_seconds": mttr,
            "availability": up / life if life > 0 else 1.0,
        }

    def history(self) -> dict[str, Any]:
        """What ``--status --history`` prints: transitions and gaps, oldest first."""
        return {
            "transitions": [{"wall": t.wall, "old": t.old, "new": t.new, "reason": t.reason}
                            for t in self.transitions],
            "gaps": [{"wall_end": wall, "seconds": g.end - g.start, "planned": g.planned}
                     for wall, g in self.gaps],
        }
