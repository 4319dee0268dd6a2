"""A VIP that cannot be installed: keepalived 2.2.7 and pykeepalived in the same lab.

- the kernel refuses one address (an IPv6 excluded VIP on an interface with IPv6 disabled):
  both become MASTER with the other VIPs, and their USR1 dumps mark only the installed
  VIPs "set";
- the interface of a ``dev`` VIP is deleted while MASTER: both go to FAULT and remove their
  VIPs (keepalived tracks the interface of every VIP).

tests/netns/test_resource_faults_vips.py goes further with pykeepalived (the log, status).
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab, wait_for
from tests.daemons import Daemon, instance, start_keepalived, start_pykeepalived, write_conf

pytestmark = pytest.mark.interop

VIP = "192.0.2.10"
VIP_DEV = "198.51.100.10"
VIP6 = "2001:db8::10"
STARTERS = {"keepalived": start_keepalived, "pykeepalived": start_pykeepalived}


def start(kind: str, lab: Lab, tmp: Path) -> tuple[Daemon, Path]:
    """r1 alone (IPv6 disabled, eth0 and eth1), VI_1 with a VIP on each interface and an
    IPv6 excluded VIP; it becomes MASTER on its own. Its dumps go to ``tmp/dumps``."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"], ["198.51.100.1/24"]], ipv6=False)
    body = instance(vip=f"{VIP}/24\n        {VIP_DEV}/24 dev eth1", extra=f"""
    virtual_ipaddress_excluded {{
        {VIP6}/64
    }}""")
    dumps = tmp / "dumps"
    dumps.mkdir()
    conf = write_conf(tmp, "r1", f"global_defs {{\n    router_id r1\n}}\n{body}")
    return STARTERS[kind](r1, conf, tmp, env={"TMPDIR": str(dumps)}), dumps


def set_flags(data: str) -> dict[str, bool]:
    """Address -> whether the dump marks it "set", for every VIP and excluded VIP."""
    return {line.split()[0]: line.endswith(" set") for line in data.splitlines()
            if line.startswith("     ") and "/" in line.split()[0]}


@pytest.mark.parametrize("kind", sorted(STARTERS))
def test_a_refused_vip_and_a_vip_whose_interface_goes(tmp_path: Path, kind: str) -> None:
    with Lab(segments=2) as lab:
        daemon, dumps = start(kind, lab, tmp_path)
        r1 = daemon.host
        try:
            assert daemon.wait_log("(VI_1) Entering MASTER STATE", 10), daemon.log()
            assert wait_for(lambda: r1.has_address(VIP) and r1.has_address(VIP_DEV), 5)
            daemon.signal(signal.SIGUSR1)
            data = dumps / "keepalived.data"
            assert wait_for(lambda: data.exists() and VIP6 in data.read_text(), 5)
            assert set_flags(data.read_text()) == {
                f"{VIP}/24": True, f"{VIP_DEV}/24": True, f"{VIP6}/64": False}, \
                data.read_text()

            r1.run("ip", "link", "del", "eth1")
            assert daemon.wait_log("(VI_1) Entering FAULT STATE", 5), daemon.log()
            assert wait_for(lambda: not r1.has_address(VIP), 5), daemon.log()
        finally:
            daemon.stop()
