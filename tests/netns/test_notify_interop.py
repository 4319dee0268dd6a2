"""Notify scripts and notify_fifo side by side with Debian's keepalived 2.2.7.

keepalived runs in a namespace with notify scripts that log their argv and a notify_fifo; it
goes BACKUP -> MASTER, FAULT (port cut), BACKUP -> MASTER (port mended) and STOP (SIGTERM).
The FIFO lines it wrote are then fed, in order, to our Notifier with the same script strings;
the FIFO bytes must be identical and the script calls the same (as a multiset: keepalived
starts them without waiting, so their order is not defined).

Findings recorded here (keepalived 2.2.7 as packaged by Debian):

- per-state scripts get their own words only; ``notify`` gets INSTANCE|GROUP, name, state and
  priority appended (0 for a group); script strings are split twice (config line, then the
  string), so ``"x 'a b' \\"c d\\"e x\\\\ty"`` gives ``x``, ``a b``, ``c de``, ``x<TAB>y``;
- FIFO lines are ``INSTANCE "VI_1" MASTER 100`` / ``GROUP "G1" MASTER 0``, newline-ended;
- with no reader the lines wait in the pipe (keepalived opens it read-write) and a reader that
  comes later gets them all, STOP lines included;
- keepalived starts a change's scripts back to back without waiting, so their output
  interleaves; pykeepalived runs one instance's scripts in order (see notify/notifier.py);
- with only the global ``notify_fifo`` keepalived 2.2.7 leaves the FIFO behind at exit (it
  only closes ``vrrp_notify_fifo`` then); pykeepalived removes a FIFO it created.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab, wait_for
from pykeepalived.notify.fifo import NotifyFifo
from pykeepalived.notify.notifier import Notifier, NotifyScripts
from pykeepalived.notify.script import ScriptRunner
from pykeepalived.notify.split import split_script
from tests.unit.notify._util import argv_logger, read_argv_log

pytestmark = [pytest.mark.netns, pytest.mark.interop]

VIP1, VIP2 = "192.0.2.100", "192.0.2.101"
LOG = "@LOG@"
# The notify lines exactly as an operator writes them in keepalived.conf.
VI_1 = {
    "notify_master": f'notify_master "{LOG} master \'a b\' \\"c d\\"e x\\\\ty"',
    "notify_backup": f"notify_backup {LOG}",
    "notify_fault": f'notify_fault "{LOG} fault"',
    "notify_stop": f'notify_stop "{LOG} stop"',
    "notify": f'notify "{LOG} generic"',
}
VI_2 = {
    "notify": f'notify "{LOG} generic2 with\\\\ space"',
    "notify_master": f"notify_master {LOG}",
}
G1 = {
    "notify": f'notify "{LOG} ggeneric"',
    "notify_master": f'notify_master "{LOG} gmaster"',
    "notify_stop": f'notify_stop "{LOG} gstop"',
}


def _conf(log: str, fifo: Path) -> str:
    def lines(spec: dict[str, str]) -> str:
        return "\n".join("  " + line.replace(LOG, log) for line in spec.values())

    return f"""
global_defs {{
  router_id r1
  script_user root
  enable_script_security
  notify_fifo {fifo}
}}
vrrp_sync_group G1 {{
  group {{
    VI_1
  }}
{lines(G1)}
}}
vrrp_instance VI_1 {{
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {{
    {VIP1}/24
  }}
{lines(VI_1)}
}}
vrrp_instance VI_2 {{
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority 90
  advert_int 1
  virtual_ipaddress {{
    {VIP2}/24
  }}
{lines(VI_2)}
}}
"""


def _scripts(spec: dict[str, str], log: str) -> NotifyScripts:
    """What the configuration layer hands over: the value of each notify line (first split)."""
    return NotifyScripts(**{key: split_script(line.replace(LOG, log))[1]
                            for key, line in spec.items()})


class FifoReader:
    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.data = b""

    def poll(self) -> bytes:
        for _ in range(100):
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.data += chunk
        return self.data

    def has(self, line: bytes) -> bool:
        return line in self.poll()

    def close(self) -> None:
        os.close(self.fd)


def _normalise(calls: list[list[str]]) -> list[list[str]]:
    return sorted([os.path.basename(call[0]), *call[1:]] for call in calls)


async def _replay(lines: list[str], log: str, fifo_path: Path) -> bytes:
    """Feed keepalived's FIFO lines to our Notifier; return what our FIFO got."""
    runner = ScriptRunner(user="root", security=True)
    fifo = NotifyFifo(str(fifo_path), None, runner)
    notifier = Notifier(runner, fifo)
    scripts = {"VI_1": _scripts(VI_1, log), "VI_2": _scripts(VI_2, log), "G1": _scripts(G1, log)}
    for line in lines:
        match = re.fullmatch(r'(INSTANCE|GROUP) "([^"]*)" (\w+) (\d+)', line)
        assert match, line
        kind, name, state, priority = match.groups()
        if kind == "INSTANCE":
            notifier.instance_changed(name, state, int(priority), scripts[name])
        else:
            notifier.group_changed(name, state, scripts[name])
        # keepalived's changes came seconds apart: each one's scripts have run by the next
        # (fed all at once, superseded states would be dropped; see test_notify_bounds.py)
        assert await notifier.drain(30)
    assert notifier.dropped == 0
    reader = os.open(fifo_path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        data = os.read(reader, 65536)
    finally:
        os.close(reader)
    await fifo.aclose()
    await runner.close()
    assert not fifo_path.exists()  # we remove the FIFO we created
    return data


def test_notify_argv_and_fifo_match_keepalived(lab: Lab, tmp_path: Path) -> None:
    ka_dir, py_dir = tmp_path / "ka", tmp_path / "py"
    ka_dir.mkdir()
    py_dir.mkdir()
    ka_log = str(argv_logger(ka_dir / "log.sh", ka_dir / "calls"))
    py_log = str(argv_logger(py_dir / "log.sh", py_dir / "calls"))
    fifo_path = ka_dir / "notify.fifo"
    conf = ka_dir / "keepalived.conf"
    conf.write_text(_conf(ka_log, fifo_path))
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    out = open(ka_dir / "keepalived.out", "wb")  # noqa: SIM115 - closed in finally
    proc = r1.popen("keepalived", "-n", "-l", "-D", "-f", str(conf),
                    "-p", str(ka_dir / "ka.pid"), "-r", str(ka_dir / "vrrp.pid"),
                    "-c", str(ka_dir / "chk.pid"), stdout=out, stderr=subprocess.STDOUT)
    reader: FifoReader | None = None
    try:
        assert wait_for(fifo_path.exists, 15), (ka_dir / "keepalived.out").read_text()
        assert wait_for(lambda: r1.has_address(VIP1) and r1.has_address(VIP2), 20)
        # the reader only comes now: the lines so far waited in the pipe
        reader = FifoReader(fifo_path)
        fifo = reader

        def seen(line: bytes, times: int = 1) -> bool:
            return fifo.poll().count(line) >= times

        assert wait_for(lambda: seen(b'INSTANCE "VI_2" MASTER 90\n'), 10)
        r1.cut()
        assert wait_for(lambda: seen(b'INSTANCE "VI_2" FAULT 90\n'), 10)
        r1.mend()
        assert wait_for(lambda: seen(b'INSTANCE "VI_1" MASTER 100\n', 2)
                        and seen(b'INSTANCE "VI_2" MASTER 90\n', 2), 20)
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        ka_fifo = reader.poll()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        out.close()
        if reader is not None:
            reader.close()
    lines = ka_fifo.decode().splitlines()
    assert lines[-3:] == ['INSTANCE "VI_1" STOP 100', 'INSTANCE "VI_2" STOP 90',
                          'GROUP "G1" STOP 0']
    assert 'GROUP "G1" FAULT 0' in lines
    assert fifo_path.exists()  # keepalived 2.2.7 leaves its global notify_fifo behind

    # every call keepalived made: one per configured script of each reported state
    expected_count = 0
    for line in lines:
        _kind, name, state, _ = line.split()
        spec = {"VI_1": VI_1, "VI_2": VI_2, "G1": G1}[name.strip('"')]
        expected_count += ("notify" in spec) + (f"notify_{state.lower()}" in spec)
    ka_calls_dir = ka_dir / "calls"
    assert wait_for(lambda: len(read_argv_log(ka_calls_dir)) >= expected_count, 10)
    time.sleep(0.2)
    ka_calls = _normalise(read_argv_log(ka_calls_dir))
    assert len(ka_calls) == expected_count
    assert ["log.sh", "master", "a b", "c de", "x\ty"] in ka_calls
    assert ["log.sh", "generic2", "with space", "INSTANCE", "VI_2", "MASTER", "90"] in ka_calls
    assert ["log.sh", "ggeneric", "GROUP", "G1", "STOP", "0"] in ka_calls
    assert ["log.sh", "gmaster"] in ka_calls and ["log.sh"] in ka_calls

    # pykeepalived, fed the same sequence of states
    os.unlink(fifo_path)
    py_fifo = asyncio.run(asyncio.wait_for(_replay(lines, py_log, py_dir / "notify.fifo"), 60))
    assert py_fifo == ka_fifo
    assert _normalise(read_argv_log(py_dir / "calls")) == ka_calls
