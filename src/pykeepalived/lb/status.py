"""The load-balancer table in ``ipvsadm -Ln`` form, whatever the backend.

Operators read ``ipvsadm -Ln``; the same lines from pykeepalived (for either backend) keep
their eyes and their scripts working. The layout is ipvsadm 1.31's (Debian's): the version
line, the two title lines, then per service ``PROT  ADDR:PORT SCHED`` (``FWM  N`` for a
firewall mark, `` IPv6`` after an IPv6 one) with `` (flags)``, `` persistent T``, `` mask M``
and `` ops`` as ipvsadm prints them, and per real server ``  -> ADDR:PORT`` in a 28-wide
column, the forwarding method (Masq, Route, Tunnel, Local), the weight and the active and
inactive connection counts. Services and real servers are sorted as ipvsadm sorts them.

Two columns of pykeepalived's own may follow, when given: the real server's health (``UP``
or ``DOWN``, as the checkers see it) and the outcome of its last check.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pykeepalived.check.result import CheckResult
from pykeepalived.lb import ipvs_codec as codec
from pykeepalived.lb.model import Destination, Service

FORWARD_NAMES = {"NAT": "Masq", "DR": "Route", "TUN": "Tunnel", "LOCAL": "Local"}
TITLE = ("Prot LocalAddress:Port Scheduler Flags\n"
         "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn")

ServiceKey = tuple[object, ...]
DestKey = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class DestStatus:
    """What is known of one real server besides the table: connection counts (from IPVS),
    health and the last check's outcome (from the checkers)."""

    active: int = 0
    inactive: int = 0
    healthy: bool | None = None
    last_check: CheckResult | None = None


def _addr_port(address: object, port: int, v6: bool) -> str:
    return f"[{address}]:{port}" if v6 else f"{address}:{port}"


def service_line(service: Service) -> str:
    """``TCP  203.0.113.10:80 wrr (flag-1) persistent 300 mask 255.255.255.0 ops``."""
    if service.fwmark is not None:
        name = f"FWM  {service.fwmark}" + (" IPv6" if service.family == 6 else "")
    else:
        name = f"{service.protocol:<4} " + _addr_port(service.address, service.port,
                                                       service.family == 6)
    line = f"{name} {service.scheduler}"
    bits = codec.service_flags(service)
    sched_flags = codec.flag_names(service.scheduler, bits & ~codec.F_ONEPACKET)
    if sched_flags:
        line += f" ({','.join(sched_flags)})"
    if bits & codec.F_PERSISTENT:
        line += f" persistent {service.persistence_timeout}"
        plen = codec.prefix_length(service)
        if service.family == 6 and plen != 128:
            line += f" mask {plen}"
        elif service.family != 6 and plen != 32:
            line += f" mask {ipaddress.IPv4Network(f'0.0.0.0/{plen}').netmask}"
    if bits & codec.F_ONEPACKET:
        line += " ops"
    return line


def dest_line(service: Service, dest: Destination, status: DestStatus | None = None,
              extra_columns: bool = False) -> str:
    """``  -> 198.51.100.11:80             Masq    1      0          0``."""
    status = status or DestStatus()
    name = _addr_port(dest.address, dest.port, service.family == 6)
    line = (f"  -> {name:<28} {FORWARD_NAMES.get(dest.method, dest.method):<7} "
            f"{dest.weight:<6} {status.active:<10} {status.inactive:<10}")
    if extra_columns:
        health = "-" if status.healthy is None else ("UP" if status.healthy else "DOWN")
        check = ""
        if status.last_check is not None:
            verdict = "ok" if status.last_check.ok else "failed"
            check = f"{verdict}: {status.last_check.detail}"
        line += f" {health:<6} {check}"
    return line.rstrip() if extra_columns else line


def _service_order(service: Service) -> tuple[int, int, int, int, int]:
    protocol = codec.PROTOCOLS.get(service.protocol, 0)
    address = int(service.address) if service.address is not None else 0
    return (service.fwmark or 0, 10 if service.family == 6 else 2,
            0 if service.fwmark else protocol, address, service.port)


def _dest_order(dest: Destination) -> tuple[int, int, int]:
    return (dest.address.version, int(dest.address), dest.port)


def ipvsadm_list(services: Sequence[Service],
                 status: Mapping[tuple[ServiceKey, DestKey], DestStatus] | None = None, *,
                 version: str = "1.2.1", size: int = 4096) -> str:
    """The whole ``ipvsadm -Ln`` text (newline-terminated) of ``services``; ``status`` is
    keyed by (service.key(), (real server address, port))."""
    status = status or {}
    extra = any(s.healthy is not None or s.last_check is not None for s in status.values())
    lines = [f"IP Virtual Server version {version} (size={size})", TITLE
             + (" Health Check" if extra else "")]
    for service in sorted(services, key=_service_order):
        lines.append(service_line(service))
        for dest in sorted(service.destinations, key=_dest_order):
            lines.append(dest_line(service, dest,
                                   status.get((service.key(), (dest.address, dest.port))),
                                   extra))
    return "\n".join(lines) + "\n"
