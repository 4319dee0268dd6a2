"""systemd's service notifications (``sd_notify(3)``), the few lines of the protocol we need.

Under ``Type=notify`` systemd names a datagram socket in ``$NOTIFY_SOCKET``; the service sends
it newline-separated ``KEY=VALUE`` assignments. pykeepalived's parent process (the unit's main
process, hence ``NotifyAccess=main``) sends ``READY=1`` once every child has reported its first
state, ``RELOADING=1`` on HUP and ``READY=1`` again when the children have dealt with it, and
``STOPPING=1`` on TERM. A name starting with ``@`` is in the abstract namespace. Without the
variable (started by hand, or by an init that is not systemd) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import MutableMapping

log = logging.getLogger("pykeepalived.daemon")

ENV = "NOTIFY_SOCKET"


def _address(name: str) -> str | bytes | None:
    """The socket address ``$NOTIFY_SOCKET`` names; None for a kind we do not speak."""
    if name.startswith("/"):
        return name
    if name.startswith("@"):
        return b"\0" + name[1:].encode()
    return None


class SystemdNotifier:
    """Sends service state changes to systemd; a no-op when systemd did not ask for them."""

    def __init__(self, name: str | None) -> None:
        self.name = name
        self.address = _address(name) if name else None
        if name and self.address is None:
            log.warning("$%s=%s is not a socket path pykeepalived can use: systemd will "
                        "not be told when the daemon is ready", ENV, name)
        self._failed = False

    @classmethod
    def from_environment(cls, environ: MutableMapping[str, str] | None = None
                         ) -> SystemdNotifier:
        """Take ``$NOTIFY_SOCKET`` out of the environment (as sd_notify's unset_environment):
        only this process speaks for the service, not the children nor their scripts."""
        env = os.environ if environ is None else environ
        return cls(env.pop(ENV, None) or None)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *assignments: str) -> bool:
        """One datagram of ``KEY=VALUE`` lines; True when systemd's socket took it."""
        if self.address is None:
            return False
        message = "\n".join(assignments)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message.encode(), self.address)
        except OSError as exc:
            if not self._failed:  # once: a vanished socket must not flood the log
                log.warning("Cannot notify systemd through %s: %s", self.name, exc)
                self._failed = True
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def reloading(self) -> bool:
        """RELOADING=1 with the monotonic time systemd 253's ``Type=notify-reload`` wants
        beside it (older systemd ignores the extra field)."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send("RELOADING=1", f"MONOTONIC_USEC={usec}",
                         "STATUS=Reloading the configuration")

    def stopping(self) -> bool:
        return self.send("STOPPING=1", "STATUS=Stopping")

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")
