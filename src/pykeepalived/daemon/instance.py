"""From a parsed ``vrrp_instance`` to what the VRRP process needs to run it.

Pure translation, no I/O: the router's configuration (``RouterConfig``), the addresses the
instance owns (VIPs, excluded VIPs, routes, rules), where its adverts go, and what it tracks.
Keeping this apart from the event loop lets unit tests check every keepalived default without
root.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar, cast

from pykeepalived.net.addresses import VipSpec
from pykeepalived.notify.notifier import NotifyScripts, Script, ScriptSpec
from pykeepalived.vrrp.router import RouterConfig
from pykeepalived.vrrp.tracking import Tracked

if TYPE_CHECKING:  # the VRRP process receives plans, not the parser's model
    from pykeepalived.config.model import KeepalivedConfig, VrrpInstance
    from pykeepalived.config.model_common import IpAddress, Route, Rule
    from pykeepalived.config.model_vrrp import TrackedAndNotified


T = TypeVar("T")


class Shared:
    """One object for equal immutable values of many plans (interface names, the multicast
    group, default notify scripts, tracked interfaces): the reader child sends the plans
    pickled, and pickle sends an object referenced many times once, so that the VRRP
    process receives one copy of each (1,000 instances on 4 interfaces: 4 of each
    interface's entries, not 1,000)."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: dict[object, object] = {}

    def __call__(self, value: T, /) -> T:
        return cast(T, self._values.setdefault((type(value), value), value))


class Share(Protocol):
    """What :class:`Shared` is to a plan's builder (identity when nothing is shared)."""

    def __call__(self, value: T, /) -> T: ...


def _same(value: T, /) -> T:
    return value


@dataclass(slots=True)
class InstancePlan:
    """Everything the daemon derives from one vrrp_instance block. (Slotted, its sequences
    tuples: one plan per instance lives as long as the instance.)"""

    name: str
    ifname: str  # the configured interface (tracked; the base of a VMAC)
    # The interface of the instance's VRRP socket, which adverts are sent from and received
    # on: the VMAC, or ifname (no VMAC, or vmac_xmit_base), as keepalived's socket pool.
    # A macvlan in private mode keeps frames carrying its own MAC from the base interface,
    # so with use_vmac a peer's adverts (from the same virtual MAC) reach only the VMAC.
    xmit_ifname: str
    family: int
    router_config: RouterConfig
    vips: tuple[VipSpec, ...]  # virtual_ipaddress of the instance's family: advertised
    excluded: tuple[VipSpec, ...]  # virtual_ipaddress_excluded (and other-family VIPs)
    routes: tuple[Route, ...]  # virtual_routes, as the configuration parser read them
    rules: tuple[Rule, ...]
    destinations: tuple[str, ...]  # unicast peers, or the multicast group
    unicast: bool
    src: str | None  # unicast_src_ip / mcast_src_ip
    vmac: str | None  # the macvlan to create, with use_vmac
    sync_group: str | None = None
    no_accept: bool = False  # a non-owner master that must not accept traffic to its VIPs
    notify: NotifyScripts = field(default_factory=NotifyScripts)
    notify_priority_changes: bool = False  # FIFO MASTER_PRIORITY / BACKUP_PRIORITY lines
    garp_interval: float = 0.0  # spacing of gratuitous ARP/NA within one round

    @property
    def tracking(self) -> tuple[Tracked, ...]:
        """Everything the router's priority and FAULT depend on (see :func:`tracking`)."""
        return self.router_config.tracking

    def tracked(self, kind: str) -> list[str]:
        """Names of the tracked objects of one kind ("interface", "script", "file")."""
        prefix = kind + " "
        return list(dict.fromkeys(t.obj[len(prefix):] for t in self.tracking
                                  if t.obj.startswith(prefix)))

    @property
    def all_addresses(self) -> tuple[VipSpec, ...]:
        return self.vips + self.excluded

    @property
    def key(self) -> tuple[str, int, int]:
        """(socket interface, family, VRID): how a received advert finds its instance."""
        return (self.xmit_ifname, self.family, self.router_config.vrid)


def vip_spec(vip: IpAddress, default_dev: str, share: Share = _same) -> VipSpec:
    """One virtual_ipaddress entry as an address to install (dev defaults to the instance's)."""
    return VipSpec(address=str(vip.address), dev=share(vip.dev or default_dev), brd=vip.brd,
                   scope=vip.scope, label=vip.label,
                   peer=str(vip.peer) if vip.peer is not None else None, home=vip.home,
                   mngtmpaddr=vip.mngtmpaddr, noprefixroute=vip.noprefixroute,
                   nodad=not vip.nodad, autojoin=vip.autojoin,
                   preferred_lft=vip.preferred_lft)


def notify_scripts(owner: TrackedAndNotified) -> NotifyScripts:
    """The notify_* scripts of a vrrp_instance or a vrrp_sync_group."""

    def spec(keyword: str) -> ScriptSpec:
        # "notify_master SCRIPT [username [groupname]]": the line's own user wins over
        # script_user for that script (keepalived.conf(5))
        configured = owner.notify_scripts.get(keyword)
        if configured is not None and configured.user is not None:
            return Script(configured.command, configured.user.user, configured.user.group)
        value: str | None = getattr(owner, keyword, None)
        return value

    return NotifyScripts(
        notify_master=spec("notify_master"), notify_backup=spec("notify_backup"),
        notify_fault=spec("notify_fault"), notify_stop=spec("notify_stop"),
        notify_deleted=spec("notify_deleted"), notify=spec("notify"),
        notify_master_rx_lower_pri=spec("notify_master_rx_lower_pri"),
        send_deleted=owner.notify_deleted is not None)


def _entries(owner: TrackedAndNotified, config: KeepalivedConfig) -> list[Tracked]:
    """The track_interface / track_script / track_file entries of an instance or a group.

    A script's or file's own weight applies when the entry gives none. keepalived's rules
    about weights in sync groups and for the address owner are applied (and reported) by
    the configuration checks, which leave the entries as keepalived runs them.
    """
    out = [Tracked(f"interface {t.name}", t.weight, t.reverse) for t in owner.track_interface]
    for ref in owner.track_script:
        script = config.vrrp_scripts.get(ref.name)
        if script is None or script.script is None:
            continue
        weight = script.weight if ref.weight is None else ref.weight
        reverse = ref.reverse or (ref.weight is None and script.weight_reverse)
        out.append(Tracked(f"script {ref.name}", weight, reverse))
    for fref in owner.track_file:
        track_file = config.vrrp_track_files.get(fref.name)
        if track_file is None or track_file.file is None:
            continue
        weight = track_file.weight if fref.weight is None else fref.weight
        reverse = fref.reverse or (fref.weight is None and track_file.weight_reverse)
        out.append(Tracked(f"file {fref.name}", weight, reverse, is_file=True))
    return out


def tracking(inst: VrrpInstance, config: KeepalivedConfig, ifname: str,
             vmac: str | None) -> tuple[Tracked, ...]:
    """The instance's tracked objects: its own, its sync group's (keepalived.conf(5): a
    group's tracking "will update the status/priority of all VRRP instances which are
    members"), its interface (and VMAC) unless ``dont_track_primary``, and the interface of
    each VIP and excluded VIP.

    The VIPs' interfaces are keepalived's (vrrp.c, TRACK_ADDR; seen with keepalived 2.2.7:
    the interface of a ``dev`` VIP deleted or down puts the instance in FAULT): a MASTER
    must be able to hold every address it answers for. A VIP written with ``no_track`` does
    not make its interface tracked, nor, under ``dont_track_primary``, a VIP on the
    instance's own interface.
    """
    entries = _entries(inst, config)
    group = config.vrrp_sync_groups.get(inst.sync_group or "")
    if group is not None:
        entries += _entries(group, config)
    named = {t.obj for t in entries}
    primary = [dev for dev in (ifname, vmac) if dev]
    devices = [] if inst.dont_track_primary else list(primary)
    for vip in [*inst.virtual_ipaddress, *inst.virtual_ipaddress_excluded]:
        dev = vip.dev or vmac or ifname
        if dev and not vip.no_track and not (inst.dont_track_primary and dev in primary):
            devices.append(dev)
    for dev in dict.fromkeys(devices):
        if f"interface {dev}" not in named:
            entries.append(Tracked(f"interface {dev}"))
    return tuple(entries)


def vmac_name(inst: VrrpInstance) -> str | None:
    """The macvlan name for ``use_vmac`` (default vrrp.VRID, vrrp6.VRID for IPv6)."""
    if inst.use_vmac is None:
        return None
    name = inst.use_vmac.strip()
    from pykeepalived.net.vmac import default_vmac_name  # (the reader child only)

    return name or default_vmac_name(int(inst.virtual_router_id or 0), inst.family)


def plan_instance(inst: VrrpInstance, config: KeepalivedConfig,
                  share: Share = _same) -> InstancePlan:
    """Translate one ``VrrpInstance`` of ``config`` into an InstancePlan; ``share`` (a
    :class:`Shared`) gives equal values of many plans as one object."""
    gdefs = config.global_defs
    family = inst.family
    ifname = share(inst.interface or "")
    vmac = vmac_name(inst)
    xmit_ifname = share(vmac if vmac and not inst.vmac_xmit_base else ifname)
    vip_dev = vmac or ifname
    vips_all = [vip_spec(v, vip_dev, share) for v in inst.virtual_ipaddress]
    advertised = tuple(v for v in vips_all if v.family == family)
    excluded = tuple([v for v in vips_all if v.family != family]
                     + [vip_spec(v, vip_dev, share) for v in inst.virtual_ipaddress_excluded])

    strict = bool(inst.strict_mode if inst.strict_mode is not None else gdefs.vrrp_strict)
    auth = inst.authentication
    auth_type = auth.auth_type if auth is not None else None
    auth_pass = (auth.auth_pass or "") if auth is not None else ""

    version = inst.version or gdefs.vrrp_version
    peers = [str(p) for p in inst.unicast_peer] or [str(p.address) for p in inst.unicast_peers]
    if peers:
        destinations = share(tuple(peers))
    elif inst.mcast_dst_ip is not None:
        destinations = share((str(inst.mcast_dst_ip),))
    else:
        destinations = share((str(gdefs.vrrp_mcast_group6 if family == 6
                                  else gdefs.vrrp_mcast_group4),))
    src_ip = inst.unicast_src_ip if peers else inst.mcast_src_ip
    src = str(src_ip) if src_ip is not None else None

    no_accept = inst.no_accept or (strict and inst.accept is not True)
    no_accept = no_accept and inst.priority != 255

    def pick(value: float | int | None, default: float | int) -> float | int:
        return default if value is None else value

    router_config = RouterConfig(
        name=inst.name,
        vrid=int(inst.virtual_router_id or 0),
        priority=inst.priority,
        advert_int=inst.advert_int,
        version=version,
        family=family,
        vips=tuple(v.interface.ip for v in advertised),
        initial_state=inst.state,
        nopreempt=inst.nopreempt,
        preempt_delay=inst.preempt_delay,
        auth_type=auth_type,
        auth_pass=auth_pass,
        strict=strict,
        skip_check_adv_addr=bool(inst.skip_check_adv_addr if inst.skip_check_adv_addr is not None
                                 else gdefs.vrrp_skip_check_adv_addr),
        v3_checksum_as_v2=bool(inst.v3_checksum_as_v2 if inst.v3_checksum_as_v2 is not None
                               else gdefs.v3_checksum_as_v2),
        garp_master_delay=float(pick(inst.garp_master_delay, gdefs.vrrp_garp_master_delay)),
        garp_master_repeat=int(pick(inst.garp_master_repeat, gdefs.vrrp_garp_master_repeat)),
        garp_master_refresh=float(pick(inst.garp_master_refresh,
                                       gdefs.vrrp_garp_master_refresh)),
        garp_master_refresh_repeat=int(pick(inst.garp_master_refresh_repeat,
                                            gdefs.vrrp_garp_master_refresh_repeat)),
        garp_lower_prio_delay=(inst.garp_lower_prio_delay if inst.garp_lower_prio_delay
                               is not None else gdefs.vrrp_garp_lower_prio_delay),
        garp_lower_prio_repeat=(inst.garp_lower_prio_repeat if inst.garp_lower_prio_repeat
                                is not None else gdefs.vrrp_garp_lower_prio_repeat),
        # the instance's setting (filled from global_defs when absent) wins over the global
        lower_prio_no_advert=bool(pick(inst.lower_prio_no_advert,
                                       bool(gdefs.vrrp_lower_prio_no_advert))),
        higher_prio_send_advert=bool(pick(inst.higher_prio_send_advert,
                                          gdefs.vrrp_higher_prio_send_advert)),
        unicast=bool(peers),
        down_timer_adverts=inst.down_timer_adverts or 3,
        tracking=share(tuple(share(t) for t in tracking(inst, config, ifname, vmac))),
    )
    garp_interval = float(gdefs.vrrp_gna_interval if family == 6 else gdefs.vrrp_garp_interval)
    notify = share(notify_scripts(inst))
    return InstancePlan(
        name=inst.name, ifname=ifname, xmit_ifname=xmit_ifname, family=family,
        router_config=router_config, vips=advertised, excluded=excluded,
        routes=tuple(inst.virtual_routes),
        rules=tuple(inst.virtual_rules),
        destinations=destinations, unicast=bool(peers), src=src, vmac=vmac,
        sync_group=inst.sync_group if inst.sync_group in config.vrrp_sync_groups else None,
        no_accept=no_accept, notify=notify,
        notify_priority_changes=bool(inst.notify_priority_changes),
        garp_interval=garp_interval,
    )


class VrrpSetup(NamedTuple):
    """What the VRRP process runs of one configuration: each vrrp_instance's plan and the
    rest of the model without its vrrp_instance blocks and virtual servers.

    The plans hold everything the process uses of an instance; keeping the parsed blocks
    too would hold each instance twice (1,000 instances: 2.5 MiB of model). A short-lived
    child reads the file and sends this (:mod:`daemon.loadconf`), so that the parser's
    modules never load in the VRRP process either.
    """

    config: KeepalivedConfig  # global_defs, sync groups, scripts, track files ...
    plans: dict[str, InstancePlan]  # vrrp_instance name -> plan, in the file's order
    smtp_alert: dict[str, bool]  # vrrp_instance name -> its smtp_alert mail is sent


def plan_setup(config: KeepalivedConfig) -> VrrpSetup:
    """The :class:`VrrpSetup` of a parsed configuration (``config`` is left as it is)."""
    share = Shared()
    plans = {name: plan_instance(inst, config, share)
             for name, inst in config.vrrp_instances.items()}
    alerts = {name: bool(inst.smtp_alert) for name, inst in config.vrrp_instances.items()}
    rest = dataclasses.replace(config, vrrp_instances={}, virtual_servers=[],
                               virtual_server_groups={})
    return VrrpSetup(rest, plans, alerts)


def as_setup(config: KeepalivedConfig | VrrpSetup) -> VrrpSetup:
    """``config`` as the VRRP process runs it: a setup stays as it is, a model is planned."""
    return config if isinstance(config, VrrpSetup) else plan_setup(config)
