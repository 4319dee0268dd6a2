"""Nothing of ours is left on the host after a stop, however the VRRP child ended.

r1 (priority 150) is MASTER of two instances with a VMAC, a virtual route and rule and
vrrp_strict's nftables table; r2 (priority 100) is its peer. The VRRP child of r1 is killed
with SIGKILL and the parent is sent TERM at the awkward moments: while it waits to respawn
the child, while the new child starts (before its signal handlers are in place), and right
after the kill. Each time r2 must end up the only holder of the VIPs, and r1 must have none
of them, nor the VMAC, the route, the rule or the nftables table. Each timing is a race, so
each runs a few times.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Host, Lab, wait_for
from tests.daemons import Daemon, holders, instance, start_pykeepalived, write_conf

pytestmark = pytest.mark.netns

VIP1, VIP2 = "192.0.2.10", "192.0.2.20"
REPEAT = 3
SIGTERM_BIT = 1 << (signal.SIGTERM - 1)

R1_EXTRA = """
    virtual_routes {
        198.51.100.0/25 via 192.0.2.254 dev eth0
    }
    virtual_rules {
        from 192.0.2.20/32 table 100 preference 100
    }
"""


def config(host: Host, priority: int, *, vmac: bool) -> str:
    return (f"global_defs {{\n router_id {host.name}\n vrrp_strict\n}}\n"
            + instance("VI_1", vrid=51, priority=priority, vip=f"{VIP1}/24",
                       extra="use_vmac" if vmac else "")
            + instance("VI_2", vrid=52, priority=priority, vip=f"{VIP2}/24", extra=R1_EXTRA))


def leftovers(host: Host) -> list[str]:
    """What of r1's configuration is on ``host`` now."""
    found = []
    addresses = host.addresses()
    found += [vip for vip in (VIP1, VIP2) if vip in addresses]
    if "vrrp.51" in host.run("ip", "-o", "link", "show"):
        found.append("VMAC vrrp.51")
    if "198.51.100.0/25" in host.run("ip", "-4", "route", "show", "table", "all"):
        found.append("virtual route")
    if "from 192.0.2.20 lookup 100" in host.run("ip", "-4", "rule", "show"):
        found.append("virtual rule")
    if "keepalived" in host.run("nft", "list", "tables"):
        found.append("nftables table")
    return found


def child_pid(daemon: Daemon) -> int:
    path = daemon.log_path.parent / "vrrp.pid"
    assert wait_for(lambda: path.exists() and path.read_text().strip().isdigit(), 10)
    return int(path.read_text())


def catches_sigterm(pid: int) -> bool | None:
    """Whether ``pid`` has a handler for SIGTERM (None: no such process)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & SIGTERM_BIT)
    except OSError:
        return None
    return None


def term_during_backoff(daemon: Daemon, child: int) -> bool:
    before = daemon.log().count("Respawning vrrp child")
    daemon.host.run("kill", "-9", str(child))
    assert wait_for(lambda: daemon.log().count("Respawning vrrp child") > before, 5), \
        daemon.log()
    daemon.signal(signal.SIGTERM)
    return True


def term_while_child_starts(daemon: Daemon, child: int) -> bool:
    """True when TERM went out while the new child had no SIGTERM handler yet."""
    starts = re.compile(r"Starting VRRP child process, pid=(\d+)")
    before = len(starts.findall(daemon.log()))
    daemon.host.run("kill", "-9", str(child))
    new: list[int] = []

    def started() -> bool:
        pids = starts.findall(daemon.log())
        new[:] = [int(p) for p in pids[before:]]
        return bool(new)

    assert wait_for(started, 10, interval=0.002), daemon.log()
    early = catches_sigterm(new[0]) is False
    daemon.signal(signal.SIGTERM)
    return early


def term_right_after_kill(daemon: Daemon, child: int) -> bool:
    daemon.host.run("sh", "-c", f"kill -9 {child}; kill -TERM {daemon.proc.pid}")
    return True


@pytest.mark.parametrize("timing", [term_during_backoff, term_while_child_starts,
                                    term_right_after_kill],
                         ids=["backoff", "starting", "after-kill"])
def test_stop_after_a_killed_child_leaves_nothing(lab: Lab, tmp_path: Path,
                                                   timing: Callable[[Daemon, int], bool]) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    r2 = lab.add_host("r2", [["192.0.2.2/24"]], ipv6=False)
    hosts = {"r1": r1, "r2": r2}
    peer = start_pykeepalived(r2, write_conf(tmp_path, "r2", config(r2, 100, vmac=False)),
                              tmp_path)
    conf1 = write_conf(tmp_path, "r1", config(r1, 150, vmac=True))
    hits = 0
    try:
        assert wait_for(lambda: holders(hosts, VIP1) == ["r2"], 10), peer.log()
        for attempt in range(REPEAT):
            run_dir = tmp_path / "py-r1"
            for stale in ("ka.pid", "vrrp.pid", "log"):
                (run_dir / stale).unlink(missing_ok=True)
            d1 = start_pykeepalived(r1, conf1, tmp_path)
            try:
                assert wait_for(lambda: holders(hosts, VIP1) == ["r1"]
                                and holders(hosts, VIP2) == ["r1"], 15), d1.log()
                assert wait_for(lambda: len(leftovers(r1)) == 6, 5), (leftovers(r1), d1.log())
                hits += timing(d1, child_pid(d1))
                d1.proc.wait(timeout=20)
            finally:
                d1.stop()
            what = f"attempt {attempt}: {leftovers(r1)}\n{d1.log()}"
            assert leftovers(r1) == [], what
            assert wait_for(lambda: holders(hosts, VIP1) == ["r2"]
                            and holders(hosts, VIP2) == ["r2"], 5), what + peer.log()
            time.sleep(0.3)
            assert holders(hosts, VIP1) == holders(hosts, VIP2) == ["r2"]
    finally:
        peer.stop()
    print(f"{timing.__name__}: race hit {hits} of {REPEAT}")
    assert hits >= 1, "the race was never hit"
    assert leftovers(r2) == []


def test_dont_release_vrrp_keeps_addresses_routes_and_rules(lab: Lab, tmp_path: Path) -> None:
    """-V after a killed child: the VIPs (on eth0), route and rule stay, as at a clean stop
    with -V; the VMAC and the nftables table go, as they do then too."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    d1 = start_pykeepalived(r1, write_conf(tmp_path, "r1", config(r1, 150, vmac=True)),
                            tmp_path, "-V")
    try:
        assert wait_for(lambda: len(leftovers(r1)) == 6, 15), (leftovers(r1), d1.log())
        term_during_backoff(d1, child_pid(d1))
        d1.proc.wait(timeout=20)
    finally:
        d1.stop()
    assert leftovers(r1) == [VIP2, "virtual route", "virtual rule"], d1.log()
    assert "removing the VMACs and nftables table (-V)" in d1.log()
