"""SIGHUP: read the new configuration away from the event loop, then decide whether to take it.

Parsing a large configuration takes longer than a Master_Down_Interval (1,000 instances and
1,000 virtual servers: over a second), so it never runs on the VRRP process's loop: a child
process (:mod:`pykeepalived.daemon.loadconf`) reads and checks the file and hands the model
back, and the loop only waits for it, sending adverts meanwhile. The swap itself is one step
(``VrrpProcess.apply``).

A configuration with errors is refused and the running one kept (keepalived 2.2.7 exits instead
and leaves its VIPs behind); keepalived's SECURITY VIOLATION (scripts without
enable_script_security) is reported but, as keepalived runs with it, does not stop a reload.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import sys
from typing import Any

import pykeepalived

log = logging.getLogger("pykeepalived.vrrp")

LOAD_TIMEOUT = 120.0  # seconds; a configuration that takes longer is refused


def _child_env() -> dict[str, str]:
    """The child must import this very pykeepalived, wherever it was started from."""
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.abspath(pykeepalived.__file__)))
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                else "")
    return env


async def load_off_loop(path: str, config_id: str | None, timeout: float = LOAD_TIMEOUT, *,
                        keep_lvs: bool = False, vrrp: bool = False) -> Any | None:
    """Parse ``path`` in a child process; the new configuration model, or None (logged)
    when it cannot be read, has errors, or the child fails. Virtual servers come back only
    with ``keep_lvs``; with ``vrrp``, the VRRP process's
    :class:`~pykeepalived.daemon.instance.VrrpSetup` instead of the model."""
    argv = [sys.executable, "-m", "pykeepalived.daemon.loadconf", path]
    if config_id is not None:
        argv += ["--config-id", config_id]
    if keep_lvs:
        argv.append("--keep-lvs")
    if vrrp:
        argv.append("--vrrp")
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=_child_env())
    except OSError as exc:
        log.error("Reload failed, keeping the running configuration: cannot start the "
                  "configuration reader: %s", exc)
        return None
    try:
        data, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        log.error("Reload failed, keeping the running configuration: reading %s took over "
                  "%g s", path, timeout)
        return None
    if proc.returncode != 0 or not data:
        log.error("Reload failed, keeping the running configuration: the configuration "
                  "reader exited with %s: %s", proc.returncode,
                  err.decode(errors="replace").strip()[-500:])
        return None
    try:
        reply = pickle.loads(data)  # our own child's output
    except Exception as exc:  # a reload must never take the daemon down
        log.error("Reload failed, keeping the running configuration: %s", exc)
        return None
    return accept(reply)


def accept(reply: dict[str, Any]) -> Any | None:
    """Log the diagnostics of a reload; the configuration to apply, or None."""
    from pykeepalived.config import Category

    if "error" in reply:
        log.error("Reload failed, keeping the running configuration: %s", reply["error"])
        return None
    result = reply["result"]
    for diag in result.diagnostics:
        (log.error if diag.severity == "error" else log.warning)("%s", diag)
    # Stricter than at start-up: an error that drops a block could drop a running instance
    # (and its VIPs) along with it. Only keepalived's SECURITY VIOLATION, which it runs
    # with anyway, is let through.
    blocking = [d for d in result.diagnostics
                if d.severity == "error" and d.category != Category.SECURITY_ERROR]
    if not result.runnable or blocking:
        log.error("Configuration has errors: reload refused, keeping the running one")
        return None
    return reply.get("setup", result.config)
