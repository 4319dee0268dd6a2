"""The soak's network: three nodes on two segments, six VRRP instances, their configurations.

``py1`` and ``py2`` run pykeepalived, ``ka`` runs Debian's keepalived 2.2.7. Every instance has
a different order of priorities, so that each node is master of something and every fault
moves some master:

========  ========  ====  =======  ==========================  ===  ===  ===
instance  version   VRID  advert   what it exercises           py1  py2  ka
========  ========  ====  =======  ==========================  ===  ===  ===
VI_1      3, IPv4   11    0.5 s    virtual_routes / _rules     150  100  120
VI_2      2, IPv4   12    1 s      VRRPv2 timers               100  120  150
VI_3      3, IPv4   13    0.5 s    sync group G1 on eth0       110  150  130
VI_4      3, IPv4   14    0.5 s    sync group G1 on eth1       110  150  130
VI_5      3, IPv4   15    0.5 s    use_vmac                     90  130  140
VI_6      3, IPv6   16    0.5 s    IPv6 (link-local source)    120  140  110
========  ========  ====  =======  ==========================  ===  ===  ===

VI_6's first address is link-local, as vrrp_strict asks of IPv6 (RFC 5798 5.2.9). Reloads
add and remove spare addresses only. Every node runs with ``vrrp_strict`` (an nftables table of
its own), so that the final check has a table, VMACs, a route and a rule to look for.
:class:`World` is what the soak believes the network to be (links, partitions, which daemons
should run, each instance's addresses and priorities); the invariants are computed from it.
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pykeepalived.demo.lab import Host, Lab
from tests.daemons import Daemon, start_keepalived, start_pykeepalived

SEGMENTS = ("eth0", "eth1")
NODE_KINDS = {"py1": "pykeepalived", "py2": "pykeepalived", "ka": "keepalived"}
NODE_INDEX = {"py1": 1, "py2": 2, "ka": 3}
GROUP = "G1"
#: VI_1's virtual route and rule (left behind, they are what the final check looks for).
ROUTE_PREFIX = "203.0.113.0/24"
RULE_TABLE = 100


@dataclass
class InstanceSpec:
    """One vrrp_instance as every node runs it (only the priority differs between nodes)."""

    name: str
    vrid: int
    version: int
    family: int
    interface: str
    advert: float
    prefix: int
    base: list[str]  # the addresses every configuration has (without prefix length)
    spare: list[str]  # addresses a reload may add, and remove again
    priorities: dict[str, int]
    group: str | None = None
    vmac: bool = False
    extra: str = ""
    added: list[str] = field(default_factory=list)  # the spare addresses configured now

    @property
    def vips(self) -> list[str]:
        """The addresses configured now."""
        return self.base + self.added

    def skew(self, priority: int) -> float:
        """RFC 3768 6.1 / RFC 5798 6.1 Skew_Time."""
        if self.version == 2:
            return (256 - priority) / 256
        return (256 - priority) * self.advert / 256

    def master_down_interval(self, priority: int | None = None) -> float:
        """3 x advert + skew; the longest of the nodes' when ``priority`` is not given."""
        if priority is None:
            priority = min(self.priorities.values())
        return 3 * self.advert + self.skew(priority)


def default_instances() -> dict[str, InstanceSpec]:
    """The six instances of the table above."""
    def prio(py1: int, py2: int, ka: int) -> dict[str, int]:
        return {"py1": py1, "py2": py2, "ka": ka}

    routes = (f"virtual_routes {{\n        {ROUTE_PREFIX} via 192.0.2.254 dev eth0\n    }}\n"
              f"    virtual_rules {{\n        from 192.0.2.101/32 table {RULE_TABLE} "
              "priority 100\n    }")
    specs = [
        InstanceSpec("VI_1", 11, 3, 4, "eth0", 0.5, 24, ["192.0.2.101"],
                     ["192.0.2.111", "192.0.2.121"], prio(150, 100, 120), extra=routes),
        InstanceSpec("VI_2", 12, 2, 4, "eth0", 1.0, 24, ["192.0.2.102"],
                     ["192.0.2.112", "192.0.2.122"], prio(100, 120, 150)),
        InstanceSpec("VI_3", 13, 3, 4, "eth0", 0.5, 24, ["192.0.2.103"],
                     ["192.0.2.113", "192.0.2.123"], prio(110, 150, 130), group=GROUP),
        InstanceSpec("VI_4", 14, 3, 4, "eth1", 0.5, 24, ["198.51.100.104"],
                     ["198.51.100.114", "198.51.100.124"], prio(110, 150, 130), group=GROUP),
        InstanceSpec("VI_5", 15, 3, 4, "eth0", 0.5, 24, ["192.0.2.105"],
                     ["192.0.2.115", "192.0.2.125"], prio(90, 130, 140), vmac=True),
        InstanceSpec("VI_6", 16, 3, 6, "eth0", 0.5, 64, ["fe80::106", "2001:db8::106"],
                     ["2001:db8::116", "2001:db8::126"], prio(120, 140, 110)),
    ]
    return {spec.name: spec for spec in specs}


def node_addresses(node: str) -> list[list[str]]:
    """The node's own addresses on eth0 and eth1."""
    n = NODE_INDEX[node]
    return [[f"192.0.2.{n}/24", f"2001:db8::{n}/64"], [f"198.51.100.{n}/24"]]


def render_config(node: str, instances: dict[str, InstanceSpec],
                  fifo: Path | None = None) -> str:
    """``node``'s keepalived.conf for the instances as they are now."""
    fifo_line = f"    vrrp_notify_fifo {fifo}\n" if fifo is not None else ""
    parts = [f"global_defs {{\n    router_id {node}\n    vrrp_strict\n{fifo_line}}}\n"]
    groups: dict[str, list[str]] = {}
    for spec in instances.values():
        if spec.group:
            groups.setdefault(spec.group, []).append(spec.name)
    for group, members in groups.items():
        body = "\n".join(f"        {m}" for m in members)
        parts.append(f"vrrp_sync_group {group} {{\n    group {{\n{body}\n    }}\n}}\n")
    for spec in instances.values():
        vips = "\n".join(f"        {vip}/{spec.prefix}" for vip in spec.vips)
        parts.append(f"""vrrp_instance {spec.name} {{
    state BACKUP
    interface {spec.interface}
    virtual_router_id {spec.vrid}
    priority {spec.priorities[node]}
    version {spec.version}
    advert_int {spec.advert:g}
    {"use_vmac" if spec.vmac else ""}
    {spec.extra}
    virtual_ipaddress {{
{vips}
    }}
}}
""")
    return "".join(parts)


@dataclass
class World:
    """What the soak believes the network is: the configuration every node has been given, the
    links, the partition, and which daemons should be running."""

    instances: dict[str, InstanceSpec] = field(default_factory=default_instances)
    link_up: dict[tuple[str, str], bool] = field(default_factory=lambda: {
        (node, seg): True for node in NODE_KINDS for seg in SEGMENTS})
    isolated: set[str] = field(default_factory=set)
    running: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(NODE_KINDS, False))
    #: every address any configuration ever had (the final check looks for all of them)
    ever: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.remember()

    def remember(self) -> None:
        for spec in self.instances.values():
            self.ever.update(spec.vips)

    def copy_instances(self) -> dict[str, InstanceSpec]:
        return copy.deepcopy(self.instances)

    def segments_of(self, spec: InstanceSpec) -> set[str]:
        """The interfaces a node needs up for ``spec``: a sync group's members fail together."""
        if spec.group is None:
            return {spec.interface}
        return {s.interface for s in self.instances.values() if s.group == spec.group}

    def islands(self) -> list[set[str]]:
        """The sets of nodes that hear each other (an isolated node is alone)."""
        rest = {n for n in NODE_KINDS if n not in self.isolated}
        return [{n} for n in sorted(self.isolated)] + ([rest] if rest else [])


@dataclass
class Node:
    """A lab host and the daemon that runs (or ran) on it."""

    name: str
    kind: str
    host: Host
    workdir: Path
    daemon: Daemon | None = None
    fifo: Path | None = None
    starts: int = 0

    @property
    def run_dir(self) -> Path:
        return self.workdir / (f"py-{self.name}" if self.kind == "pykeepalived"
                               else f"ka-{self.name}")

    @property
    def conf(self) -> Path:
        return self.workdir / f"{self.name}.conf"

    @property
    def parent_pid_file(self) -> Path:
        return self.run_dir / "ka.pid"

    @property
    def vrrp_pid_file(self) -> Path:
        return self.run_dir / "vrrp.pid"

    def write_config(self, instances: dict[str, InstanceSpec]) -> None:
        """Replace the configuration file in one step (a reload never reads half of it)."""
        tmp = self.conf.with_suffix(".tmp")
        tmp.write_text(render_config(self.name, instances, self.fifo))
        os.replace(tmp, self.conf)

    def start(self) -> None:
        """Start the daemon (its log appended to the node's log); stale pid files whose
        process is gone are removed first, as keepalived needs (TESTBED.md)."""
        self.run_dir.mkdir(exist_ok=True)
        for pid_file in ("ka.pid", "vrrp.pid", "chk.pid"):
            path = self.run_dir / pid_file
            if read_pid(path) is not None and not pid_alive(read_pid(path)):
                path.unlink(missing_ok=True)
        starter = start_pykeepalived if self.kind == "pykeepalived" else start_keepalived
        self.daemon = starter(self.host, self.conf, self.workdir, append=True)
        self.starts += 1

    def parent_pid(self) -> int | None:
        """The daemon's parent: the process the soak started (its pid file may lag)."""
        if self.daemon is not None and self.daemon.proc.poll() is None:
            return self.daemon.proc.pid
        return None

    def vrrp_pid(self) -> int | None:
        """The VRRP child named by the -r pid file, if that process is alive."""
        pid = read_pid(self.vrrp_pid_file)
        return pid if pid is not None and pid_alive(pid) else None

    def signal_parent(self, sig: int) -> bool:
        pid = self.parent_pid()
        if pid is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
            return True
        return False

    def stop(self, timeout: float = 20.0) -> bool:
        """TERM the daemon and wait for it; True when it ended in time (else it is killed)."""
        if self.daemon is None:
            return True
        proc = self.daemon.proc
        if proc.poll() is not None:
            return True
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
            return False
        return True

    def log_text(self) -> str:
        return self.daemon.log() if self.daemon is not None else ""


def read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def pid_alive(pid: int | None) -> bool:
    """``pid`` is a running process (a zombie is not)."""
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


class Cluster:
    """The lab (a switch namespace with bridges br0/br1, three nodes) and its daemons."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.lab = Lab(segments=len(SEGMENTS))
        self.nodes: dict[str, Node] = {}
        try:
            for name, kind in NODE_KINDS.items():
                host = self.lab.add_host(name, node_addresses(name))
                node = Node(name, kind, host, workdir)
                if kind == "keepalived":
                    node.fifo = workdir / f"{name}.fifo"
                    node.fifo.unlink(missing_ok=True)
                    os.mkfifo(node.fifo, 0o600)
                self.nodes[name] = node
        except BaseException:
            self.lab.close()
            raise

    def port(self, node: str, segment: str) -> str:
        """The switch port of ``node``'s ``segment`` interface."""
        return self.nodes[node].host.ports[segment]

    def namespaces(self) -> dict[str, str]:
        """Every namespace of the lab by short name (the nodes and the switch)."""
        out = {name: node.host.netns for name, node in self.nodes.items()}
        out["switch"] = self.lab.switch.netns
        return out

    def close(self) -> None:
        for node in self.nodes.values():
            with contextlib.suppress(Exception):
                node.stop(timeout=5)
        self.lab.close()

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())
