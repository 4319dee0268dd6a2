"""Health checkers for real servers: one attempt each, keyed by their keyword.

``CHECKERS["HTTP_GET"](spec, target, context)`` makes one attempt with the checker's
configuration ``spec`` (a :mod:`pykeepalived.config.model_lvs` dataclass) against ``target``
and returns a :class:`CheckResult`. No checker sleeps, retries, or decides whether the real
server is up: that is the health state machine's job (delay_loop, retry,
delay_before_retry, warmup, alpha). ``context`` carries what some checkers need from the
rest of the configuration (see :class:`CheckContext`).

Every attempt is bounded by ``target.timeout`` (connect_timeout), except MISC_CHECK, which is
bounded by its misc_timeout (keepalived's rule), and FILE_CHECK, which only reads a file.

BFD_CHECK is not here: its state comes from a BFD session, not from an attempt.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Final, Protocol

from pykeepalived.check.context import CheckContext
from pykeepalived.check.dns_check import check_dns
from pykeepalived.check.file_check import FileCheckWatcher, check_file
from pykeepalived.check.http_get import check_http_get, check_ssl_get
from pykeepalived.check.misc_check import check_misc
from pykeepalived.check.ping_check import check_ping
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.smtp_check import check_smtp
from pykeepalived.check.tcp_check import check_tcp
from pykeepalived.check.udp_check import check_udp
from pykeepalived.config.model_lvs import Checker

__all__ = [
    "CHECKERS",
    "CheckContext",
    "CheckFunction",
    "CheckResult",
    "FileCheckWatcher",
    "Target",
    "check_once",
]


class CheckFunction(Protocol):
    """``async def check(spec, target, context=None) -> CheckResult``."""

    def __call__(self, spec: Any, target: Target, context: CheckContext | None = None, /
                 ) -> Awaitable[CheckResult]: ...


CHECKERS: Final[dict[str, CheckFunction]] = {
    "TCP_CHECK": check_tcp,
    "HTTP_GET": check_http_get,
    "SSL_GET": check_ssl_get,
    "SMTP_CHECK": check_smtp,
    "DNS_CHECK": check_dns,
    "UDP_CHECK": check_udp,
    "PING_CHECK": check_ping,
    "MISC_CHECK": check_misc,
    "FILE_CHECK": check_file,
}


async def check_once(spec: Checker, target: Target,
                     context: CheckContext | None = None) -> CheckResult:
    """One attempt of whatever kind ``spec`` is (KeyError for a kind with no checker)."""
    return await CHECKERS[spec.kind](spec, target, context)
