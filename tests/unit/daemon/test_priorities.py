"""Scheduling keywords as each child reads them, and the realtime watchdog's breathing.

What the running children get is read back in tests/netns/test_process_scheduling.py; here:
which global_defs keywords make which settings (the old ``*_rlimit_rtime`` spelling, keepalived's
floor of 2 us, realtime winning over a nice value), a nice value applied and undone in a child
process, and :class:`RtWatchdog` sleeping only when the thread has not blocked for its budget.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from pykeepalived.config import load_config_text
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.daemon import priorities
from pykeepalived.daemon.priorities import ProcessScheduling, RtWatchdog, Scheduling


def gdefs(lines: str) -> object:
    result = load_config_text(f"global_defs {{\n{lines}\n}}\n",
                              system=SystemInfo.fake(["lo", "eth0"]))
    return result.config.global_defs


def test_keywords_make_each_childs_settings() -> None:
    g = gdefs("""
    vrrp_priority -5
    vrrp_rt_priority 30
    vrrp_rlimit_rtime 1
    vrrp_no_swap
    vrrp_cpu_affinity 0
    checker_priority 4
    checker_rlimit_rttime 25000
""")
    vrrp = Scheduling.from_global_defs(g, "vrrp")
    assert (vrrp.process, vrrp.nice, vrrp.rt_priority, vrrp.no_swap, vrrp.cpus) == \
        ("VRRP", -5, 30, True, (0,))
    assert vrrp.rlimit_rttime == 2  # keepalived: at least 2, its half is the soft limit
    checker = Scheduling.from_global_defs(g, "checker")
    assert (checker.process, checker.nice, checker.rt_priority, checker.no_swap,
            checker.cpus, checker.rlimit_rttime) == ("Checker", 4, 0, False, (), 25000)


def test_defaults_change_nothing() -> None:
    sched = Scheduling.from_global_defs(gdefs("    router_id r1"), "vrrp")
    assert (sched.nice, sched.rt_priority, sched.no_swap, sched.cpus,
            sched.rlimit_rttime) == (0, 0, False, (), 10000)


def _in_child(body: object) -> int:
    """Run ``body()`` in a forked child; its exit code (0: every check held)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = body()  # type: ignore[operator]
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_nice_value_applied_and_undone() -> None:
    def body() -> int:
        start = os.getpriority(os.PRIO_PROCESS, 0)
        want = min(start + 3, 19)
        sched = ProcessScheduling()
        sched.apply(Scheduling("VRRP", "vrrp", nice=want))
        applied = os.getpriority(os.PRIO_PROCESS, 0)
        flags = os.sched_getscheduler(0)
        sched.reset()
        undone = os.getpriority(os.PRIO_PROCESS, 0)
        ok = (applied == want and flags & os.SCHED_RESET_ON_FORK
              and undone == start and sched.applied is None)
        return 0 if ok else 3

    assert _in_child(body) == 0


def test_vrrp_process_asks_for_a_short_fair_slice_and_gives_it_back() -> None:
    """Not realtime: the VRRP process's main thread asks for FAIR_SLICE_NS, its nice value
    and reset-on-fork kept; the checker process asks for nothing; reset gives it back."""
    if priorities.fair_slice_ns() is None:
        pytest.skip("sched_getattr unavailable")

    def body() -> int:
        start_nice = os.getpriority(os.PRIO_PROCESS, 0)
        default_slice = priorities.fair_slice_ns()
        checker = ProcessScheduling()
        checker.apply(Scheduling("Checker", "checker"))
        checker_slice = priorities.fair_slice_ns()
        sched = ProcessScheduling()
        sched.apply(Scheduling("VRRP", "vrrp", nice=min(start_nice + 2, 19)))
        applied = (priorities.fair_slice_ns(), os.getpriority(os.PRIO_PROCESS, 0),
                   bool(os.sched_getscheduler(0) & os.SCHED_RESET_ON_FORK))
        sched.reset()
        undone = priorities.fair_slice_ns()
        ok = (default_slice != priorities.FAIR_SLICE_NS and checker_slice == default_slice
              and applied == (priorities.FAIR_SLICE_NS, min(start_nice + 2, 19), True)
              and undone == default_slice)
        return 0 if ok else 3

    assert _in_child(body) == 0


def test_realtime_wins_over_the_nice_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """keepalived sets the nice value only without realtime scheduling."""
    calls: list[str] = []
    monkeypatch.setattr(ProcessScheduling, "_set_realtime",
                        lambda self, wanted: calls.append(f"rt {wanted.rt_priority}"))
    monkeypatch.setattr(ProcessScheduling, "_set_nice",
                        lambda self, nice: calls.append(f"nice {nice}"))
    ProcessScheduling().apply(Scheduling("VRRP", "vrrp", nice=-5, rt_priority=20))
    ProcessScheduling().apply(Scheduling("VRRP", "vrrp", nice=-5))
    assert calls == ["rt 20", "nice -5"]


def test_watchdog_sleeps_only_after_its_budget_without_blocking() -> None:
    dog = RtWatchdog()
    dog.breathe()  # not realtime: nothing
    assert dog.breaths == 0
    dog.start(400, timer=False)  # budget: a quarter of 400 us, at least 50 us
    assert dog.budget == pytest.approx(100e-6)
    deadline = time.monotonic() + 0.002
    while time.monotonic() < deadline:  # 2 ms of work without blocking
        pass
    dog.breathe()
    assert dog.breaths == 1
    dog.breathe()  # just breathed: within the budget again
    assert dog.breaths == 1
    time.sleep(0.001)  # the thread blocked by itself: the kernel's count starts again
    deadline = time.monotonic() + 0.0005
    while time.monotonic() < deadline:
        pass
    dog.breathe()
    assert dog.breaths == 1
    dog.stop()


def test_breathing_selector_breathes_before_each_turn() -> None:
    dog = priorities.RT_WATCHDOG
    before = dog.breaths
    sel = priorities.BreathingSelector()
    dog.start(200, timer=False)  # a 50 us budget
    try:
        for _ in range(2):
            deadline = time.monotonic() + 0.001
            while time.monotonic() < deadline:  # a turn of work that never blocks
                pass
            sel.select(0)  # ready at once: epoll alone would not block
    finally:
        dog.stop()
        sel.close()
    assert dog.breaths - before == 2


def test_watchdog_timer_breathes_inside_one_long_computation() -> None:
    """A burst that never comes back to the loop: the profiling timer's handler breathes."""
    dog = RtWatchdog()
    dog.start(4000)  # every 1 ms of CPU time
    try:
        # Up to 500 ms of CPU without a call to breathe(); the timer ticks with the kernel
        # (every 4 ms at HZ=250), and only when a tick finds this process on the CPU: on a
        # machine busy with others, 30 ms of CPU can see fewer than three.
        cpu_until = time.thread_time() + 0.5
        wall_until = time.monotonic() + 10.0
        while (dog.breaths < 3 and time.thread_time() < cpu_until
               and time.monotonic() < wall_until):
            pass
    finally:
        dog.stop()
    assert dog.breaths >= 3
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGPROF) in (signal.SIG_DFL, None)
