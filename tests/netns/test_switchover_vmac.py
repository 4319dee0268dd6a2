"""use_vmac beside a backup: the backup never sends a frame from the virtual MAC.

With use_vmac the switches learn where 00:00:5e:00:01:VRID is from every frame sent from it.
A backup's VMAC that joined the VRRP group sent IGMP reports from that MAC, and the switch
then delivered the master's traffic to the backup (which drops it) until the master's next
advert: a client probing every 10 ms lost up to an advert interval's worth. The reports leave
through the base interface instead, as keepalived's nftables rule sends them.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab
from tests.netns.switchover_lab import Pair, Pinger

pytestmark = pytest.mark.netns

SETTLE = 1.0


def test_vmac_backup_never_sends_from_the_virtual_mac(lab: Lab, tmp_path: Path) -> None:
    """A backup's VMAC joining the VRRP group sent IGMP reports with the virtual MAC: the
    switch then sent the master's traffic to the backup until the master's next advert. The
    reports leave through the base interface (keepalived's nftables rule)."""
    pair = Pair(lab, tmp_path, vmac=True)
    ping = None
    capture = lab.switch.popen("tcpdump", "-i", pair.r2.ports["eth0"], "-Q", "in", "-n", "-e",
                               "-l", "ether src 00:00:5e:00:01:33", stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        def ping_first() -> None:
            nonlocal ping
            ping = Pinger(pair.client)
            time.sleep(SETTLE)

        pair.start(before_backup=ping_first)
        time.sleep(2.5)  # IGMPv3: a report at the join, the second within 1 s
        assert ping is not None
        seen, ping = ping.stop(), None
        capture.send_signal(signal.SIGINT)
        frames, _ = capture.communicate(timeout=10)
        assert frames.strip() == "", frames
        assert seen.answered > 200 and seen.lost == [], f"{seen}\n{pair.logs()}"
    finally:
        if capture.poll() is None:
            capture.kill()
            capture.communicate(timeout=5)
        if ping is not None:
            ping.stop()
        pair.close()
