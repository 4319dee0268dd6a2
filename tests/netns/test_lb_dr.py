"""Direct routing with the nftables backend: the director rewrites frames at ingress and the
real servers answer the client themselves (one segment, VIP on the real servers' lo)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from pykeepalived.lb.nftables import NftablesBackend
from tests.netns.lb_lab import CLIENT, CLIENT2, OTHER, LbLab, dr_lab, rs, web

pytestmark = pytest.mark.netns


@pytest.fixture
def lb() -> Iterator[LbLab]:
    with dr_lab() as the_lab:
        yield the_lab


@pytest.fixture
def backend(lb: LbLab) -> Iterator[NftablesBackend]:
    with lb.in_director():
        the_backend = NftablesBackend()
    try:
        yield the_backend
    finally:
        with lb.in_director():
            the_backend.clear()
            the_backend.close()


def test_dr_spreads_connections_and_servers_answer_directly(lb: LbLab,
                                                            backend: NftablesBackend) -> None:
    with lb.in_director():
        backend.apply([web(*(rs(n, method="DR") for n in ("rs1", "rs2", "rs3")))])
        assert 'fwd ip to 198.51.100.11 device "eth0"' in backend.ruleset()
    answers = lb.get(45)
    # source ports are random: 45 connections miss one of 3 equal slots with p < 1e-7
    assert set(Counter(a.split()[0] for a in answers)) == {"rs1", "rs2", "rs3"}, answers
    # DR does not rewrite addresses: each real server saw the client itself
    assert {a.split()[1] for a in answers} == {CLIENT}
    # the director does not route at all: every frame went through the ingress rules
    assert lb.director.run("sysctl", "-n", "net.ipv4.ip_forward").strip() == "0"
    with lb.in_director():
        counted = backend.scheduled()
    assert len(counted) == 3 and min(counted.values()) > 0, counted


def test_dr_removed_and_weight_zero_servers_get_nothing(lb: LbLab,
                                                        backend: NftablesBackend) -> None:
    with lb.in_director():
        backend.apply([web(rs("rs1", method="DR"), rs("rs2", 0, method="DR"))])
    assert lb.names(12) == {"rs1": 12}
    with lb.in_director():
        backend.apply([web(rs("rs2", method="DR"), rs("rs3", method="DR"))])
    names = lb.names(30)
    assert "rs1" not in names and set(names) == {"rs2", "rs3"}, names


def test_dr_persistence(lb: LbLab, backend: NftablesBackend) -> None:
    service = web(*(rs(n, method="DR") for n in ("rs1", "rs2", "rs3")), persistence=60,
                  granularity="255.255.255.128")
    with lb.in_director():
        backend.apply([service])
    first = lb.names(10)
    assert len(first) == 1, first
    (chosen,) = first
    assert lb.names(5, source=CLIENT2) == {chosen: 5}
    with lb.in_director():
        backend.apply([service])  # entries carried over into the new table
    assert lb.names(5) == {chosen: 5}
    spread = lb.names(30, source=OTHER)  # another client: its own choice, held as well
    assert len(spread) == 1, spread
