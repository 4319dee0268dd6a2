"""The state machine of one VRRP virtual router (``vrrp_instance``), without I/O.

The driver feeds it adverts that decoded cleanly (``receive_advert``), decode failures
(``receive_invalid``), timer expiries (``handle_timer`` when ``now >= get_timer()``), tracking
results (``set_priority``, ``set_fault``, ``clear_fault``) and ``shutdown``; it drains
``actions()`` after each call and carries them out in order. Time is always the caller's
``now`` (monotonic seconds), so tests drive it with a fake clock.

Which state follows which event is the table in :mod:`pykeepalived.vrrp.fsm`; this module
classifies inputs into those events and performs them, with keepalived's details: timers of
RFC 5798 6.1 (v2 skew is (256 - priority) / 256 s whatever the interval, v3 scales it by
Master_Adver_Interval), preempt / nopreempt / preempt_delay, the address owner, priority 0 on
leaving MASTER, the receive checks and their counters, AH sequence numbers, GARP bursts.
"""

from __future__ import annotations

import hmac
import logging
from ipaddress import IPv4Address, IPv6Address

from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import (
    Action,
    AddVips,
    RemoveVips,
    SendAdvert,
    SendGratuitous,
    State,
    StateChange,
)
from pykeepalived.vrrp.fsm import TRANSITIONS, Event
from pykeepalived.vrrp.options import RouterConfig, SyncGroupHooks, vip_address
from pykeepalived.vrrp.packet import Advert, IPAddress
from pykeepalived.vrrp.stats import DropLog, RouterStats

__all__ = ["PRIORITY_OWNER", "PRIORITY_STOP", "RouterConfig", "SyncGroupHooks", "VirtualRouter"]

logger = logging.getLogger(__name__)

PRIORITY_OWNER = 255  # RFC 5798 5.2.4: the router that owns the addresses
PRIORITY_STOP = 0  # RFC 5798 5.2.4: "current Master has stopped participating"
_AH_SEQ_MAX = 0xFFFFFFFD  # keepalived: stop counting here and call the counter cycled
_GROUP_EVENTS = (Event.GROUP_MASTER, Event.GROUP_BACKUP, Event.GROUP_FAULT)
_TRANSITIONS = dict(TRANSITIONS)  # plain dict: the lookup is on every advert


class VirtualRouter:
    """One virtual router: RFC 5798 6.4 plus keepalived's FAULT and STOP states."""

    def __init__(self, config: RouterConfig) -> None:
        self.config = config
        self.name = config.name
        self.vrid = config.vrid
        self.family = config.family
        self.version = config.version
        if self.family == 6 and self.version == 2:
            logger.warning("(%s) VRRPv2 is IPv4 only; using version 3", self.name)
            self.version = 3
        self.vips = tuple(vip_address(v) for v in config.vips)
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
        self._priority = self.base_priority
        self._master_adver_int = self.adver_int
        self._sands: float | None = None  # Master_Down_Timer (BACKUP) or Adver_Timer (MASTER)
        self._garp_delay_at: float | None = None
        self._garp_lower_at: float | None = None
        self._garp_refresh_at: float | None = None
        self._preempt_time: float | None = None
        self._faults: set[str] = set()
        self._actions: list[Action] = []
        self._drops = DropLog(logger)
        self._ah_seq = 0
        self._ah_cycle = False
        self.sync_group: SyncGroupHooks | None = None
        self._rebuild_adverts()

    def _resolve_options(self, config: RouterConfig) -> None:
        """Apply keepalived's option interactions (vrrp_complete_instance) with its warnings."""
        auth = (config.auth_type or "").upper()
        if auth and self.strict:
            logger.warning("(%s) Strict mode does not support authentication. Ignoring.",
                           self.name)
            auth = ""
        elif auth and self.version == 3:
            logger.warning("(%s) VRRP version 3 does not support authentication. Ignoring.",
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
    def priority(self) -> int:
        """The effective priority: base priority adjusted by tracking, sent in adverts."""
        return self._priority

    @property
    def faults(self) -> frozenset[str]:
        return frozenset(self._faults)

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

    def set_primary_address(self, address: IPAddress | None) -> None:
        """Our advert source address, compared with a peer's on equal priority."""
        self.primary_address = address

    def actions(self) -> list[Action]:
        """Everything the router asked for since the last call, oldest first."""
        queued, self._actions = self._actions, []
        return queued

    def get_timer(self) -> float | None:
        """The earliest absolute time at which ``handle_timer`` has work, or None."""
        when = self._sands
        for other in (self._garp_delay_at, self._garp_lower_at, self._garp_refresh_at):
            if other is not None and (when is None or other < when):
                when = other
        return when

    def start(self, now: float, *, resume_master: bool = False) -> None:
        """Leave INIT (RFC 5798 6.4.1): owner to MASTER, others to BACKUP, or FAULT.

        ``resume_master`` is for a configuration reload: an instance that was MASTER under the
        old configuration goes straight back to MASTER, as the owner does, so its VIPs never
        leave the interface; a better master on the segment takes over in the usual way.
        """
        if self._started:
            return
        self._started = True
        if self._faults:
            self._wantstate = State.FAULT
            self._fire(Event.FAULT, now, "fault at startup: " + ", ".join(sorted(self._faults)))
        elif resume_master or (self.base_priority == PRIORITY_OWNER
                               and self._wantstate is State.MASTER):
            if self.sync_group is not None and not self.sync_group.can_goto_master(self):
                self._fire(Event.STARTUP, now, "startup, sync group not ready")
                self._sands = now + self.adver_int + self._skew(255)
            else:
                self._fire(Event.STARTUP_OWNER, now, "resumed as master after reload"
                           if resume_master else "startup as address owner")
        else:
            self._fire(Event.STARTUP, now, "startup")

    def shutdown(self, now: float) -> None:
        """Leave the protocol: a master sends priority 0 and drops its VIPs; all go to STOP."""
        if self._started:
            self._fire(Event.SHUTDOWN, now, "shutdown")
        elif self._state is not State.STOP:
            self._set_state(State.STOP, now, "shutdown")

    def handle_timer(self, now: float) -> None:
        """Run every timer that is due at ``now``."""
        if self._state is State.MASTER:
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
                self._send_advert()
                self._sands = now + self.adver_int
                self._fire(Event.ADVER_TIMER, now, "advert timer")
        elif self._state is State.BACKUP and self._sands is not None and now >= self._sands:
            logger.info("(%s) Receive advertisement timeout", self.name)
            self._wantstate = State.MASTER
            if self.sync_group is not None and not self.sync_group.can_goto_master(self):
                self._sands = now + self.master_down_interval
                self._fire(Event.MASTER_DOWN_TIMER_HELD, now, "sync group not ready")
            else:
                self._fire(Event.MASTER_DOWN_TIMER, now, "master down timer expired")

    def set_fault(self, now: float, reason: str) -> None:
        """A tracked interface / script / file failed: enter FAULT (keepalived down_instance)."""
        first = not self._faults
        self._faults.add(reason)
        if not first or not self._started or self._state is State.STOP:
            return
        logger.info("(%s) tracked object failed: %s", self.name, reason)
        self._wantstate = State.FAULT
        self._fire(Event.FAULT, now, f"fault: {reason}")

    def clear_fault(self, now: float, reason: str | None = None) -> None:
        """A tracked thing recovered (``reason`` as given to set_fault; None clears all)."""
        if reason is None:
            self._faults.clear()
        else:
            self._faults.discard(reason)
        if self._faults or self._state is not State.FAULT:
            return
        self._wantstate = State.BACKUP
        self._master_adver_int = self.adver_int
        if self.sync_group is not None and self.sync_group.has_faulty_member():
            return  # the group leaves FAULT when its last faulty member recovers
        self._fire(Event.RECOVER, now, "tracked objects recovered")

    def set_priority(self, effective_priority: int, now: float) -> None:
        """New effective priority from tracking; the owner's 255 never changes."""
        if self.base_priority == PRIORITY_OWNER:
            return
        new = max(1, min(254, effective_priority))
        if new == self._priority:
            return
        logger.info("(%s) Changing effective priority from %d to %d",
                    self.name, self._priority, new)
        old_down = self.master_down_interval
        self._priority = new
        if self._state is State.BACKUP and self._sands is not None:
            self._sands += self.master_down_interval - old_down
        self._rebuild_adverts()

    def receive_invalid(self, reason: str, now: float) -> None:
        """Count (and log, rate-limited) a datagram that failed to decode for this router."""
        counter = self.stats.count(reason)
        self._drops.drop(reason, now, "(%s) dropped invalid VRRP packet: %s (%s)",
                         self.name, reason, counter)

    def receive_advert(self, advert: Advert, source: IPAddress, now: float, *,
                       ttl: int = 255, ah_seq: int | None = None) -> None:
        """Handle one decoded advert: per-instance checks, then RFC 5798 6.4.2 / 6.4.3.

        ``ttl`` is the received IPv4 TTL / IPv6 hop limit; ``ah_seq`` the AH sequence number
        when the datagram carried an AH header whose ICV the driver verified.
        """
        state = self._state
        if state is not State.BACKUP and state is not State.MASTER:
            return  # keepalived ignores adverts in INIT and FAULT
        if not self._accept(advert, source, now, ttl, ah_seq):
            return
        self.stats.advert_rcvd += 1
        self._check_addresses(advert, source, now, state)
        if advert.priority == PRIORITY_STOP:
            self.stats.pri_zero_rcvd += 1
        if state is State.BACKUP:
            self._backup_rx(advert, source, now)
        else:
            self._master_rx(advert, source, now, ah_seq)

    # --- receive checks (RFC 5798 7.1, RFC 3768 7.1, keepalived vrrp_check_packet) ----------

    def _drop(self, reason: str, now: float, message: str, *args: object) -> bool:
        self.stats.count(reason)
        self._drops.drop(reason, now, "(%s) " + message, self.name, *args)
        return False

    def _accept(self, advert: Advert, source: IPAddress, now: float, ttl: int,
                ah_seq: int | None) -> bool:
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
        return True

    def _accept_v2(self, advert: Advert, source: IPAddress, now: float,
                   ah_seq: int | None) -> bool:
        if advert.auth_type not in (packet.AUTH_NONE, packet.AUTH_PASS, packet.AUTH_AH):
            return self._drop("invalid_authtype", now, "Invalid auth type from %s: %d",
                              source, advert.auth_type)
        if advert.auth_type != self.auth_type:
            return self._drop("authtype", now, "received a %d auth from %s, expecting %d!",
                              advert.auth_type, source, self.auth_type)
        if self.auth_type == packet.AUTH_PASS and not hmac.compare_digest(
                advert.auth_data, self._auth_key):
            return self._drop("auth", now, "received an invalid passwd from %s!", source)
        if ah_seq is not None:
            if ah_seq <= self._ah_seq:
                return self._drop("auth", now, "IPSEC-AH : sequence number %d already "
                                  "processed. Packet dropped. Local(%d)", ah_seq, self._ah_seq)
            self._ah_seq = ah_seq
            if self._state is State.BACKUP:
                self._ah_cycle = False
        if advert.advert_int != self.adver_int:
            return self._drop("advert_int", now, "advertisement interval mismatch mine=%d "
                              "sec rcv'd=%d sec", int(self.adver_int), int(advert.advert_int))
        return True

    def _check_addresses(self, advert: Advert, source: IPAddress, now: float,
                         state: State) -> None:
        """RFC 5798 7.1 "MAY verify" the address list: a mismatch is counted and logged only."""
        if len(advert.addresses) != len(self.vips):
            self.stats.addr_list_err += 1
            self._drops.drop("addr_count", now, "(%s) expected %d VIPs but received %d",
                             self.name, len(self.vips), len(advert.addresses))
            return
        if (state is State.BACKUP and self.config.skip_check_adv_addr
                and source == self.master_address):
            return  # vrrp_skip_check_adv_addr: same master as last time
        if advert.addresses != self.vips and set(advert.addresses) != set(self.vips):
            self.stats.addr_list_err += 1
            missing = sorted(str(a) for a in set(self.vips) - set(advert.addresses))
            self._drops.drop("addr_list", now, "(%s) ip address associated with VRID %d not "
                             "present in advert from %s: %s", self.name, self.vrid, source,
                             ", ".join(missing))

    # --- state-specific receive (RFC 5798 6.4.2, 6.4.3) -------------------------------------

    def _backup_rx(self, advert: Advert, source: IPAddress, now: float) -> None:
        prio = advert.priority
        if prio == PRIORITY_STOP:
            logger.debug("(%s) Backup received priority 0 advertisement", self.name)
            self._sands = now + self.skew_time
            self._fire(Event.ADVERT_PRIORITY_ZERO, now, "master sent priority 0")
            return
        delaying = self.preempt_delay > 0 and (self._preempt_time is None
                                               or self._preempt_time > now)
        if self.nopreempt or prio >= self._priority or delaying:
            if self.version == 3:
                self._master_adver_int = advert.advert_int
            self._sands = now + self.master_down_interval
            self.master_address = source
            self.master_priority = prio
            if self.preempt_delay > 0:
                if prio >= self._priority:
                    self._preempt_time = None
                elif self._preempt_time is None:
                    logger.info("(%s) start preempt delay (%.2f)", self.name, self.preempt_delay)
                    self._preempt_time = now + self.preempt_delay
            self._wantstate = State.BACKUP
            self._fire(Event.ADVERT_ACCEPTED, now, "advert accepted")
        else:
            logger.info("(%s) received lower priority (%d) advert from %s - discarding",
                        self.name, prio, source)
            self.master_address = source
            self._fire(Event.ADVERT_PREEMPTED, now, "lower priority advert discarded")

    def _master_rx(self, advert: Advert, source: IPAddress, now: float,
                   ah_seq: int | None) -> None:
        prio = advert.priority
        cmp = self._compare_address(source)
        sent = False
        if prio == PRIORITY_STOP or (self.higher_prio_send_advert and (
                prio > self._priority or (prio == self._priority and cmp > 0))):
            self._send_advert()
            sent = True
            if prio == PRIORITY_STOP:
                logger.debug("(%s) Master received priority 0 message", self.name)
                self._sands = now + self.adver_int
                self._fire(Event.ADVERT_PRIORITY_ZERO, now, "peer sent priority 0")
                return
        if prio == self._priority:
            if cmp == 0:
                logger.warning("(%s) WARNING - equal priority advert received from remote host "
                               "with our IP address.", self.name)
            elif self._priority == PRIORITY_OWNER:
                logger.error("(%s) CONFIGURATION ERROR: local instance and a remote instance "
                             "are both configured as address owner, please fix - reducing "
                             "local priority", self.name)
                self.base_priority = self._priority = PRIORITY_OWNER - 1
                self._rebuild_adverts()
        if prio < self._priority or (prio == self._priority and cmp < 0):
            logger.info("(%s) Received advert from %s with lower priority %d, ours %d%s",
                        self.name, source, prio, self._priority,
                        "" if self.lower_prio_no_advert else ", forcing new election")
            if ah_seq is not None:
                self._ah_seq = ah_seq + 1  # keepalived "Syncing seq_num"
                self._ah_cycle = False
            if not self.lower_prio_no_advert:
                self._send_advert()
                sent = True
            if self.garp_lower_prio_repeat:
                self._gratuitous(self.garp_lower_prio_repeat)
                if self.garp_lower_prio_delay > 0:
                    self._garp_lower_at = now + self.garp_lower_prio_delay
            if sent:
                self._sands = now + self.adver_int
            self._fire(Event.ADVERT_LOWER, now, "lower priority advert")
            return
        if prio > self._priority or (prio == self._priority and cmp > 0):
            logger.info("(%s) Master received advert from %s with %s %d, ours %d", self.name,
                        source, "higher priority" if prio > self._priority else
                        "same priority but higher IP address; priority", prio, self._priority)
            self._ah_cycle = False
            if self.version == 3:
                self._master_adver_int = advert.advert_int
            self.master_address = source
            self.master_priority = prio
            self._wantstate = State.BACKUP
            self._fire(Event.ADVERT_HIGHER, now, f"higher priority advert from {source}")
            return
        if sent:
            self._sands = now + self.adver_int

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
        elif event is Event.GROUP_BACKUP:
            self._wantstate = State.BACKUP
        elif event is Event.GROUP_FAULT:
            self._wantstate = State.FAULT
        self._fire(event, now, reason)

    def _fire(self, event: Event, now: float, reason: str) -> None:
        row = _TRANSITIONS.get((self._state, event))
        if row is None:
            logger.debug("(%s) %s ignored in %s", self.name, event.value, self._state.value)
            return
        old, new = self._state, row.next
        if new is old:
            return
        if new is State.MASTER:
            self._enter_master(now, reason)
        elif old is State.MASTER:
            self._leave_master(new, now, reason)
        else:
            self._set_state(new, now, reason)
        if self.sync_group is not None and event not in _GROUP_EVENTS:
            self.sync_group.member_changed(self, old, new, now, reason)

    def _set_state(self, new: State, now: float, reason: str) -> None:
        old, self._state = self._state, new
        self._actions.append(StateChange(old, new, reason))
        if new is State.BACKUP:
            self._preempt_time = None
            if old is not State.MASTER:
                self._master_adver_int = self.adver_int
            self._sands = now + self.master_down_interval
        else:
            self._sands = None

    def _enter_master(self, now: float, reason: str) -> None:
        """keepalived vrrp_state_goto_master + vrrp_state_become_master."""
        if self._ah_cycle:
            self._ah_cycle = False
            self._ah_seq = 0
        old, self._state = self._state, State.MASTER
        self._wantstate = State.MASTER
        self._master_adver_int = self.adver_int
        self._preempt_time = None
        self.master_address = self.primary_address
        self.master_priority = self._priority
        self.stats.became_master += 1
        self._actions.append(StateChange(old, State.MASTER, reason))
        self._send_advert()
        self._actions.append(AddVips())
        self._gratuitous(self.garp_master_repeat)
        self._garp_delay_at = now + self.garp_master_delay if self.garp_master_delay > 0 else None
        self._garp_refresh_at = (now + self.garp_master_refresh
                                 if self.garp_master_refresh > 0 else None)
        self._sands = now + self.adver_int

    def _leave_master(self, new: State, now: float, reason: str) -> None:
        """keepalived vrrp_state_leave_master / restore_vrrp_interfaces."""
        self._garp_delay_at = self._garp_lower_at = self._garp_refresh_at = None
        if new is State.STOP:
            self._send_advert(PRIORITY_STOP)
            self._actions.append(RemoveVips())
            self._state = new
            self._sands = None
            self._actions.append(StateChange(State.MASTER, new, reason))
            return
        self._state = new
        self._actions.append(StateChange(State.MASTER, new, reason))
        if new is State.FAULT:
            self._send_advert(PRIORITY_STOP)
        self._actions.append(RemoveVips())
        self.stats.released_master += 1
        if new is State.BACKUP:
            self._preempt_time = None
            self._sands = now + self.master_down_interval
        else:
            self._sands = None

    # --- sending ---------------------------------------------------------------------------

    def _rebuild_adverts(self) -> None:
        auth_data = self._auth_key if self.auth_type == packet.AUTH_PASS else b""
        addresses: tuple[IPv4Address, ...] | tuple[IPv6Address, ...] = self.vips  # type: ignore[assignment]
        self._advert_action = SendAdvert(Advert(self.version, self.vrid, self._priority,
                                                self.adver_int, addresses, self.auth_type,
                                                auth_data))
        self._advert_zero = SendAdvert(Advert(self.version, self.vrid, PRIORITY_STOP,
                                              self.adver_int, addresses, self.auth_type,
                                              auth_data))

    def _send_advert(self, priority: int | None = None) -> None:
        action = self._advert_action
        if priority == PRIORITY_STOP:
            action = self._advert_zero
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
