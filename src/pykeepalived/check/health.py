"""The health of every real server, without I/O: check results and time in, events out.

keepalived's rules (check_api.c, ipwrapper.c), for every checker kind alike:

* a checker first runs after a random part of ``warmup`` (plus a short bootstrap delay), then
  every ``delay_loop``; a failure is retried ``retry`` times, ``delay_before_retry`` apart,
  before it counts; one success counts at once;
* a checker starts up, or down in ``alpha`` mode; a real server is alive while none of its
  checkers is down (one without checkers always is);
* a dead real server leaves the pool, or stays in it with weight 0 (``inhibit_on_failure``);
* the virtual server has its quorum while the weight of its live servers is at least
  ``quorum`` (``hysteresis`` widens the band both ways); without it the ``sorry_server``
  replaces the live servers (``sorry_server_inhibit``: it stays in the pool at weight 0 while
  not needed);
* MISC_CHECK (misc_dynamic) and FILE_CHECK set a real server's weight;
* ``ha_suspend``: no checks and no rules while the virtual server's address is not on this
  node (the VRRP master holds it).

The driver asks :meth:`HealthCore.due` which checks to run, runs each (one attempt), and hands
the result to :meth:`HealthCore.result`; every call returns the events it caused, and
:meth:`HealthCore.services` is the table the kernel must hold now. Time is the caller's ``now``.

Ten thousand checkers at a delay_loop of 1 s wake the driver ten thousand times a second, so
:meth:`HealthCore.next_time` and :meth:`HealthCore.due` never scan the checkers: a deadline
set by a result (now + delay_loop, or delay_before_retry) joins a first-in first-out queue
of that delay, which its time order keeps sorted; the others (first runs, reloads, ha_suspend
resumes) go to a heap. Either costs the same for 10 or 10,000 checkers.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address

from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.weights import IPVS_WEIGHT_LIMIT, checker_weight
from pykeepalived.config.model_lvs import Checker, RealServer, VirtualServer
from pykeepalived.lb.model import Destination, Service, Tunnel

IPAddress = IPv4Address | IPv6Address

BOOTSTRAP_DELAY = 1.0  # keepalived waits TIMER_HZ before the first checks


# --------------------------------------------------------------------------- events
@dataclass(frozen=True, slots=True)
class RealServerChanged:
    """A real server became alive or dead (notify_up / notify_down, FIFO ``RS ... UP``)."""

    vs: VirtualServerHealth
    rs: RealServerHealth
    alive: bool
    reason: str


@dataclass(frozen=True, slots=True)
class QuorumChanged:
    """A virtual server gained or lost its quorum (quorum_up / quorum_down, FIFO ``VS``)."""

    vs: VirtualServerHealth
    up: bool
    weight: int
    threshold: int
    initial: bool = False


@dataclass(frozen=True, slots=True)
class WeightChanged:
    """A dynamic checker moved a real server's weight."""

    vs: VirtualServerHealth
    rs: RealServerHealth
    old: int
    new: int


@dataclass(frozen=True, slots=True)
class CheckFailed:
    """One attempt failed while its checker was still counted up (``log_all_failures``) or
    a retry is pending: for the log only."""

    check: CheckerHealth
    result: CheckResult
    retrying: bool


Event = RealServerChanged | QuorumChanged | WeightChanged | CheckFailed


# --------------------------------------------------------------------------- state
@dataclass(eq=False, slots=True)
class CheckerHealth:
    """One checker of one real server (keepalived checker_t)."""

    spec: Checker
    rs: RealServerHealth
    target: Target
    is_up: bool
    has_run: bool = False
    retry_it: int = 0
    next_run: float | None = None
    running: bool = False
    last: CheckResult | None = None
    latency: float | None = None  # how long the last attempt took, in seconds
    delta: int = 0  # what this checker adds to the configured weight (MISC/FILE dynamic)
    watched: bool = False  # its results come to it (see HealthCore.watched): never scheduled

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def vs(self) -> VirtualServerHealth:
        return self.rs.vs

    def __str__(self) -> str:
        return f"{self.kind} {self.target}"


@dataclass(eq=False)
class RealServerHealth:
    """A real server of one virtual server, with its checkers."""

    spec: RealServer
    vs: VirtualServerHealth
    port: int
    inhibit: bool
    checkers: list[CheckerHealth] = field(default_factory=list)
    alive: bool = True
    weight: int = 1  # effective weight (configured, or set by a dynamic checker)

    @property
    def address(self) -> IPAddress:
        return self.spec.address

    def failed(self) -> int:
        return sum(not c.is_up for c in self.checkers)

    def __str__(self) -> str:
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{host}:{self.port}"


@dataclass(eq=False)
class VirtualServerHealth:
    """A virtual server, its real servers, its quorum and sorry server."""

    spec: VirtualServer
    real_servers: list[RealServerHealth] = field(default_factory=list)
    quorum_up: bool = True
    sorry_active: bool = False
    suspended: bool = False  # ha_suspend and the address is not here

    @property
    def name(self) -> str:
        return self.spec.describe()

    def live_weight(self) -> int:
        return sum(real_weight(rs.weight) for rs in self.real_servers if rs.alive)

    def __str__(self) -> str:
        return self.name


def real_weight(weight: int) -> int:
    """keepalived real_weight(): an effective weight clamped to what IPVS takes."""
    return max(0, min(IPVS_WEIGHT_LIMIT, weight))


# --------------------------------------------------------------------------- the core
class HealthCore:
    """Every virtual server of a configuration and the health of its real servers."""

    def __init__(self, virtual_servers: Sequence[VirtualServer], *,
                 rand: Callable[[], float] = random.random,
                 bootstrap: float = BOOTSTRAP_DELAY) -> None:
        self.rand = rand
        self.bootstrap = bootstrap
        self.virtual_servers = [self._build(vs) for vs in virtual_servers]
        self.started = False
        # (deadline, tie-breaker, checker): an entry is live while the checker's next_run is
        # still that deadline and it is not running; stale ones are dropped when they surface
        self._schedule: list[tuple[float, int, CheckerHealth]] = []
        self._order = itertools.count()
        # delay -> (deadline, checker) of results, in deadline order: the next run after a
        # result is now + delay_loop (or delay_before_retry), so a queue per delay stays
        # sorted by itself, and adding and taking cost the same for 10 or 10,000 checkers
        # (a heap of 10,000 compares 14 tuples a push)
        self._lanes: dict[float, deque[tuple[float, CheckerHealth]]] = {}

    @staticmethod
    def _build(spec: VirtualServer) -> VirtualServerHealth:
        vs = VirtualServerHealth(spec)
        for rs_spec in spec.real_servers:
            inhibit = bool(rs_spec.inhibit_on_failure if rs_spec.inhibit_on_failure
                           is not None else spec.inhibit_on_failure)
            rs = RealServerHealth(rs_spec, vs, rs_spec.port if rs_spec.port is not None
                                  else (spec.port or 0), inhibit, weight=rs_spec.weight)
            for ck in rs_spec.checkers:
                address = ck.connect_ip if ck.connect_ip is not None else rs_spec.address
                port = ck.connect_port if ck.connect_port is not None else rs.port
                target = Target(address, port, float(ck.connect_timeout or spec.connect_timeout),
                                ck.bindto, ck.bind_port, ck.bind_if, ck.fwmark,
                                rs_spec.virtualhost or spec.virtualhost)
                alpha = bool(ck.alpha if ck.alpha is not None else spec.alpha)
                rs.checkers.append(CheckerHealth(ck, rs, target, is_up=not alpha))
            rs.alive = rs.failed() == 0
            vs.real_servers.append(rs)
        return vs

    # --- the driver's API ------------------------------------------------------------------

    def start(self, now: float) -> list[Event]:
        """keepalived set_quorum_states + init_services + register_checkers_thread."""
        self.started = True
        events: list[Event] = []
        for vs in self.virtual_servers:
            spec = vs.spec
            vs.quorum_up = vs.live_weight() >= spec.quorum + spec.hysteresis
            self._update_quorum(vs, events, initial=True)
            for rs in vs.real_servers:
                for ck in rs.checkers:
                    self._schedule_first(ck, now)
        return events

    def checkers(self) -> list[CheckerHealth]:
        return [ck for vs in self.virtual_servers for rs in vs.real_servers
                for ck in rs.checkers]

    def next_time(self) -> float | None:
        """When :meth:`due` next has something, or None."""
        earliest: float | None = None
        schedule = self._schedule
        while schedule:
            when, _, ck = schedule[0]
            if ck.next_run == when and not ck.running and not ck.rs.vs.suspended:
                earliest = when
                break
            heapq.heappop(schedule)  # stale, or held back by ha_suspend (rescheduled on resume)
        for lane in self._lanes.values():
            while lane:
                when, ck = lane[0]
                if ck.next_run == when and not ck.running and not ck.rs.vs.suspended:
                    if earliest is None or when < earliest:
                        earliest = when
                    break
                lane.popleft()
        return earliest

    def due(self, now: float) -> list[CheckerHealth]:
        """The checks to start now, earliest deadline first; each is marked running until
        its result comes back."""
        out: list[CheckerHealth] = []
        whens: list[float] = []  # their deadlines, to merge the heap's and the queues'
        schedule = self._schedule
        while schedule and schedule[0][0] <= now:
            when, _, ck = heapq.heappop(schedule)
            if ck.next_run == when and not ck.running and not ck.rs.vs.suspended:
                ck.running = True
                ck.next_run = None
                out.append(ck)
                whens.append(when)
        sources = 1 if out else 0
        for lane in self._lanes.values():
            if not lane or lane[0][0] > now:
                continue
            sources += 1
            while lane and lane[0][0] <= now:
                when, ck = lane.popleft()
                if ck.next_run == when and not ck.running and not ck.rs.vs.suspended:
                    ck.running = True
                    ck.next_run = None
                    out.append(ck)
                    whens.append(when)
        if sources > 1:
            order = sorted(range(len(out)), key=whens.__getitem__)
            out = [out[i] for i in order]
        return out

    def _set_next_run(self, ck: CheckerHealth, when: float | None,
                      delay: float | None = None) -> None:
        """The one way a checker's next run is set. ``delay``: it is ``now + delay`` of a
        result, which joins the lane of that delay when it comes no earlier than the lane's
        last deadline (results come in time order, so it always does while ``now`` does not
        go back); any other deadline joins the heap."""
        ck.next_run = when
        if when is None:
            return
        if delay is not None:
            lane = self._lanes.get(delay)
            if lane is None:
                lane = self._lanes[delay] = deque()
            if not lane or lane[-1][0] <= when:
                lane.append((when, ck))
                return
        heapq.heappush(self._schedule, (when, next(self._order), ck))

    def result(self, ck: CheckerHealth, result: CheckResult, now: float) -> list[Event]:
        """One attempt of ``ck`` finished (keepalived's <checker>_epilog)."""
        ck.running = False
        ck.last = result
        events: list[Event] = []
        vs = ck.rs.vs
        if vs.suspended:
            return events
        # (a result without a weight adds nothing: no call for the thousands of those)
        delta = 0 if result.weight is None else checker_weight(ck.kind, result,
                                                                ck.rs.spec.weight)
        if delta != ck.delta:
            self._set_weight(ck, delta, events)
        spec = ck.spec
        if result.ok or ck.retry_it >= (spec.retry or 0):
            delay = float(spec.delay_loop or vs.spec.delay_loop)
            ck.retry_it = 0
            if result.ok and (not ck.is_up or not ck.has_run):
                self._checker_state(ck, True, result.detail, events)
            elif not result.ok and (ck.is_up or not ck.has_run):
                self._checker_state(ck, False, result.detail, events)
            elif not result.ok and ck.spec.log_all_failures:
                events.append(CheckFailed(ck, result, retrying=False))
        else:
            delay = float(ck.spec.delay_before_retry if ck.spec.delay_before_retry is not None
                          else 1.0)
            ck.retry_it += 1
            events.append(CheckFailed(ck, result, retrying=True))
        ck.has_run = True
        self._set_next_run(ck, now + delay, delay)
        return events

    def watched(self, ck: CheckerHealth, result: CheckResult) -> list[Event]:
        """A result of a checker that is told rather than run (``ck.watched``: FILE_CHECK,
        whose file is watched, as keepalived watches it): it counts at once, without retries.
        Before :meth:`start` it is the checker's state from the start, and reports nothing
        (keepalived reads track files while it loads the configuration)."""
        ck.last = result
        delta = checker_weight(ck.kind, result, ck.rs.spec.weight)
        events: list[Event] = []
        if not self.started:
            ck.is_up, ck.has_run, ck.delta = result.ok, True, delta
            rs = ck.rs
            rs.weight = rs.spec.weight + sum(c.delta for c in rs.checkers)
            rs.alive = rs.failed() == 0
            return events
        if delta != ck.delta:
            self._set_weight(ck, delta, events)
        if result.ok != ck.is_up or not ck.has_run:
            self._checker_state(ck, result.ok, result.detail, events)
        return events

    def suspend(self, vs: VirtualServerHealth, suspended: bool, now: float) -> list[Event]:
        """ha_suspend: the virtual server's address left (or came back to) this node."""
        if vs.suspended == suspended:
            return []
        vs.suspended = suspended
        if not suspended:
            for rs in vs.real_servers:
                for ck in rs.checkers:
                    ck.running = False
                    self._schedule_first(ck, now)
        return []

    def adopt(self, old: HealthCore, now: float) -> list[Event]:
        """After a reload: what did not change keeps its state.

        A virtual server is the same when it names the same service; a real server when it
        has the same address and port and the same checkers (keepalived migrate_checkers):
        its checks go on as scheduled, it stays in (or out of) the pool, and a failed one is
        not re-added at once. The rest starts as at start-up (alpha checkers down).
        """
        self.started = True
        events: list[Event] = []
        previous = {_vs_key(v.spec): v for v in old.virtual_servers}
        for vs in self.virtual_servers:
            before = previous.get(_vs_key(vs.spec))
            kept = {(rs.address, rs.port, _checkers_key(rs)): rs
                    for rs in (before.real_servers if before else [])}
            for rs in vs.real_servers:
                prior = kept.get((rs.address, rs.port, _checkers_key(rs)))
                if prior is None:
                    for ck in rs.checkers:
                        self._schedule_first(ck, now)
                    continue
                rs.alive = prior.alive
                for ck, was in zip(rs.checkers, prior.checkers, strict=True):
                    ck.is_up, ck.has_run, ck.retry_it = was.is_up, was.has_run, was.retry_it
                    ck.last, ck.delta = was.last, was.delta
                    if ck.watched:  # told, never scheduled (FILE_CHECK)
                        ck.next_run = was.next_run
                    else:
                        # an attempt in flight belonged to the old one: this one runs now
                        self._set_next_run(ck, now if was.running or was.next_run is None
                                           else was.next_run)
                rs.weight = rs.spec.weight + sum(c.delta for c in rs.checkers)
            if before is not None:
                vs.quorum_up, vs.sorry_active = before.quorum_up, before.sorry_active
                vs.suspended = before.suspended
            else:
                spec = vs.spec
                vs.quorum_up = vs.live_weight() >= spec.quorum + spec.hysteresis
            self._update_quorum(vs, events, initial=before is None)
        return events

    def stop(self) -> list[Event]:
        """Shutting down: with ``omega``, the down notifications of what was up."""
        events: list[Event] = []
        for vs in self.virtual_servers:
            if not vs.spec.omega:
                continue
            for rs in vs.real_servers:
                if rs.alive:
                    rs.alive = False
                    events.append(RealServerChanged(vs, rs, False, "shutting down"))
            if vs.quorum_up:
                vs.quorum_up = False
                events.append(QuorumChanged(vs, False, 0, vs.spec.quorum - vs.spec.hysteresis))
        return events

    # --- the rules ---------------------------------------------------------------------------

    def _schedule_first(self, ck: CheckerHealth, now: float) -> None:
        if ck.watched:
            return
        warmup = float(ck.spec.warmup or 0)
        self._set_next_run(ck, now + self.bootstrap + (warmup * self.rand() if warmup else 0.0))

    def _checker_state(self, ck: CheckerHealth, up: bool, reason: str,
                       events: list[Event]) -> None:
        """keepalived update_svr_checker_state: the last checker to fail takes the real
        server down, the last to recover brings it back."""
        ck.has_run = True
        if ck.is_up == up:
            return
        rs = ck.rs
        failed = rs.failed()
        ck.is_up = up
        if (up and failed <= 1) or (not up and failed == 0):
            self._server_state(rs, up, reason, events)

    def _server_state(self, rs: RealServerHealth, alive: bool, reason: str,
                      events: list[Event]) -> None:
        """keepalived perform_svr_state."""
        if rs.alive == alive:
            return
        rs.alive = alive
        events.append(RealServerChanged(rs.vs, rs, alive, reason))
        self._update_quorum(rs.vs, events)

    def _set_weight(self, ck: CheckerHealth, delta: int, events: list[Event]) -> None:
        """keepalived update_svr_wgt: effective weight = configured + every checker's part."""
        rs = ck.rs
        ck.delta = delta
        old = rs.weight
        new = rs.spec.weight + sum(c.delta for c in rs.checkers)
        rs.weight = new
        if real_weight(new) != real_weight(old):
            events.append(WeightChanged(rs.vs, rs, real_weight(old), real_weight(new)))
            self._update_quorum(rs.vs, events)

    def _update_quorum(self, vs: VirtualServerHealth, events: list[Event],
                       initial: bool = False) -> None:
        """keepalived update_quorum_state."""
        spec = vs.spec
        weight = vs.live_weight()
        threshold = spec.quorum + (-1 if vs.quorum_up else 1) * spec.hysteresis
        has_sorry = spec.sorry_server is not None
        if not vs.quorum_up and weight >= threshold:
            vs.quorum_up = True
            vs.sorry_active = False
            events.append(QuorumChanged(vs, True, weight, threshold, initial))
        elif (vs.quorum_up and (not weight or weight < threshold)) or (
                initial and not vs.quorum_up and has_sorry and not vs.sorry_active):
            vs.quorum_up = False
            vs.sorry_active = has_sorry
            events.append(QuorumChanged(vs, False, weight, threshold, initial))

    # --- the table ---------------------------------------------------------------------------

    def destinations(self, vs: VirtualServerHealth) -> tuple[Destination, ...]:
        """The pool of ``vs`` now: live servers, inhibited dead ones at weight 0, or the
        sorry server while the quorum is lost."""
        spec = vs.spec
        out: list[Destination] = []
        for rs in vs.real_servers:
            if rs.alive and not vs.sorry_active:
                out.append(self._destination(vs, rs, real_weight(rs.weight)))
            elif rs.inhibit and not rs.alive:
                out.append(self._destination(vs, rs, 0))
        if spec.sorry_server is not None and (vs.sorry_active or spec.sorry_server_inhibit):
            address, port = spec.sorry_server
            method = spec.sorry_server_lvs_method or spec.lvs_method
            out.append(Destination(address, port if port is not None else (spec.port or 0),
                                   1 if vs.sorry_active else 0, method.upper()))
        return tuple(out)

    @staticmethod
    def _destination(vs: VirtualServerHealth, rs: RealServerHealth,
                     weight: int) -> Destination:
        spec = rs.spec
        method = (spec.lvs_method or vs.spec.lvs_method).upper()
        tunnel_spec = spec.tunnel or vs.spec.tunnel
        tunnel = (Tunnel(tunnel_spec.type, tunnel_spec.port, tunnel_spec.csum)
                  if method == "TUN" and tunnel_spec is not None else None)
        return Destination(rs.address, rs.port, weight, method, tunnel,
                           spec.uthreshold or 0, spec.lthreshold or 0)

    def services(self, groups: dict[str, list[Service]] | None = None) -> list[Service]:
        """The table the kernel must hold: one service per virtual server (per address and
        fwmark of a virtual_server_group), none while ha_suspend holds it back.

        ``groups`` maps a virtual_server_group name to its services without destinations
        (see :func:`pykeepalived.check.table.group_services`)."""
        out: list[Service] = []
        for vs in self.virtual_servers:
            if vs.suspended:
                continue
            dests = self.destinations(vs)
            out += [dataclasses.replace(base, destinations=dests)
                    for base in service_bases(vs.spec, groups or {})]
        return out


def _vs_key(spec: VirtualServer) -> tuple[object, ...]:
    return (spec.address, spec.port, spec.fwmark, spec.group, spec.protocol)


def _checkers_key(rs: RealServerHealth) -> tuple[object, ...]:
    """A real server's checkers as configured (their place in the file aside)."""
    return tuple((ck.kind, ck.target, tuple(
        (f.name, repr(getattr(ck.spec, f.name))) for f in dataclasses.fields(ck.spec)
        if f.name != "location")) for ck in rs.checkers)


def service_bases(spec: VirtualServer, groups: dict[str, list[Service]]) -> list[Service]:
    """The services a virtual_server stands for, without destinations."""
    if spec.group is not None:
        bases = [dataclasses.replace(b, protocol=spec.protocol,
                                     port=spec.port if b.port == 0 and spec.port else b.port)
                 for b in groups.get(spec.group, [])]
    elif spec.fwmark is not None:
        bases = [Service(spec.protocol, None, 0, spec.fwmark, spec.ip_family or 4)]
    else:
        assert spec.address is not None
        bases = [Service(spec.protocol, spec.address, spec.port or 0, None,
                         spec.address.version)]
    return [dataclasses.replace(b, scheduler=spec.lvs_sched, flags=tuple(spec.lvs_flags),
                                persistence_timeout=spec.persistence_timeout,
                                persistence_granularity=spec.persistence_granularity)
            for b in bases]
