"""daemon.parentdeath: a child forked by the daemon gets SIGTERM when its parent dies."""

from __future__ import annotations

import os
import signal
import time

from pykeepalived.daemon.parentdeath import stop_with_parent


def _wait_exit(pid: int, timeout: float = 5.0) -> int | None:
    """waitpid with a deadline: the child's exit code (minus a signal), None if it runs on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def test_child_is_terminated_when_its_parent_dies() -> None:
    """The test forks a middle process, which forks the child and exits: the child must be
    sent SIGTERM (it reports through a pipe, since it is no longer ours to wait for)."""
    read_end, write_end = os.pipe()
    middle = os.fork()
    if middle == 0:  # the middle process: plays the daemon's parent
        os.close(read_end)
        armed_r, armed_w = os.pipe()
        parent = os.getpid()
        child = os.fork()
        if child == 0:
            got: list[int] = []
            signal.signal(signal.SIGTERM, lambda signum, _frame: got.append(signum))
            stop_with_parent(parent)
            os.write(write_end, b"r" if not got else b"early")
            os.write(armed_w, b"r")
            deadline = time.monotonic() + 5
            while not got and time.monotonic() < deadline:
                time.sleep(0.01)
            os.write(write_end, b"T" if got else b"-")
            os._exit(0)
        os.read(armed_r, 1)  # the child is armed (its parent alive): now the parent dies
        os._exit(0)
    os.close(write_end)
    assert _wait_exit(middle) == 0
    with os.fdopen(read_end, "rb") as pipe:
        reply = pipe.read()  # ends when the grandchild exits
    assert reply == b"rT"


def test_child_whose_parent_died_first_terminates_at_once() -> None:
    """The parent died before the request was made: the child terminates itself."""
    child = os.fork()
    if child == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        stop_with_parent(os.getppid() + 1_000_000)  # not our parent: as if it had died
        time.sleep(5)
        os._exit(0)
    assert _wait_exit(child) == -signal.SIGTERM


def test_child_of_a_living_parent_runs_on() -> None:
    child = os.fork()
    if child == 0:
        stop_with_parent(os.getppid())
        time.sleep(0.2)
        os._exit(7)
    assert _wait_exit(child) == 7
