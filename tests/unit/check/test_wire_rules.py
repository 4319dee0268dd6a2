"""Checkers' wire rules without sockets: UDP hex strings, SMTP status lines, DNS queries and
answers, ICMP echo messages."""

from __future__ import annotations

import struct

import dns.flags
import dns.message
import dns.rdatatype
import pytest
from scapy.layers.inet import ICMP
from scapy.layers.inet import IP as ScapyIP

from pykeepalived.check.dns_check import judge_datagram, make_query
from pykeepalived.check.ping_check import (
    ECHO_PAYLOAD,
    checksum,
    echo_request,
    parse_echo_reply,
)
from pykeepalived.check.smtp_check import smtp_status
from pykeepalived.check.udp_check import DEFAULT_PAYLOAD, reply_mismatch
from pykeepalived.config.hexstr import read_hex_str
from pykeepalived.config.model_lvs import DnsCheck, UdpCheck


def test_hex_string_as_in_keepalived_man_page() -> None:
    data, mask = read_hex_str("Ab12f 3 456 546443123")
    assert data == bytes.fromhex("AB 12 0F 03 45 06 54 64 43 12 03")
    assert mask == bytes(11)


def test_hex_wildcards_and_errors() -> None:
    data, mask = read_hex_str("0aXx x5", wildcard=True)
    assert data == bytes([0x0A, 0x00, 0x05]) and mask == bytes([0x00, 0xFF, 0xF0])
    with pytest.raises(ValueError, match="invalid hex character 'X'"):
        read_hex_str("0aX1")
    with pytest.raises(ValueError, match="empty"):
        read_hex_str("  ")


def test_udp_reply_rules() -> None:
    spec = UdpCheck(require_reply=True, require_reply_data="50 4F Xe", min_reply_length=2,
                    max_reply_length=6)
    assert reply_mismatch(b"PONG", spec) is None  # X: any high nibble of 'N' (4e)
    assert (reply_mismatch(b"POOG", spec) or "").startswith("reply byte 2 is 4f")
    # "x" standing alone is one byte whose low nibble is free and high nibble 0
    assert reply_mismatch(b"PON", UdpCheck(require_reply_data="50 4f x")) == \
        "reply byte 2 is 4e, expected 50 4f x (reply 504f4e)"
    assert reply_mismatch(b"PO", spec) is None  # compares min(len, 2) bytes
    assert reply_mismatch(b"P", spec) == "reply of 1 bytes, expected 2..6"
    assert reply_mismatch(b"PONGPONG", spec) == "reply of more than 6 bytes, expected 2..6"
    assert (reply_mismatch(b"XONG", spec) or "").startswith("reply byte 0 is 58")
    # lengths apply only with reply data (keepalived's code)
    assert reply_mismatch(b"", UdpCheck(require_reply=True, min_reply_length=5)) is None


def test_default_udp_payload_is_keepalived_filler() -> None:
    assert DEFAULT_PAYLOAD == b"keepalived check - keepalived ch"
    assert len(DEFAULT_PAYLOAD) == 32


@pytest.mark.parametrize(("line", "status"), [
    (b"220 mail.example ESMTP", 220),
    (b"250", 250),
    (b"220-mail.example ESMTP", None),  # continuation line
    (b"220\r", None),  # CR stays on the line keepalived reads
    (b" 220 x", None),
    (b"22 x", None),
    (b"2200 x", None),
])
def test_smtp_status(line: bytes, status: int | None) -> None:
    assert smtp_status(line) == status


def test_dns_query_is_keepalived_query() -> None:
    wire = make_query(DnsCheck(type="A", name="www.example.com"))
    message = dns.message.from_wire(wire)
    assert message.flags & dns.flags.RD and not message.flags & dns.flags.QR
    assert message.edns < 0 and len(message.additional) == 0
    assert str(message.question[0].name) == "www.example.com."
    assert message.question[0].rdtype == dns.rdatatype.A
    root = dns.message.from_wire(make_query(DnsCheck()))
    assert str(root.question[0].name) == "." and root.question[0].rdtype == dns.rdatatype.SOA


def test_dns_answer_judged_on_header() -> None:
    header = struct.Struct("!HHHHHH")
    assert judge_datagram(7, b"\x00\x07\x81") is None  # too short: ignored
    assert judge_datagram(7, header.pack(8, 0x8180, 1, 0, 0, 0)) is None  # other id
    assert judge_datagram(7, header.pack(7, 0x0100, 1, 0, 0, 0)) is None  # a query
    assert judge_datagram(7, header.pack(7, 0x8180, 1, 0, 0, 0)) == (True, "NOERROR")
    assert judge_datagram(7, header.pack(7, 0x8183, 1, 0, 0, 0)) == (False, "NXDOMAIN")
    assert judge_datagram(7, header.pack(7, 0x8185, 1, 0, 0, 0)) == (False, "REFUSED")


def test_icmp_echo_request_checksum_and_payload() -> None:
    wire = echo_request(4, 0x1234, 7)
    parsed = ICMP(wire)
    assert parsed.type == 8 and parsed.id == 0x1234 and parsed.seq == 7
    assert bytes(parsed.payload) == ECHO_PAYLOAD and len(ECHO_PAYLOAD) == 128
    assert checksum(wire) == 0  # a correct checksum sums to zero
    assert parsed.chksum == ICMP(bytes(ICMP(type=8, id=0x1234, seq=7) / ECHO_PAYLOAD)).chksum
    assert echo_request(6, 1, 2)[0] == 128


def test_echo_reply_parsing_skips_the_ipv4_header_of_raw_sockets() -> None:
    reply = bytes(ScapyIP(src="192.0.2.2", dst="192.0.2.1") / ICMP(type=0, id=9, seq=3))
    assert parse_echo_reply(4, reply, raw=True) == (0, 9, 3)
    assert parse_echo_reply(4, bytes(ICMP(type=0, id=9, seq=3)), raw=False) == (0, 9, 3)
    assert parse_echo_reply(6, b"\x81\x00", raw=True) is None
