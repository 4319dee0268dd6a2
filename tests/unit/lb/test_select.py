"""lb_backend ipvs | nftables | auto."""

from __future__ import annotations

from pathlib import Path

import pytest

from pykeepalived.lb.errors import BackendUnavailable, LbError
from pykeepalived.lb.select import Detection, detect_ipvs, select_backend

HAS = Detection(True, "generic netlink family IPVS present")
LACKS = Detection(False, "no generic netlink family IPVS")


def test_auto_prefers_ipvs_and_says_so() -> None:
    chosen = select_backend("auto", detect=lambda: HAS)
    assert chosen.backend == "ipvs"
    assert chosen.message == "lb_backend auto: using IPVS (generic netlink family IPVS present)"


def test_auto_falls_back_to_nftables_and_says_why() -> None:
    chosen = select_backend("auto", detect=lambda: LACKS)
    assert chosen.backend == "nftables"
    assert chosen.message == ("lb_backend auto: using nftables, the kernel has no IPVS "
                              "(no generic netlink family IPVS)")


def test_explicit_choices() -> None:
    def never() -> Detection:
        raise AssertionError("nftables needs no IPVS detection")

    assert select_backend("nftables", detect=never).backend == "nftables"
    assert select_backend("ipvs", detect=lambda: HAS).backend == "ipvs"
    with pytest.raises(BackendUnavailable, match="lb_backend ipvs: the kernel has no IPVS"):
        select_backend("ipvs", detect=lambda: LACKS)
    with pytest.raises(LbError, match="expected one of ipvs, nftables, auto"):
        select_backend("lvs")


def test_detection_order(tmp_path: Path) -> None:
    calls: list[str] = []

    def genetlink(answers: list[bool]) -> object:
        def probe() -> Detection:
            calls.append("genetlink")
            return HAS if answers.pop(0) else LACKS
        return probe

    def modprobe() -> str:
        calls.append("modprobe")
        return "modprobe ip_vs succeeded"

    proc = tmp_path / "ip_vs"
    proc.write_text("")
    assert detect_ipvs(proc_path=proc, genetlink=genetlink([]),  # type: ignore[arg-type]
                       modprobe=modprobe) == Detection(True, f"{proc} present")
    assert calls == []
    missing = tmp_path / "none"
    found = detect_ipvs(proc_path=missing, genetlink=genetlink([False, True]),  # type: ignore[arg-type]
                        modprobe=modprobe)
    assert found.present and found.how.endswith("after modprobe ip_vs succeeded")
    assert calls == ["genetlink", "modprobe", "genetlink"]
    calls.clear()
    found = detect_ipvs(proc_path=missing, genetlink=genetlink([False]),  # type: ignore[arg-type]
                        modprobe=modprobe, load_module=False)
    assert not found.present and calls == ["genetlink"]
