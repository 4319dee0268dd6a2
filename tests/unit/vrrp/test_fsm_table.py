"""Every row of the RFC 5798 6.4 transition table is what the router really does."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pykeepalived.vrrp.actions import State
from pykeepalived.vrrp.fsm import TRANSITIONS, Event
from pykeepalived.vrrp.router import VirtualRouter
from pykeepalived.vrrp.sync_group import SyncGroup
from tests.unit.vrrp.helpers import (
    PEER_HIGH,
    advert,
    router,
    started_backup,
    started_master,
)


def in_state(state: State, **kw: object) -> VirtualRouter:
    if state is State.INIT:
        return router(**kw)
    if state is State.BACKUP:
        return started_backup(0.0, **kw)
    if state is State.MASTER:
        return started_master(0.0, **kw)
    r = started_backup(0.0, **kw)
    r.set_fault(1.0, "link")
    r.actions()
    return r


def timer(r: VirtualRouter) -> None:
    when = r.get_timer()
    assert when is not None
    r.handle_timer(when)


def held(state: State) -> VirtualRouter:
    r, other = router(name="A"), router(name="B")
    SyncGroup("G", [r, other])
    r.start(0.0)
    other.start(0.0)
    other.receive_advert(advert(150), PEER_HIGH, 0.5)  # B hears a master: wants BACKUP
    timer(r)
    return r


def start_with_fault(state: State) -> VirtualRouter:
    r = router()
    r.set_fault(0.0, "link")
    r.start(0.0)
    return r


def group(event: Event) -> Callable[[State], VirtualRouter]:
    def drive(state: State) -> VirtualRouter:
        r = in_state(state)
        r.group_event(event, 50.0, "test")
        return r
    return drive


def then(action: Callable[[VirtualRouter], None], **kw: object) -> Callable[[State],
                                                                          VirtualRouter]:
    def drive(state: State) -> VirtualRouter:
        r = in_state(state, **kw)
        action(r)
        return r
    return drive


DRIVERS: dict[Event, Callable[[State], VirtualRouter]] = {
    Event.STARTUP: then(lambda r: r.start(0.0)),
    Event.STARTUP_OWNER: then(lambda r: r.start(0.0), priority=255),
    Event.SHUTDOWN: then(lambda r: r.shutdown(50.0)),
    Event.MASTER_DOWN_TIMER: then(timer),
    Event.MASTER_DOWN_TIMER_HELD: held,
    Event.ADVER_TIMER: then(timer, garp_master_delay=0),
    Event.ADVERT_PRIORITY_ZERO: then(lambda r: r.receive_advert(advert(0), PEER_HIGH, 50.0)),
    Event.ADVERT_ACCEPTED: then(lambda r: r.receive_advert(advert(150), PEER_HIGH, 50.0)),
    Event.ADVERT_PREEMPTED: then(lambda r: r.receive_advert(advert(100), PEER_HIGH, 1.0),
                                 priority=150),
    Event.ADVERT_HIGHER: then(lambda r: r.receive_advert(advert(150), PEER_HIGH, 50.0)),
    Event.ADVERT_LOWER: then(lambda r: r.receive_advert(advert(50), PEER_HIGH, 50.0)),
    Event.RECOVER: then(lambda r: r.clear_fault(50.0)),
    Event.GROUP_MASTER: group(Event.GROUP_MASTER),
    Event.GROUP_BACKUP: group(Event.GROUP_BACKUP),
    Event.GROUP_FAULT: group(Event.GROUP_FAULT),
}


def fault_driver(state: State) -> VirtualRouter:
    if state is State.INIT:
        return start_with_fault(state)
    r = in_state(state)
    r.set_fault(50.0, "link")
    return r


DRIVERS[Event.FAULT] = fault_driver


@pytest.mark.parametrize(("state", "event"), list(TRANSITIONS),
                         ids=[f"{s.value}-{e.name}" for s, e in TRANSITIONS])
def test_row(state: State, event: Event) -> None:
    row = TRANSITIONS[(state, event)]
    r = DRIVERS[event](state)
    assert r.state is row.next, f"{state.value} + {event.value}: {row.does} ({row.source})"


def test_every_rfc_6_4_state_has_its_rows() -> None:
    sources = {row.source for row in TRANSITIONS.values()}
    for section in ("RFC 5798 6.4.1", "RFC 5798 6.4.2", "RFC 5798 6.4.3"):
        assert section in sources
    for state in (State.INIT, State.BACKUP, State.MASTER):
        assert (state, Event.SHUTDOWN) in TRANSITIONS


@pytest.mark.parametrize("event", [Event.ADVERT_ACCEPTED, Event.ADVERT_HIGHER,
                                   Event.ADVERT_PRIORITY_ZERO, Event.ADVER_TIMER,
                                   Event.MASTER_DOWN_TIMER])
def test_events_outside_the_table_change_nothing(event: Event) -> None:
    """FAULT ignores adverts and timers; STOP ignores everything."""
    for state in (State.FAULT, State.STOP):
        assert (state, event) not in TRANSITIONS
    r = in_state(State.FAULT)
    r.receive_advert(advert(150), PEER_HIGH, 60.0)
    r.handle_timer(1000.0)
    assert r.state is State.FAULT and r.actions() == []
