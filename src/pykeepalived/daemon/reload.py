"""SIGHUP: take a new configuration without dropping the VIPs of instances that stay.

A configuration with errors is refused and the running one kept (keepalived 2.2.7 exits instead
and leaves its VIPs behind); keepalived's SECURITY VIOLATION (scripts without
enable_script_security) is reported but, as keepalived runs with it, does not stop a reload.
Instances whose plan is unchanged keep running untouched; a changed instance that was MASTER
restarts as MASTER, so its addresses never leave the interface; removed instances stop as on
TERM (priority-0 advert, VIPs removed).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pykeepalived.daemon.instance import plan_instance
from pykeepalived.daemon.runtime import InstanceRuntime
from pykeepalived.daemon.tracker import Tracker
from pykeepalived.vrrp.actions import State

if TYPE_CHECKING:
    from pykeepalived.daemon.vrrp_main import VrrpProcess

log = logging.getLogger("pykeepalived.vrrp")


async def reload(proc: VrrpProcess, path: str, config_id: str | None) -> bool:
    """Apply the configuration in ``path``; False (and nothing changed) when it has errors."""
    from pykeepalived.config import Category, load_config

    log.info("Reloading configuration %s", path)
    try:
        result = load_config(path, config_id=config_id)
    except Exception as exc:  # a reload must never take the daemon down
        log.error("Reload failed, keeping the running configuration: %s", exc)
        return False
    for diag in result.diagnostics:
        (log.error if diag.severity == "error" else log.warning)("%s", diag)
    # Stricter than at start-up: an error that drops a block could drop a running instance
    # (and its VIPs) along with it. Only keepalived's SECURITY VIOLATION, which it runs
    # with anyway, is let through.
    blocking = [d for d in result.diagnostics
                if d.severity == "error" and d.category != Category.SECURITY_ERROR]
    if not result.runnable or blocking:
        log.error("Configuration has errors: reload refused, keeping the running one")
        return False
    new_config = result.config
    now = proc.loop.time()
    await proc.tracker.stop()
    old = proc.instances
    proc.instances = {}
    proc.by_key = {}
    proc.forget_decoded()
    proc.config = new_config
    started: list[InstanceRuntime] = []
    resume: set[str] = set()
    for name, inst in new_config.vrrp_instances.items():
        plan = plan_instance(inst, new_config.global_defs)
        previous = old.pop(name, None)
        if previous is not None and previous.plan == plan:
            rt = previous
        else:
            if previous is not None:
                was_master = previous.router.state is State.MASTER
                previous.cancel_timer()
                gone = [v for v in previous.plan.all_addresses if v not in plan.all_addresses]
                proc.addresses.remove_many(gone)
                if was_master:
                    resume.add(name)
            rt = InstanceRuntime(proc, plan)
            rt.prepare()
            proc.attach(rt)
            if name in resume:
                rt.vips_installed = True
            started.append(rt)
        proc.instances[name] = rt
        proc.by_key[plan.key] = rt
    for name, rt in old.items():
        log.info("(%s) removed from the configuration", name)
        rt.router.shutdown(now)
        rt.carry_out(rt.router.actions())
        rt.cancel_timer()
        rt.cleanup()
    proc.build_sync_groups()
    old_tracker = proc.tracker
    proc.tracker = Tracker(proc)
    proc.tracker.notifier = old_tracker.notifier  # the notify FIFO and pending notifications
    proc.tracker.firewall = old_tracker.firewall  # the nftables table of no_accept VIPs
    await proc.tracker.start()
    for rt in started:
        rt.router.start(now, resume_master=rt.plan.name in resume)
    for rt in proc.instances.values():
        proc.tracker.apply(rt, now)
        proc.process(rt)
    log.info("Configuration reloaded: %d instances", len(proc.instances))
    return True
