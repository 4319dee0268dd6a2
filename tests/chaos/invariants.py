"""What must hold in a VRRP network under faults, checked at every poll of the soak.

**holders** -- every configured VIP is held, on each island of nodes that hear each other and
have an eligible node, by exactly one node: the eligible one with the highest priority (no
instance runs nopreempt or preempt_delay, and priorities differ). No other node holds it, and a
VIP that no configuration has any more is held by nobody. A node is eligible for an instance
when its daemon should be running, its VRRP child runs, and every interface of the instance (of
its whole sync group) has its link. This must hold from a deadline after each change on (a
fault's step, or a VRRP child starting or ending), and keep holding until the next change:

    deadline = change + master_down_interval + MARGIN (+ STARTUP or RELOAD allowance)

master_down_interval (3 x advert_int + skew, with the lowest priority: the longest) is the time
the protocol itself gives a backup to notice a dead master. MARGIN (1 s) covers what is not
protocol: the kernel telling a daemon its link came or went, one poll period (25 ms) and one
poll (10-20 ms), and the scheduling delays of a 2-core machine that other test runs share.
A change that starts a daemon or a VRRP child adds STARTUP (the time from the process start to
its first election: the Python interpreter, parsing, sockets), a reload adds RELOAD (the new
configuration is parsed in a child process before it is applied).

A state that was right and goes wrong without a change (a spurious takeover) is measured from
the moment it went wrong, with the same bound.

**non-master** -- a node holds a VIP only while its daemon says the instance is MASTER. The VIP
may outlive the state by VIP_GRACE (1 s): addresses and states are two reads, not one, and a
daemon removes its VIPs just after it leaves MASTER. 1 s is below every master_down_interval
of the soak (1.5 s and more), so a VIP removed in time was never held at the same time as the
new master's.

**keepalived's own** -- where the soak finds keepalived itself at fault, its node is excused
from an invariant only while it shows that fault, and the report lists each case apart:
KEEPALIVED_RESPAWN (a VRRP child that died young is respawned late, its VIPs left in place
meanwhile; tests/netns/test_child_respawn.py shows it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from tests.chaos.observe import Snapshot
from tests.chaos.topology import NODE_KINDS, InstanceSpec, World

#: keepalived's own misbehaviour, found by the soak: its node is excused from the invariants
#: while it shows it (and only then), and the report lists each case apart
KEEPALIVED_RESPAWN = (
    "keepalived 2.2.7 waits before respawning a VRRP child that died young and leaves the "
    "dead child's VIPs on the node meanwhile (tests/netns/test_child_respawn.py)")

MARGIN = 1.0
STARTUP = 4.0
RELOAD = 2.0
VIP_GRACE = 1.0


@dataclass
class Violation:
    at: float  # seconds since the soak started
    invariant: str
    fault: str  # the fault in progress (or the last one)
    nodes: list[str]
    detail: str
    lasted: float | None = None  # how long the wrong state lasted (None: until the end)

    def line(self) -> str:
        lasted = "until the end" if self.lasted is None else f"lasted {self.lasted:.2f} s"
        return (f"t={self.at:8.2f}s  {self.invariant:<10} [{', '.join(self.nodes)}] "
                f"during {self.fault}: {self.detail} ({lasted})")


@dataclass
class Change:
    """A fault's step (or a VRRP child starting or ending): convergence is timed from it."""

    at: float
    kind: str
    label: str
    converged: float | None = None  # seconds from ``at`` to the first right state
    overtaken: bool = False  # the next change came first: not timed


@dataclass
class Streak:
    since: float
    violation: Violation | None = None


@dataclass
class Checker:
    """Evaluates every :class:`Snapshot` against the :class:`World`; thread-safe (the faults
    run in one thread, the observations in another)."""

    world: World
    t0: float
    violations: list[Violation] = field(default_factory=list)
    excluded: list[Violation] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    fault: str = "start-up"
    kind: str = "start-up"
    samples: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NODE_KINDS, 0))
    polls: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self.deadline: dict[str, float] = {}
        self.pending: list[Change] = []
        self.holders_bad: dict[str, Streak] = {}
        self.nonmaster_bad: dict[tuple[str, str], Streak] = {}
        self.last_pids: dict[str, int | None] = {}
        self.owner: dict[str, InstanceSpec] = {}

    # ------------------------------------------------------------------ inputs
    def begin(self, kind: str, label: str) -> None:
        """A fault begins: violations from now on are reported as during it."""
        with self.lock:
            self.kind, self.fault = kind, label

    def change(self, at: float, label: str, allowance: float = 0.0) -> None:
        """Something changed at ``at``: every instance has until its bound to converge."""
        with self.lock:
            for spec in self.world.instances.values():
                due = at + bound(spec) + allowance
                self.deadline[spec.name] = max(self.deadline.get(spec.name, 0.0), due)
            change = Change(at - self.t0, self.kind, label)
            for earlier in self.pending:
                earlier.overtaken = True
            self.changes.append(change)
            self.pending = [change]

    def settled_by(self) -> float:
        """When every change so far must have converged (monotonic time)."""
        with self.lock:
            return max(self.deadline.values(), default=0.0)

    def converged(self) -> bool:
        with self.lock:
            return not self.pending

    # ------------------------------------------------------------------ evaluation
    def observe(self, snap: Snapshot) -> None:
        with self.lock:
            self.polls += 1
            self._child_changes(snap)
            expected = self.expected(snap)
            all_right = self._holders(snap, expected)
            self._non_master(snap)
            if all_right:
                # a snapshot taken before a change says nothing of it
                done = [c for c in self.pending if c.at <= snap.at - self.t0]
                for change in done:
                    change.converged = snap.at - self.t0 - change.at
                    self.pending.remove(change)

    def _child_changes(self, snap: Snapshot) -> None:
        for node, pid in snap.pids.items():
            known = node in self.last_pids
            old = self.last_pids.get(node)
            self.last_pids[node] = pid
            if not known or old == pid:
                continue
            if pid is not None:
                self.change(snap.at, f"{node}: VRRP child {pid} runs", STARTUP)
            elif old is not None:
                self.change(snap.at, f"{node}: VRRP child {old} ended")

    def expected(self, snap: Snapshot) -> dict[str, tuple[InstanceSpec, set[str]]]:
        """Each VIP's instance and the nodes that must hold it now."""
        out: dict[str, tuple[InstanceSpec, set[str]]] = {}
        world = self.world
        for spec in world.instances.values():
            segments = world.segments_of(spec)
            masters: set[str] = set()
            for island in world.islands():
                eligible = [n for n in island if world.running[n] and snap.alive[n]
                            and all(world.link_up[(n, s)] for s in segments)]
                if eligible:
                    masters.add(max(eligible, key=lambda n: spec.priorities[n]))
            for vip in spec.base + spec.spare:
                self.owner[vip] = spec
                out[vip] = (spec, masters if vip in spec.vips else set())
        return out

    def _holders(self, snap: Snapshot, expected: dict[str, tuple[InstanceSpec, set[str]]]
                 ) -> bool:
        all_right = True
        for vip, (spec, want) in expected.items():
            have = {n for n in NODE_KINDS if vip in snap.addresses[n]}
            streak = self.holders_bad.get(vip)
            if have == want:
                if streak is not None:
                    if streak.violation is not None:
                        streak.violation.lasted = snap.at - streak.since
                    del self.holders_bad[vip]
                continue
            all_right = False
            if streak is None:
                streak = self.holders_bad[vip] = Streak(snap.at)
            due = max(self.deadline.get(spec.name, 0.0), streak.since + bound(spec))
            if snap.at > due and streak.violation is None:
                offenders = sorted(have ^ want)
                excuses = {n: self._excuse(n, snap) for n in have - want}
                streak.violation = self._report(
                    snap.at, "holders", offenders, excuses,
                    f"{spec.name} {vip} held by {', '.join(sorted(have)) or 'nobody'}, "
                    f"expected {', '.join(sorted(want)) or 'nobody'} "
                    f"({snap.at - streak.since:.2f} s after it went wrong, "
                    f"{snap.at - due:.2f} s past the bound)")
        return all_right

    def _non_master(self, snap: Snapshot) -> None:
        for node in NODE_KINDS:
            for vip in snap.addresses[node]:
                spec = self.owner.get(vip)
                if spec is None:
                    continue
                key = (node, vip)
                state = snap.states[node].get(spec.name, "")
                streak = self.nonmaster_bad.get(key)
                if state == "MASTER":
                    self.samples[node] += 1
                    if streak is not None:
                        if streak.violation is not None:
                            streak.violation.lasted = snap.at - streak.since
                        del self.nonmaster_bad[key]
                    continue
                if streak is None:
                    streak = self.nonmaster_bad[key] = Streak(snap.at)
                if snap.at - streak.since > VIP_GRACE and streak.violation is None:
                    streak.violation = self._report(
                        snap.at, "non-master", [node], {node: self._excuse(node, snap)},
                        f"{spec.name} {vip} on {node}, whose state is "
                        f"{state or ('unknown' if snap.alive[node] else 'no VRRP child')}")
        # a VIP that left the node ends its streak
        for key in list(self.nonmaster_bad):
            node, vip = key
            if vip not in snap.addresses[node]:
                streak = self.nonmaster_bad.pop(key)
                if streak.violation is not None:
                    streak.violation.lasted = snap.at - streak.since

    def _excuse(self, node: str, snap: Snapshot) -> str | None:
        """Why ``node`` is not to blame now, if it is keepalived's and shows a misbehaviour
        of keepalived's own (its daemon runs, its VRRP child is dead: a delayed respawn)."""
        if NODE_KINDS[node] == "keepalived" and self.world.running[node] \
                and not snap.alive[node]:
            return KEEPALIVED_RESPAWN
        return None

    def _report(self, at: float, invariant: str, nodes: list[str],
                excuses: dict[str, str | None], detail: str) -> Violation:
        """A violation; keepalived's own when every node at fault in it is excused."""
        violation = Violation(at - self.t0, invariant, self.fault, nodes, detail)
        reasons = {excuses.get(n) for n in nodes}
        if nodes and None not in reasons:
            violation.detail += f" [keepalived's: {'; '.join(sorted(map(str, reasons)))}]"
            self.excluded.append(violation)
        else:
            self.violations.append(violation)
        return violation

    def record(self, at: float, invariant: str, nodes: list[str], detail: str) -> None:
        """A violation found outside the polls (a daemon that would not stop, leftovers)."""
        with self.lock:
            self._report(at, invariant, nodes, {}, detail)

    # ------------------------------------------------------------------ results
    def worst_convergence(self) -> dict[str, Change]:
        """Per fault kind, the change that took longest to converge (or never did); a change
        overtaken by the next one before it converged (a link back before the peers' down
        timers ran out) is not timed."""
        worst: dict[str, Change] = {}
        for change in self.changes:
            if change.overtaken:
                continue
            best = worst.get(change.kind)
            if best is None or _slower(change, best):
                worst[change.kind] = change
        return worst


def bound(spec: InstanceSpec) -> float:
    """master_down_interval (the longest of the nodes') plus MARGIN."""
    return spec.master_down_interval() + MARGIN


def _slower(a: Change, b: Change) -> bool:
    if a.converged is None:
        return b.converged is not None
    return b.converged is not None and a.converged > b.converged
