"""A lab of network namespaces: a switch namespace holding bridges, and hosts cabled to them.

Used by the live demonstration and by the netns/interop tests. Every name a lab creates carries a
short unique prefix, so labs running side by side never collide, and ``close()`` (or leaving the
``with`` block) deletes every namespace the lab made, whatever happened inside.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shlex
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

_counter = itertools.count()


class LabError(RuntimeError):
    """A command the lab ran failed."""


def run(argv: Sequence[str], *, check: bool = True, timeout: float = 30.0) -> str:
    """Run ``argv``, return its stdout; raise LabError (with stderr) if ``check`` and it fails."""
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise LabError(f"{shlex.join(argv)} -> {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


@dataclass
class Host:
    """A namespace with one veth per segment it is cabled to (eth0, eth1, ...)."""

    lab: Lab
    name: str  # short name given by the test, e.g. "r1"
    netns: str  # real namespace name
    ports: dict[str, str] = field(default_factory=dict)  # host ifname -> switch port name

    def cmd(self, *argv: str) -> list[str]:
        """argv prefixed so that it runs inside this host's namespace."""
        return ["ip", "netns", "exec", self.netns, *argv]

    def run(self, *argv: str, check: bool = True, timeout: float = 30.0) -> str:
        return run(self.cmd(*argv), check=check, timeout=timeout)

    def popen(self, *argv: str, **kwargs: object) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.cmd(*argv), **kwargs)  # type: ignore[call-overload,no-any-return]

    def addresses(self, ifname: str | None = None) -> set[str]:
        """Addresses (without prefix length) on ``ifname`` or on every interface."""
        argv = ["ip", "-o", "addr", "show"] + (["dev", ifname] if ifname else [])
        error: LabError | None = None
        for _ in range(5):  # "Dump was interrupted" while addresses change fast
            try:
                out = self.run(*argv)
                break
            except LabError as exc:
                if ifname and "does not exist" in str(exc):
                    return set()  # no such interface: it has no addresses, truly
                error = exc
                time.sleep(0.05)
        else:
            # never "no addresses": a test asserting an address is absent must not pass
            # because `ip` failed
            assert error is not None
            raise error
        found = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) > 3 and parts[2] in ("inet", "inet6"):
                found.add(parts[3].split("/")[0])
        return found

    def has_address(self, addr: str, ifname: str | None = None) -> bool:
        return addr in self.addresses(ifname)

    def cut(self, ifname: str = "eth0") -> None:
        """Take this host's switch port down: the host sees its link lose carrier."""
        self.lab.switch.run("ip", "link", "set", self.ports[ifname], "down")

    def mend(self, ifname: str = "eth0") -> None:
        self.lab.switch.run("ip", "link", "set", self.ports[ifname], "up")


class Lab:
    """Namespaces on one machine: ``switch`` holds bridges br0, br1, ...; hosts plug into them."""

    def __init__(self, segments: int = 1) -> None:
        self.prefix = f"pk{os.getpid() % 100000}x{next(_counter)}"
        self._namespaces: list[str] = []
        self.hosts: dict[str, Host] = {}
        self.switch = self._make_ns("sw")
        self.switch.run("ip", "link", "set", "lo", "up")
        for seg in range(segments):
            self.switch.run("ip", "link", "add", f"br{seg}", "type", "bridge",
                            "mcast_snooping", "0", "forward_delay", "0")
            self.switch.run("ip", "link", "set", f"br{seg}", "up")

    def _make_ns(self, short: str) -> Host:
        netns = f"{self.prefix}{short}"
        run(["ip", "netns", "add", netns])
        self._namespaces.append(netns)
        return Host(self, short, netns)

    def add_host(self, short: str, addresses: Sequence[Sequence[str]] = (),
                 ipv6: bool = True) -> Host:
        """A host cabled to every bridge; ``addresses[i]`` are the CIDRs put on its eth<i>."""
        host = self._make_ns(short)
        host.run("ip", "link", "set", "lo", "up")
        segments = max(len(addresses), 1)
        for seg in range(segments):
            port = f"{short}e{seg}"[:15]
            tmp = f"{self.prefix}{short}{seg}"[:15]
            run(["ip", "link", "add", tmp, "netns", host.netns, "type", "veth", "peer", "name",
                 port, "netns", self.switch.netns])
            host.run("ip", "link", "set", tmp, "name", f"eth{seg}")
            self.switch.run("ip", "link", "set", port, "master", f"br{seg}")
            self.switch.run("ip", "link", "set", port, "up")
            if not ipv6:
                host.run("sysctl", "-qw", f"net.ipv6.conf.eth{seg}.disable_ipv6=1")
            else:
                host.run("sysctl", "-qw", f"net.ipv6.conf.eth{seg}.accept_dad=0")
            host.run("ip", "link", "set", f"eth{seg}", "up")
            for cidr in (addresses[seg] if seg < len(addresses) else ()):
                extra = ["nodad"] if ":" in cidr else []
                host.run("ip", "addr", "add", cidr, "dev", f"eth{seg}", *extra)
            host.ports[f"eth{seg}"] = port
        self.hosts[short] = host
        return host

    def close(self) -> None:
        """Delete every namespace this lab made (killing what still runs inside)."""
        for netns in reversed(self._namespaces):
            pids = run(["ip", "netns", "pids", netns], check=False).split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
            run(["ip", "netns", "del", netns], check=False)
        self._namespaces.clear()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def wait_for(predicate: object, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate()`` until true or ``timeout`` seconds pass (bounded loop)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():  # type: ignore[operator]
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
