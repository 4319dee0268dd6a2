"""The decoded-datagram cache: a hit only for the same datagram, header included (but for the
IPv4 identification and header checksum, which change with every datagram)."""

from __future__ import annotations

from ipaddress import IPv4Address

from pykeepalived.daemon.decoded import DecodedCache
from pykeepalived.vrrp import packet
from tests.unit.vrrp.helpers import VIP, advert

SRC, DST = IPv4Address("192.0.2.3"), IPv4Address("224.0.0.18")


def datagram() -> bytearray:
    vrrp = packet.encode(advert(150, addresses=(VIP,)), SRC, DST)
    header = bytearray(20)
    header[0] = 0x45
    header[2:4] = (20 + len(vrrp)).to_bytes(2, "big")
    header[8], header[9] = 255, 112
    header[12:16], header[16:20] = SRC.packed, DST.packed
    return header + vrrp


def test_same_datagram_hits() -> None:
    cache: DecodedCache[str] = DecodedCache()
    cache.put(DecodedCache.key("eth0", bytes(datagram())), "decoded")
    assert cache.get(DecodedCache.key("eth0", bytes(datagram()))) == "decoded"
    assert cache.get(DecodedCache.key("eth1", bytes(datagram()))) is None


def test_a_new_identification_and_header_checksum_still_hit() -> None:
    """A master's adverts differ only in the IPv4 identification (a new one per datagram)
    and the header checksum that covers it: the decoder reads neither, and the second
    advert must be found in the cache, or no advert from a real peer ever is."""
    cache: DecodedCache[str] = DecodedCache()
    cache.put(DecodedCache.key("eth0", bytes(datagram())), "decoded")
    nxt = datagram()
    nxt[4:6] = (4242).to_bytes(2, "big")
    nxt[10:12] = b"\x12\x34"
    assert cache.get(DecodedCache.key("eth0", bytes(nxt))) == "decoded"


def test_a_different_ipv4_header_misses() -> None:
    """Same VRRP message and addresses, but a header the decoder would reject (version
    nibble, total length): it must go through the decoder, not the cache."""
    cache: DecodedCache[str] = DecodedCache()
    cache.put(DecodedCache.key("eth0", bytes(datagram())), "decoded")
    for offset, value in ((0, 0x65), (2, 0xFF), (3, 0x01), (6, 0x20), (8, 64), (9, 51),
                          (15, 9), (19, 19), (21, 0x22)):
        bad = datagram()
        bad[offset] = value
        assert cache.get(DecodedCache.key("eth0", bytes(bad))) is None, offset


def test_ipv6_key_includes_addresses_and_size_is_bounded() -> None:
    cache: DecodedCache[int] = DecodedCache(size=3)
    cache.put(DecodedCache.key("eth0", b"x", "fe80::1", "ff02::12"), 1)
    assert cache.get(DecodedCache.key("eth0", b"x", "fe80::2", "ff02::12")) is None
    for n in range(10):
        cache.put(DecodedCache.key("eth0", bytes([n])), n)
        assert len(cache) <= 3
