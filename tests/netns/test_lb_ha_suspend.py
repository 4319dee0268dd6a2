"""ha_suspend across two directors: only the VRRP master balances, and a failover moves the
load-balancing rules with the addresses.

Two directors run pykeepalived (lb_backend nftables) with a sync group of two instances: the
VIP 192.0.2.10 on the client side, and the gateway 198.51.100.1 on the server side, through
which the real servers answer. The same virtual_server on the VIP, with ha_suspend, is
configured on both. The master holds both addresses and the nftables rules; the backup runs
no checks and holds no rules. Cutting the master's client-side link (Host.cut) puts its sync
group in FAULT: the backup takes both addresses over, and with them the rules, and the
client's requests work again through it; the old master keeps no rules.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pykeepalived.demo.lab import Host, Lab, wait_for
from tests.daemons import Daemon, instance, start_pykeepalived, write_conf
from tests.netns.lb_lab import SERVERS, LbLab, _start_servers

pytestmark = pytest.mark.netns

VIP, GATEWAY, CLIENT = "192.0.2.10", "198.51.100.1", "192.0.2.50"
DIRECTORS = {"d1": ("192.0.2.2", "198.51.100.2", 150), "d2": ("192.0.2.3", "198.51.100.3", 100)}


def director_conf(name: str, priority: int) -> str:
    real_servers = "".join(f"""
    real_server {address} 80 {{
        TCP_CHECK {{
            connect_timeout 1
        }}
    }}""" for address in SERVERS.values())
    return f"""
global_defs {{
    router_id {name}
    lb_backend nftables
}}
vrrp_sync_group G {{
    group {{
        VI_CLIENT
        VI_SERVER
    }}
}}
{instance("VI_CLIENT", vrid=51, priority=priority, vip=f"{VIP}/24", interface="eth0")}
{instance("VI_SERVER", vrid=52, priority=priority, vip=f"{GATEWAY}/24", interface="eth1")}
virtual_server {VIP} 80 {{
    ha_suspend
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
{real_servers}
}}
"""


@contextlib.contextmanager
def two_directors() -> Iterator[tuple[LbLab, dict[str, Host]]]:
    """The client on br0, the real servers on br1 (default route via the gateway address),
    two directors on both."""
    with Lab(segments=2) as lab:
        directors = {}
        for name, (front, back, _priority) in DIRECTORS.items():
            host = lab.add_host(name, [[f"{front}/24"], [f"{back}/24"]], ipv6=False)
            host.run("sysctl", "-qw", "net.ipv4.ip_forward=1")
            directors[name] = host
        client = lab.add_host("cli", [[f"{CLIENT}/24"]], ipv6=False)
        # learn the VIP's new owner from its gratuitous ARP
        client.run("sysctl", "-qw", "net.ipv4.conf.all.arp_accept=1")
        servers = {}
        for name, address in SERVERS.items():
            host = lab.add_host(name, [[], [f"{address}/24"]], ipv6=False)
            host.run("ip", "link", "set", "eth0", "down")
            host.run("sysctl", "-qw", "net.ipv4.conf.all.arp_accept=1")
            host.run("ip", "route", "add", "default", "via", GATEWAY)
            servers[name] = host
        _start_servers(lab, servers, directors["d1"])
        yield LbLab(lab, directors["d1"], client, servers, vip=VIP, source=CLIENT), directors


def status(daemon: Daemon) -> dict[str, Any] | None:
    """The checker process's part of ``pykeepalived --status --json`` (None while it does
    not answer)."""
    pid_file = daemon.log_path.parent / "ka.pid"
    src = str(Path(__file__).resolve().parents[2] / "src")
    proc = subprocess.run([sys.executable, "-m", "pykeepalived", "--status", "--json", "-p",
                           str(pid_file)], capture_output=True, text=True, timeout=15,
                          env=dict(os.environ, PYTHONPATH=src))
    try:
        check = json.loads(proc.stdout).get("check")
    except json.JSONDecodeError:
        return None
    return check if isinstance(check, dict) else None


def rules(daemon: Daemon) -> dict[str, int] | None:
    """The real servers (and weights) of the table the checker process applied; None while
    it does not answer."""
    check = status(daemon)
    if check is None:
        return None
    out = {}
    for line in str(check["table"]).splitlines():
        words = line.split()
        if line.strip().startswith("->") and len(words) >= 4 and words[1][0].isdigit():
            out[words[1].rsplit(":", 1)[0]] = int(words[3])
    return out


def nft_has_vip(host: Host) -> bool:
    """Whether the host's pykeepalived table has a rule for the VIP (no table: no rule)."""
    listing = host.run("nft", "list", "table", "inet", "pykeepalived", check=False)
    return VIP in listing


def served(lb: LbLab, count: int = 12) -> set[str]:
    """Who answered ``count`` requests; any failed request fails the test."""
    lines = lb.get(count)
    failed = [line for line in lines if line.startswith("ERROR")]
    assert not failed, lines
    return {line.split()[0] for line in lines}


def answered(lb: LbLab) -> bool:
    """One request through the VIP gets an answer."""
    return not any(line.startswith("ERROR") for line in lb.get(1))


ALL_SERVERS = {address: 1 for address in SERVERS.values()}


def test_only_the_master_balances_and_a_failover_moves_the_rules(tmp_path: Path) -> None:
    with two_directors() as (lb, directors):
        d1, d2 = directors["d1"], directors["d2"]
        daemons = {name: start_pykeepalived(host, write_conf(tmp_path, name, director_conf(
            name, DIRECTORS[name][2])), tmp_path) for name, host in directors.items()}
        one, two = daemons["d1"], daemons["d2"]
        try:
            assert wait_for(lambda: d1.has_address(VIP) and d1.has_address(GATEWAY), 20), \
                one.log()
            assert wait_for(lambda: rules(one) == ALL_SERVERS, 20), one.log()
            assert wait_for(lambda: rules(two) == {}, 20), two.log()
            # the backup holds neither the addresses nor the rules, and runs no checks
            assert not d2.has_address(VIP) and not d2.has_address(GATEWAY)
            assert nft_has_vip(d1) and not nft_has_vip(d2)
            backup = status(two)
            assert backup is not None and backup["virtual_servers"][0]["suspended"] is True
            assert all(check["last"] is None for rs in backup["virtual_servers"][0]
                       ["real_servers"] for check in rs["checks"])
            assert served(lb) == {"rs1", "rs2", "rs3"}

            d1.cut("eth0")  # the master's client side goes dead: its sync group to FAULT
            assert wait_for(lambda: d2.has_address(VIP) and d2.has_address(GATEWAY), 20), \
                two.log()
            assert wait_for(lambda: rules(two) == ALL_SERVERS, 20), two.log()
            assert wait_for(lambda: rules(one) == {}, 20), one.log()
            assert not d1.has_address(VIP) and not d1.has_address(GATEWAY)
            assert nft_has_vip(d2) and not nft_has_vip(d1)
            # the client's requests work again, through the new master
            assert wait_for(lambda: answered(lb), 20)
            assert served(lb) == {"rs1", "rs2", "rs3"}
            assert "Activating healthchecker for VS" in two.log()
            assert "Deactivating healthchecker for VS" in one.log()
        finally:
            for daemon in daemons.values():
                daemon.signal(signal.SIGTERM)
            codes = {name: daemon.stop() for name, daemon in daemons.items()}
        assert codes == {"d1": 0, "d2": 0}, (one.log(), two.log())
        assert not nft_has_vip(d1) and not nft_has_vip(d2)
