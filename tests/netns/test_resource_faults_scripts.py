"""A notify script that forks without end, with r1's daemon in a pids cgroup of its own.

r1 is MASTER of VI_1 (its notify_master is the fork bomb, and it tracks a vrrp_script run
every second) and of VI_2 (no peer; a tracked file flaps it between MASTER and FAULT, each
change notified by a script that records it). The bomb takes every process the cgroup
allows, until the notifier's script timeout (10 s) kills its process group. Meanwhile:

- VRRP goes on: r2, BACKUP of VI_1 at advert_int 0.1, never takes over; VI_1 stays MASTER
  (a vrrp_script that cannot be forked keeps its state, as keepalived's does, instead of
  failing and putting VI_1 in FAULT);
- the lack of processes is logged once, with its cause, and its end once;
- at the timeout the whole process group goes: no process of the bomb outlives it;
- VI_2's notifications are not lost: once there is room, its latest state is notified,
  and the flapping queued no more than one notification per state.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab, wait_for
from tests.daemons import Daemon, instance
from tests.netns.fault_lab import Watch, bench, master_instance

pytestmark = pytest.mark.netns

PIDS_MAX = 64  # the daemon needs a dozen; the bomb takes the rest
BOMB = """#!/usr/bin/python3
import os, time
for _ in range(5000):  # bounded; the cgroup's pids.max stops the forks much earlier
    try:
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
    except OSError:
        time.sleep(0.005)
time.sleep(600)
"""


def pids_hierarchy() -> Path | None:
    """Where a pids cgroup can be made: cgroup v1's pids hierarchy, or v2's root when it
    delegates the pids controller."""
    v1 = Path("/sys/fs/cgroup/pids")
    if (v1 / "cgroup.procs").exists():
        return v1
    v2 = Path("/sys/fs/cgroup")
    control = v2 / "cgroup.subtree_control"
    if control.exists() and "pids" in control.read_text().split():
        return v2
    return None


@pytest.fixture
def pids_cgroup(tmp_path: Path) -> Iterator[Path]:
    """A cgroup with pids.max = PIDS_MAX; whatever is left in it is killed, then it goes."""
    parent = pids_hierarchy()
    if parent is None:
        pytest.skip("no pids cgroup controller to limit the daemon with")
    group = parent / f"pk-resfault-{os.getpid()}-{tmp_path.name}"[:60]
    group.mkdir()
    try:
        (group / "pids.max").write_text(f"{PIDS_MAX}\n")
        yield group
    finally:
        for _ in range(50):  # bounded: a few rounds of SIGKILL, then the group is empty
            pids = (group / "cgroup.procs").read_text().split()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            time.sleep(0.1)
        group.rmdir()


def bomb_processes(bomb: Path) -> list[int]:
    """Live processes running the bomb script (the script and every child it forked)."""
    found = []
    needle = str(bomb).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                words = handle.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as handle:
                zombie = handle.read().rsplit(b")", 1)[1].split()[0] == b"Z"
        except OSError:
            continue
        if needle in words and not zombie:
            found.append(int(entry))
    return found


def test_a_notify_script_forking_without_end(lab: Lab, tmp_path: Path,
                                             pids_cgroup: Path) -> None:
    bomb = tmp_path / "bomb.py"
    bomb.write_text(BOMB)
    bomb.chmod(0o755)
    record = tmp_path / "vi2-states"
    notify = tmp_path / "notify.sh"
    notify.write_text(f'#!/bin/sh\necho "$3" >> {record}\n')
    notify.chmod(0o755)
    flap = tmp_path / "flap"
    flap.write_text("0\n")
    body = f"""
vrrp_script chk {{
    script /bin/true
    interval 1
}}
vrrp_track_file flap {{
    file {flap}
}}
""" + master_instance(extra=f"notify_master {bomb}\n    track_script {{\n        chk\n    }}") \
        + instance("VI_2", vrid=52, priority=100, vip="192.0.2.20/24",
                   extra=f"notify {notify}\n    track_file {{\n        flap weight 0\n    }}")
    # /sys/fs/cgroup is not mounted under `ip netns exec`: the test moves the daemon into
    # the cgroup, and the daemon waits (bounded) until it is there before it starts.
    wrapper = ["sh", "-c", 'for i in $(seq 1000); do grep -q "/$0$" /proc/$$/cgroup && '
               'exec "$@"; sleep 0.01; done; exit 1', pids_cgroup.name]

    def into_cgroup(daemon: Daemon) -> None:
        (pids_cgroup / "cgroup.procs").write_text(f"{daemon.proc.pid}\n")

    with bench(lab, tmp_path, body, wrapper=wrapper, on_start=into_cgroup) as b:
        current = pids_cgroup / "pids.current"
        assert wait_for(lambda: int(current.read_text()) >= PIDS_MAX - 1, 10), b.logs()
        assert b.d1.wait_log("(VI_2) Entering MASTER STATE", 5), b.logs()
        watch = Watch(b, tmp_path / "adverts.pcap")
        for value in [1, 0] * 5 + [1]:  # ten changes of VI_2 while no script can start
            flap.write_text(f"{value}\n")
            time.sleep(0.2)
        assert "Scripts start again" not in b.d1.log()  # the bomb still holds every pid
        assert b.d1.wait_log(f"Script '{bomb}'", 15), b.logs()  # its timeout, 10 s
        assert wait_for(lambda: not bomb_processes(bomb), 10), bomb_processes(bomb)
        time.sleep(1.5)  # a vrrp_script run or two with room again
        watch.stop()
        log = b.d1.log()
        assert not b.peer_took_over(), b.logs()
        assert "(VI_1) Entering FAULT STATE" not in log and "VRRP_Script(chk) failed" \
            not in log, b.logs()
        assert watch.longest_silence() < 0.36, watch.times  # r2's master_down_interval
        # VI_2's latest state is notified once there is room (retried, not lost) ...
        assert wait_for(lambda: record.exists() and
                        record.read_text().splitlines()[-1:] == ["FAULT"], 15), b.logs()
        states = record.read_text().splitlines()
        assert len(states) <= 4, states  # ... and at most one waited per state
        # the lack of processes is said once with its cause, and its end once
        assert len(b.lines("Cannot start scripts: fork failed: Resource temporarily "
                           "unavailable")) == 1, b.logs()
        assert len(b.lines("Scripts start again")) == 1, b.logs()
        timeouts = b.lines(f"Script '{bomb}' (pid")
        assert len(timeouts) == 1, b.logs()
        assert "timed out after 10s - terminating its process group" in timeouts[0]
        assert b.d1.proc.poll() is None
    assert not bomb_processes(bomb)
