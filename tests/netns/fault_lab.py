"""The bench of the resource-fault tests (tests/netns/test_resource_faults_*.py).

r1 runs pykeepalived as MASTER (priority 200) of VI_1 and suffers the fault; r2 runs
pykeepalived as BACKUP (priority 100) of the same VRID and watches: if r1 missed adverts for
longer than r2's master_down_interval, r2 would take over and log it. Both advertise every
``advert`` seconds (VRRPv3). r1 logs without ``-D``, as an operator runs it, so that a test
can count how often a fault is logged; r2 logs with it.

``Watch`` also captures r1's adverts on the bridge (tcpdump in the switch namespace,
decoded with scapy), to count them and find the longest silence.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pykeepalived.demo.lab import Host, Lab
from tests.daemons import Daemon, instance, start_pykeepalived, write_conf
from tests.netns.test_vrrp_features import Capture

VIP = "192.0.2.10"
VRID = 51
R1_PRIORITY = 200


def config(host: Host, body: str, global_extra: str = "") -> str:
    return f"global_defs {{\n    router_id {host.name}\n{global_extra}\n}}\n{body}"


def master_instance(advert: str = "0.1", extra: str = "", vip: str = f"{VIP}/24") -> str:
    return instance("VI_1", vrid=VRID, priority=R1_PRIORITY, state="MASTER", advert=advert,
                    extra=extra, vip=vip)


@dataclass
class Bench:
    lab: Lab
    r1: Host
    r2: Host
    d1: Daemon
    d2: Daemon
    daemons: list[Daemon] = field(default_factory=list)

    def logs(self) -> str:
        return "\n".join(f"--- {d.kind} on {d.host.name}\n{d.log()[-30000:]}"
                         for d in self.daemons)

    def peer_took_over(self) -> bool:
        """Whether r2 ever became MASTER (it started as BACKUP behind r1)."""
        return "(VI_1) Entering MASTER STATE" in self.d2.log()

    @staticmethod
    def last_state(daemon: Daemon, name: str = "VI_1") -> str | None:
        """The state ``daemon`` last logged entering for instance ``name``."""
        states = re.findall(rf"\({re.escape(name)}\) Entering (\w+) STATE", daemon.log())
        return states[-1] if states else None

    def lines(self, text: str) -> list[str]:
        """r1's log lines that contain ``text``."""
        return [line for line in self.d1.log().splitlines() if text in line]

    def status(self) -> dict[str, Any]:
        """``pykeepalived --status --json`` of r1 (its control sockets are files)."""
        src = str(Path(__file__).resolve().parents[2] / "src")
        proc = subprocess.run([sys.executable, "-m", "pykeepalived", "--status", "--json",
                               "-p", str(self.d1.log_path.parent / "ka.pid")],
                              capture_output=True, text=True, timeout=15,
                              env=dict(os.environ, PYTHONPATH=src))
        reply: dict[str, Any] = json.loads(proc.stdout)
        return reply

    def instance_status(self, name: str = "VI_1") -> dict[str, Any]:
        found: list[dict[str, Any]] = [i for i in self.status()["vrrp"]["instances"]
                                       if i["name"] == name]
        assert len(found) == 1, found
        return found[0]


@contextlib.contextmanager
def bench(lab: Lab, tmp: Path, r1_body: str, *, advert: str = "0.1", r1_global: str = "",
          wrapper: Sequence[str] = (), env: Mapping[str, str] | None = None,
          r1_addresses: Sequence[Sequence[str]] = (("192.0.2.1/24",),),
          r2_addresses: Sequence[Sequence[str]] = (("192.0.2.2/24",),),
          master_timeout: float = 15.0, r2_vip: str = f"{VIP}/24", r2_extra: str = "",
          on_start: Callable[[Daemon], None] | None = None) -> Iterator[Bench]:
    """r1 MASTER first (with ``r1_body`` as its instances), then r2 BACKUP behind it; both
    daemons are stopped when the block ends, whatever happened inside (the lab fixture
    deletes the namespaces). ``on_start`` is given r1's daemon as soon as it is started."""
    r1 = lab.add_host("r1", [list(a) for a in r1_addresses], ipv6=False)
    r2 = lab.add_host("r2", [list(a) for a in r2_addresses], ipv6=False)
    daemons: list[Daemon] = []
    try:
        d1 = start_pykeepalived(r1, write_conf(tmp, "r1", config(r1, r1_body, r1_global)),
                                tmp, debug=False, wrapper=wrapper, env=env)
        daemons.append(d1)
        if on_start is not None:
            on_start(d1)
        assert d1.wait_log("(VI_1) Entering MASTER STATE", master_timeout), d1.log()
        d2 = start_pykeepalived(r2, write_conf(tmp, "r2", config(r2, instance(
            "VI_1", vrid=VRID, priority=100, advert=advert, vip=r2_vip, extra=r2_extra))),
            tmp)
        daemons.append(d2)
        assert d2.wait_log("(VI_1) Entering BACKUP STATE", 10), d2.log()
        yield Bench(lab, r1, r2, d1, d2, daemons)
    finally:
        for daemon in daemons:
            daemon.stop()


class Watch:
    """r1's adverts on the wire while the block of a test runs."""

    def __init__(self, bench: Bench, path: Path) -> None:
        self.capture = Capture(bench.lab, path)
        self.times: list[float] = []

    def stop(self) -> list[float]:
        """Times of r1's adverts (VRID 51, priority 200) seen on the bridge."""
        from scapy.layers.vrrp import VRRPv3

        packets: list[Any] = self.capture.stop()
        self.times = [float(p.time) for p in packets if p.haslayer(VRRPv3)
                      and p[VRRPv3].vrid == VRID and p[VRRPv3].priority == R1_PRIORITY]
        return self.times

    def longest_silence(self) -> float:
        assert len(self.times) > 10, f"only {len(self.times)} adverts of r1 captured"
        return max(b - a for a, b in itertools.pairwise(self.times))
