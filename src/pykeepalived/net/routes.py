"""virtual_routes / virtual_rules entries: typed specs and parsers of keepalived's word forms.

keepalived.conf(5): "For virtual_ipaddress, virtual_ipaddress_excluded, virtual_routes and
virtual_rules most of the options match the options of the command ip address/route/rule
add." So the parsers here follow ip-route(8) and ip-rule(8) for the options a VRRP router
uses, plus keepalived's own ``or`` (a second gateway: a multipath route), ``no_track`` and
``track_group`` (which the kernel never sees and are skipped here).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pykeepalived.net import _netlink as nl
from pykeepalived.net import interfaces

ROUTE_TYPES = ("unicast", "blackhole", "unreachable", "prohibit", "throw", "local",
               "broadcast", "multicast", "anycast", "nat")
RULE_ACTIONS = ("blackhole", "unreachable", "prohibit", "nop")
NAMED_TABLES = {"main": 254, "local": 255, "default": 253}
RTNH_F_ONLINK = 4
RTPROT_BOOT = 3
RTPROTOS = {"kernel": 2, "boot": 3, "static": 4, "ra": 9, "dhcp": 16, "keepalived": 18}


def _table(word: str) -> int:
    if word in NAMED_TABLES:
        return NAMED_TABLES[word]
    try:
        return int(word)
    except ValueError:
        raise ValueError(f"table must be a number or main/local/default, not {word!r}") from None


def _need(words: Sequence[str], i: int) -> str:
    if i + 1 >= len(words):
        raise ValueError(f"{words[i]!r} needs a value")
    return words[i + 1]


def _prefix(word: str) -> str:
    if word == "default":
        return word
    return str(ipaddress.ip_network(word, strict=False))


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """One route (ip-route(8) terms). ``dst`` is a prefix or ``default``; ``via`` may hold
    several gateways (keepalived's ``or``), making a multipath route."""

    dst: str
    via: tuple[str, ...] = ()
    dev: str | None = None
    src: str | None = None
    scope: str | None = None
    table: int | None = None
    metric: int | None = None
    type: str = "unicast"
    protocol: int | None = None
    onlink: bool = False
    mtu: int | None = None
    family: int = 4

    def pyroute2_args(self) -> dict[str, Any]:
        """Keyword arguments for ``IPRoute.route(command, **args)``."""
        af = socket.AF_INET if self.family == 4 else socket.AF_INET6
        args: dict[str, Any] = {"family": af, "type": self.type}
        if self.dst == "default":
            args["dst"] = "0.0.0.0/0" if self.family == 4 else "::/0"
        else:
            args["dst"] = self.dst
        oif = None
        if self.dev is not None:
            oif = interfaces.ifindex(self.dev)
            if oif is None:
                raise ValueError(f"route {self.dst}: no interface {self.dev}")
            args["oif"] = oif
        if len(self.via) == 1:
            args["gateway"] = self.via[0]
        elif len(self.via) > 1:
            hops: list[dict[str, Any]] = []
            for gw in self.via:
                hop: dict[str, Any] = {"gateway": gw}
                if oif is not None:
                    hop["oif"] = oif
                hops.append(hop)
            args["multipath"] = hops
            args.pop("oif", None)
        if self.src:
            args["prefsrc"] = self.src
        if self.scope is not None:
            args["scope"] = nl.scope_number(self.scope)
        if self.table is not None:
            args["table"] = self.table
        if self.metric is not None:
            args["priority"] = self.metric
        args["proto"] = self.protocol if self.protocol is not None else RTPROT_BOOT
        if self.onlink:
            args["flags"] = RTNH_F_ONLINK
        if self.mtu is not None:
            args["metrics"] = {"mtu": self.mtu}
        return args

    def __str__(self) -> str:
        parts = [self.dst if self.type == "unicast" else f"{self.type} {self.dst}"]
        if self.src:
            parts.insert(0, f"src {self.src}")
        for i, gw in enumerate(self.via):
            parts.append(f"{'via' if i == 0 else 'or'} {gw}")
        for name in ("dev", "scope", "table", "metric"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name} {value}")
        return " ".join(parts)


def route_from_words(words: Sequence[str]) -> RouteSpec:
    """A RouteSpec from one virtual_routes / static_routes line split into words, e.g.
    ``src 192.0.2.1 to 198.51.100.0/24 via 192.0.2.254 dev eth1 table 100`` or
    ``blackhole 203.0.113.0/24``."""
    fields: dict[str, Any] = {}
    via: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "src":
            fields["src"] = str(ipaddress.ip_address(_need(words, i)))
            i += 2
        elif word == "to":
            fields["dst"] = _prefix(_need(words, i))
            i += 2
        elif word in ("via", "gw", "or"):
            via.append(str(ipaddress.ip_address(_need(words, i))))
            i += 2
        elif word == "dev" or word == "oif":
            fields["dev"] = _need(words, i)
            i += 2
        elif word == "scope":
            fields["scope"] = _need(words, i)
            nl.scope_number(fields["scope"])
            i += 2
        elif word == "table":
            fields["table"] = _table(_need(words, i))
            i += 2
        elif word in ("metric", "preference", "priority"):
            fields["metric"] = int(_need(words, i))
            i += 2
        elif word in ("protocol", "proto"):
            value = _need(words, i)
            fields["protocol"] = RTPROTOS[value] if value in RTPROTOS else int(value)
            i += 2
        elif word == "mtu":
            fields["mtu"] = int(_need(words, i))
            i += 2
        elif word == "onlink":
            fields["onlink"] = True
            i += 1
        elif word in ROUTE_TYPES:
            fields["type"] = word
            i += 1
        elif word == "no_track":
            i += 1
        elif word == "track_group":
            i += 2
        elif "dst" not in fields:
            fields["dst"] = _prefix(word)
            i += 1
        else:
            raise ValueError(f"unknown virtual_routes option {word!r}")
    if "dst" not in fields:
        raise ValueError("a route needs a destination prefix (or 'default')")
    fields["via"] = tuple(via)
    addresses = [fields["dst"], fields.get("src"), *via]
    family = 4
    for a in addresses:
        if a and a != "default":
            family = ipaddress.ip_network(a, strict=False).version
            break
    fields["family"] = family
    return RouteSpec(**fields)


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One policy routing rule (ip-rule(8) terms). ``from_``/``to`` are prefixes (None is
    ``all``); ``action`` is ``table`` (lookup), ``goto`` or one of blackhole/unreachable/
    prohibit/nop."""

    from_: str | None = None
    to: str | None = None
    table: int | None = None
    priority: int | None = None
    iif: str | None = None
    oif: str | None = None
    fwmark: int | None = None
    fwmask: int | None = None
    tos: int | None = None
    action: str = "table"
    goto: int | None = None
    invert: bool = False
    family: int = 4
    extra: tuple[tuple[str, str], ...] = field(default=())

    def pyroute2_args(self) -> dict[str, Any]:
        """Keyword arguments for ``IPRoute.rule(command, **args)``."""
        af = socket.AF_INET if self.family == 4 else socket.AF_INET6
        args: dict[str, Any] = {"family": af}
        for name, key in (("from_", "src"), ("to", "dst")):
            value = getattr(self, name)
            if value is not None:
                net = ipaddress.ip_network(value, strict=False)
                args[key] = str(net.network_address)
                args[f"{key}_len"] = net.prefixlen
        if self.table is not None:
            args["table"] = self.table
        if self.priority is not None:
            args["priority"] = self.priority
        if self.iif:
            args["iifname"] = self.iif
        if self.oif:
            args["oifname"] = self.oif
        if self.fwmark is not None:
            args["fwmark"] = self.fwmark
            if self.fwmask is not None:
                args["fwmask"] = self.fwmask
        if self.tos is not None:
            args["tos"] = self.tos
        if self.action == "goto":
            args["action"] = "goto"
            args["goto"] = self.goto
        elif self.action != "table":
            args["action"] = self.action
        if self.invert:
            args["flags"] = 2  # FIB_RULE_INVERT
        return args

    def __str__(self) -> str:
        parts = []
        if self.invert:
            parts.append("not")
        parts.append(f"from {self.from_ or 'all'}")
        if self.to:
            parts.append(f"to {self.to}")
        for name in ("iif", "oif", "fwmark", "tos", "priority"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name} {value}")
        if self.action == "table":
            parts.append(f"table {self.table}")
        elif self.action == "goto":
            parts.append(f"goto {self.goto}")
        else:
            parts.append(self.action)
        return " ".join(parts)


def rule_from_words(words: Sequence[str]) -> RuleSpec:
    """A RuleSpec from one virtual_rules / static_rules line split into words, e.g.
    ``from 192.0.2.0/24 table 1`` or ``to 198.51.100.7 priority 100 table 2``."""
    fields: dict[str, Any] = {}
    i = 0
    family: int | None = None
    while i < len(words):
        word = words[i]
        if word in ("from", "to"):
            value = _need(words, i)
            if value != "all":
                net = ipaddress.ip_network(value, strict=False)
                family = net.version
                fields["from_" if word == "from" else "to"] = str(net)
            i += 2
        elif word in ("table", "lookup"):
            fields["table"] = _table(_need(words, i))
            i += 2
        elif word in ("priority", "preference", "pref", "order"):
            fields["priority"] = int(_need(words, i))
            i += 2
        elif word in ("iif", "dev"):
            fields["iif"] = _need(words, i)
            i += 2
        elif word == "oif":
            fields["oif"] = _need(words, i)
            i += 2
        elif word == "fwmark":
            mark, _, mask = _need(words, i).partition("/")
            fields["fwmark"] = int(mark, 0)
            if mask:
                fields["fwmask"] = int(mask, 0)
            i += 2
        elif word in ("tos", "dsfield"):
            fields["tos"] = int(_need(words, i), 0)
            i += 2
        elif word == "goto":
            fields["action"] = "goto"
            fields["goto"] = int(_need(words, i))
            i += 2
        elif word in RULE_ACTIONS:
            fields["action"] = word
            i += 1
        elif word == "not":
            fields["invert"] = True
            i += 1
        elif word in ("inet", "-4"):
            family = 4
            i += 1
        elif word in ("inet6", "-6"):
            family = 6
            i += 1
        elif word == "no_track":
            i += 1
        elif word == "track_group":
            i += 2
        else:
            raise ValueError(f"unknown virtual_rules option {word!r}")
    if fields.get("action", "table") == "table" and "table" not in fields:
        raise ValueError("a rule needs 'table N' (or goto/blackhole/unreachable/prohibit)")
    fields["family"] = family or 4
    return RuleSpec(**fields)
