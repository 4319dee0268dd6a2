"""Running operators' scripts without ever blocking the protocol.

Every script keepalived runs (notify scripts, ``vrrp_script`` checks, the notify_fifo reader)
goes through one :class:`ScriptRunner`. What it guarantees, following keepalived's behaviour
(keepalived.conf(5) "SCRIPTS", ``script_user``, ``enable_script_security``):

- the script is executed directly (no shell), with the words of its configured string as argv
  (see :func:`split_script`); stdin, stdout and stderr are /dev/null;
- it runs in its own process group, so a timeout kills what it started too: SIGTERM to the
  group, then SIGKILL after ``kill_grace`` seconds ("Scripts will be sent SIGTERM if ... it is a
  script that keepalived is awaiting its exit status and it has run for too long");
- it gets SIGTERM if the daemon dies (PR_SET_PDEATHSIG, as keepalived sets it);
- it runs as ``script_user`` (default: ``keepalived_script`` if that user exists, else as the
  daemon), with its supplementary groups cleared;
- a script that cannot start (missing, not executable, insecure under
  ``enable_script_security``, unknown user) gives a :class:`ScriptResult` whose ``error`` says
  why, logged once until it changes, and once more when it runs again; nothing is raised;
- when the machine has no room for a process (fork fails with EAGAIN or ENOMEM: a pids
  limit or RLIMIT_NPROC reached, say by a script that forks without end; or no file
  descriptor left), the result is marked ``transient``: it says nothing of the script.
  keepalived logs "Failed fork process" and leaves the script's state as it was; callers do
  the same (a vrrp_script keeps its state, a notification is tried again). This is logged
  once for the whole runner, with its cause, and once when scripts start again;
- every child is waited for (reaped) by the runner, even one whose caller went away;
- starting a script costs the event loop about a millisecond, and a burst of scripts starts
  one per turn of the loop, so the protocol's timers and sockets keep being served. The user
  switch and PR_SET_PDEATHSIG are done by util-linux ``setpriv`` in the child when it is
  installed (it is on every Debian system); otherwise by a preexec function, which forces a
  full fork of the daemon for every script.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import grp
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from pykeepalived.notify.security import (
    Credentials,
    find_script,
    is_executable,
    needs_protection,
    unreachable_directory,
)
from pykeepalived.notify.security import check_security as _check_security
from pykeepalived.notify.split import ScriptSyntaxError, join_script, split_script

__all__ = [
    "DEFAULT_SCRIPT_USER",
    "ScriptResult",
    "ScriptRunner",
    "ScriptSyntaxError",
    "check_security",
    "split_script",
]

log = logging.getLogger(__name__)

#: The user keepalived runs scripts as when it exists and no ``script_user`` is given.
DEFAULT_SCRIPT_USER: Final = "keepalived_script"
#: keepalived waits this long after SIGTERM before it sends SIGKILL to a timed-out script.
DEFAULT_KILL_GRACE: Final = 2.0
_SH: Final = "/bin/sh"
#: fork/exec failures that come from the machine (no process, memory or descriptor left)
_RESOURCE_ERRNOS: Final = frozenset({errno.EAGAIN, errno.ENOMEM, errno.EMFILE, errno.ENFILE})
_RESOURCES: Final = "resources"  # the runner-wide key of those failures in _reported


def check_security(path: str) -> str | None:
    """Why a root-run script at ``path`` could be changed by a non-root user, or None."""
    return _check_security(path)


@dataclass(frozen=True, slots=True)
class ScriptResult:
    """How one run of a script ended.

    ``returncode`` is the exit status, or minus the signal number when a signal ended it, or
    None when the script never started (then ``error`` says why). ``timed_out`` is true when
    the runner had to kill it. ``transient`` is true when it never started because the
    machine had no room for a process (see the module docstring): nothing is known of the
    script, and trying again later may work.
    """

    argv: tuple[str, ...]
    returncode: int | None
    timed_out: bool = False
    error: str | None = None
    pid: int | None = None
    transient: bool = False

    @property
    def ok(self) -> bool:
        """Exit status 0 within the timeout: what a ``vrrp_script`` counts as success."""
        return self.returncode == 0 and not self.timed_out and self.error is None


@dataclass(frozen=True, slots=True)
class _Plan:
    exec_argv: list[str]
    creds: Credentials


@dataclass(frozen=True, slots=True)
class _NotStarted:
    """Why the process of a script could not be created (``transient``: for lack of
    resources, see the module docstring)."""

    reason: str
    transient: bool


def _make_pdeathsig() -> Callable[[], None] | None:
    """A preexec function asking the kernel to SIGTERM the script when the daemon dies.

    Built before fork so the child only makes one foreign call.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    pr_set_pdeathsig = 1
    sigterm = int(signal.SIGTERM)

    def preexec() -> None:
        prctl(pr_set_pdeathsig, sigterm, 0, 0, 0)

    return preexec


_PREEXEC = _make_pdeathsig()


def resolve_credentials(user: str | None, group: str | None = None, *,
                        security: bool = False) -> Credentials:
    """``script_user`` semantics: the user's uid and primary group, or the named group.

    With no user: ``keepalived_script`` if it exists, otherwise the daemon's own uid/gid, but
    not under ``enable_script_security``, where keepalived 2.2.7 refuses ("Unable to set
    default user keepalived_script for script") and so do we.
    Raises LookupError with an operator-readable message for an unknown user or group.
    """
    if user is None:
        try:
            entry = pwd.getpwnam(DEFAULT_SCRIPT_USER)
        except KeyError:
            if security:
                raise LookupError(
                    f"Unable to set default user {DEFAULT_SCRIPT_USER} for script: with "
                    "enable_script_security set script_user, or create that user") from None
            uid, gid = os.geteuid(), os.getegid()
            try:
                name = pwd.getpwuid(uid).pw_name
            except KeyError:
                name = str(uid)
            creds = Credentials(uid, gid, name)
        else:
            creds = Credentials(entry.pw_uid, entry.pw_gid, entry.pw_name)
    else:
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            raise LookupError(f"script user {user!r} does not exist") from None
        creds = Credentials(entry.pw_uid, entry.pw_gid, entry.pw_name)
    if group is not None:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise LookupError(f"script group {group!r} does not exist") from None
        creds = Credentials(creds.uid, gid, creds.name)
    return creds


_setpriv_probe: list[str | None] = []


def _find_setpriv() -> str | None:
    """util-linux setpriv if it knows --pdeathsig (2.33 and later); probed once."""
    if not _setpriv_probe:
        found = shutil.which("setpriv")
        if found is not None:
            try:
                usage = subprocess.run([found, "--help"], capture_output=True, text=True,
                                       timeout=5, check=False).stdout
            except (OSError, subprocess.SubprocessError):
                usage = ""
            if "--pdeathsig" not in usage or "--groups" not in usage:
                log.info("%s lacks --pdeathsig: scripts will be started with a full fork",
                         found)
                found = None
        _setpriv_probe.append(found)
    return _setpriv_probe[0]


def _has_magic(path: str) -> bool:
    """Whether the kernel can execute ``path`` by itself: a "#!" line or an ELF header
    (True when the file cannot be read: exec will tell)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError:
        return True
    return head.startswith(b"#!") or head == b"\x7fELF"


def _file_test_command(argv: Sequence[str]) -> str | None:
    """keepalived's special case: a script like ``</dev/tcp/127.0.0.1/80`` is a shell
    redirection that tests whether a file opens; it is given to /bin/sh, other words quoted."""
    first = argv[0]
    if first.startswith("<") and first[1:].lstrip(" \t").startswith("/"):
        return " ".join([first, *("'" + a.replace("'", "'\\''") + "'" for a in argv[1:])])
    return None


class ScriptRunner:
    """Runs scripts as child processes of the event loop; see the module docstring.

    ``user``/``group`` are the global ``script_user``; ``security`` is
    ``enable_script_security``. :meth:`run` and :meth:`spawn` take a per-script user too
    (``notify_master /path user group``).
    """

    def __init__(self, *, user: str | None = None, group: str | None = None,
                 security: bool = False, kill_grace: float = DEFAULT_KILL_GRACE) -> None:
        self.security = security
        self.kill_grace = kill_grace
        self._user = user
        self._group = group
        self.error: str | None = None
        try:
            self._default: Credentials | None = resolve_credentials(user, group,
                                                                    security=security)
        except LookupError as exc:
            self._default = None
            self.error = str(exc)
            log.error("%s - scripts will not be run", self.error)
        self._setpriv: str | None = _find_setpriv()
        self._spawn_lock = asyncio.Lock()
        self._procs: dict[int, asyncio.subprocess.Process] = {}
        self._tasks: set[asyncio.Task[ScriptResult]] = set()
        self._reported: dict[str, str] = {}
        self.not_started = 0  # runs that found no room for a process (transient), in all
        self._not_started_run = 0  # since the last one that started

    # ----------------------------------------------------------------- checks
    @staticmethod
    def check_security(path: str) -> str | None:
        """Why a root-run script at ``path`` is unsafe (``enable_script_security``), or None."""
        return _check_security(path)

    def _credentials(self, user: str | None, group: str | None) -> Credentials:
        if user is None:  # keepalived: a group is only given after a user
            if self._default is None:
                raise LookupError(self.error or "no script user")
            return self._default
        return resolve_credentials(user, group)

    def _plan(self, argv: Sequence[str], user: str | None, group: str | None) -> _Plan | str:
        """Everything keepalived checks before running a script; a string is the reason not to."""
        if not argv or not argv[0]:
            return "empty script command"
        try:
            creds = self._credentials(user, group)
        except LookupError as exc:
            return str(exc)
        shell = _file_test_command(argv)
        if shell is not None:
            return _Plan([_SH, "-c", shell], creds)
        path, reason = find_script(argv[0], creds)
        if path is None:
            return reason
        if path != argv[0]:
            self._note(f"path:{argv[0]}",
                       f"script `{argv[0]}` resolved by path search to `{path}`. "
                       "Please specify full path.", logging.WARNING)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return f"script {path!r} not found"
        except OSError as exc:
            return f"script {path!r} cannot be accessed: {exc.strerror}"
        if not stat.S_ISREG(st.st_mode):
            return f"script {path!r} is not a regular file"
        if not is_executable(st, creds.uid, creds.gid):
            return f"script {path!r} is not executable by {creds}"
        blocked = unreachable_directory(path, creds)
        if blocked is not None:
            return f"script {path!r} cannot be reached by {creds}: {blocked!r} is not searchable"
        switch = creds.uid != os.geteuid() or creds.gid != os.getegid()
        if switch and os.geteuid() != 0:
            return f"cannot run script {path!r} as {creds}: the daemon is not running as root"
        if needs_protection(st, creds):
            problem = _check_security(path)
            if problem is not None:
                if self.security:
                    return f"{problem} - not running it (enable_script_security)"
                self._note(f"insecure:{path}",
                           f"{problem}; running it anyway since enable_script_security is off",
                           logging.WARNING)
        if not _has_magic(path):
            # No "#!" line: keepalived hands such a script to the shell (system()); so do we.
            self._note(f"shebang:{path}", f"Please add a #! shebang to script {path}",
                       logging.WARNING)
            return _Plan([_SH, path, *argv[1:]], creds)
        return _Plan([path, *argv[1:]], creds)

    def check(self, argv: Sequence[str], *, user: str | None = None,
              group: str | None = None) -> str | None:
        """Why ``argv`` would not run (missing, not executable, insecure, bad user), or None.

        For configuration checks at startup, where keepalived disables such scripts.
        """
        plan = self._plan(argv, user, group)
        return plan if isinstance(plan, str) else None

    def _note(self, key: str, message: str, level: int) -> None:
        """Log ``message`` at ``level`` once; repeat it only at DEBUG until it changes."""
        if self._reported.get(key) == message:
            log.debug("%s", message)
            return
        self._reported[key] = message
        log.log(level, "%s", message)

    # ------------------------------------------------------------------ runs
    @property
    def running(self) -> int:
        """How many child processes are alive right now."""
        return len(self._procs)

    async def run(self, argv: Sequence[str], timeout: float | None = None,
                  env: Mapping[str, str] | None = None, *, user: str | None = None,
                  group: str | None = None) -> ScriptResult:
        """Run ``argv`` to completion (or ``timeout`` seconds, then kill its process group).

        ``env`` adds variables to the daemon's environment. Cancelling the call terminates
        the script's process group; the cancellation completes once the script is reaped.
        Never raises for a script problem.
        """
        words = tuple(argv)
        plan = self._plan(words, user, group)
        if isinstance(plan, str):
            self._note(f"error:{words[:1]}", f"Cannot run script {join_script(list(words))}: "
                       f"{plan}", logging.ERROR)
            return ScriptResult(words, None, error=plan)
        proc = await self._start(words, plan, env)
        if isinstance(proc, _NotStarted):
            if proc.transient:
                self.not_started += 1
                self._not_started_run += 1
                self._note(_RESOURCES, f"Cannot start scripts: {proc.reason} (the machine "
                           "has no room for a process: scripts are not run until it has)",
                           logging.ERROR)
            else:
                self._note(f"error:{words[:1]}", f"Cannot run script "
                           f"{join_script(list(words))}: {proc.reason}", logging.ERROR)
            return ScriptResult(words, None, error=proc.reason, transient=proc.transient)
        self._started_again(words)
        return await self._wait(words, proc, timeout)

    def _started_again(self, words: tuple[str, ...]) -> None:
        """A script started: say so if it (or any script, for lack of resources) could not
        before, so that the operator sees the fault end as well as begin."""
        if self._reported.pop(_RESOURCES, None) is not None:
            log.info("Scripts start again (%d run(s) could not be started for lack of "
                     "resources)", self._not_started_run)
            self._not_started_run = 0
        if self._reported.pop(f"error:{words[:1]}", None) is not None:
            log.info("Script %s runs again", join_script(list(words)))

    def spawn(self, argv: Sequence[str], timeout: float | None = None,
              env: Mapping[str, str] | None = None, *, user: str | None = None,
              group: str | None = None) -> asyncio.Task[ScriptResult]:
        """Start :meth:`run` as a task and return at once; the runner keeps the task alive."""
        task = asyncio.get_running_loop().create_task(
            self.run(argv, timeout, env, user=user, group=group),
            name=f"script {argv[0] if argv else ''}")
        self._keep(task)
        return task

    def _keep(self, task: asyncio.Task[ScriptResult]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[ScriptResult]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("script task %s failed", task.get_name(), exc_info=task.exception())

    def _command(self, plan: _Plan) -> tuple[list[str], dict[str, object]]:
        """argv and Popen arguments for ``plan``.

        With util-linux ``setpriv`` the user switch and PR_SET_PDEATHSIG happen in the child
        after exec, so Python can start it with vfork: about 1 ms of the event loop's time
        whatever the daemon's size. Without it a preexec function is needed, which forces a
        full fork (measured: 20 ms per script for a 500 MB process).
        """
        kwargs: dict[str, object] = {
            "stdin": asyncio.subprocess.DEVNULL,
            "stdout": asyncio.subprocess.DEVNULL,
            "stderr": asyncio.subprocess.DEVNULL,
            "process_group": 0,
            "close_fds": True,
        }
        creds = plan.creds
        switch = creds.uid != os.geteuid() or creds.gid != os.getegid()
        if self._setpriv is not None:
            wrapper = [self._setpriv]
            if switch:
                # keepalived: setgid, setgroups(1, &gid), setuid
                wrapper += [f"--regid={creds.gid}", f"--groups={creds.gid}",
                            f"--reuid={creds.uid}"]
            return [*wrapper, "--pdeathsig", "TERM", "--", *plan.exec_argv], kwargs
        if switch:
            kwargs.update(user=creds.uid, group=creds.gid, extra_groups=[creds.gid])
        if _PREEXEC is not None:
            kwargs["preexec_fn"] = _PREEXEC
        return list(plan.exec_argv), kwargs

    async def _start(self, words: tuple[str, ...], plan: _Plan,
                     env: Mapping[str, str] | None) -> asyncio.subprocess.Process | _NotStarted:
        argv, kwargs = self._command(plan)
        if env:
            kwargs["env"] = {**os.environ, **env}
        # One fork/exec per turn of the event loop: a burst of scripts (1,000 instances
        # changing state at once) must not hold up adverts and timers in between.
        async with self._spawn_lock:
            try:
                proc = await asyncio.create_subprocess_exec(*argv, **kwargs)  # type: ignore[arg-type]
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.ENOMEM):
                    return _NotStarted(f"fork failed: {exc.strerror or exc}", True)
                if exc.errno in _RESOURCE_ERRNOS:  # no descriptor for the child's stdio
                    return _NotStarted(f"no file descriptor left: {exc.strerror or exc}",
                                       True)
                return _NotStarted(f"exec of {argv[0]!r} failed: {exc.strerror or exc}",
                                   False)
        log.debug("Running script %s (pid %d) as %s", join_script(list(words)), proc.pid,
                  plan.creds)
        self._procs[proc.pid] = proc
        return proc

    async def _wait(self, words: tuple[str, ...], proc: asyncio.subprocess.Process,
                    timeout: float | None) -> ScriptResult:
        try:
            try:
                if timeout is None:
                    code = await proc.wait()
                else:
                    code = await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                log.warning("Script %s (pid %d) timed out after %gs - terminating its process "
                            "group", join_script(list(words)), proc.pid, timeout)
                code = await self._terminate(proc)
                return ScriptResult(words, code, timed_out=True, pid=proc.pid)
        except asyncio.CancelledError:
            # The caller gave up: the script goes too. The task ends once it is reaped, so
            # `task.cancel(); await task` leaves nothing behind.
            if proc.returncode is None:
                try:
                    await self._terminate(proc)
                except asyncio.CancelledError:
                    _killpg(proc.pid, signal.SIGKILL)  # the child watcher still reaps it
            self._procs.pop(proc.pid, None)
            raise
        self._procs.pop(proc.pid, None)
        # The leader is gone; its group may live on (background children). keepalived leaves
        # those alone after a normal exit, and so do we.
        log.debug("Script %s (pid %d) exited with %d", join_script(list(words)), proc.pid, code)
        return ScriptResult(words, code, pid=proc.pid)

    async def _terminate(self, proc: asyncio.subprocess.Process) -> int:
        """SIGTERM the group, SIGKILL after the grace period, reap; then SIGKILL what is left
        of the group, as keepalived does after a script it timed out has exited."""
        _killpg(proc.pid, signal.SIGTERM)
        try:
            code = await asyncio.wait_for(asyncio.shield(proc.wait()), self.kill_grace)
        except TimeoutError:
            log.warning("Script pid %d ignored SIGTERM - sending SIGKILL", proc.pid)
            _killpg(proc.pid, signal.SIGKILL)
            code = await proc.wait()
        finally:
            if proc.returncode is not None:
                self._procs.pop(proc.pid, None)
        _killpg(proc.pid, signal.SIGKILL)
        return code

    async def close(self, timeout: float = 1.0) -> None:
        """Give outstanding scripts ``timeout`` seconds, then terminate and reap them all."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=max(timeout, 0.0))
        for task in list(self._tasks):
            task.cancel()
        # A cancelled run terminates its process group (bounded by kill_grace) before it ends.
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.kill_grace + 1.0)
        for pid, proc in list(self._procs.items()):
            _killpg(pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 1.0)
            self._procs.pop(pid, None)


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
