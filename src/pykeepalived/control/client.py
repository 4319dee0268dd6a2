"""``pykeepalived --status``: ask each child process for its state over its control socket."""

from __future__ import annotations

import json
import socket
from typing import Any

from pykeepalived.control.server import socket_path

ROLES = ("vrrp", "check")
TIMEOUT = 5.0


class ControlError(OSError):
    """The child could not be asked (not running, no socket, no answer)."""


def ask(path: str, request: dict[str, Any], timeout: float = TIMEOUT) -> dict[str, Any]:
    """Send one request to the control socket at ``path``; its JSON reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
            sock.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError as exc:
            raise ControlError(f"{path}: {exc.strerror or exc}") from exc
    try:
        reply = json.loads(data)
    except ValueError as exc:
        raise ControlError(f"{path}: not a JSON reply") from exc
    if not isinstance(reply, dict):
        raise ControlError(f"{path}: not a JSON object")
    return reply


def status(pid_file: str, *, history: bool = False) -> dict[str, dict[str, Any] | str]:
    """Every child's status reply, or why it could not be had."""
    out: dict[str, dict[str, Any] | str] = {}
    for role in ROLES:
        try:
            out[role] = ask(socket_path(pid_file, role), {"cmd": "status", "history": history})
        except ControlError as exc:
            out[role] = str(exc)
    return out
