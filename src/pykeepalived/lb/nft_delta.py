"""A change to the load-balancer tables made in place: the difference of two rulesets.

Replacing the whole table costs in proportion to its size: with 10,000 real servers, one
transaction of 10,000 chains, whichever one real server came or went. Most changes are of
that kind (a check fails, a real server is taken out or put back, its weight changes), and
touch a few chains: the real server's own chain (named after the real server, see
:func:`~pykeepalived.lb.nft_script.dest_chain`, so the others keep their names), its
persistence set, and its service's chains (the scheduling vmap, the persistence refresh).

:func:`delta` writes the commands that turn one :class:`~pykeepalived.lb.nft_script.Ruleset`
into another, chain by chain and set by set, as one transaction (atomic, like the full one):
new sets and chains first (rules may name them), then the rules of new and changed chains
(a changed chain is flushed and written again), then the chains and sets that are gone. The
tables it leaves are the ones a full replacement would write, up to the order of the chains.

It answers None where a change in place would not be the same as a replacement, and the
caller then replaces both tables: a table appearing or going away, a base chain (hook)
added, removed or changed, a set declared differently (its timeout: the full replacement is
what carries the entries over).
"""

from __future__ import annotations

from pykeepalived.lb.nft_script import TABLE, Ruleset, Table


def delta(old: Ruleset, new: Ruleset) -> str | None:
    """The transaction that turns the tables ``old`` into ``new`` ("" when they are the
    same), or None when only a full replacement can (see the module doc)."""
    lines = table_delta(old.inet, new.inet)
    if lines is None:
        return None
    if old.netdev is not None and new.netdev is not None:
        more = table_delta(old.netdev, new.netdev)
        if more is None:
            return None
        lines += more
    elif (old.netdev is None) != (new.netdev is None):  # the DR table comes or goes
        return None
    return "".join(f"{line}\n" for line in lines)


def table_delta(old: Table, new: Table) -> list[str] | None:
    """The commands that turn table ``old`` into ``new`` (same family), or None."""
    if _hooks(old) != _hooks(new):
        return None
    if any(old.sets.get(name, decl) != decl for name, decl in new.sets.items()):
        return None
    where = f"{new.family} {TABLE}"
    lines = [f"add set {where} {name} {{ {decl} }}" for name, decl in new.sets.items()
             if name not in old.sets]
    lines += [f"add chain {where} {name}" for name in new.chains if name not in old.chains]
    for name, chain in new.chains.items():
        was = old.chains.get(name)
        if was is not None and was.rules == chain.rules:
            continue
        if was is not None:
            lines.append(f"flush chain {where} {name}")
        lines += [f"add rule {where} {name} {rule}" for rule in chain.rules]
    for name in old.chains:
        if name not in new.chains:  # nft(8): only an empty chain can be deleted
            lines += [f"flush chain {where} {name}", f"delete chain {where} {name}"]
    lines += [f"delete set {where} {name}" for name in old.sets if name not in new.sets]
    return lines


def _hooks(table: Table) -> dict[str, str]:
    return {name: chain.hook for name, chain in table.chains.items() if chain.hook}
