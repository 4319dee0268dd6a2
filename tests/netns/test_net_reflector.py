"""NetlinkReflector in a namespace: carrier loss when the bridge port goes down, admin down,
address events, interfaces appearing and disappearing."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

import pytest

from pykeepalived.demo.lab import Lab
from pykeepalived.net import interfaces, netns
from pykeepalived.net.reflector import NetlinkReflector

pytestmark = pytest.mark.netns


def pump(loop: asyncio.AbstractEventLoop, done: Callable[[], bool], timeout: float = 5.0) -> bool:
    async def waiter() -> bool:
        for _ in range(int(timeout / 0.002)):
            if done():
                return True
            await asyncio.sleep(0.002)
        return done()

    return loop.run_until_complete(waiter())


def test_carrier_loss_and_return_seen(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    loop = asyncio.new_event_loop()
    links: list[tuple[str, bool, float]] = []
    with netns.enter(r1.netns):
        refl = NetlinkReflector(on_link=lambda n, up: links.append((n, up, time.monotonic())))
        refl.start(loop)
        try:
            assert refl.link_up("eth0") is True
            assert refl.link_up("lo") is True
            assert refl.link_up("nosuch0") is None
            t0 = time.monotonic()
            r1.cut()  # the switch side of the veth goes down: eth0 loses carrier
            assert pump(loop, lambda: ("eth0", False) in [(n, u) for n, u, _ in links])
            seen = next(t for n, u, t in links if n == "eth0" and not u)
            print(f"\ncarrier loss seen {(seen - t0) * 1000:.1f} ms after `ip link set down`"
                  " returned")
            assert refl.link_up("eth0") is False
            assert interfaces.link_is_up("eth0") is False  # the ioctl view agrees
            r1.mend()
            assert pump(loop, lambda: links[-1][:2] == ("eth0", True))
            assert interfaces.link_is_up("eth0") is True
            # admin down on the host itself
            r1.run("ip", "link", "set", "eth0", "down")
            assert pump(loop, lambda: links[-1][:2] == ("eth0", False))
            r1.run("ip", "link", "set", "eth0", "up")
            assert pump(loop, lambda: links[-1][:2] == ("eth0", True))
            # every report was a change: no up/up or down/down pairs for eth0
            states = [u for n, u, _ in links if n == "eth0"]
            assert all(a != b for a, b in itertools.pairwise(states))
        finally:
            refl.stop()
    loop.close()


def test_address_events_and_links_coming_and_going(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    loop = asyncio.new_event_loop()
    links: list[tuple[str, bool]] = []
    addrs: list[tuple[str, str, bool]] = []
    with netns.enter(r1.netns):
        refl = NetlinkReflector(on_link=lambda n, up: links.append((n, up)),
                                on_address=lambda n, a, added: addrs.append((n, a, added)))
        refl.start(loop)
        try:
            r1.run("ip", "addr", "add", "192.0.2.100/24", "dev", "eth0")
            r1.run("ip", "addr", "add", "2001:db8::100/64", "dev", "eth0", "nodad")
            assert pump(loop, lambda: ("eth0", "192.0.2.100", True) in addrs
                        and ("eth0", "2001:db8::100", True) in addrs)
            r1.run("ip", "addr", "del", "192.0.2.100/24", "dev", "eth0")
            assert pump(loop, lambda: ("eth0", "192.0.2.100", False) in addrs)
            r1.run("ip", "link", "add", "mv9", "link", "eth0", "type", "macvlan")
            r1.run("ip", "link", "set", "mv9", "up")
            assert pump(loop, lambda: ("mv9", True) in links)
            assert refl.link_up("mv9") is True
            r1.run("ip", "link", "del", "mv9")
            assert pump(loop, lambda: links[-1] == ("mv9", False))
            assert refl.link_up("mv9") is None
        finally:
            refl.stop()
    loop.close()


def test_callback_error_does_not_stop_reflector(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    loop = asyncio.new_event_loop()
    calls: list[bool] = []

    def bad(name: str, up: bool) -> None:
        calls.append(up)
        raise RuntimeError("handler bug")

    with netns.enter(r1.netns):
        refl = NetlinkReflector(on_link=bad)
        refl.start(loop)
        try:
            r1.cut()
            assert pump(loop, lambda: calls == [False])
            r1.mend()
            assert pump(loop, lambda: calls == [False, True])
        finally:
            refl.stop()
    loop.close()
