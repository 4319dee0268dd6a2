"""pykeepalived agrees with the exit status keepalived -t gave on every recorded configuration.

The corpus (corpus.py) was recorded by running Debian's keepalived 2.2.7 in a namespace
holding only lo and eth0; here the same host is described with SystemInfo, so the test
needs neither root nor keepalived. tests/netns/test_config_bad_input.py re-checks it live.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pykeepalived.config import load_config
from pykeepalived.config.lexer_text import default_config_id
from pykeepalived.config.sysinfo import SystemInfo
from tests.unit.config.corpus import CORPUS


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_exit_status(tmp_path: Path, name: str) -> None:
    expected, text = CORPUS[name]
    path = tmp_path / "keepalived.conf"
    path.write_text(text)
    system = SystemInfo.fake(["lo", "eth0"])
    system.probe_files = True  # /bin/true exists; /nonexistent... does not
    result = load_config(str(path), config_id=default_config_id(), system=system)
    assert result.exit_status == expected, "\n".join(str(d) for d in result.diagnostics)
    for diag in result.diagnostics:
        assert diag.file and diag.message
