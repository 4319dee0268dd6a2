"""Per-instance counters and the rate limit for "packet dropped" log lines.

Counter names follow what keepalived writes to /tmp/keepalived.stats on SIGUSR2
(``vrrp_print_stats``), plus a few keepalived keeps only for SNMP (``version_err``,
``chk_err``), ``vrid_err`` (keepalived never sees a foreign VRID at instance level because
it dispatches on the VRID; the daemon here may hand any advert to a router) and
``own_address_err``: adverts that carry one of the router's own addresses as their source
without being its own unicast advert to itself -- a forgery or a loop on the segment, never
a peer (the kernel already drops such IPv4 datagrams; IPv6 ones arrive).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

# Which counter a decode failure (PacketError.reason) or a receive check increments.
REASON_COUNTER = {
    "truncated": "packet_len_err",
    "length": "packet_len_err",
    "ip_header": "packet_len_err",
    "family": "packet_len_err",
    "ttl": "ip_ttl_err",
    "type": "invalid_type_rcvd",
    "version": "version_err",
    "checksum": "chk_err",
    "advert_int": "advert_interval_err",
    "addr_list": "addr_list_err",
    "addr_count": "addr_list_err",
    "invalid_authtype": "invalid_authtype",
    "authtype": "authtype_mismatch",
    "auth": "auth_failure",
    "ah": "auth_failure",
    "vrid": "vrid_err",
    "own_address": "own_address_err",
}


@dataclass(slots=True)
class RouterStats:
    """Counters of one virtual router (keepalived ``vrrp_stats``)."""

    advert_rcvd: int = 0
    advert_sent: int = 0
    became_master: int = 0
    released_master: int = 0
    packet_len_err: int = 0
    ip_ttl_err: int = 0
    invalid_type_rcvd: int = 0
    advert_interval_err: int = 0
    addr_list_err: int = 0
    invalid_authtype: int = 0
    authtype_mismatch: int = 0
    auth_failure: int = 0
    pri_zero_rcvd: int = 0
    pri_zero_sent: int = 0
    version_err: int = 0
    chk_err: int = 0
    vrid_err: int = 0
    own_address_err: int = 0
    other_err: int = 0

    def count(self, reason: str) -> str:
        """Increment the counter for a drop ``reason``; return the counter's name."""
        name = REASON_COUNTER.get(reason, "other_err")
        setattr(self, name, getattr(self, name) + 1)
        return name

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def drops(self) -> dict[str, int]:
        """The receive counters of adverts dropped, by reason (those above zero)."""
        kept = ("advert_rcvd", "advert_sent", "became_master", "released_master",
                "pri_zero_rcvd", "pri_zero_sent")
        return {name: value for name, value in asdict(self).items()
                if name not in kept and value}


@dataclass(slots=True)
class DropLog:
    """Log the first drop of each kind at once, then at most one line per ``interval``.

    A flood of bad packets must not flood the log (keepalived >= 2.3 ``log_rate_limited_error``
    has the same intent); the line that ends a quiet period says how many were suppressed.
    Every router has one and most never drop anything: the two tables are made at the first
    drop (1,000 instances: 250 KiB of empty dicts less).
    """

    logger: logging.Logger
    interval: float = 60.0
    _last: dict[str, float] | None = None
    _suppressed: dict[str, int] | None = None

    def drop(self, reason: str, now: float, message: str, *args: object) -> bool:
        """Log ``message % args`` unless rate-limited; return True when a line was written."""
        if self._last is None or self._suppressed is None:
            self._last, self._suppressed = {}, {}
        last = self._last.get(reason)
        if last is not None and now - last < self.interval:
            self._suppressed[reason] = self._suppressed.get(reason, 0) + 1
            return False
        self._last[reason] = now
        missed = self._suppressed.pop(reason, 0)
        if missed:
            message += " (%d similar packets dropped without a log line)"
            args = (*args, missed)
        self.logger.warning(message, *args)
        return True
