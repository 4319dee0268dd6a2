"""What an IPv4 VMAC needs from the rest of the host, set while one exists and put back after.

A VIP on a VMAC shares its subnet with the base interface's own address, so the base interface
sees the same ARP traffic and routes the same destinations. Left alone, clients end up with the
VIP at the base interface's MAC, and strict reverse-path filtering drops what arrives on the
VMAC. What is changed, measured against Debian's keepalived 2.2.7 in a namespace with default
sysctls (and with all.rp_filter=1):

========================  ===========  ==========  =============================================
sysctl                    keepalived   here        why
========================  ===========  ==========  =============================================
<base>.arp_ignore         1            1           the base interface does not answer ARP for
                                                   the VIP (held by the VMAC) with its own MAC
<base>.arp_filter         1            1           same, for ARP arriving on the base interface
<base>.arp_announce       unchanged    2           see below
all.rp_filter             0            0           so that the VMAC's rp_filter=0 counts (the
                                                   kernel uses the larger of all and the device)
default, each interface   raised to    raised to   no interface filters less than before
.rp_filter                all's value  all's value
========================  ===========  ==========  =============================================

arp_announce=2 is where pykeepalived goes further than keepalived. The master's replies from
the VIP to a client in the base interface's subnet are routed through the base interface
(its connected route is the older of the two), so the master resolves the client with an ARP
request from the base MAC; with arp_announce=0 that request names the VIP as its sender, and
the client moves the VIP to the base MAC (seen with keepalived 2.2.7: a client that pings the
VIP holds it at the base MAC afterwards). With arp_announce=2 the request names the base
interface's own address instead. arp_announce=1 is not enough: it keeps the VIP as sender
because the VIP is inside the base interface's subnet.

Everything is put back when the last IPv4 VMAC of the base interface (for rp_filter: of the
network namespace) is deleted, but only where the value is still the one written here, so
that an operator's change in between stands. keepalived 2.2.7 means to put the base
interface's settings back too (it counts the VMACs of each base interface) but, measured, it
leaves arp_ignore and arp_filter at 1; it restores rp_filter on shutdown. keepalived also
raises rp_filter only on the interfaces it uses; here every interface is raised, so that
none filters differently while all.rp_filter is 0.

The records live per network namespace (keyed by its cookie, which the kernel never reuses)
because the tests drive VMACs in several namespaces from one process.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import threading
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

CONF4 = "net/ipv4/conf"
#: set on the base interface of an IPv4 VMAC (see the module docstring)
BASE_SYSCTLS4 = {"arp_ignore": "1", "arp_filter": "1", "arp_announce": "2"}
SO_NETNS_COOKIE = getattr(socket, "SO_NETNS_COOKIE", 71)


def write_sysctl(path: str, value: str) -> bool:
    """Write /proc/sys/<path> (in this thread's network namespace); False on failure."""
    try:
        with open(f"/proc/sys/{path}", "w") as f:
            f.write(value)
        return True
    except OSError as exc:
        log.warning("cannot set %s=%s: %s", path.replace("/", "."), value, exc)
        return False


def read_sysctl(path: str) -> str | None:
    try:
        with open(f"/proc/sys/{path}") as f:
            return f.read().strip()
    except OSError:
        return None


@dataclass
class SavedSysctls:
    """sysctls written here, each with the value it had before, so they can be put back."""

    changed: list[tuple[str, str, str]] = field(default_factory=list)  # path, before, ours

    def set(self, path: str, value: str) -> None:
        """Write ``value`` unless it is there already; remember what was there."""
        before = read_sysctl(path)
        if before is None or before == value:
            return
        if write_sysctl(path, value):
            self.changed.append((path, before, value))

    def restore(self) -> None:
        """Put back every value written, last first, where it is still ours."""
        for path, before, ours in reversed(self.changed):
            current = read_sysctl(path)
            if current == ours:
                write_sysctl(path, before)
            elif current is not None:  # None: the interface has gone
                log.info("leaving %s=%s (changed since it was set to %s)",
                         path.replace("/", "."), current, ours)
        self.changed.clear()


def set_base_sysctls(base: str) -> SavedSysctls:
    """arp_ignore, arp_filter and arp_announce on the base interface of an IPv4 VMAC."""
    saved = SavedSysctls()
    for name, value in BASE_SYSCTLS4.items():
        saved.set(f"{CONF4}/{base}/{name}", value)
    return saved


def clear_rp_filter() -> SavedSysctls:
    """all.rp_filter to 0 without loosening any interface: default and every interface are
    first raised to all's value (the kernel applies the larger of all and the device's)."""
    saved = SavedSysctls()
    value = read_sysctl(f"{CONF4}/all/rp_filter")
    if value is None or value == "0":
        return saved
    if int(read_sysctl(f"{CONF4}/default/rp_filter") or 0) < int(value):
        log.info("setting sysctl net.ipv4.conf.default.rp_filter to %s", value)
        saved.set(f"{CONF4}/default/rp_filter", value)
    try:
        devices = sorted(os.listdir(f"/proc/sys/{CONF4}"))
    except OSError:
        devices = []
    for dev in devices:
        if dev not in ("all", "default") and \
                int(read_sysctl(f"{CONF4}/{dev}/rp_filter") or value) < int(value):
            saved.set(f"{CONF4}/{dev}/rp_filter", value)
    log.info("setting sysctl net.ipv4.conf.all.rp_filter from %s to 0", value)
    saved.set(f"{CONF4}/all/rp_filter", "0")
    return saved


@dataclass
class _Namespace:
    """The IPv4 VMACs of one network namespace and what was changed for them."""

    vmacs: dict[str, str] = field(default_factory=dict)  # VMAC -> base interface
    base: dict[str, SavedSysctls] = field(default_factory=dict)
    rp_filter: SavedSysctls | None = None


_lock = threading.Lock()
_namespaces: dict[int, _Namespace] = {}


def _here() -> _Namespace:
    """The record of the calling thread's network namespace."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
        try:
            key = struct.unpack("Q", probe.getsockopt(socket.SOL_SOCKET, SO_NETNS_COOKIE, 8))[0]
        except OSError:  # kernel before 5.14: the namespace inode (may be reused)
            key = os.stat("/proc/thread-self/ns/net").st_ino
    return _namespaces.setdefault(key, _Namespace())


def acquire(vmac: str, base: str) -> bool:
    """Before IPv4 VMAC ``vmac`` on ``base`` is used: the host settings it needs. False (and
    nothing changed) when ``vmac`` holds them already."""
    with _lock:
        ns = _here()
        if vmac in ns.vmacs:
            return False
        ns.vmacs[vmac] = base
        if ns.rp_filter is None:
            ns.rp_filter = clear_rp_filter()
        if base not in ns.base:
            ns.base[base] = set_base_sysctls(base)
        return True


def release(vmac: str) -> None:
    """After IPv4 VMAC ``vmac`` is gone: put back what no other VMAC needs any more."""
    with _lock:
        ns = _here()
        base = ns.vmacs.pop(vmac, None)
        if base is None:
            return
        if base not in ns.vmacs.values():
            saved = ns.base.pop(base, None)
            if saved is not None:
                saved.restore()
        if not ns.vmacs and ns.rp_filter is not None:
            ns.rp_filter.restore()
            ns.rp_filter = None
