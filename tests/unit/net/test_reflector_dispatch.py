"""NetlinkReflector's bookkeeping, fed with hand-made rtnetlink messages (no sockets)."""

from __future__ import annotations

import socket
import struct

import pytest

from pykeepalived.net import _netlink as nl
from pykeepalived.net.reflector import NetlinkReflector

UP = nl.IFF_UP | nl.IFF_RUNNING
Fixture = tuple[NetlinkReflector, list[tuple[str, bool]], list[tuple[str, str, bool]]]


def link_msg(index: int, name: str, flags: int) -> memoryview:
    body = struct.pack("=BxHiII", 0, 1, index, flags, 0xFFFFFFFF)
    return memoryview(body + nl.attr(nl.IFLA_IFNAME, name.encode() + b"\0"))


def addr_msg(index: int, address: str) -> memoryview:
    af = socket.AF_INET6 if ":" in address else socket.AF_INET
    packed = socket.inet_pton(af, address)
    body = nl.ifaddrmsg(af, 24, 0, 0, index) + nl.attr(nl.IFA_ADDRESS, packed)
    if af == socket.AF_INET:
        body += nl.attr(nl.IFA_LOCAL, packed)
    return memoryview(body)


@pytest.fixture
def reflector() -> Fixture:
    links: list[tuple[str, bool]] = []
    addrs: list[tuple[str, str, bool]] = []
    refl = NetlinkReflector(on_link=lambda n, u: links.append((n, u)),
                            on_address=lambda n, a, added: addrs.append((n, a, added)))
    refl.links = {1: nl.LinkInfo(1, "lo", UP), 2: nl.LinkInfo(2, "eth0", UP)}
    return refl, links, addrs


def test_only_changes_are_reported(reflector: Fixture) -> None:
    refl, links, _ = reflector
    refl._dispatch(nl.RTM_NEWLINK, link_msg(2, "eth0", UP))  # e.g. an MTU change: no news
    assert links == []
    refl._dispatch(nl.RTM_NEWLINK, link_msg(2, "eth0", nl.IFF_UP))  # carrier lost
    refl._dispatch(nl.RTM_NEWLINK, link_msg(2, "eth0", nl.IFF_UP))
    refl._dispatch(nl.RTM_NEWLINK, link_msg(2, "eth0", UP))
    assert links == [("eth0", False), ("eth0", True)]
    assert refl.link_up("eth0") is True


def test_new_renamed_and_deleted_links(reflector: Fixture) -> None:
    refl, links, _ = reflector
    refl._dispatch(nl.RTM_NEWLINK, link_msg(5, "vrrp.51", 0))
    refl._dispatch(nl.RTM_NEWLINK, link_msg(5, "vrrp.51", UP))
    refl._dispatch(nl.RTM_NEWLINK, link_msg(5, "vmac1", UP))  # renamed
    refl._dispatch(nl.RTM_DELLINK, link_msg(5, "vmac1", UP))
    assert links == [("vrrp.51", False), ("vrrp.51", True), ("vrrp.51", False),
                     ("vmac1", True), ("vmac1", False)]
    assert refl.link_up("vmac1") is None and refl.index_of("eth0") == 2


def test_address_events_carry_interface_names(reflector: Fixture) -> None:
    refl, _, addrs = reflector
    refl._dispatch(nl.RTM_NEWADDR, addr_msg(2, "192.0.2.100"))
    refl._dispatch(nl.RTM_DELADDR, addr_msg(2, "2001:db8::100"))
    refl._dispatch(nl.RTM_NEWADDR, addr_msg(9, "192.0.2.9"))  # unknown index
    assert addrs == [("eth0", "192.0.2.100", True), ("eth0", "2001:db8::100", False),
                     ("9", "192.0.2.9", True)]


def test_resync_reports_what_was_missed(reflector: Fixture,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    refl, links, _ = reflector
    refl._dumper = object()  # type: ignore[assignment]
    monkeypatch.setattr(nl, "dump_links", lambda _sock: [
        nl.LinkInfo(1, "lo", UP), nl.LinkInfo(3, "eth1", UP)])
    refl._resync(report=True)
    assert sorted(links) == [("eth0", False), ("eth1", True)]
    assert refl.resyncs == 1
