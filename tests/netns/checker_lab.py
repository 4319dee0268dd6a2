"""The checker tests' lab: a load balancer ``lb`` that runs the checks, a real server ``rs``
that runs real servers (tests/netns/checker_servers.py, dnsmasq, the kernel's ICMP), both
cabled to one bridge. Checks run in the test process, its thread moved into ``lb``."""

from __future__ import annotations

import asyncio
import itertools
import os
import select
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import Any, TypeVar

from pykeepalived.check.result import Target
from pykeepalived.demo.lab import Host, Lab
from pykeepalived.net import netns

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent.parent
LB4, LB4_2, RS4, NOBODY4 = "192.0.2.1", "192.0.2.3", "192.0.2.2", "192.0.2.99"
LB6, RS6, NOBODY6 = "2001:db8::1", "2001:db8::2", "2001:db8::99"
_ports = itertools.count(8000)


def next_port() -> int:
    return next(_ports)


@dataclass
class CheckerLab:
    lab: Lab
    lb: Host
    rs: Host
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def run(self, coro: Coroutine[Any, Any, T], limit: float = 60.0) -> T:
        """Run ``coro`` on a fresh event loop whose sockets live in ``lb`` (bounded)."""
        with netns.enter(self.lb.netns):
            return asyncio.run(asyncio.wait_for(coro, limit))

    def serve(self, kind: str, port: int, *extra: str, host: str = RS4) -> subprocess.Popen[bytes]:
        """Start a checker_servers server in ``rs``; returns once it says it listens."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT),
                                             env.get("PYTHONPATH", "")])
        proc = self.rs.popen(sys.executable, "-m", "tests.netns.checker_servers", kind, host,
                             str(port), *extra, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=env, cwd=str(ROOT))
        self.procs.append(proc)
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        line = proc.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            proc.kill()
            raise AssertionError(f"{kind} server on {host}:{port} did not start")
        return proc

    def start(self, *argv: str) -> subprocess.Popen[bytes]:
        """Any program in ``rs`` (stopped with the lab)."""
        proc = self.rs.popen(*argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.procs.append(proc)
        return proc

    def stop_servers(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
        self.procs.clear()


def target(address: str, port: int | None, timeout: float = 2.0, **options: Any) -> Target:
    extra = {key: ip_address(value) if key == "bindto" else value
             for key, value in options.items()}
    return Target(ip_address(address), port, timeout, **extra)


def make_lab() -> Iterator[CheckerLab]:
    """One lab per test module (building namespaces costs more than the checks)."""
    with Lab() as lab:
        lb = lab.add_host("lb", [[f"{LB4}/24", f"{LB4_2}/24", f"{LB6}/64"]])
        rs = lab.add_host("rs", [[f"{RS4}/24", f"{RS6}/64"]])
        # the real server's kernel answers every closed port: no ICMP rate limit, so that
        # checks in quick succession each get their port unreachable
        rs.run("sysctl", "-qw", "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0")
        world = CheckerLab(lab, lb, rs)
        # neighbours answer at once from the first packet on
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if "1 received" in lb.run("ping", "-c1", "-W1", RS4, check=False) and \
                    "1 received" in lb.run("ping", "-c1", "-W1", RS6, check=False):
                break
        try:
            yield world
        finally:
            world.stop_servers()


def servers_stopped(world: CheckerLab) -> Iterator[CheckerLab]:
    """The lab for one test; the servers it started are stopped when it ends, pass or fail."""
    try:
        yield world
    finally:
        world.stop_servers()
