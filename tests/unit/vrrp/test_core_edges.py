"""Sync groups, tracking arithmetic, the drop log and VIP parsing at their edges.

Added from mutation testing (scripts/mutation): each test pins a keepalived rule that the
scenario tests ran through without checking.
"""

from __future__ import annotations

import logging
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface

import pytest

from pykeepalived.vrrp.actions import GroupStateChange, State, StateChange
from pykeepalived.vrrp.options import vip_address
from pykeepalived.vrrp.stats import DropLog
from pykeepalived.vrrp.sync_group import Emitted, SyncGroup
from pykeepalived.vrrp.tracking import (
    ScriptState,
    Tracked,
    track_file_status,
    weighted_delta,
)
from tests.unit.vrrp.helpers import PEER_HIGH, PEER_LOW, advert, router, started_master, summary

DOWN = 3.609375


def words(out: list[Emitted]) -> list[str]:
    return [f"{r.name[-1] if r else 'G'}:{w}" for r, a in out for w in summary([a])]


# --- sync groups ------------------------------------------------------------------------------

def test_solo_instance_resumes_master_after_reload() -> None:
    r = router()
    out = SyncGroup.solo(r).start(0.0, resume=[r])
    assert r.state is State.MASTER and words(out)[1] == "1:INIT->MASTER"


def test_group_of_owners_reports_its_start() -> None:
    a = router(name="VI_A", priority=255)
    b = router(name="VI_B", vrid=52, priority=255)
    out = SyncGroup("G1", [a, b]).start(0.0)
    changes = [(c.old, c.new, c.reason) for _r, c in out if isinstance(c, GroupStateChange)]
    assert changes == [(State.INIT, State.BACKUP, "startup"),
                       (State.BACKUP, State.MASTER, "startup")]


def test_owner_with_state_backup_makes_the_group_mixed() -> None:
    """keepalived: members that do not all want MASTER start as backups, owners included."""
    a = router(name="VI_A", priority=255, initial_state="BACKUP")
    b = router(name="VI_B", vrid=52, priority=255)
    SyncGroup("G1", [a, b]).start(0.0)
    assert a.state is State.BACKUP and b.state is State.BACKUP


def test_member_added_to_a_master_group_on_reload() -> None:
    """A group rebuilt over running MASTER members keeps its state; a new owner member joins
    them as MASTER at once, a new plain member starts as BACKUP and the group stays MASTER."""
    a = started_master(0.0, name="VI_A", garp_master_delay=0)
    owner = router(name="VI_B", vrid=52, priority=255, vips=("192.0.2.101/24",))
    g = SyncGroup("G1", [a, owner], state=State.MASTER)
    out = g.start(10.0)
    assert owner.state is State.MASTER and g.state is State.MASTER
    assert not any(isinstance(c, GroupStateChange) for _r, c in out)
    plain = router(name="VI_C", vrid=53, vips=("192.0.2.102/24",))
    g2 = SyncGroup("G2", [a, plain], state=State.MASTER)
    out = g2.start(10.0)
    assert plain.state is State.BACKUP and g2.state is State.MASTER
    assert not any(isinstance(c, GroupStateChange) for _r, c in out)


def test_faulty_member_at_start_pulls_the_others_for_startup() -> None:
    a = router(name="VI_A")
    b = router(name="VI_B", vrid=52, vips=("192.0.2.101/24",))
    a.set_fault("socket", "cannot send", 0.0)
    out = SyncGroup("G1", [a, b]).start(0.0)
    pulled = [c for r, c in out if r is b and isinstance(c, StateChange)]
    assert [(c.old, c.new, c.reason) for c in pulled] == [
        (State.INIT, State.BACKUP, "startup"), (State.BACKUP, State.FAULT, "startup")]


def test_group_passes_ttl_and_ah_to_the_member() -> None:
    a = router(name="VI_A")
    b = router(name="VI_B", vrid=52, auth_type="AH", auth_pass="k",
               vips=("192.0.2.101/24",))
    g = SyncGroup("G1", [a, b])
    g.start(0.0)
    g.receive_advert(a, advert(150), PEER_HIGH, 1.0, ttl=64)
    assert a.stats.ip_ttl_err == 1
    g.receive_advert(b, advert(150, vrid=52, auth_type=2,
                               addresses=(IPv4Address("192.0.2.101"),)),
                     PEER_HIGH, 1.0, ah_seq=7)
    assert b.stats.advert_rcvd == 1 and b.stats.authtype_mismatch == 0


def test_other_members_announce_after_their_lower_prio_delay() -> None:
    """keepalived vrrp_state_master_rx: the other members send garp_lower_prio_repeat rounds
    now and again after garp_lower_prio_delay."""
    a = router(name="VI_A", garp_master_delay=0, garp_master_repeat=1,
               garp_lower_prio_delay=0.5)
    b = router(name="VI_B", vrid=52, vips=("192.0.2.101/24",), garp_master_delay=0,
               garp_master_repeat=1, garp_lower_prio_delay=0.5)
    g = SyncGroup("G1", [a, b])
    g.start(0.0)
    g.handle_timer(a, DOWN)
    g.handle_timer(b, DOWN)
    assert words(g.receive_advert(a, advert(50), PEER_LOW, 4.0)) == [
        "A:advert(100)", "A:garp", "A:lower(50)", "B:garp"]
    assert b.get_timer() == 4.5  # before its next advert at 4.61
    assert words(g.handle_timer(b, 4.5)) == ["B:garp"]


# --- tracking (keepalived.conf(5) weights) --------------------------------------------------------

@pytest.mark.parametrize(("weight", "up", "reverse", "delta"), [
    (10, True, False, 10), (10, False, False, 0), (1, True, False, 1), (-1, False, False, -1),
    (10, True, True, -10), (-10, False, True, 10), (-10, True, True, 0), (0, True, False, 0),
])
def test_weighted_delta(weight: int, up: bool, reverse: bool, delta: int) -> None:
    """The delta is a whole number: it ends up in the one-byte priority field."""
    got = weighted_delta(weight, up, reverse)
    assert got == delta and type(got) is int
    if not reverse:
        assert weighted_delta(weight, up) == delta


def test_defaults_are_not_reversed() -> None:
    assert track_file_status(2, 10) == 20
    assert ScriptState().rise == 1 and ScriptState().fall == 1


@pytest.mark.parametrize(("entry", "status", "delta"), [
    (Tracked("file f", weight=10, reverse=True, is_file=True), 2, -20),
    (Tracked("file f", reverse=True, is_file=True), 0, None),
    (Tracked("script s", reverse=True), True, None),
    (Tracked("script s", reverse=True), False, 0),
    (Tracked("script s", weight=5, reverse=True), True, -5),
])
def test_reverse_reaches_every_kind_of_entry(entry: Tracked, status: bool | int,
                                             delta: int | None) -> None:
    assert entry.delta(status) == delta


def test_script_rise_counts_consecutive_successes() -> None:
    """vrrp_script rise 3: three successes in a row make a failed script OK."""
    s = ScriptState(rise=3, fall=1, init_fail=True)
    assert [s.feed(True), s.feed(True), s.feed(True)] == [False, False, True]
    assert s.ok is True


# --- the drop log, VIP parsing ---------------------------------------------------------------

def test_drop_log_reports_what_it_did(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    drops = DropLog(logging.getLogger("test.drops"))
    assert drops.drop("ttl", 0.0, "bad %s", "ttl") is True
    assert drops.drop("ttl", 1.0, "bad %s", "ttl") is False
    assert drops.drop("ttl", 60.0, "bad %s", "ttl") is True
    assert caplog.messages == ["bad ttl", "bad ttl (1 similar packets dropped without a log "
                                          "line)"]


@pytest.mark.parametrize(("vip", "address"), [
    (IPv4Interface("192.0.2.100/24"), IPv4Address("192.0.2.100")),
    (IPv6Interface("2001:db8::1/64"), IPv6Address("2001:db8::1")),
    (IPv4Address("192.0.2.100"), IPv4Address("192.0.2.100")),
    ("192.0.2.100/24 dev eth0", IPv4Address("192.0.2.100")),
])
def test_vip_address_is_a_plain_address(vip: object, address: object) -> None:
    """An interface's prefix must not take part in comparisons with advert addresses."""
    got = vip_address(vip)
    assert got == address and type(got) is type(address)
