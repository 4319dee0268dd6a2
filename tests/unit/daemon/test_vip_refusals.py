"""A VIP the kernel refuses (an injected netlink error on the exact path: VipBatch.flush ->
AddressManager.add_many -> InstanceRuntime.vips_added).

The instance goes on with the other addresses, as keepalived 2.2.7 does; the refusal is
logged once with the address and errno (not at every install), its end too; status and the
USR1 dump show which VIPs are really there. tests/netns/test_resource_faults_vips.py makes the
kernel refuse for real.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from collections.abc import Iterable, Iterator

import pytest

from pykeepalived.daemon.dumps import _instance_lines
from pykeepalived.daemon.kernel import FirewallWorker, VipBatch
from pykeepalived.daemon.runtime import InstanceRuntime
from pykeepalived.net.addresses import AddressError, VipSpec
from pykeepalived.notify.notifier import Notifier
from pykeepalived.notify.script import ScriptRunner

from .keyword_helpers import plan

CONF = """
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.0.2.10/24
        198.51.100.10/24 dev eth1
    }
    virtual_ipaddress_excluded {
        2001:db8::10/64
    }
}
"""


class Addresses:
    """An AddressManager whose kernel refuses the addresses in ``refuse`` (CIDR -> errno)."""

    def __init__(self) -> None:
        self.refuse: dict[str, int] = {}
        self.added: list[str] = []

    def add_many(self, specs: Iterable[VipSpec]) -> None:
        failures = []
        for spec in specs:
            code = self.refuse.get(spec.address)
            if code is None:
                self.added.append(spec.address)
            else:
                failures.append((spec, code, os.strerror(code)))
        if failures:
            raise AddressError(f"{len(failures)} VIP additions failed", failures)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    the_loop = asyncio.new_event_loop()
    yield the_loop
    the_loop.close()


def runtime(loop: asyncio.AbstractEventLoop, addresses: Addresses) -> tuple[InstanceRuntime,
                                                                             VipBatch]:
    batch = VipBatch(loop, addresses)  # type: ignore[arg-type]
    rt = InstanceRuntime(plan(CONF), loop=loop, batch=batch, firewall=FirewallWorker(),
                         notifier=Notifier(ScriptRunner(), None))
    return rt, batch


def install(rt: InstanceRuntime, batch: VipBatch) -> None:
    batch.add(rt)
    batch.flush()


def test_a_refused_vip_is_logged_once_and_reported_missing(
        loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    addresses = Addresses()
    addresses.refuse = {"2001:db8::10/64": errno.EACCES, "198.51.100.10/24": errno.ENODEV}
    rt, batch = runtime(loop, addresses)
    for _ in range(3):  # three MASTER transitions, the same refusals
        install(rt, batch)
    errors = sorted(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert errors == [
        "(VI_1) cannot add VIP 198.51.100.10/24 on eth1: No such device (errno 19, ENODEV) "
        "- going on without it",
        "(VI_1) cannot add VIP 2001:db8::10/64 on eth0: Permission denied (errno 13, EACCES) "
        "- going on without it"]
    assert rt.vips_installed  # the instance holds what it could install
    assert [(v["address"], v["installed"], v["error"]) for v in rt.vips_status()] == [
        ("192.0.2.10/24", True, None),
        ("198.51.100.10/24", False, "No such device (errno 19, ENODEV)"),
        ("2001:db8::10/64", False, "Permission denied (errno 13, EACCES)")]
    vips = [line for line in _instance_lines("VI_1", rt) if line.startswith("     ")]
    assert vips == ["     192.0.2.10/24 dev eth0 scope global set",
                    "     198.51.100.10/24 dev eth1 scope global",
                    "     2001:db8::10/64 dev eth0 scope global"]

    caplog.clear()
    addresses.refuse = {"198.51.100.10/24": errno.ENODEV}  # IPv6 came back
    install(rt, batch)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == [
        "(VI_1) VIP 2001:db8::10/64 added on eth0 (it had been refused: Permission denied "
        "(errno 13, EACCES))"]
    assert [v["installed"] for v in rt.vips_status()] == [True, False, True]


def test_a_failed_batch_leaves_no_vip_reported_installed(
        loop: asyncio.AbstractEventLoop) -> None:
    class Broken(Addresses):
        def add_many(self, specs: Iterable[VipSpec]) -> None:
            raise OSError(errno.ENOBUFS, os.strerror(errno.ENOBUFS))

    rt, batch = runtime(loop, Broken())
    install(rt, batch)
    assert [v["installed"] for v in rt.vips_status()] == [False, False, False]
    assert {v["error"] for v in rt.vips_status()} == {
        "No buffer space available (errno 105, ENOBUFS)"}


def test_the_interface_of_each_vip_is_tracked_as_keepalived_does() -> None:
    """keepalived 2.2.7 puts an instance in FAULT when the interface of a ``dev`` VIP goes
    (TRACK_ADDR); ``no_track`` on the address, or dont_track_primary for the instance's own
    interface, leaves it out."""
    tracked = [t.obj for t in plan(CONF).tracking]
    assert tracked == ["interface eth0", "interface eth1"]
    no_track = CONF.replace("198.51.100.10/24 dev eth1", "198.51.100.10/24 dev eth1 no_track")
    assert [t.obj for t in plan(no_track).tracking] == ["interface eth0"]
    primary = CONF.replace("advert_int 1", "advert_int 1\n    dont_track_primary")
    assert [t.obj for t in plan(primary).tracking] == ["interface eth1"]
    assert all(t.weight == 0 for t in plan(CONF).tracking)  # down or gone: FAULT
