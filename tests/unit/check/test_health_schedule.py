"""The health state machine's schedule (queues of deadlines per delay, and a heap for the
others) against its definition: a check is due when its next_run has come, it is not running
and its virtual server is not held back by ha_suspend; next_time is the earliest such
next_run. Random runs of results, suspensions and reloads, checked step by step against a
scan of every checker."""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import given, settings
from hypothesis import strategies as st

from pykeepalived.check.health import CheckerHealth, HealthCore
from pykeepalived.check.result import CheckResult
from pykeepalived.config.model_lvs import RealServer, TcpCheck, VirtualServer


def virtual_servers(shape: list[list[tuple[float, int, float]]]) -> list[VirtualServer]:
    out = []
    for v, servers in enumerate(shape):
        real = [RealServer(IPv4Address(f"198.51.100.{r + 1}"), 80, checkers=[TcpCheck(
            delay_loop=delay, retry=retry, delay_before_retry=0.5, warmup=warmup,
            connect_timeout=1.0)]) for r, (delay, retry, warmup) in enumerate(servers)]
        out.append(VirtualServer(address=IPv4Address(f"203.0.113.{v + 1}"), port=80,
                                 real_servers=real, ha_suspend=True))
    return out


def scanned_due(core: HealthCore, now: float) -> set[int]:
    return {id(ck) for ck in core.checkers() if ck.next_run is not None
            and ck.next_run <= now and not ck.running and not ck.vs.suspended}


def scanned_next(core: HealthCore) -> float | None:
    times = [ck.next_run for ck in core.checkers()
             if ck.next_run is not None and not ck.running and not ck.vs.suspended]
    return min(times) if times else None


checker_shape = st.tuples(st.sampled_from([0.5, 1.0, 2.0, 3.0]), st.integers(0, 2),
                          st.sampled_from([0.0, 1.0, 2.5]))
shapes = st.lists(st.lists(checker_shape, min_size=1, max_size=5), min_size=1, max_size=3)
steps = st.lists(st.tuples(st.sampled_from(["tick", "finish", "suspend", "reload"]),
                           st.floats(0.0, 1.5), st.integers(0, 50), st.booleans()),
                 max_size=80)


@settings(max_examples=150, deadline=None)
@given(shapes, steps, st.randoms(use_true_random=False))
def test_due_and_next_time_agree_with_a_scan_of_every_checker(
        shape: list[list[tuple[float, int, float]]], plan: list[tuple[str, float, int, bool]],
        rnd: object) -> None:
    random = rnd.random  # type: ignore[attr-defined]
    core = HealthCore(virtual_servers(shape), rand=random, bootstrap=1.0)
    now = 0.0
    core.start(now)
    running: list[CheckerHealth] = []
    for action, dt, pick, flag in plan:
        now += dt
        if action == "tick":
            if flag:  # or not: due must stand on its own
                assert core.next_time() == scanned_next(core)
            expected = scanned_due(core, now)
            got = core.due(now)
            assert {id(ck) for ck in got} == expected
            assert len(got) == len(expected)  # none twice
            running += got
        elif action == "finish" and running:
            ck = running.pop(pick % len(running))
            # a result dated before the last one (pick 7 mod 8): its deadline cannot join
            # the end of its delay's queue
            when = now - 0.7 if pick % 8 == 7 else now
            core.result(ck, CheckResult(flag, "connected" if flag else "refused"), when)
        elif action == "suspend":
            vs = core.virtual_servers[pick % len(core.virtual_servers)]
            core.suspend(vs, flag, now)
        elif action == "reload":
            new = HealthCore(virtual_servers(shape), rand=random, bootstrap=1.0)
            new.adopt(core, now)
            core, running = new, []
        if pick % 3 == 0:
            assert core.next_time() == scanned_next(core)
    assert core.next_time() == scanned_next(core)


def test_a_result_dated_before_the_last_one_is_still_due_first() -> None:
    """Deadlines of results join a queue per delay; one dated before the queue's last
    deadline (a caller whose clock went back) is still the next one due."""
    core = HealthCore(virtual_servers([[(1.0, 0, 0.0), (1.0, 0, 0.0)]]), bootstrap=1.0)
    core.start(0.0)
    first, second = core.due(1.0)
    core.result(first, CheckResult(True, "connected"), 5.0)  # next run at 6.0
    core.result(second, CheckResult(True, "connected"), 3.0)  # next run at 4.0
    assert core.next_time() == 4.0
    assert core.due(4.0) == [second]
    assert core.next_time() == 6.0
