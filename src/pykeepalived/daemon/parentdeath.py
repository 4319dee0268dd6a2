"""A child of the daemon stops when its parent dies, as keepalived's children do.

If the parent is killed (kill -9, the OOM killer), a VRRP child that ran on would keep its VIPs
and go on advertising with nothing left to reload or stop it, and it would hold its pid file,
so that the daemon started again (by an operator or a supervisor) could not run a child of its
own. keepalived's children stop when their parent dies: priority-0 adverts, VIPs removed. The
kernel watches for us (prctl(2) PR_SET_PDEATHSIG): it sends the child SIGTERM, the child's
ordinary stop.
"""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


_PRCTL = _load_prctl()  # loaded before any fork: the child makes one foreign call


def stop_with_parent(parent: int) -> None:
    """In a child just forked from ``parent``: SIGTERM when ``parent`` dies, at once if it
    died before the request was made (the child was then given to another parent)."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)
