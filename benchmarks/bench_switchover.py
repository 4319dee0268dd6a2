"""Planned switchover side by side with Debian's keepalived: what a client loses.

r1 (priority 150) is master, r2 (100) backup; a client pings the VIP every ~9 ms (``ping -i
0.009``: iputils sends only every ~16 ms at -i 0.01 here) and r1 gets TERM. Three pairs,
their trials interleaved so that a change of machine load hits all of them:

* keepalived on both nodes (keepalived releases the VIP at once; r2 waits its Skew_Time);
* pykeepalived on both nodes (make-before-break: r1 keeps the VIP until r2 is in place);
* pykeepalived on r1, keepalived on r2 (keepalived as the new master).

For each of VRRPv3 at advert_int 0.1 and VRRPv2 at advert_int 1, with use_vmac and without,
two figures: probes lost, and the outage (from the answer before the lost probes to the one
after, less one probe interval; 0 when none was lost), each as the median and the range of
``--trials`` trials. Then TCP (VRRPv3 at 0.1, no VMAC): a stateless service on both nodes and
a client opening a new connection every 10 ms through the VIP; the connections reset,
refused or timed out, and the slowest connection (a lost SYN costs a 1 s retransmission).

Run as root: ``python3 benchmarks/bench_switchover.py [--trials 5] [--only icmp|tcp]
[--markdown]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_vrrp import Figure, record_trial
from tests.daemons import holders
from tests.netns.switchover_lab import VIP, Pair, Pinger, TcpProbe

from pykeepalived.demo.lab import Lab, wait_for

PAIRS: dict[str, tuple[str, str]] = {
    "keepalived": ("keepalived", "keepalived"),
    "pykeepalived": ("pykeepalived", "pykeepalived"),
    "py -> keepalived": ("pykeepalived", "keepalived"),
}
CASES = [(3, "0.1", False), (2, "1", False), (3, "0.1", True), (2, "1", True)]
SETTLE = 1.0


def case_name(version: int, advert: str, vmac: bool) -> str:
    return f"VRRPv{version} advert_int {advert}{', use_vmac' if vmac else ''}"


def switch(pair: Pair) -> None:
    pair.master.signal(signal.SIGTERM)
    pair.master.proc.wait(timeout=15)
    if not wait_for(lambda: holders(pair.hosts, VIP) == ["r2"], 5):
        raise RuntimeError("r2 never held the VIP alone")


def icmp_once(kinds: tuple[str, str], tmp: Path, version: int, advert: str,
              vmac: bool) -> dict[str, float] | None:
    with Lab() as lab:
        pair = Pair(lab, tmp, kinds=kinds, version=version, advert=advert, vmac=vmac)
        ping = None
        try:
            pair.start()
            ping = Pinger(pair.client)
            time.sleep(SETTLE)
            switch(pair)
            time.sleep(SETTLE)
            seen, ping = ping.stop(), None
        finally:
            if ping is not None:
                ping.stop()
            pair.close()
    if seen.answered < 100:
        return None
    return {"lost": float(len(seen.lost)), "outage": seen.outage * 1000,
            "interval": seen.interval * 1000}


def tcp_once(kinds: tuple[str, str], tmp: Path) -> dict[str, float] | None:
    with Lab() as lab:
        pair = Pair(lab, tmp, kinds=kinds)
        tcp = None
        try:
            pair.start()
            tcp = TcpProbe([pair.r1, pair.r2], pair.client, 30.0)
            tcp.start()
            time.sleep(SETTLE)
            switch(pair)
            time.sleep(SETTLE)
            result = tcp.stop()
        finally:
            if tcp is not None:
                tcp.close()
            pair.close()
    results = result.get("results")
    slowest = result.get("slowest_seconds")
    if not isinstance(results, dict) or not isinstance(slowest, float):
        return None
    failed = sum(n for what, n in results.items() if what != "ok")
    return {"failed": float(failed), "reset": float(results.get("reset", 0)),
            "slowest": slowest * 1000, "connections": float(result.get("connections", 0))}  # type: ignore[arg-type]


def interleaved(figures: list[Figure], trials: int, tmp: Path, what: str,
                once: Callable[[tuple[str, str], Path], dict[str, float] | None],
                keys: list[str]) -> None:
    for trial in range(trials):
        for kind, kinds in PAIRS.items():
            run = tmp / f"{what}-{trial}-{kind.replace(' ', '')}".replace(">", "")
            run.mkdir(parents=True)
            record_trial(figures, keys, what, kind, trial, trials,
                         lambda: once(kinds, run))  # noqa: B023


def print_table(figures: list[Figure], markdown: bool) -> None:
    kinds = list(PAIRS)
    if markdown:
        print("| measure | " + " | ".join(kinds) + " | trials ok/failed |")
        print("| --- | " + " | ".join("---:" for _ in kinds) + " | --- |")
        for f in figures:
            print(f"| {f.name} | " + " | ".join(f"{f.spread(k)} {f.unit}" for k in kinds)
                  + " | " + ", ".join(f.trials(k) for k in kinds) + " |")
        return
    print(f"{'measure':<58}" + "".join(f"{k:>24}" for k in kinds))
    for f in figures:
        print(f"{f.name:<58}" + "".join(f"{f.spread(k) + ' ' + f.unit:>24}" for k in kinds))
    print("values: median (min-max) of the trials that gave one")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--trials", type=int, default=5, help="trials per pair and case")
    parser.add_argument("--only", choices=["icmp", "tcp"], action="append")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    only = set(args.only or ["icmp", "tcp"])
    load_before = os.getloadavg()
    figures: list[Figure] = []
    intervals = Figure("probe interval", "ms")
    with tempfile.TemporaryDirectory(prefix="bench-switchover-") as tmpdir:
        tmp = Path(tmpdir)
        if "icmp" in only:
            for version, advert, vmac in CASES:
                name = case_name(version, advert, vmac)
                lost = Figure(f"{name}: probes lost", "", "{:.0f}")
                outage = Figure(f"{name}: outage", "ms")
                figures += [lost, outage]
                interleaved(
                    [lost, outage, intervals], args.trials, tmp,
                    f"v{version}-{advert}{'-vmac' if vmac else ''}",
                    lambda kinds, d, v=version, a=advert, m=vmac: icmp_once(kinds, d, v, a, m),
                    ["lost", "outage", "interval"])
        if "tcp" in only:
            tcp = [Figure("TCP, VRRPv3 advert_int 0.1: connections failed", "", "{:.0f}"),
                   Figure("TCP: of which reset", "", "{:.0f}"),
                   Figure("TCP: slowest connection", "ms")]
            figures += tcp
            interleaved(tcp, args.trials, tmp, "tcp", tcp_once, ["failed", "reset", "slowest"])
    print_table(figures, args.markdown)
    if intervals.values:
        print(f"probe interval: {intervals.spread('pykeepalived')} ms (pykeepalived pairs), "
              f"{intervals.spread('keepalived')} ms (keepalived pairs)")
    print(f"load average: {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after "
          f"({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
