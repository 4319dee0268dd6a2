"""The state machine of one VRRP virtual router (``vrrp_instance``), without I/O.

The driver feeds it adverts that decoded cleanly (``receive_advert``), decode failures
(``receive_invalid``), timer expiries (``handle_timer`` when ``now >= get_timer()``), what
tracking observed (``track``), faults of the driver's own (``set_fault`` / ``clear_fault``,
for example an interface that cannot carry adverts) and ``shutdown``; it drains ``actions()``
after each call and carries them out in order. Time is always the caller's ``now``
(monotonic seconds), so tests drive it with a fake clock.

Which state follows which event, and what is done on the way, is the table in
:mod:`pykeepalived.vrrp.fsm`: this module classifies inputs into events, looks the row up and
runs its steps. The details are keepalived's: timers of RFC 5798 6.1 (v2 skew is
(256 - priority) / 256 s whatever the interval, v3 scales it by Master_Adver_Interval),
preempt / nopreempt / preempt_delay, the address owner, priority 0 on leaving MASTER, the receive
checks and their counters, AH sequence numbers, gratuitous ARP bursts.

Beyond keepalived, a master can hand over on purpose (``hand_over``, ``drain``): it sends
priority 0 but keeps its VIPs until the new master has advertised twice, so that clients never
find nobody answering for them (make-before-break, see :mod:`pykeepalived.vrrp.fsm`).

A router knows nothing of sync groups. :class:`~pykeepalived.vrrp.sync_group.SyncGroup` decides
for it, through the ``allow_master`` / ``may_recover`` arguments and ``group_event``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address

from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import (
    Action,
    AddVips,
    LowerPriorityReceived,
    MasterGap,
    PriorityChanged,
    RemoveVips,
    SendAdvert,
    SendGratuitous,
    State,
    StateChange,
)
from pykeepalived.vrrp.fsm import TRANSITIONS, Do, Event
from pykeepalived.vrrp.options import RouterConfig, vip_address
from pykeepalived.vrrp.packet import Advert, IPAddress
from pykeepalived.vrrp.stats import DropLog, RouterStats
from pykeepalived.vrrp.tracking import InstanceTracking

__all__ = ["PRIORITY_OWNER", "PRIORITY_STOP", "RouterConfig", "VirtualRouter"]

PRIORITY_OWNER = 255  # RFC 5798 5.2.4: the router that owns the addresses
PRIORITY_STOP = 0  # RFC 5798 5.2.4: "current Master has stopped participating"
_AH_SEQ_MAX = 0xFFFFFFFD  # keepalived: stop counting here and call the counter cycled
_NO_ACTIONS: list[Action] = []
# The states and the event of every advert a backup accepts, as module names: on Python
# 3.11 reading an Enum member off its class (State.BACKUP) takes about 75 ns, a module
# global 9 ns, and the receive path reads several per advert.
_BACKUP, _MASTER = State.BACKUP, State.MASTER
_ADVERT_ACCEPTED = Event.ADVERT_ACCEPTED


class VirtualRouter:
    """One virtual router: RFC 5798 6.4 plus keepalived's FAULT and STOP states."""

    # Every attribute of a router, as slots: 1,000 routers take 1.6 MiB less than with a
    # dict each, and the per-advert path reads them from a few cache lines.
    __slots__ = (
        "_actions", "_advert_action", "_advert_zero", "_ah_cycle", "_ah_seq", "_alive_at",
        "_alive_from", "_auth_key", "_drained", "_drops", "_faults", "_from_state",
        "_garp_delay_at", "_garp_lower_at", "_garp_refresh_at", "_gone_at", "_leave_at",
        "_leave_for", "_master_adver_int", "_now", "_old_state", "_planned", "_preempt_time",
        "_priority", "_reason", "_rx", "_rx_ah_seq", "_rx_source", "_sands", "_started",
        "_state", "_successor", "_successor_adverts", "_wantstate", "_yielding",
        "adver_int", "auth_type",
        "base_priority", "config", "down_timer_adverts", "family", "garp_lower_prio_delay",
        "garp_lower_prio_repeat", "garp_master_delay", "garp_master_refresh",
        "garp_master_refresh_repeat", "garp_master_repeat", "higher_prio_send_advert", "log",
        "lower_prio_no_advert", "master_address", "master_priority", "name", "nopreempt",
        "preempt_delay", "primary_address", "stats", "strict", "tracking", "unicast", "version",
        "vips", "vrid",
    )

    def __init__(self, config: RouterConfig, log: logging.Logger | None = None) -> None:
        self.config = config
        self.log = log or logging.getLogger("pykeepalived.vrrp")
        self.name = config.name
        self.vrid = config.vrid
        self.family = config.family
        self.version = config.version
        if self.family == 6 and self.version == 2:
            self.log.warning("(%s) VRRPv2 is IPv4 only; using version 3", self.name)
            self.version = 3
        self.vips = tuple(packet.shared_address(vip_address(v)) for v in config.vips)
        if self.version == 2:
            self.adver_int = float(max(1, min(255, round(config.advert_int))))
        else:
            self.adver_int = max(1, min(0xFFF, round(config.advert_int * 100))) / 100
        self.base_priority = config.priority
        self.strict = config.strict
        self.unicast = config.unicast
        self.down_timer_adverts = config.down_timer_adverts
        self.primary_address = config.primary_address
        self._resolve_options(config)

        self.stats = RouterStats()
        self.master_address: IPAddress | None = None
        self.master_priority = 0
        self._state = State.INIT
        owner_master = self.base_priority == PRIORITY_OWNER and config.initial_state != "BACKUP"
        self._wantstate = (State.MASTER if owner_master or config.initial_state == "MASTER"
                           else State.BACKUP)
        self._started = False
        self.tracking = InstanceTracking(self.base_priority, config.tracking)
        self._priority = self.base_priority
        self._master_adver_int = self.adver_int
        self._sands: float | None = None  # Master_Down_Timer (BACKUP) or Adver_Timer (MASTER)
        self._garp_delay_at: float | None = None
        self._garp_lower_at: float | None = None
        self._garp_refresh_at: float | None = None
        self._preempt_time: float | None = None
        # availability: the last sign of a master (its advert, or ours as master), and the
        # time the master said goodbye (priority 0); None: not known (start, FAULT)
        self._alive_at: float | None = None
        self._alive_from: IPAddress | None = None  # whose sign it was (None: ours)
        self._gone_at: float | None = None
        self._from_state = State.INIT  # the state the transition being run started from
        # planned hand-over: the state a leaving master goes to (None: not leaving), when it
        # releases the VIPs anyway, the new master and how many of its adverts were heard
        self._leave_for: State | None = None
        self._leave_at: float | None = None
        self._successor: IPAddress | None = None
        self._successor_adverts = 0
        self._planned = False  # the master said goodbye: our takeover is a planned one
        self._yielding = False  # handed over: accept a lower-priority master (nopreempt)
        self._drained = False  # drained: effective priority 1 until resumed
        self._faults: dict[str, str] = {}  # the driver's own faults: source -> reason
        self._actions: list[Action] = []
        self._drops = DropLog(self.log)
        self._ah_seq = 0
        self._ah_cycle = False
        # what the step functions of the current transition work on
        self._now = 0.0
        self._reason = ""
        self._old_state = State.INIT
        self._rx: Advert | None = None
        self._rx_source: IPAddress | None = None
        self._rx_ah_seq: int | None = None
        self._rebuild_adverts()

    def _resolve_options(self, config: RouterConfig) -> None:
        """Apply keepalived's option interactions (vrrp_complete_instance) with its warnings."""
        auth = (config.auth_type or "").upper()
        if auth and self.strict:
            self.log.warning("(%s) Strict mode does not support authentication. Ignoring.",
                             self.name)
            auth = ""
        elif auth and self.version == 3:
            self.log.warning("(%s) VRRP version 3 does not support authentication. Ignoring.",
                             self.name)
            auth = ""
        self.auth_type = {"": packet.AUTH_NONE, "PASS": packet.AUTH_PASS,
                          "AH": packet.AUTH_AH}.get(auth, packet.AUTH_NONE)
        self._auth_key = packet.auth_key(config.auth_pass) if self.auth_type else b""

        self.nopreempt = config.nopreempt and self.base_priority != PRIORITY_OWNER
        self.preempt_delay = config.preempt_delay
        if config.initial_state == "MASTER":
            self.nopreempt = False
            self.preempt_delay = 0.0
        if self.strict or self.nopreempt:
            self.preempt_delay = 0.0
        self.lower_prio_no_advert = config.lower_prio_no_advert or self.strict
        self.higher_prio_send_advert = config.higher_prio_send_advert and not self.strict
        self.garp_master_delay = config.garp_master_delay
        self.garp_master_repeat = config.garp_master_repeat
        self.garp_master_refresh = config.garp_master_refresh
        self.garp_master_refresh_repeat = config.garp_master_refresh_repeat
        lower_rep = config.garp_lower_prio_repeat
        lower_delay = config.garp_lower_prio_delay
        self.garp_lower_prio_repeat = 0 if self.strict else (
            self.garp_master_repeat if lower_rep is None else lower_rep)
        self.garp_lower_prio_delay = 0.0 if self.strict else (
            self.garp_master_delay if lower_delay is None else lower_delay)

    # --- read-only view -----------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def wantstate(self) -> State:
        """The state this router would be in if it were not in a sync group (keepalived)."""
        return self._wantstate

    @property
    def started(self) -> bool:
        return self._started

    @property
    def priority(self) -> int:
        """The effective priority: base priority adjusted by tracking, sent in adverts."""
        return self._priority

    @property
    def faults(self) -> frozenset[str]:
        """Why the router is (or would be) in FAULT: tracked objects and the driver's faults."""
        return frozenset(self.tracking.faults()) | frozenset(self._faults.values())

    @property
    def fault_sources(self) -> frozenset[str]:
        """The sources of the driver's own faults (as given to :meth:`set_fault`)."""
        return frozenset(self._faults)

    @property
    def has_fault(self) -> bool:
        return bool(self._faults) or bool(self.tracking.faults())

    @property
    def leaving(self) -> bool:
        """A MASTER handing over: priority-0 adverts sent, VIPs kept until the new master is
        in place (or Master_Down_Interval passed)."""
        return self._leave_for is not None

    @property
    def handover_ready(self) -> bool:
        """Leaving, and the new master advertised twice: the VIPs may go (a sync group waits
        until every leaving member is ready)."""
        return self._leave_for is not None and self._successor_adverts >= 2

    @property
    def drained(self) -> bool:
        return self._drained

    @property
    def yielding(self) -> bool:
        """Handed over (or drained): accepts a lower-priority master instead of preempting."""
        return self._yielding

    @property
    def master_adver_int(self) -> float:
        """RFC 5798 6.1: the interval the current master advertises (v2: always our own)."""
        return self._master_adver_int

    @property
    def skew_time(self) -> float:
        """RFC 5798 6.1 / RFC 3768 6.1 Skew_Time for the effective priority."""
        return self._skew(self._priority)

    @property
    def master_down_interval(self) -> float:
        """RFC 5798 6.1: down_timer_adverts (3) * Master_Adver_Interval + Skew_Time."""
        return self.down_timer_adverts * self._master_adver_int + self.skew_time

    @property
    def advert(self) -> Advert:
        """The advert this router sends as master (current effective priority)."""
        return self._advert_action.advert

    def _skew(self, priority: int) -> float:
        if self.version == 3:
            return (256 - priority) * self._master_adver_int / 256
        return (256 - priority) / 256

    # --- driver API -------------------------------------------------------------------------

    def keep_ah_sequence(self, previous: VirtualRouter) -> None:
        """Carry the AH sequence counter over from the router this one replaces (a reload).

        The counter is all there is of AH's anti-replay (RFC 2402 3.4.3): a router that began
        again from 0 would take every advert captured before the reload as new, and follow a
        replayed higher-priority master. keepalived keeps the counter over a reload too.
        """
        self._ah_seq, self._ah_cycle = previous._ah_seq, previous._ah_cycle

    def set_primary_address(self, address: IPAddress | None) -> None:
        """Our advert source address, compared with a peer's on equal priority."""
        self.primary_address = address

    def actions(self) -> list[Action]:
        """Everything the router asked for since the last call, oldest first."""
        if not self._actions:
            return _NO_ACTIONS
        queued, self._actions = self._actions, []
        return queued

    def get_timer(self) -> float | None:
        """The earliest absolute time at which ``handle_timer`` has work, or None."""
        when = self._sands
        if (self._garp_delay_at is None and self._garp_lower_at is None
                and self._garp_refresh_at is None and self._leave_at is None):
            return when  # a backup, after each advert: its Master_Down_Timer alone
        for other in (self._garp_delay_at, self._garp_lower_at, self._garp_refresh_at,
                      self._leave_at):
            if other is not None and (when is None or other < when):
                when = other
        return when

    def start(self, now: float, *, resume_master: bool = False,
              allow_master: bool = True, as_backup: bool = False) -> None:
        """Leave INIT (RFC 5798 6.4.1): owner to MASTER, others to BACKUP, or FAULT.

        ``resume_master`` is for a configuration reload: an instance that was MASTER under the
        old configuration goes straight back to MASTER, as the owner does, so its VIPs never
        leave the interface; a better master on the segment takes over in the usual way.
        ``allow_master`` False (a sync group not ready) makes a router that would start as
        MASTER wait one advert interval as BACKUP, wanting MASTER (keepalived vrrp_init_state).
        ``as_backup`` starts an owner as a plain backup: keepalived's rule for a sync group
        whose members do not all want MASTER.
        """
        if self._started:
            return
        self._started = True
        self._apply_priority(now)
        if self.has_fault:
            self._wantstate = State.FAULT
            self._fire(Event.FAULT, now, "fault at startup: " + ", ".join(sorted(self.faults)))
        elif resume_master or (self.base_priority == PRIORITY_OWNER and not as_backup
                               and self._wantstate is State.MASTER):
            if allow_master:
                self._fire(Event.STARTUP_OWNER, now, "resumed as master after reload"
                           if resume_master else "startup as address owner")
            else:
                self._wantstate = State.MASTER
                self._fire(Event.STARTUP_HELD, now, "startup, sync group not ready")
        else:
            self._wantstate = State.BACKUP
            self._fire(Event.STARTUP, now, "startup")

    def shutdown(self, now: float) -> None:
        """Leave the protocol: a master sends priority 0 and drops its VIPs; all go to STOP."""
        if self._state is not State.STOP:
            self._fire(Event.SHUTDOWN, now, "shutdown")

    def hand_over(self, now: float, *, stop: bool = False) -> None:
        """Planned hand-over (make-before-break): a MASTER sends priority 0, as keepalived
        does on stop, so that the best backup takes over after its Skew_Time; but it keeps
        its VIPs and answers for them until the new master has advertised twice (its
        gratuitous ARPs went out in between), or until Master_Down_Interval has passed.

        ``stop`` (TERM): it then goes to STOP, and a router that is not MASTER stops at once.
        Otherwise it stays a BACKUP that does not preempt the new master (:attr:`yielding`);
        a router that is not MASTER has nothing to hand over.
        """
        if self._state is State.MASTER:
            if self._leave_for is None:
                self._leave_for = State.STOP if stop else State.BACKUP
                self.log.info("(%s) Handing over: priority 0 sent, the VIPs stay until the new "
                              "master is in place (at most %.3f s)", self.name,
                              self.master_down_interval)
                self._fire(Event.HANDOVER, now, "planned hand-over")
            elif stop:
                self._leave_for = State.STOP
        elif stop:
            self.shutdown(now)

    def release_handover(self, now: float, reason: str) -> None:
        """End a hand-over now: release the VIPs and go where it was going (a sync group
        calls this for every leaving member once all are ready, or one was released)."""
        if self._state is State.MASTER and self._leave_for is not None:
            self._fire(Event.HANDED_OVER_STOP if self._leave_for is State.STOP
                       else Event.HANDED_OVER, now, reason)

    def drain(self, now: float) -> bool:
        """Lower the effective priority to 1 (any other backup is preferred) until
        :meth:`resume`, and hand over without loss if MASTER. False for the address owner,
        whose priority 255 never changes (RFC 5798 5.2.4)."""
        if self.base_priority == PRIORITY_OWNER:
            return False
        self._drained = True
        self._apply_priority(now)
        self._yielding = True
        self.hand_over(now)
        return True

    def resume(self, now: float) -> None:
        """Undo :meth:`drain` and stop yielding: the router follows its configuration again
        (a higher-priority backup with preemption takes over at once, as configured)."""
        self._drained = False
        self._yielding = False
        self._apply_priority(now)

    def master_down_due(self, now: float) -> bool:
        """Whether ``handle_timer(now)`` would expire the Master_Down_Timer (a sync group
        asks before deciding whether this router may become MASTER)."""
        return (self._state is State.BACKUP and self._sands is not None
                and now >= self._sands)

    def handle_timer(self, now: float, *, allow_master: bool = True) -> None:
        """Run every timer that is due at ``now``.

        ``allow_master`` False (a sync group whose other members are not ready) keeps a
        router whose Master_Down_Timer expired in BACKUP, wanting MASTER. A hand-over's
        bound (Master_Down_Interval) is never held back, sync group or not.
        """
        if self._state is State.MASTER:
            if self._leave_for is not None:
                self._leaving_timer(now)
                return
            if self._garp_delay_at is not None and now >= self._garp_delay_at:
                self._garp_delay_at = None
                self._gratuitous(self.garp_master_repeat)
            if self._garp_lower_at is not None and now >= self._garp_lower_at:
                self._garp_lower_at = None
                self._gratuitous(self.garp_lower_prio_repeat)
            if self._garp_refresh_at is not None and now >= self._garp_refresh_at:
                self._garp_refresh_at = now + self.garp_master_refresh
                self._gratuitous(self.garp_master_refresh_repeat)
            if self._sands is not None and now >= self._sands:
                self._fire(Event.ADVER_TIMER, now, "advert timer")
        elif self.master_down_due(now):
            self.log.info("(%s) Receive advertisement timeout", self.name)
            self._wantstate = State.MASTER
            if allow_master:
                if self._planned:
                    self._fire(Event.MASTER_DOWN_TIMER_PLANNED, now,
                               "master down timer expired after priority 0")
                else:
                    self._fire(Event.MASTER_DOWN_TIMER, now, "master down timer expired")
            else:
                self._fire(Event.MASTER_DOWN_TIMER_HELD, now, "sync group not ready")

    def _leaving_timer(self, now: float) -> None:
        """A leaving master's timers: the bound first, then its priority-0 adverts. At the
        bound a stopping master releases its VIPs whatever happened; one that is to stay
        up, and heard no other router, stays MASTER (releasing would leave the VIPs to
        nobody until it took them back)."""
        if self._leave_at is not None and now >= self._leave_at:
            if self._leave_for is State.BACKUP and self._successor is None:
                self.log.warning("(%s) No new master within master_down_interval (%.3f s): "
                                 "hand-over abandoned, staying MASTER", self.name,
                                 self.master_down_interval)
                self._fire(Event.HANDOVER_ABANDONED, now, "nobody took over")
                return
            if self._successor_adverts:
                self.log.warning("(%s) New master %s advertised only once within "
                                 "master_down_interval (%.3f s): releasing the VIPs",
                                 self.name, self._successor, self.master_down_interval)
            else:
                self.log.warning("(%s) No new master within master_down_interval (%.3f s): "
                                 "releasing the VIPs anyway", self.name,
                                 self.master_down_interval)
            self.release_handover(now, "no new master within master_down_interval")
        elif self._sands is not None and now >= self._sands:
            self._fire(Event.LEAVING_ADVER_TIMER, now, "advert timer, handing over")

    def track(self, obj: str, status: bool | int | None, now: float, *,
              may_recover: bool = True) -> None:
        """What tracking observed of ``obj`` (an interface, script, file...): up/down or a
        file's value. Moves the effective priority, enters or leaves FAULT."""
        if self.tracking.update(obj, status):
            self._faults_changed(now, may_recover, obj)

    def set_fault(self, source: str, reason: str, now: float) -> None:
        """A fault of the driver's own (``source`` is its key, e.g. "socket"), not tracking's.

        Only :meth:`clear_fault` with the same ``source`` clears it: tracking never does.
        """
        if self._faults.get(source) == reason:
            return
        self._faults[source] = reason
        self._faults_changed(now, True, reason)

    def clear_fault(self, source: str, now: float, *, may_recover: bool = True) -> None:
        """The driver's fault ``source`` is gone (as given to :meth:`set_fault`)."""
        if self._faults.pop(source, None) is not None:
            self._faults_changed(now, may_recover, source)

    def gratuitous_for_lower_priority(self, now: float) -> None:
        """Another member of our sync group answered a lower-priority advert: announce our
        VIPs too (garp_lower_prio_repeat rounds now, again after garp_lower_prio_delay).
        Never while handing over: that would pull the clients back from the new master."""
        if (self._state is State.MASTER and self.garp_lower_prio_repeat
                and self._leave_for is None):
            self._gratuitous(self.garp_lower_prio_repeat)
            if self.garp_lower_prio_delay > 0:
                self._garp_lower_at = now + self.garp_lower_prio_delay

    def _faults_changed(self, now: float, may_recover: bool, what: str) -> None:
        self._apply_priority(now)
        if not self._started or self._state is State.STOP:
            return
        if self.has_fault:
            if self._state is not State.FAULT:
                self.log.info("(%s) tracked object failed: %s", self.name, what)
                self._wantstate = State.FAULT
                self._fire(Event.FAULT, now, "fault: " + ", ".join(sorted(self.faults)))
        elif self._state is State.FAULT:
            self._wantstate = State.BACKUP
            if may_recover:
                self._fire(Event.RECOVER, now, "tracked objects recovered")

    def _apply_priority(self, now: float) -> None:
        """New effective priority from tracking (1 while drained); the owner's 255 never
        changes."""
        new = 1 if self._drained else self.tracking.effective_priority()
        if new == self._priority or self.base_priority == PRIORITY_OWNER:
            return
        self.log.info("(%s) Changing effective priority from %d to %d",
                      self.name, self._priority, new)
        old, old_down = self._priority, self.master_down_interval
        self._priority = new
        if self._state is State.BACKUP and self._sands is not None:
            self._sands += self.master_down_interval - old_down
        self._rebuild_adverts()
        if self._started and self._state is not State.STOP:
            self._actions.append(PriorityChanged(old, new, self._state))

    def receive_invalid(self, reason: str, now: float) -> None:
        """Count (and log, rate-limited) a datagram that failed to decode for this router."""
        counter = self.stats.count(reason)
        self._drops.drop(reason, now, "(%s) dropped invalid VRRP packet: %s (%s)",
                         self.name, reason, counter)

    def receive_advert(self, advert: Advert, source: IPAddress, now: float, *,
                       ttl: int = 255, ah_seq: int | None = None,
                       allow_release: bool = True) -> None:
        """Handle one decoded advert: per-instance checks, then RFC 5798 6.4.2 / 6.4.3.

        ``ttl`` is the received IPv4 TTL / IPv6 hop limit; ``ah_seq`` the AH sequence number
        when the datagram carried an AH header whose ICV the driver verified.
        ``allow_release`` False (a sync group some of whose leaving members have no new
        master yet) keeps a leaving master's VIPs when its own new master is in place.
        """
        state = self._state
        if state is not _BACKUP and state is not _MASTER:
            return  # keepalived ignores adverts in INIT and FAULT
        # keepalived vrrp_state_backup: a backup with vrrp_skip_check_adv_addr trusts the
        # address list of the master it already follows; everyone else checks it.
        check_addresses = not (state is _BACKUP and self.config.skip_check_adv_addr
                               and source == self.master_address)
        if not self._accept(advert, source, now, ttl, ah_seq, check_addresses):
            return
        self.stats.advert_rcvd += 1
        if check_addresses and not self._addresses_match(advert, source, now):
            return
        if ah_seq is not None:
            # only an advert that passed every check moves the anti-replay counter: a
            # rejected one leaves the router as it was (keepalived moves it on the ICV alone)
            self._ah_seq = ah_seq
            if state is _BACKUP:
                self._ah_cycle = False
        if advert.priority == PRIORITY_STOP:
            self.stats.pri_zero_rcvd += 1
        self._rx, self._rx_source, self._rx_ah_seq = advert, source, ah_seq
        try:
            if state is _BACKUP:
                self._backup_rx(advert, source, now)
            elif self._leave_for is not None:
                self._leaving_rx(advert, source, now, allow_release)
            else:
                self._master_rx(advert, source, now)
        finally:
            self._rx = self._rx_source = self._rx_ah_seq = None

    # --- receive checks (RFC 5798 7.1, RFC 3768 7.1, keepalived vrrp_check_packet) ----------

    def _drop(self, reason: str, now: float, message: str, *args: object) -> bool:
        self.stats.count(reason)
        self._drops.drop(reason, now, "(%s) " + message, self.name, *args)
        return False

    def _accept(self, advert: Advert, source: IPAddress, now: float, ttl: int,
                ah_seq: int | None, check_addresses: bool) -> bool:
        if advert.vrid != self.vrid:
            return self._drop("vrid", now, "advert for VRID %d from %s, ours is %d",
                              advert.vrid, source, self.vrid)
        if source.version != self.family:
            return self._drop("family", now, "IPv%d advert from %s on an IPv%d instance",
                              source.version, source, self.family)
        if not self.unicast and ttl != packet.VRRP_TTL:
            return self._drop("ttl", now, "invalid TTL/HL from %s. Received %d and expect %d",
                              source, ttl, packet.VRRP_TTL)
        if advert.version != self.version:
            return self._drop("version", now, "wrong VRRP version from %s. Received %d and "
                              "expect %d", source, advert.version, self.version)
        if (ah_seq is not None) != (self.auth_type == packet.AUTH_AH):
            return self._drop("authtype", now, "%s AH header from %s",
                              "Received" if ah_seq is not None else "No", source)
        if self.version == 2:
            if not self._accept_v2(advert, source, now, ah_seq):
                return False
        elif advert.advert_int != self.adver_int:
            self._drops.drop("advert_int_v3", now, "(%s) advertisement interval mismatch "
                             "ours = %d centi-sec rcv'd=%d centi-sec", self.name,
                             round(self.adver_int * 100), round(advert.advert_int * 100))
        if check_addresses and len(advert.addresses) != len(self.vips):
            return self._drop("addr_count", now, "received an unexpected ip number count %d, "
                              "expected %d!", len(advert.addresses), len(self.vips))
        return True

    def _accept_v2(self, advert: Advert, source: IPAddress, now: float,
                   ah_seq: int | None) -> bool:
        if advert.auth_type not in (packet.AUTH_NONE, packet.AUTH_PASS, packet.AUTH_AH):
            return self._drop("invalid_authtype", now, "Invalid auth type from %s: %d",
                              source, advert.auth_type)
        if advert.auth_type != self.auth_type:
            return self._drop("authtype", now, "received a %d auth from %s, expecting %d!",
                              advert.auth_type, source, self.auth_type)
        if self.auth_type == packet.AUTH_PASS and not packet.compare_digest(
                advert.auth_data, self._auth_key):
            return self._drop("auth", now, "received an invalid passwd from %s!", source)
        if ah_seq is not None and ah_seq <= self._ah_seq:
            return self._drop("auth", now, "IPSEC-AH : sequence number %d already "
                              "processed. Packet dropped. Local(%d)", ah_seq, self._ah_seq)
        if advert.advert_int != self.adver_int:
            return self._drop("advert_int", now, "advertisement interval mismatch mine=%d "
                              "sec rcv'd=%d sec", int(self.adver_int), int(advert.advert_int))
        return True

    def _addresses_match(self, advert: Advert, source: IPAddress, now: float) -> bool:
        """RFC 3768 7.1 / keepalived: an advert whose address list is not ours is dropped.

        A peer that advertises other addresses for our VRID is misconfigured; following it
        would hand our VIPs to a router that does not serve them.
        """
        if advert.addresses == self.vips:
            return True
        ours = set(self.vips)  # (not kept: this path is a misconfigured peer's)
        if set(advert.addresses) == ours:
            return True
        missing = sorted(str(a) for a in ours - set(advert.addresses))
        return self._drop("addr_list", now, "ip address associated with VRID %d not present "
                          "in advert from %s: %s", self.vrid, source, ", ".join(missing))

    # --- classification (RFC 5798 6.4.2, 6.4.3) ---------------------------------------------

    def _backup_rx(self, advert: Advert, source: IPAddress, now: float) -> None:
        prio = advert.priority
        if prio == PRIORITY_STOP:
            self.log.debug("(%s) Backup received priority 0 advertisement", self.name)
            self._fire(Event.ADVERT_PRIORITY_ZERO, now, "master sent priority 0")
            return
        delaying = self.preempt_delay > 0 and (self._preempt_time is None
                                               or self._preempt_time > now)
        if self.nopreempt or prio >= self._priority or delaying or self._yielding:
            self._wantstate = _BACKUP
            self._fire(_ADVERT_ACCEPTED, now, "advert accepted")
        else:
            self.log.info("(%s) received lower priority (%d) advert from %s - discarding",
                          self.name, prio, source)
            self._fire(Event.ADVERT_PREEMPTED, now, "lower priority advert discarded")

    def _master_rx(self, advert: Advert, source: IPAddress, now: float) -> None:
        prio = advert.priority
        if prio == PRIORITY_STOP:
            self.log.debug("(%s) Master received priority 0 message", self.name)
            self._fire(Event.ADVERT_PRIORITY_ZERO, now, "peer sent priority 0")
            return
        cmp = self._compare_address(source)
        if prio == self._priority:
            if cmp == 0:
                self.log.warning("(%s) WARNING - equal priority advert received from remote "
                                 "host with our IP address.", self.name)
                return
            if self._priority == PRIORITY_OWNER:
                self.log.error("(%s) CONFIGURATION ERROR: local instance and a remote "
                               "instance are both configured as address owner, please fix - "
                               "reducing local priority", self.name)
                self.base_priority = self._priority = PRIORITY_OWNER - 1
                self.tracking.base_priority = self.base_priority
                self._rebuild_adverts()
        if prio < self._priority or (prio == self._priority and cmp < 0):
            self.log.info("(%s) Received advert from %s with lower priority %d, ours %d%s",
                          self.name, source, prio, self._priority,
                          "" if self.lower_prio_no_advert else ", forcing new election")
            self._fire(Event.ADVERT_LOWER, now, "lower priority advert")
        else:
            self.log.info("(%s) Master received advert from %s with %s %d, ours %d",
                          self.name, source, "higher priority" if prio > self._priority else
                          "same priority but higher IP address; priority", prio,
                          self._priority)
            self._wantstate = State.BACKUP
            self._fire(Event.ADVERT_HIGHER, now, f"higher priority advert from {source}")

    def _leaving_rx(self, advert: Advert, source: IPAddress, now: float,
                    allow_release: bool) -> None:
        """A leaving master hears another router: its new master. The first advert of a
        sender silences us (no more priority 0); its second, one Adver_Timer later, shows
        that it went through becoming MASTER (VIPs, gratuitous ARP): the VIPs may go."""
        if advert.priority == PRIORITY_STOP:
            self.log.debug("(%s) priority 0 advert from %s ignored while handing over",
                           self.name, source)
            return
        if source != self._successor:
            self.log.info("(%s) New master %s (priority %d) seen while handing over",
                          self.name, source, advert.priority)
            self._fire(Event.SUCCESSOR_ADVERT, now, f"new master {source}")
        elif not allow_release:
            self._fire(Event.SUCCESSOR_HELD, now, "sync group: other members not ready")
        else:
            self.log.info("(%s) Handed over to %s: releasing the VIPs", self.name, source)
            self.release_handover(now, f"handed over to {source}")

    def _compare_address(self, source: IPAddress) -> int:
        mine = self.primary_address
        if mine is None or mine.version != source.version:
            return 0
        return (int(source) > int(mine)) - (int(source) < int(mine))

    # --- transitions -----------------------------------------------------------------------

    def group_event(self, event: Event, now: float, reason: str) -> None:
        """A sync group moves this member (GROUP_MASTER / GROUP_BACKUP / GROUP_FAULT)."""
        if event is Event.GROUP_MASTER:
            self._wantstate = State.MASTER
            if self._planned:
                event = Event.GROUP_MASTER_PLANNED
        elif event is Event.GROUP_BACKUP:
            self._wantstate = State.BACKUP
        elif event is Event.GROUP_FAULT:
            self._wantstate = State.FAULT
        self._fire(event, now, reason)

    def _fire(self, event: Event, now: float, reason: str) -> None:
        """Look the row up and run it: the table is what the router does."""
        row = _ROWS.get((self._state, event))
        if row is None:
            self.log.debug("(%s) %s ignored in %s", self.name, event.value,
                           self._state.value)
            return
        new, steps = row
        self._now, self._reason = now, reason
        old = self._state
        self._from_state = old
        if new is not old:
            self._enter(old, new)
        for step in steps:
            step(self)

    def _enter(self, old: State, new: State) -> None:
        """Bookkeeping of entering and leaving a state, whatever the event."""
        self._old_state, self._state = old, new
        self._planned = False
        if old is State.MASTER:
            self._leave_for = self._leave_at = self._successor = None
            self._successor_adverts = 0
        if old is State.MASTER and new is not State.STOP:
            self.stats.released_master += 1
        if new is State.MASTER:
            if self._ah_cycle:
                self._ah_cycle = False
                self._ah_seq = 0
            self._wantstate = State.MASTER
            self._preempt_time = None
            self._yielding = False
            self.master_address = self.primary_address
            self.master_priority = self._priority
            self.stats.became_master += 1
        elif new is State.BACKUP:
            self._preempt_time = None
        if new is not State.MASTER and new is not State.BACKUP:
            # blind from here on (FAULT, STOP): a gap seen later would not be one we saw
            self._alive_at = self._gone_at = None

    def _master_seen(self, now: float, source: IPAddress | None = None) -> None:
        """A master is alive at ``now``: ``source``'s advert accepted, or (None) our own
        advert as master. A time without a master ends here (:class:`MasterGap`) when the
        master said goodbye, or when another master (or we) took over after a silence; the
        same master heard again after a late advert served its clients all along.

        While this router was MASTER there was one, whatever its advert timing (the VIPs
        were here): only a router that was not MASTER can see a gap end."""
        if self._from_state is _MASTER:
            self._alive_at, self._gone_at, self._alive_from = now, None, source
            return
        if self._gone_at is not None:
            self._actions.append(MasterGap(self._gone_at, now, True))
        elif (self._alive_at is not None and source is not self._alive_from
              and source != self._alive_from  # (``is``: decoded addresses are shared objects)
              and now - self._alive_at > 1.5 * max(self.adver_int, self._master_adver_int)):
            self._actions.append(MasterGap(self._alive_at, now, False))
        self._alive_at, self._gone_at, self._alive_from = now, None, source

    # --- the steps (fsm.Do) -------------------------------------------------------------------

    def _do_notify(self) -> None:
        self._actions.append(StateChange(self._old_state, self._state, self._reason))

    def _do_send_advert(self) -> None:
        self._send_advert()
        if self._state is State.MASTER:
            self._master_seen(self._now)

    def _do_send_advert_zero(self) -> None:
        self._send_advert(PRIORITY_STOP)

    def _do_add_vips(self) -> None:
        self._actions.append(AddVips())

    def _do_remove_vips(self) -> None:
        self._actions.append(RemoveVips())

    def _do_gratuitous(self) -> None:
        now = self._now
        self._gratuitous(self.garp_master_repeat)
        self._garp_delay_at = now + self.garp_master_delay if self.garp_master_delay > 0 else None
        self._garp_refresh_at = (now + self.garp_master_refresh
                                 if self.garp_master_refresh > 0 else None)

    def _do_adver_timer(self) -> None:
        self._sands = self._now + self.adver_int

    def _do_master_down_timer(self) -> None:
        # master_down_interval written out (a property read costs a Python call more on
        # 3.11, and this runs for every advert a backup accepts)
        self._sands = (self._now + self.down_timer_adverts * self._master_adver_int
                       + self._skew(self._priority))

    def _do_skew_timer(self) -> None:
        self._sands = self._now + self.skew_time

    def _do_wait_timer(self) -> None:
        self._sands = self._now + self._master_adver_int + self._skew(PRIORITY_OWNER)

    def _do_stop_timers(self) -> None:
        self._sands = None
        self._garp_delay_at = self._garp_lower_at = self._garp_refresh_at = None

    def _do_own_interval(self) -> None:
        self._master_adver_int = self.adver_int

    def _do_adopt_interval(self) -> None:
        if self.version == 3 and self._rx is not None:
            self._master_adver_int = self._rx.advert_int

    def _do_learn_master(self) -> None:
        self._planned = False
        if self._rx is not None:
            self.master_address = self._rx_source
            self.master_priority = self._rx.priority
            self._master_seen(self._now, self._rx_source)

    def _do_master_stopped(self) -> None:
        self._planned = True
        if self._alive_at is not None or self._gone_at is not None:
            self._gone_at = self._now

    def _do_leave(self) -> None:
        self._leave_at = self._now + self.master_down_interval
        self._successor, self._successor_adverts = None, 0

    def _do_successor(self) -> None:
        if self._rx_source != self._successor:
            self._successor, self._successor_adverts = self._rx_source, 0
        self._successor_adverts += 1

    def _do_yield(self) -> None:
        self._yielding = True

    def _do_stay(self) -> None:
        self._leave_for = self._leave_at = self._successor = None
        self._successor_adverts = 0

    def _do_learn_sender(self) -> None:
        self.master_address = self._rx_source

    def _do_preempt_delay(self) -> None:
        if self.preempt_delay <= 0 or self._rx is None:
            return
        if self._rx.priority >= self._priority:
            self._preempt_time = None
        elif self._preempt_time is None:
            self.log.info("(%s) start preempt delay (%.2f)", self.name, self.preempt_delay)
            self._preempt_time = self._now + self.preempt_delay

    def _do_answer_higher(self) -> None:
        if self.higher_prio_send_advert:
            self._send_advert()

    def _do_answer_lower(self) -> None:
        now = self._now
        if self._rx_ah_seq is not None:
            self._ah_seq = self._rx_ah_seq + 1  # keepalived "Syncing seq_num"
            self._ah_cycle = False
        if not self.lower_prio_no_advert:
            self._send_advert()
            self._sands = now + self.adver_int
        self.gratuitous_for_lower_priority(now)

    def _do_report_lower(self) -> None:
        if self._rx is not None and self._rx_source is not None:
            self._actions.append(LowerPriorityReceived(self._rx_source, self._rx.priority))

    # --- sending ---------------------------------------------------------------------------

    def _rebuild_adverts(self) -> None:
        auth_data = self._auth_key if self.auth_type == packet.AUTH_PASS else b""
        addresses: tuple[IPv4Address, ...] | tuple[IPv6Address, ...] = self.vips  # type: ignore[assignment]
        self._advert_action = SendAdvert(Advert(self.version, self.vrid, self._priority,
                                                self.adver_int, addresses, self.auth_type,
                                                auth_data))
        self._advert_zero: SendAdvert | None = None  # made when first sent (most never are)

    def _send_advert(self, priority: int | None = None) -> None:
        action = self._advert_action
        if priority == PRIORITY_STOP:
            zero = self._advert_zero
            if zero is None:
                zero = self._advert_zero = SendAdvert(
                    dataclasses.replace(action.advert, priority=PRIORITY_STOP))
            action = zero
            self.stats.pri_zero_sent += 1
        if self.auth_type == packet.AUTH_AH:
            if self._ah_seq > _AH_SEQ_MAX:
                self._ah_cycle = True
            else:
                self._ah_seq += 1
            action = SendAdvert(action.advert, self._ah_seq)
        self.stats.advert_sent += 1
        self._actions.append(action)

    def _gratuitous(self, repeat: int) -> None:
        self._actions.extend(SendGratuitous() for _ in range(repeat))


_STEP: dict[Do, Callable[[VirtualRouter], None]] = {
    step: getattr(VirtualRouter, "_do_" + step.name.lower()) for step in Do
}
"""Each step of :class:`~pykeepalived.vrrp.fsm.Do` and the method that performs it."""

_ROWS: dict[tuple[State, Event], tuple[State, tuple[Callable[[VirtualRouter], None], ...]]] = {
    key: (row.next, tuple(_STEP[step] for step in row.does)) for key, row in TRANSITIONS.items()
}
"""The transition table with its steps resolved once: what ``_fire`` runs."""
