"""Effective priority and FAULT from tracked objects: pure arithmetic, as keepalived.conf(5).

``track_interface``, ``track_script``, ``track_process`` and ``track_bfd`` report up or down;
``track_file`` reports a number. keepalived's rules, for a tracked object with ``weight``:

* weight 0: down means FAULT (``reverse``: *up* means FAULT). Nothing is added.
* weight > 0: ``weight`` is added while up, nothing while down.
* weight < 0: ``weight`` (negative) is added while down, nothing while up.
* ``reverse`` negates what is added, so "weight 10 reverse" subtracts 10 while up.
* effective priority = base + every addition, clamped to 1..254; the address owner (255) is
  never changed (keepalived ``vrrp_set_effective_priority``).
* track_file: weight 0 means a non-zero value is FAULT (``reverse``: zero is FAULT);
  otherwise value * weight (negated by ``reverse``) is clamped to -254..253, and -254 means
  FAULT (man page: "less than -253 ... will transition to the fault state").

``ScriptState`` is the rise/fall debounce of a ``vrrp_script`` (keepalived
vrrp_script_child_thread): an unknown script becomes OK after one success or failed after
one failure; afterwards ``fall`` consecutive failures make it failed and ``rise`` consecutive
successes make it OK.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pykeepalived.vrrp.router import VirtualRouter

logger = logging.getLogger(__name__)

PRIORITY_OWNER = 255
TRACK_FILE_FAULT = -254


def weighted_delta(weight: int, up: bool, reverse: bool = False) -> int:
    """What one up/down tracked object adds to the priority (0 for weight 0)."""
    sign = -1 if reverse else 1
    if weight > 0:
        return weight * sign if up else 0
    if weight < 0:
        return 0 if up else weight * sign
    return 0


def causes_fault(weight: int, up: bool, reverse: bool = False) -> bool:
    """True when an unweighted tracked object puts the instance in FAULT."""
    return weight == 0 and up == reverse


def track_file_status(value: int, weight: int, reverse: bool = False) -> int | None:
    """The priority delta for a track_file ``value``, or None for FAULT."""
    if weight == 0:
        return None if (value != 0) != reverse else 0
    status = value * weight * (-1 if reverse else 1)
    status = max(TRACK_FILE_FAULT, min(253, status))
    return None if status == TRACK_FILE_FAULT else status


def effective_priority(base: int, deltas: Iterable[int] = ()) -> int:
    """base + deltas clamped to 1..254; 255 (address owner) stays 255."""
    if base == PRIORITY_OWNER:
        return PRIORITY_OWNER
    return max(1, min(PRIORITY_OWNER - 1, base + sum(deltas)))


@dataclass(frozen=True, slots=True)
class TrackedItem:
    """An up/down tracked object (interface, script, process, BFD) for :func:`evaluate`."""

    ok: bool
    weight: int = 0
    reverse: bool = False
    name: str = ""


@dataclass(frozen=True, slots=True)
class TrackedFileValue:
    """A track_file's current value for :func:`evaluate`."""

    value: int
    weight: int = 1
    reverse: bool = False
    name: str = ""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Result of :func:`evaluate`: the effective priority, or FAULT with the reason."""

    priority: int
    fault: bool
    reason: str = ""


def evaluate(base: int, items: Iterable[TrackedItem],
             file_items: Iterable[TrackedFileValue] = ()) -> Evaluation:
    """Fold an instance's tracked objects into FAULT or an effective priority."""
    deltas: list[int] = []
    failed: list[str] = []
    for item in items:
        if causes_fault(item.weight, item.ok, item.reverse):
            failed.append(item.name or "tracked object")
        else:
            deltas.append(weighted_delta(item.weight, item.ok, item.reverse))
    for entry in file_items:
        status = track_file_status(entry.value, entry.weight, entry.reverse)
        if status is None:
            failed.append(entry.name or f"track_file value {entry.value}")
        else:
            deltas.append(status)
    priority = effective_priority(base, deltas)
    if failed:
        return Evaluation(priority, True, "fault: " + ", ".join(failed))
    return Evaluation(priority, False)


class ScriptState:
    """rise/fall counting of one vrrp_script's results (``ok`` is None until the first)."""

    __slots__ = ("_initial", "_result", "fall", "ok", "rise")

    def __init__(self, rise: int = 1, fall: int = 1, init_fail: bool = False) -> None:
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        self._result = 0 if init_fail else self.rise - 1
        self._initial = not init_fail
        self.ok: bool | None = False if init_fail else None

    def feed(self, ok: bool) -> bool:
        """Record one run's result; return True when ``ok`` changed (then re-apply weights)."""
        changed = False
        top = self.rise + self.fall - 1
        if ok:
            if self._result < self.rise - 1:
                self._result += 1
            elif self._result != top:
                if self._result < self.rise:
                    changed = self.ok is not True
                    self.ok = True
                self._result = top
        elif self._result > self.rise:
            self._result -= 1
        else:
            if self._result == self.rise or self._initial:
                changed = self.ok is not False
                self.ok = False
            self._result = 0
        self._initial = False
        return changed


@dataclass(slots=True)
class Tracked:
    """One tracked object of an instance; ``status`` is up (bool), a file value (int), or
    None while unknown (a script that has not run yet: no effect either way)."""

    name: str
    weight: int = 0
    reverse: bool = False
    is_file: bool = False
    status: bool | int | None = None

    def delta(self) -> int | None:
        """Priority delta, or None for FAULT."""
        if self.status is None:
            return 0
        if self.is_file:
            return track_file_status(int(self.status), self.weight, self.reverse)
        up = bool(self.status)
        if causes_fault(self.weight, up, self.reverse):
            return None
        return weighted_delta(self.weight, up, self.reverse)


class InstanceTracking:
    """Every tracked object of one vrrp_instance (and its sync group's); feeds the router."""

    def __init__(self, base_priority: int) -> None:
        self.base_priority = base_priority
        self.tracked: dict[str, Tracked] = {}

    def add(self, name: str, weight: int = 0, reverse: bool = False, *,
            is_file: bool = False, status: bool | int | None = None) -> Tracked:
        """Track ``name`` ("interface eth0", "script chk_haproxy", "file /run/x", ...)."""
        item = Tracked(name, weight, reverse, is_file, status)
        self.tracked[name] = item
        return item

    def update(self, name: str, status: bool | int | None) -> bool:
        """New status (up/down, or file value); True when it changed."""
        item = self.tracked[name]
        if item.status == status and type(item.status) is type(status):
            return False
        item.status = status
        return True

    def faults(self) -> set[str]:
        return {name for name, item in self.tracked.items() if item.delta() is None}

    def effective_priority(self) -> int:
        deltas = (item.delta() for item in self.tracked.values())
        return effective_priority(self.base_priority, (d for d in deltas if d is not None))

    def apply(self, router: VirtualRouter, now: float) -> None:
        """Push priority and fault set into ``router`` (set_priority / set_fault / clear_fault).

        Only faults named after this instance's tracked objects are cleared, so reasons the
        daemon set by other means stay.
        """
        router.set_priority(self.effective_priority(), now)
        wanted = self.faults()
        for reason in sorted((router.faults & self.tracked.keys()) - wanted):
            router.clear_fault(now, reason)
        for reason in sorted(wanted - router.faults):
            router.set_fault(now, reason)
