"""Notifier: keepalived's notify argv, FIFO lines, per-instance order, hung scripts.

(Bounds under a flapping instance: test_notify_bounds.py.)
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from pykeepalived.notify.fifo import NotifyFifo
from pykeepalived.notify.notifier import Notifier, NotifyScripts, Script
from pykeepalived.notify.script import ScriptRunner

from ._util import alive, argv_logger, read_argv_log, run_async, wait_until, write_script


class Env:
    """A logger script, a hang script released by a file, and a notifier with a FIFO."""

    def __init__(self, tmp_path: Path, *, script_timeout: float = 5.0,
                 stop_timeout: float = 1.0) -> None:
        self.dir = tmp_path
        self.logdir = tmp_path / "log"
        self.log = str(argv_logger(tmp_path / "log.sh", self.logdir))
        self.release = tmp_path / "release"
        self.hang = str(write_script(tmp_path / "hang.sh", f"""\
echo $$ > {tmp_path}/hang.$1
for i in $(seq 3000); do [ -e {self.release} ] && exit 0; sleep 0.01; done
"""))
        self.runner = ScriptRunner(kill_grace=0.5)
        self.fifo = NotifyFifo(str(tmp_path / "fifo"), None, self.runner)
        self.notifier = Notifier(self.runner, self.fifo, script_timeout=script_timeout,
                                 stop_timeout=stop_timeout)

    def calls(self) -> list[list[str]]:
        return [[os.path.basename(call[0]), *call[1:]] for call in read_argv_log(self.logdir)]

    def hang_pid(self, tag: str) -> int | None:
        path = self.dir / f"hang.{tag}"
        text = path.read_text().strip() if path.exists() else ""
        return int(text) if text else None

    def fifo_bytes(self) -> bytes:
        fd = os.open(self.fifo.path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            return os.read(fd, 65536)
        except BlockingIOError:
            return b""
        finally:
            os.close(fd)

    async def close(self) -> None:
        self.release.touch()
        await self.notifier.drain(10)
        await self.fifo.aclose()
        await self.runner.close(2)


@run_async
async def test_instance_argv_like_keepalived(tmp_path: Path) -> None:
    env = Env(tmp_path)
    scripts = NotifyScripts(notify_master=f"{env.log} master 'a b'",
                            notify_backup=env.log,
                            notify=f"{env.log} generic")
    env.notifier.instance_changed("VI_1", "MASTER", 100, scripts)
    env.notifier.instance_changed("VI_1", "backup", 90, scripts)  # any case in, upper out
    assert await env.notifier.drain(10)
    assert env.calls() == [
        ["log.sh", "master", "a b"],  # the per-state script: its own argv only
        ["log.sh", "generic", "INSTANCE", "VI_1", "MASTER", "100"],
        ["log.sh"],
        ["log.sh", "generic", "INSTANCE", "VI_1", "BACKUP", "90"],
    ]
    assert env.fifo_bytes() == b'INSTANCE "VI_1" MASTER 100\nINSTANCE "VI_1" BACKUP 90\n'
    await env.close()


@run_async
async def test_group_argv_has_priority_zero(tmp_path: Path) -> None:
    env = Env(tmp_path)
    scripts = NotifyScripts(notify_fault=f"{env.log} gfault", notify=f"{env.log} g")
    env.notifier.group_changed("VG_1", "FAULT", scripts)
    assert await env.notifier.drain(10)
    assert env.calls() == [["log.sh", "gfault"], ["log.sh", "g", "GROUP", "VG_1", "FAULT", "0"]]
    assert env.fifo_bytes() == b'GROUP "VG_1" FAULT 0\n'
    await env.close()


@run_async
async def test_stop_and_deleted(tmp_path: Path) -> None:
    env = Env(tmp_path)
    log = env.log
    plain = NotifyScripts(notify_stop=f"{log} stop", notify_fault=f"{log} fault",
                          notify_deleted=f"{log} deleted", notify=f"{log} n")
    with_deleted = NotifyScripts(notify_deleted=f"{log} deleted", notify=f"{log} n",
                                 send_deleted=True)
    env.notifier.instance_changed("VI_1", "STOP", 100, plain)
    # without notify_deleted keepalived reports a deleted instance as FAULT
    env.notifier.instance_changed("VI_2", "DELETED", 100, plain)
    env.notifier.instance_changed("VI_3", "DELETED", 100, with_deleted)
    assert await env.notifier.drain(10)
    calls = env.calls()  # instances run side by side; each one's calls are in order
    assert sorted(calls) == sorted([
        ["log.sh", "stop"], ["log.sh", "n", "INSTANCE", "VI_1", "STOP", "100"],
        ["log.sh", "fault"], ["log.sh", "n", "INSTANCE", "VI_2", "FAULT", "100"],
        ["log.sh", "deleted"], ["log.sh", "n", "INSTANCE", "VI_3", "DELETED", "100"],
    ])
    for first, then in (("stop", "VI_1"), ("fault", "VI_2"), ("deleted", "VI_3")):
        generic = next(c for c in calls if then in c)
        assert calls.index(["log.sh", first]) < calls.index(generic)
    assert env.fifo_bytes() == (b'INSTANCE "VI_1" STOP 100\nINSTANCE "VI_2" FAULT 100\n'
                                b'INSTANCE "VI_3" DELETED 100\n')
    await env.close()


@run_async
async def test_notifications_of_one_instance_run_in_order(tmp_path: Path) -> None:
    env = Env(tmp_path)
    slow = write_script(tmp_path / "slow.sh", f'sleep 0.05; exec {env.log} "$@"')
    scripts = NotifyScripts(notify_master=f"{slow} m", notify_backup=f"{slow} b",
                            notify_fault=f"{slow} f", notify=f"{env.log} n")
    states = ["BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER"]
    for state in states[:3]:
        env.notifier.instance_changed("VI_1", state, 100, scripts)
    assert env.notifier.pending == 3  # nothing has run yet: the caller never waits
    assert await wait_until(lambda: len(env.calls()) == 6, 10)
    for state in states[3:]:  # each once the previous report of its state has run
        env.notifier.instance_changed("VI_1", state, 100, scripts)
    assert await env.notifier.drain(20)
    assert env.notifier.dropped == 0
    expected = []
    for state in states:
        expected += [["log.sh", state[0].lower()], ["log.sh", "n", "INSTANCE", "VI_1", state,
                                                     "100"]]
    assert env.calls() == expected
    await env.close()


@run_async
async def test_a_hung_script_does_not_block_other_instances(tmp_path: Path) -> None:
    env = Env(tmp_path, script_timeout=30.0)
    env.notifier.instance_changed("VI_1", "MASTER", 100,
                                  NotifyScripts(notify_master=f"{env.hang} vi1"))
    env.notifier.instance_changed("VI_2", "MASTER", 100,
                                  NotifyScripts(notify_master=f"{env.log} vi2"))
    assert await wait_until(lambda: env.calls() == [["log.sh", "vi2"]])
    pid = env.hang_pid("vi1")
    assert pid is not None and alive(pid)  # VI_1's script is still hanging
    assert env.fifo_bytes() == b'INSTANCE "VI_1" MASTER 100\nINSTANCE "VI_2" MASTER 100\n'
    await env.close()
    assert not alive(pid)


@run_async
async def test_a_hung_script_is_killed_at_its_timeout_then_its_instance_goes_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    env = Env(tmp_path, script_timeout=0.2)
    scripts = NotifyScripts(notify_master=f"{env.hang} master", notify_backup=f"{env.log} b")
    env.notifier.instance_changed("VI_1", "MASTER", 100, scripts)
    env.notifier.instance_changed("VI_1", "BACKUP", 100, scripts)
    assert await wait_until(lambda: env.calls() == [["log.sh", "b"]])
    pid = env.hang_pid("master")
    assert pid is not None and not alive(pid)  # killed before BACKUP's script started
    assert "timed out after 0.2s" in caplog.text
    await env.close()


@run_async
async def test_stop_runs_at_once_and_hung_stop_scripts_are_killed(tmp_path: Path) -> None:
    env = Env(tmp_path, script_timeout=30.0, stop_timeout=0.3)
    scripts = NotifyScripts(notify_master=f"{env.hang} master", notify_stop=f"{env.hang} stop",
                            notify=f"{env.log} n")
    env.notifier.instance_changed("VI_1", "MASTER", 100, scripts)
    assert await wait_until(lambda: env.hang_pid("master") is not None)
    env.notifier.instance_changed("VI_1", "STOP", 100, scripts)
    # the hung notify_master is ended at once (its generic notify is dropped), then
    # notify_stop runs and is itself cut at stop_timeout
    assert await env.notifier.drain(15)
    stop_pid = env.hang_pid("stop")
    assert stop_pid is not None and not alive(stop_pid)
    assert env.calls() == [["log.sh", "n", "INSTANCE", "VI_1", "STOP", "100"]]
    master_pid = env.hang_pid("master")
    assert master_pid is not None and not alive(master_pid)
    await env.close()


@run_async
async def test_bad_scripts_never_raise(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    env = Env(tmp_path)
    scripts = NotifyScripts(notify_master="/bin/x 'unterminated",
                            notify_backup=str(tmp_path / "absent.sh"),
                            notify=f"{env.log} n")
    env.notifier.instance_changed("VI_1", "MASTER", 100, scripts)
    env.notifier.instance_changed("VI_1", "BACKUP", 100, scripts)
    assert await env.notifier.drain(10)
    assert env.calls() == [["log.sh", "n", "INSTANCE", "VI_1", "MASTER", "100"],
                           ["log.sh", "n", "INSTANCE", "VI_1", "BACKUP", "100"]]
    assert "missing terminating" in caplog.text and "absent.sh" in caplog.text
    assert scripts.problems() == [
        "notify_master: script \"/bin/x 'unterminated\": missing terminating '"]
    await env.close()


@run_async
async def test_unknown_state_is_a_programming_error(tmp_path: Path) -> None:
    env = Env(tmp_path)
    with pytest.raises(ValueError, match="unknown VRRP state"):
        env.notifier.instance_changed("VI_1", "INIT", 100, NotifyScripts())
    with pytest.raises(ValueError, match="unknown VRRP notify event"):
        env.notifier.instance_event("VI_1", "SOMETHING", 100, NotifyScripts())
    await env.close()


@run_async
async def test_events_and_priority_changes(tmp_path: Path) -> None:
    env = Env(tmp_path)
    scripts = NotifyScripts(notify_master_rx_lower_pri=f"{env.log} lower",
                            notify=f"{env.log} n")
    env.notifier.instance_event("VI_1", "MASTER_RX_LOWER_PRI", 120, scripts)
    env.notifier.priority_changed("VI_1", "MASTER", 110)
    env.notifier.priority_changed("VI_1", "BACKUP", 90)
    assert await env.notifier.drain(10)
    assert env.calls() == [["log.sh", "lower"]]  # the generic notify is for states only
    assert env.fifo_bytes() == (b'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 120\n'
                                b'INSTANCE "VI_1" MASTER_PRIORITY 110\n'
                                b'INSTANCE "VI_1" BACKUP_PRIORITY 90\n')
    await env.close()


@run_async
async def test_without_fifo_or_scripts(tmp_path: Path) -> None:
    notifier = Notifier(ScriptRunner())
    notifier.instance_changed("VI_1", "MASTER", 100, NotifyScripts())
    assert notifier.pending == 0
    assert await notifier.drain(1)


@run_async
async def test_script_objects_carry_their_own_user(tmp_path: Path) -> None:
    env = Env(tmp_path)
    scripts = NotifyScripts(notify_master=Script(f"{env.log} m", user="root"),
                            notify=Script(f"{env.log} n", user="no-such-user-pk"))
    env.notifier.instance_changed("VI_1", "MASTER", 100, scripts)
    assert await env.notifier.drain(10)
    assert env.calls() == [["log.sh", "m"]]  # the unknown user's script did not run
    await env.close()


@run_async
async def test_drain_is_bounded(tmp_path: Path) -> None:
    env = Env(tmp_path, script_timeout=30.0)
    scripts = NotifyScripts(notify_master=f"{env.hang} m", notify=f"{env.log} n")
    env.notifier.instance_changed("VI_1", "MASTER", 100, scripts)
    assert not await env.notifier.drain(0.2)
    assert env.notifier.pending >= 1
    await asyncio.sleep(0)
    await env.close()
    assert env.notifier.pending == 0
