"""The README's main job: the live demonstration runs end to end and leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.netns


def test_demo_elects_fails_over_hands_back_and_cleans_up() -> None:
    before = set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                check=True).stdout.split())
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "pykeepalived", "--demo"], capture_output=True,
                          text=True, timeout=120, env=env)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    elected, after_failure, after_handback = out.split("Elected:")[1].split("After the")[0:3]
    assert "VI_1 192.0.2.10   held by r1\n" in elected
    assert "VI_2 192.0.2.20   held by r2\n" in elected
    assert "VI_1 192.0.2.10   held by r2\n" in after_failure
    assert "VI_1 192.0.2.10   held by r1\n" in after_handback
    assert "VIPs left behind: none" in out
    after = set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                               check=True).stdout.split())
    assert after <= before, f"namespaces left behind: {after - before}"
