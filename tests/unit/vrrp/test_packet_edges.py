"""The codec at its edges: what each rejection says, the exact length limits, and AH details.

Added from mutation testing (scripts/mutation): each test pins a line that the round-trip tests
of test_packet.py could not tell from a wrong one.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from ipaddress import IPv4Address, IPv6Address

import pytest
from scapy.layers.inet import IP
from scapy.layers.vrrp import VRRPv3

from pykeepalived.vrrp import packet
from pykeepalived.vrrp.packet import (
    VRRP_MCAST_IPV4,
    Advert,
    PacketError,
    decode,
    decode_ipv4,
    encode,
)

SRC4 = IPv4Address("192.0.2.1")
PEER4 = IPv4Address("192.0.2.2")
SRC6 = IPv6Address("fe80::1")
VIP = IPv4Address("192.0.2.100")
V2 = Advert(2, 51, 100, 1.0, (VIP,))
AH_ADVERT = Advert(2, 51, 150, 1.0, (VIP,), packet.AUTH_AH)


def raises(call: object, *args: object, **kw: object) -> PacketError:
    assert callable(call)
    with pytest.raises(PacketError) as err:
        call(*args, **kw)
    return err.value


def ipv4_header(payload_len: int, *, ver_ihl: int = 0x45, tot_len: int | None = None,
                protocol: int = packet.IPPROTO_VRRP) -> bytes:
    total = 20 + payload_len if tot_len is None else tot_len
    return struct.pack("!BBHHHBBH4s4s", ver_ihl, 0xC0, total, 1, 0, 255, protocol, 0,
                       SRC4.packed, VRRP_MCAST_IPV4.packed)


# --- PacketError: a reason for the counters, a detail for the operator ----------------------

def test_packet_error_text() -> None:
    """The message is "reason: detail", or the reason alone; both parts stay readable."""
    err = PacketError("checksum", "VRRPv2")
    assert (str(err), err.reason, err.detail) == ("checksum: VRRPv2", "checksum", "VRRPv2")
    bare = PacketError("truncated")
    assert (str(bare), bare.reason, bare.detail) == ("truncated", "truncated", "")


V2_MSG = encode(V2, SRC4, VRRP_MCAST_IPV4)
V3_MSG = encode(Advert(3, 51, 100, 1.0, (VIP,)), SRC4, VRRP_MCAST_IPV4)
V3_ZERO_INT = bytearray(V3_MSG)
V3_ZERO_INT[4:6] = b"\0\0"
V3_ZERO_INT[6:8] = b"\0\0"
V3_ZERO_INT[6:8] = packet.internet_checksum(
    packet.pseudo_header(SRC4, VRRP_MCAST_IPV4, len(V3_MSG)) + bytes(V3_ZERO_INT)).to_bytes(
        2, "big")


@pytest.mark.parametrize(("payload", "src", "message"), [
    (V2_MSG[:7], SRC4, "truncated: 7 bytes"),
    (V2_MSG, SRC6, "version: VRRPv2 over IPv6"),
    (b"\x41" + V2_MSG[1:], SRC4, "version: 4"),
    (b"\x22" + V2_MSG[1:], SRC4, "type: 2"),
    (V2_MSG[:-1], SRC4, "truncated: 19 bytes, 1 addresses need 20"),
    (V2_MSG + b"\0\0\0\0", SRC4, "length: 24 bytes, expected 20"),
    (V2_MSG[:6] + b"\0\0" + V2_MSG[8:], SRC4, "checksum: VRRPv2"),
    (V3_MSG[:6] + b"\0\0" + V3_MSG[8:], SRC4, "checksum: VRRPv3"),
    (bytes(V3_ZERO_INT), SRC4, "advert_int: zero advertisement interval"),
], ids=["short", "v2-ipv6", "version", "type", "count", "long", "v2-sum", "v3-sum", "zero-int"])
def test_decode_says_what_is_wrong(payload: bytes, src: IPv4Address | IPv6Address,
                                   message: str) -> None:
    """RFC 5798 7.1 / RFC 3768 7.1 checks: each one names itself and the numbers involved."""
    assert str(raises(decode, payload, src, VRRP_MCAST_IPV4)) == message


# --- the IPv4 header as a raw socket hands it over ---------------------------------------

def test_header_only_datagram_is_a_header() -> None:
    """20 bytes with tot_len 20 are a complete IPv4 header with nothing behind it: the
    VRRP decoder, not the IPv4 one, is what finds it too short."""
    received = decode_ipv4(ipv4_header(0))
    assert received.payload == b"" and received.header == ipv4_header(0)
    assert received.ttl == 255 and received.tos == 0xC0 and received.ident == 1
    assert raises(decode, received.vrrp, received.src, received.dst).reason == "truncated"


@pytest.mark.parametrize(("datagram", "message"), [
    (ipv4_header(0)[:19], "truncated: 19 bytes, no IPv4 header"),
    (ipv4_header(20, ver_ihl=0x44) + bytes(20), "ip_header: version/ihl 0x44, tot_len 40"),
    (ipv4_header(20, ver_ihl=0x65) + bytes(20), "ip_header: version/ihl 0x65, tot_len 40"),
    (ipv4_header(0, tot_len=19), "ip_header: version/ihl 0x45, tot_len 19"),
    (ipv4_header(0, tot_len=60) + bytes(20), "truncated: 40 bytes, tot_len says 60"),
], ids=["short", "ihl-16", "version-6", "tot_len-short", "tot_len-long"])
def test_decode_ipv4_says_what_is_wrong(datagram: bytes, message: str) -> None:
    assert str(raises(decode_ipv4, datagram)) == message


def test_ah_header_alone_is_an_ah_header() -> None:
    """Exactly 24 bytes of AH (no VRRP message after it) are a whole AH header."""
    ah = struct.pack("!BBHII12s", packet.IPPROTO_VRRP, 4, 0, int(SRC4), 9, bytes(12))
    received = decode_ipv4(ipv4_header(24, protocol=packet.IPPROTO_AH) + ah)
    assert received.ah == packet.AhHeader(packet.IPPROTO_VRRP, 4, int(SRC4), 9, bytes(12))
    assert received.vrrp == b""
    short = ipv4_header(23, protocol=packet.IPPROTO_AH) + ah[:23]
    assert str(raises(decode_ipv4, short)) == "truncated: AH header"


def test_ah_header_checks_name_the_field() -> None:
    raw = bytearray(packet.build_ipv4_ah(AH_ADVERT, SRC4, VRRP_MCAST_IPV4, "k", seq=1,
                                         ip_id=1))
    raw[21] = 5
    assert str(raises(decode_ipv4, bytes(raw))) == "ah: AH payload length 5, expected 4"
    raw[21] = 4
    raw[20] = 6
    assert str(raises(decode_ipv4, bytes(raw))) == "ah: AH next header 6, not VRRP"


def test_ah_failures_name_the_fault() -> None:
    """keepalived logs "invalid IPSEC HMAC-MD5 value"; a wrong SPI and a missing header are
    told apart, and all count as authentication failures except the missing header."""
    raw = packet.build_ipv4_ah(AH_ADVERT, SRC4, VRRP_MCAST_IPV4, "k", seq=1, ip_id=1)
    received = decode_ipv4(raw)
    assert str(raises(packet.verify_ipv4_ah, received, "other")) == (
        "auth: invalid IPSEC HMAC-MD5 value")
    plain = decode_ipv4(packet.build_ipv4(V2, SRC4, VRRP_MCAST_IPV4, 1))
    assert str(raises(packet.verify_ipv4_ah, plain, "k")) == "authtype: no AH header"
    # a datagram signed by 192.0.2.2 but carrying 192.0.2.1's SPI: a valid ICV, a wrong SPI
    forged = bytearray(packet.build_ipv4_ah(AH_ADVERT, PEER4, VRRP_MCAST_IPV4, "k", seq=1,
                                            ip_id=1))
    forged[24:28] = SRC4.packed
    header, ah, message = bytes(forged[:20]), bytes(forged[20:44]), bytes(forged[44:])
    forged[32:44] = packet.ah_icv(header, ah, message, "k")
    err = raises(packet.verify_ipv4_ah, decode_ipv4(bytes(forged)), "k")
    assert (err.reason, str(err)) == ("auth", "auth: AH SPI 0xc0000201 is not the source address")


def keepalived_icv(raw: bytes, key: bytes, *, unicast: bool) -> bytes:
    """keepalived's ICV computed here from its description (not with pykeepalived's code):
    HMAC-MD5-96 over the IPv4 header with TOS, fragment field and checksum zeroed (and TTL,
    for unicast peers), then the AH header with a zero ICV, then the VRRP message."""
    header = bytearray(raw[:20])
    header[1] = 0
    header[6:8] = b"\0\0"
    header[10:12] = b"\0\0"
    if unicast:
        header[8] = 0
    data = bytes(header) + raw[20:32] + bytes(12) + raw[44:]
    return hmac.new(key.ljust(8, b"\0"), data, hashlib.md5).digest()[:12]


@pytest.mark.parametrize("unicast", [False, True])
def test_ah_icv_is_keepalived_s(unicast: bool) -> None:
    raw = packet.build_ipv4_ah(AH_ADVERT, SRC4, PEER4, "ahsecret", seq=3, ip_id=7,
                               unicast=unicast)
    assert raw[32:44] == keepalived_icv(raw, b"ahsecret", unicast=unicast)
    # the default is multicast: the TTL is covered
    if not unicast:
        assert packet.ah_icv(raw[:20], raw[20:44], raw[44:], "ahsecret") == raw[32:44]


def test_decode_received_passes_its_options_on() -> None:
    """decode_received checks AH the unicast way when asked, and accepts a v2-style VRRPv3
    checksum only when asked (keepalived v3_checksum_as_v2 is off by default)."""
    uni = bytearray(packet.build_ipv4_ah(AH_ADVERT, SRC4, PEER4, "k", seq=1, ip_id=1,
                                         unicast=True))
    uni[8] = 64  # a unicast peer's TTL is not covered by the ICV
    received = decode_ipv4(bytes(uni))
    assert packet.decode_received(received, ah_auth_pass="k", unicast=True).priority == 150
    assert raises(packet.decode_received, received, ah_auth_pass="k").reason == "auth"

    v3 = Advert(3, 51, 100, 1.0, (VIP,))
    as_v2 = decode_ipv4(packet.build_ipv4(v3, SRC4, VRRP_MCAST_IPV4, 1, v3_checksum_as_v2=True))
    assert raises(packet.decode_received, as_v2).reason == "checksum"
    assert packet.decode_received(as_v2, accept_v3_checksum_as_v2=True) == v3


def test_build_ipv4_v3_checksum_as_v2() -> None:
    """build_ipv4 hands v3_checksum_as_v2 to the encoder: the checksum then covers the VRRP
    message alone, which scapy (pseudo-header, RFC 5798 5.2.8) calls wrong."""
    v3 = Advert(3, 51, 100, 1.0, (VIP,))
    normal = IP(packet.build_ipv4(v3, SRC4, VRRP_MCAST_IPV4, 1))
    assert normal[VRRPv3].chksum == VRRPv3(bytes(normal[VRRPv3])).chksum
    raw = packet.build_ipv4(v3, SRC4, VRRP_MCAST_IPV4, 1, v3_checksum_as_v2=True)
    message = raw[20:]
    assert packet.internet_checksum(message) == 0
    assert message != bytes(normal[VRRPv3])


def test_ipv4_header_checksum_is_filled_in() -> None:
    """RFC 791: the header sums to zero with its checksum; scapy recomputes the same one."""
    raw = packet.build_ipv4(V2, SRC4, VRRP_MCAST_IPV4, 0x1234)
    assert packet.internet_checksum(raw[:20]) == 0
    rebuilt = IP(raw)
    del rebuilt.chksum
    assert bytes(rebuilt)[:20] == raw[:20]
