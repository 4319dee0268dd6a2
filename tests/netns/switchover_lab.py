"""A planned switchover seen by a client: two routers, a client probing the VIP every 10 ms.

Shared by tests/netns/test_switchover*.py, tests/interop/test_switchover_keepalived.py and
benchmarks/bench_switchover.py. ``Pair`` starts r1 (priority 150, the master) and r2 (100)
with pykeepalived or keepalived each, optionally with use_vmac or as a sync group of two
instances; ``Pinger`` runs ``ping -D -i 0.01`` from the client and says which probes got no
answer; ``TcpProbe`` runs tests/netns/tcp_probe.py (a stateless service on both routers, a
client opening a connection every 10 ms through the VIP).
"""

from __future__ import annotations

import itertools
import json
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pykeepalived.demo.lab import Host, Lab, wait_for
from tests.daemons import Daemon, holders, instance, start_keepalived, start_pykeepalived

VIP = "192.0.2.10"
VIP2 = "192.0.2.11"
PROBE_INTERVAL = 0.01  # the TCP client's; ping is given PING_INTERVAL
PING_INTERVAL = "0.009"  # iputils ping sends every ~16 ms at -i 0.01 here, every ~9.3 at 0.009
TCP_PORT = 8080
TCP_PROBE = str(Path(__file__).resolve().parent / "tcp_probe.py")
STARTERS = {"pykeepalived": start_pykeepalived, "keepalived": start_keepalived}


@dataclass
class Probed:
    """What the client saw: answered probes, the ones that got no answer, the mean time
    between probes, and the longest time without answers (from the answer before a run of
    lost probes to the one after it, less one probe interval; 0 when none was lost)."""

    answered: int
    lost: list[int]
    interval: float
    outage: float

    def __str__(self) -> str:
        return (f"{self.answered} answered every {self.interval * 1000:.1f} ms, "
                f"{len(self.lost)} lost {self.lost[:20]}, outage {self.outage * 1000:.1f} ms")


def probed(ping_output: str) -> Probed:
    """Parse ``ping -D -n`` output."""
    answers = {int(seq): float(ts) for ts, seq in re.findall(
        r"^\[(\d+\.\d+)\].*bytes from.*icmp_seq=(\d+)", ping_output, re.MULTILINE)}
    if len(answers) < 2:
        return Probed(len(answers), [], float("inf"), float("inf"))
    first, last = min(answers), max(answers)
    interval = (answers[last] - answers[first]) / (last - first)
    lost = [s for s in range(first, last + 1) if s not in answers]
    outage = 0.0
    for a, b in itertools.pairwise(sorted(answers)):
        if b - a > 1:
            outage = max(outage, answers[b] - answers[a] - interval)
    return Probed(len(answers), lost, interval, outage)


class Pinger:
    """``ping -D -n -i 0.009`` from ``host`` to ``address``, until ``stop``."""

    def __init__(self, host: Host, address: str = VIP) -> None:
        self.proc = host.popen("ping", "-D", "-n", "-i", PING_INTERVAL, "-W", "1",
                               address, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)

    def stop(self) -> Probed:
        self.proc.send_signal(signal.SIGINT)
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate(timeout=5)
        return probed(out or "")


class TcpProbe:
    """The stateless service on each router and a client connecting through the VIP."""

    def __init__(self, routers: list[Host], client: Host, seconds: float) -> None:
        self.servers = [r.popen(sys.executable, TCP_PROBE, "serve", str(TCP_PORT),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                        for r in routers]
        self.client = client
        self.seconds = seconds
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        ready = wait_for(lambda: "ok" in self.client.run(
            sys.executable, TCP_PROBE, "probe", VIP, str(TCP_PORT), "0.05", "0.05",
            check=False), 10)
        assert ready, "the service does not answer through the VIP"
        self.proc = self.client.popen(sys.executable, TCP_PROBE, "probe", VIP, str(TCP_PORT),
                                      str(self.seconds), str(PROBE_INTERVAL),
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def stop(self) -> dict[str, object]:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate(timeout=5)
        self.proc = None
        result: dict[str, object] = json.loads(out.decode() or "{}")
        return result

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.communicate(timeout=5)
        for server in self.servers:
            server.kill()
            server.wait(timeout=5)


def conf(name: str, priority: int, *, version: int = 3, advert: str = "0.1",
         vmac: bool = False, group: bool = False, global_extra: str = "") -> str:
    """r1/r2's configuration: VI_1 (and VI_2 in sync group G1 with ``group``)."""
    extra = "use_vmac" if vmac else ""
    text = f"global_defs {{\n    router_id {name}\n    {global_extra}\n}}\n"
    if group:
        text += "vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n"
    text += instance(priority=priority, version=version, advert=advert, extra=extra)
    if group:
        text += instance("VI_2", vrid=52, priority=priority, version=version, advert=advert,
                         extra=extra, vip=f"{VIP2}/24")
    return text


@dataclass
class Pair:
    """r1 (master, priority 150) and r2 (priority 100) on one segment, and a client."""

    lab: Lab
    tmp: Path
    kinds: tuple[str, str] = ("pykeepalived", "pykeepalived")
    version: int = 3
    advert: str = "0.1"
    vmac: bool = False
    group: bool = False
    global_extra: tuple[str, str] = ("", "")
    daemons: list[Daemon] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.r1 = self.lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
        self.r2 = self.lab.add_host("r2", [["192.0.2.2/24"]], ipv6=False)
        self.client = self.lab.add_host("c", [["192.0.2.50/24"]], ipv6=False)
        for router in (self.r1, self.r2):
            # use_vmac: the base interfaces must not answer ARP for the VIP (TESTBED.md)
            router.run("sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1")
            router.run("sysctl", "-qw", "net.ipv4.conf.all.arp_announce=2")
        self.hosts = {"r1": self.r1, "r2": self.r2}

    def start(self, before_backup: Callable[[], None] | None = None) -> None:
        """r1, then (once it holds the VIP, and after ``before_backup``) r2."""
        for host, prio, kind, extra in zip((self.r1, self.r2), (150, 100), self.kinds,
                                           self.global_extra, strict=True):
            if host is self.r2 and before_backup is not None:
                before_backup()
            run = self.tmp / f"{host.name}-{kind}"
            run.mkdir(exist_ok=True)
            path = run / "keepalived.conf"
            path.write_text(conf(host.name, prio, version=self.version, advert=self.advert,
                                 vmac=self.vmac, group=self.group, global_extra=extra))
            self.daemons.append(STARTERS[kind](host, path, run))
            if host is self.r1:
                assert wait_for(lambda: holders(self.hosts, VIP) == ["r1"], 15), self.logs()
        assert self.daemons[1].wait_log("Entering BACKUP STATE", 15), self.logs()

    @property
    def master(self) -> Daemon:
        return self.daemons[0]

    @property
    def backup(self) -> Daemon:
        return self.daemons[1]

    def vips(self) -> list[str]:
        return [VIP, VIP2] if self.group else [VIP]

    def logs(self) -> str:
        return "\n".join(f"--- {d.kind} on {d.host.name}\n{d.log()[-5000:]}"
                         for d in self.daemons)

    def close(self) -> None:
        for daemon in self.daemons:
            daemon.stop()
