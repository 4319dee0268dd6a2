"""pykeepalived under a real systemd: a Debian 12 container booted by systemd-nspawn.

On demand, not in CI (it needs a debootstrapped root and takes about a minute):
``bash scripts/systemd-test`` prepares the root and a wheelhouse, then runs this file with
PYKEEPALIVED_NSPAWN_ROOT and PYKEEPALIVED_WHEELS set; without them it is skipped.

Inside the container (its own network namespace, made by nspawn's --private-network, with a
veth pair carrying 192.0.2.0/24), scripts/install puts pykeepalived in /opt/pykeepalived and
the unit in /etc/systemd/system, with pip reading only the wheelhouse. Then, through
systemctl: start (returns once the instance has its first state), reload and restart (each
applies the edited configuration), KEEPALIVED_OPTIONS from /etc/default/pykeepalived, the
journal's priorities, a stop while the VRRP child hangs (SIGSTOP: killed after
child_wait_time, its VIP removed, no process left), a start right after it, a crashed parent
restarted by Restart=on-failure, and --uninstall.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.demo.lab import wait_for

ROOT = Path(__file__).resolve().parents[2]
NSPAWN_ROOT = os.environ.get("PYKEEPALIVED_NSPAWN_ROOT", "")
WHEELS = os.environ.get("PYKEEPALIVED_WHEELS", "")

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(not (NSPAWN_ROOT and WHEELS) or shutil.which("systemd-nspawn") is None,
                       reason="on demand: bash scripts/systemd-test"),
]

CONF = "/etc/keepalived/keepalived.conf"


def config(vip: str) -> str:
    return f"""global_defs {{
    child_wait_time 2
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {{
        {vip}/24
    }}
}}
"""


class Container:
    """A booted container; ``run`` executes inside it (all of its namespaces)."""

    def __init__(self, root: str, log: Path) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                ["systemd-nspawn", "--keep-unit", "--register=no", "--private-network",
                 "--ephemeral", "-q", "-D", root, f"--bind-ro={ROOT}:/src",
                 f"--bind-ro={WHEELS}:/wheels", "-b"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.leader = 0
        assert wait_for(self._find_leader, 60), log.read_text(errors="replace")[-3000:]

    def _find_leader(self) -> bool:
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
            pid = int(children.split()[0])
            if Path(f"/proc/{pid}/comm").read_text().strip() == "systemd":
                self.leader = pid
                return True
        except (OSError, ValueError, IndexError):
            pass
        return False

    def run(self, *argv: str, check: bool = True, timeout: float = 120.0,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        extra = [f"{k}={v}" for k, v in (env or {}).items()]
        proc = subprocess.run(["nsenter", "-t", str(self.leader), "-a", "--", "env", *extra,
                               *argv], capture_output=True, text=True, timeout=timeout,
                              check=False)
        if check:
            assert proc.returncode == 0, (argv, proc.stdout, proc.stderr)
        return proc

    def sh(self, script: str, **kwargs: object) -> str:
        return self.run("sh", "-c", script, **kwargs).stdout  # type: ignore[arg-type]

    def show(self, prop: str) -> str:
        return self.run("systemctl", "show", "-p", prop, "--value", "pykeepalived").stdout.strip()

    def addresses(self) -> set[str]:
        out = self.run("ip", "-o", "-4", "addr", "show", "dev", "eth0").stdout
        return {line.split()[3].split("/")[0] for line in out.splitlines()}

    def journal(self, *extra: str) -> str:
        return self.run("journalctl", "-u", "pykeepalived", "--no-pager", "-o", "cat",
                        *extra).stdout

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # nspawn shuts the container down
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    box = Container(NSPAWN_ROOT, tmp_path / "boot.log")
    try:
        states: list[str] = []

        def booted() -> bool:  # "offline" until systemd listens; --wait then waits for boot
            states.append(box.run("systemctl", "is-system-running", "--wait",
                                  check=False).stdout.strip())
            return states[-1] in ("running", "degraded")

        assert wait_for(booted, 60, interval=0.5), states
        yield box
    finally:
        box.close()


def test_start_reload_restart_stop_under_systemd(container: Container) -> None:
    box = container
    done = box.run("bash", "/src/scripts/install",
                   env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "/wheels"})
    assert "wrote /etc/systemd/system/pykeepalived.service" in done.stdout
    assert box.run("systemd-analyze", "verify", "--man=no",
                   "/etc/systemd/system/pykeepalived.service", check=False).returncode == 0
    box.sh("ip link add eth0 type veth peer name eth0p && ip addr add 192.0.2.1/24 dev eth0"
           " && ip link set eth0 up && ip link set eth0p up")
    box.sh(f"cat > {CONF} <<'EOF'\n{config('192.0.2.10')}EOF\n"
           "echo 'KEEPALIVED_OPTIONS=\"-D\"' > /etc/default/pykeepalived")

    # start: returns once READY=1 came, that is once the instance has its first state
    box.run("systemctl", "start", "pykeepalived")
    assert box.show("ActiveState") == "active"
    assert box.show("StatusText") == "Running: VRRP child"
    assert "(VI_1) Entering BACKUP STATE" in box.journal()
    main = box.show("MainPID")
    cmdline = box.run("cat", f"/proc/{main}/cmdline").stdout.split("\0")
    assert cmdline[-3:] == ["--no-syslog", "-D", ""], cmdline  # KEEPALIVED_OPTIONS
    assert wait_for(lambda: "192.0.2.10" in box.addresses(), 10), box.journal()
    # priorities reach the journal: info lines are not warnings
    assert "Entering MASTER STATE" in box.journal("-p", "info")
    assert "Entering MASTER STATE" not in box.journal("-p", "warning")

    # reload applies the edited configuration, in the same processes
    box.sh(f"sed -i s/192.0.2.10/192.0.2.20/ {CONF}")
    box.run("systemctl", "reload", "pykeepalived")
    assert wait_for(lambda: box.addresses() == {"192.0.2.1", "192.0.2.20"}, 10), box.journal()
    assert box.show("MainPID") == main and box.show("ActiveState") == "active"

    # restart applies it too, with new processes
    box.sh(f"sed -i s/192.0.2.20/192.0.2.30/ {CONF}")
    box.run("systemctl", "restart", "pykeepalived")
    assert box.show("MainPID") != main
    assert wait_for(lambda: box.addresses() == {"192.0.2.1", "192.0.2.30"}, 10), box.journal()

    # stop while the VRRP child hangs: killed after child_wait_time, its VIP removed
    child = box.run("cat", "/run/keepalived_vrrp.pid").stdout.strip()
    box.run("kill", "-STOP", child)
    box.run("systemctl", "stop", "pykeepalived")
    # the daemon ended itself (Result would be "timeout" had systemd's SIGKILL done it)
    assert box.show("ActiveState") == "inactive" and box.show("Result") == "success"
    assert "Stopped pykeepalived" in box.journal("-n", "3").splitlines()  # the parent's line
    assert box.run("pgrep", "-f", "pykeepalived", check=False).stdout == ""
    assert box.addresses() == {"192.0.2.1"}
    assert "still running 2 s after TERM (child_wait_time): killing it" in \
        box.journal("-p", "warning")

    # a start right after (stale pid files of the killed child are no obstacle)
    box.run("systemctl", "start", "pykeepalived")
    assert wait_for(lambda: "192.0.2.30" in box.addresses(), 10), box.journal()

    # a crashed parent: Restart=on-failure brings the daemon back, VIP and all
    crashed = box.show("MainPID")
    box.run("kill", "-9", crashed)
    assert wait_for(lambda: box.show("NRestarts") == "1" and box.show("ActiveState") == "active"
                    and box.show("MainPID") not in ("0", crashed), 30), box.journal()
    assert wait_for(lambda: box.addresses() == {"192.0.2.1", "192.0.2.30"}, 15), box.journal()

    box.run("systemctl", "stop", "pykeepalived")
    assert box.addresses() == {"192.0.2.1"}
    gone = box.run("bash", "/src/scripts/install", "--uninstall")
    assert "removed /opt/pykeepalived" in gone.stdout
    assert box.run("test", "-e", "/etc/systemd/system/pykeepalived.service",
                   check=False).returncode == 1
    assert box.run("systemctl", "cat", "pykeepalived", check=False).returncode != 0
