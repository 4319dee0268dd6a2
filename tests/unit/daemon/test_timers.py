"""The shared deadline scheduler: order, lazy re-arming, disarm, and the asyncio fallback."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from pykeepalived.daemon import timers


class Key:
    def __init__(self, name: str) -> None:
        self.name = name
        self.sched_when: float | None = None
        self.sched_at: float | None = None


def run_scheduler(use_timerfd: bool, plan: list[tuple[str, float]],
                  later: dict[str, float] | None = None,
                  disarm: tuple[str, ...] = ()) -> list[str]:
    """Arm keys at now+offset; returns the order in which they fired."""
    fired: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sched: timers.Scheduler[Key] = timers.Scheduler(loop, lambda k, now: fired.append(k.name))
        if not use_timerfd and sched._tfd is not None:
            loop.remove_reader(sched._tfd.fd)
            sched._tfd.close()
            sched._tfd = None
        now = time.monotonic()
        keys = {name: Key(name) for name, _ in plan}
        for name, offset in plan:
            sched.arm(keys[name], now + offset)
        for name, offset in (later or {}).items():
            sched.arm(keys[name], now + offset)  # later than armed: nothing changes here
        for name in disarm:
            sched.disarm(keys[name])
        await asyncio.sleep(0.15)
        sched.close()

    asyncio.run(main())
    return fired


@pytest.mark.parametrize("use_timerfd", [True, False])
def test_fires_in_deadline_order(use_timerfd: bool) -> None:
    fired = run_scheduler(use_timerfd, [("c", 0.03), ("a", 0.01), ("b", 0.02)])
    assert fired == ["a", "b", "c"]


@pytest.mark.parametrize("use_timerfd", [True, False])
def test_a_later_deadline_replaces_the_earlier_one(use_timerfd: bool) -> None:
    # b moved from 10 ms to 50 ms: called at 50 ms, after a (20 ms), and never at 10 ms
    fired = run_scheduler(use_timerfd, [("a", 0.02), ("b", 0.01)], later={"b": 0.05})
    assert fired == ["a", "b"]


@pytest.mark.parametrize("use_timerfd", [True, False])
def test_deadlines_moved_later_cost_no_wakeup(use_timerfd: bool,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A backup's Master_Down_Timer moves later with every advert. Twenty keys armed at
    10..29 ms and moved to 100..119 ms before any of them came up: each is called once, at
    or after its last deadline. Before those, the scheduler wakes up once at most (the
    kernel timer was set for the first early deadline), and that wake-up moves every entry
    on; at most one wake-up per key after them."""
    wakeups: list[float] = []
    called: dict[str, float] = {}
    real_fire = timers.Scheduler._fire

    def counting_fire(self: timers.Scheduler[Key]) -> None:
        wakeups.append(time.monotonic())
        real_fire(self)

    monkeypatch.setattr(timers.Scheduler, "_fire", counting_fire)

    async def main() -> float:
        loop = asyncio.get_running_loop()
        sched: timers.Scheduler[Key] = timers.Scheduler(
            loop, lambda k, now: called.setdefault(k.name, now))
        if not use_timerfd and sched._tfd is not None:
            loop.remove_reader(sched._tfd.fd)
            sched._tfd.close()
            sched._tfd = None
        start = time.monotonic()
        keys = [Key(f"k{i}") for i in range(20)]
        for i, key in enumerate(keys):
            sched.arm(key, start + 0.01 + i * 0.001)
        for i, key in enumerate(keys):
            sched.arm(key, start + 0.1 + i * 0.001)
        await asyncio.sleep(0.3)
        sched.close()
        return start

    start = asyncio.run(main())
    assert sorted(called) == sorted(f"k{i}" for i in range(20))
    for i in range(20):
        assert called[f"k{i}"] >= start + 0.1 + i * 0.001
    early = [w - start for w in wakeups if w < start + 0.1]
    assert len(early) <= 1, early
    assert 1 <= len(wakeups) - len(early) <= 20


def test_a_moved_deadline_at_the_head_is_moved_on_before_the_timer_is_set() -> None:
    """After a wake-up, entries at the head of the heap whose deadline has moved later are
    queued again at their deadline before the kernel timer is set: the next wake-up is for
    the earliest deadline that holds, not for an entry that would only be moved on."""
    async def main() -> None:
        called: list[str] = []
        sched: timers.Scheduler[Key] = timers.Scheduler(
            asyncio.get_running_loop(), lambda k, now: called.append(k.name))
        start = time.monotonic()
        first, moved, real = Key("first"), Key("moved"), Key("real")
        sched.arm(first, start + 0.01)
        sched.arm(moved, start + 0.02)
        sched.arm(real, start + 0.2)
        sched.arm(moved, start + 0.5)  # later than real's: nothing to do at 20 ms
        await asyncio.sleep(0.05)
        assert called == ["first"]
        assert sched._armed_at == start + 0.2  # set for real, not for moved's old entry
        assert sched._heap[0][2].name == "real"
        sched.close()

    asyncio.run(main())


@pytest.mark.parametrize("use_timerfd", [True, False])
def test_earlier_deadline_wins_and_disarm_silences(use_timerfd: bool) -> None:
    fired = run_scheduler(use_timerfd, [("a", 0.03), ("a2", 0.04), ("b", 0.05), ("a", 0.01)],
                          disarm=("b",))
    assert fired == ["a", "a2"]


def test_timerfd_is_available_here_and_fires_on_the_monotonic_clock() -> None:
    """The kernel here has timerfd; the precise path is the one the daemon uses. Armed for
    an absolute CLOCK_MONOTONIC time, it becomes readable then, and not before."""
    import select

    fd = timers._TimerFd()
    try:
        due = time.monotonic() + 0.05
        fd.arm(due)
        assert select.select([fd.fd], [], [], 0)[0] == []  # not yet
        ready, _, _ = select.select([fd.fd], [], [], 2.0)
        assert ready == [fd.fd] and time.monotonic() >= due
        expirations = int.from_bytes(os.read(fd.fd, 8), "little")
        assert expirations == 1
    finally:
        fd.close()


def test_each_callback_gets_the_time_it_runs_and_its_lateness_is_kept() -> None:
    """Keys due together are called with the time each one runs: a slow callback moves the
    next one's ``now`` (so routers that started together are re-armed apart), and how late
    each ran after its deadline is counted."""
    seen: list[float] = []

    async def main() -> timers.Lateness:
        def slow(key: Key, now: float) -> None:
            seen.append(now)
            time.sleep(0.005)

        sched: timers.Scheduler[Key] = timers.Scheduler(asyncio.get_running_loop(), slow)
        at = time.monotonic() + 0.01
        for name in ("a", "b", "c"):
            sched.arm(Key(name), at)
        await asyncio.sleep(0.1)
        sched.close()
        return sched.lateness

    lateness = asyncio.run(main())
    assert len(seen) == 3
    assert seen[1] - seen[0] >= 0.005 and seen[2] - seen[1] >= 0.005
    assert lateness.count == 3
    assert lateness.longest >= 0.01  # the third ran two slow callbacks after its deadline
    assert sum(lateness.buckets) == 3


def test_lateness_buckets() -> None:
    late = timers.Lateness()
    for seconds in (0.00005, 0.0015, 0.0015, 0.03, 2.0):
        late.add(seconds)
    figures = late.figures()
    assert figures["count"] == 5
    assert figures["longest_ms"] == 2000.0
    hist = figures["histogram"]
    assert (hist["<=0.1ms"], hist["<=2ms"], hist["<=50ms"], hist[">1000ms"]) == (1, 2, 1, 1)
    assert sum(hist.values()) == 5


@pytest.mark.parametrize("use_timerfd", [True, False])
def test_a_callback_rearming_later_does_not_delay_an_earlier_key(use_timerfd: bool) -> None:
    """A fires and re-arms itself after B's deadline (a master's next advert): the kernel
    timer must still be set for B. It was set for A's new deadline, and B ran that much late
    (a backup's Master_Down_Timer held up by another instance's advert timer)."""
    fired: dict[str, float] = {}

    async def main() -> timers.Lateness:
        loop = asyncio.get_running_loop()
        keys = {name: Key(name) for name in ("a", "b")}
        start = time.monotonic()

        def callback(key: Key, now: float) -> None:
            fired.setdefault(key.name, now - start)
            if key.name == "a" and len(fired) == 1:
                sched.arm(key, now + 0.08)  # later than b's deadline

        sched: timers.Scheduler[Key] = timers.Scheduler(loop, callback)
        if not use_timerfd and sched._tfd is not None:
            loop.remove_reader(sched._tfd.fd)
            sched._tfd.close()
            sched._tfd = None
        sched.arm(keys["a"], start + 0.01)
        sched.arm(keys["b"], start + 0.03)
        await asyncio.sleep(0.15)
        sched.close()
        return sched.lateness

    lateness = asyncio.run(main())
    assert set(fired) == {"a", "b"}
    assert fired["b"] < 0.06, fired  # on time, not at a's new deadline (0.09)
    assert lateness.longest < 0.03


@pytest.mark.parametrize("use_timerfd", [True, False])
def test_a_key_rearmed_by_its_callback_never_holds_back_an_earlier_key(
        use_timerfd: bool) -> None:
    """A backup's early entry fires, its callback finds the real deadline later and re-arms
    it (what VrrpProcess.on_timer does after every advert). Another key due in between must
    still fire at its own deadline, not at the re-armed one: it fired up to one
    Master_Down_Interval late, and a sync group took over 1.25 s late (found by the chaos
    soak, tests/chaos)."""
    called: dict[str, float] = {}
    deadlines: dict[str, float] = {}

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def callback(key: Key, now: float) -> None:
            if deadlines[key.name] > now:
                sched.arm(key, deadlines[key.name])  # the real deadline is later
                return
            called[key.name] = now

        sched: timers.Scheduler[Key] = timers.Scheduler(loop, callback)
        if not use_timerfd and sched._tfd is not None:
            loop.remove_reader(sched._tfd.fd)
            sched._tfd.close()
            sched._tfd = None
        a, b = Key("a"), Key("b")
        now = time.monotonic()
        sched.arm(a, now + 0.01)
        deadlines["a"] = now + 1.0  # moved later since: lazy, the early entry stays
        sched.arm(b, now + 0.05)
        deadlines["b"] = now + 0.05
        await asyncio.sleep(1.2)
        sched.close()

    asyncio.run(main())
    assert set(called) == {"a", "b"}
    assert called["b"] < deadlines["a"], "b waited for a's re-armed deadline"
    assert called["a"] >= deadlines["a"]
