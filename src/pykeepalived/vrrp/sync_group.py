"""``vrrp_sync_group``: virtual routers that change state together (keepalived vrrp_sync.c).

Typical use is a router with an outside and an inside instance: if either side fails over, both
must, or traffic would go out through one box and come back through another. keepalived's rules:

* one member going to BACKUP pulls every MASTER member to BACKUP (``vrrp_sync_backup``);
* one member going to FAULT pulls every member to FAULT (``vrrp_sync_fault``), and the group
  leaves FAULT only when no member has a fault of its own;
* a member whose Master_Down_Timer fires becomes MASTER only if the group is already MASTER or
  every other member also wants MASTER (``vrrp_sync_can_goto_master``); otherwise it stays
  BACKUP, wanting MASTER, and the first member allowed to go pulls the rest
  (``vrrp_sync_master``);
* at start, a group whose members do not all want MASTER starts them all as backups.

And pykeepalived's planned hand-over: the group hands over as one (every MASTER member sends
priority 0 and keeps its VIPs), and no member releases its VIPs before every leaving member's
new master is in place; a member released by the hand-over's bound (Master_Down_Interval)
releases the others with it.

A :class:`SyncGroup` is the one object the daemon drives: every input for a member goes through
it, and each call returns every member's actions in their final order (the member the event
was for first, then the members it pulled along, then the group's own state change), as
``(router, action)`` pairs; a group's state change has no router. The daemon carries them out
in that order and never repairs the group or reorders anything.

An instance outside any ``vrrp_sync_group`` is driven through a group of one
(:meth:`SyncGroup.solo`): the rules above change nothing for it, and it reports no group state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence

from pykeepalived.vrrp.actions import Action, GroupStateChange, LowerPriorityReceived, State
from pykeepalived.vrrp.fsm import Event
from pykeepalived.vrrp.packet import Advert, IPAddress
from pykeepalived.vrrp.router import PRIORITY_OWNER, VirtualRouter

Emitted = tuple[VirtualRouter | None, Action]
"""One action and the member it is for (None: the group's own state change)."""

_NOTHING: list[Emitted] = []
_WORD = {Event.GROUP_MASTER: "MASTER", Event.GROUP_BACKUP: "BACKUP", Event.GROUP_FAULT: "FAULT"}


class SyncGroup:
    """A ``vrrp_sync_group`` (or, with ``name`` None, one instance on its own)."""

    def __init__(self, name: str | None, routers: Sequence[VirtualRouter],
                 log: logging.Logger | None = None, *, state: State = State.INIT) -> None:
        """``state`` is the state of the group of the same name before a reload: a group
        rebuilt over running members keeps it and reports only later changes."""
        self.name = name
        self.routers = tuple(routers)
        self.log = log or logging.getLogger("pykeepalived.vrrp")
        if not self.routers:
            raise ValueError(f"sync group {name}: no virtual router")
        if len({id(r) for r in self.routers}) != len(self.routers):
            raise ValueError(f"sync group {name}: a virtual router is listed twice")
        if name is not None and len(self.routers) == 1:
            self.log.warning("Sync group %s has only 1 virtual router(s) - this probably "
                             "isn't what you want", name)
        self._state = state

    @classmethod
    def solo(cls, router: VirtualRouter) -> SyncGroup:
        """The group of one that drives an instance outside any vrrp_sync_group."""
        return cls(None, [router], router.log)

    @property
    def state(self) -> State:
        return self._state

    @property
    def is_solo(self) -> bool:
        return self.name is None

    # --- inputs ------------------------------------------------------------------------

    def start(self, now: float, resume: Collection[VirtualRouter] = ()) -> list[Emitted]:
        """Start every member not running yet (RFC 5798 6.4.1); ``resume`` were MASTER
        before a reload."""
        fresh = [r for r in self.routers if not r.started]
        if self.is_solo:
            for router in fresh:
                router.start(now, resume_master=router in resume)
            return self._collect(fresh)
        out: list[Emitted] = []
        if not fresh:
            return out
        if self._state is State.INIT:
            # keepalived vrrp_init_state: the group's BACKUP/FAULT notifications come first
            faulty = any(r.has_fault for r in self.routers)
            self._set_state(State.FAULT if faulty else State.BACKUP, "startup", out)
        wants = [r in resume or (r.base_priority == PRIORITY_OWNER
                                 and r.wantstate is State.MASTER) for r in fresh]
        mixed = (any(wants) and not all(wants)) or (
            any(wants) and any(r.state is not State.MASTER for r in self.routers if r.started))
        for router in fresh:
            router.start(now, resume_master=router in resume, allow_master=not mixed,
                         as_backup=mixed and router not in resume)
            out += self._collect([router])
        if any(r.state is State.FAULT for r in self.routers):
            self._pull(Event.GROUP_FAULT, now, "startup", lambda r: r.state is not State.FAULT,
                       None, out)
        self._update_state("startup", out)
        return out

    def shutdown(self, now: float) -> list[Emitted]:
        """Every member leaves the protocol; the group reports STOP after its last member."""
        out: list[Emitted] = []
        for router in self.routers:
            router.shutdown(now)
            out += self._collect([router])
        self._update_state("shutdown", out)
        return out

    def receive_advert(self, router: VirtualRouter, advert: Advert, source: IPAddress,
                       now: float, *, ttl: int = 255, ah_seq: int | None = None
                       ) -> list[Emitted]:
        old = router.state
        router.receive_advert(advert, source, now, ttl=ttl, ah_seq=ah_seq,
                              allow_release=self.name is None or self._can_release(router))
        return self._settle(router, old, now)

    def hand_over(self, now: float, *, stop: bool = False) -> list[Emitted]:
        """Planned hand-over of every member (``VirtualRouter.hand_over``); ``stop`` for TERM:
        the members that are not MASTER stop at once, the others once handed over."""
        out: list[Emitted] = []
        for router in self.routers:
            router.hand_over(now, stop=stop)
            out += self._collect([router])
        self._update_state("shutdown" if stop else "hand-over", out)
        return out

    def drain(self, now: float) -> tuple[list[Emitted], list[str]]:
        """Drain every member (effective priority 1, hand-over if MASTER); the names of the
        members that cannot be drained (address owners) come second."""
        out: list[Emitted] = []
        refused = []
        for router in self.routers:
            if not router.drain(now):
                refused.append(router.name)
            out += self._collect([router])
        self._update_state("drain", out)
        return out, refused

    def resume(self, now: float) -> list[Emitted]:
        """Undo drain and hand-over for every member: they follow their configuration again."""
        for router in self.routers:
            router.resume(now)
        return self._collect(list(self.routers))

    def handle_timer(self, router: VirtualRouter, now: float) -> list[Emitted]:
        old = router.state
        allow = not router.master_down_due(now) or self._can_goto_master(router)
        router.handle_timer(now, allow_master=allow)
        return self._settle(router, old, now)

    def track(self, obj: str, status: bool | int | None, now: float) -> list[Emitted]:
        """What tracking observed of ``obj``, for every member that watches it."""
        out: list[Emitted] = []
        for router in self.routers:
            if router.tracking.watches(obj):
                old = router.state
                router.track(obj, status, now, may_recover=self._may_recover(router))
                out += self._settle(router, old, now)
        return out

    def set_fault(self, router: VirtualRouter, source: str, reason: str,
                  now: float) -> list[Emitted]:
        old = router.state
        router.set_fault(source, reason, now)
        return self._settle(router, old, now)

    def clear_fault(self, router: VirtualRouter, source: str, now: float) -> list[Emitted]:
        old = router.state
        router.clear_fault(source, now, may_recover=self._may_recover(router))
        return self._settle(router, old, now)

    # --- the group's rules ---------------------------------------------------------------

    def _can_goto_master(self, router: VirtualRouter) -> bool:
        """keepalived vrrp_sync_can_goto_master: prefer BACKUP to avoid thrashing."""
        if self._state is State.MASTER:
            return True
        return all(other.wantstate is State.MASTER for other in self.routers
                   if other is not router)

    def _can_release(self, router: VirtualRouter) -> bool:
        """A leaving member releases its VIPs only when every other leaving member's new
        master is in place too."""
        return all(other.handover_ready for other in self.routers
                   if other is not router and other.leaving)

    def _may_recover(self, router: VirtualRouter) -> bool:
        """A member leaves FAULT only when no other member has a fault of its own."""
        return not any(other.has_fault for other in self.routers if other is not router)

    def _settle(self, router: VirtualRouter, old: State, now: float) -> list[Emitted]:
        """The member's actions, then what its change does to the others, then the group's."""
        actions = router.actions()
        if self.name is None:  # solo (the common case, once per advert): no group rules
            return [(router, a) for a in actions] if actions else _NOTHING
        out: list[Emitted] = [(router, a) for a in actions]
        new = router.state
        why = f"sync group {self.name}: {router.name}"
        if old is State.MASTER and new is not State.MASTER:
            # handed over (or failed) while the others hand over: they release with it
            leaving = [r for r in self.routers if r is not router and r.leaving]
            for other in leaving:
                other.release_handover(now, why)
            out += self._collect(leaving)
        if new is not old:
            if new is State.FAULT:
                self._pull(Event.GROUP_FAULT, now, why, lambda r: r.state is not State.FAULT,
                           router, out)
            elif new is State.MASTER:
                self._pull(Event.GROUP_MASTER, now, why, lambda r: r.state is State.BACKUP,
                           router, out)
            elif new is State.BACKUP and old in (State.MASTER, State.FAULT):
                self._pull(Event.GROUP_BACKUP, now, why,
                           lambda r: r.state is State.MASTER
                           or (r.state is State.FAULT and not r.has_fault), router, out)
        if any(isinstance(a, LowerPriorityReceived) for a in actions):
            # keepalived vrrp_state_master_rx: the other members announce their VIPs too
            for other in self.routers:
                if other is not router and other.state is State.MASTER:
                    other.gratuitous_for_lower_priority(now)
                    out += self._collect([other])
        self._update_state(why, out)
        return out

    def _pull(self, event: Event, now: float, reason: str,
              which: Callable[[VirtualRouter], bool], trigger: VirtualRouter | None,
              out: list[Emitted]) -> None:
        targets = [r for r in self.routers if r is not trigger and which(r)]
        if not targets:
            return
        self.log.info("VRRP_Group(%s) Syncing instances to %s state", self.name, _WORD[event])
        for router in targets:
            router.group_event(event, now, reason)
        out += self._collect(targets)

    def _update_state(self, reason: str, out: list[Emitted]) -> None:
        states = {r.state for r in self.routers}
        if State.FAULT in states:
            new = State.FAULT
        elif len(states) == 1 and next(iter(states)) is not State.INIT:
            new = next(iter(states))
        else:
            return  # mixed or still starting: keep the group state
        self._set_state(new, reason, out)

    def _set_state(self, new: State, reason: str, out: list[Emitted]) -> None:
        if new is not self._state and self.name is not None:
            out.append((None, GroupStateChange(self.name, self._state, new, reason)))
            self._state = new

    @staticmethod
    def _collect(routers: Sequence[VirtualRouter]) -> list[Emitted]:
        return [(r, a) for r in routers for a in r.actions()]
