"""A planned switchover from pykeepalived to Debian's keepalived 2.2.7, seen by a client.

r1 runs pykeepalived (priority 150, master), r2 keepalived (100). A TERM on r1 (or
``pykeepalived --handover``) moves the VIP to keepalived without a probe lost by a client
pinging every ~9 ms: what keepalived sees is priority-0 adverts, then silence, and it takes
over after its Skew_Time while r1 still answers for the VIP. keepalived logs nothing it
would log about an invalid or doubtful advert.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab, wait_for
from tests.daemons import Daemon, holders
from tests.interop.test_keepalived_peer import KEEPALIVED_COMPLAINTS
from tests.netns.switchover_lab import VIP, VIP2, Pair, Pinger

pytestmark = pytest.mark.interop

SRC = str(Path(__file__).resolve().parents[2] / "src")
SETTLE = 1.0
KINDS = ("pykeepalived", "keepalived")


def complaints(d: Daemon) -> list[str]:
    return [line for line in d.log().splitlines()
            if "(VI_" in line and any(word in line for word in KEEPALIVED_COMPLAINTS)]


def moved_without_loss(pair: Pair, pings: list[Pinger], move: object) -> None:
    """Probe every VIP, run ``move()``, then check the client and keepalived's log."""
    time.sleep(SETTLE)
    move()  # type: ignore[operator]
    for vip in pair.vips():
        assert wait_for(lambda v=vip: holders(pair.hosts, v) == ["r2"], 5), pair.logs()  # type: ignore[misc]
    time.sleep(SETTLE)
    seen = [p.stop() for p in pings]
    pings.clear()
    for one in seen:
        assert one.answered > 100 and one.lost == [], f"{seen}\n{pair.logs()}"
    assert "Entering MASTER STATE" in pair.backup.log(), pair.logs()
    assert complaints(pair.backup) == [], pair.logs()


def term(pair: Pair) -> None:
    pair.master.signal(signal.SIGTERM)
    assert pair.master.proc.wait(timeout=15) == 0, pair.logs()


@pytest.mark.parametrize(("version", "advert", "vmac"), [
    (3, "0.1", False), (2, "1", False), (3, "0.1", True), (2, "1", True)],
    ids=["v3-0.1", "v2-1", "v3-0.1-vmac", "v2-1-vmac"])
def test_term_hands_over_to_keepalived_without_a_lost_probe(
        lab: Lab, tmp_path: Path, version: int, advert: str, vmac: bool) -> None:
    pair = Pair(lab, tmp_path, kinds=KINDS, version=version, advert=advert, vmac=vmac)
    pings: list[Pinger] = []
    try:
        pair.start()
        pings.append(Pinger(pair.client))
        moved_without_loss(pair, pings, lambda: term(pair))
        log = pair.master.log()
        assert log.index("New master 192.0.2.2") < log.index("Handed over to 192.0.2.2"), log
        assert "Backup received priority 0 advertisement" in pair.backup.log()
    finally:
        for p in pings:
            p.stop()
        pair.close()


def test_handover_command_to_keepalived(lab: Lab, tmp_path: Path) -> None:
    pair = Pair(lab, tmp_path, kinds=KINDS)
    pings: list[Pinger] = []
    try:
        pair.start()
        pings.append(Pinger(pair.client))

        def handover() -> None:
            done = subprocess.run(
                [sys.executable, "-m", "pykeepalived", "--handover", "VI_1", "-p",
                 str(pair.master.log_path.parent / "ka.pid")], capture_output=True, text=True,
                timeout=30, env=dict(os.environ, PYTHONPATH=SRC))
            assert done.returncode == 0 and "VI_1: BACKUP" in done.stdout, done

        moved_without_loss(pair, pings, handover)
        time.sleep(SETTLE)  # r1 stays a backup: keepalived keeps the VIP
        assert holders(pair.hosts, VIP) == ["r2"] and pair.master.proc.poll() is None
    finally:
        for p in pings:
            p.stop()
        pair.close()


def test_sync_group_hands_over_to_keepalived(lab: Lab, tmp_path: Path) -> None:
    pair = Pair(lab, tmp_path, kinds=KINDS, group=True)
    pings: list[Pinger] = []
    try:
        pair.start()
        assert wait_for(lambda: holders(pair.hosts, VIP2) == ["r1"], 5), pair.logs()
        pings += [Pinger(pair.client, VIP), Pinger(pair.client, VIP2)]
        moved_without_loss(pair, pings, lambda: term(pair))
    finally:
        for p in pings:
            p.stop()
        pair.close()
