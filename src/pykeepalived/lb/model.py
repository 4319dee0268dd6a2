"""The load-balancer table as the kernel should hold it, whatever the backend.

The checker process computes, from the configuration and the health of every real server, the
list of :class:`Service` values the node must have (healthy real servers, weight 0 for an
inhibited one, the sorry server when the quorum is lost, nothing at all while ha_suspend keeps
a backup node quiet). A :class:`Backend` makes the kernel equal to that list: IPVS through
netlink, or an nftables table of pykeepalived's own. Values are immutable and compare equal
when the kernel would be the same, so "did anything change" is one comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Protocol

IPAddress = IPv4Address | IPv6Address

METHODS = ("NAT", "DR", "TUN")
PROTOCOLS = ("TCP", "UDP", "SCTP")
SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "mh", "dh", "sed", "nq", "fo",
              "ovf")


@dataclass(frozen=True, slots=True)
class Tunnel:
    """``lvs_method TUN`` details: ipip (default), gue with a port, or gre; checksum mode."""

    type: str = "ipip"
    port: int | None = None
    csum: str | None = None


@dataclass(frozen=True, slots=True)
class Destination:
    """A real server (or the sorry server) of a service, as IPVS calls it."""

    address: IPAddress
    port: int
    weight: int = 1
    method: str = "NAT"
    tunnel: Tunnel | None = None
    u_threshold: int = 0
    l_threshold: int = 0


@dataclass(frozen=True, slots=True)
class Service:
    """A virtual service: an address, protocol and port, or a firewall mark.

    ``persistence_timeout`` None means no persistence; ``persistence_granularity`` is a
    netmask (``255.255.255.0``, or a prefix length for IPv6). ``flags`` are IPVS scheduler
    flags (``flag-1``, ``sh-port``, ``ops`` ...).
    """

    protocol: str
    address: IPAddress | None
    port: int
    fwmark: int | None = None
    family: int = 4
    scheduler: str = "wlc"
    flags: tuple[str, ...] = ()
    persistence_timeout: int | None = None
    persistence_granularity: str | None = None
    destinations: tuple[Destination, ...] = ()

    def key(self) -> tuple[object, ...]:
        """What identifies the service in the kernel (IPVS: fwmark, or proto/addr/port)."""
        if self.fwmark is not None:
            return ("fwmark", self.family, self.fwmark)
        return (self.protocol, self.address, self.port)

    def __str__(self) -> str:
        if self.fwmark is not None:
            return f"FWM {self.fwmark}"
        host = f"[{self.address}]" if self.address and self.address.version == 6 \
            else str(self.address)
        return f"{self.protocol} {host}:{self.port}"


class Backend(Protocol):
    """Makes the kernel's table equal to a list of services (and only touches its own)."""

    name: str  # "ipvs" or "nftables"

    def apply(self, services: Sequence[Service]) -> None:
        """Make the kernel hold exactly ``services``; idempotent. May block (netlink, nft):
        the checker process calls it from a worker thread, never from its event loop."""
        ...

    def clear(self) -> None:
        """Remove everything this backend installed (on stop, and before a backend change)."""
        ...

    def read(self) -> list[Service]:
        """What the kernel holds now, in the same terms (for status and tests)."""
        ...
