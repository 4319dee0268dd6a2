"""Keyword tables of global_defs and of the other global blocks.

Mirrors keepalived 2.2.7 keepalived/core/global_parser.c (global_defs) and the static
address/route/rule, track_group, linkbeat_interfaces, interface_up_down_delays,
garp_group, track_file and bfd_instance handlers of vrrp_parser.c / track_file.c /
bfd_parser.c. Keywords keepalived ignores in a -t run (SNMP sockets, process names,
netlink buffer sizes) are still stored, so the daemon can use them.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from pykeepalived.config.addresses import parse_sockaddr
from pykeepalived.config.blocks import Node
from pykeepalived.config.errors import Category
from pykeepalived.config.model_common import Location
from pykeepalived.config.model_global import (
    FifoConfig,
    GlobalDefs,
    LvsSyncDaemon,
)
from pykeepalived.config.numbers import c_strtol, is_decimal
from pykeepalived.config.parse_base import (
    INT_MAX,
    INT_MIN,
    UINT_MAX,
    Ctx,
    Table,
    value_words,
)


def _g(ctx: Ctx) -> GlobalDefs:
    return ctx.config.global_defs


def _loc(node: Node) -> Location:
    return Location(node.file, node.line)


# ------------------------------------------------------------------ generic handlers
def g_flag(attr: str, value: Any = True) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        setattr(_g(ctx), attr, value)
    return handler


def g_str(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.want(node)
        if value is not None:
            setattr(_g(ctx), attr, value)
    return handler


def g_bool(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.read_bool(node)
        if value is None:
            ctx.error(node, f"Invalid value '{node.tokens[1]}' for global {attr} specified")
            return
        setattr(_g(ctx), attr, value)
    return handler


def g_uint(attr: str, lo: int, hi: int, scale: type = int) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.read_unsigned(node, 1, lo, hi)
        if value is None:
            ctx.error(node, f"Invalid {attr} '{node.tokens[1]}' - ignoring (range {lo}-{hi})")
            return
        setattr(_g(ctx), attr, scale(value))
    return handler


def g_int(attr: str, lo: int, hi: int) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.read_int(node, 1, lo, hi)
        if value is None:
            ctx.error(node, f"Invalid {attr} '{node.tokens[1]}' - ignoring (range {lo}-{hi})")
            return
        setattr(_g(ctx), attr, value)
    return handler


def g_timer(attr: str, lo: float, hi: float) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.read_decimal(node, 1, lo, hi)
        if value is None:
            ctx.error(node, f"Invalid {attr} '{node.tokens[1]}' - ignoring")
            return
        setattr(_g(ctx), attr, value)
    return handler


def g_cpus(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        import os

        ncpu = os.cpu_count() or 1
        cpus: list[int] = []
        for word in node.tokens[1:]:
            cpu = ctx.read_number(node, word, 0, ncpu - 1, signed=True)
            if cpu is None:
                ctx.error(node, f"Invalid cpu_id {word} for {attr} - ignoring")
                continue
            cpus.append(cpu)
        setattr(_g(ctx), attr, cpus)
    return handler


def g_fifo(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        g = _g(ctx)
        if getattr(g, attr) is not None:
            ctx.error(node, f"{attr} already specified - ignoring {node.tokens[1:2]}")
            return
        name = ctx.want(node)
        if name is None:
            return
        toks = node.tokens
        setattr(g, attr, FifoConfig(name, toks[2] if len(toks) > 2 else None,
                                    toks[3] if len(toks) > 3 else None))
    return handler


def g_script(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        g = _g(ctx)
        if getattr(g, attr) is not None:
            ctx.error(node, f"{attr} already specified")
            return
        if ctx.want(node) is None:
            return
        script = ctx.script(node)
        if script is None:
            ctx.error(node, f"Invalid {attr}")
            return
        setattr(g, attr, script)
    return handler


# ------------------------------------------------------------------ specific handlers
def h_smtp_server(ctx: Ctx, node: Node) -> None:
    g = _g(ctx)
    server = ctx.arg(node, 1)  # keepalived's smtpserver_handler reads it unchecked
    port = node.tokens[2] if len(node.tokens) > 2 else "25"
    number = c_strtol(port.lstrip(" \t\n\r\f\v"), 10)
    if number is None or not 0 < number < 65536 or port.lstrip().startswith("-") or not (
            _is_address(server) or ctx.system.resolves(server)):
        # keepalived reads an address, else asks the resolver (getaddrinfo)
        ctx.error(node, f"Invalid smtp server {server} {port}")
        return
    g.smtp_server = server
    g.smtp_server_port = number


def _is_address(text: str) -> bool:
    """keepalived's inet_stosockaddr() for smtp_server: an IPv4 or IPv6 address (a name,
    or text with '-' or '/', goes to the resolver)."""
    if "-" in text or "/" in text:
        return False
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
    except (OSError, ValueError):
        return False
    return True


def h_notification_email(ctx: Ctx, node: Node) -> None:
    emails = value_words(node)
    if not emails:
        ctx.error(node, "Warning - empty notification_email block")
        return
    _g(ctx).notification_email.extend(emails)


def h_smtp_connect_timeout(ctx: Ctx, node: Node) -> None:
    value = ctx.read_unsigned(node, 1, 0, UINT_MAX // 1000000)
    if value is None:
        ctx.error(node, f"smtp_connect_timeout '{node.tokens[1]}' invalid - ignoring")
        return
    _g(ctx).smtp_connect_timeout = float(value)


def h_dynamic_interfaces(ctx: Ctx, node: Node) -> None:
    g = _g(ctx)
    g.dynamic_interfaces = True
    if len(node.tokens) > 1:
        if node.tokens[1] == "allow_if_changes":
            g.dynamic_interfaces_allow_if_changes = True
        else:
            ctx.error(node, f"Unknown dynamic_interfaces option '{node.tokens[1]}'")


def h_mcast_group(version: int) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        addr = parse_sockaddr(ctx.arg(node, 1))
        if addr is None or addr.version != version or not addr.is_multicast:
            ctx.error(node, f"vrrp_mcast_group{version} '{node.tokens[1]}' is not a valid IPv"
                      f"{version} multicast address - ignoring")
            return
        setattr(_g(ctx), f"vrrp_mcast_group{version}", addr)
    return handler


def h_garp_repeat(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.read_unsigned(node, 1, 0, UINT_MAX)
        if value is None:
            ctx.error(node, f"{attr} '{node.tokens[1]}' invalid - ignoring")
            return
        if value == 0:
            ctx.error(node, f"{attr} must be greater than 0, setting to 1")
            value = 1
        setattr(_g(ctx), attr, value)
    return handler


def h_min_garp(ctx: Ctx, node: Node) -> None:
    value = ctx.read_bool(node)
    if value is None:
        ctx.error(node, f"Invalid value '{node.tokens[1]}' for vrrp_min_garp")
        return
    g = _g(ctx)
    g.vrrp_min_garp = value
    if value:
        g.vrrp_garp_master_repeat = 1
        g.vrrp_garp_master_delay = 0.0
        g.vrrp_garp_master_refresh = 0.0


def h_garp_extra_if(ctx: Ctx, node: Node) -> None:
    g = _g(ctx)
    delay = None
    for word in node.tokens[1:]:
        if word == "all":
            g.vrrp_garp_extra_if_all = True
            continue
        delay = ctx.read_number(node, word, 1, 86400, signed=False)
        if delay is None:
            ctx.error(node, f"vrrp_garp_extra_if '{word}' invalid - ignoring")
            return
    if delay is None:
        ctx.error(node, "vrrp_garp_extra_if specified without time - ignoring")
        return
    g.vrrp_garp_extra_if = float(delay)


def h_vrrp_version(ctx: Ctx, node: Node) -> None:
    value = ctx.read_int(node, 1, 2, 3)
    if value is None:
        ctx.error(node, "Unknown VRRP version - must be 2 or 3")
        return
    _g(ctx).vrrp_version = value


LB_BACKENDS = ("ipvs", "nftables", "auto")


def h_lb_backend(ctx: Ctx, node: Node) -> None:
    """``lb_backend ipvs|nftables|auto``: pykeepalived's own keyword (keepalived has no
    choice: IPVS or nothing); auto is IPVS where the kernel has it, else nftables."""
    if len(node.tokens) < 2:
        ctx.arg(node, 1)
        return
    value = node.tokens[1].lower()
    if value not in LB_BACKENDS:
        ctx.error(node, f"lb_backend {node.tokens[1]} is not one of ipvs, nftables, auto - "
                  "ignoring")
        return
    _g(ctx).lb_backend = value


def h_metrics_address(ctx: Ctx, node: Node) -> None:
    """``metrics_address [ADDRESS] [PORT]``: pykeepalived's own keyword, serving Prometheus
    metrics on ADDRESS (default 127.0.0.1: loopback only) and PORT (default 9650)."""
    import ipaddress

    words = node.tokens[1:]
    address, port = "127.0.0.1", 9650
    if words:
        try:
            address = str(ipaddress.ip_address(words[0]))
        except ValueError:
            ctx.error(node, f"metrics_address {words[0]} is not an IP address - ignoring")
            return
    if len(words) > 1:
        value = ctx.read_int(node, 2, 1, 65535)  # reports a bad port itself
        if value is None:
            return
        port = value
    g = _g(ctx)
    g.metrics_address, g.metrics_port = address, port


def h_vrrp_iptables(ctx: Ctx, node: Node) -> None:
    ctx.warn(node, "iptables not supported, using nftables instead. Please replace "
             "'vrrp_iptables' and 'vrrp_ipsets' with the 'nftables' option")
    g = _g(ctx)
    g.vrrp_iptables = node.tokens[1:]
    if g.nftables is None:
        g.nftables = "keepalived"


def h_vrrp_ipsets(ctx: Ctx, node: Node) -> None:
    ctx.warn(node, "ipsets not supported, using nftables instead. Please replace "
             "'vrrp_iptables' and 'vrrp_ipsets' with the 'nftables' option")
    _g(ctx).vrrp_ipsets = node.tokens[1:]


def h_nftables(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        name = node.tokens[1] if len(node.tokens) > 1 else "keepalived"
        if attr == "nftables_ipvs" and len(node.tokens) <= 1:
            name = "keepalived_ipvs"
        if len(name) >= 256:
            ctx.error(node, f"{attr} table name too long - ignoring")
            return
        setattr(_g(ctx), attr, name)
    return handler


def h_lvs_timeouts(ctx: Ctx, node: Node) -> None:
    toks = node.tokens
    if len(toks) < 3:
        ctx.error(node, "lvs_timeouts requires at least one option")
        return
    i = 1
    while i < len(toks):
        word = toks[i]
        if word not in ("tcp", "tcpfin", "udp"):
            ctx.error(node, f"Unknown option {word} specified for lvs_timeouts")
            i += 1
            continue
        if i + 1 >= len(toks):
            ctx.error(node, f"No value specified for lvs_timeout {word} - ignoring")
            break
        value = ctx.read_number(node, toks[i + 1], 0, 86400 * 31, signed=False)
        if value is None:
            ctx.error(node, f"Invalid lvs_timeout {word} ({toks[i + 1]}) - ignoring")
        else:
            _g(ctx).lvs_timeouts[word] = value
        i += 2


def h_lvs_sync_daemon(ctx: Ctx, node: Node) -> None:
    g = _g(ctx)
    toks = node.tokens
    if g.lvs_sync_daemon is not None:
        ctx.error(node, "lvs_sync_daemon has already been specified - ignoring")
        return
    ifname = ctx.arg(node, 1)
    if not ctx.system.has_interface(ifname) and not g.dynamic_interfaces:
        # keepalived -t does not look it up (and exits 0); its sync daemon cannot start there
        ctx.report(node, Category.OK, f"lvs_sync_daemon: interface {ifname} doesn't exist - "
                   "the IPVS sync daemon cannot run on it")
    syncd = LvsSyncDaemon(ifname)
    i = 2
    limits = {"id": (0, 255), "maxlen": (1, 65535 - 28), "port": (1, 65535), "ttl": (1, 255)}
    while i < len(toks):
        word = toks[i]
        if word in limits and i + 1 < len(toks):
            value = ctx.read_number(node, toks[i + 1], *limits[word], signed=False)
            if value is None:
                ctx.error(node, f"Invalid lvs_sync_daemon {word} ({toks[i + 1]}) - ignoring")
            elif word == "id":
                syncd.syncid = value
            else:
                setattr(syncd, word, value)
            i += 2
        elif word == "group" and i + 1 < len(toks):
            addr = parse_sockaddr(toks[i + 1])
            if addr is None or not addr.is_multicast:
                ctx.error(node, f"Invalid lvs_sync_daemon group {toks[i + 1]} - ignoring")
            else:
                syncd.group = addr
            i += 2
        elif word == "inst" and i + 1 < len(toks):
            syncd.vrrp_instance = toks[i + 1]
            i += 2
        elif i == 2:
            syncd.vrrp_instance = word
            i += 1
        else:
            ctx.error(node, f"Unknown option {word} specified for lvs_sync_daemon")
            i += 1
    g.lvs_sync_daemon = syncd


def h_lvs_flush_on_stop(ctx: Ctx, node: Node) -> None:
    g = _g(ctx)
    if len(node.tokens) == 1:
        g.lvs_flush_on_stop = "RS"
    elif node.tokens[1] == "VS":
        g.lvs_flush_on_stop = "VS"
    else:
        ctx.error(node, f"Unknown lvs_flush_on_stop type {node.tokens[1]}")


def h_script_user(ctx: Ctx, node: Node) -> None:
    g = _g(ctx)
    user = ctx.want(node)
    if user is None:
        return
    group = node.tokens[2] if len(node.tokens) > 2 else None
    if not ctx.system.user_exists(user) or (group is not None and
                                            not ctx.system.group_exists(group)):
        ctx.error(node, f"Error setting global script uid/gid: user '{user}' or group does not "
                  "exist")
        return
    g.script_user = user
    g.script_group = group


def h_script_security(ctx: Ctx, node: Node) -> None:
    _g(ctx).enable_script_security = True
    ctx.script_security = True


def h_umask(ctx: Ctx, node: Node) -> None:
    words = " ".join(node.tokens[1:])
    bits = {"IRUSR": 0o400, "IWUSR": 0o200, "IXUSR": 0o100, "IRGRP": 0o40, "IWGRP": 0o20,
            "IXGRP": 0o10, "IROTH": 0o4, "IWOTH": 0o2, "IXOTH": 0o1}
    if words and is_decimal(words[0]):
        # a C number (strtol base 0: 0077 is octal), alone on the line
        if len(node.tokens) != 2:
            ctx.error(node, f"{'Missing' if len(node.tokens) == 1 else 'Extra'} parameter(s) "
                      "to umask option")
            return
        number = c_strtol(words, 0)
        if number is None or number < 0:
            ctx.error(node, f"Invalid umask value {words}")
            return
        value = number
    else:
        value = 0
        for part in words.replace(" ", "").split("|"):
            if part not in bits:
                ctx.error(node, f"Invalid umask bit {part}")
                return
            value |= bits[part]
    if value & ~0o777:
        ctx.error(node, f"Invalid umask value {words}")
        return
    _g(ctx).umask = value


def h_random_seed(ctx: Ctx, node: Node) -> None:
    value = ctx.read_unsigned(node, 1, 0, UINT_MAX)
    if value is None:
        ctx.error(node, f"Invalid random_seed {node.tokens[1]}")
        return
    _g(ctx).random_seed = value
    if ctx.reader is not None:
        ctx.reader.seed(value)


def h_include_check(ctx: Ctx, node: Node) -> None:
    if ctx.reader is not None:
        ctx.reader.set_include_check(node.tokens[1:])
    _g(ctx).include_check = set(node.tokens[1:]) or {"read", "match", "wildcard_match",
                                                     "brace_match"}


def h_reload_check_config(ctx: Ctx, node: Node) -> None:
    _g(ctx).reload_check_config = node.tokens[1] if len(node.tokens) > 1 else True


def h_reload_file(ctx: Ctx, node: Node) -> None:
    _g(ctx).reload_file = node.tokens[1] if len(node.tokens) > 1 else "keepalived.reload"


def h_max_auto_priority(ctx: Ctx, node: Node) -> None:
    if len(node.tokens) == 1:
        _g(ctx).max_auto_priority = 99
        return
    value = ctx.read_int(node, 1, -1, 99)
    if value is None:
        ctx.error(node, f"max_auto_priority '{node.tokens[1]}' must be between -1 and 99")
        return
    _g(ctx).max_auto_priority = value


def h_rx_bufs_policy(ctx: Ctx, node: Node) -> None:
    value = ctx.want(node)
    if value is None:
        return
    if value in ("MTU", "ADVERT") or is_decimal(value):
        _g(ctx).vrrp_rx_bufs_policy = value
    else:
        ctx.error(node, f"Invalid vrrp_rx_bufs_policy {value}")


def h_net_namespace(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        g = _g(ctx)
        if getattr(g, attr) is not None:
            ctx.error(node, f"Duplicate {attr} definition {node.tokens[1:2]} - ignoring")
            return
        value = ctx.want(node) if attr == "net_namespace" else (
            node.tokens[1] if len(node.tokens) > 1 else "")
        if value is not None:
            setattr(g, attr, value)
    return handler


def global_defs_table() -> Table:
    t = Table("global_defs")
    for kw in ("process_name", "vrrp_process_name", "checker_process_name",
               "bfd_process_name", "router_id", "notification_email_from", "smtp_helo_name",
               "default_interface", "snmp_socket", "dbus_service_name", "vmac_prefix",
               "vmac_addr_prefix", "config_save_dir", "tmp_config_directory",
               "reload_time_file"):
        t.add(kw, g_str(kw))
    t.add("lvs_process_name", g_str("checker_process_name"))
    for kw in ("process_names", "no_email_faults", "disable_local_igmp", "lvs_flush",
               "vrrp_check_unicast_src", "vrrp_skip_check_adv_addr", "vrrp_strict",
               "vrrp_no_swap", "checker_no_swap", "bfd_no_swap", "enable_traps",
               "enable_snmp_vrrp", "enable_snmp_keepalived", "enable_snmp_checker",
               "enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3", "enable_dbus",
               "nftables_counters", "nftables_ifindex", "fifo_write_vrrp_states_on_reload",
               "log_unknown_vrids", "reload_repeat", "vrrp_handover_immediate"):
        t.add(kw, g_flag(kw))
    t.add("enable_snmp_keepalived", g_flag("enable_snmp_vrrp"))
    for kw in ("smtp_alert", "smtp_alert_vrrp", "smtp_alert_checker",
               "checker_log_all_failures", "vrrp_lower_prio_no_advert",
               "vrrp_higher_prio_send_advert", "vrrp_notify_priority_changes",
               "rs_init_notifies", "no_checker_emails", "data_use_instance",
               "vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs_force",
               "process_monitor_rcv_bufs_force", "lvs_netlink_cmd_rcv_bufs_force",
               "lvs_netlink_monitor_rcv_bufs_force"):
        t.add(kw, g_bool(kw))
    t.add("v3_checksum_as_v2", g_bool("v3_checksum_as_v2"))
    t.add("smtp_server", h_smtp_server)
    t.add("smtp_connect_timeout", h_smtp_connect_timeout)
    t.add("notification_email", h_notification_email, block="values")
    t.add("startup_script", g_script("startup_script"))
    t.add("shutdown_script", g_script("shutdown_script"))
    t.add("startup_script_timeout", g_uint("startup_script_timeout", 1, 1000))
    t.add("shutdown_script_timeout", g_uint("shutdown_script_timeout", 1, 1000))
    t.add("max_auto_priority", h_max_auto_priority)
    t.add("min_auto_priority_delay", g_int("min_auto_priority_delay", 1, 10000000))
    t.add("dynamic_interfaces", h_dynamic_interfaces)
    t.add("lvs_timeouts", h_lvs_timeouts)
    t.add("lvs_flush_on_stop", h_lvs_flush_on_stop)
    t.add("lvs_flush_onstop", h_lvs_flush_on_stop)
    t.add("lvs_sync_daemon", h_lvs_sync_daemon)
    t.add("vrrp_mcast_group4", h_mcast_group(4))
    t.add("vrrp_mcast_group6", h_mcast_group(6))
    t.add("vrrp_garp_master_delay", g_uint("vrrp_garp_master_delay", 0, UINT_MAX // 1000000,
                                           float))
    t.add("vrrp_garp_master_repeat", h_garp_repeat("vrrp_garp_master_repeat"))
    t.add("vrrp_garp_master_refresh", g_uint("vrrp_garp_master_refresh", 0, UINT_MAX, float))
    t.add("vrrp_garp_master_refresh_repeat", h_garp_repeat("vrrp_garp_master_refresh_repeat"))
    t.add("vrrp_garp_lower_prio_delay", g_uint("vrrp_garp_lower_prio_delay", 0,
                                               UINT_MAX // 1000000, float))
    t.add("vrrp_garp_lower_prio_repeat", g_uint("vrrp_garp_lower_prio_repeat", 0, INT_MAX))
    t.add("vrrp_down_timer_adverts", g_uint("vrrp_down_timer_adverts", 1, 100))
    t.add("vrrp_garp_interval", g_timer("vrrp_garp_interval", 0.000001, UINT_MAX / 1e6))
    t.add("vrrp_gna_interval", g_timer("vrrp_gna_interval", 0.000001, UINT_MAX / 1e6))
    t.add("vrrp_min_garp", h_min_garp)
    t.add("vrrp_garp_extra_if", h_garp_extra_if)
    t.add("vrrp_vmac_garp_intvl", h_garp_extra_if)
    t.add("vrrp_version", h_vrrp_version)
    t.add("lb_backend", h_lb_backend)
    t.add("metrics_address", h_metrics_address)
    t.add("vrrp_iptables", h_vrrp_iptables)
    t.add("vrrp_ipsets", h_vrrp_ipsets)
    t.add("nftables", h_nftables("nftables"))
    t.add("nftables_priority", g_int("nftables_priority", INT_MIN, INT_MAX))
    t.add("nftables_ipvs", h_nftables("nftables_ipvs"))
    t.add("nftables_ipvs_priority", g_int("nftables_ipvs_priority", INT_MIN, INT_MAX))
    t.add("nftables_ipvs_start_fwmark", g_uint("nftables_ipvs_start_fwmark", 1, UINT_MAX))
    for proc in ("vrrp", "checker", "bfd"):
        t.add(f"{proc}_priority", g_int(f"{proc}_priority", -20, 19))
        t.add(f"{proc}_rt_priority", g_int(f"{proc}_rt_priority", 1, 99))
        t.add(f"{proc}_cpu_affinity", g_cpus(f"{proc}_cpu_affinity"))
        t.add(f"{proc}_rlimit_rttime", g_uint(f"{proc}_rlimit_rttime", 1, UINT_MAX))
        t.add(f"{proc}_rlimit_rtime", g_uint(f"{proc}_rlimit_rttime", 1, UINT_MAX))
    for kw in ("notify_fifo", "vrrp_notify_fifo", "lvs_notify_fifo"):
        t.add(kw, g_fifo(kw))
        t.add(f"{kw}_script", g_script(f"{kw}_script"))
    t.add("script_user", h_script_user)
    t.add("enable_script_security", h_script_security)
    for kw in ("vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_monitor_rcv_bufs",
               "process_monitor_rcv_bufs", "lvs_netlink_cmd_rcv_bufs",
               "lvs_netlink_monitor_rcv_bufs"):
        t.add(kw, g_uint(kw, 0, UINT_MAX))
    t.add("vrrp_rx_bufs_policy", h_rx_bufs_policy)
    t.add("vrrp_rx_bufs_multiplier", g_uint("vrrp_rx_bufs_multiplier", 1, UINT_MAX))
    t.add("umask", h_umask)
    t.add("vrrp_startup_delay", g_timer("vrrp_startup_delay", 0.001, UINT_MAX / 1e6))
    t.add("random_seed", h_random_seed)
    t.add("include_check", h_include_check)
    t.add("reload_check_config", h_reload_check_config)
    t.add("reload_file", h_reload_file)
    return t


def root_table() -> Table:
    """The global keywords keepalived 2.2.7 knows only outside global_defs
    (install_keyword_root): inside global_defs each of them is an unknown keyword."""
    t = Table("top")
    for kw in ("linkbeat_use_polling", "namespace_with_ipsets", "use_pid_dir"):
        t.add(kw, g_flag(kw))
    t.add("net_namespace", h_net_namespace("net_namespace"))
    t.add("net_namespace_ipvs", h_net_namespace("net_namespace_ipvs"))
    t.add("instance", g_str("instance"))
    t.add("child_wait_time", g_uint("child_wait_time", 0, UINT_MAX))
    return t


