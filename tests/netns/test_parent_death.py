"""A daemon whose parent is killed leaves no VRRP child running, as keepalived does.

kill -9 of the parent (or the OOM killer) must not leave an orphaned VRRP child: it would keep
its VIPs and advertise as master with nothing to reload or stop it, and hold its pid file, so
that the daemon started again (a supervisor's restart) could not run a child of its own (found
by the chaos soak, tests/chaos). keepalived 2.2.7's child stops at once, the ordinary way:
priority-0 adverts, VIPs removed. The same test runs against it.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab, wait_for
from tests.chaos.topology import pid_alive, read_pid
from tests.daemons import holders, instance, start_keepalived, start_pykeepalived, write_conf

pytestmark = pytest.mark.netns

VIP = "192.0.2.10"


def conf(name: str, priority: int) -> str:
    return (f"global_defs {{\n router_id {name}\n}}\n"
            + instance(priority=priority, vip=f"{VIP}/24", advert="0.2"))


@pytest.mark.parametrize("kind", ["pykeepalived", "keepalived"])
def test_killed_parent_takes_its_vrrp_child_along(lab: Lab, tmp_path: Path, kind: str) -> None:
    if kind == "keepalived" and shutil.which("keepalived") is None:
        pytest.skip("needs Debian's keepalived")
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    r2 = lab.add_host("r2", [["192.0.2.2/24"]], ipv6=False)
    hosts = {"r1": r1, "r2": r2}
    start = start_pykeepalived if kind == "pykeepalived" else start_keepalived
    conf1 = write_conf(tmp_path, "r1", conf("r1", 150))
    peer = start_pykeepalived(r2, write_conf(tmp_path, "r2", conf("r2", 100)), tmp_path)
    d1 = start(r1, conf1, tmp_path)
    run_dir = d1.log_path.parent
    try:
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 15), d1.log() + peer.log()
        parent = read_pid(run_dir / "ka.pid")
        child = read_pid(run_dir / "vrrp.pid")
        assert parent == d1.proc.pid and child is not None and pid_alive(child)
        os.kill(parent, signal.SIGKILL)
        d1.proc.wait(timeout=5)
        assert wait_for(lambda: not pid_alive(child), 5), \
            f"VRRP child {child} outlived its parent\n{d1.log()}"
        # it stopped the ordinary way: a priority-0 advert, so r2 took over at once, and
        # its VIP is gone from r1
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 5), d1.log() + peer.log()
        assert peer.wait_log("Backup received priority 0 advertisement", 5), peer.log()
        # a restart (a supervisor's) runs a child of its own and takes the VIP back
        d1 = start(r1, conf1, tmp_path, append=True)
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 15), d1.log()
        assert read_pid(run_dir / "vrrp.pid") not in (None, child)
    finally:
        d1.stop()
        peer.stop()
