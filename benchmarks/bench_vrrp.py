"""VRRP side by side with Debian's keepalived, in one run, as ratios.

Every figure is measured for a keepalived pair and a pykeepalived pair on labs of the same
shape, with the two daemons' trials interleaved (keepalived, pykeepalived, keepalived, ...),
so that a change of machine load during the run hits both. Each figure is printed with the
spread of its trials (min / median / max), the number of trials that gave a value and the
number that failed; the ratio is pykeepalived's median over keepalived's.

1. takeover (median of ``--trials``): VRRPv3, advert_int 0.1, backup priority 100; the
   master's switch port is cut and the takeover time is the backup's first advert minus the
   master's last one (tcpdump timestamps in the switch namespace). The protocol says
   3 x 0.1 + (256 - 100) x 0.1 / 256 = 360.9 ms.
2. cpu (median of ``--runs``): 1,000 instances (4 interfaces x 250 VRIDs, advert_int 1) on a
   master and a backup; the CPU time of the master's and the backup's VRRP process (all
   threads, the scheduler's nanosecond run time) over ``--window`` seconds, as % of one core,
   and memory: the PSS (shared pages split between the processes sharing them,
   /proc/PID/smaps_rollup) of the master's parent and VRRP process, apart and summed, and
   the anonymous part of the sum (Pss_Anon: what the processes allocated, without the share
   of libraries and binaries, which depends on what else runs on the machine).
3. vips (median of ``--runs``): one node with 1,000 instances and no peer; from its first
   Master_Down_Timer expiry (its first advert on the wire, tcpdump in the switch namespace)
   to its LAST VIP up (``ip -ts monitor address`` in the node): how long until all 1,000
   VIPs are served once the node has decided to be master.

Run as root: ``python3 benchmarks/bench_vrrp.py [--trials 7] [--runs 3] [--window 20]
[--only takeover|cpu|vips] [--markdown]``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.daemons import Daemon, start_keepalived, start_pykeepalived

from pykeepalived.demo.lab import Host, Lab, wait_for

Starter = Callable[[Host, Path, Path], Daemon]
KINDS: dict[str, Starter] = {"keepalived": start_keepalived, "pykeepalived": start_pykeepalived}
PROTOCOL_TAKEOVER = 3 * 0.1 + (256 - 100) * 0.1 / 256
INSTANCES = 1000


@dataclass
class Figure:
    """One measured quantity: the values each daemon's trials gave, and how many failed."""

    name: str
    unit: str
    fmt: str = "{:.1f}"
    values: dict[str, list[float]] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, value: float | None) -> None:
        if value is None:
            self.failed[kind] = self.failed.get(kind, 0) + 1
        else:
            self.values.setdefault(kind, []).append(value)

    def median(self, kind: str) -> float | None:
        vals = self.values.get(kind)
        return statistics.median(vals) if vals else None

    def spread(self, kind: str) -> str:
        """``median (min-max)`` of the trials that gave a value."""
        vals = self.values.get(kind)
        if not vals:
            return "-"
        med = self.fmt.format(statistics.median(vals))
        if len(vals) == 1:
            return med
        return f"{med} ({self.fmt.format(min(vals))}-{self.fmt.format(max(vals))})"

    def trials(self, kind: str) -> str:
        """``n ok / failed`` for the table."""
        return f"{len(self.values.get(kind, []))}/{self.failed.get(kind, 0)}"

    def ratio(self) -> str:
        ka, py = self.median("keepalived"), self.median("pykeepalived")
        if ka is None or py is None or ka == 0:
            return "-"
        return f"{py / ka:.2f}"


def conf_one(prio: int) -> str:
    return f"""global_defs {{
    router_id r{prio}
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {prio}
    version 3
    advert_int 0.1
    virtual_ipaddress {{
        192.0.2.10/24
    }}
}}
"""


def conf_many(prio: int, interfaces: int = 4, per_if: int = 250) -> str:
    """``interfaces`` x ``per_if`` instances; the same /32 VIPs on every interface (one segment
    each), so 1,000 VIPs fit in documentation address space."""
    parts = [f"global_defs {{\n    router_id r{prio}\n}}\n"]
    for i in range(interfaces):
        for vrid in range(1, per_if + 1):
            parts.append(f"""vrrp_instance VI_{i}_{vrid} {{
    state BACKUP
    interface eth{i}
    virtual_router_id {vrid}
    priority {prio}
    advert_int 1
    virtual_ipaddress {{
        198.51.100.{vrid}/32 dev eth{i}
    }}
}}
""")
    return "".join(parts)


def host_addresses(n: int, interfaces: int = 4) -> list[list[str]]:
    return [[f"203.0.113.{n}{i}/24"] for i in range(interfaces)]


def vip_count(host: Host) -> int:
    out = host.run("ip", "-o", "-4", "addr", "show", check=False)
    return sum(1 for line in out.splitlines() if " 198.51.100." in line)


_ADVERT = re.compile(r"(\d+\.\d+) .*?IP (\d+\.\d+\.\d+\.\d+) > 224\.0\.0\.18")


def advert_times(capture: str) -> list[tuple[float, str]]:
    """(timestamp, source) of every IPv4 advert in ``tcpdump -tt -n`` output."""
    out = []
    for line in capture.splitlines():
        m = _ADVERT.match(line)
        if m:
            out.append((float(m.group(1)), m.group(2)))
    return out


def run_dir(tmp: Path, what: str, trial: int, kind: str) -> Path:
    """A fresh directory per trial: no pid file of an earlier daemon is ever seen again."""
    path = tmp / f"{what}-{trial}-{kind}"
    path.mkdir()
    return path


def stop_capture(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate(timeout=5)
    return (out or b"").decode(errors="replace")


def takeover_once(kind: str, tmp: Path) -> float | None:
    with Lab() as lab:
        r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
        r2 = lab.add_host("r2", [["192.0.2.2/24"]], ipv6=False)
        c1 = tmp / "r1.conf"
        c2 = tmp / "r2.conf"
        c1.write_text(conf_one(150))
        c2.write_text(conf_one(100))
        d1 = KINDS[kind](r1, c1, tmp)
        d2 = KINDS[kind](r2, c2, tmp)
        dump = lab.switch.popen("tcpdump", "-i", "br0", "-n", "-tt", "-l", "ip proto 112",
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            if not wait_for(lambda: r1.has_address("192.0.2.10"), 15):
                return None
            time.sleep(1.0)
            r1.cut()
            wait_for(lambda: r2.has_address("192.0.2.10"), 5)
            time.sleep(0.5)
        finally:
            out = stop_capture(dump)
            d1.stop()
            d2.stop()
        adverts = advert_times(out)
        last_r1 = max((t for t, s in adverts if s == "192.0.2.1"), default=None)
        if last_r1 is None:
            return None
        first_r2 = min((t for t, s in adverts if s == "192.0.2.2" and t > last_r1),
                       default=None)
        if first_r2 is None:
            return None
        return first_r2 - last_r1


def _pid(pid_file: Path) -> int:
    return int(pid_file.read_text().split()[0])


def cpu_seconds(host: Host, pid_file: Path) -> float:
    """CPU time (user + system) of every thread of the process, in seconds, from the
    scheduler's nanosecond counters (/proc/PID/task/TID/schedstat): the 10 ms ticks of
    /proc/PID/stat are too coarse for half a percent of a core over a window."""
    del host  # the lab shares the PID namespace: /proc is read from here
    pid = _pid(pid_file)
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        # (a thread that ended meanwhile has no file any more)
        with contextlib.suppress(FileNotFoundError), open(
                f"/proc/{pid}/task/{tid}/schedstat") as f:
            total += int(f.read().split()[0])
    return total / 1e9


def pss_kib(host: Host, pid_file: Path, field: str = "Pss") -> int | None:
    """Proportional set size (shared pages split between sharers) of one process, in KiB;
    ``Pss_Anon`` for its anonymous part alone (heap, stacks: not the shared libraries and
    binaries, whose share depends on what else runs on the machine)."""
    pid = _pid(pid_file)
    for line in host.run("cat", f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return None


CpuResult = dict[str, float]


def cpu_run(kind: str, tmp: Path, window: float) -> CpuResult | None:
    """One master and one backup with 1,000 instances each: CPU over ``window``, memory."""
    with Lab(segments=4) as lab:
        r1 = lab.add_host("r1", host_addresses(1), ipv6=False)
        r2 = lab.add_host("r2", host_addresses(2), ipv6=False)
        c1 = tmp / "m1.conf"
        c2 = tmp / "m2.conf"
        c1.write_text(conf_many(150))
        c2.write_text(conf_many(100))
        d1 = KINDS[kind](r1, c1, tmp)
        d2 = KINDS[kind](r2, c2, tmp)
        try:
            if not wait_for(lambda: vip_count(r1) >= INSTANCES, 60, 0.5):
                return None
            time.sleep(5)
            if d1.proc.poll() is not None or d2.proc.poll() is not None:
                return None
            p1 = d1.log_path.parent / "vrrp.pid"
            p2 = d2.log_path.parent / "vrrp.pid"
            a1, a2 = cpu_seconds(r1, p1), cpu_seconds(r2, p2)
            time.sleep(window)
            b1, b2 = cpu_seconds(r1, p1), cpu_seconds(r2, p2)
            if vip_count(r1) < INSTANCES or vip_count(r2) > 0:
                return None  # an election went wrong meanwhile: not the steady state
            p0 = d1.log_path.parent / "ka.pid"
            parent, child = pss_kib(r1, p0), pss_kib(r1, p1)
            parent_anon, child_anon = pss_kib(r1, p0, "Pss_Anon"), pss_kib(r1, p1, "Pss_Anon")
            if parent is None or child is None or parent_anon is None or child_anon is None:
                return None
            return {"master_cpu": (b1 - a1) / window * 100,
                    "backup_cpu": (b2 - a2) / window * 100,
                    "mem": (parent + child) / 1024, "mem_parent": parent / 1024,
                    "mem_child": child / 1024, "mem_anon": (parent_anon + child_anon) / 1024}
        finally:
            d1.stop(30)
            d2.stop(30)


def _monitor_stamp(line: str) -> float | None:
    """The wall-clock time ``ip -ts monitor`` put in front of ``line`` (local time)."""
    m = re.match(r"\[(\d+-\d+-\d+T\d+:\d+:\d+\.\d+)", line)
    if m is None:
        return None
    return datetime.datetime.fromisoformat(m.group(1)).timestamp()


def vips_run(kind: str, tmp: Path) -> float | None:
    """Seconds from the node's first advert (its first Master_Down expiry) to its last VIP."""
    with Lab(segments=4) as lab:
        r1 = lab.add_host("r1", host_addresses(1), ipv6=False)
        c1 = tmp / "v1.conf"
        c1.write_text(conf_many(150))
        mon_path = tmp / "monitor.txt"
        mon_file = open(mon_path, "wb")  # noqa: SIM115 (a pipe would fill and stall ip monitor)
        mon = r1.popen("stdbuf", "-oL", "ip", "-ts", "monitor", "address", stdout=mon_file,
                       stderr=subprocess.DEVNULL)
        cap_path = tmp / "adverts.txt"
        cap_file = open(cap_path, "wb")  # noqa: SIM115 (as above: 1,000 adverts a second)
        dump = lab.switch.popen("tcpdump", "-i", "any", "-n", "-tt", "-l", "ip proto 112",
                                stdout=cap_file, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # both listening before the daemon starts
        d1 = KINDS[kind](r1, c1, tmp)
        try:
            up = wait_for(lambda: vip_count(r1) >= INSTANCES, 60, 0.2)
            time.sleep(0.5)
        finally:
            for proc in (mon, dump):
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
            mon_file.close()
            cap_file.close()
            d1.stop(30)
        if not up:
            return None
        first_advert = min((t for t, _src in advert_times(cap_path.read_text(errors="replace"))),
                           default=None)
        stamps = [s for line in mon_path.read_text(errors="replace").splitlines()
                  if "Deleted" not in line and " 198.51.100." in line
                  and (s := _monitor_stamp(line)) is not None]
        if first_advert is None or len(stamps) < INSTANCES:
            return None
        return max(stamps) - first_advert


def bare_interpreter_pss(*flags: str, python: str = sys.executable) -> float | None:
    """PSS in MiB of an idle ``python [flags]`` here: the floor under each Python process
    (site-packages .pth hooks of this machine included, unless ``-S``)."""
    proc = subprocess.Popen([python, *flags, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(1.0)
        with open(f"/proc/{proc.pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
        return None
    finally:
        proc.kill()
        proc.wait()


def interleaved(figures: list[Figure], trials: int, tmp: Path, what: str,
                once: Callable[[str, Path], dict[str, float] | None],
                keys: list[str]) -> None:
    """``trials`` rounds of keepalived then pykeepalived; each result goes to its figures."""
    for trial in range(trials):
        for kind in KINDS:
            record_trial(figures, keys, what, kind, trial, trials,
                         lambda: once(kind, run_dir(tmp, what, trial, kind)))  # noqa: B023


def record_trial(figures: list[Figure], keys: list[str], what: str, kind: str, trial: int,
                 trials: int, run: Callable[[], dict[str, float] | None]) -> None:
    """Run one trial; its figures (or its failure, counted) go to ``figures``, and a line
    about it to stderr. A failed trial never stops the run."""
    started = time.monotonic()
    try:
        res = run()
    except Exception as exc:  # a failed trial is counted, and the run goes on
        print(f"  {what} {kind} trial {trial + 1}: failed: {exc!r}", file=sys.stderr)
        res = None
    for fig, key in zip(figures, keys, strict=True):
        fig.add(kind, None if res is None else res[key])
    shown = "failed" if res is None else ", ".join(f"{k}={v:.4g}" for k, v in res.items())
    print(f"  {what} {kind} trial {trial + 1}/{trials}: {shown} "
          f"({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)


def print_table(figures: list[Figure], markdown: bool) -> None:
    if markdown:
        print("| measure | keepalived | pykeepalived | ratio | trials ok/failed (ka, py) |")
        print("| --- | ---: | ---: | ---: | --- |")
        for f in figures:
            print(f"| {f.name} | {f.spread('keepalived')} {f.unit} | "
                  f"{f.spread('pykeepalived')} {f.unit} | {f.ratio()} | "
                  f"{f.trials('keepalived')}, {f.trials('pykeepalived')} |")
        return
    print(f"{'measure':<46}{'keepalived':>24}{'pykeepalived':>24}{'ratio':>7}"
          f"{'ok/failed':>14}")
    for f in figures:
        print(f"{f.name:<46}{f.spread('keepalived') + ' ' + f.unit:>24}"
              f"{f.spread('pykeepalived') + ' ' + f.unit:>24}{f.ratio():>7}"
              f"{f.trials('keepalived') + ' ' + f.trials('pykeepalived'):>14}")
    print("values: median (min-max) of the trials that gave one; ratio: pykeepalived's "
          "median / keepalived's")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--trials", type=int, default=7, help="takeover trials per daemon")
    parser.add_argument("--runs", type=int, default=3,
                        help="cpu/memory and VIP runs per daemon (at least 3 for a median)")
    parser.add_argument("--window", type=float, default=20.0, help="CPU window, seconds")
    parser.add_argument("--only", choices=["takeover", "cpu", "vips"], action="append")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter that runs pykeepalived (default: this one), e.g. "
                        "the virtual environment scripts/install makes; the checkout's "
                        "sources come first on its path")
    args = parser.parse_args()
    if args.python != sys.executable:
        KINDS["pykeepalived"] = lambda host, conf, tmp: start_pykeepalived(
            host, conf, tmp, python=args.python)
    print(f"pykeepalived runs on {args.python}")
    only = set(args.only or ["takeover", "cpu", "vips"])
    load_before = os.getloadavg()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-vrrp-") as tmpdir:
        tmp = Path(tmpdir)
        if "takeover" in only:
            take = Figure(f"takeover after the master's last advert (median of {args.trials}; "
                          f"protocol {PROTOCOL_TAKEOVER * 1000:.1f} ms)", "ms")
            figures.append(take)
            interleaved([take], args.trials, tmp, "takeover",
                        lambda kind, d: _ms(takeover_once(kind, d)), ["t"])
        if "cpu" in only:
            n = args.runs
            cpu = [Figure(f"1,000 instances, master, % of one core (median of {n})", "%", "{:.2f}"),
                   Figure(f"1,000 instances, backup, % of one core (median of {n})", "%", "{:.2f}"),
                   Figure(f"1,000 instances, master memory, PSS parent + VRRP (median of {n})",
                          "MiB"),
                   Figure("  of which the parent (watchdog)", "MiB"),
                   Figure("  of which the VRRP process", "MiB"),
                   Figure("  of which anonymous (heap, stacks; no shared files)", "MiB")]
            figures += cpu
            interleaved(cpu, n, tmp, "cpu", lambda kind, d: cpu_run(kind, d, args.window),
                        ["master_cpu", "backup_cpu", "mem", "mem_parent", "mem_child",
                         "mem_anon"])
        if "vips" in only:
            vips = Figure(f"1,000 VIPs, first Master_Down expiry to last VIP up (median of "
                          f"{args.runs})", "ms")
            figures.append(vips)
            interleaved([vips], args.runs, tmp, "vips", lambda kind, d: _ms(vips_run(kind, d)),
                        ["t"])
    print_table(figures, args.markdown)
    if "cpu" in only:
        bare = bare_interpreter_pss(python=args.python)
        no_site = bare_interpreter_pss("-S", python=args.python)
        print(f"for scale: an idle {args.python} here has a PSS of {bare or 0:.1f} MiB "
              f"({no_site or 0:.1f} MiB with -S, without site-packages' .pth hooks)")
    print(f"load average: {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after "
          f"({os.cpu_count()} CPUs)")
    if "takeover" in only:
        for kind in KINDS:
            med = figures[0].median(kind)
            if med is not None:
                print(f"{kind}: takeover - protocol = {med - PROTOCOL_TAKEOVER * 1000:+.1f} ms")
    return 0


def _ms(seconds: float | None) -> dict[str, float] | None:
    return None if seconds is None else {"t": seconds * 1000}


if __name__ == "__main__":
    raise SystemExit(main())
