"""Logging as keepalived operators expect it: syslog by default, the console with ``-l``.

Lines carry the process role and pid (``pykeepalived_vrrp[1234]: (VI_1) Entering MASTER STATE``), so
the messages operators grep for in keepalived logs read the same here.

When stderr is the journal (systemd sets ``$JOURNAL_STREAM`` to its device and inode), console
lines are written the way journald reads a stream: a ``<N>`` syslog priority first (so
``journalctl -p warning`` works), no timestamp (the journal has its own), and one line per
record (a traceback's newlines are escaped: journald would make each line an entry of its own,
at the default priority).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

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


#: syslog priorities (RFC 5424 severities) of logging's levels
PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4),
              (logging.INFO, 6))
DEBUG_PRIORITY = 7


def syslog_priority(levelno: int) -> int:
    """The syslog severity of a logging level: the one of the nearest level at or below."""
    for level, priority in PRIORITIES:
        if levelno >= level:
            return priority
    return DEBUG_PRIORITY


def stderr_is_journal(environ: Mapping[str, str] | None = None) -> bool:
    """Whether fd 2 is the stream systemd connected to the journal (``$JOURNAL_STREAM`` is
    ``device:inode`` of it; a stderr redirected since, or inherited by a program started
    from the service, no longer matches)."""
    value = (os.environ if environ is None else environ).get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in value.split(":"))
        st = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (device, inode)


class JournalFormatter(logging.Formatter):
    """``<6>pykeepalived_vrrp: (VI_1) Entering MASTER STATE``: priority, no time, one line.

    The journal records each line's own pid (journald takes the writer's credentials with
    every write) and shows it after the unit's identifier, so the line names only the child
    it comes from; the parent's lines carry no name at all.
    """

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record).replace("\r", "").replace("\n", "\\n")
        role = getattr(record, "role", PARENT)
        name = "" if role == PARENT else f"{role}: "
        return f"<{syslog_priority(record.levelno)}>{name}{text}"


PARENT = "pykeepalived"


class _RoleFilter(logging.Filter):
    """Stamp every record with the role of this process (parent, vrrp, checker)."""

    role = PARENT

    def filter(self, record: logging.LogRecord) -> bool:
        record.role = self.role
        return True


_role_filter = _RoleFilter()
CONSOLE = logging.Formatter("%(asctime)s.%(msecs)03d %(role)s[%(process)d]: %(message)s",
                            "%a %b %d %H:%M:%S")


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
        console_handler.setFormatter(JournalFormatter() if stderr_is_journal() else CONSOLE)
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
