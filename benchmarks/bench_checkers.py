"""10,000 TCP-checked real servers: pykeepalived's checker process next to HAProxy 2.6.

One lab, two namespaces on one bridge: a server host (198.51.100.2) where one process listens
on 10,000 ports (a backlog of 1,024 each, accepting and closing), and a director
(198.51.100.1) that health-checks every one of them once a second:

* pykeepalived: the real daemon (``pykeepalived -n -C``), one ``virtual_server`` with 10,000
  ``real_server``s, each with a ``TCP_CHECK`` (delay_loop 1, retry 1, delay_before_retry 1,
  connect_timeout 1), the table kept by the nftables backend (this kernel has no IPVS);
* HAProxy (Debian's ``haproxy``): one backend of 10,000 servers, ``check inter 1s fall 2
  rise 1`` (the same two failures before a server is taken out), ``timeout connect 1s``.

For each, in turn, ``--trials`` times: the CPU time (utime + stime from /proc/PID/stat of
every process of the daemon, i.e. every process in the director namespace) over ``--window``
seconds once all checks run, as % of one core; then ``--kills`` servers die one after the
other (their listener closed: connections are refused) and the time from the close to the
server's removal is taken, for pykeepalived from the nftables table (the number of
destinations of the virtual server, read in the director whenever the nf_tables generation,
polled every 2 ms, changes), for HAProxy from its stats socket (the server's status, read
every 2 ms). Each dead server is brought back and seen back before the next one dies.

The removal bound is delay_loop x (retry + 1) + connect_timeout = 3 s.

Run as root (needs ``apt-get install haproxy``):
``python3 benchmarks/bench_checkers.py [--trials 3] [--window 20] [--kills 5] [--servers 10000]
[--bridge-netfilter]``
"""

from __future__ import annotations

import argparse
import os
import random
import re
import select
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pykeepalived.demo.lab import Host, Lab, wait_for  # noqa: E402
from pykeepalived.net import netns  # noqa: E402
from pykeepalived.net.firewall import LibNftables  # noqa: E402

DIRECTOR, SERVER_IP, VIP = "198.51.100.1", "198.51.100.2", "203.0.113.10"
BASE_PORT = 10000
DELAY_LOOP, RETRY, DELAY_BEFORE_RETRY, CONNECT_TIMEOUT = 1, 1, 1, 1
BOUND = DELAY_LOOP * (RETRY + 1) + CONNECT_TIMEOUT
POLL = 0.002
# Whether the lab's bridge passes frames through the switch namespace's IP hooks (the
# kernel's default for a new namespace once br_netfilter is loaded): see lab_with_servers.
BRIDGE_NETFILTER = {"on": False}

# The real servers: one process, one listening socket per port, on an epoll; commands on
# stdin ("close PORT", "open PORT") answer with the CLOCK_MONOTONIC time they took effect.
LISTENERS = r"""
import os, resource, select, socket, sys, time
address, base, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
ep = select.epoll()
by_fd, by_port = {}, {}
def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(1024)
    s.setblocking(False)
    by_fd[s.fileno()] = s
    by_port[port] = s
    ep.register(s.fileno(), select.EPOLLIN)
for port in range(base, base + count):
    listen(port)
ep.register(0, select.EPOLLIN)
print("ready", flush=True)
stdin = os.fdopen(0, "rb", buffering=0)
while True:
    for fd, _ in ep.poll(1.0):
        if fd == 0:
            line = stdin.readline()
            if not line:
                sys.exit(0)
            verb, port = line.split()
            port = int(port)
            if verb == b"close":
                s = by_port.pop(port)
                ep.unregister(s.fileno())
                del by_fd[s.fileno()]
                s.close()
            else:
                listen(port)
            print(verb.decode(), port, time.monotonic(), flush=True)
            continue
        s = by_fd.get(fd)
        while s is not None:
            try:
                conn, _ = s.accept()
            except OSError:
                break
            conn.close()
"""


class Servers:
    """The listening process in the server namespace."""

    def __init__(self, host: Host, count: int) -> None:
        self.proc = host.popen(sys.executable, "-c", LISTENERS, SERVER_IP, str(BASE_PORT),
                               str(count), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout
        if self._line(60) != "ready":
            raise RuntimeError("the listeners did not start")

    def _line(self, timeout: float) -> str:
        ready, _, _ = select.select([self.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError("the listeners did not answer")
        return self.stdout.readline().decode().strip()

    def command(self, verb: str, port: int) -> float:
        """Close or open one port's listener; when (CLOCK_MONOTONIC) it happened."""
        self.stdin.write(f"{verb} {port}\n".encode())
        self.stdin.flush()
        words = self._line(10).split()
        return float(words[2])

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


# --------------------------------------------------------------------------- configurations
def pykeepalived_conf(count: int) -> str:
    parts = ["global_defs {\n    router_id director\n    lb_backend nftables\n}\n",
             f"virtual_server {VIP} 80 {{\n    delay_loop {DELAY_LOOP}\n    lb_algo rr\n"
             "    lb_kind NAT\n    protocol TCP\n"]
    for i in range(count):
        parts.append(f"    real_server {SERVER_IP} {BASE_PORT + i} {{\n        TCP_CHECK {{\n"
                     f"            connect_timeout {CONNECT_TIMEOUT}\n"
                     f"            retry {RETRY}\n"
                     f"            delay_before_retry {DELAY_BEFORE_RETRY}\n"
                     "        }\n    }\n")
    parts.append("}\n")
    return "".join(parts)


def haproxy_conf(count: int, stats: Path) -> str:
    lines = ["global", f"    stats socket {stats} mode 600 level admin", "    maxconn 4000",
             "defaults", "    mode tcp", f"    timeout connect {CONNECT_TIMEOUT}s",
             "    timeout client 10s", "    timeout server 10s",
             f"    timeout check {CONNECT_TIMEOUT}s",
             f"    default-server check inter {DELAY_LOOP}s fall {RETRY + 1} rise 1",
             "frontend fe", f"    bind {DIRECTOR}:80", "    default_backend be",
             "backend be", "    balance leastconn"]
    lines += [f"    server s{i} {SERVER_IP}:{BASE_PORT + i}" for i in range(count)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- measuring
def tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    todo += [int(child) for child in fh.read().split()]
        except OSError:
            continue
    return out


def ticks_of(pids: list[int]) -> dict[int, tuple[int, int]]:
    """(user, system) clock ticks of each process: all its threads, and its children that
    have exited and been waited for (cutime, cstime)."""
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[13]), int(fields[12]) + int(fields[14]))
    return out


def syn_count(server: Host) -> int:
    """Connection attempts the real servers' host has received (its SYN counter)."""
    out = server.run("nft", "list chain inet bench input")
    m = re.search(r"counter packets (\d+)", out)
    return int(m.group(1)) if m else 0


@dataclass
class Usage:
    cpu: float  # % of one core, user + system
    user: float
    system: float
    checks: float  # connection attempts a second, seen by the real servers
    idle: float  # % of the machine's CPU time left idle meanwhile (others' load shows here)

    def at_full_rate(self, count: int) -> float:
        """CPU scaled to every server checked once per delay_loop: a daemon that falls
        behind (a starved loop runs each check late) does less work, and uses less."""
        return self.cpu * count / DELAY_LOOP / self.checks if self.checks else float("nan")


def machine_ticks() -> tuple[int, int]:
    """(idle + iowait, all) clock ticks of the whole machine."""
    with open("/proc/stat") as fh:
        fields = [int(f) for f in fh.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields)


@dataclass
class Trial:
    used: Usage
    removals: list[float]  # seconds from a listener's close to the server's removal
    wrong: int  # servers taken out that were not killed (and were answering)


def usage(root: int, server: Host, window: float) -> Usage:
    """What the daemon whose first process is ``root`` used over ``window`` seconds."""
    pids = tree(root)
    before, syns, machine = ticks_of(pids), syn_count(server), machine_ticks()
    time.sleep(window)
    after, syns = ticks_of(pids), syn_count(server) - syns
    idle = [b - a for a, b in zip(machine, machine_ticks(), strict=True)]
    user = sum(after[p][0] - before[p][0] for p in before if p in after)
    system = sum(after[p][1] - before[p][1] for p in before if p in after)
    scale = 100 / os.sysconf("SC_CLK_TCK") / window
    return Usage((user + system) * scale, user * scale, system * scale, syns / window,
                 100 * idle[0] / idle[1] if idle[1] else float("nan"))


NETLINK_NETFILTER = 12
NFT_MSG_GETGEN = (10 << 8) | 16  # NFNL_SUBSYS_NFTABLES, NFT_MSG_GETGEN
NFTA_GEN_ID = 1
# Watched until: (real server index, present) -> CLOCK_MONOTONIC time it was seen, or None
Watch = Callable[[int, bool], float | None]


class NftTable:
    """The virtual server's destinations, as the kernel holds them.

    Listing the table costs about 20 ms of CPU with 10,000 destinations: polled every few
    milliseconds it would take a core from the daemon it measures. So the watcher polls the
    nf_tables generation id (one netlink request, bumped by every committed transaction)
    and lists the table only when a transaction came; a change is dated by the first poll
    that saw its generation."""

    def __init__(self, host: Host) -> None:
        self.netns = host.netns
        with netns.enter(self.netns):
            self._nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self._nl.bind((0, 0))
        self._seq = 0

    def close(self) -> None:
        self._nl.close()

    def generation(self) -> int:
        self._seq += 1
        self._nl.send(struct.pack("=IHHIIBBH", 20, NFT_MSG_GETGEN, 1, self._seq, 0, 0, 0, 0))
        data = self._nl.recv(65536)
        length = struct.unpack_from("=I", data)[0]
        offset = 20
        while offset + 4 <= length:
            size, kind = struct.unpack_from("=HH", data, offset)
            if kind & 0x7FFF == NFTA_GEN_ID:
                return int(struct.unpack_from(">I", data, offset + 4)[0])
            offset += (size + 3) & ~3
        raise RuntimeError("no generation id in the answer")

    def count(self) -> int:
        """How many real servers the virtual server's chain dispatches to (0: no table)."""
        with netns.enter(self.netns):
            nft = LibNftables()
            try:
                rc, out, _ = nft.run_output("list chain inet pykeepalived s0")
            finally:
                nft.close()
        m = re.search(r"numgen inc mod (\d+)", out) if rc == 0 else None
        return int(m.group(1)) if m else 0

    def holds(self, port: int) -> bool:
        """Whether the table sends connections to the real server on ``port``."""
        with netns.enter(self.netns):
            nft = LibNftables()
            try:
                _, out, _ = nft.run_output("list table inet pykeepalived")
            finally:
                nft.close()
        return f" to {SERVER_IP}:{port} " in out

    def until(self, index: int, present: bool, timeout: float) -> float | None:
        """When the real server ``index`` was seen in the table (``present``) or out of it
        (None: not in time)."""
        port = BASE_PORT + index
        deadline = time.monotonic() + timeout
        last = self.generation()
        if self.holds(port) == present:
            return time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(POLL)
            generation = self.generation()
            if generation != last:
                seen, last = time.monotonic(), generation
                if self.holds(port) == present:
                    return seen
        return None


class HaproxyStats:
    """The status of HAProxy's servers, through its stats socket."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def ask(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(self.path)
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(1 << 20):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def up_count(self) -> int:
        return sum(1 for line in self.ask("show stat be 4 -1").splitlines()
                   if line.startswith("be,") and line.split(",")[17] == "UP")

    def status(self, index: int) -> str:
        """``UP``, ``UP 1/2`` (one failure seen), ``DOWN``, ..."""
        for line in self.ask(f"show stat be 4 {index + 1}").splitlines():
            if line.startswith(f"be,s{index},"):
                return line.split(",")[17]
        raise RuntimeError(f"HAProxy does not list s{index}")

    def until(self, index: int, present: bool, timeout: float) -> float | None:
        """When server ``index`` was seen UP (``present``) or DOWN."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status(index)
            if (status == "UP") if present else status.startswith("DOWN"):
                return time.monotonic()
            time.sleep(POLL)
        return None


def removal_times(servers: Servers, count: int, kills: int, watch: Watch) -> list[float]:
    """Close ``kills`` listeners one at a time; seconds from each close to its removal."""
    out = []
    for index in random.sample(range(count), kills):
        port = BASE_PORT + index
        closed = servers.command("close", port)
        removed = watch(index, False)
        servers.command("open", port)
        if removed is None:
            print(f"  port {port}: not removed within {BOUND + 10} s", file=sys.stderr)
            continue
        out.append(removed - closed)
        if watch(index, True) is None:
            print(f"  port {port}: not back", file=sys.stderr)
    return out


# --------------------------------------------------------------------------- the two runs
def lab_with_servers(count: int) -> tuple[Lab, Host, Host, Servers]:
    lab = Lab()
    try:
        # The bridge stands for a switch. With bridge netfilter on (a new namespace's default
        # while br_netfilter is loaded), every frame it forwards also goes through the IP
        # layer's hooks in the switch namespace, in the softirq of the host that sent it: a
        # tenth of the checker's samples in a profile, charged to whichever daemon checks.
        if not BRIDGE_NETFILTER["on"] and Path("/proc/sys/net/bridge").exists():
            lab.switch.run("sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0",
                           "net.bridge.bridge-nf-call-ip6tables=0",
                           "net.bridge.bridge-nf-call-arptables=0")
        director = lab.add_host("dir", [[f"{DIRECTOR}/24"]], ipv6=False)
        # 10,000 checks a second that end as keepalived's do (FIN, TIME_WAIT) keep 1.2
        # million connection-tracking entries for the default 120 s of TIME_WAIT, past
        # nf_conntrack_max (262,144 here): the nftables table's NAT makes the director
        # track every connection, and once full it drops new ones (checks fail). 10 s
        # keeps 100,000. The setting is the director namespace's own.
        director.run("sysctl", "-qw", "net.netfilter.nf_conntrack_tcp_timeout_time_wait=10")
        server = lab.add_host("srv", [[f"{SERVER_IP}/24"]], ipv6=False)
        server.run("nft", "add table inet bench; add chain inet bench input "
                   "{ type filter hook input priority 0; }; add rule inet bench input "
                   "tcp flags & (syn | ack) == syn counter")
        servers = Servers(server, count)
    except BaseException:
        lab.close()
        raise
    return lab, director, server, servers


def settle() -> None:
    """Start-up: the bootstrap delay and the spread of the first checks, then a few rounds."""
    time.sleep(1 + DELAY_LOOP + 3)


def run_pykeepalived(tmp: Path, count: int, window: float, kills: int) -> Trial | None:
    lab, director, server, servers = lab_with_servers(count)
    conf = tmp / "pykeepalived.conf"
    conf.write_text(pykeepalived_conf(count))
    run_dir = tmp / "py"
    run_dir.mkdir(exist_ok=True)
    log_path = run_dir / "log"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    try:
        with open(log_path, "wb") as log:
            proc = director.popen(sys.executable, "-m", "pykeepalived", "-n", "-C", "-l", "-G",
                                  "-f", str(conf), "-p", str(run_dir / "ka.pid"),
                                  "-c", str(run_dir / "chk.pid"), "-r", str(run_dir / "vrrp.pid"),
                                  stdout=log, stderr=subprocess.STDOUT, env=env)
        table = NftTable(director)
        try:
            if not wait_for(lambda: table.count() == count, 120, 0.5):
                print(f"  pykeepalived: table never had {count} servers\n"
                      + log_path.read_text()[-2000:], file=sys.stderr)
                return None
            settle()
            if table.count() != count:
                print(f"  pykeepalived: {table.count()} of {count} servers after start-up\n"
                      + log_path.read_text()[-2000:], file=sys.stderr)
                return None
            used = usage(proc.pid, server, window)
            times = removal_times(servers, count, kills, lambda i, present: table.until(
                i, present, BOUND + 10))
            wrong = log_path.read_text().count("Removing service") - kills
            return Trial(used, times, wrong)
        finally:
            table.close()
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    finally:
        servers.stop()
        lab.close()


def run_haproxy(tmp: Path, count: int, window: float, kills: int) -> Trial | None:
    lab, director, server, servers = lab_with_servers(count)
    stats_path = tmp / "haproxy.sock"
    conf = tmp / "haproxy.cfg"
    conf.write_text(haproxy_conf(count, stats_path))
    log_path = tmp / "haproxy.log"
    try:
        with open(log_path, "wb") as log:
            proc = director.popen("haproxy", "-db", "-f", str(conf), stdout=log,
                                  stderr=subprocess.STDOUT)
        stats = HaproxyStats(stats_path)

        def up() -> int:
            try:
                return stats.up_count()
            except OSError:
                return 0

        try:
            if not wait_for(lambda: up() == count, 120, 0.5):
                print(f"  haproxy: never had {count} servers up\n"
                      + log_path.read_text()[-2000:], file=sys.stderr)
                return None
            settle()
            used = usage(proc.pid, server, window)
            times = removal_times(servers, count, kills, lambda i, present: stats.until(
                i, present, BOUND + 10))
            wrong = log_path.read_text().count(" is DOWN") - kills
            return Trial(used, times, wrong)
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    finally:
        servers.stop()
        lab.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--servers", type=int, default=10000)
    parser.add_argument("--only", choices=["pykeepalived", "haproxy"], action="append")
    parser.add_argument("--bridge-netfilter", action="store_true",
                        help="leave the lab bridge's netfilter calls on (as before)")
    args = parser.parse_args()
    BRIDGE_NETFILTER["on"] = args.bridge_netfilter
    if shutil.which("haproxy") is None and "haproxy" in (args.only or ["haproxy"]):
        print("haproxy is not installed (apt-get install haproxy)", file=sys.stderr)
        return 1
    runs: dict[str, Callable[[Path, int, float, int], Trial | None]] = {
        "haproxy": run_haproxy, "pykeepalived": run_pykeepalived}
    trials: dict[str, list[Trial]] = {k: [] for k in runs}
    with tempfile.TemporaryDirectory(prefix="bench-checkers-") as tmpdir:
        for n in range(args.trials):
            for kind, run in runs.items():
                if args.only and kind not in args.only:
                    continue
                trial = run(Path(tmpdir), args.servers, args.window, args.kills)
                if trial is None:
                    print(f"trial {n + 1} {kind}: failed", file=sys.stderr)
                    continue
                trials[kind].append(trial)
                used = trial.used
                print(f"trial {n + 1} {kind}: {used.cpu:.1f} % of one core (user "
                      f"{used.user:.1f}, system {used.system:.1f}), {used.checks:.0f} "
                      f"checks/s ({used.at_full_rate(args.servers):.1f} % at "
                      f"{args.servers / DELAY_LOOP:.0f}), machine {used.idle:.0f} % idle; "
                      "removal " + " ".join(f"{t * 1000:.0f}" for t in trial.removals)
                      + f" ms, {trial.wrong} live servers taken out", flush=True)
    print(f"\n{args.servers} real servers, TCP check every {DELAY_LOOP} s; medians of "
          f"{args.trials} runs of {args.window:g} s, {args.kills} servers killed in each; "
          f"removal bound {BOUND} s")
    print(f"{'measure':<36}{'HAProxy':>10}{'pykeepalived':>14}{'ratio':>8}")

    def row(name: str, values: dict[str, list[float]], fmt: str) -> None:
        med = {k: statistics.median(v) if v else float("nan") for k, v in values.items()}
        ratio = med["pykeepalived"] / med["haproxy"] if med["haproxy"] else float("nan")
        print(f"{name:<36}{med['haproxy']:>10{fmt}}{med['pykeepalived']:>14{fmt}}"
              f"{ratio:>8.2f}")

    def of(pick: Callable[[Trial], float]) -> dict[str, list[float]]:
        return {kind: [pick(t) for t in ts] for kind, ts in trials.items()}

    removals = {kind: [r * 1000 for t in ts for r in t.removals] for kind, ts in trials.items()}
    row("CPU, % of one core", of(lambda t: t.used.cpu), ".1f")
    row("  user", of(lambda t: t.used.user), ".1f")
    row("  system", of(lambda t: t.used.system), ".1f")
    row("checks a second", of(lambda t: t.used.checks), ".0f")
    row("CPU scaled to every check on time", of(lambda t: t.used.at_full_rate(args.servers)),
        ".1f")
    row("machine idle meanwhile, %", of(lambda t: t.used.idle), ".0f")
    row("removal after death, ms", removals, ".0f")
    row("removal after death, ms (max)", {k: [max(v)] if v else [] for k, v in removals.items()},
        ".0f")
    row("live servers taken out (per run)", of(lambda t: t.wrong), ".0f")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
