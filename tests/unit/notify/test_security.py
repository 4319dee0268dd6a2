"""enable_script_security checks and script lookup (keepalived.conf(5) "SCRIPTS")."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pykeepalived.notify.security import (
    Credentials,
    check_security,
    find_script,
    is_executable,
    needs_protection,
)

from ._util import is_root, write_script

ROOT = Credentials(0, 0, "root")
NOBODY = Credentials(65534, 65534, "nobody")
needs_root = pytest.mark.skipif(not is_root(), reason="needs root to chown files")


def _stat(mode: int, uid: int = 0, gid: int = 0) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, uid, gid, 0, 0, 0, 0))


@pytest.mark.parametrize(
    ("mode", "owner", "creds", "expected"),
    [
        (0o100755, (0, 0), ROOT, True),
        (0o100001, (0, 0), ROOT, True),  # root may run anything with any x bit
        (0o100644, (0, 0), ROOT, False),
        (0o100700, (65534, 65534), NOBODY, True),
        (0o100070, (65534, 65534), NOBODY, False),  # the owner class decides for the owner
        (0o100070, (0, 65534), NOBODY, True),
        (0o100001, (0, 0), NOBODY, True),
        (0o100770, (0, 0), NOBODY, False),
    ],
)
def test_is_executable(mode: int, owner: tuple[int, int], creds: Credentials,
                       expected: bool) -> None:
    assert is_executable(_stat(mode, *owner), creds.uid, creds.gid) is expected


def test_needs_protection_when_root_runs_it_or_it_is_setuid_root() -> None:
    assert needs_protection(_stat(0o100755), ROOT)
    assert needs_protection(_stat(0o100755), Credentials(1000, 0, "g0"))
    assert not needs_protection(_stat(0o100755), NOBODY)
    assert needs_protection(_stat(0o104755), NOBODY)  # set-uid root
    assert needs_protection(_stat(0o102755), NOBODY)  # set-gid root
    assert not needs_protection(_stat(0o104755, uid=1000, gid=1000), NOBODY)


def test_find_script_searches_path(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_script(tmp_path / "a" / "notx", "exit 0", mode=0o644)
    write_script(tmp_path / "b" / "good", "exit 0")
    search = f"{tmp_path / 'a'}:{tmp_path / 'b'}"
    assert find_script("good", ROOT, search) == (str(tmp_path / "b" / "good"), "")
    assert find_script("/abs/path", ROOT, search) == ("/abs/path", "")
    path, reason = find_script("notx", ROOT, search)
    assert path is None and "not executable" in reason
    path, reason = find_script("absent", ROOT, search)
    assert path is None and "not found in PATH" in reason


@needs_root
class TestCheckSecurity:
    """tmp_path lives under /tmp (root-owned, sticky) in root-owned 0700 directories."""

    def test_root_owned_script_is_safe(self, tmp_path: Path) -> None:
        script = write_script(tmp_path / "s.sh", "exit 0")
        assert check_security(str(script)) is None

    def test_world_writable_script(self, tmp_path: Path) -> None:
        script = write_script(tmp_path / "s.sh", "exit 0", mode=0o777)
        problem = check_security(str(script))
        assert problem is not None and "writable by everyone" in problem
        assert str(script) in problem

    def test_group_writable_by_non_root_group(self, tmp_path: Path) -> None:
        script = write_script(tmp_path / "s.sh", "exit 0", mode=0o775)
        assert check_security(str(script)) is None  # group root may write
        os.chown(script, 0, 65534)
        problem = check_security(str(script))
        assert problem is not None and "writable by group 65534" in problem

    def test_owned_by_non_root(self, tmp_path: Path) -> None:
        script = write_script(tmp_path / "s.sh", "exit 0")
        os.chown(script, 65534, 0)
        problem = check_security(str(script))
        assert problem is not None and "owned by uid 65534" in problem

    def test_writable_directory_on_the_path(self, tmp_path: Path) -> None:
        directory = tmp_path / "d"
        directory.mkdir()
        script = write_script(directory / "s.sh", "exit 0")
        directory.chmod(0o777)
        problem = check_security(str(script))
        assert problem is not None and repr(str(directory)) in problem
        directory.chmod(0o1777)  # sticky, like /tmp: others cannot replace our file
        assert check_security(str(script)) is None

    def test_symlink_to_an_unsafe_file(self, tmp_path: Path) -> None:
        target = write_script(tmp_path / "real.sh", "exit 0", mode=0o777)
        link = tmp_path / "link.sh"
        link.symlink_to(target)
        problem = check_security(str(link))
        assert problem is not None and "real.sh" in problem

    def test_symlinked_directory_is_resolved(self, tmp_path: Path) -> None:
        (tmp_path / "real").mkdir()
        write_script(tmp_path / "real" / "s.sh", "exit 0")
        (tmp_path / "alias").symlink_to(tmp_path / "real")
        assert check_security(str(tmp_path / "alias" / "s.sh")) is None

    def test_missing_script(self, tmp_path: Path) -> None:
        problem = check_security(str(tmp_path / "absent.sh"))
        assert problem is not None and "cannot examine" in problem

    def test_directory_instead_of_file(self, tmp_path: Path) -> None:
        problem = check_security(str(tmp_path))
        assert problem is not None and "not a regular file" in problem

    def test_system_binaries_are_safe(self) -> None:
        sh = "/bin/sh"
        assert stat.S_ISREG(os.stat(sh).st_mode)
        assert check_security(sh) is None
