"""The chaos soak's checker (tests/chaos/invariants.py) fed with made-up snapshots: it must
see each kind of violation, and only past its bound, or the soak could pass vacuously."""

from __future__ import annotations

from tests.chaos.invariants import KEEPALIVED_RESPAWN, MARGIN, VIP_GRACE, Checker
from tests.chaos.observe import Snapshot
from tests.chaos.topology import NODE_KINDS, World

PIDS = {"py1": 101, "py2": 102, "ka": 103}


def right_masters(world: World, dead: frozenset[str] = frozenset()) -> dict[str, set[str]]:
    """Each node's addresses when every instance's highest-priority live node holds it."""
    held: dict[str, set[str]] = {n: set() for n in NODE_KINDS}
    for spec in world.instances.values():
        live = [n for n in NODE_KINDS if n not in dead]
        master = max(live, key=lambda n: spec.priorities[n])
        held[master].update(spec.vips)
    return held


def states_of(world: World, held: dict[str, set[str]]) -> dict[str, dict[str, str]]:
    """Every node MASTER of the instances whose VIPs it holds, BACKUP of the others."""
    return {n: {name: "MASTER" if set(spec.vips) <= held[n] else "BACKUP"
                for name, spec in world.instances.items()} for n in NODE_KINDS}


def snap(at: float, held: dict[str, set[str]], world: World,
         pids: dict[str, int | None] | None = None,
         states: dict[str, dict[str, str]] | None = None) -> Snapshot:
    return Snapshot(at, {n: set(v) for n, v in held.items()}, dict(pids or PIDS),
                    states if states is not None else states_of(world, held))


def started(world: World) -> Checker:
    world.running.update(dict.fromkeys(NODE_KINDS, True))
    checker = Checker(world, t0=0.0)
    checker.observe(snap(0.0, right_masters(world), world))
    return checker


def test_right_holders_converge_and_violate_nothing() -> None:
    world = World()
    checker = started(world)
    checker.change(1.0, "something")
    for t in (1.1, 1.5, 9.0):
        checker.observe(snap(t, right_masters(world), world))
    assert checker.violations == []
    assert checker.converged()
    assert abs((checker.changes[-1].converged or 0) - 0.1) < 1e-9


def test_a_vip_on_two_nodes_past_the_bound_is_a_violation() -> None:
    world = World()
    checker = started(world)
    vi1 = world.instances["VI_1"]
    bound = vi1.master_down_interval() + MARGIN
    checker.change(10.0, "cut")
    held = right_masters(world)
    held["py2"].add(vi1.base[0])  # py1 is VI_1's master; py2 holds its VIP too
    states = states_of(world, held)
    states["py2"]["VI_1"] = "MASTER"  # py2 believes it: not a non-master case
    checker.observe(snap(10.05, held, world, states=states))  # wrong from the first poll on
    checker.observe(snap(10.0 + bound - 0.1, held, world, states=states))
    assert checker.violations == []  # within the bound: still converging
    checker.observe(snap(10.0 + bound + 0.1, held, world, states=states))
    assert [v.invariant for v in checker.violations] == ["holders"]
    assert checker.violations[0].nodes == ["py2"]
    assert not checker.converged()


def test_a_vip_nobody_holds_past_the_bound_is_a_violation() -> None:
    world = World()
    checker = started(world)
    held = right_masters(world)
    lost = world.instances["VI_2"].base[0]
    for node in held:
        held[node].discard(lost)
    checker.change(1.0, "kill")
    checker.observe(snap(1.5, held, world))
    checker.observe(snap(20.0, held, world))
    assert checker.changes[-1].converged is None
    assert [(v.invariant, v.nodes) for v in checker.violations] == [("holders", ["ka"])]


def test_isolated_nodes_each_hold_their_own_copy() -> None:
    world = World()
    checker = started(world)
    world.isolated = {"py1"}
    checker.change(1.0, "partition")
    held = right_masters(world)
    alone = {"py1": set().union(*(s.vips for s in world.instances.values())),
             "py2": set(), "ka": set()}
    rest = right_masters(World(running={"py1": False, "py2": True, "ka": True}),
                         dead=frozenset({"py1"}))
    for node in ("py2", "ka"):
        alone[node] = rest[node]
    checker.observe(snap(20.0, alone, world))
    assert checker.violations == [], [v.line() for v in checker.violations]
    checker.observe(snap(21.0, held, world))  # py1 alone must hold everything of its own
    checker.observe(snap(30.0, held, world))  # ... and a bound later, it still does not
    assert {v.invariant for v in checker.violations} == {"holders"}
    # py1 lacks its copies; ka lacks VI_1, whose master py1 is out of its island
    assert {n for v in checker.violations for n in v.nodes} == {"py1", "ka"}


def test_a_vip_on_a_backup_longer_than_the_grace_is_a_violation() -> None:
    world = World()
    checker = started(world)
    held = right_masters(world)
    states = states_of(world, held)
    states["py1"]["VI_1"] = "BACKUP"  # py1 holds VI_1's VIP but says BACKUP
    checker.observe(snap(1.0, held, world, states=states))
    checker.observe(snap(1.0 + VIP_GRACE - 0.05, held, world, states=states))
    assert checker.violations == []
    checker.observe(snap(1.0 + VIP_GRACE + 0.05, held, world, states=states))
    assert [(v.invariant, v.nodes) for v in checker.violations] == [("non-master", ["py1"])]


def test_a_removed_vip_still_held_is_a_violation() -> None:
    world = World()
    spec = world.instances["VI_1"]
    spec.added.append(spec.spare[0])
    world.remember()
    checker = started(world)
    held = right_masters(world)
    spec.added.clear()  # a reload removed it from every configuration
    checker.change(5.0, "reload")
    checker.observe(snap(5.1, held, world))
    checker.observe(snap(30.0, held, world))
    assert any(v.invariant == "holders" and spec.spare[0] in v.detail
               for v in checker.violations)


def test_keepalived_with_a_dead_child_is_excused_pykeepalived_is_not() -> None:
    for node in ("ka", "py1"):
        world = World()
        checker = started(world)
        held = right_masters(world)
        pids = dict(PIDS, **{node: None})  # its VRRP child is dead, the parent runs
        states = states_of(world, held)
        states[node] = {}  # no child: no state (as the observer reads it)
        checker.change(1.0, "kill9_child")
        checker.observe(snap(1.1, held, world, pids=pids, states=states))
        checker.observe(snap(1.1 + VIP_GRACE + 0.1, held, world, pids=pids, states=states))
        found = [v for v in checker.violations + checker.excluded if v.invariant == "non-master"]
        assert found and all(v.nodes == [node] for v in found)
        if node == "ka":
            assert checker.violations == [] and KEEPALIVED_RESPAWN in found[0].detail
        else:
            assert checker.excluded == [] and checker.violations


def test_a_snapshot_taken_before_a_change_does_not_converge_it() -> None:
    """The poller may take a snapshot, then the fault happens, then the snapshot is checked:
    it must not count as the network having converged after the fault."""
    world = World()
    checker = started(world)
    checker.change(5.0, "kill")
    checker.observe(snap(4.9, right_masters(world), world))
    assert not checker.converged()
    checker.observe(snap(5.2, right_masters(world), world))
    assert checker.converged()
    assert abs((checker.changes[-1].converged or 0) - 0.2) < 1e-9


def test_a_step_overtaken_by_the_next_is_not_timed() -> None:
    world = World()
    checker = started(world)
    checker.begin("link_cut", "link_cut #1")
    checker.change(1.0, "down")
    checker.change(1.5, "up")
    checker.observe(snap(2.0, right_masters(world), world))
    down, up = checker.changes[-2:]
    assert down.overtaken and down.converged is None
    assert not up.overtaken and abs((up.converged or 0) - 0.5) < 1e-9
    assert checker.worst_convergence()["link_cut"] is up
