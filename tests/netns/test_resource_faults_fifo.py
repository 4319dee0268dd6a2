"""The notify_fifo reader goes away, and comes back.

r1 (MASTER of VI_1 at advert_int 0.1, r2 its BACKUP) writes its state changes to a
notify_fifo; VI_2 is flapped by a tracked file. Seen with keepalived 2.2.7 in this lab: it
opens its FIFO read-write (no EPIPE, no ENXIO when the reader goes), the lines written
while no reader runs wait in the pipe and the next reader gets them; but when the reader
replaces the FIFO (keepalived's sample reader removes the FIFO it made when it exits, the
next one makes a new one), keepalived goes on writing into the old pipe and the new reader
gets nothing, ever. Here:

- the reader killed: nothing blocks, VRRP goes on (r2 never takes over), and the next reader
  gets every line written meanwhile, whole and in order, as with keepalived;
- the reader replacing the FIFO: the daemon follows it (logged once) and the new reader
  gets the latest line of every instance at once, then each change; at stop the reader's
  FIFO is left alone.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab, wait_for
from tests.daemons import instance
from tests.netns.fault_lab import Watch, bench, master_instance

pytestmark = pytest.mark.netns


class Readers:
    """``cat FIFO > FILE`` readers, each killed at the end whatever happens."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, fifo: Path, out: Path, *, replace: bool = False) -> subprocess.Popen[bytes]:
        # the replacing reader does what keepalived's sample_notify_fifo.sh does when the
        # FIFO is not there: it makes its own
        make = f'rm -f "{fifo}"; mkfifo "{fifo}"; ' if replace else ""
        proc = subprocess.Popen(["sh", "-c", f'{make}exec cat "{fifo}" > "{out}"'])
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        proc.kill()
        proc.wait(timeout=5)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.stop(proc)


@pytest.fixture
def readers() -> Iterator[Readers]:
    found = Readers()
    yield found
    found.close()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_the_fifo_reader_goes_away_and_comes_back(lab: Lab, tmp_path: Path,
                                                  readers: Readers) -> None:
    fifo = tmp_path / "notify.fifo"
    flap = tmp_path / "flap"
    flap.write_text("0\n")
    body = f"""
vrrp_track_file flap {{
    file {flap}
}}
""" + master_instance() + instance("VI_2", vrid=52, priority=100, vip="192.0.2.20/24",
                                   extra="track_file {\n        flap weight 0\n    }")
    with bench(lab, tmp_path, body, r1_global=f"    notify_fifo {fifo}") as b:
        assert wait_for(fifo.exists, 5), b.logs()
        first = readers.start(fifo, tmp_path / "out1")
        assert wait_for(lambda: 'INSTANCE "VI_2" MASTER 100' in lines(tmp_path / "out1"), 10)
        watch = Watch(b, tmp_path / "adverts.pcap")

        # the reader goes away; VI_2 changes three times meanwhile
        readers.stop(first)
        for value in (1, 0, 1):
            flap.write_text(f"{value}\n")
            assert wait_for(lambda v=value: b.last_state(b.d1, "VI_2") ==
                            ("FAULT" if v else "MASTER"), 5), b.logs()
        second = readers.start(fifo, tmp_path / "out2")
        expected = ['INSTANCE "VI_2" FAULT 100', 'INSTANCE "VI_2" BACKUP 100',
                    'INSTANCE "VI_2" MASTER 100', 'INSTANCE "VI_2" FAULT 100']
        assert wait_for(lambda: lines(tmp_path / "out2") == expected, 5), \
            (lines(tmp_path / "out2"), b.logs())

        # the next reader replaces the FIFO, as keepalived's sample reader does
        readers.stop(second)
        readers.start(fifo, tmp_path / "out3", replace=True)
        latest = ['INSTANCE "VI_1" MASTER 200', 'INSTANCE "VI_2" FAULT 100']
        assert wait_for(lambda: sorted(lines(tmp_path / "out3")) == latest, 5), \
            (lines(tmp_path / "out3"), b.logs())
        flap.write_text("0\n")
        assert wait_for(lambda: lines(tmp_path / "out3")[-1:] == [
            'INSTANCE "VI_2" MASTER 100'], 5), (lines(tmp_path / "out3"), b.logs())
        watch.stop()

        assert not b.peer_took_over(), b.logs()
        assert watch.longest_silence() < 0.36, watch.times  # r2's master_down_interval
        assert len(b.lines("was replaced by a new FIFO")) == 1, b.logs()
        assert len(b.lines("was removed")) <= 1, b.logs()
        assert b.d1.stop() == 0
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # the reader's FIFO stays
