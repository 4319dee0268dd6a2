"""Text helpers of the lexer: keepalived's line reading, comment stripping, brace
splitting, ~SEQ/~LST parsing and glob brace expansion (C-style numbers: numbers.py)."""

from __future__ import annotations

import re
import socket
import stat
from collections.abc import Callable, Iterator
from itertools import repeat

from pykeepalived.config.numbers import strtol

MAXBUF = 1024  # keepalived's line buffer: fgets() reads at most MAXBUF - 1 bytes


def is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def physical_lines(data: bytes) -> Iterator[tuple[str, int]]:
    """Lines as keepalived's fgets() loop sees them, with how many pieces the line made.

    fgets(buf, MAXBUF) reads at most MAXBUF - 1 bytes, the newline included, so a line of
    more than MAXBUF - 2 characters arrives as several pieces, each read as a line of its
    own; when the pieces use up the characters exactly, the newline is a last, empty piece
    (which ends a multi-line definition like a blank line). Trailing CR/LF are dropped from
    each piece, and a NUL byte ends what keepalived sees of it. Yields (text, 0) for the
    first piece of a physical line and (text, n) for the n-th further piece.
    """
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()  # the end of the last line, or an empty file
    if "\0" not in text and (not lines or max(map(len, lines)) < _ONE_PIECE):
        # the common case: every line is one piece (a character is at most 4 bytes)
        if "\r" in text:
            lines = [line.rstrip("\r") for line in lines]
        return zip(lines, repeat(0))
    return _pieces(text.split("\n"))


def _pieces(lines: list[str]) -> Iterator[tuple[str, int]]:
    """physical_lines() of a file with a long line or a NUL byte, line by line."""
    last = len(lines) - 1
    for index, line in enumerate(lines):
        # a character is at most 4 bytes: a line this short is one piece
        if len(line) < _ONE_PIECE and "\0" not in line:
            if index == last and not line:
                return
            yield line.rstrip("\r"), 0
            continue
        raw = line.encode("utf-8", "surrogateescape")
        if index != last:
            raw += b"\n"
        if len(raw) < MAXBUF and b"\0" not in raw:
            yield line.rstrip("\r"), 0
            continue
        for n, start in enumerate(range(0, len(raw), MAXBUF - 1)):
            piece = raw[start:start + MAXBUF - 1]
            if b"\0" in piece:
                piece = piece.split(b"\0", 1)[0]
            yield piece.rstrip(b"\r\n").decode("utf-8", "surrogateescape"), n


_ONE_PIECE = (MAXBUF - 2) // 4


def needs_decomment(raw: str) -> bool:
    return "!" in raw or "#" in raw or '"' in raw or "\\" in raw


def decomment(s: str) -> tuple[str, bool]:
    """keepalived 2.2.7 decomment(): drop comments, keep a trailing continuation '\\'.

    Returns the text and whether a double quote was left open.
    """
    s = s.lstrip(" \t")
    out: list[str] = []
    quote = False
    cont = False
    skip: int | None = None
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == '"':
            if skip is None:
                quote = not quote
        elif c == "\\":
            if i + 1 < n:
                if not quote and s[i + 1] in "#!":
                    if skip is None:
                        out.append(s[i + 1])
                    i += 2
                    continue
                if skip is None:
                    out.append(c)
                    out.append(s[i + 1])
                i += 2
                continue
            cont = True
            break
        elif not quote and skip is None and c in "!#":
            skip = i
        if skip is None:
            out.append(c)
        i += 1
    result = "".join(out).rstrip(" \t")
    if cont:
        result += "\\"
    return result, quote


def find_brace(text: str) -> int | None:
    """Index of the first '{' or '}' outside double quotes (0 if the line starts with one)."""
    if text[0] in "{}":
        return 0
    if "{" not in text and "}" not in text:
        return None
    if '"' not in text:
        a, b = text.find("{"), text.find("}")
        return min(x for x in (a, b) if x >= 0)
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in "{}":
            return i
        if c == '"':
            close = text.find('"', i + 1)
            if close == -1:
                return None
            i = close + 1
            continue
        i += 1
    return None


def parse_lst(s: str) -> tuple[list[str], list[list[str]], str] | None:
    """Parse ``(var, v1, v2)`` or ``({a, b}, {1, 2}, {3, 4})`` and the text after it."""
    s = s.lstrip(" \t")
    if not s.startswith("("):
        return None
    close = s.find(")")
    if close == -1:
        return None
    body = s[1:close].strip()
    template = s[close + 1:].lstrip(" \t")
    groups = re.findall(r"\{([^}]*)\}|([^,{}]+)", body)
    items: list[list[str]] = []
    for braced, bare in groups:
        if braced or (braced == "" and not bare):
            items.append([v.strip() for v in braced.split(",")])
        elif bare.strip():
            items.append([bare.strip()])
    if len(items) < 2:
        return None
    names = items[0]
    if not all(names):
        return None
    if body.startswith("{"):
        value_sets = items[1:]
    else:
        names = [names[0]]
        value_sets = [[v[0]] for v in items[1:]]
    return names, value_sets, template


def has_brace(pattern: str) -> bool:
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "{":
            return True
        i += 1
    return False


# glob(3) with GLOB_BRACE tries every alternative; keepalived has no limit and takes minutes
# past 2**22 of them. Past this many an include is refused rather than read for ever.
MAX_BRACE_ALTERNATIVES = 1 << 20


def brace_expand(pattern: str) -> Iterator[str]:
    """csh-style {a,b} expansion (glob(3) GLOB_BRACE): the alternatives in written order,
    one at a time (``{a,b}`` twenty times over is a million of them)."""
    stack: list[Iterator[str]] = [iter((pattern,))]
    while stack:
        for text in stack[-1]:
            alternatives = _first_group(text)
            if alternatives is None:
                yield text
                continue
            stack.append(alternatives)
            break
        else:
            stack.pop()


def _first_group(pattern: str) -> Iterator[str] | None:
    """``pattern`` with its first {...} group replaced by each of its alternatives in turn;
    None when it has no group of two or more alternatives (then it stands as written)."""
    start = pattern.find("{")
    if start < 0:
        return None
    depth = 0
    for i in range(start, len(pattern)):
        c = pattern[i]
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                inner = pattern[start + 1:i]
                alts: list[str] = []
                d, last = 0, 0
                for j, ch in enumerate(inner):
                    if ch == "{":
                        d += 1
                    elif ch == "}":
                        d -= 1
                    elif ch == "," and d == 0:
                        alts.append(inner[last:j])
                        last = j + 1
                alts.append(inner[last:])
                if len(alts) == 1:
                    return None
                head, tail = pattern[:start], pattern[i + 1:]
                return (head + alt + tail for alt in alts)
    return None


def default_config_id() -> str:
    """keepalived's default config id: the host name up to the first dot."""
    return socket.gethostname().split(".", 1)[0]


def has_content(path: str) -> bool:
    """Whether a file holds anything but blank lines, comments and include lines."""
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 20)
    except OSError:
        return False
    for raw in data.decode("utf-8", "replace").splitlines():
        text = raw.strip()
        if text and text[0] not in "#!" and not text.startswith("include"):
            return True
    return False


SeqSpec = tuple[str, int, int, int, bool, str]
# keepalived copies the numbers of a ~SEQ, with their "," and ")", into a buffer with room
# for three longs: longer text (before or after substitution) is refused
SEQ_PARAMS_MAX = 3 * 20 + 3 + 1  # var, start, step, end, hex, template


def parse_seq(text: str, replace: Callable[[str], str]) -> SeqSpec | str:
    """keepalived's add_seq(): the ~SEQ/~SEQx specification, or an error message ("" when
    the line is not a ~SEQ at all). ``replace`` substitutes definitions in the numbers."""
    hexa = text.startswith("~SEQx")
    rest = text[5 if hexa else 4:].lstrip(" \t")
    if not rest.startswith("("):
        return ""
    close = rest.find(")")
    m = re.match(r"\(\s*([^ \t,)]*)\s*,", rest)
    if m is None or not m.group(1) or close == -1:
        return f"Invalid ~SEQ definition '{text}': expected ~SEQ(var, [start,] [step,] end)"
    var = m.group(1)
    params = rest[m.end():close + 1].lstrip(" \t")
    if len(params) >= SEQ_PARAMS_MAX:
        return f"~SEQ parameter strings too long '{text}'"
    s = replace(params)
    nums: list[int] = []
    while True:
        val, s = strtol(s)
        nums.append(val)
        s = s.lstrip(" \t")
        if s.startswith(")"):
            break
        if not s.startswith(",") or len(nums) == 3:
            return f"Invalid ~SEQ definition '{text}': numbers expected"
        s = s[1:]
    if len(nums) == 1:
        end = nums[0]
        step = -1 if end < 1 else 1
        start = -1 if end < 0 else 1
    elif len(nums) == 2:
        start, end = nums
        step = 1 if start <= end else -1
    else:
        start, step, end = nums
        if not step or (start < end and step < 0) or (start > end and step > 0):
            return f"Invalid ~SEQ values '{text}': the step never reaches the end"
    if hexa and (start < 0 or end < 0):
        return f"~SEQx is only valid for positive numbers '{text}'"
    return var, start, step, end, hexa, rest[close + 1:].lstrip(" \t")
