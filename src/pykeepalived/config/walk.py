"""Running the keyword tables over the lexer's lines, one statement at a time.

keepalived reads a statement and runs its handler before it reads the next line
(lib/parser.c, ``process_stream``), so what it holds at any moment is the model and the
line at hand. This walker does the same: it keeps a stack of the blocks it is inside
(never recursion, so nesting depth is only a list's length) and holds whole only the
value blocks (``virtual_ipaddress { ... }``) whose handlers read all their lines at once.
A million generated lines cost a million handler calls, not a million nodes in memory.

The behaviour is that of grouping the lines into blocks first (blocks.build_tree) and
then walking the tree: a statement followed by ``{`` owns the block up to its ``}``; a
``{`` that follows no statement is reported and what it encloses belongs to the level it
is in; a ``}`` closing nothing is looked up as a keyword of the outermost level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pykeepalived.config.blocks import CLOSE, OPEN, Node, build_tree
from pykeepalived.config.errors import Category
from pykeepalived.config.parse_base import Ctx, Keyword, Table

# what the lines of a block are for
_TABLE = 0  # statements of a keyword table ("sub" blocks, the outermost level)
_STRAY = 1  # the inside of a "{" that follows nothing: statements of the enclosing table
_VALUES = 2  # a value block, gathered whole for its handler
_SKIP = 3  # a block that is ignored (unknown keyword, unexpected block, refused section)


@dataclass(slots=True)
class _Frame:
    kind: int
    table: Table
    node: Node | None = None  # the statement that opened the block
    kw: Keyword | None = None
    target: Any = None  # what a "sub" block configures
    lines: list[Node] | None = None  # a value block's lines so far
    depth: int = 0  # braces open inside a gathered or skipped block
    section: str = ""  # a "sub" block: the section outside it, restored at its end


def walk(ctx: Ctx, table: Table, lines: Iterable[Node]) -> None:
    """Run ``table`` (and the tables it leads to) over ``lines``, in order."""
    frame = _Frame(_TABLE, table)
    stack: list[_Frame] = []
    pending: Node | None = None  # a statement that may still be followed by "{"
    for node in lines:
        tokens = node.tokens
        if frame.kind >= _VALUES:
            if tokens == OPEN:
                frame.depth += 1
            elif tokens == CLOSE:
                if not frame.depth:
                    _end(ctx, frame, closed=True)
                    frame = stack.pop()
                    continue
                frame.depth -= 1
            if frame.lines is not None:
                frame.lines.append(node)
            continue
        if tokens == OPEN:
            stack.append(frame)
            if pending is not None:
                frame = _open(ctx, frame.table, pending)
                pending = None
            else:
                node.stray_open = True
                ctx.error(node, "Unexpected '{' - ignoring: it does not follow a keyword that "
                          "takes a block", Category.UNEXPECTED_BOB)
                frame = _Frame(_STRAY, frame.table)
            continue
        if pending is not None:
            statement(ctx, frame.table, pending)
            pending = None
        if tokens == CLOSE:
            if stack:
                _end(ctx, frame, closed=True)
                frame = stack.pop()
            else:
                statement(ctx, frame.table, node)
            continue
        pending = node
    if pending is not None:
        statement(ctx, frame.table, pending)
    while stack:
        _end(ctx, frame, closed=False)
        frame = stack.pop()


def statement(ctx: Ctx, table: Table, node: Node) -> None:
    """A statement without a block."""
    kw = table.keywords.get(node.tokens[0])
    if kw is None:
        _unknown(ctx, table, node, "")
        return
    ctx.record_use(node)
    if kw.block is not None:
        _extra_words(ctx, kw, node)
        ctx.error(node, f"Missing '{{' at beginning of configuration block '{node.keyword}'",
                  Category.MISSING_BOB)
        if kw.block == "sub":
            target = kw.enter(ctx, node) if kw.enter is not None else ctx.current
            if target is None:
                return
            ctx.stack.append(ctx.current)
            ctx.current = target
            if kw.handler is not None:
                kw.handler(ctx, node)
            if kw.close is not None:
                kw.close(ctx, node, target)
            ctx.current = ctx.stack.pop()
            return
    if kw.handler is not None:
        kw.handler(ctx, node)


def _extra_words(ctx: Ctx, kw: Keyword, node: Node) -> None:
    """keepalived's alloc_value_block(): a value block's keyword stands alone."""
    if kw.block == "values" and not kw.named and len(node.tokens) > 1:
        ctx.error(node, f"Block {node.keyword} has extra parameters {node.tokens[1]} ...")


def _unknown(ctx: Ctx, table: Table, node: Node, hint: str) -> None:
    where = "" if table.name == "top" else f" in {table.name}"
    word = node.keyword if len(node.keyword) <= 64 else node.keyword[:60] + "..."
    ctx.warn(node, f"Unknown keyword '{word}'{where}{hint}", Category.UNKNOWN_KEYWORD)


def _open(ctx: Ctx, table: Table, node: Node) -> _Frame:
    """A statement followed by "{": run what runs at the start of its block."""
    kw = table.keywords.get(node.tokens[0])
    if kw is None:
        _unknown(ctx, table, node, " (and its block, skipped)")
        return _Frame(_SKIP, table, node)
    ctx.record_use(node)
    if kw.block is None:
        ctx.error(node, f"Unexpected '{{' after '{node.keyword}': it takes no block - the "
                  "block is ignored", Category.UNEXPECTED_BOB)
        node.block = []
        if kw.handler is not None:
            kw.handler(ctx, node)
        return _Frame(_SKIP, table, node)
    if kw.block != "sub" or kw.sub is None:
        _extra_words(ctx, kw, node)
        return _Frame(_VALUES, table, node, kw, lines=[])
    target = kw.enter(ctx, node) if kw.enter is not None else ctx.current
    if target is None:
        return _Frame(_SKIP, table, node, kw)
    ctx.stack.append(ctx.current)
    ctx.current = target
    if kw.handler is not None:
        kw.handler(ctx, node)
    outer = ctx.section
    ctx.section = kw.name if outer == "top" else f"{outer}/{kw.name}"
    return _Frame(_TABLE, kw.sub, node, kw, target, section=outer)


def _end(ctx: Ctx, frame: _Frame, *, closed: bool) -> None:
    """The end of a block: its "}" (``closed``) or the end of the configuration."""
    node, kw = frame.node, frame.kw
    if node is None or kw is None:
        return  # a stray "{", or a block nothing reads
    if not closed and kw.block is not None:
        node.closed = False
        ctx.error(node, f"block '{node.keyword}' is not closed: a '}}' is missing before the "
                  "end of the configuration", Category.MISSING_EOB)
    if frame.kind == _VALUES:
        node.block = build_tree(frame.lines or [])
        if kw.handler is not None:
            kw.handler(ctx, node)
    elif frame.kind == _TABLE:
        ctx.section = frame.section
        if kw.close is not None:
            kw.close(ctx, node, frame.target)
        ctx.current = ctx.stack.pop()
