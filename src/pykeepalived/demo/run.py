"""The live demonstration: two pykeepalived routers and a client on network namespaces.

It needs no configuration from the user: it builds a switch namespace (holding the bridge),
routers r1 and r2 and a client, writes a keepalived.conf for each router with two virtual routers
laid out active/active (VI_1 prefers r1, VI_2 prefers r2, so each VRID is also an active/passive
pair), runs a real ``pykeepalived`` daemon on each router, then fails r1 (its switch port goes
dark), shows the VIP move and the longest gap a client pinging it saw, mends r1 and shows the
hand-back, and tears everything down.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from pykeepalived.demo.lab import Host, Lab, wait_for

VIPS = {"VI_1": "192.0.2.10", "VI_2": "192.0.2.20"}

CONFIG = """\
! pykeepalived demo: {host}
global_defs {{
    router_id {host}
}}
vrrp_instance VI_1 {{
    state {state1}
    interface eth0
    virtual_router_id 51
    priority {prio1}
    version 3
    advert_int 0.1
    virtual_ipaddress {{
        192.0.2.10/24
    }}
}}
vrrp_instance VI_2 {{
    state {state2}
    interface eth0
    virtual_router_id 52
    priority {prio2}
    version 3
    advert_int 0.1
    virtual_ipaddress {{
        192.0.2.20/24
    }}
}}
"""


def say(text: str = "") -> None:
    print(text, flush=True)


def holders(routers: dict[str, Host]) -> dict[str, list[str]]:
    """Which router holds each VIP right now (a VIP on two routers would show twice)."""
    return {name: [r for r, host in routers.items() if host.has_address(vip, "eth0")]
            for name, vip in VIPS.items()}


def show(routers: dict[str, Host], title: str) -> None:
    say(f"  {title}")
    for name, held in holders(routers).items():
        say(f"    {name} {VIPS[name]:<12} held by {', '.join(held) or 'nobody'}")


@contextmanager
def pinging(client: Host, vip: str, seconds: float) -> Iterator[list[float]]:
    """Ping ``vip`` every 10 ms; yields a list filled with the reply timestamps on exit."""
    count = int(seconds / 0.01)
    proc = client.popen("ping", "-D", "-n", "-i", "0.01", "-W", "1", "-c", str(count), vip,
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    stamps: list[float] = []
    try:
        yield stamps
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        for line in out.decode(errors="replace").splitlines():
            match = re.match(r"\[(\d+\.\d+)\].*bytes from", line)
            if match:
                stamps.append(float(match.group(1)))


def longest_gap(stamps: list[float]) -> float:
    return max((b - a for a, b in itertools.pairwise(stamps)), default=float("nan"))


def start_daemon(host: Host, conf: str, tmp: str) -> subprocess.Popen[bytes]:
    log = open(os.path.join(tmp, f"{host.name}.log"), "wb")  # noqa: SIM115 (closed with the lab)
    return host.popen(sys.executable, "-m", "pykeepalived", "-n", "-l", "-f", conf,
                      "-p", os.path.join(tmp, f"{host.name}.pid"),
                      "-r", os.path.join(tmp, f"{host.name}_vrrp.pid"),
                      "-c", os.path.join(tmp, f"{host.name}_checkers.pid"),
                      stdout=log, stderr=subprocess.STDOUT)


def main() -> int:
    if os.geteuid() != 0:
        say("The demo builds network namespaces: run it as root.")
        return 1
    daemons: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="pykeepalived-demo-") as tmp, Lab() as lab:
        say("Building the lab: switch namespace with a bridge, routers r1 and r2, a client")
        r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
        r2 = lab.add_host("r2", [["192.0.2.2/24"]], ipv6=False)
        client = lab.add_host("client", [["192.0.2.100/24"]], ipv6=False)
        client.run("sysctl", "-qw", "net.ipv4.conf.eth0.arp_accept=1")
        routers = {"r1": r1, "r2": r2}
        layouts = {"r1": ("MASTER", 150, "BACKUP", 100), "r2": ("BACKUP", 100, "MASTER", 150)}
        try:
            for name, host in routers.items():
                s1, p1, s2, p2 = layouts[name]
                conf = os.path.join(tmp, f"{name}.conf")
                with open(conf, "w") as fh:
                    fh.write(CONFIG.format(host=name, state1=s1, prio1=p1, state2=s2, prio2=p2))
                daemons.append(start_daemon(host, conf, tmp))
            say("Started pykeepalived on r1 and r2 (VRRPv3, advert_int 0.1 s)")
            say("  VI_1 192.0.2.10: r1 priority 150, r2 priority 100 (active/passive)")
            say("  VI_2 192.0.2.20: r2 priority 150, r1 priority 100 (the other way round)")
            wait_for(lambda: holders(routers) == {"VI_1": ["r1"], "VI_2": ["r2"]}, timeout=15)
            show(routers, "Elected:")

            say("\nFailing r1: its switch port goes down while the client pings 192.0.2.10")
            with pinging(client, VIPS["VI_1"], 6.0) as stamps:
                time.sleep(1.0)
                r1.cut()
                wait_for(lambda: holders(routers)["VI_1"] == ["r2"], timeout=10)
                time.sleep(1.5)
            show(routers, "After the failure:")
            say(f"  The client's longest gap between replies: {longest_gap(stamps) * 1000:.0f} ms")

            say("\nMending r1: it preempts and takes VI_1 back")
            with pinging(client, VIPS["VI_1"], 6.0) as stamps:
                time.sleep(1.0)
                r1.mend()
                wait_for(lambda: holders(routers)["VI_1"] == ["r1"], timeout=10)
                time.sleep(1.5)
            show(routers, "After the hand-back:")
            say(f"  The client's longest gap between replies: {longest_gap(stamps) * 1000:.0f} ms")
        finally:
            say("\nStopping the daemons (TERM: priority-0 adverts, VIPs removed)")
            for proc in daemons:
                proc.send_signal(signal.SIGTERM)
            for proc in daemons:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
            left = [f"{r}:{vip}" for r, h in routers.items() for vip in VIPS.values()
                    if h.has_address(vip)]
            say(f"  VIPs left behind: {', '.join(left) or 'none'}")
        say("Tearing the lab down")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
