"""Real HTTP traffic through the load-balancer backends (NAT): a client, a director holding the
VIP, three real servers that answer with their names. Each test runs for every backend the
kernel has (IPVS is skipped, with the reason, on kernels without it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import ip_address

import pytest

from pykeepalived.lb.ipvs import IpvsBackend
from pykeepalived.lb.model import Backend, Destination, Service
from pykeepalived.lb.nftables import NftablesBackend
from pykeepalived.lb.select import detect_ipvs
from tests.netns.lb_lab import (
    CLIENT,
    CLIENT2,
    CLIENT6,
    OTHER,
    SERVERS,
    SERVERS6,
    VIP6,
    LbLab,
    nat_lab,
    nat_lab6,
    rs,
    web,
)

pytestmark = pytest.mark.netns

_IPVS = detect_ipvs(load_module=False)
BACKENDS = [
    pytest.param("nftables"),
    pytest.param("ipvs", marks=pytest.mark.skipif(
        not _IPVS.present, reason=f"this kernel has no IPVS: {_IPVS.how}")),
]


@contextmanager
def backend_in(lb: LbLab, kind: str, **options: bool) -> Iterator[Backend]:
    """A backend made in the director's namespace; cleared (and closed) at the end."""
    with lb.in_director():
        backend: IpvsBackend | NftablesBackend = (
            NftablesBackend(**options) if kind == "nftables" else IpvsBackend())
    try:
        yield backend
    finally:
        with lb.in_director():
            backend.clear()
            backend.close()


def apply(lb: LbLab, backend: Backend, *services: object) -> None:
    with lb.in_director():
        backend.apply(list(services))  # type: ignore[arg-type]


@pytest.fixture
def lb() -> Iterator[LbLab]:
    with nat_lab() as the_lab:
        yield the_lab


@pytest.mark.parametrize("kind", BACKENDS)
def test_round_robin_reaches_all_three_evenly(lb: LbLab, kind: str) -> None:
    with backend_in(lb, kind) as backend:
        apply(lb, backend, web(rs("rs1"), rs("rs2"), rs("rs3")))
        answers = lb.get(30)
        assert Counter(a.split()[0] for a in answers) == {"rs1": 10, "rs2": 10, "rs3": 10}
        # NAT: the real servers see the client itself
        assert {a.split()[1] for a in answers} == {CLIENT}


@pytest.mark.parametrize("kind", BACKENDS)
def test_wrr_follows_the_weights(lb: LbLab, kind: str) -> None:
    with backend_in(lb, kind) as backend:
        apply(lb, backend, web(rs("rs1", 1), rs("rs2", 2), rs("rs3", 3), scheduler="wrr"))
        assert lb.names(36) == {"rs1": 6, "rs2": 12, "rs3": 18}


@pytest.mark.parametrize("kind", BACKENDS)
def test_removed_destination_gets_no_more_traffic(lb: LbLab, kind: str) -> None:
    with backend_in(lb, kind) as backend:
        apply(lb, backend, web(rs("rs1"), rs("rs2"), rs("rs3")))
        assert set(lb.names(9)) == {"rs1", "rs2", "rs3"}
        apply(lb, backend, web(rs("rs1"), rs("rs2")))
        assert lb.names(20) == {"rs1": 10, "rs2": 10}


@pytest.mark.parametrize("kind", BACKENDS)
def test_weight_zero_gets_nothing_new_but_keeps_its_connection(lb: LbLab, kind: str) -> None:
    with backend_in(lb, kind) as backend:
        apply(lb, backend, web(rs("rs2")))
        kept = lb.keepalive()
        try:
            assert kept.request().startswith("rs2 ")
            apply(lb, backend, web(rs("rs1"), rs("rs2", 0), rs("rs3")))
            assert lb.names(20) == {"rs1": 10, "rs3": 10}
            # the connection made before is still served by rs2, through the new table
            assert kept.request().startswith("rs2 ")
        finally:
            kept.close()


@pytest.mark.parametrize("kind", BACKENDS)
def test_persistence_keeps_a_client_on_one_server(lb: LbLab, kind: str) -> None:
    service = web(rs("rs1"), rs("rs2"), rs("rs3"), persistence=60,
                  granularity="255.255.255.128")
    with backend_in(lb, kind) as backend:
        apply(lb, backend, service)
        other = lb.names(1, source=OTHER)  # another client takes the first server
        first = lb.names(8)
        assert len(first) == 1 and first.keys() != other.keys(), (other, first)
        (chosen,) = first
        # another address of the same /25 is the same client under this granularity
        assert lb.names(4, source=CLIENT2) == {chosen: 4}
        # applying again (the nftables table is replaced, its scheduling starts over)
        # keeps both clients where they were
        apply(lb, backend, service)
        assert lb.names(4) == {chosen: 4}
        assert lb.names(2, source=OTHER) == {next(iter(other)): 2}
        # and so does a new backend (pykeepalived restarted), which knows only the tables
        with lb.in_director():
            restarted = NftablesBackend() if kind == "nftables" else IpvsBackend()
            restarted.apply([service])
            restarted.close()
        assert lb.names(4) == {chosen: 4}
        # without that server, the client goes elsewhere, and stays there
        rest = [d for d in service.destinations if d.address != ip_address(SERVERS[chosen])]
        apply(lb, backend, web(*rest, persistence=60, granularity="255.255.255.128"))
        moved = lb.names(6)
        assert len(moved) == 1 and chosen not in moved, moved


@pytest.mark.parametrize("kind", BACKENDS)
def test_without_persistence_one_client_is_spread(lb: LbLab, kind: str) -> None:
    """The counterpart of the persistence test: the same client, no persistence."""
    with backend_in(lb, kind) as backend:
        apply(lb, backend, web(rs("rs1"), rs("rs2"), rs("rs3")))
        assert len(lb.names(6)) == 3


@pytest.mark.parametrize("kind", BACKENDS)
def test_clear_leaves_nothing(lb: LbLab, kind: str) -> None:
    with backend_in(lb, kind) as backend:
        apply(lb, backend, web(rs("rs1"), rs("rs2"), rs("rs3")))
        assert len(lb.names(3)) == 3
        with lb.in_director():
            backend.clear()
            assert backend.read() == []
        if kind == "nftables":
            assert "pykeepalived" not in lb.director.run("nft", "list", "tables")
        # nothing balances any more: the director itself does not serve port 80
        assert all(a.startswith("ERROR") for a in lb.get(2))


def test_masquerade_brings_replies_back_without_the_gateway() -> None:
    with nat_lab(server_gateway=False) as lb:
        with backend_in(lb, "nftables") as backend:
            apply(lb, backend, web(rs("rs1"), rs("rs2")))
            assert all(a.startswith("ERROR") for a in lb.get(2))  # replies cannot return
        with backend_in(lb, "nftables", masquerade=True) as backend:
            apply(lb, backend, web(rs("rs1"), rs("rs2")))
            answers = lb.get(4)
            assert Counter(a.split()[0] for a in answers) == {"rs1": 2, "rs2": 2}
            assert {a.split()[1] for a in answers} == {"198.51.100.1"}  # the director


@pytest.mark.parametrize("kind", BACKENDS)
def test_ipv6_round_robin_then_persistence(kind: str) -> None:
    def web6(persistence: int | None = None) -> Service:
        return Service(protocol="TCP", address=ip_address(VIP6), port=80, family=6,
                       scheduler="rr", persistence_timeout=persistence,
                       persistence_granularity="64" if persistence else None,
                       destinations=tuple(Destination(ip_address(a), 80)
                                          for a in SERVERS6.values()))

    with nat_lab6() as lb, backend_in(lb, kind) as backend:
        apply(lb, backend, web6())
        answers = lb.get(9)
        assert Counter(a.split()[0] for a in answers) == {"rs1": 3, "rs2": 3, "rs3": 3}
        assert {a.split()[1] for a in answers} == {CLIENT6}
        apply(lb, backend, web6(persistence=60))
        assert len(lb.names(6)) == 1
