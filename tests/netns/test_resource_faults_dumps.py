"""The disk is full when the dumps are asked for (USR1, USR2, the checker's USR1).

r1 runs in a mount namespace of its own whose /tmp is a 64 KiB tmpfs (the test's own
directory is bound back into it, so the daemon still finds its configuration), filled to
ENOSPC before each signal. The daemon must log the failure once per file, keep running and
advertising (r2, its BACKUP at advert_int 0.1, never takes over), leave no file that looks
like a dump (neither a part of the new one nor the previous, out-of-date one), and write
whole dumps again once there is room, saying so.

The host's /tmp is never touched: the tmpfs exists only in r1's mount namespace, and the
test reaches it through /proc/PID/root.
"""

from __future__ import annotations

import errno
import itertools
import os
import signal
import time
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab, wait_for
from tests.netns.fault_lab import Bench, Watch, bench, master_instance

pytestmark = pytest.mark.netns

# In the private mount namespace: keep the real /tmp reachable at /mnt, put a tiny tmpfs
# over /tmp, and bind the test's directory (under the real /tmp) back to its own path.
PRIVATE_TMP = r"""set -e
mount --bind /tmp /mnt
mount -t tmpfs -o size=64k,mode=1777 pk-dumps /tmp
case "$0" in /tmp/*) mkdir -p "$0"; mount --bind "/mnt/${0#/tmp/}" "$0";; esac
exec "$@"
"""

VIRTUAL_SERVER = """
virtual_server 203.0.113.10 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 192.0.2.21 80 {
        weight 1
    }
}
"""
FILES = ("keepalived.data", "keepalived.stats", "keepalived_check.data")


class PrivateTmp:
    """The daemon's /tmp, seen from the test through /proc/PID/root."""

    def __init__(self, pid: int) -> None:
        self.root = Path(f"/proc/{pid}/root/tmp")
        self.filler = self.root / "filler"

    def fill(self) -> None:
        """Append to the filler file until the tmpfs says ENOSPC (bounded by its size)."""
        with open(self.filler, "ab", buffering=0) as handle:
            for _ in range(64 * 1024):  # at least a byte per write: more than the tmpfs
                try:
                    handle.write(b"x" * 512)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    return
        raise AssertionError("the private /tmp never filled up")

    def names(self) -> set[str]:
        return {p.name for p in self.root.iterdir()}


def signal_dump(b: Bench, sig: int, tmp: PrivateTmp | None = None) -> None:
    if tmp is not None:
        tmp.fill()
    b.d1.signal(sig)
    time.sleep(0.3)


def dump_events(b: Bench, name: str) -> list[str]:
    """r1's logged outcomes for dump ``name`` in order: "failed: <line>" / "wrote: <line>"."""
    events = []
    for line in b.d1.log().splitlines():
        if f"Cannot write /tmp/{name}:" in line:
            events.append(f"failed: {line}")
        elif f"Wrote /tmp/{name} again" in line:
            events.append(f"wrote: {line}")
    return events


def test_a_full_disk_for_the_dumps(lab: Lab, tmp_path: Path) -> None:
    assert str(tmp_path).startswith("/tmp/"), "the wrapper binds the test directory from /tmp"
    with bench(lab, tmp_path, master_instance() + VIRTUAL_SERVER,
               r1_global="    lb_backend nftables",
               wrapper=["unshare", "-m", "--propagation", "private", "sh", "-c", PRIVATE_TMP,
                        str(tmp_path)]) as b:
        private = PrivateTmp(b.d1.proc.pid)
        assert b.d1.wait_log("Activating healthchecker", 10), b.logs()
        # room: the three dumps are written
        signal_dump(b, signal.SIGUSR1)
        signal_dump(b, signal.SIGUSR2)
        assert wait_for(lambda: set(FILES) <= private.names(), 5), (private.names(), b.logs())

        watch = Watch(b, tmp_path / "adverts.pcap")
        for _ in range(3):
            signal_dump(b, signal.SIGUSR1, private)
            signal_dump(b, signal.SIGUSR2, private)
        time.sleep(0.5)
        watch.stop()
        left = private.names()
        assert b.d1.proc.poll() is None, b.logs()
        # no temp file, and no dump left that its last attempt failed to write
        assert not {n for n in left if n.startswith(".keepalived")}, (left, b.logs())
        for name in FILES:
            events = dump_events(b, name)
            assert events and events[0].startswith("failed"), (name, b.logs())
            assert "No space left on device" in events[0]
            # logged once per cause: a second failure is logged only after a write that
            # succeeded in between (space the other child freed when it removed its own
            # out-of-date dump, as both children write on USR1 at the same time)
            assert all(a.startswith("failed") != b_.startswith("failed")
                       for a, b_ in itertools.pairwise(events)), (name, events)
            # the previous dump, out of date, is gone unless a later write succeeded
            assert (name in left) == events[-1].startswith("wrote"), (name, left, events)
        assert not b.peer_took_over(), b.logs()
        assert watch.longest_silence() < 0.36, watch.times  # r2's master_down_interval

        private.filler.unlink()
        signal_dump(b, signal.SIGUSR1)
        signal_dump(b, signal.SIGUSR2)
        assert wait_for(lambda: set(FILES) <= private.names(), 5), (private.names(), b.logs())
        data = (private.root / "keepalived.data").read_text()
        assert " VRRP Instance = VI_1\n" in data and "   State = MASTER\n" in data, data
        assert data.endswith("     192.0.2.10/24 dev eth0 scope global set\n"), data
        stats = (private.root / "keepalived.stats").read_text()
        assert stats.startswith("VRRP Instance: VI_1\n") and "Adverts not sent: " in stats
        check = (private.root / "keepalived_check.data").read_text()
        assert " VS = [203.0.113.10]:tcp:80\n" in check, check
        for name in FILES:
            assert dump_events(b, name)[-1].startswith("wrote"), (name, b.logs())
        assert "died" not in b.d1.log(), b.logs()  # no child was lost on the way
        assert not os.path.exists("/tmp/filler")
