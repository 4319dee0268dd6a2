"""Statements and blocks: the logical lines of the lexer grouped by ``{ ... }``.

The lexer has already put every brace on a line of its own, so the grouping is purely
syntactic: a statement followed by a ``{`` line owns everything up to the matching ``}``.
Whether a keyword *may* have a block is the keyword tables' business (keywords.py); that
keeps this step small and lets the tables report "missing '{'" or "unexpected '{'" with
the keyword named.

Everything here is iterative (an explicit stack, never recursion), so that any depth of
nesting an operator or a fuzzer writes is only a long list, not a RecursionError.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pykeepalived.config.model_base import model


@model
class Node:
    """A statement: its tokens, where it is, and its block (None when it has no block).

    The lexer produces these (one per logical line, ``block`` None); grouping fills in
    ``block`` for a statement followed by ``{``.
    """

    tokens: list[str]
    text: str  # the line after comments, conditionals and substitution (keepalived's buf)
    file: str
    line: int
    # the line ended with the "{" of its block ("vrrp_instance VI_1 {"): to the walker,
    # this statement and then a "{" line (brace_of). keepalived's read_line puts every
    # brace on a line of its own; the lexer hands the commonest case over as one line,
    # which saves making and walking a line for every block. (A flag, not a subclass:
    # the interpreter's attribute caches are per class, and two classes of line made
    # every place that reads lines slower.)
    braced: bool = False
    block: list[Node] | None = None
    stray_open: bool = False  # a "{" that follows nothing (keepalived: "Unexpected '{'")
    closed: bool = True  # False when the file ended inside this block
    opened: bool = True  # False when the line after it was not the block's "{"

    @property
    def keyword(self) -> str:
        return self.tokens[0]

    @property
    def args(self) -> list[str]:
        return self.tokens[1:]

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


OPEN = ["{"]
CLOSE = ["}"]


def brace_of(line: Node) -> Node:
    """The ``{`` line that a ``braced`` line ends with, where its brace was."""
    return Node(["{"], "{", line.file, line.line)


def build_tree(lines: Iterable[Node]) -> list[Node]:
    """Group lines into the statements of one level (and their blocks, nested).

    A ``{`` that follows no statement is kept as a ``stray_open`` node and what it
    encloses belongs to the level it appears in; a ``}`` closing nothing stays a statement
    of the outermost level (keepalived looks it up as a keyword: "Unknown keyword").
    """
    return list(iter_tree(lines))


def iter_tree(lines: Iterable[Node]) -> Iterator[Node]:
    """:func:`build_tree` as a stream of outermost statements, each yielded when complete."""
    top: list[Node] = []
    # each level: the list its statements go to, and the node whose block it is (None for
    # the outermost level and for the inside of a stray "{", which adds to its level)
    levels: list[tuple[list[Node], Node | None]] = []
    out = top
    pending: Node | None = None  # a statement that may still be followed by "{"
    for node in lines:
        tokens = node.tokens
        if tokens == OPEN:
            if pending is not None:
                pending.block = []
                levels.append((out, pending))
                out = pending.block
                pending = None
            else:
                node.stray_open = True
                out.append(node)
                levels.append((out, None))
            continue
        if pending is not None:
            out.append(pending)
            pending = None
        if tokens == CLOSE and levels:
            out, owner = levels.pop()
            if owner is not None:
                out.append(owner)
        else:
            pending = node
        if not levels and top:
            yield from top
            top.clear()
    if pending is not None:
        out.append(pending)
    while levels:
        out, owner = levels.pop()
        if owner is not None:
            owner.closed = False
            out.append(owner)
    yield from top


def flatten(nodes: list[Node]) -> list[Node]:
    """A value block's lines in order, nested blocks flattened, stray "{" left out."""
    out: list[Node] = []
    stack: list[Iterator[Node]] = [iter(nodes)]
    while stack:
        for child in stack[-1]:
            if child.stray_open:
                continue
            out.append(child)
            if child.block:
                stack.append(iter(child.block))
                break
        else:
            stack.pop()
    return out
