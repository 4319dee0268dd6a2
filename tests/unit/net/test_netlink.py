"""The hand-written rtnetlink encoder/parser, checked against pyroute2's decoder."""

from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg as pr_ifaddrmsg

from pykeepalived.net import _netlink as nl
from pykeepalived.net.addresses import VipSpec, encode_addr


def decode_with_pyroute2(kind: int, flags: int, body: bytes) -> pr_ifaddrmsg:
    msg = pr_ifaddrmsg(nl.message(kind, flags, 1, body))
    msg.decode()
    return msg


def test_attr_is_padded_to_four_bytes() -> None:
    assert nl.attr(3, b"abcde") == struct.pack("=HH", 9, 3) + b"abcde" + b"\0\0\0"
    assert len(nl.attr(1, b"\x01\x02\x03\x04")) == 8


@given(st.lists(st.tuples(st.integers(1, 0x3FFF), st.binary(max_size=40)), max_size=10))
def test_attrs_round_trip(attrs: list[tuple[int, bytes]]) -> None:
    body = b"".join(nl.attr(kind, payload) for kind, payload in attrs)
    parsed = [(kind, bytes(p)) for kind, p in nl.iter_attrs(memoryview(body), 0)]
    assert parsed == attrs


@given(st.lists(st.binary(max_size=64), min_size=1, max_size=8))
def test_messages_round_trip(bodies: list[bytes]) -> None:
    data = b"".join(nl.message(20, 0, i, b) + b"\0" * (-len(b) % 4)
                    for i, b in enumerate(bodies))
    parsed = [(seq, bytes(body)) for _k, _f, seq, body in nl.iter_messages(data)]
    assert parsed == list(enumerate(bodies))


def test_truncated_input_stops_cleanly() -> None:
    data = nl.message(20, 0, 1, b"x" * 16)
    assert list(nl.iter_messages(data[:-4])) == []
    assert list(nl.iter_attrs(memoryview(nl.attr(1, b"abcd")[:-1]), 0)) == []


def test_ipv4_vip_encoding_decoded_by_pyroute2() -> None:
    spec = VipSpec("192.0.2.100/24", "eth0", brd="+", scope="link", label="eth0:vip")
    msg = decode_with_pyroute2(nl.RTM_NEWADDR, nl.NLM_F_REQUEST, encode_addr(spec, 7))
    assert msg["family"] == socket.AF_INET
    assert msg["prefixlen"] == 24
    assert msg["index"] == 7
    assert msg["scope"] == 253
    assert msg.get_attr("IFA_LOCAL") == "192.0.2.100"
    assert msg.get_attr("IFA_ADDRESS") == "192.0.2.100"
    assert msg.get_attr("IFA_BROADCAST") == "192.0.2.255"
    assert msg.get_attr("IFA_LABEL") == "eth0:vip"


def test_ipv6_vip_encoding_flags_and_lifetime() -> None:
    spec = VipSpec("2001:db8::100/128", "eth0", noprefixroute=True)
    msg = decode_with_pyroute2(nl.RTM_NEWADDR, nl.NLM_F_REQUEST, encode_addr(spec, 3))
    assert msg["family"] == socket.AF_INET6
    assert msg["prefixlen"] == 128
    assert msg["flags"] == nl.IFA_F_NODAD
    assert msg.get_attr("IFA_FLAGS") == nl.IFA_F_NODAD | nl.IFA_F_NOPREFIXROUTE
    assert msg.get_attr("IFA_LOCAL") == "2001:db8::100"
    cache = msg.get_attr("IFA_CACHEINFO")
    assert cache["ifa_preferred"] == 0  # keepalived: a /128 is deprecated by default
    assert cache["ifa_valid"] == nl.INFINITY_LIFE_TIME


def test_delete_request_carries_only_the_address() -> None:
    spec = VipSpec("192.0.2.100/24", "eth0", brd="+", label="eth0:vip")
    msg = decode_with_pyroute2(nl.RTM_DELADDR, nl.NLM_F_REQUEST,
                               encode_addr(spec, 7, delete=True))
    assert msg.get_attr("IFA_LOCAL") == "192.0.2.100"
    assert msg.get_attr("IFA_LABEL") is None and msg.get_attr("IFA_BROADCAST") is None


def test_parse_link_and_addr_messages() -> None:
    link = struct.pack("=BxHiII", 0, 1, 5, nl.IFF_UP | nl.IFF_RUNNING, 0)
    link += nl.attr(nl.IFLA_IFNAME, b"eth0\0")
    info = nl.parse_link(memoryview(link))
    assert (info.index, info.name, info.up) == (5, "eth0", True)
    assert not nl.parse_link(memoryview(struct.pack("=BxHiII", 0, 1, 5, nl.IFF_UP, 0))).up
    addr = nl.ifaddrmsg(socket.AF_INET6, 64, 0, 0, 5)
    addr += nl.attr(nl.IFA_ADDRESS, socket.inet_pton(socket.AF_INET6, "2001:db8::1"))
    parsed = nl.parse_addr(memoryview(addr))
    assert (parsed.address, parsed.prefixlen, parsed.index) == ("2001:db8::1", 64, 5)


def test_scope_names() -> None:
    assert nl.scope_number(None) == 0
    assert nl.scope_number("host") == 254
    assert nl.scope_number("253") == 253
    with pytest.raises(ValueError, match="galaxy"):
        nl.scope_number("galaxy")
