"""Network namespaces: run the calling thread inside a named one (``ip netns`` names).

keepalived's ``net_namespace NAME`` (global_defs) runs the whole daemon in a namespace made
with ``ip netns add``. Sockets keep the namespace they were created in, and /proc/sys/net and
ioctls follow the calling thread's namespace; so entering a namespace before the net objects
are made is all it takes. The tests use the same switch to drive the net layer inside lab
namespaces from the test process.

Python 3.11 has no ``os.setns``; setns(2) is called through libc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Iterator
from contextlib import contextmanager

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = "/var/run/netns"

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def setns(fd: int, nstype: int = CLONE_NEWNET) -> None:
    """setns(2) for the calling thread."""
    if _libc.setns(fd, nstype) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def path_of(name: str) -> str:
    """The bind-mounted namespace file of an ``ip netns`` name (or a path as given)."""
    return name if "/" in name else os.path.join(NETNS_RUN_DIR, name)


def enter_permanently(name: str) -> None:
    """Move the calling thread (at start-up: the process) into ``name`` for good."""
    fd = os.open(path_of(name), os.O_RDONLY | os.O_CLOEXEC)
    try:
        setns(fd)
    finally:
        os.close(fd)


@contextmanager
def enter(name: str) -> Iterator[None]:
    """Run the body in namespace ``name`` and come back to the original one afterwards."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(path_of(name), os.O_RDONLY | os.O_CLOEXEC)
        try:
            setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            setns(home)
    finally:
        os.close(home)
