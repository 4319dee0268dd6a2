"""Running the keyword tables over the lexer's lines, one statement at a time.

keepalived reads a statement and runs its handler before it reads the next line
(lib/parser.c, ``process_stream``), so what it holds at any moment is the model and the
line at hand. This walker does the same: it keeps a stack of the blocks it is inside
(never recursion, so nesting depth is only a list's length) and holds whole only the
value blocks (``virtual_ipaddress { ... }``) whose handlers read all their lines at once.
A million generated lines cost a million handler calls, not a million nodes in memory.

Braces mean what they mean to keepalived 2.2.7 (the lexer has put each on a line of its
own, as keepalived's read_line does, but for the ``{`` that ends a statement's line: that
statement comes as one line, ``braced``, read as the statement and then a ``{`` line):

* only a keyword that takes a block (a keyword table, or a value block) opens one, and it
  expects ``{`` as its next line; anything else is "Missing '{'" and is read as the first
  line of the block all the same (a value block only logs that);
* any other ``{`` is "Unexpected '{' - ignoring" and opens nothing, whether it follows
  nothing, a keyword without a block or an unknown keyword: the lines after it belong to
  the block it appeared in, and the next ``}`` closes that block;
* a value block ends at its first ``}``: a ``{`` inside it is one of its values;
* a ``}`` with no block open is looked up as a keyword ("Unknown keyword '}'");
* a block a handler refuses (``enter`` gives None) is skipped by counting braces, as
  keepalived's skip_block() does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pykeepalived.config.blocks import CLOSE, OPEN, Node, brace_of
from pykeepalived.config.errors import Category
from pykeepalived.config.model_base import model
from pykeepalived.config.model_common import KeywordUse, Location
from pykeepalived.config.parse_base import Ctx, Keyword, Table

# what the lines of a block are for
_TABLE = 0  # statements of a keyword table ("sub" blocks, the outermost level)
_VALUES = 1  # a value block, gathered whole for its handler
_SKIP = 2  # a block that is skipped (a refused section), braces counted


@model
class _Frame:
    """A block the walker is inside, and what its lines are for."""

    kind: int
    table: Table
    node: Node | None = None  # the statement that opened the block
    kw: Keyword | None = None
    target: Any = None  # what a "sub" block configures
    lines: list[Node] | None = None  # a value block's lines so far
    depth: int = 0  # braces open inside a skipped block
    need_bob: bool = False  # the block's "{" has not been read yet
    section: str = ""  # a "sub" block: the section outside it, restored at its end
    detached: bool = False  # a refused block read all the same (see _read_detached)


def walk(ctx: Ctx, table: Table, lines: Iterable[Node]) -> None:
    """Run ``table`` (and the tables it leads to) over ``lines``, in order.

    A ``braced`` line is read as its statement followed by a ``{`` line. The commonest
    lines (those of a keyword table or a value block whose ``{`` has been read) are read
    here, by the rules of :func:`_step`, which reads all the others.
    """
    frame = _Frame(_TABLE, table)
    stack: list[_Frame] = []
    for node in lines:
        kind = frame.kind
        if frame.need_bob or kind == _SKIP:
            frame = _step(ctx, frame, stack, node)
            if node.braced:
                frame = _step(ctx, frame, stack, brace_of(node))
            continue
        tokens = node.tokens
        if kind == _VALUES:
            if tokens == CLOSE:
                _end(ctx, frame, closed=True)
                frame = stack.pop()
            else:
                values = frame.lines
                assert values is not None
                values.append(node)
                if node.braced:
                    values.append(brace_of(node))
            continue
        if tokens == CLOSE and stack:
            _end(ctx, frame, closed=True)
            frame = stack.pop()
            continue
        if tokens == OPEN:
            _unexpected_open(ctx, node)
            continue
        opened = statement(ctx, frame.table, node)
        if opened is None:
            if node.braced:
                _unexpected_open(ctx, brace_of(node))
            continue
        stack.append(frame)
        frame = opened
        if node.braced:
            frame.need_bob = False  # its "{" opens the block
            if frame.kind == _SKIP:
                frame.depth = 1
    while stack:
        _end(ctx, frame, closed=False)
        frame = stack.pop()


def _step(ctx: Ctx, frame: _Frame, stack: list[_Frame], node: Node) -> _Frame:
    """One line (without a ``braced`` line's brace: the caller reads that next) in
    ``frame``, the block the walker is in, whose enclosing blocks are ``stack``; returns
    the block the walker is in after it."""
    tokens = node.tokens
    kind = frame.kind
    if kind == _VALUES:
        if frame.need_bob:
            frame.need_bob = False
            if tokens == OPEN:
                return frame
            assert frame.node is not None
            frame.node.opened = False
            ctx.report(frame.node, Category.OK, f"'{{' missing from beginning of block "
                       f"{frame.node.keyword}")
        if tokens == CLOSE:
            _end(ctx, frame, closed=True)
            return stack.pop()
        assert frame.lines is not None
        frame.lines.append(node)
        return frame
    if kind == _SKIP:
        if not frame.need_bob:
            frame.depth += (tokens == OPEN) - (tokens == CLOSE)
            if frame.depth == 0:
                return stack.pop()
            return frame
        frame.need_bob = False
        if tokens == OPEN:
            frame.depth = 1
            return frame
        if frame.kw is None or frame.kw.detached is None:
            frame = stack.pop()  # nothing to skip: the line belongs to the level outside
        else:
            _read_detached(ctx, frame)
    if frame.need_bob:
        frame.need_bob = False
        if tokens == OPEN:
            return frame
        assert frame.node is not None
        ctx.error(frame.node, f"Missing '{{' at beginning of configuration block "
                  f"'{frame.node.keyword}'", Category.MISSING_BOB)
    elif tokens == OPEN:
        _unexpected_open(ctx, node)
        return frame
    if tokens == CLOSE and stack:
        _end(ctx, frame, closed=True)
        return stack.pop()
    opened = statement(ctx, frame.table, node)
    if opened is not None:
        stack.append(frame)
        return opened
    return frame


def _unexpected_open(ctx: Ctx, node: Node) -> None:
    ctx.error(node, "Unexpected '{' - ignoring: it does not follow a keyword that "
              "takes a block", Category.UNEXPECTED_BOB)


def statement(ctx: Ctx, table: Table, node: Node) -> _Frame | None:
    """One statement: run its handler; return the block it opens, if it takes one."""
    word = node.tokens[0]
    kw = table.keywords.get(word)
    if kw is None:
        _unknown(ctx, table, node)
        return None
    if ctx.count_uses:
        # one more use of the keyword in this section (config.support reports them)
        key = (ctx.section, word)
        use = ctx.uses.get(key)
        if use is None:
            ctx.uses[key] = KeywordUse(Location(node.file, node.line))
        else:
            use.count += 1
    if kw.block is None:
        if kw.handler is not None:
            kw.handler(ctx, node)
        return None
    if kw.block != "sub" or kw.sub is None:
        _extra_words(ctx, kw, node)
        return _Frame(_VALUES, table, node, kw, None, [], 0, True)
    target = kw.enter(ctx, node) if kw.enter is not None else ctx.current
    if target is None:
        return _Frame(_SKIP, table, node, kw, None, None, 0, True)
    ctx.stack.append(ctx.current)
    ctx.current = target
    if kw.handler is not None:
        kw.handler(ctx, node)
    outer = ctx.section
    ctx.section = kw.name if outer == "top" else f"{outer}/{kw.name}"
    # (positional: this runs for every block, and keywords cost more to pass)
    return _Frame(_TABLE, kw.sub, node, kw, target, None, 0, True, outer)


def _read_detached(ctx: Ctx, frame: _Frame) -> None:
    """A refused block whose '{' is missing: keepalived stops skipping at the first line
    that is not '{' and reads the lines with the block's keywords up to the next '}'
    (see :class:`Keyword`, ``detached``); ``frame`` becomes that block, configuring an
    object that is not kept."""
    node, kw = frame.node, frame.kw
    assert node is not None and kw is not None and kw.detached is not None and kw.sub
    ctx.error(node, f"Missing '{{' at beginning of configuration block '{node.keyword}'",
              Category.MISSING_BOB)
    frame.kind, frame.table, frame.target = _TABLE, kw.sub, kw.detached(ctx, node)
    frame.detached = True
    ctx.stack.append(ctx.current)
    ctx.current = frame.target
    frame.section = ctx.section
    ctx.section = kw.name if frame.section == "top" else f"{frame.section}/{kw.name}"


def _extra_words(ctx: Ctx, kw: Keyword, node: Node) -> None:
    """keepalived's alloc_value_block(): a value block's keyword stands alone."""
    if kw.block == "values" and not kw.named and len(node.tokens) > 1:
        ctx.error(node, f"Block {node.keyword} has extra parameters {node.tokens[1]} ...")


def _unknown(ctx: Ctx, table: Table, node: Node) -> None:
    where = "" if table.name == "top" else f" in {table.name}"
    word = node.keyword if len(node.keyword) <= 64 else node.keyword[:60] + "..."
    ctx.warn(node, f"Unknown keyword '{word}'{where}", Category.UNKNOWN_KEYWORD)


def _end(ctx: Ctx, frame: _Frame, *, closed: bool) -> None:
    """The end of a block: its "}" (``closed``) or the end of the configuration."""
    node, kw = frame.node, frame.kw
    if node is None or kw is None:
        return  # the outermost level
    if not closed and kw.block is not None:
        node.closed = False
        ctx.error(node, f"block '{node.keyword}' is not closed: a '}}' is missing before the "
                  "end of the configuration", Category.MISSING_EOB)
    if frame.kind == _VALUES:
        node.block = frame.lines or []
        if kw.handler is not None:
            kw.handler(ctx, node)
    elif frame.kind == _TABLE:
        ctx.section = frame.section
        if kw.close is not None and not frame.detached:
            kw.close(ctx, node, frame.target)
        ctx.current = ctx.stack.pop()
