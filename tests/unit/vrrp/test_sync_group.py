"""vrrp_sync_group: members move together (keepalived vrrp_sync.c semantics)."""

from __future__ import annotations

import pytest

from pykeepalived.vrrp.actions import State
from pykeepalived.vrrp.router import VirtualRouter
from pykeepalived.vrrp.sync_group import SyncGroup
from tests.unit.vrrp.helpers import PEER_HIGH, advert, router, summary


def pair(**kw: object) -> tuple[VirtualRouter, VirtualRouter, SyncGroup]:
    a = router(name="VI_A", vrid=51, **kw)
    b = router(name="VI_B", vrid=52, **kw)
    return a, b, SyncGroup("G1", [a, b])


def group_states(g: SyncGroup) -> list[str]:
    return [f"{c.old.value}->{c.new.value}" for c in g.actions()]


def both_master() -> tuple[VirtualRouter, VirtualRouter, SyncGroup]:
    a, b, g = pair(garp_master_delay=0)
    a.start(0.0)
    b.start(0.0)
    a.handle_timer(3.609375)
    b.handle_timer(3.609375)
    assert a.state is b.state is State.MASTER
    a.actions()
    b.actions()
    g.actions()
    return a, b, g


def test_start_then_master_only_when_all_want_it() -> None:
    a, b, g = pair()
    a.start(0.0)
    assert g.state is State.INIT  # B not started yet
    b.start(0.0)
    assert group_states(g) == ["INIT->BACKUP"]
    a.handle_timer(3.609375)  # A times out first: B does not want MASTER yet
    assert a.state is State.BACKUP and a.wantstate is State.MASTER
    assert summary(a.actions()) == ["INIT->BACKUP"]
    b.handle_timer(3.609375)  # now everyone wants MASTER: B goes and pulls A
    assert a.state is b.state is State.MASTER
    assert summary(a.actions())[:3] == ["BACKUP->MASTER", "advert(100)", "add_vips"]
    assert summary(b.actions())[:4] == ["INIT->BACKUP", "BACKUP->MASTER", "advert(100)",
                                        "add_vips"]
    assert group_states(g) == ["BACKUP->MASTER"]


def test_member_hearing_live_master_keeps_group_backup() -> None:
    a, b, g = pair()
    a.start(0.0)
    b.start(0.0)
    for t in range(1, 30):  # B's master is alive, A's is gone
        b.receive_advert(advert(150, vrid=52), PEER_HIGH, float(t))
        for r in (a, b):
            r.handle_timer(float(t))
    assert a.state is State.BACKUP and b.state is State.BACKUP
    assert "add_vips" not in summary(a.actions()) + summary(b.actions())
    assert g.state is State.BACKUP


def test_one_member_to_backup_pulls_all() -> None:
    a, b, g = both_master()
    a.receive_advert(advert(200), PEER_HIGH, 10.0)
    assert summary(a.actions()) == ["MASTER->BACKUP", "remove_vips"]
    assert summary(b.actions()) == ["MASTER->BACKUP", "remove_vips"]
    assert group_states(g) == ["MASTER->BACKUP"]


def test_one_member_fault_pulls_all_and_recovery_waits_for_every_fault() -> None:
    a, b, g = both_master()
    a.set_fault(10.0, "interface eth0 down")
    assert summary(a.actions()) == ["MASTER->FAULT", "advert(0)", "remove_vips"]
    assert summary(b.actions()) == ["MASTER->FAULT", "advert(0)", "remove_vips"]
    assert group_states(g) == ["MASTER->FAULT"]
    b.set_fault(11.0, "script down")
    a.clear_fault(12.0)
    assert a.state is b.state is State.FAULT  # B still has a fault of its own
    b.clear_fault(13.0)
    assert a.state is b.state is State.BACKUP
    assert summary(a.actions()) == ["FAULT->BACKUP"]
    assert summary(b.actions()) == ["FAULT->BACKUP"]
    assert group_states(g) == ["FAULT->BACKUP"]


def test_fault_of_backup_member_pulls_backup_member() -> None:
    a, b, g = pair()
    a.start(0.0)
    b.start(0.0)
    g.actions()
    b.set_fault(1.0, "link")
    assert a.state is State.FAULT and g.state is State.FAULT
    a.receive_advert(advert(150), PEER_HIGH, 2.0)  # FAULT ignores adverts
    assert a.state is State.FAULT
    b.clear_fault(3.0, "link")
    assert a.state is b.state is State.BACKUP


def test_router_in_two_groups_refused() -> None:
    a, _, _ = pair()
    with pytest.raises(ValueError, match="more than one sync group"):
        SyncGroup("G2", [a])


def test_owner_in_group_waits_for_the_others() -> None:
    a = router(name="VI_A", priority=255)
    b = router(name="VI_B", vrid=52)
    SyncGroup("G1", [a, b])
    a.start(0.0)
    assert a.state is State.BACKUP and a.wantstate is State.MASTER
    assert a.get_timer() == pytest.approx(1.0 + 1 / 256)
    b.start(0.0)
    b.handle_timer(b.get_timer() or 0)
    assert a.state is b.state is State.MASTER


def test_after_event_repairs_members_changed_behind_its_back() -> None:
    a = router(name="VI_A")
    b = router(name="VI_B", vrid=52)
    a.start(0.0)
    b.start(0.0)
    a.handle_timer(3.609375)  # A became MASTER alone before the group existed
    b.receive_advert(advert(150, vrid=52), PEER_HIGH, 3.7)
    a.actions()
    g = SyncGroup("G1", [a, b])
    g.after_event(4.0)
    assert a.state is State.BACKUP and summary(a.actions()) == ["MASTER->BACKUP", "remove_vips"]
    g.after_event(4.0)  # idempotent
    assert a.actions() == [] and group_states(g) == ["INIT->BACKUP"]


def test_after_event_spreads_fault() -> None:
    a = router(name="VI_A")
    b = router(name="VI_B", vrid=52)
    a.start(0.0)
    b.start(0.0)
    a.set_fault(1.0, "link")
    g = SyncGroup("G1", [a, b])
    g.after_event(2.0)
    assert b.state is State.FAULT and g.state is State.FAULT


def test_shutdown_group() -> None:
    a, b, g = both_master()
    a.shutdown(20.0)
    b.shutdown(20.0)
    assert summary(a.actions()) == ["advert(0)", "remove_vips", "MASTER->STOP"]
    assert group_states(g) == ["MASTER->STOP"]
