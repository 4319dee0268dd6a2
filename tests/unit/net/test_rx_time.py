"""Receive timestamps: the kernel's SO_TIMESTAMPNS moved onto the monotonic clock."""

from __future__ import annotations

import socket
import struct
import time

from pykeepalived.net.vrrp_socket import SO_TIMESTAMPNS, _rx_time


def _stamp(realtime: float) -> list[tuple[int, int, bytes]]:
    sec = int(realtime)
    return [(socket.SOL_SOCKET, SO_TIMESTAMPNS, struct.pack("=qq", sec,
                                                            int((realtime - sec) * 1e9)))]


def test_recent_stamp_maps_to_monotonic() -> None:
    offset = time.time() - time.monotonic()
    arrived = time.time() - 0.002
    got = _rx_time(_stamp(arrived), offset)
    assert abs(got - (arrived - offset)) < 1e-6
    assert got <= time.monotonic()


def test_untrusted_stamps_are_ignored() -> None:
    offset = time.time() - time.monotonic()
    assert _rx_time(_stamp(time.time() + 5), offset) == 0.0  # in the future
    assert _rx_time(_stamp(time.time() - 5), offset) == 0.0  # clock stepped
    assert _rx_time([], offset) == 0.0
