"""Notify scripts, notify_fifo and the script runner shared by every script keepalived runs.

- :mod:`.split`: keepalived's splitting of a script string into argv;
- :mod:`.security`: script lookup and ``enable_script_security`` checks;
- :mod:`.script`: :class:`ScriptRunner`, running scripts without blocking the event loop;
- :mod:`.fifo`: :class:`NotifyFifo`, the non-blocking notify FIFO;
- :mod:`.notifier`: :class:`Notifier`, notify_* scripts and FIFO lines for state changes.
"""

from pykeepalived.notify.fifo import NotifyFifo, lvs_rs_line, lvs_vs_line, vrrp_line
from pykeepalived.notify.notifier import Notifier, NotifyScripts, Script
from pykeepalived.notify.script import ScriptResult, ScriptRunner, check_security
from pykeepalived.notify.split import ScriptSyntaxError, split_script

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
