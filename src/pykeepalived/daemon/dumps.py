"""SIGUSR1 / SIGUSR2 dumps, in the files keepalived uses (/tmp/keepalived.data, .stats).

Monitoring tools read these files (Prometheus exporters, collectd and munin plugins parse
them line by line), so both follow the layout of Debian's keepalived 2.2.7 for every line
this daemon can fill in: a ``VRRP Instance`` line at one space, ``Key = value`` lines at
three, list items (VIPs) at five; the stats file with its sections (``Advertisements:``,
``Packet Errors:`` ...) and ``Key: number`` lines. Counters keepalived does not print come
after its own, in a section of their own.

Where: keepalived's temporary directory, ``$TMPDIR`` when it is an absolute path, else
``/tmp`` (keepalived 2.2.7 set_tmp_dir()), so /tmp/keepalived.data by default.

A dump is never left half written. keepalived truncates the file and writes into it, so a
full disk leaves a short file that a monitoring tool takes for the whole state. Here each
dump goes to a new file in the same directory, renamed over the old one once every byte is
written; when that fails (ENOSPC, EROFS ...) the new file and the previous dump (which no
longer describes the daemon) are removed, and the cause is logged once per file, until a
dump of that file succeeds again, which is logged too. Writing through a fresh file also
means a symlink planted at the dump's path in the world-writable /tmp is replaced, never
followed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import State

if TYPE_CHECKING:
    from pykeepalived.daemon.runtime import InstanceRuntime
    from pykeepalived.net.addresses import VipSpec

log = logging.getLogger("pykeepalived.vrrp")

DATA_NAME: Final = "keepalived.data"
STATS_NAME: Final = "keepalived.stats"
CHECK_DATA_NAME: Final = "keepalived_check.data"
_MODE: Final = 0o644  # as keepalived creates its dump files


def dump_dir() -> str:
    """keepalived's temporary directory: ``$TMPDIR`` if absolute, else ``/tmp``."""
    tmp = os.environ.get("TMPDIR", "")
    return tmp if tmp.startswith("/") else "/tmp"


def dump_path(name: str) -> str:
    """``/tmp/keepalived.data`` and the like, in :func:`dump_dir`."""
    return os.path.join(dump_dir(), name)


def write_data(instances: Mapping[str, InstanceRuntime], path: str | None = None) -> bool:
    """USR1: the running state of every instance (state, priorities, timers, addresses).
    True when the file was written whole."""
    lines = ["------< VRRP Topology >------"]
    for name, rt in instances.items():
        lines += _instance_lines(name, rt)
    return write_dump(path or dump_path(DATA_NAME), lines)


def _instance_lines(name: str, rt: InstanceRuntime) -> list[str]:
    r = rt.router
    cfg = rt.plan.router_config
    plan = rt.plan
    lines = [f" VRRP Instance = {name}", f"   VRRP Version = {r.version}"]
    if plan.sync_group is not None:
        lines.append(f"   Sync group = {plan.sync_group}")
    if plan.family == 6:
        lines.append("   Using Native IPv6")
    lines.append(f"   State = {r.state.value}")
    if r.state is State.BACKUP:
        lines.append(f"   Master router = {r.master_address or '(none)'}")
        lines.append(f"   Master priority = {r.master_priority}")
        if r.version == 3:
            lines.append(f"   Master advert int = {r.master_adver_int:.2f} sec")
    lines += [
        f"   Wantstate = {r.wantstate.value}",
        f"   Number of interface and track script faults = {len(r.faults)}",
        f"   Master down timer = {round(r.master_down_interval * 1e6)} usecs",
    ]
    if plan.vmac:
        lines.append(f"   Use VMAC, i/f name {plan.vmac}, xmit_base = "
                     f"{'false' if plan.xmit_ifname == plan.vmac else 'true'}")
    if plan.vmac:
        lines.append(f"   Interface = {plan.vmac}, vmac on {plan.ifname}"
                     f"{', xmit base i/f' if plan.xmit_ifname != plan.vmac else ''}")
    else:
        lines.append(f"   Interface = {plan.ifname}")
    if cfg.strict:
        lines.append("   Enforcing strict VRRP compliance")
    lines.append(f"   Using src_ip = {rt.src or '(none)'}")
    if not plan.unicast:
        lines.append(f"   Multicast address {plan.destinations[0]}")
    lines += [
        f"   Gratuitous ARP delay = {int(r.garp_master_delay)}",
        f"   Gratuitous ARP repeat = {r.garp_master_repeat}",
        f"   Virtual Router ID = {cfg.vrid}",
        f"   Priority = {r.base_priority}",
        f"   Effective priority = {r.priority}",
    ]
    if r.version == 2:
        lines.append(f"   Advert interval = {int(r.adver_int)} sec")
    else:
        lines.append(f"   Advert interval = {round(r.adver_int * 1000)} milli-sec")
    lines += [
        f"   Accept = {'disabled' if plan.no_accept else 'enabled'}",
        f"   Preempt = {'disabled' if r.nopreempt else 'enabled'}",
    ]
    if r.preempt_delay:
        lines.append(f"   Preempt delay = {r.preempt_delay:g} secs")
    if r.auth_type == packet.AUTH_AH:
        lines.append("   Authentication type = IPSEC_AH")
    elif r.auth_type == packet.AUTH_PASS:
        lines.append("   Authentication type = SIMPLE_PASSWORD")
    elif r.version == 2:
        lines.append("   Authentication type = none")
    if plan.vips:
        lines.append(f"   Virtual IP ({len(plan.vips)}):")
        lines += [_vip_line(v, rt.vip_installed(v)) for v in plan.vips]
    if plan.excluded:
        lines.append("   Virtual IP Excluded :")
        lines += [_vip_line(v, rt.vip_installed(v)) for v in plan.excluded]
    if plan.unicast:
        lines.append("   Unicast Peer :")
        lines += [f"     {peer}" for peer in plan.destinations]
    return lines


def _vip_line(vip: VipSpec, installed: bool) -> str:
    """``     192.0.2.10/24 dev eth0 scope global set`` ("set": on the interface now; not
    for a VIP the kernel refused, as keepalived shows it)."""
    text = f"     {vip.address} dev {vip.dev} scope {vip.scope or 'global'}"
    if vip.label:
        text += f" label {vip.label}"
    return text + (" set" if installed else "")


def write_stats(instances: Mapping[str, InstanceRuntime], invalid_packets: Mapping[str, int],
                path: str | None = None) -> bool:
    """USR2: per-instance counters, laid out as keepalived's stats file. True when the
    file was written whole."""
    lines = []
    for name, rt in instances.items():
        s = rt.router.stats
        lines += [
            f"VRRP Instance: {name}",
            "  Advertisements:",
            f"    Received: {s.advert_rcvd}",
            f"    Sent: {s.advert_sent}",
            f"  Became master: {s.became_master}",
            f"  Released master: {s.released_master}",
            "  Packet Errors:",
            f"    Length: {s.packet_len_err}",
            f"    TTL: {s.ip_ttl_err}",
            f"    Invalid Type: {s.invalid_type_rcvd}",
            f"    Advertisement Interval: {s.advert_interval_err}",
            f"    Address List: {s.addr_list_err}",
            "  Authentication Errors:",
            f"    Invalid Type: {s.invalid_authtype}",
            f"    Type Mismatch: {s.authtype_mismatch}",
            f"    Failure: {s.auth_failure}",
            "  Priority Zero:",
            f"    Received: {s.pri_zero_rcvd}",
            f"    Sent: {s.pri_zero_sent}",
            # keepalived counts these for SNMP only
            "  Other Errors:",
            f"    Version: {s.version_err}",
            f"    Checksum: {s.chk_err}",
            f"    VRID: {s.vrid_err}",
            f"    Own address: {s.own_address_err}",
            f"    Other: {s.other_err}",
            f"    Adverts not sent: {rt.send_errors}",
        ]
    if invalid_packets:
        lines.append("Invalid packets (not attributed to an instance):")
        lines += [f"  {k}: {v}" for k, v in sorted(invalid_packets.items())]
    return write_dump(path or dump_path(STATS_NAME), lines)


#: path -> the cause of its last failed dump, in this process (see the module docstring)
_failed: dict[str, str] = {}


def write_dump(path: str, lines: list[str], logger: logging.Logger = log) -> bool:
    """Replace ``path`` with ``lines`` whole, or remove it; see the module docstring.

    True when written. A failure is logged once per path and cause, then at debug level
    until a write of ``path`` succeeds again (logged as well). Never raises.
    """
    directory, name = os.path.split(path)
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    temp: str | None = None
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{name}.", dir=directory or ".")
        try:
            os.fchmod(fd, _MODE)
            view = memoryview(data)
            while view:  # bounded: each write takes at least a byte or raises
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.rename(temp, path)
    except OSError as exc:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        removed = False
        with contextlib.suppress(OSError):
            os.unlink(path)
            removed = True
        cause = exc.strerror or str(exc)
        level = logging.DEBUG if _failed.get(path) == cause else logging.ERROR
        _failed[path] = cause
        logger.log(level, "Cannot write %s: %s%s", path, cause,
                   " (the previous dump was removed: it is out of date)" if removed else "")
        return False
    if path in _failed:
        logger.info("Wrote %s again (the last attempt had failed: %s)", path,
                    _failed.pop(path))
    return True
