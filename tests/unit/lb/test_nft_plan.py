"""Scheduling under nftables: slot layouts, the scheduler mapping and its warnings."""

from __future__ import annotations

from collections import Counter
from ipaddress import ip_address

import pytest

from pykeepalived.lb import nft_plan
from pykeepalived.lb.model import SCHEDULERS, Destination, Service, Tunnel


def rs(last: int, weight: int = 1, method: str = "NAT") -> Destination:
    return Destination(address=ip_address(f"198.51.100.{last}"), port=80, weight=weight,
                       method=method)


def web(*dests: Destination, scheduler: str = "wrr", flags: tuple[str, ...] = ()) -> Service:
    return Service(protocol="TCP", address=ip_address("203.0.113.10"), port=80,
                   scheduler=scheduler, flags=flags, destinations=dests)


def test_wrr_sequence_is_ipvs_interleaving() -> None:
    assert nft_plan.wrr_sequence([1, 2, 3]) == [2, 1, 2, 0, 1, 2]
    assert nft_plan.wrr_sequence([1, 1, 1]) == [0, 1, 2]
    assert nft_plan.wrr_sequence([2, 0, 1]) == [0, 0, 2]
    assert nft_plan.wrr_sequence([0, 0]) == []


def test_weights_are_reduced_and_capped() -> None:
    assert nft_plan.reduced_weights([10, 20, 30]) == [1, 2, 3]
    assert nft_plan.reduced_weights([0, 5]) == [0, 1]
    big = nft_plan.reduced_weights([1, 100000, 50001])
    assert sum(big) <= nft_plan.MAX_SLOTS and big[0] == 1 and big[1] > big[2] > 1
    assert nft_plan.reduced_weights([0, 0]) == [0, 0]


def test_wrr_slots_follow_weights_and_skip_weight_zero() -> None:
    sched = nft_plan.schedule(web(), [rs(1, 2), rs(2, 0), rs(3, 4)])
    assert sched.picker == "numgen inc" and sched.scheduler == "wrr"
    assert Counter(sched.slots) == {0: 1, 2: 2}


def test_rr_ignores_weights_but_not_weight_zero() -> None:
    sched = nft_plan.schedule(web(scheduler="rr"), [rs(1, 5), rs(2, 0), rs(3, 1)])
    assert sched.slots == (0, 2) and sched.picker == "numgen inc"


@pytest.mark.parametrize(("asked", "runs_as"), [
    ("lc", "wrr"), ("wlc", "wrr"), ("sed", "wrr"), ("nq", "wrr"), ("twos", "wrr"),
    ("mh", "sh"), ("lblc", "dh"), ("lblcr", "dh"), ("ovf", "fo"), ("rr", "rr"),
    ("wrr", "wrr"), ("sh", "sh"), ("dh", "dh"), ("fo", "fo")])
def test_every_scheduler_has_a_mapping(asked: str, runs_as: str) -> None:
    assert nft_plan.effective_scheduler(web(scheduler=asked)) == runs_as
    assert nft_plan.schedule(web(scheduler=asked), [rs(1), rs(2, 2)]).scheduler == runs_as


def test_the_model_schedulers_are_all_mapped() -> None:
    assert set(SCHEDULERS) <= set(nft_plan.SCHEDULER_MAP)


def test_fo_goes_to_the_highest_weight() -> None:
    sched = nft_plan.schedule(web(scheduler="fo"), [rs(1, 2), rs(2, 7), rs(3, 7)])
    assert (sched.picker, sched.slots) == ("goto", (1,))
    assert nft_plan.schedule(web(scheduler="fo"), [rs(1, 0)]).slots == ()


def test_hash_schedulers() -> None:
    sh = nft_plan.schedule(web(scheduler="sh", flags=("sh-port",)), [rs(1), rs(2, 2)])
    assert (sh.picker, sh.fields, sh.slots, sh.flags) == ("jhash", "saddr . sport",
                                                          (0, 1, 1), ("sh-port",))
    mh = nft_plan.schedule(web(scheduler="mh", flags=("mh-fallback",)), [rs(1)])
    assert (mh.scheduler, mh.fields, mh.flags) == ("sh", "saddr", ("sh-fallback",))
    dh = nft_plan.schedule(web(scheduler="lblcr"), [rs(1), rs(2)])
    assert (dh.scheduler, dh.fields) == ("dh", "daddr")


def test_stateless_dr_hashes_instead_of_counting() -> None:
    sched = nft_plan.schedule(web(scheduler="wlc"), [rs(1), rs(2, 3)], stateless=True)
    assert (sched.scheduler, sched.flags, sched.picker, sched.fields) == (
        "sh", ("sh-port",), "jhash", "saddr . sport")
    assert Counter(sched.slots) == {0: 1, 1: 3}


def test_slot_ranges() -> None:
    assert nft_plan.slot_ranges([0, 0, 1, 2, 2, 2, 0]) == [(0, 1, 0), (2, 2, 1), (3, 5, 2),
                                                          (6, 6, 0)]
    assert nft_plan.slot_ranges([]) == []


def test_warnings_name_what_runs_differently() -> None:
    services = [
        web(rs(1), scheduler="wlc"),
        Service(protocol="TCP", address=ip_address("203.0.113.11"), port=80,
                scheduler="wlc", destinations=(rs(1),)),
        Service(protocol="UDP", address=ip_address("203.0.113.12"), port=53,
                scheduler="rr", flags=("ops", "flag-2"),
                destinations=(Destination(ip_address("198.51.100.5"), 53, u_threshold=9),
                              Destination(ip_address("192.0.2.9"), 53, method="TUN",
                                          tunnel=Tunnel()),
                              Destination(ip_address("198.51.100.6"), 53, method="DR"))),
        Service(protocol="TCP", address=None, port=0, fwmark=3, scheduler="sh",
                destinations=(rs(7, method="DR"),)),
    ]
    lines = nft_plan.compatibility_warnings(services)
    assert lines[0] == ("lvs_sched wlc runs as wrr under nftables: nftables keeps no "
                        "per-real-server connection counts; weights are kept "
                        "(TCP 203.0.113.10:80, TCP 203.0.113.11:80)")
    text = "\n".join(lines)
    assert "ops (one-packet scheduling)" in text
    assert "scheduler flag flag-2 has no nftables equivalent" in text
    assert "uthreshold / lthreshold are not enforced" in text
    assert ("lvs_method TUN cannot be expressed in nftables: real server not installed "
            "(192.0.2.9:53 of UDP 203.0.113.12:53)") in text
    assert "run as sh with sh-port there (UDP 203.0.113.12:53)" in text
    assert "DR for a firewall-mark service cannot be expressed" in text
    assert len(lines) == 7
    assert nft_plan.compatibility_warnings([web(rs(1), scheduler="wrr")]) == []
