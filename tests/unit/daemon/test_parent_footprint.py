"""What the parent (watchdog) process imports: the command line, logging and the watchdog,
not what only the children use. The children are forked from it and copy every page of it
they touch, so a module both import is paid for twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[3] / "src")
CHILDREN_ONLY = ("dataclasses", "inspect", "asyncio", "pyroute2", "pykeepalived.config")


def test_the_parent_imports_nothing_only_the_children_use() -> None:
    code = ("import sys; before = set(sys.modules); "
            "import pykeepalived.daemon.cli, pykeepalived.daemon.runner; "
            "print('\\n'.join(sorted(set(sys.modules) - before)))")
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, PYTHONPATH=SRC))
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = proc.stdout.split()
    assert "pykeepalived.daemon.runner" in imported  # the listing is what was imported
    unwanted = [m for m in imported if m.split(".")[0] in CHILDREN_ONLY
                or m.startswith(CHILDREN_ONLY)]
    assert not unwanted, unwanted
