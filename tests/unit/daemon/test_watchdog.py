"""The parent process over stand-in children: when systemd hears READY=1, RELOADING=1 and
STOPPING=1; child_wait_time; the watchdog never ends while a child of its runs.

The watchdog runs in a process forked by the test (it takes over signals); its children are
small bodies that wait for files the test creates, so each step happens when the test says.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from pykeepalived.daemon.sdnotify import SystemdNotifier
from pykeepalived.daemon.watchdog import RoleBody, Watchdog
from pykeepalived.demo.lab import wait_for
from tests.unit.daemon.systemd_standin import NotifySocket

LIFE = 30.0  # no stand-in child lives longer than this, whatever happens to the test


def _wait_file(path: Path, timeout: float = LIFE) -> bool:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def child(tmp: Path, role: str, *, ignore_term: bool = False,
          exit_code: int | None = None) -> RoleBody:
    """A stand-in child: records its pid, is ready when ``<role>.go`` exists, reports each
    HUP as dealt with when ``<role>.reloaded`` exists, and runs until TERM (or LIFE)."""

    def body(ready: Callable[[], None]) -> int:
        part = tmp / f"{role}.pid.part"  # renamed whole: a reader never sees it half written
        part.write_text(str(os.getpid()))
        part.rename(tmp / f"{role}.pid")
        hups: list[int] = []
        signal.signal(signal.SIGHUP, lambda *_: hups.append(1))
        if ignore_term:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if not _wait_file(tmp / f"{role}.go"):
            return 9
        ready()
        if exit_code is not None:
            return exit_code
        deadline = time.monotonic() + LIFE
        while time.monotonic() < deadline:
            if hups and (tmp / f"{role}.reloaded").exists():
                hups.clear()
                ready()
            time.sleep(0.01)
        return 0

    return body


@contextlib.contextmanager
def watchdog(tmp: Path, bodies: Mapping[str, RoleBody], systemd: NotifySocket,
             **kwargs: object) -> Iterator[int]:
    """Run a Watchdog in a process of its own; yields its pid. Its exit code and what its
    children ended with go to ``tmp/result``."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            dog = Watchdog(bodies, systemd=SystemdNotifier(systemd.env),
                           **kwargs)  # type: ignore[arg-type]
            code = dog.run(sorted(bodies))
            (tmp / "result").write_text(json.dumps({"code": code, "ended": dog.ended}))
        finally:
            os._exit(code)
    try:
        yield pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + LIFE
        with contextlib.suppress(ChildProcessError):  # the test may have reaped it
            while time.monotonic() < deadline and os.waitpid(pid, os.WNOHANG)[0] == 0:
                time.sleep(0.02)
        for role in bodies:  # a child left behind by a failing test
            with contextlib.suppress(OSError, ValueError):
                os.kill(int((tmp / f"{role}.pid").read_text()), signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def child_pid(tmp: Path, role: str) -> int:
    assert wait_for(lambda: (tmp / f"{role}.pid").exists(), 10)
    return int((tmp / f"{role}.pid").read_text())


def result(tmp: Path) -> dict[str, object]:
    assert wait_for(lambda: (tmp / "result").exists(), 15)
    return dict(json.loads((tmp / "result").read_text()))


def test_ready_only_once_every_child_has_reported(tmp_path: Path) -> None:
    with NotifySocket() as systemd, watchdog(
            tmp_path, {"vrrp": child(tmp_path, "vrrp"), "check": child(tmp_path, "check")},
            systemd) as dog:
        child_pid(tmp_path, "vrrp")
        child_pid(tmp_path, "check")
        (tmp_path / "vrrp.go").touch()
        assert systemd.wait_for("READY", timeout=1.0) is None  # the checker has not reported
        (tmp_path / "check.go").touch()
        ready = systemd.wait_for("READY")
        assert ready is not None and ready["STATUS"] == "Running: Healthcheck and VRRP children"
        os.kill(dog, signal.SIGTERM)
        assert systemd.wait_for("STOPPING") is not None
        assert result(tmp_path)["code"] == 0


def test_reload_is_reloading_until_every_child_has_dealt_with_it(tmp_path: Path) -> None:
    with NotifySocket() as systemd, watchdog(
            tmp_path, {"vrrp": child(tmp_path, "vrrp"), "check": child(tmp_path, "check")},
            systemd) as dog:
        (tmp_path / "vrrp.go").touch()
        (tmp_path / "check.go").touch()
        assert systemd.wait_for("READY") is not None
        os.kill(dog, signal.SIGHUP)
        assert systemd.wait_for("RELOADING") is not None
        assert systemd.wait_for("READY", timeout=1.0) is None  # nobody has reloaded yet
        (tmp_path / "vrrp.reloaded").touch()
        (tmp_path / "check.reloaded").touch()
        assert systemd.wait_for("READY") is not None
        os.kill(dog, signal.SIGTERM)
        assert result(tmp_path)["code"] == 0


def test_a_child_that_ignores_term_is_killed_after_child_wait_time(tmp_path: Path) -> None:
    with NotifySocket() as systemd, watchdog(
            tmp_path, {"vrrp": child(tmp_path, "vrrp", ignore_term=True)}, systemd,
            child_wait_time=0.5) as dog:
        (tmp_path / "vrrp.go").touch()
        assert systemd.wait_for("READY") is not None
        stuck = child_pid(tmp_path, "vrrp")
        os.kill(dog, signal.SIGTERM)
        done = result(tmp_path)
        assert done["ended"] == {"vrrp": -signal.SIGKILL}
        assert not alive(stuck)


def test_without_respawn_a_dead_child_stops_the_others(tmp_path: Path) -> None:
    """-R: the daemon ends when a child dies, and takes the other child with it (left
    alone, it would run on with nothing to stop it)."""
    with NotifySocket() as systemd, watchdog(
            tmp_path, {"vrrp": child(tmp_path, "vrrp"),
                       "check": child(tmp_path, "check", exit_code=3)},
            systemd, respawn=False) as dog:
        vrrp = child_pid(tmp_path, "vrrp")
        (tmp_path / "check.go").touch()
        done = result(tmp_path)
        assert done["code"] == 1
        assert done["ended"] == {"check": 3, "vrrp": -signal.SIGTERM}
        assert not alive(vrrp)
        assert wait_for(lambda: os.waitpid(dog, os.WNOHANG)[0] == dog, 5)


def test_a_dead_child_is_respawned_and_the_daemon_stays_ready(tmp_path: Path) -> None:
    with NotifySocket() as systemd, watchdog(
            tmp_path, {"vrrp": child(tmp_path, "vrrp")}, systemd) as dog:
        (tmp_path / "vrrp.go").touch()
        assert systemd.wait_for("READY") is not None
        first = child_pid(tmp_path, "vrrp")
        (tmp_path / "vrrp.pid").unlink()
        os.kill(first, signal.SIGKILL)
        second = child_pid(tmp_path, "vrrp")
        assert second != first and alive(second)
        os.kill(dog, signal.SIGTERM)
        assert result(tmp_path)["ended"] == {"vrrp": -signal.SIGTERM}


def test_a_configuration_that_no_longer_loads_stops_the_daemon(tmp_path: Path) -> None:
    with NotifySocket() as systemd, watchdog(
            tmp_path, {"vrrp": child(tmp_path, "vrrp")}, systemd,
            recheck=lambda: None):
        (tmp_path / "vrrp.go").touch()
        assert systemd.wait_for("READY") is not None
        os.kill(child_pid(tmp_path, "vrrp"), signal.SIGKILL)
        assert result(tmp_path)["code"] == 4
