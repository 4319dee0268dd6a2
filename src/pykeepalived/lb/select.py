"""``lb_backend ipvs | nftables | auto``: which backend makes the load-balancer table real.

``auto`` takes IPVS when the kernel has it and nftables otherwise, and says which and why
(the caller logs :attr:`Selection.message` once at start). ``ipvs`` on a kernel without IPVS
is an error, as it is for keepalived ("IPVS: Can't initialize ipvs").

IPVS is there when ``/proc/net/ip_vs`` exists (the module is loaded; the file is per network
namespace) or the ``IPVS`` generic netlink family answers. When neither does, keepalived
runs ``modprobe ip_vs`` and looks again; so does :func:`detect_ipvs` unless told not to.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pykeepalived.lb.errors import BackendUnavailable, LbError

log = logging.getLogger(__name__)

LB_BACKENDS = ("ipvs", "nftables", "auto")
PROC_IP_VS = Path("/proc/net/ip_vs")


@dataclass(frozen=True, slots=True)
class Detection:
    """Whether the kernel has IPVS, and how that was found out (words for the log)."""

    present: bool
    how: str


@dataclass(frozen=True, slots=True)
class Selection:
    """The backend chosen (``ipvs`` or ``nftables``) and the line to log at start."""

    backend: str
    message: str


def _genetlink_ipvs() -> Detection:
    from pykeepalived.lb.ipvs import NetlinkTransport

    try:
        NetlinkTransport().close()
    except BackendUnavailable:
        return Detection(False, "no generic netlink family IPVS")
    except Exception as exc:  # no netlink at all, permissions ...
        return Detection(False, f"generic netlink family IPVS not usable ({exc})")
    return Detection(True, "generic netlink family IPVS present")


def _modprobe() -> str:
    modprobe = shutil.which("modprobe") or "/sbin/modprobe"
    try:
        proc = subprocess.run([modprobe, "-q", "ip_vs"], capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"modprobe ip_vs could not run ({exc})"
    if proc.returncode != 0:
        return f"modprobe ip_vs failed (exit {proc.returncode})"
    return "modprobe ip_vs succeeded"


def detect_ipvs(*, load_module: bool = True, proc_path: Path = PROC_IP_VS,
                genetlink: Callable[[], Detection] = _genetlink_ipvs,
                modprobe: Callable[[], str] = _modprobe) -> Detection:
    """Whether IPVS is usable here; with ``load_module`` try ``modprobe ip_vs`` once."""
    if proc_path.exists():
        return Detection(True, f"{proc_path} present")
    found = genetlink()
    if found.present or not load_module:
        return found
    tried = modprobe()
    again = genetlink()
    if again.present:
        return Detection(True, f"{again.how} after {tried}")
    return Detection(False, f"{found.how}, {tried}")


def select_backend(choice: str, *,
                   detect: Callable[[], Detection] = detect_ipvs) -> Selection:
    """The backend for ``lb_backend choice``; raises LbError for ``ipvs`` without IPVS and
    for an unknown choice."""
    if choice not in LB_BACKENDS:
        raise LbError(f"lb_backend {choice!r}: expected one of {', '.join(LB_BACKENDS)}")
    if choice == "nftables":
        return Selection("nftables", "lb_backend nftables: load balancing with nftables")
    found = detect()
    if choice == "ipvs":
        if not found.present:
            raise BackendUnavailable(f"lb_backend ipvs: the kernel has no IPVS ({found.how})")
        return Selection("ipvs", f"lb_backend ipvs: load balancing with IPVS ({found.how})")
    if found.present:
        return Selection("ipvs", f"lb_backend auto: using IPVS ({found.how})")
    return Selection("nftables", f"lb_backend auto: using nftables, the kernel has no IPVS "
                                 f"({found.how})")
