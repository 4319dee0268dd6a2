"""Bounds of the notifications: a flapping instance with a hung script, a FIFO nobody reads.

Whatever the rate of state changes, an instance has at most one notify script process at a
time, a hung one is killed (with its children) at its timeout, the notifications waiting are
bounded and a newer state supersedes an older one, the final state is always notified (by
script and FIFO), and what was dropped is counted and logged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tracemalloc
from pathlib import Path

import pytest

from pykeepalived.notify.fifo import NotifyFifo, vrrp_line
from pykeepalived.notify.notifier import Notifier, NotifyScripts
from pykeepalived.notify.script import ScriptRunner

from ._util import alive, run_async, wait_until, write_script

FLAPS = 10_000
STATES = ("MASTER", "BACKUP")


def tagged_processes(tag: str) -> list[int]:
    """Live processes whose environment carries ``PK_NOTIFY_TAG=<tag>`` (the script and
    everything it started)."""
    needle = f"PK_NOTIFY_TAG={tag}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:
            continue
        if needle in environ.split(b"\0") and alive(int(entry)):
            found.append(int(entry))
    return found


def is_subsequence(part: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(any(item == other for other in rest) for item in part)


def read_fifo(fd: int) -> bytes:
    chunks = []
    for _ in range(10_000):
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


@run_async
async def test_flapping_instance_with_a_script_that_never_exits(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """10,000 MASTER/BACKUP changes, then FAULT; the notify script records its state and
    sleeps forever (in a child, so the whole process group must be killed)."""
    caplog.set_level(logging.WARNING)
    tag = f"{os.getpid()}-{tmp_path.name}"
    record = tmp_path / "notified"
    hang = write_script(tmp_path / "hang.sh", f"""\
export PK_NOTIFY_TAG={tag}
echo "$3" >> {record}
sleep 1000 &
wait
""")
    runner = ScriptRunner(kill_grace=0.2)
    fifo = NotifyFifo(str(tmp_path / "fifo"), None, runner)  # nobody reads it yet
    notifier = Notifier(runner, fifo, script_timeout=0.3)
    scripts = NotifyScripts(notify=str(hang))
    sequence = [STATES[i % 2] for i in range(FLAPS)] + ["FAULT"]
    most_processes = 0
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i, state in enumerate(sequence):
            notifier.instance_changed("VI_1", state, 100, scripts)
            if i % 100 == 0:  # the loop turns meanwhile, as in the daemon
                await asyncio.sleep(0.001)
                most_processes = max(most_processes, len(tagged_processes(tag)))
                assert notifier.pending <= 4  # one running, at most one waiting per state
                assert fifo.backlog <= 1
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 256 * 1024, f"{grown} bytes kept for {FLAPS} state changes"

    def final_notified() -> bool:
        lines = record.read_text().split() if record.exists() else []
        return bool(lines) and lines[-1] == "FAULT"

    # the running script times out (0.3 s), then at most one waiting per state: ~2 s
    for _ in range(20):
        await asyncio.sleep(0.1)
        most_processes = max(most_processes, len(tagged_processes(tag)))
    assert await wait_until(final_notified, 20), record.read_text()
    most_processes = max(most_processes, len(tagged_processes(tag)))
    assert most_processes <= 2, most_processes  # the script and its sleep: one instance's
    notified = record.read_text().split()
    assert is_subsequence(notified, sequence), notified
    assert notifier.dropped == len(sequence) - len(notified) - notifier.pending
    assert notifier.dropped > 9_000
    drops = [r.getMessage() for r in caplog.records if "notification(s) dropped" in
             r.getMessage()]
    assert drops and len(drops) <= 3, drops  # counted and rate-limited
    assert "(VI_1)" in drops[0]
    assert any("timed out" in r.getMessage() for r in caplog.records)

    # the FIFO never blocked and kept no more than one line; the reader ends on FAULT
    reader = os.open(fifo.path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        data = read_fifo(reader)
        assert await wait_until(lambda: fifo.backlog == 0, 5)
        data += read_fifo(reader)
    finally:
        os.close(reader)
    lines = data.decode().splitlines()
    assert lines[-1] == 'INSTANCE "VI_1" FAULT 100'
    assert is_subsequence([line.split()[2] for line in lines], sequence)
    assert fifo.dropped == len(sequence) - len(lines)
    assert any("notify fifo" in r.getMessage() and "dropped" in r.getMessage()
               for r in caplog.records)

    await notifier.drain(5)
    await fifo.aclose()
    await runner.close(1)
    assert await wait_until(lambda: not tagged_processes(tag), 5)


@run_async
async def test_a_newer_state_supersedes_the_waiting_one(tmp_path: Path) -> None:
    record = tmp_path / "notified"
    script = write_script(tmp_path / "n.sh", f'echo "$3" >> {record}')
    runner = ScriptRunner()
    notifier = Notifier(runner)
    scripts = NotifyScripts(notify=str(script))
    for state in ("BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER"):  # one turn of the loop
        notifier.instance_changed("VI_1", state, 100, scripts)
    assert notifier.pending == 3
    assert await notifier.drain(10)
    assert record.read_text().split() == ["FAULT", "BACKUP", "MASTER"]
    assert notifier.dropped == 2
    await runner.close()


@run_async
async def test_stop_ends_the_running_script_before_the_stop_scripts_start(
        tmp_path: Path) -> None:
    """The generic ``notify`` hangs on MASTER: at STOP it is terminated (and reaped) before
    the STOP call of the same script starts; what waited behind it is dropped."""
    checks = tmp_path / "checks"
    script = write_script(tmp_path / "n.sh", f"""\
if [ "$3" = STOP ]; then
    master=$(cat {tmp_path}/MASTER.pid)
    if kill -0 "$master" 2>/dev/null; then echo alive >> {checks}; else echo gone >> {checks}; fi
    exit 0
fi
echo $$ > {tmp_path}/$3.pid
exec sleep 1000
""")
    runner = ScriptRunner(kill_grace=0.5)
    notifier = Notifier(runner, script_timeout=30.0, stop_timeout=2.0)
    scripts = NotifyScripts(notify=str(script))
    notifier.instance_changed("VI_1", "MASTER", 100, scripts)
    assert await wait_until(lambda: (tmp_path / "MASTER.pid").exists())
    notifier.instance_changed("VI_1", "BACKUP", 100, scripts)  # waits behind MASTER
    notifier.instance_changed("VI_1", "STOP", 100, scripts)
    assert await notifier.drain(5)
    assert checks.read_text().split() == ["gone"]
    assert not (tmp_path / "BACKUP.pid").exists()
    assert notifier.dropped == 1
    assert not alive(int((tmp_path / "MASTER.pid").read_text()))
    await runner.close()


@run_async
async def test_a_fifo_nobody_reads_keeps_the_latest_line_of_each_instance(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The pipe fills up; then only the newest line of each subject waits, and a reader that
    comes late gets the final states, in order, after what the pipe held."""
    fifo = NotifyFifo(str(tmp_path / "f"), max_backlog=8)
    assert fifo.open()
    final = {}
    for i in range(FLAPS):
        for name in ("VI_1", "VI_2"):
            state = STATES[(i + (name == "VI_2")) % 2]
            assert fifo.write(vrrp_line("INSTANCE", name, state, i % 250 + 1))
            final[name] = vrrp_line("INSTANCE", name, state, i % 250 + 1)
        fifo.write(vrrp_line("INSTANCE", "VI_1", "MASTER_PRIORITY", 99))
    assert fifo.backlog == 3  # VI_1, VI_2 and VI_1's priority line
    assert fifo.dropped > 0
    assert sum("line(s) dropped" in r.getMessage() for r in caplog.records) == 1
    reader = os.open(fifo.path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        data = read_fifo(reader)
        assert await wait_until(lambda: fifo.backlog == 0, 5)  # the loop saw room
        data += read_fifo(reader)
    finally:
        os.close(reader)
        fifo.close()
    lines = data.decode().splitlines(keepends=True)
    assert lines[-3:] == [final["VI_1"], final["VI_2"],
                          vrrp_line("INSTANCE", "VI_1", "MASTER_PRIORITY", 99)]
    assert fifo.written == len(lines)
    assert fifo.written + fifo.dropped == 3 * FLAPS


def test_the_backlog_is_bounded_by_subjects(tmp_path: Path) -> None:
    fifo = NotifyFifo(str(tmp_path / "f"), max_backlog=4)
    line = vrrp_line("INSTANCE", "VI_1", "MASTER", 100)
    while fifo.backlog == 0:  # fill the pipe (bounded: a pipe holds at most 1 MiB)
        assert fifo.write(line)
        assert fifo.written < 100_000
    for n in range(100):
        fifo.write(vrrp_line("INSTANCE", f"VI_{n}", "BACKUP", 100))
    assert fifo.backlog == 4
    fifo.close()
    assert fifo.backlog == 0
