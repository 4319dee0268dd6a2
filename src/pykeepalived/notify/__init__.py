"""Notify scripts, notify_fifo and the script runner shared by every script keepalived runs.

- :mod:`.split`: keepalived's splitting of a script string into argv;
- :mod:`.security`: script lookup and ``enable_script_security`` checks;
- :mod:`.script`: :class:`ScriptRunner`, running scripts without blocking the event loop;
- :mod:`.fifo`: :class:`NotifyFifo`, the non-blocking notify FIFO;
- :mod:`.notifier`: :class:`Notifier`, notify_* scripts and FIFO lines for state changes;
- :mod:`.smtp`: the SMTP alert sender (keepalived's mail, from a worker thread);
- :mod:`.smtp_alerts`: which alerts keepalived mails, when, with which subject and body.

The names below are imported when first used: the configuration parser needs only
:mod:`.split`, and ``pykeepalived -t`` should not pay for asyncio and subprocess.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pykeepalived.notify.fifo import NotifyFifo, lvs_rs_line, lvs_vs_line, vrrp_line
    from pykeepalived.notify.notifier import Notifier, NotifyScripts, Script
    from pykeepalived.notify.script import ScriptResult, ScriptRunner, check_security
    from pykeepalived.notify.split import ScriptSyntaxError, split_script

_HOME = {
    "NotifyFifo": "fifo", "lvs_rs_line": "fifo", "lvs_vs_line": "fifo", "vrrp_line": "fifo",
    "Notifier": "notifier", "NotifyScripts": "notifier", "Script": "notifier",
    "ScriptResult": "script", "ScriptRunner": "script", "check_security": "script",
    "ScriptSyntaxError": "split", "split_script": "split",
}

__all__ = [
    "Notifier",
    "NotifyFifo",
    "NotifyScripts",
    "Script",
    "ScriptResult",
    "ScriptRunner",
    "ScriptSyntaxError",
    "check_security",
    "lvs_rs_line",
    "lvs_vs_line",
    "split_script",
    "vrrp_line",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
