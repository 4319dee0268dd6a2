"""Address, route and rule lines (``ip address/route/rule add`` syntax, as keepalived reads it).

Used by virtual_ipaddress, virtual_ipaddress_excluded, static_ipaddress, virtual_routes,
static_routes, virtual_rules and static_rules. The checks follow keepalived's
alloc_ipaddress(), alloc_route() and alloc_rule() (keepalived/vrrp/vrrp_ip*.c): an
unknown interface is a "cannot run" problem, a route without an interface cannot be
tracked, a rule without a preference gets one assigned, and each of those is reported.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from pykeepalived.config.blocks import Node
from pykeepalived.config.errors import Category
from pykeepalived.config.model_common import (
    IPAddress,
    IpAddress,
    IPInterface,
    IPNetwork,
    Location,
    Nexthop,
    Route,
    Rule,
)
from pykeepalived.config.numbers import digits_value, is_decimal
from pykeepalived.config.parse_base import Ctx

IFNAMSIZ = 16
SCOPES = {"global", "site", "link", "host", "nowhere", "universe"}
ROUTE_TYPES = {"unicast", "local", "broadcast", "multicast", "throw", "unreachable",
               "prohibit", "blackhole", "nat", "anycast"}
RULE_ACTIONS = {"blackhole", "prohibit", "unreachable", "nop", "goto"}
# route options that take one value and that we keep as written
ROUTE_VALUE_OPTIONS = {"mtu", "hoplimit", "advmss", "rtt", "rttvar", "reordering", "window",
                       "cwnd", "ssthresh", "realms", "rto_min", "initcwnd", "initrwnd",
                       "features", "quickack", "congctl", "pref", "ttl-propagate",
                       "fastopen_no_cookie", "expires"}
# options that take "lock" before their value (keepalived's parse_route: RTAX_* locks)
ROUTE_METRIC_LOCK = {"mtu", "advmss", "rtt", "rttvar", "reordering", "cwnd", "ssthresh",
                     "rto_min", "congctl"}
# numeric route options: the largest value keepalived takes, and how it names the option
# in "Invalid ... specified for route" (it then drops the route)
ROUTE_NUMBERS = {
    "mtu": (0xFFFFFFFF, "MTU"), "advmss": (0xFFFFFFFF, "advmss"),
    "reordering": (0xFFFFFFFF, "reordering value"), "window": (0xFFFFFFFF, "window value"),
    "cwnd": (0xFFFFFFFF, "cwnd value"), "ssthresh": (0xFFFFFFFF, "ssthresh value"),
    "initcwnd": (0xFFFFFFFF, "initcwnd value"), "initrwnd": (0xFFFFFFFF, "initrwnd value"),
    "hoplimit": (255, "hoplimit"), "quickack": (1, "quickack value"),
    "fastopen_no_cookie": (1, "fastopen_no_cookie value"),
}
RULE_VALUE_OPTIONS = {"tos", "dsfield", "fwmark", "realms", "suppress_prefixlength", "sup_pl",
                      "suppress_ifgroup", "sup_group", "tunnel-id", "uidrange", "protocol",
                      "ipproto", "sport", "dport"}


def parse_ip(text: str, *, allow_prefix: bool = True) -> IPInterface | None:
    """keepalived's parse_ipaddress(): family from ':', default /32 or /128."""
    addr, slash, plen = text.partition("/")
    ip = parse_addr(addr) if ":" in addr or "." in addr else None
    if ip is None:
        return None
    if slash and allow_prefix:
        return ipaddress.ip_interface(f"{ip}/{plen}")
    return interface(ip, ip.max_prefixlen)


def parse_addr(text: str) -> IPAddress | None:
    """A bare address, read as keepalived reads it (inet_pton, the family from ':'): so
    no scope ("fe80::1%eth0") and no leading zeros. inet_pton is also several times
    faster than ipaddress's own parser, which counts with 100,000 VIPs."""
    try:
        if ":" in text:
            return ipaddress.IPv6Address(socket.inet_pton(socket.AF_INET6, text))
        return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, text))
    except (OSError, ValueError):
        return None


def parse_sockaddr(text: str) -> IPAddress | None:
    """An address as keepalived's inet_stosockaddr() reads it: the family from ':', and
    anything from the first '-' or '/' on dropped ("remove range and mask stuff"), so
    "192.0.2.1/24" is 192.0.2.1. keepalived reads servers, checker and unicast peer
    addresses, source addresses and multicast groups this way."""
    if "-" in text or "/" in text:
        text = text[:min(i for i in (text.find("-"), text.find("/")) if i >= 0)]
    return parse_addr(text)


def interface(ip: IPAddress, prefixlen: int) -> IPInterface:
    """``ip/prefixlen`` built from the numbers (no text to parse again)."""
    if ip.version == 4:
        return ipaddress.IPv4Interface((int(ip), prefixlen))
    return ipaddress.IPv6Interface((int(ip), prefixlen))


def _prefix_ok(ctx: Ctx, node: Node, text: str) -> IPInterface | None:
    addr, slash, plen = text.partition("/")
    ip = parse_addr(addr) if ":" in addr or "." in addr else None
    if ip is None:
        ctx.error(node, f"VRRP parsed invalid IP {text}. skipping IP...")
        return None
    maxlen = ip.max_prefixlen
    if slash:
        if not is_decimal(plen) or digits_value(plen) > maxlen:
            ctx.error(node, f"Invalid address prefix len {plen} for address {text} - using "
                      f"{maxlen}")
            return interface(ip, maxlen)
        return interface(ip, digits_value(plen))
    return interface(ip, maxlen)


def _route_value_ok(ctx: Ctx, node: Node, word: str, value: str) -> bool:
    """keepalived's checks of a route option's value; False when it drops the route.
    (rtt/rttvar/rto_min with their time units, realms and pref are not checked yet.)"""
    number = ROUTE_NUMBERS.get(word)
    if number is not None:
        hi, what = number
        if ctx.read_number(node, value, 0, hi, signed=False) is None:
            ctx.error(node, f"Invalid {what} {value} specified for route")
            return False
    elif word == "features" and value != "ecn":
        ctx.error(node, f"feature {value} not supported")
    elif word == "ttl-propagate" and value not in ("enabled", "disabled"):
        ctx.error(node, f"ttl-propagate value {value} not recognised")
    return True


def check_interface(ctx: Ctx, node: Node, name: str, what: str) -> bool:
    """An interface named in the configuration must exist (unless dynamic_interfaces)."""
    if ctx.system.has_interface(name) or ctx.config.global_defs.dynamic_interfaces:
        return True
    ctx.error(node, f"WARNING - interface {name} for {what} doesn't exist")
    ctx.scratch["bad_if"] = True
    return False


def parse_ipaddress_line(ctx: Ctx, node: Node, *, static: bool) -> IpAddress | None:
    """One line of virtual_ipaddress(_excluded) or static_ipaddress."""
    tokens = node.tokens
    address = _prefix_ok(ctx, node, tokens[0])
    if address is None:
        return None
    ip = IpAddress(address, location=Location(node.file, node.line))
    have_brd = False
    i = 1
    while i < len(tokens):
        word = tokens[i]
        has_param = i + 1 < len(tokens)
        if word in ("dev", "scope", "broadcast", "brd", "label", "peer", "preferred_lft") \
                or (static and word == "track_group"):
            if not has_param:
                ctx.error(node, f"No {word} parameter specified for {tokens[0]}")
                return None
            value = tokens[i + 1]
            i += 2
            if word == "dev":
                if ip.dev is not None:
                    ctx.error(node, f"Cannot specify ipaddress device more than once for "
                              f"{tokens[0]}")
                    return None
                if not check_interface(ctx, node, value, f"ip address {tokens[0]}"):
                    return None
                ip.dev = value
            elif word == "scope":
                if value not in SCOPES and not is_decimal(value):
                    ctx.error(node, f"Invalid scope '{value}' specified for {tokens[0]} - "
                              "ignoring")
                else:
                    ip.scope = value
            elif word in ("broadcast", "brd"):
                if address.version == 6:
                    ctx.error(node, f"VRRP is trying to assign a broadcast {value} to the IPv6 "
                              f"address {tokens[0]} - skipping VIP")
                    return None
                if value not in ("+", "-") and parse_addr(value) is None:
                    ctx.error(node, f"VRRP is trying to assign invalid broadcast {value}. "
                              "skipping VIP...")
                    return None
                have_brd = True
                ip.brd = value
            elif word == "label":
                if len(value) >= IFNAMSIZ:
                    ctx.error(node, f"Address label {value} is longer than maximum length "
                              f"{IFNAMSIZ - 1} - removing address")
                    return None
                ip.label = value
            elif word == "peer":
                peer = parse_ip(value, allow_prefix=False) if "/" not in value else None
                if ip.peer is not None:
                    ctx.error(node, f"Peer {value} - another peer has already been specified")
                elif peer is None:
                    ctx.error(node, f"Invalid peer address {value}")
                elif peer.version != address.version:
                    ctx.error(node, f"Peer address {value} does not match address family")
                else:
                    if address.network.prefixlen != address.network.max_prefixlen:
                        ctx.error(node, "Cannot specify address prefix when specifying peer "
                                  "address - ignoring")
                    ip.peer = peer
            elif word == "preferred_lft":
                if value == "forever":
                    ip.preferred_lft = 0xFFFFFFFF
                else:
                    lft = ctx.read_number(node, value, 0, 0xFFFFFFFF, signed=False)
                    if lft is None:
                        ctx.error(node, f"preferred_lft {value} is invalid")
                    else:
                        ip.preferred_lft = lft
            else:  # track_group
                if ip.track_group is not None:
                    ctx.error(node, f"track_group {value} is a duplicate")
                    break
                if value not in ctx.config.track_groups:
                    ctx.error(node, f"track_group {value} not found")
                else:
                    ip.track_group = value
            continue
        if word == "home":
            ip.home = True
        elif word == "-nodad":
            ip.nodad = True
        elif word == "mngtmpaddr":
            ip.mngtmpaddr = True
        elif word == "noprefixroute":
            ip.noprefixroute = True
        elif word == "autojoin":
            ip.autojoin = True
        elif word == "no_track":
            ip.no_track = True
        elif word == "use_vmac" and not static:
            ip.use_vmac = True
        else:
            ctx.error(node, f"Unknown configuration entry '{word}' for ip address - ignoring")
        i += 1
    if have_brd and ip.peer is not None:
        ctx.error(node, "Cannot specify broadcast and peer addresses - ignoring broadcast "
                  "address")
        ip.brd = None
    elif ip.brd in ("+", "-") and address.network.prefixlen > 30:
        ctx.error(node, f"Address prefix length {address.network.prefixlen} too long for "
                  "broadcast")
    if static and ip.dev is None:
        default_if = ctx.config.global_defs.default_interface or "eth0"
        if not ctx.system.has_interface(default_if):
            ctx.error(node, f"Static address {tokens[0]} requires either an interface or "
                      "default interface must exist", Category.FATAL)
            return None
    if address.version == 6:
        if ip.scope is not None:
            ctx.error(node, f"Cannot specify scope for IPv6 addresses ({tokens[0]}) - ignoring "
                      "scope")
            ip.scope = None
        if ip.label is not None:
            ctx.error(node, f"Cannot specify label for IPv6 addresses ({tokens[0]}) - ignoring "
                      "label")
            ip.label = None
        if ip.preferred_lft is None:
            ip.preferred_lft = 0 if address.network.prefixlen == 128 else 0xFFFFFFFF
    if ip.track_group is not None and ip.dev is None:
        ctx.error(node, "Static route cannot have track_group if interface not specified")
        ip.track_group = None
    return ip


def _route_dst(text: str) -> IPNetwork | None:
    if text == "default":
        return ipaddress.ip_network("0.0.0.0/0")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def parse_route_line(ctx: Ctx, node: Node, *, static: bool) -> Route | None:
    """One line of virtual_routes / static_routes (keepalived's alloc_route())."""
    tokens = node.tokens
    route: Route | None = None
    fields: dict[str, Any] = {}
    options: dict[str, str] = {}
    nexthops: list[Nexthop] = []
    dst: IPNetwork | None = None
    dst_text = ""
    family: int | None = None
    no_track = False
    i = 0

    def mix(version: int) -> bool:
        nonlocal family
        if family is None:
            family = version
            return False
        if family != version:
            ctx.error(node, "Cannot mix IPv4 and IPv6 addresses for route")
            return True
        return False

    while i < len(tokens):
        word = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if word in ("inet", "inet6"):
            v = 6 if word == "inet6" else 4
            if family is not None and family != v:
                ctx.error(node, f"{word} specified for IPv{family} route")
            family = v
            i += 1
            continue
        if word in ("src", "via", "gw", "from", "dev", "oif", "table", "protocol", "scope",
                    "metric", "priority", "preference", "tos", "dsfield", "or", "vrf",
                    "track_group") or word in ROUTE_VALUE_OPTIONS:
            if nxt is None:
                ctx.arg(node, i + 1)
                return None
            if word in ("via", "gw"):
                if word == "gw":
                    ctx.warn(node, "\"gw\" for routes is deprecated. Please use \"via\"",
                             Category.GENERAL_ERROR)
                if nxt in ("inet", "inet6") and i + 2 < len(tokens):
                    i += 1
                    nxt = tokens[i + 1]
                addr = parse_addr(nxt)
                if addr is None:
                    ctx.error(node, f"invalid route via address {nxt}")
                    return None
                if mix(addr.version):
                    return None
                fields["via"] = addr
            elif word in ("src", "from"):
                addr = parse_addr(nxt.split("/")[0])
                if addr is None:
                    ctx.error(node, f"invalid route {word} address {nxt}")
                    return None
                if word == "from" and addr.version == 4:
                    ctx.error(node, f"route from address only supported with IPv6 ({nxt})")
                if mix(addr.version):
                    return None
                if word == "src":
                    fields["src"] = addr
                else:
                    options["from"] = nxt
            elif word in ("dev", "oif"):
                check_interface(ctx, node, nxt, "VROUTE nexthop")
                fields["dev"] = nxt
            elif word == "table":
                if not (is_decimal(nxt) or nxt in ctx.system_tables()):
                    ctx.error(node, f"Routing table {nxt} not found for route")
                    return None
                fields["table"] = nxt
            elif word in ("metric", "priority", "preference"):
                metric = ctx.read_number(node, nxt, 0, 0xFFFFFFFF, signed=False)
                if metric is None:
                    return None
                fields["metric"] = metric
            elif word == "scope":
                if nxt not in SCOPES and not is_decimal(nxt):
                    ctx.error(node, f"Scope {nxt} not found or invalid for route")
                    return None
                fields["scope"] = nxt
            elif word == "protocol":
                fields["protocol"] = nxt
            elif word in ("tos", "dsfield"):
                fields["tos"] = nxt
            elif word == "or":
                ctx.warn(node, "\"or\" for routes is deprecated. Please use \"nexthop\"")
                addr = parse_addr(nxt)
                if addr is None:
                    ctx.error(node, f"Invalid \"or\" address {nxt}")
                    return None
                via = fields.pop("via", None)
                nexthops.append(Nexthop(via=via if isinstance(via, (ipaddress.IPv4Address,
                                        ipaddress.IPv6Address)) else None))
                nexthops.append(Nexthop(via=addr))
            elif word == "track_group" and static:
                if nxt not in ctx.config.track_groups:
                    ctx.error(node, f"track_group {nxt} not found")
                else:
                    fields["track_group"] = nxt
            elif word == "track_group":
                ctx.error(node, f"unknown route keyword {word}")
                return None
            else:
                if word in ROUTE_METRIC_LOCK and nxt == "lock" and i + 2 < len(tokens):
                    i += 1
                    nxt = tokens[i + 1]
                    options[word + "_lock"] = ""
                if not _route_value_ok(ctx, node, word, nxt):
                    return None
                options[word] = nxt
            i += 2
            continue
        if word in ("onlink", "add", "prepend", "append"):
            options[word] = ""
            i += 1
            continue
        if word == "no_track":
            no_track = True
            i += 1
            continue
        if word == "nexthop":
            hops = _parse_nexthops(ctx, node, tokens[i:])
            if hops is None:
                return None
            nexthops.extend(hops)
            break
        if word == "encap":
            options["encap"] = " ".join(tokens[i + 1:i + 3])
            i += 3
            continue
        # the destination, optionally after "to" and a route type
        if word == "to":
            i += 1
            word = tokens[i] if i < len(tokens) else ""
        if word in ROUTE_TYPES:
            fields["type"] = word
            i += 1
            word = tokens[i] if i < len(tokens) else ""
        dst_text = word
        dst = _route_dst(word)
        if dst is None:
            ctx.error(node, f"unknown route keyword {word}")
            return None
        if mix(dst.version):
            return None
        i += 1
    if dst is None:
        ctx.error(node, "Route must have a destination")
        return None
    # every key of ``fields`` is a Route field of the same name
    route = Route(dst, location=Location(node.file, node.line), **fields)
    route.nexthops = nexthops
    route.options = options
    route.no_track = no_track
    if not no_track:
        if route.protocol is not None and route.protocol not in ("keepalived", "18"):
            ctx.error(node, "Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), "
                      "resetting protocol")
        route.protocol = "keepalived"
        if route.dev is None:
            ctx.warn(node, f"Warning - cannot track route {dst_text} with no interface "
                     "specified, not tracking (add 'dev IFNAME' or 'no_track')")
            route.no_track = True
    if route.track_group is not None and route.dev is None:
        ctx.error(node, "Static route cannot have track group if no oif specified")
        route.track_group = None
    return route


def _parse_nexthops(ctx: Ctx, node: Node, tokens: list[str]) -> list[Nexthop] | None:
    hops: list[Nexthop] = []
    i = 0
    while i < len(tokens):
        if tokens[i] != "nexthop":
            ctx.error(node, f"Route has trailing nonsense after nexthops - {tokens[i]}")
            return None
        hop = Nexthop()
        i += 1
        while i < len(tokens) and tokens[i] != "nexthop":
            word = tokens[i]
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if word == "onlink":
                hop.onlink = True
                i += 1
                continue
            if nxt is None:
                ctx.arg(node, len(node.tokens))
                return None
            if word == "via":
                if nxt in ("inet", "inet6") and i + 2 < len(tokens):
                    i += 1
                    nxt = tokens[i + 1]
                addr = parse_addr(nxt)
                if addr is None:
                    ctx.error(node, f"invalid nexthop address {nxt}")
                    return None
                hop.via = addr
            elif word == "dev":
                check_interface(ctx, node, nxt, "VROUTE nexthop")
                hop.dev = nxt
            elif word == "weight":
                w = ctx.read_number(node, nxt, 1, 256, signed=False)
                if w is None:
                    ctx.error(node, "Invalid weight specified for route")
                    return None
                hop.weight = w
            elif word == "realms":
                hop.realms = nxt
            elif word == "encap":
                hop.encap = tokens[i + 1:i + 3]
                i += 1
            else:
                ctx.error(node, f"Route has trailing nonsense after nexthops - {word}")
                return None
            i += 2
        hops.append(hop)
    return hops


_RULE_OPTIONS = frozenset(("from", "to", "table", "lookup", "preference", "order", "priority",
                           "dev", "iif", "oif", "goto", "type"))


def parse_rule_line(ctx: Ctx, node: Node, *, static: bool) -> Rule | None:
    """One line of virtual_rules / static_rules (keepalived's alloc_rule())."""
    tokens = node.tokens
    rule = Rule(location=Location(node.file, node.line))
    family: int | None = None
    actions = 0
    i = 0
    while i < len(tokens):
        word = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if word in ("inet", "inet6"):
            rule.inet6 = word == "inet6"
            i += 1
            continue
        if word in ("no_track", "l3mdev", "nop", "blackhole", "prohibit", "unreachable"):
            if word == "no_track":
                rule.no_track = True
            elif word == "l3mdev":
                rule.options["l3mdev"] = ""
                actions += 1
            else:
                rule.action = word
                actions += 1
            i += 1
            continue
        if word not in _RULE_OPTIONS and word not in RULE_VALUE_OPTIONS and not (
                word == "track_group" and static):
            # keepalived names an unknown word before it looks for a value after it
            ctx.error(node, f"Unknown rule option {word}")
            return None
        if nxt is None:
            ctx.arg(node, i + 1)
            return None
        if word in ("from", "to"):
            net = None if nxt == "all" else _rule_net(nxt)
            if net is None and nxt != "all":
                ctx.error(node, f"VRRP parsed invalid IP {nxt}. skipping IP...")
                ctx.error(node, f"Invalid rule {word} address {nxt}")
                return None
            if net is not None:
                if family is not None and family != net.version:
                    ctx.error(node, "rule specification has mixed IPv4 and IPv6")
                    return None
                family = net.version
                if word == "from":
                    rule.from_ = net
                else:
                    rule.to = net
        elif word in ("table", "lookup"):
            if not (is_decimal(nxt) or nxt in ctx.system_tables()):
                ctx.error(node, f"Routing table {nxt} not found for rule")
                return None
            if nxt == "0":
                ctx.error(node, "Table 0 is not valid")
                return None
            rule.table = nxt
            actions += 1
        elif word in ("preference", "order", "priority"):
            pref = ctx.read_number(node, nxt, 0, 0xFFFFFFFF, signed=False)
            if pref is None:
                ctx.error(node, f"Invalid rule preference {nxt} specified")
                return None
            rule.preference = pref
        elif word in ("dev", "iif", "oif"):
            check_interface(ctx, node, nxt, "rule")
            rule.options["oif" if word == "oif" else "iif"] = nxt
        elif word == "goto":
            rule.action = "goto"
            rule.options["goto"] = nxt
            actions += 1
        elif word == "type":
            rule.action = nxt
            actions += 1
        elif word == "track_group" and static:
            if nxt not in ctx.config.track_groups:
                ctx.error(node, f"track_group {nxt} not found")
            else:
                rule.track_group = nxt
        elif word in RULE_VALUE_OPTIONS:
            rule.options[word] = nxt
        else:
            ctx.error(node, f"Unknown rule option {word}")
            return None
        i += 2
    if actions > 1:
        ctx.error(node, "Cannot specify more than one of table/nop/goto/blackhole/prohibit/"
                  "unreachable/l3mdev for rule")
    if actions == 0:
        ctx.error(node, "No action specified for rule - ignoring")
        return None
    if not rule.no_track and "protocol" in rule.options and \
            rule.options["protocol"] not in ("keepalived", "18"):
        ctx.error(node, "Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), "
                  "resetting protocol")
    if rule.track_group is not None and "iif" not in rule.options:
        ctx.error(node, "Static rule cannot have track_group if dev/iif not specified")
        rule.track_group = None
    if rule.preference is None:
        ctx.warn(node, "Rule has no preference specified - keepalived assigns one, which is "
                 "probably not what you want (add 'preference N')")
    return rule


def _rule_net(text: str) -> IPNetwork | None:
    addr = text.split("/")[0]
    if parse_ip(addr, allow_prefix=False) is None:
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
