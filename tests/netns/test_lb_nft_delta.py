"""The nftables backend's changes made in place, against the real nft and real traffic: a real
server taken out and put back, a weight changed, each leaves the table a full replacement
would write (``nft -j list table``, handles, counters and set entries aside), traffic follows,
and the untouched real servers keep their counters; when the table was changed behind
pykeepalived's back, the change is made by replacing the table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from ipaddress import ip_address
from typing import Any

import pytest

from pykeepalived.lb.model import Service
from pykeepalived.lb.nftables import NftablesBackend
from tests.netns.lb_lab import SERVERS, LbLab, dr_lab, nat_lab, rs, web

pytestmark = pytest.mark.netns

WEB = web(rs("rs1"), rs("rs2"), rs("rs3"))
# a persistent service next to it (no traffic): its sets come and go with the real servers
STICKY = replace(web(rs("rs1"), rs("rs2"), rs("rs3"), persistence=300), port=443)


def without_rs2(service: Service) -> Service:
    return replace(service, destinations=tuple(
        d for d in service.destinations if d.address != ip_address(SERVERS["rs2"])))


def normalised(lb: LbLab, family: str = "inet") -> dict[str, Any]:
    """The table as ``nft -j`` lists it, without what a replacement may change and a
    change in place keeps: handles, counter values, the sets' entries, the chains' order."""
    listing = json.loads(lb.director.run("nft", "-j", "list", "table", family,
                                         "pykeepalived"))["nftables"]
    out: dict[str, Any] = {"sets": {}, "chains": {}, "rules": {}}
    for obj in listing:
        if "set" in obj:
            found = {k: v for k, v in obj["set"].items() if k not in ("handle", "elem")}
            out["sets"][found["name"]] = found
        elif "chain" in obj:
            found = {k: v for k, v in obj["chain"].items() if k != "handle"}
            out["chains"][found["name"]] = found
        elif "rule" in obj:
            rule = obj["rule"]
            exprs = [{"counter": None} if "counter" in e else e for e in rule["expr"]]
            out["rules"].setdefault(rule["chain"], []).append((exprs, rule.get("comment")))
    assert out["chains"] and out["rules"], listing
    return out


def replaced(lb: LbLab, services: list[Service], family: str = "inet") -> dict[str, Any]:
    """The table a backend that knows nothing of the last one writes (a full replacement)."""
    with lb.in_director():
        fresh = NftablesBackend()
        fresh.apply(services)
        kind = fresh.last_kind
        fresh.close()
    assert kind == "full"
    return normalised(lb, family)


def packets(lb: LbLab, backend: NftablesBackend, name: str) -> int:
    with lb.in_director():
        counts = backend.scheduled()
    return counts[(WEB.key(), (ip_address(SERVERS[name]), 80))]


@pytest.fixture
def lb() -> Iterator[LbLab]:
    with nat_lab() as the_lab:
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


def apply(lb: LbLab, backend: NftablesBackend, services: list[Service]) -> str:
    with lb.in_director():
        backend.apply(services)
    return backend.last_kind


def test_a_server_out_and_back_in_place_is_what_a_replacement_writes(
        lb: LbLab, backend: NftablesBackend) -> None:
    assert apply(lb, backend, [WEB, STICKY]) == "full"
    assert lb.names(9) == {"rs1": 3, "rs2": 3, "rs3": 3}
    assert packets(lb, backend, "rs1") == 3

    assert apply(lb, backend, [without_rs2(WEB), without_rs2(STICKY)]) == "delta"
    assert lb.names(10) == {"rs1": 5, "rs3": 5}
    # rs1's chain was left alone: its counter goes on from where it was
    assert packets(lb, backend, "rs1") == 3 + 5
    in_place = normalised(lb)
    assert "s1-198.51.100.12-80p" not in in_place["sets"]
    assert in_place == replaced(lb, [without_rs2(WEB), without_rs2(STICKY)])

    assert apply(lb, backend, [WEB, STICKY]) == "delta"
    assert lb.names(9) == {"rs1": 3, "rs2": 3, "rs3": 3}
    in_place = normalised(lb)
    assert "s1-198.51.100.12-80p" in in_place["sets"]
    assert in_place == replaced(lb, [WEB, STICKY])


def test_a_weight_change_in_place(lb: LbLab, backend: NftablesBackend) -> None:
    weighted = web(rs("rs1", 1), rs("rs2", 2), rs("rs3", 3), scheduler="wrr")
    assert apply(lb, backend, [replace(weighted, scheduler="rr")]) == "full"
    assert apply(lb, backend, [weighted]) == "delta"
    assert lb.names(36) == {"rs1": 6, "rs2": 12, "rs3": 18}
    assert normalised(lb) == replaced(lb, [weighted])
    inhibited = web(rs("rs1", 1), rs("rs2", 0), rs("rs3", 3), scheduler="wrr")
    assert apply(lb, backend, [inhibited]) == "delta"
    assert lb.names(8) == {"rs1": 2, "rs3": 6}
    assert normalised(lb) == replaced(lb, [inhibited])


def test_a_table_changed_behind_our_back_is_replaced(lb: LbLab,
                                                     backend: NftablesBackend) -> None:
    assert apply(lb, backend, [WEB]) == "full"
    lb.director.run("nft", "delete", "table", "inet", "pykeepalived")
    assert apply(lb, backend, [without_rs2(WEB)]) == "full"
    assert lb.names(4) == {"rs1": 2, "rs3": 2}
    assert normalised(lb) == replaced(lb, [without_rs2(WEB)])


def test_direct_routing_in_place() -> None:
    dr = web(*(rs(name, method="DR") for name in ("rs1", "rs2", "rs3")))
    with dr_lab() as lb:
        with lb.in_director():
            backend = NftablesBackend()
        try:
            assert apply(lb, backend, [dr]) == "full"
            assert apply(lb, backend, [without_rs2(dr)]) == "delta"
            names = lb.names(30)
            assert set(names) == {"rs1", "rs3"}, names
            assert normalised(lb, "netdev") == replaced(lb, [without_rs2(dr)], "netdev")
            assert apply(lb, backend, [dr]) == "delta"
            assert normalised(lb, "netdev") == replaced(lb, [dr], "netdev")
        finally:
            with lb.in_director():
                backend.clear()
                backend.close()
