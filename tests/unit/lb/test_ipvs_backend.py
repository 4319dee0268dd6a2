"""IpvsBackend against an in-memory IPVS that speaks the kernel's bytes: apply changes only
what differs, and only what pykeepalived installed."""

from __future__ import annotations

import errno
import socket
from dataclasses import replace
from ipaddress import ip_address

import pytest
from pyroute2.netlink.generic import ipvs as genl

from pykeepalived.lb.errors import LbError
from pykeepalived.lb.ipvs import IpvsBackend, plan
from pykeepalived.lb.model import Destination, Service, Tunnel
from tests.unit.lb.fake_ipvs import FakeIpvs, KernelDest, KernelService

NEW_SVC, SET_SVC, DEL_SVC = (genl.IPVS_CMD_NEW_SERVICE, genl.IPVS_CMD_SET_SERVICE,
                             genl.IPVS_CMD_DEL_SERVICE)
NEW_DEST, SET_DEST, DEL_DEST = (genl.IPVS_CMD_NEW_DEST, genl.IPVS_CMD_SET_DEST,
                                genl.IPVS_CMD_DEL_DEST)


def rs(last: int, weight: int = 1, port: int = 80, method: str = "NAT") -> Destination:
    return Destination(address=ip_address(f"198.51.100.{last}"), port=port, weight=weight,
                       method=method)


WEB = Service(protocol="TCP", address=ip_address("203.0.113.10"), port=80, scheduler="wrr",
              destinations=(rs(11), rs(12, 2), rs(13, 3)))
DNS6 = Service(protocol="UDP", address=ip_address("2001:db8::53"), port=53, family=6,
               scheduler="sh", flags=("sh-port",), persistence_timeout=120,
               persistence_granularity="64",
               destinations=(Destination(address=ip_address("2001:db8::11"), port=53,
                                         method="DR", u_threshold=50, l_threshold=5),
                             Destination(address=ip_address("192.0.2.7"), port=53,
                                         method="TUN",
                                         tunnel=Tunnel(type="gue", port=6080, csum="csum"))))
FWM = Service(protocol="TCP", address=None, port=0, fwmark=9, scheduler="rr",
              destinations=(rs(21, port=0, method="DR"),))


def operator_service(kernel: FakeIpvs) -> KernelService:
    """What `ipvsadm -A -t 203.0.113.99:22 -s rr; ipvsadm -a ... -r 198.51.100.50` leaves."""
    svc = KernelService(af=socket.AF_INET, protocol=6, addr="203.0.113.99", port=22, fwmark=0,
                        sched="rr", flags=0x2)
    svc.dests[("198.51.100.50", 22)] = KernelDest(socket.AF_INET, "198.51.100.50", 22, 0, 1,
                                                  0, 0)
    kernel.services[svc.key()] = svc
    return svc


def test_first_apply_installs_everything_and_reads_back_equal() -> None:
    kernel = FakeIpvs()
    backend = IpvsBackend(kernel)
    backend.apply([WEB, DNS6, FWM])
    assert kernel.commands() == [NEW_SVC, NEW_DEST, NEW_DEST, NEW_DEST,
                                 NEW_SVC, NEW_DEST, NEW_DEST, NEW_SVC, NEW_DEST]
    assert sorted(backend.read(), key=str) == sorted([WEB, DNS6, FWM], key=str)
    kweb = kernel.services[(socket.AF_INET, 6, "203.0.113.10", 80)]
    assert kweb.sched == "wrr"
    assert {k: d.weight for k, d in kweb.dests.items()} == {
        ("198.51.100.11", 80): 1, ("198.51.100.12", 80): 2, ("198.51.100.13", 80): 3}
    kdns = kernel.services[(socket.AF_INET6, 17, "2001:db8::53", 53)]
    assert kdns.timeout == 120 and kdns.flags & 0x1 and kdns.flags & 0x10
    tun = kdns.dests[("192.0.2.7", 53)]
    assert (tun.fwd, tun.tun_type, tun.tun_port, tun.tun_flags) == (2, 1, 6080, 1)
    assert kdns.dests[("2001:db8::11", 53)].u_thresh == 50


def test_same_list_again_sends_nothing() -> None:
    kernel = FakeIpvs()
    backend = IpvsBackend(kernel)
    backend.apply([WEB, DNS6, FWM])
    kernel.log.clear()
    backend.apply([WEB, DNS6, FWM])
    assert kernel.commands() == []


def test_weight_change_edits_one_destination_and_keeps_its_connections() -> None:
    kernel = FakeIpvs()
    backend = IpvsBackend(kernel)
    backend.apply([WEB])
    kweb = kernel.services[(socket.AF_INET, 6, "203.0.113.10", 80)]
    for dest in kweb.dests.values():
        dest.active = 7
    kernel.log.clear()
    backend.apply([replace(WEB, destinations=(rs(11), rs(12, 0), rs(13, 3)))])
    assert kernel.commands() == [SET_DEST]
    assert kweb.dests[("198.51.100.12", 80)].weight == 0
    assert {d.active for d in kweb.dests.values()} == {7}


def test_removed_destination_and_removed_service() -> None:
    kernel = FakeIpvs()
    backend = IpvsBackend(kernel)
    backend.apply([WEB, FWM])
    kernel.log.clear()
    backend.apply([replace(WEB, destinations=(rs(11), rs(13, 3)))])
    assert kernel.commands() == [DEL_SVC, DEL_DEST]
    assert ("fwm", socket.AF_INET, 9) not in kernel.services
    kweb = kernel.services[(socket.AF_INET, 6, "203.0.113.10", 80)]
    assert set(kweb.dests) == {("198.51.100.11", 80), ("198.51.100.13", 80)}


def test_scheduler_and_persistence_changes_edit_the_service_in_place() -> None:
    kernel = FakeIpvs()
    backend = IpvsBackend(kernel)
    backend.apply([WEB])
    kernel.log.clear()
    backend.apply([replace(WEB, scheduler="lc")])
    backend.apply([replace(WEB, scheduler="lc", persistence_timeout=600,
                           persistence_granularity="255.255.0.0")])
    assert kernel.commands() == [SET_SVC, SET_SVC]
    kweb = kernel.services[(socket.AF_INET, 6, "203.0.113.10", 80)]
    assert (kweb.sched, kweb.timeout, kweb.netmask_raw) == ("lc", 600, bytes([255, 255, 0, 0]))
    assert kweb.flags & 0x1


def test_operator_services_and_destinations_are_never_touched() -> None:
    kernel = FakeIpvs()
    theirs = operator_service(kernel)
    backend = IpvsBackend(kernel)
    backend.apply([WEB])
    # an operator adds a real server of their own to our service
    kweb = kernel.services[(socket.AF_INET, 6, "203.0.113.10", 80)]
    kweb.dests[("198.51.100.77", 80)] = KernelDest(socket.AF_INET, "198.51.100.77", 80, 0, 1,
                                                   0, 0)
    kernel.log.clear()
    backend.apply([replace(WEB, destinations=(rs(11),))])
    assert kernel.commands() == [DEL_DEST, DEL_DEST]
    assert set(kweb.dests) == {("198.51.100.11", 80), ("198.51.100.77", 80)}
    backend.apply([])
    assert list(kernel.services.values()) == [theirs]
    assert set(theirs.dests) == {("198.51.100.50", 22)}


def test_clear_removes_only_ours() -> None:
    kernel = FakeIpvs()
    theirs = operator_service(kernel)
    backend = IpvsBackend(kernel)
    backend.apply([WEB, DNS6])
    backend.clear()
    assert list(kernel.services.values()) == [theirs]
    assert backend.owned() == {}
    kernel.log.clear()
    backend.clear()  # nothing of ours left: nothing sent
    assert kernel.commands() == []


def test_after_restart_adopt_lets_apply_remove_last_runs_servers() -> None:
    kernel = FakeIpvs()
    IpvsBackend(kernel).apply([WEB])  # the previous run
    restarted = IpvsBackend(kernel)
    restarted.apply([replace(WEB, destinations=(rs(11),))])  # without adopt: left alone
    assert len(kernel.services[(socket.AF_INET, 6, "203.0.113.10", 80)].dests) == 3
    restarted.adopt([WEB])  # the configuration's full list
    restarted.apply([replace(WEB, destinations=(rs(11),))])
    assert set(kernel.services[(socket.AF_INET, 6, "203.0.113.10", 80)].dests) == {
        ("198.51.100.11", 80)}


def test_taken_over_service_keeps_foreign_destinations() -> None:
    kernel = FakeIpvs()
    theirs = operator_service(kernel)
    backend = IpvsBackend(kernel)
    ssh = Service(protocol="TCP", address=ip_address("203.0.113.99"), port=22, scheduler="wrr",
                  destinations=(rs(51, port=22),))
    backend.apply([ssh])
    assert kernel.commands() == [SET_SVC, NEW_DEST]
    assert theirs.sched == "wrr" and len(theirs.dests) == 2


def test_kernel_refusal_names_the_step() -> None:
    kernel = FakeIpvs()
    backend = IpvsBackend(kernel)
    kernel.fail_on = errno.ENOENT
    with pytest.raises(LbError, match=r"IPVS: adding service TCP 203\.0\.113\.10:80: "
                                      r"scheduler not found"):
        backend.apply([WEB])
    backend.apply([WEB])
    kernel.fail_on = errno.EINVAL
    with pytest.raises(LbError, match=r"changing real server 198\.51\.100\.12:80 of "
                                      r"TCP 203\.0\.113\.10:80: Invalid argument"):
        backend.apply([replace(WEB, destinations=(rs(11), rs(12, 5), rs(13, 3)))])


def test_duplicates_are_refused_before_anything_is_sent() -> None:
    kernel = FakeIpvs()
    with pytest.raises(LbError, match="listed twice"):
        IpvsBackend(kernel).apply([WEB, replace(WEB, scheduler="rr")])
    with pytest.raises(LbError, match="real server is listed twice"):
        IpvsBackend(kernel).apply([replace(WEB, destinations=(rs(11), rs(11, 4)))])
    assert kernel.commands() == []


def test_plan_is_pure() -> None:
    kernel = {WEB.key(): WEB}
    ops = plan(kernel, [replace(WEB, destinations=(rs(11), rs(12, 2), rs(14)))],
               {WEB.key(): {(ip_address("198.51.100.13"), 80)}})
    assert [(op.cmd, op.dest) for op in ops] == [(DEL_DEST, rs(13, 3)), (NEW_DEST, rs(14))]


def test_close_closes_the_transport() -> None:
    kernel = FakeIpvs()
    backend = IpvsBackend(kernel)
    backend.close()
    assert kernel.closed
