"""TrackedScript: keepalived's rise/fall counter, and real scripts run on an interval."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pykeepalived.notify.script import ScriptRunner
from pykeepalived.track.script import TrackedScript

from ._util import alive, run_async, wait_until, write_script


class StreakModel:
    """The rules as keepalived.conf(5) states them, written independently of the counter:
    KO -> OK after ``rise`` successes in a row, OK -> KO after ``fall`` failures in a row;
    without init_fail the first result decides; with it the script starts KO."""

    def __init__(self, rise: int, fall: int, init_fail: bool) -> None:
        self.rise, self.fall = rise, fall
        self.state: bool | None = False if init_fail else None
        self.streak = 0

    def record(self, success: bool) -> bool | None:
        if self.state is None:
            self.state = success
            self.streak = 0
            return success
        if success == self.state:
            self.streak = 0
            return None
        self.streak += 1
        if self.streak >= (self.rise if success else self.fall):
            self.state = success
            self.streak = 0
            return success
        return None


@given(st.integers(1, 6), st.integers(1, 6), st.booleans(), st.lists(st.booleans(),
                                                                    max_size=60))
def test_counter_matches_the_documented_rules(rise: int, fall: int, init_fail: bool,
                                              results: list[bool]) -> None:
    seen: list[bool] = []
    tracked = TrackedScript("chk", "/bin/true", 1.0, None, rise, fall, init_fail, None,
                            lambda _name, ok: seen.append(ok))
    model = StreakModel(rise, fall, init_fail)
    assert tracked.ok is model.state
    expected = []
    for success in results:
        changed = model.record(success)
        assert tracked.record(success) is changed
        assert tracked.ok is model.state
        assert 0 <= tracked.result <= rise + fall - 1
        if changed is not None:
            expected.append(changed)
    assert seen == expected
    assert all(a != b for a, b in itertools.pairwise(seen))  # only transitions


def test_initial_state_rules() -> None:
    """keepalived's vrrp_init_script: "one success is enough" unless init_fail."""
    plain = TrackedScript("a", "/bin/true", rise=5, fall=5)
    assert plain.ok is None and plain.result == 4
    assert plain.record(True) is True and plain.ok is True
    first_fail = TrackedScript("b", "/bin/true", rise=5, fall=5)
    assert first_fail.record(False) is False and first_fail.ok is False
    assert [first_fail.record(True) for _ in range(5)] == [None, None, None, None, True]
    init_fail = TrackedScript("c", "/bin/true", rise=3, fall=2, init_fail=True)
    assert init_fail.ok is False and init_fail.result == 0
    assert init_fail.record(False) is None  # already KO: not reported
    assert [init_fail.record(True) for _ in range(3)] == [None, None, True]
    assert [init_fail.record(False) for _ in range(2)] == [None, False]


def test_a_broken_streak_starts_again() -> None:
    tracked = TrackedScript("a", "/bin/true", rise=3, fall=3, init_fail=True)
    for success in (True, True, False, True, True):
        assert tracked.record(success) is None
    assert tracked.record(True) is True
    for success in (False, False, True, False, False):
        assert tracked.record(success) is None
    assert tracked.record(False) is False


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="interval"):
        TrackedScript("a", "/bin/true", interval=0)
    with pytest.raises(ValueError, match="rise and fall"):
        TrackedScript("a", "/bin/true", rise=0)
    with pytest.raises(ValueError, match="timeout"):
        TrackedScript("a", "/bin/true", timeout=-1)


def test_callback_errors_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def boom(_name: str, _ok: bool) -> None:
        raise RuntimeError("boom")

    tracked = TrackedScript("a", "/bin/true", on_change=boom)
    assert tracked.record(True) is True
    assert "on_change callback failed" in caplog.text


# ----------------------------------------------------------------- real scripts
def _verdict_script(tmp_path: Path) -> tuple[Path, Path]:
    """A check whose exit status is whatever the file ``verdict`` holds."""
    verdict = tmp_path / "verdict"
    verdict.write_text("0")
    script = write_script(tmp_path / "check.sh", f'exit "$(cat {verdict})"')
    return script, verdict


@run_async
async def test_real_script_transitions(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    script, verdict = _verdict_script(tmp_path)
    changes: list[tuple[str, bool]] = []
    tracked = TrackedScript("chk_x", str(script), 0.02, None, 2, 2, False, ScriptRunner(),
                            lambda name, ok: changes.append((name, ok)))
    tracked.start()
    try:
        assert await wait_until(lambda: changes == [("chk_x", True)])
        verdict.write_text("1")
        assert await wait_until(lambda: changes[-1:] == [("chk_x", False)])
        verdict.write_text("0")
        assert await wait_until(lambda: changes[-1:] == [("chk_x", True)])
    finally:
        await tracked.aclose()
    assert changes == [("chk_x", True), ("chk_x", False), ("chk_x", True)]
    assert "Script `chk_x` now returning 1" in caplog.text
    assert "VRRP_Script(chk_x) failed (exited with status 1)" in caplog.text
    assert "VRRP_Script(chk_x) succeeded" in caplog.text


@run_async
async def test_timeout_is_a_failure_and_kills_the_script(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    pids = tmp_path / "pids"
    script = write_script(tmp_path / "hang.sh", f"echo $$ >> {pids}; exec sleep 30")
    runner = ScriptRunner(kill_grace=0.5)
    changes: list[bool] = []
    tracked = TrackedScript("chk_hang", str(script), 0.05, 0.1, 1, 1, False, runner,
                            lambda _n, ok: changes.append(ok))
    tracked.start()
    try:
        assert await wait_until(lambda: changes == [False])
    finally:
        await tracked.aclose()
    assert "VRRP_Script(chk_hang) timed_out" in caplog.text
    for pid in map(int, pids.read_text().split()):
        assert await wait_until(lambda pid=pid: not alive(pid), 5)
    assert runner.running == 0


@run_async
async def test_a_run_still_going_is_not_doubled(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    overlap = tmp_path / "overlap"
    script = write_script(tmp_path / "slow.sh", f"""\
mkdir {lock} 2>/dev/null || touch {overlap}
sleep 0.15
rmdir {lock}
""")
    tracked = TrackedScript("chk_slow", str(script), 0.02, 5.0, 1, 1, False, ScriptRunner())
    tracked.start()
    try:
        assert await wait_until(lambda: tracked.skipped >= 10 and tracked.ok is True)
    finally:
        await tracked.aclose()
    assert not overlap.exists()
    assert tracked.runs >= 1


@run_async
async def test_missing_script_counts_as_failure(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    changes: list[bool] = []
    tracked = TrackedScript("chk_missing", str(tmp_path / "absent.sh"), 0.02, None, 1, 1,
                            False, ScriptRunner(), lambda _n, ok: changes.append(ok))
    tracked.start()
    try:
        assert await wait_until(lambda: tracked.runs >= 3)
    finally:
        await tracked.aclose()
    assert changes == [False] and tracked.ok is False
    assert "not found" in caplog.text


@run_async
async def test_unsplittable_script_string(caplog: pytest.LogCaptureFixture) -> None:
    changes: list[bool] = []
    tracked = TrackedScript("chk_bad", "/bin/true 'oops", 0.02, None, 1, 1, False,
                            ScriptRunner(), lambda _n, ok: changes.append(ok))
    assert tracked.error is not None and "missing terminating" in tracked.error
    tracked.start()
    try:
        assert await wait_until(lambda: changes == [False])
    finally:
        await tracked.aclose()
    assert "not started" in caplog.text


@run_async
async def test_stop_terminates_the_running_script(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    script = write_script(tmp_path / "long.sh", f"echo $$ > {pidfile}; exec sleep 30")
    runner = ScriptRunner()
    tracked = TrackedScript("chk_long", str(script), 1.0, 30.0, 1, 1, False, runner)
    tracked.start()
    assert await wait_until(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    await tracked.aclose()
    assert not alive(int(pidfile.read_text()))
    assert runner.running == 0 and tracked.runs == 1
