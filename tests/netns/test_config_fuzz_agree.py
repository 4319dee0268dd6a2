"""`-t` agreement with keepalived 2.2.7 on mutated configurations, CI-sized.

The first 50 configurations of the seeded corpus that ``scripts/fuzz --target agree`` runs
1,000 of (tests.fuzz.config_mutate.corpus, seed 2022): both programs check each in one
namespace with lo and eth0 only. Every exit status must agree, except where the difference
has a documented reason (tests.fuzz.agree.explain, docs/fuzzing.md): keepalived crashes or
hangs, or the configuration uses a keyword keepalived 2.2.7 does not know.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fuzz.agree import compare, explain, report
from tests.fuzz.config_mutate import corpus

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(shutil.which("keepalived") is None, reason="needs Debian's keepalived"),
]

COUNT = 50
SEED = 2022


def test_mutated_configurations_agree_with_keepalived(tmp_path: Path) -> None:
    verdicts = compare(corpus(COUNT, SEED), tmp_path)
    assert len(verdicts) == COUNT
    unexplained = [v for v in verdicts if not v.agree and explain(v) is None]
    lines: list[str] = []
    report(unexplained, out=lines.append)
    assert not unexplained, "\n".join(lines)
    for v in verdicts:
        assert "Traceback" not in v.pykeepalived.output, v.pykeepalived.output
