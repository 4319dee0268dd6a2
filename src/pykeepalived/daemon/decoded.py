"""Adverts already decoded, by the datagram that carried them.

A master repeats the same bytes every advert_int, and a backup with a thousand instances hears
a thousand such datagrams a second. A datagram identical to one that decoded cleanly before is
handed to its router without decoding it again: the key is the whole datagram, IPv4 header
included, so every check the decoder made on the first one (version, header length, total
length, protocol, checksum) holds for it too; IPv6 datagrams arrive without their header, so
their source and destination addresses are part of the key. The router still makes every
per-advert check (TTL, priority, address list, timers) on every advert.
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
        """The key of a datagram: all of it, and for IPv6 (no header) its addresses."""
        return (ifname, data, f"{src} {dst}".encode() if src or dst else b"")

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
