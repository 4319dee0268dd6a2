"""The virtual router with a fake clock: timers, election, preemption, faults, shutdown."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest

from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import SendAdvert, State, StateChange
from pykeepalived.vrrp.tracking import Tracked
from tests.unit.vrrp.helpers import (
    ME,
    PEER_HIGH,
    PEER_LOW,
    VIP,
    VIP6,
    advert,
    router,
    started_backup,
    started_master,
    summary,
)

GARPS = ["garp"] * 5


# --- RFC 5798 6.4.1 Initialize ---------------------------------------------------------------

def test_start_goes_backup_with_master_down_timer() -> None:
    r = router()
    assert r.state is State.INIT and r.get_timer() is None
    r.start(10.0)
    assert summary(r.actions()) == ["INIT->BACKUP"]
    assert r.skew_time == (256 - 100) / 256
    assert r.master_down_interval == 3 + (256 - 100) / 256
    assert r.get_timer() == 10.0 + 3.609375


def test_owner_goes_master_at_once_in_keepalived_order() -> None:
    r = router(priority=255)
    r.start(0.0)
    acts = r.actions()
    assert summary(acts) == ["advert(255)", "INIT->MASTER", "add_vips", *GARPS]
    assert r.get_timer() == 1.0
    assert r.stats.became_master == 1 and r.stats.advert_sent == 1


def test_initial_state_master_without_ownership_starts_backup() -> None:
    """keepalived 2.2.7 vrrp_init_state: 'state MASTER' waits a master down interval."""
    r = router(priority=150, initial_state="MASTER")
    r.start(0.0)
    assert summary(r.actions()) == ["INIT->BACKUP"]
    assert r.get_timer() == 3 + (256 - 150) / 256


def test_owner_with_initial_state_backup_waits() -> None:
    r = router(priority=255, initial_state="BACKUP")
    r.start(0.0)
    assert r.state is State.BACKUP


def test_start_is_idempotent() -> None:
    r = router()
    r.start(0.0)
    r.start(5.0)
    assert summary(r.actions()) == ["INIT->BACKUP"]


# --- timers ----------------------------------------------------------------------------------

def test_backup_timeout_becomes_master_then_adverts_and_garp_bursts() -> None:
    r = started_backup(0.0, garp_master_delay=5.0, garp_master_repeat=2)
    r.handle_timer(3.0)  # early wake-up: nothing
    assert r.actions() == [] and r.state is State.BACKUP
    r.handle_timer(3.609375)
    assert summary(r.actions()) == ["advert(100)", "BACKUP->MASTER", "add_vips", "garp", "garp"]
    sent = []
    now = 3.609375
    for _ in range(10):  # bounded walk over the timers
        now = r.get_timer() or now
        r.handle_timer(now)
        sent.append((round(now - 3.609375, 6), summary(r.actions())))
    assert sent[:5] == [(1.0, ["advert(100)"]), (2.0, ["advert(100)"]), (3.0, ["advert(100)"]),
                        (4.0, ["advert(100)"]), (5.0, ["garp", "garp", "advert(100)"])]
    assert all(acts == ["advert(100)"] for _, acts in sent[5:])


def test_garp_master_refresh() -> None:
    r = started_master(0.0, garp_master_delay=0, garp_master_refresh=2.5,
                       garp_master_refresh_repeat=3)
    start = 3.609375
    garp_times = []
    for _ in range(12):
        now = r.get_timer()
        assert now is not None
        r.handle_timer(now)
        if "garp" in summary(r.actions()):
            garp_times.append(round(now - start, 6))
    assert garp_times[:3] == [2.5, 5.0, 7.5]


def test_v3_skew_and_down_interval_scale_with_interval() -> None:
    r = router(version=3, advert_int=0.1)
    assert r.skew_time == pytest.approx(156 * 0.1 / 256)
    assert r.master_down_interval == pytest.approx(0.3609375)  # KEEPALIVED-NOTES: 360.9 ms


def test_v3_backup_adopts_master_interval() -> None:
    r = started_backup(0.0, version=3, advert_int=1.0)
    r.receive_advert(advert(150, version=3, interval=0.5), PEER_HIGH, 1.0)
    assert r.master_adver_int == 0.5
    assert r.stats.advert_interval_err == 0 and r.stats.advert_rcvd == 1
    assert r.get_timer() == pytest.approx(1.0 + 1.5 + 156 * 0.5 / 256)
    r.handle_timer(r.get_timer() or 0)
    assert r.state is State.MASTER
    assert r.master_adver_int == 1.0  # our own interval again as master
    assert r.advert.advert_int == 1.0


def test_v2_interval_mismatch_is_dropped() -> None:
    r = started_backup(0.0)
    timer = r.get_timer()
    r.receive_advert(advert(150, interval=2), PEER_HIGH, 1.0)
    assert r.stats.advert_interval_err == 1 and r.stats.advert_rcvd == 0
    assert r.get_timer() == timer


# --- RFC 5798 6.4.2 Backup ------------------------------------------------------------------

def test_backup_accepts_higher_priority_and_resets_timer() -> None:
    r = started_backup(0.0)
    for t in (1.0, 2.0, 3.0, 4.0, 5.0):
        r.receive_advert(advert(150), PEER_HIGH, t)
        r.handle_timer(t)
    assert r.state is State.BACKUP and r.get_timer() == 5.0 + 3.609375
    assert r.master_address == PEER_HIGH and r.master_priority == 150
    assert r.actions() == []


def test_backup_priority_zero_sets_skew_time() -> None:
    r = started_backup(0.0)
    r.receive_advert(advert(150), PEER_HIGH, 1.0)
    r.receive_advert(advert(0), PEER_HIGH, 1.5)
    assert r.stats.pri_zero_rcvd == 1
    assert r.get_timer() == 1.5 + r.skew_time
    r.handle_timer(1.5 + r.skew_time)
    assert r.state is State.MASTER


def test_preempt_lower_priority_is_discarded() -> None:
    """A backup with higher priority ignores a lower master and takes over on its timer."""
    r = started_backup(0.0, priority=150)
    for t in (1.0, 2.0, 3.0):
        r.receive_advert(advert(100), PEER_LOW, t)
    assert r.get_timer() == 3 + (256 - 150) / 256  # never refreshed
    r.handle_timer(r.get_timer() or 0)
    assert r.state is State.MASTER


def test_nopreempt_keeps_following_lower_master() -> None:
    r = started_backup(0.0, priority=150, nopreempt=True)
    for t in range(1, 20):
        r.receive_advert(advert(100), PEER_LOW, float(t))
        r.handle_timer(float(t))
    assert r.state is State.BACKUP
    # but it still takes over when the master goes away
    r.handle_timer(19 + r.master_down_interval)
    assert r.state is State.MASTER


def test_nopreempt_ignored_for_owner() -> None:
    assert not router(priority=255, nopreempt=True).nopreempt


def test_preempt_delay() -> None:
    """keepalived: the first lower advert starts the delay; adverts are accepted until it ends."""
    r = started_backup(0.0, priority=150, preempt_delay=10.0)
    t = 0.0
    for _ in range(30):
        t += 1.0
        r.receive_advert(advert(100), PEER_LOW, t)
        r.handle_timer(t)
        if r.state is State.MASTER:
            break
    # the delay started at 1 and runs out at 11: adverts at 1..10 were accepted, later ones
    # discarded, so the down timer last restarted at 10 and fired 3 + skew later.
    assert r.state is State.MASTER
    assert t == 14.0 and r.stats.became_master == 1


def test_preempt_delay_stops_on_higher_priority() -> None:
    r = started_backup(0.0, priority=150, preempt_delay=10.0)
    r.receive_advert(advert(100), PEER_LOW, 1.0)
    r.receive_advert(advert(200), PEER_HIGH, 5.0)  # clears the running delay
    for t in range(6, 14):
        r.receive_advert(advert(100), PEER_LOW, float(t))
    # the delay restarted at 6, so at 13 adverts are still being accepted
    assert r.get_timer() == 13 + r.master_down_interval


# --- RFC 5798 6.4.3 Master ------------------------------------------------------------------

def test_master_hears_higher_priority_goes_backup() -> None:
    r = started_master(0.0)
    r.receive_advert(advert(150), PEER_LOW, 10.0)
    assert summary(r.actions()) == ["MASTER->BACKUP", "remove_vips"]
    assert r.stats.released_master == 1
    assert r.get_timer() == 10.0 + r.master_down_interval


def test_master_equal_priority_higher_address_wins() -> None:
    r = started_master(0.0)
    r.receive_advert(advert(100), PEER_HIGH, 10.0)
    assert r.state is State.BACKUP


def test_master_equal_priority_lower_address_loses() -> None:
    r = started_master(0.0, garp_master_delay=0)
    r.receive_advert(advert(100), PEER_LOW, 10.0)
    assert r.state is State.MASTER
    assert summary(r.actions()) == ["advert(100)", *GARPS, "lower(100)"]
    assert r.get_timer() == 11.0


def test_master_answers_lower_priority_at_once() -> None:
    r = started_master(0.0, garp_master_delay=0, garp_lower_prio_repeat=1,
                       garp_lower_prio_delay=4.0)
    r.receive_advert(advert(50), PEER_HIGH, 10.0)
    assert summary(r.actions()) == ["advert(100)", "garp", "lower(50)"]
    assert r.get_timer() == 11.0
    r.handle_timer(11.0)
    r.handle_timer(12.0)
    r.handle_timer(13.0)
    r.actions()
    r.handle_timer(14.0)
    assert summary(r.actions()) == ["garp", "advert(100)"]


def test_lower_prio_no_advert() -> None:
    r = started_master(0.0, lower_prio_no_advert=True, garp_lower_prio_repeat=0,
                       garp_master_delay=0)
    timer = r.get_timer()
    r.receive_advert(advert(50), PEER_HIGH, timer - 0.5 if timer else 0)
    assert summary(r.actions()) == ["lower(50)"] and r.get_timer() == timer


def test_master_hears_priority_zero_sends_advert() -> None:
    r = started_master(0.0, garp_master_delay=0)
    r.receive_advert(advert(0), PEER_HIGH, 10.25)
    assert summary(r.actions()) == ["advert(100)"]
    assert r.state is State.MASTER and r.get_timer() == 11.25


def test_higher_prio_send_advert() -> None:
    r = started_master(0.0, higher_prio_send_advert=True)
    r.receive_advert(advert(200), PEER_LOW, 10.0)
    assert summary(r.actions()) == ["advert(100)", "MASTER->BACKUP", "remove_vips"]


def test_equal_priority_from_our_own_address_is_only_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    r = started_master(0.0)
    r.receive_advert(advert(100), ME, 10.0)
    assert r.state is State.MASTER and r.actions() == []
    assert "equal priority advert received from remote host with our IP" in caplog.text


def test_two_owners_conflict_reduces_ours() -> None:
    r = router(priority=255)
    r.start(0.0)
    r.actions()
    r.receive_advert(advert(255), PEER_HIGH, 1.0)
    assert r.priority == 254 and r.base_priority == 254
    assert r.state is State.BACKUP


def test_master_timer_replaced_by_own_advert_interval_after_v3_backup() -> None:
    r = started_backup(0.0, version=3, advert_int=2.0)
    r.receive_advert(advert(150, version=3, interval=0.5), PEER_HIGH, 1.0)
    assert r.master_down_interval == pytest.approx(1.5 + 106 * 0.5 / 256 + 50 * 0.5 / 256)


# --- shutdown --------------------------------------------------------------------------------

def test_shutdown_master() -> None:
    r = started_master(0.0)
    r.shutdown(7.0)
    assert summary(r.actions()) == ["advert(0)", "remove_vips", "MASTER->STOP"]
    assert r.stats.pri_zero_sent == 1
    assert r.get_timer() is None
    r.receive_advert(advert(150), PEER_HIGH, 8.0)
    r.handle_timer(100.0)
    r.set_fault("test", "x", 100.0)
    assert r.actions() == [] and r.state is State.STOP


def test_shutdown_backup_and_unstarted() -> None:
    r = started_backup(0.0)
    r.shutdown(1.0)
    assert summary(r.actions()) == ["BACKUP->STOP"]
    fresh = router()
    fresh.shutdown(0.0)
    assert summary(fresh.actions()) == ["INIT->STOP"]


# --- priority --------------------------------------------------------------------------------

def test_tracked_priority_moves_backup_timer_and_master_advert() -> None:
    r = started_backup(0.0, tracking=(Tracked("file f", weight=1, is_file=True),))
    before = r.get_timer()
    r.track("file f", 100, 1.0)
    assert r.priority == 200
    assert summary(r.actions()) == ["prio(100->200)"]
    assert r.get_timer() == pytest.approx((before or 0) - (156 - 56) / 256)
    r.track("file f", 200, 1.0)
    assert r.priority == 254
    r.track("file f", -104, 1.0)
    assert r.priority == 1
    assert summary(r.actions()) == ["prio(200->254)", "prio(254->1)"]
    r.handle_timer(100.0)
    assert r.state is State.MASTER
    sends = [a for a in r.actions() if isinstance(a, SendAdvert)]
    assert sends[0].advert.priority == 1


def test_owner_priority_never_changes() -> None:
    r = router(priority=255, tracking=(Tracked("file f", weight=1, is_file=True),))
    r.start(0.0)
    r.actions()
    r.track("file f", -50, 1.0)
    assert r.priority == 255 and r.actions() == []


# --- FAULT -----------------------------------------------------------------------------------

def test_fault_from_master_and_recovery() -> None:
    r = started_master(0.0)
    r.set_fault("link", "interface eth0 down", 5.0)
    assert summary(r.actions()) == ["MASTER->FAULT", "advert(0)", "remove_vips"]
    assert r.get_timer() is None
    r.receive_advert(advert(150), PEER_HIGH, 6.0)  # ignored in FAULT, not even counted
    assert r.stats.advert_rcvd == 0
    r.set_fault("script", "script chk down", 6.0)
    r.clear_fault("link", 7.0)
    assert r.state is State.FAULT  # the script still fails
    r.clear_fault("script", 8.0)
    assert summary(r.actions()) == ["FAULT->BACKUP"]
    assert r.get_timer() == 8.0 + r.master_down_interval


def test_fault_from_backup_and_before_start() -> None:
    r = started_backup(0.0)
    r.set_fault("link", "link", 1.0)
    assert summary(r.actions()) == ["BACKUP->FAULT"]
    early = router()
    early.set_fault("link", "link", 0.0)
    assert early.actions() == [] and early.state is State.INIT
    early.start(1.0)
    assert summary(early.actions()) == ["INIT->FAULT"]
    early.clear_fault("link", 2.0)
    assert summary(early.actions()) == ["FAULT->BACKUP"]


def test_state_change_reason_names_the_fault() -> None:
    r = started_backup(0.0)
    r.set_fault("script", "track_script chk_web", 1.0)
    change = r.actions()[0]
    assert isinstance(change, StateChange) and "chk_web" in change.reason


# --- options ---------------------------------------------------------------------------------

def test_strict_ignores_auth_and_forces_rfc_behaviour() -> None:
    r = router(strict=True, auth_type="PASS", auth_pass="x", preempt_delay=5,
               higher_prio_send_advert=True)
    assert r.auth_type == packet.AUTH_NONE
    assert r.lower_prio_no_advert and not r.higher_prio_send_advert
    assert r.preempt_delay == 0 and r.garp_lower_prio_repeat == 0


def test_v3_ignores_auth_and_ipv6_forces_v3() -> None:
    assert router(version=3, auth_type="PASS", auth_pass="x").auth_type == 0
    r = router(family=6, version=2, vips=("2001:db8::100/64",),
               primary_address=IPv6Address("fe80::2"))
    assert r.version == 3 and r.vips == (VIP6,)


def test_advert_fields_from_config() -> None:
    r = router(auth_type="PASS", auth_pass="longsecret", vips=("192.0.2.100/24",
                                                              IPv4Address("192.0.2.101")))
    assert r.advert.addresses == (VIP, IPv4Address("192.0.2.101"))
    assert r.advert.auth_data == b"longsecr" and r.advert.auth_type == 1
    assert router(version=3, advert_int=0.123).advert.advert_int == 0.12
    assert router(advert_int=0.4).advert.advert_int == 1.0


def test_skip_check_adv_addr() -> None:
    """keepalived vrrp_state_backup: only the master already followed is trusted."""
    other = (IPv4Address("192.0.2.99"),)
    r = started_backup(0.0, skip_check_adv_addr=True)
    r.receive_advert(advert(150, addresses=other), PEER_LOW, 0.5)  # not our master: checked
    assert r.stats.addr_list_err == 1 and r.master_address is None
    r.receive_advert(advert(150), PEER_HIGH, 1.0)
    r.receive_advert(advert(150, addresses=other), PEER_HIGH, 2.0)
    r.receive_advert(advert(150, addresses=()), PEER_HIGH, 3.0)
    assert r.stats.addr_list_err == 1 and r.stats.advert_rcvd == 4  # keepalived counts first
    assert r.get_timer() == 3.0 + r.master_down_interval
    plain = started_backup(0.0)
    plain.receive_advert(advert(150), PEER_HIGH, 1.0)
    plain.receive_advert(advert(150, addresses=other), PEER_HIGH, 2.0)
    plain.receive_advert(advert(150, addresses=other), PEER_HIGH, 3.0)
    assert plain.stats.addr_list_err == 2
    assert plain.get_timer() == 1.0 + plain.master_down_interval  # only the first counted


def test_address_count_mismatch_is_dropped() -> None:
    r = started_backup(0.0)
    r.receive_advert(advert(150, addresses=()), PEER_HIGH, 1.0)
    assert r.stats.addr_list_err == 1 and r.stats.advert_rcvd == 0
    assert r.master_address is None and r.get_timer() == 3.609375


@pytest.mark.parametrize("version", [2, 3])
def test_higher_priority_advert_with_other_addresses_leaves_master_in_place(
        version: int) -> None:
    """RFC 3768 7.1 and keepalived: a peer advertising one VIP where we have three is
    misconfigured; its advert is dropped, whatever its priority."""
    vips = ("192.0.2.100/24", "192.0.2.101/24", "192.0.2.102/24")
    r = started_master(0.0, version=version, vips=vips, garp_master_delay=0)
    r.receive_advert(advert(200, version=version), PEER_HIGH, 10.0)
    assert r.state is State.MASTER and r.actions() == []
    assert r.stats.addr_list_err == 1
    shuffled = tuple(IPv4Address(v.split("/")[0]) for v in reversed(vips))
    r.receive_advert(advert(200, version=version, addresses=shuffled), PEER_HIGH, 11.0)
    assert r.state is State.BACKUP  # the same list in another order is ours


def test_a_fault_is_cleared_only_by_its_source() -> None:
    """A router that cannot send (the driver's fault) stays in FAULT whatever tracking says."""
    r = router(tracking=(Tracked("interface eth0"),))
    r.set_fault("socket", "cannot send on eth0", 0.0)
    r.start(0.0)
    r.track("interface eth0", True, 1.0)
    r.track("interface eth0", False, 2.0)
    r.track("interface eth0", True, 3.0)
    assert r.state is State.FAULT and r.get_timer() is None
    assert "add_vips" not in summary(r.actions())
    r.clear_fault("other", 4.0)
    assert r.state is State.FAULT
    r.clear_fault("socket", 5.0)
    assert r.state is State.BACKUP


def test_unicast_skips_ttl_check() -> None:
    r = started_backup(0.0, unicast=True)
    r.receive_advert(advert(150), PEER_HIGH, 1.0, ttl=64)
    assert r.stats.ip_ttl_err == 0 and r.stats.advert_rcvd == 1


def test_ah_sequence_on_send_and_cycle() -> None:
    r = started_master(0.0, auth_type="AH", auth_pass="k")
    r.handle_timer(r.get_timer() or 0)
    r.handle_timer(r.get_timer() or 0)
    seqs = [a.ah_seq for a in r.actions() if isinstance(a, SendAdvert)]
    assert seqs == [2, 3]  # 1 went with the MASTER transition
    r._ah_seq = 0xFFFFFFFE  # a counter about to wrap: keepalived stops counting
    r.handle_timer(r.get_timer() or 0)
    assert [a.ah_seq for a in r.actions() if isinstance(a, SendAdvert)] == [0xFFFFFFFE]
    assert r._ah_cycle
    r.set_fault("link", "link", 100.0)  # the priority-0 advert still carries the stuck number
    assert [a.ah_seq for a in r.actions() if isinstance(a, SendAdvert)] == [0xFFFFFFFE]
    r.clear_fault("link", 101.0)
    r.handle_timer(200.0)  # MASTER again with a cycled counter: it restarts from 0
    assert [a.ah_seq for a in r.actions() if isinstance(a, SendAdvert)] == [1]
