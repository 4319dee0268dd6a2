"""``pykeepalived --status``: the running daemon's state, for an operator or a script."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from typing import Any, TextIO

from pykeepalived.control.client import status


def print_status(pid_file: str, *, as_json: bool = False, history: bool = False,
                 svg: str | None = None, out: TextIO | None = None) -> int:
    """Print every child's status; 0 when at least one child answered, 1 when none did.
    With ``svg``, the history's picture is written to that file too (whole, or not at
    all: 2 when it cannot be written)."""
    out = out or sys.stdout
    replies = status(pid_file, history=history)
    if svg is not None:
        from pykeepalived.control.timeline import render_svg

        try:
            write_whole(svg, render_svg(replies))
        except OSError as exc:
            sys.stderr.write(f"pykeepalived: cannot write {svg}: {exc}\n")
            return 2
    if as_json:
        json.dump(replies, out, indent=2, sort_keys=True, default=str)
        out.write("\n")
    else:
        out.write(render_history(replies) if history else render(replies))
    return 0 if any(isinstance(r, dict) for r in replies.values()) else 1


def write_whole(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a fresh file renamed over it."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _seconds(value: Any) -> str:
    if value is None:
        return "-"
    value = float(value)
    if value < 1:
        return f"{value * 1000:.1f} ms"
    if value < 3600:
        return f"{value:.1f} s"
    return f"{value / 3600:.2f} h"


def _when(wall: float) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wall))
    return f"{stamp}.{int(wall * 1000) % 1000:03d}"


def render_history(replies: dict[str, dict[str, Any] | str]) -> str:
    """Each virtual router's transitions and failovers, and its availability: a table an
    operator can paste into an incident report."""
    vrrp = replies.get("vrrp")
    if not isinstance(vrrp, dict):
        return f"VRRP: not running ({vrrp})\n"
    lines: list[str] = []
    for inst in vrrp.get("instances", []):
        fig = inst.get("availability", {})
        lines.append(f"{inst['name']} (VRID {inst['vrid']} on {inst['interface']}), now "
                     f"{inst['state']}")
        lines.append(f"  failovers {fig.get('failovers', 0)} ({fig.get('planned', 0)} planned), "
                     f"without master {_seconds(fig.get('down_seconds'))} over "
                     f"{_seconds(fig.get('life_seconds'))}, MTBF "
                     f"{_seconds(fig.get('mtbf_seconds'))}, MTTR "
                     f"{_seconds(fig.get('mttr_seconds'))}, availability "
                     f"{100 * float(fig.get('availability', 1.0)):.4f}%")
        history = inst.get("history", {})
        events = [(t["wall"], f"{t['old']:>6} -> {t['new']:<6} {t['reason']}")
                  for t in history.get("transitions", [])]
        events += [(g["wall_end"], f"{'gap':>16} {_seconds(g['seconds'])}"
                    f"{' (planned hand-over)' if g['planned'] else ''}")
                   for g in history.get("gaps", [])]
        lines.append(f"  {'time':<23}  event")
        for wall, text in sorted(events):
            lines.append(f"  {_when(wall):<23}  {text}")
        lines.append("")
    return "\n".join(lines) + "\n"


def render(replies: dict[str, dict[str, Any] | str]) -> str:
    lines: list[str] = []
    vrrp = replies.get("vrrp")
    if isinstance(vrrp, dict):
        lines.append("VRRP instances:")
        lines.append(f"  {'name':<16} {'state':<7} {'vrid':>4} {'prio':>4} {'eff':>4} "
                     f"{'interface':<10} {'master':<20} faults")
        for inst in vrrp.get("instances", []):
            lines.append(f"  {inst['name']:<16} {inst['state']:<7} {inst['vrid']:>4} "
                         f"{inst['priority']:>4} {inst['effective_priority']:>4} "
                         f"{inst['interface']:<10} {inst['master'] or '-':<20} "
                         f"{', '.join(inst['faults']) or '-'}")
        for group in vrrp.get("sync_groups", []):
            lines.append(f"  sync group {group['name']}: {group['state']} "
                         f"({', '.join(group['members'])})")
    else:
        lines.append(f"VRRP: not running ({vrrp})")
    check = replies.get("check")
    if isinstance(check, dict):
        lines.append(f"Load balancer ({check.get('backend')}):")
        lines += ["  " + line for line in str(check.get("table", "")).splitlines()]
    else:
        lines.append(f"Checkers: not running ({check})")
    return "\n".join(lines) + "\n"
