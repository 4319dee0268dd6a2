"""Changes made in place: the commands :func:`nft_delta.delta` writes, checked against a model
of what nftables does with them (a chain or set must exist before a rule names it, only an
empty chain that no rule names can be deleted), and the tables they leave against the ones a
full replacement writes."""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from ipaddress import ip_address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pykeepalived.lb import nft_delta, nft_script
from pykeepalived.lb.model import Destination, Service
from pykeepalived.lb.nft_script import Chain, Ruleset, Table


def rs(last: int, weight: int = 1, method: str = "NAT") -> Destination:
    return Destination(address=ip_address(f"198.51.100.{last}"), port=80, weight=weight,
                       method=method)


def web(*dests: Destination, scheduler: str = "rr", persistence: int | None = None,
        port: int = 80) -> Service:
    return Service(protocol="TCP", address=ip_address("203.0.113.10"), port=port,
                   scheduler=scheduler, persistence_timeout=persistence,
                   destinations=dests)


DR_DEVICES = {ip_address(f"198.51.100.{n}"): "eth1" for n in range(1, 40)}


def tables(*services: Service, masquerade: bool = False) -> Ruleset:
    return nft_script.ruleset(nft_script.layout(services), devices=DR_DEVICES,
                              masquerade=masquerade)


# ------------------------------------------------------------------ a model of nftables
NAMES = re.compile(r"(?:goto|jump) ([\w.\-/]+)|@([\w.\-/]+)")


def named(rule: str) -> set[str]:
    """The chains and sets a rule names."""
    return {a or b for a, b in NAMES.findall(rule)}


def run(tables: Ruleset, script: str) -> Ruleset:
    """``script`` (a transaction of add/flush/delete commands) applied to a copy of
    ``tables``, refusing what nftables refuses."""
    out = copy.deepcopy(tables)
    by_family = {"inet": out.inet, "netdev": out.netdev}
    for line in script.splitlines():
        words = line.split(" ", 5)
        verb, kind, family, table_name = words[:4]
        assert table_name == "pykeepalived"
        table = by_family[family]
        assert table is not None, line
        name = words[4]
        if (verb, kind) == ("add", "set"):
            assert name not in table.sets, line
            table.sets[name] = words[5].strip("{} ")
        elif (verb, kind) == ("add", "chain"):
            assert name not in table.chains, line
            table.chains[name] = Chain("", ())
        elif (verb, kind) == ("flush", "chain"):
            assert name in table.chains, line
            table.chains[name] = replace(table.chains[name], rules=())
        elif (verb, kind) == ("add", "rule"):
            rule = words[5]
            for ref in named(rule):
                assert ref in table.chains or ref in table.sets, f"{line}: no {ref}"
            chain = table.chains[name]
            table.chains[name] = replace(chain, rules=(*chain.rules, rule))
        elif verb == "delete":
            store = table.chains if kind == "chain" else table.sets
            assert name in store, line
            if kind == "chain":
                assert not table.chains[name].rules, f"{line}: the chain has rules"
            for other, chain in table.chains.items():
                assert all(name not in named(r) for r in chain.rules), \
                    f"{line}: still named by {other}"
            del store[name]
        else:
            raise AssertionError(f"unexpected command {line}")
    return out


def same(a: Table | None, b: Table | None) -> bool:
    """Equal as nftables would list them (the order of chains and sets aside)."""
    if a is None or b is None:
        return a is b
    return (a.family, a.sets, a.chains) == (b.family, b.sets, b.chains)


def changed_chains(script: str) -> set[str]:
    return {line.split()[4] for line in script.splitlines()
            if line.split()[:2] in (["add", "rule"], ["flush", "chain"], ["add", "chain"],
                                    ["delete", "chain"])}


# ------------------------------------------------------------------ the commands
def test_removing_one_real_server_touches_its_chain_and_its_service_chain_only() -> None:
    many = [rs(n) for n in range(1, 31)]
    old, new = tables(web(*many)), tables(web(*many[:9], *many[10:]))
    script = nft_delta.delta(old, new)
    assert script is not None
    assert changed_chains(script) == {"s0", "s0-198.51.100.10-80"}
    assert script.splitlines()[0] == "flush chain inet pykeepalived s0"
    assert script.splitlines()[-2:] == ["flush chain inet pykeepalived s0-198.51.100.10-80",
                                        "delete chain inet pykeepalived s0-198.51.100.10-80"]
    assert "numgen inc mod 29 vmap" in script
    assert same(run(old, script).inet, new.inet)


def test_a_real_server_put_back_gets_its_chain_before_the_rule_naming_it() -> None:
    old, new = tables(web(rs(1), rs(3))), tables(web(rs(1), rs(2), rs(3)))
    script = nft_delta.delta(old, new)
    assert script is not None
    assert script.splitlines() == [
        "add chain inet pykeepalived s0-198.51.100.2-80",
        "flush chain inet pykeepalived s0",
        'add rule inet pykeepalived s0 counter comment "pk-svc TCP 203.0.113.10 80 - 4 rr - - -"',
        "add rule inet pykeepalived s0 numgen inc mod 3 vmap { 0 : goto s0-198.51.100.1-80, "
        "1 : goto s0-198.51.100.2-80, 2 : goto s0-198.51.100.3-80 }",
        "add rule inet pykeepalived s0-198.51.100.2-80 counter meta l4proto tcp dnat ip to "
        '198.51.100.2:80 comment "pk-rs 198.51.100.2 80 1 NAT"']
    assert same(run(old, script).inet, new.inet)


def test_a_weight_change_rewrites_that_server_and_the_scheduling() -> None:
    old = tables(web(rs(1), rs(2), rs(3), scheduler="wrr"))
    new = tables(web(rs(1), rs(2, 0), rs(3), scheduler="wrr"))  # inhibit_on_failure
    script = nft_delta.delta(old, new)
    assert script is not None
    assert changed_chains(script) == {"s0", "s0-198.51.100.2-80"}
    assert 'comment "pk-rs 198.51.100.2 80 0 NAT"' in script
    assert "delete" not in script  # weight 0: the chain stays, it gets no new connections
    assert same(run(old, script).inet, new.inet)


def test_persistence_sets_come_before_their_rules_and_go_after_them() -> None:
    old = tables(web(rs(1), rs(2), persistence=300))
    new = tables(web(rs(1), rs(3), persistence=300))
    script = nft_delta.delta(old, new)
    assert script is not None
    lines = script.splitlines()
    assert lines[0] == ("add set inet pykeepalived s0-198.51.100.3-80p { type ipv4_addr; "
                        "flags dynamic,timeout; timeout 300s; }")
    assert lines[-1] == "delete set inet pykeepalived s0-198.51.100.2-80p"
    # the persistence refresh of forwarded packets follows the real servers too
    assert "flush chain inet pykeepalived s0r" in lines
    # the other real server's set (its persistent clients) is left alone
    assert "s0-198.51.100.1-80p" not in " ".join(
        line for line in lines if not line.startswith(("add rule inet pykeepalived s0 ",
                                                       "add rule inet pykeepalived s0r ")))
    assert same(run(old, script).inet, new.inet)


def test_nothing_changed_is_an_empty_transaction() -> None:
    assert nft_delta.delta(tables(web(rs(1), rs(2))), tables(web(rs(1), rs(2)))) == ""


@pytest.mark.parametrize(("before", "after", "why"), [
    ((web(rs(1)),), (web(rs(1), rs(2, method="DR")),), "the DR table appears"),
    ((web(rs(1), rs(2, method="DR")),), (web(rs(1)),), "the DR table goes"),
    ((web(rs(1), persistence=60),), (web(rs(1), persistence=90),), "a set's timeout"),
    ((web(rs(1)),), (web(rs(1), persistence=60),), "the forward hook appears"),
    ((web(rs(1), persistence=60),), (web(rs(1, method="DR"), persistence=60),),
     "the forward hook goes"),
])
def test_what_only_a_replacement_can_do(before: tuple[Service, ...],
                                        after: tuple[Service, ...], why: str) -> None:
    assert nft_delta.delta(tables(*before), tables(*after)) is None, why


def test_masquerade_hook_change_needs_a_replacement() -> None:
    assert nft_delta.delta(tables(web(rs(1))), tables(web(rs(1)), masquerade=True)) is None


# ------------------------------------------------------------------ any change at all
SERVERS = st.dictionaries(st.integers(1, 12), st.tuples(st.integers(0, 3),
                                                         st.sampled_from(["NAT", "DR"])),
                          max_size=8)


def services_from(pools: list[dict[int, tuple[int, str]]], scheduler: str,
                  persistence: int | None) -> list[Service]:
    return [web(*(rs(n, w, m) for n, (w, m) in sorted(pool.items())), scheduler=scheduler,
                persistence=persistence, port=80 + k) for k, pool in enumerate(pools)]


@settings(max_examples=300, deadline=None)
@given(st.lists(SERVERS, min_size=1, max_size=3), st.lists(SERVERS, min_size=1, max_size=3),
       st.sampled_from(["rr", "wrr", "sh", "fo"]), st.sampled_from([None, 120]))
def test_any_change_in_place_leaves_what_a_replacement_writes(
        first: list[dict[int, tuple[int, str]]], second: list[dict[int, tuple[int, str]]],
        scheduler: str, persistence: int | None) -> None:
    second = (second + first)[:len(first)]  # the same services, other real servers
    old = tables(*services_from(first, scheduler, persistence))
    new = tables(*services_from(second, scheduler, persistence))
    script = nft_delta.delta(old, new)
    if script is None:  # a table or hook comes or goes
        assert (old.netdev is None) != (new.netdev is None) or \
            {n: c.hook for n, c in old.inet.chains.items() if c.hook} != \
            {n: c.hook for n, c in new.inet.chains.items() if c.hook} or \
            (old.netdev is not None and new.netdev is not None and
             {n: c.hook for n, c in old.netdev.chains.items() if c.hook} !=
             {n: c.hook for n, c in new.netdev.chains.items() if c.hook})
        return
    after = run(old, script)
    assert same(after.inet, new.inet)
    assert same(after.netdev, new.netdev)
