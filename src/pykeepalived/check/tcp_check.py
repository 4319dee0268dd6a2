"""TCP_CHECK: the real server is up when a TCP connection to it opens.

keepalived/check/check_tcp.c: connect (with bindto, bind_port, bind_if and fwmark applied),
and close at once; a refused, unreachable or timed-out connect is a failure. Nothing is sent.

:func:`check_tcp` is one attempt as a coroutine, like every checker. :class:`TcpChecks` makes
the same attempts in bulk for the checker process, where thousands of real servers are
checked every second: no task, future or timer per attempt, but a plain non-blocking socket
watched by one epoll set (one reader of the event loop), and deadlines in one queue per
connect_timeout (one timer). Attempts with the same connect_timeout end in the order they
started, so each queue stays sorted by itself: adding and removing a deadline costs the same
whatever the number in flight, which a heap of 10,000 deadlines does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import select
import socket
from collections import deque
from collections.abc import Callable
from ipaddress import IPv6Address

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
_ADDRESSES_KEPT = 1 << 16  # socket addresses remembered (targets of this and past configs)


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
        # connect_timeout -> (deadline, fd, attempt) in start order: stale once the attempt
        # has left _flight
        self._deadlines: dict[float, deque[tuple[float, int, _Attempt]]] = {}
        self._timer: asyncio.TimerHandle | None = None
        # a target's socket address, made once (the text of an address costs more than the
        # rest of an attempt's Python)
        self._addresses: dict[Target, tuple[str, int] | tuple[str, int, int, int]] = {}
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
            code = sock.connect_ex(self._sockaddr(target, target.port))
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
        queue = self._deadlines.get(target.timeout)
        if queue is None:
            queue = self._deadlines[target.timeout] = deque()
        queue.append((deadline, fd, attempt))
        self._arm(deadline)

    def _sockaddr(self, target: Target, port: int
                  ) -> tuple[str, int] | tuple[str, int, int, int]:
        found = self._addresses.get(target)
        if found is not None:
            return found
        found = sockaddr(target.address, port, target.bind_if)
        if isinstance(target.address, IPv6Address) and target.address.is_link_local:
            return found  # its scope is an interface index, which may change: not kept
        if len(self._addresses) >= _ADDRESSES_KEPT:
            self._addresses.clear()
        self._addresses[target] = found
        return found

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
        flight = self._flight
        earliest: float | None = None
        for timeout, queue in list(self._deadlines.items()):
            while queue and (queue[0][0] <= now or flight.get(queue[0][1]) is not queue[0][2]):
                _, fd, attempt = queue.popleft()
                if flight.get(fd) is not attempt:
                    continue
                del flight[fd]
                self._epoll.unregister(fd)
                attempt.sock.close()
                _deliver(attempt, CheckResult(False, Phase().timed_out(attempt.timeout)))
            if not queue:
                del self._deadlines[timeout]
            elif earliest is None or queue[0][0] < earliest:
                earliest = queue[0][0]
        if earliest is not None:
            self._arm(earliest)

    def _arm(self, deadline: float) -> None:
        """The timer at ``deadline`` unless it is already set as early."""
        timer = self._timer
        if timer is not None:
            if timer.when() <= deadline:
                return
            timer.cancel()
        self._timer = self._loop.call_at(deadline, self._expire)

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
