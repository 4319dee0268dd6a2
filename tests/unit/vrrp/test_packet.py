"""The codec against an oracle we did not write: scapy's VRRP / VRRPv3 layers, both directions."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.vrrp import VRRP, VRRPv3
from scapy.packet import Raw

from pykeepalived.vrrp import packet
from pykeepalived.vrrp.packet import (
    VRRP_MCAST_IPV4,
    VRRP_MCAST_IPV6,
    Advert,
    PacketError,
    decode,
    decode_ipv4,
    encode,
    internet_checksum,
)

SRC4 = IPv4Address("192.0.2.1")
SRC6 = IPv6Address("fe80::1")

ipv4s = st.builds(IPv4Address, st.integers(0, 2**32 - 1))
ipv6s = st.builds(IPv6Address, st.integers(0, 2**128 - 1))
vrids = st.integers(1, 255)
prios = st.integers(0, 255)


def scapy_v2(a: Advert, src: IPv4Address, dst: IPv4Address) -> bytes:
    auth = a.auth_data[:8].ljust(8, b"\0")
    pkt = IP(src=str(src), dst=str(dst)) / VRRP(
        vrid=a.vrid, priority=a.priority, authtype=a.auth_type, adv=int(a.advert_int),
        addrlist=[str(x) for x in a.addresses],
        auth1=int.from_bytes(auth[:4], "big"), auth2=int.from_bytes(auth[4:], "big"))
    return bytes(pkt)[20:]


def scapy_v3(a: Advert, src: IPv4Address | IPv6Address, dst: IPv4Address | IPv6Address) -> bytes:
    under = IP(src=str(src), dst=str(dst)) if src.version == 4 else IPv6(src=str(src),
                                                                          dst=str(dst))
    pkt = under / VRRPv3(vrid=a.vrid, priority=a.priority, adv=round(a.advert_int * 100),
                         addrlist=[str(x) for x in a.addresses])
    return bytes(pkt)[20 if src.version == 4 else 40:]


@settings(max_examples=200, deadline=None)
@given(vrid=vrids, prio=prios, interval=st.integers(1, 255), auth_type=st.sampled_from([0, 1, 2]),
       password=st.binary(max_size=8), addrs=st.lists(ipv4s, max_size=20), src=ipv4s)
def test_v2_encode_matches_scapy(vrid: int, prio: int, interval: int, auth_type: int,
                                 password: bytes, addrs: list[IPv4Address],
                                 src: IPv4Address) -> None:
    advert = Advert(2, vrid, prio, interval, tuple(addrs), auth_type, password)
    ours = encode(advert, src, VRRP_MCAST_IPV4)
    assert ours == scapy_v2(advert, src, VRRP_MCAST_IPV4)
    back = decode(ours, src, VRRP_MCAST_IPV4)
    assert back == Advert(2, vrid, prio, float(interval), tuple(addrs), auth_type,
                          password.ljust(8, b"\0"))


@settings(max_examples=200, deadline=None)
@given(vrid=vrids, prio=prios, centis=st.integers(1, 4095), addrs=st.lists(ipv4s, max_size=20),
       src=ipv4s, dst=ipv4s)
def test_v3_ipv4_encode_matches_scapy(vrid: int, prio: int, centis: int,
                                      addrs: list[IPv4Address], src: IPv4Address,
                                      dst: IPv4Address) -> None:
    advert = Advert(3, vrid, prio, centis / 100, tuple(addrs))
    ours = encode(advert, src, dst)
    assert ours == scapy_v3(advert, src, dst)
    assert decode(ours, src, dst) == advert


@settings(max_examples=200, deadline=None)
@given(vrid=vrids, prio=prios, centis=st.integers(1, 4095), addrs=st.lists(ipv6s, max_size=10),
       src=ipv6s)
def test_v3_ipv6_encode_matches_scapy(vrid: int, prio: int, centis: int,
                                      addrs: list[IPv6Address], src: IPv6Address) -> None:
    advert = Advert(3, vrid, prio, centis / 100, tuple(addrs))
    ours = encode(advert, src, VRRP_MCAST_IPV6)
    assert ours == scapy_v3(advert, src, VRRP_MCAST_IPV6)
    assert decode(ours, src, VRRP_MCAST_IPV6) == advert


@settings(max_examples=100, deadline=None)
@given(vrid=vrids, prio=prios, centis=st.integers(1, 4095), addrs=st.lists(ipv4s, max_size=5))
def test_decode_scapy_built_v3(vrid: int, prio: int, centis: int,
                               addrs: list[IPv4Address]) -> None:
    """scapy -> our decoder: the whole datagram through decode_ipv4, then decode."""
    raw = bytes(IP(src=str(SRC4), dst="224.0.0.18", ttl=255) / VRRPv3(
        vrid=vrid, priority=prio, adv=centis, addrlist=[str(a) for a in addrs]))
    received = decode_ipv4(raw)
    assert (received.src, received.dst, received.ttl, received.protocol) == (
        SRC4, VRRP_MCAST_IPV4, 255, 112)
    assert received.ah is None
    assert decode(received.vrrp, received.src, received.dst) == Advert(
        3, vrid, prio, centis / 100, tuple(addrs))


def test_decode_scapy_built_v2_with_password() -> None:
    raw = bytes(IP(src=str(SRC4), dst="224.0.0.18") / VRRP(
        vrid=7, priority=200, authtype=1, adv=3, addrlist=["192.0.2.10", "192.0.2.11"],
        auth1=int.from_bytes(b"pass", "big"), auth2=int.from_bytes(b"word", "big")))
    received = decode_ipv4(raw)
    got = decode(received.vrrp, received.src, received.dst)
    assert got == Advert(2, 7, 200, 3.0, (IPv4Address("192.0.2.10"), IPv4Address("192.0.2.11")),
                         1, b"password")


def test_checksum_oracle() -> None:
    """RFC 1071 checksum against scapy's implementation on odd and even lengths."""
    from scapy.utils import checksum as scapy_checksum
    for data in (b"", b"\x01", b"\xff\xff", bytes(range(37)), b"\x45\x00" * 11):
        assert internet_checksum(data) == scapy_checksum(data), data


# --- v3 checksum variants --------------------------------------------------------------------

def test_v3_checksum_as_v2() -> None:
    advert = Advert(3, 51, 100, 1.0, (IPv4Address("192.0.2.100"),))
    pseudo = encode(advert, SRC4, VRRP_MCAST_IPV4)
    plain = encode(advert, SRC4, VRRP_MCAST_IPV4, v3_checksum_as_v2=True)
    assert pseudo != plain
    assert internet_checksum(plain) == 0  # checksum over the message alone
    assert decode(pseudo, SRC4, VRRP_MCAST_IPV4) == advert
    with pytest.raises(PacketError) as err:
        decode(plain, SRC4, VRRP_MCAST_IPV4)
    assert err.value.reason == "checksum"
    assert decode(plain, SRC4, VRRP_MCAST_IPV4, accept_v3_checksum_as_v2=True) == advert
    assert decode(pseudo, SRC4, VRRP_MCAST_IPV4, accept_v3_checksum_as_v2=True) == advert


def test_v3_checksum_depends_on_addresses() -> None:
    advert = Advert(3, 51, 100, 1.0, (IPv4Address("192.0.2.100"),))
    wire = encode(advert, SRC4, VRRP_MCAST_IPV4)
    with pytest.raises(PacketError) as err:
        decode(wire, IPv4Address("192.0.2.2"), VRRP_MCAST_IPV4)
    assert err.value.reason == "checksum"


# --- malformed input -------------------------------------------------------------------------

V2 = encode(Advert(2, 51, 100, 1, (IPv4Address("192.0.2.100"),), 1, b"secret"), SRC4,
            VRRP_MCAST_IPV4)
V3_6 = encode(Advert(3, 51, 100, 1.0, (IPv6Address("2001:db8::100"),)), SRC6, VRRP_MCAST_IPV6)


def flip(data: bytes, index: int, value: int) -> bytes:
    return data[:index] + bytes((value,)) + data[index + 1:]


@pytest.mark.parametrize(("payload", "src", "reason"), [
    (b"", SRC4, "truncated"),
    (V2[:7], SRC4, "truncated"),
    (V2[:-1], SRC4, "truncated"),
    (V2 + b"\0", SRC4, "length"),
    (V3_6[:-4], SRC6, "truncated"),
    (flip(V2, 0, 0x11), SRC4, "version"),
    (flip(V2, 0, 0x41), SRC4, "version"),
    (flip(V2, 0, 0x22), SRC4, "type"),
    (flip(V2, 6, V2[6] ^ 1), SRC4, "checksum"),
    (flip(V2, 12, V2[12] ^ 0x80), SRC4, "checksum"),
    (flip(V3_6, 7, V3_6[7] ^ 1), SRC6, "checksum"),
    (flip(V2, 3, 2), SRC4, "truncated"),
    (V2, SRC6, "version"),  # VRRPv2 over IPv6
])
def test_malformed(payload: bytes, src: IPv4Address | IPv6Address, reason: str) -> None:
    dst = VRRP_MCAST_IPV4 if src.version == 4 else VRRP_MCAST_IPV6
    with pytest.raises(PacketError) as err:
        decode(payload, src, dst)
    assert err.value.reason == reason


def test_zero_interval_rejected() -> None:
    raw = bytes(IP(src=str(SRC4), dst="224.0.0.18") / VRRPv3(vrid=1, adv=0,
                                                             addrlist=["192.0.2.1"]))
    with pytest.raises(PacketError) as err:
        received = decode_ipv4(raw)
        decode(received.vrrp, received.src, received.dst)
    assert err.value.reason == "advert_int"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_decode_never_crashes(data: bytes) -> None:
    """Any byte string either decodes or raises PacketError with a reason, nothing else."""
    for src, dst in ((SRC4, VRRP_MCAST_IPV4), (SRC6, VRRP_MCAST_IPV6)):
        try:
            decode(data, src, dst)
        except PacketError as err:
            assert err.reason
    try:
        decode_ipv4(data)
    except PacketError as err:
        assert err.reason


def test_decode_ipv4_trims_padding_and_rejects_short() -> None:
    raw = bytes(IP(src=str(SRC4), dst="224.0.0.18", ttl=255) / Raw(V2))
    padded = decode_ipv4(raw + b"\0" * 6)
    assert padded.payload == V2
    with pytest.raises(PacketError) as err:
        decode_ipv4(raw[:-2])
    assert err.value.reason == "truncated"
    with pytest.raises(PacketError) as err:
        decode_ipv4(raw[:12])
    assert err.value.reason == "truncated"
    with pytest.raises(PacketError) as err:
        decode_ipv4(b"\x65" + raw[1:])
    assert err.value.reason == "ip_header"


def test_decode_ipv4_with_options() -> None:
    from scapy.layers.inet import IPOption_Router_Alert
    raw = bytes(IP(src=str(SRC4), dst="224.0.0.18", options=[IPOption_Router_Alert()]) / Raw(V2))
    received = decode_ipv4(raw)
    assert len(received.header) == 24
    assert decode(received.vrrp, received.src, received.dst).vrid == 51


def test_encode_rejects_out_of_range() -> None:
    with pytest.raises(ValueError):
        encode(Advert(2, 1, 100, 0.4, ()), SRC4, VRRP_MCAST_IPV4)
    with pytest.raises(ValueError):
        encode(Advert(3, 1, 100, 41.0, ()), SRC4, VRRP_MCAST_IPV4)
    with pytest.raises(ValueError):
        encode(Advert(2, 1, 100, 1, ()), SRC6, VRRP_MCAST_IPV6)
    with pytest.raises(ValueError):
        encode(Advert(4, 1, 100, 1, ()), SRC4, VRRP_MCAST_IPV4)


def test_auth_key_keeps_first_eight() -> None:
    assert packet.auth_key("longsecret") == b"longsecr"
    assert packet.auth_key("abc") == b"abc\0\0\0\0\0"


# --- AH --------------------------------------------------------------------------------------

AH_ADVERT = Advert(2, 51, 150, 1, (IPv4Address("192.0.2.100"),), packet.AUTH_AH)


def test_ah_round_trip_and_tamper() -> None:
    raw = packet.build_ipv4_ah(AH_ADVERT, SRC4, VRRP_MCAST_IPV4, "ahsecret", seq=7, ip_id=3)
    ip = IP(raw)  # scapy parses our IPv4 header and AH header
    assert ip.proto == 51 and ip.ttl == 255 and ip.tos == 0xC0 and ip.id == 3
    assert ip.chksum == IP(bytes(IP(raw[:20]))).chksum
    received = decode_ipv4(raw)
    assert received.ah is not None and received.ah.seq == 7
    assert received.ah.spi == int(SRC4)
    packet.verify_ipv4_ah(received, "ahsecret")
    packet.verify_ipv4_ah(received, "ahsecretXYZ")  # only 8 characters count
    assert decode(received.vrrp, received.src, received.dst) == Advert(
        2, 51, 150, 1.0, AH_ADVERT.addresses, 2, bytes(8))
    with pytest.raises(PacketError) as err:
        packet.verify_ipv4_ah(received, "wrong")
    assert err.value.reason == "auth"
    # TTL is inside the ICV for multicast (keepalived), outside it for unicast
    lowered = decode_ipv4(raw[:8] + b"\x40" + raw[9:])
    with pytest.raises(PacketError):
        packet.verify_ipv4_ah(lowered, "ahsecret")
    uni = packet.build_ipv4_ah(AH_ADVERT, SRC4, IPv4Address("192.0.2.2"), "ahsecret", seq=1,
                               ip_id=1, unicast=True)
    packet.verify_ipv4_ah(decode_ipv4(uni[:8] + b"\x40" + uni[9:]), "ahsecret", unicast=True)
    # TOS is mutable: changing it keeps the ICV valid
    packet.verify_ipv4_ah(decode_ipv4(raw[:1] + b"\x00" + raw[2:]), "ahsecret")
    # the VRRP message is covered
    tampered = decode_ipv4(raw[:-1] + bytes((raw[-1] ^ 1,)))
    with pytest.raises(PacketError):
        packet.verify_ipv4_ah(tampered, "ahsecret")


def test_ah_spi_must_be_source() -> None:
    raw = bytearray(packet.build_ipv4_ah(AH_ADVERT, SRC4, VRRP_MCAST_IPV4, "k", seq=1, ip_id=1))
    raw[12:16] = IPv4Address("192.0.2.9").packed  # forge the source, SPI still says .1
    with pytest.raises(PacketError) as err:
        packet.verify_ipv4_ah(decode_ipv4(bytes(raw)), "k")
    assert err.value.reason == "auth"


def test_ah_header_checks() -> None:
    raw = packet.build_ipv4_ah(AH_ADVERT, SRC4, VRRP_MCAST_IPV4, "k", seq=1, ip_id=1)
    with pytest.raises(PacketError) as err:
        decode_ipv4(raw[:20 + 10])
    assert err.value.reason == "truncated"
    with pytest.raises(PacketError) as err:
        decode_ipv4(raw[:20] + b"\x06" + raw[21:])
    assert err.value.reason == "ah"
    with pytest.raises(PacketError) as err:
        decode_ipv4(raw[:21] + b"\x05" + raw[22:])
    assert err.value.reason == "ah"
    plain = decode_ipv4(packet.build_ipv4(AH_ADVERT, SRC4, VRRP_MCAST_IPV4, 1))
    with pytest.raises(PacketError) as err:
        packet.verify_ipv4_ah(plain, "k")
    assert err.value.reason == "authtype"


def test_decode_received_checks_ah_when_keyed() -> None:
    raw = packet.build_ipv4_ah(AH_ADVERT, SRC4, VRRP_MCAST_IPV4, "key", seq=3, ip_id=9)
    received = decode_ipv4(raw)
    got = packet.decode_received(received, ah_auth_pass="key")
    assert got.priority == 150 and got.auth_type == packet.AUTH_AH
    with pytest.raises(PacketError) as err:
        packet.decode_received(received, ah_auth_pass="other")
    assert err.value.reason == "auth"
    assert packet.decode_received(received).vrid == 51  # unkeyed: the router decides
    plain = decode_ipv4(packet.build_ipv4(Advert(3, 9, 1, 1.0, ()), SRC4, VRRP_MCAST_IPV4, 1))
    assert packet.decode_received(plain, ah_auth_pass="key").vrid == 9


def test_shared_address_is_the_object_decode_returns() -> None:
    """A router keeps its VIPs as ``shared_address`` objects so that a received address list
    equals its own by identity; the value is unchanged."""
    for vip, src, dst in ((IPv4Address("198.51.100.7"), SRC4, IPv4Address("224.0.0.18")),
                          (IPv6Address("2001:db8::7"), SRC6, IPv6Address("ff02::12"))):
        mine = packet.shared_address(IPv4Address(str(vip)) if vip.version == 4
                                     else IPv6Address(str(vip)))
        assert mine == vip
        wire = packet.encode(Advert(3, 7, 100, 1.0, (vip,)), src, dst)  # type: ignore[arg-type]
        assert packet.decode(wire, src, dst).addresses[0] is mine
