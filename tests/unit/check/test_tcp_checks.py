"""TCP_CHECK in bulk (TcpChecks, as the checker process runs it) gives what check_tcp gives:
the same result and words for a listening, a closed and a silent port and for options that
cannot be applied, within the same bound; on loopback, no root needed."""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.sockets import make_socket
from pykeepalived.check.tcp_check import TcpChecks, check_tcp
from pykeepalived.config.model_lvs import TcpCheck
from pykeepalived.daemon.check_main import CheckerProcess
from tests.unit.config.helpers import load
from tests.unit.daemon.test_check_process import FakeBackend
from tests.unit.notify._util import run_async, wait_until

LOOPBACK = IPv4Address("127.0.0.1")


@contextmanager
def listening(backlog: int = 16) -> Iterator[socket.socket]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(backlog)
        yield server


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def silent() -> Iterator[int]:
    """A port whose SYNs go unanswered: a listener that never accepts, its queue full."""
    with listening(backlog=0) as server:
        fillers = []
        try:
            for _ in range(3):
                sock = socket.socket()
                sock.setblocking(False)
                sock.connect_ex(server.getsockname())
                fillers.append(sock)
            yield server.getsockname()[1]
        finally:
            for sock in fillers:
                sock.close()


async def bulk(targets: list[Target]) -> list[CheckResult]:
    loop = asyncio.get_running_loop()
    checks = TcpChecks(loop)
    results: dict[int, CheckResult] = {}
    try:
        for i, target in enumerate(targets):
            checks.start(target, lambda r, i=i: results.__setitem__(i, r))
        assert results == {}  # never answered from within start()
        assert await wait_until(lambda: len(results) == len(targets), 5.0)
        assert len(checks) == 0
    finally:
        checks.close()
    return [results[i] for i in range(len(targets))]


async def one_by_one(targets: list[Target]) -> list[CheckResult]:
    return list(await asyncio.gather(*(check_tcp(TcpCheck(), t) for t in targets)))


def target(port: int | None, timeout: float = 0.3, **kw: Any) -> Target:
    return Target(LOOPBACK, port, timeout, **kw)


@run_async
async def test_bulk_attempts_say_what_check_tcp_says() -> None:
    with listening() as server, silent() as quiet:
        up = server.getsockname()[1]
        targets = [target(up), target(closed_port()), target(quiet), target(None),
                   target(up, bindto=IPv6Address("2001:db8::1")), target(up, bind_if="nosuchif0"),
                   target(up, bindto=LOOPBACK)]
        expected = await one_by_one(targets)
        got = await bulk(targets)
    assert [r.ok for r in got] == [True, False, False, False, False, False, True]
    assert got[1].detail == "connection refused"
    assert got[2].detail == "timeout after 0.3 s connecting"
    assert got == expected


@run_async
async def test_a_silent_port_times_out_at_its_own_connect_timeout() -> None:
    loop = asyncio.get_running_loop()
    with listening() as server, silent() as quiet:
        checks = TcpChecks(loop)
        done: dict[str, float] = {}
        start = loop.time()
        checks.start(target(quiet, timeout=0.6), lambda r: done.__setitem__("slow", loop.time()))
        checks.start(target(quiet, timeout=0.2), lambda r: done.__setitem__("fast", loop.time()))
        checks.start(target(server.getsockname()[1]),
                     lambda r: done.__setitem__("up", loop.time()))
        try:
            assert await wait_until(lambda: len(done) == 3, 5.0)
        finally:
            checks.close()
    assert done["up"] < done["fast"] < done["slow"]
    assert done["fast"] - start >= 0.2 and done["slow"] - start >= 0.6


@run_async
async def test_a_shorter_timeout_started_later_is_not_held_to_the_longer_one() -> None:
    """An attempt's connect_timeout is its own even when an attempt with a longer one was
    started before it: its failure comes before the other's deadline."""
    loop = asyncio.get_running_loop()
    with silent() as quiet:
        checks = TcpChecks(loop)
        done: dict[str, float] = {}
        start = loop.time()
        checks.start(target(quiet, timeout=3.0), lambda r: done.__setitem__("slow", loop.time()))
        checks.start(target(quiet, timeout=0.2), lambda r: done.__setitem__("fast", loop.time()))
        try:
            assert await wait_until(lambda: "fast" in done, 2.5), "held to the 3 s deadline"
        finally:
            checks.close()
    assert "slow" not in done and done["fast"] - start >= 0.2


@run_async
async def test_close_drops_attempts_in_flight() -> None:
    loop = asyncio.get_running_loop()
    with silent() as quiet:
        checks = TcpChecks(loop)
        results: list[CheckResult] = []
        checks.start(target(quiet, timeout=0.2), results.append)
        assert len(checks) == 1
        checks.close()
        await asyncio.sleep(0.4)
    assert results == [] and len(checks) == 0


@run_async
async def test_a_failing_owner_does_not_cost_the_others_their_results() -> None:
    with listening() as server:
        port = server.getsockname()[1]
        results: list[CheckResult] = []

        def broken(_result: CheckResult) -> None:
            raise RuntimeError("bug")

        loop = asyncio.get_running_loop()
        checks = TcpChecks(loop)
        try:
            checks.start(target(port), broken)
            checks.start(target(port), results.append)
            assert await wait_until(lambda: len(results) == 1, 5.0)
        finally:
            checks.close()
    assert results == [CheckResult(True, "connected")]


@run_async
async def test_the_checker_process_runs_tcp_check_in_bulk(tmp_path: Path) -> None:
    with listening() as server:
        up, down = server.getsockname()[1], closed_port()
        text = f"""
virtual_server 203.0.113.10 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {up} {{
        TCP_CHECK {{
            connect_timeout 1
            retry 0
        }}
    }}
    real_server 127.0.0.1 {down} {{
        TCP_CHECK {{
            connect_timeout 1
            retry 0
        }}
    }}
}}
"""
        result = load(tmp_path, text)
        backend = FakeBackend()
        proc = CheckerProcess(result.config, backend, {"TCP_CHECK": check_tcp}, bootstrap=0.05)
        await proc.start()

        def lasts() -> dict[str, str | None]:
            return {rs["rs"]: rs["checks"][0]["last"] for rs in proc.status()[0]["real_servers"]}

        try:
            assert await wait_until(lambda: None not in lasts().values(), 5.0), lasts()
            assert await wait_until(lambda: backend.pool() == [("127.0.0.1", 1)], 5.0), \
                backend.pool()
            assert lasts() == {f"[127.0.0.1]:tcp:{up}": "connected",
                              f"[127.0.0.1]:tcp:{down}": "connection refused"}
            assert proc._tasks == set()  # no task per attempt
        finally:
            await proc.stop()


@run_async
async def test_connects_done_before_their_deadline_count_however_many_wait() -> None:
    """A loop held up past the deadline of attempts that had connected meanwhile (more of
    them than one epoll read returns) still reports them connected, as check_tcp would: the
    finished connects are read before any attempt is declared timed out."""
    loop = asyncio.get_running_loop()
    count = 1500
    with listening(backlog=2048) as server:
        port = server.getsockname()[1]
        checks = TcpChecks(loop)
        results: list[CheckResult] = []
        try:
            for _ in range(count):
                checks.start(target(port, timeout=0.2), results.append)
            time.sleep(0.4)  # the loop is busy elsewhere while every connect completes
            assert await wait_until(lambda: len(results) == count, 5.0)
        finally:
            checks.close()
    assert {r.detail for r in results} == {"connected"}


@run_async
async def test_connects_that_have_ended_give_their_results_in_flush() -> None:
    """flush() looks at a batch of connects at once: those that have ended (connected or
    refused) give their result from within the call, with no epoll round, and leave
    nothing in flight; one still under way stays in flight until its deadline."""
    loop = asyncio.get_running_loop()
    with listening(backlog=64) as server, silent() as quiet:
        checks = TcpChecks(loop)
        results: list[CheckResult] = []
        try:
            for _ in range(20):
                checks.start(target(server.getsockname()[1]), results.append)
            checks.start(target(closed_port()), results.append)
            checks.start(target(quiet, timeout=0.3), results.append)
            time.sleep(0.2)  # the kernel ends the handshakes meanwhile; the loop is held
            assert results == []
            checks.flush()
            assert results == [CheckResult(True, "connected")] * 20 + [
                CheckResult(False, "connection refused")]
            assert len(checks) == 1
            assert await wait_until(lambda: len(results) == 22, 5.0)
        finally:
            checks.close()
    assert results[-1] == CheckResult(False, "timeout after 0.3 s connecting")


def test_bindto_alone_leaves_the_source_port_to_connect() -> None:
    """bindto without bind_port binds the address only (IP_BIND_ADDRESS_NO_PORT): connect
    picks the port, unique for the four addresses and ports. A bind to port 0 looks for a
    port no socket holds, past every TIME_WAIT of the checks before: with 1,000 checks a
    second it cost 450-500 us of system time a check instead of 30."""
    sock = make_socket(target(80, bindto=LOOPBACK), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        assert sock.getsockname() == ("127.0.0.1", 0)
    finally:
        sock.close()
    port = closed_port()
    sock = make_socket(target(80, bindto=LOOPBACK, bind_port=port), socket.SOCK_STREAM,
                       socket.IPPROTO_TCP)
    try:
        assert sock.getsockname() == ("127.0.0.1", port)
    finally:
        sock.close()


def test_a_reset_reported_by_asyncio_streams_reads_as_a_reset() -> None:
    """asyncio's StreamWriter.drain raises ConnectionResetError('Connection lost'), with no
    errno, when the server resets the connection while the request is being sent (HTTP_GET
    against a resetting server said "Connection lost while sending the request")."""
    from pykeepalived.check.sockets import describe_os_error

    assert describe_os_error(ConnectionResetError("Connection lost")) == \
        "connection reset by the server"
    assert describe_os_error(ConnectionResetError(errno.ECONNRESET, "reset")) == \
        "connection reset by the server"
    assert describe_os_error(OSError("something else")) == "something else"


@run_async
async def test_a_retry_sooner_than_the_armed_check_is_not_held_to_it(tmp_path: Path) -> None:
    """A result whose next attempt comes before the timer already set (a retry after
    delay_before_retry 0.2 s while the other server's next check is 30 s away) moves the
    timer forward: the dead server leaves the pool after its retry, not 30 s later."""
    with listening() as server:
        up, down = server.getsockname()[1], closed_port()
        text = f"""
virtual_server 203.0.113.10 80 {{
    delay_loop 30
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {up} {{
        TCP_CHECK {{
            connect_timeout 1
            warmup 0
        }}
    }}
    real_server 127.0.0.1 {down} {{
        TCP_CHECK {{
            connect_timeout 1
            warmup 0
            retry 2
            delay_before_retry 0.2
        }}
    }}
}}
"""
        result = load(tmp_path, text)
        backend = FakeBackend()
        proc = CheckerProcess(result.config, backend, {"TCP_CHECK": check_tcp}, bootstrap=0.05)
        await proc.start()
        try:
            assert await wait_until(lambda: backend.pool() == [("127.0.0.1", 1)], 3.0), \
                backend.pool()
            [down_rs] = [rs for rs in proc.core.virtual_servers[0].real_servers
                         if rs.port == down]
            assert not down_rs.alive
        finally:
            await proc.stop()
