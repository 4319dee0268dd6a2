"""FILE_CHECK's arithmetic, reading a track file, watching it, and the real server's weight."""

from __future__ import annotations

import asyncio
import os
from ipaddress import ip_address
from pathlib import Path

import pytest

from pykeepalived.check import CHECKERS, CheckContext, FileCheckWatcher, check_once
from pykeepalived.check.file_check import IPVS_WEIGHT_FAULT, check_file, file_verdict
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.weights import checker_weight, real_weight
from pykeepalived.config.model_lvs import Checker, FileCheck
from pykeepalived.config.model_vrrp import VrrpTrackFile

from ..notify._util import run_async, wait_until

TARGET = Target(ip_address("192.0.2.10"), 80, 2.0)


@pytest.mark.parametrize(("value", "weight", "reverse", "ok", "added"), [
    (0, 0, False, True, 0),
    (3, 0, False, False, 0),
    (0, 0, True, False, 0),
    (-1, 0, True, True, 0),
    (5, 2, False, True, 10),
    (5, 2, True, True, -10),
    (-7, 1, False, True, -7),
    (2**31, 1, False, True, 2**31 - 1),  # clamped to 32 bits
    (-(2**31), 1, False, False, None),  # at IPVS_WEIGHT_FAULT: down
    (2**30, -4, False, False, None),
    (2**31, 1, True, False, None),
])
def test_file_verdict(value: int, weight: int, reverse: bool, ok: bool,
                      added: int | None) -> None:
    result = file_verdict(value, weight, reverse)
    assert result.ok is ok
    assert result.weight == added
    if not ok and weight:
        assert str(IPVS_WEIGHT_FAULT) in result.detail


def context_for(path: Path, weight: int = 1, reverse: bool = False) -> CheckContext:
    return CheckContext(track_files={"tf": VrrpTrackFile("tf", str(path), weight, reverse)})


@run_async
async def test_check_file_reads_keepalived_numbers(tmp_path: Path) -> None:
    path = tmp_path / "weight"
    context = context_for(path, weight=3)
    missing = await check_file(FileCheck(track_file="tf"), TARGET, context)
    assert missing.ok and missing.weight == 0  # a missing file reads as 0
    path.write_text("010\n")  # strtol base 0: octal
    assert (await check_file(FileCheck(track_file="tf"), TARGET, context)).weight == 24
    # FILE_CHECK's own weight wins over the track_file's, with its reverse
    own = await check_file(FileCheck(track_file="tf", weight=-1, weight_reverse=True), TARGET,
                           context)
    assert own.weight == 8
    path.write_text("99999999999\n")
    invalid = await check_file(FileCheck(track_file="tf"), TARGET, context)
    assert invalid.weight == 0 and "invalid number '99999999999' ignored" in invalid.detail
    zero_weight = context_for(path, weight=0)
    path.write_text("1")
    assert not (await check_file(FileCheck(track_file="tf"), TARGET, zero_weight)).ok
    unknown = await check_file(FileCheck(track_file="nope"), TARGET, context)
    assert unknown == CheckResult(False, "track_file nope is not configured")


@run_async
async def test_watcher_reports_each_change(tmp_path: Path) -> None:
    path = tmp_path / "weight"
    path.write_text("2\n")
    seen: list[CheckResult] = []
    watcher = FileCheckWatcher(FileCheck(track_file="tf", weight=10), context_for(path),
                               seen.append)
    watcher.start()
    try:
        assert watcher.result.weight == 20 and seen == []
        tmp = tmp_path / "new"
        tmp.write_text("-3\n")
        os.rename(tmp, path)
        assert await wait_until(lambda: len(seen) == 1, timeout=5)
        assert seen[0].ok and seen[0].weight == -30
        path.unlink()
        assert await wait_until(lambda: len(seen) == 2, timeout=5)
        assert seen[1].weight == 0
    finally:
        watcher.stop()
    with pytest.raises(ValueError, match="no track_file"):
        FileCheckWatcher(FileCheck(), context_for(path), seen.append)


def test_real_weight_is_configured_plus_each_share() -> None:
    misc = CheckResult(True, "exit 12", weight=10)
    assert checker_weight("MISC_CHECK", misc, configured=3) == 7
    assert checker_weight("MISC_CHECK", CheckResult(True, "exit 0"), configured=3) == 0
    assert checker_weight("FILE_CHECK", CheckResult(True, "", weight=-2), configured=3) == -2
    assert checker_weight("FILE_CHECK", CheckResult(False, "", weight=-2), configured=3) == 0
    assert checker_weight("TCP_CHECK", CheckResult(True, "", weight=5), configured=3) == 0
    # one MISC_CHECK alone: the weight is exit status - 2 (keepalived.conf(5))
    assert real_weight(3, [("MISC_CHECK", misc)]) == 10
    assert real_weight(3, [("MISC_CHECK", misc), ("FILE_CHECK",
                                                  CheckResult(True, "", weight=5))]) == 15
    assert real_weight(1, [("FILE_CHECK", CheckResult(True, "", weight=-9))]) == 0
    assert real_weight(2**31 - 1, [("FILE_CHECK", CheckResult(True, "", weight=9))]) == \
        2**31 - 1


def _model_kinds(cls: type[Checker]) -> set[str]:
    kinds = set()
    for sub in cls.__subclasses__():
        kinds.add(sub().kind)
        kinds |= _model_kinds(sub)
    return kinds


def test_registry_has_a_checker_for_every_configurable_kind_but_bfd() -> None:
    kinds = _model_kinds(Checker)
    assert "SSL_GET" in kinds and "BFD_CHECK" in kinds
    assert set(CHECKERS) == kinds - {"BFD_CHECK"}


def test_registry_dispatch_runs_the_right_checker() -> None:
    result = asyncio.run(CHECKERS["FILE_CHECK"](FileCheck(track_file="x"), TARGET, None))
    assert result == CheckResult(False, "track_file x is not configured")
    assert asyncio.run(check_once(FileCheck(track_file="x"), TARGET)) == result
