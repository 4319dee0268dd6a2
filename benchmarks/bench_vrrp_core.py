"""CPU cost of the VRRP core for N instances at advert_int 1 s (not a test; prints a table).

Run: ``PYTHONPATH=src python3 benchmarks/bench_vrrp_core.py [instances] [seconds]``.
Master side: every instance's timer fires once a second, the router queues a SendAdvert and
the driver encodes it. Backup side: every instance receives one datagram a second, which is
parsed (IPv4 header, VRRP message, checksum) and fed to the router. The budget for
pykeepalived is 5% of one core for 1,000 instances, i.e. 50 ms of CPU per simulated second.
These rows are the core's cost only.

The last row is the VRRP process's whole receive path without its sockets: a ``VrrpProcess``
built from a configuration of ``instances`` (250 per interface, interfaces described, not
real: no root needed) is handed each second one datagram per instance, as a master sends
them (a new IPv4 identification each time), through ``VrrpProcess.on_packet``: the
decoded-advert cache, the sync group and the router. Reading the socket and the event
loop come on top (``bench_vrrp.py`` measures the real process).
"""

from __future__ import annotations

import sys
import time
from ipaddress import IPv4Address

from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import SendAdvert
from pykeepalived.vrrp.router import RouterConfig, VirtualRouter


def make(n: int, priority: int, **kw: object) -> list[VirtualRouter]:
    routers = []
    for i in range(n):
        vips = (f"192.0.2.{i % 250 + 1}/24",)
        cfg = RouterConfig(f"VI_{i}", i % 255 + 1, priority, 1, vips=vips,
                           primary_address=IPv4Address("192.0.2.2"), garp_master_delay=0,
                           **kw)  # type: ignore[arg-type]
        routers.append(VirtualRouter(cfg))
    return routers


def master_side(n: int, seconds: int, **kw: object) -> float:
    routers = make(n, 255, **kw)
    src, dst = IPv4Address("192.0.2.2"), packet.VRRP_MCAST_IPV4
    for r in routers:
        r.start(0.0)
        r.actions()
    ah = bool(kw.get("auth_type") == "AH")
    start = time.process_time()
    for second in range(1, seconds + 1):
        for r in routers:
            r.handle_timer(float(second))
            for action in r.actions():
                if isinstance(action, SendAdvert):
                    if ah:
                        packet.build_ipv4_ah(action.advert, src, dst, "secret",
                                             action.ah_seq or 0, second)
                    else:
                        packet.encode(action.advert, src, dst)
    return (time.process_time() - start) / seconds


def backup_side(n: int, seconds: int, version: int) -> float:
    routers = make(n, 100, version=version)
    peer = IPv4Address("192.0.2.9")
    wires = [packet.build_ipv4(packet.Advert(version, r.vrid, 200, 1.0, r.advert.addresses),
                               peer, packet.VRRP_MCAST_IPV4, 1) for r in routers]
    for r in routers:
        r.start(0.0)
        r.actions()
    start = time.process_time()
    for second in range(1, seconds + 1):
        now = float(second)
        for r, wire in zip(routers, wires, strict=True):
            received = packet.decode_ipv4(wire)
            advert = packet.decode(received.vrrp, received.src, received.dst)
            r.receive_advert(advert, received.src, now, ttl=received.ttl)
            r.actions()
    return (time.process_time() - start) / seconds


def _config_text(n: int, per_if: int = 250) -> str:
    parts = ["global_defs {\n    router_id bench\n}\n"]
    for i in range(n):
        parts.append(f"vrrp_instance VI_{i} {{\n    state BACKUP\n    interface eth{i // per_if}\n"
                     f"    virtual_router_id {i % per_if + 1}\n    priority 100\n"
                     f"    advert_int 1\n    virtual_ipaddress {{\n"
                     f"        198.51.100.{i % per_if + 1}/32 dev eth{i // per_if}\n    }}\n}}\n")
    return "".join(parts)


def daemon_backup(n: int, seconds: int) -> float:
    """CPU seconds per simulated second of ``VrrpProcess.on_packet`` for ``n`` backups."""
    import asyncio
    import socket
    import tempfile

    from pykeepalived.config import load_config
    from pykeepalived.config.sysinfo import SystemInfo
    from pykeepalived.daemon.vrrp_main import VrrpProcess
    from pykeepalived.net.vrrp_socket import ReceivedPacket

    interfaces = [f"eth{i}" for i in range((n + 249) // 250)]
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf:
        conf.write(_config_text(n))
        conf.flush()
        config = load_config(conf.name, system=SystemInfo.fake(["lo", *interfaces])).config

    async def run() -> float:
        proc = VrrpProcess(config)
        proc.build()
        start_at = asyncio.get_running_loop().time()
        for group in proc.all_groups():
            proc.emit(group.start(start_at))
        master = {name: IPv4Address(f"203.0.113.{10 + i}") for i, name in enumerate(interfaces)}
        dst = packet.VRRP_MCAST_IPV4
        wires = []
        for second in range(1, seconds + 1):
            for rt in proc.instances.values():
                r = rt.router
                data = packet.build_ipv4(packet.Advert(2, r.vrid, 200, 1.0, r.advert.addresses),
                                         master[rt.plan.ifname], dst, second * n + r.vrid)
                wires.append((start_at + second, rt.plan.ifname, str(master[rt.plan.ifname]),
                              data))
        started = time.process_time()
        for now, ifname, src, data in wires:
            proc.on_packet(ReceivedPacket(ifname, 4, src, socket.inet_ntoa(data[16:20]),
                                          data[8], data, True, now))
        cost = time.process_time() - started
        if any(state.value != "BACKUP" for state in proc.states().values()):
            raise RuntimeError("a backup left BACKUP: the adverts did not reach it")
        proc.scheduler.close()
        return cost / seconds

    return asyncio.run(run())


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    rows = [
        ("master, v2, encode", master_side(n, seconds)),
        ("master, v3, encode", master_side(n, seconds, version=3)),
        ("master, v2 AH, build+HMAC", master_side(n, seconds, auth_type="AH",
                                                  auth_pass="secret")),
        ("backup, v2, decode+receive", backup_side(n, seconds, 2)),
        ("backup, v3, decode+receive", backup_side(n, seconds, 3)),
        ("backup, daemon on_packet", daemon_backup(n, seconds)),
    ]
    print(f"{n} instances, advert_int 1 s, {seconds} simulated seconds")
    print(f"{'path':30} {'CPU ms/s':>9} {'% of a core':>12} {'us/advert':>10}")
    for name, cost in rows:
        print(f"{name:30} {cost * 1000:9.2f} {cost * 100:11.2f}% {cost / n * 1e6:10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
