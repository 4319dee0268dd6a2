"""Planned hand-over (make-before-break) in the core: a leaving master keeps its VIPs until its
new master is in place, says nothing a peer would take for a live master, and is bounded."""

from __future__ import annotations

import logging

import pytest

from pykeepalived.vrrp.actions import State
from pykeepalived.vrrp.router import VirtualRouter
from pykeepalived.vrrp.sync_group import Emitted, SyncGroup
from tests.unit.vrrp.helpers import PEER_HIGH, PEER_LOW, advert, router, started_master, summary

DOWN_150 = 3 + 106 / 256  # Master_Down_Interval of a priority-150 router, advert_int 1
GAP = "MasterGap(start=1.5, end=2.109375, planned=True)"  # the goodbye to our first advert


def master(**kw: object) -> VirtualRouter:
    options: dict[str, object] = {"priority": 150, "garp_master_repeat": 1}
    options.update(kw)
    return started_master(0.0, **options)


def successor(r: VirtualRouter, now: float, *, priority: int = 100,
              source: object = PEER_HIGH, allow_release: bool = True) -> list[str]:
    r.receive_advert(advert(priority), source, now, allow_release=allow_release)  # type: ignore[arg-type]
    return summary(r.actions())


def test_leaving_master_keeps_the_vips_until_the_new_master_advertised_twice() -> None:
    r = master()
    r.hand_over(10.0)
    assert summary(r.actions()) == ["advert(0)"]
    assert r.state is State.MASTER and r.leaving
    # no new master yet: priority 0 again at each Adver_Timer, never the VIPs
    r.handle_timer(11.0)
    assert summary(r.actions()) == ["advert(0)"]
    # the new master's first advert: we fall silent, but keep the VIPs
    assert successor(r, 11.6) == []
    assert r.state is State.MASTER and r.master_address == PEER_HIGH
    assert r.get_timer() == pytest.approx(10.0 + DOWN_150)  # only the bound is left
    # its second advert: the VIPs go, and the router is a backup of the new master
    assert successor(r, 12.6) == ["MASTER->BACKUP", "remove_vips"]
    assert r.state is State.BACKUP and not r.leaving and r.yielding
    assert r.stats.pri_zero_sent == 2


def test_a_second_advert_from_another_router_is_a_new_first() -> None:
    r = master()
    r.hand_over(10.0)
    r.actions()
    assert successor(r, 10.5, source=PEER_HIGH) == []
    assert successor(r, 10.6, source=PEER_LOW, priority=90) == []
    assert r.state is State.MASTER and r.master_address == PEER_LOW
    assert successor(r, 11.6, source=PEER_LOW, priority=90) == ["MASTER->BACKUP",
                                                                 "remove_vips"]


def run_timers(r: VirtualRouter, caplog: pytest.LogCaptureFixture) -> tuple[float, list[str]]:
    """Fire a leaving master's timers until it is no longer leaving (bounded)."""
    t = 0.0
    sent: list[str] = []
    for _ in range(10):  # Adver_Timer fires three times before the bound
        due = r.get_timer()
        assert due is not None
        t = due
        with caplog.at_level(logging.WARNING, logger="pykeepalived.vrrp"):
            r.handle_timer(t)
        sent += summary(r.actions())
        if not r.leaving:
            break
    return t, sent


def test_stop_is_bounded_by_master_down_interval_and_says_so(
        caplog: pytest.LogCaptureFixture) -> None:
    r = master()
    r.hand_over(10.0, stop=True)
    r.actions()
    t, sent = run_timers(r, caplog)
    assert t == pytest.approx(10.0 + DOWN_150)
    assert sent == ["advert(0)", "advert(0)", "advert(0)", "remove_vips", "MASTER->STOP"]
    assert "No new master within master_down_interval" in caplog.text


def test_hand_over_to_nobody_is_abandoned_at_the_bound(
        caplog: pytest.LogCaptureFixture) -> None:
    """A node that is to stay up keeps the VIPs when no other router took them: releasing
    would leave them to nobody until it took them back."""
    r = master()
    r.hand_over(10.0)
    r.actions()
    t, sent = run_timers(r, caplog)
    assert t == pytest.approx(10.0 + DOWN_150)
    assert sent == ["advert(0)", "advert(0)", "advert(0)", "advert(150)"]
    assert r.state is State.MASTER and not r.leaving
    assert "hand-over abandoned, staying MASTER" in caplog.text
    r.handle_timer(t + 1.0)
    assert summary(r.actions()) == ["advert(150)"]


def test_hand_over_released_at_the_bound_when_the_new_master_advertised_once(
        caplog: pytest.LogCaptureFixture) -> None:
    r = master()
    r.hand_over(10.0)
    r.actions()
    assert successor(r, 10.6) == []
    t, sent = run_timers(r, caplog)
    assert t == pytest.approx(10.0 + DOWN_150)
    assert sent == ["MASTER->BACKUP", "remove_vips"]
    assert "advertised only once within master_down_interval" in caplog.text


def test_priority_zero_while_leaving_is_not_answered() -> None:
    """A master that hears priority 0 answers at once with its own priority; a leaving one
    must not, or the backups would take it for a live master and wait."""
    r = master()
    r.hand_over(10.0)
    r.actions()
    assert successor(r, 10.2, priority=0) == []
    assert r.state is State.MASTER and r.leaving and r.get_timer() == pytest.approx(11.0)


def test_no_gratuitous_arp_once_handing_over() -> None:
    r = master(garp_master_delay=5.0, garp_master_refresh=2.0)  # MASTER at 3.41
    r.hand_over(4.0)  # the refresh at 5.41 and the second burst at 8.41 must not come
    r.actions()
    r.gratuitous_for_lower_priority(4.5)
    assert r.actions() == []
    for _ in range(10):
        due = r.get_timer()
        if due is None or not r.leaving:
            break
        r.handle_timer(due)
        assert "garp" not in summary(r.actions())
    assert r.leaving is False


def test_handed_over_router_does_not_preempt_back_until_resumed() -> None:
    r = master()
    r.hand_over(10.0)
    successor(r, 10.5)
    successor(r, 11.5)
    assert r.state is State.BACKUP and r.yielding
    # priority 100 < 150: a plain backup would discard it and take over
    for t in (12.5, 13.5, 14.5, 15.5, 16.5):
        assert successor(r, t) == []
        r.handle_timer(t)
    assert r.state is State.BACKUP and r.master_address == PEER_HIGH
    r.resume(16.6)
    assert not r.yielding
    successor(r, 17.5)  # discarded now
    due = r.get_timer()
    assert due is not None
    r.handle_timer(due)
    assert r.state is State.MASTER


def test_drain_lowers_the_priority_and_hands_over() -> None:
    r = master()
    assert r.drain(10.0)
    assert summary(r.actions()) == ["prio(150->1)", "advert(0)"]
    assert r.priority == 1 and r.leaving
    successor(r, 10.5)
    assert successor(r, 11.5) == ["MASTER->BACKUP", "remove_vips"]
    r.resume(12.0)
    assert summary(r.actions()) == ["prio(1->150)"]
    assert r.priority == 150 and not r.drained


def test_drain_refuses_the_address_owner() -> None:
    r = router(priority=255)
    r.start(0.0)
    r.actions()
    assert not r.drain(1.0)
    assert r.priority == 255 and r.state is State.MASTER and not r.leaving


def test_stop_during_a_hand_over_ends_in_stop() -> None:
    r = master()
    r.hand_over(10.0)
    r.hand_over(10.1, stop=True)
    r.actions()
    successor(r, 10.5)
    assert successor(r, 11.5) == ["remove_vips", "MASTER->STOP"]
    assert r.state is State.STOP


def test_hand_over_with_stop_stops_a_backup_at_once_and_leaves_a_master() -> None:
    b = router()
    b.start(0.0)
    b.actions()
    b.hand_over(1.0, stop=True)
    assert summary(b.actions()) == ["BACKUP->STOP"]
    m = master()
    m.hand_over(10.0, stop=True)
    assert summary(m.actions()) == ["advert(0)"] and m.state is State.MASTER


def test_shutdown_or_fault_while_leaving_release_at_once() -> None:
    r = master()
    r.hand_over(10.0)
    r.actions()
    r.shutdown(10.1)
    assert summary(r.actions()) == ["advert(0)", "remove_vips", "MASTER->STOP"]
    f = master()
    f.hand_over(10.0)
    f.actions()
    f.set_fault("link", "down", 10.1)
    assert summary(f.actions()) == ["MASTER->FAULT", "advert(0)", "remove_vips"]
    assert not f.leaving


def test_backup_takes_over_after_priority_zero_with_its_vips_first() -> None:
    """With use_vmac the first advert moves the MAC: the VIPs must already be there."""
    b = router(garp_master_repeat=1)
    b.start(0.0)
    b.receive_advert(advert(150), PEER_HIGH, 1.0)
    b.receive_advert(advert(0), PEER_HIGH, 1.5)
    b.actions()
    due = b.get_timer()
    assert due == pytest.approx(1.5 + 156 / 256)
    b.handle_timer(due)
    assert summary(b.actions()) == ["add_vips", "advert(100)", GAP, "BACKUP->MASTER", "garp"]
    # a master heard again after its goodbye: the next takeover is an ordinary one
    c = router(garp_master_repeat=1)
    c.start(0.0)
    c.receive_advert(advert(0), PEER_HIGH, 1.0)
    c.receive_advert(advert(150), PEER_HIGH, 1.1)
    c.actions()
    due = c.get_timer()
    assert due is not None
    c.handle_timer(due)
    assert [w for w in summary(c.actions()) if not w.startswith("MasterGap")] == [
        "advert(100)", "BACKUP->MASTER", "add_vips", "garp"]


# --- sync groups -------------------------------------------------------------------------

def group_of_masters() -> tuple[VirtualRouter, VirtualRouter, SyncGroup]:
    a = router(name="VI_A", vrid=51, priority=150, garp_master_repeat=1)
    b = router(name="VI_B", vrid=52, priority=150, vips=("192.0.2.101/24",),
               garp_master_repeat=1)
    g = SyncGroup("G1", [a, b])
    g.start(0.0)
    g.handle_timer(a, DOWN_150)
    g.handle_timer(b, DOWN_150)
    assert a.state is b.state is g.state is State.MASTER
    return a, b, g


def words(out: list[Emitted]) -> list[str]:
    return [f"{r.name[-1] if r else 'G'}:{w}" for r, a in out for w in summary([a])]


def test_sync_group_releases_no_member_before_all_have_a_new_master() -> None:
    a, b, g = group_of_masters()
    assert words(g.hand_over(10.0)) == ["A:advert(0)", "B:advert(0)"]
    assert words(g.receive_advert(a, advert(100, vrid=51), PEER_HIGH, 10.6)) == []
    assert words(g.receive_advert(b, advert(100, vrid=52, addresses=(b.vips[0],)),
                                  PEER_HIGH, 10.6)) == []
    # A's new master is in place, B's not yet: A keeps its VIPs
    assert words(g.receive_advert(a, advert(100, vrid=51), PEER_HIGH, 11.6)) == []
    assert a.state is State.MASTER and a.handover_ready
    # B's is: both go, B first (the event was B's), then A, then the group
    assert words(g.receive_advert(b, advert(100, vrid=52, addresses=(b.vips[0],)),
                                  PEER_HIGH, 11.6)) == [
        "B:MASTER->BACKUP", "B:remove_vips", "A:MASTER->BACKUP", "A:remove_vips",
        "G:group MASTER->BACKUP"]
    assert a.yielding and b.yielding


def test_sync_group_bound_releases_every_member() -> None:
    a, b, g = group_of_masters()
    g.hand_over(10.0, stop=True)
    g.receive_advert(a, advert(100, vrid=51), PEER_HIGH, 10.6)
    g.receive_advert(a, advert(100, vrid=51), PEER_HIGH, 11.6)  # A ready, B has nobody
    out: list[Emitted] = []
    for _ in range(10):
        due = min(t for t in (a.get_timer(), b.get_timer()) if t is not None)
        first = a if a.get_timer() == due else b
        out = g.handle_timer(first, due)
        if a.state is not State.MASTER:
            break
    assert a.state is b.state is g.state is State.STOP
    assert "A:remove_vips" in words(out) and "B:remove_vips" in words(out)
    assert words(out)[-1] == "G:group MASTER->STOP"


def test_peer_sync_group_takes_over_after_priority_zero_with_vips_first() -> None:
    a = router(name="VI_A", vrid=51, garp_master_repeat=1)
    b = router(name="VI_B", vrid=52, vips=("192.0.2.101/24",), garp_master_repeat=1)
    g = SyncGroup("G1", [a, b])
    g.start(0.0)
    g.receive_advert(a, advert(0, vrid=51), PEER_HIGH, 1.0)
    g.receive_advert(b, advert(0, vrid=52, addresses=(b.vips[0],)), PEER_HIGH, 1.0)
    skew = 1.0 + 156 / 256
    assert words(g.handle_timer(a, skew)) == []  # held until B wants MASTER too
    assert words(g.handle_timer(b, skew)) == [
        "B:add_vips", "B:advert(100)", "B:BACKUP->MASTER", "B:garp",
        "A:add_vips", "A:advert(100)", "A:BACKUP->MASTER", "A:garp", "G:group BACKUP->MASTER"]


def test_group_drain_and_resume() -> None:
    a, b, g = group_of_masters()
    out, refused = g.drain(10.0)
    assert a.drained and b.drained and a.leaving and b.leaving
    assert refused == []
    assert words(out) == ["A:prio(150->1)", "A:advert(0)", "B:prio(150->1)", "B:advert(0)"]
    assert words(g.resume(11.0)) == ["A:prio(1->150)", "B:prio(1->150)"]
    assert not a.drained and not b.yielding
