"""Helpers for the notify/track tests: run coroutines, wait (bounded), write small scripts."""

from __future__ import annotations

import asyncio
import functools
import os
import stat
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

#: No test coroutine may run longer than this.
TEST_LIMIT = 60.0


def run_async(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """Run an ``async def`` test in a fresh event loop, bounded by TEST_LIMIT seconds."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return asyncio.run(asyncio.wait_for(fn(*args, **kwargs), TEST_LIMIT))

    return wrapper


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0,
                     interval: float = 0.01) -> bool:
    """Poll ``predicate`` on the loop until true or ``timeout`` seconds pass."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(interval)
    return True


async def settle(awaitable: Awaitable[T], timeout: float = 10.0) -> T:
    return await asyncio.wait_for(awaitable, timeout)


def write_script(path: Path, body: str, *, mode: int = 0o755, shebang: bool = True) -> Path:
    """A /bin/sh script at ``path`` with ``body``."""
    path.write_text(("#!/bin/sh\n" if shebang else "") + body)
    path.chmod(mode)
    return path


def argv_logger(path: Path, logdir: Path) -> Path:
    """A script that stores its argv ($0 and every argument, NUL-separated) in a new file of
    ``logdir`` per call; file names sort in call order (nanosecond clock)."""
    logdir.mkdir(exist_ok=True)
    return write_script(path, f"""\
out="{logdir}/$(date +%s%N).$$"
printf '%s\\0' "$0" "$@" > "$out.tmp" && mv "$out.tmp" "$out"
""")


def read_argv_log(logdir: Path) -> list[list[str]]:
    """The argv of every call logged by :func:`argv_logger`, in call order."""
    calls = []
    for entry in sorted(p for p in logdir.iterdir() if not p.name.endswith(".tmp")):
        data = entry.read_bytes()
        calls.append([os.fsdecode(w) for w in data.split(b"\0")[:-1]])
    return calls


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return fields[0] not in ("Z", "X")


def is_root() -> bool:
    return os.geteuid() == 0


def is_fifo(path: Path) -> bool:
    return stat.S_ISFIFO(os.lstat(path).st_mode)
