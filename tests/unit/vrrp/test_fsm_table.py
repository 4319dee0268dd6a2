"""Every row of the transition table is what the router really does: next state, the actions
in their order, the timer, and what the router learnt.

The expectations below are written out by hand from RFC 5798 6.4 and keepalived, apart from
the table in ``pykeepalived.vrrp.fsm``: a wrong step in the table, or a wrong line in the step
that performs it, makes one of these rows fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from pykeepalived.vrrp.actions import State
from pykeepalived.vrrp.fsm import TRANSITIONS, Do, Event
from pykeepalived.vrrp.router import VirtualRouter
from tests.unit.vrrp.helpers import PEER_HIGH, advert, router, summary

NOW = 50.0
SKEW_100 = 156 / 256  # (256 - 100) * Master_Adver_Interval(1 s) / 256
DOWN_100 = 3 + SKEW_100  # Master_Down_Interval for priority 100, interval 1 s
GARPS = ["garp"] * 5  # garp_master_repeat defaults to 5


def build(state: State, **kw: object) -> tuple[VirtualRouter, float]:
    """A VRRPv3 router (advert_int 1 s, priority 100) in ``state``; returns it and the time
    at which its timer is due. garp_master_delay 0 keeps the gratuitous ARP timers out of
    ``get_timer`` so that it shows Adver_Timer / Master_Down_Timer alone."""
    options: dict[str, object] = {"version": 3, "garp_master_delay": 0}
    options.update(kw)
    r = router(**options)
    if state is not State.INIT:
        r.start(0.0)
        if state is State.MASTER:
            r.handle_timer(r.get_timer() or 0.0)
        elif state is State.FAULT:
            r.set_fault("test", "link", 1.0)
        assert r.state is state
        r.actions()
    return r, r.get_timer() or 0.0


def peer(priority: int, interval: float = 2.0) -> Callable[[VirtualRouter, float], None]:
    """An advert from PEER_HIGH; its 2 s interval makes Master_Adver_Interval visible."""
    def send(r: VirtualRouter, _due: float) -> None:
        r.receive_advert(advert(priority, version=3, interval=interval), PEER_HIGH, NOW)
    return send


def at_timer(allow_master: bool = True) -> Callable[[VirtualRouter, float], None]:
    def fire(r: VirtualRouter, due: float) -> None:
        r.handle_timer(due, allow_master=allow_master)
    return fire


def at_now(call: Callable[[VirtualRouter], None]) -> Callable[[VirtualRouter, float], None]:
    return lambda r, _due: call(r)


@dataclass
class Row:
    """What must happen: the driver, then the expected outcome."""

    drive: Callable[[VirtualRouter, float], None]
    next: State
    actions: list[str]
    timer: Callable[[float], float | None]  # from the event's time (NOW, or the due time)
    options: dict[str, object] = field(default_factory=dict)
    learnt: dict[str, object] = field(default_factory=dict)
    at_due: bool = False  # the event happens when the router's timer is due
    setup: Callable[[VirtualRouter], None] | None = None  # after build: what led here


def after(delay: float) -> Callable[[float], float]:
    return lambda t: t + delay


def none(_t: float) -> None:
    return None


BECOME_MASTER = ["advert(100)", "BACKUP->MASTER", "add_vips", *GARPS]
TAKE_OVER_PLANNED = ["add_vips", "advert(100)", "BACKUP->MASTER", *GARPS]
LEAVE_AT = NOW - 0.5 + DOWN_100  # the bound of a hand-over started half a second before NOW


def leaving(stop: bool = False, successor_adverts: int = 0) -> Callable[[VirtualRouter], None]:
    """A master that started handing over at NOW - 0.5 and heard its new master
    ``successor_adverts`` times (priority 50, from PEER_HIGH)."""
    def setup(r: VirtualRouter) -> None:
        r.hand_over(NOW - 0.5, stop=stop)
        for _ in range(successor_adverts):
            r.receive_advert(advert(50, version=3, interval=2.0), PEER_HIGH, NOW - 0.2,
                             allow_release=False)
    return setup


def goodbye(r: VirtualRouter) -> None:
    """The master said priority 0 at NOW - 0.5 (a planned hand-over on its side)."""
    r.receive_advert(advert(0, version=3, interval=1.0), PEER_HIGH, NOW - 0.5)

EXPECTED: dict[tuple[State, Event], Row] = {
    (State.INIT, Event.STARTUP_OWNER): Row(
        at_now(lambda r: r.start(NOW)), State.MASTER,
        ["advert(255)", "INIT->MASTER", "add_vips", *GARPS], after(1.0), {"priority": 255},
        {"master_address": router().primary_address, "master_priority": 255}),
    (State.INIT, Event.STARTUP): Row(
        at_now(lambda r: r.start(NOW)), State.BACKUP, ["INIT->BACKUP"], after(DOWN_100)),
    (State.INIT, Event.STARTUP_HELD): Row(
        at_now(lambda r: r.start(NOW, allow_master=False)), State.BACKUP, ["INIT->BACKUP"],
        after(1.0 + 1 / 256), {"priority": 255}, {"wantstate": State.MASTER}),
    (State.INIT, Event.FAULT): Row(
        at_now(lambda r: (r.set_fault("test", "link", NOW), r.start(NOW))), State.FAULT,
        ["INIT->FAULT"], none),
    (State.INIT, Event.SHUTDOWN): Row(
        at_now(lambda r: r.shutdown(NOW)), State.STOP, ["INIT->STOP"], none),
    (State.BACKUP, Event.SHUTDOWN): Row(
        at_now(lambda r: r.shutdown(NOW)), State.STOP, ["BACKUP->STOP"], none),
    (State.BACKUP, Event.MASTER_DOWN_TIMER): Row(
        at_timer(), State.MASTER, BECOME_MASTER, after(1.0), at_due=True),
    (State.BACKUP, Event.MASTER_DOWN_TIMER_HELD): Row(
        at_timer(allow_master=False), State.BACKUP, [], after(DOWN_100),
        learnt={"wantstate": State.MASTER}, at_due=True),
    (State.BACKUP, Event.ADVERT_PRIORITY_ZERO): Row(
        peer(0, 1.0), State.BACKUP, [], after(SKEW_100)),
    (State.BACKUP, Event.ADVERT_ACCEPTED): Row(
        peer(150), State.BACKUP, [], after(3 * 2 + 2 * SKEW_100),
        learnt={"master_address": PEER_HIGH, "master_priority": 150,
                "master_adver_int": 2.0}),
    (State.BACKUP, Event.ADVERT_PREEMPTED): Row(
        peer(100), State.BACKUP, [], lambda _t: 3 + 106 / 256, {"priority": 150},
        {"master_address": PEER_HIGH, "master_priority": 0, "master_adver_int": 1.0}),
    (State.BACKUP, Event.FAULT): Row(
        at_now(lambda r: r.set_fault("test", "link", NOW)), State.FAULT, ["BACKUP->FAULT"],
        none),
    (State.BACKUP, Event.GROUP_MASTER): Row(
        at_now(lambda r: r.group_event(Event.GROUP_MASTER, NOW, "group")), State.MASTER,
        BECOME_MASTER, after(1.0)),
    (State.BACKUP, Event.GROUP_FAULT): Row(
        at_now(lambda r: r.group_event(Event.GROUP_FAULT, NOW, "group")), State.FAULT,
        ["BACKUP->FAULT"], none),
    (State.MASTER, Event.SHUTDOWN): Row(
        at_now(lambda r: r.shutdown(NOW)), State.STOP,
        ["advert(0)", "remove_vips", "MASTER->STOP"], none),
    (State.MASTER, Event.ADVER_TIMER): Row(
        at_timer(), State.MASTER, ["advert(100)"], after(1.0), at_due=True),
    (State.MASTER, Event.ADVERT_PRIORITY_ZERO): Row(
        peer(0, 1.0), State.MASTER, ["advert(100)"], after(1.0)),
    (State.MASTER, Event.ADVERT_HIGHER): Row(
        peer(150), State.BACKUP, ["MASTER->BACKUP", "remove_vips"],
        after(3 * 2 + 2 * SKEW_100),
        learnt={"master_address": PEER_HIGH, "master_priority": 150,
                "master_adver_int": 2.0}),
    (State.MASTER, Event.ADVERT_LOWER): Row(
        peer(50), State.MASTER, ["advert(100)", *GARPS, "lower(50)"], after(1.0)),
    (State.MASTER, Event.FAULT): Row(
        at_now(lambda r: r.set_fault("test", "link", NOW)), State.FAULT,
        ["MASTER->FAULT", "advert(0)", "remove_vips"], none),
    (State.MASTER, Event.GROUP_BACKUP): Row(
        at_now(lambda r: r.group_event(Event.GROUP_BACKUP, NOW, "group")), State.BACKUP,
        ["MASTER->BACKUP", "remove_vips"], after(DOWN_100)),
    (State.MASTER, Event.GROUP_FAULT): Row(
        at_now(lambda r: r.group_event(Event.GROUP_FAULT, NOW, "group")), State.FAULT,
        ["MASTER->FAULT", "advert(0)", "remove_vips"], none),
    (State.FAULT, Event.RECOVER): Row(
        at_now(lambda r: r.clear_fault("test", NOW)), State.BACKUP, ["FAULT->BACKUP"],
        after(DOWN_100)),
    (State.FAULT, Event.GROUP_BACKUP): Row(
        at_now(lambda r: r.group_event(Event.GROUP_BACKUP, NOW, "group")), State.BACKUP,
        ["FAULT->BACKUP"], after(DOWN_100)),
    (State.FAULT, Event.SHUTDOWN): Row(
        at_now(lambda r: r.shutdown(NOW)), State.STOP, ["FAULT->STOP"], none),
    # --- planned hand-over -----------------------------------------------------------------
    (State.MASTER, Event.HANDOVER): Row(
        at_now(lambda r: r.hand_over(NOW)), State.MASTER, ["advert(0)"], after(1.0),
        learnt={"leaving": True, "handover_ready": False}),
    (State.MASTER, Event.LEAVING_ADVER_TIMER): Row(
        at_timer(), State.MASTER, ["advert(0)"], after(1.0), at_due=True, setup=leaving(),
        learnt={"leaving": True}),
    (State.MASTER, Event.SUCCESSOR_ADVERT): Row(
        peer(50), State.MASTER, [], lambda _t: LEAVE_AT, setup=leaving(),
        learnt={"master_address": PEER_HIGH, "master_priority": 50, "leaving": True,
                "handover_ready": False}),
    (State.MASTER, Event.SUCCESSOR_HELD): Row(
        at_now(lambda r: r.receive_advert(advert(50, version=3, interval=2.0), PEER_HIGH, NOW,
                                          allow_release=False)),
        State.MASTER, [], lambda _t: LEAVE_AT, setup=leaving(successor_adverts=1),
        learnt={"leaving": True, "handover_ready": True}),
    (State.MASTER, Event.HANDED_OVER): Row(
        peer(50), State.BACKUP, ["MASTER->BACKUP", "remove_vips"], after(3 * 2 + 2 * SKEW_100),
        setup=leaving(successor_adverts=1),
        learnt={"leaving": False, "yielding": True, "master_address": PEER_HIGH,
                "master_priority": 50, "master_adver_int": 2.0}),
    (State.MASTER, Event.HANDED_OVER_STOP): Row(
        peer(50), State.STOP, ["remove_vips", "MASTER->STOP"], none,
        setup=leaving(stop=True, successor_adverts=1), learnt={"leaving": False}),
    (State.MASTER, Event.HANDOVER_ABANDONED): Row(
        at_timer(), State.MASTER, ["advert(100)"], after(1.0), at_due=True,
        setup=lambda r: (r.hand_over(NOW - 0.5), r.handle_timer(NOW + 0.5),
                         r.handle_timer(NOW + 1.5), r.handle_timer(NOW + 2.5)),
        learnt={"leaving": False, "yielding": False}),
    (State.BACKUP, Event.MASTER_DOWN_TIMER_PLANNED): Row(
        at_timer(), State.MASTER, TAKE_OVER_PLANNED, after(1.0), at_due=True, setup=goodbye),
    (State.BACKUP, Event.GROUP_MASTER_PLANNED): Row(
        at_now(lambda r: r.group_event(Event.GROUP_MASTER, NOW, "group")), State.MASTER,
        TAKE_OVER_PLANNED, after(1.0), setup=goodbye),
}


def test_every_row_has_an_expectation() -> None:
    assert set(EXPECTED) == set(TRANSITIONS)


@pytest.mark.parametrize("key", list(EXPECTED), ids=[f"{s.value}-{e.name}" for s, e in EXPECTED])
def test_row(key: tuple[State, Event]) -> None:
    state, event = key
    row = EXPECTED[key]
    r, due = build(state, **row.options)
    if row.setup is not None:
        row.setup(r)
        r.actions()
        due = r.get_timer() or 0.0
    when = due if row.at_due else NOW
    row.drive(r, due)
    table = TRANSITIONS[key]
    context = f"{state.value} + {event.value}: {table.does} ({table.source})"
    assert r.state is row.next, context
    assert table.next is row.next, context
    assert summary(r.actions()) == row.actions, context
    expected_timer = row.timer(when)
    if expected_timer is None:
        assert r.get_timer() is None, context
    else:
        assert r.get_timer() == pytest.approx(expected_timer), context
    for name, value in row.learnt.items():
        assert getattr(r, name) == value, f"{name}: {context}"


def test_every_step_is_used_and_every_row_cites_its_source() -> None:
    used = {step for row in TRANSITIONS.values() for step in row.does}
    assert used == set(Do)
    sources = {row.source.split(" (")[0] for row in TRANSITIONS.values()}
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
    r, _ = build(State.FAULT)
    r.receive_advert(advert(150), PEER_HIGH, 60.0)
    r.handle_timer(1000.0)
    assert r.state is State.FAULT and r.actions() == []
