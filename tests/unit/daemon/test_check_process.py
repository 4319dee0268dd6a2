"""The checker process over fake checks and a fake backend: checks run side by side, the
table follows the health, the FIFO gets keepalived's LVS lines, stop removes the table."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pykeepalived.check.result import CheckResult, Target
from pykeepalived.daemon.check_main import CheckerProcess
from pykeepalived.lb.model import Service
from tests.unit.config.helpers import load
from tests.unit.notify._util import run_async, wait_until


class FakeBackend:
    name = "fake"

    def __init__(self) -> None:
        self.tables: list[list[Service]] = []
        self.cleared = False

    def apply(self, services: Sequence[Service]) -> None:
        self.tables.append(list(services))

    def clear(self) -> None:
        self.cleared = True

    def read(self) -> list[Service]:
        return self.tables[-1] if self.tables else []

    def pool(self) -> list[tuple[str, int]]:
        return [(str(d.address), d.weight) for s in self.read() for d in s.destinations]


def config(tmp: Path, fifo: Path | None = None) -> Any:
    text = (f"global_defs {{\n lvs_notify_fifo {fifo}\n}}\n" if fifo else "") + """
virtual_server 203.0.113.10 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.51.100.1 80 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 198.51.100.2 80 {
        TCP_CHECK {
            connect_timeout 30
            retry 0
        }
    }
}
"""
    result = load(tmp, text)
    assert not result.errors, [str(d) for d in result.errors]
    return result.config


@run_async
async def test_a_silent_server_holds_up_nothing_and_the_table_follows(tmp_path: Path) -> None:
    down = {"198.51.100.1": False}
    calls: list[tuple[str, float]] = []
    loop = asyncio.get_running_loop()

    async def tcp(spec: Any, target: Target, context: Any = None) -> CheckResult:
        calls.append((str(target.address), loop.time()))
        if str(target.address) == "198.51.100.2":
            await asyncio.sleep(3600)  # accepts and never answers
        return CheckResult(not down["198.51.100.1"], "connected")

    backend = FakeBackend()
    proc = CheckerProcess(config(tmp_path), backend, {"TCP_CHECK": tcp}, bootstrap=0.05)
    await proc.start()
    try:
        assert backend.pool() == [("198.51.100.1", 1), ("198.51.100.2", 1)]
        down["198.51.100.1"] = True
        assert await wait_until(lambda: backend.pool() == [("198.51.100.2", 1)], 3.0), \
            backend.pool()
        down["198.51.100.1"] = False
        assert await wait_until(lambda: ("198.51.100.1", 1) in backend.pool(), 3.0)
        # .2's first attempt is still pending (30 s timeout): .1 was checked again and again
        assert sum(a == "198.51.100.1" for a, _ in calls) >= 2
        assert sum(a == "198.51.100.2" for a, _ in calls) == 1
    finally:
        await proc.stop()
    assert backend.cleared


@run_async
async def test_lvs_fifo_lines_and_omega_free_stop(tmp_path: Path) -> None:
    fifo = tmp_path / "lvs.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    state = {"ok": True}

    async def tcp(spec: Any, target: Target, context: Any = None) -> CheckResult:
        return CheckResult(state["ok"] or str(target.address) != "198.51.100.1", "x")

    backend = FakeBackend()
    proc = CheckerProcess(config(tmp_path, fifo), backend, {"TCP_CHECK": tcp}, bootstrap=0.05)
    await proc.start()
    try:
        state["ok"] = False
        assert await wait_until(lambda: len(backend.pool()) == 1, 3.0)
        state["ok"] = True
        assert await wait_until(lambda: len(backend.pool()) == 2, 3.0)
        await asyncio.sleep(0.1)
    finally:
        await proc.stop()
    lines = os.read(reader, 65536).decode().splitlines()
    os.close(reader)
    assert lines == ["RS [198.51.100.1]:tcp:80 [203.0.113.10]:tcp:80 DOWN",
                     "RS [198.51.100.1]:tcp:80 [203.0.113.10]:tcp:80 UP"], lines


@run_async
async def test_a_checker_that_raises_is_a_failed_check(tmp_path: Path) -> None:
    async def broken(spec: Any, target: Target, context: Any = None) -> CheckResult:
        raise RuntimeError("bug")

    backend = FakeBackend()
    proc = CheckerProcess(config(tmp_path), backend, {"TCP_CHECK": broken}, bootstrap=0.05,
                          release=False)
    await proc.start()
    try:
        assert await wait_until(lambda: backend.pool() == [], 3.0)
        last = proc.status()[0]["real_servers"][0]["checks"][0]["last"]
        assert last == "checker error: bug"
    finally:
        await proc.stop()
    assert not backend.cleared  # -I: the table stays


@run_async
async def test_reload_keeps_unchanged_servers_and_adds_new_ones(tmp_path: Path) -> None:
    async def tcp(spec: Any, target: Target, context: Any = None) -> CheckResult:
        return CheckResult(str(target.address) != "198.51.100.1", "x")

    backend = FakeBackend()
    first = config(tmp_path)
    proc = CheckerProcess(first, backend, {"TCP_CHECK": tcp}, bootstrap=0.05)
    await proc.start()
    try:
        assert await wait_until(lambda: backend.pool() == [("198.51.100.2", 1)], 3.0)
        applied = len(backend.tables)
        text = (tmp_path / "keepalived.conf").read_text().replace(
            "real_server 198.51.100.2 80 {",
            "real_server 198.51.100.3 80 {\n weight 2\n}\n    real_server 198.51.100.2 80 {")
        proc.apply_config(load(tmp_path / "second", text).config)
        assert await wait_until(lambda: len(backend.tables) > applied, 3.0)
        # .1 stays out (no instant re-add of a failed server), .3 (no checker) joins
        assert backend.pool() == [("198.51.100.3", 2), ("198.51.100.2", 1)]
    finally:
        await proc.stop()


def test_lb_backend_keyword_chooses_the_backend(tmp_path: Path) -> None:
    from pykeepalived.daemon.check_main import backend_for

    text = "global_defs {\n lb_backend nftables\n}\n"
    assert backend_for(load(tmp_path, text).config).name == "nftables"
    bad = load(tmp_path / "bad", "global_defs {\n lb_backend dpdk\n}\n")
    assert any("lb_backend dpdk" in d.message for d in bad.diagnostics)
    assert bad.config.global_defs.lb_backend == "auto"  # the default stays


def test_virtual_server_names_as_keepalived_writes_them(tmp_path: Path) -> None:
    """keepalived's FMT_VS, used in log lines, mails and LVS FIFO lines."""
    from pykeepalived.check.health import HealthCore
    from pykeepalived.daemon.check_main import vs_name

    text = """
virtual_server_group G1 {
    203.0.113.20 80
}
virtual_server group G1 {
    protocol TCP
    real_server 198.51.100.1 80 {
    }
}
virtual_server fwmark 7 {
    protocol TCP
    real_server 198.51.100.1 80 {
    }
}
virtual_server 203.0.113.10 443 {
    protocol TCP
    real_server 198.51.100.1 443 {
    }
}
"""
    core = HealthCore(load(tmp_path, text).config.virtual_servers)
    assert [vs_name(v) for v in core.virtual_servers] == [
        "[G1]:0", "FWM 7", "[203.0.113.10]:tcp:443"]
