"""The nftables backend: load balancing by a table of pykeepalived's own, for kernels without
IPVS.

The backend owns two tables, ``inet pykeepalived`` (NAT) and ``netdev pykeepalived`` (DR),
and touches nothing else in the ruleset. Each :meth:`NftablesBackend.apply` is one
transaction: the first one (and any the backend cannot make in place) replaces both tables,
the others change only the chains and sets that differ from the last apply (a real server
taken out or put back, a weight changed: see :mod:`.nft_delta`), which with thousands of
real servers is what keeps a change quick. :meth:`~NftablesBackend.clear` deletes both.
The layout is in :mod:`.nft_script`, what runs as what (schedulers nftables cannot express)
in :mod:`.nft_plan`, whose :func:`~pykeepalived.lb.nft_plan.compatibility_warnings` the
caller logs once at start.

What the host must provide, as for keepalived's IPVS:

* NAT: replies from the real servers must come back through the director, which un-NATs
  them (connection tracking). keepalived's NAT mode requires the director to be the real
  servers' gateway (for the clients' addresses at least), and so does this backend. Where
  that cannot be arranged, ``masquerade=True`` also source-NATs the balanced connections to
  the director's own address, at the cost of the real servers seeing the director as the
  client. IP forwarding must be on (``net.ipv4.ip_forward``, ``net.ipv6.conf.all.forwarding``);
  a warning is logged when it is off, and any forward chain of the operator's must accept the
  balanced traffic.
* DR: the real servers are on a link of the director's, and hold the VIP on a loopback or
  dummy interface without answering ARP for it (arp_ignore / arp_announce), as with IPVS.
  Frames are rewritten at the ingress hook of the device leading to the real servers (found
  by a route lookup) and sent straight back out (``fwd ... device``), which suits the usual
  one-armed DR. When clients arrive on another device, name it in ``dr_ingress``. Scheduling
  at ingress is stateless (see :mod:`.nft_plan`): when the set of DR real servers or their
  weights change, some live DR connections may move to another real server.

Rules are sent through libnftables when it loads (no process per apply), else through the
``nft`` command; the table is read back with ``nft -j`` (JSON) and the comments the rules
carry.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pykeepalived.lb import nft_delta, nft_script
from pykeepalived.lb.errors import BackendUnavailable, LbError
from pykeepalived.lb.ipvs_codec import prefix_length
from pykeepalived.lb.model import Destination, IPAddress, Service
from pykeepalived.lb.nft_script import TABLE, Entry, dest_key

log = logging.getLogger(__name__)

RouteLookup = Callable[[IPAddress], tuple[str, str | None]]  # -> (device, gateway or None)
PersistKey = tuple[tuple[object, ...], tuple[object, ...]]  # (service key, real server key)


class NftRunner:
    """Runs nft scripts and lists tables as JSON, through libnftables or the nft command."""

    def __init__(self, nft: str = "nft", use_library: bool | None = None) -> None:
        from pykeepalived.net.firewall import LibNftables

        self.nft = shutil.which(nft) or nft
        self._lib: LibNftables | None = None
        if use_library or (use_library is None and nft == "nft"):
            try:
                self._lib = LibNftables()
            except OSError as exc:
                if use_library:
                    raise BackendUnavailable(f"nftables: libnftables: {exc}") from exc
                log.debug("libnftables not usable (%s), running the nft command", exc)
        self.kind = "library" if self._lib is not None else "command"

    def run(self, script: str) -> None:
        rc, _, err = self._run(script, json_out=False)
        if rc != 0:
            raise LbError(f"nftables: nft refused the load-balancer table: {err.strip()}")

    def list_json(self, family: str, table: str, what: str = "table") -> list[dict[str, Any]]:
        """The objects of ``list table FAMILY TABLE`` (``what="sets"``: of ``list sets table
        ...``, the sets and their elements only); empty when there is no such table."""
        command = (f"list table {family} {table}\n" if what == "table"
                   else f"list sets table {family} {table}\n")
        rc, out, _ = self._run(command, json_out=True)
        if rc != 0 or not out.strip():
            return []
        objects: list[dict[str, Any]] = json.loads(out).get("nftables", [])
        return objects

    def list_text(self, family: str, table: str) -> str:
        rc, out, _ = self._run(f"list table {family} {table}\n", json_out=False)
        return out if rc == 0 else ""

    def _run(self, script: str, *, json_out: bool) -> tuple[int, str, str]:
        if self._lib is not None:
            return self._lib.run_output(script, json=json_out)
        # nft -j -f reads its input as JSON: a listing goes on the command line instead
        argv = ([self.nft, "-j", *script.split()] if json_out
                else [self.nft, "-f", "-"])
        try:
            proc = subprocess.run(argv, input=None if json_out else script,
                                  capture_output=True, text=True, timeout=60)
        except FileNotFoundError as exc:
            raise BackendUnavailable(f"nftables: no nft command ({exc})") from exc
        return proc.returncode, proc.stdout, proc.stderr

    def close(self) -> None:
        if self._lib is not None:
            self._lib.close()
            self._lib = None


def default_route_lookup(address: IPAddress) -> tuple[str, str | None]:
    """(outgoing device, gateway) of the kernel's route to ``address``."""
    from pykeepalived.net.iproute import run_in_thread

    def lookup(ipr: Any) -> tuple[str, str | None]:
        route = ipr.route("get", dst=str(address))[0]
        index = route.get_attr("RTA_OIF")
        name = ipr.get_links(index)[0].get_attr("IFLA_IFNAME")
        return str(name), route.get_attr("RTA_GATEWAY")

    try:
        return run_in_thread(lookup)
    except Exception as exc:
        raise LbError(f"nftables: no route to DR real server {address}: {exc}") from exc


class TableView:
    """What the tables say, from their JSON: services and real servers (from the rule
    comments), the chain of each, persistence entries and per-real-server counters."""

    def __init__(self, objects: Sequence[dict[str, Any]]) -> None:
        self.services: dict[str, Service] = {}  # chain -> service
        self.dests: dict[str, tuple[str, Destination]] = {}  # chain -> (service chain, rs)
        self.packets: dict[str, int] = {}  # real-server chain -> packets counted
        self.elements: dict[str, list[tuple[str, int]]] = {}  # set -> [(value, secs left)]
        for obj in objects:
            if "rule" in obj:
                self._rule(obj["rule"])
            elif "set" in obj:
                self._set(obj["set"])

    def _rule(self, rule: dict[str, Any]) -> None:
        comment = rule.get("comment") or ""
        chain = str(rule.get("chain", ""))
        if comment.startswith("pk-svc "):
            self.services[chain] = nft_script.parse_service_comment(comment)
        elif comment.startswith("pk-rs "):
            self.dests[chain] = (nft_script.service_chain_of(chain),
                                 nft_script.parse_dest_comment(comment))
            for expr in rule.get("expr", []):
                if "counter" in expr:
                    self.packets[chain] = int(expr["counter"].get("packets", 0))

    def _set(self, found: dict[str, Any]) -> None:
        timeout = int(found.get("timeout", 0))
        elements = []
        for elem in found.get("elem", []):
            if isinstance(elem, dict) and "elem" in elem:
                inner = elem["elem"]
                elements.append((str(inner["val"]), int(inner.get("expires", timeout))))
            elif isinstance(elem, str):
                elements.append((elem, timeout))
        self.elements[str(found["name"])] = elements

    def assembled(self) -> dict[tuple[object, ...], Service]:
        """Services by key, each with its real servers in table order."""
        out: dict[tuple[object, ...], Service] = {}
        chains: dict[tuple[object, ...], list[Destination]] = {}
        for service in self.services.values():
            out.setdefault(service.key(), service)
            chains.setdefault(service.key(), [])
        for schain, dest in self.dests.values():
            owner = self.services.get(schain)
            if owner is not None and dest_key(dest) not in {
                    dest_key(d) for d in chains[owner.key()]}:
                chains[owner.key()].append(dest)
        return {key: replace(s, destinations=tuple(chains[key])) for key, s in out.items()}


class NftablesBackend:
    """:class:`~pykeepalived.lb.model.Backend` over nftables (see the module doc).

    Made in the network namespace it will manage (libnftables keeps its socket). ``runner``
    is for tests (an :class:`NftRunner` is made by default)."""

    name = "nftables"

    def __init__(self, *, masquerade: bool = False, dr_ingress: Sequence[str] = (),
                 nft: str = "nft", use_library: bool | None = None,
                 route_lookup: RouteLookup | None = None,
                 runner: NftRunner | None = None) -> None:
        self.masquerade = masquerade
        self.dr_ingress = tuple(dr_ingress)
        self._runner = runner if runner is not None else NftRunner(nft, use_library)
        self._route_lookup = route_lookup or default_route_lookup
        self._lock = threading.Lock()
        self._forwarding_warned = False
        # persistence sets of the tables in place; None: not known yet, read the tables
        self._sets: dict[tuple[str, str], tuple[PersistKey, int]] | None = None
        # the tables as the last apply left them (None: not known, the next one replaces)
        self._tables: nft_script.Ruleset | None = None
        self.last_script = ""
        self.last_kind = ""  # how the last change was made: "full" or "delta"

    @property
    def runner_kind(self) -> str:
        """``library`` (libnftables) or ``command`` (the nft program)."""
        return self._runner.kind

    # ------------------------------------------------------------------ reading
    def _view(self, family: str) -> TableView:
        return TableView(self._runner.list_json(family, TABLE))

    def read(self) -> list[Service]:
        """The services the tables hold, as their rules' comments describe them: the
        scheduler they run as, the real servers installed (not TUN ones) with their weights."""
        with self._lock:
            merged = self._view("inet").assembled()
            for key, service in self._view("netdev").assembled().items():
                if key in merged:
                    have = {dest_key(d) for d in merged[key].destinations}
                    extra = tuple(d for d in service.destinations if dest_key(d) not in have)
                    merged[key] = replace(merged[key],
                                          destinations=merged[key].destinations + extra)
                else:
                    merged[key] = service
        return list(merged.values())

    def scheduled(self) -> dict[tuple[tuple[object, ...], tuple[object, ...]], int]:
        """Packets each real server's rule has counted: new NAT connections, or every DR
        packet (for status)."""
        out: dict[tuple[tuple[object, ...], tuple[object, ...]], int] = {}
        with self._lock:
            for family in ("inet", "netdev"):
                view = self._view(family)
                for chain, (schain, dest) in view.dests.items():
                    service = view.services.get(schain)
                    if service is not None:
                        key = (service.key(), dest_key(dest))
                        out[key] = out.get(key, 0) + view.packets.get(chain, 0)
        return out

    def ruleset(self) -> str:
        """``nft list table`` of both tables (for status dumps and tests)."""
        with self._lock:
            return (self._runner.list_text("inet", TABLE)
                    + self._runner.list_text("netdev", TABLE))

    # ------------------------------------------------------------------ writing
    def _persistence_sets(self) -> dict[tuple[str, str], tuple[PersistKey, int]]:
        """(family, set name) -> ((service key, real server key), prefix length) of the
        tables in place: remembered from the last apply, or read from the tables' comments
        (after a restart)."""
        if self._sets is not None:
            return self._sets
        found: dict[tuple[str, str], tuple[PersistKey, int]] = {}
        for family in ("inet", "netdev"):
            view = self._view(family)
            for dchain, (schain, dest) in view.dests.items():
                service = view.services.get(schain)
                if service is not None and service.persistence_timeout:
                    found[(family, f"{dchain}p")] = ((service.key(), dest_key(dest)),
                                                     prefix_length(service))
        return found

    def _carried(self, entries: Sequence[Entry]) -> nft_script.Carried:
        """Persistence entries of the tables now in place, for services whose granularity
        is unchanged (the backend puts them back with what is left of their timeout)."""
        wanted = {e.service.key(): prefix_length(e.service) for e in entries
                  if e.service.persistence_timeout}
        if not wanted:
            return {}
        sets = self._persistence_sets()
        carried: dict[PersistKey, list[tuple[str, int]]] = {}
        for family in sorted({family for family, _ in sets}):
            view = TableView(self._runner.list_json(family, TABLE, what="sets"))
            for name, elements in view.elements.items():
                known = sets.get((family, name))
                if not elements or known is None:
                    continue
                (skey, dkey), plen = known
                if wanted.get(skey) == plen:
                    carried.setdefault((skey, dkey), []).extend(elements)
        return carried

    @staticmethod
    def _sets_of(entries: Sequence[Entry]) -> dict[tuple[str, str], tuple[PersistKey, int]]:
        sets: dict[tuple[str, str], tuple[PersistKey, int]] = {}
        for e in entries:
            if not e.service.persistence_timeout:
                continue
            plen = prefix_length(e.service)
            for family, indexes in (("inet", e.nat), ("netdev", e.dr)):
                for j in indexes:
                    sets[(family, e.pset(j))] = ((e.service.key(), dest_key(e.dests[j])),
                                                 plen)
        return sets

    def _devices(self, entries: Sequence[Entry]) -> dict[IPAddress, str]:
        devices: dict[IPAddress, str] = {}
        for e in entries:
            for j in e.dr:
                address = e.dests[j].address
                if address in devices:
                    continue
                device, gateway = self._route_lookup(address)
                if gateway:
                    log.warning("nftables: DR real server %s is reached through gateway %s, "
                                "not on a link of this director: DR needs it on-link",
                                address, gateway)
                devices[address] = device
        return devices

    def apply(self, services: Sequence[Service]) -> None:
        """Make the tables hold ``services``: by changing what differs from the last apply
        when that can be done in place (:mod:`.nft_delta`), else by replacing both tables;
        either way in one transaction. A change in place that nft refuses (the tables were
        changed behind pykeepalived's back) is followed by a full replacement."""
        entries = nft_script.layout(services)
        with self._lock:
            tables = nft_script.ruleset(entries, devices=self._devices(entries),
                                        ingress=self.dr_ingress, masquerade=self.masquerade)
            if not self._apply_delta(tables):
                self._replace(tables, entries)
            self._sets = self._sets_of(entries)
        if any(e.nat for e in entries):
            self._check_forwarding(entries)

    def _apply_delta(self, tables: nft_script.Ruleset) -> bool:
        """Whether the change was made in place (nothing to change counts)."""
        if self._tables is None:
            return False
        text = nft_delta.delta(self._tables, tables)
        if text is None:
            return False
        if text:
            try:
                self._runner.run(text)
            except BackendUnavailable:
                raise
            except LbError as exc:
                log.warning("%s; replacing the whole table instead", exc)
                self._tables = None
                return False
            self.last_script, self.last_kind = text, "delta"
        self._tables = tables
        return True

    def _replace(self, tables: nft_script.Ruleset, entries: Sequence[Entry]) -> None:
        text = nft_script.replace_script(tables, entries, self._carried(entries))
        self._sets = None  # unknown until the new tables are in
        self._tables = None
        self._runner.run(text)
        self._tables = tables
        self.last_script, self.last_kind = text, "full"

    def clear(self) -> None:
        with self._lock:
            self._tables = None
            self._runner.run(nft_script.clear_script())
            self._sets = {}

    def close(self) -> None:
        self._runner.close()

    def _check_forwarding(self, entries: Sequence[Entry]) -> None:
        if self._forwarding_warned:
            return
        paths = {4: Path("/proc/sys/net/ipv4/ip_forward"),
                 6: Path("/proc/sys/net/ipv6/conf/all/forwarding")}
        for family in sorted({e.service.family for e in entries if e.nat}):
            try:
                on = paths[family].read_text().strip() != "0"
            except OSError:
                continue
            if not on:
                self._forwarding_warned = True
                log.warning("nftables: IPv%d forwarding is off (%s = 0): NAT real servers "
                            "will not be reached", family, paths[family])
