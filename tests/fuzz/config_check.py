"""The configuration loader run on one text in a child process, bounded in time and memory.

:func:`check_text` forks (the parent has the loader imported already, so a child costs a
few milliseconds), writes the text as keepalived.conf in a fresh directory and loads it on a
described host (lo and eth0). The child may use at most ``memory_mb`` above what it started
with (RLIMIT_AS stops a runaway allocation early; the peak is measured with ``ru_maxrss``)
and ``timeout`` seconds (SIGALRM, then SIGKILL from the parent). What it may do:

* return a result whose diagnostics each name a file and carry a message (line 0 only for
  what is about no single line); anything else is a :class:`Finding`;
* raise nothing (a traceback is a finding), hang (timeout), or grow past the bound.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 10.0
MEMORY_MB = 200


@dataclass(frozen=True)
class Finding:
    """Something the loader must never do, with what shows it."""

    kind: str  # "traceback", "timeout", "memory", "unplaced", "crash"
    detail: str


@dataclass(frozen=True)
class Checked:
    """One text checked: the exit status (None on a finding), time, peak growth."""

    status: int | None
    seconds: float
    grown_mb: float
    finding: Finding | None


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def _vm_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _child(path: str, out_fd: int, timeout: float, memory_mb: int) -> None:
    """In the forked child: load, judge, write one JSON line, exit."""
    from pykeepalived.config import ConfigError, load_config
    from pykeepalived.config.errors import exit_status
    from pykeepalived.config.sysinfo import SystemInfo

    limit = _vm_bytes() + memory_mb * 2 * 1024 * 1024  # address space: a backstop only
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.alarm(max(1, int(timeout + 0.999)))
    out: dict[str, object]
    try:
        system = SystemInfo.fake(["lo", "eth0"])
        system.probe_files = True
        try:
            result = load_config(path, config_id="fuzz", system=system)
            diags = result.diagnostics
            status = result.exit_status
        except ConfigError as exc:
            diags = [exc.as_diagnostic()]
            status = exit_status(diags)
        unplaced = [repr(d) for d in diags
                    if not d.file or not isinstance(d.line, int) or d.line < 0
                    or not d.message or not str(d)]
        out = {"status": status, "unplaced": unplaced}
    except MemoryError:
        out = {"memory": "MemoryError"}
    except BaseException:
        out = {"traceback": traceback.format_exc()[-4000:]}
    os.write(out_fd, json.dumps(out).encode() + b"\n")
    os._exit(0)


def check_text(text: str, *, timeout: float = TIMEOUT, memory_mb: int = MEMORY_MB,
               files: dict[str, str] | None = None) -> Checked:
    """Load ``text`` (and ``files`` beside it) in a bounded child; see the module docstring."""
    with tempfile.TemporaryDirectory(prefix="pk-fuzz-conf-") as tmp:
        for name, body in (files or {}).items():
            Path(tmp, name).write_text(body)
        path = os.path.join(tmp, "keepalived.conf")
        Path(path).write_text(text)
        base_kb = _rss_kb()
        read_fd, write_fd = os.pipe()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(read_fd)
            try:
                _child(path, write_fd, timeout, memory_mb)
            finally:
                os._exit(3)
        os.close(write_fd)
        status, usage = _wait(pid, start + timeout + 2.0)
        seconds = time.monotonic() - start
        with os.fdopen(read_fd, "rb") as pipe:
            raw = pipe.read()
    grown = max(0.0, (usage.ru_maxrss - base_kb) / 1024) if usage is not None else 0.0
    if status is None or os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status) if status is not None else signal.SIGKILL
        kind = "timeout" if sig in (signal.SIGALRM, signal.SIGKILL) else "crash"
        return Checked(None, seconds, grown, Finding(kind, f"child ended by signal {sig} "
                                                     f"after {seconds:.1f} s"))
    try:
        report = json.loads(raw.decode().splitlines()[0])
    except (IndexError, ValueError, UnicodeDecodeError):
        return Checked(None, seconds, grown, Finding("crash", f"no report: {raw[:200]!r}"))
    if "traceback" in report:
        return Checked(None, seconds, grown, Finding("traceback", report["traceback"]))
    if "memory" in report or grown > memory_mb:
        return Checked(None, seconds, grown, Finding("memory", f"grew {grown:.0f} MB"))
    if report["unplaced"]:
        return Checked(None, seconds, grown, Finding("unplaced", "; ".join(report["unplaced"])))
    return Checked(int(report["status"]), seconds, grown, None)


def _wait(pid: int, deadline: float) -> tuple[int | None, resource.struct_rusage | None]:
    """The child's wait status and resource use; SIGKILL at ``deadline``."""
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            return None, usage
        time.sleep(0.002)
