"""SIGUSR1 / SIGUSR2 dumps, in the files keepalived uses (/tmp/keepalived.data, .stats).

Monitoring tools read these files (Prometheus exporters, collectd and munin plugins parse
them line by line), so both follow the layout of Debian's keepalived 2.2.7 for every line
this daemon can fill in: a ``VRRP Instance`` line at one space, ``Key = value`` lines at
three, list items (VIPs) at five; the stats file with its sections (``Advertisements:``,
``Packet Errors:`` ...) and ``Key: number`` lines. Counters keepalived does not print come
after its own, in a section of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import State

if TYPE_CHECKING:
    from pykeepalived.daemon.runtime import InstanceRuntime
    from pykeepalived.net.addresses import VipSpec

log = logging.getLogger("pykeepalived.vrrp")

DATA_FILE = "/tmp/keepalived.data"
STATS_FILE = "/tmp/keepalived.stats"


def write_data(instances: Mapping[str, InstanceRuntime], path: str = DATA_FILE) -> None:
    """USR1: the running state of every instance (state, priorities, timers, addresses)."""
    lines = ["------< VRRP Topology >------"]
    for name, rt in instances.items():
        lines += _instance_lines(name, rt)
    _write(path, lines)


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
    installed = rt.vips_installed
    if plan.vips:
        lines.append(f"   Virtual IP ({len(plan.vips)}):")
        lines += [_vip_line(v, installed) for v in plan.vips]
    if plan.excluded:
        lines.append("   Virtual IP Excluded :")
        lines += [_vip_line(v, installed) for v in plan.excluded]
    if plan.unicast:
        lines.append("   Unicast Peer :")
        lines += [f"     {peer}" for peer in plan.destinations]
    return lines


def _vip_line(vip: VipSpec, installed: bool) -> str:
    """``     192.0.2.10/24 dev eth0 scope global set`` ("set": on the interface now)."""
    text = f"     {vip.address} dev {vip.dev} scope {vip.scope or 'global'}"
    if vip.label:
        text += f" label {vip.label}"
    return text + (" set" if installed else "")


def write_stats(instances: Mapping[str, InstanceRuntime], invalid_packets: Mapping[str, int],
                path: str = STATS_FILE) -> None:
    """USR2: per-instance counters, laid out as keepalived's stats file."""
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
    _write(path, lines)


def _write(path: str, lines: list[str]) -> None:
    try:
        with open(path, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    except OSError as exc:
        log.error("Cannot write %s: %s", path, exc)
