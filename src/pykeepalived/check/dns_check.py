"""DNS_CHECK: one query over UDP; any answer with rcode NOERROR means the server is up.

keepalived/check/check_dns.c, whose rules are kept:

- the query is for ``name`` (default ``.``) of ``type`` (default SOA), class IN, recursion
  desired, without EDNS;
- datagrams shorter than a DNS header, with another id, or that are not responses are
  ignored and the wait goes on;
- the first response with our id decides: rcode 0 (NOERROR) passes, whatever its answer
  section holds (an empty answer passes); any other rcode (NXDOMAIN, SERVFAIL, REFUSED...)
  fails;
- no response within the timeout, or an ICMP error (port unreachable), fails.

dnspython writes the query (name encoding and types); the response is judged on its header
alone, as keepalived judges it, so that a response dnspython would find malformed still
counts the same way. Without a port (neither connect_port nor the real server's) port 53 is
used.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import struct
from typing import Final

import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype

from pykeepalived.check.context import CheckContext
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.sockets import (
    CheckFailed,
    Phase,
    close_quietly,
    describe_datagram_error,
    describe_os_error,
    make_socket,
    sockaddr,
)
from pykeepalived.config.model_lvs import DnsCheck

__all__ = ["DNS_PORT", "check_dns", "make_query"]

DNS_PORT: Final = 53
_HEADER: Final = struct.Struct("!HH")
_QR: Final = 0x8000
_BUFFER: Final = 768  # keepalived's DNS_BUFFER_SIZE; only the header is read


def make_query(spec: DnsCheck) -> bytes:
    """The query keepalived sends for ``spec`` (a fresh random id each time)."""
    try:
        query = dns.message.make_query(spec.name or ".", spec.type or "SOA")
    except (dns.exception.DNSException, ValueError) as exc:
        raise CheckFailed(f"cannot query {spec.name!r} type {spec.type}: {exc}") from None
    return query.to_wire()


def judge_datagram(query_id: int, data: bytes) -> tuple[bool, str] | None:
    """None to ignore the datagram, else ``(passed, rcode name)``."""
    if len(data) < _HEADER.size:
        return None
    answer_id, flags = _HEADER.unpack_from(data)
    if answer_id != query_id or not flags & _QR:
        return None
    rcode = flags & 0x000F
    return rcode == 0, dns.rcode.to_text(dns.rcode.Rcode(rcode))


async def check_dns(spec: DnsCheck, target: Target,
                    context: CheckContext | None = None) -> CheckResult:
    """One DNS_CHECK attempt, bounded by ``target.timeout``."""
    if target.port is None:
        target = dataclasses.replace(target, port=DNS_PORT)
    assert target.port is not None
    phase = Phase("sending the query")
    loop = asyncio.get_running_loop()
    try:
        wire = make_query(spec)
        sock = make_socket(target, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    except CheckFailed as failed:
        return CheckResult(False, failed.detail)
    query_id = _HEADER.unpack_from(wire)[0]
    qtype = dns.rdatatype.to_text(dns.rdatatype.from_text(spec.type or "SOA"))
    try:
        async with asyncio.timeout(target.timeout):
            try:
                await loop.sock_connect(sock, sockaddr(target.address, target.port,
                                                       target.bind_if))
                await loop.sock_sendall(sock, wire)
            except OSError as exc:
                raise CheckFailed(f"{describe_os_error(exc)} while {phase.now}") from None
            phase.now = "waiting for the answer"
            while True:
                try:
                    data = await loop.sock_recv(sock, _BUFFER)
                except OSError as exc:
                    raise CheckFailed(f"{describe_datagram_error(exc)} while {phase.now}"
                                      ) from None
                verdict = judge_datagram(query_id, data)
                if verdict is not None:
                    passed, rcode = verdict
                    return CheckResult(passed, f"DNS answer {rcode} for {spec.name or '.'} "
                                       f"{qtype}" + ("" if passed else ", expected NOERROR"))
    except TimeoutError:
        return CheckResult(False, phase.timed_out(target.timeout))
    except CheckFailed as failed:
        return CheckResult(False, failed.detail)
    finally:
        close_quietly(sock)
