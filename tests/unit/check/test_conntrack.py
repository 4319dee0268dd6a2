"""The checker process warns when its TCP checks would fill the director's connection
tracking (the nftables backend tracks every connection): 10,000 checks a second with the
default 120 s of TIME_WAIT need 1.2 million entries, and a full table drops new
connections, taking live real servers out."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from pykeepalived.check import conntrack
from pykeepalived.check.conntrack import conntrack_warning, tcp_checks_per_second
from pykeepalived.check.health import HealthCore
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.daemon.check_main import CheckerProcess
from tests.unit.config.helpers import load
from tests.unit.daemon.test_check_process import FakeBackend
from tests.unit.notify._util import run_async


def proc_dir(tmp: Path, limit: int | None, time_wait: int | None) -> Path:
    if limit is not None:
        (tmp / "nf_conntrack_max").write_text(f"{limit}\n")
    if time_wait is not None:
        (tmp / "nf_conntrack_tcp_timeout_time_wait").write_text(f"{time_wait}\n")
    return tmp


def servers(count: int, kind: str = "TCP_CHECK", delay: int = 1) -> str:
    body = {"TCP_CHECK": "connect_timeout 1", "MISC_CHECK": "misc_path /bin/true"}[kind]
    rs = "".join(f"    real_server 198.51.100.{i % 250 + 1} {1000 + i} {{\n"
                 f"        {kind} {{\n            {body}\n        }}\n    }}\n"
                 for i in range(count))
    return (f"virtual_server 203.0.113.10 80 {{\n    delay_loop {delay}\n    lb_algo rr\n"
            f"    lb_kind NAT\n    protocol TCP\n{rs}}}\n")


def test_checks_a_second_count_connecting_checkers_once_per_delay_loop(tmp_path: Path) -> None:
    text = servers(300) + servers(50, delay=2).replace("203.0.113.10", "203.0.113.11") + \
        servers(40, "MISC_CHECK").replace("203.0.113.10", "203.0.113.12")
    core = HealthCore(load(tmp_path, text).config.virtual_servers)
    assert tcp_checks_per_second(core.checkers()) == pytest.approx(300 + 25)


def test_the_warning_names_the_numbers_and_the_settings(tmp_path: Path) -> None:
    text = conntrack_warning(10_000, proc_dir(tmp_path, 262_144, 120))
    assert text is not None
    assert "10,000 TCP checks a second" in text and "1,200,000" in text
    assert "nf_conntrack_max 262,144" in text
    assert "net.netfilter.nf_conntrack_tcp_timeout_time_wait" in text


def test_no_warning_while_the_checks_fit(tmp_path: Path) -> None:
    assert conntrack_warning(10_000, proc_dir(tmp_path, 262_144, 10)) is None  # 100,000
    assert conntrack_warning(100, proc_dir(tmp_path / "x", None, None)) is None  # no limit


def test_before_nf_conntrack_is_loaded_the_default_time_wait_counts(tmp_path: Path) -> None:
    assert conntrack_warning(1_200, proc_dir(tmp_path, 262_144, None)) is not None


@run_async
async def test_the_checker_process_warns_at_start_with_the_nftables_backend(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(conntrack, "PROC_NETFILTER", proc_dir(tmp_path, 500, 120))

    async def tcp(spec: object, target: Target, context: object = None) -> CheckResult:
        await asyncio.sleep(3600)
        return CheckResult(True, "connected")

    class Nftables(FakeBackend):
        name = "nftables"

    config = load(tmp_path / "conf", servers(10)).config  # 10 a second: 1,200 entries
    proc = CheckerProcess(config, Nftables(), {"TCP_CHECK": tcp}, bootstrap=30)
    with caplog.at_level(logging.WARNING, logger="pykeepalived.check"):
        await proc.start()
        await proc.stop()
    assert any("10 TCP checks a second keep about 1,200 connection-tracking entries"
               in r.getMessage() for r in caplog.records), caplog.text
