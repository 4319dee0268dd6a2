"""The support table (config.support) covers every keyword the parser knows, and its evidence
exists: each "acted" row names a test that is there and writes the keyword."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from pykeepalived.config import load_config, load_config_text
from pykeepalived.config.keywords import top_table
from pykeepalived.config.parse_base import Table
from pykeepalived.config.support import ACTED, PARSE_ONLY, SUPPORT
from pykeepalived.config.support_report import summary_table
from pykeepalived.config.sysinfo import SystemInfo

ROOT = Path(__file__).resolve().parents[3]
README_START = "<!-- keyword-support-summary: start -->\n"
README_END = "<!-- keyword-support-summary: end -->\n"


def _walk(table: Table, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(section path, keyword) for every keyword reachable from ``table``, as the parser
    names sections while it reads (``Ctx.section``)."""
    section = "/".join(path) or "top"
    for keyword in table.keywords.values():
        yield section, keyword.name
        if keyword.sub is not None:
            yield from _walk(keyword.sub, (*path, keyword.name))


def known_keywords() -> set[tuple[str, str]]:
    return set(_walk(top_table()))


def table_rows() -> set[tuple[str, str]]:
    return {(section, keyword) for section, rows in SUPPORT.items() for keyword in rows}


def test_every_keyword_the_parser_knows_has_a_row() -> None:
    missing = sorted(known_keywords() - table_rows())
    assert not missing, f"keywords without a row in config/support.py: {missing}"


def test_every_row_names_a_keyword_the_parser_knows() -> None:
    unknown = sorted(table_rows() - known_keywords())
    assert not unknown, f"rows in config/support.py for no keyword of the parser: {unknown}"


def test_rows_are_acted_with_a_test_or_parse_only_without() -> None:
    for section, rows in SUPPORT.items():
        for keyword, row in rows.items():
            assert row.status in (ACTED, PARSE_ONLY), (section, keyword, row)
            if row.status == ACTED:
                assert re.fullmatch(r"tests/[\w/]+\.py::\w+", row.test), (section, keyword, row)
            else:
                assert row.test == "", (section, keyword, row)


@cache
def _test_strings(test: str) -> frozenset[str] | None:
    """The string constants (configuration text) of test function ``file::name``, including
    its decorators; None when the file or the function does not exist."""
    file, name = test.split("::")
    path = ROOT / file
    if not path.is_file():
        return None
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return frozenset(n.value for n in ast.walk(node)
                             if isinstance(n, ast.Constant) and isinstance(n.value, str))
    return None


def test_acted_rows_name_tests_that_exist_and_write_the_keyword() -> None:
    problems = []
    for section, rows in SUPPORT.items():
        for keyword, row in rows.items():
            if row.status != ACTED:
                continue
            strings = _test_strings(row.test)
            if strings is None:
                problems.append(f"{section} {keyword}: no test {row.test}")
            elif not any(re.search(rf"(?<![\w-]){re.escape(keyword)}(?![\w-])", s)
                         for s in strings):
                problems.append(f"{section} {keyword}: {row.test} never writes it")
    assert not problems, "\n".join(problems)


def test_a_missing_test_is_noticed() -> None:
    assert _test_strings("tests/unit/config/test_keyword_support.py::test_no_such_test") is None
    assert _test_strings("tests/unit/config/no_such_file.py::test_x") is None
    found = _test_strings("tests/unit/daemon/test_keyword_effects.py::test_preempt_keywords")
    assert found is not None and any("nopreempt" in s for s in found)


def test_section_paths_are_the_parsers() -> None:
    """The parser records uses under the same (section, keyword) keys as the table's."""
    result = load_config_text("""
global_defs {
    router_id r1
}
virtual_server 192.0.2.10 80 {
    real_server 192.0.2.20 80 {
        HTTP_GET {
            url {
                path /
            }
        }
    }
}
""", system=SystemInfo(probe_files=False))
    assert set(result.keyword_uses) == {
        ("top", "global_defs"), ("global_defs", "router_id"), ("top", "virtual_server"),
        ("virtual_server", "real_server"), ("virtual_server/real_server", "HTTP_GET"),
        ("virtual_server/real_server/HTTP_GET", "url"),
        ("virtual_server/real_server/HTTP_GET/url", "path"),
    }
    assert set(result.keyword_uses) <= table_rows()


def test_uses_left_uncounted_on_request(tmp_path: Path) -> None:
    """-t does not report keyword uses and asks for none: the same reading without them."""
    path = tmp_path / "keepalived.conf"
    path.write_text("global_defs {\n    router_id r1\n    bfd_no_swap\n}\n"
                    "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n"
                    "    no_such_keyword\n    virtual_ipaddress {\n        192.0.2.1\n    }\n}\n")
    system = SystemInfo.fake(["lo", "eth0"])
    counted = load_config(str(path), config_id="r1", system=system)
    uncounted = load_config(str(path), config_id="r1", system=system, keyword_uses=False)
    assert ("global_defs", "bfd_no_swap") in counted.keyword_uses
    assert uncounted.keyword_uses == {}
    assert [str(d) for d in uncounted.diagnostics] == [str(d) for d in counted.diagnostics]
    assert counted.diagnostics  # the unknown keyword
    assert repr(uncounted.config) == repr(counted.config)
    assert uncounted.exit_status == counted.exit_status


def test_readme_summary_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert README_START in readme and README_END in readme
    current = readme.split(README_START, 1)[1].split(README_END, 1)[0]
    assert current == summary_table(), (
        "README.md's keyword summary is stale: regenerate it with "
        "python3 -m pykeepalived.config.support_report")
