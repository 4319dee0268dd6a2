"""A VRRP socket that a burst has emptied is not watched for a moment (VrrpSocket._gather).

A master of many instances sends its adverts in one burst; reading them a few at a time costs
the backup a wake-up each time. After a readiness callback that read more than one datagram
and emptied the socket, the loop stops watching it for ``_GATHER`` seconds; what arrives
meanwhile is read in one callback afterwards. A single datagram, a flood that does not empty
the socket and ``drain()`` (a due timer's read) are never held back. A loopback UDP socket
stands for the raw one: the same recvmsg path.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

from pykeepalived.net import vrrp_socket
from pykeepalived.net.vrrp_socket import ReceivedPacket, VrrpSocket

WAIT = 2.0  # s: bound of every wait below (the gathering pause is 3 ms)


def datagram(i: int) -> bytes:
    return bytes([0x45, 0, 0, 40, 0, i & 0xFF]) + bytes(34)


async def until(check: Callable[[], bool]) -> bool:
    """``check()`` becomes true within WAIT seconds (bounded loop)."""
    for _ in range(int(WAIT / 0.005)):
        if check():
            return True
        await asyncio.sleep(0.005)
    return check()


def watched(loop: asyncio.AbstractEventLoop, vsock: VrrpSocket) -> bool:
    """The loop has a reader for ``vsock`` (removing it tells; it is put back)."""
    if not loop.remove_reader(vsock.sock.fileno()):
        return False
    vsock.start(loop)
    return True


def run(body: Callable[[VrrpSocket, socket.socket, list[ReceivedPacket]],
                       Awaitable[None]]) -> None:
    async def main() -> None:
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        rx.setblocking(False)
        got: list[ReceivedPacket] = []
        vsock = VrrpSocket(rx, "lo", 4, 1, 112, None, got.append, asyncio.get_running_loop())
        vsock.start(asyncio.get_running_loop())
        try:
            tx.connect(rx.getsockname())
            await body(vsock, tx, got)
        finally:
            vsock.close()
            tx.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_a_burst_read_in_one_callback_pauses_the_watch_then_the_rest_is_read() -> None:
    async def body(vsock: VrrpSocket, tx: socket.socket, got: list[ReceivedPacket]) -> None:
        loop = asyncio.get_running_loop()
        for i in range(3):
            tx.send(datagram(i))
        vsock._on_readable4()  # the loop's callback: reads all three, empties the socket
        assert [p.data for p in got] == [datagram(i) for i in range(3)]
        assert vsock._resume is not None  # gathering
        tx.send(datagram(3))  # the rest of the burst
        assert await until(lambda: len(got) == 4), len(got)  # read once the pause is over
        assert got[3].data == datagram(3)
        assert await until(lambda: vsock._resume is None)
        assert watched(loop, vsock)

    run(body)


def test_a_single_datagram_never_pauses_the_watch() -> None:
    async def body(vsock: VrrpSocket, tx: socket.socket, got: list[ReceivedPacket]) -> None:
        tx.send(datagram(0))
        vsock._on_readable4()
        assert len(got) == 1
        assert vsock._resume is None
        assert watched(asyncio.get_running_loop(), vsock)

    run(body)


def test_a_socket_not_emptied_is_not_paused() -> None:
    """A flood keeps the reader going: it stops at _MAX_DRAIN datagrams, the socket still
    holds some, and the next callback comes at once."""
    async def body(vsock: VrrpSocket, tx: socket.socket, got: list[ReceivedPacket]) -> None:
        for i in range(vrrp_socket._MAX_DRAIN + 5):
            tx.send(datagram(i))
        vsock._on_readable4()
        assert len(got) == vrrp_socket._MAX_DRAIN
        assert vsock._resume is None
        assert watched(asyncio.get_running_loop(), vsock)

    run(body)


def test_drain_reads_at_once_while_gathering() -> None:
    """A due timer drains the socket before it acts (VrrpProcess.on_timer): a pause of the
    watch never hides an advert from it."""
    async def body(vsock: VrrpSocket, tx: socket.socket, got: list[ReceivedPacket]) -> None:
        for i in range(2):
            tx.send(datagram(i))
        vsock._on_readable4()
        assert vsock._resume is not None
        tx.send(datagram(2))
        vsock.drain()
        assert [p.data for p in got] == [datagram(i) for i in range(3)]

    run(body)


def test_close_while_gathering_leaves_nothing_behind() -> None:
    async def body(vsock: VrrpSocket, tx: socket.socket, got: list[ReceivedPacket]) -> None:
        for i in range(2):
            tx.send(datagram(i))
        vsock._on_readable4()
        handle = vsock._resume
        assert handle is not None
        vsock.close()
        assert vsock._resume is None and handle.cancelled()
        await asyncio.sleep(0.02)  # past the pause: nothing watches the closed socket
        assert vsock.sock.fileno() < 0

    run(body)
