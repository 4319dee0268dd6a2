"""VrrpSocket argument checks that need no privileges."""

from __future__ import annotations

import pytest

from pykeepalived.net.vrrp_socket import ReceivedPacket, VrrpSocket


def test_bad_family_and_protocol() -> None:
    with pytest.raises(ValueError, match="family"):
        VrrpSocket.open("lo", 5, multicast_group=None, src=None, on_packet=print)
    with pytest.raises(ValueError, match="protocol"):
        VrrpSocket.open("lo", 4, multicast_group=None, src=None, on_packet=print, protocol=6)


def test_missing_interface_is_named() -> None:
    with pytest.raises(OSError, match="no-such-if"):
        VrrpSocket.open("no-such-if", 4, multicast_group=None, src=None, on_packet=print)


def test_received_packet_is_immutable() -> None:
    p = ReceivedPacket("eth0", 4, "192.0.2.1", "224.0.0.18", 255, b"x", True)
    with pytest.raises(AttributeError):
        p.ttl = 1  # type: ignore[misc]
