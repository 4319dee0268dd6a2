"""The transitions of one virtual router, written as data to check against RFC 5798 6.4.

Each row is (state, event) -> (next state, what is done, where it comes from). ``VirtualRouter``
classifies every input (a timer, a received advert, a fault report, shutdown) into one
:class:`Event`, looks the row up in :data:`TRANSITIONS` and performs it; a pair missing from the
table is ignored. Rows marked "keepalived" are behaviour the RFC does not describe: the FAULT
state, sync groups, STOP (keepalived's name for leaving the protocol at shutdown, where the RFC
returns to Initialize), and a master answering a lower-priority advert.

Adverts reach the table only after the receive checks of RFC 5798 7.1 / RFC 3768 7.1 passed
(TTL, version, VRID, authentication, interval, checksum); a failed check is counted and logged,
and never changes state.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import MappingProxyType

from pykeepalived.vrrp.actions import State


class Event(enum.Enum):
    """Inputs of the state machine, after classification by ``VirtualRouter``."""

    STARTUP = "Startup event"
    STARTUP_OWNER = "Startup event, Priority = 255"
    SHUTDOWN = "Shutdown event"
    MASTER_DOWN_TIMER = "Master_Down_Timer fires"
    MASTER_DOWN_TIMER_HELD = "Master_Down_Timer fires, sync group not ready"
    ADVER_TIMER = "Adver_Timer fires"
    ADVERT_PRIORITY_ZERO = "ADVERTISEMENT received, Priority = 0"
    ADVERT_ACCEPTED = "ADVERTISEMENT received, Priority >= local or Preempt_Mode False"
    ADVERT_PREEMPTED = "ADVERTISEMENT received, Priority < local and Preempt_Mode True"
    ADVERT_HIGHER = "ADVERTISEMENT received, Priority > local or = local and address higher"
    ADVERT_LOWER = "ADVERTISEMENT received, Priority < local or = local and address lower"
    FAULT = "a tracked interface, script or file failed"
    RECOVER = "every tracked interface, script and file is up again"
    GROUP_MASTER = "sync group moves to MASTER"
    GROUP_BACKUP = "sync group moves to BACKUP"
    GROUP_FAULT = "sync group moves to FAULT"


@dataclass(frozen=True, slots=True)
class Transition:
    next: State
    does: str
    source: str


_I, _B, _M, _F, _S = State.INIT, State.BACKUP, State.MASTER, State.FAULT, State.STOP

TRANSITIONS = MappingProxyType({
    # --- RFC 5798 6.4.1 Initialize --------------------------------------------------------
    (_I, Event.STARTUP_OWNER): Transition(
        _M, "send ADVERTISEMENT, broadcast gratuitous ARP / unsolicited NA, "
            "Adver_Timer = Advertisement_Interval", "RFC 5798 6.4.1"),
    (_I, Event.STARTUP): Transition(
        _B, "Master_Adver_Interval = Advertisement_Interval, "
            "Master_Down_Timer = Master_Down_Interval", "RFC 5798 6.4.1"),
    (_I, Event.FAULT): Transition(_F, "nothing is sent; wait for recovery", "keepalived"),
    (_I, Event.SHUTDOWN): Transition(_S, "nothing to undo", "keepalived"),
    # --- RFC 5798 6.4.2 Backup ------------------------------------------------------------
    (_B, Event.SHUTDOWN): Transition(_S, "cancel Master_Down_Timer", "RFC 5798 6.4.2"),
    (_B, Event.MASTER_DOWN_TIMER): Transition(
        _M, "send ADVERTISEMENT, broadcast gratuitous ARP / unsolicited NA, "
            "Adver_Timer = Advertisement_Interval", "RFC 5798 6.4.2"),
    (_B, Event.MASTER_DOWN_TIMER_HELD): Transition(
        _B, "want MASTER, Master_Down_Timer = Master_Down_Interval", "keepalived sync group"),
    (_B, Event.ADVERT_PRIORITY_ZERO): Transition(
        _B, "Master_Down_Timer = Skew_Time", "RFC 5798 6.4.2"),
    (_B, Event.ADVERT_ACCEPTED): Transition(
        _B, "Master_Adver_Interval = Adver Interval of the ADVERTISEMENT (v3), recompute "
            "Skew_Time and Master_Down_Interval, Master_Down_Timer = Master_Down_Interval",
        "RFC 5798 6.4.2"),
    (_B, Event.ADVERT_PREEMPTED): Transition(
        _B, "discard the ADVERTISEMENT (Master_Down_Timer keeps running)", "RFC 5798 6.4.2"),
    (_B, Event.FAULT): Transition(_F, "cancel Master_Down_Timer", "keepalived"),
    (_B, Event.GROUP_MASTER): Transition(
        _M, "as Master_Down_Timer firing", "keepalived sync group"),
    (_B, Event.GROUP_FAULT): Transition(_F, "cancel Master_Down_Timer", "keepalived sync group"),
    # --- RFC 5798 6.4.3 Master ------------------------------------------------------------
    (_M, Event.SHUTDOWN): Transition(
        _S, "cancel Adver_Timer, send ADVERTISEMENT with Priority = 0, remove VIPs",
        "RFC 5798 6.4.3"),
    (_M, Event.ADVER_TIMER): Transition(
        _M, "send ADVERTISEMENT, Adver_Timer = Advertisement_Interval", "RFC 5798 6.4.3"),
    (_M, Event.ADVERT_PRIORITY_ZERO): Transition(
        _M, "send ADVERTISEMENT, Adver_Timer = Advertisement_Interval", "RFC 5798 6.4.3"),
    (_M, Event.ADVERT_HIGHER): Transition(
        _B, "cancel Adver_Timer, Master_Adver_Interval = Adver Interval of the ADVERTISEMENT "
            "(v3), recompute Skew_Time and Master_Down_Interval, "
            "Master_Down_Timer = Master_Down_Interval, remove VIPs", "RFC 5798 6.4.3"),
    (_M, Event.ADVERT_LOWER): Transition(
        _M, "RFC: discard; keepalived: send ADVERTISEMENT at once (unless "
            "lower_prio_no_advert) and garp_lower_prio_repeat gratuitous ARPs",
        "RFC 5798 6.4.3 + keepalived"),
    (_M, Event.FAULT): Transition(
        _F, "send ADVERTISEMENT with Priority = 0, remove VIPs", "keepalived"),
    (_M, Event.GROUP_BACKUP): Transition(
        _B, "remove VIPs, Master_Down_Timer = Master_Down_Interval", "keepalived sync group"),
    (_M, Event.GROUP_FAULT): Transition(
        _F, "send ADVERTISEMENT with Priority = 0, remove VIPs", "keepalived sync group"),
    # --- keepalived FAULT -----------------------------------------------------------------
    (_F, Event.RECOVER): Transition(
        _B, "Master_Adver_Interval = Advertisement_Interval, "
            "Master_Down_Timer = Master_Down_Interval", "keepalived"),
    (_F, Event.GROUP_BACKUP): Transition(
        _B, "as recovery, once no member of the group is faulty", "keepalived sync group"),
    (_F, Event.SHUTDOWN): Transition(_S, "nothing to undo", "keepalived"),
})
