"""The nftables ruleset of the load balancer, as ``nft`` transactions (no I/O here).

Layout (service ``i``, real server ``a``:``p`` of it; the names are short because there can
be thousands, and the comments carry what a reader needs)::

  table inet pykeepalived                       NAT
    chain prerouting / output   nat hooks (dstnat): jump dispatch
    chain dispatch              fwmark vmaps first (IPVS looks fwmarks up first), then
                                address . protocol . port vmaps for IPv4 and IPv6
    chain s<i>                  counter + "pk-svc ..." comment; persistence lookups; the
                                scheduling expression (numgen / jhash vmap, or goto)
    chain s<i>-<a>-<p>          adds the client to the persistence set; counter + dnat +
                                "pk-rs ..." comment
    set s<i>-<a>-<p>p           clients (source & granularity mask) persistent on it
    chain forward + s<i>r       refresh a persistent client's entry on each forwarded packet
    chain postrouting           masquerade of our NAT connections (only when asked for)
  table netdev pykeepalived                     DR (only when a service has DR servers)
    chain in<k>                 ingress hook of each device leading to DR real servers
    chain dispatch, s<i>, s<i>-<a>-<p>, set s<i>-<a>-<p>p   as above, with ``fwd ... device``

The tables are built as :class:`Ruleset` values (chains and sets by name) and written either
whole or as the difference from the last ones (:mod:`.nft_delta`). The whole transaction
(:func:`replace_script`, at start, on reload, and whenever a difference cannot be made)
starts by deleting both tables (``add`` first, so that a missing table is no error), so it
replaces everything at once: packets see the old table or the new one, never a mix.
Connection tracking lives outside the table, so established NAT connections keep their real
server across applies; persistence entries are carried over by the backend (as ``add element
... expires``) for real servers that are still there.

Persistence follows IPVS's templates: a client (source address masked with
persistence_granularity) that has an entry goes to the same real server, and the entry lives
``persistence_timeout`` seconds after the client's last new connection (NAT: refreshed by
every forwarded packet of its connections, so a long connection keeps it alive as an IPVS
template is kept by its connections; DR: refreshed by every packet). A real server of weight
0 keeps its persistent clients, as in IPVS (quiescent).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pykeepalived.lb import nft_plan
from pykeepalived.lb.errors import LbError
from pykeepalived.lb.ipvs_codec import prefix_length
from pykeepalived.lb.model import Destination, IPAddress, Service

TABLE = "pykeepalived"
PRIORITY_INGRESS = -1
L4 = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}
COMMENT_MAX = 128

ServiceKey = tuple[object, ...]
DestKey = tuple[object, ...]
# (service key, real server key) -> [(set element text, seconds left)]
Carried = Mapping[tuple[ServiceKey, DestKey], Sequence[tuple[str, int]]]


def dest_key(dest: Destination) -> DestKey:
    return (dest.address, dest.port)


@dataclass
class Entry:
    """One service as laid out in the tables: its index, usable real servers and pickers."""

    index: int
    service: Service
    dests: list[Destination] = field(default_factory=list)  # the installable ones, indexed j
    addresses: list[str] = field(default_factory=list)  # their addresses as text
    names: list[str] = field(default_factory=list)  # their chains' names
    nat: list[int] = field(default_factory=list)  # indexes (into dests) of NAT servers
    dr: list[int] = field(default_factory=list)
    scheduling: nft_plan.Scheduling | None = None  # over the NAT servers
    dr_scheduling: nft_plan.Scheduling | None = None  # over all servers, at ingress

    @property
    def chain(self) -> str:
        return f"s{self.index}"

    def dchain(self, j: int) -> str:
        return self.names[j]

    def pset(self, j: int) -> str:
        return f"{self.dchain(j)}p"


def dest_chain(index: int, dest: Destination, address: str | None = None) -> str:
    """``s<i>-<address>-<port>``: a real server's chain is named after the real server, not
    after its place in the list, so that it keeps its name while others come and go (what
    lets a change be made to the table in place). An IPv6 address is written with ``_``
    for ``:``, which nftables does not take in a name."""
    text = str(dest.address) if address is None else address
    return f"s{index}-{text.replace(':', '_')}-{dest.port}"


def service_chain_of(chain: str) -> str:
    """The service chain (``s<i>``) a real server's chain belongs to (also for the
    ``s<i>d<j>`` names of tables written before real servers' chains had their names)."""
    return chain.split("-", 1)[0] if "-" in chain else chain.rsplit("d", 1)[0]


def layout(services: Sequence[Service]) -> list[Entry]:
    """Index services and their installable real servers; pick each one's scheduling."""
    seen: set[ServiceKey] = set()
    entries = []
    for i, service in enumerate(services):
        if service.key() in seen:
            raise LbError(f"{service}: the same service is listed twice")
        seen.add(service.key())
        if service.fwmark is None and service.protocol not in L4:
            raise LbError(f"{service}: unknown protocol {service.protocol!r}")
        if service.fwmark is None and (service.address is None
                                       or service.address.version != service.family):
            raise LbError(f"{service}: a service needs an address of its family "
                          f"(IPv{service.family}) or a fwmark")
        entry = Entry(i, service)
        keys = set()
        for dest in service.destinations:
            key = dest_key(dest)
            if key in keys:
                raise LbError(f"{service}: a real server is listed twice")
            keys.add(key)
            if nft_plan.usable(service, dest):
                continue
            (entry.nat if dest.method == "NAT" else entry.dr).append(len(entry.dests))
            address = str(dest.address)
            entry.dests.append(dest)
            entry.addresses.append(address)
            entry.names.append(dest_chain(i, dest, address))
        entry.scheduling = nft_plan.schedule(service, [entry.dests[j] for j in entry.nat])
        if entry.dr:
            entry.dr_scheduling = nft_plan.schedule(service, entry.dests, stateless=True)
        entries.append(entry)
    return entries


# ------------------------------------------------------------------ comments (read back)
def service_comment(entry: Entry) -> str:
    s = entry.service
    sched = entry.scheduling if entry.nat or not entry.dr else entry.dr_scheduling
    assert sched is not None
    persistent = bool(s.persistence_timeout)
    text = " ".join([
        "pk-svc", s.protocol, str(s.address) if s.address is not None else "-", str(s.port),
        str(s.fwmark) if s.fwmark is not None else "-", str(s.family), sched.scheduler,
        ",".join(sched.flags) or "-",
        str(s.persistence_timeout) if persistent else "-",
        str(prefix_length(s)) if persistent else "-"])
    return _checked(text)


def dest_comment(dest: Destination, address: str | None = None) -> str:
    text = str(dest.address) if address is None else address
    return _checked(f"pk-rs {text} {dest.port} {dest.weight} {dest.method}")


def _checked(text: str) -> str:
    if len(text) > COMMENT_MAX:
        raise LbError(f"nftables comment longer than {COMMENT_MAX} characters: {text}")
    return text


def parse_service_comment(text: str) -> Service:
    """The Service (no destinations) a ``pk-svc`` comment describes."""
    (_, protocol, address, port, fwmark, family, scheduler, flags, timeout,
     plen) = text.split()
    fam = int(family)
    granularity: str | None = None
    if plen != "-" and int(plen) != (128 if fam == 6 else 32):
        granularity = (plen if fam == 6
                       else str(ipaddress.IPv4Network(f"0.0.0.0/{plen}").netmask))
    return Service(protocol=protocol,
                   address=None if address == "-" else ipaddress.ip_address(address),
                   port=int(port), fwmark=None if fwmark == "-" else int(fwmark), family=fam,
                   scheduler=scheduler, flags=() if flags == "-" else tuple(flags.split(",")),
                   persistence_timeout=None if timeout == "-" else int(timeout),
                   persistence_granularity=granularity)


def parse_dest_comment(text: str) -> Destination:
    _, address, port, weight, method = text.split()
    return Destination(address=ipaddress.ip_address(address), port=int(port),
                       weight=int(weight), method=method)


# ------------------------------------------------------------------ expressions
def _fam(service: Service) -> str:
    return "ip6" if service.family == 6 else "ip"


def _client(service: Service) -> str:
    """The persistence key expression: the source address under the granularity mask."""
    fam = _fam(service)
    plen = prefix_length(service)
    if plen == (128 if service.family == 6 else 32):
        return f"{fam} saddr"
    net = ipaddress.ip_network(f"{'::' if service.family == 6 else '0.0.0.0'}/{plen}")
    return f"{fam} saddr & {net.netmask}"


def _set_type(service: Service) -> str:
    return "ipv6_addr" if service.family == 6 else "ipv4_addr"


def _host(dest: Destination) -> str:
    return f"[{dest.address}]" if dest.address.version == 6 else str(dest.address)


def _picker(service: Service, sched: nft_plan.Scheduling, targets: Sequence[str]) -> str:
    """The scheduling rule: ``targets[n]`` is the verdict of the n-th server of the slots."""
    if not sched.slots:
        return ""
    if sched.picker == "goto" or len(set(sched.slots)) == 1:
        return targets[sched.slots[0]]
    fam = _fam(service)
    modulus = len(sched.slots)
    if sched.picker == "numgen inc":
        expr = f"numgen inc mod {modulus}"
    else:
        fields = {"saddr": f"{fam} saddr", "saddr . sport": f"{fam} saddr . th sport",
                  "daddr": f"{fam} daddr"}[sched.fields]
        expr = f"jhash {fields} mod {modulus} seed 0x0"
    elements = ", ".join(f"{a} : {targets[idx]}" if a == b else f"{a}-{b} : {targets[idx]}"
                         for a, b, idx in nft_plan.slot_ranges(sched.slots))
    return f"{expr} vmap {{ {elements} }}"


def _dispatch(entries: Sequence[Entry], wanted: Callable[[Entry], bool]) -> list[str]:
    rules = []
    for family, nfproto in ((4, "ipv4"), (6, "ipv6")):
        marks = [f"{e.service.fwmark} : jump {e.chain}" for e in entries
                 if wanted(e) and e.service.fwmark is not None and e.service.family == family]
        if marks:
            rules.append(f"meta nfproto {nfproto} meta mark vmap {{ {', '.join(marks)} }}")
    for family, fam in ((4, "ip"), (6, "ip6")):
        addrs = [f"{e.service.address} . {L4[e.service.protocol]} . {e.service.port} : "
                 f"jump {e.chain}" for e in entries
                 if wanted(e) and e.service.fwmark is None and e.service.family == family]
        if addrs:
            rules.append(f"{fam} daddr . meta l4proto . th dport vmap {{ {', '.join(addrs)} }}")
    return rules


def _persist_sets(table: Table, entry: Entry, indexes: Sequence[int]) -> None:
    s = entry.service
    if not s.persistence_timeout:
        return
    for j in indexes:
        table.sets[entry.pset(j)] = (f"type {_set_type(s)}; flags dynamic,timeout; "
                                     f"timeout {s.persistence_timeout}s;")


def _nat_dnat(entry: Entry, j: int) -> str:
    s, dest, address = entry.service, entry.dests[j], entry.addresses[j]
    fam = _fam(s)
    if dest.port == 0:
        return f"dnat {fam} to {address}"
    proto = (f"meta l4proto {L4[s.protocol]}" if s.fwmark is None
             else "meta l4proto { tcp, udp, sctp }")
    host = f"[{address}]" if s.family == 6 else address
    return f"{proto} dnat {fam} to {host}:{dest.port}"


# ------------------------------------------------------------------ the tables
@dataclass(frozen=True, slots=True)
class Chain:
    """A chain as written: its hook line ("" for a regular chain) and its rules in order."""

    hook: str
    rules: tuple[str, ...]


@dataclass(slots=True)
class Table:
    """One table as written: its sets (name -> declaration) and chains (name -> Chain), in
    the order the full script writes them. Two tables compare chain by chain and set by set,
    which is what an incremental change (:mod:`.nft_delta`) is made from."""

    family: str  # inet or netdev
    sets: dict[str, str] = field(default_factory=dict)
    chains: dict[str, Chain] = field(default_factory=dict)

    def add(self, name: str, rules: Sequence[str], hook: str = "") -> None:
        self.chains[name] = Chain(hook, tuple(r for r in rules if r))

    def text(self) -> str:
        """The ``table ... { }`` block of the full script."""
        out = [f"table {self.family} {TABLE} {{\n"]
        out += [f"    set {name} {{ {decl} }}\n" for name, decl in self.sets.items()]
        for name, chain in self.chains.items():
            lines = ((chain.hook,) if chain.hook else ()) + chain.rules
            body = "".join(f"        {line}\n" for line in lines)
            out.append(f"    chain {name} {{\n{body}    }}\n")
        out.append("}\n")
        return "".join(out)


@dataclass(frozen=True, slots=True)
class Ruleset:
    """Both tables as the kernel should hold them; ``netdev`` None when nothing is DR."""

    inet: Table
    netdev: Table | None


def inet_table(entries: Sequence[Entry], *, masquerade: bool = False) -> Table:
    table = Table("inet")
    services = Table("inet")  # the per-service chains, written after the hooks and dispatch
    forward: list[str] = []
    for e in entries:
        if e.dr and not e.nat:
            continue  # all of it happens at ingress
        s = e.service
        client = _client(s)
        persistent = bool(s.persistence_timeout)
        _persist_sets(table, e, e.nat)
        rules = [f'counter comment "{service_comment(e)}"']
        if persistent:
            rules += [f"{client} @{e.pset(j)} goto {e.dchain(j)}" for j in e.nat]
        assert e.scheduling is not None
        rules.append(_picker(s, e.scheduling, [f"goto {e.dchain(j)}" for j in e.nat]))
        services.add(e.chain, rules)
        for j in e.nat:
            drules = [f"update @{e.pset(j)} {{ {client} }}"] if persistent else []
            drules.append(f'counter {_nat_dnat(e, j)} '
                          f'comment "{dest_comment(e.dests[j], e.addresses[j])}"')
            services.add(e.dchain(j), drules)
        if persistent and e.nat:
            forward.append(f"ct direction original ct status dnat {_original(s)} "
                           f"jump s{e.index}r")
            refresh = [f"{_fam(s)} daddr {e.addresses[j]}"
                       + (f" th dport {e.dests[j].port}" if e.dests[j].port else "")
                       + f" update @{e.pset(j)} {{ {client} }}" for j in e.nat]
            services.add(f"s{e.index}r", refresh)
    wanted: Callable[[Entry], bool] = lambda e: bool(e.nat) or not e.dr  # noqa: E731
    table.add("prerouting", ["jump dispatch"],
              "type nat hook prerouting priority dstnat; policy accept;")
    table.add("output", ["jump dispatch"], "type nat hook output priority -100; policy accept;")
    table.add("dispatch", _dispatch(entries, wanted))
    table.chains.update(services.chains)
    if forward:
        table.add("forward", forward, "type filter hook forward priority -1; policy accept;")
    if masquerade:
        table.add("postrouting", _masquerade(entries),
                  "type nat hook postrouting priority srcnat; policy accept;")
    return table


def _original(s: Service) -> str:
    """Matches the packets of a connection made to service ``s`` (after its dnat)."""
    if s.fwmark is not None:
        return f"meta nfproto {'ipv6' if s.family == 6 else 'ipv4'} meta mark {s.fwmark}"
    return (f"meta l4proto {L4[s.protocol]} ct original {_fam(s)} daddr {s.address} "
            f"ct original proto-dst {s.port}")


def _masquerade(entries: Sequence[Entry]) -> list[str]:
    rules = []
    for family, fam in ((4, "ip"), (6, "ip6")):
        vips = sorted({str(e.service.address) for e in entries if e.nat
                       and e.service.fwmark is None and e.service.family == family})
        if vips:
            rules.append(f"ct status dnat ct original {fam} daddr {{ {', '.join(vips)} }} "
                         "masquerade")
        marks = sorted({e.service.fwmark for e in entries if e.nat and e.service.fwmark
                        is not None and e.service.family == family})
        if marks:
            nfproto = "ipv6" if family == 6 else "ipv4"
            rules.append(f"ct status dnat meta nfproto {nfproto} meta mark "
                         f"{{ {', '.join(map(str, marks))} }} masquerade")
    return rules


def netdev_table(entries: Sequence[Entry], devices: Mapping[IPAddress, str],
                 ingress: Sequence[str] = ()) -> Table | None:
    """The DR table; ``devices`` names each DR real server's outgoing device, and
    the ingress hooks go on those devices plus ``ingress``. None when nothing is DR."""
    table = Table("netdev")
    services = Table("netdev")
    hooked: list[str] = list(dict.fromkeys(ingress))
    for e in entries:
        if not e.dr:
            continue
        s = e.service
        client = _client(s)
        persistent = bool(s.persistence_timeout)
        _persist_sets(table, e, e.dr)
        rules = [f'counter comment "{service_comment(e)}"']
        if persistent:
            rules += [f"{client} @{e.pset(j)} goto {e.dchain(j)}" for j in e.dr]
        assert e.dr_scheduling is not None
        dr = set(e.dr)
        targets = [f"goto {e.dchain(j)}" if j in dr else "accept"
                   for j in range(len(e.dests))]
        rules.append(_picker(s, e.dr_scheduling, targets))
        services.add(e.chain, rules)
        for j in e.dr:
            dest = e.dests[j]
            device = devices[dest.address]
            if device not in hooked:
                hooked.append(device)
            drules = [f"update @{e.pset(j)} {{ {client} }}"] if persistent else []
            drules.append(f'counter fwd {_fam(s)} to {e.addresses[j]} device "{device}" '
                          f'comment "{dest_comment(dest, e.addresses[j])}"')
            services.add(e.dchain(j), drules)
    if not services.chains:
        return None
    for k, dev in enumerate(hooked):
        table.add(f"in{k}", ["jump dispatch"],
                  f'type filter hook ingress device "{dev}" priority {PRIORITY_INGRESS}; '
                  "policy accept;")
    table.add("dispatch", _dispatch(entries, lambda e: bool(e.dr)))
    table.chains.update(services.chains)
    return table


def ruleset(entries: Sequence[Entry], *, devices: Mapping[IPAddress, str] | None = None,
            ingress: Sequence[str] = (), masquerade: bool = False) -> Ruleset:
    """Both tables for ``entries`` (see :func:`layout`)."""
    return Ruleset(inet_table(entries, masquerade=masquerade),
                   netdev_table(entries, devices or {}, ingress))


def carried_elements(entries: Sequence[Entry], carried: Carried, family: str) -> str:
    """``add element`` lines that put persistence entries of the last table back, for real
    servers still there and with the same granularity (expiry capped at the new timeout)."""
    lines = []
    for e in entries:
        s = e.service
        if not s.persistence_timeout:
            continue
        for j in (e.nat if family == "inet" else e.dr):
            entries_left = carried.get((s.key(), dest_key(e.dests[j])), ())
            elems = [f"{value} timeout {s.persistence_timeout}s expires "
                     f"{max(1, min(left, s.persistence_timeout))}s"
                     for value, left in entries_left if left > 0]
            if elems:
                lines.append(f"add element {family} {TABLE} {e.pset(j)} "
                             f"{{ {', '.join(elems)} }}")
    return "".join(f"{line}\n" for line in lines)


def replace_script(tables: Ruleset, entries: Sequence[Entry],
                   carried: Carried | None = None) -> str:
    """The whole transaction: drop both tables, write the new ones, put entries back."""
    carried = carried or {}
    parts = [clear_script(), tables.inet.text(), carried_elements(entries, carried, "inet")]
    if tables.netdev is not None:
        parts += [tables.netdev.text(), carried_elements(entries, carried, "netdev")]
    return "".join(parts)


def script(entries: Sequence[Entry], *, devices: Mapping[IPAddress, str] | None = None,
           ingress: Sequence[str] = (), masquerade: bool = False,
           carried: Carried | None = None) -> str:
    """:func:`replace_script` of the tables for ``entries``."""
    tables = ruleset(entries, devices=devices, ingress=ingress, masquerade=masquerade)
    return replace_script(tables, entries, carried)


def clear_script() -> str:
    return (f"add table inet {TABLE}\ndelete table inet {TABLE}\n"
            f"add table netdev {TABLE}\ndelete table netdev {TABLE}\n")
