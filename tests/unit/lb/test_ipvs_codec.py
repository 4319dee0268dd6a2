"""IPVS requests as the kernel will read them: built by the codec, encoded by pyroute2, parsed
back with pyroute2's own ipvsmsg (every field checked) and, where pyroute2's description of an
attribute differs from the kernel's, checked byte by byte."""

from __future__ import annotations

import socket
import struct
from ipaddress import ip_address
from typing import Any

import pytest
from pyroute2.netlink.generic import ipvs as genl

from pykeepalived.lb import ipvs_codec as codec
from pykeepalived.lb.errors import LbError
from pykeepalived.lb.model import Destination, Service, Tunnel
from tests.unit.lb.fake_ipvs import CMD_DEST, CMD_SERVICE, DEST, SVC, parse_attrs


def encode(msg: Any) -> bytes:
    msg["header"]["type"] = 42
    msg["header"]["flags"] = codec.REQUEST_FLAGS
    msg.encode()
    return bytes(msg.data)


def parse_back(msg: Any) -> Any:
    back = genl.ipvsmsg(encode(msg))
    back.decode()
    return back


def raw_nests(msg: Any) -> tuple[dict[int, bytes], dict[int, bytes]]:
    data = encode(msg)
    top = parse_attrs(data[20:])
    return parse_attrs(top.get(CMD_SERVICE, b"")), parse_attrs(top.get(CMD_DEST, b""))


def attrs(nest: Any) -> dict[str, Any]:
    return dict(nest["attrs"])


WEB = Service(protocol="TCP", address=ip_address("203.0.113.10"), port=80, scheduler="sh",
              flags=("sh-fallback", "sh-port"), persistence_timeout=300,
              persistence_granularity="255.255.255.0")


def test_new_service_every_field() -> None:
    back = parse_back(codec.request(codec.CMD_NEW_SERVICE, WEB))
    assert back["cmd"] == genl.IPVS_CMD_NEW_SERVICE and back["version"] == 1
    assert back.get_attr("IPVS_CMD_ATTR_DEST") is None
    svc = attrs(back.get_attr("IPVS_CMD_ATTR_SERVICE"))
    assert svc == {
        "IPVS_SVC_ATTR_AF": socket.AF_INET,
        "IPVS_SVC_ATTR_PROTOCOL": socket.IPPROTO_TCP,
        "IPVS_SVC_ATTR_ADDR": "203.0.113.10",
        "IPVS_SVC_ATTR_PORT": 80,
        "IPVS_SVC_ATTR_SCHED_NAME": "sh",
        # PERSISTENT | SCHED1 (sh-fallback) | SCHED2 (sh-port); every bit is ours to set
        "IPVS_SVC_ATTR_FLAGS": {"flags": 0x1 | 0x8 | 0x10, "mask": 0xFFFFFFFF},
        "IPVS_SVC_ATTR_TIMEOUT": 300,
        "IPVS_SVC_ATTR_NETMASK": "255.255.255.0",
    }
    raw, _ = raw_nests(codec.request(codec.CMD_NEW_SERVICE, WEB))
    assert raw[SVC["PORT"]] == b"\x00\x50"  # network order
    assert raw[SVC["NETMASK"]] == bytes([255, 255, 255, 0])
    assert codec.decode_service(back.get_attr("IPVS_CMD_ATTR_SERVICE")) == WEB


def test_non_persistent_service_sends_no_persistence() -> None:
    plain = Service(protocol="UDP", address=ip_address("203.0.113.10"), port=53,
                    scheduler="rr", flags=("ops",))
    svc = attrs(parse_back(codec.request(codec.CMD_NEW_SERVICE, plain))
                .get_attr("IPVS_CMD_ATTR_SERVICE"))
    assert svc["IPVS_SVC_ATTR_PROTOCOL"] == socket.IPPROTO_UDP
    assert svc["IPVS_SVC_ATTR_FLAGS"] == {"flags": 0x4, "mask": 0xFFFFFFFF}  # ONEPACKET only
    assert svc["IPVS_SVC_ATTR_TIMEOUT"] == 0
    assert svc["IPVS_SVC_ATTR_NETMASK"] == "255.255.255.255"


def test_ipv6_granularity_is_a_host_order_prefix_length() -> None:
    v6 = Service(protocol="SCTP", address=ip_address("2001:db8::10"), port=3868, family=6,
                 scheduler="wrr", persistence_timeout=60, persistence_granularity="64")
    msg = codec.request(codec.CMD_NEW_SERVICE, v6)
    raw, _ = raw_nests(msg)
    assert raw[SVC["NETMASK"]] == struct.pack("=I", 64)
    assert raw[SVC["AF"]] == struct.pack("=H", socket.AF_INET6)
    assert raw[SVC["PROTOCOL"]] == struct.pack("=H", 132)
    assert raw[SVC["ADDR"]] == socket.inet_pton(socket.AF_INET6, "2001:db8::10")
    nest = parse_back(msg).get_attr("IPVS_CMD_ATTR_SERVICE")
    assert nest.get_attr("IPVS_SVC_ATTR_ADDR") == "2001:db8::10"
    assert codec.decode_service(nest) == v6
    # a netmask written as an address means the same prefix
    as_mask = Service(protocol="SCTP", address=ip_address("2001:db8::10"), port=3868,
                      family=6, persistence_timeout=60,
                      persistence_granularity="ffff:ffff:ffff:ffff::")
    assert raw_nests(codec.request(codec.CMD_NEW_SERVICE, as_mask))[0][SVC["NETMASK"]] == \
        struct.pack("=I", 64)


def test_fwmark_service_key_has_no_address() -> None:
    fwm = Service(protocol="TCP", address=None, port=0, fwmark=7, family=6, scheduler="mh",
                  flags=("mh-port",))
    svc = attrs(parse_back(codec.request(codec.CMD_DEL_SERVICE, fwm, full=False))
                .get_attr("IPVS_CMD_ATTR_SERVICE"))
    assert svc == {"IPVS_SVC_ATTR_AF": socket.AF_INET6, "IPVS_SVC_ATTR_FWMARK": 7}
    full = parse_back(codec.request(codec.CMD_NEW_SERVICE, fwm))
    nest = full.get_attr("IPVS_CMD_ATTR_SERVICE")
    assert nest.get_attr("IPVS_SVC_ATTR_FLAGS") == {"flags": 0x10, "mask": 0xFFFFFFFF}
    assert codec.decode_service(nest) == fwm


def test_destination_request_carries_service_key_and_every_dest_field() -> None:
    dest = Destination(address=ip_address("198.51.100.11"), port=8080, weight=3,
                       method="NAT", u_threshold=100, l_threshold=10)
    back = parse_back(codec.request(codec.CMD_NEW_DEST, WEB, dest))
    assert attrs(back.get_attr("IPVS_CMD_ATTR_SERVICE")) == {
        "IPVS_SVC_ATTR_AF": socket.AF_INET, "IPVS_SVC_ATTR_PROTOCOL": 6,
        "IPVS_SVC_ATTR_ADDR": "203.0.113.10", "IPVS_SVC_ATTR_PORT": 80}
    assert attrs(back.get_attr("IPVS_CMD_ATTR_DEST")) == {
        "IPVS_DEST_ATTR_ADDR_FAMILY": socket.AF_INET,
        "IPVS_DEST_ATTR_ADDR": "198.51.100.11",
        "IPVS_DEST_ATTR_PORT": 8080,
        "IPVS_DEST_ATTR_FWD_METHOD": 0,  # IP_VS_CONN_F_MASQ
        "IPVS_DEST_ATTR_WEIGHT": 3,
        "IPVS_DEST_ATTR_U_THRESH": 100,
        "IPVS_DEST_ATTR_L_THRESH": 10,
    }
    assert codec.decode_dest(back.get_attr("IPVS_CMD_ATTR_DEST")) == dest


@pytest.mark.parametrize(("method", "code"), [("NAT", 0), ("TUN", 2), ("DR", 3)])
def test_forwarding_methods(method: str, code: int) -> None:
    dest = Destination(address=ip_address("198.51.100.11"), port=80, method=method)
    raw = raw_nests(codec.request(codec.CMD_NEW_DEST, WEB, dest))[1]
    assert raw[DEST["FWD_METHOD"]] == struct.pack("=I", code)
    # tunnel attributes only with TUN: kernels before 5.2 reject nothing they do not know,
    # but there is nothing to say for NAT and DR
    assert (DEST["TUN_TYPE"] in raw) == (method == "TUN")


def test_gue_tunnel_port_is_big_endian_on_the_wire() -> None:
    dest = Destination(address=ip_address("2001:db8::11"), port=80, method="TUN",
                       tunnel=Tunnel(type="gue", port=6080, csum="remcsum"))
    service = Service(protocol="TCP", address=ip_address("2001:db8::10"), port=80, family=6)
    msg = codec.request(codec.CMD_NEW_DEST, service, dest)
    raw = raw_nests(msg)[1]
    assert raw[DEST["TUN_TYPE"]][:1] == b"\x01"  # IP_VS_CONN_F_TUNNEL_TYPE_GUE
    assert raw[DEST["TUN_PORT"]][:2] == b"\x17\xc0"  # 6080, network order (nla_get_be16)
    assert raw[DEST["TUN_FLAGS"]][:2] == struct.pack("=H", 2)  # REMCSUM
    assert raw[DEST["ADDR_FAMILY"]][:2] == struct.pack("=H", socket.AF_INET6)
    assert codec.decode_dest(parse_back(msg).get_attr("IPVS_CMD_ATTR_DEST")) == dest


def test_delete_dest_sends_only_keys() -> None:
    dest = Destination(address=ip_address("198.51.100.11"), port=80, weight=5)
    back = parse_back(codec.request(codec.CMD_DEL_DEST, WEB, dest, full=False))
    assert set(attrs(back.get_attr("IPVS_CMD_ATTR_DEST"))) == {
        "IPVS_DEST_ATTR_ADDR_FAMILY", "IPVS_DEST_ATTR_ADDR", "IPVS_DEST_ATTR_PORT"}
    assert set(attrs(back.get_attr("IPVS_CMD_ATTR_SERVICE"))) == {
        "IPVS_SVC_ATTR_AF", "IPVS_SVC_ATTR_PROTOCOL", "IPVS_SVC_ATTR_ADDR",
        "IPVS_SVC_ATTR_PORT"}


@pytest.mark.parametrize(("scheduler", "flags", "bits", "names"), [
    ("sh", ("sh-fallback", "sh-port"), 0x18, ("sh-fallback", "sh-port")),
    ("mh", ("mh-port",), 0x10, ("mh-port",)),
    ("rr", ("flag-1", "flag-3", "ops"), 0x2C, ("flag-1", "flag-3", "ops")),
    ("wlc", ("hashed",), 0x0, ()),  # the kernel sets HASHED itself
])
def test_scheduler_flags(scheduler: str, flags: tuple[str, ...], bits: int,
                         names: tuple[str, ...]) -> None:
    service = Service(protocol="UDP", address=ip_address("203.0.113.10"), port=53,
                      scheduler=scheduler, flags=flags)
    assert codec.service_flags(service) == bits
    assert codec.flag_names(scheduler, bits | codec.F_HASHED) == names


def test_bad_values_name_the_service() -> None:
    bad_flag = Service(protocol="TCP", address=ip_address("203.0.113.10"), port=80,
                       flags=("sh-porte",))
    with pytest.raises(LbError, match=r"TCP 203\.0\.113\.10:80: unknown scheduler flag"):
        codec.request(codec.CMD_NEW_SERVICE, bad_flag)
    bad_mask = Service(protocol="TCP", address=ip_address("203.0.113.10"), port=80,
                       persistence_timeout=60, persistence_granularity="255.0.255.0")
    with pytest.raises(LbError, match="persistence_granularity"):
        codec.request(codec.CMD_NEW_SERVICE, bad_mask)
    with pytest.raises(LbError, match="an IPv6 address in a service of family 4"):
        codec.request(codec.CMD_NEW_SERVICE,
                      Service(protocol="TCP", address=ip_address("2001:db8::1"), port=80))
    with pytest.raises(LbError, match=r"real server 198\.51\.100\.1: unknown lvs_method"):
        codec.request(codec.CMD_NEW_DEST, WEB,
                      Destination(address=ip_address("198.51.100.1"), port=80, method="FNAT"))
