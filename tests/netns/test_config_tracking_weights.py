"""The tracking-weight cases of tests/unit/config/test_tracking_weights.py, re-checked against
the live keepalived -t in a namespace with eth0 and eth1."""

from __future__ import annotations

from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab
from tests.netns.test_config_samples import keepalived_t, pykeepalived_t
from tests.unit.config.test_tracking_weights import CASES

pytestmark = [pytest.mark.netns, pytest.mark.interop]


def test_tracking_weight_cases_agree_with_keepalived(lab: Lab, tmp_path: Path) -> None:
    host = lab.add_host("t", [["192.0.2.1/24"]])
    host.run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
    disagree = []
    for name, (recorded, text) in CASES.items():
        path = tmp_path / f"{name}.conf"
        path.write_text(text)
        ka = keepalived_t(host, str(path))
        py = pykeepalived_t(host, str(path))
        if not ka.status == py.status == recorded:
            disagree.append(f"{name}: recorded {recorded}, keepalived {ka.status}, "
                            f"pykeepalived {py.status}\n{ka.stderr}\n{py.stderr}")
    assert not disagree, "\n".join(disagree)
