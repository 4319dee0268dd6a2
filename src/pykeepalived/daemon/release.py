"""Taking back from the host what the VRRP instances of a configuration put on it.

A VRRP process that stops cleanly removes its own VIPs, virtual routes and rules, VMACs and
the no_accept nftables table (``InstanceRuntime.cleanup``). One that was killed, or stopped by
a TERM that came before its handlers were in place, leaves them all behind, while its peer
takes the VIPs over: the same address on two hosts. The parent then calls :func:`release`,
in a short-lived process of its own (``daemon.runner``), which removes everything the
configuration would own, as the VRRP process does for its VIPs when it starts
(:func:`remove_stale_addresses`).

With ``-V`` (``--dont-release-vrrp``) VIPs, routes and rules stay, as at a clean stop with
-V; VMACs and the nftables table go, as they do then too.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
from collections.abc import Iterable, Sequence
from typing import Any

from pykeepalived.daemon.instance import InstancePlan, plan_instance
from pykeepalived.net.addresses import AddressManager

__all__ = ["instance_plans", "release", "remove_stale_addresses"]

log = logging.getLogger("pykeepalived.vrrp")


def instance_plans(config: Any) -> list[InstancePlan]:
    """The plan of every vrrp_instance of ``config`` (pure: nothing touched)."""
    return [plan_instance(inst, config) for inst in config.vrrp_instances.values()]


def remove_stale_addresses(addresses: AddressManager, plans: Iterable[InstancePlan]) -> None:
    """Every VIP and excluded VIP of ``plans`` off the host; absent ones are no error.

    At start, a previous run that was killed (or stopped with -V) may have left them behind;
    a BACKUP holding the VIPs would answer for an address another node owns.
    """
    stale = [v for plan in plans for v in plan.all_addresses]
    try:
        addresses.remove_many(stale)
    except OSError as exc:
        log.warning("Could not remove stale VIPs: %s", exc)


def _remove_routes_and_rules(addresses: AddressManager, plans: Sequence[InstancePlan]) -> None:
    """The virtual routes and rules of the instances that hold a VIP now (a MASTER's), as
    the VRRP process removes them when a MASTER leaves that state."""
    for plan in plans:
        if not plan.routes and not plan.rules:
            continue
        if not any(addresses.present_many(plan.all_addresses)):
            continue  # not MASTER when it died: the routes and rules are not ours
        for rule in plan.rules:
            with contextlib.suppress(OSError):
                addresses.remove_rule(rule)
        for route in plan.routes:
            with contextlib.suppress(OSError):
                addresses.remove_route(route)


def release(config: Any, *, release_vips: bool = True) -> None:
    """Remove what the VRRP instances of ``config`` own from this network namespace: VIPs,
    virtual routes and rules (unless ``release_vips`` is false, -V), VMACs, and the nftables
    table (no_accept, and the VMACs' group reports)."""
    plans = instance_plans(config)
    if release_vips:
        with AddressManager() as addresses:
            _remove_routes_and_rules(addresses, plans)
            remove_stale_addresses(addresses, plans)
    for plan in plans:
        if plan.vmac:
            try:
                from pykeepalived.net import vmac  # only a killed child's VMACs

                vmac.delete_vmac(plan.vmac)
            except OSError as exc:
                log.warning("(%s) could not delete VMAC %s: %s", plan.name, plan.vmac, exc)
    if any(plan.no_accept or plan.vmac for plan in plans):
        from pykeepalived.net.firewall import NftFirewall

        try:
            NftFirewall().close()
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("could not remove the nftables table: %s", exc)
