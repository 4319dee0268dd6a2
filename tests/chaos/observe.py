"""What the soak sees, from outside the daemons.

- Addresses: one rtnetlink socket per node namespace (pyroute2, opened inside it), dumped at
  every poll; a dump that fails is retried and then raised, never read as "no addresses".
- Processes: the VRRP child named by each node's ``-r`` pid file, alive or not (a zombie is not).
- Each daemon's own view of its instances: pykeepalived answers on its control socket (the
  request ``pykeepalived --status --json`` makes); keepalived writes every state change to its
  ``vrrp_notify_fifo``, read here by a thread. A daemon that does not answer, or whose VRRP
  child is gone, has no state: a VIP it holds then counts as held by a non-master.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import re
import select
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyroute2 import IPRoute

from pykeepalived.control.client import ControlError, ask
from pykeepalived.control.server import socket_path
from tests.chaos.topology import ROUTE_PREFIX, RULE_TABLE, Cluster, Node

STATUS_TIMEOUT = 0.2
FIFO_LINE = re.compile(r'^(INSTANCE|GROUP) "([^"]+)" (\w+) (\d+)$')
#: FIFO words that are states; others (MASTER_RX_LOWER_PRI, MASTER_PRIORITY...) are events of
#: an instance that stays in its state
STATES = {"MASTER", "BACKUP", "FAULT", "STOP", "DELETED"}
#: rules every namespace has (priority 0 local, 32766 main, 32767 default)
DEFAULT_RULE_PRIORITIES = {0, 32766, 32767}


@dataclass
class Snapshot:
    """One poll: every node's addresses, whether its VRRP child runs, its instances' states."""

    at: float
    addresses: dict[str, set[str]]
    pids: dict[str, int | None]  # node -> its running VRRP child
    states: dict[str, dict[str, str]]  # node -> instance -> state reported ({} unknown)
    took: float = 0.0

    @property
    def alive(self) -> dict[str, bool]:
        return {node: pid is not None for node, pid in self.pids.items()}


class FifoReader:
    """keepalived's vrrp_notify_fifo, read by a thread: the last state of every instance.

    The FIFO is opened read-write, so it never sees end-of-file when keepalived restarts (and
    keepalived never blocks opening it).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self.states: dict[str, str] = {}
        self.lines = 0
        self.history: list[tuple[float, str]] = []
        self._buffer = b""
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"fifo-{path.name}",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            now = time.monotonic()
            self._buffer += chunk
            *lines, self._buffer = self._buffer.split(b"\n")
            for raw in lines:
                line = raw.decode(errors="replace").strip()
                match = FIFO_LINE.match(line)
                with self._lock:
                    self.lines += 1
                    self.history.append((now, line))
                    if match and match.group(1) == "INSTANCE" and match.group(3) in STATES:
                        self.states[match.group(2)] = match.group(3)

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self.states)

    def forget(self) -> None:
        """A new keepalived process starts: what the last one said no longer holds."""
        with self._lock:
            self.states.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        os.close(self.fd)


@dataclass
class Seen:
    """What the soak saw at least once, per node: the final check looks for these things, so
    they must have existed for the check to mean anything."""

    vmac: set[str] = field(default_factory=set)
    route: set[str] = field(default_factory=set)
    rule: set[str] = field(default_factory=set)
    nft: set[str] = field(default_factory=set)


class Observer:
    """Takes :class:`Snapshot` s of the cluster."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.ipr: dict[str, Any] = {}
        self.fifos: dict[str, FifoReader] = {}
        self.seen = Seen()
        self.status_failures: dict[str, int] = dict.fromkeys(cluster.nodes, 0)
        self._fifo_pid: dict[str, int | None] = {}
        # the daemons are asked side by side: one slow to answer holds up no other
        self._pool = concurrent.futures.ThreadPoolExecutor(len(cluster.nodes),
                                                           thread_name_prefix="chaos-status")
        for name, node in cluster.nodes.items():
            self.ipr[name] = IPRoute(netns=node.host.netns)
            if node.fifo is not None:
                self.fifos[name] = FifoReader(node.fifo)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for ipr in self.ipr.values():
            with contextlib.suppress(Exception):
                ipr.close()
        for fifo in self.fifos.values():
            fifo.close()

    # ------------------------------------------------------------------ per poll
    def addresses(self, node: str) -> set[str]:
        """Every address in ``node``'s namespace (all interfaces)."""
        error: Exception | None = None
        for _ in range(5):
            try:
                return {str(msg.get_attr("IFA_ADDRESS")) for msg in self.ipr[node].get_addr()}
            except Exception as exc:  # pyroute2's dump-interrupted and friends: retry
                error = exc
                time.sleep(0.005)
        raise RuntimeError(f"cannot read the addresses of {node}: {error}")

    def states(self, node: Node, alive: bool) -> dict[str, str]:
        if not alive:
            return {}
        if node.name in self.fifos:
            return self.fifos[node.name].snapshot()
        path = socket_path(str(node.parent_pid_file), "vrrp")
        try:
            reply = ask(path, {"cmd": "status"}, timeout=STATUS_TIMEOUT)
        except ControlError:
            self.status_failures[node.name] += 1
            return {}
        return {str(i["name"]): str(i["state"]) for i in reply.get("instances", [])}

    def snapshot(self) -> Snapshot:
        start = time.monotonic()
        pids = {name: node.vrrp_pid() for name, node in self.cluster.nodes.items()}
        for name, fifo in self.fifos.items():
            if pids[name] != self._fifo_pid.get(name):
                fifo.forget()  # a new keepalived VRRP child (or none): old states are void
                self._fifo_pid[name] = pids[name]
        # states before addresses: a VIP seen after its node said MASTER is never a false
        # "held by a non-master" when the node leaves MASTER in between
        asks = {name: self._pool.submit(self.states, node, pids[name] is not None)
                for name, node in self.cluster.nodes.items()}
        states = {name: ask.result() for name, ask in asks.items()}
        addresses = {name: self.addresses(name) for name in self.cluster.nodes}
        return Snapshot(start, addresses, pids, states, time.monotonic() - start)

    # ------------------------------------------------------------------ now and then
    def look_around(self) -> None:
        """Note which nodes have a VMAC, VI_1's route and rule, an nftables table now."""
        for name in self.cluster.nodes:
            found = self.leftovers_in(name, vips=set())
            for what, nodes in (("VMAC", self.seen.vmac), ("route", self.seen.route),
                                ("rule", self.seen.rule), ("nftables", self.seen.nft)):
                if any(item.startswith(what) for item in found):
                    nodes.add(name)

    def leftovers_in(self, name: str, vips: set[str]) -> list[str]:
        """What of the daemons' making is in namespace ``name`` now: ``vips``, VMACs, the
        virtual route and rule, nftables tables (the switch's own partition table apart)."""
        netns = self.cluster.namespaces()[name]
        found: list[str] = []
        with IPRoute(netns=netns) as ipr:
            addresses = {str(m.get_attr("IFA_ADDRESS")) for m in ipr.get_addr()}
            found += [f"VIP {vip}" for vip in sorted(vips & addresses)]
            for link in ipr.get_links():
                ifname = str(link.get_attr("IFLA_IFNAME"))
                info = link.get_attr("IFLA_LINKINFO")
                kind = info.get_attr("IFLA_INFO_KIND") if info is not None else None
                if kind == "macvlan" or ifname.startswith("vrrp."):
                    found.append(f"VMAC {ifname}")
            for route in ipr.get_routes(family=socket.AF_INET):
                dst = route.get_attr("RTA_DST")
                table = route.get_attr("RTA_TABLE")
                if (dst is not None and f"{dst}/{route['dst_len']}" == ROUTE_PREFIX) \
                        or table == RULE_TABLE:
                    found.append(f"route {dst}/{route['dst_len']} table {table}")
            for family in (socket.AF_INET, socket.AF_INET6):
                for rule in ipr.get_rules(family=family):
                    prio = rule.get_attr("FRA_PRIORITY") or 0
                    if prio not in DEFAULT_RULE_PRIORITIES:
                        found.append(f"rule priority {prio} table "
                                     f"{rule.get_attr('FRA_TABLE')}")
        out = subprocess.run(["ip", "netns", "exec", netns, "nft", "-j", "list", "tables"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        for item in json.loads(out or '{"nftables": []}').get("nftables", []):
            table = item.get("table")
            if table and not (name == "switch" and table.get("name") == "chaos"):
                found.append(f"nftables table {table['family']} {table['name']}")
        return found

    def processes_in(self, name: str) -> list[str]:
        """keepalived / pykeepalived processes still running in namespace ``name``."""
        netns = self.cluster.namespaces()[name]
        pids = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True,
                              timeout=10).stdout.split()
        found = []
        for pid in pids:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"keepalived" in cmdline:
                found.append(f"process {pid}: {cmdline.decode(errors='replace')[:80]}")
        return found
