"""The control socket of a child process: one JSON request per line, one JSON reply per line.

Each child (VRRP, checker) listens on a unix socket of its own next to the pid files, owned by
root and readable by root only (mode 0600): ``pykeepalived --status`` asks every child for its
state. A request is ``{"cmd": "status"}``; the reply is the handler's JSON object, or
``{"error": "..."}``. A client that sends garbage, or nothing, gets an error or is dropped
after a timeout; it never holds up the child's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable
from typing import Any

log = logging.getLogger("pykeepalived.control")

Handler = Callable[[dict[str, Any]], dict[str, Any]]
REQUEST_LIMIT = 64 * 1024
CLIENT_TIMEOUT = 5.0


def socket_path(pid_file: str, role: str) -> str:
    """Where ``role``'s control socket is: beside the parent's pid file."""
    return os.path.join(os.path.dirname(os.path.abspath(pid_file)) or "/",
                        f"pykeepalived-{role}.sock")


class ControlServer:
    """A unix-socket server answering JSON requests with ``handler``."""

    def __init__(self, path: str, handler: Handler) -> None:
        self.path = path
        self.handler = handler
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # a stale socket of a killed process
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._client, self.path,
                                                           limit=REQUEST_LIMIT)
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    async def _client(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), CLIENT_TIMEOUT)
            try:
                request = json.loads(line)
                if not isinstance(request, dict):
                    raise ValueError("a request is a JSON object")
                reply = self.handler(request)
            except (ValueError, KeyError, TypeError) as exc:
                reply = {"error": f"bad request: {exc}"}
            writer.write(json.dumps(reply, default=str).encode() + b"\n")
            await asyncio.wait_for(writer.drain(), CLIENT_TIMEOUT)
        except (TimeoutError, ConnectionError, asyncio.LimitOverrunError, ValueError) as exc:
            log.debug("control client dropped: %s", exc)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
