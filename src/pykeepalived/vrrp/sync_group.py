"""``vrrp_sync_group``: virtual routers that change state together (keepalived vrrp_sync.c).

Typical use is a router with an outside and an inside instance: if either side fails over, both
must, or traffic would go out through one box and come back through another. keepalived's rules:

* one member going to BACKUP pulls every MASTER member to BACKUP (``vrrp_sync_backup``);
* one member going to FAULT pulls every member to FAULT (``vrrp_sync_fault``), and the group
  leaves FAULT only when no member has a fault of its own;
* a member whose Master_Down_Timer fires becomes MASTER only if the group is already MASTER or
  every other member also wants MASTER (``vrrp_sync_can_goto_master``); otherwise it stays
  BACKUP, wanting MASTER, and the first member allowed to go pulls the rest
  (``vrrp_sync_master``).

The routers call the group synchronously at those decision points, so a member never sends a
MASTER advert or adds VIPs the group would not allow. The group's own state changes (for the
group ``notify`` scripts, with "GROUP" as first argument) are queued in :meth:`actions`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from pykeepalived.vrrp.actions import State, StateChange
from pykeepalived.vrrp.fsm import Event
from pykeepalived.vrrp.options import SyncGroupHooks
from pykeepalived.vrrp.router import VirtualRouter

logger = logging.getLogger(__name__)


class SyncGroup(SyncGroupHooks):
    """A ``vrrp_sync_group``; construct it before starting its routers."""

    def __init__(self, name: str, routers: Sequence[VirtualRouter]) -> None:
        self.name = name
        self.routers = tuple(routers)
        for router in self.routers:
            if router.sync_group is not None:
                raise ValueError(f"virtual router {router.name} cannot exist in more than one "
                                 f"sync group ({name})")
            router.sync_group = self
        if len(self.routers) == 1:
            logger.warning("Sync group %s has only 1 virtual router(s) - this probably isn't "
                           "what you want", name)
        self._state = State.INIT
        self._actions: list[StateChange] = []
        self._syncing = False

    @property
    def state(self) -> State:
        return self._state

    def actions(self) -> list[StateChange]:
        """Group state changes since the last call (for group notify scripts and the FIFO)."""
        queued, self._actions = self._actions, []
        return queued

    # --- hooks called by member routers --------------------------------------------------

    def can_goto_master(self, router: VirtualRouter) -> bool:
        """keepalived vrrp_sync_can_goto_master: prefer BACKUP to avoid thrashing."""
        if self._state is State.MASTER:
            return True
        return all(other.wantstate is State.MASTER for other in self.routers
                   if other is not router)

    def has_faulty_member(self) -> bool:
        return any(router.faults for router in self.routers)

    def member_changed(self, router: VirtualRouter, old: State, new: State, now: float,
                       reason: str) -> None:
        """A member changed state by itself: pull the others along (keepalived's TSM)."""
        if self._syncing:
            return
        self._syncing = True
        try:
            why = f"sync group {self.name}: {router.name} {reason}"
            if new is State.FAULT:
                self._pull(Event.GROUP_FAULT, now, why, lambda r: r.state is not State.FAULT)
            elif new is State.MASTER:
                self._pull(Event.GROUP_MASTER, now, why, lambda r: r.state is State.BACKUP)
            elif new is State.BACKUP and old in (State.MASTER, State.FAULT):
                self._pull(Event.GROUP_BACKUP, now, why,
                           lambda r: r.state is State.MASTER
                           or (r.state is State.FAULT and not r.faults))
        finally:
            self._syncing = False
        self._update_state(reason)

    def after_event(self, now: float) -> None:
        """Bring members in line after any router event; idempotent, safe to call always.

        Members already move each other synchronously; this repairs what the daemon changed
        behind the group's back (for example a router fed events before the group existed).
        """
        if self._syncing:
            return
        self._syncing = True
        try:
            why = f"sync group {self.name}"
            if self.has_faulty_member():
                self._pull(Event.GROUP_FAULT, now, why, lambda r: r.state is not State.FAULT)
            else:
                self._pull(Event.GROUP_BACKUP, now, why,
                           lambda r: r.state is State.FAULT and not r.faults)
                states = {r.state for r in self.routers}
                if State.MASTER in states and State.BACKUP in states:
                    if all(r.wantstate is State.MASTER for r in self.routers):
                        self._pull(Event.GROUP_MASTER, now, why,
                                   lambda r: r.state is State.BACKUP)
                    else:
                        self._pull(Event.GROUP_BACKUP, now, why,
                                   lambda r: r.state is State.MASTER)
        finally:
            self._syncing = False
        self._update_state("resynchronised")

    # --- internals -------------------------------------------------------------------------

    def _pull(self, event: Event, now: float, reason: str,
              which: Callable[[VirtualRouter], bool]) -> None:
        targets = [r for r in self.routers if which(r)]
        if not targets:
            return
        word = {Event.GROUP_MASTER: "MASTER", Event.GROUP_BACKUP: "BACKUP",
                Event.GROUP_FAULT: "FAULT"}[event]
        logger.info("VRRP_Group(%s) Syncing instances to %s state", self.name, word)
        for router in targets:
            router.group_event(event, now, reason)

    def _update_state(self, reason: str) -> None:
        states = {r.state for r in self.routers}
        if State.FAULT in states:
            new = State.FAULT
        elif states == {State.MASTER}:
            new = State.MASTER
        elif states == {State.BACKUP}:
            new = State.BACKUP
        elif states == {State.STOP}:
            new = State.STOP
        else:
            return  # mixed or still starting: keep the group state
        if new is not self._state:
            self._actions.append(StateChange(self._state, new, reason))
            self._state = new
