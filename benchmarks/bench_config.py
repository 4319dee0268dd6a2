"""Configuration parsing speed: pykeepalived next to `keepalived -t` on the same files.

1. A keepalived.conf with 1,000 vrrp_instances (unicast, so that one eth0 can carry them
   all without VRID clashes) and 1,000 virtual servers with two real servers each:
   ``load_config()`` in process, then ``pykeepalived -t`` and ``keepalived -t`` as
   commands, each the median of ``--runs`` runs, with the ratio.
   ``pykeepalived -t`` runs twice over: from the checkout's sources as they are (with
   PYTHONDONTWRITEBYTECODE set, as here, Python compiles every module at every start) and
   from a byte-compiled copy, which is how an installed package starts.
2. Start-up alone: both commands on an empty file.
3. One vrrp_instance with 10,000 / 50,000 / 100,000 VIPs (2001:db8::/32): the time per
   10,000 VIPs shows whether parsing is linear.

Every pykeepalived command runs the real interpreter (``sys.executable``, never a shim such as
pyenv's on PATH), and its own start-up is measured beside it (``-c pass``, ``-S``, ``-I``):
that is the floor under every ``pykeepalived -t``. ``--python`` names a second interpreter,
e.g. the one in the virtual environment scripts/install makes (no site-packages hooks but
its own), and repeats the byte-compiled rows with it.

Commands run in a fresh network namespace holding only lo and eth0 when root (so that
keepalived checks the same interfaces); otherwise on this host. Peak RSS comes from
/usr/bin/time when it is there.

    python3 benchmarks/bench_config.py [--instances N] [--servers N] [--runs N]
                                       [--vips 10000,50000,100000] [--python PATH]
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
sys.path.insert(0, SRC)

from pykeepalived.config import load_config  # noqa: E402
from pykeepalived.config.sysinfo import SystemInfo  # noqa: E402

TIME = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)


def generate(instances: int, servers: int) -> str:
    """1,000 unicast vrrp_instances and 1,000 virtual servers, all valid for keepalived."""
    out = ["global_defs {\n    router_id bench\n}\n"]
    for i in range(instances):
        peer = f"198.51.{100 + i // 250}.{i % 250 + 1}"
        out.append(
            f"vrrp_instance VI_{i} {{\n    state BACKUP\n    interface eth0\n"
            f"    virtual_router_id {i % 255 + 1}\n    priority {100 + i % 50}\n"
            f"    advert_int 1\n    unicast_src_ip 192.0.2.1\n"
            f"    unicast_peer {{\n        {peer}\n    }}\n"
            f"    virtual_ipaddress {{\n        203.0.{113 + i // 250}.{i % 250 + 1}/32\n"
            f"    }}\n}}\n")
    for i in range(servers):
        vip = f"203.0.{113 + i // 250}.{i % 250 + 1}"
        out.append(f"virtual_server {vip} {8000 + i % 1000} {{\n    delay_loop 6\n"
                   "    lvs_sched rr\n    lvs_method NAT\n    protocol TCP\n")
        for r in (1, 2):
            out.append(f"    real_server 192.0.2.{10 + r} {8000 + i % 1000} {{\n"
                       "        weight 1\n        TCP_CHECK {\n            connect_timeout 3\n"
                       "        }\n    }\n")
        out.append("}\n")
    return "".join(out)


def generate_vips(count: int) -> str:
    """One vrrp_instance with ``count`` IPv6 VIPs (keepalived moves all past 255 to eVIPs
    and says so: both exit 5)."""
    vips = "".join(f"        2001:db8::{i >> 16:x}:{i & 0xffff:x}/128\n" for i in range(count))
    return ("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n"
            f"    virtual_ipaddress {{\n{vips}    }}\n}}\n")


def median_of(n: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class Command:
    """A command run again and again: exit status, median wall time, peak RSS."""

    def __init__(self, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.env = env

    def run(self) -> tuple[int, float | None]:
        argv = [TIME, "-f", "MAXRSS=%M", *self.argv] if TIME else self.argv
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=900,
                              env=self.env, errors="replace")
        found = re.findall(r"MAXRSS=(\d+)", proc.stderr)
        return proc.returncode, int(found[-1]) / 1024 if found else None

    def measure(self, runs: int) -> tuple[float, int, float | None]:
        status, rss = self.run()  # warm the page cache; its status and RSS are reported
        return median_of(runs, self.run), status, rss


def compiled_copy(tmp: str) -> str:
    """The sources byte-compiled in a copy, as pip installs them."""
    dest = os.path.join(tmp, "installed")
    shutil.copytree(SRC, dest, ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(dest, quiet=1)
    return dest


def row(what: str, seconds: float, status: object, rss: float | None = None) -> str:
    mem = f"{rss:>8.1f}" if rss is not None else f"{'':>8}"
    return f"{what:<52} {seconds:>9.3f} {status!s:>5} {mem}"


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--servers", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--vips", default="10000,50000,100000",
                    help="VIP counts for the linearity check ('' to skip)")
    ap.add_argument("--python", default=None,
                    help="a second interpreter for the byte-compiled -t rows (an installed "
                    "virtual environment's bin/python)")
    opts = ap.parse_args()
    pythons = [sys.executable, *([opts.python] if opts.python else [])]
    have_keepalived = shutil.which("keepalived") is not None
    system = SystemInfo.fake(["lo", "eth0"])
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-config-") as tmp:
        installed = compiled_copy(tmp)
        prefix: list[str] = []
        lab = None
        if os.geteuid() == 0:
            from pykeepalived.demo.lab import Lab

            lab = Lab()
            host = lab.add_host("b", [["192.0.2.1/24"]])
            prefix = host.cmd()
        try:
            def pykeepalived(path: str, src: str, python: str = sys.executable) -> Command:
                env = dict(os.environ, PYTHONPATH=src)
                return Command([*prefix, python, "-m", "pykeepalived", "-t", "-f",
                                path], env)

            def keepalived(path: str) -> Command:
                return Command([*prefix, "keepalived", "-t", "-f", path, "-p", f"{tmp}/p",
                                "-r", f"{tmp}/r", "-c", f"{tmp}/c", "-b", f"{tmp}/b"])

            path = os.path.join(tmp, "keepalived.conf")
            text = generate(opts.instances, opts.servers)
            with open(path, "w") as f:
                f.write(text)
            lines.append(f"config: {opts.instances} vrrp_instances, {opts.servers} "
                         f"virtual_servers ({2 * opts.servers} real servers), "
                         f"{text.count(chr(10))} lines, {len(text.encode()) / 1e6:.1f} MB; "
                         f"median of {opts.runs} runs")
            lines.append(f"{'what':<52} {'seconds':>9} {'exit':>5} {'peak MB':>8}")
            result = load_config(path, system=system)
            t_load = median_of(opts.runs, lambda: load_config(path, system=system))
            lines.append(row("pykeepalived load_config() in process", t_load,
                             result.exit_status))
            t_src, st_src, rss_src = pykeepalived(path, SRC).measure(opts.runs)
            lines.append(row("pykeepalived -t, checkout sources (no .pyc)", t_src, st_src,
                             rss_src))
            t_py, st_py, rss_py = pykeepalived(path, installed).measure(opts.runs)
            lines.append(row("pykeepalived -t, byte-compiled (as installed)", t_py, st_py,
                             rss_py))
            t_alt = None
            if opts.python:
                t_alt, st, rss = pykeepalived(path, installed, opts.python).measure(opts.runs)
                lines.append(row("  the same on --python", t_alt, st, rss))
            t_ka = None
            if have_keepalived:
                t_ka, st_ka, rss_ka = keepalived(path).measure(opts.runs)
                lines.append(row("keepalived -t", t_ka, st_ka, rss_ka))
                lines.append(f"ratio pykeepalived -t / keepalived -t: {t_py / t_ka:.1f} "
                             f"(byte-compiled), {t_src / t_ka:.1f} (no .pyc)"
                             + (f", {t_alt / t_ka:.1f} (byte-compiled, --python)"
                                if t_alt is not None else ""))

            empty = os.path.join(tmp, "empty.conf")
            with open(empty, "w") as f:
                f.write("")
            lines.append("")
            lines.append("start-up: an empty configuration")
            for n, python in enumerate(pythons):
                name = "python" if n == 0 else "--python"
                lines.append(f"{name}: {python}")
                # the interpreter alone; what site-packages (.pth hooks) add to every start
                for flags, what in (([], ""), (["-I"], " (isolated)"), (["-S"], " (no site)")):
                    t, st, rss = Command([python, *flags, "-c", "pass"]).measure(opts.runs)
                    lines.append(row(f"  {name} {' '.join([*flags, '-c pass'])}{what}", t, st,
                                     rss))
                t, st, rss = pykeepalived(empty, installed, python).measure(opts.runs)
                lines.append(row(f"  pykeepalived -t, byte-compiled, on {name}", t, st, rss))
            if have_keepalived:
                t, st, rss = keepalived(empty).measure(opts.runs)
                lines.append(row("keepalived -t", t, st, rss))

            counts = [int(c) for c in opts.vips.split(",") if c.strip()]
            if counts:
                lines.append("")
                lines.append("linearity: one vrrp_instance with N VIPs (median of 3 runs; "
                             "seconds per 10,000 VIPs in brackets)")
                lines.append(f"{'VIPs':>8} {'load_config()':>20} {'pykeepalived -t':>20} "
                             f"{'keepalived -t':>20}")
            for count in counts:
                vpath = os.path.join(tmp, f"vips{count}.conf")
                with open(vpath, "w") as f:
                    f.write(generate_vips(count))
                per = count / 10_000
                t_in = median_of(3, lambda p=vpath: load_config(p, system=system))
                t_cmd, _st, _rss = pykeepalived(vpath, installed).measure(3)
                cells = [f"{t:>8.3f} ({t / per:.3f})" for t in (t_in, t_cmd)]
                if have_keepalived:
                    t_k, _st, _rss = keepalived(vpath).measure(3)
                    cells.append(f"{t_k:>8.3f} ({t_k / per:.3f})")
                lines.append(f"{count:>8} " + " ".join(f"{c:>20}" for c in cells))
        finally:
            if lab is not None:
                lab.close()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
