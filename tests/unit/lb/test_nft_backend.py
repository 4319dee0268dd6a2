"""NftablesBackend's choice between a change in place and a full replacement, over a stand-in
for nft that records each transaction (tests/netns/test_lb_nft_delta.py runs the real one)."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import ip_address
from typing import Any

from pykeepalived.lb.errors import LbError
from pykeepalived.lb.model import Destination, Service
from pykeepalived.lb.nftables import NftablesBackend, NftRunner

FULL = "add table inet pykeepalived\ndelete table inet pykeepalived\n"


class RecordingRunner(NftRunner):
    """Takes every script (or refuses the next ``refuse`` ones) and lists empty tables."""

    def __init__(self) -> None:
        self.kind = "stand-in"
        self.scripts: list[str] = []
        self.refuse = 0

    def run(self, script: str) -> None:
        self.scripts.append(script)
        if self.refuse:
            self.refuse -= 1
            raise LbError("nftables: nft refused the load-balancer table: Error: No such "
                          "file or directory")

    def list_json(self, family: str, table: str, what: str = "table") -> list[dict[str, Any]]:
        return []

    def list_text(self, family: str, table: str) -> str:
        return ""

    def close(self) -> None:
        pass


def web(*ports: int, weight: int = 1) -> Service:
    return Service(protocol="TCP", address=ip_address("203.0.113.10"), port=80, scheduler="rr",
                   destinations=tuple(Destination(ip_address("198.51.100.2"), p, weight=weight)
                                      for p in ports))


def backend() -> tuple[NftablesBackend, RecordingRunner]:
    runner = RecordingRunner()
    return NftablesBackend(runner=runner), runner


def test_the_first_apply_replaces_then_changes_are_made_in_place() -> None:
    nft, runner = backend()
    nft.apply([web(*range(1000, 1100))])
    assert runner.scripts[-1].startswith(FULL) and nft.last_kind == "full"
    nft.apply([web(*range(1000, 1050), *range(1051, 1100))])
    assert nft.last_kind == "delta"
    script = runner.scripts[-1]
    assert not script.startswith(FULL)
    # one real server went: its chain, and the service's chain that picks among them
    assert [line.split(" vmap")[0] for line in script.splitlines()] == [
        "flush chain inet pykeepalived s0",
        'add rule inet pykeepalived s0 counter comment "pk-svc TCP 203.0.113.10 80 - 4 rr - - -"',
        "add rule inet pykeepalived s0 numgen inc mod 99",
        "flush chain inet pykeepalived s0-198.51.100.2-1050",
        "delete chain inet pykeepalived s0-198.51.100.2-1050"]


def test_nothing_to_change_sends_nothing() -> None:
    nft, runner = backend()
    nft.apply([web(1000, 1001)])
    nft.apply([web(1000, 1001)])
    assert len(runner.scripts) == 1


def test_a_refused_change_in_place_is_followed_by_a_replacement() -> None:
    nft, runner = backend()
    nft.apply([web(1000, 1001, 1002)])
    runner.refuse = 1  # say the table was deleted behind pykeepalived's back
    nft.apply([web(1000, 1002)])
    assert [s.startswith(FULL) for s in runner.scripts] == [True, False, True]
    assert nft.last_kind == "full"
    assert "s0-198.51.100.2-1001" not in runner.scripts[-1]
    nft.apply([web(1000, 1001, 1002)])  # and then in place again
    assert nft.last_kind == "delta"


def test_a_refused_replacement_leaves_the_next_apply_a_replacement() -> None:
    nft, runner = backend()
    nft.apply([web(1000, 1001)])
    runner.refuse = 2
    try:
        nft.apply([web(1000)])
    except LbError:
        pass
    else:
        raise AssertionError("the refusal was not reported")
    nft.apply([web(1000)])
    assert runner.scripts[-1].startswith(FULL)


def test_after_clear_the_next_apply_replaces() -> None:
    nft, runner = backend()
    nft.apply([web(1000, 1001)])
    nft.clear()
    nft.apply([web(1000)])
    assert runner.scripts[-1].startswith(FULL)


def test_a_weight_change_is_made_in_place() -> None:
    nft, runner = backend()
    nft.apply([web(1000, 1001)])
    nft.apply([replace(web(1000, 1001), scheduler="wrr")])  # the service itself changed
    assert nft.last_kind == "delta"
    nft.apply([web(1000, 1001, weight=3)])
    assert "pk-rs 198.51.100.2 1001 3 NAT" in runner.scripts[-1]
