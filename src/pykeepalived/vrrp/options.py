"""Configuration of one virtual router.

Kept apart from :mod:`pykeepalived.vrrp.router` so the state machine module stays readable;
``RouterConfig`` is re-exported there.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address

from pykeepalived.vrrp.packet import IPAddress
from pykeepalived.vrrp.tracking import Tracked


@dataclass(frozen=True, slots=True)  # one per instance, for its lifetime
class RouterConfig:
    """What the state machine needs from a ``vrrp_instance`` block (see keepalived.conf(5)).

    ``vips`` may hold addresses, interfaces or strings ("192.0.2.100/24"); only the address
    goes into adverts. ``primary_address`` is the source of our adverts, used to break equal
    priorities (RFC 5798 6.4.3); ``set_primary_address`` changes it later. ``None`` for the
    ``garp_lower_prio_*`` values means keepalived's default: the ``garp_master_*`` value.
    """

    name: str
    vrid: int
    priority: int
    advert_int: float
    version: int = 2
    family: int = 4
    vips: tuple[object, ...] = ()
    initial_state: str | None = None
    nopreempt: bool = False
    preempt_delay: float = 0.0
    auth_type: str | None = None
    auth_pass: str = ""
    strict: bool = False
    skip_check_adv_addr: bool = False
    v3_checksum_as_v2: bool = False
    garp_master_delay: float = 5.0
    garp_master_repeat: int = 5
    garp_master_refresh: float = 0.0
    garp_master_refresh_repeat: int = 1
    lower_prio_no_advert: bool = False
    higher_prio_send_advert: bool = False
    unicast: bool = False
    primary_address: IPAddress | None = None
    garp_lower_prio_delay: float | None = None
    garp_lower_prio_repeat: int | None = None
    down_timer_adverts: int = 3
    tracking: tuple[Tracked, ...] = ()  # track_* of the instance and of its sync group


def vip_address(vip: object) -> IPAddress:
    """The address part of a VIP given as address, interface or text."""
    # IPv4Interface / IPv6Interface subclass the address classes: take their .ip first, or the
    # prefix length would take part in comparisons with the addresses of received adverts.
    ip = getattr(vip, "ip", None)
    if isinstance(ip, IPv4Address | IPv6Address):
        return ip
    if isinstance(vip, IPv4Address | IPv6Address):
        return vip
    return ip_address(str(vip).split("/")[0].split()[0])
