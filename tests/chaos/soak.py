"""The soak: start the three nodes, inject faults from a seed, check, stop, look for leftovers.

One thread injects faults (in rounds: every kind asked for once per round, in a random order,
so that a short run still has them all); another polls the network every POLL seconds and hands
each snapshot to the checker. At the end every daemon is stopped with TERM and every namespace
is searched for what the daemons made (VIPs, VMACs, the virtual route and rule, nftables
tables) and for daemon processes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.chaos import faults
from tests.chaos.invariants import MARGIN, RELOAD, STARTUP, VIP_GRACE, Change, Checker, Violation
from tests.chaos.observe import Observer, Seen, Snapshot
from tests.chaos.topology import NODE_KINDS, Cluster, World

POLL = 0.025
LOOK_AROUND = 1.0  # seconds between looks for VMACs, routes, rules, tables
SETTLE_CAP = 45.0  # longest wait for the network to converge after a fault
SLOW_GAP = 0.1  # a gap between polls longer than this is counted in the report


@dataclass
class Report:
    seed: int
    requested: float
    duration: float = 0.0
    kinds: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    violations: list[Violation] = field(default_factory=list)
    excluded: list[Violation] = field(default_factory=list)
    worst: dict[str, Change] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    samples: dict[str, int] = field(default_factory=dict)
    status_failures: dict[str, int] = field(default_factory=dict)
    fifo_lines: int = 0
    seen: Seen = field(default_factory=Seen)
    polls: int = 0
    longest_poll_gap: float = 0.0
    slow_polls: list[tuple[float, float, float]] = field(default_factory=list)
    workdir: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.violations

    def text(self) -> str:
        lines = [f"Chaos soak: seed {self.seed}, {self.duration:.0f} s "
                 f"(asked {self.requested:g} s), faults {', '.join(self.kinds)}",
                 f"  nodes: py1, py2 (pykeepalived), ka (keepalived 2.2.7); "
                 f"{self.polls} polls, longest gap between polls {self.longest_poll_gap:.3f} s, "
                 f"{len(self.slow_polls)} gaps over {SLOW_GAP:g} s"
                 + (" (longest at " + ", ".join(
                     f"t={at:.2f}s {gap:.2f} s, polling {spent:.2f} s" for at, gap, spent
                     in sorted(self.slow_polls, key=lambda p: -p[1])[:3]) + ")"
                    if self.slow_polls else ""),
                 f"  bounds: master_down_interval + {MARGIN:g} s (+{STARTUP:g} s when a daemon "
                 f"or VRRP child starts, +{RELOAD:g} s for a reload); a VIP may outlive MASTER "
                 f"by {VIP_GRACE:g} s",
                 f"Faults injected: {sum(self.faults.values())}"]
        lines += [f"  {kind:<14} {self.faults[kind]}" for kind in self.kinds]
        timed = sum(not c.overtaken for c in self.changes)
        lines.append(f"Worst convergence per fault kind (from a step to the right holders; "
                     f"{timed} steps timed, {len(self.changes) - timed} overtaken by the "
                     f"next step first):")
        for kind in ["start-up", *self.kinds, "end"]:
            change = self.worst.get(kind)
            if change is None:
                continue
            took = "never" if change.converged is None else f"{change.converged:.2f} s"
            lines.append(f"  {kind:<14} {took:>8}   t={change.at:.2f}s {change.label}")
        lines.append(f"Invariant violations: {len(self.violations)}")
        lines += [f"  {v.line()}" for v in self.violations]
        if self.excluded:
            lines.append(f"keepalived's own misbehaviour (its node excluded from that "
                         f"invariant): {len(self.excluded)}")
            lines += [f"  {v.line()}" for v in self.excluded]
        lines.append("Checks that could fail (not vacuous): VIP-holding polls checked against "
                     "the node's own state: " + ", ".join(f"{n} {c}" for n, c in
                                                          self.samples.items())
                     + f"; keepalived FIFO lines {self.fifo_lines}; unanswered status "
                     + ", ".join(f"{n} {c}" for n, c in self.status_failures.items()
                                 if n != "ka"))
        lines.append(f"Seen during the soak (what the final check looks for): VMAC on "
                     f"{_names(self.seen.vmac)}, route on {_names(self.seen.route)}, rule on "
                     f"{_names(self.seen.rule)}, nftables table on {_names(self.seen.nft)}")
        if self.error:
            lines.append(f"ERROR: {self.error}")
        lines.append(f"Work directory (configurations, daemon logs, chaos.log): {self.workdir}")
        lines.append("RESULT: " + ("PASS" if self.ok else "FAIL"))
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, object]:
        return {
            "seed": self.seed, "duration": self.duration, "faults": dict(self.faults),
            "violations": [v.__dict__ for v in self.violations],
            "keepalived_excluded": [v.__dict__ for v in self.excluded],
            "worst_convergence": {k: {"seconds": c.converged, "label": c.label, "at": c.at}
                                  for k, c in self.worst.items()},
            "samples": self.samples, "polls": self.polls, "ok": self.ok, "error": self.error}


def _stopped(world: World, node: str) -> Callable[[], None]:
    return lambda: world.running.__setitem__(node, False)


def _names(nodes: set[str]) -> str:
    return ", ".join(sorted(nodes)) or "none"


class Poller(threading.Thread):
    """Polls the network and feeds the checker until stopped."""

    def __init__(self, observer: Observer, checker: Checker) -> None:
        super().__init__(name="chaos-poller", daemon=True)
        self.observer = observer
        self.checker = checker
        self.halt = threading.Event()
        self.last: Snapshot | None = None
        self.longest_gap = 0.0
        #: (when, gap, the poll's own time) of the gaps over SLOW_GAP: a gap the poll itself
        #: did not take is the machine (both cores busy), not the reads
        self.slow: list[tuple[float, float, float]] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        looker = threading.Thread(target=self._look_around, name="chaos-looker", daemon=True)
        looker.start()
        previous: float | None = None
        spent = 0.0  # the previous poll's own time (reads and checks)
        try:
            while not self.halt.is_set():
                snap = self.observer.snapshot()
                self.checker.observe(snap)
                self.last = snap
                if previous is not None:
                    gap = snap.at - previous
                    self.longest_gap = max(self.longest_gap, gap)
                    if gap > SLOW_GAP:
                        self.slow.append((previous - self.checker.t0, gap, spent))
                previous = snap.at
                spent = time.monotonic() - snap.at
                self.halt.wait(max(0.0, POLL - (time.monotonic() - snap.at)))
        except BaseException as exc:  # reported by the soak, which stops
            self.error = exc
        looker.join(timeout=10)

    def _look_around(self) -> None:
        """Slower looks (nft runs as a command) in a thread of their own, off the polls."""
        try:
            while not self.halt.wait(LOOK_AROUND):
                self.observer.look_around()
        except BaseException as exc:
            self.error = exc

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=15)


def settle(ctx: faults.Context, poller: Poller) -> None:
    """Wait until every daemon that should run has its VRRP child (a respawn may take its
    back-off) and the network has converged or its deadline has passed; at most SETTLE_CAP
    seconds."""
    cap = time.monotonic() + SETTLE_CAP
    while time.monotonic() < cap and poller.is_alive():
        snap = poller.last
        starting = snap is None or any(ctx.world.running[n] and not snap.alive[n]
                                       for n in NODE_KINDS)
        if not starting and (ctx.checker.converged()
                             or time.monotonic() > ctx.checker.settled_by() + 0.5):
            return
        time.sleep(0.05)


def soak(duration: float, seed: int, kinds: Sequence[str], workdir: Path,
         out: Callable[[str], None] = print, min_rounds: int = 0) -> Report:
    """Run the soak for ``duration`` seconds of faults (and at least ``min_rounds`` rounds of
    every kind); the report."""
    rng = random.Random(seed)
    report = Report(seed, duration, kinds=list(kinds), workdir=str(workdir))
    t0 = time.monotonic()
    log_file = (workdir / "chaos.log").open("a")

    def log(message: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        line = f"{time.monotonic() - t0:8.2f}s {stamp} {message}"
        log_file.write(line + "\n")
        log_file.flush()
        out(line)

    world = World()
    cluster = Cluster(workdir)
    observer: Observer | None = None
    poller: Poller | None = None
    checker = Checker(world, t0)
    ctx = faults.Context(rng, cluster, world, checker, log)
    try:
        faults.setup(cluster)
        for node in cluster:
            node.write_config(world.instances)
        observer = Observer(cluster)
        for node in cluster:
            node.start()
        ctx.step("start-up: every daemon started", STARTUP,
                 update=lambda: world.running.update(dict.fromkeys(NODE_KINDS, True)))
        poller = Poller(observer, checker)
        poller.start()
        settle(ctx, poller)
        end = time.monotonic() + duration
        rounds = 0
        while (time.monotonic() < end or rounds < min_rounds) and poller.is_alive():
            rounds += 1
            for kind in rng.sample(list(kinds), len(kinds)):
                if (time.monotonic() >= end and rounds > min_rounds) or not poller.is_alive():
                    break
                checker.begin(kind, f"{kind} #{report.faults[kind] + 1}")
                log(f"fault {kind} #{report.faults[kind] + 1}")
                detail = faults.FAULTS[kind](ctx)
                checker.begin(kind, f"{kind} #{report.faults[kind] + 1} ({detail})")
                report.faults[kind] += 1
                settle(ctx, poller)
                time.sleep(rng.uniform(0.2, 1.0))
        checker.begin("end", "the final stop")
        settle(ctx, poller)
        for node in cluster:
            began = time.monotonic()
            if not node.stop(faults.STOP_TIMEOUT):
                ctx.violation("stop", [node.name],
                              f"still running {faults.STOP_TIMEOUT:g} s after TERM")
            ctx.step(f"end: {node.name} stopped in {time.monotonic() - began:.2f} s",
                     update=_stopped(world, node.name))
        settle(ctx, poller)
        poller.stop()
        if poller.error is not None:
            raise poller.error
        for name in cluster.namespaces():
            found = observer.leftovers_in(name, world.ever) + observer.processes_in(name)
            if found:
                ctx.violation("leftover", [name], "after every daemon stopped: "
                              + "; ".join(found))
    except (Exception, KeyboardInterrupt) as exc:  # reported; the clean-up below runs
        report.error = f"{type(exc).__name__}: {exc}"
        log(f"ERROR {report.error}")
    finally:
        if poller is not None:
            poller.stop()
            report.polls = checker.polls
            report.longest_poll_gap = poller.longest_gap
            report.slow_polls = list(poller.slow)
            if poller.error is not None and report.error is None:
                report.error = f"poller: {poller.error!r}"
        if observer is not None:
            report.seen = observer.seen
            report.status_failures = dict(observer.status_failures)
            report.fifo_lines = sum(f.lines for f in observer.fifos.values())
            observer.close()
        cluster.close()
        log_file.close()
    report.duration = time.monotonic() - t0
    report.faults = report.faults
    report.violations = list(checker.violations)
    report.excluded = list(checker.excluded)
    report.worst = checker.worst_convergence()
    report.changes = list(checker.changes)
    report.samples = dict(checker.samples)
    return report


_MAIN_PID = os.getpid()


def _terminate(signum: int, _frame: object) -> None:
    """A TERM ends the soak through its clean-up; a process forked from the soak without exec
    (pyroute2's namespace proxy behind ``IPRoute(netns=...)``, stopped with TERM when the
    observer closes) inherits this handler and must just end, not run the soak's clean-up
    and log an error that is not one."""
    if os.getpid() != _MAIN_PID:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/chaos",
        description="Chaos soak: two pykeepalived nodes and keepalived under random faults.")
    parser.add_argument("--duration", type=float, default=300.0,
                        help="seconds of faults (default 300)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the random faults (default: from the clock, printed)")
    parser.add_argument("--faults", default=",".join(faults.FAULTS),
                        help="comma-separated fault kinds (default: all): "
                             + ", ".join(faults.FAULTS))
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where configurations and logs go (default: a new temporary "
                             "directory, kept)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.faults.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in faults.FAULTS]
    if unknown or not kinds:
        parser.error(f"unknown fault kind(s): {', '.join(unknown) or '(none given)'}")
    # a TERM (or a timeout's) ends the soak through its clean-up: every namespace deleted
    signal.signal(signal.SIGTERM, _terminate)
    seed = args.seed if args.seed is not None else int(time.time()) % 1_000_000
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="pykeepalived-chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"seed {seed}, work directory {workdir}", flush=True)
    report = soak(args.duration, seed, kinds, workdir,
                  out=lambda line: print(line, flush=True))
    sys.stdout.write(report.text())
    if args.json is not None:
        args.json.write_text(json.dumps(report.as_json(), indent=2, default=str))
    if report.error is not None:
        return 2
    return 0 if report.ok else 1
