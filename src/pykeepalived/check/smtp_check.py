"""SMTP_CHECK: a greeting ``220``, ``HELO <helo_name>`` answered ``250``, then ``QUIT``.

keepalived/check/check_smtp.c, whose reading of the dialogue is kept:

- each answer is one line: the bytes up to the first newline of what one read returned
  (at most 511 bytes; what follows the newline in that read is dropped);
- its status is the first three characters, which must be digits followed by a space or by
  the end of the line (so a continuation line such as ``220-mail ESMTP`` is not a greeting,
  and neither is a bare ``220`` ended by CRLF, whose CR follows the digits);
- ``helo_name`` defaults to ``smtpchecker.keepalived.org``;
- after ``QUIT`` one more line must arrive, whatever it says: a server that closes instead
  fails the check.

Without a port (neither connect_port nor the real server's) port 25 is used.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from typing import Final

from pykeepalived.check.context import CheckContext
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.sockets import (
    CheckFailed,
    Phase,
    close_quietly,
    describe_os_error,
    open_stream_socket,
)
from pykeepalived.config.model_lvs import SmtpCheck

__all__ = ["DEFAULT_HELO", "SMTP_PORT", "check_smtp", "smtp_status"]

DEFAULT_HELO: Final = "smtpchecker.keepalived.org"
SMTP_PORT: Final = 25
_LINE_MAX: Final = 511  # keepalived's SMTP_BUFF_MAX less its terminating NUL


def smtp_status(line: bytes) -> int | None:
    """The status of one answer line (without its newline), keepalived's way; None if none."""
    if len(line) < 3 or not line[:3].isdigit():
        return None
    if len(line) > 3 and line[3:4] != b" ":
        return None
    return int(line[:3])


def _shown(line: bytes) -> str:
    return repr(line.rstrip(b"\r")[:80].decode("ascii", "replace"))


async def check_smtp(spec: SmtpCheck, target: Target,
                     context: CheckContext | None = None) -> CheckResult:
    """One SMTP_CHECK attempt, bounded by ``target.timeout``."""
    if target.port is None:
        target = dataclasses.replace(target, port=SMTP_PORT)
    phase = Phase()
    try:
        async with asyncio.timeout(target.timeout):
            sock = await open_stream_socket(target, phase)
            try:
                return await _dialogue(sock, spec.helo_name or DEFAULT_HELO, phase)
            finally:
                close_quietly(sock)
    except TimeoutError:
        return CheckResult(False, phase.timed_out(target.timeout))
    except CheckFailed as failed:
        return CheckResult(False, failed.detail)


async def _dialogue(sock: socket.socket, helo_name: str, phase: Phase) -> CheckResult:
    loop = asyncio.get_running_loop()

    async def line(waiting_for: str) -> bytes:
        phase.now = f"waiting for {waiting_for}"
        buffer = b""
        while True:
            try:
                data = await loop.sock_recv(sock, _LINE_MAX - len(buffer))
            except OSError as exc:
                raise CheckFailed(f"{describe_os_error(exc)} while {phase.now}") from None
            if not data:
                raise CheckFailed(f"connection closed while {phase.now}")
            buffer += data
            newline = buffer.find(b"\n")
            if newline >= 0:
                return buffer[:newline]
            if len(buffer) >= _LINE_MAX:
                buffer = b""  # keepalived empties a full buffer and reads on

    async def send(text: str) -> None:
        phase.now = f"sending {text.split()[0]}"
        try:
            await loop.sock_sendall(sock, text.encode("utf-8", "surrogateescape") + b"\r\n")
        except OSError as exc:
            raise CheckFailed(f"{describe_os_error(exc)} while {phase.now}") from None

    banner = await line("the greeting banner")
    if smtp_status(banner) != 220:
        return CheckResult(False, f"bad greeting banner {_shown(banner)}, expected 220")
    await send(f"HELO {helo_name}")
    answer = await line("the answer to HELO")
    if smtp_status(answer) != 250:
        return CheckResult(False, f"HELO {helo_name} answered {_shown(answer)}, expected 250")
    await send("QUIT")
    await line("the answer to QUIT")
    return CheckResult(True, f"HELO answered {_shown(answer)}")
