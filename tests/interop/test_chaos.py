"""The chaos soak, short: two pykeepalived nodes and keepalived 2.2.7 under every kind of fault.

One round of every fault kind (link cut, partition, kill -9 of a parent and of a VRRP child,
reload, link flap, stop and restart), in an order drawn from a fixed seed, then a stop of every
daemon: no invariant of tests/chaos/invariants.py may be violated, and nothing may be left in
any namespace. ``scripts/chaos --duration 1200`` runs the same soak for as long as wanted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.faults import FAULTS
from tests.chaos.soak import soak
from tests.chaos.topology import NODE_KINDS

pytestmark = pytest.mark.interop

SEED = 1
DURATION = 30.0  # and at least one round of every kind, whatever it takes


@pytest.mark.timeout(300)
def test_chaos_soak_has_no_violation(tmp_path: Path) -> None:
    report = soak(DURATION, SEED, list(FAULTS), tmp_path, out=print, min_rounds=1)
    text = report.text()
    print(text)
    assert report.error is None, text
    assert report.violations == [], text
    assert all(report.faults[kind] >= 1 for kind in FAULTS), text
    # the checks could have failed: every node held VIPs as MASTER, keepalived's FIFO spoke,
    # and what the final clean-up check looks for existed during the soak
    assert all(report.samples[node] > 0 for node in NODE_KINDS), text
    assert report.fifo_lines > 0, text
    assert report.seen.vmac and report.seen.route and report.seen.rule and report.seen.nft, text
