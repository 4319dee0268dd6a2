"""nftables missing, injected where the daemon meets it (the worker's NftFirewall, the
checker's backend): logged once with its cause, the end of it logged, status true, the
table tried again without waiting for a change, the stop clean; a backend that cannot exist
(lb_backend ipvs without IPVS) ends the checker with keepalived's permanent error.

tests/netns/test_resource_faults_nftables.py takes nft and libnftables away for real.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pykeepalived.check.result import CheckResult, Target
from pykeepalived.daemon import check_main, kernel
from pykeepalived.daemon.check_main import CheckerProcess, run_checker
from pykeepalived.daemon.runner import EXIT_FATAL
from pykeepalived.lb.errors import BackendUnavailable
from pykeepalived.lb.model import Service
from pykeepalived.lb.status import ipvsadm_list
from tests.unit.config.helpers import load
from tests.unit.notify._util import run_async, wait_until

NO_NFT = "nftables: no nft command ([Errno 2] No such file or directory: 'nft')"


class Firewall:
    """NftFirewall whose ``nft`` is missing while ``missing`` is set."""

    missing = True
    calls = 0
    done = 0

    def add_vips(self, _items: Sequence[str]) -> None:
        Firewall.calls += 1
        if Firewall.missing:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), "nft")
        self.done += 1

    def remove_vips(self, _items: Sequence[str]) -> None:
        """Nothing to remove while the table was never made: not a sign nft works."""


def test_the_no_accept_firewall_says_once_why_and_when_it_works_again(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(kernel, "NftFirewall", Firewall)
    worker = kernel.FirewallWorker()
    for _ in range(3):  # three MASTER transitions, and leaving MASTER in between
        worker._run("adding VIPs", lambda fw: fw.add_vips(["192.0.2.10"]))
        worker._run("removing VIPs", lambda fw: fw.remove_vips(["192.0.2.10"]))
    assert Firewall.calls == 3
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["no_accept firewall: adding VIPs failed: No such file or directory: "
                      "'nft' - VRRP goes on; the VIPs are not filtered"]
    worker.in_use = True
    assert worker.status() == {"in_use": True,
                               "error": "No such file or directory: 'nft'"}
    caplog.clear()
    Firewall.missing = False
    worker._run("adding VIPs", lambda fw: fw.add_vips(["192.0.2.10"]))
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == [
        "no_accept firewall: adding VIPs worked again (it had failed: No such file or "
        "directory: 'nft')"]
    assert worker.status()["error"] is None


class MissingNft:
    """A load-balancer backend whose nft is missing while ``missing`` is set."""

    name = "nftables"

    def __init__(self) -> None:
        self.missing = True
        self.attempts = 0
        self.tables: list[list[Service]] = []

    def apply(self, services: Sequence[Service]) -> None:
        self.attempts += 1
        if self.missing:
            raise BackendUnavailable(NO_NFT)
        self.tables.append(list(services))

    def clear(self) -> None:
        if self.missing:
            raise BackendUnavailable(NO_NFT)
        self.tables.append([])


CONF = """
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
}
"""


@run_async
async def test_the_checker_goes_on_without_its_table_and_puts_it_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pykeepalived.check")
    monkeypatch.setattr(check_main, "APPLY_RETRY", 0.1, raising=False)
    up = {"ok": True}

    async def tcp(spec: Any, target: Target, context: Any = None) -> CheckResult:
        return CheckResult(up["ok"], "connected" if up["ok"] else "refused")

    backend = MissingNft()
    proc = CheckerProcess(load(tmp_path, CONF).config, backend,  # type: ignore[arg-type]
                          {"TCP_CHECK": tcp}, bootstrap=0.05)
    await proc.start()
    up["ok"] = False  # a change the table should follow, while nft is missing
    assert await wait_until(lambda: backend.attempts >= 5, 10)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [f"Updating the load-balancer table (nftables) failed: {NO_NFT} - the "
                      "health checks go on, the table is tried again"]
    status = proc.control()
    assert status["apply_error"] == NO_NFT
    assert status["table"] == ipvsadm_list([], {})  # nothing is reported installed
    caplog.clear()
    backend.missing = False  # nft is back; no health change is needed for the table
    assert await wait_until(lambda: bool(backend.tables), 5)
    assert proc.control()["apply_error"] is None
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO
            and "again" in r.getMessage()] == [
        f"Updated the load-balancer table (nftables) again, after {backend.attempts - 1} "
        f"failed attempt(s) ({NO_NFT})"]
    backend.missing = True
    await proc.stop()  # nft gone again: said once, no exception
    assert any("Removing the load-balancer table (nftables) failed" in r.getMessage()
               for r in caplog.records)


@run_async
async def test_a_stop_without_nft_is_clean_when_no_table_was_ever_installed(
        tmp_path: Path) -> None:
    async def tcp(spec: Any, target: Target, context: Any = None) -> CheckResult:
        return CheckResult(True, "connected")

    proc = CheckerProcess(load(tmp_path, CONF).config, MissingNft(),  # type: ignore[arg-type]
                          {"TCP_CHECK": tcp}, bootstrap=0.05)
    await proc.start()
    await asyncio.sleep(0.1)
    await proc.stop()  # no exception: the child exits 0, nothing to remove


@run_async
async def test_lb_backend_ipvs_without_ipvs_is_a_permanent_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_ipvs(_config: Any) -> Any:
        raise BackendUnavailable("lb_backend ipvs: the kernel has no IPVS")

    monkeypatch.setattr(check_main, "backend_for", no_ipvs)
    config = load(tmp_path, CONF).config
    assert await run_checker(config) == EXIT_FATAL
