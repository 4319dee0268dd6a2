"""A TERM ends the soak through its clean-up, and only in the soak's own process.

pyroute2's ``IPRoute(netns=...)`` forks a proxy without exec, which inherits the soak's TERM
handler; closing the observer stops it with TERM. Before this was handled, each such proxy ran
the soak's clean-up and wrote "ERROR KeyboardInterrupt" into a passing soak's log.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.chaos import soak


def test_term_in_the_soak_process_raises_for_its_clean_up() -> None:
    with pytest.raises(KeyboardInterrupt, match="signal 15"):
        soak._terminate(signal.SIGTERM, None)


def test_term_in_a_forked_copy_just_ends_it() -> None:
    previous = signal.signal(signal.SIGTERM, soak._terminate)
    try:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the copy: waits for TERM; a KeyboardInterrupt would exit with 7
            os.close(read)
            try:
                os.write(write, b"x")
                for _ in range(100):
                    time.sleep(0.05)
            except KeyboardInterrupt:
                os._exit(7)
            os._exit(3)
        os.close(write)
        assert os.read(read, 1) == b"x"
        os.close(read)
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM
