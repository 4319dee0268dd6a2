"""VRRP datagrams for fuzzing: valid ones built from fields, then damaged.

A datagram is described by :class:`Fields` (every header field, free of range checks, so a
rewrite can put any value anywhere) and built by :func:`build` the way a raw socket hands it
to the daemon: the whole IPv4 datagram (header, optional AH header, VRRP message), or for
IPv6 the VRRP message alone with addresses and hop limit beside it. With ``fix_checksum`` the
VRRP checksum is made right for whatever the fields say, and with ``ah_key`` the AH ICV is
computed over the result, so that a rewritten field reaches the checks behind the checksum
and the ICV; byte-level mutations (:func:`mutate`) are applied after that and mostly do not.

The hypothesis strategies at the end draw scenarios for the instances of
:data:`tests.fuzz.vrrp_harness.CONFIG`; the bounded tests and ``scripts/fuzz`` share them.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass, replace
from ipaddress import ip_address
from typing import Any

from hypothesis import strategies as st

from pykeepalived.vrrp import packet

# Addresses (documentation ranges and link-local only).
ME4 = "192.0.2.2"
ME6 = "fe80::2"
PEERS4 = ("192.0.2.3", "192.0.2.1", "198.51.100.7")  # higher, lower than ME, off-subnet
PEERS6 = ("fe80::3", "fe80::1", "2001:db8::7")
GROUP4 = "224.0.0.18"
GROUP6 = "ff02::12"


@dataclass(frozen=True)
class Fields:
    """Every field of one VRRP datagram, unchecked (see the module docstring)."""

    family: int
    version: int
    vrid: int
    priority: int
    adver_int: int  # v2: whole seconds (one byte); v3: centiseconds (12 bits)
    addresses: tuple[str, ...]
    src: str
    dst: str
    type: int = packet.VRRP_TYPE_ADVERTISEMENT
    count: int | None = None  # None: the number of addresses
    auth_type: int = packet.AUTH_NONE  # v2
    auth_data: bytes = b""  # v2: zero-padded to 8 bytes
    rsvd: int = 0  # v3: the 4 bits above Max Adver Int
    ttl: int = packet.VRRP_TTL
    tos: int = packet.VRRP_TOS
    ihl: int = 5  # IPv4 header length in 32-bit words; options are zero bytes
    protocol: int | None = None  # None: 51 with AH, 112 without
    tot_len_delta: int = 0  # added to the true IPv4 total length
    ah: bool = False
    ah_next: int = packet.IPPROTO_VRRP
    ah_len: int = packet.AH_PAYLOAD_LEN
    ah_spi: int | None = None  # None: the source address, as keepalived sends it
    ah_seq: int = 1
    ah_key: bytes | None = None  # sign with this password; None leaves the ICV zero
    fix_checksum: bool = True


@dataclass(frozen=True)
class Datagram:
    """What the daemon's socket layer delivers: data plus the addresses and TTL beside it."""

    family: int
    src: str
    dst: str
    ttl: int
    data: bytes

    def describe(self) -> str:
        return (f"IPv{self.family} {self.src} -> {self.dst} ttl {self.ttl}: "
                f"{self.data.hex()}")


def _packed(address: str, family: int) -> bytes:
    try:
        ip = ip_address(address)
    except ValueError:
        return bytes(4 if family == 4 else 16)
    return ip.packed if ip.version == family else bytes(4 if family == 4 else 16)


def vrrp_message(f: Fields) -> bytes:
    """The VRRP message of ``f`` (checksum filled in when ``fix_checksum``)."""
    addresses = b"".join(_packed(a, f.family) for a in f.addresses)
    count = len(f.addresses) if f.count is None else f.count
    first = ((f.version & 0x0F) << 4) | (f.type & 0x0F)
    head = bytes((first, f.vrid & 0xFF, f.priority & 0xFF, count & 0xFF))
    if f.version == 2:
        head += bytes((f.auth_type & 0xFF, f.adver_int & 0xFF))
        tail = f.auth_data[:8].ljust(8, b"\0")
    else:
        head += (((f.rsvd & 0x0F) << 12) | (f.adver_int & 0x0FFF)).to_bytes(2, "big")
        tail = b""
    message = head + b"\0\0" + addresses + tail
    if not f.fix_checksum:
        return message
    if f.version == 2:
        csum = packet.internet_checksum(message)
    else:
        src, dst = ip_address(f.src), ip_address(f.dst)
        csum = packet.internet_checksum(packet.pseudo_header(src, dst, len(message)) + message)
    return message[:6] + csum.to_bytes(2, "big") + message[8:]


def build(f: Fields) -> Datagram:
    """The datagram ``f`` describes, as the socket layer delivers it."""
    message = vrrp_message(f)
    if f.family == 6:
        return Datagram(6, f.src, f.dst, f.ttl, message)
    options = bytes(max(0, (f.ihl & 0x0F) * 4 - 20))
    body = message
    ah = b""
    if f.ah:
        spi = int.from_bytes(_packed(f.src, 4), "big") if f.ah_spi is None else f.ah_spi
        ah = struct.pack("!BBHII", f.ah_next & 0xFF, f.ah_len & 0xFF, 0, spi & 0xFFFFFFFF,
                         f.ah_seq & 0xFFFFFFFF)
        body = ah + bytes(packet.AH_ICV_LEN) + message
    protocol = f.protocol if f.protocol is not None else (
        packet.IPPROTO_AH if f.ah else packet.IPPROTO_VRRP)
    tot_len = (20 + len(options) + len(body) + f.tot_len_delta) & 0xFFFF
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | (f.ihl & 0x0F), f.tos & 0xFF, tot_len, 0, 0,
                         f.ttl & 0xFF, protocol & 0xFF, 0, _packed(f.src, 4),
                         _packed(f.dst, 4)) + options
    if f.ah and f.ah_key is not None:
        icv = _ah_icv(header, ah, message, f.ah_key)
        body = ah + icv + message
    return Datagram(4, f.src, f.dst, f.ttl, header + body)


def _ah_icv(header: bytes, ah: bytes, message: bytes, key: bytes) -> bytes:
    """keepalived's ICV: HMAC-MD5-96 keyed with the 8-byte password, over the IPv4 header
    (TOS, fragment field and checksum zeroed), the AH header (ICV zeroed) and the message."""
    hdr = bytearray(header)
    hdr[1] = 0
    hdr[6:8] = b"\0\0"
    hdr[10:12] = b"\0\0"
    data = bytes(hdr) + ah + bytes(packet.AH_ICV_LEN) + message
    return hmac.new(key[:8].ljust(8, b"\0"), data, hashlib.md5).digest()[:packet.AH_ICV_LEN]


# --- byte-level mutations ------------------------------------------------------------------

Mutation = tuple[Any, ...]


def mutate(data: bytes, ops: list[Mutation]) -> bytes:
    """Apply byte-level mutations in order; positions are taken modulo the length."""
    buf = bytearray(data)
    for op in ops:
        kind = op[0]
        n = len(buf)
        if kind == "flip" and n:
            buf[op[1] % n] ^= 1 << (op[2] % 8)
        elif kind == "set" and n:
            buf[op[1] % n] = op[2] & 0xFF
        elif kind == "truncate":
            del buf[max(0, n - op[1]):]
        elif kind == "extend":
            buf += op[1]
        elif kind == "insert":
            at = op[1] % (n + 1)
            buf[at:at] = op[2]
        elif kind == "delete" and n:
            at = op[1] % n
            del buf[at:at + op[2]]
    return bytes(buf)


_positions = st.integers(0, 255)
mutations: st.SearchStrategy[list[Mutation]] = st.lists(st.one_of(
    st.tuples(st.just("flip"), _positions, st.integers(0, 7)),
    st.tuples(st.just("set"), _positions, st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.integers(1, 64)),
    st.tuples(st.just("extend"), st.binary(min_size=1, max_size=24)),
    st.tuples(st.just("insert"), _positions, st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), _positions, st.integers(1, 8)),
), max_size=4)


# --- what the instances of the harness expect -------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """One instance of the harness's configuration: what a valid advert for it carries."""

    name: str
    family: int
    version: int
    vrid: int
    adver_int: int  # in the wire's unit (v2 seconds, v3 centiseconds)
    vips: tuple[str, ...]
    auth_type: int = packet.AUTH_NONE
    auth_pass: bytes = b""
    unicast: bool = False


def valid_fields(inst: Expected, priority: int, src: str, ah_seq: int = 1) -> Fields:
    """A datagram ``inst`` accepts, from ``src`` with ``priority``."""
    group = GROUP4 if inst.family == 4 else GROUP6
    dst = (ME4 if inst.family == 4 else ME6) if inst.unicast else group
    ah = inst.auth_type == packet.AUTH_AH
    return Fields(
        family=inst.family, version=inst.version, vrid=inst.vrid, priority=priority,
        adver_int=inst.adver_int, addresses=inst.vips, src=src, dst=dst,
        auth_type=inst.auth_type,
        auth_data=inst.auth_pass if inst.auth_type == packet.AUTH_PASS else b"",
        ah=ah, ah_seq=ah_seq, ah_key=inst.auth_pass if ah else None)


def rewrites(family: int) -> st.SearchStrategy[dict[str, Any]]:
    """Field rewrites: each field maybe replaced by any value its wire width holds."""
    # addresses stay in the socket's family: an IPv6 socket never delivers an IPv4 source
    peers = PEERS4 if family == 4 else PEERS6
    me = ME4 if family == 4 else ME6
    other = ("0.0.0.0", "255.255.255.255") if family == 4 else ("::", "ff02::1")
    dsts = (GROUP4, ME4, "203.0.113.5") if family == 4 else (GROUP6, ME6, "2001:db8::5")
    addresses = st.sampled_from(("192.0.2.100", "192.0.2.101", "192.0.2.110", "192.0.2.120",
                                 "192.0.2.130", "192.0.2.140", "2001:db8::130",
                                 "203.0.113.1", "2001:db8::1"))
    return st.fixed_dictionaries({}, optional={
        "version": st.integers(0, 15),
        "type": st.integers(0, 15),
        "vrid": st.one_of(st.integers(49, 55), st.integers(0, 255)),
        "priority": st.sampled_from((0, 1, 99, 100, 101, 254, 255)),
        "count": st.integers(0, 255),
        "auth_type": st.integers(0, 255),
        "auth_data": st.binary(max_size=8),
        "adver_int": st.one_of(st.sampled_from((0, 1, 2, 50, 100, 255)),
                               st.integers(0, 0xFFF)),
        "rsvd": st.integers(0, 15),
        "addresses": st.lists(addresses, max_size=4).map(tuple),
        "src": st.sampled_from((*peers, me, *other)),
        "dst": st.sampled_from(dsts),
        "ttl": st.sampled_from((0, 1, 64, 254, 255)),
        "tos": st.integers(0, 255),
        "ihl": st.integers(0, 15),
        "protocol": st.sampled_from((packet.IPPROTO_VRRP, packet.IPPROTO_AH, 6, 17)),
        "tot_len_delta": st.integers(-40, 40),
        "ah": st.booleans(),
        "ah_next": st.sampled_from((packet.IPPROTO_VRRP, 6, 0)),
        "ah_len": st.integers(0, 255),
        "ah_spi": st.integers(0, 0xFFFFFFFF),
        "ah_seq": st.one_of(st.integers(0, 3), st.integers(0, 0xFFFFFFFF)),
        "ah_key": st.one_of(st.none(), st.binary(max_size=8)),
        "fix_checksum": st.booleans(),
    })


# --- whole datagrams ---------------------------------------------------------------------


@st.composite
def damaged(draw: st.DrawFn, instances: tuple[Expected, ...]) -> Datagram:
    """A valid datagram for one of ``instances``, maybe with fields rewritten, then maybe
    damaged byte by byte."""
    inst = draw(st.sampled_from(instances))
    priority = draw(st.sampled_from((0, 1, 50, 100, 150, 254, 255)))
    src = draw(st.sampled_from(PEERS4 if inst.family == 4 else PEERS6))
    seq = draw(st.one_of(st.integers(1, 1000), st.integers(0, 0xFFFFFFFF)))
    f = replace(valid_fields(inst, priority, src, seq), **draw(rewrites(inst.family)))
    dgram = build(f)
    return replace(dgram, data=mutate(dgram.data, draw(mutations)))


@st.composite
def noise(draw: st.DrawFn) -> Datagram:
    """Random bytes, as either family's socket could deliver them."""
    family = draw(st.sampled_from((4, 6)))
    src = draw(st.sampled_from(PEERS4 if family == 4 else PEERS6))
    data = draw(st.binary(max_size=128))
    if family == 4 and draw(st.booleans()):
        # an IPv4 header that gets past the first checks, so the rest is random VRRP
        proto = draw(st.sampled_from((packet.IPPROTO_VRRP, packet.IPPROTO_AH)))
        data = (struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(data), 0, 0, 255, proto, 0,
                            _packed(src, 4), _packed(GROUP4, 4)) + data)
    return Datagram(family, src, GROUP4 if family == 4 else GROUP6,
                    draw(st.sampled_from((255, 64))), data)


def datagrams(instances: tuple[Expected, ...]) -> st.SearchStrategy[Datagram]:
    return st.one_of(damaged(instances), noise())
