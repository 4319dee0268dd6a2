"""What the VRRP child loads: asyncio without ssl, and ssl still there for whoever asks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[3] / "src")

PROBE = """
import sys
from pykeepalived.daemon.runner import _import_asyncio_without_tls
_import_asyncio_without_tls()
import asyncio
print("ssl" in sys.modules, asyncio.base_events.ssl is None, "asyncio" in sys.modules)
import ssl
print(ssl.__name__)
"""


def test_asyncio_is_loaded_without_ssl_and_ssl_stays_importable() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         env={"PYTHONPATH": SRC}, timeout=60, check=True).stdout.split()
    assert out == ["False", "True", "True", "ssl"]
