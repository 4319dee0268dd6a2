"""Semantic checks of the VRRP part, once the whole file is read, and keepalived's defaults.

The order matters and is keepalived 2.2.7's (start_vrrp() / vrrp_complete_init() in
keepalived/vrrp/): a missing interface stops the checks (keepalived cannot run the
configuration at all); otherwise script security first, then the minimum per-instance
configuration (stopping at the first instance that lacks it), sync groups, the completion
of every instance (RFC 3768 / RFC 5798 rules and strict mode), and duplicate VRIDs.
"""

from __future__ import annotations

from pykeepalived.config.errors import Category
from pykeepalived.config.model import KeepalivedConfig
from pykeepalived.config.model_vrrp import VrrpInstance, VrrpSyncGroup
from pykeepalived.config.parse_base import Ctx
from pykeepalived.config.sysinfo import is_script
from pykeepalived.config.validate_tracking import tracking_weights

VRRP_PRIO_OWNER = 255
VRRP_PRIO_DFL = 100


def _unicast(ctx: Ctx, vi: VrrpInstance) -> bool:
    """keepalived's VRRP_FLAG_UNICAST: unicast with at least one peer (or fault_no_peer)."""
    return bool(vi.unicast_peers) or (vi.unicast_fault_no_peer and
                                      vi.name in ctx.scratch.get("unicast", set()))


def script_security(ctx: Ctx) -> None:
    """check_vrrp_script_security(): existing scripts need enable_script_security."""
    config = ctx.config
    if not config.vrrp_instances:
        return
    found = False
    for vs in list(config.vrrp_scripts.values()):
        status = ctx.system.script_status(vs.argv[0]) if vs.argv else "missing"
        if status == "missing":
            ctx.error(vs.location, f"Disabling track script {vs.name} since not found/"
                      f"accessible ({vs.argv[0] if vs.argv else ''})")
            _drop_track_script(config, vs.name)
            continue
        if is_script(status):
            found = True
        if status == "notexec":
            # keepalived logs this (LOG_INFO) and disables the script without an error
            ctx.report(vs.location, Category.OK, f"WARNING - script '{vs.argv[0]}' is not "
                       f"executable - disabling track script {vs.name}")
            _drop_track_script(config, vs.name)
    owners: list[VrrpInstance | VrrpSyncGroup] = [*config.vrrp_instances.values(),
                                                  *config.vrrp_sync_groups.values()]
    for obj in owners:
        for key, script in list(obj.notify_scripts.items()):
            status = ctx.system.script_status(script.argv[0])
            if is_script(status):
                found = True
            elif status in ("missing", "notexec"):
                ctx.report(script.location, Category.OK, f"{key} script {script.argv[0]} "
                           f"{'cannot be accessed' if status == 'missing' else 'is not executable'}"
                           " - disabling")
    g = config.global_defs
    for fifo_script in (g.notify_fifo_script, g.vrrp_notify_fifo_script):
        if fifo_script is not None and is_script(ctx.system.script_status(fifo_script.argv[0])):
            found = True
    if found and not g.enable_script_security:
        ctx.report(None, Category.SECURITY_ERROR, "SECURITY VIOLATION - scripts are being "
                   "executed but script_security not enabled (add enable_script_security to "
                   "global_defs)", severity="error")


def _drop_track_script(config: KeepalivedConfig, name: str) -> None:
    """A vrrp_script keepalived disables: gone, and from every track_script list."""
    del config.vrrp_scripts[name]
    for vi in config.vrrp_instances.values():
        vi.track_script = [t for t in vi.track_script if t.name != name]
    for sg in config.vrrp_sync_groups.values():
        sg.track_script = [t for t in sg.track_script if t.name != name]


def validate_vrrp(ctx: Ctx) -> None:
    """Complete every vrrp_instance and check the VRRP configuration as a whole."""
    config = ctx.config
    if ctx.scratch.get("bad_if"):
        ctx.report(None, Category.BAD_IF, "Non-existent interface specified in configuration "
                   "(keepalived cannot run it; see the interface errors above)",
                   severity="error")
        _fill_defaults(ctx)
        return
    script_security(ctx)
    for vi in config.vrrp_instances.values():
        if vi.virtual_router_id is None:
            ctx.error(vi.location, f"({vi.name}) the virtual router id must be set", fatal=True)
            _fill_defaults(ctx)
            return
        if vi.interface is None and not _unicast(ctx, vi):
            ctx.error(vi.location, f"({vi.name}) Unknown interface! (no 'interface' and no "
                      "unicast_peer)", fatal=True)
            _fill_defaults(ctx)
            return
    for sg in list(config.vrrp_sync_groups.values()):
        _sync_group(ctx, sg.name)
    for vi in config.vrrp_instances.values():
        if not complete_instance(ctx, vi):
            _fill_defaults(ctx)
            return
    _vrid_conflicts(ctx)
    for name, vs in config.vrrp_scripts.items():
        used = any(t.name == name for vi in config.vrrp_instances.values()
                   for t in vi.track_script) or any(
            t.name == name for sg in config.vrrp_sync_groups.values() for t in sg.track_script)
        if not used:
            ctx.report(vs.location, Category.OK, f"Warning - script {name} is not used")
    tracking_weights(ctx)


def _sync_group(ctx: Ctx, name: str) -> None:
    config = ctx.config
    sg = config.vrrp_sync_groups[name]
    if not sg.group:
        ctx.error(sg.location, f"Sync group {name} has no virtual router(s). removing")
        del config.vrrp_sync_groups[name]
        return
    members: list[str] = []
    for iname in sg.group:
        vi = config.vrrp_instances.get(iname)
        if vi is None:
            ctx.error(sg.location, f"Virtual router {iname} specified in sync group {name} "
                      "doesn't exist - ignoring")
            continue
        if vi.sync_group is not None:
            ctx.error(sg.location, f"Virtual router {iname} cannot exist in more than one sync "
                      f"group; ignoring {name}")
            continue
        vi.sync_group = name
        members.append(iname)
    sg.group = members
    if not members:
        ctx.error(sg.location, f"Sync group {name}, no matching virtual router found in group "
                  "declaration - removing")
        del config.vrrp_sync_groups[name]
        return
    if len(members) == 1:
        ctx.error(sg.location, f"Sync group {name} has only 1 virtual router(s) - this probably"
                  " isn't what you want")
    if sg.smtp_alert is None:  # as an instance's: smtp_alert_vrrp, else smtp_alert, else no
        g = config.global_defs
        sg.smtp_alert = g.smtp_alert_vrrp if g.smtp_alert_vrrp is not None else \
            bool(g.smtp_alert)


def complete_instance(ctx: Ctx, vi: VrrpInstance) -> bool:
    """keepalived's vrrp_complete_instance(): defaults, RFC rules, strict mode."""
    g = ctx.config.global_defs
    loc = vi.location
    name = vi.name
    if vi.strict_mode is None:
        vi.strict_mode = g.vrrp_strict
    strict = vi.strict_mode
    family = ctx.scratch.get("family", {}).get(name, 4)
    vi.family = family
    if family == 6:
        if vi.version == 2 and strict:
            ctx.error(loc, f"({name}) cannot use IPv6 with VRRP version 2; setting version 3")
            vi.version = 3
        elif vi.version is None:
            vi.version = 3
    if vi.version is None:
        vi.version = 3 if family == 6 else g.vrrp_version
    if not vi.virtual_ipaddress:
        if vi.version == 3 or strict:
            ctx.error(loc, f"({name}) No VIP specified; at least one is required", fatal=True)
            return False
        ctx.warn(loc, f"({name}) No VIP specified; at least one is sensible")
    if not vi.priority_configured:
        vi.priority = VRRP_PRIO_OWNER if vi.state == "MASTER" else VRRP_PRIO_DFL
    owner = vi.priority == VRRP_PRIO_OWNER
    if vi.state is None:
        vi.state = "MASTER" if owner else "BACKUP"
    elif strict and (vi.state == "MASTER") != owner:
        ctx.error(loc, f"({name}) State MASTER must match being address owner (priority 255) in"
                  " strict mode")
        vi.state = "MASTER" if owner else "BACKUP"
    auth = vi.authentication
    if auth is not None and auth.auth_type is not None:
        if strict:
            ctx.error(loc, f"({name}) Strict mode does not support authentication. Ignoring.")
            vi.authentication = None
        elif vi.version == 3:
            ctx.error(loc, f"({name}) VRRP version 3 does not support authentication. "
                      "Ignoring.")
            vi.authentication = None
        elif not auth.auth_pass:
            ctx.error(loc, f"({name}) Authentication specified but no password given. "
                      "Ignoring")
            vi.authentication = None
        elif family == 6 and auth.auth_type == "AH":
            ctx.error(loc, f"({name}) Cannot use AH authentication with IPv6. Ignoring")
            vi.authentication = None
        elif auth.auth_type == "AH" and vi.state == "MASTER" and not owner:
            ctx.error(loc, f"({name}) Initial state master is incompatible with AH "
                      "authentication - clearing")
            vi.state = "BACKUP"
    elif auth is not None:
        vi.authentication = None
    unicast = _unicast(ctx, vi)
    if strict and unicast and vi.interface is not None:
        # keepalived -t does not see interface flags and lets this pass; the daemon stops
        ctx.report(loc, Category.OK, f"({name}) Unicast peers are not supported in strict mode"
                   " on a multicast interface (keepalived -t accepts it, keepalived refuses to"
                   " run it)", severity="error")
    if vi.interface is None:
        if vi.unicast_src_ip is None and vi.mcast_src_ip is None:
            ctx.error(loc, f"({name}): Unicast instances must have unicast_src_ip or interface",
                      fatal=True)
            return False
    elif name in ctx.scratch.get("unicast", set()) and not vi.unicast_peers \
            and not vi.unicast_fault_no_peer:
        ctx.warn(loc, f"({name}) A unicast keyword has been specified without any unicast "
                 "peers. Defaulting to multicast. This usage is deprecated - please update "
                 "your configuration.", Category.DEPRECATED)
    if strict and vi.vmac_mac is not None:
        ctx.error(loc, f"({name}): cannot specify MAC address with strict mode - clearing")
        vi.vmac_mac = None
    if family == 6 and not unicast and vi.virtual_ipaddress:
        first = vi.virtual_ipaddress[0].address.ip
        if not first.is_link_local and strict:
            ctx.error(loc, f"({name}) the first IPv6 VIP address must be link local")
    if vi.interface is not None and ctx.system.has_interface(vi.interface) and not unicast \
            and vi.unicast_src_ip is None and vi.mcast_src_ip is None \
            and not ctx.system.has_address(vi.interface, family):
        # keepalived finds this out only when it runs (set_vrrp_src_addr) and logs it;
        # keepalived -t does not look at addresses and exits 0
        ctx.report(loc, Category.OK, f"({name}) Cannot find an IP address to use for "
                   f"interface {vi.interface} (keepalived -t does not check this; the daemon "
                   "reports it at start)")
    if len(vi.virtual_ipaddress) > 255:
        ctx.error(loc, f"({name}) Number of VIPs ({len(vi.virtual_ipaddress)}) exceeds maximum/"
                  "space available in packet (255 addresses) - excess moved to eVIPs")
        vi.virtual_ipaddress_excluded[:0] = vi.virtual_ipaddress[255:]
        del vi.virtual_ipaddress[255:]
    if owner and vi.nopreempt:
        ctx.error(loc, f"({name}) nopreempt is incompatible with priority 255 - resetting")
        vi.nopreempt = False
    if vi.state == "MASTER":
        if vi.nopreempt:
            ctx.error(loc, f"({name}) Warning - nopreempt will not work with initial state "
                      "MASTER - clearing")
            vi.nopreempt = False
        if vi.preempt_delay:
            ctx.error(loc, f"({name}) Warning - preempt delay will not work with initial state "
                      "MASTER - clearing")
            vi.preempt_delay = 0.0
    if vi.preempt_delay:
        if strict:
            ctx.error(loc, f"({name}) preempt_delay is incompatible with strict mode - "
                      "resetting")
            vi.preempt_delay = 0.0
        if vi.nopreempt:
            ctx.error(loc, f"({name}) preempt_delay is incompatible with nopreempt mode - "
                      "resetting")
            vi.preempt_delay = 0.0
    if vi.down_timer_adverts is not None and vi.down_timer_adverts != 3 and strict:
        ctx.error(loc, f"({name}) down_timer_adverts is incompatible with strict mode - "
                  "resetting")
        vi.down_timer_adverts = 3
    if vi.down_timer_adverts is None:
        vi.down_timer_adverts = g.vrrp_down_timer_adverts if not strict else 3
    if vi.accept is None:
        vi.accept = True if owner else not strict
    if vi.accept and not owner and strict and vi.version == 2:
        ctx.error(loc, f"({name}) warning - accept mode for VRRP version 2 does not comply with "
                  "RFC3768 - resetting")
        vi.accept = False
    vi.no_accept = not vi.accept
    if unicast and vi.mcast_dst_ip is not None:
        ctx.error(loc, f"({name}) multicast destination specified with unicast - ignoring")
        vi.mcast_dst_ip = None
    if vi.garp_lower_prio_repeat is None:
        vi.garp_lower_prio_repeat = 0 if strict else (
            g.vrrp_garp_lower_prio_repeat if g.vrrp_garp_lower_prio_repeat is not None
            else g.vrrp_garp_master_repeat)
    elif strict and vi.garp_lower_prio_repeat:
        ctx.error(loc, f"({name}) Strict mode requires no repeat garps. Resetting.")
        vi.garp_lower_prio_repeat = 0
    if vi.garp_lower_prio_delay is None:
        vi.garp_lower_prio_delay = 0.0 if strict else (
            g.vrrp_garp_lower_prio_delay if g.vrrp_garp_lower_prio_delay is not None
            else g.vrrp_garp_master_delay)
    elif strict and vi.garp_lower_prio_delay:
        ctx.error(loc, f"({name}) Strict mode requires no repeat garp delay. Resetting.")
        vi.garp_lower_prio_delay = 0.0
    if vi.lower_prio_no_advert is None:
        vi.lower_prio_no_advert = True if strict else bool(g.vrrp_lower_prio_no_advert)
    elif strict and not vi.lower_prio_no_advert:
        ctx.error(loc, f"({name}) Strict mode requires no lower priority advert. Resetting.")
        vi.lower_prio_no_advert = True
    if vi.higher_prio_send_advert is None:
        vi.higher_prio_send_advert = False if strict else g.vrrp_higher_prio_send_advert
    elif strict and vi.higher_prio_send_advert:
        ctx.error(loc, f"({name}) strict mode requires higher_prio_send_advert to be clear - "
                  "resetting")
        vi.higher_prio_send_advert = False
    if vi.interface is not None:
        own = [t for t in vi.track_interface if t.name == vi.interface]
        if own:
            ctx.error(own[0].location, f"({name}) Ignoring track_interface {vi.interface} since "
                      "own interface (it is tracked anyway unless dont_track_primary)")
            vi.track_interface = [t for t in vi.track_interface if t.name != vi.interface]
    _inherit(vi, ctx)
    _advert_int(ctx, vi)
    if vi.use_vmac is not None:
        if strict and vi.vmac_xmit_base:
            ctx.error(loc, f"({name}) xmit_base is incompatible with strict mode - resetting")
            vi.vmac_xmit_base = False
        if not vi.use_vmac:
            vi.use_vmac = f"vrrp.{vi.virtual_router_id}"
        if vi.promote_secondaries:
            ctx.error(loc, f"({name}) promote_secondaries is automatically set for vmacs - "
                      "ignoring")
    elif vi.vmac_xmit_base:
        ctx.error(loc, f"({name}) vmac_xmit_base is only valid with a vmac - ignoring")
        vi.vmac_xmit_base = False
    if vi.interface is None:
        for ip in [*vi.virtual_ipaddress, *vi.virtual_ipaddress_excluded]:
            if ip.dev is None:
                ctx.error(ip.location, f"({name}): no interface for vip {ip.address.ip} - "
                          "removing")
        vi.virtual_ipaddress = [ip for ip in vi.virtual_ipaddress if ip.dev is not None]
        vi.virtual_ipaddress_excluded = [ip for ip in vi.virtual_ipaddress_excluded
                                         if ip.dev is not None]
    return True


def _inherit(vi: VrrpInstance, ctx: Ctx) -> None:
    g = ctx.config.global_defs
    if vi.garp_master_delay is None:
        vi.garp_master_delay = g.vrrp_garp_master_delay
    if vi.garp_master_repeat is None:
        vi.garp_master_repeat = g.vrrp_garp_master_repeat
    if vi.garp_master_refresh is None:
        vi.garp_master_refresh = g.vrrp_garp_master_refresh
    if vi.garp_master_refresh_repeat is None:
        vi.garp_master_refresh_repeat = g.vrrp_garp_master_refresh_repeat
    if vi.garp_extra_if is None:
        vi.garp_extra_if = g.vrrp_garp_extra_if
        vi.garp_extra_if_all = vi.garp_extra_if_all or g.vrrp_garp_extra_if_all
    if vi.check_unicast_src is None:
        vi.check_unicast_src = g.vrrp_check_unicast_src
    if vi.skip_check_adv_addr is None:
        vi.skip_check_adv_addr = g.vrrp_skip_check_adv_addr
    if vi.smtp_alert is None:
        vi.smtp_alert = g.smtp_alert_vrrp if g.smtp_alert_vrrp is not None else \
            bool(g.smtp_alert)
    if vi.notify_priority_changes is None:
        sg = ctx.config.vrrp_sync_groups.get(vi.sync_group or "")
        vi.notify_priority_changes = sg.notify_priority_changes \
            if sg is not None and sg.notify_priority_changes is not None \
            else g.vrrp_notify_priority_changes


def _advert_int(ctx: Ctx, vi: VrrpInstance) -> None:
    """RFC 3768 5.3.7: v2 intervals are whole seconds; RFC 5798 5.2.7: v3 centiseconds."""
    loc = vi.location
    usec = round(vi.advert_int * 1_000_000)
    if vi.version == 2:
        if usec >= 256 * 1_000_000:
            ctx.error(loc, f"({vi.name}) VRRPv2 advertisement interval {vi.advert_int:.2f}s is "
                      "out of range. Must be less than 256 seconds. Setting to 255")
            usec = 255 * 1_000_000
        elif usec % 1_000_000:
            ctx.error(loc, f"({vi.name}) VRRPv2 advertisement interval {vi.advert_int:f}s must "
                      "be an integer - rounding")
            usec = (usec + 500_000) // 1_000_000 * 1_000_000 or 1_000_000
    else:
        if usec >= 4096 * 10_000:
            ctx.error(loc, f"({vi.name}) VRRPv3 advertisement interval {vi.advert_int:.2f}s is "
                      "out of range. Must be less than 40.96 seconds. Setting to 40.95")
            usec = 4095 * 10_000
        elif usec % 10_000:
            ctx.error(loc, f"({vi.name}) VRRPv3 advertisement interval {vi.advert_int:f}s must "
                      "be in units of 10ms - rounding")
            usec = (usec + 5_000) // 10_000 * 10_000 or 10_000
    vi.advert_int = usec / 1_000_000


def _vrid_conflicts(ctx: Ctx) -> None:
    """Two instances with one VRID on one interface and family collide (RFC 5798 5.2.3).

    Each is compared with the first instance of its key (one dictionary look-up each:
    hashing an address is the slow part)."""
    g = ctx.config.global_defs
    seen: dict[tuple[object, ...], VrrpInstance] = {}
    for vi in ctx.config.vrrp_instances.values():
        if _unicast(ctx, vi):
            # addresses compare as their text does (and faster than making it)
            key: tuple[object, ...] = ("u", vi.interface, vi.family, vi.virtual_router_id,
                                       vi.unicast_src_ip)
            other = seen.setdefault(key, vi)
            if other is not vi and not set(vi.unicast_peer).isdisjoint(other.unicast_peer):
                ctx.error(vi.location, f"({vi.name}) duplicate VRID conflict with {other.name} "
                          f"VRID {vi.virtual_router_id}")
            continue
        mcast = vi.mcast_dst_ip or (g.vrrp_mcast_group4 if vi.family == 4 else
                                    g.vrrp_mcast_group6)
        key = ("m", vi.interface, vi.family, vi.virtual_router_id, str(mcast))
        other = seen.setdefault(key, vi)
        if other is not vi and vi.interface is not None:
            ctx.error(vi.location, f"{other.name} and {vi.name} both use VRID "
                      f"{vi.virtual_router_id} with IPv{vi.family} on interface {vi.interface}")


def _fill_defaults(ctx: Ctx) -> None:
    """Give every instance keepalived's defaults even when the checks stopped early."""
    g = ctx.config.global_defs
    for vi in ctx.config.vrrp_instances.values():
        vi.family = ctx.scratch.get("family", {}).get(vi.name, 4)
        if vi.strict_mode is None:
            vi.strict_mode = g.vrrp_strict
        if vi.version is None:
            vi.version = 3 if vi.family == 6 else g.vrrp_version
        if not vi.priority_configured:
            vi.priority = VRRP_PRIO_OWNER if vi.state == "MASTER" else VRRP_PRIO_DFL
        if vi.state is None:
            vi.state = "MASTER" if vi.priority == VRRP_PRIO_OWNER else "BACKUP"
        if vi.accept is None:
            vi.accept = True if vi.priority == VRRP_PRIO_OWNER else not vi.strict_mode
        vi.no_accept = not vi.accept
        if vi.down_timer_adverts is None:
            vi.down_timer_adverts = g.vrrp_down_timer_adverts
        if vi.lower_prio_no_advert is None:
            vi.lower_prio_no_advert = bool(vi.strict_mode or g.vrrp_lower_prio_no_advert)
        if vi.higher_prio_send_advert is None:
            vi.higher_prio_send_advert = g.vrrp_higher_prio_send_advert and not vi.strict_mode
        if vi.garp_lower_prio_repeat is None:
            vi.garp_lower_prio_repeat = g.vrrp_garp_lower_prio_repeat \
                if g.vrrp_garp_lower_prio_repeat is not None else g.vrrp_garp_master_repeat
        if vi.garp_lower_prio_delay is None:
            vi.garp_lower_prio_delay = g.vrrp_garp_lower_prio_delay \
                if g.vrrp_garp_lower_prio_delay is not None else g.vrrp_garp_master_delay
        if vi.use_vmac == "":
            vi.use_vmac = f"vrrp.{vi.virtual_router_id}"
        _inherit(vi, ctx)
