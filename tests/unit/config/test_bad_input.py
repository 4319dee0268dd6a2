"""Hostile input: deep nesting, huge numbers, floods of generated lines. Every case ends
with keepalived's exit status and diagnostics, never an exception or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest

from pykeepalived.config.blocks import build_tree, flatten
from pykeepalived.config.errors import Category
from pykeepalived.config.lexer import Line
from pykeepalived.config.numbers import (
    LONG_MAX,
    LONG_MIN,
    TOO_BIG,
    c_strtol,
    digits_value,
    is_decimal,
    scaled_decimal,
    strtol,
)
from tests.unit.config.helpers import instance, load

DEPTH = 5000  # far beyond Python's recursion limit (1000)


def _line(tokens: list[str], n: int) -> Line:
    return Line(tokens, " ".join(tokens), "k.conf", n)


# ------------------------------------------------------------------ nesting
@pytest.mark.parametrize("text", [
    "global_defs {\n" * DEPTH + "}\n" * DEPTH,
    "{\n" * DEPTH + "}\n" * DEPTH,
    "{" * 1000 + "}" * 1000 + "\n",
    "virtual_server 192.0.2.1 80 {\n" + "real_server 192.0.2.2 80 {\n" * DEPTH
    + "}\n" * (DEPTH + 1),
], ids=["keyword_blocks", "stray_braces", "one_line", "real_servers"])
def test_deep_nesting_is_reported_not_raised(tmp_path: Path, text: str) -> None:
    # keepalived 2.2.7 -t exits 5 on each (tests/netns/test_config_bad_input.py)
    result = load(tmp_path, text)
    assert result.exit_status == 5
    assert any(d.category in (Category.UNKNOWN_KEYWORD, Category.UNEXPECTED_BOB)
               for d in result.diagnostics)


def test_deep_nesting_inside_a_value_block(tmp_path: Path) -> None:
    body = "    virtual_ipaddress {\n" + "a {\n" * DEPTH + "}\n" * DEPTH + "    }\n"
    text = instance().replace("    virtual_ipaddress {\n        192.0.2.100\n    }\n", body)
    result = load(tmp_path, text)
    assert result.exit_status == 5
    assert "VI_1" in result.config.vrrp_instances


def test_unclosed_deep_nesting(tmp_path: Path) -> None:
    result = load(tmp_path, "global_defs {\n" + "{\n" * DEPTH)
    assert result.exit_status == 5
    assert any(d.category == Category.MISSING_EOB for d in result.diagnostics)


def test_tree_of_any_depth() -> None:
    lines = [_line(["a", str(i)], i) for i in range(DEPTH)]
    stream: list[Line] = []
    for i, line in enumerate(lines):
        stream += [line, _line(["{"], i)]
    stream += [_line(["}"], DEPTH)] * DEPTH
    tree = build_tree(stream)
    assert len(tree) == 1
    node, depth = tree[0], 1
    while node.block:
        node, depth = node.block[0], depth + 1
    assert depth == DEPTH
    assert [n.tokens[1] for n in flatten(tree[0].block or [])] == [str(i)
                                                                   for i in range(1, DEPTH)]


# ------------------------------------------------------------------ numbers
def test_numbers_are_bounded_before_conversion() -> None:
    huge = "9" * 100_000  # int() refuses more than 4300 digits; C saturates
    assert c_strtol(huge, 10) == TOO_BIG
    assert c_strtol("-" + huge, 10) == -TOO_BIG
    assert c_strtol("0x" + "f" * 5000, 0) == TOO_BIG
    assert strtol(huge + ")") == (LONG_MAX, ")")
    assert strtol("-" + huge) == (LONG_MIN, "")
    assert digits_value("0" * 5000 + "42") == 42
    assert scaled_decimal(huge, "5", 6) == TOO_BIG


def test_only_ascii_digits_are_digits() -> None:
    assert is_decimal("0123456789")
    assert not is_decimal("\u00b2")  # '²': str.isdigit() says yes, int() says no
    assert not is_decimal("\u0663")  # Arabic-Indic three: int() would read 3
    assert not is_decimal("")
    assert c_strtol("\u0663", 10) is None
