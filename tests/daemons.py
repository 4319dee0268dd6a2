"""Run pykeepalived and Debian's keepalived as real daemons inside lab hosts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pykeepalived.demo.lab import Host, wait_for


@dataclass
class Daemon:
    host: Host
    proc: subprocess.Popen[bytes]
    log_path: Path
    kind: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL the whole daemon (parent and children): a crash, nothing cleaned up."""
        self.host.run("pkill", "-9", "-f", str(self.log_path.parent), check=False)
        self.proc.kill()
        self.proc.wait(timeout=5)

    def wait_log(self, text: str, timeout: float = 10.0) -> bool:
        return wait_for(lambda: text in self.log(), timeout=timeout)


def write_conf(tmp: Path, name: str, text: str) -> Path:
    path = tmp / f"{name}.conf"
    path.write_text(text)
    return path


def start_pykeepalived(host: Host, conf: Path, tmp: Path, *extra: str, debug: bool = True,
                       wrapper: Sequence[str] = (),
                       env: Mapping[str, str] | None = None, append: bool = False,
                       python: str | None = None) -> Daemon:
    """pykeepalived in ``host``, logging to the console (with ``-D`` unless ``debug`` is
    false: a test counting how often a line is logged wants the operator's view).
    ``wrapper`` is put before the interpreter (``unshare -m ...``); ``env`` adds variables;
    ``append`` keeps the log of earlier runs (restarts); ``python`` is the interpreter
    (default: this one), e.g. an installed virtual environment's (the checkout's sources
    still come first on its path)."""
    run_dir = tmp / f"py-{host.name}"
    run_dir.mkdir(exist_ok=True)
    log_path = run_dir / "log"
    environ = {**os.environ, **(env or {})}
    src = str(Path(__file__).resolve().parent.parent / "src")
    environ["PYTHONPATH"] = src + os.pathsep + environ.get("PYTHONPATH", "")
    with open(log_path, "ab" if append else "wb") as log:
        proc = host.popen(*wrapper, python or sys.executable, "-m", "pykeepalived", "-n", "-l",
                          *(["-D"] if debug else []), "-G",
                          "-f", str(conf), "-p", str(run_dir / "ka.pid"),
                          "-r", str(run_dir / "vrrp.pid"), "-c", str(run_dir / "chk.pid"),
                          *extra, stdout=log, stderr=subprocess.STDOUT, env=environ)
    return Daemon(host, proc, log_path, "pykeepalived")


def start_keepalived(host: Host, conf: Path, tmp: Path, *extra: str,
                     env: Mapping[str, str] | None = None, own_tmpdir: bool = False,
                     append: bool = False) -> Daemon:
    """Debian's keepalived in ``host``; ``env`` adds variables; with ``own_tmpdir`` its TMPDIR
    is its run directory, so its USR1/USR2 dumps (keepalived.data, keepalived.stats) are its
    own, not /tmp's; ``append`` as for start_pykeepalived."""
    run_dir = tmp / f"ka-{host.name}"
    run_dir.mkdir(exist_ok=True)
    log_path = run_dir / "log"
    extra_env = {**(env or {}), **({"TMPDIR": str(run_dir)} if own_tmpdir else {})}
    with open(log_path, "ab" if append else "wb") as log:
        proc = host.popen("keepalived", "-n", "-l", "-D", "-G", "-P", "-f", str(conf),
                          "-p", str(run_dir / "ka.pid"), "-r", str(run_dir / "vrrp.pid"),
                          "-c", str(run_dir / "chk.pid"), *extra,
                          stdout=log, stderr=subprocess.STDOUT,
                          env={**os.environ, **extra_env})
    return Daemon(host, proc, log_path, "keepalived")


def holders(hosts: dict[str, Host], vip: str) -> list[str]:
    return sorted(name for name, h in hosts.items() if h.has_address(vip))


def instance(name: str = "VI_1", *, vrid: int = 51, priority: int = 100, state: str = "BACKUP",
             vip: str = "192.0.2.10/24", version: int = 3, advert: str = "0.1", extra: str = "",
             interface: str = "eth0") -> str:
    """One vrrp_instance block (VRRPv3, advert_int 0.1 s unless told otherwise)."""
    return f"""
vrrp_instance {name} {{
    state {state}
    interface {interface}
    virtual_router_id {vrid}
    priority {priority}
    version {version}
    advert_int {advert}
    {extra}
    virtual_ipaddress {{
        {vip}
    }}
}}
"""
