"""No room for a script's process (fork fails with EAGAIN: a pids limit reached).

The failure is injected where the runner creates the process (``create_subprocess_exec``
raising as fork does); tests/netns/test_resource_faults_scripts.py makes it real with a
notify script that forks without end inside a pids cgroup.

- the runner marks the result ``transient``, logs the cause once for all scripts, and says
  when scripts start again;
- a vrrp_script keeps its state (keepalived: "Failed fork process", no result): an instance
  does not go to FAULT because another script took every process;
- a notification is not lost: it runs once there is room again, unless a newer state of its
  instance came meanwhile (then that one runs).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pykeepalived.notify import notifier as notifier_module
from pykeepalived.notify.notifier import Notifier, NotifyScripts
from pykeepalived.notify.script import ScriptRunner
from pykeepalived.track.script import TrackedScript

from ._util import argv_logger, read_argv_log, run_async, wait_until, write_script


class NoRoom:
    """``asyncio.create_subprocess_exec`` that fails as fork does while ``full`` is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = True
        self.refused = 0
        real: Callable[..., Any] = asyncio.create_subprocess_exec

        async def create(*args: Any, **kwargs: Any) -> Any:
            if self.full:
                self.refused += 1
                raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
            return await real(*args, **kwargs)

        monkeypatch.setattr(asyncio, "create_subprocess_exec", create)


@run_async
async def test_the_runner_says_it_once_and_when_scripts_start_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pykeepalived.notify.script")
    script = str(write_script(tmp_path / "ok.sh", "exit 0\n"))
    other = str(write_script(tmp_path / "other.sh", "exit 0\n"))
    room = NoRoom(monkeypatch)
    runner = ScriptRunner()
    results = [await runner.run([s], 5) for s in (script, other, script)]
    assert [(r.transient, r.returncode, r.ok) for r in results] == [(True, None, False)] * 3
    assert results[0].error == "fork failed: Resource temporarily unavailable"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["Cannot start scripts: fork failed: Resource temporarily unavailable "
                      "(the machine has no room for a process: scripts are not run until it "
                      "has)"]
    room.full = False
    caplog.clear()
    done = await runner.run([script], 5)
    assert done.ok and not done.transient
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == [
        "Scripts start again (3 run(s) could not be started for lack of resources)"]
    assert runner.not_started == 3
    await runner.close()


@run_async
async def test_a_track_script_keeps_its_state_while_it_cannot_be_forked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    changes: list[bool] = []
    runner = ScriptRunner()
    tracked = TrackedScript("chk", str(write_script(tmp_path / "ok.sh", "exit 0\n")),
                            interval=0.05, runner=runner,
                            on_change=lambda _name, ok: changes.append(ok))
    tracked.start()
    assert await wait_until(lambda: changes == [True], 5)
    room = NoRoom(monkeypatch)
    assert await wait_until(lambda: room.refused >= 5, 5)
    assert changes == [True] and tracked.ok is True  # not a failure: nothing is known
    room.full = False
    runs = tracked.runs
    assert await wait_until(lambda: tracked.runs >= runs + 3, 5)
    assert changes == [True]
    await tracked.aclose()
    await runner.close()


@run_async
async def test_a_notification_waits_for_room_then_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notifier_module, "START_RETRY_FIRST", 0.05, raising=False)
    monkeypatch.setattr(notifier_module, "START_RETRY_MAX", 0.1, raising=False)
    log = str(argv_logger(tmp_path / "log.sh", tmp_path / "calls"))
    runner = ScriptRunner()
    notifier = Notifier(runner, None)
    room = NoRoom(monkeypatch)
    scripts = NotifyScripts(notify_master=f"{log} master", notify_backup=f"{log} backup")
    notifier.instance_changed("VI_1", "MASTER", 100, scripts)
    assert await wait_until(lambda: room.refused >= 3, 5)
    room.full = False
    assert await wait_until(lambda: notifier.pending == 0, 5)
    assert [c[1:] for c in read_argv_log(tmp_path / "calls")] == [["master"]]

    # no room again: MASTER cannot start, BACKUP comes meanwhile and is the one notified
    room.full = True
    notifier.instance_changed("VI_2", "MASTER", 100, scripts)
    assert await wait_until(lambda: room.refused >= 8, 5)
    notifier.instance_changed("VI_2", "BACKUP", 100, scripts)
    await asyncio.sleep(0.2)
    room.full = False
    assert await wait_until(lambda: notifier.pending == 0, 5)
    assert [c[1:] for c in read_argv_log(tmp_path / "calls")] == [["master"], ["backup"]]
    assert notifier.dropped == 1
    await runner.close()
