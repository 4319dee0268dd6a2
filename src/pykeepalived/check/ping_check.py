"""PING_CHECK: one ICMP (or ICMPv6) echo request; an echo reply within the timeout passes.

keepalived/check/check_ping.c sends one echo request carrying 128 bytes of
``keepalived check - `` and takes the first ICMP message its socket receives: an echo reply
passes, anything else fails.

keepalived uses an unprivileged ping socket (SOCK_DGRAM, IPPROTO_ICMP) and, to be allowed
one as root, widens ``net.ipv4.ping_group_range`` for the whole system. pykeepalived leaves
that setting alone: it uses a ping socket when the setting already allows one, and otherwise
a raw socket (the daemon runs as root, and raw sockets need only CAP_NET_RAW). A ping socket
receives only the replies to its own requests; a raw socket receives every ICMP message of
the namespace, so there the reply must come from the address pinged and carry our identifier
and sequence number, and other messages are ignored.

bindto, bind_if and fwmark apply to the echo request as to every checker's packets.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import os
import socket
import struct
import time
from ipaddress import ip_address
from typing import Final

from pykeepalived.check.context import CheckContext
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.sockets import (
    CheckFailed,
    apply_options,
    close_quietly,
    describe_os_error,
    family_of,
    fmt_seconds,
    sockaddr,
)
from pykeepalived.config.model_lvs import PingCheck

__all__ = ["ECHO_PAYLOAD", "check_ping", "checksum", "echo_request", "parse_echo_reply"]

ICMP_ECHO_REQUEST: Final = 8
ICMP_ECHO_REPLY: Final = 0
ICMPV6_ECHO_REQUEST: Final = 128
ICMPV6_ECHO_REPLY: Final = 129
_HEADER: Final = struct.Struct("!BBHHH")
ECHO_PAYLOAD: Final = (b"keepalived check - " * 7)[:128]
_sequence = itertools.count(int.from_bytes(os.urandom(2), "big"))


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def echo_request(version: int, ident: int, sequence: int) -> bytes:
    """An echo request; the checksum is filled in for ICMPv4 (the kernel does it for ICMPv6
    and for ping sockets, which also set the identifier)."""
    kind = ICMPV6_ECHO_REQUEST if version == 6 else ICMP_ECHO_REQUEST
    message = _HEADER.pack(kind, 0, 0, ident, sequence) + ECHO_PAYLOAD
    if version == 4:
        message = message[:2] + struct.pack("!H", checksum(message)) + message[4:]
    return message


def parse_echo_reply(version: int, data: bytes, raw: bool) -> tuple[int, int, int] | None:
    """``(type, identifier, sequence)`` of an ICMP message; None when too short.

    An IPv4 raw socket hands over the IP header too; it is skipped.
    """
    if raw and version == 4:
        if not data:
            return None
        data = data[(data[0] & 0x0F) * 4:]
    if len(data) < _HEADER.size:
        return None
    kind, _code, _sum, ident, sequence = _HEADER.unpack_from(data)
    return kind, ident, sequence


def _open(target: Target) -> tuple[socket.socket, bool]:
    """A ping socket when the system allows one, else a raw socket: ``(socket, raw)``."""
    family = family_of(target)
    proto = socket.IPPROTO_ICMPV6 if family == socket.AF_INET6 else socket.IPPROTO_ICMP
    flags = socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM | flags, proto)
        raw = False
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EPROTONOSUPPORT):
            raise CheckFailed(f"cannot create an ICMP socket: {describe_os_error(exc)}") from None
        try:
            sock = socket.socket(family, socket.SOCK_RAW | flags, proto)
        except OSError as raw_exc:
            raise CheckFailed(
                "cannot create an ICMP socket: ping sockets are not allowed for this group "
                "(net.ipv4.ping_group_range) and raw sockets need CAP_NET_RAW: "
                f"{describe_os_error(raw_exc)}") from None
        raw = True
    try:
        apply_options(sock, target)
    except BaseException:
        sock.close()
        raise
    return sock, raw


async def check_ping(spec: PingCheck, target: Target,
                     context: CheckContext | None = None) -> CheckResult:
    """One PING_CHECK attempt, bounded by ``target.timeout``."""
    version = target.address.version
    reply_type = ICMPV6_ECHO_REPLY if version == 6 else ICMP_ECHO_REPLY
    try:
        sock, raw = _open(target)
    except CheckFailed as failed:
        return CheckResult(False, failed.detail)
    loop = asyncio.get_running_loop()
    ident = int.from_bytes(os.urandom(2), "big")
    sequence = next(_sequence) & 0xFFFF
    try:
        destination = sockaddr(target.address, 0, target.bind_if)
        started = time.monotonic()
        async with asyncio.timeout(target.timeout):
            try:
                await loop.sock_sendto(sock, echo_request(version, ident, sequence),
                                       destination)
            except OSError as exc:
                return CheckResult(False, f"{describe_os_error(exc)} sending the echo request")
            while True:
                try:
                    data, source = await loop.sock_recvfrom(sock, 2048)
                except OSError as exc:
                    return CheckResult(False, f"{describe_os_error(exc)} waiting for the echo "
                                       "reply")
                parsed = parse_echo_reply(version, data, raw)
                if parsed is None:
                    if raw:
                        continue
                    return CheckResult(False, f"short ICMP message of {len(data)} bytes")
                kind, got_ident, got_sequence = parsed
                if raw:
                    if (ip_address(source[0].split("%", 1)[0]) != target.address
                            or kind != reply_type or got_ident != ident
                            or got_sequence != sequence):
                        continue
                elif kind != reply_type:
                    return CheckResult(False, f"ICMP message of type {kind}, expected an echo "
                                       "reply")
                elapsed = (time.monotonic() - started) * 1000
                return CheckResult(True, f"echo reply in {elapsed:.1f} ms")
    except TimeoutError:
        return CheckResult(False, f"no echo reply within {fmt_seconds(target.timeout)}")
    except CheckFailed as failed:
        return CheckResult(False, failed.detail)
    finally:
        close_quietly(sock)
