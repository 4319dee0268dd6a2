"""From a parsed ``vrrp_instance`` to what the VRRP process needs to run it.

Pure translation, no I/O: the router's configuration (``RouterConfig``), the addresses the instance
owns (VIPs, excluded VIPs, routes, rules), where its adverts go, and what it tracks. Keeping this apart
from the event loop lets unit tests check every keepalived default without root.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from pykeepalived.net.addresses import VipSpec
from pykeepalived.vrrp.router import RouterConfig

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass
class InstancePlan:
    """Everything the daemon derives from one vrrp_instance block."""

    name: str
    ifname: str  # the configured interface (received adverts arrive here)
    xmit_ifname: str  # where adverts are sent from and VIPs live by default (VMAC or ifname)
    family: int
    router_config: RouterConfig
    vips: list[VipSpec]  # virtual_ipaddress: carried in adverts, installed as MASTER
    excluded: list[VipSpec]  # virtual_ipaddress_excluded: installed as MASTER, not advertised
    routes: list[list[str]]  # virtual_routes lines as words
    rules: list[list[str]]  # virtual_rules lines as words
    destinations: list[str]  # unicast peers, or the multicast group
    unicast: bool
    src: str | None  # unicast_src_ip / mcast_src_ip
    vmac: str | None  # name of the macvlan to create, when use_vmac
    track_interfaces: list[tuple[str, int]] = field(default_factory=list)  # (ifname, weight)
    track_scripts: list[tuple[str, int | None, bool]] = field(default_factory=list)
    track_files: list[tuple[str, int | None, bool]] = field(default_factory=list)
    dont_track_primary: bool = False
    no_accept: bool = False  # strict/no_accept non-owner: drop traffic to VIPs (firewall)
    notify: dict[str, str | None] = field(default_factory=dict)
    garp_interval: float = 0.0  # spacing of gratuitous ARP/NA within one round
    warnings: list[str] = field(default_factory=list)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    value = getattr(obj, name, default)
    return default if value is None else value


def _vip_spec(vip: Any, default_dev: str) -> VipSpec:
    """One virtual_ipaddress entry (config model) as an address to install."""
    address = vip.address
    cidr = str(address) if "/" in str(address) else f"{address}/{32 if address.version == 4 else 128}"
    return VipSpec(address=cidr, dev=_get(vip, "dev", default_dev), brd=_get(vip, "brd"),
                   scope=_get(vip, "scope"), label=_get(vip, "label"))


def _ip(value: Any) -> IPAddress:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    return ipaddress.ip_address(str(value).split("/")[0])


def vmac_name(inst: Any, family: int) -> str | None:
    """The macvlan name for ``use_vmac`` (keepalived default: vrrp.VRID / vrrp6.VRID)."""
    use_vmac = getattr(inst, "use_vmac", None)
    if not use_vmac:
        return None
    if isinstance(use_vmac, str) and use_vmac.strip():
        return use_vmac.strip()
    vrid = inst.virtual_router_id
    return f"vrrp{'6' if family == 6 else ''}.{vrid}"


def plan_instance(inst: Any, global_defs: Any) -> InstancePlan:
    """Translate one ``VrrpInstance`` (config model) with ``global_defs`` into an InstancePlan."""
    family = int(_get(inst, "family", 4))
    ifname = str(inst.interface)
    vmac = vmac_name(inst, family)
    xmit_ifname = vmac if vmac and not _get(inst, "vmac_xmit_base", False) else ifname
    vip_dev = vmac or ifname
    vips_all = [_vip_spec(v, vip_dev) for v in _get(inst, "virtual_ipaddress", [])]
    excluded = [_vip_spec(v, vip_dev) for v in _get(inst, "virtual_ipaddress_excluded", [])]
    # Only the addresses of the instance's family go in adverts; others are installed as excluded.
    advertised = [v for v in vips_all if (":" in v.address) == (family == 6)]
    excluded = [v for v in vips_all if v not in advertised] + excluded

    strict = bool(_get(inst, "strict_mode", False) or _get(global_defs, "vrrp_strict", False))
    auth = getattr(inst, "authentication", None)
    auth_type = _get(auth, "auth_type") if auth is not None else None
    auth_pass = str(_get(auth, "auth_pass", "")) if auth is not None else ""
    warnings = []
    if strict and auth_type:
        warnings.append(f"({inst.name}) vrrp_strict: authentication is ignored")
        auth_type, auth_pass = None, ""

    version = int(_get(inst, "version", _get(global_defs, "vrrp_version", 2)))
    priority = int(_get(inst, "priority", 100))
    unicast_peers = [str(_ip(p)) for p in _get(inst, "unicast_peer", [])]
    if unicast_peers:
        destinations = unicast_peers
    elif family == 6:
        destinations = [str(_get(global_defs, "vrrp_mcast_group6", "ff02::12"))]
    else:
        destinations = [str(_get(global_defs, "vrrp_mcast_group4", "224.0.0.18"))]
    src = _get(inst, "unicast_src_ip") if unicast_peers else _get(inst, "mcast_src_ip")
    src = str(_ip(src)) if src else None

    accept = getattr(inst, "accept", None)
    no_accept = bool(_get(inst, "no_accept", False)) or (strict and accept is not True)
    no_accept = no_accept and priority != 255

    def g(name: str, gname: str, default: Any) -> Any:
        value = getattr(inst, name, None)
        return value if value is not None else _get(global_defs, gname, default)

    router_config = RouterConfig(
        name=str(inst.name),
        vrid=int(inst.virtual_router_id),
        priority=priority,
        advert_int=float(_get(inst, "advert_int", 1.0)),
        version=version,
        family=family,
        vips=tuple(_ip(v.address) for v in advertised),
        initial_state=_get(inst, "state"),
        nopreempt=bool(_get(inst, "nopreempt", False)),
        preempt_delay=float(_get(inst, "preempt_delay", 0.0)),
        auth_type=auth_type,
        auth_pass=auth_pass,
        strict=strict,
        skip_check_adv_addr=bool(_get(inst, "skip_check_adv_addr", False)
                                 or _get(global_defs, "vrrp_skip_check_adv_addr", False)),
        v3_checksum_as_v2=bool(_get(global_defs, "v3_checksum_as_v2", False)),
        garp_master_delay=float(g("garp_master_delay", "vrrp_garp_master_delay", 5.0)),
        garp_master_repeat=int(g("garp_master_repeat", "vrrp_garp_master_repeat", 5)),
        garp_master_refresh=float(g("garp_master_refresh", "vrrp_garp_master_refresh", 0.0)),
        garp_master_refresh_repeat=int(g("garp_master_refresh_repeat",
                                         "vrrp_garp_master_refresh_repeat", 1)),
        lower_prio_no_advert=bool(_get(inst, "lower_prio_no_advert", False)),
        higher_prio_send_advert=bool(_get(inst, "higher_prio_send_advert", False)),
        unicast=bool(unicast_peers),
    )
    garp_interval = float(g("garp_interval" if family == 4 else "gna_interval",
                            "vrrp_garp_interval" if family == 4 else "vrrp_gna_interval", 0.0))
    notify = {key: _get(inst, key) for key in (
        "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify")}
    return InstancePlan(
        name=str(inst.name), ifname=ifname, xmit_ifname=xmit_ifname, family=family,
        router_config=router_config, vips=advertised, excluded=excluded,
        routes=[list(r) if not isinstance(r, str) else r.split()
                for r in _get(inst, "virtual_routes", [])],
        rules=[list(r) if not isinstance(r, str) else r.split()
               for r in _get(inst, "virtual_rules", [])],
        destinations=destinations, unicast=bool(unicast_peers), src=src, vmac=vmac,
        track_interfaces=[(str(t.name), int(_get(t, "weight", 0)))
                          for t in _get(inst, "track_interface", [])],
        track_scripts=[(str(t.name), getattr(t, "weight", None), bool(_get(t, "reverse", False)))
                       for t in _get(inst, "track_script", [])],
        track_files=[(str(t.name), getattr(t, "weight", None), bool(_get(t, "reverse", False)))
                     for t in _get(inst, "track_file", [])],
        dont_track_primary=bool(_get(inst, "dont_track_primary", False)),
        no_accept=no_accept, notify=notify, garp_interval=garp_interval, warnings=warnings,
    )
