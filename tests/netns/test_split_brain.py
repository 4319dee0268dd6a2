"""Split brain and heal: a partition makes a master on each side; the heal leaves one.

The partition detaches a node's port from the bridge (``nomaster``): its link keeps carrier, so
its daemon sees no fault, hears no adverts, and becomes MASTER on its side, as on a real network
split. On the heal the two masters hear each other, and within one Master_Down_Interval (plus
a margin for the test's own polling) exactly one is left: the one with the highest priority,
or with equal priorities the one with the higher primary IP address (RFC 3768 6.4.3 / RFC 5798
6.4.3). The other keeps no VIP afterwards. Pairs of pykeepalived, a trio, and mixed pairs with
Debian's keepalived 2.2.7 (both ways round).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Host, Lab, wait_for
from tests.daemons import (
    Daemon,
    holders,
    instance,
    start_keepalived,
    start_pykeepalived,
    write_conf,
)

pytestmark = pytest.mark.netns

VIP = "192.0.2.10"
ADVERT = 0.5  # seconds (VRRPv3; keepalived takes centiseconds)
MARGIN = 0.5  # the test's own observation: `ip addr` in every namespace, in turn
HOLD = 2.0  # after the heal, the single master must stay single this long


def master_down_interval(priority: int) -> float:
    """RFC 5798 6.1 for the loser: 3 x Master_Adver_Interval + Skew_Time."""
    return 3 * ADVERT + (256 - priority) * ADVERT / 256


def partition(host: Host) -> None:
    """Take ``host``'s port off the bridge; its link stays up (no carrier change)."""
    host.lab.switch.run("ip", "link", "set", host.ports["eth0"], "nomaster")


def heal(host: Host) -> None:
    host.lab.switch.run("ip", "link", "set", host.ports["eth0"], "master", "br0")


def link_up(host: Host) -> bool:
    return "LOWER_UP" in host.run("ip", "link", "show", "eth0")


def start(kind: str, host: Host, tmp: Path, priority: int) -> Daemon:
    if kind == "keepalived" and shutil.which("keepalived") is None:
        pytest.skip("needs Debian's keepalived")
    text = (f"global_defs {{\n router_id {host.name}\n}}\n"
            + instance(priority=priority, advert=str(ADVERT)))
    conf = write_conf(tmp, f"{host.name}-{kind}", text)
    runner = start_keepalived if kind == "keepalived" else start_pykeepalived
    return runner(host, conf, tmp)


def logs(daemons: list[Daemon]) -> str:
    return "\n".join(f"--- {d.kind} on {d.host.name}\n{d.log()[-3000:]}" for d in daemons)


def split_and_heal(lab: Lab, tmp: Path, nodes: list[tuple[str, int, str]], first: str,
                   cut: str, winner: str) -> float:
    """``nodes``: (name, priority, implementation); the host ``name`` gets 192.0.2.<n>
    in list order. ``first`` starts first and is master before the partition; ``cut`` is
    partitioned from the rest; ``winner`` must be the only master after the heal.
    Returns the time from the heal to a single master (seconds)."""
    hosts = {name: lab.add_host(name, [[f"192.0.2.{i + 1}/24"]], ipv6=False)
             for i, (name, _, _) in enumerate(nodes)}
    priority = {name: prio for name, prio, _ in nodes}
    daemons: dict[str, Daemon] = {}
    try:
        kind = {name: impl for name, _, impl in nodes}
        daemons[first] = start(kind[first], hosts[first], tmp, priority[first])
        assert wait_for(lambda: holders(hosts, VIP) == [first], 15), logs([*daemons.values()])
        for name, prio, impl in nodes:
            if name != first:
                daemons[name] = start(impl, hosts[name], tmp, prio)
        every = list(daemons.values())
        time.sleep(2 * ADVERT)
        # the higher-priority node, if any, has preempted by now; nobody else holds the VIP
        before = sorted(n for n in hosts if hosts[n].has_address(VIP))
        assert len(before) == 1, logs(every)

        partition(hosts[cut])
        rest = [n for n in hosts if n != cut]
        best_rest = max(rest, key=lambda n: (priority[n], int(n[1:])))
        split = sorted([cut, best_rest])
        assert wait_for(lambda: holders(hosts, VIP) == split,
                        2 * master_down_interval(min(priority.values())) + 2), logs(every)
        assert link_up(hosts[cut]), "the partition must not look like a link failure"
        time.sleep(2 * ADVERT)
        assert holders(hosts, VIP) == split, logs(every)  # a master on each side, steadily

        healed_at = time.monotonic()
        heal(hosts[cut])
        losers = [n for n in split if n != winner]
        bound = max(master_down_interval(priority[n]) for n in losers) + MARGIN
        assert wait_for(lambda: holders(hosts, VIP) == [winner], bound, 0.01), (
            f"{holders(hosts, VIP)} {bound:.2f} s after the heal\n" + logs(every))
        took = time.monotonic() - healed_at
        deadline = time.monotonic() + HOLD
        while time.monotonic() < deadline:  # no VIP comes back on a loser, no flapping
            assert holders(hosts, VIP) == [winner], logs(every)
            time.sleep(0.05)
        for name in losers:
            assert "Entering BACKUP STATE" in daemons[name].log().split(
                "Entering MASTER STATE")[-1], logs(every)
        return took
    finally:
        for d in daemons.values():
            d.stop()


def report(label: str, took: float) -> None:
    print(f"\nsplit brain healed ({label}): one master {took * 1000:.0f} ms after the heal")


def test_equal_priorities_the_higher_address_wins(lab: Lab, tmp_path: Path) -> None:
    """r1 (192.0.2.1) is master first and keeps being master while r2 (192.0.2.2, same
    priority) listens; after the split, r2 has the higher address and must win the heal."""
    took = split_and_heal(lab, tmp_path, [("r1", 100, "pykeepalived"),
                                          ("r2", 100, "pykeepalived")],
                          first="r1", cut="r1", winner="r2")
    report("pykeepalived pair, equal priorities", took)


def test_the_higher_priority_wins_over_a_higher_address(lab: Lab, tmp_path: Path) -> None:
    took = split_and_heal(lab, tmp_path, [("r1", 150, "pykeepalived"),
                                          ("r2", 100, "pykeepalived")],
                          first="r2", cut="r1", winner="r1")
    report("pykeepalived pair, priorities 150/100", took)


def test_three_nodes_one_cut_off(lab: Lab, tmp_path: Path) -> None:
    """r2 (150) is cut off from r1 (100) and r3 (50): r2 and r1 are masters; on the heal
    only r2 is, and neither r1 nor r3 holds the VIP."""
    took = split_and_heal(lab, tmp_path, [("r1", 100, "pykeepalived"),
                                          ("r2", 150, "pykeepalived"),
                                          ("r3", 50, "pykeepalived")],
                          first="r2", cut="r2", winner="r2")
    report("pykeepalived trio", took)


MIXED = [("pykeepalived", "keepalived"), ("keepalived", "pykeepalived")]


@pytest.mark.interop
@pytest.mark.parametrize(("low", "high"), MIXED, ids=["py-low", "ka-low"])
def test_mixed_pair_equal_priorities(lab: Lab, tmp_path: Path, low: str, high: str) -> None:
    """The implementation on 192.0.2.1 is master first; on the heal the one on 192.0.2.2
    (same priority, higher address) must be the only master, whichever is which."""
    took = split_and_heal(lab, tmp_path, [("r1", 100, low), ("r2", 100, high)],
                          first="r1", cut="r1", winner="r2")
    report(f"{low} on .1, {high} on .2, equal priorities", took)


@pytest.mark.interop
@pytest.mark.parametrize(("low", "high"), MIXED, ids=["py-low", "ka-low"])
def test_mixed_pair_higher_priority(lab: Lab, tmp_path: Path, low: str, high: str) -> None:
    took = split_and_heal(lab, tmp_path, [("r1", 150, low), ("r2", 100, high)],
                          first="r2", cut="r2", winner="r1")
    report(f"{low} on .1 (150), {high} on .2 (100)", took)
