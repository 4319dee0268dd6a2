"""Sockets for one check attempt: keepalived's connection options, and failures as words.

Every connecting checker honours the same options (keepalived.conf(5), "CHECKER_TYPE"):
``bindto`` and ``bind_port`` (the source address and port), ``bind_if`` (SO_BINDTODEVICE;
needed for an IPv6 link-local address) and ``fwmark`` (SO_MARK on every packet the checker
sends). They are applied here, before the socket connects, so that every checker kind treats
them alike.

A failed attempt is a :class:`CheckFailed` carrying the detail an operator reads ("connection
refused", "no route to host"); the checkers turn it into a
:class:`~pykeepalived.check.result.CheckResult`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import Callable
from ipaddress import IPv6Address
from typing import Final, TypeVar

from pykeepalived.check.result import IPAddress, Target

__all__ = [
    "CheckFailed",
    "Phase",
    "apply_options",
    "close_quietly",
    "describe_datagram_error",
    "describe_os_error",
    "family_of",
    "fmt_seconds",
    "make_socket",
    "make_socket_of",
    "open_stream_socket",
    "sockaddr",
]

#: Linux socket option numbers that the socket module may lack.
SO_MARK: Final = getattr(socket, "SO_MARK", 36)
SO_BINDTODEVICE: Final = getattr(socket, "SO_BINDTODEVICE", 25)
IP_BIND_ADDRESS_NO_PORT: Final = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)

_WORDS: Final = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by the server",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "connection timed out",
    errno.EHOSTDOWN: "host is down",
    errno.ENETDOWN: "network is down",
    errno.ECONNABORTED: "connection aborted",
    errno.EPIPE: "connection closed by the server",
    errno.EADDRNOTAVAIL: "source address not available",
    errno.EADDRINUSE: "source address and port already in use",
    errno.ENODEV: "no such interface",
}


_ICMP_WORDS: Final = {
    errno.ECONNREFUSED: "ICMP port unreachable",
    errno.EHOSTUNREACH: "ICMP host unreachable",
    errno.ENETUNREACH: "ICMP network unreachable",
}


class CheckFailed(Exception):
    """One attempt failed; ``detail`` says why in an operator's words."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Phase:
    """What an attempt is doing now, so that a timeout can say where it struck."""

    __slots__ = ("now",)

    def __init__(self, now: str = "connecting") -> None:
        self.now = now

    def timed_out(self, timeout: float) -> str:
        return f"timeout after {fmt_seconds(timeout)} {self.now}"


def fmt_seconds(value: float) -> str:
    """``3 s``, ``0.5 s``: how a timeout reads in a detail."""
    return f"{value:g} s"


def describe_os_error(exc: OSError) -> str:
    """The words for a socket error: keepalived's vocabulary where it has one."""
    if exc.errno in _WORDS:
        return _WORDS[exc.errno]
    if exc.errno is None and isinstance(exc, ConnectionResetError):
        # asyncio's streams report a reset that came while writing as ConnectionResetError
        # ("Connection lost"), without its errno
        return _WORDS[errno.ECONNRESET]
    if exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


def describe_datagram_error(exc: OSError) -> str:
    """The words for an error on a connected datagram socket: an ICMP error the kernel
    reported, named as the ICMP message it was."""
    return _ICMP_WORDS.get(exc.errno or 0) or describe_os_error(exc)


def _scope(address: IPAddress, bind_if: str | None) -> int:
    """The scope id a link-local IPv6 address needs: its own ``%zone``, else bind_if's index."""
    if not isinstance(address, IPv6Address) or not address.is_link_local:
        return 0
    if address.scope_id:
        zone = address.scope_id
        return int(zone) if zone.isdigit() else socket.if_nametoindex(zone)
    if bind_if:
        return socket.if_nametoindex(bind_if)
    raise CheckFailed(f"link-local address {address} needs bind_if")


def sockaddr(address: IPAddress, port: int, bind_if: str | None = None
             ) -> tuple[str, int] | tuple[str, int, int, int]:
    """The socket address tuple of ``address``/``port`` for its family."""
    if isinstance(address, IPv6Address):
        text = str(address).split("%", 1)[0]
        try:
            scope = _scope(address, bind_if)
        except OSError as exc:
            raise CheckFailed(f"bind_if {bind_if}: {describe_os_error(exc)}") from None
        return (text, port, 0, scope)
    return (str(address), port)


def make_socket(target: Target, kind: socket.SocketKind, proto: int = 0) -> socket.socket:
    """A non-blocking socket of ``target``'s family with the connection options applied
    (raises :class:`CheckFailed` when it cannot be made or an option cannot be set)."""
    return make_socket_of(socket.socket, target, kind, proto)


_Sock = TypeVar("_Sock", bound=socket.SocketType)


def make_socket_of(factory: Callable[[int, int, int], _Sock], target: Target,
                   kind: socket.SocketKind, proto: int = 0) -> _Sock:
    """:func:`make_socket` of the class ``factory``: ``socket.SocketType``, the socket of C
    without the Python class's bookkeeping (for makefile), costs less to make and close,
    which the checks made in bulk do thousands of times a second. Non-blocking and
    close-on-exec come with the socket call itself (no fcntl after it)."""
    if target.bindto is not None and target.bindto.version != target.address.version:
        raise CheckFailed(f"bindto {target.bindto} is not of the family of {target.address}")
    try:
        sock = factory(family_of(target), kind | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC,
                       proto)
    except OSError as exc:
        raise CheckFailed(f"cannot create a socket: {describe_os_error(exc)}") from None
    try:
        apply_options(sock, target)
    except BaseException:
        sock.close()
        raise
    return sock


def family_of(target: Target) -> socket.AddressFamily:
    return socket.AF_INET6 if target.address.version == 6 else socket.AF_INET


def apply_options(sock: socket.SocketType, target: Target) -> None:
    """fwmark, bind_if, then bindto/bind_port: keepalived's order, which only decides which
    error is reported when several would be."""
    if target.fwmark:
        _setopt(sock, SO_MARK, target.fwmark, f"fwmark {target.fwmark}")
    if target.bind_if:
        _setopt(sock, SO_BINDTODEVICE, target.bind_if.encode() + b"\0",
                f"bind_if {target.bind_if}")
    if target.bindto is None and target.bind_port is None:
        return
    if target.bindto is not None:
        source = sockaddr(target.bindto, target.bind_port or 0, target.bind_if)
    elif sock.family == socket.AF_INET6:
        source = ("::", target.bind_port or 0, 0, 0)
    else:
        source = ("0.0.0.0", target.bind_port or 0)
    if target.bind_port is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    elif sock.type == socket.SOCK_STREAM:
        # bindto alone: the source port is left to connect, which needs it unique for the
        # four addresses and ports only; bind would look for a port no other socket holds,
        # and thousands of checks a second leave tens of thousands in TIME_WAIT to search
        # past (the same ephemeral port range either way)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    try:
        sock.bind(source)
    except OSError as exc:
        raise CheckFailed(f"cannot bind to {_where(source)}: {describe_os_error(exc)}") from None


def _setopt(sock: socket.SocketType, option: int, value: int | bytes, what: str) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, option, value)
    except OSError as exc:
        raise CheckFailed(f"cannot set {what}: {describe_os_error(exc)}") from None


def _where(address: tuple[str, int] | tuple[str, int, int, int]) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def open_stream_socket(target: Target, phase: Phase) -> socket.socket:
    """A TCP socket connected to ``target`` (the caller bounds the wait and closes it)."""
    if target.port is None:
        raise CheckFailed("no port to connect to (set connect_port or the real server's port)")
    sock = make_socket(target, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    phase.now = "connecting"
    try:
        await asyncio.get_running_loop().sock_connect(
            sock, sockaddr(target.address, target.port, target.bind_if))
    except OSError as exc:
        sock.close()
        raise CheckFailed(describe_os_error(exc)) from None
    except BaseException:
        sock.close()
        raise
    return sock


def close_quietly(sock: socket.SocketType) -> None:
    """Close, whatever state the socket is in."""
    with contextlib.suppress(OSError):
        sock.close()
