"""VRRP side by side with Debian's keepalived, in one run, as ratios.

Three measurements, each made for a keepalived pair and a pykeepalived pair on the same lab:

1. takeover: VRRPv3, advert_int 0.1, backup priority 100; the master's switch port is cut and the
   takeover time is the backup's first advert minus the master's last one (tcpdump timestamps in the
   switch namespace). The protocol says 3 x 0.1 + (256 - 100) x 0.1 / 256 = 360.9 ms.
2. cpu: 1,000 instances (4 interfaces x 250 VRIDs, advert_int 1) on a master and a backup; the CPU
   time of the master's and the backup's VRRP process over a window, as % of one core, and the
   master's memory (PSS of the parent and the VRRP child).
3. vips: one node with 1,000 instances and no peer; the time from the first VIP added to the last
   (``ip -ts monitor address`` in the node), i.e. how fast it brings 1,000 VIPs up.

Run as root: ``python3 benchmarks/bench_vrrp.py [--trials 5] [--window 20]``.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.daemons import Daemon, start_keepalived, start_pykeepalived

from pykeepalived.demo.lab import Host, Lab, wait_for

Starter = Callable[[Host, Path, Path], Daemon]
KINDS: dict[str, Starter] = {"keepalived": start_keepalived, "pykeepalived": start_pykeepalived}
PROTOCOL_TAKEOVER = 3 * 0.1 + (256 - 100) * 0.1 / 256


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


def advert_times(capture: str) -> list[tuple[float, str]]:
    out = []
    for line in capture.splitlines():
        m = re.match(r"(\d+\.\d+) IP (\S+) > 224\.0\.0\.18", line)
        if m:
            out.append((float(m.group(1)), m.group(2)))
    return out


def takeover_once(kind: str, tmp: Path) -> float | None:
    with Lab() as lab:
        r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
        r2 = lab.add_host("r2", [["192.0.2.2/24"]], ipv6=False)
        c1 = tmp / f"{kind}-r1.conf"
        c2 = tmp / f"{kind}-r2.conf"
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
            dump.send_signal(signal.SIGINT)
            out, _ = dump.communicate(timeout=10)
            d1.stop()
            d2.stop()
        adverts = advert_times(out.decode())
        last_r1 = max((t for t, s in adverts if s == "192.0.2.1"), default=None)
        first_r2 = min((t for t, s in adverts if s == "192.0.2.2" and last_r1 and t > last_r1),
                       default=None)
        if last_r1 is None or first_r2 is None:
            return None
        return first_r2 - last_r1


def cpu_seconds(host: Host, pid_file: Path) -> float:
    pid = int(pid_file.read_text().split()[0])
    fields = host.run("cat", f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def pss_kib(host: Host, pid_file: Path) -> int:
    """Proportional set size (shared pages split between sharers) of one process, in KiB."""
    pid = int(pid_file.read_text().split()[0])
    for line in host.run("cat", f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def cpu_run(kind: str, tmp: Path, window: float) -> tuple[float, float, float] | None:
    with Lab(segments=4) as lab:
        r1 = lab.add_host("r1", host_addresses(1), ipv6=False)
        r2 = lab.add_host("r2", host_addresses(2), ipv6=False)
        c1 = tmp / f"{kind}-m1.conf"
        c2 = tmp / f"{kind}-m2.conf"
        c1.write_text(conf_many(150))
        c2.write_text(conf_many(100))
        d1 = KINDS[kind](r1, c1, tmp)
        d2 = KINDS[kind](r2, c2, tmp)
        try:
            ok = wait_for(lambda: vip_count(r1) >= 1000, 60, 0.5)
            if not ok:
                return None
            time.sleep(5)
            p1 = d1.log_path.parent / "vrrp.pid"
            p2 = d2.log_path.parent / "vrrp.pid"
            a1, a2 = cpu_seconds(r1, p1), cpu_seconds(r2, p2)
            time.sleep(window)
            b1, b2 = cpu_seconds(r1, p1), cpu_seconds(r2, p2)
            # memory of the master: parent (watchdog) plus VRRP child
            mem = pss_kib(r1, p1) + pss_kib(r1, d1.log_path.parent / "ka.pid")
            return (b1 - a1) / window * 100, (b2 - a2) / window * 100, mem / 1024
        finally:
            d1.stop(30)
            d2.stop(30)


def vips_run(kind: str, tmp: Path) -> float | None:
    with Lab(segments=4) as lab:
        r1 = lab.add_host("r1", host_addresses(1), ipv6=False)
        c1 = tmp / f"{kind}-v1.conf"
        c1.write_text(conf_many(150))
        mon_path = tmp / f"{kind}-monitor.txt"
        mon_file = open(mon_path, "wb")  # noqa: SIM115 (a pipe would fill and stall ip monitor)
        mon = r1.popen("stdbuf", "-oL", "ip", "-ts", "monitor", "address", stdout=mon_file,
                       stderr=subprocess.DEVNULL)
        d1 = KINDS[kind](r1, c1, tmp)
        try:
            wait_for(lambda: vip_count(r1) >= 1000, 60, 0.2)
            time.sleep(0.5)
        finally:
            mon.send_signal(signal.SIGINT)
            mon.wait(timeout=10)
            mon_file.close()
            d1.stop(30)
        stamps = []
        for line in mon_path.read_text().splitlines():
            m = re.match(r"\[(\d+-\d+-\d+)T(\d+):(\d+):(\d+\.\d+)", line)
            if m and "Deleted" not in line and " 198.51.100." in line:
                stamps.append(int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4)))
        if len(stamps) < 1000:
            return None
        return max(stamps) - min(stamps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--only", choices=["takeover", "cpu", "vips"], action="append")
    args = parser.parse_args()
    only = set(args.only or ["takeover", "cpu", "vips"])
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-vrrp-") as tmpdir:
        tmp = Path(tmpdir)
        if "takeover" in only:
            for kind in KINDS:
                times = [t for t in (takeover_once(kind, tmp) for _ in range(args.trials)) if t]
                med = statistics.median(times) if times else float("nan")
                results.setdefault("takeover ms (median)", {})[kind] = f"{med * 1000:.1f}"
                results.setdefault("takeover - protocol ms", {})[kind] = \
                    f"{(med - PROTOCOL_TAKEOVER) * 1000:+.1f}"
        if "cpu" in only:
            for kind in KINDS:
                res = cpu_run(kind, tmp, args.window)
                m, b, mem = res if res else (float("nan"), float("nan"), float("nan"))
                results.setdefault("1000 inst master %cpu", {})[kind] = f"{m:.2f}"
                results.setdefault("1000 inst backup %cpu", {})[kind] = f"{b:.2f}"
                results.setdefault("1000 inst memory MiB (PSS)", {})[kind] = f"{mem:.1f}"
        if "vips" in only:
            for kind in KINDS:
                res2 = vips_run(kind, tmp)
                results.setdefault("1000 VIPs first->last ms", {})[kind] = \
                    f"{res2 * 1000:.1f}" if res2 is not None else "nan"
    print(f"{'measure':<28}{'keepalived':>12}{'pykeepalived':>14}{'ratio py/ka':>13}")
    for measure, row in results.items():
        ka, py = row.get("keepalived", "nan"), row.get("pykeepalived", "nan")
        try:
            ratio = f"{float(py) / float(ka):.2f}" if "protocol" not in measure else ""
        except (ValueError, ZeroDivisionError):
            ratio = ""
        print(f"{measure:<28}{ka:>12}{py:>14}{ratio:>13}")
    print(f"(protocol takeover: {PROTOCOL_TAKEOVER * 1000:.1f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
