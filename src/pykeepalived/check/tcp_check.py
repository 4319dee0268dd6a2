"""TCP_CHECK: the real server is up when a TCP connection to it opens.

keepalived/check/check_tcp.c: connect (with bindto, bind_port, bind_if and fwmark applied),
and close at once; a refused, unreachable or timed-out connect is a failure. Nothing is sent.

:func:`check_tcp` is one attempt as a coroutine, like every checker. :class:`TcpChecks` makes
the same attempts in bulk for the checker process, where thousands of real servers are
checked every second: no task, future or timer per attempt, but a plain non-blocking socket;
the connects of a batch are looked at together with one poll (over a veth or the loopback
they have ended before connect returns), and those still under way are watched by one epoll
set (one reader of the event loop), with deadlines in one queue per connect_timeout (one
timer). Attempts with the same connect_timeout end in the order they
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
from typing import Final

from pykeepalived.check.context import CheckContext
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.sockets import (
    CheckFailed,
    Phase,
    close_quietly,
    describe_os_error,
    family_of,
    make_socket_of,
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
SockAddr = tuple[str, int] | tuple[str, int, int, int]

# the connect failed, or the connection did (poll's flags have epoll's values)
_FAILED = select.EPOLLERR | select.EPOLLHUP
_STREAM = socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC

# An attempt in flight is a plain tuple (made and read thousands of times a second, where
# a class's __init__ would be a Python call each time): these are its fields.
_DEADLINE: Final = 0
_FD: Final = 1
_SOCK: Final = 2
_DONE: Final = 3
_TIMEOUT: Final = 4
_Attempt = tuple[float, int, socket.SocketType, Done, float]


class _Route:
    """How to reach one target, worked out once: its family, its socket address, and
    whether any connection option (bindto, bind_port, bind_if, fwmark) has to be applied."""

    __slots__ = ("address", "family", "plain", "target")

    def __init__(self, target: Target, address: SockAddr) -> None:
        self.target = target  # held, so that the id it is filed under is not reused
        self.address = address
        self.family = family_of(target)
        self.plain = not (target.bindto is not None or target.bind_port is not None
                          or target.bind_if or target.fwmark)


class TcpChecks:
    """TCP_CHECK attempts in flight, each ending in one call of its ``done`` with the result
    :func:`check_tcp` would have given (the same words, the same bound)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._epoll = select.epoll()
        self._fresh: list[_Attempt] = []  # started, not yet looked at (see flush)
        self._soon = False  # a flush is due at the loop's next round
        self._flight: dict[int, _Attempt] = {}  # socket fd -> its attempt, in the epoll set
        # connect_timeout -> attempts in start order: stale once the attempt has ended
        self._deadlines: dict[float, deque[_Attempt]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0  # when _timer fires
        # a target's route, filed under the target's id (a Target's own hash, which hashes
        # its address in Python, costs more than the rest of the attempt's Python)
        self._routes: dict[int, _Route] = {}
        loop.add_reader(self._epoll.fileno(), self._ready)

    def __len__(self) -> int:
        return len(self._flight) + len(self._fresh)

    def start(self, target: Target, done: Done, now: float | None = None, *,
              flush: bool = True) -> None:
        """Begin one attempt; ``done`` is called later (never from within this call).
        ``now`` is the loop's time, when the caller has it already. ``flush`` False: the
        caller calls :meth:`flush` itself after its batch (else the loop does, at its next
        round, which costs a round of the loop that does nothing else)."""
        loop = self._loop
        route = self._routes.get(id(target))
        if route is None or route.target is not target:
            if target.port is None:
                loop.call_soon(done, CheckResult(
                    False, "no port to connect to (set connect_port or the real server's port)"))
                return
            try:
                route = self._route(target, target.port)
            except CheckFailed as failed:
                loop.call_soon(done, CheckResult(False, failed.detail))
                return
        try:
            if route.plain:
                sock = socket.SocketType(route.family, _STREAM, socket.IPPROTO_TCP)
            else:
                sock = make_socket_of(socket.SocketType, target, socket.SOCK_STREAM,
                                      socket.IPPROTO_TCP)
        except (CheckFailed, OSError) as exc:
            loop.call_soon(done, CheckResult(False, exc.detail if isinstance(exc, CheckFailed)
                                             else f"cannot create a socket: "
                                                  f"{describe_os_error(exc)}"))
            return
        try:
            code = sock.connect_ex(route.address)
        except OSError as exc:
            sock.close()
            loop.call_soon(done, CheckResult(False, describe_os_error(exc)))
            return
        if code != errno.EINPROGRESS:  # settled at once: connected, or refused locally
            sock.close()
            loop.call_soon(done, _outcome(code))
            return
        timeout = target.timeout
        if flush and not self._soon:
            self._soon = True
            loop.call_soon(self._flush_soon)
        deadline = (loop.time() if now is None else now) + timeout
        self._fresh.append((deadline, sock.fileno(), sock, done, timeout))

    def _flush_soon(self) -> None:
        self._soon = False
        self.flush()

    def flush(self) -> None:
        """Look at the connects started since the last look, in one system call: those that
        have ended already (over a veth or the loopback the handshake is over before
        connect returns) give their result now, from within this call; the others join the
        epoll set. The owner calls this after a batch of :meth:`start`; the loop calls it
        soon after a start that did not say otherwise.

        A connect that ended is closed here, as it would be once epoll reported it: what the
        real server sees is the same (the handshake, then the FIN), and the socket never
        enters the epoll set (no epoll_ctl to add it, none to take it out at close)."""
        fresh = self._fresh
        if not fresh:
            return
        self._fresh = []
        poller = select.poll()
        for attempt in fresh:
            poller.register(attempt[_FD], select.POLLOUT)
        ended = dict(poller.poll(0))
        flight = self._flight
        epoll = self._epoll
        deadlines = self._deadlines
        for attempt in fresh:
            fd = attempt[_FD]
            flags = ended.get(fd)
            if flags:
                self._settle(attempt, flags)
                continue
            flight[fd] = attempt
            epoll.register(fd, select.EPOLLOUT)
            timeout = attempt[_TIMEOUT]
            queue = deadlines.get(timeout)
            if queue is None:
                queue = deadlines[timeout] = deque()
            queue.append(attempt)
            deadline = attempt[_DEADLINE]
            if self._timer is None or deadline < self._timer_at:
                self._arm(deadline)

    def _route(self, target: Target, port: int) -> _Route:
        route = _Route(target, sockaddr(target.address, port, target.bind_if))
        if isinstance(target.address, IPv6Address) and target.address.is_link_local:
            return route  # its scope is an interface index, which may change: not kept
        if len(self._routes) >= _ADDRESSES_KEPT:
            self._routes.clear()
        self._routes[id(target)] = route
        return route

    def _ready(self) -> None:
        """Connects that finished: their sockets are writable (or in error). All of them,
        however many one epoll read returns: :meth:`_expire` relies on it."""
        flight = self._flight
        settle = self._settle
        while True:
            events = self._epoll.poll(0, _BATCH)
            for fd, flags in events:
                attempt = flight.pop(fd, None)
                if attempt is not None:
                    settle(attempt, flags)
            if len(events) < _BATCH:
                return

    @staticmethod
    def _settle(attempt: _Attempt, flags: int) -> None:
        """The end of a connect, as epoll or poll reported it: writable alone is connected,
        with no SO_ERROR to read; an error or a hang-up says its reason in SO_ERROR."""
        sock = attempt[_SOCK]
        if flags & _FAILED:
            try:
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            except OSError as exc:
                code = exc.errno or errno.EIO
            result = _outcome(code)
        else:
            result = CONNECTED
        sock.close()  # and out of the epoll set with it
        try:
            attempt[_DONE](result)
        except Exception:  # a failing owner must not cost the others their results
            log.exception("handling a TCP_CHECK result failed")

    def _expire(self) -> None:
        """Attempts past their connect_timeout fail; the timer moves to the next live one.

        Most entries are of attempts long finished: they are dropped here, so the timer
        fires about once per connect_timeout, not once per attempt."""
        self._timer = None
        self.flush()  # a connect that made it in time counts, even when the loop was late
        self._ready()
        now = self._loop.time()
        flight = self._flight
        earliest: float | None = None
        for timeout, queue in list(self._deadlines.items()):
            while queue and (queue[0][_DEADLINE] <= now
                             or flight.get(queue[0][_FD]) is not queue[0]):
                attempt = queue.popleft()
                fd = attempt[_FD]
                if flight.get(fd) is not attempt:
                    continue
                del flight[fd]
                self._epoll.unregister(fd)
                attempt[_SOCK].close()
                _deliver(attempt, CheckResult(False, Phase().timed_out(attempt[_TIMEOUT])))
            if not queue:
                del self._deadlines[timeout]
            elif earliest is None or queue[0][_DEADLINE] < earliest:
                earliest = queue[0][_DEADLINE]
        if earliest is not None:
            self._arm(earliest)

    def _arm(self, deadline: float) -> None:
        """The timer at ``deadline`` unless it is already set as early."""
        timer = self._timer
        if timer is not None:
            if self._timer_at <= deadline:
                return
            timer.cancel()
        self._timer = self._loop.call_at(deadline, self._expire)
        self._timer_at = deadline

    def close(self) -> None:
        """Stop: every attempt in flight is dropped (no result), the epoll set closed."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for attempt in [*self._flight.values(), *self._fresh]:
            close_quietly(attempt[_SOCK])
        self._flight.clear()
        self._fresh.clear()
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
        attempt[_DONE](result)
    except Exception:
        log.exception("handling a TCP_CHECK result failed")
