"""Script lookup and the checks keepalived makes before it runs a script.

keepalived.conf(5), "SCRIPTS": "security checks are made at startup to ensure that if a script
is executed by root, then it cannot be modified or replaced by a non root user", and
``enable_script_security``: "Don't run scripts configured to be run as root if any part of the
path is writable by a non-root user". Without ``enable_script_security`` such a script still
runs, and keepalived logs that it is unsafe.

The rules, as keepalived applies them to every component of the script's path ("/", "/usr",
"/usr/local", ..., the file itself):

- every component must be owned by root;
- a directory without the sticky bit, or the file itself, must not be group-writable unless its
  group is root, and must not be world-writable (``/tmp`` is fine: root-owned and sticky);
- every component but the last must be a directory; the last a regular file or a symlink.

They only matter when the script runs as uid 0 or gid 0, or is set-uid/set-gid root.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

__all__ = [
    "Credentials",
    "check_security",
    "find_script",
    "is_executable",
    "needs_protection",
    "unreachable_directory",
]


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who a script runs as (``script_user username [groupname]``)."""

    uid: int
    gid: int
    name: str

    def __str__(self) -> str:
        return f"{self.name} ({self.uid}:{self.gid})"


def is_executable(st: os.stat_result, uid: int, gid: int) -> bool:
    """Whether ``uid``/``gid`` may execute a file with these permission bits (root: any x bit)."""
    mode = st.st_mode
    if uid == 0:
        return bool(mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
    if uid == st.st_uid:
        return bool(mode & stat.S_IXUSR)
    if gid == st.st_gid:
        return bool(mode & stat.S_IXGRP)
    return bool(mode & stat.S_IXOTH)


def needs_protection(st: os.stat_result, creds: Credentials) -> bool:
    """Whether a script runs with root rights: as uid/gid 0, or set-uid/set-gid root."""
    mode = st.st_mode
    return (
        creds.uid == 0
        or creds.gid == 0
        or (st.st_uid == 0 and bool(mode & stat.S_IXUSR) and bool(mode & stat.S_ISUID))
        or (st.st_gid == 0 and bool(mode & stat.S_IXGRP) and bool(mode & stat.S_ISGID))
    )


def unreachable_directory(path: str, creds: Credentials) -> str | None:
    """The first directory on ``path`` that ``creds`` may not search, or None.

    keepalived resolves each script as its user (seteuid) at startup, so a script its user
    cannot reach is reported then rather than failing at every run.
    """
    if creds.uid == 0:
        return None
    directory = os.path.dirname(os.path.abspath(path))
    for component in _components(directory):
        try:
            st = os.stat(component)
        except OSError:
            return component
        if not is_executable(st, creds.uid, creds.gid):
            return component
    return None


def find_script(name: str, creds: Credentials, path: str | None = None) -> tuple[str | None, str]:
    """Resolve a script name to a file: ``(path, "")`` or ``(None, reason)``.

    A name with a slash is taken as it is. A bare name is searched in ``$PATH`` as execve(3p)
    would, like keepalived, which warns that a full path should be given.
    """
    if not name:
        return None, "empty script name"
    if "/" in name:
        return name, ""
    search = path if path is not None else os.environ.get("PATH", os.defpath)
    denied = False
    for directory in search.split(":"):
        candidate = os.path.join(directory or ".", name)
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and is_executable(st, creds.uid, creds.gid):
            return candidate, ""
        denied = True
    if denied:
        return None, f"script {name!r} found in PATH but not executable by {creds}"
    return None, f"script {name!r} not found in PATH"


def _components(path: str) -> list[str]:
    """'/a/b/c' -> ['/', '/a', '/a/b', '/a/b/c']."""
    parts = [p for p in path.split("/") if p]
    found = ["/"]
    for i in range(len(parts)):
        found.append("/" + "/".join(parts[: i + 1]))
    return found


def _unsafe_component(component: str, is_last: bool) -> str | None:
    try:
        st = os.lstat(component)
    except OSError as exc:
        return f"cannot examine {component!r}: {exc.strerror}"
    mode = st.st_mode
    if not is_last and not stat.S_ISDIR(mode):
        return f"{component!r} is not a directory"
    if is_last and not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        return f"{component!r} is not a regular file"
    if st.st_uid != 0:
        return f"{component!r} is owned by uid {st.st_uid}, not root"
    guarded = (stat.S_ISDIR(mode) and not mode & stat.S_ISVTX) or stat.S_ISREG(mode)
    if guarded and st.st_gid != 0 and mode & stat.S_IWGRP:
        return f"{component!r} is writable by group {st.st_gid} (mode {stat.S_IMODE(mode):04o})"
    if guarded and mode & stat.S_IWOTH:
        return f"{component!r} is writable by everyone (mode {stat.S_IMODE(mode):04o})"
    return None


def check_security(path: str) -> str | None:
    """Why ``path`` could be modified or replaced by a non-root user, or None if it cannot.

    Directories are taken after resolving symlinks (``/bin`` -> ``/usr/bin`` is fine); when the
    file itself is a symlink, both the link and what it points to are examined.
    """
    absolute = os.path.abspath(path)
    directory, base = os.path.split(absolute)
    where = os.path.join(os.path.realpath(directory), base)
    targets = [where]
    real = os.path.realpath(absolute)
    if real != where:
        targets.append(real)
    for target in targets:
        components = _components(target)
        for i, component in enumerate(components):
            problem = _unsafe_component(component, i == len(components) - 1)
            if problem is not None:
                return f"unsafe permissions for script {path!r}: {problem}"
    return None
