"""A socket standing in for systemd's notification socket ($NOTIFY_SOCKET)."""

from __future__ import annotations

import os
import socket
import time
from types import TracebackType


class NotifySocket:
    """Binds a datagram socket (abstract namespace by default) and collects what it gets."""

    def __init__(self, abstract: bool = True, path: str | None = None) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"pykeepalived-test-{os.getpid()}-{time.monotonic_ns()}"
            self.sock.bind(b"\0" + name.encode())
            self.env = f"@{name}"
        else:
            assert path is not None
            self.sock.bind(path)
            self.env = path
        self.messages: list[dict[str, str]] = []

    def __enter__(self) -> NotifySocket:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.sock.close()

    def receive(self, timeout: float) -> dict[str, str] | None:
        """The next datagram as its assignments, or None after ``timeout`` seconds."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return None
        fields = dict(line.split("=", 1) for line in data.decode().split("\n") if line)
        self.messages.append(fields)
        return fields

    def wait_for(self, key: str, timeout: float = 10.0) -> dict[str, str] | None:
        """The first datagram (from now) that sets ``key``; None if none came in time."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            fields = self.receive(left)
            if fields is not None and key in fields:
                return fields
        return None
