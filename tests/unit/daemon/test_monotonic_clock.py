"""Protocol timing runs on the monotonic clock only: a stepped wall clock changes nothing.

Three views of the same rule:

* statically, the VRRP core, the scheduler and the VRRP process's receive and timer paths
  never read the wall clock (``time.time``, ``datetime.now`` ...), except in the one place
  that must: the conversion of the kernel's receive stamps, which are wall-clock times;
* running, the VRRP process (its scheduler on a timerfd, its routers fed ``now``) keeps a
  backup in BACKUP while adverts arrive and fires its Master_Down_Timer on time, with
  ``time.time``, ``time.time_ns`` and ``datetime.datetime.now`` jumping hours forward and back;
* the receive stamps: a wall clock stepped between an advert's arrival and its reading does
  not make the advert older or younger than it is.
"""

from __future__ import annotations

import ast
import asyncio
import datetime
import socket
import struct
import time
from collections.abc import Callable, Iterator
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from pykeepalived.daemon.vrrp_main import VrrpProcess
from pykeepalived.net.vrrp_socket import SO_TIMESTAMPNS, ReceivedPacket, VrrpSocket
from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import State, StateChange
from tests.unit.daemon.keyword_helpers import load

SRC = Path(__file__).resolve().parents[3] / "src" / "pykeepalived"

# Modules whose clock decides when VRRP events happen.
TIMING_MODULES = sorted([
    *(SRC / "vrrp").glob("*.py"),
    SRC / "daemon" / "timers.py",
    SRC / "daemon" / "vrrp_main.py",
    SRC / "daemon" / "runtime.py",
    SRC / "daemon" / "instance.py",
    SRC / "daemon" / "tracker.py",
    SRC / "daemon" / "decoded.py",
    SRC / "net" / "vrrp_socket.py",
    SRC / "net" / "reflector.py",
])

WALL_CLOCK = {
    ("time", "time"), ("time", "time_ns"), ("time", "localtime"), ("time", "gmtime"),
    ("time", "ctime"), ("time", "asctime"), ("time", "strftime"), ("time", "mktime"),
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
    ("datetime", "fromtimestamp"), ("date", "today"), ("time", "CLOCK_REALTIME"),
    ("time", "clock_gettime"), ("time", "clock_gettime_ns"),
}
# The one reader allowed: receive stamps are wall-clock times, and turning them into
# monotonic ones needs the wall clock (and its step detection, tested below).
ALLOWED = {("net/vrrp_socket.py", "_StampClock")}


def wall_clock_reads(path: Path) -> list[tuple[str, int, str]]:
    """(enclosing class or function, line, what) for each wall-clock read in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[str, int, str]] = []

    def visit(node: ast.AST, owner: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = owner
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                name = child.name if isinstance(child, ast.ClassDef) or not owner else owner
            if isinstance(child, ast.Attribute):
                value = child.value
                base = (value.id if isinstance(value, ast.Name) else
                        value.attr if isinstance(value, ast.Attribute) else "")
                if (base, child.attr) in WALL_CLOCK:
                    found.append((owner, child.lineno, f"{base}.{child.attr}"))
            if isinstance(child, ast.ImportFrom) and child.module in ("time", "datetime"):
                for alias in child.names:
                    if (child.module, alias.name) in WALL_CLOCK or alias.name in (
                            "datetime", "date"):
                        found.append((owner, child.lineno, f"from {child.module} import "
                                                           f"{alias.name}"))
            visit(child, name)

    visit(tree, "")
    return found


def test_the_timing_modules_never_read_the_wall_clock() -> None:
    assert len(TIMING_MODULES) > 10 and all(p.exists() for p in TIMING_MODULES)
    offenders = []
    for path in TIMING_MODULES:
        rel = path.relative_to(SRC).as_posix()
        for owner, line, what in wall_clock_reads(path):
            if (rel, owner) not in ALLOWED:
                offenders.append(f"{rel}:{line} ({owner or 'module'}): {what}")
    assert offenders == []


def test_the_static_check_sees_a_wall_clock_timer(tmp_path: Path) -> None:
    """The check above can fail: it finds the reads a careless change would add."""
    probe = tmp_path / "clock_probe.py"
    probe.write_text("import time\nfrom datetime import datetime\n\nclass Timer:\n"
                     "    def due(self) -> float:\n        return time.time() + 1\n\n"
                     "def later():\n    return datetime.now()\n")
    found = {(owner, what) for owner, _, what in wall_clock_reads(probe)}
    assert found == {("Timer", "time.time"), ("", "from datetime import datetime"),
                     ("later", "datetime.now")}


# --------------------------------------------------------------------------- running
class Jumps:
    """A wall clock that is hours off, forward or back, and different at every reading."""

    def __init__(self) -> None:
        self.real_time = time.time
        self.real_time_ns = time.time_ns
        self.readings = 0
        self.steps = [0.0, 3 * 3600.0, -5 * 3600.0, 7 * 3600.0, -86400.0]

    def time(self) -> float:
        self.readings += 1
        return self.real_time() + self.steps[self.readings % len(self.steps)]

    def time_ns(self) -> int:
        return int(self.time() * 1e9)


@pytest.fixture
def jumping_wall_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Jumps]:
    jumps = Jumps()
    real_datetime = datetime.datetime

    class JumpyDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return real_datetime.fromtimestamp(jumps.time(), tz)

    monkeypatch.setattr(time, "time", jumps.time)
    monkeypatch.setattr(time, "time_ns", jumps.time_ns)
    monkeypatch.setattr(datetime, "datetime", JumpyDatetime)
    yield jumps


BACKUP_CONF = """
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    version 3
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.10/24
    }
}
"""
PEER = IPv4Address("192.0.2.2")


def advert_from_peer() -> ReceivedPacket:
    advert = packet.Advert(3, 51, 200, 0.1, (IPv4Address("192.0.2.10"),))
    data = packet.build_ipv4(advert, PEER, packet.VRRP_MCAST_IPV4, 1)
    return ReceivedPacket("eth0", 4, str(PEER), "224.0.0.18", 255, data, True)


async def run_backup(hear_for: float) -> tuple[float, list[tuple[float, str]]]:
    """A backup hears a master every 0.1 s for ``hear_for`` s, then nothing: returns when
    it heard the last advert and the state changes (monotonic time, new state)."""
    loop = asyncio.get_running_loop()
    proc = VrrpProcess(load(BACKUP_CONF))
    proc.build()
    changes: list[tuple[float, str]] = []

    def record(out: Any) -> None:  # no kernel here: the actions are only written down
        for _router, action in out:
            if isinstance(action, StateChange):
                changes.append((time.monotonic(), action.new.value))

    proc.emit = record  # type: ignore[method-assign]
    rt = proc.instances["VI_1"]
    rt.own_addresses = {IPv4Address("192.0.2.1")}
    rt.router.set_primary_address(IPv4Address("192.0.2.1"))
    for group in proc.all_groups():
        proc.emit(group.start(loop.time()))
        proc.arm(group)
    last = loop.time()
    end = last + hear_for
    while loop.time() < end:
        proc.on_packet(advert_from_peer())
        last = time.monotonic()
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)  # past the Master_Down_Interval (0.361 s), with room to spare
    proc.tracker.stop()
    proc.scheduler.close()
    return last, changes


def run(coro: Callable[[], Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro(), 30))


def test_a_backup_times_out_on_the_monotonic_clock_whatever_the_wall_clock_does(
        jumping_wall_clock: Jumps) -> None:
    last, changes = run(lambda: run_backup(1.0))
    # ten adverts heard with the wall clock hours off each time: still BACKUP throughout,
    # then MASTER once, Master_Down_Interval after the last advert, never before
    states = [state for _, state in changes]
    assert states == [State.BACKUP.value, State.MASTER.value], changes
    took_over = changes[-1][0] - last
    master_down = 3 * 0.1 + (256 - 100) * 0.1 / 256
    assert took_over >= master_down - 0.002, took_over
    assert took_over < master_down + 0.5, took_over  # late by hours would show here
    # the wall clock did jump for whoever read it
    readings = {round(time.time() - jumping_wall_clock.real_time()) for _ in range(5)}
    assert len(readings) > 1 and max(abs(r) for r in readings) >= 3600


# --------------------------------------------------------------------------- receive stamps
class FakeRawSocket:
    """Hands out prepared datagrams with their SO_TIMESTAMPNS stamps, then EAGAIN."""

    def __init__(self) -> None:
        self.queue: list[tuple[bytes, float]] = []

    def recvmsg_into(self, bufs: list[bytearray], ancbufsize: int) -> tuple[Any, ...]:
        if not self.queue:
            raise BlockingIOError
        data, realtime = self.queue.pop(0)
        bufs[0][:len(data)] = data
        sec = int(realtime)
        stamp = struct.pack("=qq", sec, int((realtime - sec) * 1e9))
        return len(data), [(socket.SOL_SOCKET, SO_TIMESTAMPNS, stamp)], 0, (str(PEER), 0)


class Wall:
    """``time.time`` as seen by the socket module: the real one plus a settable step."""

    def __init__(self) -> None:
        self.step = 0.0
        self.real = time.time

    def time(self) -> float:
        return self.real() + self.step


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> Wall:
    w = Wall()
    monkeypatch.setattr(time, "time", w.time)
    return w


def stamped_socket() -> tuple[VrrpSocket, FakeRawSocket, list[ReceivedPacket]]:
    got: list[ReceivedPacket] = []
    fake = FakeRawSocket()
    sock = VrrpSocket(fake, "eth0", 4, 1, 112, None, got.append, None)  # type: ignore[arg-type]
    return sock, fake, got


def arrived(ago: float, wall: Wall) -> tuple[float, float]:
    """(monotonic, wall-clock stamp) of a datagram that arrived ``ago`` s ago, stamped
    on the wall clock as it was then."""
    mono = time.monotonic() - ago
    return mono, mono + (wall.time() - time.monotonic())


@pytest.mark.parametrize("step", [0.5, -0.5, 3 * 3600.0, -3 * 3600.0])
def test_a_wall_clock_step_never_moves_an_advert_in_time(wall: Wall, step: float) -> None:
    sock, fake, got = stamped_socket()
    data = advert_from_peer().data
    mono, stamp = arrived(0.05, wall)
    fake.queue.append((data, stamp))
    wall.step += step  # stepped after the arrival, before the loop read the datagram
    sock._on_readable4()
    assert len(got) == 1
    # no stamp (the process takes its now), or the true arrival: never earlier or later
    assert got[0].rx_time == 0.0 or abs(got[0].rx_time - mono) < 0.001, (got[0].rx_time, mono)

    # once drained, datagrams stamped on the stepped clock are timed from their stamps again
    mono2, stamp2 = arrived(0.03, wall)
    fake.queue.append((data, stamp2))
    sock._on_readable4()
    assert abs(got[1].rx_time - mono2) < 0.001, (got[1].rx_time, mono2)


def test_stamps_are_used_when_the_wall_clock_holds_still(wall: Wall) -> None:
    sock, fake, got = stamped_socket()
    data = advert_from_peer().data
    times = []
    for ago in (0.04, 0.03, 0.02):
        mono, stamp = arrived(ago, wall)
        fake.queue.append((data, stamp))
        times.append(mono)
    sock._on_readable4()
    assert [round(p.rx_time - t, 3) for p, t in zip(got, times, strict=True)] == [0.0] * 3
