"""Log lines: syslog facility and priority as keepalived's, the role and pid as the tag; console
logging into the journal with a syslog priority, no timestamp, one line per record."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.daemon.logsetup import set_role, setup_logging, syslog_priority

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        set_role("pykeepalived")


def _log_everything(stderr: Path, monkeypatch: pytest.MonkeyPatch, journal: str) -> list[str]:
    with open(stderr, "w+") as out:
        st = os.fstat(out.fileno())
        monkeypatch.setenv("JOURNAL_STREAM",
                           f"{st.st_dev}:{st.st_ino}" if journal == "this" else
                           f"{st.st_dev}:{st.st_ino + 1}")
        monkeypatch.setattr(sys, "stderr", out)
        setup_logging(console=True, detail=True, syslog=False)
        set_role("pykeepalived_vrrp")
        log = logging.getLogger("pykeepalived.vrrp")
        log.info("(VI_1) Entering MASTER STATE")
        log.warning("(VI_1) a warning")
        log.debug("(VI_1) detail")
        try:
            raise ValueError("first\nsecond")
        except ValueError:
            log.exception("(VI_1) failed")
        log.critical("two\nlines")
    return stderr.read_text().splitlines()


def test_journal_lines_carry_the_priority_and_no_timestamp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None) -> None:
    lines = _log_everything(tmp_path / "stderr", monkeypatch, journal="this")
    me = "pykeepalived_vrrp: "  # the journal has the pid of every line
    assert len(lines) == 5, lines
    assert lines[0] == f"<6>{me}(VI_1) Entering MASTER STATE"
    assert lines[1] == f"<4>{me}(VI_1) a warning"
    assert lines[2] == f"<7>{me}(VI_1) detail"
    # the traceback stays in its record's one line, at its priority
    assert lines[3].startswith(f"<3>{me}(VI_1) failed\\nTraceback (most recent call last):")
    assert lines[3].endswith("ValueError: first\\nsecond")
    assert lines[4] == f"<2>{me}two\\nlines"


def test_a_stderr_that_is_not_the_journal_keeps_the_timestamp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None) -> None:
    """$JOURNAL_STREAM inherited, but stderr was redirected since: not the journal."""
    lines = _log_everything(tmp_path / "stderr", monkeypatch, journal="other")
    stamp = r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d\.\d{3} "
    assert re.fullmatch(stamp + r"pykeepalived_vrrp\[\d+\]: \(VI_1\) Entering MASTER STATE",
                        lines[0]), lines
    assert not any(line.startswith("<") for line in lines)


def test_levels_map_to_syslog_severities() -> None:
    assert [syslog_priority(level) for level in (50, 45, 40, 30, 25, 20, 10, 5)] == \
        [2, 3, 3, 4, 6, 6, 7, 7]


def test_the_daemon_writes_journal_lines_when_started_by_systemd(tmp_path: Path) -> None:
    """The whole path: a daemon whose stderr is the stream $JOURNAL_STREAM names."""
    stderr = tmp_path / "stderr"
    with open(stderr, "wb") as out:
        st = os.fstat(out.fileno())
        env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}",
                   PYTHONPATH=str(ROOT / "src"))
        proc = subprocess.run([sys.executable, "-m", "pykeepalived", "-n", "-l", "-G",
                               "-f", str(tmp_path / "missing.conf")],
                              stderr=out, env=env, timeout=60, check=False)
    assert proc.returncode == 4
    lines = stderr.read_text().splitlines()
    # the parent's lines name no process: the journal shows the unit's name and the pid
    assert re.fullmatch(r"<3>Configuration file '.*missing\.conf' is not a regular file",
                        lines[0]), lines


@pytest.mark.parametrize(("facility", "code"), [(None, 3), ("local2", 18), ("user", 1)])
def test_syslog_line(tmp_path: Path, restore_logging: None, facility: str | None,
                     code: int) -> None:
    path = str(tmp_path / "log")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        server.settimeout(5)
        setup_logging(console=False, detail=False, facility=facility, syslog_path=path)
        set_role("pykeepalived_vrrp")
        logging.getLogger("pykeepalived.vrrp").warning("(VI_1) Entering MASTER STATE")
        line = server.recv(4096)
    pri = code * 8 + 4  # facility, warning (RFC 5424 6.2.1)
    assert line == (f"<{pri}>pykeepalived_vrrp[{os.getpid()}]: "
                    "(VI_1) Entering MASTER STATE\x00").encode()


def test_no_syslog_socket_no_handler(tmp_path: Path, restore_logging: None) -> None:
    setup_logging(console=False, detail=False, syslog_path=str(tmp_path / "absent"))
    assert logging.getLogger().handlers == []
