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

from collections.abc import Iterable
from dataclasses import dataclass

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


class ScriptState:
    """rise/fall counting of one vrrp_script's results (``ok`` is None until the first)."""

    __slots__ = ("_initial", "_result", "fall", "ok", "rise")

    def __init__(self, rise: int = 1, fall: int = 1, init_fail: bool = False) -> None:
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        self._result = 0 if init_fail else self.rise - 1
        self._initial = not init_fail
        self.ok: bool | None = False if init_fail else None

    @property
    def result(self) -> int:
        """keepalived's counter, 0 .. rise + fall - 1 (OK when >= rise; in its data dump)."""
        return self._result

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


@dataclass(frozen=True, slots=True)
class Tracked:
    """One tracked entry of an instance: which object it watches, with which weight.

    ``obj`` names the object ("interface eth0", "script chk_haproxy", "file tf1"); an
    instance may watch one object twice (its own track_script and its sync group's), each
    entry with its weight. ``is_file`` entries take a number (track_file), others up/down.
    """

    obj: str
    weight: int = 0
    reverse: bool = False
    is_file: bool = False

    def delta(self, status: bool | int | None) -> int | None:
        """Priority delta for ``status``, or None for FAULT; an unknown status adds 0."""
        if status is None:
            return 0
        if self.is_file:
            return track_file_status(int(status), self.weight, self.reverse)
        up = bool(status)
        if causes_fault(self.weight, up, self.reverse):
            return None
        return weighted_delta(self.weight, up, self.reverse)


class InstanceTracking:
    """Every tracked entry of one vrrp_instance (and of its sync group), and their status.

    The one place where tracking becomes FAULT or an effective priority: the router owns one
    and the daemon only reports what it observed (:meth:`update`).
    """

    __slots__ = ("base_priority", "entries", "status")

    def __init__(self, base_priority: int, entries: Iterable[Tracked] = ()) -> None:
        self.base_priority = base_priority
        self.entries = tuple(entries)
        self.status: dict[str, bool | int | None] = {e.obj: None for e in self.entries}

    def watches(self, obj: str) -> bool:
        return obj in self.status

    def update(self, obj: str, status: bool | int | None) -> bool:
        """New status (up/down, or a file value) of ``obj``; True when it changed."""
        old = self.status.get(obj, _UNWATCHED)
        if old is _UNWATCHED:
            return False
        if old == status and type(old) is type(status):
            return False
        self.status[obj] = status
        return True

    def faults(self) -> list[str]:
        """The objects that put the instance in FAULT now, in configuration order."""
        return list(dict.fromkeys(e.obj for e in self.entries
                                  if e.delta(self.status[e.obj]) is None))

    def effective_priority(self) -> int:
        deltas = (e.delta(self.status[e.obj]) for e in self.entries)
        return effective_priority(self.base_priority, (d for d in deltas if d is not None))


_UNWATCHED = object()
