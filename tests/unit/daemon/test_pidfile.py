"""Pid files: a live pykeepalived keeps its file; anything else named there is stale."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.daemon.pidfile import PidFileError, remove_pidfile, write_pidfile
from pykeepalived.demo.lab import wait_for


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A shell whose command line names pykeepalived, as ``journalctl -u pykeepalived``
    or ``less /var/log/pykeepalived.log`` do."""
    proc = subprocess.Popen(["sh", "-c", "sleep 30", "pykeepalived"])
    cmdline = Path(f"/proc/{proc.pid}/cmdline")
    try:
        assert wait_for(lambda: b"pykeepalived" in cmdline.read_bytes(), 10)  # exec'd
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_a_process_that_only_names_pykeepalived_does_not_hold_the_file(
        tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    path = tmp_path / "keepalived.pid"
    path.write_text(f"{sleeper.pid}\n")
    write_pidfile(str(path))
    assert path.read_text() == f"{os.getpid()}\n"


def test_a_running_pykeepalived_holds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "keepalived.pid"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)",
                             "pykeepalived"])
    try:
        cmdline = Path(f"/proc/{proc.pid}/cmdline")
        assert wait_for(lambda: b"pykeepalived" in cmdline.read_bytes(), 10)  # exec'd
        path.write_text(f"{proc.pid}\n")
        with pytest.raises(PidFileError, match="already running"):
            write_pidfile(str(path))
    finally:
        proc.kill()
        proc.wait()


def test_a_dead_pid_and_the_parents_pid_are_stale(tmp_path: Path) -> None:
    path = tmp_path / "keepalived.pid"
    dead = subprocess.Popen(["true"])
    dead.wait()
    path.write_text(f"{dead.pid}\n")
    write_pidfile(str(path))
    assert path.read_text() == f"{os.getpid()}\n"
    path.write_text(f"{os.getppid()}\n")
    write_pidfile(str(path))
    assert path.read_text() == f"{os.getpid()}\n"
    remove_pidfile(str(path))
    assert not path.exists()
