"""`pykeepalived -t` against `keepalived -t` on every sample Debian ships.

Both run in one fresh network namespace whose only interfaces are lo and eth0, so that
interface checks see the same host. They must agree on accept/reject, and (because scripts
wrap `keepalived -t`) on the exit status itself.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import pytest

from pykeepalived.demo.lab import Host, Lab

SAMPLES = sorted(glob.glob("/usr/share/doc/keepalived/samples/keepalived.conf.*"))
SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(shutil.which("keepalived") is None, reason="needs Debian's keepalived"),
]


@dataclass
class Outcome:
    status: int
    stderr: str


def keepalived_t(host: Host, path: str, *extra: str, timeout: float = 60.0) -> Outcome:
    """`keepalived -t -f path` inside ``host``, with pid files of its own."""
    with tempfile.TemporaryDirectory(prefix="pk-ka-") as tmp:
        argv = host.cmd("keepalived", "-t", "-f", path, "-p", f"{tmp}/p", "-r", f"{tmp}/r",
                        "-c", f"{tmp}/c", "-b", f"{tmp}/b", *extra)
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              errors="replace")
    return Outcome(proc.returncode, proc.stderr)


def pykeepalived_t(host: Host, path: str, *extra: str, timeout: float = 60.0) -> Outcome:
    """`pykeepalived -t -f path` inside ``host`` (this checkout's code)."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC))
    argv = host.cmd(sys.executable, "-m", "pykeepalived", "-t", "-f", path, *extra)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                          errors="replace")
    return Outcome(proc.returncode, proc.stderr)


def one_interface_host(lab: Lab) -> Host:
    """A namespace with lo and a single eth0 (IPv4 and IPv6 link-local addresses)."""
    return lab.add_host("t", [["192.0.2.1/24"]])


def test_samples_exist() -> None:
    assert len(SAMPLES) >= 20, "Debian's keepalived samples are missing"


@pytest.mark.parametrize("sample", SAMPLES, ids=[os.path.basename(s) for s in SAMPLES])
def test_sample_agrees_with_keepalived(lab: Lab, sample: str) -> None:
    host = one_interface_host(lab)
    ka = keepalived_t(host, sample)
    py = pykeepalived_t(host, sample)
    assert "Traceback" not in py.stderr, py.stderr
    assert (py.status == 0) == (ka.status == 0), (
        f"accept/reject differs: keepalived {ka.status}, pykeepalived {py.status}\n"
        f"keepalived said:\n{ka.stderr}\npykeepalived said:\n{py.stderr}")
    assert py.status == ka.status, (
        f"exit status differs: keepalived {ka.status}, pykeepalived {py.status}\n"
        f"keepalived said:\n{ka.stderr}\npykeepalived said:\n{py.stderr}")
    if ka.status != 0:
        # every problem is placed: pykeepalived names file:line for what it reports
        assert sample in py.stderr
