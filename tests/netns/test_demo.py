"""The README's main job: the live demonstration runs end to end and leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.netns


def namespaces() -> set[str]:
    return set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                              check=True).stdout.split())


def test_demo_elects_fails_over_hands_back_and_cleans_up() -> None:
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    demo = subprocess.Popen([sys.executable, "-m", "pykeepalived", "--demo"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = demo.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        demo.kill()
        out, err = demo.communicate(timeout=10)
    # the lab names its namespaces after its process (pykeepalived.demo.lab): only those are
    # the demo's; other tests on the machine may hold namespaces of their own meanwhile
    ours = f"pk{demo.pid % 100000}x"
    assert demo.returncode == 0, out + err
    elected, after_failure, after_handback = out.split("Elected:")[1].split("After the")[0:3]
    assert "VI_1 192.0.2.10   held by r1\n" in elected
    assert "VI_2 192.0.2.20   held by r2\n" in elected
    assert "VI_1 192.0.2.10   held by r2\n" in after_failure
    assert "VI_1 192.0.2.10   held by r1\n" in after_handback
    assert "VIPs left behind: none" in out
    left = {name for name in namespaces() if name.startswith(ours)}
    assert not left, f"namespaces left behind: {left}"
