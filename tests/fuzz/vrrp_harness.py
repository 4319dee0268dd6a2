"""A VRRP process of several instances, fed datagrams through the daemon's receive path.

:class:`Harness` builds the daemon's :class:`~pykeepalived.daemon.vrrp_main.VrrpProcess`
over :data:`CONFIG` (no socket is opened, nothing reaches the kernel: what the routers ask
for is recorded, not carried out) and hands it datagrams with ``on_packet``, the method the
sockets call. :meth:`Harness.deliver` checks, for each datagram, the properties the fuzzers
hold the receive path to:

* no exception escapes;
* counters only rise, and a datagram raises at most one drop counter (a router's
  ``RouterStats`` or the process's count of datagrams no instance could be named for);
* a datagram that raised a drop counter (rejected) changed nothing else: no router's state,
  timers (``get_timer`` and every deadline), AH sequence number, master, priorities or any
  other attribute, and asked for no action;
* a datagram that raised no counter either was accepted by the one instance it names
  (``advert_rcvd`` rose by one there) or is one the daemon ignores on purpose, and then
  changed nothing: a VRID none of the instances runs, our own address as source, or an
  instance outside BACKUP and MASTER.

A failed property raises :class:`PropertyFailure` naming the datagram and what changed.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from pykeepalived.config import load_config_text
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.daemon.vrrp_main import VrrpProcess
from pykeepalived.net.vrrp_socket import ReceivedPacket
from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import State
from pykeepalived.vrrp.router import VirtualRouter
from pykeepalived.vrrp.stats import RouterStats
from pykeepalived.vrrp.sync_group import SyncGroup
from tests.fuzz.vrrp_inputs import ME4, ME6, Datagram, Expected

CONFIG = """
vrrp_instance V2_NONE {
    interface eth0
    virtual_router_id 50
    priority 100
    advert_int 1
    mcast_src_ip 192.0.2.2
    virtual_ipaddress {
        192.0.2.100
        192.0.2.101
    }
}
vrrp_instance V2_PASS {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 2
    mcast_src_ip 192.0.2.2
    authentication {
        auth_type PASS
        auth_pass secret12345
    }
    virtual_ipaddress {
        192.0.2.110
    }
}
vrrp_instance V2_AH {
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    mcast_src_ip 192.0.2.2
    authentication {
        auth_type AH
        auth_pass k3y
    }
    virtual_ipaddress {
        192.0.2.120
    }
}
vrrp_instance V3_IPV4 {
    interface eth0
    version 3
    virtual_router_id 53
    priority 100
    advert_int 0.5
    mcast_src_ip 192.0.2.2
    virtual_ipaddress {
        192.0.2.130
    }
}
vrrp_instance V3_IPV6 {
    interface eth0
    version 3
    virtual_router_id 53
    priority 100
    advert_int 1
    mcast_src_ip fe80::2
    virtual_ipaddress {
        2001:db8::130
    }
}
vrrp_instance V3_UNICAST {
    interface eth0
    version 3
    virtual_router_id 54
    priority 100
    advert_int 1
    unicast_src_ip 192.0.2.2
    unicast_peer {
        192.0.2.3
        192.0.2.1
    }
    virtual_ipaddress {
        192.0.2.140
    }
}
"""

INSTANCES: tuple[Expected, ...] = (
    Expected("V2_NONE", 4, 2, 50, 1, ("192.0.2.100", "192.0.2.101")),
    Expected("V2_PASS", 4, 2, 51, 2, ("192.0.2.110",), packet.AUTH_PASS, b"secret12345"),
    Expected("V2_AH", 4, 2, 52, 1, ("192.0.2.120",), packet.AUTH_AH, b"k3y"),
    Expected("V3_IPV4", 4, 3, 53, 50, ("192.0.2.130",)),
    Expected("V3_IPV6", 6, 3, 53, 100, ("2001:db8::130",)),
    Expected("V3_UNICAST", 4, 3, 54, 100, ("192.0.2.140",), unicast=True),
)
IFNAME = "eth0"
HOST = SystemInfo(interfaces={"lo": 1, IFNAME: 2}, users={"root"}, groups={"root"},
                  probe_files=False)

# RouterStats fields that are not drop counters (the rest are, one per reason)
NOT_DROPS = frozenset({"advert_rcvd", "advert_sent", "became_master", "released_master",
                       "pri_zero_rcvd", "pri_zero_sent"})
# Router attributes that are not protocol state: the configuration, the logger, the counters
# (checked on their own) and the log rate limiter (a drop may be logged).
NOT_STATE = frozenset({"config", "log", "stats", "_drops"})


class PropertyFailure(AssertionError):
    """A datagram broke one of the receive path's properties."""


_config_cache: list[Any] = []


def _config() -> Any:
    if not _config_cache:
        result = load_config_text(CONFIG, system=HOST)
        assert not result.errors, [str(d) for d in result.errors]
        _config_cache.append(result.config)
    return _config_cache[0]


def router_state(router: VirtualRouter) -> dict[str, object]:
    """Every attribute of ``router`` but the few of :data:`NOT_STATE`, by value."""
    out: dict[str, object] = {}
    for name in VirtualRouter.__slots__:
        if name in NOT_STATE:
            continue
        value = getattr(router, name)
        if name == "tracking":
            value = (value.base_priority, value.entries, dict(value.status))
        elif name == "_faults":
            value = dict(value)
        elif name == "_actions":
            value = list(value)
        out[name] = value
    out["get_timer()"] = router.get_timer()
    return out


@dataclass
class Snapshot:
    routers: dict[str, dict[str, object]]
    stats: dict[str, dict[str, int]]
    invalid: dict[str, int]


@dataclass
class Outcome:
    """What one datagram did: "accepted", "rejected" (with the counter) or "ignored"."""

    kind: str
    counter: str = ""
    instance: str = ""


@dataclass
class Harness:
    """One VRRP process over :data:`CONFIG`, its routers started; see the module docstring."""

    masters: frozenset[str] = frozenset()
    faulted: frozenset[str] = frozenset()
    now: float = 100.0
    emitted: list[object] = field(default_factory=list)
    tried: int = 0

    def __post_init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        proc = VrrpProcess(_config())
        proc.build()
        proc.emit = self.emitted.extend  # type: ignore[method-assign,assignment]
        proc.arm = lambda group: None  # type: ignore[method-assign]
        proc.arm_one = lambda rt: None  # type: ignore[method-assign]
        self.proc = proc
        for rt in proc.instances.values():
            me = ipaddress.ip_address(ME4 if rt.plan.family == 4 else ME6)
            rt.src_ip = me
            rt.own_addresses = {me}
            rt.router.set_primary_address(me)
        for group in proc.all_groups():
            group.start(self.now)
        for name in self.faulted:
            router, group = self._member(name)
            group.set_fault(router, "fuzz", "held in FAULT by the harness", self.now)
        for name in self.masters - self.faulted:
            router, group = self._member(name)
            when = router.get_timer()
            assert when is not None
            group.handle_timer(router, when)
            assert router.state is State.MASTER, (name, router.state)
            self.now = max(self.now, when)
        self.emitted.clear()

    def _member(self, name: str) -> tuple[VirtualRouter, SyncGroup]:
        rt = self.proc.instances[name]
        assert rt.group is not None
        return rt.router, rt.group

    def close(self) -> None:
        self.proc.scheduler.close()
        self.proc.batch.addresses.close()
        self.loop.close()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def router(self, name: str) -> VirtualRouter:
        return self.proc.instances[name].router

    def snapshot(self) -> Snapshot:
        routers = {name: router_state(rt.router) for name, rt in self.proc.instances.items()}
        stats = {name: rt.router.stats.as_dict() for name, rt in self.proc.instances.items()}
        return Snapshot(routers, stats, dict(self.proc.invalid_packets))

    def deliver(self, dgram: Datagram, *, step: float = 0.01) -> Outcome:
        """Hand ``dgram`` to the process as its socket would; check every property."""
        self.tried += 1
        self.now += step
        before = self.snapshot()
        self.emitted.clear()
        pkt = ReceivedPacket(IFNAME, dgram.family, dgram.src, dgram.dst, dgram.ttl, dgram.data,
                             dgram.family == 4, self.now)
        try:
            self.proc.on_packet(pkt)
        except Exception as exc:
            raise PropertyFailure(f"{type(exc).__name__}: {exc} escaped on_packet for "
                                  f"{dgram.describe()}") from exc
        after = self.snapshot()
        return self._judge(dgram, before, after)

    # --- the properties ---------------------------------------------------------------------

    def _judge(self, dgram: Datagram, before: Snapshot, after: Snapshot) -> Outcome:
        def fail(why: str) -> PropertyFailure:
            return PropertyFailure(f"{why}\n  datagram: {dgram.describe()}")

        drops: list[tuple[str, str, int]] = []  # (where, counter, rise)
        received: list[str] = []
        for name, stats in after.stats.items():
            old = before.stats[name]
            for counter, value in stats.items():
                rise = value - old[counter]
                if rise < 0:
                    raise fail(f"{name}: counter {counter} fell from {old[counter]} to {value}")
                if not rise:
                    continue
                if counter == "advert_rcvd":
                    received.append(name)
                elif counter not in NOT_DROPS:
                    drops.append((name, counter, rise))
        for reason, value in after.invalid.items():
            rise = value - before.invalid.get(reason, 0)
            if rise:
                drops.append(("process", f"invalid_packets[{reason}]", rise))
        if len(drops) > 1 or (drops and drops[0][2] != 1):
            raise fail(f"one datagram rose several drop counters: {drops}")
        if len(received) > 1:
            raise fail(f"one datagram received by several instances: {received}")

        changed = {name: _diff(before.routers[name], state)
                   for name, state in after.routers.items()}
        changed = {name: diff for name, diff in changed.items() if diff}
        if drops:
            where, counter, _ = drops[0]
            if changed or self.emitted:
                raise fail(f"rejected ({where}: {counter}) but changed {changed} and asked "
                           f"for {self.emitted}")
            return Outcome("rejected", counter, where)
        if received:
            others = set(changed) - set(received)
            if others:
                raise fail(f"accepted by {received[0]} but changed {sorted(others)}: "
                           f"{ {n: changed[n] for n in others} }")
            return Outcome("accepted", instance=received[0])
        if changed or self.emitted:
            raise fail(f"neither counted nor received, but changed {changed} and asked for "
                       f"{self.emitted}")
        why = self._why_ignored(dgram)
        if why is None:
            raise fail("neither counted as a drop nor received, and not a datagram the "
                       "daemon ignores on purpose (foreign VRID, own source, instance out "
                       "of BACKUP/MASTER)")
        return Outcome("ignored", why)

    def _why_ignored(self, dgram: Datagram) -> str | None:
        """Why the daemon may ignore ``dgram`` without counting it, or None.

        Worked out from the datagram with the decoder's IPv4 header split only (a datagram
        that fails that split is counted by the process, never ignored).
        """
        if dgram.family == 4:
            try:
                ip = packet.decode_ipv4(dgram.data)
            except packet.PacketError:
                return None
            src: ipaddress.IPv4Address | ipaddress.IPv6Address = ip.src
            payload = ip.vrrp
        else:
            src = ipaddress.ip_address(dgram.src)
            payload = dgram.data
        if len(payload) < 2:
            return None  # too short to name an instance: must be counted
        rt = self.proc.by_key.get((IFNAME, dgram.family, payload[1]))
        if rt is None:
            return f"VRID {payload[1]} not run here"
        if rt.is_own_source(src):
            return "own source address"
        if rt.router.state not in (State.BACKUP, State.MASTER):
            return f"{rt.name} in {rt.router.state.value}"
        return None


def _diff(old: dict[str, object], new: dict[str, object]) -> dict[str, tuple[object, object]]:
    return {k: (old[k], v) for k, v in new.items() if old.get(k) != v}


def drop_counters() -> list[str]:
    """The names of RouterStats' drop counters."""
    return [name for name in RouterStats.__dataclass_fields__ if name not in NOT_DROPS]
