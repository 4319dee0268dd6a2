"""Splitting a script string into argv, the way keepalived does it.

keepalived.conf(5), "Quoted strings": words are separated by whitespace; ``"`` and ``'`` quote
(the quote characters are removed and the whitespace between them kept); backslash escapes work
inside and outside quotes (``\\a \\b \\E \\f \\n \\r \\t \\v``, ``\\nnn`` octal, ``\\xXX`` hex,
``\\cC`` control characters, and ``\\C`` for any other C is C itself). An empty quoted string is
an empty word. An unterminated quote or a trailing backslash is an error.

keepalived splits a notify or track script line twice: once as a configuration line (so
``notify "/bin/x 'a b' c" user`` gives the script string ``/bin/x 'a b' c``), then that string
again into argv. :func:`split_script` is the second split; it is given the script string as the
configuration parser handed it over.
"""

from __future__ import annotations

__all__ = ["ScriptSyntaxError", "join_script", "split_script"]

# keepalived's WHITE_SPACE_STR (lib/parser.c)
_WHITE_SPACE = " \t\f\n\r\v"
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}
_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"  # string.hexdigits, without importing string for it


class ScriptSyntaxError(ValueError):
    """A script string that cannot be split (unterminated quote, trailing backslash, empty)."""


def _byte(value: int) -> str:
    """One byte as a str character: ASCII as itself, 0x80-0xFF as a surrogate escape so that
    ``os.fsencode`` hands exactly that byte to the kernel, as keepalived's C string would."""
    return chr(value) if value < 0x80 else chr(0xDC00 + value)


def _escape(cmd: str, pos: int) -> tuple[str, int]:
    """Decode the escape whose backslash is at ``cmd[pos - 1]``; return (char, next position).

    Hex and octal escapes give one byte, as keepalived's ``char`` arithmetic does (excess hex
    digits shift out of the byte).
    """
    ch = cmd[pos]
    if ch == "x" and pos + 1 < len(cmd) and cmd[pos + 1] in _HEX:
        value = 0
        pos += 1
        while pos < len(cmd) and cmd[pos] in _HEX:
            value = ((value << 4) | int(cmd[pos], 16)) & 0xFF
            pos += 1
        return _byte(value), pos
    if ch == "c" and pos + 1 < len(cmd):
        return chr(ord(cmd[pos + 1]) & 0x1F), pos + 2
    if ch in _OCTAL:
        value = int(ch)
        pos += 1
        for _ in range(2):
            if pos < len(cmd) and cmd[pos] in _OCTAL:
                value = ((value << 3) + int(cmd[pos])) & 0xFF
                pos += 1
        return _byte(value), pos
    return _SIMPLE_ESCAPES.get(ch, ch), pos + 1


def split_script(cmd: str) -> list[str]:
    """Split a script string into argv with keepalived's quoting and escape rules.

    >>> split_script("/usr/bin/notify.sh 'two words' \\"x y\\"z")
    ['/usr/bin/notify.sh', 'two words', 'x yz']

    Raises :class:`ScriptSyntaxError` (a ValueError) with a message naming the string when it
    cannot be split or holds no word at all.
    """
    words: list[str] = []
    pos = 0
    end = len(cmd)
    while pos < end:
        while pos < end and cmd[pos] in _WHITE_SPACE:
            pos += 1
        if pos >= end:
            break
        word: list[str] = []
        quote = ""
        while pos < end:
            ch = cmd[pos]
            if ch == "\\":
                pos += 1
                if pos >= end:
                    raise ScriptSyntaxError(f"script {cmd!r}: missing escaped character at end")
                decoded, pos = _escape(cmd, pos)
                word.append(decoded)
            elif quote:
                if ch == quote:
                    quote = ""
                else:
                    word.append(ch)
                pos += 1
            elif ch in "\"'":
                quote = ch
                pos += 1
            elif ch in _WHITE_SPACE:
                break
            else:
                word.append(ch)
                pos += 1
        if quote:
            raise ScriptSyntaxError(f"script {cmd!r}: missing terminating {quote}")
        # keepalived keeps words as C strings: a decoded NUL ends the word.
        words.append("".join(word).split("\0", 1)[0])
    if not words:
        raise ScriptSyntaxError(f"script {cmd!r}: no command given")
    return words


def join_script(argv: list[str]) -> str:
    """The argv as one line for log messages, each word in single quotes as keepalived logs it."""
    return " ".join("'" + word.replace("'", "'\\''") + "'" for word in argv)
