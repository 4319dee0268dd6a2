"""Times without a master, as a router sees them (MasterGap): what the availability figures
(failovers, gap per failover, MTTR) are made of."""

from __future__ import annotations

from pykeepalived.vrrp.actions import MasterGap, State
from pykeepalived.vrrp.router import VirtualRouter
from tests.unit.vrrp.helpers import PEER_HIGH, PEER_LOW, advert, started_backup, started_master

DOWN = 3 + 156 / 256  # Master_Down_Interval, priority 100, advert_int 1


def gaps(r: VirtualRouter) -> list[MasterGap]:
    return [a for a in r.actions() if isinstance(a, MasterGap)]


def test_a_master_that_dies_leaves_a_gap_until_our_takeover() -> None:
    r = started_backup(0.0)
    for t in (0.5, 1.5, 2.5):
        r.receive_advert(advert(150), PEER_HIGH, t)
    assert gaps(r) == []  # a master every second: no gap
    r.handle_timer(2.5 + DOWN)
    assert r.state is State.MASTER
    assert gaps(r) == [MasterGap(2.5, 2.5 + DOWN, False)]
    r.handle_timer(r.get_timer() or 0.0)
    assert gaps(r) == []  # our own adverts as master: no more gaps


def test_a_goodbye_starts_the_gap_and_the_next_master_ends_it() -> None:
    r = started_backup(0.0)
    r.receive_advert(advert(150), PEER_HIGH, 1.0)
    r.receive_advert(advert(0), PEER_HIGH, 1.2)  # planned: priority 0
    assert gaps(r) == []
    r.receive_advert(advert(120), PEER_LOW, 1.4)  # another backup was quicker than us
    assert gaps(r) == [MasterGap(1.2, 1.4, True)]


def test_the_same_master_late_is_no_failover() -> None:
    """A live master whose advert came late (a loaded machine) served its clients all along."""
    r = started_backup(0.0)
    r.receive_advert(advert(150), PEER_HIGH, 1.0)
    r.receive_advert(advert(150), PEER_HIGH, 3.0)  # 2 s late, but before our Master_Down
    assert gaps(r) == []


def test_another_master_after_a_silence_ends_the_gap() -> None:
    r = started_backup(0.0, priority=50)
    r.receive_advert(advert(150), PEER_HIGH, 1.0)
    r.receive_advert(advert(120), PEER_LOW, 4.0)  # the old one died, a faster peer took over
    assert gaps(r) == [MasterGap(1.0, 4.0, False)]


def test_no_gap_at_start_on_hand_over_or_after_being_blind() -> None:
    r = started_backup(0.0)
    r.receive_advert(advert(150), PEER_HIGH, 30.0)  # the first master we hear: no gap
    assert gaps(r) == []
    m = started_master(0.0)
    m.receive_advert(advert(200), PEER_HIGH, 50.0)  # we were master until now: no gap
    assert m.state is State.BACKUP and gaps(m) == []
    r.set_fault("link", "link down", 31.0)  # blind while in FAULT
    r.clear_fault("link", 60.0)
    r.receive_advert(advert(150), PEER_HIGH, 61.0)
    assert gaps(r) == []


def test_the_history_keeps_the_last_hundred_oldest_first_and_counts_them_all() -> None:
    from pykeepalived.daemon.availability import KEPT, Availability

    avail = Availability(0.0)
    for i in range(KEPT + 5):
        avail.transition(float(i), "BACKUP", "MASTER", f"r{i}")
        avail.gap(MasterGap(float(i), i + 0.5, planned=i % 2 == 1), wall_end=float(i))
    history = avail.history()
    assert [t["reason"] for t in history["transitions"]] == [f"r{i}" for i in range(5, KEPT + 5)]
    assert [g["wall_end"] for g in history["gaps"]] == [float(i) for i in range(5, KEPT + 5)]
    assert avail.changes == avail.failovers == KEPT + 5
    assert avail.last_transition is not None and avail.last_transition.reason == f"r{KEPT + 4}"
    assert avail.figures(1000.0)["down_seconds"] == (KEPT + 5) * 0.5
