"""Load-balancer backends: how long one apply takes, for tables of growing size.

For N virtual servers with three real servers each (NAT, wrr, half of them persistent), times
in a fresh network namespace (root needed):

* building the nftables transaction (pure Python), best of 5;
* ``NftablesBackend.apply`` of the whole table (first apply), best of 3;
* ``apply`` again after one real server's weight changed (the table is replaced whole, and
  the persistence entries read and carried over), best of 3;
* the same two applies with ``IpvsBackend`` when the kernel has IPVS (it sends only what
  differs), and the ratio nftables / IPVS.

keepalived itself cannot be put next to these here: it drives IPVS only, and without IPVS it
stops ("IPVS: Can't initialize ipvs").

    python3 benchmarks/bench_lb.py [--sizes 10,100,1000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from ipaddress import ip_address

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

from pykeepalived.lb import nft_script  # noqa: E402
from pykeepalived.lb.ipvs import IpvsBackend  # noqa: E402
from pykeepalived.lb.model import Backend, Destination, Service  # noqa: E402
from pykeepalived.lb.nftables import NftablesBackend  # noqa: E402
from pykeepalived.lb.select import detect_ipvs  # noqa: E402
from pykeepalived.net import netns  # noqa: E402


def services(count: int) -> list[Service]:
    out = []
    for i in range(count):
        dests = tuple(Destination(ip_address(f"198.51.100.{r}"), 8000 + i % 1000, weight=r)
                      for r in (1, 2, 3))
        out.append(Service(protocol="TCP", address=ip_address(f"203.0.{113 + i // 250}."
                                                              f"{i % 250 + 1}"),
                           port=8000 + i % 1000, scheduler="wrr",
                           persistence_timeout=300 if i % 2 else None,
                           destinations=dests))
    return out


def best_of(n: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def one_changed(table: list[Service]) -> list[Service]:
    first = table[0]
    dests = (replace(first.destinations[0], weight=7), *first.destinations[1:])
    return [replace(first, destinations=dests), *table[1:]]


def measure(backend: Backend, table: list[Service]) -> tuple[float, float]:
    def first() -> None:
        backend.clear()
        backend.apply(table)

    full = best_of(3, first)
    tables = [one_changed(table), table]  # each re-apply changes one weight, back and forth
    count = [0]

    def again() -> None:
        count[0] += 1
        backend.apply(tables[count[0] % 2])

    changed = best_of(3, again)
    backend.clear()
    return full, changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ns = f"pkbench{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    has_ipvs = detect_ipvs(load_module=False).present
    try:
        with netns.enter(ns):
            nft = NftablesBackend()
            ipvs = IpvsBackend() if has_ipvs else None
            print(f"{'services':>8} {'script build':>13} {'nft apply':>10} {'nft re-apply':>13}"
                  f" {'ipvs apply':>11} {'ipvs re-apply':>14} {'ratio':>6}")
            for n in sizes:
                table = services(n)
                build = best_of(5, lambda t=table: nft_script.script(nft_script.layout(t)))
                full, again = measure(nft, table)
                row = (f"{n:>8} {build * 1e3:>11.1f}ms {full * 1e3:>8.1f}ms "
                       f"{again * 1e3:>11.1f}ms")
                if ipvs is not None:
                    ifull, iagain = measure(ipvs, table)
                    row += (f" {ifull * 1e3:>9.1f}ms {iagain * 1e3:>12.1f}ms "
                            f"{again / iagain:>6.1f}")
                else:
                    row += f" {'no IPVS':>11} {'-':>14} {'-':>6}"
                print(row)
            nft.close()
            if ipvs is not None:
                ipvs.close()
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


if __name__ == "__main__":
    main()
