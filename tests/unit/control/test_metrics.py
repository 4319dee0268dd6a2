"""metrics_address and the metrics made from a status snapshot, read back by
prometheus-client's own parser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from pykeepalived.control.metrics import checker_metrics, vrrp_metrics
from tests.unit.config.helpers import load


def test_metrics_address_keyword(tmp_path: Path) -> None:
    g = load(tmp_path, "global_defs {\n metrics_address\n}\n").config.global_defs
    assert (g.metrics_address, g.metrics_port) == ("127.0.0.1", 9650)  # loopback by default
    g = load(tmp_path / "b", "global_defs {\n metrics_address 192.0.2.1 9100\n}\n"
             ).config.global_defs
    assert (g.metrics_address, g.metrics_port) == ("192.0.2.1", 9100)
    assert load(tmp_path / "c", "global_defs {\n}\n").config.global_defs.metrics_address is None
    bad = load(tmp_path / "d", "global_defs {\n metrics_address nowhere\n}\n")
    assert bad.config.global_defs.metrics_address is None
    assert any("metrics_address nowhere" in d.message for d in bad.diagnostics)


class Fixed(Collector):
    def __init__(self, vrrp: dict[str, Any], check: dict[str, Any]) -> None:
        self.vrrp, self.check = vrrp, check

    def collect(self):  # type: ignore[no-untyped-def]
        yield from vrrp_metrics(self.vrrp)
        yield from checker_metrics(self.check)


def test_exposition_parses_and_carries_every_figure() -> None:
    vrrp = {"instances": [{
        "name": "VI_1", "state": "MASTER", "priority": 150, "effective_priority": 140,
        "transitions": 3, "adverts_sent": 10, "adverts_received": 7, "adverts_not_sent": 1,
        "dropped": {"auth_failure": 2},
        "availability": {"failovers": 1, "down_seconds": 0.36, "last_gap_seconds": 0.36,
                         "mtbf_seconds": 99.64, "mttr_seconds": 0.36,
                         "availability": 0.9964}}]}
    check = {"virtual_servers": [{"vs": "[203.0.113.10]:tcp:80", "quorum_up": True,
                                  "real_servers": [{"rs": "[198.51.100.11]:tcp:80",
                                                    "alive": False, "weight": 0, "checks": [
                                                        {"kind": "TCP_CHECK",
                                                         "latency": 0.002}]}]}]}
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed(vrrp, check))
    text = generate_latest(registry).decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}
    one = (("instance", "VI_1"),)
    assert samples[("pykeepalived_vrrp_state", (("instance", "VI_1"), ("state", "MASTER")))] == 1
    assert samples[("pykeepalived_vrrp_state", (("instance", "VI_1"), ("state", "BACKUP")))] == 0
    assert samples[("pykeepalived_vrrp_effective_priority", one)] == 140
    assert samples[("pykeepalived_vrrp_transitions_total", one)] == 3
    assert samples[("pykeepalived_vrrp_adverts_dropped_total",
                    (("instance", "VI_1"), ("reason", "auth_failure")))] == 2
    assert samples[("pykeepalived_vrrp_failovers_total", one)] == 1
    assert samples[("pykeepalived_vrrp_availability_ratio", one)] == 0.9964
    rs = (("real_server", "[198.51.100.11]:tcp:80"), ("virtual_server", "[203.0.113.10]:tcp:80"))
    assert samples[("pykeepalived_real_server_up", rs)] == 0
    assert samples[("pykeepalived_check_latency_seconds", (("check", "TCP_CHECK"), *rs))] == 0.002
