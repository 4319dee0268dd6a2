"""What a virtual router asks its driver to do.

The VRRP core never touches the kernel (see the architecture guide): it returns these small,
immutable values from ``VirtualRouter.actions()`` and ``SyncGroup.actions()``, and the daemon
carries them out in the order given, never reordering them. The order is meaningful: on becoming
MASTER keepalived sends its first advert *before* adding the VIPs and sending gratuitous ARPs, so
that the old master drops the addresses first (keepalived ``vrrp_state_master_tx``), and the
advert goes out before the state change is logged and notified, since the advert is what ends
the takeover on the wire.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pykeepalived.vrrp.packet import Advert, IPAddress


class State(enum.Enum):
    """VRRP states: RFC 5798 6.4 (Initialize, Backup, Master) plus keepalived's FAULT and STOP.

    The values are the words keepalived logs and passes to notify scripts
    ("(VI_1) Entering MASTER STATE", ``notify`` argument 3).
    """

    INIT = "INIT"
    BACKUP = "BACKUP"
    MASTER = "MASTER"
    FAULT = "FAULT"
    STOP = "STOP"

    # Members are singletons compared by identity: hash them by identity too, in C, instead
    # of Enum.__hash__ (Python code hashing the name) in every advert's transition lookup.
    __hash__ = object.__hash__


@dataclass(frozen=True, slots=True)
class SendAdvert:
    """Send one ADVERTISEMENT (RFC 5798 5.1) to the multicast group or every unicast peer.

    ``ah_seq`` is set only for ``authentication { auth_type AH }``: the IPsec AH sequence number
    this advert must carry (keepalived increments it once per advert sent).
    """

    advert: Advert
    ah_seq: int | None = None


@dataclass(frozen=True, slots=True)
class AddVips:
    """Install the instance's virtual addresses (and its virtual routes, rules, VMAC state)."""


@dataclass(frozen=True, slots=True)
class RemoveVips:
    """Remove the instance's virtual addresses (and its virtual routes and rules)."""


@dataclass(frozen=True, slots=True)
class SendGratuitous:
    """One round of gratuitous ARP (IPv4) / unsolicited Neighbour Advertisement (IPv6) per VIP.

    A burst of ``garp_master_repeat`` rounds is that many consecutive ``SendGratuitous`` actions;
    spacing them (``vrrp_garp_interval`` / ``vrrp_gna_interval``) is the daemon's business.
    """


@dataclass(frozen=True, slots=True)
class StateChange:
    """The router (or a sync group) moved from ``old`` to ``new``.

    The daemon logs "(NAME) Entering NEW STATE" and runs the notify scripts; ``reason`` is a short
    human explanation (e.g. "master_down timer expired", "higher priority advert").
    """

    old: State
    new: State
    reason: str


@dataclass(frozen=True, slots=True)
class PriorityChanged:
    """The effective priority moved (tracking).

    With ``notify_priority_changes`` keepalived writes ``MASTER_PRIORITY`` / ``BACKUP_PRIORITY``
    lines to the notify FIFO; the daemon decides, the core only reports.
    """

    old: int
    new: int
    state: State


@dataclass(frozen=True, slots=True)
class LowerPriorityReceived:
    """A master heard (and answered) an advert of lower priority.

    keepalived runs ``notify_master_rx_lower_pri`` and writes ``MASTER_RX_LOWER_PRI`` to the
    FIFO: the proper master may need to take back external state (a cloud secondary address)
    from a peer that became master during a communication break.
    """

    source: IPAddress
    priority: int


@dataclass(frozen=True, slots=True)
class MasterGap:
    """A time with no master, as this router saw it: from the master's last sign of life
    (its last advert, or its priority-0 goodbye when ``planned``) to the next master's first
    (or our own first advert as the new master). What clients of the VIP lost, seen from
    here: the availability figures (failovers, gap per failover, MTTR) are made of these."""

    start: float
    end: float
    planned: bool


@dataclass(frozen=True, slots=True)
class GroupStateChange:
    """A ``vrrp_sync_group`` moved from ``old`` to ``new`` (group notify scripts, FIFO)."""

    group: str
    old: State
    new: State
    reason: str


Action = (SendAdvert | AddVips | RemoveVips | SendGratuitous | StateChange | PriorityChanged
          | LowerPriorityReceived | MasterGap | GroupStateChange)
