"""``pykeepalived --status``: the running daemon's state, for an operator or a script."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from pykeepalived.control.client import status


def print_status(pid_file: str, *, as_json: bool = False, out: TextIO | None = None) -> int:
    """Print every child's status; 0 when at least one child answered, 1 when none did."""
    out = out or sys.stdout
    replies = status(pid_file)
    if as_json:
        json.dump(replies, out, indent=2, sort_keys=True, default=str)
        out.write("\n")
    else:
        out.write(render(replies))
    return 0 if any(isinstance(r, dict) for r in replies.values()) else 1


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
