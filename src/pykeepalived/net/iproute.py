"""pyroute2's IPRoute, usable from the VRRP process's event loop.

pyroute2 0.9's synchronous ``IPRoute`` drives an asyncio loop of its own and refuses to start
in a thread whose loop is already running ("RuntimeError: This event loop is already
running"): exactly the thread every action of the VRRP process runs in. So every IPRoute of
the net layer lives in a worker thread and is only ever used there; the caller waits for the
answer (a netlink round trip: well under a millisecond), as it would have for a direct call.

A new thread starts in the network namespace of the thread that creates it, so a worker made
on first use serves the namespace its caller was in (the daemon's, or the one a test entered
with :func:`pykeepalived.net.netns.enter`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["IPRouteThread", "run_in_thread"]

T = TypeVar("T")


class IPRouteThread:
    """One pyroute2 ``IPRoute`` in one worker thread; ``call(fn)`` returns ``fn(ipr)``."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._ipr: Any = None
        self._lock = threading.Lock()

    def call(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(ipr)`` in the worker; its result, or its exception raised here."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="iproute")
            pool = self._pool
        return pool.submit(self._run, fn).result()

    def _run(self, fn: Callable[[Any], T]) -> T:
        if self._ipr is None:
            from pyroute2 import IPRoute

            # pyroute2 logs every netlink message at DEBUG and resets its logger's level when
            # imported: quieten it afterwards, or -D would bury the daemon's own log.
            logging.getLogger("pyroute2").setLevel(logging.WARNING)
            self._ipr = IPRoute()
        return fn(self._ipr)

    def _close_ipr(self) -> None:
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None

    def close(self) -> None:
        """Close the IPRoute (in its thread) and end the worker."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.submit(self._close_ipr).result()
            pool.shutdown(wait=True)

    def __enter__(self) -> IPRouteThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_in_thread(fn: Callable[[Any], T]) -> T:
    """``fn(ipr)`` with a fresh IPRoute in a fresh worker thread, for occasional calls."""
    with IPRouteThread() as worker:
        return worker.call(fn)
