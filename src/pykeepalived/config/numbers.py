"""Numbers in configuration text, read the way keepalived's C readers read them.

A C reader has a fixed width: ``strtol`` stops at ``LONG_MAX`` and flags ERANGE, and
keepalived's read_int/read_unsigned/read_decimal_unsigned then report the number as out
of range. Python's ``int()`` builds a number of any size instead, and ``float()`` of a
large one raises OverflowError; so every number read from a configuration goes through
here, where the digit count is looked at before anything is converted. A number with
more significant digits than any C type keepalived uses is "too big" without being built.

Only ASCII digits are digits (keepalived runs its parsers in the C locale): ``str.isdigit``
also accepts '²' or '٣', which ``int()`` then refuses or reads.
"""

from __future__ import annotations

import re

LONG_MAX = 2**63 - 1
LONG_MIN = -(2**63)
# past every C range keepalived reads into (the widest is uint64_t)
TOO_BIG = 2**64
# significant digits beyond which a number is TOO_BIG whatever they are, per base
_MAX_DIGITS = {10: 20, 16: 16, 8: 22}

_STRTOL_RE = re.compile(r"[ \t\n\r\f\v]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_DECIMAL_RE = re.compile(r"[ \t\n\r\f\v]*([+-]?)([0-9]+)")


def is_decimal(text: str) -> bool:
    """``text`` is one or more ASCII digits (C ``isdigit`` over the whole word)."""
    return text.isascii() and text.isdigit()


def digits_value(digits: str, base: int = 10) -> int:
    """The value of a string of digits of ``base`` (already checked), or :data:`TOO_BIG`
    when it has more significant digits than the widest C type holds."""
    significant = digits.lstrip("0")
    if len(significant) > _MAX_DIGITS[base]:
        return TOO_BIG
    return int(significant or "0", base)


def strtol(s: str) -> tuple[int, str]:
    """C ``strtol(s, &end, 0)``: the number at the start of ``s`` (clamped to a C long,
    as strtol does) and what follows it; (0, s) when no number starts ``s``."""
    m = _STRTOL_RE.match(s)
    if m is None:
        return 0, s
    value = c_digits(m.group(2))
    value = -value if m.group(1) == "-" else value
    return max(LONG_MIN, min(LONG_MAX, value)), s[m.end():]


def c_digits(digits: str) -> int:
    """A C integer literal without its sign: 0x hexadecimal, 0 octal, else decimal."""
    if digits[:2] in ("0x", "0X"):
        return digits_value(digits[2:], 16)
    if digits.startswith("0") and len(digits) > 1:
        return digits_value(digits[1:], 8)
    return digits_value(digits)


def c_strtol(s: str, base: int) -> int | None:
    """C strtol/strtoul with a full-string check: None when characters are left over.

    ``base`` is 10 or 0 (C literal: 0x hexadecimal, 0 octal). A number too wide for C is
    returned as +/-:data:`TOO_BIG`, which every range check refuses.
    """
    if base == 10 and s.isascii() and s.isdigit():
        return digits_value(s)
    m = (_DECIMAL_RE if base == 10 else _STRTOL_RE).fullmatch(s)
    if m is None:
        return None
    value = digits_value(m.group(2)) if base == 10 else c_digits(m.group(2))
    return -value if m.group(1) == "-" else value


def scaled_decimal(intpart: str, frac: str, places: int) -> int:
    """``intpart.frac`` times 10**places as an integer (``frac`` at most ``places`` long;
    both ASCII digits, either may be empty), or :data:`TOO_BIG` past a C unsigned long."""
    return digits_value((intpart or "0") + frac.ljust(places, "0"))
