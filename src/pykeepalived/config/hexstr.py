"""keepalived's HEX strings (UDP_CHECK ``payload`` and ``require_reply``), read as its
``read_hex_str`` (lib/parser.c) reads them.

Digits pair into bytes; spaces and tabs separate and are skipped; a digit standing alone
before a space or at the end is a byte by itself. keepalived.conf(5)'s example:
``Ab12f 3 456 546443123`` is ``AB 12 0F 03 45 06 54 64 43 12 03``. In ``require_reply``,
``X`` (or ``x``) matches any value of its nibble.
"""

from __future__ import annotations

__all__ = ["read_hex_str"]

_HEX = "0123456789abcdefABCDEF"


def read_hex_str(text: str, wildcard: bool = False) -> tuple[bytes, bytes]:
    """``(data, mask)`` of a HEX string; mask bits are set where ``X`` matches anything.

    Raises ValueError for a character that is not a hex digit (nor X with ``wildcard``), or
    for a string without any digit.
    """
    data = bytearray()
    mask = bytearray()
    pos = 0

    def nibble(ch: str) -> tuple[int, int]:
        if ch in _HEX:
            return int(ch, 16), 0
        if wildcard and ch in "xX":
            return 0, 0x0F
        raise ValueError(f"invalid hex character {ch!r} in {text!r}")

    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos >= len(text):
            break
        value, bits = nibble(text[pos])
        pos += 1
        if pos < len(text) and text[pos] != " ":
            low, low_bits = nibble(text[pos])
            pos += 1
            value, bits = value << 4 | low, bits << 4 | low_bits
        data.append(value)
        mask.append(bits)
    if not data:
        raise ValueError(f"empty hex string {text!r}")
    return bytes(data), bytes(mask)
