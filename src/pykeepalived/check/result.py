"""What one check of one real server is given, and what it finds.

A checker (``TCP_CHECK``, ``HTTP_GET``, ...) makes one attempt against one :class:`Target` and
returns a :class:`CheckResult`; it never sleeps between attempts, retries, or decides whether
the real server is up. Those are keepalived's delay_loop / retry / delay_before_retry / warmup
/ alpha rules, applied in one place for every checker (the health state machine), so that
every checker kind behaves the same way and a slow server never holds up another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

IPAddress = IPv4Address | IPv6Address


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how to check: the checker's ``connect_ip`` / ``connect_port`` when given,
    else the real server's address and port; the timeout is ``connect_timeout``."""

    address: IPAddress
    port: int | None
    timeout: float
    bindto: IPAddress | None = None
    bind_port: int | None = None
    bind_if: str | None = None
    fwmark: int | None = None
    virtualhost: str | None = None  # the real server's / virtual server's default

    def __str__(self) -> str:
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{host}:{self.port}" if self.port is not None else host


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One attempt's outcome.

    ``detail`` says why, in words an operator can act on ("connection refused", "HTTP status
    500, expected 200-299", "timeout after 3 s"). Checkers that move the real server's weight
    say how, as keepalived does (:mod:`pykeepalived.check.weights` adds it up): MISC_CHECK with
    misc_dynamic gives the weight itself (exit status - 2), FILE_CHECK what it adds to the
    configured weight (the file's number times its weight). None: nothing.
    """

    ok: bool
    detail: str
    weight: int | None = None
