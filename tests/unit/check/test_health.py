"""The health state machine with a fake clock: keepalived's retry, alpha, inhibit_on_failure,
quorum / hysteresis / sorry server, dynamic weights, ha_suspend and omega."""

from __future__ import annotations

from ipaddress import IPv4Address

from pykeepalived.check.health import (
    CheckerHealth,
    CheckFailed,
    Event,
    HealthCore,
    QuorumChanged,
    RealServerChanged,
    WeightChanged,
)
from pykeepalived.check.result import CheckResult
from pykeepalived.config.model_lvs import (
    FileCheck,
    MiscCheck,
    RealServer,
    TcpCheck,
    VirtualServer,
)
from pykeepalived.lb.model import Destination

VIP = IPv4Address("203.0.113.10")
OK = CheckResult(True, "connected")
KO = CheckResult(False, "connection refused")


def rs(n: int, *, weight: int = 1, retry: int = 1, alpha: bool | None = None,
       inhibit: bool | None = None, checkers: int = 1) -> RealServer:
    cks = [TcpCheck(delay_loop=6.0, retry=retry, delay_before_retry=1.0, warmup=0.0,
                    connect_timeout=3.0, alpha=alpha) for _ in range(checkers)]
    return RealServer(IPv4Address(f"198.51.100.{n}"), 80, weight=weight, checkers=list(cks),
                      inhibit_on_failure=inhibit)


def vs(*servers: RealServer, **kw: object) -> VirtualServer:
    return VirtualServer(address=VIP, port=80, real_servers=list(servers), **kw)  # type: ignore[arg-type]


def core(*virtual_servers: VirtualServer) -> HealthCore:
    return HealthCore(list(virtual_servers), rand=lambda: 0.5, bootstrap=1.0)


def pool(c: HealthCore) -> list[tuple[str, int]]:
    return [(str(d.address), d.weight) for d in c.services()[0].destinations]


def words(events: list[Event]) -> list[str]:
    out = []
    for e in events:
        if isinstance(e, RealServerChanged):
            out.append(f"{e.rs.address} {'UP' if e.alive else 'DOWN'}")
        elif isinstance(e, QuorumChanged):
            out.append(f"quorum {'UP' if e.up else 'DOWN'}{' init' if e.initial else ''}")
        elif isinstance(e, WeightChanged):
            out.append(f"{e.rs.address} weight {e.old}->{e.new}")
        elif isinstance(e, CheckFailed):
            out.append(f"{e.check.rs.address} failed{' retrying' if e.retrying else ''}")
    return out


def run(c: HealthCore, now: float, results: dict[str, CheckResult]) -> list[Event]:
    """Run every due check at ``now`` with the result given for its real server."""
    events: list[Event] = []
    for ck in c.due(now):
        events += c.result(ck, results[str(ck.rs.address)], now)
    return events


def only(c: HealthCore) -> CheckerHealth:
    [ck] = c.checkers()
    return ck


def test_first_check_after_bootstrap_and_warmup_then_every_delay_loop() -> None:
    server = rs(1)
    server.checkers[0].warmup = 4.0
    c = core(vs(server))
    assert c.start(0.0) == []
    assert c.next_time() == 1.0 + 4.0 * 0.5  # bootstrap + a random part of warmup
    assert c.due(2.9) == []
    assert words(run(c, 3.0, {"198.51.100.1": OK})) == []  # it was up already
    assert c.next_time() == 3.0 + 6.0


def test_failure_is_retried_before_it_counts_and_one_success_counts_at_once() -> None:
    c = core(vs(rs(1, retry=2)))
    c.start(0.0)
    assert pool(c) == [("198.51.100.1", 1)]
    t = c.next_time() or 0.0
    assert words(run(c, t, {"198.51.100.1": KO})) == ["198.51.100.1 failed retrying"]
    assert c.next_time() == t + 1.0  # delay_before_retry
    assert words(run(c, t + 1, {"198.51.100.1": KO})) == ["198.51.100.1 failed retrying"]
    assert words(run(c, t + 2, {"198.51.100.1": KO})) == ["198.51.100.1 DOWN",
                                                          "quorum DOWN"]
    assert pool(c) == [] and c.next_time() == t + 2 + 6.0  # back to delay_loop
    assert words(run(c, t + 8, {"198.51.100.1": OK})) == ["198.51.100.1 UP", "quorum UP"]
    assert pool(c) == [("198.51.100.1", 1)]


def test_a_success_between_failures_resets_the_retries() -> None:
    c = core(vs(rs(1, retry=1)))
    c.start(0.0)
    t = c.next_time() or 0.0
    run(c, t, {"198.51.100.1": KO})
    run(c, t + 1, {"198.51.100.1": OK})
    assert words(run(c, t + 7, {"198.51.100.1": KO})) == ["198.51.100.1 failed retrying"]
    assert only(c).rs.alive


def test_alpha_starts_down_and_comes_up_on_the_first_success() -> None:
    c = core(vs(rs(1, alpha=True), rs(2)))
    events = c.start(0.0)
    assert pool(c) == [("198.51.100.2", 1)]
    assert words(events) == []
    t = c.next_time() or 0.0
    assert words(run(c, t, {"198.51.100.1": OK, "198.51.100.2": OK})) == ["198.51.100.1 UP"]
    assert pool(c) == [("198.51.100.1", 1), ("198.51.100.2", 1)]


def test_inhibit_on_failure_keeps_the_server_at_weight_zero() -> None:
    c = core(vs(rs(1, inhibit=True, retry=0), rs(2)))
    c.start(0.0)
    t = c.next_time() or 0.0
    run(c, t, {"198.51.100.1": KO, "198.51.100.2": OK})
    assert pool(c) == [("198.51.100.1", 0), ("198.51.100.2", 1)]


def test_every_checker_must_be_up() -> None:
    c = core(vs(rs(1, checkers=2, retry=0)))
    c.start(0.0)
    t = c.next_time() or 0.0
    first, second = c.due(t)
    assert words(c.result(first, KO, t)) == ["198.51.100.1 DOWN", "quorum DOWN"]
    assert c.result(second, KO, t) == []
    t2 = c.next_time() or 0.0
    first, second = c.due(t2)
    assert words(c.result(first, OK, t2)) == []  # the other checker is still down
    assert words(c.result(second, OK, t2)) == ["198.51.100.1 UP", "quorum UP"]


def test_quorum_lost_brings_in_the_sorry_server_and_gained_takes_it_out() -> None:
    sorry = (IPv4Address("198.51.100.99"), 8080)
    c = core(vs(rs(1, retry=0), rs(2, retry=0), quorum=2, sorry_server=sorry))
    assert words(c.start(0.0)) == []
    t = c.next_time() or 0.0
    events = run(c, t, {"198.51.100.1": KO, "198.51.100.2": OK})
    assert words(events) == ["198.51.100.1 DOWN", "quorum DOWN"]
    assert c.services()[0].destinations == (
        Destination(IPv4Address("198.51.100.99"), 8080, 1, "NAT"),)
    events = run(c, t + 6, {"198.51.100.1": OK, "198.51.100.2": OK})
    assert words(events) == ["198.51.100.1 UP", "quorum UP"]
    assert pool(c) == [("198.51.100.1", 1), ("198.51.100.2", 1)]


def test_sorry_server_inhibit_and_starting_without_quorum() -> None:
    sorry = (IPv4Address("198.51.100.99"), None)
    c = core(vs(rs(1, alpha=True), quorum=1, sorry_server=sorry, sorry_server_inhibit=True))
    assert words(c.start(0.0)) == ["quorum DOWN init"]
    assert pool(c) == [("198.51.100.99", 1)]
    t = c.next_time() or 0.0
    run(c, t, {"198.51.100.1": OK})
    assert pool(c) == [("198.51.100.1", 1), ("198.51.100.99", 0)]  # inhibited: weight 0


def test_hysteresis_widens_the_band_both_ways() -> None:
    servers = [rs(n, retry=0) for n in (1, 2, 3)]
    c = core(vs(*servers, quorum=2, hysteresis=1))
    c.start(0.0)  # 3 >= 2 + 1: up
    t = c.next_time() or 0.0
    events = run(c, t, {"198.51.100.1": KO, "198.51.100.2": KO, "198.51.100.3": OK})
    assert words(events) == ["198.51.100.1 DOWN", "198.51.100.2 DOWN"]  # 1 >= 2 - 1: kept
    events = run(c, t + 6, {"198.51.100.1": KO, "198.51.100.2": KO, "198.51.100.3": KO})
    assert words(events) == ["198.51.100.3 DOWN", "quorum DOWN"]
    events = run(c, t + 12, {"198.51.100.1": OK, "198.51.100.2": OK, "198.51.100.3": KO})
    assert "quorum UP" not in words(events)  # 2 < 2 + 1: not yet
    events = run(c, t + 18, {"198.51.100.1": OK, "198.51.100.2": OK, "198.51.100.3": OK})
    assert words(events) == ["198.51.100.3 UP", "quorum UP"]


def test_misc_dynamic_sets_the_weight() -> None:
    server = rs(1, weight=5, checkers=0)
    server.checkers = [MiscCheck(misc_path="/bin/true", delay_loop=6.0, retry=0,
                                 delay_before_retry=1.0, warmup=0.0, misc_dynamic=True)]
    c = core(vs(server))
    c.start(0.0)
    t = c.next_time() or 0.0
    [ck] = c.due(t)
    assert words(c.result(ck, CheckResult(True, "exit 12", weight=10), t)) == [
        "198.51.100.1 weight 5->10"]
    assert pool(c) == [("198.51.100.1", 10)]
    [ck] = c.due(t + 6)
    assert words(c.result(ck, CheckResult(True, "exit 0", weight=5), t + 6)) == [
        "198.51.100.1 weight 10->5"]


def test_file_check_adds_to_the_configured_weight_and_clamps() -> None:
    server = rs(1, weight=10, checkers=0)
    server.checkers = [FileCheck(track_file="tf", delay_loop=6.0, retry=0,
                                 delay_before_retry=1.0, warmup=0.0)]
    c = core(vs(server))
    c.start(0.0)
    t = c.next_time() or 0.0
    [ck] = c.due(t)
    c.result(ck, CheckResult(True, "value 3", weight=-30), t)
    assert pool(c) == [("198.51.100.1", 0)]  # 10 - 30 clamps to 0
    [ck] = c.due(t + 6)
    c.result(ck, CheckResult(True, "value 1", weight=5), t + 6)
    assert pool(c) == [("198.51.100.1", 15)]


def test_misc_dynamic_exit_zero_puts_the_configured_weight_back() -> None:
    server = rs(1, weight=5, checkers=0)
    server.checkers = [MiscCheck(misc_path="/bin/true", delay_loop=6.0, retry=0,
                                 delay_before_retry=1.0, warmup=0.0, misc_dynamic=True)]
    c = core(vs(server))
    c.start(0.0)
    t = c.next_time() or 0.0
    [ck] = c.due(t)
    c.result(ck, CheckResult(True, "exit 12", weight=10), t)
    [ck] = c.due(t + 6)
    c.result(ck, CheckResult(True, "exit 0"), t + 6)
    assert pool(c) == [("198.51.100.1", 5)]


def test_ha_suspend_holds_checks_and_rules_back() -> None:
    c = core(vs(rs(1), ha_suspend=True))
    c.start(0.0)
    [v] = c.virtual_servers
    c.suspend(v, True, 0.5)
    assert c.services() == [] and c.due(100.0) == [] and c.next_time() is None
    c.suspend(v, False, 200.0)
    assert pool(c) == [("198.51.100.1", 1)]
    assert c.next_time() == 201.0


def test_omega_reports_what_was_up_at_shutdown() -> None:
    assert core(vs(rs(1))).stop() == []
    c = core(vs(rs(1), omega=True))
    c.start(0.0)
    assert words(c.stop()) == ["198.51.100.1 DOWN", "quorum DOWN"]


def test_a_check_is_never_started_twice() -> None:
    c = core(vs(rs(1)))
    c.start(0.0)
    t = c.next_time() or 0.0
    assert len(c.due(t)) == 1
    assert c.due(t + 100) == [] and c.next_time() is None  # still running


def test_reload_keeps_the_state_of_what_did_not_change() -> None:
    old = core(vs(rs(1, retry=0), rs(2, retry=0)))
    old.start(0.0)
    t = old.next_time() or 0.0
    run(old, t, {"198.51.100.1": KO, "198.51.100.2": OK})
    assert pool(old) == [("198.51.100.2", 1)]
    changed = rs(2, retry=3)  # its checker changed: starts again, up (not alpha)
    new = core(vs(rs(1, retry=0), changed, rs(3, alpha=True)))
    events = new.adopt(old, t + 1)
    assert words(events) == []
    assert pool(new) == [("198.51.100.2", 1)]  # .1 stays out, .3 waits for its first check
    by = {str(c.rs.address): c for c in new.checkers()}
    assert by["198.51.100.1"].next_run == t + 6.0  # its schedule goes on
    assert by["198.51.100.2"].next_run == t + 1 + 1.0  # a new checker: bootstrap again
    assert not by["198.51.100.1"].is_up and by["198.51.100.1"].has_run


def test_reload_of_a_new_virtual_server_reports_its_quorum_as_at_start() -> None:
    old = core(vs(rs(1)))
    old.start(0.0)
    other = VirtualServer(address=IPv4Address("203.0.113.11"), port=80,
                          real_servers=[rs(4, alpha=True)],
                          sorry_server=(IPv4Address("198.51.100.99"), None))
    new = core(vs(rs(1)), other)
    assert words(new.adopt(old, 5.0)) == ["quorum DOWN init"]
