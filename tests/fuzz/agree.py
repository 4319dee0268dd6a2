"""``keepalived -t`` and ``pykeepalived -t`` side by side on mutated configurations.

Both programs check each configuration in one fresh network namespace holding only lo and
eth0 (192.0.2.1/24), so that interface checks see the same host; keepalived gets pid files
of its own in a temporary directory, so it never touches the host's. Each run is bounded
(``timeout`` seconds); a run that does not finish, or dies of a signal, is recorded as such.

:func:`compare` returns one :class:`Verdict` per configuration; :func:`report` prints the
agreement rate and every disagreement with what both programs said.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pykeepalived.demo.lab import Host, Lab
from tests.fuzz.config_mutate import Mutant

SRC = Path(__file__).resolve().parent.parent.parent / "src"
TIMEOUT = 10.0
TIMED_OUT = -1000  # status recorded for a run cut at the timeout


@dataclass(frozen=True)
class Run:
    status: int  # exit status; negative: killed by that signal; TIMED_OUT
    output: str  # stdout and stderr

    @property
    def word(self) -> str:
        if self.status == TIMED_OUT:
            return "timeout"
        if self.status < 0:
            return f"signal {-self.status}"
        return str(self.status)


@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    keepalived: Run
    pykeepalived: Run

    @property
    def agree(self) -> bool:
        return self.keepalived.status == self.pykeepalived.status


def _run(argv: list[str], timeout: float, env: dict[str, str] | None = None) -> Run:
    """``argv``'s status and what it printed (stdout and stderr, in order)."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
        return Run(TIMED_OUT, out.decode(errors="replace"))
    return Run(proc.returncode, proc.stdout.decode(errors="replace"))


def keepalived_t(host: Host, path: str, timeout: float = TIMEOUT) -> Run:
    """``keepalived -t -f path`` in ``host`` with pid files of its own."""
    with tempfile.TemporaryDirectory(prefix="pk-fuzz-ka-") as tmp:
        return _run(host.cmd("keepalived", "-t", "-l", "-D", "-f", path, "-p", f"{tmp}/p",
                             "-r", f"{tmp}/r", "-c", f"{tmp}/c", "-b", f"{tmp}/b"), timeout)


def pykeepalived_t(host: Host, path: str, timeout: float = TIMEOUT) -> Run:
    """``python3 -m pykeepalived -t -f path`` in ``host`` (this checkout's code)."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    return _run(host.cmd(sys.executable, "-m", "pykeepalived", "-t", "-f", path), timeout,
                env)


def compare(mutants: Sequence[Mutant], workdir: Path, *,
            progress: Callable[[int, int], None] | None = None,
            timeout: float = TIMEOUT) -> list[Verdict]:
    """Check every mutant with both programs in one namespace; files go under ``workdir``."""
    verdicts = []
    with Lab() as lab:
        host = lab.add_host("t", [["192.0.2.1/24"]])
        for n, mutant in enumerate(mutants):
            folder = workdir / f"{mutant.index:04d}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "keepalived.conf"
            path.write_text(mutant.text)
            ka = keepalived_t(host, str(path), timeout)
            py = pykeepalived_t(host, str(path), timeout)
            verdicts.append(Verdict(mutant, ka, py))
            if progress is not None:
                progress(n + 1, len(mutants))
    return verdicts


# Keywords pykeepalived knows and keepalived 2.2.7 does not: lb_backend and metrics_address
# are pykeepalived's own, v3_checksum_as_v2 came with keepalived 2.2.8.
EXTENSIONS = ("lb_backend", "metrics_address", "v3_checksum_as_v2")
_NAMED_BLOCKS = ("vrrp_instance", "vrrp_sync_group")
_NET_NAMESPACE = re.compile(r"^[ \t]*net_namespace[ \t]+([^\s#!{}]+)", re.MULTILINE)


def explain(v: Verdict) -> str | None:
    """Why keepalived and pykeepalived may differ on ``v`` (a known, documented class; see
    docs/fuzzing.md), or None for a disagreement nobody has explained."""
    ka = v.keepalived
    if ka.status == TIMED_OUT:
        return "keepalived hangs (no status within the timeout)"
    if ka.status < 0:
        return f"keepalived crashes (signal {-ka.status})"
    for word in EXTENSIONS:
        if f"Unknown keyword '{word}'" in ka.output:
            return f"a keyword keepalived 2.2.7 does not know: {word}"
    namespace = _NET_NAMESPACE.search(v.mutant.text)
    if (ka.status == 0 and namespace is not None
            and not os.path.exists(os.path.join("/var/run/netns", namespace.group(1)))):
        return ("net_namespace names no namespace: keepalived -t cannot enter it and exits 0 "
                "without checking anything (errors already reported included)")
    if (ka.status == 2 and "Missing '{' at beginning of configuration block" in ka.output
            and any(f"{kind} must have a name" in ka.output for kind in _NAMED_BLOCKS)
            and "is missing a parameter after keyword `notify" in ka.output):
        return ("a nameless block without its '{' before any of its kind: keepalived's "
                "handlers act on memory that is no object (a notify script reads as given "
                "or not, by the length of the file's path)")
    return None


def rate(verdicts: Sequence[Verdict]) -> float:
    return 100.0 * sum(v.agree for v in verdicts) / len(verdicts) if verdicts else 100.0


def completed(verdicts: Sequence[Verdict]) -> list[Verdict]:
    """The verdicts where keepalived itself finished with an exit status."""
    return [v for v in verdicts if v.keepalived.status >= 0]


def report(verdicts: Sequence[Verdict], *, out: Callable[[str], None] = print,
           detail: int = 12) -> None:
    """The agreement rate, then each disagreement: seed, edits, statuses, the messages."""
    agreed = sum(v.agree for v in verdicts)
    out(f"-t agreement with keepalived 2.2.7: {agreed}/{len(verdicts)} exit statuses "
        f"({rate(verdicts):.1f}%)")
    done = completed(verdicts)
    out(f"  where keepalived finished (no crash, no hang): {sum(v.agree for v in done)}/"
        f"{len(done)} ({rate(done):.1f}%)")
    reasons: dict[str, int] = {}
    for v in verdicts:
        if not v.agree:
            why = explain(v) or "not explained"
            reasons[why] = reasons.get(why, 0) + 1
    for why, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        out(f"  {count} x {why}")
    for v in verdicts:
        if v.agree:
            continue
        m = v.mutant
        out("")
        out(f"#{m.index:04d} seed {m.seed}: keepalived {v.keepalived.word}, "
            f"pykeepalived {v.pykeepalived.word} ({explain(v) or 'not explained'})")
        for edit in m.edits:
            out(f"    edit  {edit}")
        for who, run in (("ka", v.keepalived), ("py", v.pykeepalived)):
            lines = [ln for ln in run.output.splitlines() if ln.strip()]
            for ln in _interesting(lines)[:detail]:
                out(f"    {who}    {ln[:200]}")


def _interesting(lines: list[str]) -> list[str]:
    """keepalived -l -D prints its start-up banner and build options, and each message
    once per process; keep what is about the configuration, once."""
    skip = ("Starting Keepalived", "Running on", "Command line", "Opening file",
            "Configuration file", "Script user", "Config id", "Initialising", "Parsing",
            "Stopped", "Stopping", "Core", "Build", "Kernel", "Registering", "Unregistering",
            "Starting VRRP", "Starting Healthcheck", "Remove a zombie", "Assigned address")
    kept = [ln for ln in lines if not ln.lstrip().startswith(skip)]
    return list(dict.fromkeys(kept or lines))


def timed(fn: Callable[[], list[Verdict]]) -> tuple[list[Verdict], float]:
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start
