"""The VRRP wire format: VRRPv2 (RFC 3768 5), VRRPv3 (RFC 5798 5) and keepalived's IPsec AH.

Pure functions from fields to bytes and back; no sockets. The daemon reads a datagram from a raw
``IPPROTO_VRRP`` (or ``IPPROTO_AH``) socket, calls :func:`decode_ipv4` (IPv4 only; IPv6 raw sockets
deliver no IP header) and :func:`decode`, and hands the :class:`Advert` to the virtual router.

Checksums:

* VRRPv2 covers the VRRP message only (RFC 3768 5.3.8).
* VRRPv3 covers the message *and* an IPv4/IPv6 pseudo-header (RFC 5798 5.2.8), as keepalived,
  FRR, tcpdump, Wireshark and scapy compute it; RFC 9568 and some vendors leave the
  pseudo-header out for IPv4, which keepalived calls ``v3_checksum_as_v2``
  (``encode(..., v3_checksum_as_v2=True)`` sends that way,
  ``decode(..., accept_v3_checksum_as_v2=True)`` accepts either form).

Authentication (VRRPv2 only; RFC 3768 5.3.6 and RFC 2338 for AH):

* PASS: up to 8 bytes of password, zero-padded, in the auth data field; keepalived keeps only
  the first 8 characters of a longer ``auth_pass``.
* AH: keepalived puts an IPsec AH header (RFC 2402) between the IPv4 header and the VRRP
  message, with SPI = the source address, a per-instance sequence number and an HMAC-MD5-96 ICV
  keyed with the same 8-byte zero-padded password. The ICV is computed over the IPv4 header with
  TOS, fragment offset and header checksum zeroed -- but, unlike RFC 2402 3.3.3.1.1.1, *not* the
  TTL (keepalived zeroes the TTL only for unicast peers) -- then the AH header with a zero ICV,
  then the VRRP message, whose own auth type is 2 and whose auth data is 8 zero bytes.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

IPAddress = IPv4Address | IPv6Address

IPPROTO_VRRP = 112
IPPROTO_AH = 51
VRRP_TTL = 255  # RFC 5798 5.1.1.3 / 5.1.2.3: sent with TTL / hop limit 255, checked on receipt
VRRP_TOS = 0xC0  # keepalived: "internet network control"
VRRP_MCAST_IPV4 = IPv4Address("224.0.0.18")
VRRP_MCAST_IPV6 = IPv6Address("ff02::12")
VRRP_TYPE_ADVERTISEMENT = 1

AUTH_NONE = 0
AUTH_PASS = 1
AUTH_AH = 2
AUTH_DATA_LEN = 8  # VRRPv2 Authentication Data, RFC 3768 5.3.10

IPV4_HEADER_LEN = 20
AH_HEADER_LEN = 24  # next header, payload len, reserved, SPI, sequence, 96-bit ICV
AH_PAYLOAD_LEN = 4  # RFC 2402 2.2: length in 32-bit words minus 2 -> (24 / 4) - 2
AH_ICV_LEN = 12  # HMAC-MD5-96, RFC 2403

_HEADER_LEN = 8  # version/type, VRID, priority, count, auth type|rsvd+interval, checksum

_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_AH = struct.Struct("!BBHII12s")


class PacketError(ValueError):
    """A datagram that is not a usable VRRP advertisement.

    ``reason`` is a short word usable as a counter key ("truncated", "length", "version", "type",
    "checksum", "advert_int", "ip_header", "ah", "auth", ...).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Advert:
    """The fields of one ADVERTISEMENT.

    ``advert_int`` is in seconds: whole seconds for VRRPv2 (RFC 3768 5.3.7), centisecond
    resolution for VRRPv3 (RFC 5798 5.2.7, "Max Adver Int"). ``auth_type`` / ``auth_data`` mean
    something for VRRPv2 only; decoded VRRPv2 adverts carry the 8 auth data bytes as received.
    """

    version: int
    vrid: int
    priority: int
    advert_int: float
    addresses: tuple[IPv4Address, ...] | tuple[IPv6Address, ...]
    auth_type: int = 0
    auth_data: bytes = b""


@dataclass(frozen=True, slots=True)
class AhHeader:
    """An IPsec Authentication Header as keepalived sends it (RFC 2402 2)."""

    next_header: int
    payload_len: int
    spi: int
    seq: int
    icv: bytes


@dataclass(frozen=True, slots=True)
class ReceivedIPv4:
    """An IPv4 datagram as a raw socket delivers it (header included, trimmed to ``tot_len``).

    ``payload`` is everything after the IPv4 header: the VRRP message, or, when ``protocol`` is
    51, the AH header followed by the VRRP message (then ``ah`` is set and ``vrrp`` skips it).
    """

    src: IPv4Address
    dst: IPv4Address
    ttl: int
    protocol: int
    payload: bytes
    ah: AhHeader | None
    header: bytes
    tos: int = 0
    ident: int = 0

    @property
    def vrrp(self) -> bytes:
        """The VRRP message, past the AH header if there is one."""
        return self.payload[AH_HEADER_LEN:] if self.ah is not None else self.payload


# Parsing an address object costs more than the rest of decoding; the same few addresses
# (peers, VIPs, the multicast group) arrive every second, so parsed ones are remembered.
_ipv4 = functools.lru_cache(maxsize=4096)(IPv4Address)
_ipv6 = functools.lru_cache(maxsize=4096)(IPv6Address)


def shared_address(address: IPAddress) -> IPAddress:
    """The very object :func:`decode` returns for ``address``: a router that keeps its VIPs
    as these finds a received address list equal to its own by identity, without calling
    ``ipaddress``'s ``__eq__`` (Python code) once per address of every advert."""
    if address.version == 4:
        return _ipv4(address.packed)
    return _ipv6(address.packed)


# --- Internet checksum (RFC 1071) --------------------------------------------------------------


def internet_checksum(data: bytes) -> int:
    """RFC 1071 checksum of ``data`` (odd lengths padded with a zero byte).

    Uses 2**16 = 1 (mod 0xFFFF): the ones'-complement sum of the 16-bit words is congruent to
    the whole buffer read as one big integer, which Python reduces in C.
    """
    if len(data) & 1:
        data += b"\0"
    folded = int.from_bytes(data, "big") % 0xFFFF
    if folded == 0:
        return 0 if any(data) else 0xFFFF
    return 0xFFFF - folded


def _checksum_ok(data: bytes) -> bool:
    """True when ``data`` (checksum field included) sums to ones'-complement zero."""
    if len(data) & 1:
        data += b"\0"
    return int.from_bytes(data, "big") % 0xFFFF == 0 and any(data)


def pseudo_header(src: IPAddress, dst: IPAddress, length: int) -> bytes:
    """The IPv4 (RFC 768 style) or IPv6 (RFC 8200 8.1) pseudo-header for protocol 112."""
    if src.version == 4:
        return src.packed + dst.packed + b"\0" + bytes((IPPROTO_VRRP,)) + length.to_bytes(2, "big")
    return src.packed + dst.packed + length.to_bytes(4, "big") + b"\0\0\0" + bytes((IPPROTO_VRRP,))


# --- VRRP message ------------------------------------------------------------------------------


def auth_key(auth_pass: str | bytes) -> bytes:
    """The 8 bytes keepalived puts on the wire (PASS) or keys HMAC-MD5 with (AH).

    keepalived keeps only the first 8 characters of ``auth_pass`` and zero-pads shorter ones.
    """
    raw = auth_pass.encode() if isinstance(auth_pass, str) else auth_pass
    return raw[:AUTH_DATA_LEN].ljust(AUTH_DATA_LEN, b"\0")


def encode(advert: Advert, src: IPAddress, dst: IPAddress, *,
           v3_checksum_as_v2: bool = False) -> bytes:
    """The VRRP message for ``advert`` (no IP header), checksum filled in.

    ``src``/``dst`` are the IP addresses the message will travel between; VRRPv3 needs them for
    the pseudo-header (RFC 5798 5.2.8). Results are memoised: a router sends the same advert
    every ``advert_int``, so the common case costs one dictionary lookup.
    """
    return _encode(advert, src, dst, v3_checksum_as_v2)


@functools.lru_cache(maxsize=8192)
def _encode(advert: Advert, src: IPAddress, dst: IPAddress, v3_as_v2: bool) -> bytes:
    addresses = b"".join(a.packed for a in advert.addresses)
    count = len(advert.addresses)
    if not 0 <= advert.vrid <= 255 or not 0 <= advert.priority <= 255 or count > 255:
        raise ValueError(f"field out of range in {advert!r}")
    if advert.version == 2:
        if src.version != 4:
            raise ValueError("VRRPv2 is IPv4 only (RFC 3768); use version 3 for IPv6")
        interval = round(advert.advert_int)
        if not 1 <= interval <= 255:
            raise ValueError(f"VRRPv2 advert_int must be 1..255 s, not {advert.advert_int}")
        head = bytes((0x20 | VRRP_TYPE_ADVERTISEMENT, advert.vrid, advert.priority, count,
                      advert.auth_type, interval))
        message = head + b"\0\0" + addresses + auth_key(advert.auth_data)
        csum = internet_checksum(message)
    elif advert.version == 3:
        centis = round(advert.advert_int * 100)
        if not 1 <= centis <= 0xFFF:
            raise ValueError(f"VRRPv3 advert_int must be 0.01..40.95 s, not {advert.advert_int}")
        head = bytes((0x30 | VRRP_TYPE_ADVERTISEMENT, advert.vrid, advert.priority, count))
        message = head + centis.to_bytes(2, "big") + b"\0\0" + addresses
        if v3_as_v2 and src.version == 4:
            csum = internet_checksum(message)
        else:
            csum = internet_checksum(pseudo_header(src, dst, len(message)) + message)
    else:
        raise ValueError(f"VRRP version must be 2 or 3, not {advert.version}")
    return message[:6] + csum.to_bytes(2, "big") + message[8:]


def decode(payload: bytes, src: IPAddress, dst: IPAddress, *,
           accept_v3_checksum_as_v2: bool = False) -> Advert:
    """Parse and check one VRRP message (no IP header); raise :class:`PacketError`.

    Checks, in the order of RFC 5798 7.1 / RFC 3768 7.1 that need no per-instance state:
    length (header, address count, v2 auth data), version (2, or 3; v2 only over IPv4), type
    (ADVERTISEMENT), checksum, and a non-zero advert interval. TTL, VRID, priority, auth and
    interval matching are per-instance checks and belong to the virtual router.
    """
    size = len(payload)
    if size < _HEADER_LEN:
        raise PacketError("truncated", f"{size} bytes")
    first = payload[0]
    version = first >> 4
    ipv6 = src.version == 6
    if version == 2:
        if ipv6:
            raise PacketError("version", "VRRPv2 over IPv6")
    elif version != 3:
        raise PacketError("version", str(version))
    if first & 0x0F != VRRP_TYPE_ADVERTISEMENT:
        raise PacketError("type", str(first & 0x0F))
    count = payload[3]
    addr_len = 16 if ipv6 else 4
    expected = _HEADER_LEN + count * addr_len + (AUTH_DATA_LEN if version == 2 else 0)
    if size < expected:
        raise PacketError("truncated", f"{size} bytes, {count} addresses need {expected}")
    if size > expected:
        raise PacketError("length", f"{size} bytes, expected {expected}")

    if version == 2:
        if not _checksum_ok(payload):
            raise PacketError("checksum", "VRRPv2")
        advert_int: float = payload[5]
        auth_type = payload[4]
        auth_data = payload[expected - AUTH_DATA_LEN:]
    else:
        if not _checksum_ok(pseudo_header(src, dst, size) + payload) and not (
            accept_v3_checksum_as_v2 and not ipv6 and _checksum_ok(payload)
        ):
            raise PacketError("checksum", "VRRPv3")
        advert_int = ((payload[4] << 8 | payload[5]) & 0x0FFF) / 100
        auth_type = 0
        auth_data = b""
    if not advert_int:
        raise PacketError("advert_int", "zero advertisement interval")

    body = payload[_HEADER_LEN:_HEADER_LEN + count * addr_len]
    addresses: tuple[IPv4Address, ...] | tuple[IPv6Address, ...]
    if ipv6:
        addresses = tuple(_ipv6(body[i:i + 16]) for i in range(0, len(body), 16))
    else:
        addresses = tuple(_ipv4(body[i:i + 4]) for i in range(0, len(body), 4))
    return Advert(version, payload[1], payload[2], advert_int, addresses, auth_type, auth_data)


# --- IPv4 header and AH ------------------------------------------------------------------------


def decode_ipv4(datagram: bytes) -> ReceivedIPv4:
    """Split a datagram from a raw IPv4 socket into header fields, AH header and payload.

    Linux raw sockets hand over the IP header as received (``tot_len`` in network order); the
    datagram is trimmed to ``tot_len`` so link-layer padding never reaches :func:`decode`.
    """
    if len(datagram) < IPV4_HEADER_LEN:
        raise PacketError("truncated", f"{len(datagram)} bytes, no IPv4 header")
    (ver_ihl, tos, tot_len, ident, _frag, ttl, protocol, _check, src, dst) = _IPV4.unpack_from(
        datagram)
    ihl = (ver_ihl & 0x0F) * 4
    if ver_ihl >> 4 != 4 or ihl < IPV4_HEADER_LEN or tot_len < ihl:
        raise PacketError("ip_header", f"version/ihl {ver_ihl:#x}, tot_len {tot_len}")
    if tot_len > len(datagram):
        raise PacketError("truncated", f"{len(datagram)} bytes, tot_len says {tot_len}")
    payload = datagram[ihl:tot_len]
    ah: AhHeader | None = None
    if protocol == IPPROTO_AH:
        if len(payload) < AH_HEADER_LEN:
            raise PacketError("truncated", "AH header")
        nxt, plen, _rsvd, spi, seq, icv = _AH.unpack_from(payload)
        if plen != AH_PAYLOAD_LEN:
            raise PacketError("ah", f"AH payload length {plen}, expected {AH_PAYLOAD_LEN}")
        if nxt != IPPROTO_VRRP:
            raise PacketError("ah", f"AH next header {nxt}, not VRRP")
        ah = AhHeader(nxt, plen, spi, seq, icv)
    return ReceivedIPv4(_ipv4(src), _ipv4(dst), ttl, protocol, payload, ah,
                        datagram[:ihl], tos, ident)


def _ipv4_header(src: IPv4Address, dst: IPv4Address, protocol: int, payload_len: int,
                 ip_id: int, ttl: int, tos: int, check: bool = True) -> bytearray:
    header = bytearray(_IPV4.pack(0x45, tos, IPV4_HEADER_LEN + payload_len, ip_id & 0xFFFF, 0,
                                  ttl, protocol, 0, src.packed, dst.packed))
    if check:
        header[10:12] = internet_checksum(bytes(header)).to_bytes(2, "big")
    return header


def build_ipv4(advert: Advert, src: IPv4Address, dst: IPv4Address, ip_id: int, *,
               ttl: int = VRRP_TTL, tos: int = VRRP_TOS, v3_checksum_as_v2: bool = False) -> bytes:
    """A whole IPv4 datagram carrying ``advert`` as keepalived builds it (for IP_HDRINCL)."""
    message = encode(advert, src, dst, v3_checksum_as_v2=v3_checksum_as_v2)
    return bytes(_ipv4_header(src, dst, IPPROTO_VRRP, len(message), ip_id, ttl, tos)) + message


def ah_icv(header: bytes, ah: bytes, message: bytes, auth_pass: str | bytes, *,
           unicast: bool = False) -> bytes:
    """keepalived's HMAC-MD5-96 over the IPv4 header, the AH header and the VRRP message.

    The IPv4 header's TOS, fragment field and checksum are zeroed (and the TTL too when the
    instance uses unicast peers); the AH header's ICV is zeroed.
    """
    hdr = bytearray(header)
    hdr[1] = 0
    hdr[6:8] = b"\0\0"
    hdr[10:12] = b"\0\0"
    if unicast:
        hdr[8] = 0
    data = bytes(hdr) + ah[:12] + bytes(AH_ICV_LEN) + message
    import hashlib
    import hmac

    return hmac.new(auth_key(auth_pass), data, hashlib.md5).digest()[:AH_ICV_LEN]


def compare_digest(a: bytes, b: bytes) -> bool:
    """``hmac.compare_digest``, with ``hmac`` imported by the instances that authenticate
    only: it brings OpenSSL's libcrypto (0.4 MiB), which a process without authentication
    has no use for."""
    import hmac

    return hmac.compare_digest(a, b)


def build_ipv4_ah(advert: Advert, src: IPv4Address, dst: IPv4Address, auth_pass: str | bytes,
                  seq: int, ip_id: int, *, ttl: int = VRRP_TTL, tos: int = VRRP_TOS,
                  unicast: bool = False) -> bytes:
    """A whole IPv4 + AH + VRRPv2 datagram as keepalived sends it (for an IP_HDRINCL socket).

    ``advert`` should carry ``auth_type=AUTH_AH`` and empty ``auth_data`` (keepalived leaves the
    VRRP auth data zero under AH). ``seq`` is the AH sequence number (keepalived starts at 1 and
    adds one per advert), ``ip_id`` the IPv4 identification (keepalived counts it, skipping 0).
    The IPv4 header checksum is filled in; the kernel recomputes it anyway.
    """
    message = encode(advert, src, dst)
    header = _ipv4_header(src, dst, IPPROTO_AH, AH_HEADER_LEN + len(message), ip_id, ttl, tos)
    ah = _AH.pack(IPPROTO_VRRP, AH_PAYLOAD_LEN, 0, int.from_bytes(src.packed, "big"),
                  seq & 0xFFFFFFFF, bytes(AH_ICV_LEN))
    icv = ah_icv(bytes(header), ah, message, auth_pass, unicast=unicast)
    return bytes(header) + ah[:12] + icv + message


def decode_received(received: ReceivedIPv4, *, ah_auth_pass: str | bytes | None = None,
                    unicast: bool = False, accept_v3_checksum_as_v2: bool = False) -> Advert:
    """The advert inside a :func:`decode_ipv4` result, AH checked when a key is given.

    With an AH header and ``ah_auth_pass`` the ICV and SPI are verified first
    (:func:`verify_ipv4_ah`); hand ``received.ah.seq`` to the router as ``ah_seq`` so it can
    apply keepalived's anti-replay rule. Without a key (the instance does not use AH) the
    advert is decoded anyway and the router counts the auth type mismatch.
    """
    if received.ah is not None and ah_auth_pass is not None:
        verify_ipv4_ah(received, ah_auth_pass, unicast=unicast)
    return decode(received.vrrp, received.src, received.dst,
                  accept_v3_checksum_as_v2=accept_v3_checksum_as_v2)


def verify_ipv4_ah(received: ReceivedIPv4, auth_pass: str | bytes, *,
                   unicast: bool = False) -> None:
    """Check the AH ICV and SPI of a received datagram; raise ``PacketError("auth")``.

    The anti-replay sequence check needs per-instance state: the virtual router does it
    (``VirtualRouter.receive_advert(..., ah_seq=...)``).
    """
    ah = received.ah
    if ah is None:
        raise PacketError("authtype", "no AH header")
    icv = ah_icv(received.header, received.payload[:AH_HEADER_LEN], received.vrrp, auth_pass,
                 unicast=unicast)
    if not compare_digest(icv, ah.icv):
        raise PacketError("auth", "invalid IPSEC HMAC-MD5 value")
    if ah.spi != int.from_bytes(received.src.packed, "big"):
        raise PacketError("auth", f"AH SPI {ah.spi:#x} is not the source address")
