"""The block tree: logical lines grouped into statements with optional ``{ ... }`` blocks.

The lexer has already put every brace on a line of its own, so the grouping is purely
syntactic: a statement followed by a ``{`` line owns everything up to the matching ``}``.
Whether a keyword *may* have a block is the keyword tables' business (keywords.py); that
keeps this step small and lets the tables report "missing '{'" or "unexpected '{'" with
the keyword named.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pykeepalived.config.lexer import Line


@dataclass(slots=True)
class Node:
    """A statement: its tokens, where it is, and its block (None when it has no block)."""

    tokens: list[str]
    text: str
    file: str
    line: int
    block: list[Node] | None = None
    stray_open: bool = False  # a "{" that follows nothing (keepalived: "Unexpected '{'")
    closed: bool = True  # False when the file ended inside this block

    @property
    def keyword(self) -> str:
        return self.tokens[0]

    @property
    def args(self) -> list[str]:
        return self.tokens[1:]

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(slots=True)
class _Cursor:
    lines: list[Line]
    pos: int = 0


def build_tree(lines: Iterable[Line]) -> list[Node]:
    """Group lines into the top-level statements of the configuration."""
    cur = _Cursor(list(lines))
    nodes, _closed = _block(cur, 0)
    return nodes


def _block(cur: _Cursor, depth: int) -> tuple[list[Node], bool]:
    """Statements up to the "}" closing this level; the flag is False if the input ended."""
    nodes: list[Node] = []
    lines = cur.lines
    n = len(lines)
    while cur.pos < n:
        line = lines[cur.pos]
        cur.pos += 1
        tokens = line.tokens
        if tokens == ["}"]:
            if depth > 0:
                return nodes, True
            # a "}" closing nothing: keepalived looks it up as a keyword ("Unknown keyword")
            nodes.append(Node(tokens, line.text, line.file, line.line))
            continue
        if tokens == ["{"]:
            # a "{" that opens no keyword's block: its contents belong to this level
            nodes.append(Node(tokens, line.text, line.file, line.line, stray_open=True))
            inner, _closed = _block(cur, depth + 1)
            nodes.extend(inner)
            continue
        node = Node(tokens, line.text, line.file, line.line)
        if cur.pos < n and lines[cur.pos].tokens == ["{"]:
            cur.pos += 1
            node.block, node.closed = _block(cur, depth + 1)
        nodes.append(node)
    return nodes, False
