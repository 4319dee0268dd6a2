"""The daemon's life as systemd drives it: start, reload, stop, start again.

systemd runs ``pykeepalived --dont-fork`` with ``Type=notify``: it waits for READY=1, sends HUP
for ``systemctl reload`` (and hears RELOADING=1, then READY=1), and TERM for stop (STOPPING=1),
and a restart is a stop then a start. What matters to an operator: READY=1 comes once the
instance has its first state; the configuration in the file when a start (or HUP) happens is
the one that runs; a stop always ends every process, even a child that no longer answers TERM
(killed after global_defs child_wait_time, then its VIPs removed), and a child that dies under
``-R`` takes the other one with it. A path socket stands in for systemd's (an abstract one
would not be reachable from the lab host's network namespace).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Host, Lab, wait_for
from tests.daemons import Daemon, instance, start_pykeepalived, write_conf
from tests.unit.daemon.systemd_standin import NotifySocket

pytestmark = pytest.mark.netns

VIP_A, VIP_B, VIP_C = "192.0.2.10", "192.0.2.20", "192.0.2.30"


def config(vip: str, globals_: str = "", extra_blocks: str = "") -> str:
    """One instance that becomes MASTER on its own (the only router of its segment)."""
    return (f"global_defs {{\n router_id r1\n {globals_}\n}}\n"
            + instance("VI_1", vrid=51, priority=150, vip=f"{vip}/24") + extra_blocks)


@pytest.fixture
def systemd(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifySocket]:
    """$NOTIFY_SOCKET for the daemons this test starts."""
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        path = str(Path(tmp) / "notify")
        with NotifySocket(abstract=False, path=path) as sock:
            monkeypatch.setenv("NOTIFY_SOCKET", path)
            yield sock


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def read_pid(path: Path) -> int:
    assert wait_for(lambda: path.exists() and path.read_text().strip().isdigit(), 10)
    return int(path.read_text())


def fresh_start(host: Host, conf: Path, tmp: Path, *extra: str) -> Daemon:
    for stale in ("log",):
        (tmp / f"py-{host.name}" / stale).unlink(missing_ok=True)
    return start_pykeepalived(host, conf, tmp, *extra)


def test_restart_and_reload_apply_the_new_configuration(lab: Lab, tmp_path: Path,
                                                        systemd: NotifySocket) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    conf = write_conf(tmp_path, "r1", config(VIP_A))
    daemon = fresh_start(r1, conf, tmp_path)
    try:
        ready = systemd.wait_for("READY", 15)
        assert ready is not None, daemon.log()
        # READY=1 comes once the instance has its first state (BACKUP, waiting for a master)
        assert "(VI_1) Entering BACKUP STATE" in daemon.log()
        assert wait_for(lambda: r1.has_address(VIP_A), 10), daemon.log()

        # systemctl stop; edit; systemctl start
        assert daemon.stop() == 0
        assert systemd.wait_for("STOPPING", 1) is not None
        assert not r1.has_address(VIP_A)
        conf.write_text(config(VIP_B))
        daemon = fresh_start(r1, conf, tmp_path)
        assert systemd.wait_for("READY", 15) is not None, daemon.log()
        assert wait_for(lambda: r1.has_address(VIP_B), 10), daemon.log()
        assert not r1.has_address(VIP_A)

        # systemctl reload
        conf.write_text(config(VIP_C))
        daemon.signal(signal.SIGHUP)
        assert systemd.wait_for("RELOADING", 5) is not None
        assert systemd.wait_for("READY", 15) is not None, daemon.log()
        assert wait_for(lambda: r1.has_address(VIP_C) and not r1.has_address(VIP_B), 10), \
            daemon.log()

        # a reload with a configuration that cannot run is refused, and systemd still
        # hears READY=1
        conf.write_text(config(VIP_A).replace("interface eth0", "interface nosuch0"))
        daemon.signal(signal.SIGHUP)
        assert systemd.wait_for("RELOADING", 5) is not None
        assert systemd.wait_for("READY", 15) is not None, daemon.log()
        assert "nosuch0" in daemon.log()
        assert r1.has_address(VIP_C) and not r1.has_address(VIP_A)
    finally:
        daemon.stop()
    assert not r1.has_address(VIP_C)


def test_child_wait_time_ends_a_vrrp_child_that_does_not_stop(lab: Lab, tmp_path: Path,
                                                            systemd: NotifySocket) -> None:
    """A VRRP child that no longer answers (here: stopped with SIGSTOP) is killed
    child_wait_time seconds after TERM, and its VIP removed: the daemon always stops."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    # an outermost keyword: keepalived 2.2.7 does not know it inside global_defs
    conf = write_conf(tmp_path, "r1", config(VIP_A, extra_blocks="child_wait_time 1\n"))
    daemon = fresh_start(r1, conf, tmp_path)
    child = read_pid(tmp_path / "py-r1" / "vrrp.pid")
    try:
        assert wait_for(lambda: r1.has_address(VIP_A), 10), daemon.log()
        os.kill(child, signal.SIGSTOP)
        daemon.signal(signal.SIGTERM)
        try:
            daemon.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("the daemon did not stop: " + daemon.log()[-2000:])
        assert "still running 1 s after TERM (child_wait_time): killing it" in daemon.log()
        assert not pid_alive(child)
        assert not r1.has_address(VIP_A), daemon.log()
    finally:
        if pid_alive(child):
            os.kill(child, signal.SIGKILL)
        daemon.stop()


CHECKED = """
virtual_server 192.0.2.100 80 {
    delay_loop 60
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.51.100.11 80 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
"""


def test_without_respawn_a_dead_child_takes_the_other_with_it(lab: Lab, tmp_path: Path) -> None:
    """-R and a checker child killed: the daemon ends, and its VRRP child stops cleanly
    (VIP removed) instead of running on with no parent."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    conf = write_conf(tmp_path, "r1", config(VIP_A, "lb_backend nftables",
                                             extra_blocks=CHECKED))
    daemon = fresh_start(r1, conf, tmp_path, "-R")
    vrrp = read_pid(tmp_path / "py-r1" / "vrrp.pid")
    check = read_pid(tmp_path / "py-r1" / "chk.pid")
    try:
        assert wait_for(lambda: r1.has_address(VIP_A), 10), daemon.log()
        os.kill(check, signal.SIGKILL)
        try:
            code = daemon.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("the daemon did not stop: " + daemon.log()[-2000:])
        assert code != 0
        assert wait_for(lambda: not pid_alive(vrrp), 5), daemon.log()
        assert not r1.has_address(VIP_A), daemon.log()
    finally:
        if pid_alive(vrrp):
            os.kill(vrrp, signal.SIGKILL)
        daemon.stop()
