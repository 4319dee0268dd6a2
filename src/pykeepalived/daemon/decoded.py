"""Adverts already decoded, by the datagram that carried them.

A master repeats the same advert every advert_int, and a backup with a thousand instances hears
a thousand such datagrams a second. A datagram equal to one that decoded cleanly before is
handed to its router without decoding it again: the key is the whole datagram, IPv4 header
included, so every check the decoder made on the first one (version, header length, total
length, protocol, checksum) holds for it too; IPv6 datagrams arrive without their header, so
their source and destination addresses are part of the key. The router still makes every
per-advert check (TTL, priority, address list, timers) on every advert.

Two IPv4 header fields are left out of the key, because they differ in every datagram a
master sends and the decoder reads neither: the identification (RFC 791: a new value per
datagram; the kernel, or keepalived writing its own header, counts it up) and the header
checksum, which covers it (the kernel has verified it before a raw socket sees the datagram).
With them in the key, no advert from a real peer would ever be found again.
"""

from __future__ import annotations

from typing import Generic, TypeVar

V = TypeVar("V")

DEFAULT_SIZE = 4096


class DecodedCache(Generic[V]):
    """``(interface, datagram[, addresses])`` -> what decoding it gave; bounded in size."""

    __slots__ = ("_entries", "size")

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._entries: dict[tuple[str, bytes, bytes], V] = {}

    @staticmethod
    def key(ifname: str, data: bytes, src: str = "", dst: str = "") -> tuple[str, bytes, bytes]:
        """The key of a datagram: for IPv4 (``data`` with its header, no addresses given) all
        of it but the identification and header checksum; for IPv6 (no header) all of it
        and its addresses."""
        if src or dst:
            return (ifname, data, f"{src} {dst}".encode())
        return (ifname, data[:4] + data[6:10], data[12:])

    def get(self, key: tuple[str, bytes, bytes]) -> V | None:
        return self._entries.get(key)

    def put(self, key: tuple[str, bytes, bytes], value: V) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()  # a flood of distinct datagrams: start again
        self._entries[key] = value

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
