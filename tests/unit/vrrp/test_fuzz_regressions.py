"""What the receive-path fuzzers found, each kept as the datagram that showed it.

Every case goes through the daemon's ``on_packet`` in the fuzz harness
(:mod:`tests.fuzz.vrrp_harness`), which checks all of its properties on the way; the test
then asserts the outcome the fix gave.
"""

from __future__ import annotations

from dataclasses import replace

from tests.fuzz.vrrp_harness import INSTANCES, Harness
from tests.fuzz.vrrp_inputs import Datagram, build, valid_fields


def test_a_datagram_too_short_to_name_a_vrid_is_counted() -> None:
    """An empty IPv6 VRRP message (or an IPv4 one whose payload has no VRID byte) was
    ignored without a count: the process now counts it as truncated."""
    with Harness() as harness:
        out = harness.deliver(Datagram(6, "fe80::3", "ff02::12", 255, b""))
        assert (out.kind, out.counter) == ("rejected", "invalid_packets[truncated]")
        ipv4 = bytes.fromhex("45c00015000000" "00ff70" "0000" "c0000203" "e0000012") + b"\x31"
        out = harness.deliver(Datagram(4, "192.0.2.3", "224.0.0.18", 255, ipv4))
        assert (out.kind, out.counter) == ("rejected", "invalid_packets[truncated]")
        assert harness.proc.invalid_packets == {"truncated": 2}


def test_a_rejected_ah_advert_leaves_the_sequence_number() -> None:
    """An AH advert with a good ICV but the wrong address count was dropped after it had
    moved the router's anti-replay counter: the master's next genuine advert carrying that
    sequence number was then dropped as a replay."""
    inst = next(i for i in INSTANCES if i.name == "V2_AH")
    with Harness() as harness:
        router = harness.router("V2_AH")
        bad = build(replace(valid_fields(inst, 150, "192.0.2.3", ah_seq=7), addresses=()))
        out = harness.deliver(bad)
        assert (out.kind, out.counter) == ("rejected", "addr_list_err")
        assert router._ah_seq == 0
        out = harness.deliver(build(valid_fields(inst, 150, "192.0.2.3", ah_seq=7)))
        assert out.kind == "accepted"
        assert router._ah_seq == 7
