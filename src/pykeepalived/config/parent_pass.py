"""keepalived's parent's own reading of the configuration, where it differs.

keepalived 2.2.7 reads a configuration twice over. Its parent reads the files, with
global_defs and the outermost level's global keywords active and every other block skipped
by counting braces, and writes each line, decommented, to a copy; its VRRP and checker
parsers read that copy and decomment it again. The two readings differ only where an
escaped comment character ("\\#", "\\!") is a literal to the parent and a comment in the
copy. pykeepalived's one reading takes the parent's view in global_defs and the copy's
elsewhere (lexer.Lexer._as_copied); what it cannot see is the parent's view of the lines
around the other blocks: "} \\#" closes a vrrp_instance and leaves a keyword "#" at the
outermost level to the parent ("Unknown keyword '#'", so ``-t`` exits 5), and a
multi-line definition the parent ends at "\\ \\#" leaves its later lines at the outermost
level, and an include there is the parent's to read. So, only when an escaped comment
character was read, the configuration is read again as the parent reads it, and what the
parent alone finds (unknown keywords, include errors) is added.
"""

from __future__ import annotations

import contextlib
from functools import cache

from pykeepalived.config.blocks import Node
from pykeepalived.config.errors import Category, Diagnostic, Diagnostics
from pykeepalived.config.keywords import top_table
from pykeepalived.config.lexer import Lexer
from pykeepalived.config.model import KeepalivedConfig
from pykeepalived.config.parse_base import Ctx, MissingParameter, Table
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.config.walk import walk


def _skipped(_ctx: Ctx, _node: Node) -> None:
    """A block the parent does not read (its keyword is inactive there)."""
    return None


@cache
def parent_table() -> Table:
    """The outermost level as keepalived's parent sees it: global_defs and the global
    keywords as they are, every other block skipped."""
    t = Table("top")
    for name, kw in top_table().keywords.items():
        if name == "global_defs" or kw.block is None:
            t.keywords[name] = kw
        else:
            t.add(name, block="sub", sub=Table(name), enter=_skipped)
    return t


# what the parent's reading decides: keywords it finds unknown, and includes (only the
# parent reads them: its copy holds what they include, and a blank line for the include)
_PARENT_CATEGORIES = (Category.UNKNOWN_KEYWORD, Category.FILE_NOT_FOUND)


def parent_only(path: str, config_id: str | None, system: SystemInfo,
                known: list[Diagnostic]) -> tuple[list[Diagnostic], bool]:
    """What keepalived's parent reports reading ``path`` that is not among ``known`` (the
    diagnostics of pykeepalived's own reading): unknown keywords and include errors; and
    whether an include error stops the configuration (``-t`` exits 6)."""
    found = Diagnostics()
    lexer = Lexer(config_id, diagnostics=found, parent_reading=True)
    ctx = Ctx(KeepalivedConfig(), system, diagnostics=found, reader=lexer, count_uses=False)
    lexer.section_of = lambda: ctx.section
    if not lexer.open_main(path):
        return [], False
    ctx.config.files = lexer.files
    lines = lexer.statements()
    # what stops the configuration, pykeepalived's own reading reports; the parent reads
    # on to the end (its includes) all the same
    with contextlib.suppress(MissingParameter):
        walk(ctx, parent_table(), lines)
    for _ in lines:
        pass
    seen = {(d.file, d.line, d.message) for d in known}
    return [d for d in found if d.category in _PARENT_CATEGORIES
            and (d.file, d.line, d.message) not in seen], lexer.file_error
