"""The virtual router at its edges: limits, counters, exact adverts, timers and AH numbers.

Added from mutation testing (scripts/mutation): each test pins behaviour of RFC 5798 /
keepalived that the scenario tests of test_router.py ran through without checking.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from ipaddress import IPv4Address

import pytest

from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import (
    LowerPriorityReceived,
    PriorityChanged,
    SendAdvert,
    SendGratuitous,
    State,
)
from pykeepalived.vrrp.fsm import Event
from pykeepalived.vrrp.packet import VRRP_MCAST_IPV4, Advert
from pykeepalived.vrrp.tracking import Tracked
from tests.unit.vrrp.helpers import (
    ME,
    PEER_HIGH,
    PEER_LOW,
    VIP,
    advert,
    router,
    started_backup,
    started_master,
    summary,
)

DOWN_100 = 3 + 156 / 256


def sent(actions: Sequence[object]) -> list[SendAdvert]:
    return [a for a in actions if isinstance(a, SendAdvert)]


# --- configuration limits (RFC 3768 5.3.7, RFC 5798 5.2.7) -----------------------------------

@pytest.mark.parametrize(("version", "configured", "used"), [
    (2, 300, 255.0), (2, 0.2, 1.0), (3, 50, 40.95), (3, 0.001, 0.01), (3, 0.256, 0.26),
])
def test_advert_interval_is_clamped_to_the_field(version: int, configured: float,
                                                 used: float) -> None:
    """v2 carries whole seconds 1..255; v3 centiseconds 1..4095 (12 bits)."""
    r = router(version=version, advert_int=configured)
    assert r.adver_int == used and r.advert.advert_int == used
    packet.encode(r.advert, ME, VRRP_MCAST_IPV4)  # and it fits the wire


def test_initial_state_master_and_options() -> None:
    """keepalived: nopreempt and preempt_delay need 'state BACKUP'; with 'state MASTER' both
    are ignored, and the instance wants MASTER from the start."""
    r = router(initial_state="MASTER", nopreempt=True, preempt_delay=5.0)
    assert r.wantstate is State.MASTER and r.started is False
    assert r.nopreempt is False and r.preempt_delay == 0.0
    b = router(initial_state="BACKUP", nopreempt=True, preempt_delay=5.0)
    assert b.wantstate is State.BACKUP and b.nopreempt is True and b.preempt_delay == 0.0
    d = router(preempt_delay=5.0)
    assert d.wantstate is State.BACKUP and d.preempt_delay == 5.0


def test_unknown_auth_type_means_none(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    assert router(auth_type="bogus").auth_type == packet.AUTH_NONE
    # no authentication configured: strict mode and VRRPv3 have nothing to warn about
    assert router(strict=True).auth_type == packet.AUTH_NONE
    assert router(version=3).auth_type == packet.AUTH_NONE
    assert caplog.records == []


def test_gratuitous_lower_priority_delay() -> None:
    """garp_lower_prio_delay defaults to garp_master_delay; vrrp_strict sends no extra
    gratuitous ARPs on a lower-priority advert."""
    assert router(garp_master_delay=3.0).garp_lower_prio_delay == 3.0
    assert router(garp_lower_prio_delay=2.0).garp_lower_prio_delay == 2.0
    strict = router(strict=True, garp_lower_prio_delay=2.0, garp_lower_prio_repeat=3)
    assert strict.garp_lower_prio_delay == 0.0 and strict.garp_lower_prio_repeat == 0


# --- the adverts themselves ---------------------------------------------------------------

def test_adverts_carry_every_field() -> None:
    """RFC 3768 5.3: the advert and the priority-0 advert differ in the priority alone."""
    r = started_master(0.0, auth_type="PASS", auth_pass="secret", garp_master_delay=0)
    r.handle_timer(r.get_timer() or 0.0)
    r.shutdown(20.0)
    adverts = [a.advert for a in sent(r.actions())]
    key = packet.auth_key("secret")
    assert adverts == [Advert(2, 51, 100, 1.0, (VIP,), packet.AUTH_PASS, key),
                       Advert(2, 51, 0, 1.0, (VIP,), packet.AUTH_PASS, key)]
    for a in adverts:
        assert packet.decode(packet.encode(a, ME, VRRP_MCAST_IPV4), ME, VRRP_MCAST_IPV4) == a


def test_counters_count() -> None:
    """keepalived's vrrp_stats count every event, not just the first."""
    r = started_backup(0.0)
    for t in (1.0, 2.0):
        r.receive_advert(advert(0), PEER_HIGH, t)
    assert r.stats.pri_zero_rcvd == 2
    for t in (10.0, 20.0):
        r.handle_timer(r.get_timer() or 0.0)
        r.receive_advert(advert(150), PEER_HIGH, t)
    assert r.stats.became_master == 2 and r.stats.released_master == 2
    r.handle_timer(r.get_timer() or 0.0)
    r.shutdown(30.0)
    r2 = started_master(0.0)
    r2.set_fault("link", "link", 1.0)
    r2.clear_fault("link", 2.0)
    r2.handle_timer(r2.get_timer() or 0.0)
    r2.shutdown(10.0)
    assert r.stats.pri_zero_sent == 1 and r2.stats.pri_zero_sent == 2
    assert r.stats.advert_sent == 4  # 3 on becoming MASTER, 1 priority 0


def test_primary_address_decides_equal_priority() -> None:
    """RFC 5798 6.4.3: on equal priority the higher primary address wins; the driver can
    change ours (set_primary_address) when the interface's address changes."""
    r = started_master(0.0, primary_address=IPv4Address("192.0.2.200"))
    r.set_primary_address(ME)  # 192.0.2.2: now below the peer's 192.0.2.3
    r.receive_advert(advert(100), PEER_HIGH, 10.0)
    assert r.state is State.BACKUP


def test_no_primary_address_is_our_own_address() -> None:
    """Without an address of our own to compare, an equal-priority advert is treated as our
    own (keepalived logs it and stays MASTER)."""
    r = started_master(0.0, primary_address=None)
    r.receive_advert(advert(100), PEER_HIGH, 10.0)
    assert r.state is State.MASTER and r.actions() == []


# --- RFC 5798 6.4.2: the backup ---------------------------------------------------------------

def test_backup_accepts_equal_priority() -> None:
    """RFC 5798 6.4.2: "greater than or equal to the local Priority" resets the timer."""
    r = started_backup(0.0)
    r.receive_advert(advert(100), PEER_LOW, 2.0)
    assert r.get_timer() == 2.0 + DOWN_100 and r.master_address == PEER_LOW


def test_accepted_advert_ends_a_held_wish_for_master() -> None:
    r = router(priority=255)
    r.start(0.0, allow_master=False)
    assert r.wantstate is State.MASTER
    r.receive_advert(advert(255), PEER_HIGH, 0.5)
    assert r.wantstate is State.BACKUP and r.state is State.BACKUP


def test_short_preempt_delay() -> None:
    """preempt_delay is in seconds and may be under one."""
    r = started_backup(0.0, priority=150, preempt_delay=0.5)
    r.receive_advert(advert(100), PEER_LOW, 1.0)  # starts the delay: accepted
    assert r.get_timer() == 1.0 + 3 + 106 / 256
    r.receive_advert(advert(100), PEER_LOW, 1.6)  # the delay ran out: discarded
    assert r.get_timer() == 1.0 + 3 + 106 / 256


def test_equal_priority_stops_the_preempt_delay(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    r = started_backup(0.0, priority=150, preempt_delay=10.0)
    r.receive_advert(advert(100), PEER_LOW, 1.0)
    r.receive_advert(advert(150), PEER_HIGH, 5.0)  # not lower: the delay stops
    r.receive_advert(advert(100), PEER_LOW, 6.0)  # lower again: a new delay
    assert [m for m in caplog.messages if "preempt" in m] == [
        "(VI_1) start preempt delay (10.00)", "(VI_1) start preempt delay (10.00)"]


def test_nopreempt_without_delay_logs_no_delay(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    r = started_backup(0.0, priority=150, nopreempt=True)
    r.receive_advert(advert(100), PEER_LOW, 1.0)
    assert caplog.messages == []


# --- timers --------------------------------------------------------------------------------

def test_master_wakes_for_gratuitous_arp_without_sending_an_advert() -> None:
    """The Adver_Timer fires when it is due, not whenever the router is woken."""
    r = started_master(0.0, garp_master_delay=0.5, garp_master_refresh=0.75,
                       garp_master_repeat=1, garp_master_refresh_repeat=1)
    start = 3.609375
    assert r.get_timer() == start + 0.5
    r.handle_timer(start + 0.5)
    assert summary(r.actions()) == ["garp"] and r.get_timer() == start + 0.75
    r.handle_timer(start + 0.75)
    assert summary(r.actions()) == ["garp"] and r.get_timer() == start + 1.0


def test_lower_priority_gratuitous_round_then_back_to_adverts() -> None:
    r = started_master(0.0, garp_master_delay=0, garp_lower_prio_repeat=1,
                       garp_lower_prio_delay=0.5)
    r.receive_advert(advert(50), PEER_HIGH, 10.0)
    r.actions()
    assert r.get_timer() == 10.5
    r.handle_timer(10.5)
    assert summary(r.actions()) == ["garp"] and r.get_timer() == 11.0


def test_only_a_master_announces_for_a_lower_priority_advert() -> None:
    r = started_backup(0.0, garp_lower_prio_repeat=2)
    r.gratuitous_for_lower_priority(1.0)
    assert r.actions() == [] and r.get_timer() == DOWN_100


def test_priority_change_moves_only_a_backup_timer() -> None:
    """The Master_Down_Timer depends on the priority (Skew_Time); the Adver_Timer does not."""
    track = (Tracked("file f", weight=1, is_file=True),)
    m = started_master(0.0, tracking=track, garp_master_delay=0)
    due = m.get_timer()
    m.track("file f", 50, 4.0)
    assert m.get_timer() == due
    assert m.actions() == [PriorityChanged(100, 150, State.MASTER)]
    early = router(tracking=track)
    early.track("file f", 50, 0.0)  # before start: nothing to report yet
    assert early.priority == 150 and early.actions() == []
    early.start(0.0)
    assert early.get_timer() == 3 + 106 / 256


def test_recovered_backup_uses_its_own_interval_again() -> None:
    """RFC 5798 6.4.1 (and keepalived on leaving FAULT): a new BACKUP starts from its own
    Advertisement_Interval, not the one it last adopted from a master."""
    r = started_backup(0.0, version=3)
    r.receive_advert(advert(150, version=3, interval=2.0), PEER_HIGH, 1.0)
    assert r.master_adver_int == 2.0
    r.set_fault("link", "link", 2.0)
    r.clear_fault("link", 3.0)
    assert r.master_adver_int == 1.0 and r.get_timer() == 3.0 + DOWN_100


def test_group_backup_cancels_the_gratuitous_timers() -> None:
    """Leaving MASTER stops Adver_Timer and the pending gratuitous ARP rounds."""
    r = started_master(0.0, garp_master_delay=1.0)  # MASTER at 3.61, a round due at 4.61
    r.group_event(Event.GROUP_BACKUP, 4.0, "group")
    assert r.get_timer() == 4.0 + DOWN_100
    r.handle_timer(4.61)
    assert summary(r.actions()) == ["MASTER->BACKUP", "remove_vips"]


# --- faults and group events ---------------------------------------------------------------

def test_wantstate_follows_faults_and_group_events() -> None:
    r = started_backup(0.0)
    r.set_fault("link", "link", 1.0)
    assert r.wantstate is State.FAULT
    r.clear_fault("link", 2.0, may_recover=False)
    assert r.state is State.FAULT and r.wantstate is State.BACKUP
    m = started_master(0.0)
    m.group_event(Event.GROUP_BACKUP, 1.0, "group")
    assert m.wantstate is State.BACKUP
    m.group_event(Event.GROUP_FAULT, 2.0, "group")
    assert m.wantstate is State.FAULT and m.state is State.FAULT
    m.group_event(Event.GROUP_BACKUP, 3.0, "group")
    assert m.wantstate is State.BACKUP and m.state is State.BACKUP
    resumed = router()
    resumed.start(0.0, resume_master=True)
    assert resumed.state is State.MASTER and resumed.wantstate is State.MASTER
    resumed.receive_advert(advert(150), PEER_HIGH, 1.0)
    assert resumed.state is State.BACKUP and resumed.wantstate is State.BACKUP
    faulty = router()
    faulty.set_fault("link", "link", 0.0)
    faulty.start(0.0)
    assert faulty.wantstate is State.FAULT


def test_repeated_drops_are_rate_limited_per_reason(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    r = started_backup(0.0)
    other = (IPv4Address("192.0.2.99"),)
    for t in (1.0, 2.0):
        r.receive_advert(advert(150, addresses=other), PEER_HIGH, t)
        r.receive_advert(advert(150, vrid=9), PEER_HIGH, t)
        r.receive_advert(advert(150, addresses=()), PEER_HIGH, t)
    assert len(caplog.records) == 3
    assert r.stats.addr_list_err == 4 and r.stats.vrid_err == 2
    ah = started_backup(0.0, auth_type="AH", auth_pass="k")
    for t in (1.0, 2.0, 3.0):
        ah.receive_advert(advert(150, auth_type=2), PEER_HIGH, t, ah_seq=5)
    assert len(caplog.records) == 4 and ah.stats.auth_failure == 2


# --- AH sequence numbers (keepalived vrrp_ipsecah) ---------------------------------------------

def test_master_answering_lower_ah_advert_syncs_its_sequence() -> None:
    """keepalived "Syncing seq_num": the answer carries the peer's number plus two (the
    peer's + 1, then one more for the advert sent)."""
    r = started_master(0.0, auth_type="AH", auth_pass="k", garp_master_delay=0)
    r.receive_advert(advert(50, auth_type=2), PEER_HIGH, 10.0, ah_seq=40)
    acts = r.actions()
    assert [a.ah_seq for a in sent(acts)] == [42]
    assert [a for a in acts if isinstance(a, LowerPriorityReceived)] == [
        LowerPriorityReceived(PEER_HIGH, 50)]
    # the synced counter is not a cycled one: the next MASTER continues from it
    r.set_fault("link", "link", 20.0)
    r.clear_fault("link", 21.0)
    r.handle_timer(r.get_timer() or 0.0)
    assert [a.ah_seq for a in sent(r.actions())] == [43, 44]


def test_ah_counter_stops_at_its_limit() -> None:
    """keepalived counts up to 0xFFFFFFFE and then marks the counter cycled."""
    r = started_backup(0.0, auth_type="AH", auth_pass="k")
    r.receive_advert(advert(150, auth_type=2), PEER_HIGH, 1.0, ah_seq=0xFFFFFFFC)
    r.handle_timer(r.get_timer() or 0.0)
    for _ in range(3):
        r.handle_timer(r.get_timer() or 0.0)
    assert [a.ah_seq for a in sent(r.actions())] == [
        0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFE, 0xFFFFFFFE]


def test_ah_counter_restarts_once_after_a_cycle() -> None:
    """A cycled counter restarts from 1 the next time the router becomes MASTER, and only
    then: a later MASTER continues counting."""
    r = started_backup(0.0, auth_type="AH", auth_pass="k", garp_master_delay=0)
    r.receive_advert(advert(150, auth_type=2), PEER_HIGH, 1.0, ah_seq=0xFFFFFFFE)
    r.handle_timer(r.get_timer() or 0.0)  # MASTER, counter stuck: cycled
    r.set_fault("link", "link", 10.0)
    r.clear_fault("link", 11.0)
    r.handle_timer(r.get_timer() or 0.0)  # MASTER again: restarts from 1
    r.handle_timer(r.get_timer() or 0.0)
    r.set_fault("link", "link", 20.0)
    r.clear_fault("link", 21.0)
    r.handle_timer(r.get_timer() or 0.0)  # MASTER again: continues
    assert [a.ah_seq for a in sent(r.actions())] == [
        0xFFFFFFFE, 0xFFFFFFFE, 1, 2, 3, 4]


def test_valid_ah_advert_in_backup_clears_the_cycle() -> None:
    """A backup that accepts a newer AH advert takes the peer's number as its own, and the
    counter is no longer cycled: the next MASTER continues from there."""
    r = started_backup(0.0, auth_type="AH", auth_pass="k", garp_master_delay=0)
    r.receive_advert(advert(150, auth_type=2), PEER_HIGH, 1.0, ah_seq=0xFFFFFFFE)
    r.handle_timer(r.get_timer() or 0.0)  # cycled
    r.set_fault("link", "link", 10.0)
    r.clear_fault("link", 11.0)
    r.receive_advert(advert(150, auth_type=2), PEER_HIGH, 12.0, ah_seq=0xFFFFFFFF)
    r.handle_timer(r.get_timer() or 0.0)
    assert [a.ah_seq for a in sent(r.actions())][-1] == 0xFFFFFFFF


def test_lower_priority_answer_is_counted_once() -> None:
    r = started_master(0.0, garp_master_delay=0, garp_master_repeat=1)
    r.receive_advert(advert(50), PEER_HIGH, 10.0)
    assert [type(a) for a in r.actions()] == [SendAdvert, SendGratuitous, LowerPriorityReceived]
    assert r.stats.advert_sent == 2
