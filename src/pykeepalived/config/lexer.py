"""The keepalived.conf lexer: files and includes in, logical lines of tokens out.

It follows the order in which keepalived 2.2.7 (lib/parser.c, ``read_line``) treats every
line, because operators' configurations depend on it:

1. physical lines are read from the file on top of the include stack; keepalived reads
   with a 1024-byte buffer, so a line longer than 1023 bytes is cut into pieces, and a NUL
   byte ends the line;
2. comments are removed (``!`` or ``#`` outside double quotes; ``\\#`` and ``\\!`` are
   literal), leading and trailing blanks dropped;
3. lines after ``$NAME= ... \\`` are gathered into a multi-line definition until a line
   that does not end with ``\\`` (or a blank line): this is the only line continuation
   keepalived has;
4. ``@id`` / ``@^id`` conditional lines are kept or dropped by the config id;
5. ``$NAME=value`` defines a parameter; ``~SEQ(...)`` and ``~LST(...)`` repeat the rest
   of the line;
6. ``$NAME`` / ``${NAME}`` / ``${NAME params}`` are replaced, recursively, at use time;
7. ``include`` (and includer/m/w/b/a) lines open files found by glob with brace
   expansion, relative to the directory of the including file;
8. ``{`` and ``}`` are split off so that every brace is a line of its own.

Every line produced carries the file and line it came from. Nothing here raises on bad
input: problems become diagnostics, with keepalived's category so that ``-t`` exits alike.
"""

from __future__ import annotations

import glob
import itertools
import os
import re
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import field
from typing import TYPE_CHECKING

from pykeepalived.config.blocks import Node, brace_of
from pykeepalived.config.errors import Category, Diagnostic
from pykeepalived.config.lexer_text import (
    MAX_BRACE_ALTERNATIVES,
    MAXBUF,
    SEQ_PARAMS_MAX,
    brace_expand,
    decomment,
    find_brace,
    has_brace,
    has_content,
    is_regular,
    needs_decomment,
    parse_lst,
    parse_seq,
    physical_lines,
)
from pykeepalived.config.model_base import model
from pykeepalived.config.numbers import strtol

if TYPE_CHECKING:
    import random

WHITE_SPACE = " \t\f\n\r\v"
MAX_SUBSTITUTIONS = 10_000  # per line; keepalived can loop forever on $A=$A
MAX_INCLUDE_DEPTH = 64

# include_check bits (keepalived lib/parser.c, include_t)
INCLUDE_R = 0x01  # error if a match is not a readable regular file
INCLUDE_M = 0x02  # error if a file without wildcards does not exist
INCLUDE_W = 0x04  # error if a wildcard matches nothing
INCLUDE_B = 0x08  # error if a brace alternative matches nothing
INCLUDE_ALL = INCLUDE_R | INCLUDE_M | INCLUDE_W | INCLUDE_B
_INCLUDE_VARIANTS = {"r": INCLUDE_R, "a": INCLUDE_ALL, "w": INCLUDE_R | INCLUDE_M | INCLUDE_W,
                     "m": INCLUDE_R | INCLUDE_M, "b": INCLUDE_R | INCLUDE_B}
_INCLUDE_CHECK_WORDS = {"read": INCLUDE_R, "match": INCLUDE_M, "wildcard_match": INCLUDE_W,
                        "brace_match": INCLUDE_B}

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# what sends a line through the whole of read_line() rather than the plain-line path: one
# of these characters, or "include" (two tests: a regex of characters alone is scanned for
# in C, one with the word in it is tried at every position, twice as slow)
_SPECIAL = '!#"\\$@~'
_special = re.compile(f"[{re.escape(_SPECIAL)}]").search
_SPECIAL_BYTES = tuple(c.encode() for c in _SPECIAL)  # a whole file: memchr per character
_BRACES = re.compile(r"([{}])").split
_DEF_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)=")
_BATCH = 256  # plain lines handed over at a time (see Lexer._batches)


def _readings(parent: str) -> tuple[str, str]:
    """A line of a multi-line definition that keepalived's parent decommented, as its
    VRRP and checker parsers read it from the copy (decommented again; a line starting
    with a comment character is a marker there) and as the parent reads it; without the
    continuation mark."""
    own = parent[:-1].rstrip(" \t") if parent.endswith("\\") else parent
    if "#" not in parent and "!" not in parent:
        return own, own
    if parent[:1] in ("#", "!"):
        return "", own
    copied, _ = decomment(parent)
    if copied.endswith("\\"):
        copied = copied[:-1].rstrip(" \t")
    return copied, own


# One logical line: its tokens (quotes removed), the text they came from, and where.
Line = Node


@model
class _Definition:
    """A ``$NAME=`` definition: its value, or the function behind a built-in one."""

    value: str
    multiline: bool = False
    fn: Callable[[str | None], str] | None = None
    max_params: int = 0
    # a multi-line definition's lines as keepalived's VRRP and checker parsers read them
    # (from the parent's decommented copy) and as its parent reads them: they differ
    # where an escaped comment character is a literal to one and a comment to the other
    readings: list[tuple[str, str]] = field(default_factory=list)
    diverges: bool = False  # some line reads differently (see _by_reader)


@model
class _Source:
    """Something lines come from: a file, a ~SEQ/~LST expansion or a multi-line value."""

    kind: str  # "file", "seq" (~SEQ/~LST) or "multi" (multi-line definition)
    lines: Iterator[tuple[str, int]]  # (text, piece): see lexer_text.physical_lines
    file: str
    line: int = 0
    directory: str = "."
    include_type: int = 0
    saved_include_check: int = 0
    pending: deque[str] = field(default_factory=deque)  # further glob matches, read next
    plain: bool = False  # no line of the file needs more than the plain-line path


@model(slots=False)
class Lexer:
    """Turns a main configuration file into :class:`Line` values (see module docstring)."""

    config_id: str | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # read as keepalived's parent reads the file (see parent_pass.py), not as its VRRP and
    # checker parsers read the parent's decommented copy
    parent_reading: bool = False
    # the parent's reading may differ from its copy's: a "\#" or "\!" was read, or a
    # line that is all comment inside a multi-line definition (which the parent skips and
    # its copy holds as the empty line that ends the definition)
    readings_differ: bool = False
    include_check: int = 0
    files: list[str] = field(default_factory=list)
    file_error: bool = False  # keepalived gives up after reading (exit 6)
    _stack: list[_Source] = field(default_factory=list)
    _defs: dict[str, _Definition] = field(default_factory=dict)
    _random: random.Random | None = None  # made when first used: see _rng
    _depth: int = 0
    _open_files: list[str] = field(default_factory=list)
    _multi_run: int = 0  # lines read in a row from multi-line definitions
    # the section the reader of the lines is in ("top", "global_defs", "vrrp_instance"...):
    # the walker reads each line before the next is made, so this is the line's section
    section_of: Callable[[], str] = field(default=lambda: "top")

    def __post_init__(self) -> None:
        self._defs["_PWD"] = _Definition("", fn=lambda _p: self._current_dir())
        self._defs["_INSTANCE"] = _Definition("", fn=lambda _p: self.config_id or "")
        self._defs["_RANDOM"] = _Definition("", fn=self._get_random, max_params=2)
        self._defs["_HASH"] = _Definition("#")
        self._defs["_BANG"] = _Definition("!")

    # ----------------------------------------------------------------- diagnostics
    def _where(self) -> tuple[str, int]:
        for src in reversed(self._stack):
            if src.kind == "file":
                return src.file, src.line
        return (self.files[0] if self.files else "<config>"), 0

    def report(self, category: Category, message: str, *, severity: str = "warning",
               keyword: str | None = None) -> None:
        file, line = self._where()
        severe = severity == "error" and category <= Category.FATAL
        self.diagnostics.append(Diagnostic(file, line, "error" if severe else "warning",
                                           message, keyword, category))

    def _file_error(self, error_type: int, include_type: int, message: str) -> None:
        """keepalived's file_config_error(): an error only when include checks ask for it."""
        if (self.include_check | include_type) & error_type:
            self.report(Category.FILE_NOT_FOUND, message, severity="error", keyword="include")
            self.file_error = True
        else:
            self.report(Category.OK, message, keyword="include")

    # ----------------------------------------------------------------- files
    def _current_dir(self) -> str:
        for src in reversed(self._stack):
            if src.kind == "file":
                return src.directory
        return os.getcwd()

    def _get_random(self, params: str | None) -> str:
        lo, hi = 0, 32767
        if params:
            nums = params.split()
            lo = strtol(nums[0])[0]
            if len(nums) > 1:
                hi = strtol(nums[1])[0]
            if len(nums) > 2:
                self.report(Category.OK, f"Too many parameters or extra text for "
                            f"${{_RANDOM {params}}}")
        if hi < lo:
            lo, hi = hi, lo
        return str(self._rng().randint(lo, hi))

    def seed(self, value: int) -> None:
        self._rng().seed(value)

    def _rng(self) -> random.Random:
        """The generator behind ${_RANDOM}, made (and ``random`` imported) when a
        configuration first uses it or random_seed: most never do, and the import is
        about half a millisecond of every ``-t``."""
        if self._random is None:
            import random

            self._random = random.Random()
        return self._random

    def open_main(self, path: str) -> bool:
        """Open the main file as keepalived does (includer/m/w checks)."""
        return self._open_glob(path, INCLUDE_R | INCLUDE_M | INCLUDE_W, os.getcwd())

    def _open_glob(self, pattern: str, include_type: int, base: str) -> bool:
        full = pattern if os.path.isabs(pattern) else os.path.join(base, pattern)
        matches: deque[str] = deque()
        missing = False
        braced = has_brace(pattern)
        has_wild = False
        for count, alt in enumerate(brace_expand(full)):
            if count == MAX_BRACE_ALTERNATIVES:
                self.report(Category.GENERAL_ERROR, f"'{pattern}': braces give more than "
                            f"{MAX_BRACE_ALTERNATIVES} alternatives - not reading it",
                            severity="error", keyword="include")
                return False
            if glob.has_magic(alt):
                has_wild = True
                found = sorted(glob.glob(alt))
                if not found and not os.path.isdir(os.path.dirname(alt) or "."):
                    missing = True
                matches.extend(found)
            elif os.path.lexists(alt):
                matches.append(alt)
            else:
                missing = True
        if not matches:
            if missing:
                self._file_error(INCLUDE_B if braced else INCLUDE_M, include_type,
                                 f"Config files missing '{pattern}'.")
            elif has_wild:
                if (self.include_check | include_type) & INCLUDE_W:
                    self._file_error(INCLUDE_W, include_type,
                                     f"No config files matched '{pattern}'.")
                else:
                    self.report(Category.OK, f"No config files matched '{pattern}'.",
                                keyword="include")
            return False
        if missing:
            self._file_error(INCLUDE_B, include_type, f"Some config files missing: \"{pattern}\".")
            if (self.include_check | include_type) & INCLUDE_B:
                return False
        saved = self.include_check
        while matches:
            if self._push_file(matches.popleft(), include_type, saved, matches):
                return True
        return False

    def _push_file(self, path: str, include_type: int, saved_check: int,
                   pending: deque[str]) -> bool:
        if os.path.isdir(path):
            self._file_error(INCLUDE_R, include_type,
                             f"Configuration file '{path}/' is a directory - skipping")
            return False
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is None or not is_regular(st.st_mode) or st.st_mode & 0o111:
            self._file_error(INCLUDE_R, include_type, f"Configuration file '{path}' is not a "
                             "regular non-executable file - skipping")
            return False
        real = os.path.realpath(path)
        if real in self._open_files:
            chain = " -> ".join([*self._open_files[self._open_files.index(real):], real])
            # keepalived has no loop check: it re-reads the files until it runs out of file
            # descriptors, so anything they define is defined again (an error) unless they
            # hold nothing but includes and comments
            category = Category.GENERAL_ERROR if has_content(path) else Category.OK
            self.report(category, f"include loop: '{path}' is already being read "
                        f"({chain}) - not reading it again", keyword="include")
            return False
        if len(self._open_files) >= MAX_INCLUDE_DEPTH:
            self._file_error(INCLUDE_R, include_type, f"Configuration file '{path}' open "
                             "problem (includes nested too deeply) - skipping")
            return False
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            self._file_error(INCLUDE_R, include_type, f"Configuration file '{path}' open "
                             f"problem ({exc.strerror}) - skipping")
            return False
        self.files.append(path)
        self._open_files.append(real)
        directory = os.path.dirname(path) if "/" in path else os.getcwd()
        plain = not any(c in data for c in _SPECIAL_BYTES) and b"include" not in data
        self._stack.append(_Source("file", physical_lines(data), path, 0,
                                   directory or "/", include_type, saved_check, pending, plain))
        return True

    # ----------------------------------------------------------------- main loop
    def lines(self) -> Iterator[Line]:
        """Every logical line, braces split off, in keepalived's order (:meth:`statements`
        with the ``{`` of each ``braced`` line a line of its own)."""
        for line in self.statements():
            if line.braced:
                yield Line(line.tokens, line.text, line.file, line.line)
                yield brace_of(line)
            else:
                yield line

    def statements(self) -> Iterator[Line]:
        """Every logical line, braces split off, in keepalived's order; except that a line
        ``keyword args {`` comes as one line, ``braced`` (walk.py reads it as the statement
        and then its ``{``).

        Lines are made as the reader asks for them, and so the handlers of
        ``include_check`` and ``random_seed`` in global_defs (through
        :meth:`set_include_check` and :meth:`seed`) change how the lines after them read,
        as keepalived's do; elsewhere those words are unknown keywords or values. Lines
        that nothing can read differently and that report nothing (a statement, ``}``,
        ``keyword args {`` without anything to substitute, define or include) are made a
        few hundred at a time (:meth:`_batches`); each other line is made only once the
        reader has handled every line before it.
        """
        return itertools.chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[list[Line]]:
        """:meth:`statements` in lists: a run of plain lines, or a single line of another
        kind. (Handing over lists of lines instead of each line through a generator was
        about 1.5 ms of the 40 ms that reading the 1,000-instance benchmark file takes.)"""
        multi: _Definition | None = None
        stack = self._stack
        while stack:
            src = stack[-1]
            if src.kind == "file" and multi is None:
                # the common case, in one tight loop: a file's lines with nothing to
                # substitute, include or define; the first other line goes the long way
                self._multi_run = 0
                plain = src.plain
                # the line number in a local, written back to src.line before anything
                # that reports (reports name the line through _where())
                file, line = src.file, src.line
                batch: list[Line] = []
                add = batch.append
                for raw, piece in src.lines:
                    if piece:
                        if batch:
                            yield batch
                            batch = []
                            add = batch.append
                        src.line = line
                        self._long_line(piece)
                    else:
                        line += 1
                    if plain or (_special(raw) is None and "include" not in raw):
                        text = raw.strip(" \t")
                        if "{" not in text and "}" not in text:
                            tokens = text.split()
                            if tokens:
                                add(Line(tokens, text, file, line))
                                if len(batch) >= _BATCH:
                                    yield batch
                                    batch = []
                                    add = batch.append
                            continue
                        if text == "}" and self._depth:
                            self._depth -= 1
                            add(Line(["}"], "}", file, line))
                            continue
                        if text[-1] == "{" and text.count("{") == 1 and "}" not in text:
                            # "keyword args {"
                            head = text[:-1].rstrip(" \t")
                            tokens = head.split()
                            self._depth += 1
                            add(Line(tokens, head, file, line, True) if tokens
                                else Line(["{"], "{", file, line))
                            continue
                        if batch:
                            yield batch
                            batch = []
                            add = batch.append
                        src.line = line
                        for part in self._split_plain(text, file, line):  # it may report
                            yield [part]
                        continue
                    if batch:
                        yield batch
                        batch = []
                        add = batch.append
                    src.line = line
                    multi = yield from self._full_line(src, raw)
                    if multi is not None or stack[-1] is not src:
                        break
                    line = src.line
                else:
                    if batch:
                        yield batch
                    src.line = line
                    stack.pop()
                    self._end_file(src)
                continue
            try:
                item = next(src.lines)
            except StopIteration:
                stack.pop()
                if src.kind == "file":
                    self._end_file(src)
                continue
            if src.kind == "multi":
                self._multi_run += 1
                if self._multi_run > MAX_SUBSTITUTIONS:
                    self._runaway_multiline()
                    continue
            else:
                self._multi_run = 0
            raw, piece = item
            if piece:
                self._long_line(piece)
            else:
                src.line += 1
            if multi is not None:
                text = self._decomment(raw) if src.kind == "file" and raw else raw
                if raw and not text and src.kind == "file":
                    if self.parent_reading:
                        continue  # the parent skips a line that is all comment; its
                        # copy holds an empty line there, which ends the definition
                    self.readings_differ = True
                parent = text
                if src.kind == "file" and ("#" in text or "!" in text):
                    text = self._as_copied(text)
                # keepalived 2.2.7 ends a multi-line definition at a line with nothing left
                # after comments and blanks are removed, not only at an empty one
                multi = self._add_to_multiline(multi, text, parent)
                continue
            multi = yield from self._full_line(src, raw)
        if self._depth > 0:
            file = self.files[0] if self.files else "<config>"
            self.diagnostics.append(Diagnostic(
                file, 0, "warning", f"There are {self._depth} missing '}}'s or extra '{{'s: "
                "a block is not closed before the end of the configuration",
                None, Category.MISSING_EOB))

    def _full_line(self, src: _Source,
                   raw: str) -> Generator[list[Line], None, _Definition | None]:
        """One line through all of keepalived's read_line(), each line it makes a batch of
        its own; returns the multi-line definition it starts, if it does."""
        if src.kind == "file" and raw:
            text = self._decomment(raw) if needs_decomment(raw) else raw.strip(" \t")
            if "#" in text or "!" in text:
                text = self._as_copied(text)
        else:
            text = raw
        if not text:
            return None
        file, lineno = self._where()
        processed, multi = self._process(text)
        if processed and not self._check_include(processed):
            for part in self._split_braces(processed, file, lineno):
                yield [part]
        return multi

    def _long_line(self, piece: int) -> None:
        if piece == 1:
            self.report(Category.OK, f"line of more than {MAXBUF - 2} characters: keepalived "
                        f"reads it in pieces of {MAXBUF - 1} bytes (the newline included), each "
                        "as a line of its own")

    def _runaway_multiline(self) -> None:
        """A multi-line definition that keeps expanding (it uses itself, or definitions
        that use each other): keepalived reads it for ever; here its expansion stops after
        as many lines as a single line may have substitutions."""
        self.report(Category.GENERAL_ERROR, f"multi-line definition expands to more than "
                    f"{MAX_SUBSTITUTIONS} lines (does it refer to itself?) - the rest of it "
                    "is ignored", severity="error")
        while self._stack and self._stack[-1].kind == "multi":
            self._stack.pop()
        self._multi_run = 0

    def _end_file(self, src: _Source) -> None:
        """keepalived's end_file(): restore include_check, go on with the next glob match."""
        self._open_files.pop()
        self.include_check = src.saved_include_check
        while src.pending:
            if self._push_file(src.pending.popleft(), src.include_type, src.saved_include_check,
                               src.pending):
                return

    def _add_to_multiline(self, d: _Definition, text: str, parent: str) -> _Definition | None:
        cont = text.endswith("\\")
        if cont:
            text = text[:-1].rstrip(" \t") + "\n"
        if len(text) >= 2 or (text and not cont):
            d.value += text
        if parent:
            copied, own = _readings(parent)
            d.readings.append((copied, own))
            d.diverges = d.diverges or copied != own
        if not cont:
            if not d.value:
                d.multiline = False
            return None
        return d

    def _process(self, text: str) -> tuple[str | None, _Definition | None]:
        """Conditionals, definitions, ~SEQ/~LST and substitution on one line."""
        for _ in range(MAX_SUBSTITUTIONS):
            if text.startswith("@"):
                neg = text.startswith("@^")
                ofs = 2 if neg else 1
                m = re.search(r"[ \t]", text[ofs:])
                if m is None:
                    return None, None
                word = text[ofs:ofs + m.start()]
                matches = self.config_id is not None and word == self.config_id
                if matches == neg:
                    return None, None
                text = text[ofs + m.start():].lstrip(" \t")
            if text.startswith("$"):
                d = self._check_definition(text)
                if d is not None:
                    return None, (d if d.multiline else None)
            if text.startswith("~SEQ") or text.startswith("~LST"):
                if text[1] == "S":
                    ok = self._add_seq(text)
                    kind = "~SEQ"
                else:
                    ok = self._add_lst(text)
                    kind = "~LST"
                if not ok:
                    self.report(Category.GENERAL_ERROR, f"Invalid {kind} specification "
                                f"'{text}'", severity="error", keyword=kind)
                return None, None
            if text.startswith("~"):
                return text, None
            if "$" not in text:
                return text, None
            replaced = self._replace_params(text)
            if replaced is None:
                return text, None
            text = self._decomment(replaced)
            if not (text.startswith("@") or "$" in text):
                return text, None
        self.report(Category.GENERAL_ERROR, "parameter substitution does not end (a definition "
                    "refers to itself?) - line ignored", severity="error")
        return None, None

    # ----------------------------------------------------------------- definitions
    def _check_definition(self, text: str) -> _Definition | None:
        m = _DEF_RE.match(text)
        if m is None:
            return None
        name = m.group(1)
        value = text[m.end():].lstrip(" \t")
        d = _Definition("")
        if value.endswith("\\"):
            value = value[:-1].rstrip(" \t")
            d.multiline = True
            d.value = value + "\n" if value else ""
            if value:
                d.readings.append((value, value))
        else:
            d.value = value
        self._defs[name] = d
        return d

    def _find(self, s: str, pos: int) -> tuple[_Definition, int, str | None] | None:
        """The definition referenced at ``s[pos]`` (just after '$'), its end and params."""
        braces = s.startswith("{", pos)
        start = pos + 1 if braces else pos
        m = _NAME_RE.match(s, start)
        if m is None:
            return None
        name = m.group(0)
        end = m.end()
        params: str | None = None
        if braces:
            p = end
            while p < len(s) and s[p] in " 0123456789":
                p += 1
            if p < len(s) and s[p] == "}":
                raw_params = s[end:p]
                if raw_params.strip():
                    if raw_params != raw_params.rstrip(" "):
                        return None
                    params = raw_params.strip()
                end = p + 1
            else:
                return None
        elif end < len(s) and s[end] not in " \t,)":
            return None
        allow_multiline = end == len(s)
        d = self._defs.get(name)
        if d is None or (d.multiline and not allow_multiline):
            return None
        if params is not None and not d.max_params:
            return None
        return d, end, params

    def _replace_params(self, text: str, limit: int = MAXBUF) -> str | None:
        """Replace definitions in ``text`` (the result shorter than ``limit``); None when
        nothing was replaced."""
        found = False
        pos = text.find("$")
        count = 0
        pushed = len(self._stack)  # multi-line values queued from here on
        while pos != -1 and pos + 1 < len(text):
            hit = self._find(text, pos + 1)
            if hit is None:
                pos = text.find("$", pos + 1)
                continue
            count += 1
            if count > MAX_SUBSTITUTIONS:
                self.report(Category.GENERAL_ERROR, "parameter substitution does not end "
                            "(a definition refers to itself?)", severity="error")
                del self._stack[pushed:]
                return None
            d, end, params = hit
            found = True
            value = d.fn(params) if d.fn is not None else d.value
            if d.diverges:
                lines = self._by_reader(d.readings)
                value = next(lines, ("", 0))[0]
                self._stack.append(_Source("multi", lines, "", 0))
            elif d.multiline:
                first, _, rest = value.partition("\n")
                if rest:
                    self._stack.append(_Source("multi", ((part, 0) for part in
                                                         rest.rstrip("\n").split("\n")),
                                               "", 0))
                value = first
            if len(text) - (end - pos) + len(value) >= limit:
                self.report(Category.OK, f"Parameter substitution on line '{text}' would "
                            "exceed maximum line length")
                del self._stack[pushed:]
                return None
            if params is not None and len(value) < end - pos and end < len(text):
                text = self._short_parameter_value(text, pos, end, value)
            else:
                text = text[:pos] + value + text[end:]
            if value.lstrip(" \t").startswith("~"):
                break
            pos = text.find("$", pos)
        return text if found else None

    def _short_parameter_value(self, text: str, pos: int, end: int, value: str) -> str:
        """``text`` with ``${NAME params}`` at ``text[pos:end]`` replaced by the shorter
        ``value``, followed by more text, as keepalived 2.2.7 replaces it.

        keepalived shifts only the character after the closing brace down to the end of
        the value, and leaves the rest of the line where it was: what followed the value's
        length inside the ``${...}`` text stays in the line. ``smtp_helo_name ${_RANDOM 1
        1000000} x`` reads as ``smtp_helo_name 53289 DOM 1 1000000} x``: its ``}`` closes
        the block and ``x`` becomes a keyword of the level outside it. The line is read as
        keepalived reads it, and a warning shows what it became.
        """
        n = len(value)
        line = text[:pos] + value + text[end] + text[pos + n + 1:]
        self.report(Category.OK, f"'{text[pos:end]}' is followed by more text on the line, "
                    f"and its value is shorter than it: the line reads as '{line}' (keepalived "
                    "leaves part of the parameter text in the line too)")
        return line

    def _by_reader(self, readings: list[tuple[str, str]]) -> Iterator[tuple[str, int]]:
        """A multi-line definition's lines, each as the process that reads the section it
        is used in reads it (decided as each line is made, see :meth:`_as_copied`):
        keepalived's parent in global_defs (and for a line that starts with a comment
        character at the outermost level), its VRRP and checker parsers elsewhere."""
        for copied, own in readings:
            section = self.section_of()
            if self.parent_reading or section.startswith("global_defs") or (
                    section == "top" and own[:1] in "#!"):
                text = own
            else:
                text = copied
            if text:
                yield text, 0

    def _set(self, name: str, value: str) -> None:
        self._defs[name] = _Definition(value)

    # ----------------------------------------------------------------- ~SEQ / ~LST
    def _add_seq(self, text: str) -> bool:
        """``~SEQ(var, [start,] [step,] end) rest``: queue ``rest`` once per value."""
        spec = parse_seq(text, lambda args: self._replace_params(args, SEQ_PARAMS_MAX) or args)
        if isinstance(spec, str):
            if spec:
                self.report(Category.GENERAL_ERROR, spec, keyword="~SEQ")
            return False
        var, start, step, end, hexa, template = spec

        def gen() -> Iterator[tuple[str, int]]:
            v = start
            while True:
                self._set(var, format(v, "x") if hexa else str(v))
                yield template, 0
                v += step
                if (step > 0 and v > end) or (step < 0 and v < end):
                    return

        self._stack.append(_Source("seq", gen(), "", 0))
        return True

    def _add_lst(self, text: str) -> bool:
        spec = parse_lst(text[4:])
        if spec is None:
            return False
        names, value_sets, template = spec
        if any(len(vs) > len(names) for vs in value_sets):
            self.report(Category.GENERAL_ERROR, f"~LST specification has too many values "
                        f"'{text}'", severity="error", keyword="~LST")
            return False

        def gen() -> Iterator[tuple[str, int]]:
            for vs in value_sets:
                for i, name in enumerate(names):
                    self._set(name, vs[i] if i < len(vs) else "")
                yield template, 0

        self._stack.append(_Source("seq", gen(), "", 0))
        return True

    # ----------------------------------------------------------------- include
    def _check_include(self, text: str) -> bool:
        if not text.startswith("include") or len(text) < 8:
            return False
        if text[7] in " \t\f\n\r\v":
            include_type, rest = 0, text[8:]
        elif len(text) > 8 and text[8] in " \t\f\n\r\v" and text[7] in _INCLUDE_VARIANTS:
            include_type, rest = _INCLUDE_VARIANTS[text[7]], text[9:]
        else:
            return False
        self._open_glob(rest.lstrip(" \t"), include_type, self._current_dir())
        return True

    def set_include_check(self, words: list[str]) -> None:
        """``include_check [OPTIONS]``: which include problems are errors from now on."""
        if not words:
            self.include_check = INCLUDE_ALL
            return
        for i, word in enumerate(words):
            op = word[:1] if word[:1] in ("+", "-") else ""  # a word may be empty ("")
            name = word[1:] if op else word
            if not op:
                if i == 0:
                    self.include_check = 0
                else:
                    self.report(Category.GENERAL_ERROR, f"Duplicate include_check '{word}' "
                                "specified - ignoring", keyword="include_check")
                    continue
            flag = _INCLUDE_CHECK_WORDS.get(name, 0)
            if not flag:
                self.report(Category.GENERAL_ERROR, f"Unknown include_check type '{name}' - "
                            "ignoring", keyword="include_check")
                continue
            if not op:
                self.include_check = INCLUDE_R | flag
            elif op == "+":
                self.include_check |= flag
            else:
                self.include_check &= ~flag

    def _as_copied(self, text: str) -> str:
        """A decommented line as keepalived's VRRP and checker parsers read it.

        keepalived's parent reads the file once, with global_defs and the outermost level
        active, and writes every line, decommented, to a copy; the VRRP and checker
        parsers read that copy and decomment it again. A "\\#" or "\\!" the first pass
        turned into a literal "#"/"!" so starts a comment in every other section; a line
        that begins with one is a marker line of the copy (a file name or the end of an
        include) and no configuration at all there. global_defs, and such a line at the
        outermost level, keep what the parent read.
        """
        section = self.section_of()
        if self.parent_reading or section.startswith("global_defs"):
            return text
        if text[0] in "#!":
            return text if section == "top" else ""
        again, _ = decomment(text)
        return again

    def _decomment(self, text: str) -> str:
        if "\\#" in text or "\\!" in text:
            self.readings_differ = True
        result, open_quote = decomment(text)
        if open_quote:
            self.report(Category.GENERAL_ERROR, f"Unterminated quote '{text.strip()}'",
                        severity="error")
        return result

    # ----------------------------------------------------------------- braces
    def _split_plain(self, text: str, file: str, lineno: int) -> Iterator[Line]:
        """:meth:`_split_braces` for a line without quotes or anything to substitute."""
        for part in _BRACES(text):
            part = part.strip(" \t")
            if part == "{":
                self._depth += 1
            elif part == "}":
                if self._depth < 1:
                    self.diagnostics.append(Diagnostic(
                        file, lineno, "warning", "Extra '}' found: it closes no block", "}",
                        Category.UNEXPECTED_EOB))
                else:
                    self._depth -= 1
            tokens = part.split()
            if tokens:
                yield Line(tokens, part, file, lineno)

    def _split_braces(self, text: str, file: str, lineno: int) -> Iterator[Line]:
        while text:
            cut = find_brace(text)
            residue = ""
            if cut is not None:
                skip = (len(text) - len(text[1:].lstrip(" \t"))) if cut == 0 else 0
                if cut == 0:
                    residue = text[skip:].rstrip(" \t")
                    text = text[:skip]
                else:
                    residue = text[cut:].rstrip(" \t")
                    text = text[:cut]
            text = text.rstrip(" \t")
            if text == "{":
                self._depth += 1
            elif text == "}":
                if self._depth < 1:
                    self.diagnostics.append(Diagnostic(
                        file, lineno, "warning", "Extra '}' found: it closes no block", "}",
                        Category.UNEXPECTED_EOB))
                    self._depth = 0
                else:
                    self._depth -= 1
            tokens = self._tokenize(text, file, lineno)
            if tokens:
                yield Line(tokens, text, file, lineno)
            if residue:
                # keepalived feeds the rest of the line back through read_line()
                processed, multi = self._process(residue)
                if multi is not None:
                    self.report(Category.GENERAL_ERROR, "multi-line definition after a brace "
                                "is not supported", severity="error")
                if not processed or self._check_include(processed):
                    return
                text = processed
            else:
                return

    def _tokenize(self, text: str, file: str, lineno: int) -> list[str]:
        """keepalived's alloc_strvec(): blanks separate, "..." is one token."""
        if '"' not in text:
            return text.split()
        tokens: list[str] = []
        i, n = 0, len(text)
        while True:
            while i < n and text[i] in WHITE_SPACE:
                i += 1
            if i >= n:
                break
            if text[i] == '"':
                close = text.find('"', i + 1)
                if close == -1:
                    self.diagnostics.append(Diagnostic(
                        file, lineno, "warning", f"Unmatched quote: '{text}'", tokens[0]
                        if tokens else None, Category.UNMATCHED_QUOTE))
                    break
                tokens.append(text[i + 1:close])
                i = close + 1
            else:
                j = i
                while j < n and text[j] not in WHITE_SPACE and text[j] != '"':
                    j += 1
                tokens.append(text[i:j])
                i = j
        return tokens



