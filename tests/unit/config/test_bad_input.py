"""Hostile input: deep nesting, huge numbers, floods of generated lines. Every case ends
with keepalived's exit status and diagnostics, never an exception or a hang."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pykeepalived.config import ConfigError, load_config
from pykeepalived.config import lexer as lexer_module
from pykeepalived.config.blocks import build_tree, flatten
from pykeepalived.config.errors import MAX_DIAGNOSTICS, Category
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
from tests.unit.config.helpers import instance, load, write

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


# ------------------------------------------------------------------ floods
_GUARDED = """
import resource, sys
limit = int(sys.argv[2]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from pykeepalived.config import load_config
from pykeepalived.config.sysinfo import SystemInfo
result = load_config(sys.argv[1], config_id="r1", system=SystemInfo.fake(["lo", "eth0"]))
print(result.exit_status, len(result.diagnostics))
"""


def _load_guarded(path: Path, megabytes: int, timeout: float) -> tuple[int, int]:
    """Load ``path`` in a child whose address space is capped at ``megabytes``: the exit
    status and the number of diagnostics (a MemoryError or a timeout fails the test)."""
    src = str(Path(__file__).resolve().parents[3] / "src")
    proc = subprocess.run([sys.executable, "-c", _GUARDED, str(path), str(megabytes)],
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=src))
    assert proc.returncode == 0, proc.stderr[-2000:]
    status, count = proc.stdout.split()
    return int(status), int(count)


# keepalived 2.2.7 -t peaks at 10.7 MB on each; pykeepalived held every line and every
# diagnostic (513-590 MB for the million lines) before walking and reporting streamed
@pytest.mark.parametrize(("text", "megabytes"), [
    ("~SEQ(i, 1, 1000000) foo_$i\n", 300),
    ("global_defs {\n~SEQ(i, 1, 300000) foo_$i\n}\n", 100),
], ids=["top_level_1e6", "in_a_block_3e5"])
def test_generated_lines_are_streamed(tmp_path: Path, text: str, megabytes: int) -> None:
    path = tmp_path / "keepalived.conf"
    path.write_text(text)
    status, count = _load_guarded(path, megabytes, timeout=120)
    assert status == 5  # keepalived: 5 (unknown keywords)
    assert count == MAX_DIAGNOSTICS + 1  # the first ones, and one line counting the rest


def test_diagnostics_past_the_limit_are_counted(tmp_path: Path) -> None:
    text = "~SEQ(i, 1, 3000) foo_$i\nvrrp_instance VI_1 {\n interface eth9\n}\n"
    result = load(tmp_path, text)
    assert len(result.diagnostics) < MAX_DIAGNOSTICS + 10
    last = result.diagnostics[-1]
    assert last.line == 0 and "2000 more problems" in last.message, last
    # the kind that decides keepalived's verdict is listed even past the limit
    assert any(d.category == Category.BAD_IF for d in result.diagnostics)
    assert not result.runnable
    assert result.exit_status == 5


def test_self_referencing_multiline_definition_ends(tmp_path: Path) -> None:
    # keepalived 2.2.7 reads this for ever ("Unknown keyword 'x'" ten million times in
    # 20 s); pykeepalived stops the expansion like a single-line substitution
    path = tmp_path / "keepalived.conf"
    path.write_text("$A=x \\\n$A\n\n$A\n")
    status, _count = _load_guarded(path, 100, timeout=60)
    assert status == 5
    result = load(tmp_path, "$A=x \\\n$A\n\n$A\n")
    assert any("multi-line definition expands" in d.message for d in result.diagnostics)


def test_multiline_definitions_using_each_other_end(tmp_path: Path) -> None:
    result = load(tmp_path, "$B=y \\\n$A\n\n$A=x \\\n$B\n\n$A\n")
    assert result.exit_status == 5
    assert any("multi-line definition expands" in d.message for d in result.diagnostics)


def test_include_braces_are_expanded_one_at_a_time(tmp_path: Path) -> None:
    # 2**20 alternatives, none there: keepalived 2.2.7 -t says 0 after 3.3 s at 10.7 MB;
    # the whole list of names peaked at 141 MB here
    path = tmp_path / "keepalived.conf"
    path.write_text(f"include {tmp_path}/{'{a,b}' * 20}.conf\n")
    status, _count = _load_guarded(path, 100, timeout=120)
    assert status == 0


def test_include_braces_past_the_limit_are_refused(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexer_module, "MAX_BRACE_ALTERNATIVES", 1000)
    write(tmp_path, "a.conf", "global_defs {\n}\n")
    result = load(tmp_path, f"include {tmp_path}/{'{a,b}' * 10}.conf\n")
    assert any("more than 1000 alternatives" in d.message for d in result.diagnostics)
    assert result.exit_status == 5
    result = load(tmp_path, f"include {tmp_path}/{'{a,b}' * 9}.conf\n")
    assert result.exit_status == 0


@pytest.mark.parametrize("enabled", [True, False])
def test_cycle_collector_state_is_restored(tmp_path: Path, enabled: bool) -> None:
    # reading pauses the cycle collector (it made 100,000 VIPs twice as slow) and leaves
    # it as it found it, also when the configuration cannot be read
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        load(tmp_path, instance())
        assert gc.isenabled() is enabled
        with pytest.raises(ConfigError):
            load_config(str(tmp_path / "missing.conf"))
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
