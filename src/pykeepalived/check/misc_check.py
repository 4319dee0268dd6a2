"""MISC_CHECK: run ``misc_path``; its exit status says whether the real server is up.

keepalived/check/check_misc.c, whose rules are kept:

- exit status 0 passes, any other fails; a script killed by a signal fails;
- with ``misc_dynamic``, exit status 2..255 passes too and sets the real server's weight to
  status - 2 (the result's ``weight``); exit 0 passes and gives back the configured weight
  (the result's ``weight`` is None); exit 1 fails;
- the script may run for ``misc_timeout`` seconds, or when that is not set (or 0) for the
  ``delay_loop``; then its process group gets SIGTERM, and SIGKILL two seconds later if
  it is still there; a script that had to be killed fails;
- it runs as ``user [group]`` when given, else as ``script_user``, with script security as
  configured: both are the :class:`~pykeepalived.notify.script.ScriptRunner`'s rules, the
  same as for every other script the daemon runs.

The script's output goes to /dev/null (as keepalived sends it when not debugging), so a
script that floods its output neither blocks nor fills memory.

The attempt returns by the timeout (plus a short margin) even if the script ignores SIGTERM:
the runner goes on killing and reaping it in the background.
"""

from __future__ import annotations

import asyncio
from typing import Final

from pykeepalived.check.context import CheckContext
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.sockets import fmt_seconds
from pykeepalived.config.model_lvs import MiscCheck
from pykeepalived.notify.script import ScriptResult
from pykeepalived.notify.split import ScriptSyntaxError, split_script

__all__ = ["DEFAULT_DELAY_LOOP", "check_misc", "misc_timeout", "verdict"]

#: keepalived's delay_loop when none is configured.
DEFAULT_DELAY_LOOP: Final = 60.0
#: How long past its timeout the attempt waits for a killed script to be reaped.
_REAP_MARGIN: Final = 0.5


def misc_timeout(spec: MiscCheck) -> float:
    """How long the script may run: misc_timeout, else the delay_loop (a loaded
    configuration always has misc_timeout: the virtual server's delay_loop when not set)."""
    return spec.misc_timeout or spec.delay_loop or DEFAULT_DELAY_LOOP


def verdict(result: ScriptResult, dynamic: bool, timeout: float) -> CheckResult:
    """What one finished run of the script means for the real server."""
    if result.error is not None:
        return CheckResult(False, f"cannot run the script: {result.error}")
    if result.timed_out:
        return CheckResult(False, f"timed out after {fmt_seconds(timeout)} (process group "
                           "killed)")
    code = result.returncode
    assert code is not None
    if code < 0:
        return CheckResult(False, f"killed by signal {-code}")
    if code == 0:
        return CheckResult(True, "exited with status 0")
    if dynamic and 2 <= code <= 255:
        return CheckResult(True, f"exited with status {code}: weight {code - 2}",
                           weight=code - 2)
    return CheckResult(False, f"exited with status {code}")


async def check_misc(spec: MiscCheck, target: Target,
                     context: CheckContext | None = None) -> CheckResult:
    """One MISC_CHECK attempt, bounded by :func:`misc_timeout` (``target`` is not used: the
    script is given no address; keepalived passes none either)."""
    try:
        argv = list(spec.misc_argv) or split_script(spec.misc_path or "")
    except ScriptSyntaxError as exc:
        return CheckResult(False, f"misc_path: {exc}")
    timeout = misc_timeout(spec)
    runner = (context if context is not None else CheckContext()).script_runner()
    task = runner.spawn(argv, timeout, user=spec.user, group=spec.group)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout + _REAP_MARGIN)
    except asyncio.CancelledError:
        task.cancel()  # the runner terminates the script's process group
        raise
    if not done:
        return CheckResult(False, f"timed out after {fmt_seconds(timeout)} (the script "
                           "ignored SIGTERM; being killed)")
    return verdict(task.result(), spec.misc_dynamic, timeout)
