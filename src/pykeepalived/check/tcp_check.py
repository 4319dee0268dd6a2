"""TCP_CHECK: the real server is up when a TCP connection to it opens.

keepalived/check/check_tcp.c: connect (with bindto, bind_port, bind_if and fwmark applied),
and close at once; a refused, unreachable or timed-out connect is a failure. Nothing is sent.

:func:`check_tcp` is one attempt as a coroutine, like every checker. :class:`TcpChecks` makes
the same attempts in bulk for the checker process, where thousands of real servers are
checked every second: no task, future or timer per attempt, but a plain non-blocking socket
watched by one epoll set (one reader of the event loop) and one heap of deadlines (one timer).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import heapq
import itertools
import logging
import os
import select
import socket
from collections.abc import Callable

from pykeepalived.check.context import CheckContext
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.sockets import (
    CheckFailed,
    Phase,
    close_quietly,
    describe_os_error,
    make_socket,
    open_stream_socket,
    sockaddr,
)
from pykeepalived.config.model_lvs import Checker

__all__ = ["TcpChecks", "check_tcp"]

log = logging.getLogger("pykeepalived.check")

CONNECTED = CheckResult(True, "connected")
_BATCH = 1024  # epoll events read at a time


async def check_tcp(spec: Checker, target: Target,
                    context: CheckContext | None = None) -> CheckResult:
    """One TCP_CHECK attempt, bounded by ``target.timeout``."""
    phase = Phase()
    try:
        async with asyncio.timeout(target.timeout):
            sock = await open_stream_socket(target, phase)
    except TimeoutError:
        return CheckResult(False, phase.timed_out(target.timeout))
    except CheckFailed as failed:
        return CheckResult(False, failed.detail)
    close_quietly(sock)
    return CONNECTED


Done = Callable[[CheckResult], None]


class _Attempt:
    __slots__ = ("done", "sock", "timeout")

    def __init__(self, sock: socket.socket, done: Done, timeout: float) -> None:
        self.sock = sock
        self.done = done
        self.timeout = timeout


class TcpChecks:
    """TCP_CHECK attempts in flight, each ending in one call of its ``done`` with the result
    :func:`check_tcp` would have given (the same words, the same bound)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._epoll = select.epoll()
        self._flight: dict[int, _Attempt] = {}  # socket fd -> its attempt
        # (deadline, tie-breaker, fd, attempt): stale once the attempt has left _flight
        self._deadlines: list[tuple[float, int, int, _Attempt]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        loop.add_reader(self._epoll.fileno(), self._ready)

    def __len__(self) -> int:
        return len(self._flight)

    def start(self, target: Target, done: Done) -> None:
        """Begin one attempt; ``done`` is called later (never from within this call)."""
        loop = self._loop
        if target.port is None:
            loop.call_soon(done, CheckResult(
                False, "no port to connect to (set connect_port or the real server's port)"))
            return
        try:
            sock = make_socket(target, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        except CheckFailed as failed:
            loop.call_soon(done, CheckResult(False, failed.detail))
            return
        try:
            code = sock.connect_ex(sockaddr(target.address, target.port, target.bind_if))
        except (CheckFailed, OSError) as exc:
            sock.close()
            loop.call_soon(done, CheckResult(False, exc.detail if isinstance(exc, CheckFailed)
                                             else describe_os_error(exc)))
            return
        if code != errno.EINPROGRESS:  # settled at once: connected, or refused locally
            sock.close()
            loop.call_soon(done, _outcome(code))
            return
        fd = sock.fileno()
        attempt = _Attempt(sock, done, target.timeout)
        self._flight[fd] = attempt
        self._epoll.register(fd, select.EPOLLOUT)
        deadline = loop.time() + target.timeout
        heapq.heappush(self._deadlines, (deadline, next(self._order), fd, attempt))
        if self._timer is None:
            self._timer = loop.call_at(deadline, self._expire)

    def _ready(self) -> None:
        """Connects that finished: their sockets are writable (or in error). All of them,
        however many one epoll read returns: :meth:`_expire` relies on it."""
        flight = self._flight
        while True:
            events = self._epoll.poll(0, _BATCH)
            for fd, _ in events:
                attempt = flight.pop(fd, None)
                if attempt is None:
                    continue
                sock = attempt.sock
                try:
                    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                except OSError as exc:
                    code = exc.errno or errno.EIO
                sock.close()  # and out of the epoll set with it
                _deliver(attempt, _outcome(code))
            if len(events) < _BATCH:
                return

    def _expire(self) -> None:
        """Attempts past their connect_timeout fail; the timer moves to the next live one.

        Most entries are of attempts long finished: they are dropped here, so the timer
        fires about once per connect_timeout, not once per attempt."""
        self._timer = None
        self._ready()  # a connect that made it in time counts, even when the loop was late
        now = self._loop.time()
        deadlines, flight = self._deadlines, self._flight
        while deadlines and (deadlines[0][0] <= now or flight.get(deadlines[0][2])
                             is not deadlines[0][3]):
            _, _, fd, attempt = heapq.heappop(deadlines)
            if flight.get(fd) is not attempt:
                continue
            del flight[fd]
            self._epoll.unregister(fd)
            attempt.sock.close()
            _deliver(attempt, CheckResult(False, Phase().timed_out(attempt.timeout)))
        if deadlines:
            self._timer = self._loop.call_at(deadlines[0][0], self._expire)

    def close(self) -> None:
        """Stop: every attempt in flight is dropped (no result), the epoll set closed."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for attempt in self._flight.values():
            close_quietly(attempt.sock)
        self._flight.clear()
        self._deadlines.clear()
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(self._epoll.fileno())
        self._epoll.close()


def _outcome(code: int) -> CheckResult:
    if code == 0:
        return CONNECTED
    return CheckResult(False, describe_os_error(OSError(code, os.strerror(code))))


def _deliver(attempt: _Attempt, result: CheckResult) -> None:
    """One result to its owner; a failing owner must not cost the other attempts theirs."""
    try:
        attempt.done(result)
    except Exception:
        log.exception("handling a TCP_CHECK result failed")
