"""The systemd unit: what its ExecStart becomes with KEEPALIVED_OPTIONS, that its stop
budget covers the daemon's own, and that ``systemd-analyze verify`` accepts it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pykeepalived.daemon.cli import build_parser
from pykeepalived.daemon.runner import RELEASE_TIMEOUT
from pykeepalived.daemon.watchdog import CHILD_WAIT_TIME
from tests.unit.packaging.unit_file import (
    UNIT,
    directives,
    environment_file,
    expand_command,
    values,
)

TEXT = UNIT.read_text()
BINDIR = "/opt/pykeepalived/bin"


def exec_start(env_text: str = "") -> list[str]:
    (line,) = values(TEXT, "Service", "ExecStart")
    return expand_command(line.replace("@BINDIR@", BINDIR), environment_file(env_text))


def test_both_environment_files_are_optional() -> None:
    assert values(TEXT, "Service", "EnvironmentFile") == [
        "-/etc/default/pykeepalived", "-/etc/sysconfig/pykeepalived"]


def test_exec_start_without_options_runs_in_the_foreground_logging_to_the_journal() -> None:
    argv = exec_start()
    assert argv[0] == f"{BINDIR}/pykeepalived"
    args = build_parser().parse_intermixed_args(argv[1:])
    assert args.dont_fork and args.log_console and args.no_syslog
    assert not args.unexpected and not args.log_detail


def test_keepalived_options_become_flags() -> None:
    env = '# /etc/default/pykeepalived\nKEEPALIVED_OPTIONS="-D -P --vrrp_pid /run/v.pid"\n'
    argv = exec_start(env)
    assert argv[4:] == ["-D", "-P", "--vrrp_pid", "/run/v.pid"]
    args = build_parser().parse_intermixed_args(argv[1:])
    assert args.dont_fork and args.log_detail and args.vrrp and args.vrrp_pid == "/run/v.pid"
    assert not args.unexpected


def test_type_notify_with_the_parent_as_the_only_speaker() -> None:
    service = {k: v for s, k, v in directives(TEXT) if s == "Service"}
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"


def test_stop_leaves_the_parent_time_for_its_own_stop() -> None:
    """KillMode=mixed: TERM to the parent, which needs child_wait_time then the clean-up
    process's bound before it ends; systemd's SIGKILL to everything must come later."""
    service = {k: v for s, k, v in directives(TEXT) if s == "Service"}
    assert service["KillMode"] == "mixed"
    assert service["TimeoutStopSec"].endswith("s")
    assert float(service["TimeoutStopSec"][:-1]) > CHILD_WAIT_TIME + RELEASE_TIMEOUT + 5
    assert service["RestartPreventExitStatus"] == "4"  # a configuration that cannot run


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="needs systemd-analyze (apt-get install systemd)")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    """verify checks every directive and that the commands exist: ExecStart names a stand-in
    executable here (scripts/install names the virtual environment's)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    stub = bindir / "pykeepalived"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    unit = tmp_path / "pykeepalived.service"
    unit.write_text(TEXT.replace("@BINDIR@", str(bindir)))
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                          text=True, timeout=60, check=False,
                          env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice"))
    assert proc.returncode == 0, proc.stderr
    assert "pykeepalived.service" not in proc.stderr, proc.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="needs systemd-analyze (apt-get install systemd)")
def test_systemd_analyze_verify_rejects_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a misspelt directive is reported."""
    unit = tmp_path / "pykeepalived.service"
    unit.write_text(TEXT.replace("@BINDIR@", "/bin").replace("KillMode=", "KilMode="))
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert "KilMode" in proc.stderr
