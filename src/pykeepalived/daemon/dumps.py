"""SIGUSR1 / SIGUSR2 dumps, in the files keepalived uses (/tmp/keepalived.data, .stats)."""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pykeepalived.daemon.vrrp_main import VrrpProcess

log = logging.getLogger("pykeepalived.vrrp")

DATA_FILE = "/tmp/keepalived.data"
STATS_FILE = "/tmp/keepalived.stats"


def write_data(proc: VrrpProcess, path: str = DATA_FILE) -> None:
    """USR1: the running state of every instance (state, priorities, timers, addresses)."""
    lines = [f"------< VRRP Topology > {time.strftime('%a %b %d %H:%M:%S %Y')}"]
    for name, rt in proc.instances.items():
        r = rt.router
        cfg = rt.plan.router_config
        lines += [
            f" VRRP Instance = {name}",
            f"   State = {r.state.value}",
            f"   Interface = {rt.plan.ifname}",
            f"   Virtual Router ID = {cfg.vrid}",
            f"   Base priority = {cfg.priority}",
            f"   Effective priority = {r.priority}",
            f"   Advert interval = {cfg.advert_int} sec",
            f"   Version = {cfg.version}",
            f"   Preempt = {'disabled' if cfg.nopreempt else 'enabled'}",
            f"   Preempt delay = {cfg.preempt_delay} secs",
            f"   Master down interval = {r.master_down_interval:.6f}",
            f"   Using src_ip = {rt.src}",
            f"   Destinations = {', '.join(rt.plan.destinations)}",
            f"   Virtual IP = {len(rt.plan.vips)}",
            *[f"     {v.address} dev {v.dev}" for v in rt.plan.vips],
        ]
    _write(path, lines)


def write_stats(proc: VrrpProcess, path: str = STATS_FILE) -> None:
    """USR2: per-instance counters, named as in keepalived's stats file."""
    lines = []
    for name, rt in proc.instances.items():
        lines.append(f"VRRP Instance: {name}")
        stats = rt.router.stats
        fields = dataclasses.asdict(stats) if dataclasses.is_dataclass(stats) else vars(stats)
        for key, value in fields.items():
            lines.append(f"  {key.replace('_', ' ').title()}: {value}")
    if proc.invalid_packets:
        lines.append("Invalid packets (not attributed to an instance):")
        lines += [f"  {k}: {v}" for k, v in sorted(proc.invalid_packets.items())]
    _write(path, lines)


def _write(path: str, lines: list[str]) -> None:
    try:
        with open(path, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    except OSError as exc:
        log.error("Cannot write %s: %s", path, exc)
