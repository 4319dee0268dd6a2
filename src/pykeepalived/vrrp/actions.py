"""What a virtual router asks its driver to do.

The VRRP core never touches the kernel (see the architecture guide): it returns these small,
immutable values from ``VirtualRouter.actions()`` and ``SyncGroup.actions()``, and the daemon
carries them out in the order given. The order is meaningful: on becoming MASTER keepalived sends
its first advert *before* adding the VIPs and sending gratuitous ARPs, so that the old master
drops the addresses first (keepalived ``vrrp_state_master_tx``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pykeepalived.vrrp.packet import Advert


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


Action = SendAdvert | AddVips | RemoveVips | SendGratuitous | StateChange
