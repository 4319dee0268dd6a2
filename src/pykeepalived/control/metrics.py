"""Prometheus metrics of the running daemon, on an address ``metrics_address`` enables.

The VRRP process serves them (prometheus-client's HTTP server, in a thread of its own; loaded
only when the keyword is there) and asks the checker process for its part over the checker's
control socket at each scrape, so one endpoint has everything:

* per instance: state, priority, effective priority, transitions, adverts sent and received,
  adverts dropped by reason;
* per virtual router, the availability seen from this node: failovers, the gap of the last
  one, time without a master, MTBF, MTTR, and A = MTBF / (MTBF + MTTR);
* per real server: health, weight, and the duration of its last check.

A scrape reads the VRRP process's state on its event loop (never from the HTTP thread while
the loop changes it), bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("pykeepalived.control")

DEFAULT_PORT = 9650
STATES = ("INIT", "BACKUP", "MASTER", "FAULT", "STOP")
SNAPSHOT_TIMEOUT = 2.0


class DaemonCollector(Collector):
    """Yields the metrics from a status snapshot taken on the VRRP process's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, vrrp_status: Callable[[], dict[str, Any]],
                 checker_status: Callable[[], dict[str, Any] | None]) -> None:
        self.loop = loop
        self.vrrp_status = vrrp_status
        self.checker_status = checker_status

    def _snapshot(self) -> dict[str, Any]:
        future: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()

        def take() -> None:
            try:
                future.set_result(self.vrrp_status())
            except Exception as exc:  # reported to the scraper, never to the loop
                future.set_exception(exc)

        self.loop.call_soon_threadsafe(take)
        return future.result(timeout=SNAPSHOT_TIMEOUT)

    def collect(self) -> Iterator[Metric]:
        vrrp = self._snapshot()
        yield from vrrp_metrics(vrrp)
        try:
            check = self.checker_status()
        except OSError as exc:
            log.debug("metrics: checker process not reachable: %s", exc)
            check = None
        if check is not None:
            yield from checker_metrics(check)


def vrrp_metrics(status: dict[str, Any]) -> Iterator[Metric]:
    state = GaugeMetricFamily("pykeepalived_vrrp_state", "1 for the instance's current state",
                              labels=["instance", "state"])
    prio = GaugeMetricFamily("pykeepalived_vrrp_priority", "Configured priority",
                             labels=["instance"])
    eff = GaugeMetricFamily("pykeepalived_vrrp_effective_priority",
                            "Priority after tracking, sent in adverts", labels=["instance"])
    trans = CounterMetricFamily("pykeepalived_vrrp_transitions",
                                "State changes since the daemon started", labels=["instance"])
    sent = CounterMetricFamily("pykeepalived_vrrp_adverts_sent", "Adverts sent",
                               labels=["instance"])
    rcvd = CounterMetricFamily("pykeepalived_vrrp_adverts_received", "Adverts received",
                               labels=["instance"])
    dropped = CounterMetricFamily("pykeepalived_vrrp_adverts_dropped",
                                  "Adverts received and dropped, by reason",
                                  labels=["instance", "reason"])
    unsent = CounterMetricFamily("pykeepalived_vrrp_adverts_not_sent",
                                 "Adverts that could not be sent", labels=["instance"])
    failovers = CounterMetricFamily("pykeepalived_vrrp_failovers",
                                    "Times without a master seen from this node",
                                    labels=["instance"])
    down = CounterMetricFamily("pykeepalived_vrrp_without_master_seconds",
                               "Time without a master seen from this node",
                               labels=["instance"])
    last_gap = GaugeMetricFamily("pykeepalived_vrrp_last_gap_seconds",
                                 "Length of the last time without a master",
                                 labels=["instance"])
    mtbf = GaugeMetricFamily("pykeepalived_vrrp_mtbf_seconds",
                             "Mean time with a master between failovers", labels=["instance"])
    mttr = GaugeMetricFamily("pykeepalived_vrrp_mttr_seconds",
                             "Mean time without a master per failover", labels=["instance"])
    avail = GaugeMetricFamily("pykeepalived_vrrp_availability_ratio",
                              "MTBF / (MTBF + MTTR) over the daemon's life",
                              labels=["instance"])
    for inst in status.get("instances", []):
        name = inst["name"]
        for word in STATES:
            state.add_metric([name, word], 1.0 if inst["state"] == word else 0.0)
        prio.add_metric([name], inst["priority"])
        eff.add_metric([name], inst["effective_priority"])
        fig = inst.get("availability", {})
        trans.add_metric([name], inst.get("transitions", 0))
        sent.add_metric([name], inst["adverts_sent"])
        rcvd.add_metric([name], inst["adverts_received"])
        unsent.add_metric([name], inst.get("adverts_not_sent", 0))
        for reason, count in sorted(inst.get("dropped", {}).items()):
            dropped.add_metric([name, reason], count)
        failovers.add_metric([name], fig.get("failovers", 0))
        down.add_metric([name], fig.get("down_seconds", 0.0))
        for family, key in ((last_gap, "last_gap_seconds"), (mtbf, "mtbf_seconds"),
                            (mttr, "mttr_seconds")):
            if fig.get(key) is not None:
                family.add_metric([name], fig[key])
        avail.add_metric([name], fig.get("availability", 1.0))
    yield from (state, prio, eff, trans, sent, rcvd, dropped, unsent, failovers, down,
                last_gap, mtbf, mttr, avail)


def checker_metrics(status: dict[str, Any]) -> Iterator[Metric]:
    up = GaugeMetricFamily("pykeepalived_real_server_up", "1 while the real server is alive",
                           labels=["virtual_server", "real_server"])
    weight = GaugeMetricFamily("pykeepalived_real_server_weight", "Effective weight",
                               labels=["virtual_server", "real_server"])
    latency = GaugeMetricFamily("pykeepalived_check_latency_seconds",
                                "How long the last check took",
                                labels=["virtual_server", "real_server", "check"])
    quorum = GaugeMetricFamily("pykeepalived_virtual_server_quorum_up",
                               "1 while the virtual server has its quorum",
                               labels=["virtual_server"])
    for vs in status.get("virtual_servers", []):
        quorum.add_metric([vs["vs"]], 1.0 if vs["quorum_up"] else 0.0)
        for rs in vs["real_servers"]:
            labels = [vs["vs"], rs["rs"]]
            up.add_metric(labels, 1.0 if rs["alive"] else 0.0)
            weight.add_metric(labels, rs["weight"])
            for check in rs["checks"]:
                if check.get("latency") is not None:
                    latency.add_metric([*labels, check["kind"]], check["latency"])
    yield from (up, weight, latency, quorum)


def serve(address: str, port: int, collector: Collector) -> None:
    """Start the HTTP endpoint (``/metrics``) in a thread of its own."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    start_http_server(port, addr=address, registry=registry)
    log.info("Prometheus metrics on http://%s:%d/metrics", address, port)
