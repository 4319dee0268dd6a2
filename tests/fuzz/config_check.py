"""The configuration loader run on one text in a child process, bounded in time and memory.

:func:`check_text` forks (the parent has the loader imported already, so a child costs a
few milliseconds), writes the text as keepalived.conf in a fresh directory and loads it on a
described host (lo and eth0). The child may grow by at most ``memory_mb`` while loading (its
resident high-water mark, VmHWM, reset before the load and read after it, less its resident
size before: what the host gives the loader, measured without slowing it, where tracemalloc
made an allocation-heavy load five times slower and so judged the tracer's time, not the
loader's; RLIMIT_AS well above that stops a runaway allocation before it hurts the host) and
take ``timeout`` seconds (SIGALRM, then SIGKILL from the parent).
It must return a result whose diagnostics each name a file and carry a message
(line 0 only for what is about no single line), and never raise (a traceback), hang or grow
past the bound; each of these is a :class:`Finding`.
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
    """One text checked: the exit status (None on a finding), time, peak allocation."""

    status: int | None
    seconds: float
    grown_mb: float
    finding: Finding | None


def _vm_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _status_mb(key: str) -> float:
    """A ``/proc/self/status`` size (``VmRSS``, ``VmHWM``) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(key)


def _child(path: str, out_fd: int, timeout: float, memory_mb: int) -> None:
    """In the forked child: load, judge, write one JSON line, exit."""
    from pykeepalived.config import ConfigError, load_config
    from pykeepalived.config.errors import exit_status
    from pykeepalived.config.sysinfo import SystemInfo

    # address space: only a backstop against a runaway (the bound is the traced peak)
    limit = _vm_bytes() + max(4 * memory_mb, 256) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.alarm(max(1, int(timeout + 0.999)))
    out: dict[str, object]
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # the resident high-water mark starts again from the present size
    before = _status_mb("VmRSS")
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
        peak = _status_mb("VmHWM") - before
        out = {"status": status, "unplaced": unplaced, "peak_mb": peak}
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
        status = _wait(pid, start + timeout + 2.0)
        seconds = time.monotonic() - start
        with os.fdopen(read_fd, "rb") as pipe:
            raw = pipe.read()
    grown = 0.0
    if status is None or os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status) if status is not None else signal.SIGKILL
        kind = "timeout" if sig in (signal.SIGALRM, signal.SIGKILL) else "crash"
        return Checked(None, seconds, grown, Finding(kind, f"child ended by signal {sig} "
                                                     f"after {seconds:.1f} s"))
    try:
        report = json.loads(raw.decode().splitlines()[0])
    except (IndexError, ValueError, UnicodeDecodeError):
        return Checked(None, seconds, grown, Finding("crash", f"no report: {raw[:200]!r}"))
    grown = float(report.get("peak_mb", 0.0))
    if "traceback" in report:
        return Checked(None, seconds, grown, Finding("traceback", report["traceback"]))
    if "memory" in report or grown > memory_mb:
        return Checked(None, seconds, grown, Finding("memory", f"grew {grown:.0f} MB"))
    if report["unplaced"]:
        return Checked(None, seconds, grown, Finding("unplaced", "; ".join(report["unplaced"])))
    return Checked(int(report["status"]), seconds, grown, None)


def _wait(pid: int, deadline: float) -> int | None:
    """The child's wait status; None when it had to be killed at ``deadline``."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.002)
