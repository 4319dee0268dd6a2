"""TCP_CHECK: the real server is up when a TCP connection to it opens.

keepalived/check/check_tcp.c: connect (with bindto, bind_port, bind_if and fwmark applied),
and close at once; a refused, unreachable or timed-out connect is a failure. Nothing is sent.
"""

from __future__ import annotations

import asyncio

from pykeepalived.check.context import CheckContext
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.sockets import CheckFailed, Phase, close_quietly, open_stream_socket
from pykeepalived.config.model_lvs import Checker

__all__ = ["check_tcp"]


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
    return CheckResult(True, "connected")
