"""A backup reads the advert already waiting in its socket before it judges its
Master_Down_Timer.

Under load the VRRP process can be kept off the CPU past a backup's deadline while the master's
next advert sits in the socket; when the process runs again, the timerfd and the socket are both
ready, in no particular order. Acting on the timer first is a false failover from an advert that
arrived in time (its kernel receive stamp says so).
"""

from __future__ import annotations

import asyncio
import socket
from ipaddress import IPv4Address

from pykeepalived.config import load_config_text
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.daemon.vrrp_main import VrrpProcess
from pykeepalived.net.vrrp_socket import ReceivedPacket, VrrpSocket
from pykeepalived.vrrp import packet

CONF = """vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    version 3
    advert_int 0.01
    virtual_ipaddress {
        192.0.2.10/24
    }
}
"""
PEER = IPv4Address("192.0.2.2")


class QueueSocket:
    """Stands for the VRRP socket: datagrams queued in the kernel, delivered by ``drain``."""

    def __init__(self, proc: VrrpProcess) -> None:
        self.proc = proc
        self.queued: list[ReceivedPacket] = []
        self.drains = 0
        self.sent = 0

    def drain(self) -> None:
        self.drains += 1
        queued, self.queued = self.queued, []
        for pkt in queued:
            self.proc.on_packet(pkt)

    def send(self, payload: bytes, dst: str, *, src: str | None = None) -> None:
        self.sent += 1


def backup() -> tuple[VrrpProcess, QueueSocket]:
    proc = VrrpProcess(load_config_text(CONF, system=SystemInfo.fake(["lo", "eth0"])).config)
    proc.build()
    proc.batch.add = lambda rt: None  # type: ignore[method-assign]  # no kernel here
    proc.batch.gratuitous = lambda rt: None  # type: ignore[method-assign]
    sock = QueueSocket(proc)
    rt = proc.instances["VI_1"]
    rt.socket = sock  # type: ignore[assignment]
    rt.src, rt.src_ip = "192.0.2.1", IPv4Address("192.0.2.1")
    rt.router.set_primary_address(rt.src_ip)
    return proc, sock


def advert_at(proc: VrrpProcess, seq: int, rx_time: float) -> ReceivedPacket:
    rt = proc.instances["VI_1"]
    wire = packet.build_ipv4(packet.Advert(3, 51, 200, 0.01, rt.router.advert.addresses),
                             PEER, packet.VRRP_MCAST_IPV4, seq)
    return ReceivedPacket("eth0", 4, str(PEER), "224.0.0.18", 255, wire, True, rx_time)


def test_an_advert_waiting_in_the_socket_is_read_before_the_master_down_timer() -> None:
    async def main() -> None:
        proc, sock = backup()
        rt = proc.instances["VI_1"]
        group = rt.group
        assert group is not None
        t0 = asyncio.get_running_loop().time()
        proc.emit(group.start(t0))
        proc.arm(group)
        proc.on_packet(advert_at(proc, 1, t0))
        mdi = rt.router.master_down_interval
        deadline = rt.router.get_timer()
        assert deadline is not None and abs(deadline - (t0 + mdi)) < 1e-9
        # the next advert arrived 10 ms later, but the process ran again only 5 ms past the
        # deadline: the timer and the socket are ready together
        sock.queued.append(advert_at(proc, 2, t0 + 0.01))
        proc.on_timer(rt, t0 + mdi + 0.005)
        assert rt.router.state.value == "BACKUP"
        assert sock.sent == 0
        assert sock.drains == 1
        after = rt.router.get_timer()
        assert after is not None and abs(after - (t0 + 0.01 + mdi)) < 1e-9
        proc.scheduler.close()

    asyncio.run(main())


def test_with_nothing_waiting_the_master_down_timer_still_expires() -> None:
    async def main() -> None:
        proc, sock = backup()
        rt = proc.instances["VI_1"]
        group = rt.group
        assert group is not None
        t0 = asyncio.get_running_loop().time()
        proc.emit(group.start(t0))
        proc.arm(group)
        proc.on_packet(advert_at(proc, 1, t0))
        proc.on_timer(rt, t0 + rt.router.master_down_interval + 0.005)
        assert sock.drains == 1
        assert rt.router.state.value == "MASTER"
        assert sock.sent >= 1
        proc.scheduler.close()

    asyncio.run(main())


def test_drain_delivers_the_datagrams_already_queued() -> None:
    """VrrpSocket.drain reads the socket now, whether or not the loop has seen it ready
    (a loopback UDP socket stands for the raw one: same recvmsg path)."""
    async def main() -> None:
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        rx.setblocking(False)
        got: list[ReceivedPacket] = []
        vsock = VrrpSocket(rx, "lo", 4, 1, 112, None, got.append,
                           asyncio.get_running_loop())
        try:
            vsock.drain()
            assert got == []
            datagrams = [bytes([0x45, 0, 0, 40, 0, i]) + bytes(34) for i in range(3)]
            for d in datagrams:
                tx.sendto(d, rx.getsockname())
            vsock.drain()
            assert [p.data for p in got] == datagrams
        finally:
            rx.close()
            tx.close()

    asyncio.run(main())
