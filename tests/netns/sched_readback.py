"""Reading back how a running process is scheduled, with the operator's own tools."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Readback:
    """What ``chrt -p``, ``ps -o ni`` and /proc say about one process (its main thread)."""

    policy: str  # chrt's words: "SCHED_RR|SCHED_RESET_ON_FORK", "SCHED_OTHER"
    rt_priority: int
    nice: str  # as ps shows it: "-7", "0", or "-" for a realtime process
    rttime: tuple[str, str]  # /proc/PID/limits "Max realtime timeout": soft, hard
    vmlck_kib: int  # /proc/PID/status VmLck
    cpus: frozenset[int]


def readback(pid: int) -> Readback:
    chrt = subprocess.run(["chrt", "-p", str(pid)], capture_output=True, text=True,
                          check=True, timeout=10).stdout
    policy = rt_priority = None
    for line in chrt.splitlines():
        if "scheduling policy:" in line:
            policy = line.split(":", 1)[1].strip()
        elif "scheduling priority:" in line:
            rt_priority = int(line.split(":", 1)[1])
    assert policy is not None and rt_priority is not None, chrt
    nice = subprocess.run(["ps", "-o", "ni=", "-p", str(pid)], capture_output=True, text=True,
                          check=True, timeout=10).stdout.strip()
    rttime = None
    with open(f"/proc/{pid}/limits") as fh:
        for line in fh:
            if line.startswith("Max realtime timeout"):
                words = line.split()
                rttime = (words[3], words[4])
    assert rttime is not None
    vmlck = None
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmLck:"):
                vmlck = int(line.split()[1])
    assert vmlck is not None
    return Readback(policy, rt_priority, nice, rttime, vmlck,
                    frozenset(os.sched_getaffinity(pid)))


def script_readback(text: str) -> tuple[str, int, str]:
    """(policy, rt priority, nice) from what a script wrote: ``chrt -p $$``, then its nice."""
    lines = text.split("\n")
    policy = lines[0].split(":", 1)[1].strip()
    rt_priority = int(lines[1].split(":", 1)[1])
    return policy, rt_priority, lines[2].strip()


#: A notify script that records how it was scheduled (argv[1]: the file it writes).
SCRIPT = """#!/bin/sh
{ chrt -p $$; ps -o ni= -p $$ | tr -d ' '; } > "$1.tmp" && mv "$1.tmp" "$1"
"""
