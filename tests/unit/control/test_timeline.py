"""The history's picture: one band per instance, its states where and as long as they were."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from pykeepalived.control import status as status_mod
from pykeepalived.control.timeline import COLOURS, GAP, LABEL_WIDTH, PLOT_WIDTH, render_svg

SVG = "{http://www.w3.org/2000/svg}"
NOW = 1_700_000_100.0


def reply(now: float = NOW) -> dict[str, dict[str, Any] | str]:
    """VI_1 started 100 s ago as BACKUP, MASTER at 40 s, FAULT at 70 s, BACKUP at 90 s; one
    failover of 0.36 s ending when it became MASTER."""
    start = now - 100
    return {"vrrp": {"instances": [{
        "name": "VI_1", "vrid": 51, "interface": "eth0", "state": "BACKUP",
        "availability": {"life_seconds": 100.0},
        "history": {
            "transitions": [
                {"wall": start + 1, "old": "INIT", "new": "BACKUP", "reason": "start"},
                {"wall": start + 40, "old": "BACKUP", "new": "MASTER", "reason": "timer"},
                {"wall": start + 70, "old": "MASTER", "new": "FAULT", "reason": "link"},
                {"wall": start + 90, "old": "FAULT", "new": "BACKUP", "reason": "link"}],
            "gaps": [{"wall_end": start + 40, "seconds": 0.36, "planned": False}]},
    }]}, "check": "not running"}


def rects(svg: str, cls: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == cls]


def test_each_state_is_a_band_as_long_as_it_lasted() -> None:
    svg = render_svg(reply(), now=NOW)
    states = rects(svg, "state")
    assert [r.get("data-state") for r in states] == ["INIT", "BACKUP", "MASTER", "FAULT",
                                                     "BACKUP"]
    scale = PLOT_WIDTH / 100.0
    widths = [float(r.get("width", "0")) for r in states]
    assert widths == pytest.approx([1 * scale, 39 * scale, 30 * scale, 20 * scale,
                                    10 * scale], abs=0.01)
    xs = [float(r.get("x", "0")) for r in states]
    assert xs[0] == pytest.approx(LABEL_WIDTH)
    assert xs[2] == pytest.approx(LABEL_WIDTH + 40 * scale, abs=0.01)
    assert [r.get("fill") for r in states] == [COLOURS[s] for s in
                                               ("INIT", "BACKUP", "MASTER", "FAULT", "BACKUP")]


def test_a_failover_gap_is_marked_where_it_was_with_its_length() -> None:
    (gap,) = rects(render_svg(reply(), now=NOW), "gap")
    assert gap.get("fill") == GAP
    scale = PLOT_WIDTH / 100.0
    assert float(gap.get("x", "0")) == pytest.approx(LABEL_WIDTH + (40 - 0.36) * scale,
                                                     abs=0.01)
    title = gap.find(f"{SVG}title")
    assert title is not None and "no master for 360.0 ms" in (title.text or "")


def test_names_are_escaped_and_a_stopped_vrrp_is_said() -> None:
    data = reply()
    inst = data["vrrp"]["instances"][0]  # type: ignore[index]
    inst["name"] = "VI_<&>"
    svg = render_svg(data, now=NOW)
    assert "VI_&lt;&amp;&gt;" in svg
    ET.fromstring(svg)  # well-formed
    down = render_svg({"vrrp": "no answer"}, now=NOW)
    assert "VRRP: not running (no answer)" in down
    assert rects(down, "state") == []


def test_status_writes_the_picture_whole(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.setattr(status_mod, "status", lambda pid, history: reply(time.time()))
    out = tmp_path / "vr.svg"
    sink = tmp_path / "stdout"
    with sink.open("w") as f:
        assert status_mod.print_status("/run/x.pid", history=True, svg=str(out), out=f) == 0
    assert len(rects(out.read_text(), "state")) == 5
    assert "BACKUP -> MASTER" in sink.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stdout", "vr.svg"]  # no temp left
    with sink.open("w") as f:
        assert status_mod.print_status("/run/x.pid", history=True,
                                       svg=str(tmp_path / "none" / "vr.svg"), out=f) == 2
