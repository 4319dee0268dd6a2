"""The daemon balancing real traffic: checkers, the nftables table, quorum and sorry server.

A director runs pykeepalived with one virtual_server (lb_backend nftables: this kernel has no
IPVS) over three real HTTP servers and a sorry server, in namespaces (tests/netns/lb_lab.py);
a client sends requests to the VIP. What the table holds is read with ``pykeepalived
--status --json`` (the control socket of the checker process), and what the client gets is
the proof: a stopped server leaves the table within delay_loop x (retry + 1) +
connect_timeout and no request fails after that; it comes back when it is back;
inhibit_on_failure keeps it at weight 0; losing the quorum sends everything to the sorry
server; TERM leaves no table behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Host, wait_for
from tests.daemons import Daemon, start_pykeepalived, write_conf
from tests.netns.lb_lab import SERVER, VIP, LbLab, _serving, nat_lab

pytestmark = pytest.mark.netns

SORRY = "198.51.100.99"
DELAY_LOOP, RETRY, CONNECT_TIMEOUT = 1, 1, 1
BOUND = DELAY_LOOP * (RETRY + 1) + CONNECT_TIMEOUT  # the removal bound, in seconds

CONFIG = f"""
global_defs {{
    router_id director
    lb_backend nftables
}}
virtual_server {VIP} 80 {{
    delay_loop {DELAY_LOOP}
    lb_algo rr
    lb_kind NAT
    protocol TCP
    quorum 2
    sorry_server {SORRY} 80
    real_server 198.51.100.11 80 {{
        TCP_CHECK {{
            connect_timeout {CONNECT_TIMEOUT}
            retry {RETRY}
            delay_before_retry 1
        }}
    }}
    real_server 198.51.100.12 80 {{
        HTTP_GET {{
            url {{
                path /
            }}
            connect_timeout {CONNECT_TIMEOUT}
            retry {RETRY}
            delay_before_retry 1
        }}
    }}
    real_server 198.51.100.13 80 {{
        inhibit_on_failure
        TCP_CHECK {{
            connect_timeout {CONNECT_TIMEOUT}
            retry {RETRY}
            delay_before_retry 1
        }}
    }}
}}
"""


def stop_server(host: Host) -> None:
    """Kill every process in the server's namespace (its HTTP server)."""
    for pid in host.run("ip", "netns", "pids", host.netns).split():
        subprocess.run(["kill", "-9", pid], check=False)


def start_server(lb: LbLab, name: str, host: Host, address: str) -> None:
    host.popen(sys.executable, "-c", SERVER, name, stdout=subprocess.DEVNULL,
               stderr=subprocess.DEVNULL)
    assert wait_for(lambda: _serving(lb.director, address), 15), f"{name} does not answer"


def status(daemon: Daemon) -> dict[str, object]:
    pid_file = daemon.log_path.parent / "ka.pid"
    src = str(Path(__file__).resolve().parents[2] / "src")
    proc = subprocess.run([sys.executable, "-m", "pykeepalived", "--status", "--json", "-p",
                           str(pid_file)], capture_output=True, text=True, timeout=15,
                          env=dict(os.environ, PYTHONPATH=src))
    reply: dict[str, object] = json.loads(proc.stdout)  # exit 1 while no child answers
    return reply


def table(daemon: Daemon) -> dict[str, int]:
    """The applied table, as ``--status`` prints it: real server -> weight ({} while the
    checker process is not answering yet)."""
    check = status(daemon)["check"]
    if not isinstance(check, dict):
        return {}
    out = {}
    for line in str(check["table"]).splitlines():
        words = line.split()
        if line.strip().startswith("->") and len(words) >= 4 and words[1][0].isdigit():
            out[words[1].rsplit(":", 1)[0]] = int(words[3])
    return out


def served(lb: LbLab, count: int = 30) -> set[str]:
    """Who answered ``count`` requests; any failed request fails the test."""
    lines = lb.get(count)
    failed = [line for line in lines if line.startswith("ERROR")]
    assert not failed, lines
    return {line.split()[0] for line in lines}


@pytest.fixture
def lb_with_sorry() -> Iterator[LbLab]:
    with nat_lab() as lb:
        sorry = lb.lab.add_host("sorry", [[], [f"{SORRY}/24"]], ipv6=False)
        sorry.run("ip", "link", "set", "eth0", "down")
        sorry.run("ip", "route", "add", "default", "via", "198.51.100.1")
        start_server(lb, "sorry", sorry, SORRY)
        yield lb


def test_checkers_drive_the_nftables_table_with_real_traffic(lb_with_sorry: LbLab,
                                                             tmp_path: Path) -> None:
    lb = lb_with_sorry
    rs2, rs3 = lb.servers["rs2"], lb.servers["rs3"]
    d = start_pykeepalived(lb.director, write_conf(tmp_path, "director", CONFIG), tmp_path)
    try:
        assert wait_for(lambda: table(d) == {"198.51.100.11": 1, "198.51.100.12": 1,
                                             "198.51.100.13": 1}, 20), d.log()
        assert served(lb) == {"rs1", "rs2", "rs3"}
        # a server that stops leaves the table within the bound, and nothing fails after
        stop_server(rs2)
        stopped = time.monotonic()
        assert wait_for(lambda: "198.51.100.12" not in table(d), BOUND + 5), d.log()
        took = time.monotonic() - stopped
        assert took <= BOUND + 1.0, f"removed after {took:.2f} s, bound {BOUND} s"
        assert served(lb) == {"rs1", "rs3"}
        # it comes back when it is back
        start_server(lb, "rs2", rs2, "198.51.100.12")
        assert wait_for(lambda: "198.51.100.12" in table(d), BOUND + 5), d.log()
        assert served(lb) == {"rs1", "rs2", "rs3"}
        # inhibit_on_failure: weight 0, in the table, no new connection
        stop_server(rs3)
        assert wait_for(lambda: table(d).get("198.51.100.13") == 0, BOUND + 5), d.log()
        assert served(lb) == {"rs1", "rs2"}
        # live weight 1 < quorum 2: the sorry server takes everything
        stop_server(rs2)
        assert wait_for(lambda: table(d).get(SORRY) == 1, BOUND + 5), d.log()
        assert served(lb) == {"sorry"}
        assert "Lost quorum" in d.log()
        # both back: the quorum is back and the sorry server goes
        start_server(lb, "rs2", rs2, "198.51.100.12")
        start_server(lb, "rs3", rs3, "198.51.100.13")
        assert wait_for(lambda: table(d) == {"198.51.100.11": 1, "198.51.100.12": 1,
                                             "198.51.100.13": 1}, BOUND + 5), d.log()
        assert served(lb) == {"rs1", "rs2", "rs3"}
        assert "Gained quorum" in d.log()
    finally:
        d.signal(signal.SIGTERM)
        code = d.stop()
    assert code == 0, d.log()
    assert "pykeepalived" not in lb.director.run("nft", "list", "tables"), d.log()
