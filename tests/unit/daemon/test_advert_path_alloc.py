"""The advert paths of the VRRP process allocate nothing that lives on, in steady state.

A collector pass is a pause of the whole process, and what starts one is the number of
container objects allocated and not yet freed. A master sends an advert every advert_int (100 a
second at 0.01 s) and a backup reads as many: if either path kept an object per advert, the
collector would run every few seconds. Measured with tracemalloc over 5,000 adverts driven
through the real code (the timer scheduler, the sync group, the router, the runtime for the
master; ``VrrpProcess.on_packet`` with the decoded-advert cache for the backup), with only the
socket replaced: the memory traced after the run is what it was before (to a few hundred bytes
whatever the number of adverts: 5,000 or 20,000 give the same), the peak within the run is a
couple of KiB (one advert's temporaries), and no collection runs. The master's advert is
encoded (checksum included) once, and again only when its priority changes; the backup decodes
a datagram once, and finds it in the cache afterwards.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
import types
from collections.abc import Iterator
from ipaddress import IPv4Address
from typing import Any

import pytest

from pykeepalived.config import load_config_text
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.daemon import timers
from pykeepalived.daemon.vrrp_main import VrrpProcess
from pykeepalived.net.vrrp_socket import ReceivedPacket
from pykeepalived.vrrp import packet

ADVERTS = 5000
RETAINED_MAX = 2048  # bytes over the whole run: less than one small object per 100 adverts
PEAK_MAX = 8192  # bytes: the temporaries of one advert, a few times over

CONF = """vrrp_instance VI_1 {{
    state {state}
    interface eth0
    virtual_router_id 51
    priority {priority}
    version 3
    advert_int 0.01
    track_interface {{
        eth1 weight -50
    }}
    virtual_ipaddress {{
        192.0.2.10/24
    }}
}}
"""


class FakeSocket:
    """Counts what the runtime sends; keeps the last payload."""

    def __init__(self) -> None:
        self.sent = 0
        self.last = b""

    def send(self, payload: bytes, dst: str, *, src: str | None = None) -> None:
        self.sent += 1
        self.last = payload

    def drain(self) -> None:
        """Nothing is ever queued for this socket."""


class Measured:
    """tracemalloc's traced memory and the collector's passes over a block."""

    def __init__(self) -> None:
        self.retained = self.peak = 0
        self.collections: list[int] = []

    def _count(self, phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            self.collections.append(info["generation"])

    def __enter__(self) -> Measured:
        gc.collect()
        gc.callbacks.append(self._count)
        tracemalloc.start()
        tracemalloc.reset_peak()
        self._base = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        gc.callbacks.remove(self._count)
        self.retained, self.peak = current - self._base, peak - self._base


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How often the codec runs: encode (with its checksum) and the two decoding steps."""
    counted: dict[str, int] = {}
    for name in ("encode", "decode_ipv4", "decode_received"):
        real = getattr(packet, name)

        def wrapper(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            counted[_name] = counted.get(_name, 0) + 1
            return _real(*args, **kw)

        monkeypatch.setattr(packet, name, wrapper)
    yield counted


def process(state: str, priority: int) -> VrrpProcess:
    text = CONF.format(state=state, priority=priority)
    system = SystemInfo.fake(["lo", "eth0", "eth1"])
    proc = VrrpProcess(load_config_text(text, system=system).config)
    proc.build()
    proc.batch.add = lambda rt: None  # type: ignore[method-assign]  # no kernel here
    proc.batch.gratuitous = lambda rt: None  # type: ignore[method-assign]
    return proc


def test_master_send_path_keeps_nothing_and_encodes_once(
        monkeypatch: pytest.MonkeyPatch, calls: dict[str, int]) -> None:
    clock = [1000.0]
    monkeypatch.setattr(timers, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))

    async def main() -> None:
        proc = process("MASTER", 200)
        rt = proc.instances["VI_1"]
        sock = FakeSocket()
        rt.socket = sock  # type: ignore[assignment]
        rt.src, rt.src_ip = "192.0.2.1", IPv4Address("192.0.2.1")
        rt.router.set_primary_address(rt.src_ip)
        group = rt.group
        assert group is not None
        proc.emit(group.start(clock[0]))
        proc.arm(group)
        proc.on_tracked("interface eth1", True)

        def advert_timer() -> None:  # the timerfd fires 10 ms later each time
            clock[0] += 0.01
            proc.scheduler._fire()

        for _ in range(200):  # into steady state
            advert_timer()
        calls.clear()
        sent = sock.sent
        with Measured() as m:
            for _ in range(ADVERTS):
                advert_timer()
        assert rt.router.state.value == "MASTER"
        assert sock.sent - sent == ADVERTS
        assert m.retained < RETAINED_MAX, m.retained
        assert m.peak < PEAK_MAX, m.peak
        assert m.collections == []
        assert calls == {}  # the same bytes every time: no encoding, no checksum
        assert sock.last[2] == 200

        proc.on_tracked("interface eth1", False)  # priority 200 - 50
        for _ in range(10):
            advert_timer()
        assert calls == {"encode": 1}
        assert sock.last[2] == 150
        proc.scheduler.close()

    asyncio.run(main())


def test_backup_receive_path_keeps_nothing_and_decodes_once(calls: dict[str, int]) -> None:
    async def main() -> None:
        proc = process("BACKUP", 100)
        rt = proc.instances["VI_1"]
        group = rt.group
        assert group is not None
        now = asyncio.get_running_loop().time()
        proc.emit(group.start(now))
        proc.arm(group)
        advert = packet.Advert(3, 51, 200, 0.01, rt.router.advert.addresses)
        peer = IPv4Address("192.0.2.2")
        # as a master sends them: a new IPv4 identification in every datagram
        wires = [packet.build_ipv4(advert, peer, packet.VRRP_MCAST_IPV4, i + 1)
                 for i in range(1000)]
        at = [now]

        def receive(i: int) -> None:
            at[0] += 0.01
            proc.on_packet(ReceivedPacket("eth0", 4, "192.0.2.2", "224.0.0.18", 255,
                                          wires[i % len(wires)], True, at[0]))

        for i in range(200):
            receive(i)
        calls.clear()
        received = rt.router.stats.advert_rcvd
        with Measured() as m:
            for i in range(ADVERTS):
                receive(i)
        assert rt.router.state.value == "BACKUP"
        assert rt.router.stats.advert_rcvd - received == ADVERTS
        assert m.retained < RETAINED_MAX, m.retained
        assert m.peak < PEAK_MAX, m.peak
        assert m.collections == []
        assert calls == {}  # every datagram found in the decoded-advert cache
        proc.scheduler.close()

    asyncio.run(main())
