"""The machinery of the keyword tables: context, value readers, scripts, dispatch.

keepalived's grammar is a table: each keyword is registered with a handler and, for a
block keyword, a sub-table (``install_keyword`` in lib/parser.c). We keep that shape:
a :class:`Table` maps keyword -> :class:`Keyword`, and walk.py runs the tables over the
lexer's lines. Value readers reproduce keepalived's number checks (``read_unsigned``,
``read_int``, ``read_decimal_unsigned``, ``check_true_false``) so that what keepalived
rejects is rejected here, with the same category.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import field
from typing import Any, Protocol, TypeVar

from pykeepalived.config.blocks import Node, flatten
from pykeepalived.config.errors import Category, Diagnostic, Severity
from pykeepalived.config.model import KeepalivedConfig
from pykeepalived.config.model_base import model
from pykeepalived.config.model_common import KeywordUse, Location, NotifyScript, ScriptUser
from pykeepalived.config.numbers import c_strtol, scaled_decimal
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.notify.split import ScriptSyntaxError, split_script

TIMER_HZ_DIGITS = 6
UINT_MAX = 2**32 - 1
INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
T = TypeVar("T")


_SIGNED_DIGITS = re.compile(r"\+?[0-9]*").fullmatch
_DIGITS = re.compile(r"[0-9]*").fullmatch


class MissingParameter(Exception):
    """keepalived exits (status 2) when a keyword lacks a parameter it needs."""


class Reader(Protocol):
    """What the global_defs keywords that steer the reading of later lines act on.

    keepalived runs a keyword's handler before it reads the next line, and two handlers
    change that reading: ``include_check`` (which include problems stop the
    configuration) and ``random_seed`` (for ``${_RANDOM}``). They act when the keyword
    table that holds them runs them (in global_defs, never in a value block or another
    section, where the same word is unknown or a value), so they reach the lexer here.
    """

    def set_include_check(self, words: list[str]) -> None: ...

    def seed(self, value: int) -> None: ...


@model(slots=False)
class Ctx:
    """State shared by the handlers while one configuration is turned into the model."""

    config: KeepalivedConfig
    system: SystemInfo
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # values keepalived's parser consults while reading
    script_security: bool = False
    current: Any = None  # the object the block being read configures
    stack: list[Any] = field(default_factory=list)
    scratch: dict[str, Any] = field(default_factory=dict)  # handlers' working state
    # the block keywords enclosing the line being read, outermost first: "top",
    # "vrrp_instance", "virtual_server/real_server/HTTP_GET" (the keys of config.support)
    section: str = "top"
    # (section, keyword) -> where it was first used and how often (walk.statement counts)
    uses: dict[tuple[str, str], KeywordUse] = field(default_factory=dict)
    count_uses: bool = True  # False: ``uses`` stays empty (nothing will read it)
    reader: Reader | None = None  # the lexer making the lines, when there is one

    def system_tables(self) -> set[str]:
        return self.system.route_tables()

    def report(self, node: Node | Location | None, category: Category, message: str, *,
               severity: Severity = "warning", keyword: str | None = None) -> None:
        if node is None:
            file, line = (self.config.files[0] if self.config.files else "<config>"), 0
        else:
            file, line = node.file, node.line
        if keyword is None and isinstance(node, Node) and node.tokens:
            keyword = node.tokens[0]
        self.diagnostics.append(Diagnostic(file, line, severity, message, keyword, category))

    def error(self, node: Node | Location | None, message: str,
              category: Category = Category.GENERAL_ERROR, *, fatal: bool = False) -> None:
        """Something keepalived reports as a configuration error.

        keepalived still runs most such configurations (it ignores or corrects the value),
        so the diagnostic is a warning unless keepalived cannot run it at all: a missing
        interface or file, a fatal category, or ``fatal`` (keepalived's VRRP process stops).
        """
        severe = fatal or category in (Category.FILE_NOT_FOUND, Category.BAD_IF,
                                       Category.FATAL, Category.MISSING_PARAMETER)
        self.report(node, category, message, severity="error" if severe else "warning")

    def warn(self, node: Node | Location | None, message: str,
             category: Category = Category.GENERAL_ERROR) -> None:
        self.report(node, category, message, severity="warning")

    # ------------------------------------------------------------ parameters
    def arg(self, node: Node, index: int) -> str:
        """Token ``index`` of the line; a missing one ends the load like keepalived does."""
        if index < len(node.tokens):
            return node.tokens[index]
        self.report(node, Category.MISSING_PARAMETER,
                    f"'{node.tokens[0]}' needs a parameter (word {index + 1} is missing); "
                    "keepalived stops reading the configuration here", severity="error")
        raise MissingParameter(node.tokens[0])

    def want(self, node: Node, index: int = 1) -> str | None:
        """Token ``index``, or None with a "missing - ignoring" diagnostic (for keywords
        whose keepalived handler checks the line length itself instead of stopping)."""
        if index < len(node.tokens):
            return node.tokens[index]
        self.error(node, f"'{node.tokens[0]}' is missing its value - ignoring")
        return None

    def read_unsigned(self, node: Node, index: int, lo: int, hi: int) -> int | None:
        return self.read_number(node, self.arg(node, index), lo, hi, signed=False)

    def read_int(self, node: Node, index: int, lo: int, hi: int) -> int | None:
        return self.read_number(node, self.arg(node, index), lo, hi, signed=True)

    def read_number(self, node: Node, text: str, lo: int, hi: int, *, signed: bool,
                    base: int = 10) -> int | None:
        """keepalived's read_int/read_unsigned: the value, or None with a diagnostic."""
        if len(text) < 10 and text.isdigit() and text.isascii() and lo <= int(text) <= hi:
            return int(text)  # the common case: a few digits, in every C range
        s = text.lstrip(" \t\n\r\f\v") if not signed else text
        if not signed and s.startswith("-"):
            self.error(node, f"negative number '{text}' for '{node.keyword}'",
                       Category.INVALID_NUMBER)
            return None
        # C's strtol converts nothing in "" and leaves nothing over: keepalived reads 0
        value = c_strtol(s, base) if s else 0
        if value is None:
            self.error(node, f"invalid number '{text}' for '{node.keyword}'",
                       Category.INVALID_NUMBER)
            return None
        limit_lo, limit_hi = (INT_MIN, INT_MAX) if signed else (0, UINT_MAX)
        if not limit_lo <= value <= limit_hi:
            self.error(node, f"number '{text}' outside {'integer' if signed else 'unsigned'} "
                       f"range for '{node.keyword}'", Category.INVALID_NUMBER)
            return None
        if not lo <= value <= hi:
            self.error(node, f"number '{text}' outside range [{lo}, {hi}] for "
                       f"'{node.keyword}'", Category.INVALID_NUMBER)
            return None
        return value

    def read_decimal(self, node: Node, index: int, lo: float, hi: float,
                     digits: int = TIMER_HZ_DIGITS) -> float | None:
        """keepalived's read_decimal_unsigned: a non-negative decimal with ``digits`` places."""
        text = self.arg(node, index)
        value: float | None = self.decimal_value(node, text, lo, hi, digits)
        return value

    def decimal_value(self, node: Node, text: str, lo: float, hi: float,
                      digits: int = TIMER_HZ_DIGITS) -> float | None:
        if len(text) < 10 and text.isdigit() and text.isascii() and lo <= int(text) <= hi:
            return float(text)  # the common case: a whole number in range
        if text.startswith("-"):
            self.error(node, f"negative number '{text}' for '{node.keyword}'",
                       Category.INVALID_NUMBER)
            return None
        intpart, dot, frac = text.partition(".")
        if len(frac) > digits:
            self.error(node, f"number '{text}' has too many decimal places for "
                       f"'{node.keyword}'", Category.INVALID_NUMBER)
            return None
        if not _SIGNED_DIGITS(intpart) or not _DIGITS(frac) \
                or not (intpart.lstrip("+") or frac) or (dot and not intpart and not frac):
            self.error(node, f"invalid number '{text}' for '{node.keyword}'",
                       Category.INVALID_NUMBER)
            return None
        value = scaled_decimal(intpart.lstrip("+"), frac, digits) / 10.0**digits
        if not lo <= value <= hi:
            self.error(node, f"number '{text}' outside range [{lo:g}, {hi:g}] for "
                       f"'{node.keyword}'", Category.INVALID_NUMBER)
            return None
        return value

    def read_bool(self, node: Node, index: int = 1, default: bool = True) -> bool | None:
        """``keyword [<BOOL>]``: on|off|true|false|yes|no, absent = ``default``."""
        if len(node.tokens) <= index:
            return default
        value = check_true_false(node.tokens[index])
        if value is None:
            self.error(node, f"invalid value '{node.tokens[index]}' for '{node.keyword}': "
                       "expected on|off|true|false|yes|no")
        return value

    # ------------------------------------------------------------ scripts
    def script(self, node: Node, start: int = 1) -> NotifyScript | None:
        """``keyword SCRIPT [username [groupname]]`` as keepalived's notify_script_init().

        The line is re-read with shell-like quoting (keepalived's
        alloc_strvec_quoted_escaped), the script is word ``start`` and is itself split into
        its arguments; the next words are the user and group.
        """
        words = split_quoted_escaped(node.text)
        if words is None:
            # keepalived's notify_script_init cannot re-read the line: no script, no exit
            self.error(node, f"cannot parse the script of '{node.keyword}' (a quote is not "
                       "closed, or an escape ends the line) - ignoring",
                       Category.UNMATCHED_QUOTE)
            return None
        if len(words) <= start:
            if len(node.tokens) <= start:
                self.arg(node, start)
            self.error(node, f"cannot parse the script of '{node.keyword}' - ignoring")
            return None
        argv = split_quoted_escaped(words[start])
        if not argv:
            self.error(node, f"cannot parse script '{words[start]}' - ignoring")
            return None
        user: ScriptUser | None = None
        if len(words) > start + 1:
            user = ScriptUser(words[start + 1], words[start + 2] if len(words) > start + 2
                              else None)
            if not self.system.user_exists(user.user) or (
                    user.group is not None and not self.system.group_exists(user.group)):
                self.report(node, Category.OK, f"Invalid user/group for {node.keyword} script "
                            f"{argv[0]} - ignoring")
                return None
        elif not self.default_script_user(node):
            return None
        return NotifyScript(words[start], argv, user, Location(node.file, node.line))

    def default_script_user(self, node: Node) -> bool:
        """keepalived runs scripts as keepalived_script when that user exists, else as us;
        with script security on and no such user it refuses (get_default_script_user)."""
        if self.system.user_exists("keepalived_script"):
            return True
        user = self.config.global_defs.script_user
        if user is not None:
            return True
        if self.script_security:
            self.error(node, "Unable to set default user keepalived_script for script "
                       "(no such user; set script_user in global_defs or a user on the line)")
            return False
        return True


def check_true_false(text: str) -> bool | None:
    if text in ("true", "on", "yes"):
        return True
    if text in ("false", "off", "no"):
        return False
    return None


def split_quoted_escaped(src: str) -> list[str] | None:
    """keepalived's alloc_strvec_quoted_escaped(): shell-like words, None when unsplittable.

    The one implementation lives with the script runner (``notify.split.split_script``), so
    that what ``-t`` checks is exactly how the daemon will run the script.
    """
    if not src.strip():
        return []
    try:
        return split_script(src)
    except ScriptSyntaxError:
        return None


# ---------------------------------------------------------------- the keyword table
Handler = Callable[[Ctx, Node], None]


@model
class Keyword:
    """One entry of a keyword table.

    ``block`` says what may follow: None (a plain line; a block is "unexpected"),
    "sub" (a block of keywords from ``sub``), "values" (a block of value lines the
    handler reads itself), "optional" (a value block that may be absent).
    ``enter`` runs before a "sub" block is read and returns the object it configures
    (None skips the block); ``close`` runs after it. ``named``: a "values" keyword whose
    line carries words of its own (``virtual_server_group NAME``); for the others keepalived
    reports any word after the keyword ("Block ... has extra parameters").
    ``detached`` makes the object that the lines of a refused block configure when its
    ``{`` is missing: keepalived skips a refused block only from its ``{``; without one
    it reads the lines up to the next ``}`` with the block's keywords all the same, and
    its handlers act on the previous object of the kind (or, when there is none, on
    memory that is no object: undefined). Here they configure a copy of that object,
    which is not kept and not closed. Without ``detached`` the lines are read at the
    level outside.
    """

    name: str
    handler: Handler | None = None
    block: str | None = None
    sub: Table | None = None
    enter: Callable[[Ctx, Node], Any] | None = None
    close: Callable[[Ctx, Node, Any], None] | None = None
    named: bool = False
    detached: Callable[[Ctx, Node], Any] | None = None


class Table:
    """keyword -> :class:`Keyword`, in registration order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.keywords: dict[str, Keyword] = {}

    def add(self, name: str, handler: Handler | None = None, *, block: str | None = None,
            sub: Table | None = None, enter: Callable[[Ctx, Node], Any] | None = None,
            close: Callable[[Ctx, Node, Any], None] | None = None,
            named: bool = False, detached: Callable[[Ctx, Node], Any] | None = None) -> None:
        self.keywords[name] = Keyword(name, handler, block, sub, enter, close, named,
                                      detached)

    def __contains__(self, name: str) -> bool:
        return name in self.keywords


def detached_copy(objects: dict[str, T], fresh: Callable[[], T]) -> T:
    """A copy of the last object defined of a kind (or ``fresh()`` when there is none),
    for the lines of a refused block (see :class:`Keyword`, ``detached``)."""
    if objects:
        return copy.deepcopy(next(reversed(objects.values())))
    return fresh()


def value_lines(node: Node) -> list[Node]:
    """The lines of a value block (``virtual_ipaddress { ... }``), nested blocks flattened."""
    return flatten(node.block) if node.block else []


def value_words(node: Node) -> list[str]:
    """Every word of a value block (keepalived's read_value_block)."""
    return [tok for child in value_lines(node) for tok in child.tokens]
