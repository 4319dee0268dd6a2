"""global_defs scheduling keywords, read back from the running children.

``vrrp_rt_priority``, ``vrrp_rlimit_rttime``, ``vrrp_no_swap``, ``vrrp_cpu_affinity`` and the
checker's ``checker_priority``, ``checker_no_swap``, ``checker_cpu_affinity``: each child applies
its own once it has started, and what ``chrt -p``, ``ps -o ni``, /proc/PID/limits,
/proc/PID/status (VmLck) and the CPU affinity say about it is what keepalived would have set
(keepalived's set_process_priorities: SCHED_RR with SCHED_RESET_ON_FORK, RLIMIT_RTTIME soft
limit half the hard one, mlockall). A notify script of the realtime VRRP child runs at the
normal policy and nice 0, as keepalived's scripts do. A reload takes the new values: realtime
off for the VRRP child and on for the checker, a nice value on, the memory locks gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pykeepalived.control.client import ask
from pykeepalived.control.server import socket_path
from pykeepalived.demo.lab import Lab, wait_for
from tests.daemons import instance, start_pykeepalived, write_conf
from tests.netns.sched_readback import SCRIPT, readback, script_readback

pytestmark = pytest.mark.netns

VIP = "192.0.2.10"


def config(global_lines: str, notify: Path) -> str:
    return f"""global_defs {{
    router_id r1
    lb_backend nftables
{global_lines}
}}
""" + instance("VI_1", vrid=51, priority=150, vip=f"{VIP}/24",
               extra=f'notify_master "{notify.parent / "notify.sh"} {notify}"') + """
virtual_server 198.51.100.20 80 {
    delay_loop 5
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.51.100.21 80 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
"""


def read_pid(path: Path) -> int:
    assert wait_for(lambda: path.exists() and path.read_text().strip().isdigit(), 15)
    return int(path.read_text())


def test_scheduling_keywords_reach_the_running_children(lab: Lab, tmp_path: Path) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    script = tmp_path / "notify.sh"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    seen = tmp_path / "notify-sched"
    conf = write_conf(tmp_path, "r1", config("""
    vrrp_rt_priority 20
    vrrp_rlimit_rttime 40000
    vrrp_no_swap
    vrrp_cpu_affinity 1
    checker_priority -7
    checker_no_swap
    checker_cpu_affinity 0
""", seen))
    daemon = start_pykeepalived(r1, conf, tmp_path)
    try:
        assert wait_for(lambda: r1.has_address(VIP), 15), daemon.log()
        run = tmp_path / "py-r1"
        vrrp_pid, check_pid = read_pid(run / "vrrp.pid"), read_pid(run / "chk.pid")
        assert wait_for(lambda: readback(vrrp_pid).policy.startswith("SCHED_RR"), 10), \
            daemon.log()
        vrrp = readback(vrrp_pid)
        assert vrrp.policy == "SCHED_RR|SCHED_RESET_ON_FORK"
        assert vrrp.rt_priority == 20
        assert vrrp.nice == "-"  # ps shows no nice value for a realtime process
        assert vrrp.rttime == ("20000", "40000")  # keepalived: soft = half the hard limit
        assert vrrp.vmlck_kib > 0
        assert vrrp.cpus == {1}
        # the status says so too, with the collector frozen after the start
        status = ask(socket_path(str(run / "ka.pid"), "vrrp"), {"cmd": "status"}, timeout=5)
        process = status["process"]
        assert process["scheduling"]["rt_priority"] == 20
        assert process["gc"]["frozen_objects"] > 1000
        assert process["timer_lateness"]["count"] > 0
        only = ask(socket_path(str(run / "ka.pid"), "vrrp"), {"cmd": "status", "process": True},
                   timeout=5)
        assert set(only) == {"role", "process"}
        assert only["process"]["scheduling"] == process["scheduling"]
        assert wait_for(lambda: readback(check_pid).nice == "-7", 10), daemon.log()
        check = readback(check_pid)
        assert check.policy.startswith("SCHED_OTHER")
        assert check.rt_priority == 0
        assert check.vmlck_kib > 0
        assert check.cpus == {0}
        assert check.rttime == ("unlimited", "unlimited")
        # the notify script of the realtime process: normal policy, nice 0, like keepalived's
        assert wait_for(seen.exists, 10), daemon.log()
        assert script_readback(seen.read_text()) == ("SCHED_OTHER", 0, "0")

        # a reload takes the new values: no realtime, a nice value, no memory lock
        conf.write_text(config("""
    vrrp_priority -5
    checker_rt_priority 10
    checker_rlimit_rtime 30000
""", seen))
        daemon.signal(signal.SIGHUP)
        assert wait_for(lambda: readback(vrrp_pid).nice == "-5", 20), daemon.log()
        vrrp = readback(vrrp_pid)
        assert vrrp.policy.startswith("SCHED_OTHER")
        assert vrrp.rt_priority == 0
        assert vrrp.vmlck_kib == 0
        assert vrrp.cpus == frozenset(os.sched_getaffinity(0))
        assert wait_for(lambda: readback(check_pid).rt_priority == 10, 20), daemon.log()
        check = readback(check_pid)
        assert check.policy == "SCHED_RR|SCHED_RESET_ON_FORK"
        assert check.rttime == ("15000", "30000")  # checker_rlimit_rtime: the old spelling
        assert check.vmlck_kib == 0
        assert "Configuration reloaded" in daemon.log()
    finally:
        daemon.stop()


BURST = """
import asyncio, sys, time
from pykeepalived.daemon import priorities
from pykeepalived.daemon.timers import Scheduler

class Key:
    sched_when = None
    sched_at = None

async def main() -> None:
    done = []

    def work(key: Key, now: float) -> None:  # 100 us of CPU per timer, never blocking
        until = time.monotonic() + 0.0001
        while time.monotonic() < until:
            pass
        done.append(key)

    sched = Scheduler(asyncio.get_running_loop(), work)
    scheduling = priorities.ProcessScheduling()
    scheduling.apply(priorities.Scheduling("VRRP", "vrrp", rt_priority=10, rlimit_rttime=10000))
    if sys.argv[1] == "off":
        priorities.RT_WATCHDOG.stop()
    keys = [Key() for _ in range(300)]
    at = time.monotonic() + 0.05
    for key in keys:  # 300 timers due together: a 30 ms burst
        sched.arm(key, at)
    await asyncio.sleep(0.3)
    until = time.monotonic() + 0.03  # and 30 ms in one callback
    while time.monotonic() < until:
        pass
    done.append(None)
    print(len(done), priorities.RT_WATCHDOG.breaths, flush=True)
    scheduling.reset()  # the interpreter's exit is one more burst, as the daemon's stop is

asyncio.Runner(loop_factory=priorities.new_event_loop).run(main())
"""


def test_realtime_loop_outlives_a_burst_longer_than_rlimit_rttime() -> None:
    """vrrp_rt_priority with the default vrrp_rlimit_rttime (10 ms): 300 timers due at
    once take 30 ms, and so does one long callback after them. The kernel kills a realtime
    thread that runs that long without blocking (shown with the watchdog off); with it, the
    process sleeps a few microseconds within each burst and everything runs."""
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    off = subprocess.run([sys.executable, "-c", BURST, "off"], capture_output=True, text=True,
                         env=env, timeout=60, check=False)
    assert off.returncode == -signal.SIGKILL, (off.returncode, off.stdout, off.stderr)
    assert off.stdout == ""  # killed within the burst
    on = subprocess.run([sys.executable, "-c", BURST, "on"], capture_output=True, text=True,
                        env=env, timeout=60, check=False)
    assert on.returncode == 0, (on.returncode, on.stdout, on.stderr)
    done, breaths = (int(word) for word in on.stdout.split())
    assert done == 301
    assert breaths >= 3  # 30 ms of work, a breath at least every 2.5 ms
