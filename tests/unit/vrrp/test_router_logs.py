"""What the core tells the operator: log lines and the reasons carried by state changes.

Operators grep keepalived's log lines ("(VI_1) Entering MASTER STATE", "Receive advertisement
timeout"...), so pykeepalived's lines keep keepalived's wording, with every field filled in
(instance name, peer address, the numbers compared). Each line below is pinned in full:
a line with a field missing or the wrong number in it is a wrong line. Added from mutation
testing (scripts/mutation).
"""

from __future__ import annotations

import logging
from ipaddress import IPv4Address, IPv6Address

import pytest

from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import GroupStateChange, State, StateChange
from pykeepalived.vrrp.fsm import Event
from pykeepalived.vrrp.router import VirtualRouter
from pykeepalived.vrrp.sync_group import SyncGroup
from pykeepalived.vrrp.tracking import Tracked
from tests.unit.vrrp.helpers import (
    ME,
    PEER_HIGH,
    PEER_LOW,
    advert,
    router,
    started_backup,
    started_master,
)

LOGGER = "pykeepalived.vrrp"


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return caplog


def logged(caplog: pytest.LogCaptureFixture, level: int | None = None) -> list[str]:
    """The messages of the core's logger (at ``level`` only, when given), oldest first."""
    return [r.getMessage() for r in caplog.records
            if r.name == LOGGER and (level is None or r.levelno == level)]


def reasons(r: VirtualRouter) -> list[str]:
    return [a.reason for a in r.actions() if isinstance(a, StateChange)]


# --- configuration warnings (keepalived vrrp_complete_instance) -----------------------------

@pytest.mark.parametrize(("options", "line"), [
    ({"family": 6, "version": 2, "vips": ("2001:db8::100",),
      "primary_address": IPv6Address("fe80::2")},
     "(VI_1) VRRPv2 is IPv4 only; using version 3"),
    ({"strict": True, "auth_type": "PASS", "auth_pass": "x"},
     "(VI_1) Strict mode does not support authentication. Ignoring."),
    ({"version": 3, "auth_type": "AH", "auth_pass": "x"},
     "(VI_1) VRRP version 3 does not support authentication. Ignoring."),
], ids=["v2-ipv6", "strict-auth", "v3-auth"])
def test_configuration_warnings(lines: pytest.LogCaptureFixture, options: dict[str, object],
                                line: str) -> None:
    r = router(**options)
    assert logged(lines, logging.WARNING) == [line]
    assert r.auth_type == packet.AUTH_NONE


def test_core_logs_to_its_own_logger(lines: pytest.LogCaptureFixture) -> None:
    """One logger per package (GUIDE): the core's lines come from "pykeepalived.vrrp"."""
    r = router(family=6, version=2, vips=("2001:db8::100",))
    assert r.log.name == LOGGER
    group = SyncGroup("G1", [r])
    assert group.log.name == LOGGER
    assert SyncGroup.solo(router()).log.name == LOGGER
    mine = logging.getLogger("test.mine")
    assert SyncGroup.solo(VirtualRouter(router().config, mine)).log is mine


# --- timers, faults, priority ---------------------------------------------------------------

def test_timeout_fault_and_priority_lines(lines: pytest.LogCaptureFixture) -> None:
    r = started_backup(0.0, tracking=(Tracked("file f", weight=10, is_file=True),
                                      Tracked("script chk")))
    r.track("script chk", True, 0.5)
    r.track("file f", 3, 1.0)
    r.track("script chk", False, 2.0)
    r.track("script chk", True, 3.0)
    r.set_fault("socket", "cannot send on eth0", 4.0)
    r.clear_fault("socket", 5.0)
    r.handle_timer(r.get_timer() or 0.0)
    assert logged(lines, logging.INFO) == [
        "(VI_1) Changing effective priority from 100 to 130",
        "(VI_1) tracked object failed: script chk",
        "(VI_1) tracked object failed: cannot send on eth0",
        "(VI_1) Receive advertisement timeout",
    ]


def test_preempt_delay_line(lines: pytest.LogCaptureFixture) -> None:
    r = started_backup(0.0, priority=150, preempt_delay=2.5)
    r.receive_advert(advert(100), PEER_LOW, 1.0)
    assert logged(lines, logging.INFO) == ["(VI_1) start preempt delay (2.50)"]


def test_ignored_event_line(lines: pytest.LogCaptureFixture) -> None:
    r = started_backup(0.0)
    r.set_fault("link", "link", 1.0)
    r.actions()
    lines.clear()
    r.group_event(Event.GROUP_MASTER, 2.0, "group")
    assert r.state is State.FAULT and r.actions() == []
    assert logged(lines, logging.DEBUG) == ["(VI_1) sync group moves to MASTER ignored in FAULT"]


# --- receiving (RFC 5798 6.4.2, 6.4.3) ----------------------------------------------------------

def test_backup_receive_lines(lines: pytest.LogCaptureFixture) -> None:
    r = started_backup(0.0, priority=150)
    r.receive_advert(advert(100), PEER_LOW, 1.0)
    r.receive_advert(advert(0), PEER_LOW, 2.0)
    assert logged(lines) == [
        "(VI_1) received lower priority (100) advert from 192.0.2.1 - discarding",
        "(VI_1) Backup received priority 0 advertisement",
    ]


def test_master_receive_lines(lines: pytest.LogCaptureFixture) -> None:
    r = started_master(0.0)
    lines.clear()
    r.receive_advert(advert(0), PEER_HIGH, 10.0)
    r.receive_advert(advert(50), PEER_HIGH, 10.1)
    r.receive_advert(advert(100), ME, 10.2)
    r.receive_advert(advert(150), PEER_LOW, 10.3)
    assert logged(lines) == [
        "(VI_1) Master received priority 0 message",
        "(VI_1) Received advert from 192.0.2.3 with lower priority 50, ours 100, "
        "forcing new election",
        "(VI_1) WARNING - equal priority advert received from remote host with our IP "
        "address.",
        "(VI_1) Master received advert from 192.0.2.1 with higher priority 150, ours 100",
    ]
    quiet = started_master(0.0, lower_prio_no_advert=True)
    lines.clear()
    quiet.receive_advert(advert(50), PEER_HIGH, 10.0)
    assert logged(lines) == ["(VI_1) Received advert from 192.0.2.3 with lower priority 50, "
                             "ours 100"]
    equal = started_master(0.0)
    lines.clear()
    equal.receive_advert(advert(100), PEER_HIGH, 10.0)
    assert logged(lines) == ["(VI_1) Master received advert from 192.0.2.3 with same priority "
                             "but higher IP address; priority 100, ours 100"]


def test_two_owners_line(lines: pytest.LogCaptureFixture) -> None:
    r = router(priority=255)
    r.start(0.0)
    r.receive_advert(advert(255), PEER_LOW, 1.0)
    assert logged(lines, logging.ERROR) == [
        "(VI_1) CONFIGURATION ERROR: local instance and a remote instance are both "
        "configured as address owner, please fix - reducing local priority"]
    # the tracking arithmetic follows the lowered base priority
    assert r.tracking.base_priority == 254 and r.tracking.effective_priority() == 254


# --- drops: keepalived's "packet dropped" lines --------------------------------------------------

V6_SOURCE = IPv6Address("fe80::9")
OTHER_VIPS = (IPv4Address("192.0.2.98"), IPv4Address("192.0.2.99"))


@pytest.mark.parametrize(("options", "sent", "rx", "line"), [
    ({}, {"vrid": 52}, {}, "(VI_1) advert for VRID 52 from 192.0.2.3, ours is 51"),
    ({}, {"addresses": (IPv6Address("2001:db8::1"),)}, {"source": V6_SOURCE},
     "(VI_1) IPv6 advert from fe80::9 on an IPv4 instance"),
    ({}, {}, {"ttl": 64}, "(VI_1) invalid TTL/HL from 192.0.2.3. Received 64 and expect 255"),
    ({}, {"version": 3}, {}, "(VI_1) wrong VRRP version from 192.0.2.3. Received 3 and "
     "expect 2"),
    ({}, {}, {"ah_seq": 5}, "(VI_1) Received AH header from 192.0.2.3"),
    ({"auth_type": "AH", "auth_pass": "k"}, {"auth_type": 2}, {},
     "(VI_1) No AH header from 192.0.2.3"),
    ({}, {"auth_type": 7}, {}, "(VI_1) Invalid auth type from 192.0.2.3: 7"),
    ({}, {"auth_type": 1, "auth_data": b"pw"}, {},
     "(VI_1) received a 1 auth from 192.0.2.3, expecting 0!"),
    ({"auth_type": "PASS", "auth_pass": "secret"}, {"auth_type": 1, "auth_data": b"guess"}, {},
     "(VI_1) received an invalid passwd from 192.0.2.3!"),
    ({}, {"interval": 3}, {}, "(VI_1) advertisement interval mismatch mine=1 sec rcv'd=3 sec"),
    ({}, {"addresses": ()}, {}, "(VI_1) received an unexpected ip number count 0, expected 1!"),
    ({"vips": ("192.0.2.100", "192.0.2.101")}, {"addresses": OTHER_VIPS}, {},
     "(VI_1) ip address associated with VRID 51 not present in advert from 192.0.2.3: "
     "192.0.2.100, 192.0.2.101"),
], ids=["vrid", "family", "ttl", "version", "ah-unexpected", "ah-missing", "authtype-invalid",
        "authtype", "passwd", "interval", "addr-count", "addr-list"])
def test_drop_lines(lines: pytest.LogCaptureFixture, options: dict[str, object],
                    sent: dict[str, object], rx: dict[str, object], line: str) -> None:
    r = started_backup(0.0, **options)
    lines.clear()
    rx = dict(rx)  # the parameters are shared between runs: leave them as they are
    source = rx.pop("source", PEER_HIGH)
    assert isinstance(source, IPv4Address | IPv6Address)
    r.receive_advert(advert(150, **sent), source, 1.0, **rx)  # type: ignore[arg-type]
    assert logged(lines) == [line]
    assert r.master_address is None and r.get_timer() == 3.609375  # nothing learnt


def test_ah_replay_line(lines: pytest.LogCaptureFixture) -> None:
    r = started_backup(0.0, auth_type="AH", auth_pass="k")
    r.receive_advert(advert(150, auth_type=2), PEER_HIGH, 1.0, ah_seq=5)
    r.receive_advert(advert(150, auth_type=2), PEER_HIGH, 2.0, ah_seq=5)
    assert logged(lines) == ["(VI_1) IPSEC-AH : sequence number 5 already processed. Packet "
                             "dropped. Local(5)"]


def test_v3_interval_mismatch_is_logged_not_dropped(lines: pytest.LogCaptureFixture) -> None:
    """RFC 5798 6.4.2: a v3 backup adopts the master's interval; keepalived only logs the
    difference, under its own rate limit."""
    r = started_backup(0.0, version=3)
    r.receive_advert(advert(150, version=3, interval=2.0), PEER_HIGH, 1.0)
    r.receive_advert(advert(150, version=3, interval=2.0), PEER_HIGH, 2.0)
    assert logged(lines) == ["(VI_1) advertisement interval mismatch ours = 100 centi-sec "
                             "rcv'd=200 centi-sec"]
    assert r.stats.advert_rcvd == 2 and r.master_adver_int == 2.0
    # its rate limit is its own: a v2-style interval drop would still be logged
    r.receive_advert(advert(150, version=3, vrid=9), PEER_HIGH, 3.0)
    assert logged(lines)[-1] == "(VI_1) advert for VRID 9 from 192.0.2.3, ours is 51"


def test_invalid_datagram_line(lines: pytest.LogCaptureFixture) -> None:
    r = started_backup(0.0)
    r.receive_invalid("checksum", 1.0)
    r.receive_invalid("truncated", 1.5)
    r.receive_invalid("checksum", 2.0)  # rate-limited: one line a minute per reason
    r.receive_invalid("checksum", 60.9)
    assert logged(lines) == [
        "(VI_1) dropped invalid VRRP packet: checksum (chk_err)",
        "(VI_1) dropped invalid VRRP packet: truncated (packet_len_err)",
    ]
    r.receive_invalid("checksum", 61.0)  # a minute after the last line
    assert logged(lines)[2:] == ["(VI_1) dropped invalid VRRP packet: checksum (chk_err) "
                                 "(2 similar packets dropped without a log line)"]
    r.receive_invalid("checksum", 62.0)
    r.receive_invalid("checksum", 121.0)
    assert logged(lines)[3:] == ["(VI_1) dropped invalid VRRP packet: checksum (chk_err) "
                                 "(1 similar packets dropped without a log line)"]
    assert r.stats.chk_err == 6 and r.stats.packet_len_err == 1


# --- the reasons carried by state changes --------------------------------------------------------

def test_state_change_reasons() -> None:
    assert reasons(started(router())) == ["startup"]
    assert reasons(started(router(priority=255))) == ["startup as address owner"]
    resumed = router()
    resumed.start(0.0, resume_master=True)
    assert reasons(resumed) == ["resumed as master after reload"]
    held = router(priority=255)
    held.start(0.0, allow_master=False)
    assert reasons(held) == ["startup, sync group not ready"]
    faulty = router()
    faulty.set_fault("socket", "cannot send", 0.0)
    faulty.set_fault("link", "interface eth0 down", 0.0)
    faulty.start(0.0)
    assert reasons(faulty) == ["fault at startup: cannot send, interface eth0 down"]
    faulty.clear_fault("socket", 1.0)
    faulty.clear_fault("link", 1.0)
    assert reasons(faulty) == ["tracked objects recovered"]
    faulty.set_fault("link", "interface eth0 down", 2.0)
    faulty.set_fault("socket", "cannot send", 2.0)
    assert reasons(faulty) == ["fault: interface eth0 down"]
    backup = started_backup(0.0)
    backup.handle_timer(backup.get_timer() or 0.0)
    assert reasons(backup) == ["master down timer expired"]
    backup.receive_advert(advert(200), PEER_LOW, 10.0)
    assert reasons(backup) == ["higher priority advert from 192.0.2.1"]
    backup.shutdown(11.0)
    assert reasons(backup) == ["shutdown"]
    member = started_master(0.0)
    member.group_event(Event.GROUP_BACKUP, 5.0, "sync group G1: VI_2")
    assert reasons(member) == ["sync group G1: VI_2"]


def started(r: VirtualRouter) -> VirtualRouter:
    r.start(0.0)
    return r


# --- sync groups -------------------------------------------------------------------------------

def test_group_lines_and_reasons(lines: pytest.LogCaptureFixture) -> None:
    a = router(name="VI_A", garp_master_delay=0, garp_master_repeat=1)
    b = router(name="VI_B", vrid=52, vips=("192.0.2.101/24",), garp_master_delay=0,
               garp_master_repeat=1)
    g = SyncGroup("G1", [a, b])
    out = g.start(0.0)
    g.handle_timer(a, 10.0)
    out += g.handle_timer(b, 10.0)
    out += g.set_fault(a, "link", "link", 20.0)
    out += g.clear_fault(a, "link", 21.0)
    out += g.shutdown(30.0)
    group = [(c.group, c.old.value, c.new.value, c.reason) for _r, c in out
             if isinstance(c, GroupStateChange)]
    assert group == [("G1", "INIT", "BACKUP", "startup"),
                     ("G1", "BACKUP", "MASTER", "sync group G1: VI_B"),
                     ("G1", "MASTER", "FAULT", "sync group G1: VI_A"),
                     ("G1", "FAULT", "BACKUP", "sync group G1: VI_A"),
                     ("G1", "BACKUP", "STOP", "shutdown")]
    pulled = [(r.name, c.reason) for r, c in out
              if r is not None and isinstance(c, StateChange) and c.reason.startswith("sync")]
    assert pulled == [("VI_A", "sync group G1: VI_B"), ("VI_B", "sync group G1: VI_A"),
                      ("VI_B", "sync group G1: VI_A")]
    assert logged(lines, logging.INFO).count("VRRP_Group(G1) Syncing instances to MASTER "
                                             "state") == 1
    assert "VRRP_Group(G1) Syncing instances to FAULT state" in logged(lines, logging.INFO)
    assert "VRRP_Group(G1) Syncing instances to BACKUP state" in logged(lines, logging.INFO)


def test_group_of_one_warns(lines: pytest.LogCaptureFixture) -> None:
    """keepalived warns about a vrrp_sync_group with a single instance; a solo instance
    (no group) is no such group and gets no warning."""
    SyncGroup("G1", [router()])
    assert logged(lines, logging.WARNING) == [
        "Sync group G1 has only 1 virtual router(s) - this probably isn't what you want"]
    lines.clear()
    SyncGroup.solo(router())
    SyncGroup("G2", [router(), router(name="VI_2", vrid=52)])
    assert logged(lines, logging.WARNING) == []
    with pytest.raises(ValueError, match=r"^sync group G3: no virtual router$"):
        SyncGroup("G3", [])
