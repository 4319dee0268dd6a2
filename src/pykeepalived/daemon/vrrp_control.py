"""The VRRP process's control verbs: planned hand-over, drain, resume.

An operator moves masters on purpose (rolling upgrades, maintenance, rebalancing) with
``pykeepalived --handover NAME``, ``--drain NAME`` and ``--resume NAME``, sent over the
process's control socket as ``{"cmd": "handover"|"drain"|"resume", "target": NAME}``. NAME is
an instance, a vrrp_sync_group, or ``all``; an instance of a sync group stands for its group,
since a sync group's members change state together.

* handover: every MASTER of the target hands over without loss (make-before-break: priority
  0, VIPs kept until the new master is in place) and stays BACKUP, not taking the VIPs back
  by preemption;
* drain: effective priority 1 (any other backup is preferred) and, if MASTER, the same
  hand-over; an address owner (priority 255) is refused;
* resume: undoes both; the instances follow their configuration again.

The reply names each instance of the target with its state, and the longest time the
hand-overs may take (their Master_Down_Interval), which the command line waits for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from pykeepalived.vrrp.router import VirtualRouter
from pykeepalived.vrrp.sync_group import Emitted, SyncGroup

log = logging.getLogger("pykeepalived.vrrp")

VERBS = ("handover", "drain", "resume")


def targets(name: str, instances: dict[str, VirtualRouter], instance_groups: dict[str, SyncGroup],
            sync_groups: dict[str, SyncGroup], every: Iterable[SyncGroup]) -> list[SyncGroup]:
    """The groups ``name`` stands for: an instance's (its sync group, or its group of one), a
    vrrp_sync_group, or every group for ``all``; empty when nothing has that name."""
    if name in instances:
        return [instance_groups[name]]
    if name in sync_groups:
        return [sync_groups[name]]
    if name == "all":
        return list(every)
    return []


def describe(router: VirtualRouter) -> dict[str, Any]:
    return {"state": router.state.value, "leaving": router.leaving,
            "drained": router.drained, "yielding": router.yielding,
            "effective_priority": router.priority}


def run(verb: str, groups: list[SyncGroup], now: float,
        emit: Callable[[list[Emitted]], None], arm: Callable[[SyncGroup], None]
        ) -> dict[str, Any]:
    """Apply ``verb`` to ``groups``; the reply for the control socket."""
    refused: list[str] = []
    for group in groups:
        if verb == "handover":
            out = group.hand_over(now)
        elif verb == "drain":
            out, owners = group.drain(now)
            refused += owners
        else:
            out = group.resume(now)
        emit(out)
        arm(group)
    routers = [r for g in groups for r in g.routers]
    leaving = [r for r in routers if r.leaving]
    for name in refused:
        log.warning("(%s) not drained: priority 255 is the address owner's and never "
                    "changes", name)
    log.info("Control: %s of %s", verb, ", ".join(r.name for r in routers))
    return {"cmd": verb, "instances": {r.name: describe(r) for r in routers},
            "sync_groups": [g.name for g in groups if g.name is not None],
            "refused": refused,
            "deadline_seconds": max((r.master_down_interval for r in leaving), default=0.0)}
