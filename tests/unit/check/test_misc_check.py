"""MISC_CHECK with real scripts: exit statuses, misc_dynamic weights, and scripts that hang,
ignore SIGTERM or flood their output."""

from __future__ import annotations

import asyncio
import time
from ipaddress import ip_address
from pathlib import Path

import pytest

from pykeepalived.check import CheckContext
from pykeepalived.check.misc_check import check_misc, misc_timeout
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.config.model_lvs import MiscCheck
from pykeepalived.notify.script import ScriptRunner

from ..notify._util import alive, run_async, wait_until, write_script

TARGET = Target(ip_address("192.0.2.10"), None, 5.0)


def exiting(tmp_path: Path, code: int) -> MiscCheck:
    script = write_script(tmp_path / f"exit{code}.sh", f"exit {code}\n")
    return MiscCheck(misc_path=str(script), misc_timeout=5)


@pytest.mark.parametrize(("code", "dynamic", "expected"), [
    (0, False, CheckResult(True, "exited with status 0")),
    (1, False, CheckResult(False, "exited with status 1")),
    (12, False, CheckResult(False, "exited with status 12")),
    (0, True, CheckResult(True, "exited with status 0")),
    (1, True, CheckResult(False, "exited with status 1")),
    (2, True, CheckResult(True, "exited with status 2: weight 0", weight=0)),
    (12, True, CheckResult(True, "exited with status 12: weight 10", weight=10)),
    (255, True, CheckResult(True, "exited with status 255: weight 253", weight=253)),
])
def test_exit_status(tmp_path: Path, code: int, dynamic: bool, expected: CheckResult) -> None:
    spec = exiting(tmp_path, code)
    spec.misc_dynamic = dynamic
    assert asyncio.run(check_misc(spec, TARGET)) == expected


@run_async
async def test_arguments_and_signals(tmp_path: Path) -> None:
    script = write_script(tmp_path / "args.sh", '[ "$1" = "a b" ] && [ "$2" = c ]\n')
    spec = MiscCheck(misc_path=f"{script} 'a b' c", misc_argv=[str(script), "a b", "c"],
                     misc_timeout=5)
    assert (await check_misc(spec, TARGET)).ok
    spec.misc_argv = []  # the path string alone is split keepalived's way
    assert (await check_misc(spec, TARGET)).ok
    killed = write_script(tmp_path / "kill.sh", "kill -KILL $$\n")
    assert await check_misc(MiscCheck(misc_path=str(killed), misc_timeout=5), TARGET) == \
        CheckResult(False, "killed by signal 9")


@run_async
async def test_missing_script_says_why(tmp_path: Path) -> None:
    result = await check_misc(MiscCheck(misc_path=str(tmp_path / "nope"), misc_timeout=5),
                              TARGET)
    assert not result.ok
    assert result.detail.startswith("cannot run the script: ") and "nope" in result.detail


def test_timeout_falls_back_to_delay_loop() -> None:
    assert misc_timeout(MiscCheck(misc_timeout=3)) == 3
    assert misc_timeout(MiscCheck(misc_timeout=0, delay_loop=7)) == 7
    assert misc_timeout(MiscCheck()) == 60


@run_async
async def test_hanging_script_and_its_children_are_killed(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = write_script(tmp_path / "hang.sh",
                          f"sleep 300 & echo $! > {pids}\nwait\n")
    started = time.monotonic()
    result = await check_misc(MiscCheck(misc_path=str(script), misc_timeout=1), TARGET)
    elapsed = time.monotonic() - started
    assert result == CheckResult(False, "timed out after 1 s (process group killed)")
    assert elapsed < 1 + 1.5  # the attempt is bounded by misc_timeout (+ reaping)
    child = int(pids.read_text())
    assert await wait_until(lambda: not alive(child), timeout=5)


@run_async
async def test_script_ignoring_sigterm_does_not_hold_the_attempt(tmp_path: Path) -> None:
    pids = tmp_path / "pid"
    script = write_script(tmp_path / "stubborn.sh",
                          f"trap '' TERM\necho $$ > {pids}\nwhile :; do sleep 0.1; done\n")
    runner = ScriptRunner(kill_grace=3.0)
    started = time.monotonic()
    result = await check_misc(MiscCheck(misc_path=str(script), misc_timeout=1), TARGET,
                              CheckContext(scripts=runner))
    elapsed = time.monotonic() - started
    assert not result.ok and result.detail.startswith("timed out after 1 s")
    assert elapsed < 1 + 1.5  # not timeout + kill_grace
    pid = int(pids.read_text())
    assert alive(pid)  # still being killed in the background...
    assert await wait_until(lambda: not alive(pid), timeout=10)  # ...and then gone
    await runner.close()


@run_async
async def test_flooding_output_neither_blocks_nor_is_kept(tmp_path: Path) -> None:
    flood = write_script(tmp_path / "flood.sh",
                         "head -c 50000000 /dev/zero\nhead -c 50000000 /dev/zero >&2\nexit 0\n")
    assert (await check_misc(MiscCheck(misc_path=str(flood), misc_timeout=20), TARGET)).ok
    endless = write_script(tmp_path / "endless.sh", "exec yes\n")
    result = await check_misc(MiscCheck(misc_path=str(endless), misc_timeout=1), TARGET)
    assert result == CheckResult(False, "timed out after 1 s (process group killed)")


@run_async
async def test_cancelled_attempt_kills_the_script(tmp_path: Path) -> None:
    pids = tmp_path / "pid"
    script = write_script(tmp_path / "slow.sh", f"echo $$ > {pids}\nexec sleep 300\n")
    task = asyncio.ensure_future(check_misc(MiscCheck(misc_path=str(script), misc_timeout=60),
                                            TARGET))
    assert await wait_until(lambda: pids.exists() and pids.read_text().strip() != "",
                            timeout=5)
    pid = int(pids.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_until(lambda: not alive(pid), timeout=5)
