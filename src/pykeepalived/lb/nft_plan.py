"""What the nftables backend can express, and how: schedulers, weighted slots, warnings.

nftables picks a real server per new connection with an expression over a fixed set of
*slots*, each slot naming one real server; a real server of weight w gets w slots (after
dividing every weight by their greatest common divisor), a real server of weight 0 gets none
and so receives no new connections. The expressions are:

``numgen inc``
    a counter shared by all CPUs: slot n, n+1, n+2 ... For ``wrr`` the slots are laid out in
    the order IPVS's weighted round robin visits its real servers (weights 1, 2, 3 give
    C B C A B C), so the sequence is the kernel's, not w1 in a row then w2 in a row.
``jhash <fields> seed 0``
    a hash of the source address (and port), or of the destination address; the fixed seed
    keeps a client on the same slot across re-applies while the slot layout is unchanged.
``goto``
    straight to one real server (failover).

Schedulers nftables cannot express run as their nearest expressible one. The caller logs
:func:`compatibility_warnings` once at start; this table is what it reports:

============  =========  ==================================================================
lvs_sched     runs as    why / how
============  =========  ==================================================================
rr            rr         numgen inc over one slot per real server of weight > 0
wrr           wrr        numgen inc over the interleaved weighted slots
lc, wlc       wrr        nftables keeps no per-real-server connection counts; weights kept
sed, nq       wrr        as lc: they too choose by active connections
twos          wrr        "two random choices, fewer connections wins" needs counts too
sh            sh         jhash of the source address (and port with sh-port); a real
                         server of weight 0 holds no slot, which is sh-fallback's effect
mh            sh         maglev hashing is not expressible; a source hash is the nearest
                         (mh-port hashes the port too, as sh-port)
dh            dh         jhash of the destination address
lblc, lblcr   dh         locality by destination address, without the load check
fo            fo         every new connection to the highest-weight real server
ovf           fo         without the overflow to the next one (no connection counts)
============  =========  ==================================================================

Direct routing (``lvs_method DR``) happens at the ingress hook, before connection tracking,
so every packet is scheduled on its own: a real server is then always chosen by a hash of
the source address and port (or the source address alone for sh, the destination address for
dh/lblc/lblcr, the highest weight for fo/ovf), which keeps each connection on one real
server; the ``numgen`` schedulers run as ``sh`` with ``sh-port`` there.

Not expressible at all, and reported: ``ops`` (one-packet scheduling), the generic scheduler
flags ``flag-1..3``, ``uthreshold`` / ``lthreshold``, ``lvs_method TUN`` (those real servers
are not installed), DR for firewall-mark services (the mark is set after ingress), and real
servers of another address family than their service.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pykeepalived.lb.model import Destination, Service

MAX_SLOTS = 1024  # larger weight sums are scaled down to this many slots

# lvs_sched -> (how it runs under nftables, the reason given to the operator)
SCHEDULER_MAP: dict[str, tuple[str, str]] = {
    "rr": ("rr", ""),
    "wrr": ("wrr", ""),
    "lc": ("wrr", "nftables keeps no per-real-server connection counts; weights are kept"),
    "wlc": ("wrr", "nftables keeps no per-real-server connection counts; weights are kept"),
    "sed": ("wrr", "nftables keeps no per-real-server connection counts; weights are kept"),
    "nq": ("wrr", "nftables keeps no per-real-server connection counts; weights are kept"),
    "twos": ("wrr", "nftables keeps no per-real-server connection counts; weights are kept"),
    "sh": ("sh", ""),
    "mh": ("sh", "maglev hashing is not expressible; a hash of the source address is used"),
    "dh": ("dh", ""),
    "lblc": ("dh", "locality by destination address without the load check"),
    "lblcr": ("dh", "locality by destination address without the load check"),
    "fo": ("fo", ""),
    "ovf": ("fo", "no overflow to the next real server (no connection counts)"),
}
HONOURED_FLAGS = {"sh-port", "sh-fallback", "mh-port", "mh-fallback"}


@dataclass(frozen=True, slots=True)
class Scheduling:
    """How one service's (or one service's DR part's) real servers are picked.

    ``picker``: ``numgen inc``, ``jhash`` or ``goto``; ``fields`` are the hashed fields
    (``saddr``, ``saddr . sport``, ``daddr``); ``slots`` lists, slot by slot, the index of the
    real server (into the list given to :func:`schedule`) that slot sends to.
    """

    scheduler: str  # the name it runs as (rr, wrr, sh, dh, fo)
    flags: tuple[str, ...]  # honoured flags, as they run
    picker: str
    fields: str
    slots: tuple[int, ...]


def effective_scheduler(service: Service) -> str:
    """The scheduler ``service`` runs as under nftables (see the module's table)."""
    return SCHEDULER_MAP.get(service.scheduler, ("wrr", ""))[0]


def _hash_port(service: Service) -> bool:
    return any(flag in ("sh-port", "mh-port") for flag in service.flags)


def reduced_weights(weights: Sequence[int]) -> list[int]:
    """Weights divided by their gcd, scaled down to at most MAX_SLOTS in total (every
    positive weight keeps at least one slot); zero stays zero."""
    positive = [w for w in weights if w > 0]
    if not positive:
        return [0 for _ in weights]
    g = math.gcd(*positive)
    out = [w // g for w in weights]
    total = sum(out)
    if total > MAX_SLOTS:
        # one slot each, and the rest shared in proportion: never more than MAX_SLOTS
        spare = MAX_SLOTS - len(positive)
        out = [1 + w * spare // total if w else 0 for w in out]
        positive = [w for w in out if w > 0]
        g = math.gcd(*positive)
        out = [w // g for w in out]
    return out


def wrr_sequence(weights: Sequence[int]) -> list[int]:
    """One cycle of IPVS's weighted round robin over ``weights`` (already reduced): the
    current weight starts at the maximum and drops by one each pass over the list; a real
    server is picked whenever its weight reaches the current weight."""
    total = sum(weights)
    if total == 0:
        return []
    top = max(weights)
    seq: list[int] = []
    current = top + 1
    while len(seq) < total:
        current -= 1
        if current <= 0:
            current = top
        seq += [i for i, w in enumerate(weights) if w >= current]
    return seq[:total]


def schedule(service: Service, dests: Sequence[Destination], *, stateless: bool = False
             ) -> Scheduling:
    """The picker and slot layout for ``dests`` (a service's real servers of one method).

    ``stateless`` is for DR at the ingress hook, where no connection tracking remembers the
    choice: the counter-based schedulers then hash the source address and port instead."""
    runs_as = effective_scheduler(service)
    flags: tuple[str, ...] = ()
    weights = [d.weight for d in dests]
    if runs_as == "fo":
        best = max(weights, default=0)
        return Scheduling("fo", (), "goto", "", () if best <= 0 else (weights.index(best),))
    if runs_as in ("rr", "wrr") and stateless:
        runs_as, flags = "sh", ("sh-port",)
    elif runs_as == "sh":
        flags = tuple(sorted({f.replace("mh-", "sh-") for f in service.flags
                              if f in HONOURED_FLAGS}))
    if runs_as == "rr":
        return Scheduling("rr", (), "numgen inc", "",
                          tuple(i for i, w in enumerate(weights) if w > 0))
    reduced = reduced_weights(weights)
    if runs_as == "wrr":
        return Scheduling("wrr", (), "numgen inc", "", tuple(wrr_sequence(reduced)))
    contiguous = tuple(i for i, w in enumerate(reduced) for _ in range(w))
    if runs_as == "dh":
        return Scheduling("dh", (), "jhash", "daddr", contiguous)
    fields = "saddr . sport" if "sh-port" in flags or _hash_port(service) else "saddr"
    return Scheduling("sh", flags, "jhash", fields, contiguous)


def slot_ranges(slots: Sequence[int]) -> list[tuple[int, int, int]]:
    """(first slot, last slot, real server index) runs of equal neighbours."""
    runs: list[tuple[int, int, int]] = []
    for n, index in enumerate(slots):
        if runs and runs[-1][2] == index and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n, index)
        else:
            runs.append((n, n, index))
    return runs


# ------------------------------------------------------------------ what cannot be expressed
def usable(service: Service, dest: Destination) -> str:
    """Why ``dest`` of ``service`` cannot be installed by nftables, or "" when it can."""
    if dest.method == "TUN":
        return "lvs_method TUN cannot be expressed in nftables"
    if dest.method not in ("NAT", "DR"):
        return f"lvs_method {dest.method} is not known"
    if dest.address.version != service.family:
        return "a real server of another address family than its service needs TUN"
    if dest.method == "DR" and service.fwmark is not None:
        return ("DR for a firewall-mark service cannot be expressed: the mark is set after "
                "the ingress hook where DR happens")
    return ""


def _more(names: list[str]) -> str:
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def compatibility_warnings(services: Sequence[Service]) -> list[str]:
    """One line per thing these services ask for that the nftables backend does differently
    or not at all (the caller logs them once, at start)."""
    by_text: dict[str, list[str]] = {}

    def note(text: str, where: str) -> None:
        by_text.setdefault(text, [])
        if where not in by_text[text]:
            by_text[text].append(where)

    for service in services:
        name = str(service)
        runs_as, why = SCHEDULER_MAP.get(
            service.scheduler, ("wrr", "unknown to the nftables backend; weights are kept"))
        if runs_as != service.scheduler:
            note(f"lvs_sched {service.scheduler} runs as {runs_as} under nftables: {why}",
                 name)
        for flag in service.flags:
            if flag == "ops":
                note("ops (one-packet scheduling) is not available with nftables: the "
                     "datagrams of one flow go to one real server", name)
            elif flag not in HONOURED_FLAGS and flag != "hashed":
                note(f"scheduler flag {flag} has no nftables equivalent and is ignored", name)
        methods = set()
        for dest in service.destinations:
            why_not = usable(service, dest)
            if why_not:
                host = f"[{dest.address}]" if dest.address.version == 6 else str(dest.address)
                note(f"{why_not}: real server not installed", f"{host}:{dest.port} of {name}")
                continue
            methods.add(dest.method)
            if dest.u_threshold or dest.l_threshold:
                note("uthreshold / lthreshold are not enforced by nftables", name)
        if "DR" in methods and effective_scheduler(service) in ("rr", "wrr"):
            note("DR real servers are chosen by a hash of the source address and port "
                 "(there is no connection tracking at the ingress hook): the round robin "
                 "schedulers run as sh with sh-port there", name)
        if methods == {"NAT", "DR"} and service.persistence_timeout:
            note("persistence holds within the NAT or the DR real servers of a service that "
                 "mixes both, not across them", name)
    return [f"{text} ({_more(where)})" for text, where in by_text.items()]
