"""Keyword tables of the VRRP sections: vrrp_instance, vrrp_sync_group, vrrp_script.

Each handler mirrors the keepalived 2.2.7 handler of the same keyword
(keepalived/vrrp/vrrp_parser.c): same accepted values, same ranges, and a diagnostic
whenever keepalived reports something, so that ``pykeepalived -t`` and ``keepalived -t``
agree. Cross-instance checks live in validate_vrrp.py.
"""

from __future__ import annotations

from collections.abc import Callable

from pykeepalived.config.addresses import (
    IFNAMSIZ,
    check_interface,
    parse_ipaddress_line,
    parse_route_line,
    parse_rule_line,
    parse_sockaddr,
)
from pykeepalived.config.blocks import Node
from pykeepalived.config.errors import Category
from pykeepalived.config.kw_track import (
    _bool_attr,
    _flag,
    _notify,
    _track,
    track_bfd_entries,
    track_file_entries,
    track_interface_entries,
    track_process_entries,
    track_script_entries,
)
from pykeepalived.config.model_common import Location
from pykeepalived.config.model_vrrp import (
    Authentication,
    UnicastPeer,
    VrrpInstance,
)
from pykeepalived.config.parse_base import (
    INT_MAX,
    UINT_MAX,
    Ctx,
    Table,
    detached_copy,
    value_lines,
)


def _loc(node: Node) -> Location:
    return Location(node.file, node.line)


# ------------------------------------------------------------------ vrrp_instance
def _vi(ctx: Ctx) -> VrrpInstance:
    vi: VrrpInstance = ctx.current
    return vi


def enter_instance(ctx: Ctx, node: Node) -> VrrpInstance | None:
    if len(node.tokens) != 2:
        ctx.error(node, "vrrp_instance must have a name (exactly one word) - skipping the "
                  "block")
        return None
    name = node.tokens[1]
    if name in ctx.config.vrrp_instances:
        ctx.error(node, f"vrrp instance {name} already defined (first at "
                  f"{ctx.config.vrrp_instances[name].location}) - skipping this one")
        return None
    vi = VrrpInstance(name, location=_loc(node))
    ctx.config.vrrp_instances[name] = vi
    return vi


def detached_instance(ctx: Ctx, node: Node) -> VrrpInstance:
    """What the lines of a refused vrrp_instance without its '{' configure: a copy of the
    last instance, which keepalived's handlers act on (not kept)."""
    return detached_copy(ctx.config.vrrp_instances,
                         lambda: VrrpInstance("", location=_loc(node)))


def close_instance(ctx: Ctx, node: Node, vi: VrrpInstance) -> None:
    """keepalived's vrrp_end_handler(): checks that need the whole block."""
    if vi.unicast_peers and vi.use_vmac is not None and not vi.vmac_xmit_base:
        if vi.interface is None:
            ctx.error(node, f"({vi.name}): Cannot use VMAC/ipvlan with unicast and no interface"
                      " - clearing use_vmac")
            vi.use_vmac = None
        else:
            ctx.error(node, f"({vi.name}) unicast with use_vmac requires vmac_xmit_base - "
                      "setting")
            vi.vmac_xmit_base = True
    if not vi.unicast_peers and vi.unicast_ttl is not None:
        ctx.error(node, f"({vi.name}): Cannot use unicast_ttl without unicast peers - "
                  "resetting")
        vi.unicast_ttl = None


def family_of(ctx: Ctx, vi: VrrpInstance) -> int | None:
    """The family an address has fixed for ``vi`` so far (None: no address yet)."""
    fam: int | None = ctx.scratch.setdefault("family", {}).get(vi.name)
    return fam


def _claim_family(ctx: Ctx, vi: VrrpInstance, version: int) -> bool:
    """The first address decides the instance family; later ones must match."""
    seen: dict[str, int] = ctx.scratch.setdefault("family", {})
    if vi.name not in seen:
        seen[vi.name] = version
        vi.family = version
        return True
    return seen[vi.name] == version


def is_unicast_configured(ctx: Ctx, vi: VrrpInstance) -> bool:
    """A unicast keyword was seen (keepalived's VRRP_FLAG_UNICAST_CONFIGURED)."""
    return vi.name in ctx.scratch.setdefault("unicast", set())


def h_state(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    value = ctx.arg(node, 1)
    if value == "MASTER":
        vi.state = "MASTER"
    elif value == "BACKUP":
        if vi.state == "MASTER":
            ctx.error(node, f"({vi.name}) state previously set as MASTER - ignoring BACKUP")
        else:
            vi.state = "BACKUP"
    else:
        ctx.error(node, f"({vi.name}) unknown state '{value}', defaulting to BACKUP "
                  "(expected MASTER or BACKUP)")
        vi.state = "BACKUP"


def h_interface(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    name = ctx.arg(node, 1)
    if len(name) >= IFNAMSIZ:
        ctx.error(node, f"Interface name '{name}' too long - ignoring")
        return
    if not check_interface(ctx, node, name, f"vrrp_instance {vi.name}"):
        vi.interface = None
        return
    if ctx.system.is_loopback(name):
        ctx.error(node, f"({vi.name}) cannot use a loopback interface ({name}) for vrrp - "
                  "ignoring")
        return
    vi.interface = name


def h_vrf(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    name = ctx.arg(node, 1)
    if vi.interface is not None:
        ctx.error(node, f"({vi.name}) Cannot specify VRF interface and interface - ignoring")
        return
    if check_interface(ctx, node, name, f"VRF of {vi.name}"):
        vi.vrf = name


def h_vrid(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    value = ctx.read_unsigned(node, 1, 1, 255)
    if value is None:
        ctx.error(node, f"({vi.name}): VRID '{node.tokens[1]}' not valid - must be between 1 & "
                  "255")
        return
    vi.virtual_router_id = value


def h_priority(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    value = ctx.read_unsigned(node, 1, 1, 255)
    vi.priority_configured = True
    if value is None:
        ctx.error(node, f"({vi.name}) Priority not valid! must be between 1 & 255. Using "
                  "default 100")
        vi.priority = 100
    else:
        vi.priority = value


def h_advert_int(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    value = ctx.read_decimal(node, 1, 0.01, 255)
    if value is None or value <= 0:
        ctx.error(node, f"({vi.name}) Advert interval ({node.tokens[1]}) not valid! Must be > 0 "
                  "- ignoring")
        return
    vi.advert_int = value


def h_version(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    value = ctx.read_int(node, 1, 2, 3)
    if value is None:
        ctx.error(node, f"({vi.name}): Version must be either 2 or 3")
        return
    if (vi.version is not None and vi.version != value) or (value == 2 and family_of(ctx, vi) == 6):
        ctx.error(node, f"({vi.name}) vrrp_version {value} conflicts with configured or deduced "
                  f"version {vi.version}; ignoring.")
        return
    vi.version = value


def h_native_ipv6(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    if family_of(ctx, vi) == 4:
        ctx.error(node, f"({vi.name}) Cannot specify native_ipv6 with IPv4 addresses")
        return
    _claim_family(ctx, vi, 6)
    vi.native_ipv6 = True
    vi.version = 3


def _src_ip(ctx: Ctx, node: Node, attr: str) -> None:
    vi = _vi(ctx)
    text = ctx.arg(node, 1)
    addr = parse_sockaddr(text)
    if addr is None:
        ctx.error(node, f"Configuration error: VRRP instance[{vi.name}] malformed src "
                  f"address[{text}]. Skipping...")
        return
    if not _claim_family(ctx, vi, addr.version):
        ctx.error(node, f"Configuration error: VRRP instance[{vi.name}] and src address[{text}]"
                  " MUST be of the same family !!! Skipping...")
        return
    setattr(vi, attr, addr)


def h_unicast_src_ip(ctx: Ctx, node: Node) -> None:
    _unicast(ctx)
    _src_ip(ctx, node, "unicast_src_ip")


def _unicast(ctx: Ctx) -> None:
    ctx.scratch.setdefault("unicast", set()).add(_vi(ctx).name)


def h_mcast_dst_ip(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    text = ctx.arg(node, 1)
    addr = parse_sockaddr(text)
    if addr is None:
        ctx.error(node, f"({vi.name}) malformed mcast dest address {text}. Skipping...")
        return
    if not _claim_family(ctx, vi, addr.version):
        ctx.error(node, f"({vi.name}) mcast dest address {text} MUST match VRRP instance "
                  "family. Skipping...")
        return
    ok = addr.is_multicast if addr.version == 4 else (
        addr.is_multicast and (int(addr) >> 112) & 0xF == 2)
    if not ok:
        ctx.error(node, f"({vi.name}) mcast_dst_ip {text} not"
                  f"{' link-local' if addr.version == 6 else ''} multicast. Skipping...")
        return
    vi.mcast_dst_ip = addr


def h_unicast_peer(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    _unicast(ctx)
    for line in value_lines(node):
        text = line.tokens[0]
        addr = parse_sockaddr(text)
        if addr is None:
            ctx.error(line, f"Configuration error: VRRP instance[{vi.name}] malformed unicast "
                      f"peer address[{text}]. Skipping...")
            continue
        if not _claim_family(ctx, vi, addr.version):
            ctx.error(line, f"Configuration error: VRRP instance[{vi.name}] and unicast peer "
                      f"address[{text}] MUST be of the same family !!! Skipping...")
            continue
        peer = UnicastPeer(addr, location=_loc(line))
        toks = line.tokens
        i = 1
        while i < len(toks):
            if toks[i] in ("min_ttl", "max_ttl"):
                if i + 1 >= len(toks):
                    ctx.error(line, f"({vi.name}) {toks[i]} is missing a value")
                    break
                ttl = ctx.read_number(line, toks[i + 1], 0, 255, signed=False)
                if ttl is not None:
                    setattr(peer, toks[i], ttl)
                i += 2
            else:
                ctx.error(line, f"({vi.name}) unknown unicast_peer option {toks[i]}")
                i += 1
        if peer.min_ttl is not None and peer.max_ttl is not None and peer.min_ttl > peer.max_ttl:
            ctx.error(line, f"({vi.name}) min_ttl {peer.min_ttl} > max_ttl {peer.max_ttl} - all "
                      "packets will be discarded")
        if peer.min_ttl is not None or peer.max_ttl is not None:
            vi.check_unicast_src = True
        vi.unicast_peers.append(peer)
        vi.unicast_peer.append(addr)


def h_unicast_ttl(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    value = ctx.read_unsigned(node, 1, 0, 255)
    if value is None:
        ctx.error(node, f"({vi.name}): TTL '{node.tokens[1]}' not valid - must be between 0 & "
                  "255")
        return
    vi.unicast_ttl = value


def h_vips(excluded: bool) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        vi = _vi(ctx)
        for line in value_lines(node):
            ip = parse_ipaddress_line(ctx, line, static=False)
            if ip is None:
                continue
            if excluded:
                vi.virtual_ipaddress_excluded.append(ip)
                continue
            if not _claim_family(ctx, vi, ip.address.version):
                ctx.error(line, f"({vi.name}): address family must match VRRP instance "
                          f"[{line.tokens[0]}] - ignoring (put addresses of the other family "
                          "in virtual_ipaddress_excluded)")
                continue
            vi.virtual_ipaddress.append(ip)
    return handler


def h_routes(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    for line in value_lines(node):
        route = parse_route_line(ctx, line, static=False)
        if route is not None:
            vi.virtual_routes.append(route)


def h_rules(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    for line in value_lines(node):
        rule = parse_rule_line(ctx, line, static=False)
        if rule is not None:
            vi.virtual_rules.append(rule)


def h_use_vmac(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    vi.use_vmac = ""  # named later (vrrp.<VRID>) unless a name is given
    for word in node.tokens[1:3]:
        if ":" in word:
            octets = word.rstrip(":").split(":")
            valid = all(1 <= len(o) <= 2 and all(c in "0123456789abcdefABCDEF" for c in o)
                        for o in octets) and len(octets) in (5, 6)
            if not valid:
                ctx.error(node, f"VMAC invalid MAC address {word} - ignored")
            elif int(octets[0], 16) & 1:
                ctx.error(node, f"VMAC MAC address is multicast {word} - ignoring")
            elif [int(o, 16) for o in octets[:4]] in ([0, 0, 0x5E, 0], ) and \
                    int(octets[4], 16) in (1, 2):
                ctx.error(node, f"VMAC MAC address not allowed to be RFC5798 address ({word}) -"
                          " ignoring")
            else:
                vi.vmac_mac = word
        else:
            if len(word) >= IFNAMSIZ or "/" in word or word in (".", ".."):
                ctx.error(node, f"VMAC interface name '{word}' too long or invalid characters -"
                          " ignoring")
                continue
            for other in ctx.config.vrrp_instances.values():
                if other is not vi and other.use_vmac == word:
                    ctx.error(node, f"({vi.name}) VRRP instance {other.name} is already using "
                              f"{word} - ignoring name")
                    break
            else:
                vi.use_vmac = word


def h_authentication(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    auth = vi.authentication or Authentication()
    vi.authentication = auth
    for line in node.block or []:
        if line.keyword == "auth_type":
            value = ctx.arg(line, 1)
            if value in ("PASS", "AH"):
                auth.auth_type = value  # type: ignore[assignment]
            else:
                ctx.error(line, f"({vi.name}) unknown authentication type '{value}' (expected "
                          "PASS or AH)")
        elif line.keyword == "auth_pass":
            value = ctx.arg(line, 1)
            if len(value) > 8:
                ctx.error(line, "Truncating auth_pass to 8 characters")
                value = value[:8]
            auth.auth_pass = value
        else:
            ctx.warn(line, f"Unknown keyword '{line.keyword}' in authentication",
                     Category.UNKNOWN_KEYWORD)


def _garp_delay(attr: str, limit: int) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        vi = _vi(ctx)
        value = ctx.read_unsigned(node, 1, 0, limit)
        if value is None:
            ctx.error(node, f"({vi.name}): {attr} '{node.tokens[1]}' invalid - ignoring")
            return
        setattr(vi, attr, float(value))
    return handler


def _garp_repeat(attr: str, zero_to_one: bool) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        vi = _vi(ctx)
        value = ctx.read_unsigned(node, 1, 0, UINT_MAX if zero_to_one else INT_MAX)
        if value is None:
            ctx.error(node, f"({vi.name}): {attr} '{node.tokens[1]}' invalid - ignoring")
            return
        if value == 0 and zero_to_one:
            ctx.error(node, f"({vi.name}): {attr} must be greater than 0, setting to 1")
            value = 1
        setattr(vi, attr, value)
    return handler


def h_garp_extra_if(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    if node.keyword == "vmac_garp_intvl":
        ctx.warn(node, "Keyword \"vmac_garp_intvl\" is deprecated - please use "
                 "\"garp_extra_if\"", Category.DEPRECATED)
    delay: int | None = None
    for word in node.tokens[1:]:
        if word == "all":
            vi.garp_extra_if_all = True
            continue
        delay = ctx.read_number(node, word, 0, 86400, signed=False)
        if delay is None:
            ctx.error(node, f"({vi.name}): {node.keyword} '{word}' invalid - ignoring")
            return
    if delay is None:
        ctx.error(node, f"({vi.name}): {node.keyword} specified without time - ignoring")
        return
    vi.garp_extra_if = float(delay)


def h_down_timer_adverts(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    value = ctx.read_unsigned(node, 1, 1, 100)
    if value is None:
        ctx.error(node, f"({vi.name}): Invalid down_timer_adverts [1:100] '{node.tokens[1]}'")
        return
    vi.down_timer_adverts = value


def h_preempt_delay(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    value = ctx.read_decimal(node, 1, 0, 1000)
    if value is None:
        ctx.error(node, f"({vi.name}) Preempt_delay not valid! must be between 0-1000")
        vi.preempt_delay = 0.0
        return
    vi.preempt_delay = value


def h_debug(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    value = ctx.read_unsigned(node, 1, 0, 4)
    if value is None:
        ctx.error(node, f"({vi.name}) Debug value '{node.tokens[1]}' not valid; must be between"
                  " 0-4")
        return
    vi.debug = value


def h_kernel_rx_buf_size(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    value = ctx.read_number(node, node.tokens[1], 0, UINT_MAX, signed=False) \
        if len(node.tokens) == 2 else None
    if value is None:
        ctx.error(node, f"({vi.name}) invalid kernel_rx_buf_size specified")
        return
    vi.kernel_rx_buf_size = value


def h_lvs_syncd(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    ctx.error(node, f"({vi.name}) Specifying lvs_sync_daemon_interface against a vrrp is "
              "deprecated. Please use global lvs_sync_daemon")
    vi.lvs_sync_daemon_interface = ctx.arg(node, 1)


def h_old_unicast_checksum(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    _unicast(ctx)
    if len(node.tokens) >= 2 and node.tokens[1] != "never":
        ctx.error(node, f"({vi.name}) Unknown old_unicast_chksum mode {node.tokens[1]} - "
                  "ignoring")
        return
    vi.old_unicast_checksum = True


def h_check_unicast_src(ctx: Ctx, node: Node) -> None:
    _unicast(ctx)
    _vi(ctx).check_unicast_src = True


def h_unicast_fault_no_peer(ctx: Ctx, node: Node) -> None:
    _unicast(ctx)
    _vi(ctx).unicast_fault_no_peer = True


def h_linkbeat(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    vi.linkbeat_use_polling = True
    ctx.error(node, f"({vi.name}) 'linkbeat_use_polling' in vrrp instance deprecated - use "
              "linkbeat_interfaces block")


def h_no_accept(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    vi.accept = False
    vi.no_accept = True


def h_use_ipvlan(ctx: Ctx, node: Node) -> None:
    vi = _vi(ctx)
    vi.use_ipvlan = " ".join(node.tokens[1:])


def vrrp_instance_table() -> Table:
    t = Table("vrrp_instance")
    t.add("use_vmac", h_use_vmac)
    t.add("use_vmac_addr", _flag("use_vmac_addr"))
    t.add("vmac_xmit_base", _flag("vmac_xmit_base"))
    t.add("use_ipvlan", h_use_ipvlan)
    t.add("unicast_peer", h_unicast_peer, block="values")
    t.add("unicast_fault_no_peer", h_unicast_fault_no_peer)
    t.add("check_unicast_src", h_check_unicast_src)
    t.add("old_unicast_checksum", h_old_unicast_checksum)
    t.add("native_ipv6", h_native_ipv6)
    t.add("state", h_state)
    t.add("interface", h_interface)
    t.add("vrf", h_vrf)
    t.add("dont_track_primary", _flag("dont_track_primary"))
    t.add("track_interface", _track(track_interface_entries, "track_interface"), block="values")
    t.add("track_script", _track(track_script_entries, "track_script"), block="values")
    t.add("track_file", _track(track_file_entries, "track_file"), block="values")
    t.add("track_process", _track(track_process_entries, "track_process"), block="values")
    t.add("track_bfd", _track(track_bfd_entries, "track_bfd"), block="values")
    t.add("mcast_src_ip", lambda ctx, node: _src_ip(ctx, node, "mcast_src_ip"))
    t.add("unicast_src_ip", h_unicast_src_ip)
    t.add("mcast_dst_ip", h_mcast_dst_ip)
    t.add("track_src_ip", _flag("track_src_ip"))
    t.add("virtual_router_id", h_vrid)
    t.add("unicast_ttl", h_unicast_ttl)
    t.add("version", h_version)
    t.add("priority", h_priority)
    t.add("advert_int", h_advert_int)
    t.add("virtual_ipaddress", h_vips(False), block="values")
    t.add("virtual_ipaddress_excluded", h_vips(True), block="values")
    t.add("promote_secondaries", _flag("promote_secondaries"))
    t.add("linkbeat_use_polling", h_linkbeat)
    t.add("virtual_routes", h_routes, block="values")
    t.add("virtual_rules", h_rules, block="values")
    t.add("accept", _flag("accept", True))
    t.add("no_accept", h_no_accept)
    t.add("skip_check_adv_addr", _bool_attr("skip_check_adv_addr", "skip_check_adv_addr"))
    t.add("strict_mode", _bool_attr("strict_mode", "strict_mode"))
    t.add("v3_checksum_as_v2", _bool_attr("v3_checksum_as_v2", "v3_checksum_as_v2"))
    t.add("preempt", _flag("nopreempt", False))
    t.add("nopreempt", _flag("nopreempt", True))
    t.add("preempt_delay", h_preempt_delay)
    t.add("debug", h_debug)
    for kw in ("notify_backup", "notify_master", "notify_fault", "notify_stop",
               "notify_deleted", "notify", "notify_master_rx_lower_pri"):
        t.add(kw, _notify(kw))
    t.add("smtp_alert", _bool_attr("smtp_alert", "vrrp_instance smtp_alert parameter"))
    t.add("notify_priority_changes", _bool_attr("notify_priority_changes",
                                                "notify_priority_changes"))
    t.add("lvs_sync_daemon_interface", h_lvs_syncd)
    t.add("garp_master_delay", _garp_delay("garp_master_delay", UINT_MAX // 1000000))
    t.add("garp_master_refresh", _garp_delay("garp_master_refresh", UINT_MAX))
    t.add("garp_master_repeat", _garp_repeat("garp_master_repeat", True))
    t.add("garp_master_refresh_repeat", _garp_repeat("garp_master_refresh_repeat", True))
    t.add("garp_lower_prio_delay", _garp_delay("garp_lower_prio_delay", UINT_MAX // 1000000))
    t.add("garp_lower_prio_repeat", _garp_repeat("garp_lower_prio_repeat", False))
    t.add("down_timer_adverts", h_down_timer_adverts)
    t.add("garp_extra_if", h_garp_extra_if)
    t.add("vmac_garp_intvl", h_garp_extra_if)
    t.add("lower_prio_no_advert", _bool_attr("lower_prio_no_advert", "lower_prio_no_advert"))
    t.add("higher_prio_send_advert", _bool_attr("higher_prio_send_advert",
                                                "higher_prio_send_advert"))
    t.add("kernel_rx_buf_size", h_kernel_rx_buf_size)
    # a block of keywords in keepalived, read here as values
    t.add("authentication", h_authentication, block="values", named=True)
    return t


