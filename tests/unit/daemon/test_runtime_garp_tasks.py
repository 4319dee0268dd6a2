"""Spaced gratuitous ARP rounds (vrrp_garp_interval): the task of each round is held until it ends,
and cancelled at clean-up; an instance that never spaces its rounds holds no task set."""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Address

from pykeepalived.daemon.vrrp_main import VrrpProcess
from pykeepalived.vrrp.actions import State
from tests.unit.daemon.keyword_helpers import load

CONF = """
global_defs {
    vrrp_garp_interval 0.5
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 255
    advert_int 1
    virtual_ipaddress {
        192.0.2.10/24
    }
}
"""


def test_a_spaced_round_is_held_until_cleanup_cancels_it() -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        proc = VrrpProcess(load(CONF))
        proc.build()
        rt = proc.instances["VI_1"]
        rt.own_addresses = (IPv4Address("192.0.2.1"),)
        assert rt.plan.garp_interval == 0.5
        assert rt.garp_tasks is None  # nothing allocated before the first spaced round
        for group in proc.all_groups():
            group.start(0.0)  # the address owner (priority 255) is MASTER at once
        assert rt.router.state is State.MASTER
        rt.gratuitous_round()
        assert rt.garp_tasks is not None and len(rt.garp_tasks) == 1
        (task,) = rt.garp_tasks
        rt.cleanup(release_vips=False)
        loop.run_until_complete(asyncio.sleep(0))
        assert task.cancelled()
        assert not rt.garp_tasks  # the ended round let go of its task
        proc.tracker.stop()
        proc.scheduler.close()
    finally:
        asyncio.set_event_loop(None)
        loop.close()
