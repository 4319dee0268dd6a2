"""GARP and NA frames as bytes, read back by scapy (an independent decoder)."""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6
from scapy.layers.l2 import ARP, Ether

from pykeepalived.net.gratuitous import arp_frame, na_frame, parse_mac

MAC = parse_mac("00:00:5e:00:01:33")


def test_parse_mac() -> None:
    assert parse_mac("00-00-5E-00-01-33") == MAC
    with pytest.raises(ValueError):
        parse_mac("00:00:5e")


def test_garp_is_request_who_has_vip_tell_vip() -> None:
    frame = Ether(arp_frame("192.0.2.100", MAC))
    assert frame.dst == "ff:ff:ff:ff:ff:ff" and frame.src == "00:00:5e:00:01:33"
    arp = frame[ARP]
    assert (arp.hwtype, arp.ptype, arp.hwlen, arp.plen, arp.op) == (1, 0x0800, 6, 4, 1)
    assert (arp.psrc, arp.pdst) == ("192.0.2.100", "192.0.2.100")
    assert (arp.hwsrc, arp.hwdst) == ("00:00:5e:00:01:33", "ff:ff:ff:ff:ff:ff")


@pytest.mark.parametrize("router", [False, True])
def test_na_fields_and_checksum(router: bool) -> None:
    raw = na_frame("2001:db8::100", MAC, router)
    frame = Ether(raw)
    assert frame.dst == "33:33:00:00:00:01"
    ip6 = frame[IPv6]
    assert (ip6.src, ip6.dst, ip6.hlim, ip6.nh, ip6.plen) == (
        "2001:db8::100", "ff02::1", 255, 58, 32)
    na = frame[ICMPv6ND_NA]
    assert (na.R, na.S, na.O, na.tgt) == (int(router), 0, 1, "2001:db8::100")
    assert frame[ICMPv6NDOptDstLLAddr].lladdr == "00:00:5e:00:01:33"
    sent = na.cksum
    del frame[ICMPv6ND_NA].cksum
    assert Ether(bytes(frame))[ICMPv6ND_NA].cksum == sent
