"""Status and metrics of a running pair across a failover, checked against what a client saw.

Two pykeepalived routers (VRRPv3, advert_int 0.1); a client pings the VIP every 10 ms. The
master's switch port is cut; the backup takes over. Then:

* ``pykeepalived --status --json`` on both shows the new states, the last transition and its
  reason;
* the backup's Prometheus endpoint (``metrics_address``), read by prometheus-client's own text
  parser, reports one failover whose gap agrees with the longest silence the client saw;
* ``--status --history`` prints the transitions and the gap.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Host, Lab, wait_for
from tests.daemons import Daemon, holders, instance, start_pykeepalived, write_conf

pytestmark = pytest.mark.netns

VIP = "192.0.2.10"
ADVERT = 0.1
SRC = str(Path(__file__).resolve().parents[2] / "src")


def conf(name: str, priority: int, port: int) -> str:
    return (f"global_defs {{\n router_id {name}\n metrics_address 127.0.0.1 {port}\n}}\n"
            + instance(priority=priority, advert=str(ADVERT)))


def status(d: Daemon, *extra: str) -> str:
    pid_file = d.log_path.parent / "ka.pid"
    proc = subprocess.run([sys.executable, "-m", "pykeepalived", "--status", *extra, "-p",
                           str(pid_file)], capture_output=True, text=True, timeout=15,
                          env=dict(os.environ, PYTHONPATH=SRC))
    return proc.stdout


def instances(d: Daemon) -> dict[str, dict[str, object]]:
    reply = json.loads(status(d, "--json"))
    vrrp = reply.get("vrrp")
    if not isinstance(vrrp, dict):
        return {}
    return {i["name"]: i for i in vrrp["instances"]}


def scrape(host: Host, port: int) -> dict[str, float]:
    """The endpoint's samples for VI_1, parsed by prometheus-client."""
    from prometheus_client.parser import text_string_to_metric_families

    text = host.run(sys.executable, "-c", "import urllib.request,sys;"
                    f"sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:{port}/metrics',"
                    "timeout=5).read().decode())")
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("instance") != "VI_1":
                continue
            key = sample.name + "".join(f"{{{v}}}" for k, v in sorted(sample.labels.items())
                                        if k != "instance")
            out[key] = sample.value
    return out


def longest_silence(ping_output: str) -> float:
    """The longest gap between two replies of ``ping -D`` (seconds)."""
    times = [float(m) for m in re.findall(r"^\[(\d+\.\d+)\].*bytes from", ping_output,
                                          re.MULTILINE)]
    return max(b - a for a, b in itertools.pairwise(times))


def test_failover_seen_by_status_metrics_and_a_client(lab: Lab, tmp_path: Path) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    r2 = lab.add_host("r2", [["192.0.2.2/24"]], ipv6=False)
    client = lab.add_host("c", [["192.0.2.50/24"]], ipv6=False)
    hosts = {"r1": r1, "r2": r2}
    d1 = start_pykeepalived(r1, write_conf(tmp_path, "r1", conf("r1", 150, 9651)), tmp_path)
    assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 10), d1.log()
    d2 = start_pykeepalived(r2, write_conf(tmp_path, "r2", conf("r2", 100, 9652)), tmp_path)
    ping = None
    try:
        assert wait_for(lambda: instances(d2).get("VI_1", {}).get("state") == "BACKUP", 10), \
            d2.log()
        assert instances(d1)["VI_1"]["state"] == "MASTER"
        before = scrape(r2, 9652)
        assert before["pykeepalived_vrrp_failovers_total"] == 0
        assert before["pykeepalived_vrrp_state{BACKUP}"] == 1
        ping = client.popen("ping", "-D", "-n", "-i", "0.01", "-W", "1", VIP,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert wait_for(lambda: False, 1.0) is False  # a second of replies from r1
        r1.cut()
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 5), d2.log()
        assert wait_for(lambda: False, 1.0) is False  # a second of replies from r2
        ping.terminate()
        out, _ = ping.communicate(timeout=10)
        ping = None
        client_gap = longest_silence(out)
        # --status --json: the new master, its last transition and why
        new = instances(d2)["VI_1"]
        assert new["state"] == "MASTER"
        last = new["last_transition"]
        assert isinstance(last, dict) and last["new"] == "MASTER"
        assert "master down timer" in str(last["reason"])
        assert instances(d1)["VI_1"]["state"] == "FAULT"  # its link is cut
        # the metrics endpoint, through prometheus-client's parser
        after = scrape(r2, 9652)
        assert after["pykeepalived_vrrp_state{MASTER}"] == 1
        assert after["pykeepalived_vrrp_failovers_total"] == 1
        assert after["pykeepalived_vrrp_transitions_total"] >= 2
        assert after["pykeepalived_vrrp_adverts_sent_total"] > 0
        gap = after["pykeepalived_vrrp_last_gap_seconds"]
        # the backup counts from the master's last advert, which the client may have outlived
        # by up to one advert interval: the two agree within that (and the 10 ms probing)
        assert abs(gap - client_gap) <= ADVERT + 0.03, (gap, client_gap)
        assert 0 < after["pykeepalived_vrrp_availability_ratio"] < 1
        assert after["pykeepalived_vrrp_mttr_seconds"] == pytest.approx(gap)
        # --status --history: the table an operator pastes into a report
        history = status(d2, "--history")
        assert "BACKUP -> MASTER" in history and "failovers 1" in history, history
        # --svg: the same history as a picture, the failover's gap marked with its length
        picture = tmp_path / "r2.svg"
        status(d2, "--history", "--svg", str(picture))
        root = ET.fromstring(picture.read_text())
        bands = [r for r in root.iter("{http://www.w3.org/2000/svg}rect")
                 if r.get("class") in ("state", "gap")]
        assert [r.get("data-state") for r in bands if r.get("class") == "state"][-2:] == [
            "BACKUP", "MASTER"], picture.read_text()
        (drawn,) = [r for r in bands if r.get("class") == "gap"]
        title = drawn.findtext("{http://www.w3.org/2000/svg}title") or ""
        assert f"no master for {gap * 1000:.1f} ms" in title, title
    finally:
        if ping is not None:
            ping.kill()
            ping.communicate(timeout=10)
        d1.stop()
        d2.stop()
