"""Pieces of the typed model shared by several sections: locations, scripts, addresses, routes.

Attribute names are keepalived's keywords (``man 5 keepalived.conf``) so that a reader who
knows keepalived finds everything; defaults are keepalived's defaults.
"""

from __future__ import annotations

import ipaddress
from dataclasses import field

from pykeepalived.config.model_base import model

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@model(frozen=True)
class Location:
    """Where something was written: the file and the 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


NOWHERE = Location("<none>", 0)


@model
class KeywordUse:
    """Where a keyword of one section was first written, and how often in all.

    The parser records every keyword it runs, so that the daemon can say which of them it
    does not act on (``config.support``) without reading the configuration again.
    """

    first: Location
    count: int = 1


@model
class ScriptUser:
    """``[username [groupname]]`` after a script: who the script runs as (None = default)."""

    user: str
    group: str | None = None


@model
class NotifyScript:
    """A script with its parameters and the user it runs as.

    ``command`` is the command line as written (quotes removed); ``argv`` is how keepalived
    splits it into arguments: unquoted spaces separate, single quotes keep spaces.
    """

    command: str
    argv: list[str] = field(default_factory=list)
    user: ScriptUser | None = None
    location: Location = NOWHERE


@model
class IpAddress:
    """One entry of virtual_ipaddress / virtual_ipaddress_excluded / static_ipaddress.

    ``address`` carries the prefix: /32 (IPv4) or /128 (IPv6) when none is written.
    ``brd`` is an address, or "+"/"-" (set/clear host bits) as keepalived allows.
    """

    address: IPInterface
    brd: str | None = None
    dev: str | None = None
    scope: str | None = None
    label: str | None = None
    peer: IPInterface | None = None
    home: bool = False
    nodad: bool = False
    mngtmpaddr: bool = False
    noprefixroute: bool = False
    autojoin: bool = False
    no_track: bool = False
    use_vmac: bool = False
    preferred_lft: int | None = None  # None = kernel default; 0 deprecates
    track_group: str | None = None
    location: Location = NOWHERE

    @property
    def family(self) -> int:
        return self.address.version


# A VIP is an IpAddress; the name the engines use.
VirtualIpAddress = IpAddress


@model
class Nexthop:
    """One ``nexthop`` of a multipath route."""

    via: IPAddress | None = None
    dev: str | None = None
    weight: int | None = None
    onlink: bool = False
    realms: str | None = None
    encap: list[str] = field(default_factory=list)


@model
class Route:
    """One entry of virtual_routes / static_routes: ``ip route add`` syntax.

    Options keepalived passes straight to the kernel without interpreting them are kept in
    ``options`` (keyword -> value, value "" for flags) so that nothing written is lost.
    """

    dst: IPNetwork
    type: str | None = None  # unicast (default), blackhole, unreachable, prohibit, ...
    src: IPAddress | None = None
    via: IPAddress | None = None
    dev: str | None = None
    table: str | None = None
    metric: int | None = None
    scope: str | None = None
    protocol: str | None = None
    tos: str | None = None
    nexthops: list[Nexthop] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    no_track: bool = False
    track_group: str | None = None
    location: Location = field(default=NOWHERE, compare=False)

    @property
    def family(self) -> int:
        return self.dst.version


@model
class Rule:
    """One entry of virtual_rules / static_rules: ``ip rule add`` syntax."""

    from_: IPNetwork | None = None
    to: IPNetwork | None = None
    table: str | None = None
    preference: int | None = None
    action: str | None = None  # goto, blackhole, unreachable, prohibit, nop
    options: dict[str, str] = field(default_factory=dict)
    inet6: bool = False
    no_track: bool = False
    track_group: str | None = None
    location: Location = field(default=NOWHERE, compare=False)

    @property
    def family(self) -> int:
        for net in (self.from_, self.to):
            if net is not None:
                return net.version
        return 6 if self.inet6 else 4
