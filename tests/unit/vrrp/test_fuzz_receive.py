"""Fuzzing the receive path: the decoder and the routers behind it (property tests).

Random bytes and damaged valid adverts (VRRPv2/v3, IPv4/IPv6, no auth, PASS and AH: bit
flips, truncations, extensions, field rewrites with checksums and ICVs made right) go
through the decoder's functions and through the daemon's ``on_packet`` into a process of six
instances (:mod:`tests.fuzz.vrrp_harness`). The properties are the harness's: only
``PacketError`` leaves the decoder, nothing leaves ``on_packet``, a rejected datagram raises
exactly one drop counter and changes nothing else, an uncounted one was accepted by the
instance it names or is one the daemon ignores on purpose.

The budgets here are small (CI); ``scripts/fuzz --target packet|router`` runs the same
strategies for as long as it is given.
"""

from __future__ import annotations

from ipaddress import ip_address

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pykeepalived.vrrp import packet
from tests.fuzz.vrrp_harness import INSTANCES, Harness
from tests.fuzz.vrrp_inputs import Datagram, datagrams

NAMES = [inst.name for inst in INSTANCES]
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def decode_all(dgram: Datagram) -> None:
    """Every decoder entry point the daemon uses, on ``dgram``; only PacketError may leave."""
    src, dst = ip_address(dgram.src), ip_address(dgram.dst)
    try:
        packet.decode(dgram.data, src, dst)
    except packet.PacketError as err:
        assert err.reason
    try:
        packet.decode(dgram.data, src, dst, accept_v3_checksum_as_v2=True)
    except packet.PacketError as err:
        assert err.reason
    if dgram.family != 4:
        return
    try:
        received = packet.decode_ipv4(dgram.data)
    except packet.PacketError as err:
        assert err.reason
        return
    for key in (None, b"k3y"):
        try:
            packet.decode_received(received, ah_auth_pass=key)
        except packet.PacketError as err:
            assert err.reason


@FAST
@given(datagrams(INSTANCES))
def test_decoder_raises_only_its_own_rejection(dgram: Datagram) -> None:
    decode_all(dgram)


@FAST
@given(masters=st.frozensets(st.sampled_from(NAMES)),
       faulted=st.frozensets(st.sampled_from(NAMES), max_size=1),
       dgrams=st.lists(datagrams(INSTANCES), min_size=1, max_size=6))
def test_receive_path_properties(masters: frozenset[str], faulted: frozenset[str],
                                 dgrams: list[Datagram]) -> None:
    with Harness(masters=masters, faulted=faulted) as harness:
        for dgram in dgrams:
            harness.deliver(dgram)
