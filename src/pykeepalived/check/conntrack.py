"""What the checks cost the director's connection tracking, and when to say so.

The nftables backend balances by NAT, so the director's namespace tracks every connection,
the checkers' own included. A TCP-connecting check that ends as keepalived's do (the
checker closes first) leaves its entry in TIME_WAIT for
``nf_conntrack_tcp_timeout_time_wait`` (120 s by default). 10,000 real servers checked every
second then hold 1.2 million entries, far past the usual ``nf_conntrack_max``; once the table
is full the kernel drops new connections, checks fail, and live real servers are taken out.
The checker process says so at start, with the numbers and the two settings to change.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pykeepalived.check.health import CheckerHealth

__all__ = ["CONNECTING_KINDS", "PROC_NETFILTER", "conntrack_warning", "tcp_checks_per_second"]

#: checkers whose attempt opens a TCP connection (and so a tracked one)
CONNECTING_KINDS = frozenset({"TCP_CHECK", "HTTP_GET", "SSL_GET", "SMTP_CHECK"})
PROC_NETFILTER = Path("/proc/sys/net/netfilter")
DEFAULT_TIME_WAIT = 120  # the kernel's default, used before nf_conntrack is loaded


def tcp_checks_per_second(checkers: Iterable[CheckerHealth]) -> float:
    """Connections a second the checks open at most: one per delay_loop each."""
    rate = 0.0
    for ck in checkers:
        if ck.kind in CONNECTING_KINDS:
            delay = float(ck.spec.delay_loop or ck.vs.spec.delay_loop)
            rate += 1.0 / delay if delay > 0 else 0.0
    return rate


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def conntrack_warning(rate: float, proc: Path | None = None) -> str | None:
    """The warning for checks that would take more than half of the connection-tracking
    table by their TIME_WAIT entries alone (None: they fit, or the limit is unknown).
    ``proc``: where the netfilter settings are read (this namespace's /proc by default)."""
    proc = proc if proc is not None else PROC_NETFILTER
    limit = _read_int(proc / "nf_conntrack_max")
    if not limit:
        return None
    time_wait = _read_int(proc / "nf_conntrack_tcp_timeout_time_wait")
    if time_wait is None:
        time_wait = DEFAULT_TIME_WAIT
    demand = rate * time_wait
    if demand <= limit / 2:
        return None
    return (f"nftables: {rate:,.0f} TCP checks a second keep about {demand:,.0f} "
            f"connection-tracking entries in TIME_WAIT ({time_wait} s each) of "
            f"nf_conntrack_max {limit:,}; a full table drops new connections (checks fail, "
            "live real servers are taken out): raise net.netfilter.nf_conntrack_max or lower "
            "net.netfilter.nf_conntrack_tcp_timeout_time_wait")
