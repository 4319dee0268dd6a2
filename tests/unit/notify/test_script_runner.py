"""ScriptRunner: real child processes, process groups, timeouts, errors that never raise."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.notify.script import ScriptRunner

from ._util import alive, is_root, run_async, wait_until, write_script

needs_root = pytest.mark.skipif(not is_root(), reason="needs root")


def _pid_from(path: Path) -> int:
    return int(path.read_text().split()[0])


@run_async
async def test_exit_status_and_ok(tmp_path: Path) -> None:
    runner = ScriptRunner()
    ok = await runner.run(["/bin/true"])
    assert ok.ok and ok.returncode == 0 and ok.error is None and not ok.timed_out
    three = await runner.run([str(write_script(tmp_path / "x.sh", "exit 3"))])
    assert three.returncode == 3 and not three.ok
    killed = await runner.run(["/bin/sh", "-c", "kill -USR1 $$"])
    assert killed.returncode == -10 and not killed.ok
    assert runner.running == 0


@run_async
async def test_argv_reaches_the_script_exactly(tmp_path: Path) -> None:
    out = tmp_path / "argv"
    script = write_script(tmp_path / "log.sh", f"printf '%s\\0' \"$0\" \"$@\" > {out}")
    words = ["a b", "", "it's", 'say "hi"', "new\nline", "ünïcode", "$HOME", "*"]
    result = await ScriptRunner().run([str(script), *words])
    assert result.ok
    assert out.read_bytes().split(b"\0")[:-1] == [os.fsencode(w) for w in [str(script), *words]]


@run_async
async def test_env_adds_to_the_daemon_environment(tmp_path: Path) -> None:
    out = tmp_path / "env"
    script = write_script(tmp_path / "env.sh", f'echo "$VRRP_X:$PATH" > {out}')
    assert (await ScriptRunner().run([str(script)], env={"VRRP_X": "42"})).ok
    assert out.read_text().strip() == f"42:{os.environ['PATH']}"


@run_async
async def test_std_streams_are_dev_null(tmp_path: Path) -> None:
    out = tmp_path / "fds"
    script = write_script(tmp_path / "fds.sh",
                          "fds=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2)\n"
                          f'echo "$fds" > {out}')
    assert (await ScriptRunner().run([str(script)])).ok
    assert out.read_text().split() == ["/dev/null"] * 3


@run_async
async def test_script_runs_in_its_own_process_group(tmp_path: Path) -> None:
    out = tmp_path / "pg"
    script = write_script(tmp_path / "pg.sh", f"ps -o pid=,pgid= -p $$ > {out}")
    result = await ScriptRunner().run([str(script)])
    pid, pgid = map(int, out.read_text().split())
    assert result.pid == pid == pgid
    assert pgid != os.getpgid(0)


@run_async
async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    child = tmp_path / "child.pid"
    script = write_script(tmp_path / "hang.sh", f"sleep 30 & echo $! > {child}; sleep 30")
    runner = ScriptRunner(kill_grace=5.0)
    result = await runner.run([str(script)], timeout=0.3)
    assert result.timed_out and not result.ok
    assert result.returncode == -15  # SIGTERM was enough
    assert result.pid is not None and not alive(result.pid)
    assert await wait_until(lambda: not alive(_pid_from(child)), 5.0)
    assert runner.running == 0


@run_async
async def test_sigterm_ignored_then_sigkill(tmp_path: Path) -> None:
    child = tmp_path / "child.pid"
    script = write_script(tmp_path / "stubborn.sh",
                          f"trap '' TERM\nsleep 30 & echo $! > {child}\nsleep 30")
    result = await ScriptRunner(kill_grace=0.2).run([str(script)], timeout=0.2)
    assert result.timed_out and result.returncode == -9
    assert await wait_until(lambda: not alive(_pid_from(child)), 5.0)


@run_async
async def test_normal_exit_leaves_background_children_alone(tmp_path: Path) -> None:
    child = tmp_path / "child.pid"
    script = write_script(tmp_path / "bg.sh", f"sleep 30 & echo $! > {child}\nexit 0")
    assert (await ScriptRunner().run([str(script)], timeout=5)).ok
    pid = _pid_from(child)
    try:
        assert alive(pid)  # keepalived does not kill the group of a script that exited
    finally:
        os.kill(pid, 9)


@run_async
async def test_missing_script_is_a_clear_error_logged_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "pykeepalived.notify")
    runner = ScriptRunner()
    missing = str(tmp_path / "absent.sh")
    for _ in range(3):
        result = await runner.run([missing, "arg"])
        assert result.returncode is None and not result.ok
        assert result.error == f"script {missing!r} not found"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and missing in errors[0].getMessage()


@run_async
async def test_not_executable_and_not_a_file(tmp_path: Path) -> None:
    runner = ScriptRunner()
    plain = write_script(tmp_path / "plain.sh", "exit 0", mode=0o644)
    result = await runner.run([str(plain)])
    assert result.error is not None and "not executable by" in result.error
    result = await runner.run([str(tmp_path)])
    assert result.error is not None and "not a regular file" in result.error
    result = await runner.run([])
    assert result.error == "empty script command"
    assert runner.check([str(plain)]) == (await runner.run([str(plain)])).error
    assert runner.check(["/bin/true"]) is None


@run_async
async def test_script_without_shebang_runs_through_sh(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "out"
    script = write_script(tmp_path / "noshebang", f"echo \"$1\" > {out}", shebang=False)
    result = await ScriptRunner().run([str(script), "hello"])
    assert result.ok and out.read_text() == "hello\n"
    assert "shebang" in caplog.text


@run_async
async def test_bare_name_is_resolved_in_path(caplog: pytest.LogCaptureFixture) -> None:
    runner = ScriptRunner()
    assert (await runner.run(["true"])).ok
    assert "Please specify full path" in caplog.text
    result = await runner.run(["no-such-command-pykeepalived"])
    assert result.error is not None and "not found in PATH" in result.error


@run_async
async def test_file_test_redirection(tmp_path: Path) -> None:
    """keepalived runs ``</path`` (a shell redirection) to test that a file can be opened."""
    present = tmp_path / "present"
    present.write_text("x")
    runner = ScriptRunner()
    assert (await runner.run([f"<{present}"])).ok
    assert (await runner.run([f"< {present}"])).ok
    assert not (await runner.run([f"<{tmp_path / 'absent'}"])).ok


@run_async
async def test_the_event_loop_runs_while_a_script_runs(tmp_path: Path) -> None:
    """The script only succeeds if the loop creates its go-file while it is running."""
    go = tmp_path / "go"
    script = write_script(tmp_path / "wait.sh", f"""\
for i in $(seq 1000); do [ -e {go} ] && exit 0; sleep 0.01; done
exit 1
""")
    runner = ScriptRunner()
    task = runner.spawn([str(script)], timeout=20)
    await asyncio.sleep(0)
    go.write_text("")
    result = await task
    assert result.ok


@run_async
async def test_cancel_terminates_and_reaps(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    script = write_script(tmp_path / "long.sh", f"echo $$ > {pidfile}; exec sleep 30")
    runner = ScriptRunner()
    task = runner.spawn([str(script)])
    assert await wait_until(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    pid = _pid_from(pidfile)
    task.cancel()
    await asyncio.wait({task}, timeout=10)
    assert task.cancelled()
    assert not alive(pid)
    assert runner.running == 0


@run_async
async def test_spawned_task_survives_without_a_reference(tmp_path: Path) -> None:
    out = tmp_path / "out"
    script = write_script(tmp_path / "slow.sh", f"sleep 0.2; echo done > {out}")
    runner = ScriptRunner()
    runner.spawn([str(script)])
    gc.collect()
    assert await wait_until(out.exists, 10)
    assert await wait_until(lambda: runner.running == 0, 10)


@run_async
async def test_close_terminates_outstanding_scripts(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    script = write_script(tmp_path / "long.sh", f"echo $$ > {pidfile}; exec sleep 30")
    runner = ScriptRunner(kill_grace=0.5)
    task = runner.spawn([str(script)])
    assert await wait_until(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    await runner.close(timeout=0.1)
    assert task.done() and not alive(_pid_from(pidfile))
    assert runner.running == 0


@pytest.mark.parametrize("setpriv", [True, False], ids=["setpriv", "preexec"])
def test_scripts_get_sigterm_when_the_daemon_dies(tmp_path: Path, setpriv: bool) -> None:
    """PR_SET_PDEATHSIG, as keepalived sets it: a daemon that dies takes its scripts along."""
    pidfile = tmp_path / "pid"
    script = write_script(tmp_path / "long.sh", f"echo $$ > {pidfile}.tmp; "
                                                f"mv {pidfile}.tmp {pidfile}; exec sleep 30")
    program = textwrap.dedent(f"""
        import asyncio, os
        from pykeepalived.notify.script import ScriptRunner
        async def main():
            runner = ScriptRunner()
            if not {setpriv!r}:
                runner._setpriv = None
            runner.spawn([{str(script)!r}])
            for _ in range(1000):
                if os.path.exists({str(pidfile)!r}):
                    os._exit(0)  # die without cleaning up
                await asyncio.sleep(0.01)
            os._exit(1)
        asyncio.run(main())
    """)
    src = str(Path(__file__).resolve().parents[3] / "src")
    env = {**os.environ, "PYTHONPATH": src}
    subprocess.run([sys.executable, "-c", program], env=env, check=True, timeout=30)
    pid = _pid_from(pidfile)
    for _ in range(500):
        if not alive(pid):
            break
        asyncio.run(asyncio.sleep(0.01))
    assert not alive(pid)


# ------------------------------------------------------------ users and security
@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A world-traversable directory (tmp_path's parents are 0700): for scripts run as nobody."""
    path = Path(tempfile.mkdtemp(prefix="pk-notify-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@needs_root
@pytest.mark.parametrize("setpriv", [True, False], ids=["setpriv", "popen"])
@run_async
async def test_runs_as_script_user_with_groups_cleared(open_dir: Path, setpriv: bool) -> None:
    out = open_dir / "id"
    out.touch()
    out.chmod(0o666)
    script = write_script(open_dir / "id.sh", f"id -u > {out}; id -g >> {out}; id -G >> {out}")
    runner = ScriptRunner(user="nobody")
    if not setpriv:
        runner._setpriv = None
    result = await runner.run([str(script)])
    assert result.ok, result
    nobody = pwd.getpwnam("nobody")
    assert out.read_text().split() == [str(nobody.pw_uid), str(nobody.pw_gid),
                                       str(nobody.pw_gid)]
    # a per-script user overrides the global one
    result = await runner.run([str(script)], user="root")
    assert result.ok and out.read_text().split()[0] == "0"


@run_async
async def test_unknown_users_are_errors_not_exceptions() -> None:
    runner = ScriptRunner(user="no-such-user-pykeepalived")
    assert runner.error is not None and "does not exist" in runner.error
    result = await runner.run(["/bin/true"])
    assert result.error is not None and "no-such-user-pykeepalived" in result.error
    result = await ScriptRunner().run(["/bin/true"], user="root", group="no-such-group-pk")
    assert result.error is not None and "no-such-group-pk" in result.error


@needs_root
@run_async
async def test_script_security_refuses_unsafe_root_scripts(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    script = write_script(tmp_path / "unsafe.sh", "exit 0", mode=0o777)
    secure = ScriptRunner(user="root", security=True)
    result = await secure.run([str(script)])
    assert result.returncode is None
    assert result.error is not None and "writable by everyone" in result.error
    assert "enable_script_security" in result.error
    # without enable_script_security it runs, with a warning (keepalived does the same)
    relaxed = ScriptRunner(user="root")
    assert (await relaxed.run([str(script)])).ok
    assert "running it anyway" in caplog.text
    script.chmod(0o755)
    assert (await secure.run([str(script)])).ok


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.mark.skipif(_has_user("keepalived_script"), reason="a keepalived_script user exists")
@run_async
async def test_script_security_without_a_script_user() -> None:
    """keepalived 2.2.7: "Unable to set default user keepalived_script for script"."""
    runner = ScriptRunner(security=True)
    assert runner.error is not None and "keepalived_script" in runner.error
    result = await runner.run(["/bin/true"])
    assert result.error == runner.error
    assert (await ScriptRunner().run(["/bin/true"])).ok


@run_async
async def test_a_burst_of_scripts_starts_one_per_loop_turn(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Adverts and timers get the loop between two forks: no two scripts start in the same
    turn of the event loop, however many are asked for at once."""
    turns = 0
    stop = False

    async def count_turns() -> None:
        nonlocal turns
        while not stop:
            turns += 1
            await asyncio.sleep(0)

    started_at: list[int] = []
    real = asyncio.create_subprocess_exec

    async def recording(*args: object, **kwargs: object) -> asyncio.subprocess.Process:
        proc = await real(*args, **kwargs)  # type: ignore[arg-type]
        started_at.append(turns)
        return proc

    monkeypatch.setattr(asyncio, "create_subprocess_exec", recording)
    counter = asyncio.create_task(count_turns())
    await asyncio.sleep(0)
    runner = ScriptRunner()
    results = await asyncio.gather(*(runner.run(["/bin/true"]) for _ in range(20)))
    stop = True
    await counter
    assert all(result.ok for result in results)
    assert len(started_at) == 20 and len(set(started_at)) == 20


@needs_root
@run_async
async def test_script_its_user_cannot_reach(tmp_path: Path) -> None:
    """tmp_path's parents are 0700 root: nobody cannot get to a script there."""
    script = write_script(tmp_path / "x.sh", "exit 0")
    result = await ScriptRunner(user="nobody").run([str(script)])
    assert result.returncode is None
    assert result.error is not None and "is not searchable" in result.error
