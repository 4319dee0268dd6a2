"""vrrp_sync_group: members move together (keepalived vrrp_sync.c semantics).

Every input goes through the group, and one call returns every member's actions in their
final order: the member the event was for, the members it pulled, then the group's change.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from pykeepalived.vrrp.actions import State
from pykeepalived.vrrp.router import VirtualRouter
from pykeepalived.vrrp.sync_group import Emitted, SyncGroup
from pykeepalived.vrrp.tracking import Tracked
from tests.unit.vrrp.helpers import PEER_HIGH, PEER_LOW, advert, router, summary

DOWN = 3.609375  # Master_Down_Interval, priority 100, advert_int 1


def pair(**kw: object) -> tuple[VirtualRouter, VirtualRouter, SyncGroup]:
    a = router(name="VI_A", vrid=51, **kw)
    b = router(name="VI_B", vrid=52, vips=("192.0.2.101/24",), **kw)
    return a, b, SyncGroup("G1", [a, b])


def words(out: list[Emitted]) -> list[str]:
    """``A:advert(100)``, ``B:BACKUP->MASTER``, ``G:group BACKUP->MASTER``..."""
    return [f"{r.name[-1] if r else 'G'}:{w}" for r, a in out for w in summary([a])]


def both_master() -> tuple[VirtualRouter, VirtualRouter, SyncGroup]:
    a, b, g = pair(garp_master_delay=0, garp_master_repeat=1)
    g.start(0.0)
    g.handle_timer(a, DOWN)
    g.handle_timer(b, DOWN)
    assert a.state is b.state is g.state is State.MASTER
    return a, b, g


def test_group_notifies_first_at_start_then_masters_only_when_all_want_it() -> None:
    a, b, g = pair(garp_master_repeat=1)
    assert words(g.start(0.0)) == ["G:group INIT->BACKUP", "A:INIT->BACKUP",
                                   "B:INIT->BACKUP"]
    # A times out first: B does not want MASTER yet, so A waits wanting MASTER
    assert words(g.handle_timer(a, DOWN)) == []
    assert a.state is State.BACKUP and a.wantstate is State.MASTER
    assert a.get_timer() == pytest.approx(2 * DOWN)
    # now everyone wants MASTER: B goes, and pulls A along, in this order
    assert words(g.handle_timer(b, DOWN)) == [
        "B:advert(100)", "B:BACKUP->MASTER", "B:add_vips", "B:garp",
        "A:advert(100)", "A:BACKUP->MASTER", "A:add_vips", "A:garp",
        "G:group BACKUP->MASTER"]


def test_member_hearing_live_master_keeps_group_backup() -> None:
    a, b, g = pair()
    out = g.start(0.0)
    for t in range(1, 30):  # B's master is alive, A's is gone
        out += g.receive_advert(b, advert(150, vrid=52, addresses=(IPv4Address(
            "192.0.2.101"),)), PEER_HIGH, float(t))
        for r in (a, b):
            out += g.handle_timer(r, float(t))
    assert a.state is State.BACKUP and b.state is State.BACKUP and g.state is State.BACKUP
    assert "add_vips" not in " ".join(words(out))


def test_one_member_to_backup_pulls_all_in_order() -> None:
    a, _b, g = both_master()
    assert words(g.receive_advert(a, advert(200), PEER_HIGH, 10.0)) == [
        "A:MASTER->BACKUP", "A:remove_vips", "B:MASTER->BACKUP", "B:remove_vips",
        "G:group MASTER->BACKUP"]


def test_one_member_fault_pulls_all_and_recovery_waits_for_every_fault() -> None:
    a, b, g = both_master()
    assert words(g.set_fault(a, "link", "interface eth0 down", 10.0)) == [
        "A:MASTER->FAULT", "A:advert(0)", "A:remove_vips",
        "B:MASTER->FAULT", "B:advert(0)", "B:remove_vips", "G:group MASTER->FAULT"]
    assert g.set_fault(b, "script", "script down", 11.0) == []
    assert g.clear_fault(a, "link", 12.0) == []
    assert a.state is b.state is State.FAULT  # B still has a fault of its own
    assert words(g.clear_fault(b, "script", 13.0)) == [
        "B:FAULT->BACKUP", "A:FAULT->BACKUP", "G:group FAULT->BACKUP"]


def test_fault_of_backup_member_pulls_backup_member() -> None:
    a, b, g = pair()
    g.start(0.0)
    g.set_fault(b, "link", "link", 1.0)
    assert a.state is State.FAULT and g.state is State.FAULT
    assert g.receive_advert(a, advert(150), PEER_HIGH, 2.0) == []  # FAULT ignores adverts
    g.clear_fault(b, "link", 3.0)
    assert a.state is b.state is State.BACKUP


def test_group_tracking_applies_to_every_member() -> None:
    """vrrp_sync_group track_*: each member watches the group's object (keepalived
    sync_group_tracking_init); its fault moves the whole group, its recovery too."""
    track = (Tracked("script chk_upstream"),)
    a = router(name="VI_A", tracking=track)
    b = router(name="VI_B", vrid=52, tracking=track)
    g = SyncGroup("G1", [a, b])
    g.start(0.0)
    g.track("script chk_upstream", True, 0.5)
    out = g.track("script chk_upstream", False, 1.0)
    assert words(out) == ["A:BACKUP->FAULT", "B:BACKUP->FAULT", "G:group BACKUP->FAULT"]
    out = g.track("script chk_upstream", True, 2.0)
    assert words(out) == ["B:FAULT->BACKUP", "A:FAULT->BACKUP", "G:group FAULT->BACKUP"]


def test_weighted_group_tracking_moves_each_member_priority() -> None:
    track = (Tracked("file tf", weight=10, is_file=True),)
    a = router(name="VI_A", tracking=track)
    b = router(name="VI_B", vrid=52, tracking=track)
    g = SyncGroup("G1", [a, b])
    g.start(0.0)
    assert words(g.track("file tf", 3, 1.0)) == ["A:prio(100->130)", "B:prio(100->130)"]


def test_owner_in_mixed_group_starts_as_plain_backup() -> None:
    """keepalived vrrp_complete_init: members do not all want MASTER, so none does."""
    a = router(name="VI_A", priority=255)
    b = router(name="VI_B", vrid=52)
    g = SyncGroup("G1", [a, b])
    g.start(0.0)
    assert a.state is State.BACKUP and a.wantstate is State.BACKUP
    assert a.get_timer() == pytest.approx(3 + 1 / 256)
    g.handle_timer(a, a.get_timer() or 0.0)
    g.handle_timer(b, b.get_timer() or 0.0)
    assert a.state is b.state is State.MASTER


def test_group_of_owners_starts_master() -> None:
    a = router(name="VI_A", priority=255)
    b = router(name="VI_B", vrid=52, priority=255)
    g = SyncGroup("G1", [a, b])
    out = words(g.start(0.0))
    assert out[0] == "G:group INIT->BACKUP" and out[-1] == "G:group BACKUP->MASTER"
    assert a.state is b.state is State.MASTER


def test_resumed_member_of_group_not_ready_waits_one_interval() -> None:
    a, _b, g = pair()
    g.start(0.0, resume=[a])
    assert a.state is State.BACKUP and a.wantstate is State.MASTER
    assert a.get_timer() == pytest.approx(1 + 1 / 256)


def test_master_answering_lower_priority_makes_the_others_announce() -> None:
    """keepalived vrrp_state_master_rx: the members with garp_lower_prio_repeat re-announce."""
    a, _b, g = both_master()
    out = words(g.receive_advert(a, advert(50), PEER_LOW, 10.0))
    assert out == ["A:advert(100)", "A:garp", "A:lower(50)", "B:garp"]


def test_a_member_faulty_at_start_puts_the_group_in_fault_first() -> None:
    a, _b, g = pair()
    a.set_fault("socket", "cannot send", 0.0)
    assert words(g.start(0.0)) == ["G:group INIT->FAULT", "A:INIT->FAULT", "B:INIT->BACKUP",
                                   "B:BACKUP->FAULT"]


def test_router_listed_twice_refused() -> None:
    a = router()
    with pytest.raises(ValueError, match="listed twice"):
        SyncGroup("G2", [a, a])


def test_shutdown_group() -> None:
    _a, _b, g = both_master()
    assert words(g.shutdown(20.0)) == [
        "A:advert(0)", "A:remove_vips", "A:MASTER->STOP",
        "B:advert(0)", "B:remove_vips", "B:MASTER->STOP", "G:group MASTER->STOP"]


def test_solo_reports_no_group_state() -> None:
    r = router(garp_master_repeat=1, garp_master_delay=0)
    g = SyncGroup.solo(r)
    assert words(g.start(0.0)) == ["1:INIT->BACKUP"]
    assert words(g.handle_timer(r, DOWN)) == ["1:advert(100)", "1:BACKUP->MASTER",
                                              "1:add_vips", "1:garp"]
    assert g.receive_advert(r, advert(50, addresses=()), PEER_HIGH, 5.0) == []
