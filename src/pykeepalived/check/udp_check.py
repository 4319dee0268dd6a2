"""UDP_CHECK: one datagram sent; an ICMP error fails, a reply (or, unless required, silence)
passes.

keepalived/check/check_udp.c and core/layer4.c, whose rules are kept:

- the datagram is ``payload``, or without one 32 bytes of ``keepalived check - `` repeated;
- the socket asks for ICMP errors (IP_RECVERR): destination, host or port unreachable makes
  the check fail at once;
- silence until the timeout passes, unless ``require_reply`` is set;
- with ``require_reply HEX`` the reply must be ``min_reply_length``..``max_reply_length``
  bytes long (a longer one is seen as max + 1 bytes), and its first bytes, as many as both the
  reply and HEX have, must equal HEX, an ``X`` matching any nibble. keepalived applies the
  lengths only when HEX is given, although its man page says otherwise; so does this module.

The ICMP errors come from the real server's kernel, which by default sends at most one per
second to a given address (net.ipv4.icmp_ratelimit): a second check of a closed port within
that second meets silence, and passes unless require_reply is set (keepalived's checker has
the same exposure). A delay_loop of a second or more, or a lifted limit on the real server,
avoids it.

HEX strings are read as keepalived reads them (:mod:`pykeepalived.config.hexstr`).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Final

from pykeepalived.check.context import CheckContext
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.sockets import (
    CheckFailed,
    Phase,
    close_quietly,
    describe_datagram_error,
    fmt_seconds,
    make_socket,
    sockaddr,
)
from pykeepalived.config.hexstr import read_hex_str
from pykeepalived.config.model_lvs import UdpCheck

__all__ = ["DEFAULT_PAYLOAD", "check_udp", "read_hex_str", "reply_mismatch"]

IP_RECVERR: Final = getattr(socket, "IP_RECVERR", 11)
IPV6_RECVERR: Final = getattr(socket, "IPV6_RECVERR", 25)


def _default_payload(size: int = 32) -> bytes:
    text = b"keepalived check - "
    return (text * (size // len(text) + 1))[:size]


DEFAULT_PAYLOAD: Final = _default_payload()

def reply_mismatch(reply: bytes, spec: UdpCheck) -> str | None:
    """Why ``reply`` does not satisfy ``require_reply HEX`` and the lengths, or None."""
    if spec.require_reply_data is None:
        return None
    expected, mask = read_hex_str(spec.require_reply_data, wildcard=True)
    if not spec.min_reply_length <= len(reply) <= spec.max_reply_length:
        shown = f"more than {spec.max_reply_length}" if len(reply) > spec.max_reply_length \
            else str(len(reply))
        return (f"reply of {shown} bytes, expected {spec.min_reply_length}.."
                f"{spec.max_reply_length}")
    for i in range(min(len(reply), len(expected))):
        if (reply[i] ^ expected[i]) & ~mask[i] & 0xFF:
            return (f"reply byte {i} is {reply[i]:02x}, expected "
                    f"{spec.require_reply_data!s} (reply {reply[:16].hex()})")
    return None


async def check_udp(spec: UdpCheck, target: Target,
                    context: CheckContext | None = None) -> CheckResult:
    """One UDP_CHECK attempt, bounded by ``target.timeout``."""
    if target.port is None:
        return CheckResult(False, "no port to send to (set connect_port or the real server's "
                           "port)")
    if spec.require_reply_data is not None:
        try:
            read_hex_str(spec.require_reply_data, wildcard=True)
        except ValueError as exc:
            return CheckResult(False, f"require_reply: {exc}")
    phase = Phase("sending the datagram")
    loop = asyncio.get_running_loop()
    try:
        sock = make_socket(target, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    except CheckFailed as failed:
        return CheckResult(False, failed.detail)
    try:
        if target.address.version == 6:
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
        else:
            sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        async with asyncio.timeout(target.timeout):
            try:
                await loop.sock_connect(sock, sockaddr(target.address, target.port,
                                                       target.bind_if))
                await loop.sock_sendall(sock, spec.payload or DEFAULT_PAYLOAD)
                phase.now = "waiting for a reply"
                reply = await loop.sock_recv(sock, spec.max_reply_length + 1)
            except OSError as exc:
                return CheckResult(False, f"{describe_datagram_error(exc)} while {phase.now}")
    except TimeoutError:
        if spec.require_reply:
            return CheckResult(False, f"no reply within {fmt_seconds(target.timeout)}")
        return CheckResult(True, f"no ICMP error within {fmt_seconds(target.timeout)}")
    finally:
        close_quietly(sock)
    problem = reply_mismatch(reply, spec)
    if problem is not None:
        return CheckResult(False, problem)
    return CheckResult(True, f"reply of {len(reply)} bytes")
