"""The IPVS backend: the kernel's IP Virtual Server, driven over generic netlink.

``apply`` reads what the kernel holds, works out the smallest list of changes (:func:`plan`)
and sends them one by one. A real server whose settings did not change gets no message, so
its connections and persistence templates live on; a changed one gets IPVS_CMD_SET_DEST,
which keeps them too.

What is pykeepalived's: keepalived removes only what it configured, and so does this
backend. It remembers every service it installed and, per service, every real server it put
there; services and real servers it never installed (an operator's ``ipvsadm -A`` next to
ours) are never changed nor removed, except that a service in the list given to ``apply``
is taken over. After a restart the memory is empty: the caller hands the configuration's
full list (every real server, healthy or not) to :meth:`IpvsBackend.adopt` first, so that
the real servers of the last run that are down now are removed as keepalived would.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from pykeepalived.lb import ipvs_codec as codec
from pykeepalived.lb.errors import BackendUnavailable, LbError
from pykeepalived.lb.model import Destination, Service

log = logging.getLogger(__name__)

T = TypeVar("T")
ServiceKey = tuple[object, ...]
DestKey = tuple[object, ...]


class IpvsTransport(Protocol):
    """Sends one IPVS request and returns the replies (a dump's messages; nothing for an
    acknowledged change). Raises pyroute2's NetlinkError when the kernel says no."""

    def request(self, msg: Any, flags: int) -> list[Any]: ...

    def close(self) -> None: ...


class NetlinkTransport:
    """pyroute2's IPVS generic-netlink socket, kept in a worker thread of its own.

    pyroute2 0.9's synchronous sockets run an asyncio loop of their own and cannot be used in
    a thread whose loop is running; a worker thread also keeps the socket in the network
    namespace of the thread that made the transport (a new thread starts in its creator's).
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ipvs")
        try:
            self._sock = self._pool.submit(self._open).result()
        except BaseException:
            self._pool.shutdown(wait=True)
            raise

    @staticmethod
    def _open() -> Any:
        from pyroute2.netlink.exceptions import NetlinkError
        from pyroute2.netlink.generic.ipvs import IPVSSocket

        logging.getLogger("pyroute2").setLevel(logging.WARNING)
        try:
            return IPVSSocket()
        except NetlinkError as exc:
            if exc.code in (errno.ENOENT, errno.ENOTSUP):
                raise BackendUnavailable(
                    "IPVS: the kernel has no generic netlink family IPVS "
                    "(module ip_vs not loaded or not built)") from None
            raise

    def _call(self, fn: Callable[[], T]) -> T:
        return self._pool.submit(fn).result()

    def request(self, msg: Any, flags: int) -> list[Any]:
        sock = self._sock
        return self._call(lambda: list(sock.nlm_request(msg, msg_type=sock.prid,
                                                        msg_flags=flags)))

    def close(self) -> None:
        sock = self._sock
        try:
            self._call(sock.close)
        finally:
            self._pool.shutdown(wait=True)


# ------------------------------------------------------------------ planning (no I/O)
@dataclass(frozen=True, slots=True)
class Op:
    """One IPVS change: ``cmd`` is an IPVS_CMD_* of the codec."""

    cmd: int
    service: Service
    dest: Destination | None = None

    def describe(self) -> str:
        verb = {codec.CMD_NEW_SERVICE: "adding", codec.CMD_SET_SERVICE: "changing",
                codec.CMD_DEL_SERVICE: "removing", codec.CMD_NEW_DEST: "adding",
                codec.CMD_SET_DEST: "changing", codec.CMD_DEL_DEST: "removing"}[self.cmd]
        if self.dest is None:
            return f"{verb} service {self.service}"
        return f"{verb} real server {_dest_name(self.dest)} of {self.service}"


# What the kernel's errno means for each command (ip_vs_ctl.c), in an operator's words.
_REASONS: dict[tuple[int, int], str] = {
    (codec.CMD_NEW_SERVICE, errno.EEXIST): "the service already exists",
    (codec.CMD_NEW_SERVICE, errno.ENOENT): "scheduler not found (is its ip_vs_ module there?)",
    (codec.CMD_SET_SERVICE, errno.ENOENT): "scheduler not found (is its ip_vs_ module there?)",
    (codec.CMD_SET_SERVICE, errno.ESRCH): "no such service",
    (codec.CMD_DEL_SERVICE, errno.ESRCH): "no such service",
    (codec.CMD_NEW_DEST, errno.ESRCH): "no such service",
    (codec.CMD_NEW_DEST, errno.EEXIST): "the real server already exists",
    (codec.CMD_SET_DEST, errno.ESRCH): "no such service",
    (codec.CMD_SET_DEST, errno.ENOENT): "no such real server",
    (codec.CMD_DEL_DEST, errno.ESRCH): "no such service",
    (codec.CMD_DEL_DEST, errno.ENOENT): "no such real server",
}


def reason(cmd: int, code: int) -> str:
    """The kernel's refusal of ``cmd`` with ``code`` in words (strerror when generic)."""
    return _REASONS.get((cmd, code)) or os.strerror(code)


def _dest_name(dest: Destination) -> str:
    host = f"[{dest.address}]" if dest.address.version == 6 else str(dest.address)
    return f"{host}:{dest.port}"


def _check_unique(services: Sequence[Service]) -> None:
    seen: set[ServiceKey] = set()
    for service in services:
        if service.key() in seen:
            raise LbError(f"{service}: the same service is listed twice")
        seen.add(service.key())
        keys = [codec.dest_key(d) for d in service.destinations]
        if len(set(keys)) != len(keys):
            raise LbError(f"{service}: a real server is listed twice")


def plan(kernel: Mapping[ServiceKey, Service], desired: Sequence[Service],
         owned: Mapping[ServiceKey, Iterable[DestKey]]) -> list[Op]:
    """The changes that turn ``kernel`` into ``desired``, touching only what is ``owned``
    (services, and per service the real servers, pykeepalived installed) or desired."""
    _check_unique(desired)
    wanted = {s.key(): s for s in desired}
    ops: list[Op] = []
    for key in owned:
        if key not in wanted and key in kernel:
            ops.append(Op(codec.CMD_DEL_SERVICE, kernel[key]))
    for service in desired:
        current = kernel.get(service.key())
        if current is None:
            ops.append(Op(codec.CMD_NEW_SERVICE, service))
            ops += [Op(codec.CMD_NEW_DEST, service, d) for d in service.destinations]
            continue
        if codec.service_state(current) != codec.service_state(service):
            ops.append(Op(codec.CMD_SET_SERVICE, service))
        have = {codec.dest_key(d): d for d in current.destinations}
        want = {codec.dest_key(d) for d in service.destinations}
        mine = set(owned.get(service.key(), ()))
        ops += [Op(codec.CMD_DEL_DEST, service, d) for k, d in have.items()
                if k in mine and k not in want]
        for dest in service.destinations:
            old = have.get(codec.dest_key(dest))
            if old is None:
                ops.append(Op(codec.CMD_NEW_DEST, service, dest))
            elif codec.dest_state(old) != codec.dest_state(dest):
                ops.append(Op(codec.CMD_SET_DEST, service, dest))
    return ops


# ------------------------------------------------------------------ the backend
class IpvsBackend:
    """:class:`~pykeepalived.lb.model.Backend` over IPVS. ``transport`` is for tests; by
    default a :class:`NetlinkTransport` is opened on first use, in the caller's namespace."""

    name = "ipvs"

    def __init__(self, transport: IpvsTransport | None = None) -> None:
        self._transport = transport
        self._owned: dict[ServiceKey, set[DestKey]] = {}

    @property
    def transport(self) -> IpvsTransport:
        if self._transport is None:
            self._transport = NetlinkTransport()
        return self._transport

    def owned(self) -> dict[ServiceKey, frozenset[DestKey]]:
        """The services (and their real servers) this backend considers its own."""
        return {key: frozenset(dests) for key, dests in self._owned.items()}

    def adopt(self, services: Iterable[Service]) -> None:
        """Count these services and real servers as pykeepalived's (see the module doc)."""
        for service in services:
            self._owned.setdefault(service.key(), set()).update(
                codec.dest_key(d) for d in service.destinations)

    def _send(self, op: Op) -> None:
        full = op.cmd in (codec.CMD_NEW_SERVICE, codec.CMD_SET_SERVICE, codec.CMD_NEW_DEST,
                          codec.CMD_SET_DEST)
        msg = codec.request(op.cmd, op.service, op.dest, full=full)
        try:
            self.transport.request(msg, codec.REQUEST_FLAGS)
        except LbError:
            raise
        except Exception as exc:
            code = getattr(exc, "code", None)
            why = reason(op.cmd, code) if isinstance(code, int) and code > 0 else str(exc)
            raise LbError(f"IPVS: {op.describe()}: {why}") from exc

    def _dump(self) -> dict[ServiceKey, Service]:
        return {s.key(): s for s, _ in self._dump_with_counters()}

    def _dump_with_counters(self) -> list[tuple[Service, list[codec.Counters]]]:
        transport = self.transport
        try:
            replies = transport.request(codec.request(codec.CMD_GET_SERVICE), codec.DUMP_FLAGS)
            found = []
            for reply in replies:
                nest = reply.get_attr("IPVS_CMD_ATTR_SERVICE")
                if nest is None:
                    continue
                service = codec.decode_service(nest)
                dests: list[Destination] = []
                counters: list[codec.Counters] = []
                msg = codec.request(codec.CMD_GET_DEST, service, full=False)
                for dreply in transport.request(msg, codec.DUMP_FLAGS):
                    dnest = dreply.get_attr("IPVS_CMD_ATTR_DEST")
                    if dnest is not None:
                        dests.append(codec.decode_dest(dnest))
                        counters.append(codec.decode_counters(dnest))
                found.append((_with_dests(service, dests), counters))
            return found
        except LbError:
            raise
        except Exception as exc:
            raise LbError(f"IPVS: reading the kernel's services: {exc}") from exc

    def apply(self, services: Sequence[Service]) -> None:
        ops = plan(self._dump(), services, self._owned)
        for op in ops:
            self._send(op)
            key = op.service.key()
            if op.cmd == codec.CMD_DEL_SERVICE:
                self._owned.pop(key, None)
            elif op.cmd == codec.CMD_DEL_DEST and op.dest is not None:
                self._owned.get(key, set()).discard(codec.dest_key(op.dest))
            else:
                self._owned.setdefault(key, set())
                if op.dest is not None:
                    self._owned[key].add(codec.dest_key(op.dest))
        for service in services:
            self._owned.setdefault(service.key(), set()).update(
                codec.dest_key(d) for d in service.destinations)
        if ops:
            log.info("IPVS: %d change(s) applied", len(ops))

    def clear(self) -> None:
        """Remove every service pykeepalived installed (with all its real servers)."""
        kernel = self._dump()
        for key in list(self._owned):
            if key in kernel:
                self._send(Op(codec.CMD_DEL_SERVICE, kernel[key]))
            self._owned.pop(key, None)

    def read(self) -> list[Service]:
        """Every service the kernel holds (an operator's too), with its real servers."""
        return list(self._dump().values())

    def read_counters(self) -> list[tuple[Service, list[codec.Counters]]]:
        """:meth:`read` with each real server's connection counters, in the same order."""
        return self._dump_with_counters()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


def _with_dests(service: Service, dests: list[Destination]) -> Service:
    return replace(service, destinations=tuple(dests))
