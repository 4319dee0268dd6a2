"""What `pykeepalived -t` loads: the configuration package and what it needs, not the
daemon's machinery (asyncio, netlink, TLS, subprocesses), which only costs start-up time."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[3] / "src")
# shutil (with bz2 and lzma) came with argparse reading the terminal width for each option
NOT_FOR_T = ("asyncio", "pyroute2", "ssl", "subprocess", "concurrent", "shutil", "bz2", "lzma",
             "random",  # random: only for ${_RANDOM} and random_seed
             "logging",  # -t reports on stderr; the daemon's log is the daemon's
             "string")  # notify.split needs only its hex digits
# the netlink module: -t reads interfaces through ioctls and sysfs, it dumps nothing
NOT_FOR_T_MODULES = ("pykeepalived.net._netlink",)


def _imported(*argv: str) -> set[str]:
    """The modules the interpreter imports running ``argv`` (from -X importtime), without
    site-packages (whose .pth hooks may import anything at every start)."""
    proc = subprocess.run([sys.executable, "-S", "-X", "importtime", *argv], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, PYTHONPATH=SRC))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(re.findall(r"^import time:.*\|\s*([\w.]+)\s*$", proc.stderr, re.M))


def test_config_test_imports_only_what_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "keepalived.conf"
    path.write_text("global_defs {\n    router_id r1\n}\n")
    # what the interpreter's own start imports is not -t's doing
    started = _imported("-c", "pass")
    imported = _imported("-m", "pykeepalived", "-t", "-f", str(path)) - started
    assert "pykeepalived.config.loader" in imported  # the listing is what was read
    unwanted = sorted(name for name in imported if name.split(".")[0] in NOT_FOR_T
                      or name in NOT_FOR_T_MODULES)
    assert not unwanted, unwanted
