"""virtual_routes / virtual_rules as the kernel takes them (pyroute2's route/rule arguments).

The configuration parser (``pykeepalived.config.addresses``) reads each line once into a
:class:`~pykeepalived.config.model_common.Route` or ``Rule``; this module only translates those
into netlink terms: table and protocol names into numbers (iproute2's files), prefixes into
address and length, keepalived's ``or`` / ``nexthop`` lists into a multipath route, the
``ip route`` metrics into RTAX attributes. An option the kernel interface here cannot express is
named by :func:`route_unsupported` / :func:`rule_unsupported`, so the daemon can say so once
instead of dropping it without a word.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from functools import cache
from typing import Any

from pykeepalived.config.model_common import Route, Rule
from pykeepalived.net import _netlink as nl
from pykeepalived.net import interfaces

NAMED_TABLES = {"unspec": 0, "default": 253, "main": 254, "local": 255}
RTPROTOS = {"unspec": 0, "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "ra": 9,
            "dhcp": 16, "keepalived": 18}
RTNH_F_ONLINK = 4
RTPROT_BOOT = 3
FIB_RULE_INVERT = 2
# ``ip route`` metrics with a numeric value, by their RTAX name in pyroute2
ROUTE_METRICS = ("mtu", "hoplimit", "advmss", "rtt", "rttvar", "reordering", "window", "cwnd",
                 "ssthresh", "rto_min", "initcwnd", "initrwnd", "quickack",
                 "fastopen_no_cookie")
_ROUTE_FLAGS = ("add", "prepend", "append")  # how keepalived adds; the kernel's default here
_RT_TABLES = ("/etc/iproute2/rt_tables", "/usr/share/iproute2/rt_tables")
_RT_TABLES_D = ("/etc/iproute2/rt_tables.d", "/usr/share/iproute2/rt_tables.d")


@cache
def route_table_ids() -> dict[str, int]:
    """Routing table names and numbers: the built-in ones and iproute2's rt_tables(.d)."""
    ids = dict(NAMED_TABLES)
    files = list(_RT_TABLES)
    for directory in _RT_TABLES_D:
        if os.path.isdir(directory):
            files += [os.path.join(directory, f) for f in sorted(os.listdir(directory))
                      if f.endswith(".conf")]
    for path in files:
        try:
            with open(path) as fh:
                for line in fh:
                    parts = line.split("#", 1)[0].split()
                    if len(parts) >= 2 and parts[0].isdigit():
                        ids.setdefault(parts[1], int(parts[0]))
        except OSError:
            continue
    return ids


def table_id(name: str) -> int:
    if name.isdigit():
        return int(name)
    try:
        return route_table_ids()[name]
    except KeyError:
        raise ValueError(f"no routing table {name!r}") from None


def _ifindex(name: str, what: str) -> int:
    index = interfaces.ifindex(name)
    if index is None:
        raise ValueError(f"{what}: no interface {name}")
    return index


def route_args(route: Route) -> dict[str, Any]:
    """Keyword arguments for ``IPRoute.route(command, **args)``."""
    family = route.family
    args: dict[str, Any] = {"family": socket.AF_INET if family == 4 else socket.AF_INET6,
                            "type": route.type or "unicast", "dst": str(route.dst)}
    oif = _ifindex(route.dev, f"route {route.dst}") if route.dev is not None else None
    if oif is not None:
        args["oif"] = oif
    if route.via is not None:
        args["gateway"] = str(route.via)
    if route.nexthops:
        hops = []
        for hop in route.nexthops:
            entry: dict[str, Any] = {}
            if hop.via is not None:
                entry["gateway"] = str(hop.via)
            dev = hop.dev or route.dev
            if dev is not None:
                entry["oif"] = _ifindex(dev, f"route {route.dst}")
            if hop.weight is not None:
                entry["hops"] = hop.weight - 1  # rtnh_hops is weight - 1, as ip-route(8)
            if hop.onlink:
                entry["flags"] = RTNH_F_ONLINK
            hops.append(entry)
        args["multipath"] = hops
        args.pop("oif", None)
        args.pop("gateway", None)
    if route.src is not None:
        args["prefsrc"] = str(route.src)
    if "from" in route.options:
        source = ipaddress.ip_network(route.options["from"], strict=False)
        args["src"], args["src_len"] = str(source.network_address), source.prefixlen
    if route.scope is not None:
        args["scope"] = nl.scope_number(route.scope)
    if route.table is not None:
        args["table"] = table_id(route.table)
    if route.metric is not None:
        args["priority"] = route.metric
    if route.protocol is not None:
        args["proto"] = (RTPROTOS[route.protocol] if route.protocol in RTPROTOS
                         else int(route.protocol))
    else:
        args["proto"] = RTPROT_BOOT
    if route.tos is not None:
        args["tos"] = int(route.tos, 0)
    if "onlink" in route.options:
        args["flags"] = RTNH_F_ONLINK
    metrics = {name: int(route.options[name]) for name in ROUTE_METRICS
               if name in route.options and route.options[name].isdigit()}
    if metrics:
        args["metrics"] = metrics
    return args


def route_unsupported(route: Route) -> list[str]:
    """Options of ``route`` that :func:`route_args` does not give the kernel."""
    known = {*ROUTE_METRICS, *_ROUTE_FLAGS, "from", "onlink"}
    out = [name for name in route.options if name not in known and not name.endswith("_lock")]
    out += [name for name in ROUTE_METRICS
            if name in route.options and not route.options[name].isdigit()]
    out += [f"{name}_lock" for name in ROUTE_METRICS if f"{name}_lock" in route.options]
    if any(hop.realms or hop.encap for hop in route.nexthops):
        out.append("nexthop realms/encap")
    return out


def rule_args(rule: Rule) -> dict[str, Any]:
    """Keyword arguments for ``IPRoute.rule(command, **args)``."""
    args: dict[str, Any] = {"family": socket.AF_INET if rule.family == 4 else socket.AF_INET6}
    for net, key in ((rule.from_, "src"), (rule.to, "dst")):
        if net is not None:
            args[key] = str(net.network_address)
            args[f"{key}_len"] = net.prefixlen
    if rule.table is not None:
        args["table"] = table_id(rule.table)
    if rule.preference is not None:
        args["priority"] = rule.preference
    options = rule.options
    if "iif" in options:
        args["iifname"] = options["iif"]
    if "oif" in options:
        args["oifname"] = options["oif"]
    if "fwmark" in options:
        mark, _, mask = options["fwmark"].partition("/")
        args["fwmark"] = int(mark, 0)
        if mask:
            args["fwmask"] = int(mask, 0)
    for key in ("tos", "dsfield"):
        if key in options:
            args["tos"] = int(options[key], 0)
    for key in ("suppress_prefixlength", "sup_pl"):
        if key in options:
            args["suppress_prefixlen"] = int(options[key], 0)
    if "protocol" in options:
        value = options["protocol"]
        args["protocol"] = RTPROTOS[value] if value in RTPROTOS else int(value)
    if rule.action == "goto":
        args["action"] = "goto"
        args["goto"] = int(options["goto"])
    elif rule.action is not None:
        args["action"] = rule.action
    return args


def rule_unsupported(rule: Rule) -> list[str]:
    """Options of ``rule`` that :func:`rule_args` does not give the kernel."""
    known = {"iif", "oif", "fwmark", "tos", "dsfield", "suppress_prefixlength", "sup_pl",
             "protocol", "goto"}
    return [name for name in rule.options if name not in known]


def describe(entry: Route | Rule) -> str:
    """A route or rule in ``ip`` words, for log lines."""
    if isinstance(entry, Route):
        parts = [str(entry.dst) if entry.type in (None, "unicast")
                 else f"{entry.type} {entry.dst}"]
        if entry.via is not None:
            parts.append(f"via {entry.via}")
        parts += [f"{k} {v}" for k, v in (("dev", entry.dev), ("table", entry.table),
                                          ("metric", entry.metric)) if v is not None]
        return " ".join(parts)
    parts = [f"from {entry.from_ or 'all'}"]
    if entry.to is not None:
        parts.append(f"to {entry.to}")
    if entry.preference is not None:
        parts.append(f"priority {entry.preference}")
    parts.append(f"table {entry.table}" if entry.table is not None else entry.action or "")
    return " ".join(p for p in parts if p)


def unsupported(entries: Iterable[Route | Rule]) -> list[str]:
    """Every option of ``entries`` that is not passed to the kernel, once each."""
    seen: dict[str, None] = {}
    for entry in entries:
        names = route_unsupported(entry) if isinstance(entry, Route) else rule_unsupported(entry)
        for name in names:
            seen[name] = None
    return list(seen)
