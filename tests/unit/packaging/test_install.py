"""scripts/install into a staging root: it writes the virtual environment, the unit and a
sample configuration, and nothing else (not in the checkout, nor in $HOME, nor in $TMPDIR);
--uninstall takes back all of it but the configuration.

pip fetches pykeepalived's dependencies from PyPI, as on a real host.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.packaging.unit_file import ROOT, values

SCRIPT = ROOT / "scripts" / "install"


def _python() -> str | None:
    """Debian's own python3 (the one a host has), else the one on PATH, if it can make a
    virtual environment with pip in it."""
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if candidate and subprocess.run([candidate, "-c", "import ensurepip, venv"],
                                        capture_output=True, check=False).returncode == 0:
            return candidate
    return None


PYTHON = _python()
pytestmark = pytest.mark.skipif(PYTHON is None,
                                reason="needs python3 with venv (apt-get install python3-venv)")


def files(top: Path, *, skip_caches: bool = False) -> set[str]:
    """Every path under ``top``, relative to it."""
    found = set()
    for path in top.rglob("*"):
        rel = path.relative_to(top)
        if skip_caches and ("__pycache__" in rel.parts or rel.parts[0] in (
                ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis")):
            continue
        found.add(str(rel))
    return found


def install(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # a root shell's PATH: tools of this machine's own (rustup's shims, which pip runs to
    # name rustc's version) would write into $HOME
    env = dict(os.environ, HOME=str(tmp / "home"), TMPDIR=str(tmp / "tmp"),
               PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    assert PYTHON is not None
    return subprocess.run(["bash", str(SCRIPT), "--python", PYTHON, *args], env=env,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    for name in ("root", "home", "tmp"):
        (tmp_path / name).mkdir()
    return tmp_path


def test_install_writes_only_its_three_paths_and_uninstall_takes_them_back(
        sandbox: Path) -> None:
    root = sandbox / "root"
    checkout_before = files(ROOT, skip_caches=True)
    done = install(sandbox, "--root", str(root))
    assert done.returncode == 0, done.stderr
    written = files(root)
    assert written == {p for p in written if p.startswith("opt/pykeepalived")} | {
        "etc", "etc/systemd", "etc/systemd/system", "etc/systemd/system/pykeepalived.service",
        "etc/keepalived", "etc/keepalived/keepalived.conf", "opt"}
    assert "opt/pykeepalived/pyvenv.cfg" in written
    assert files(sandbox / "home") == set() and files(sandbox / "tmp") == set()
    assert files(ROOT, skip_caches=True) == checkout_before

    unit = (root / "etc/systemd/system/pykeepalived.service").read_text()
    (start,) = values(unit, "Service", "ExecStart")
    assert start.startswith("/opt/pykeepalived/bin/pykeepalived --dont-fork ")
    assert "@BINDIR@" not in unit
    venv_bin = root / "opt/pykeepalived/bin/pykeepalived"
    conf = root / "etc/keepalived/keepalived.conf"
    checked = subprocess.run([str(venv_bin), "-t", "-f", str(conf)], capture_output=True,
                             text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr
    # the installed package is the checkout's, not one found elsewhere
    version = subprocess.run([str(venv_bin), "--version"], capture_output=True, text=True,
                             timeout=60, check=False)
    assert version.stderr.startswith("pykeepalived "), version.stderr

    # an operator's configuration is never replaced
    conf.write_text("! mine\n")
    again = install(sandbox, "--root", str(root))
    assert again.returncode == 0, again.stderr
    assert conf.read_text() == "! mine\n"

    gone = install(sandbox, "--root", str(root), "--uninstall")
    assert gone.returncode == 0, gone.stderr
    assert not (root / "opt/pykeepalived").exists()
    assert not (root / "etc/systemd/system/pykeepalived.service").exists()
    assert conf.read_text() == "! mine\n"


def test_prefix_moves_the_virtual_environment_and_the_unit_follows(sandbox: Path) -> None:
    root = sandbox / "root"
    done = install(sandbox, "--root", str(root), "--prefix", "/srv/pyka")
    assert done.returncode == 0, done.stderr
    assert (root / "srv/pyka/bin/pykeepalived").is_file()
    assert not (root / "opt").exists()
    unit = (root / "etc/systemd/system/pykeepalived.service").read_text()
    (start,) = values(unit, "Service", "ExecStart")
    assert start.startswith("/srv/pyka/bin/pykeepalived ")


def test_uninstall_leaves_what_it_did_not_write(sandbox: Path) -> None:
    root = sandbox / "root"
    other = root / "opt/pykeepalived"
    other.mkdir(parents=True)
    (other / "data").write_text("someone else's\n")
    unit = root / "etc/systemd/system/pykeepalived.service"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/bin/true\n")
    done = install(sandbox, "--root", str(root), "--uninstall")
    assert done.returncode == 0, done.stderr
    assert (other / "data").exists() and unit.exists()
    refused = install(sandbox, "--root", str(root))
    assert refused.returncode != 0
    assert "not a virtual environment" in refused.stderr
