"""The transitions of one virtual router, written as data to check against RFC 5798 6.4.

Each row is (state, event) -> (next state, what is done, where it comes from). What is done
is a sequence of :class:`Do` steps, and it is what runs: ``VirtualRouter`` classifies every
input (a timer, a received advert, a fault report, shutdown) into one :class:`Event`, looks the
row up in :data:`TRANSITIONS`, moves to the row's next state and performs its steps in order.
A pair missing from the table is ignored. Rows marked "keepalived" are behaviour the RFC does
not describe: the FAULT state, sync groups, STOP (keepalived's name for leaving the protocol at
shutdown, where the RFC returns to Initialize), and a master answering a lower-priority advert.
Rows marked "pykeepalived hand-over" are the planned hand-over (make-before-break), which
neither the RFC nor keepalived has: a leaving master says priority 0 as keepalived does on
stop, but keeps its VIPs and answers for them until the new master has advertised twice (its
gratuitous ARP / unsolicited NA went out between the two), then releases them; what the peer
sees is plain RFC 5798 (priority-0 adverts, then silence).

Adverts reach the table only after the receive checks of RFC 5798 7.1 / RFC 3768 7.1 passed
(TTL, version, VRID, authentication, interval, address list); a failed check is counted and
reported, and never changes state.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import MappingProxyType

from pykeepalived.vrrp.actions import State


class Event(enum.Enum):
    """Inputs of the state machine, after classification by ``VirtualRouter``."""

    STARTUP = "Startup event"
    STARTUP_OWNER = "Startup event, Priority = 255 (or MASTER before a reload)"
    STARTUP_HELD = "Startup event wanting MASTER, sync group not ready"
    SHUTDOWN = "Shutdown event"
    MASTER_DOWN_TIMER = "Master_Down_Timer fires"
    MASTER_DOWN_TIMER_HELD = "Master_Down_Timer fires, sync group not ready"
    ADVER_TIMER = "Adver_Timer fires"
    ADVERT_PRIORITY_ZERO = "ADVERTISEMENT received, Priority = 0"
    ADVERT_ACCEPTED = "ADVERTISEMENT received, Priority >= local or Preempt_Mode False"
    ADVERT_PREEMPTED = "ADVERTISEMENT received, Priority < local and Preempt_Mode True"
    ADVERT_HIGHER = "ADVERTISEMENT received, Priority > local or = local and address higher"
    ADVERT_LOWER = "ADVERTISEMENT received, Priority < local or = local and address lower"
    FAULT = "a tracked interface, script or file failed, or the router cannot send"
    RECOVER = "every fault of the router (and of its sync group) is gone"
    GROUP_MASTER = "sync group moves to MASTER"
    GROUP_BACKUP = "sync group moves to BACKUP"
    GROUP_FAULT = "sync group moves to FAULT"
    HANDOVER = "planned hand-over: leave MASTER without a gap (TERM, control command, drain)"
    LEAVING_ADVER_TIMER = "Adver_Timer fires while handing over"
    SUCCESSOR_ADVERT = "ADVERTISEMENT received while handing over, first from its sender"
    SUCCESSOR_HELD = ("ADVERTISEMENT received while handing over, again from the new master, "
                      "sync group not ready")
    HANDED_OVER = ("hand-over done (the new master advertised twice, or Master_Down_Interval "
                   "passed): on to BACKUP")
    HANDED_OVER_STOP = "hand-over done on shutdown: on to STOP"
    HANDOVER_ABANDONED = ("hand-over (not a shutdown): Master_Down_Interval passed and no "
                          "router advertised: nobody can take over")
    MASTER_DOWN_TIMER_PLANNED = "Master_Down_Timer fires after a priority-0 ADVERTISEMENT"
    GROUP_MASTER_PLANNED = "sync group moves to MASTER after a priority-0 ADVERTISEMENT"

    # Hashed by identity in C (members are singletons), not by Enum.__hash__ in Python: the
    # transition table is looked up with (State, Event) on every advert.
    __hash__ = object.__hash__


class Do(enum.Enum):
    """One step of a transition; the value is what the step does, in the RFC's words."""

    NOTIFY = "report the state change (log 'Entering <STATE> STATE', notify scripts, FIFO)"
    SEND_ADVERT = "send ADVERTISEMENT"
    SEND_ADVERT_ZERO = "send ADVERTISEMENT with Priority = 0"
    ADD_VIPS = "add the virtual addresses"
    REMOVE_VIPS = "remove the virtual addresses"
    GRATUITOUS = ("broadcast gratuitous ARP / unsolicited NA (garp_master_repeat rounds), "
                  "again after garp_master_delay, and every garp_master_refresh")
    ADVER_TIMER = "Adver_Timer = Advertisement_Interval"
    MASTER_DOWN_TIMER = "Master_Down_Timer = Master_Down_Interval"
    SKEW_TIMER = "Master_Down_Timer = Skew_Time"
    WAIT_TIMER = "Master_Down_Timer = Master_Adver_Interval + Skew_Time(255)"
    STOP_TIMERS = "cancel Adver_Timer / Master_Down_Timer and the gratuitous ARP timers"
    OWN_INTERVAL = "Master_Adver_Interval = Advertisement_Interval"
    ADOPT_INTERVAL = ("Master_Adver_Interval = Adver Interval of the ADVERTISEMENT (v3), "
                      "recompute Skew_Time and Master_Down_Interval")
    LEARN_MASTER = "remember the sender as the master (address and priority)"
    LEARN_SENDER = "remember the sender's address"
    PREEMPT_DELAY = "preempt_delay: start it on a lower priority, stop it on a higher one"
    ANSWER_HIGHER = "higher_prio_send_advert: send ADVERTISEMENT before giving way"
    ANSWER_LOWER = ("keepalived: send ADVERTISEMENT at once (unless lower_prio_no_advert) and "
                    "garp_lower_prio_repeat gratuitous rounds; AH: resynchronise the sequence")
    REPORT_LOWER = "keepalived: notify_master_rx_lower_pri"
    MASTER_STOPPED = ("the master said goodbye: a time without master starts (availability); "
                      "the takeover that follows is a planned one")
    LEAVE = ("hand-over: keep the VIPs and answer for them; stop the gratuitous ARP timers; "
             "Leave_Timer = Master_Down_Interval (the bound)")
    SUCCESSOR = "hand-over: count the new master's adverts (the second shows it in place)"
    STAY = "end the hand-over: a MASTER as before (the VIPs never left)"
    YIELD = ("after a hand-over: accept a lower-priority master (as nopreempt) until this "
             "router is MASTER again or resumed, so preemption does not undo the hand-over")


@dataclass(frozen=True, slots=True)
class Transition:
    next: State
    does: tuple[Do, ...]
    source: str


_I, _B, _M, _F, _S = State.INIT, State.BACKUP, State.MASTER, State.FAULT, State.STOP
D = Do

_BECOME_MASTER = (D.OWN_INTERVAL, D.SEND_ADVERT, D.NOTIFY, D.ADD_VIPS, D.GRATUITOUS,
                  D.ADVER_TIMER)
"""RFC 5798 6.4.1/6.4.2: advert first, so the old master drops the addresses before our
gratuitous ARPs claim them (keepalived vrrp_state_master_tx)."""
_BECOME_BACKUP = (D.OWN_INTERVAL, D.NOTIFY, D.MASTER_DOWN_TIMER)
_MASTER_TO_FAULT = (D.STOP_TIMERS, D.NOTIFY, D.SEND_ADVERT_ZERO, D.REMOVE_VIPS)
_TAKE_OVER_PLANNED = (D.OWN_INTERVAL, D.ADD_VIPS, D.SEND_ADVERT, D.NOTIFY, D.GRATUITOUS,
                      D.ADVER_TIMER)
"""After a priority-0 advert the old master is leaving on purpose (it may still hold the VIPs,
make-before-break): the VIPs go in before our first advert, so that with use_vmac, where that
advert moves the MAC at the switches, traffic arriving after it finds the addresses here."""
_HAND = "pykeepalived hand-over"

TRANSITIONS = MappingProxyType({
    # --- RFC 5798 6.4.1 Initialize --------------------------------------------------------
    (_I, Event.STARTUP_OWNER): Transition(_M, _BECOME_MASTER, "RFC 5798 6.4.1"),
    (_I, Event.STARTUP): Transition(_B, _BECOME_BACKUP, "RFC 5798 6.4.1"),
    (_I, Event.STARTUP_HELD): Transition(
        _B, (D.OWN_INTERVAL, D.NOTIFY, D.WAIT_TIMER), "keepalived sync group"),
    (_I, Event.FAULT): Transition(_F, (D.NOTIFY,), "keepalived"),
    (_I, Event.SHUTDOWN): Transition(_S, (D.NOTIFY,), "keepalived"),
    # --- RFC 5798 6.4.2 Backup ------------------------------------------------------------
    (_B, Event.SHUTDOWN): Transition(_S, (D.STOP_TIMERS, D.NOTIFY), "RFC 5798 6.4.2"),
    (_B, Event.MASTER_DOWN_TIMER): Transition(_M, _BECOME_MASTER, "RFC 5798 6.4.2"),
    (_B, Event.MASTER_DOWN_TIMER_HELD): Transition(
        _B, (D.MASTER_DOWN_TIMER,), "keepalived sync group"),
    (_B, Event.ADVERT_PRIORITY_ZERO): Transition(
        _B, (D.MASTER_STOPPED, D.SKEW_TIMER), "RFC 5798 6.4.2"),
    (_B, Event.ADVERT_ACCEPTED): Transition(
        _B, (D.ADOPT_INTERVAL, D.MASTER_DOWN_TIMER, D.LEARN_MASTER, D.PREEMPT_DELAY),
        "RFC 5798 6.4.2"),
    (_B, Event.ADVERT_PREEMPTED): Transition(
        _B, (D.LEARN_SENDER,), "RFC 5798 6.4.2 (discard; Master_Down_Timer keeps running)"),
    (_B, Event.FAULT): Transition(_F, (D.STOP_TIMERS, D.NOTIFY), "keepalived"),
    (_B, Event.GROUP_MASTER): Transition(_M, _BECOME_MASTER, "keepalived sync group"),
    (_B, Event.MASTER_DOWN_TIMER_PLANNED): Transition(_M, _TAKE_OVER_PLANNED, _HAND),
    (_B, Event.GROUP_MASTER_PLANNED): Transition(_M, _TAKE_OVER_PLANNED, _HAND),
    (_B, Event.GROUP_FAULT): Transition(_F, (D.STOP_TIMERS, D.NOTIFY),
                                        "keepalived sync group"),
    # --- RFC 5798 6.4.3 Master ------------------------------------------------------------
    (_M, Event.SHUTDOWN): Transition(
        _S, (D.STOP_TIMERS, D.SEND_ADVERT_ZERO, D.REMOVE_VIPS, D.NOTIFY), "RFC 5798 6.4.3"),
    (_M, Event.ADVER_TIMER): Transition(_M, (D.SEND_ADVERT, D.ADVER_TIMER), "RFC 5798 6.4.3"),
    (_M, Event.ADVERT_PRIORITY_ZERO): Transition(
        _M, (D.SEND_ADVERT, D.ADVER_TIMER), "RFC 5798 6.4.3"),
    (_M, Event.ADVERT_HIGHER): Transition(
        _B, (D.ANSWER_HIGHER, D.STOP_TIMERS, D.ADOPT_INTERVAL, D.LEARN_MASTER, D.NOTIFY,
             D.REMOVE_VIPS, D.MASTER_DOWN_TIMER), "RFC 5798 6.4.3"),
    (_M, Event.ADVERT_LOWER): Transition(
        _M, (D.ANSWER_LOWER, D.REPORT_LOWER), "RFC 5798 6.4.3 (discard) + keepalived"),
    (_M, Event.FAULT): Transition(_F, _MASTER_TO_FAULT, "keepalived"),
    (_M, Event.GROUP_BACKUP): Transition(
        _B, (D.STOP_TIMERS, D.NOTIFY, D.REMOVE_VIPS, D.MASTER_DOWN_TIMER),
        "keepalived sync group"),
    (_M, Event.GROUP_FAULT): Transition(_F, _MASTER_TO_FAULT, "keepalived sync group"),
    # --- planned hand-over (make-before-break) ---------------------------------------------
    (_M, Event.HANDOVER): Transition(
        _M, (D.STOP_TIMERS, D.LEAVE, D.SEND_ADVERT_ZERO, D.ADVER_TIMER), _HAND),
    (_M, Event.LEAVING_ADVER_TIMER): Transition(_M, (D.SEND_ADVERT_ZERO, D.ADVER_TIMER), _HAND),
    (_M, Event.SUCCESSOR_ADVERT): Transition(
        _M, (D.STOP_TIMERS, D.LEARN_MASTER, D.SUCCESSOR), _HAND + " (silent from here: with "
        "use_vmac a frame of ours would pull the MAC back)"),
    (_M, Event.SUCCESSOR_HELD): Transition(_M, (D.SUCCESSOR,), _HAND + " (sync group)"),
    (_M, Event.HANDED_OVER): Transition(
        _B, (D.STOP_TIMERS, D.NOTIFY, D.REMOVE_VIPS, D.ADOPT_INTERVAL, D.LEARN_MASTER,
             D.YIELD, D.MASTER_DOWN_TIMER), _HAND),
    (_M, Event.HANDED_OVER_STOP): Transition(
        _S, (D.STOP_TIMERS, D.REMOVE_VIPS, D.NOTIFY), _HAND),
    (_M, Event.HANDOVER_ABANDONED): Transition(
        _M, (D.STAY, D.SEND_ADVERT, D.ADVER_TIMER), _HAND + " (releasing would leave the VIPs "
        "to nobody)"),
    # --- keepalived FAULT -----------------------------------------------------------------
    (_F, Event.RECOVER): Transition(_B, _BECOME_BACKUP, "keepalived"),
    (_F, Event.GROUP_BACKUP): Transition(_B, _BECOME_BACKUP, "keepalived sync group"),
    (_F, Event.SHUTDOWN): Transition(_S, (D.NOTIFY,), "keepalived"),
})
