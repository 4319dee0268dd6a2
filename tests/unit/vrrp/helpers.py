"""Small builders shared by the state-machine tests (fake clock: plain floats)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address
from typing import Any

from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import (
    Action,
    AddVips,
    GroupStateChange,
    LowerPriorityReceived,
    PriorityChanged,
    RemoveVips,
    SendAdvert,
    SendGratuitous,
    State,
    StateChange,
)
from pykeepalived.vrrp.packet import Advert
from pykeepalived.vrrp.router import RouterConfig, VirtualRouter

ME = IPv4Address("192.0.2.2")
PEER_HIGH = IPv4Address("192.0.2.3")  # higher address than ME
PEER_LOW = IPv4Address("192.0.2.1")  # lower address than ME
VIP = IPv4Address("192.0.2.100")
VIP6 = IPv6Address("2001:db8::100")


def config(**kw: Any) -> RouterConfig:
    base: dict[str, Any] = dict(name="VI_1", vrid=51, priority=100, advert_int=1,
                                vips=("192.0.2.100/24",), primary_address=ME)
    base.update(kw)
    return RouterConfig(**base)


def router(**kw: Any) -> VirtualRouter:
    return VirtualRouter(config(**kw))


def advert(priority: int, *, version: int = 2, interval: float = 1, vrid: int = 51,
           addresses: tuple[Any, ...] = (VIP,), auth_type: int = 0,
           auth_data: bytes = b"") -> Advert:
    if version == 2 and auth_type == packet.AUTH_PASS:
        auth_data = packet.auth_key(auth_data)
    return Advert(version, vrid, priority, float(interval), addresses, auth_type, auth_data)


def started_backup(now: float = 0.0, **kw: Any) -> VirtualRouter:
    r = router(**kw)
    r.start(now)
    assert r.state is State.BACKUP
    r.actions()
    return r


def started_master(now: float = 0.0, **kw: Any) -> VirtualRouter:
    """A router that became MASTER through its own down timer (no peer heard)."""
    r = started_backup(now, **kw)
    timer = r.get_timer()
    assert timer is not None
    r.handle_timer(timer)
    assert r.state is State.MASTER
    r.actions()
    return r


def summary(actions: list[Action]) -> list[str]:
    """Actions as short words, for order assertions."""
    out = []
    for a in actions:
        if isinstance(a, StateChange):
            out.append(f"{a.old.value}->{a.new.value}")
        elif isinstance(a, SendAdvert):
            out.append(f"advert({a.advert.priority})")
        elif isinstance(a, AddVips):
            out.append("add_vips")
        elif isinstance(a, RemoveVips):
            out.append("remove_vips")
        elif isinstance(a, SendGratuitous):
            out.append("garp")
        elif isinstance(a, PriorityChanged):
            out.append(f"prio({a.old}->{a.new})")
        elif isinstance(a, LowerPriorityReceived):
            out.append(f"lower({a.priority})")
        elif isinstance(a, GroupStateChange):
            out.append(f"group {a.old.value}->{a.new.value}")
        else:  # pragma: no cover
            out.append(repr(a))
    return out
