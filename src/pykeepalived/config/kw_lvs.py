"""Keyword tables of the LVS sections: virtual_server_group, virtual_server, real_server,
the checkers and the SSL block.

Mirrors keepalived 2.2.7 keepalived/check/check_parser.c and the check_*.c parsers. The
"virtual server setting is the default for real servers, real server setting the default
for checkers" inheritance is resolved in validate_lvs.py, once the whole block is read.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable

from pykeepalived.config.addresses import parse_addr, parse_sockaddr
from pykeepalived.config.blocks import Node
from pykeepalived.config.errors import Category
from pykeepalived.config.kw_checkers import (
    TIMER_MAX,
    _common_checker,
    close_bfd_check,
    close_file_check,
    close_http,
    close_misc,
    enter_checker,
    enter_smtp_host,
    h_bfd_check_name,
    h_bool,
    h_dns_type,
    h_file_check_track,
    h_flag,
    h_server_retry,
    h_str,
    h_timer,
    h_weight_reverse,
    http_table,
    misc_table,
    udp_table,
)
from pykeepalived.config.model_base import model
from pykeepalived.config.model_common import Location
from pykeepalived.config.model_lvs import (
    BfdCheck,
    DnsCheck,
    FileCheck,
    HttpGet,
    MiscCheck,
    PingCheck,
    RealServer,
    SmtpCheck,
    SslGet,
    TcpCheck,
    TunnelMethod,
    UdpCheck,
    VirtualServer,
    VirtualServerGroup,
    VsgEntry,
)
from pykeepalived.config.parse_base import UINT_MAX, Ctx, MissingParameter, Table, value_lines

SCHEDULERS = {"rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed",
              "nq", "twos"}
LVS_FLAGS = {"hashed", "ops", "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback",
             "mh-port", "mh-fallback"}
IPVS_WEIGHT_LIMIT = 2**31 - 1  # keepalived's IPVS_WEIGHT_MAX (INT32_MAX)


def _loc(node: Node) -> Location:
    return Location(node.file, node.line)


def _port(ctx: Ctx, node: Node, text: str) -> int | None:
    value = ctx.read_number(node, text, 0, 65535, signed=False)
    return value


# ------------------------------------------------------------------ virtual_server_group
def h_virtual_server_group(ctx: Ctx, node: Node) -> None:
    """``virtual_server_group NAME { addresses, ranges, fwmarks }`` (a value block)."""
    name = ctx.arg(node, 1)
    if len(node.tokens) > 2:
        # keepalived 2.2.7 (vsg_handler) passes the words after the name to its value
        # block reader, which names the keyword in its "extra parameters" message from a
        # word it has left out: "missing a parameter at word position 1", and it stops
        ctx.report(node, Category.MISSING_PARAMETER, f"virtual_server_group {name}: words "
                   f"after the name ({' '.join(node.tokens[2:])}): keepalived stops reading "
                   "the configuration here", severity="error")
        raise MissingParameter(node.keyword)
    if name in ctx.config.virtual_server_groups:
        ctx.error(node, f"virtual_server_group {name} already defined - ignoring")
        return
    vsg = VirtualServerGroup(name, location=_loc(node))
    lines = value_lines(node)
    if not node.opened and (lines or node.closed):
        # keepalived 2.2.7 (vsg_handler) reads the group's first line (or the '}' that
        # comes instead) as a word missing from its own line and stops: "missing a
        # parameter at word position 1"
        ctx.report(lines[0] if lines else node, Category.MISSING_PARAMETER,
                   f"virtual_server_group {name} "
                   "without '{' after it: keepalived stops reading the configuration here",
                   severity="error")
        raise MissingParameter(node.keyword)
    for line in lines:
        entry = _vsg_entry(ctx, line, vsg)
        if entry is not None:
            vsg.entries.append(entry)
    if not vsg.entries:
        ctx.error(node, f"virtual server group {name} has no entries - removing")
        return
    ctx.config.virtual_server_groups[name] = vsg


def _vsg_entry(ctx: Ctx, line: Node, vsg: VirtualServerGroup) -> VsgEntry | None:
    toks = line.tokens
    if toks[0] == "fwmark":
        if len(toks) < 2:
            ctx.arg(line, 1)
        mark = ctx.read_number(line, toks[1], 0, UINT_MAX, signed=False)
        if mark is None:
            ctx.error(line, f"({vsg.name}): fwmark '{toks[1]}' must be in [0, {UINT_MAX}] - "
                      "ignoring")
            return None
        entry = VsgEntry(fwmark=mark, location=_loc(line))
        if len(toks) > 2:
            if toks[2] in ("inet", "inet6"):
                entry.family = 6 if toks[2] == "inet6" else 4
            else:
                ctx.error(line, f"({vsg.name}): fwmark '{mark}' family {toks[2]} unknown - "
                          "ignoring")
                return None
        return entry
    text = toks[0]
    port = None
    if len(toks) > 1:
        port = _port(ctx, line, toks[1])
        if port is None:
            return None
    entry = VsgEntry(port=port, location=_loc(line))
    if "/" in text:
        try:
            net = ipaddress.ip_network(text, strict=True)
        except ValueError:
            ctx.error(line, f"Invalid virtual server group IP address {text} - skipping")
            return None
        entry.address = net.network_address
        entry.range_end = net.broadcast_address
        return entry
    if "-" in text:
        start_text, end_text = text.split("-", 1)
        start = parse_addr(start_text)
        if start is None:
            ctx.error(line, f"Invalid virtual server group IP address {text} - skipping")
            return None
        end = parse_addr(end_text)
        if end is None:
            # last octet/hextet only: 192.0.2.1-10
            sep = ":" if start.version == 6 else "."
            head = start_text.rsplit(sep, 1)[0]
            end = parse_addr(f"{head}{sep}{end_text}")
        if end is None or end.version != start.version:
            ctx.error(line, f"Invalid range end {text} - skipping")
            return None
        if int(end) < int(start):
            ctx.error(line, f"Address range end is less than address range start - {text} - "
                      "skipping")
            return None
        entry.address, entry.range_end = start, end
        return entry
    addr = parse_addr(text)
    if addr is None:
        ctx.error(line, f"Invalid virtual server group IP address {text} - skipping")
        return None
    entry.address = addr
    return entry


# ------------------------------------------------------------------ virtual_server
def enter_vs(ctx: Ctx, node: Node) -> VirtualServer | None:
    toks = node.tokens
    first = ctx.arg(node, 1)
    vs = VirtualServer(location=_loc(node))
    if first == "group":
        vs.group = ctx.arg(node, 2)
        if vs.group not in ctx.config.virtual_server_groups:
            # keepalived -t does not look the group up, but reads the block (what is wrong
            # in it is reported); the checker process finds the group missing. The block is
            # read into a virtual server that is not kept.
            ctx.report(node, Category.OK, f"virtual_server_group {vs.group} is not defined "
                       "(before this line) - removing this virtual server", severity="error")
            return vs
    elif first == "fwmark":
        mark = ctx.read_number(node, ctx.arg(node, 2), 0, UINT_MAX, signed=False)
        if mark is None:
            ctx.error(node, f"virtual server fwmark '{toks[2]}' must be in [0, {UINT_MAX}] - "
                      "ignoring")
            return None
        vs.fwmark = mark
    else:
        addr = parse_sockaddr(first)
        port = _port(ctx, node, toks[2]) if len(toks) > 2 else 0
        if addr is None or port is None:
            ctx.error(node, f"Invalid virtual server IP address {' '.join(toks[1:])} - "
                      "skipping")
            return None
        vs.address, vs.port = addr, port
    ctx.config.virtual_servers.append(vs)
    return vs


def _vs(ctx: Ctx) -> VirtualServer:
    vs: VirtualServer = ctx.current
    return vs


def _mark(ctx: Ctx, key: str) -> None:
    """Remember that the virtual server being read set ``key`` explicitly."""
    marks: dict[int, set[str]] | None = ctx.scratch.get("vs_marks")
    if marks is None:
        marks = ctx.scratch["vs_marks"] = {}
    keys = marks.get(id(ctx.current))
    if keys is None:
        keys = marks[id(ctx.current)] = set()
    keys.add(key)  # (setdefault would build a new dict and set at every call)


def h_lvs_sched(ctx: Ctx, node: Node) -> None:
    value = ctx.arg(node, 1)
    if value not in SCHEDULERS:
        ctx.error(node, f"Invalid lvs_scheduler '{value}' - ignoring (expected one of "
                  f"{', '.join(sorted(SCHEDULERS))})")
        return
    _vs(ctx).lvs_sched = value
    _mark(ctx, "sched")


def h_lvs_flag(ctx: Ctx, node: Node) -> None:
    """keepalived's lbflags_handler(): sh-* and mh-* need the sh or mh scheduler (set
    before them); under the other of the two, keepalived drops them without a word."""
    vs = _vs(ctx)
    keyword = node.keyword
    if keyword.startswith(("sh-", "mh-")):
        if vs.lvs_sched not in ("sh", "mh"):
            ctx.error(node, f"{keyword} only applies to {keyword[:2]} scheduler - ignoring")
            return
        if not keyword.startswith(vs.lvs_sched):
            return
    vs.lvs_flags.append(keyword)


@model
class Forwarding:
    """What ``lvs_method`` says: the method, and the tunnel options when they are valid
    (``tunnel_ok`` False: keepalived keeps the method and the tunnel as it was)."""

    method: str
    tunnel: TunnelMethod | None
    tunnel_ok: bool


def parse_forwarding(ctx: Ctx, node: Node, s_type: str) -> Forwarding | None:
    """keepalived's svr_forwarding_handler(): ``NAT|DR|TUN [type ipip|gue|gre] [port N]
    [nocsum|csum|remcsum]``. The options are read whatever the method; a bad one is
    reported and leaves the tunnel as it was, but the method is set."""
    toks = node.tokens
    method = ctx.arg(node, 1)
    if method not in ("NAT", "DR", "TUN"):
        ctx.error(node, f"PARSER : unknown [{method}] routing method for {s_type} server.")
        return None
    tun = TunnelMethod()
    failed = Forwarding(method, None, False)
    port = 0
    i = 2
    while i < len(toks):
        word = toks[i]
        if word in ("type", "port") and i + 1 >= len(toks):
            ctx.error(node, f"Missing tunnel type for {s_type} server." if word == "type" else
                      f"Missing port for {s_type} server gue tunnel.")
            return failed
        if word == "type":
            kind = toks[i + 1]
            if kind not in ("ipip", "gue", "gre"):
                ctx.error(node, f"Unknown tunnel type {kind} for {s_type} server.")
                return failed
            tun.type = kind
            i += 2
        elif word == "port":
            value = ctx.read_number(node, toks[i + 1], 1, 65535, signed=False)
            if value is None:
                ctx.error(node, f"Invalid gue tunnel port {toks[i + 1]} for {s_type} server.")
                return failed
            port = value
            i += 2
        elif word in ("nocsum", "csum", "remcsum"):
            tun.csum = word
            i += 1
        else:
            ctx.error(node, f"Invalid tunnel option {word} for {s_type} server.")
            return failed
    if (tun.type == "gue") != (port != 0):
        ctx.error(node, "gue tunnels require port, otherwise cannot have port.")
        return failed
    if tun.type == "ipip" and tun.csum not in (None, "nocsum"):
        ctx.error(node, "ipip tunnels do not support checksum option.")
        return failed
    if tun.type == "gre" and tun.csum == "remcsum":
        ctx.error(node, "gre tunnels do not support remote checksum option.")
        return failed
    tun.port = port or None
    return Forwarding(method, tun if method == "TUN" else None, True)


def h_vs_forwarding(ctx: Ctx, node: Node) -> None:
    parsed = parse_forwarding(ctx, node, "virtual")
    if parsed is not None:
        vs = _vs(ctx)
        vs.lvs_method = parsed.method
        if parsed.tunnel_ok:
            vs.tunnel = parsed.tunnel
        _mark(ctx, "method")


def h_ss_forwarding(ctx: Ctx, node: Node) -> None:
    vs = _vs(ctx)
    if vs.sorry_server is None:
        ctx.error(node, "sorry_server forwarding used without sorry_server")
        return
    parsed = parse_forwarding(ctx, node, "sorry")
    if parsed is not None:
        vs.sorry_server_lvs_method = parsed.method


def h_protocol(ctx: Ctx, node: Node) -> None:
    value = ctx.arg(node, 1)
    if value.upper() not in ("TCP", "UDP", "SCTP"):
        ctx.error(node, f"Unknown protocol {value} - ignoring (expected TCP, UDP or SCTP)")
        return
    _vs(ctx).protocol = value.upper()
    _mark(ctx, "protocol")


def h_persistence_timeout(ctx: Ctx, node: Node) -> None:
    vs = _vs(ctx)
    if len(node.tokens) == 1:
        vs.persistence_timeout = 360
        return
    value = ctx.read_unsigned(node, 1, 1, UINT_MAX)
    if value is None:
        ctx.error(node, "persistence_timeout invalid")
        return
    vs.persistence_timeout = value


def h_persistence_granularity(ctx: Ctx, node: Node) -> None:
    value = ctx.arg(node, 1)
    try:
        if ":" in value:
            if not 1 <= int(value) <= 128:
                raise ValueError
        else:
            ipaddress.IPv4Address(value)  # like ipvsadm, a mask need not be solid
    except ValueError:
        ctx.error(node, f"Invalid persistence_granularity specified - {value}")
        return
    _vs(ctx).persistence_granularity = value


def h_ip_family(ctx: Ctx, node: Node) -> None:
    value = ctx.arg(node, 1)
    if value not in ("inet", "inet6"):
        ctx.error(node, f"unknown address family {value}")
        return
    _vs(ctx).ip_family = 6 if value == "inet6" else 4


def h_quorum(ctx: Ctx, node: Node) -> None:
    value = ctx.read_unsigned(node, 1, 1, UINT_MAX)
    if value is None:
        ctx.error(node, f"Quorum {node.tokens[1]} must be in [1, {UINT_MAX}]. Setting to 1.")
        value = 1
    _vs(ctx).quorum = value


def h_hysteresis(ctx: Ctx, node: Node) -> None:
    value = ctx.read_unsigned(node, 1, 0, UINT_MAX)
    if value is None:
        ctx.error(node, f"Hysteresis {node.tokens[1]} must be in [0, {UINT_MAX}] - ignoring")
        return
    _vs(ctx).hysteresis = value


def h_vs_weight(ctx: Ctx, node: Node) -> None:
    value = ctx.read_unsigned(node, 1, 1, IPVS_WEIGHT_LIMIT)
    if value is None:
        ctx.error(node, f"Virtual server weight {node.tokens[1]} is outside range 1-"
                  f"{IPVS_WEIGHT_LIMIT}")
        return
    _vs(ctx).weight = value


def h_sorry_server(ctx: Ctx, node: Node) -> None:
    vs = _vs(ctx)
    addr = parse_sockaddr(ctx.arg(node, 1))
    port = _port(ctx, node, node.tokens[2]) if len(node.tokens) > 2 else None
    if addr is None:
        ctx.error(node, f"Invalid sorry server IP address {node.tokens[1]} - skipping")
        return
    vs.sorry_server = (addr, port)


def h_sorry_inhibit(ctx: Ctx, node: Node) -> None:
    vs = _vs(ctx)
    if vs.sorry_server is None:
        ctx.error(node, "Ignoring sorry_server inhibit used before or without sorry_server")
        return
    vs.sorry_server_inhibit = True


def h_notify_script(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        obj = ctx.current
        if attr in obj.notify_scripts:
            ctx.error(node, f"{attr} script already specified - ignoring {node.tokens[1:2]}")
            return
        script = ctx.script(node)
        if script is not None:
            obj.notify_scripts[attr] = script
            setattr(obj, attr, script.command)
    return handler


def detached_vs(ctx: Ctx, node: Node) -> VirtualServer:
    """What the lines of a refused virtual_server without its '{' configure: a copy of the
    last virtual server, which keepalived's handlers act on (not kept)."""
    servers = ctx.config.virtual_servers
    return copy.deepcopy(servers[-1]) if servers else VirtualServer(location=_loc(node))


# ------------------------------------------------------------------ real_server
def enter_rs(ctx: Ctx, node: Node) -> RealServer | None:
    vs = _vs(ctx)
    addr = parse_sockaddr(ctx.arg(node, 1))
    port = _port(ctx, node, node.tokens[2]) if len(node.tokens) > 2 else None
    if addr is None or (len(node.tokens) > 2 and port is None):
        ctx.error(node, f"Invalid real server ip address/port {' '.join(node.tokens[1:])} - "
                  "skipping")
        return None
    if vs.address is not None and addr.version != vs.address.version and \
            vs.lvs_method != "TUN":
        ctx.error(node, f"Address family of virtual server and real server {addr} don't match -"
                  " skipping real server.")
        return None
    rs = RealServer(addr, port or None, location=_loc(node))
    vs.real_servers.append(rs)
    return rs


def h_rs_weight(ctx: Ctx, node: Node) -> None:
    value = ctx.read_unsigned(node, 1, 0, IPVS_WEIGHT_LIMIT)
    if value is None:
        ctx.error(node, f"Real server weight {node.tokens[1]} is outside range 0-"
                  f"{IPVS_WEIGHT_LIMIT}")
        return
    ctx.current.weight = value


def h_rs_forwarding(ctx: Ctx, node: Node) -> None:
    parsed = parse_forwarding(ctx, node, "real")
    if parsed is not None:
        rs: RealServer = ctx.current
        rs.lvs_method = parsed.method
        if parsed.tunnel_ok:
            rs.tunnel = parsed.tunnel


def h_threshold(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.read_unsigned(node, 1, 0, UINT_MAX)
        if value is None:
            ctx.error(node, f"Invalid real_server {attr} '{node.tokens[1]}' - ignoring")
            return
        setattr(ctx.current, attr, value)
    return handler


def real_server_table() -> Table:
    t = Table("real_server")
    t.add("weight", h_rs_weight)
    t.add("lvs_method", h_rs_forwarding)
    t.add("lb_kind", h_rs_forwarding)
    t.add("uthreshold", h_threshold("uthreshold"))
    t.add("lthreshold", h_threshold("lthreshold"))
    t.add("inhibit_on_failure", h_bool("inhibit_on_failure"))
    t.add("notify_up", h_notify_script("notify_up"))
    t.add("notify_down", h_notify_script("notify_down"))
    t.add("alpha", h_bool("alpha"))
    t.add("retry", h_server_retry)
    t.add("delay_before_retry", h_timer("delay_before_retry"))
    t.add("warmup", h_timer("warmup"))
    t.add("connect_timeout", h_timer("connect_timeout", 0.000001, TIMER_MAX))
    t.add("delay_loop", h_timer("delay_loop", 0.000001))
    t.add("smtp_alert", h_bool("smtp_alert"))
    t.add("virtualhost", h_str("virtualhost"))
    t.add("snmp_name", h_str("snmp_name"))
    tcp = Table("TCP_CHECK")
    _common_checker(tcp)
    ping = Table("PING_CHECK")
    _common_checker(ping)
    smtp = Table("SMTP_CHECK")
    _common_checker(smtp)
    smtp.add("helo_name", lambda ctx, node: setattr(ctx.current, "helo_name",
                                                    ctx.arg(node, 1)))
    host = Table("host")
    _common_checker(host)
    smtp.add("host", block="sub", sub=host, enter=enter_smtp_host)
    dns = Table("DNS_CHECK")
    _common_checker(dns)
    dns.add("type", h_dns_type)
    dns.add("name", lambda ctx, node: setattr(ctx.current, "name", ctx.arg(node, 1)))
    filec = Table("FILE_CHECK")
    filec.add("track_file", h_file_check_track)
    filec.add("weight", h_weight_reverse(-(2**31 - 1), 2**31 - 1, "track file weight missing"))
    bfdc = Table("BFD_CHECK")
    bfdc.add("name", h_bfd_check_name)
    bfdc.add("weight", h_weight_reverse(-253, 253))
    bfdc.add("alpha", h_bool("alpha"))
    t.add("TCP_CHECK", block="sub", sub=tcp, enter=enter_checker(TcpCheck))
    t.add("HTTP_GET", block="sub", sub=http_table(False), enter=enter_checker(HttpGet),
          close=close_http)
    t.add("SSL_GET", block="sub", sub=http_table(True), enter=enter_checker(SslGet),
          close=close_http)
    t.add("SMTP_CHECK", block="sub", sub=smtp, enter=enter_checker(SmtpCheck))
    t.add("DNS_CHECK", block="sub", sub=dns, enter=enter_checker(DnsCheck))
    t.add("UDP_CHECK", block="sub", sub=udp_table(), enter=enter_checker(UdpCheck))
    t.add("PING_CHECK", block="sub", sub=ping, enter=enter_checker(PingCheck))
    t.add("MISC_CHECK", block="sub", sub=misc_table(), enter=enter_checker(MiscCheck),
          close=close_misc)
    t.add("FILE_CHECK", block="sub", sub=filec, enter=enter_checker(FileCheck),
          close=close_file_check)
    t.add("BFD_CHECK", block="sub", sub=bfdc, enter=enter_checker(BfdCheck),
          close=close_bfd_check)
    return t


def virtual_server_table() -> Table:
    t = Table("virtual_server")
    t.add("ip_family", h_ip_family)
    t.add("retry", h_server_retry)
    t.add("delay_before_retry", h_timer("delay_before_retry"))
    t.add("warmup", h_timer("warmup"))
    t.add("connect_timeout", h_timer("connect_timeout", 0.000001, TIMER_MAX))
    t.add("delay_loop", h_timer("delay_loop", 0.000001))
    # keepalived's vs_inhibit_handler reads no argument: any word after it is ignored
    t.add("inhibit_on_failure", h_flag("inhibit_on_failure"))
    t.add("lb_algo", h_lvs_sched)
    t.add("lvs_sched", h_lvs_sched)
    for flag in sorted(LVS_FLAGS):
        t.add(flag, h_lvs_flag)
    t.add("lb_kind", h_vs_forwarding)
    t.add("lvs_method", h_vs_forwarding)
    t.add("persistence_engine", h_str("persistence_engine"))
    t.add("persistence_timeout", h_persistence_timeout)
    t.add("persistence_granularity", h_persistence_granularity)
    t.add("protocol", h_protocol)
    t.add("ha_suspend", h_flag("ha_suspend"))
    t.add("smtp_alert", h_bool("smtp_alert"))
    t.add("virtualhost", h_str("virtualhost"))
    t.add("snmp_name", h_str("snmp_name"))
    t.add("alpha", h_flag("alpha"))
    t.add("omega", h_flag("omega"))
    t.add("quorum_up", h_notify_script("quorum_up"))
    t.add("quorum_down", h_notify_script("quorum_down"))
    t.add("quorum", h_quorum)
    t.add("hysteresis", h_hysteresis)
    t.add("weight", h_vs_weight)
    t.add("sorry_server", h_sorry_server)
    t.add("sorry_server_inhibit", h_sorry_inhibit)
    t.add("sorry_server_lvs_method", h_ss_forwarding)
    t.add("real_server", block="sub", sub=real_server_table(), enter=enter_rs)
    return t


