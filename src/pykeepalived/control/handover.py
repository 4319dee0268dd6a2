"""``pykeepalived --handover NAME`` / ``--drain NAME`` / ``--resume NAME``: move masters on purpose.

The verb goes to the VRRP process over its control socket (see
:mod:`pykeepalived.daemon.vrrp_control`). For a hand-over or a drain the command then waits,
reading the status, until no instance of the target is handing over any more (bounded by the
hand-overs' Master_Down_Interval, which the reply gives), and prints where each ended: a script
doing a rolling upgrade can go on once it returns 0.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from pykeepalived.control.client import ControlError, ask
from pykeepalived.control.server import socket_path

POLL = 0.05
MARGIN = 2.0  # beyond the reply's deadline, the command waits no more
ABANDONED = ", hand-over abandoned: no other node took over"


def _leaving(pid_file: str, names: set[str]) -> set[str] | None:
    """The instances among ``names`` still handing over (None: the daemon did not answer)."""
    try:
        reply = ask(socket_path(pid_file, "vrrp"), {"cmd": "status"})
    except ControlError:
        return None
    return {i["name"] for i in reply.get("instances", []) if i["name"] in names
            and i.get("leaving")}


def _final(pid_file: str, names: set[str]) -> dict[str, dict[str, Any]]:
    try:
        reply = ask(socket_path(pid_file, "vrrp"), {"cmd": "status"})
    except ControlError:
        return {}
    return {i["name"]: i for i in reply.get("instances", []) if i["name"] in names}


def run(pid_file: str, verb: str, target: str, *, as_json: bool = False,
        out: TextIO | None = None) -> int:
    """Send ``verb`` for ``target``; 0 when done, 1 when refused, unknown, unfinished or
    abandoned (no other node took over)."""
    out = out or sys.stdout
    try:
        reply = ask(socket_path(pid_file, "vrrp"), {"cmd": verb, "target": target})
    except ControlError as exc:
        sys.stderr.write(f"pykeepalived: VRRP process not reachable: {exc}\n")
        return 1
    if "error" in reply:
        sys.stderr.write(f"pykeepalived: {reply['error']}\n")
        return 1
    names = set(reply.get("instances", {}))
    leaving = {n for n, i in reply.get("instances", {}).items() if i.get("leaving")}
    started = set(leaving)
    deadline = time.monotonic() + float(reply.get("deadline_seconds", 0.0)) + MARGIN
    while leaving and time.monotonic() < deadline:
        time.sleep(POLL)
        still = _leaving(pid_file, leaving)
        if still is None:
            break  # the daemon went away (a TERM meanwhile): nothing more to learn
        leaving = still
    final = _final(pid_file, names)
    # still MASTER after handing over: nobody took over within the bound
    abandoned = {n for n in started - leaving if final.get(n, {}).get("state") == "MASTER"}
    if as_json:
        json.dump({"reply": reply, "final": final, "unfinished": sorted(leaving),
                   "abandoned": sorted(abandoned)}, out, indent=2, sort_keys=True)
        out.write("\n")
    else:
        for name in sorted(names):
            inst = final.get(name, {})
            out.write(f"{name}: {inst.get('state', '?')}, effective priority "
                      f"{inst.get('effective_priority', '?')}, master "
                      f"{inst.get('master') or '-'}"
                      f"{', drained' if inst.get('drained') else ''}"
                      f"{', still handing over' if name in leaving else ''}"
                      f"{ABANDONED if name in abandoned else ''}\n")
        for name in reply.get("refused", []):
            out.write(f"{name}: not drained (priority 255: the address owner)\n")
    return 1 if leaving or abandoned or reply.get("refused") else 0
