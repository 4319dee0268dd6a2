"""Configuration parsing speed: pykeepalived next to `keepalived -t` on the same file.

Generates a keepalived.conf with 1,000 vrrp_instances (unicast, so that one eth0 can carry
them all without VRID clashes) and 1,000 virtual servers with two real servers each, then
times:

* ``load_config()`` in process (lexer, tree, keyword tables, checks), best of 5;
* ``pykeepalived -t`` as a command (adds interpreter start-up), best of 3;
* ``keepalived -t`` on the same file, best of 3.

Both commands run in a fresh network namespace holding only lo and eth0 when root (so
that keepalived checks the same interfaces); otherwise on this host.

    python3 benchmarks/bench_config.py [--instances N] [--servers N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

from pykeepalived.config import load_config  # noqa: E402
from pykeepalived.config.sysinfo import SystemInfo  # noqa: E402


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


def best_of(n: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run_cmd(argv: Sequence[str], env: dict[str, str] | None = None) -> int:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=600, env=env)
    return proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--servers", type=int, default=1000)
    opts = ap.parse_args()
    text = generate(opts.instances, opts.servers)
    with tempfile.TemporaryDirectory(prefix="bench-config-") as tmp:
        path = os.path.join(tmp, "keepalived.conf")
        with open(path, "w") as f:
            f.write(text)
        size = len(text.encode())
        lines = text.count("\n")
        system = SystemInfo.fake(["lo", "eth0"])
        result = load_config(path, system=system)
        status_inproc = result.exit_status
        t_inproc = best_of(5, lambda: load_config(path, system=system))

        prefix: list[str] = []
        lab = None
        if os.geteuid() == 0:
            from pykeepalived.demo.lab import Lab

            lab = Lab()
            host = lab.add_host("b", [["192.0.2.1/24"]])
            prefix = host.cmd()
        try:
            env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
            py_argv = [*prefix, sys.executable, "-m", "pykeepalived", "-t", "-f", path]
            py_status = run_cmd(py_argv, env)
            t_py = best_of(3, lambda: run_cmd(py_argv, env))
            ka_status: int | str = "n/a"
            t_ka: float | None = None
            if subprocess.run(["which", "keepalived"], capture_output=True).returncode == 0:
                ka_argv = [*prefix, "keepalived", "-t", "-f", path, "-p", f"{tmp}/p", "-r",
                           f"{tmp}/r", "-c", f"{tmp}/c", "-b", f"{tmp}/b"]
                ka_status = run_cmd(ka_argv)
                t_ka = best_of(3, lambda: run_cmd(ka_argv))
        finally:
            if lab is not None:
                lab.close()

    print(f"config: {opts.instances} vrrp_instances, {opts.servers} virtual_servers "
          f"({2 * opts.servers} real servers), {lines} lines, {size / 1e6:.1f} MB")
    print(f"{'what':<40} {'seconds':>9} {'exit':>5}")
    print(f"{'pykeepalived load_config() in process':<40} {t_inproc:>9.3f} {status_inproc:>5}")
    print(f"{'pykeepalived -t (command)':<40} {t_py:>9.3f} {py_status:>5}")
    ka_time = f"{t_ka:>9.3f}" if t_ka is not None else f"{'n/a':>9}"
    print(f"{'keepalived -t (command)':<40} {ka_time} {ka_status!s:>5}")
    if t_ka:
        print(f"ratio pykeepalived -t / keepalived -t: {t_py / t_ka:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
