"""IPVS generic-netlink messages: :class:`Service` / :class:`Destination` to and from pyroute2's
``ipvsmsg``, with no socket in sight (the backend and the tests share this one codec).

The kernel's side of the protocol is ``net/netfilter/ipvs/ip_vs_ctl.c`` (the ``IPVS`` genetlink
family, commands ``IPVS_CMD_*`` of ``<linux/ip_vs.h>``). Two attributes are declared
differently by pyroute2 0.9 and by the kernel; this module writes what the kernel reads:

* ``IPVS_DEST_ATTR_TUN_PORT`` is a big-endian u16 (``nla_get_be16``); pyroute2 declares it
  ``uint16`` (host order), so the value handed to pyroute2 is the port byte-swapped on a
  little-endian host, which puts the port's network-order bytes on the wire.
* ``IPVS_SVC_ATTR_NETMASK`` is four bytes. For IPv4 they are the netmask in network order,
  which pyroute2's ``ip4addr`` writes from a dotted quad. For IPv6 the kernel reads the same
  four bytes as a host-order prefix length (1..128, checked in ``ip_vs_add_service``), so the
  dotted quad handed to pyroute2 is the one whose bytes are that integer.

Flags follow ``<linux/ip_vs.h>``: ``IP_VS_SVC_F_PERSISTENT`` with the timeout in seconds and
the granularity netmask, ``IP_VS_SVC_F_ONEPACKET`` (keepalived's ``ops``) and the scheduler
flags ``IP_VS_SVC_F_SCHED1..3``, which the sh and mh schedulers read as ``*-fallback`` (1) and
``*-port`` (2). The kernel adds ``IP_VS_SVC_F_HASHED`` to every service it holds; it is
ignored when comparing.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import sys
from dataclasses import dataclass
from typing import Any

from pyroute2.netlink import NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST
from pyroute2.netlink.generic import ipvs as genl

from pykeepalived.lb.errors import LbError
from pykeepalived.lb.model import Destination, IPAddress, Service, Tunnel

CMD_NEW_SERVICE = genl.IPVS_CMD_NEW_SERVICE
CMD_SET_SERVICE = genl.IPVS_CMD_SET_SERVICE
CMD_DEL_SERVICE = genl.IPVS_CMD_DEL_SERVICE
CMD_GET_SERVICE = genl.IPVS_CMD_GET_SERVICE
CMD_NEW_DEST = genl.IPVS_CMD_NEW_DEST
CMD_SET_DEST = genl.IPVS_CMD_SET_DEST
CMD_DEL_DEST = genl.IPVS_CMD_DEL_DEST
CMD_GET_DEST = genl.IPVS_CMD_GET_DEST

REQUEST_FLAGS = NLM_F_REQUEST | NLM_F_ACK
DUMP_FLAGS = NLM_F_REQUEST | NLM_F_DUMP

PROTOCOLS = {"TCP": socket.IPPROTO_TCP, "UDP": socket.IPPROTO_UDP, "SCTP": 132}
PROTOCOL_NAMES = {number: name for name, number in PROTOCOLS.items()}

# IP_VS_CONN_F_* forwarding methods
METHODS = {"NAT": 0, "TUN": 2, "DR": 3}
METHOD_NAMES = {0: "NAT", 1: "LOCAL", 2: "TUN", 3: "DR", 4: "BYPASS"}

# IP_VS_CONN_F_TUNNEL_TYPE_* and IP_VS_TUNNEL_ENCAP_FLAG_*
TUNNEL_TYPES = {"ipip": 0, "gue": 1, "gre": 2}
TUNNEL_TYPE_NAMES = {number: name for name, number in TUNNEL_TYPES.items()}
TUNNEL_CSUM = {None: 0, "nocsum": 0, "csum": 1, "remcsum": 2}
TUNNEL_CSUM_NAMES = {1: "csum", 2: "remcsum"}

# IP_VS_SVC_F_*
F_PERSISTENT = 0x0001
F_HASHED = 0x0002
F_ONEPACKET = 0x0004
F_SCHED1 = 0x0008
F_SCHED2 = 0x0010
F_SCHED3 = 0x0020
FLAG_BITS = {"hashed": F_HASHED, "ops": F_ONEPACKET, "flag-1": F_SCHED1, "flag-2": F_SCHED2,
             "flag-3": F_SCHED3, "sh-fallback": F_SCHED1, "sh-port": F_SCHED2,
             "mh-fallback": F_SCHED1, "mh-port": F_SCHED2}
ALL_FLAGS_MASK = 0xFFFFFFFF


def _family(family: int) -> int:
    return socket.AF_INET6 if family == 6 else socket.AF_INET


def _swap16(value: int) -> int:
    """A u16 whose host-order bytes are ``value`` in network order (and back again)."""
    return int.from_bytes(value.to_bytes(2, "big"), sys.byteorder)


def flag_names(scheduler: str, bits: int) -> tuple[str, ...]:
    """Scheduler flags as keepalived names them for ``scheduler`` (sh and mh have names of
    their own for flag-1 and flag-2), then ``ops``; HASHED and PERSISTENT are not listed."""
    if scheduler in ("sh", "mh"):
        named = ((F_SCHED1, f"{scheduler}-fallback"), (F_SCHED2, f"{scheduler}-port"),
                 (F_SCHED3, "flag-3"))
    else:
        named = ((F_SCHED1, "flag-1"), (F_SCHED2, "flag-2"), (F_SCHED3, "flag-3"))
    names = [name for bit, name in named if bits & bit]
    if bits & F_ONEPACKET:
        names.append("ops")
    return tuple(names)


def service_flags(service: Service) -> int:
    """IP_VS_SVC_F_* bits of ``service`` (persistence included)."""
    bits = 0
    for name in service.flags:
        try:
            bits |= FLAG_BITS[name]
        except KeyError:
            raise LbError(f"{service}: unknown scheduler flag {name!r}") from None
    if service.persistence_timeout:
        bits |= F_PERSISTENT
    return bits & ~F_HASHED


def prefix_length(service: Service) -> int:
    """The persistence granularity as a prefix length (32 / 128 when not given).

    Accepts a netmask (``255.255.255.0``, ``ffff:ffff::``) or a prefix length (``24``)."""
    full = 128 if service.family == 6 else 32
    text = service.persistence_granularity
    if not text:
        return full
    plen = -1
    if text.isdigit():
        plen = int(text)
    else:
        try:
            mask = int(ipaddress.ip_address(text))
        except ValueError:
            mask = -1
        ones = bin(mask)[2:] if mask >= 0 else ""
        if len(ones) == full and "01" not in ones:
            plen = ones.count("1")
    if not 1 <= plen <= full:
        raise LbError(f"{service}: persistence_granularity {text!r} is not a netmask "
                      f"(or a prefix length 1..{full})")
    return plen


def _netmask_attr(service: Service) -> str:
    plen = prefix_length(service)
    if service.family == 6:
        return socket.inet_ntoa(struct.pack("=I", plen))
    return str(ipaddress.IPv4Network(f"0.0.0.0/{plen}").netmask)


def _netmask_from_attr(family: int, text: str) -> int:
    """Prefix length from the kernel's IPVS_SVC_ATTR_NETMASK as pyroute2 decoded it."""
    if family == socket.AF_INET6:
        return int(struct.unpack("=I", socket.inet_aton(text))[0])
    return ipaddress.IPv4Network(f"0.0.0.0/{text}").prefixlen


def _key_attrs(service: Service) -> list[tuple[str, Any]]:
    attrs: list[tuple[str, Any]] = [("IPVS_SVC_ATTR_AF", _family(service.family))]
    if service.fwmark is not None:
        attrs.append(("IPVS_SVC_ATTR_FWMARK", service.fwmark))
        return attrs
    if service.address is None:
        raise LbError(f"{service}: a service needs an address or a fwmark")
    if service.address.version != service.family:
        raise LbError(f"{service}: an IPv{service.address.version} address in a service of "
                      f"family {service.family}")
    try:
        protocol = PROTOCOLS[service.protocol]
    except KeyError:
        raise LbError(f"{service}: unknown protocol {service.protocol!r}") from None
    attrs += [("IPVS_SVC_ATTR_PROTOCOL", protocol),
              ("IPVS_SVC_ATTR_ADDR", str(service.address)),
              ("IPVS_SVC_ATTR_PORT", service.port)]
    return attrs


def service_attrs(service: Service, full: bool = True) -> list[tuple[str, Any]]:
    """The IPVS_CMD_ATTR_SERVICE nest: the key, and with ``full`` every setting."""
    attrs = _key_attrs(service)
    if full:
        attrs += [("IPVS_SVC_ATTR_SCHED_NAME", service.scheduler),
                  ("IPVS_SVC_ATTR_FLAGS", {"flags": service_flags(service),
                                           "mask": ALL_FLAGS_MASK}),
                  ("IPVS_SVC_ATTR_TIMEOUT", service.persistence_timeout or 0),
                  ("IPVS_SVC_ATTR_NETMASK", _netmask_attr(service))]
    return attrs


def dest_attrs(service: Service, dest: Destination, full: bool = True) -> list[tuple[str, Any]]:
    """The IPVS_CMD_ATTR_DEST nest. Tunnel attributes go only with TUN (kernels before 5.2
    do not know them)."""
    attrs: list[tuple[str, Any]] = [
        ("IPVS_DEST_ATTR_ADDR_FAMILY", _family(dest.address.version)),
        ("IPVS_DEST_ATTR_ADDR", str(dest.address)),
        ("IPVS_DEST_ATTR_PORT", dest.port)]
    if not full:
        return attrs
    try:
        method = METHODS[dest.method]
    except KeyError:
        raise LbError(f"{service}: real server {dest.address}: unknown lvs_method "
                      f"{dest.method!r}") from None
    attrs += [("IPVS_DEST_ATTR_FWD_METHOD", method),
              ("IPVS_DEST_ATTR_WEIGHT", dest.weight),
              ("IPVS_DEST_ATTR_U_THRESH", dest.u_threshold),
              ("IPVS_DEST_ATTR_L_THRESH", dest.l_threshold)]
    if dest.method == "TUN":
        tunnel = dest.tunnel or Tunnel()
        try:
            attrs += [("IPVS_DEST_ATTR_TUN_TYPE", TUNNEL_TYPES[tunnel.type]),
                      ("IPVS_DEST_ATTR_TUN_PORT", _swap16(tunnel.port or 0)),
                      ("IPVS_DEST_ATTR_TUN_FLAGS", TUNNEL_CSUM[tunnel.csum])]
        except KeyError:
            raise LbError(f"{service}: real server {dest.address}: bad tunnel {tunnel}") from None
    return attrs


def request(cmd: int, service: Service | None = None, dest: Destination | None = None,
            *, full: bool = True) -> genl.ipvsmsg:
    """One IPVS request. Destination commands carry the service's key only."""
    msg = genl.ipvsmsg()
    msg["cmd"] = cmd
    msg["version"] = genl.GENL_VERSION
    attrs: list[tuple[str, Any]] = []
    if service is not None:
        attrs.append(("IPVS_CMD_ATTR_SERVICE",
                      {"attrs": service_attrs(service, full=full and dest is None)}))
    if dest is not None and service is not None:
        attrs.append(("IPVS_CMD_ATTR_DEST", {"attrs": dest_attrs(service, dest, full=full)}))
    msg["attrs"] = attrs
    return msg


# ------------------------------------------------------------------ decoding
def decode_service(nest: Any) -> Service:
    """A Service (no destinations) from an IPVS_CMD_ATTR_SERVICE nest of a dump."""
    af = nest.get_attr("IPVS_SVC_ATTR_AF")
    family = 6 if af == socket.AF_INET6 else 4
    bits = (nest.get_attr("IPVS_SVC_ATTR_FLAGS") or {}).get("flags", 0)
    scheduler = nest.get_attr("IPVS_SVC_ATTR_SCHED_NAME") or ""
    timeout: int | None = None
    granularity: str | None = None
    if bits & F_PERSISTENT:
        timeout = int(nest.get_attr("IPVS_SVC_ATTR_TIMEOUT") or 0)
        netmask = nest.get_attr("IPVS_SVC_ATTR_NETMASK")
        plen = _netmask_from_attr(af, netmask) if netmask else (128 if family == 6 else 32)
        if plen != (128 if family == 6 else 32):
            granularity = (str(plen) if family == 6
                           else str(ipaddress.IPv4Network(f"0.0.0.0/{plen}").netmask))
    fwmark = nest.get_attr("IPVS_SVC_ATTR_FWMARK")
    common: dict[str, Any] = {
        "family": family, "scheduler": scheduler, "flags": flag_names(scheduler, bits),
        "persistence_timeout": timeout, "persistence_granularity": granularity}
    if fwmark:
        return Service(protocol="TCP", address=None, port=0, fwmark=int(fwmark), **common)
    protocol = nest.get_attr("IPVS_SVC_ATTR_PROTOCOL")
    return Service(protocol=PROTOCOL_NAMES.get(protocol, str(protocol)),
                   address=ipaddress.ip_address(nest.get_attr("IPVS_SVC_ATTR_ADDR")),
                   port=int(nest.get_attr("IPVS_SVC_ATTR_PORT")), **common)


def decode_dest(nest: Any) -> Destination:
    """A Destination from an IPVS_CMD_ATTR_DEST nest of a dump."""
    method = METHOD_NAMES.get(nest.get_attr("IPVS_DEST_ATTR_FWD_METHOD") or 0, "NAT")
    tunnel: Tunnel | None = None
    if method == "TUN":
        port = _swap16(nest.get_attr("IPVS_DEST_ATTR_TUN_PORT") or 0)
        tunnel = Tunnel(type=TUNNEL_TYPE_NAMES.get(nest.get_attr("IPVS_DEST_ATTR_TUN_TYPE") or 0,
                                                   "ipip"),
                        port=port or None,
                        csum=TUNNEL_CSUM_NAMES.get(nest.get_attr("IPVS_DEST_ATTR_TUN_FLAGS") or 0))
    address: IPAddress = ipaddress.ip_address(nest.get_attr("IPVS_DEST_ATTR_ADDR"))
    return Destination(address=address, port=int(nest.get_attr("IPVS_DEST_ATTR_PORT") or 0),
                       weight=int(nest.get_attr("IPVS_DEST_ATTR_WEIGHT") or 0), method=method,
                       tunnel=tunnel,
                       u_threshold=int(nest.get_attr("IPVS_DEST_ATTR_U_THRESH") or 0),
                       l_threshold=int(nest.get_attr("IPVS_DEST_ATTR_L_THRESH") or 0))


# ------------------------------------------------------------------ comparing
@dataclass(frozen=True, slots=True)
class Counters:
    """What ``ipvsadm -Ln`` shows next to a real server (IPVS_DEST_ATTR_*_CONNS)."""

    active: int = 0
    inactive: int = 0
    persistent: int = 0


def decode_counters(nest: Any) -> Counters:
    return Counters(int(nest.get_attr("IPVS_DEST_ATTR_ACTIVE_CONNS") or 0),
                    int(nest.get_attr("IPVS_DEST_ATTR_INACT_CONNS") or 0),
                    int(nest.get_attr("IPVS_DEST_ATTR_PERSIST_CONNS") or 0))


def service_state(service: Service) -> tuple[object, ...]:
    """What an IPVS_CMD_SET_SERVICE would change: equal states need no message.
    Timeout and granularity count only for a persistent service."""
    bits = service_flags(service)
    persistent = bool(bits & F_PERSISTENT)
    return (service.scheduler, bits,
            service.persistence_timeout if persistent else 0,
            prefix_length(service) if persistent else None)


def dest_key(dest: Destination) -> tuple[IPAddress, int]:
    """What identifies a real server within its service in the kernel."""
    return (dest.address, dest.port)


def dest_state(dest: Destination) -> tuple[object, ...]:
    """What an IPVS_CMD_SET_DEST would change: equal states need no message."""
    tunnel: tuple[object, ...] = ()
    if dest.method == "TUN":
        t = dest.tunnel or Tunnel()
        tunnel = (t.type, t.port or 0, TUNNEL_CSUM.get(t.csum, t.csum))
    return (dest.method, dest.weight, dest.u_threshold, dest.l_threshold, tunnel)
