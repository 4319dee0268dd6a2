"""False failovers on a loaded CPU: pykeepalived and Debian's keepalived side by side.

keepalived's most reported fault in the field is a backup that takes over from a live master
because an advert came late ("thread timer expired"). This benchmark makes that likely and
counts it, for both daemons in the same run, under the same load:

- per daemon, a lab of its own: a master and a backup in namespaces, one fast instance VI_FAST
  (VRRPv3, advert_int 0.01, VRID 251 on eth0; master priority 200, backup priority 100, so the
  backup's Master_Down_Interval is 3 x 10 ms + (256 - 100) x 10 ms / 256 = 36.09 ms), and on
  the master 1,000 other instances (4 interfaces x 250 VRIDs, advert_int 1, one /32 VIP each,
  no peer: they are masters, and 250 of their adverts a second reach the backup's eth0);
- both CPUs kept busy by ``stress-ng --cpu 2`` at normal priority for the whole window
  (bounded with ``--timeout``), on top of whatever else runs on the machine;
- over ``--duration`` seconds (600 by default): the spurious failovers (the backup entering
  MASTER while its master is alive, from its own log, and cross-checked on the wire: runs of
  adverts from the backup's address), and the inter-arrival times of the master's VI_FAST
  adverts at the backup (tcpdump on the backup's eth0, kernel timestamps in nanoseconds):
  median, p99, p99.9, max and the count above the Master_Down_Interval;
- for pykeepalived, what its VRRP processes report (``--status``): how late their timers fired
  (the master's advert timer is most of them), their longest collector pauses and how often
  the realtime watchdog had to sleep;
- ``--settings``: the global_defs lines given to both daemons, ``none`` (keepalived's defaults)
  , ``rt`` (``vrrp_rt_priority 20``: SCHED_RR, with keepalived's default vrrp_rlimit_rttime
  10 ms) or ``rt-1s`` (the same with ``vrrp_rlimit_rttime 1000000``: keepalived's VRRP child
  is killed by RLIMIT_RTTIME at 10 ms when its 1,000 instances become master together).

``--gc`` first measures, in this process, the longest collector pause of a VRRP process of
1,001 instances as built from this configuration: a full collection without ``gc.freeze`` (what
each child did before it froze after start) and with it.

Run as root, on demand (not in CI): ``python3 benchmarks/bench_loaded_cpu.py [--duration 600]
[--settings none --settings rt] [--gc] [--markdown]``. stress-ng is Debian's package
``stress-ng``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.daemons import Daemon, start_keepalived, start_pykeepalived

from pykeepalived.demo.lab import Host, Lab, wait_for

KINDS = {"keepalived": start_keepalived, "pykeepalived": start_pykeepalived}
FAST_VRID = 251
ADVERT_INT = 0.01
BACKUP_PRIORITY = 100
MASTER_DOWN = 3 * ADVERT_INT + (256 - BACKUP_PRIORITY) * ADVERT_INT / 256
MASTER_IP, BACKUP_IP, FAST_VIP = "192.0.2.1", "192.0.2.2", "192.0.2.100"
SETTINGS = {"none": "", "rt": "    vrrp_rt_priority 20\n",
            "rt-1s": "    vrrp_rt_priority 20\n    vrrp_rlimit_rttime 1000000\n"}
INTERFACES, PER_IF = 4, 250


def fast_instance(priority: int) -> str:
    return f"""vrrp_instance VI_FAST {{
    state BACKUP
    interface eth0
    virtual_router_id {FAST_VRID}
    priority {priority}
    version 3
    advert_int {ADVERT_INT}
    virtual_ipaddress {{
        {FAST_VIP}/24
    }}
}}
"""


def master_conf(settings: str) -> str:
    parts = [f"global_defs {{\n    router_id master\n{settings}}}\n", fast_instance(200)]
    for i in range(INTERFACES):
        for vrid in range(1, PER_IF + 1):
            parts.append(f"""vrrp_instance VI_{i}_{vrid} {{
    state BACKUP
    interface eth{i}
    virtual_router_id {vrid}
    priority 150
    advert_int 1
    virtual_ipaddress {{
        198.51.100.{vrid}/32 dev eth{i}
    }}
}}
""")
    return "".join(parts)


def backup_conf(settings: str) -> str:
    return (f"global_defs {{\n    router_id backup\n{settings}}}\n"
            + fast_instance(BACKUP_PRIORITY))


def vip_count(host: Host) -> int:
    out = host.run("ip", "-o", "-4", "addr", "show", check=False)
    return sum(1 for line in out.splitlines() if " 198.51.100." in line)


# ------------------------------------------------------------------ the capture
def read_pcap(path: Path) -> list[tuple[float, str, int, int]]:
    """(time, IPv4 source, VRID, priority) of every VRRP packet in a pcap file written by
    ``tcpdump -w`` (microsecond or nanosecond timestamps, Ethernet)."""
    data = path.read_bytes()
    if len(data) < 24:
        return []
    magic = struct.unpack_from("<I", data)[0]
    scale = {0xA1B2C3D4: 1e-6, 0xA1B23C4D: 1e-9}[magic]
    out = []
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack_from("<IIII", data, pos)
        frame = data[pos + 16: pos + 16 + incl]
        pos += 16 + incl
        if len(frame) < 14 + 20 + 3 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 112 or len(ip) < ihl + 3:
            continue
        src = ".".join(str(b) for b in ip[12:16])
        out.append((sec + frac * scale, src, ip[ihl + 1], ip[ihl + 2]))
    return out


def episodes(times: list[float], gap: float = 0.5) -> int:
    """Runs of packets separated by more than ``gap`` seconds."""
    count, last = 0, None
    for t in sorted(times):
        if last is None or t - last > gap:
            count += 1
        last = t
    return count


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# ------------------------------------------------------------------ one pair
@dataclass
class Pair:
    kind: str
    lab: Lab
    master: Host
    backup: Host
    d_master: Daemon | None = None
    d_backup: Daemon | None = None
    capture: subprocess.Popen[bytes] | None = None
    pcap: Path | None = None
    log_mark: int = 0
    master_mark: int = 0
    status_at_start: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)


def make_pair(kind: str, tmp: Path, settings: str) -> Pair:
    lab = Lab(segments=INTERFACES)
    master = lab.add_host("m", [[f"{MASTER_IP}/24"], ["203.0.113.11/24"], ["203.0.113.21/24"],
                                ["203.0.113.31/24"]], ipv6=False)
    backup = lab.add_host("b", [[f"{BACKUP_IP}/24"]], ipv6=False)
    run = tmp / kind
    run.mkdir()
    (run / "m.conf").write_text(master_conf(settings))
    (run / "b.conf").write_text(backup_conf(settings))
    pair = Pair(kind, lab, master, backup)
    pair.d_master = KINDS[kind](master, run / "m.conf", run)
    pair.d_backup = KINDS[kind](backup, run / "b.conf", run)
    return pair


def settled(pair: Pair) -> bool:
    assert pair.d_master is not None and pair.d_backup is not None
    return (pair.master.has_address(FAST_VIP) and not pair.backup.has_address(FAST_VIP)
            and vip_count(pair.master) >= INTERFACES * PER_IF
            and "(VI_FAST) Entering BACKUP STATE" in pair.d_backup.log())


def start_window(pair: Pair, tmp: Path) -> None:
    assert pair.d_master is not None and pair.d_backup is not None
    pair.pcap = tmp / f"{pair.kind}.pcap"
    pair.capture = pair.backup.popen(
        "tcpdump", "-i", "eth0", "-n", "-s", "64", "-B", "16384", "--time-stamp-precision=nano",
        "-w", str(pair.pcap), f"ip proto 112 and ip[21] == {FAST_VRID}",
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pair.log_mark = len(pair.d_backup.log())
    pair.master_mark = len(pair.d_master.log())
    if pair.kind == "pykeepalived":
        for role in ("master", "backup"):
            status = pyk_status(pair, role, tmp)
            pair.status_at_start[role] = None if status is None else status.get("process")


def stop_capture(pair: Pair) -> str:
    proc = pair.capture
    if proc is None:
        return ""
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=5)
    return (err or b"").decode(errors="replace")


def pyk_status(pair: Pair, role: str, tmp: Path) -> dict[str, Any] | None:
    from pykeepalived.control.client import ControlError, ask
    from pykeepalived.control.server import socket_path

    host = "m" if role == "master" else "b"
    sock = socket_path(str(tmp / pair.kind / f"py-{host}" / "ka.pid"), "vrrp")
    try:
        # only the process's figures: the full status of 1,001 instances holds the
        # master's loop for 20-40 ms, long enough for a false failover by itself
        return ask(sock, {"cmd": "status", "process": True}, timeout=10)
    except (ControlError, OSError):
        return None


def finish(pair: Pair, tmp: Path, duration: float) -> None:
    assert pair.d_master is not None and pair.d_backup is not None
    capture_err = stop_capture(pair)
    backup_log = pair.d_backup.log()[pair.log_mark:]
    master_log = pair.d_master.log()[pair.master_mark:]
    res = pair.result
    res["failovers_log"] = backup_log.count("(VI_FAST) Entering MASTER STATE")
    res["master_transitions_log"] = master_log.count("(VI_FAST) Entering")
    res["timer_expired_lines"] = (backup_log.count("thread timer expired")
                                  + master_log.count("thread timer expired"))
    res["master_alive"] = pair.d_master.proc.poll() is None
    # keepalived: "Starting VRRP child process"; pykeepalived the same words
    res["respawns"] = master_log.count("Starting VRRP child process")
    res["rttime_lines"] = (master_log.count("too much CPU time")
                           + backup_log.count("too much CPU time"))
    packets = read_pcap(pair.pcap) if pair.pcap is not None and pair.pcap.exists() else []
    from_master = [t for t, src, _vrid, prio in packets if src == MASTER_IP and prio > 0]
    from_backup = [t for t, src, _vrid, prio in packets if src == BACKUP_IP and prio > 0]
    res["failovers_wire"] = episodes(from_backup)
    res["adverts"] = len(from_master)
    res["capture_drops"] = next((line.strip() for line in capture_err.splitlines()
                                 if "dropped by kernel" in line), "")
    gaps = [(b - a) * 1000 for a, b in itertools.pairwise(from_master)]
    if gaps:
        res.update(gap_median=statistics.median(gaps), gap_p99=percentile(gaps, 99),
                   gap_p999=percentile(gaps, 99.9), gap_max=max(gaps),
                   gaps_over_mdi=sum(1 for g in gaps if g > MASTER_DOWN * 1000),
                   gaps_over_20ms=sum(1 for g in gaps if g > 20))
    res["expected_adverts"] = int(duration / ADVERT_INT)
    if pair.kind == "pykeepalived":
        for role in ("master", "backup"):
            status = pyk_status(pair, role, tmp)
            before = pair.status_at_start.get(role)
            if status is not None and before is not None:
                res[f"{role}_process"] = window_figures(before, status["process"])


def window_figures(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What a pykeepalived VRRP process reported over the window: the timer-lateness
    histogram and collector passes (differences of its counters), its longest collector pause
    since it started, and the realtime watchdog's sleeps in the window."""
    hist_b, hist_a = before["timer_lateness"]["histogram"], after["timer_lateness"]["histogram"]
    hist = {k: hist_a[k] - hist_b.get(k, 0) for k in hist_a}
    total = sum(hist.values())
    p99 = p999 = "-"
    running = 0
    for label, n in hist.items():
        running += n
        if p99 == "-" and running >= 0.99 * total:
            p99 = label
        if p999 == "-" and running >= 0.999 * total:
            p999 = label
    gc_b, gc_a = before["gc"], after["gc"]
    return {"timers_fired": total, "lateness_p99": p99, "lateness_p999": p999,
            "lateness_histogram": hist, "lateness_longest_ms_since_start":
            after["timer_lateness"]["longest_ms"],
            "gc_collections": [a - b for a, b in zip(gc_a["collections"], gc_b["collections"],
                                                     strict=True)],
            "gc_longest_pause_ms_since_start": gc_a["longest_pause_ms"],
            "gc_frozen_objects": gc_a["frozen_objects"],
            "rt_breaths": after.get("rt_breaths", 0) - before.get("rt_breaths", 0),
            "scheduling": after.get("scheduling")}


def close(pair: Pair, keep: Path | None = None) -> None:
    for d in (pair.d_master, pair.d_backup):
        if d is not None and keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                shutil.copy(d.log_path, keep / f"{pair.kind}-{d.host.name}.log")
    for d in (pair.d_master, pair.d_backup):
        if d is not None:
            with contextlib.suppress(Exception):
                d.stop(30)
    pair.lab.close()


# ------------------------------------------------------------------ gc before/after
def gc_pauses() -> dict[str, float]:
    """Longest full collection of a 1,001-instance VRRP process's objects, without and with
    gc.freeze (in this process: the configuration loaded and VrrpProcess built, no I/O)."""
    import asyncio

    from pykeepalived.config import load_config
    from pykeepalived.config.sysinfo import SystemInfo
    from pykeepalived.daemon.vrrp_main import VrrpProcess

    with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf:
        conf.write(master_conf(""))
        conf.flush()
        system = SystemInfo.fake(["lo", *(f"eth{i}" for i in range(INTERFACES))])
        config = load_config(conf.name, system=system).config

    def longest(runs: int = 5) -> float:
        best = 0.0
        for _ in range(runs):
            started = time.perf_counter()
            gc.collect()
            best = max(best, time.perf_counter() - started)
        return best * 1000

    async def build() -> dict[str, float]:
        proc = VrrpProcess(config)
        proc.build()
        gc.unfreeze()
        before = longest()
        objects = len(gc.get_objects())
        gc.collect()
        gc.freeze()
        after = longest()
        frozen = gc.get_freeze_count()
        gc.unfreeze()
        proc.scheduler.close()
        return {"full_pass_ms_unfrozen": before, "full_pass_ms_frozen": after,
                "objects_tracked": objects, "objects_frozen": frozen}

    return asyncio.run(build())


# ------------------------------------------------------------------ main
def run_settings(name: str, duration: float, tmp: Path,
                 keep: Path | None = None) -> dict[str, dict[str, Any]]:
    settings = SETTINGS[name]
    pairs: list[Pair] = []
    stress: subprocess.Popen[bytes] | None = None
    try:
        for kind in KINDS:
            pairs.append(make_pair(kind, tmp, settings))
        # A pair that does not settle is measured all the same: a master whose VRRP child
        # is killed and respawned again and again is a result (keepalived under
        # vrrp_rt_priority with its default vrrp_rlimit_rttime)
        wait_for(lambda: all(settled(p) for p in pairs), 90, 0.5)
        for p in pairs:
            p.result["settled"] = settled(p)
            if not p.result["settled"]:
                print(f"  {p.kind}: did not settle (fast VIP on master "
                      f"{p.master.has_address(FAST_VIP)}, VIPs {vip_count(p.master)})",
                      file=sys.stderr)
        time.sleep(5)
        stress = subprocess.Popen(["stress-ng", "--cpu", "2", "--timeout",
                                   f"{int(duration) + 20}s", "--quiet"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)
        for p in pairs:
            start_window(p, tmp)
        started = time.monotonic()
        load = [os.getloadavg()[0]]
        while time.monotonic() - started < duration:  # bounded by the window
            time.sleep(min(30.0, max(0.1, duration - (time.monotonic() - started))))
            load.append(os.getloadavg()[0])
        for p in pairs:
            finish(p, tmp, duration)
            p.result["load_max"] = max(load)
        return {p.kind: p.result for p in pairs}
    finally:
        if stress is not None and stress.poll() is None:
            stress.send_signal(signal.SIGINT)
            try:
                stress.wait(timeout=10)
            except subprocess.TimeoutExpired:
                stress.kill()
                stress.wait(timeout=5)
        for p in pairs:
            close(p, None if keep is None else keep / name)


def print_results(name: str, duration: float, res: dict[str, dict[str, Any]],
                  markdown: bool) -> None:
    rows = [("spurious failovers (backup's log)", "failovers_log", "{:d}"),
            ("spurious failovers (on the wire)", "failovers_wire", "{:d}"),
            ("master's VI_FAST adverts captured", "adverts", "{:d}"),
            ("inter-arrival median, ms", "gap_median", "{:.2f}"),
            ("inter-arrival p99, ms", "gap_p99", "{:.2f}"),
            ("inter-arrival p99.9, ms", "gap_p999", "{:.2f}"),
            ("inter-arrival max, ms", "gap_max", "{:.2f}"),
            (f"gaps over Master_Down_Interval ({MASTER_DOWN * 1000:.2f} ms)",
             "gaps_over_mdi", "{:d}"),
            ("gaps over 20 ms", "gaps_over_20ms", "{:d}"),
            ("master still running at the end", "master_alive", "{}"),
            ("settled before the window (1,000 VIPs up, VI_FAST elected)", "settled", "{}"),
            ("master's VRRP child respawned in the window", "respawns", "{:d}")]
    ka, py = res.get("keepalived", {}), res.get("pykeepalived", {})

    def cell(d: dict[str, Any], key: str, fmt: str) -> str:
        return "-" if key not in d else fmt.format(d[key])

    title = (f"settings '{name}' ({SETTINGS[name].strip() or 'keepalived defaults'}), "
             f"{duration:g} s, stress-ng --cpu 2")
    if markdown:
        print(f"\n{title}\n")
        print("| measure | keepalived | pykeepalived |")
        print("| --- | ---: | ---: |")
        for label, key, fmt in rows:
            print(f"| {label} | {cell(ka, key, fmt)} | {cell(py, key, fmt)} |")
    else:
        print(f"\n{title}")
        for label, key, fmt in rows:
            print(f"  {label:<52}{cell(ka, key, fmt):>14}{cell(py, key, fmt):>14}")
    for kind, d in res.items():
        extras = {k: d[k] for k in ("timer_expired_lines", "rttime_lines", "capture_drops",
                                    "master_transitions_log", "load_max") if k in d}
        print(f"  {kind}: {extras}")
    for role in ("master", "backup"):
        proc = py.get(f"{role}_process")
        if proc:
            print(f"  pykeepalived {role}: {json.dumps(proc)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="window, seconds")
    parser.add_argument("--settings", choices=sorted(SETTINGS), action="append")
    parser.add_argument("--gc", action="store_true", help="the collector measurement first")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--keep-logs", type=Path, help="copy the daemons' logs to this folder")
    args = parser.parse_args()
    if shutil.which("stress-ng") is None:
        print("stress-ng is needed (apt-get install stress-ng)", file=sys.stderr)
        return 2
    everything: dict[str, Any] = {}
    if args.gc:
        everything["gc"] = gc_pauses()
        print(f"gc, 1,001-instance VRRP process built in this process: {everything['gc']}")
    with tempfile.TemporaryDirectory(prefix="bench-loaded-") as tmpdir:
        tmp = Path(tmpdir)
        for name in args.settings or ["none", "rt", "rt-1s"]:
            (tmp / name).mkdir()
            print(f"settings '{name}': {args.duration:g} s window ...", file=sys.stderr,
                  flush=True)
            res = run_settings(name, args.duration, tmp / name, args.keep_logs)
            everything[name] = res
            print_results(name, args.duration, res, args.markdown)
            sys.stdout.flush()
    if args.json is not None:
        args.json.write_text(json.dumps(everything, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
