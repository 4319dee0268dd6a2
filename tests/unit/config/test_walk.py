"""The walker reads a braced line (``keyword args {``, one line from the lexer) exactly as
the statement followed by a ``{`` line of its own, in every kind of block."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.config import LoadResult
from pykeepalived.config.blocks import Node
from pykeepalived.config.lexer import Lexer

from .helpers import instance, load

VS = ("virtual_server 192.0.2.50 80 {\n    delay_loop 6\n"
      "    real_server 192.0.2.11 80 {\n        weight 1\n"
      "        TCP_CHECK {\n            connect_timeout 3\n        }\n    }\n}\n")

CASES = {
    "valid": instance() + VS,
    # a keyword without a block, and an unknown keyword, followed by "{"
    "brace after a plain keyword": instance(body="    priority 100 {\n    advert_int 1\n"
                                            "    }\n    nopreempt\n"),
    "brace after an unknown keyword": "no_such_keyword a b {\n    x 1\n}\n" + instance(
        body="    not_a_keyword {\n        y\n    }\n"),
    # a value block holding a line that ends with "{"
    "brace inside a value block": instance(vips="192.0.2.100\n        192.0.2.101 {\n"
                                           "        192.0.2.102\n    }\n    }\n"),
    # a refused block with blocks inside it (skipped, braces counted)
    "skipped block": "virtual_server not_an_address 80 {\n    real_server 192.0.2.1 80 {\n"
                     "        weight 1\n        TCP_CHECK {\n        }\n    }\n}\n" + VS,
    # blocks whose "{" is on a line of its own, or missing
    "brace on the next line": "vrrp_instance VI_2\n{\n    interface eth0\n"
                              "    virtual_router_id 52\n    virtual_ipaddress\n    {\n"
                              "        192.0.2.2\n    }\n}\n" + VS,
    "missing brace, then a braced line": "vrrp_instance VI_3\n    virtual_ipaddress {\n"
                                         "        192.0.2.3\n    }\n}\n",
    "value block without its brace": instance(body="    track_interface\n"
                                              "        eth1 {\n    }\n"),
    "refused block without its brace": VS + "virtual_server not_an_address 80\n"
                                       "    real_server 192.0.2.1 80 {\n        weight 2\n"
                                       "    }\n}\n",
    "two braces": "vrrp_instance VI_4 {\n{\n    interface eth0\n    virtual_router_id 54\n"
                  "}\n}\n}\n",
    "unclosed": instance() + "vrrp_instance VI_5 {\n    interface eth0 {\n",
}


def _split(statements: object) -> object:
    """Lexer.statements with every braced line given as two lines, as keepalived reads it."""

    def split(self: Lexer) -> Iterator[Node]:
        for line in statements(self):  # type: ignore[operator]
            if line.braced:
                yield Node(line.tokens, line.text, line.file, line.line)
                yield Node(["{"], "{", line.file, line.line)
            else:
                yield line

    return split


def _summary(result: LoadResult) -> tuple[list[str], list[object], str, int | None]:
    return ([str(d) for d in result.diagnostics], [d.category for d in result.diagnostics],
            repr(result.config), result.exit_status)


@pytest.mark.parametrize("name", sorted(CASES))
def test_braced_line_reads_as_statement_then_brace(tmp_path: Path, name: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    text = CASES[name]
    braced = load(tmp_path, text)
    lexer = Lexer("r1")
    assert lexer.open_main(str(tmp_path / "keepalived.conf"))
    assert any(line.braced for line in lexer.statements())
    monkeypatch.setattr(Lexer, "statements", _split(Lexer.statements))
    split = load(tmp_path, text)
    assert _summary(braced) == _summary(split)
    if name != "valid":
        assert braced.diagnostics, name  # the case reaches a rule that reports
