"""Logging as keepalived operators expect it: syslog by default, the console with ``-l``.

Lines carry the process role and pid (``pykeepalived_vrrp[1234]: (VI_1) Entering MASTER STATE``), so
the messages operators grep for in keepalived logs read the same here.
"""

from __future__ import annotations

import logging
import os
import sys

# Syslog facility codes (RFC 5424 6.2.1), as logging.handlers.SysLogHandler takes them. That
# module (with socket, pickle, queue and threading behind it) is imported only when syslog is
# used: -G, or a host without /dev/log, leaves it out of both processes.
_LOG_USER, _LOG_DAEMON, _LOG_LOCAL0 = 1, 3, 16
FACILITIES = {
    "daemon": _LOG_DAEMON,
    "user": _LOG_USER,
    **{f"local{i}": _LOG_LOCAL0 + i for i in range(8)},
    **{str(i): _LOG_LOCAL0 + i for i in range(8)},
}


class _RoleFilter(logging.Filter):
    """Stamp every record with the role of this process (parent, vrrp, checker)."""

    role = "pykeepalived"

    def filter(self, record: logging.LogRecord) -> bool:
        record.role = self.role
        return True


_role_filter = _RoleFilter()


def set_role(role: str) -> None:
    """Name this process in log lines (``pykeepalived_vrrp``); called after fork."""
    _role_filter.role = role


def setup_logging(*, console: bool, detail: bool, facility: str | None = None,
                  syslog: bool = True, syslog_path: str = "/dev/log") -> None:
    """Configure the root logger: console with ``-l``, syslog unless ``-G``, DEBUG with ``-D``."""
    # The formats below use neither the caller's file, line and function nor the thread or
    # multiprocessing names: do not collect them for every record (the logging HOWTO's
    # "Optimization"). Walking the stack for the caller was most of the cost of a line, and a
    # thousand instances changing state log thousands of lines at once.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.setLevel(logging.DEBUG if detail else logging.INFO)
    if console:
        console_handler = logging.StreamHandler(sys.stderr)
        console_handler.setFormatter(logging.Formatter(
            "%(asctime)s.%(msecs)03d %(role)s[%(process)d]: %(message)s", "%a %b %d %H:%M:%S"))
        console_handler.addFilter(_role_filter)
        root.addHandler(console_handler)
    if syslog and os.path.exists(syslog_path):
        from logging.handlers import SysLogHandler

        fac = FACILITIES.get((facility or "daemon").lower(), FACILITIES["daemon"])
        try:
            sys_handler = SysLogHandler(syslog_path, facility=fac)
        except OSError:
            return
        sys_handler.setFormatter(logging.Formatter("%(role)s[%(process)d]: %(message)s"))
        sys_handler.addFilter(_role_filter)
        root.addHandler(sys_handler)
