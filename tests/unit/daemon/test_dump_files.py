"""Dump files (USR1/USR2, the checker's USR1) are written whole or not at all.

The disk filling up is injected at the write itself (``os.write`` raising ENOSPC after part
of the file went out); tests/netns/test_resource_faults_dumps.py does it with a real full
tmpfs.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import pytest

from pykeepalived.daemon import dumps

LINES = [f"   line {i} " + "x" * 60 for i in range(200)]  # about 15 KB: several writes


@pytest.fixture(autouse=True)
def _fresh_failures() -> None:
    dumps._failed.clear()


def disk_full_after(monkeypatch: pytest.MonkeyPatch, allowed: int) -> None:
    """``os.write`` takes ``allowed`` bytes in all, then fails as a full disk does."""
    real = os.write
    left = [allowed]

    def write(fd: int, data: bytes | memoryview) -> int:
        if left[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        done = real(fd, bytes(data[:min(len(data), left[0], 4096)]))
        left[0] -= done
        return done

    monkeypatch.setattr(os, "write", write)


def test_a_full_disk_leaves_no_partial_dump_and_is_logged_once_then_recovery(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "keepalived.data"
    assert dumps.write_dump(str(path), ["old dump"])
    caplog.set_level(logging.DEBUG)
    with monkeypatch.context() as patch:
        disk_full_after(patch, 5000)
        assert not dumps.write_dump(str(path), LINES)
        assert not dumps.write_dump(str(path), LINES)
    # neither the old dump (out of date) nor a part of the new one, nor a temporary file
    assert sorted(os.listdir(tmp_path)) == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].getMessage().startswith(f"Cannot write {path}: No space left on device")
    caplog.clear()
    assert dumps.write_dump(str(path), LINES)
    assert path.read_text() == "\n".join(LINES) + "\n"
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == [
        f"Wrote {path} again (the last attempt had failed: No space left on device)"]


def test_a_symlink_at_the_dump_path_is_replaced_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("keep me\n")
    link = tmp_path / "keepalived.stats"
    link.symlink_to(target)
    assert dumps.write_dump(str(link), ["VRRP Instance: VI_1"])
    assert target.read_text() == "keep me\n"
    assert not link.is_symlink() and link.read_text() == "VRRP Instance: VI_1\n"


def test_dumps_go_to_tmpdir_as_keepalived_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", "/var/lib/dumps")
    assert dumps.dump_path(dumps.DATA_NAME) == "/var/lib/dumps/keepalived.data"
    monkeypatch.setenv("TMPDIR", "relative/dir")  # keepalived takes only an absolute one
    assert dumps.dump_path(dumps.STATS_NAME) == "/tmp/keepalived.stats"
    monkeypatch.delenv("TMPDIR")
    assert dumps.dump_path(dumps.CHECK_DATA_NAME) == "/tmp/keepalived_check.data"
