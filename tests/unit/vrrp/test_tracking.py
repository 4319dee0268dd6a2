"""Effective priority arithmetic, rise/fall, track_file rules (keepalived.conf(5))."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pykeepalived.vrrp.actions import State
from pykeepalived.vrrp.tracking import (
    InstanceTracking,
    ScriptState,
    Tracked,
    causes_fault,
    effective_priority,
    track_file_status,
    weighted_delta,
)
from tests.unit.vrrp.helpers import started_backup, summary


@pytest.mark.parametrize(("weight", "reverse", "up", "delta"), [
    (10, False, True, 10), (10, False, False, 0),
    (-10, False, True, 0), (-10, False, False, -10),
    (10, True, True, -10), (10, True, False, 0),
    (-10, True, True, 0), (-10, True, False, 10),
    (0, False, True, 0), (0, False, False, 0),
])
def test_weighted_delta(weight: int, reverse: bool, up: bool, delta: int) -> None:
    assert weighted_delta(weight, up, reverse) == delta


def test_unweighted_fault() -> None:
    assert causes_fault(0, up=False) and not causes_fault(0, up=True)
    assert causes_fault(0, up=True, reverse=True) and not causes_fault(0, up=False, reverse=True)
    assert not causes_fault(5, up=False)


def test_effective_priority_clamps_and_spares_owner() -> None:
    assert effective_priority(100, [20, -30]) == 90
    assert effective_priority(100, [200]) == 254
    assert effective_priority(100, [-200]) == 1
    assert effective_priority(255, [-100]) == 255


@given(st.integers(1, 254), st.lists(st.integers(-253, 253), max_size=8))
def test_effective_priority_always_valid(base: int, deltas: list[int]) -> None:
    assert 1 <= effective_priority(base, deltas) <= 254


@pytest.mark.parametrize(("value", "weight", "reverse", "status"), [
    (0, 0, False, 0), (1, 0, False, None), (-3, 0, False, None),
    (0, 0, True, None), (7, 0, True, 0),
    (5, 2, False, 10), (-5, 2, False, -10), (5, 2, True, -10),
    (200, 2, False, 253), (-126, 2, False, -252), (-127, 2, False, None),
    (-253, 1, False, -253), (-254, 1, False, None), (-1000, 1, False, None),
    (1, -254, False, None), (1, 254, True, None),
])
def test_track_file_status(value: int, weight: int, reverse: bool, status: int | None) -> None:
    assert track_file_status(value, weight, reverse) == status


def test_script_rise_fall() -> None:
    s = ScriptState(rise=2, fall=3)
    assert s.ok is None
    assert s.feed(True) and s.ok is True  # unknown: one success is enough
    assert not s.feed(False) and not s.feed(False) and s.ok is True
    assert s.feed(False) and s.ok is False  # third consecutive failure
    assert not s.feed(True) and s.ok is False
    assert not s.feed(False)  # a failure restarts the rise count
    assert not s.feed(True)
    assert s.feed(True) and s.ok is True


def test_script_first_result_failure_and_init_fail() -> None:
    s = ScriptState(rise=3, fall=3)
    assert s.feed(False) and s.ok is False  # unknown: one failure is enough
    f = ScriptState(rise=2, fall=1, init_fail=True)
    assert f.ok is False
    assert not f.feed(True)
    assert f.feed(True) and f.ok is True
    assert f.feed(False) and f.ok is False


@given(st.integers(1, 5), st.integers(1, 5), st.lists(st.booleans(), max_size=40))
def test_script_state_agrees_with_a_plain_model(rise: int, fall: int,
                                                results: list[bool]) -> None:
    """ok flips exactly after `rise` successes / `fall` failures in a row (after the first)."""
    s = ScriptState(rise, fall)
    ok: bool | None = None
    run_ok = run_ko = 0
    for result in results:
        run_ok, run_ko = (run_ok + 1, 0) if result else (0, run_ko + 1)
        if ok is None:
            expect: bool | None = result
        elif ok and run_ko >= fall:
            expect = False
        elif not ok and run_ok >= rise:
            expect = True
        else:
            expect = ok
        changed = s.feed(result)
        assert changed == (expect != ok)
        ok = expect
        assert s.ok == ok


def test_router_tracking_priority_and_faults() -> None:
    entries = (Tracked("interface eth0"),  # unweighted: FAULT when down
               Tracked("script chk_web", weight=-30),
               Tracked("script chk_bonus", weight=20),
               Tracked("file /run/prio", weight=1, is_file=True))
    r = started_backup(0.0, priority=100, tracking=entries)
    r.track("file /run/prio", 0, 0.5)
    r.track("interface eth0", True, 0.5)
    r.track("script chk_bonus", True, 1.0)
    assert r.priority == 120
    r.track("script chk_web", False, 2.0)
    r.track("file /run/prio", -5, 2.0)
    assert r.priority == 85 and r.state is State.BACKUP
    r.set_fault("address", "no address on eth0", 2.5)  # a fault tracking does not own
    r.track("interface eth0", False, 3.0)
    assert r.faults == {"interface eth0", "no address on eth0"}
    r.track("interface eth0", True, 4.0)
    assert r.faults == {"no address on eth0"} and r.state is State.FAULT
    r.clear_fault("address", 5.0)
    assert [w for w in summary(r.actions()) if "->" in w and "prio" not in w] == [
        "BACKUP->FAULT", "FAULT->BACKUP"]
    r.track("file /run/prio", -300, 6.0)
    assert r.state is State.FAULT and r.tracking.faults() == ["file /run/prio"]


def test_update_reports_change_and_ignores_unwatched() -> None:
    t = InstanceTracking(100, [Tracked("x", weight=5)])
    assert t.update("x", True) and not t.update("x", True) and t.update("x", None)
    assert not t.update("y", True) and not t.watches("y")


def test_one_object_tracked_twice_adds_both_weights() -> None:
    """An instance's own track_script and its sync group's may name the same script."""
    t = InstanceTracking(100, [Tracked("script s", weight=10), Tracked("script s", weight=5)])
    t.update("script s", True)
    assert t.effective_priority() == 115
    assert InstanceTracking(255, [Tracked("script s", weight=-50)]).effective_priority() == 255
