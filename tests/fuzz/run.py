"""The long fuzzing runs behind ``scripts/fuzz``.

Each target runs the same hypothesis strategies as the bounded tests, in rounds of
``ROUND`` examples with a fresh random seed each, until its share of the budget is spent or
something breaks. Hypothesis shrinks what broke; the smallest input is saved under the run's
directory (``--out``, default build/fuzz/<time>) and the run says where.

* ``packet``: every decoder entry point on random and damaged datagrams;
* ``router``: the daemon's receive path over six instances (tests.fuzz.vrrp_harness);
* ``config``: the loader on mutated configurations, each in a child bounded in time and
  memory (tests.fuzz.config_check);
* ``agree``: ``-t`` exit statuses of keepalived and pykeepalived on a seeded corpus of
  mutated configurations (needs root and keepalived; ``--count``, ``--seed``);
* ``all``: the first three (the budget split evenly), then ``agree``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent.parent
ROUND = 500


@dataclass
class Outcome:
    target: str
    tried: int = 0
    seconds: float = 0.0
    broke: str = ""
    saved: str = ""
    notes: list[str] = field(default_factory=list)


def _fuzz(name: str, strategy: st.SearchStrategy[Any], check: Callable[[Any], None],
          save: Callable[[Any, Path], None], budget: float, out: Path) -> Outcome:
    """Run ``check`` on examples of ``strategy`` for ``budget`` seconds or until it fails."""
    outcome = Outcome(name)
    last: list[Any] = [None]
    deadline = time.monotonic() + budget
    start = time.monotonic()

    def body(example: Any) -> None:
        if time.monotonic() > deadline and last[0] is None:
            return  # the budget is spent: let the round run out cheaply
        outcome.tried += 1
        last[0] = example
        check(example)
        last[0] = None

    runner = settings(max_examples=ROUND, deadline=None, database=None, derandomize=False,
                      phases=[Phase.generate, Phase.shrink], print_blob=False,
                      suppress_health_check=list(HealthCheck))(given(strategy)(body))
    while time.monotonic() < deadline:
        try:
            runner()
        except Exception as exc:  # what broke, after shrinking
            folder = out / name
            folder.mkdir(parents=True, exist_ok=True)
            save(last[0], folder)
            (folder / "error.txt").write_text(f"{type(exc).__name__}: {exc}\n")
            outcome.broke = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
            outcome.saved = str(folder)
            break
    outcome.seconds = time.monotonic() - start
    return outcome


# --- the targets -------------------------------------------------------------------------


def target_packet(budget: float, out: Path) -> Outcome:
    from tests.fuzz.vrrp_harness import INSTANCES
    from tests.fuzz.vrrp_inputs import Datagram, datagrams
    from tests.unit.vrrp.test_fuzz_receive import decode_all

    def save(dgram: Datagram, folder: Path) -> None:
        (folder / "datagram.json").write_text(json.dumps(
            dict(asdict(dgram), data=dgram.data.hex()), indent=1) + "\n")

    return _fuzz("packet", datagrams(INSTANCES), decode_all, save, budget, out)


def target_router(budget: float, out: Path) -> Outcome:
    from tests.fuzz.vrrp_harness import INSTANCES, Harness
    from tests.fuzz.vrrp_inputs import datagrams

    names = [i.name for i in INSTANCES]
    strategy = st.tuples(st.frozensets(st.sampled_from(names)),
                         st.frozensets(st.sampled_from(names), max_size=1),
                         st.lists(datagrams(INSTANCES), min_size=1, max_size=8))

    def check(case: Any) -> None:
        masters, faulted, dgrams = case
        with Harness(masters=masters, faulted=faulted) as harness:
            for dgram in dgrams:
                harness.deliver(dgram)

    def save(case: Any, folder: Path) -> None:
        masters, faulted, dgrams = case
        (folder / "case.json").write_text(json.dumps({
            "masters": sorted(masters), "faulted": sorted(faulted),
            "datagrams": [dict(asdict(d), data=d.data.hex()) for d in dgrams]},
            indent=1) + "\n")

    return _fuzz("router", strategy, check, save, budget, out)


def target_config(budget: float, out: Path) -> Outcome:
    from tests.fuzz.config_check import check_text
    from tests.fuzz.config_mutate import EDIT_NAMES, mutate, seeds

    strategy = st.tuples(st.sampled_from(seeds()), st.lists(
        st.tuples(st.sampled_from(EDIT_NAMES), st.integers(0, (1 << 30) - 1)),
        min_size=1, max_size=5))
    slowest = [0.0, 0.0]  # seconds, MB

    def check(case: Any) -> None:
        seed, edits = case
        text, _ = mutate(seed.text, edits)
        result = check_text(text)
        slowest[0] = max(slowest[0], result.seconds)
        slowest[1] = max(slowest[1], result.grown_mb)
        if result.finding is not None:
            raise AssertionError(f"{result.finding.kind}: {result.finding.detail}")

    def save(case: Any, folder: Path) -> None:
        seed, edits = case
        text, done = mutate(seed.text, edits)
        (folder / "keepalived.conf").write_text(text)
        (folder / "edits.txt").write_text(f"seed {seed.name}\n" + "".join(
            f"{d}\n" for d in done))

    outcome = _fuzz("config", strategy, check, save, budget, out)
    outcome.notes.append(f"slowest load {slowest[0]:.2f} s, largest growth "
                         f"{slowest[1]:.0f} MB (bounds 10 s, 200 MB)")
    return outcome


def target_agree(count: int, seed: int, out: Path) -> Outcome:
    from tests.fuzz.agree import compare, explain, report
    from tests.fuzz.config_mutate import corpus

    outcome = Outcome("agree")
    if os.geteuid() != 0 or shutil.which("keepalived") is None:
        outcome.broke = "skipped: needs root (network namespaces) and keepalived"
        return outcome
    start = time.monotonic()
    mutants = corpus(count, seed)

    def progress(done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            print(f"  agree: {done}/{total}", flush=True)

    folder = out / "agree"
    verdicts = compare(mutants, folder / "configs", progress=progress)
    outcome.tried = len(verdicts)
    outcome.seconds = time.monotonic() - start
    lines: list[str] = []
    report(verdicts, out=lines.append)
    (folder / "report.txt").write_text("\n".join(lines) + "\n")
    # the rates, the reasons, and one line per disagreement (the report has their messages)
    outcome.notes.extend(line.strip() for line in lines
                         if line.strip() and not line.startswith("    "))
    outcome.saved = str(folder / "report.txt")
    unexplained = [v for v in verdicts if not v.agree and explain(v) is None]
    if unexplained:
        outcome.broke = (f"{len(unexplained)} disagreements without a known reason "
                         "(see the report)")
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=300.0,
                        help="seconds of fuzzing (split evenly by --target all)")
    parser.add_argument("--target", default="all",
                        choices=("packet", "router", "config", "agree", "all"))
    parser.add_argument("--out", type=Path, default=None,
                        help="where inputs that broke something are saved "
                        "(default build/fuzz/<time>)")
    parser.add_argument("--count", type=int, default=1000, help="agree: configurations")
    parser.add_argument("--seed", type=int, default=2022, help="agree: corpus seed")
    args = parser.parse_args(argv)
    out = (args.out or ROOT / "build" / "fuzz" / time.strftime("%Y%m%d-%H%M%S")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    logging.disable(logging.CRITICAL)  # drops are logged by design; the counts tell
    print(f"fuzz: target {args.target}, budget {args.budget:.0f} s, findings go to {out}",
          flush=True)
    timed = {"packet": target_packet, "router": target_router, "config": target_config}
    names = list(timed) if args.target == "all" else (
        [args.target] if args.target in timed else [])
    outcomes = []
    for name in names:
        outcome = timed[name](args.budget / len(names), out)
        _print(outcome)
        outcomes.append(outcome)
    if args.target in ("agree", "all"):
        outcome = target_agree(args.count, args.seed, out)
        _print(outcome)
        outcomes.append(outcome)
    broken = [o for o in outcomes if o.broke and not o.broke.startswith("skipped")]
    return 1 if broken else 0


def _print(o: Outcome) -> None:
    rate = f", {o.tried / o.seconds:.0f}/s" if o.seconds else ""
    print(f"{o.target}: {o.tried} inputs in {o.seconds:.0f} s{rate}", flush=True)
    for note in o.notes:
        print(f"  {note}", flush=True)
    if o.broke:
        print(f"  BROKE: {o.broke}", flush=True)
    if o.saved:
        print(f"  saved: {o.saved}", flush=True)
    elif not o.broke:
        print("  nothing broke", flush=True)


if __name__ == "__main__":
    sys.exit(main())
