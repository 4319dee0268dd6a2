"""How a child process is scheduled: keepalived's ``{vrrp,checker}_priority``,
``_rt_priority``, ``_rlimit_rttime``, ``_no_swap`` and ``_cpu_affinity`` (global_defs).

A VRRP backup declares its master dead when an advert is a Master_Down_Interval late (RFC 5798
6.4.2): on a busy machine a daemon that is not given the CPU in time makes a false failover,
keepalived's "thread timer expired". These settings are keepalived's answer, and each child
applies its own once it has started (and again after each reload, with the new values), as
keepalived's ``set_process_priorities`` does:

- ``*_rt_priority N``: SCHED_RR at priority N, with SCHED_RESET_ON_FORK, so that the scripts
  the process starts (and the worker threads it starts: the netlink, firewall and SMTP
  workers, which are not on the protocol's path) run at the normal policy; and with it the
  RLIMIT_RTTIME of ``*_rlimit_rttime`` microseconds (soft limit half of it, so that SIGXCPU,
  logged, warns first), the kernel's guard against a realtime process that never sleeps;
- otherwise ``*_priority N``: the nice value N (scripts and worker threads start at nice 0
  when N is negative, as keepalived resets it in its script children);
- ``*_no_swap``: mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT), so that no page the
  process uses is ever swapped out and read back in the middle of an advert;
- ``*_cpu_affinity``: the CPUs the process may run on.

Beyond keepalived, a VRRP process that is not realtime asks the kernel for a short time slice
(:data:`FAIR_SLICE_NS`; ``sched_setattr`` with ``sched_runtime`` for SCHED_OTHER, Linux 6.12's
EEVDF scheduler; earlier kernels ignore it). Under EEVDF a task woken at normal policy waits,
behind whatever is running, for up to that task's slice (3 ms by default, more with many
runnable tasks) unless its own deadline is earlier: with a short slice the advert timer's
wake-up preempts a CPU hog at once. It changes neither the process's nice value nor its share
of the CPU, only how finely that share is cut, and needs no privilege.

A reload runs at the normal policy (keepalived: "Use standard scheduling while reloading"):
swapping 1,000 instances is one long burst of CPU that RLIMIT_RTTIME would end with SIGKILL.

Python is slower than C, and a realtime thread is killed after rlimit_rttime microseconds of
CPU without a blocking call (10 ms by default): the timers of 1,000 instances due at once take
longer than that. :class:`RtWatchdog` keeps the event loop within the limit: at the points where
bursts happen (between two turns of the loop, between two timers), once the thread has run for
a quarter of the limit since it last slept, it sleeps for a few microseconds.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import platform
import resource
import selectors
import signal
import struct
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("pykeepalived.daemon")

MCL_CURRENT = 1
MCL_FUTURE = 2
MCL_ONFAULT = 4  # Linux 4.4: lock pages as they are touched, not whole mappings
RLIMIT_RTTIME_DEFAULT = 10000  # keepalived's RT_RLIMIT_DEFAULT, microseconds
FAIR_SLICE_NS = 100_000  # the shortest slice the kernel grants a SCHED_OTHER task
_SYS_SCHED_SETATTR = {"x86_64": 314, "aarch64": 274}
_SYS_SCHED_GETATTR = {"x86_64": 315, "aarch64": 275}
_SCHED_ATTR = struct.Struct("IIQiIQQQII")  # struct sched_attr (SCHED_ATTR_SIZE_VER1: 56)
_SCHED_FLAG_RESET_ON_FORK = 0x01
_BREATHS = (10e-6, 50e-6, 200e-6)  # seconds slept to show the kernel a blocking call


@dataclass(frozen=True, slots=True)
class Scheduling:
    """One process's settings, as global_defs gives them (``prefix``: vrrp, checker)."""

    process: str  # "VRRP", "Checker": keepalived's names in its log lines
    prefix: str  # the keywords' prefix, for the log lines that name them
    nice: int = 0
    rt_priority: int = 0  # 0: not realtime
    rlimit_rttime: int = RLIMIT_RTTIME_DEFAULT
    no_swap: bool = False
    cpus: tuple[int, ...] = ()

    @classmethod
    def from_global_defs(cls, gdefs: Any, prefix: str) -> Scheduling:
        def get(name: str, default: Any) -> Any:
            value = getattr(gdefs, f"{prefix}_{name}", default)
            return default if value is None else value

        return cls(process={"vrrp": "VRRP", "checker": "Checker"}.get(prefix, prefix),
                   prefix=prefix, nice=int(get("priority", 0)),
                   rt_priority=int(get("rt_priority", 0)),
                   # keepalived halves it for the soft limit, which must not be 0
                   rlimit_rttime=max(2, int(get("rlimit_rttime", RLIMIT_RTTIME_DEFAULT))),
                   no_swap=bool(get("no_swap", False)),
                   cpus=tuple(get("cpu_affinity", ())))


class RtWatchdog:
    """Keeps a realtime thread under RLIMIT_RTTIME by sleeping briefly within long bursts.

    The kernel counts the CPU time a realtime thread uses since it last blocked, and sends
    SIGKILL at the hard limit. Two ways in, both asking the kernel whether the thread blocked
    meanwhile (its voluntary context switches, RUSAGE_THREAD) and, if not, sleeping 10
    microseconds (longer if that sleep did not block), which resets the kernel's count:

    - :meth:`breathe`, called where bursts happen (each turn of the event loop, each timer):
      cheap (a clock read) until the thread has been awake for ``budget`` seconds;
    - a profiling timer (ITIMER_PROF, every ``budget`` of CPU time) whose signal handler does
      the same, for a burst inside one callback (a thousand netlink events parsed at once);
      Python runs the handler in the main thread at the next bytecode.
    """

    __slots__ = ("_handler", "_since", "_switches", "breaths", "budget")

    def __init__(self) -> None:
        self.budget = 0.0  # 0: not realtime, nothing to do
        self.breaths = 0
        self._since = 0.0
        self._switches = 0
        self._handler: Any = None

    def start(self, rlimit_usec: int, *, timer: bool = True) -> None:
        """Realtime with an RLIMIT_RTTIME of ``rlimit_usec``: stay under a quarter of it."""
        self.budget = max(rlimit_usec / 4e6, 50e-6)
        self._since = time.monotonic()
        self._switches = _voluntary_switches()
        if timer:
            previous = signal.signal(signal.SIGPROF, self._on_timer)
            if self._handler is None:
                self._handler = previous
            signal.setitimer(signal.ITIMER_PROF, self.budget, self.budget)

    def stop(self) -> None:
        self.budget = 0.0
        if self._handler is not None:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, self._handler)
            self._handler = None

    def breathe(self) -> None:
        if not self.budget:
            return
        if time.monotonic() - self._since < self.budget:
            return
        self._check()

    def _on_timer(self, signum: int, frame: object) -> None:
        del signum, frame
        if self.budget:
            self._check()

    def _check(self) -> None:
        switches = _voluntary_switches()
        if switches == self._switches:
            self.breaths += 1
            for pause in _BREATHS:
                # a sleep whose deadline passed before the thread got to block returns
                # without blocking: only a new voluntary switch shows it did
                time.sleep(pause)
                if _voluntary_switches() != switches:
                    break
            switches = _voluntary_switches()
        self._switches = switches
        self._since = time.monotonic()


def _voluntary_switches() -> int:
    """How many times this thread has blocked (each time resets the kernel's RT count)."""
    return resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw


#: The calling process's watchdog: the process's scheduling is a fact of the whole process.
RT_WATCHDOG = RtWatchdog()


class BreathingSelector(selectors.EpollSelector):
    """The event loop's selector, breathing (:class:`RtWatchdog`) before each turn: a burst
    spread over many callbacks (a thousand adverts read one after another) never blocks,
    since epoll returns at once while datagrams wait."""

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        RT_WATCHDOG.breathe()
        return super().select(timeout)


def new_event_loop() -> Any:
    """A child's event loop: asyncio's selector loop on a :class:`BreathingSelector`."""
    import asyncio

    return asyncio.SelectorEventLoop(BreathingSelector())


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


class ProcessScheduling:
    """Applies a :class:`Scheduling` to the calling (main) thread and undoes it."""

    def __init__(self) -> None:
        self.applied: Scheduling | None = None
        self._orig_nice: int | None = None
        self._orig_rttime: tuple[int, int] | None = None
        self._orig_cpus: set[int] | None = None
        self._realtime = False
        self._locked = False
        self._sliced = False
        self._sigxcpu: Any = None

    def apply(self, wanted: Scheduling) -> None:
        """keepalived's set_process_priorities, then its set_process_cpu_affinity. Each
        refusal is logged and the rest still applied: the process runs either way."""
        self.applied = wanted
        if wanted.rt_priority:
            self._set_realtime(wanted)
        else:
            if wanted.nice:
                self._set_nice(wanted.nice)
            if wanted.prefix == "vrrp":
                self._set_fair_slice(FAIR_SLICE_NS)
        if wanted.no_swap:
            self._lock_memory()
        if wanted.cpus:
            with contextlib.suppress(OSError):
                self._orig_cpus = self._orig_cpus or os.sched_getaffinity(0)
            try:
                os.sched_setaffinity(0, wanted.cpus)
            except OSError as exc:
                log.warning("unable to set cpu affinity to %s process (%s)",
                            wanted.process.lower(), exc.strerror or exc)

    def _set_realtime(self, wanted: Scheduling) -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_RR | os.SCHED_RESET_ON_FORK,
                                  os.sched_param(wanted.rt_priority))
        except OSError as exc:
            log.warning("%s process: cannot raise priority to realtime %d (%s)",
                        wanted.process, wanted.rt_priority, exc.strerror or exc)
            return
        self._realtime = True
        if self._orig_rttime is None:
            self._orig_rttime = resource.getrlimit(resource.RLIMIT_RTTIME)
        # SIGXCPU at the soft limit would end the process (its default action): log instead
        self._sigxcpu = signal.signal(signal.SIGXCPU, _sigxcpu_logger(wanted))
        try:
            resource.setrlimit(resource.RLIMIT_RTTIME,
                               (wanted.rlimit_rttime // 2, wanted.rlimit_rttime))
        except (OSError, ValueError) as exc:
            log.warning("%s process cannot set realtime rlimit (%s)", wanted.process, exc)
        else:
            RT_WATCHDOG.start(wanted.rlimit_rttime)
        log.info("%s process: realtime scheduling SCHED_RR priority %d, rlimit_rttime %d us",
                 wanted.process, wanted.rt_priority, wanted.rlimit_rttime)

    def _set_nice(self, nice: int) -> None:
        if self._orig_nice is None:
            self._orig_nice = os.getpriority(os.PRIO_PROCESS, 0)
        try:
            # a negative nice value is not passed on to scripts and worker threads
            os.sched_setscheduler(0, os.SCHED_OTHER | os.SCHED_RESET_ON_FORK,
                                  os.sched_param(0))
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        except OSError as exc:
            log.info("Unable to set process priority to %d - %s", nice, exc.strerror or exc)

    def _set_fair_slice(self, slice_ns: int) -> None:
        """The main thread's EEVDF slice (module docstring); nice and reset-on-fork kept."""
        number = _SYS_SCHED_SETATTR.get(platform.machine())
        if number is None:
            return
        policy = os.sched_getscheduler(0)
        flags = _SCHED_FLAG_RESET_ON_FORK if policy & os.SCHED_RESET_ON_FORK else 0
        attr = ctypes.create_string_buffer(_SCHED_ATTR.pack(
            _SCHED_ATTR.size, os.SCHED_OTHER, flags, os.getpriority(os.PRIO_PROCESS, 0), 0,
            slice_ns, 0, 0, 0, 0))
        if _libc().syscall(number, 0, attr, 0) != 0:
            log.debug("no fair-scheduler slice of %d ns (%s)", slice_ns,
                      os.strerror(ctypes.get_errno()))
            return
        self._sliced = slice_ns != 0

    def _lock_memory(self) -> None:
        libc = _libc()
        if libc.mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0:
            err = ctypes.get_errno()
            log.info("Unable to lock process in memory - %s", os.strerror(err))
            return
        self._locked = True

    def reset(self) -> None:
        """Back to how the process started (keepalived's reset_process_priorities)."""
        if self._realtime:
            RT_WATCHDOG.stop()
            try:
                os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
            except OSError as exc:
                log.warning("cannot reset realtime scheduling (%s)", exc.strerror or exc)
            if self._orig_rttime is not None:
                try:
                    resource.setrlimit(resource.RLIMIT_RTTIME, self._orig_rttime)
                except (OSError, ValueError) as exc:
                    # raising a hard limit needs CAP_SYS_RESOURCE; the limit only ever
                    # applies to a realtime thread, so it is harmless where it is
                    log.debug("RLIMIT_RTTIME left as it is: %s", exc)
            if self._sigxcpu is not None:
                signal.signal(signal.SIGXCPU, self._sigxcpu)
                self._sigxcpu = None
            self._realtime = False
        if self._orig_nice is not None:
            with contextlib.suppress(OSError):
                os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
                os.setpriority(os.PRIO_PROCESS, 0, self._orig_nice)
            self._orig_nice = None
        if self._sliced:
            self._set_fair_slice(0)  # 0: the kernel's default slice again
            self._sliced = False
        if self._locked:
            _libc().munlockall()
            self._locked = False
        if self._orig_cpus is not None:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, self._orig_cpus)
            self._orig_cpus = None
        self.applied = None


def _sigxcpu_logger(wanted: Scheduling) -> Any:
    def handler(signum: int, frame: object) -> None:
        del signum, frame
        log.info("%s process has used too much CPU time, %s_rlimit_rttime may need to be "
                 "increased", wanted.process, wanted.prefix)
    return handler


def fair_slice_ns() -> int | None:
    """The calling thread's requested EEVDF slice (``sched_runtime``), None if unknown."""
    number = _SYS_SCHED_GETATTR.get(platform.machine())
    if number is None:
        return None
    attr = ctypes.create_string_buffer(_SCHED_ATTR.size)
    if _libc().syscall(number, 0, attr, _SCHED_ATTR.size, 0) != 0:
        return None
    return int(_SCHED_ATTR.unpack(attr.raw)[5])
