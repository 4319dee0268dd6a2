"""The faults the soak injects, each a function of the seeded random generator.

Every fault leaves the network as it found it (links up, partition healed, daemons running),
so faults follow each other without piling up. Each step is logged with its time and given to
the checker as a change the network must converge from. Nothing here touches the machine's
clock or anything outside the lab's namespaces.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from pykeepalived.demo.lab import run
from tests.chaos.invariants import RELOAD, STARTUP, Checker
from tests.chaos.topology import NODE_KINDS, SEGMENTS, Cluster, Node, World, pid_alive, read_pid

#: the switch's table that drops every frame from or to an isolated node's ports
PARTITION_TABLE = """table bridge chaos {
    set isolated { type ifname; }
    chain forward {
        type filter hook forward priority 0; policy accept;
        iifname @isolated drop
        oifname @isolated drop
    }
}
"""
STOP_TIMEOUT = 20.0
#: keepalived's VRRP child stops at once (priority-0 adverts, VIPs removed) when its parent
#: is killed; a child still running this long after is an orphan
ORPHAN_AFTER = 2.0


@dataclass
class Context:
    rng: random.Random
    cluster: Cluster
    world: World
    checker: Checker
    log: Callable[[str], None]

    def step(self, label: str, allowance: float = 0.0,
             update: Callable[[], None] | None = None) -> None:
        """``update`` the world (what the soak now expects) and start a convergence window."""
        with self.checker.lock:
            if update is not None:
                update()
            self.checker.change(time.monotonic(), label, allowance)
        self.log(label)

    def pick_node(self) -> Node:
        return self.cluster.nodes[self.rng.choice(sorted(NODE_KINDS))]

    def violation(self, invariant: str, nodes: list[str], detail: str) -> None:
        self.checker.record(time.monotonic(), invariant, nodes, detail)
        self.log(f"VIOLATION {invariant} [{', '.join(nodes)}]: {detail}")


def setup(cluster: Cluster) -> None:
    """The partition table in the switch namespace (empty: nobody isolated)."""
    subprocess.run(cluster.lab.switch.cmd("nft", "-f", "-"), input=PARTITION_TABLE,
                   text=True, check=True, capture_output=True, timeout=10)


# ------------------------------------------------------------------ links
def _set_link(ctx: Context, node: Node, segment: str, how: str, up: bool) -> None:
    state = "up" if up else "down"
    if how == "port":
        run(ctx.cluster.lab.switch.cmd("ip", "link", "set", node.host.ports[segment], state))
    else:
        run(node.host.cmd("ip", "link", "set", segment, state))
        if up and segment == "eth0":
            # an interface taken down loses its IPv6 addresses: give the node its own back
            n = {"py1": 1, "py2": 2, "ka": 3}[node.name]
            run(node.host.cmd("ip", "addr", "replace", f"2001:db8::{n}/64", "dev", segment,
                              "nodad"))


def link_cut(ctx: Context) -> str:
    """A link dies for 1-4 s: the node's port at the bridge, or its own veth, goes down."""
    node = ctx.pick_node()
    segment = ctx.rng.choice(SEGMENTS)
    how = ctx.rng.choice(["port", "veth"])
    hold = ctx.rng.uniform(1.0, 4.0)
    key = (node.name, segment)
    _set_link(ctx, node, segment, how, up=False)
    ctx.step(f"link_cut: {node.name} {segment} down ({how}) for {hold:.2f} s",
             update=lambda: ctx.world.link_up.__setitem__(key, False))
    time.sleep(hold)
    _set_link(ctx, node, segment, how, up=True)
    ctx.step(f"link_cut: {node.name} {segment} up ({how})",
             update=lambda: ctx.world.link_up.__setitem__(key, True))
    return f"{node.name} {segment} {how} {hold:.2f}s"


def link_flap(ctx: Context) -> str:
    """A link goes down and up 1-5 times, 20-150 ms each way."""
    node = ctx.pick_node()
    segment = ctx.rng.choice(SEGMENTS)
    how = ctx.rng.choice(["port", "veth"])
    flaps = ctx.rng.randint(1, 5)
    key = (node.name, segment)
    for n in range(flaps):
        _set_link(ctx, node, segment, how, up=False)
        ctx.step(f"link_flap: {node.name} {segment} down ({how}) {n + 1}/{flaps}",
                 update=lambda: ctx.world.link_up.__setitem__(key, False))
        time.sleep(ctx.rng.uniform(0.02, 0.15))
        _set_link(ctx, node, segment, how, up=True)
        ctx.step(f"link_flap: {node.name} {segment} up ({how}) {n + 1}/{flaps}",
                 update=lambda: ctx.world.link_up.__setitem__(key, True))
        time.sleep(ctx.rng.uniform(0.02, 0.15))
    return f"{node.name} {segment} {how} x{flaps}"


# ------------------------------------------------------------------ partitions
def _isolate(ctx: Context, nodes: list[str], add: bool) -> None:
    ports = ", ".join(f'"{ctx.cluster.port(n, s)}"' for n in nodes for s in SEGMENTS)
    verb = "add" if add else "delete"
    run(ctx.cluster.lab.switch.cmd("nft", verb, "element", "bridge", "chaos", "isolated",
                                   f"{{ {ports} }}"))


def partition(ctx: Context) -> str:
    """One or two nodes lose everyone else (links stay up) for 2-5 s, then the network heals."""
    nodes = sorted(ctx.rng.sample(sorted(NODE_KINDS), ctx.rng.choice([1, 2])))
    hold = ctx.rng.uniform(2.0, 5.0)
    _isolate(ctx, nodes, add=True)
    ctx.step(f"partition: {', '.join(nodes)} isolated for {hold:.2f} s",
             update=lambda: ctx.world.isolated.update(nodes))
    time.sleep(hold)
    _isolate(ctx, nodes, add=False)
    ctx.step(f"partition: healed ({', '.join(nodes)} back)",
             update=ctx.world.isolated.clear)
    return f"{'+'.join(nodes)} {hold:.2f}s"


# ------------------------------------------------------------------ processes
def start_node(ctx: Context, node: Node, why: str) -> None:
    """Start ``node``'s daemon and check that its VRRP child comes up."""
    node.write_config(ctx.world.instances)
    node.start()
    ctx.step(f"{why}: {node.name} started", STARTUP,
             update=lambda: ctx.world.running.__setitem__(node.name, True))
    deadline = time.monotonic() + STARTUP
    while node.vrrp_pid() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if node.vrrp_pid() is None:
        ctx.violation("start", [node.name], f"no VRRP child {STARTUP:g} s after the start: "
                      + node.log_text()[-600:].replace("\n", " | "))


def kill9_parent(ctx: Context) -> str:
    """kill -9 of the daemon's parent (pid from its -p pid file); a supervisor restarts the
    daemon 2-6 s later. Its VRRP child must not outlive it."""
    node = ctx.pick_node()
    parent = read_pid(node.parent_pid_file)
    child = read_pid(node.vrrp_pid_file)
    if parent is None or not pid_alive(parent):
        return f"{node.name}: no parent to kill"
    os.kill(parent, signal.SIGKILL)
    ctx.step(f"kill9_parent: {node.name} parent {parent} killed (child {child})",
             update=lambda: ctx.world.running.__setitem__(node.name, False))
    if node.daemon is not None:
        node.daemon.proc.wait(timeout=10)
    down = ctx.rng.uniform(2.0, 6.0)
    time.sleep(ORPHAN_AFTER)
    if child is not None and pid_alive(child):
        ctx.violation("orphan", [node.name], f"VRRP child {child} still runs "
                      f"{ORPHAN_AFTER:g} s after its parent {parent} was killed")
    time.sleep(down - ORPHAN_AFTER)
    start_node(ctx, node, "kill9_parent")
    return f"{node.name} down {down:.2f}s"


def kill9_child(ctx: Context) -> str:
    """kill -9 of the VRRP child (pid from the -r pid file); the parent respawns it."""
    node = ctx.pick_node()
    child = read_pid(node.vrrp_pid_file)
    if child is None or not pid_alive(child):
        return f"{node.name}: no VRRP child to kill"
    os.kill(child, signal.SIGKILL)
    ctx.step(f"kill9_child: {node.name} VRRP child {child} killed")
    return f"{node.name} child {child}"


def term_restart(ctx: Context) -> str:
    """TERM the daemon, wait for it to end, start it again 0-3 s later."""
    node = ctx.pick_node()
    began = time.monotonic()
    if not node.stop(STOP_TIMEOUT):
        ctx.violation("stop", [node.name], f"still running {STOP_TIMEOUT:g} s after TERM")
    took = time.monotonic() - began
    ctx.step(f"term_restart: {node.name} stopped in {took:.2f} s",
             update=lambda: ctx.world.running.__setitem__(node.name, False))
    pause = ctx.rng.uniform(0.0, 3.0)
    time.sleep(pause)
    start_node(ctx, node, "term_restart")
    return f"{node.name} pause {pause:.2f}s"


# ------------------------------------------------------------------ reloads
def hup(ctx: Context) -> str:
    """HUP: a plain reload of one node, a new priority on one node (the whole sync group
    together), or a VIP added or removed on every node (each HUPed in turn, 0-300 ms apart)."""
    variant = ctx.rng.choice(["plain", "priority", "vips"])
    world = ctx.world
    if variant == "plain":
        node = ctx.pick_node()
        node.signal_parent(signal.SIGHUP)
        ctx.step(f"hup: {node.name} reloaded (configuration unchanged)", RELOAD)
        return f"plain {node.name}"
    instances = world.copy_instances()
    if variant == "priority":
        node = ctx.pick_node()
        spec = instances[ctx.rng.choice(sorted(instances))]
        members = [s for s in instances.values()
                   if s is spec or (spec.group and s.group == spec.group)]
        taken = {p for n, p in spec.priorities.items() if n != node.name}
        choices = [p for p in range(60, 241, 10) if p not in taken]
        new = ctx.rng.choice(choices)
        for member in members:
            member.priorities[node.name] = new
        node.write_config(instances)
        node.signal_parent(signal.SIGHUP)

        def apply() -> None:
            world.instances = instances

        ctx.step(f"hup: {node.name} priority of {', '.join(m.name for m in members)} "
                 f"-> {new}", RELOAD, update=apply)
        return f"priority {node.name} {spec.name} {new}"
    spec = instances[ctx.rng.choice(sorted(instances))]
    left = [v for v in spec.spare if v not in spec.added]
    if spec.added and (not left or ctx.rng.random() < 0.5):
        vip = ctx.rng.choice(spec.added)
        spec.added.remove(vip)
        what = f"{vip} removed from {spec.name}"
    else:
        vip = ctx.rng.choice(left)
        spec.added.append(vip)
        what = f"{vip} added to {spec.name}"
    order = ctx.rng.sample(sorted(NODE_KINDS), len(NODE_KINDS))
    for name in order:
        node = ctx.cluster.nodes[name]
        node.write_config(instances)
        node.signal_parent(signal.SIGHUP)
        ctx.log(f"hup: {name} reloaded ({what})")
        time.sleep(ctx.rng.uniform(0.0, 0.3))

    def apply_vips() -> None:
        world.instances = instances
        world.remember()

    ctx.step(f"hup: {what} on every node (order {', '.join(order)})", RELOAD,
             update=apply_vips)
    return f"vips {what}"


FAULTS: dict[str, Callable[[Context], str]] = {
    "link_cut": link_cut,
    "partition": partition,
    "kill9_parent": kill9_parent,
    "kill9_child": kill9_child,
    "hup": hup,
    "link_flap": link_flap,
    "term_restart": term_restart,
}
