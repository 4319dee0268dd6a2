"""NotifyFifo: keepalived's line format, a FIFO that never blocks the daemon, its reader script."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from pathlib import Path

import pytest

from pykeepalived.notify.fifo import NotifyFifo, lvs_rs_line, lvs_vs_line, vrrp_line
from pykeepalived.notify.script import ScriptRunner

from ._util import alive, is_fifo, run_async, wait_until, write_script


def _read_all(fd: int) -> bytes:
    chunks = []
    for _ in range(1000):
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_line_formats_are_keepalived_s() -> None:
    assert vrrp_line("INSTANCE", "VI_1", "MASTER", 100) == 'INSTANCE "VI_1" MASTER 100\n'
    assert vrrp_line("GROUP", "VG_1", "BACKUP", 0) == 'GROUP "VG_1" BACKUP 0\n'
    assert lvs_vs_line("[192.0.2.15]:tcp:80", True) == "VS [192.0.2.15]:tcp:80 UP\n"
    assert (lvs_rs_line("[198.51.100.4]:tcp:80", "[192.0.2.15]:tcp:80", False)
            == "RS [198.51.100.4]:tcp:80 [192.0.2.15]:tcp:80 DOWN\n")


def test_creates_the_fifo_and_removes_it_at_close(tmp_path: Path) -> None:
    path = tmp_path / "notify.fifo"
    fifo = NotifyFifo(str(path))
    assert fifo.open() and fifo.is_open
    assert is_fifo(path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644 & ~umask
    fifo.close()
    assert not path.exists() and not fifo.is_open


def test_an_existing_fifo_is_used_and_left_in_place(tmp_path: Path) -> None:
    path = tmp_path / "notify.fifo"
    os.mkfifo(path, 0o600)
    fifo = NotifyFifo(str(path))
    assert fifo.open()
    fifo.close()
    assert is_fifo(path)


def test_a_path_that_is_not_a_fifo_is_refused(tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "regular"
    path.write_text("keep me\n")
    fifo = NotifyFifo(str(path))
    assert not fifo.open()
    assert fifo.error is not None and "not a FIFO" in fifo.error
    assert not fifo.write('INSTANCE "VI_1" MASTER 100')
    assert path.read_text() == "keep me\n"
    assert "not a FIFO" in caplog.text
    fifo.close()
    assert path.exists()


def test_a_missing_directory_is_an_error_not_an_exception(tmp_path: Path) -> None:
    fifo = NotifyFifo(str(tmp_path / "no" / "such" / "fifo"))
    assert not fifo.open()
    assert fifo.error is not None and "Unable to create" in fifo.error
    assert not fifo.write("x")
    fifo.close()


def test_lines_are_byte_exact_and_in_order(tmp_path: Path) -> None:
    path = tmp_path / "f"
    fifo = NotifyFifo(str(path))
    assert fifo.write_vrrp("INSTANCE", "VI_1", "BACKUP", 100)  # the first write opens it
    assert fifo.write(vrrp_line("GROUP", "VG 1", "MASTER", 0))
    assert fifo.write('INSTANCE "VI_2" FAULT 254')  # newline added
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        assert _read_all(reader) == (b'INSTANCE "VI_1" BACKUP 100\n'
                                     b'GROUP "VG 1" MASTER 0\n'
                                     b'INSTANCE "VI_2" FAULT 254\n')
        assert fifo.write_vrrp("INSTANCE", "VI_1", "STOP", 100)
        assert _read_all(reader) == b'INSTANCE "VI_1" STOP 100\n'
    finally:
        os.close(reader)
        fifo.close()
    assert fifo.written == 4 and fifo.dropped == 0


def test_no_reader_never_blocks_and_drops_with_one_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """keepalived opens its FIFO read-write, so lines wait in the pipe for a reader; when the
    pipe is full the newest line waits in the backlog, replacing the one before it (here
    with a rate-limited warning), never blocking."""
    path = tmp_path / "f"
    fifo = NotifyFifo(str(path))
    line = 'INSTANCE "VI_1" MASTER 100\n'
    results = [fifo.write(line) for _ in range(10000)]  # ~270 KB: more than any pipe holds
    assert all(results)
    assert fifo.backlog == 1
    assert fifo.dropped > 0 and fifo.written + fifo.dropped + fifo.backlog == 10000
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "dropped" in warnings[0].getMessage()
    # a reader that comes late gets the buffered lines, whole and in order; without an event
    # loop the waiting line follows at the next write
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        data = _read_all(reader)
        assert fifo.write('INSTANCE "VI_1" BACKUP 100')
        data += _read_all(reader)
    finally:
        os.close(reader)
        fifo.close()
    assert data == line.encode() * (fifo.written - 1) + b'INSTANCE "VI_1" BACKUP 100\n'
    assert fifo.written + fifo.dropped == 10001


@run_async
async def test_notify_fifo_script_reads_the_fifo(tmp_path: Path) -> None:
    path = tmp_path / "f"
    out = tmp_path / "out"
    args = tmp_path / "args"
    reader = write_script(tmp_path / "reader.sh", f"""\
printf '%s\\0' "$@" > {args}
echo $$ > {tmp_path / 'pid'}
exec cat "$3" > {out}
""")
    runner = ScriptRunner()
    fifo = NotifyFifo(str(path), f"{reader} --x 'a b'", runner)
    assert fifo.open()
    fifo.write_vrrp("INSTANCE", "VI_1", "MASTER", 100)
    fifo.write_vrrp("GROUP", "G", "MASTER", 0)
    expected = b'INSTANCE "VI_1" MASTER 100\nGROUP "G" MASTER 0\n'
    assert await wait_until(lambda: out.exists() and out.read_bytes() == expected)
    # the FIFO's name comes last, after the script's own words
    assert args.read_bytes().split(b"\0")[:-1] == [b"--x", b"a b", os.fsencode(path)]
    pid = int((tmp_path / "pid").read_text())
    await fifo.aclose()
    assert not alive(pid) and runner.running == 0
    assert not path.exists()


@run_async
async def test_reader_script_that_exits_is_logged(tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    reader = write_script(tmp_path / "reader.sh", "exit 4")
    runner = ScriptRunner()
    fifo = NotifyFifo(str(tmp_path / "f"), str(reader), runner)
    assert fifo.open()
    assert await wait_until(lambda: "terminated" in caplog.text)
    assert "status 4" in caplog.text
    assert fifo.write("still works")  # the daemon keeps writing; the pipe buffers
    await fifo.aclose()


@run_async
async def test_bad_reader_script_string(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fifo = NotifyFifo(str(tmp_path / "f"), "/bin/cat 'unterminated", ScriptRunner())
    assert fifo.open()
    assert "missing terminating" in caplog.text
    assert fifo.write("line")
    await fifo.aclose()


def test_a_fifo_the_reader_replaced_gets_the_latest_line_of_each_subject(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """keepalived's sample reader removes the FIFO it made when it exits and the next one
    makes a new one: the lines must go to the FIFO a reader can open, starting with the
    state of everything now (keepalived would go on writing into the old pipe)."""
    path = tmp_path / "f"
    fifo = NotifyFifo(str(path))
    for state in ("BACKUP", "MASTER"):
        assert fifo.write_vrrp("INSTANCE", "VI_1", state, 100)
    assert fifo.write_vrrp("INSTANCE", "VI_2", "FAULT", 100)
    os.unlink(path)  # the reader goes, taking its FIFO with it
    assert fifo.write_vrrp("INSTANCE", "VI_2", "BACKUP", 100)  # waits: no FIFO at the path
    assert fifo.write_vrrp("INSTANCE", "VI_2", "MASTER", 100)
    os.mkfifo(path)  # the next reader's FIFO
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        assert fifo.write_vrrp("INSTANCE", "VI_3", "BACKUP", 50)
        assert _read_all(reader) == (b'INSTANCE "VI_1" MASTER 100\n'
                                     b'INSTANCE "VI_2" MASTER 100\n'
                                     b'INSTANCE "VI_3" BACKUP 50\n')
        assert fifo.write_vrrp("INSTANCE", "VI_1", "FAULT", 100)
        assert _read_all(reader) == b'INSTANCE "VI_1" FAULT 100\n'
    finally:
        os.close(reader)
        fifo.close()
    assert path.exists() and is_fifo(path)  # the reader's FIFO is not ours to remove
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"notify fifo {path} was removed: lines wait until a FIFO is there again",
        f"notify fifo {path}: 1 line(s) dropped: the FIFO was removed; superseded by a newer "
        "line (1 in all)",  # VI_2 BACKUP, replaced by MASTER while it waited
        f"notify fifo {path} was replaced by a new FIFO: writing to that one, starting with "
        "the latest line of each of 3 instance(s) and server(s)"]


@run_async
async def test_a_replaced_fifo_is_found_without_a_new_line(tmp_path: Path) -> None:
    """A reader that made a new FIFO gets the state of everything within a second or so,
    even if no instance changes meanwhile."""
    path = tmp_path / "f"
    fifo = NotifyFifo(str(path))
    assert fifo.open()
    assert fifo.write_vrrp("INSTANCE", "VI_1", "MASTER", 100)
    os.unlink(path)
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    data = b""
    try:
        for _ in range(50):  # 5 s at most; the path is looked at every second
            await asyncio.sleep(0.1)
            data += _read_all(reader)
            if data:
                break
    finally:
        os.close(reader)
        fifo.close()
    assert data == b'INSTANCE "VI_1" MASTER 100\n'
