"""Adding a VIP gets a netlink error, made by the kernel in the namespace (no mock).

Seen with keepalived 2.2.7 in this lab, and matched here:

- the kernel refuses one address (an IPv6 excluded VIP on an interface with IPv6 disabled:
  EACCES): keepalived becomes MASTER with the other VIPs ("Netlink: error: Permission
  denied(13)") and its USR1 dump shows the refused one without "set". pykeepalived does the
  same, logs the refusal once with the address and errno however often the instance becomes
  MASTER again, and --status --json and the dump say which VIPs are really there;
- the interface of a ``dev`` VIP is deleted, or renamed: keepalived tracks the interface of
  every VIP, so the instance goes to FAULT and the peer takes over, rather than a MASTER
  that cannot hold an address it answers for; pykeepalived tracks them too.

Through it all VRRP goes on: adverts keep their interval (r2's master_down_interval is never
reached while r1 is MASTER).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab, wait_for
from tests.netns.fault_lab import VIP, Watch, bench, master_instance

pytestmark = pytest.mark.netns

VIP6 = "2001:db8::10"
REFUSED = f"(VI_1) cannot add VIP {VIP6}/64 on eth0: Permission denied (errno 13, EACCES)"


def test_a_vip_the_kernel_refuses(lab: Lab, tmp_path: Path) -> None:
    flap = tmp_path / "flap"
    flap.write_text("0\n")
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    body = f"""
vrrp_track_file flap {{
    file {flap}
}}
""" + master_instance(extra=f"""virtual_ipaddress_excluded {{
        {VIP6}/64
    }}
    track_file {{
        flap weight -150
    }}""")
    with bench(lab, tmp_path, body, env={"TMPDIR": str(dumps)}) as b:
        # IPv6 is disabled on r1's eth0 (the lab's ipv6=False): the kernel says EACCES
        assert b.r1.run("sysctl", "-n", "net.ipv6.conf.eth0.disable_ipv6").strip() == "1"
        assert b.r1.has_address(VIP) and not b.r1.has_address(VIP6)
        for rounds in (1, 2):  # r1 leaves MASTER and takes it back: the VIPs again
            flap.write_text("1\n")  # priority 50: r2 takes over
            assert wait_for(lambda n=rounds: b.d2.log().count(
                "(VI_1) Entering MASTER STATE") == n, 10), b.logs()
            flap.write_text("0\n")  # 200 again: r1 preempts
            assert wait_for(lambda n=rounds: b.d1.log().count(
                "(VI_1) Entering MASTER STATE") == n + 1, 10), b.logs()
        assert wait_for(lambda: b.r1.has_address(VIP) and not b.r2.has_address(VIP), 5)
        watch = Watch(b, tmp_path / "adverts.pcap")
        time.sleep(2.0)
        watch.stop()
        assert watch.longest_silence() < 0.36, watch.times  # r2's master_down_interval
        assert b.last_state(b.d2) == "BACKUP", b.logs()

        # logged once, with the address and errno, for three installs
        assert len(b.lines("cannot add VIP")) == 1, b.logs()
        assert REFUSED in b.lines("cannot add VIP")[0]
        # what r1 reports is what is on r1
        status = b.instance_status()
        assert status["state"] == "MASTER"
        assert [(v["address"], v["installed"], v["error"]) for v in status["vips"]] == [
            (f"{VIP}/24", True, None),
            (f"{VIP6}/64", False, "Permission denied (errno 13, EACCES)")]
        b.d1.signal(signal.SIGUSR1)
        data = dumps / "keepalived.data"
        assert wait_for(lambda: data.exists() and "Virtual IP Excluded" in data.read_text(),
                        5), b.logs()
        vips = [line for line in data.read_text().splitlines() if line.startswith("     ")]
        assert vips == [f"     {VIP}/24 dev eth0 scope global set",
                        f"     {VIP6}/64 dev eth0 scope global"], vips


@pytest.mark.parametrize("how", ["deleted", "renamed"])
def test_the_interface_of_a_dev_vip_goes(tmp_path: Path, how: str) -> None:
    vips = f"{VIP}/24\n        198.51.100.10/24 dev eth1"
    two = (("192.0.2.1/24",), ("198.51.100.1/24",))
    with Lab(segments=2) as lab, bench(
            lab, tmp_path, master_instance(vip=vips), r1_addresses=two,
            r2_addresses=(("192.0.2.2/24",), ("198.51.100.2/24",)), r2_vip=vips) as b:
        assert b.r1.has_address("198.51.100.10", "eth1")
        if how == "deleted":
            b.r1.run("ip", "link", "del", "eth1")
        else:  # a rename needs the link down; it comes back up under its new name
            b.r1.run("ip", "link", "set", "eth1", "down")
            b.r1.run("ip", "link", "set", "eth1", "name", "lan1")
            b.r1.run("ip", "link", "set", "lan1", "up")
        # as keepalived: the VIP's interface is tracked, r1 goes to FAULT, r2 takes over
        assert b.d1.wait_log("(VI_1) Entering FAULT STATE", 5), b.logs()
        assert wait_for(lambda: b.r2.has_address(VIP) and not b.r1.has_address(VIP), 5), \
            b.logs()
        time.sleep(1.0)
        assert "(VI_1) Entering MASTER STATE" not in b.d1.log().split(
            "(VI_1) Entering FAULT STATE", 1)[1], b.logs()  # and stays there
        status = b.instance_status()
        assert status["state"] == "FAULT" and "interface eth1" in str(status["faults"])
        assert [v["installed"] for v in status["vips"]] == [False, False]
        assert not b.lines("cannot add VIP")
