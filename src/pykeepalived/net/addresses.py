"""Virtual IP addresses (virtual_ipaddress, virtual_ipaddress_excluded) through rtnetlink.

A MASTER adds its VIPs, a BACKUP or FAULT removes them (RFC 5798 6.4.3 / 6.4.2). With many
VIPs (keepalived's man page suggests virtual_ipaddress_excluded for "large numbers (eg 200)"),
the time from "Entering MASTER STATE" to the last VIP being up matters: ``add_many`` sends
the RTM_NEWADDR requests in batches and reads the acks afterwards, instead of one round trip
per address.

Everything is idempotent the way keepalived is: adding an address that is there, or deleting
one that is not, is logged at debug level and is not an error.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pykeepalived.config.model_common import Route, Rule
from pykeepalived.net import _netlink as nl
from pykeepalived.net import interfaces
from pykeepalived.net.iproute import IPRouteThread
from pykeepalived.net.routes import describe, route_args, rule_args

log = logging.getLogger(__name__)

__all__ = ["AddressError", "AddressManager", "VipSpec"]


class AddressError(OSError):
    """One or more address operations failed; ``failures`` lists (spec, errno, message)."""

    def __init__(self, message: str, failures: Sequence[tuple[object, int, str]] = ()) -> None:
        super().__init__(message)
        self.failures = list(failures)


@dataclass(frozen=True, slots=True)
class VipSpec:
    """One virtual address as keepalived.conf gives it (man keepalived.conf,
    virtual_ipaddress: ``<IPADDR>[/<MASK>] [brd <IPADDR>] [dev <STRING>] [scope <SCOPE>]
    [label <LABEL>] [peer <IPADDR>] [home] [-nodad] [mngtmpaddr] [noprefixroute]
    [autojoin] [preferred_lft nn|forever]``).

    ``address`` is a CIDR; without a mask it is a host address (/32, /128), as in keepalived.
    ``brd`` may be ``+`` (computed from the prefix, like ``ip addr add ... brd +``).
    ``preferred_lft`` None means keepalived's default: 0 (deprecated, never chosen as a
    source) for an IPv6 /128, forever otherwise.
    """

    address: str
    dev: str
    brd: str | None = None
    scope: str | None = None
    label: str | None = None
    nodad: bool = True
    peer: str | None = None
    home: bool = False
    mngtmpaddr: bool = False
    noprefixroute: bool = False
    autojoin: bool = False
    preferred_lft: int | None = None

    @property
    def interface(self) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
        return ipaddress.ip_interface(self.address)

    @property
    def ip(self) -> str:
        """The address without its prefix length."""
        return str(self.interface.ip)

    @property
    def family(self) -> int:
        return self.interface.version


def _broadcast(spec: VipSpec) -> bytes | None:
    if spec.family != 4 or spec.brd is None or spec.brd == "-":
        return None
    if spec.brd == "+":
        net = ipaddress.IPv4Interface(spec.address).network
        if net.prefixlen >= 31:
            return None
        return net.broadcast_address.packed
    return ipaddress.IPv4Address(spec.brd).packed


#: (spec, ifindex) -> the requests that add and delete it. A plain dict: functools.lru_cache
#: keeps a key list and a link per entry, about twice what the requests themselves take
#: (1,000 VIPs: 0.4 MiB of the VRRP process).
_ENCODED: dict[tuple[VipSpec, int], tuple[bytes, bytes]] = {}
_ENCODED_MAX = 8192


def _encoded(spec: VipSpec, index: int, delete: bool) -> bytes:
    # A MASTER/BACKUP flap re-sends the same requests: encode each once.
    key = (spec, index)
    both = _ENCODED.get(key)
    if both is None:
        if len(_ENCODED) >= _ENCODED_MAX:  # a bound, as the cache it replaces had
            _ENCODED.clear()
        both = _ENCODED[key] = (encode_addr(spec, index), encode_addr(spec, index, delete=True))
    return both[1] if delete else both[0]


def encode_addr(spec: VipSpec, index: int, *, delete: bool = False) -> bytes:
    """The ifaddrmsg body (with attributes) that adds or deletes ``spec`` on ``index``."""
    iface = spec.interface
    af = socket.AF_INET if iface.version == 4 else socket.AF_INET6
    flags = 0
    if iface.version == 6 and spec.nodad:
        flags |= nl.IFA_F_NODAD
    if spec.home:
        flags |= nl.IFA_F_HOMEADDRESS
    if spec.mngtmpaddr:
        flags |= nl.IFA_F_MANAGETEMPADDR
    if spec.noprefixroute:
        flags |= nl.IFA_F_NOPREFIXROUTE
    if spec.autojoin:
        flags |= nl.IFA_F_MCAUTOJOIN
    local = iface.ip.packed
    peer = ipaddress.ip_address(spec.peer).packed if spec.peer else local
    body = nl.ifaddrmsg(af, iface.network.prefixlen, flags, nl.scope_number(spec.scope), index)
    body += nl.attr(nl.IFA_LOCAL, local) + nl.attr(nl.IFA_ADDRESS, peer)
    if delete:
        return body
    brd = _broadcast(spec)
    if brd is not None:
        body += nl.attr(nl.IFA_BROADCAST, brd)
    if spec.label and iface.version == 4:
        body += nl.attr(nl.IFA_LABEL, spec.label.encode() + b"\0")
    if flags > 0xFF:
        body += nl.attr(nl.IFA_FLAGS, flags.to_bytes(4, "little"))
    preferred = spec.preferred_lft
    if preferred is None and iface.version == 6 and iface.network.prefixlen == 128:
        preferred = 0
    if preferred is not None and preferred != nl.INFINITY_LIFE_TIME:
        body += nl.attr(nl.IFA_CACHEINFO, nl.cacheinfo(preferred, nl.INFINITY_LIFE_TIME))
    return body


class AddressManager:
    """Adds and removes VIPs, virtual routes and virtual rules in this network namespace.

    Addresses go through a raw rtnetlink socket (batched, see ``add_many``); routes and rules
    through one pyroute2 ``IPRoute`` kept in a worker thread (``self.iproute``, see
    :mod:`pykeepalived.net.iproute`: pyroute2 cannot run in the daemon's event loop thread).
    """

    def __init__(self) -> None:
        self._rtnl = nl.RtnlSocket(rcvbuf=1 << 20)
        self.iproute = IPRouteThread()

    def close(self) -> None:
        self._rtnl.close()
        self.iproute.close()

    def __enter__(self) -> AddressManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ addresses
    def add(self, spec: VipSpec) -> None:
        self.add_many([spec])

    def remove(self, spec: VipSpec) -> None:
        self.remove_many([spec])

    def add_many(self, specs: Iterable[VipSpec]) -> None:
        """Add every VIP (one batch of RTM_NEWADDR); raise AddressError after trying all."""
        self._apply(list(specs), delete=False)

    def remove_many(self, specs: Iterable[VipSpec]) -> None:
        """Remove every VIP (one batch of RTM_DELADDR); absent ones are not an error."""
        self._apply(list(specs), delete=True)

    def _apply(self, specs: list[VipSpec], *, delete: bool) -> None:
        if not specs:
            return
        requests: list[tuple[int, int, bytes]] = []
        sent: list[VipSpec] = []
        failures: list[tuple[object, int, str]] = []
        indexes: dict[str, int | None] = {}  # one lookup per interface, not per address
        for spec in specs:
            index = indexes.get(spec.dev, -1)
            if index == -1:
                index = indexes[spec.dev] = interfaces.ifindex(spec.dev)
            if index is None:
                if delete:
                    log.debug("VIP %s: %s is gone, nothing to remove", spec.address, spec.dev)
                else:
                    failures.append((spec, errno.ENODEV, f"no interface {spec.dev}"))
                continue
            if delete:
                requests.append((nl.RTM_DELADDR, 0, _encoded(spec, index, True)))
            else:
                requests.append((nl.RTM_NEWADDR, nl.NLM_F_CREATE | nl.NLM_F_EXCL,
                                 _encoded(spec, index, False)))
            sent.append(spec)
        results = self._rtnl.transact(requests) if requests else []
        for spec, code in zip(sent, results, strict=True):
            if code == 0:
                log.debug("%s VIP %s on %s", "removed" if delete else "added",
                          spec.address, spec.dev)
            elif not delete and code == errno.EEXIST:
                log.debug("VIP %s already on %s", spec.address, spec.dev)
            elif delete and code in (errno.EADDRNOTAVAIL, errno.ENOENT, errno.ENODEV,
                                     errno.ESRCH):
                log.debug("VIP %s was not on %s", spec.address, spec.dev)
            else:
                failures.append((spec, code, os.strerror(code)))
        if failures:
            # a failed removal is said here; a failed addition by the caller, who knows the
            # instance and says it once (daemon.kernel.VipBatch)
            for failed, _code, text in failures:
                log.log(logging.ERROR if delete else logging.DEBUG, "cannot %s VIP %s on %s: %s",
                        "remove" if delete else "add", getattr(failed, "address", failed),
                        getattr(failed, "dev", "?"), text)
            raise AddressError(f"{len(failures)} of {len(specs)} VIP "
                               f"{'removals' if delete else 'additions'} failed", failures)

    def warm(self, specs: Iterable[VipSpec]) -> None:
        """Encode the add and delete requests for ``specs`` now, ahead of a transition.

        A thousand instances becoming MASTER together should spend their time in the
        kernel, not parsing addresses: the requests are cached per (spec, ifindex).
        """
        for spec in specs:
            index = interfaces.ifindex(spec.dev)
            if index is not None:
                _encoded(spec, index, False)
                _encoded(spec, index, True)

    def present(self, spec: VipSpec) -> bool:
        """True when the address (with its prefix length) is on ``spec.dev``."""
        return self.present_many([spec])[0]

    def present_many(self, specs: Sequence[VipSpec]) -> list[bool]:
        """``present`` for many VIPs with one address dump per interface and family."""
        dumps: dict[tuple[int, int], set[tuple[str, int]]] = {}
        result = []
        for spec in specs:
            index = interfaces.ifindex(spec.dev)
            if index is None:
                result.append(False)
                continue
            want = spec.interface
            af = socket.AF_INET if want.version == 4 else socket.AF_INET6
            key = (index, af)
            if key not in dumps:
                dumps[key] = {(a.address, a.prefixlen)
                              for a in nl.dump_addrs(self._rtnl, af, index)}
            result.append((str(want.ip), want.network.prefixlen) in dumps[key])
        return result

    # ------------------------------------------------------------------ routes and rules
    def add_route(self, route: Route) -> None:
        self._pyroute2("route", "add", route)

    def remove_route(self, route: Route) -> None:
        self._pyroute2("route", "del", route)

    def add_rule(self, rule: Rule) -> None:
        self._pyroute2("rule", "add", rule)

    def remove_rule(self, rule: Rule) -> None:
        self._pyroute2("rule", "del", rule)

    def _pyroute2(self, kind: str, command: str, entry: Route | Rule) -> None:
        """``IPRoute.route`` / ``IPRoute.rule``; adding what is there or removing what is not
        is no error (idempotent, like the addresses)."""
        from pyroute2 import NetlinkError

        spec = describe(entry)
        try:
            args = route_args(entry) if isinstance(entry, Route) else rule_args(entry)
        except ValueError as exc:
            raise AddressError(f"cannot {command} {kind} {spec}: {exc}") from exc
        try:
            self.iproute.call(lambda ipr: getattr(ipr, kind)(command, **args))
            log.debug("%s %s %s", "added" if command == "add" else "removed", kind, spec)
        except NetlinkError as exc:
            if command == "add" and exc.code == errno.EEXIST:
                log.debug("%s %s already there", kind, spec)
            elif command == "del" and exc.code in (errno.ESRCH, errno.ENOENT):
                log.debug("%s %s was not there", kind, spec)
            else:
                raise AddressError(f"cannot {command} {kind} {spec}: {exc}",
                                   [(spec, exc.code, str(exc))]) from exc
