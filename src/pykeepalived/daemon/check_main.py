"""The checker process: health-checks every real server and keeps the load-balancer table.

keepalived runs its checkers in a child of their own, next to the VRRP child; so does
pykeepalived. This module is the shell around the sans-I/O health state machine
(:mod:`pykeepalived.check.health`): one asyncio loop runs every check side by side (a slow
or silent server holds up nothing else, each attempt bounded by its connect_timeout; TCP_CHECK
attempts as plain sockets in bulk, :class:`~pykeepalived.check.tcp_check.TcpChecks`, the other
kinds as a task each), feeds the results to the state machine, carries out the events
(keepalived's log lines, notify_up/notify_down and quorum_up/quorum_down scripts, LVS FIFO
lines) and makes the kernel's table equal to what the state machine says, through the backend,
in a worker thread.

``ha_suspend``: a virtual server's checks and rules are held back while its address is not on
this node, which is how keepalived follows the VRRP master without talking to it: the address
comes and goes with the VIP (the netlink reflector reports it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import ipaddress
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from pykeepalived.check.conntrack import conntrack_warning, tcp_checks_per_second
from pykeepalived.check.context import CheckContext
from pykeepalived.check.health import (
    CheckerHealth,
    CheckFailed,
    Event,
    HealthCore,
    QuorumChanged,
    RealServerChanged,
    VirtualServerHealth,
    WeightChanged,
)
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.table import group_services
from pykeepalived.check.tcp_check import TcpChecks, check_tcp
from pykeepalived.config.model_lvs import FileCheck, MiscCheck
from pykeepalived.daemon.check_alerts import CheckerAlerts
from pykeepalived.daemon.tuning import ProcessTuning
from pykeepalived.lb.model import Backend, Service
from pykeepalived.notify.fifo import NotifyFifo, lvs_rs_line, lvs_vs_line
from pykeepalived.notify.notifier import Notifier, Script, ScriptSpec
from pykeepalived.notify.script import ScriptRunner
from pykeepalived.notify.smtp import SHUTDOWN_DRAIN

if TYPE_CHECKING:
    from pykeepalived.check.file_check import FileCheckWatcher

log = logging.getLogger("pykeepalived.check")

CheckFn = Callable[[Any, Target, CheckContext | None], Awaitable[CheckResult]]
TIMEOUT_GRACE = 1.0  # an attempt that overruns its own timeout by this much is cut short
#: While the kernel refuses the table (no nft, nf_tables refusing), it is tried again this
#: often even if nothing changes, so that it is back soon after the cause is gone.
APPLY_RETRY = 5.0


def rs_name(vs: VirtualServerHealth, rs: Any) -> str:
    """keepalived's FMT_RS: ``[198.51.100.4]:tcp:80``."""
    return f"[{rs.address}]:{vs.spec.protocol.lower()}:{rs.port}"


def vs_name(vs: VirtualServerHealth) -> str:
    """keepalived's FMT_VS: ``[203.0.113.10]:tcp:80``, ``FWM 3``, or ``[group]:80``."""
    spec = vs.spec
    if spec.fwmark is not None:
        return f"FWM {spec.fwmark}"
    if spec.group is not None:
        return f"[{spec.group}]:{spec.port or 0}"
    return f"[{spec.address}]:{spec.protocol.lower()}:{spec.port or 0}"


class CheckerProcess:
    """Every virtual server of one configuration, its checks and its table."""

    def __init__(self, config: Any, backend: Backend, checkers: dict[str, CheckFn], *,
                 release: bool = True, bootstrap: float | None = None) -> None:
        self.config = config
        self.backend = backend
        self.checkers = checkers
        self.release = release
        self.loop = asyncio.get_event_loop()
        self.core = (HealthCore(config.virtual_servers) if bootstrap is None
                     else HealthCore(config.virtual_servers, bootstrap=bootstrap))
        self.groups = group_services(config)
        self.tuning = ProcessTuning("checker")  # checker_priority & co, the collector
        gdefs = config.global_defs
        self.runner = ScriptRunner(user=gdefs.script_user, group=gdefs.script_group,
                                   security=bool(gdefs.enable_script_security))
        self.fifo: NotifyFifo | None = None
        self.notifier = Notifier(self.runner, None)
        self.alerts = CheckerAlerts(config)  # smtp_alert mail
        self.context = self._context(config)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0  # when _timer fires
        # the kinds whose attempts TcpChecks makes in bulk (TCP_CHECK, unless replaced)
        self._bulk_kinds = frozenset(k for k, fn in checkers.items() if fn is check_tcp)
        self._tasks: set[asyncio.Task[None]] = set()
        self._tcp: TcpChecks | None = None  # TCP_CHECK attempts in bulk (no task each)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="pykeepalived-lb")
        self._applied: list[Service] | None = None
        self._applying: asyncio.Task[None] | None = None
        self._local: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
        self._unknown_kinds: set[str] = set()
        self._watchers: list[FileCheckWatcher] = []  # one per FILE_CHECK
        self.apply_errors = 0
        self.apply_error: str | None = None  # why the table is not what it should be, now
        self._retry: asyncio.TimerHandle | None = None

    def _context(self, config: Any) -> CheckContext:
        """What checkers need beyond their block: the SSL block, the track files, and this
        process's script runner (script_user, enable_script_security)."""
        return CheckContext(ssl_config=config.ssl, track_files=config.vrrp_track_files,
                            scripts=self.runner)

    # ------------------------------------------------------------------ start / stop
    async def start(self) -> None:
        self._open_fifo()
        for vs in self.core.virtual_servers:
            for rs in vs.real_servers:
                for ck in rs.checkers:
                    if ck.kind not in self.checkers and ck.kind not in self._unknown_kinds:
                        self._unknown_kinds.add(ck.kind)
                        log.warning("%s is not supported by pykeepalived: its real servers "
                                    "are treated as up", ck.kind)
        if self.backend.name == "nftables":
            from pykeepalived.lb.nft_plan import compatibility_warnings

            wanted = HealthCore(self.config.virtual_servers).services(self.groups)
            for line in compatibility_warnings(wanted):
                log.warning("%s", line)
            warning = conntrack_warning(tcp_checks_per_second(self.core.checkers()))
            if warning is not None:
                log.warning("%s", warning)
        adopt = getattr(self.backend, "adopt", None)
        if adopt is not None:  # IPVS: a killed predecessor's services are ours to reconcile
            adopt(HealthCore(self.config.virtual_servers).services(self.groups))
        now = self.loop.time()
        for vs in self.core.virtual_servers:
            log.info("%sctivating healthchecker for VS %s",
                     "Dea" if self._suspended(vs) else "A", vs_name(vs))
            self.core.suspend(vs, self._suspended(vs), now)
        watched = self._file_checks(reload=False)
        for ck, watcher in watched:  # their state from the start, as keepalived reads them
            watcher.start()
            self.core.watched(ck, watcher.result)
        self.handle(self.core.start(now))
        self._arm()
        await self._apply_now()

    def _open_fifo(self) -> None:
        gdefs = self.config.global_defs
        fifo_cfg = gdefs.lvs_notify_fifo or gdefs.notify_fifo
        if fifo_cfg is None:
            return
        script_cfg = (gdefs.lvs_notify_fifo_script if gdefs.lvs_notify_fifo is not None
                      else gdefs.notify_fifo_script)
        self.fifo = NotifyFifo(fifo_cfg.name, script_cfg.command if script_cfg else None,
                               self.runner, user=fifo_cfg.user, group=fifo_cfg.group)
        self.fifo.open()
        self.notifier.fifo = self.fifo

    async def stop(self) -> None:
        """TERM: omega notifications, then the table removed (unless -I), tasks ended."""
        for watcher in self._watchers:
            watcher.stop()
        if self._timer is not None:
            self._timer.cancel()
        for task in self._tasks:
            task.cancel()
        self.alerts.stopping()
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None
        self.handle(self.core.stop())
        if self._applying is not None:
            await self._applying
        if self._retry is not None:
            self._retry.cancel()
        if self.release:
            await self._clear()
        await self.notifier.drain(5.0)
        await self.alerts.aclose(SHUTDOWN_DRAIN)
        if self.fifo is not None:
            await self.fifo.aclose()
        await self.runner.close()
        self._pool.shutdown(wait=False)

    # ------------------------------------------------------------------ FILE_CHECK
    def _file_checks(self, *, reload: bool) -> list[tuple[CheckerHealth, FileCheckWatcher]]:
        """A watcher for each FILE_CHECK of the current state machine, which is told of
        each change of the file at once (keepalived watches its track files; polling them
        every delay_loop would leave a changed weight or a failure unseen for a minute).
        A FILE_CHECK without a usable track_file stays polled: each attempt says why."""
        from pykeepalived.check.file_check import FileCheckWatcher

        for old in self._watchers:
            old.stop()
        self._watchers = []
        if "FILE_CHECK" not in self.checkers:
            return []
        core = self.core
        out = []
        for ck in core.checkers():
            if not isinstance(ck.spec, FileCheck):
                continue

            def changed(result: CheckResult, ck: CheckerHealth = ck) -> None:
                if core is self.core:
                    self.handle(core.watched(ck, result))

            try:
                watcher = FileCheckWatcher(ck.spec, self.context, changed, reload=reload)
            except ValueError:
                continue
            ck.watched = True
            ck.next_run = None
            self._watchers.append(watcher)
            out.append((ck, watcher))
        return out

    # ------------------------------------------------------------------ ha_suspend
    def _suspended(self, vs: VirtualServerHealth) -> bool:
        spec = vs.spec
        return bool(spec.ha_suspend) and spec.address is not None and \
            spec.address not in self._local

    def set_local_addresses(self, addresses: Sequence[str]) -> None:
        """The addresses of this node now (ha_suspend follows the VIPs)."""
        self._local = {ipaddress.ip_address(a.split("/")[0].split("%")[0]) for a in addresses}
        if not self.core.started:
            return
        now = self.loop.time()
        changed = False
        for vs in self.core.virtual_servers:
            suspended = self._suspended(vs)
            if suspended != vs.suspended:
                log.info("%sctivating healthchecker for VS %s (address %s)",
                         "Dea" if suspended else "A", vs_name(vs),
                         "gone" if suspended else "here")
                self.core.suspend(vs, suspended, now)
                changed = True
        if changed:
            self._arm()
            self.request_apply()

    # ------------------------------------------------------------------ checks
    def _arm(self) -> None:
        """One timer for the earliest check. Every result re-arms: a timer already set for
        that time or earlier is kept (an early wake finds nothing due and re-arms), so that
        thousands of results a second do not make and cancel thousands of timers."""
        when = self.core.next_time()
        timer = self._timer
        if timer is not None:
            if when is not None and self._timer_at <= when:
                return
            timer.cancel()
            self._timer = None
        if when is not None:
            self._timer = self.loop.call_at(when, self._fire)
            self._timer_at = when

    def _fire(self) -> None:
        self._timer = None
        core = self.core
        now = self.loop.time()
        tcp = self._tcp
        finished = self._finished
        for ck in core.due(now):
            if ck.spec.kind in self._bulk_kinds:
                if tcp is None:
                    tcp = self._tcp = TcpChecks(self.loop)
                tcp.start(ck.target, functools.partial(finished, core, ck, now), now,
                          flush=False)
                continue
            task = self.loop.create_task(self._run(ck))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if tcp is not None:
            tcp.flush()  # the connects that have ended already give their results now
        self._arm()

    async def _run(self, ck: CheckerHealth) -> None:
        core = self.core
        self._finished(core, ck, self.loop.time(), await self.attempt(ck))

    def _finished(self, core: HealthCore, ck: CheckerHealth, began: float,
                  result: CheckResult) -> None:
        now = self.loop.time()
        ck.latency = now - began
        if core is not self.core:
            return  # a reload came meanwhile: the new checker has its own schedule
        alerts = self.alerts
        seen = alerts.seen(ck) if alerts.settings is not None else None
        events = core.result(ck, result, now)
        if events:
            self.handle(events)
        if seen is not None:
            alerts.checker_result(ck, result, seen)
        # the one new deadline is ck's: a timer set as early or earlier stays
        when = ck.next_run
        if self._timer is None or (when is not None and when < self._timer_at):
            self._arm()

    # ------------------------------------------------------------------ reload
    async def reload(self, path: str, config_id: str | None) -> bool:
        """SIGHUP: read ``path`` in a child process, then swap in one step; unchanged real
        servers keep their state (and stay in the table), the rest starts afresh."""
        from pykeepalived.daemon.reload import load_off_loop

        log.info("Reloading configuration %s", path)
        config = await load_off_loop(path, config_id, keep_lvs=True)
        if config is None:
            return False
        with self.tuning.reloading(lambda: self.config.global_defs):
            self.apply_config(config)
        return True

    def apply_config(self, config: Any) -> None:
        old = self.core
        self.config = config
        self.alerts.configure(config)
        self.context = self._context(config)
        self.core = HealthCore(config.virtual_servers, rand=old.rand, bootstrap=old.bootstrap)
        self.groups = group_services(config)
        now = self.loop.time()
        for vs in self.core.virtual_servers:
            vs.suspended = self._suspended(vs)
        watched = self._file_checks(reload=True)
        self.handle(self.core.adopt(old, now))
        for ck, watcher in watched:
            watcher.start()
            self.handle(self.core.watched(ck, watcher.result))
        self.request_apply()
        self._arm()
        log.info("Configuration reloaded: %d virtual servers", len(self.core.virtual_servers))

    async def attempt(self, ck: CheckerHealth) -> CheckResult:
        """One attempt of ``ck``, never longer than its timeout (plus a grace), never
        raising: a checker's own failure is a failed check with the reason."""
        check = self.checkers.get(ck.kind)
        if check is None:
            return CheckResult(True, f"{ck.kind} not supported: assumed up")
        limit = ck.target.timeout + TIMEOUT_GRACE
        if isinstance(ck.spec, MiscCheck):  # misc_timeout, else delay_loop (keepalived)
            from pykeepalived.check.misc_check import misc_timeout

            limit = misc_timeout(ck.spec) + TIMEOUT_GRACE
        try:
            return await asyncio.wait_for(check(ck.spec, ck.target, self.context), limit)
        except TimeoutError:
            return CheckResult(False, f"no answer within {limit:g} s")
        except Exception as exc:  # a checker bug must not stop the others
            log.exception("%s on %s failed unexpectedly", ck.kind, ck.target)
            return CheckResult(False, f"checker error: {exc}")

    # ------------------------------------------------------------------ events
    def handle(self, events: list[Event]) -> None:
        """keepalived's log lines, scripts and FIFO lines for what the state machine did;
        then the table follows."""
        for event in events:
            if isinstance(event, RealServerChanged):
                self._rs_changed(event)
            elif isinstance(event, QuorumChanged):
                self._quorum_changed(event)
            elif isinstance(event, WeightChanged):
                log.info("Changing weight from %d to %d for %sactive service %s of VS %s",
                         event.old, event.new, "" if event.rs.alive else "in",
                         rs_name(event.vs, event.rs), vs_name(event.vs))
            elif isinstance(event, CheckFailed) and event.check.is_up and \
                    event.check.spec.log_all_failures:
                # keepalived's log_all_failures: every failed attempt of a checker that is
                # still up (the retries); none once it is down
                log.info("%s on service %s failed%s: %s", event.check.kind,
                         rs_name(event.check.vs, event.check.rs),
                         " (retrying)" if event.retrying else "", event.result.detail)
        if events:
            self.request_apply()

    def _rs_changed(self, event: RealServerChanged) -> None:
        vs, rs = event.vs, event.rs
        verb = ("Enabling" if rs.inhibit else "Adding") if event.alive else (
            "Disabling" if rs.inhibit else "Removing")
        where = "of" if rs.inhibit else ("to" if event.alive else "from")
        log.info("%s service %s %s VS %s (%s)", verb, rs_name(vs, rs), where, vs_name(vs),
                 event.reason)
        spec = rs.spec
        script = _spec(spec.notify_scripts.get("notify_up" if event.alive else "notify_down"),
                       spec.notify_up if event.alive else spec.notify_down)
        self.notifier.lvs_changed("RS", f"{rs_name(vs, rs)} {vs_name(vs)}", event.alive, script,
                                  lvs_rs_line(rs_name(vs, rs), vs_name(vs), event.alive))

    def _quorum_changed(self, event: QuorumChanged) -> None:
        vs = event.vs
        spec = vs.spec
        if event.up:
            log.info("Gained quorum %d+%d=%d <= %d for VS %s", spec.quorum, spec.hysteresis,
                     event.threshold, event.weight, vs_name(vs))
        else:
            log.info("%s %d-%d=%d > %d for VS %s", "Starting with quorum down"
                     if event.initial else "Lost quorum", spec.quorum, spec.hysteresis,
                     event.threshold, event.weight, vs_name(vs))
        if spec.sorry_server is not None:
            host, port = spec.sorry_server
            log.info("%s sorry server [%s]:%s:%s %s VS %s",
                     ("Disabling" if spec.sorry_server_inhibit else "Removing")
                     if event.up else ("Enabling" if spec.sorry_server_inhibit else "Adding"),
                     host, spec.protocol.lower(), port if port is not None else spec.port,
                     "from" if event.up else "to", vs_name(vs))
        script = _spec(spec.notify_scripts.get("quorum_up" if event.up else "quorum_down"),
                       spec.quorum_up if event.up else spec.quorum_down)
        self.notifier.lvs_changed("VS", vs_name(vs), event.up, script,
                                  lvs_vs_line(vs_name(vs), event.up))
        self.alerts.quorum_changed(event)

    # ------------------------------------------------------------------ the table
    def services(self) -> list[Service]:
        return self.core.services(self.groups)

    def request_apply(self) -> None:
        """Make the kernel follow, later and off the loop; changes made meanwhile are folded
        into the next application (only the latest table matters)."""
        if self._applying is None or self._applying.done():
            self._applying = self.loop.create_task(self._apply_now())

    async def _apply_now(self) -> None:
        """Make the table the state machine's. A refusal is logged once per cause (then at
        debug level), retried on the next change and every APPLY_RETRY seconds, and its
        end is logged; the health checks go on meanwhile."""
        for _ in range(1000):  # bounded: each round applies the latest table
            wanted = self.services()
            if wanted == self._applied:
                return
            try:
                await self.loop.run_in_executor(self._pool, self.backend.apply, wanted)
                self._applied = wanted
            except Exception as exc:  # the kernel said no: logged, retried
                self.apply_errors += 1
                cause = str(exc)
                log.log(logging.DEBUG if cause == self.apply_error else logging.ERROR,
                        "Updating the load-balancer table (%s) failed: %s - the health "
                        "checks go on, the table is tried again", self.backend.name, cause)
                self.apply_error = cause
                if self._retry is None:
                    self._retry = self.loop.call_later(APPLY_RETRY, self._retry_apply)
                return
            if self.apply_error is not None:
                log.info("Updated the load-balancer table (%s) again, after %d failed "
                         "attempt(s) (%s)", self.backend.name, self.apply_errors,
                         self.apply_error)
                self.apply_error = None

    def _retry_apply(self) -> None:
        self._retry = None
        if self.apply_error is not None:
            self.request_apply()

    async def _clear(self) -> None:
        """Remove the table at stop. When the backend cannot (nftables gone), say so once;
        if this process never got a table in, there is nothing of it to remove."""
        from pykeepalived.lb.errors import LbError

        try:
            await self.loop.run_in_executor(self._pool, self.backend.clear)
        except LbError as exc:
            if self._applied is None:
                log.info("Removing the load-balancer table (%s): %s - none was installed",
                         self.backend.name, exc)
            else:
                log.error("Removing the load-balancer table (%s) failed: %s - it may be "
                          "left behind", self.backend.name, exc)
            return
        log.info("Removed the load-balancer table (%s)", self.backend.name)

    def dump(self, path: str | None = None) -> bool:
        """USR1: the virtual servers, real servers and checkers, as keepalived's checker
        writes them (/tmp/keepalived_check.data, whole or not at all: daemon.dumps)."""
        from pykeepalived.daemon.dumps import CHECK_DATA_NAME, dump_path, write_dump

        lines = ["------< Health checkers >------"]
        for vs in self.core.virtual_servers:
            spec = vs.spec
            lines += [f" VS = {vs_name(vs)}", f"   VS quorum = {spec.quorum}",
                      f"   VS hysteresis = {spec.hysteresis}",
                      f"   VS alive = {'yes' if vs.quorum_up else 'no'}",
                      f"   Suspended = {'yes' if vs.suspended else 'no'}"]
            for rs in vs.real_servers:
                lines += [f"   RS = {rs_name(vs, rs)}", f"     Weight = {rs.weight}",
                          f"     Alive = {'yes' if rs.alive else 'no'}",
                          f"     Inhibit = {'yes' if rs.inhibit else 'no'}"]
                for ck in rs.checkers:
                    lines += [f"     Checker = {ck.kind} {ck.target}",
                              f"       Up = {'yes' if ck.is_up else 'no'}",
                              f"       Has run = {'yes' if ck.has_run else 'no'}",
                              f"       Retries iterations = {ck.retry_it}",
                              f"       Last result = {ck.last.detail if ck.last else '-'}"]
        return write_dump(path or dump_path(CHECK_DATA_NAME), lines, log)

    def control(self, _request: dict[str, Any] | None = None) -> dict[str, Any]:
        """The control socket's answer: the table in ``ipvsadm -Ln`` form with each real
        server's health and last check result, and the same as data."""
        from pykeepalived.lb.status import DestStatus, ipvsadm_list

        services = self._applied or []
        health: dict[tuple[object, ...], tuple[bool | None, CheckResult | None]] = {}
        for vs in self.core.virtual_servers:
            for rs in vs.real_servers:
                lasts = [ck.last for ck in rs.checkers if ck.last is not None]
                failed = [r for r in lasts if not r.ok]
                shown = (failed or lasts)[0] if lasts else None
                health[(rs.address, rs.port)] = (rs.alive, shown)
        status: dict[tuple[tuple[object, ...], tuple[object, ...]], DestStatus] = {
            (service.key(), (d.address, d.port)): DestStatus(
            healthy=health.get((d.address, d.port), (None, None))[0],
            last_check=health.get((d.address, d.port), (None, None))[1])
            for service in services for d in service.destinations}
        return {"role": "check", "backend": self.backend.name,
                "table": ipvsadm_list(services, status),
                "virtual_servers": self.status(), "apply_errors": self.apply_errors,
                "apply_error": self.apply_error, "process": self.tuning.figures()}

    def status(self) -> list[dict[str, Any]]:
        """Every virtual server, its real servers, their health and last check result."""
        out = []
        for vs in self.core.virtual_servers:
            out.append({
                "vs": vs_name(vs), "quorum_up": vs.quorum_up, "suspended": vs.suspended,
                "sorry_active": vs.sorry_active,
                "real_servers": [{
                    "rs": rs_name(vs, rs), "alive": rs.alive, "weight": rs.weight,
                    "checks": [{"kind": ck.kind, "up": ck.is_up,
                                "last": ck.last.detail if ck.last else None,
                                "latency": ck.latency}
                               for ck in rs.checkers]} for rs in vs.real_servers]})
        return out


def _spec(configured: Any, text: str | None) -> ScriptSpec:
    """A notify line's own user wins over script_user for that script."""
    if configured is not None and getattr(configured, "user", None) is not None:
        return Script(configured.command, configured.user.user, configured.user.group)
    return text


def backend_for(config: Any) -> Backend:
    """The load-balancer backend ``lb_backend`` names (ipvs, nftables; auto: IPVS where the
    kernel has it, else nftables), saying which at start."""
    from pykeepalived.lb.select import select_backend

    selection = select_backend(getattr(config.global_defs, "lb_backend", None) or "auto")
    log.info("%s", selection.message)
    if selection.backend == "ipvs":
        from pykeepalived.lb.ipvs import IpvsBackend

        return IpvsBackend()
    from pykeepalived.lb.nftables import NftablesBackend

    return NftablesBackend()


def all_checkers() -> dict[str, CheckFn]:
    from pykeepalived.check import CHECKERS

    return dict(CHECKERS)


async def run_checker(config: Any, *, path: str | None = None, config_id: str | None = None,
                      release: bool = True, control: str | None = None,
                      ready: Callable[[], None] | None = None) -> int:
    """Run the checker process until TERM/INT. ``ready`` is called once the first table is
    in place, and after each reload."""
    from pykeepalived.lb.errors import LbError
    from pykeepalived.net import interfaces
    from pykeepalived.net.reflector import NetlinkReflector

    try:
        backend = backend_for(config)
    except LbError as exc:
        # keepalived: "IPVS: Can't initialize ipvs", then "exited with permanent error
        # FATAL"; the parent does not respawn a child that exits so (daemon.runner)
        from pykeepalived.daemon.process import EXIT_FATAL

        log.error("%s - the healthcheck process cannot run: exiting with a permanent error",
                  exc)
        return EXIT_FATAL
    proc = CheckerProcess(config, backend, all_checkers(), release=release)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    busy = asyncio.Lock()  # start, each reload and stop run one at a time
    reloads: set[asyncio.Task[bool]] = set()

    def report_ready() -> None:
        if ready is not None:
            ready()

    async def guarded_reload(config_path: str) -> bool:
        try:
            async with busy:
                return await proc.reload(config_path, config_id)
        finally:
            report_ready()  # applied or refused, the reload is over

    def on_hup() -> None:
        if path is None:
            log.warning("Reload requested but no configuration file is known")
            report_ready()
            return
        task = loop.create_task(guarded_reload(path))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hup)
    loop.add_signal_handler(signal.SIGUSR1, proc.dump)

    def refresh(*_args: object) -> None:
        proc.set_local_addresses(interfaces.local_addresses())

    reflector = NetlinkReflector(on_address=refresh)
    reflector.start(loop)
    refresh()
    server = None
    if control is not None:
        from pykeepalived.control.server import ControlServer

        server = ControlServer(control, proc.control)
        await server.start()
    try:
        async with busy:
            await proc.start()
            proc.tuning.started(config.global_defs)
        loop.call_soon(report_ready)  # after what start() queued for the loop (VIPs)
        await stop.wait()
        log.info("Stopping")
        async with busy:
            proc.tuning.scheduling.reset()  # one burst of work: at the normal policy
            await proc.stop()
    finally:
        reflector.stop()
        if server is not None:
            await server.close()
    return 0
