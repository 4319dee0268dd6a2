"""keepalived's rules on tracking weights in sync groups and for the address owner.

A member of a vrrp_sync_group must not float its own priority (its group moves as one), unless
the group says ``sync_group_tracking_weight`` (or the deprecated ``global_tracking``); the
address owner (priority 255) never changes its priority at all. keepalived 2.2.7 enforces this
when it completes each instance (vrrp_complete_instance) and when it hands a group's tracked
objects to its members (sync_group_tracking_init), reporting each change as a configuration
error. The same rules and words are applied here, and the model is left as keepalived runs it:
weights cleared or entries dropped. The daemon then reads the model as it is.
"""

from __future__ import annotations

from pykeepalived.config.model_vrrp import VrrpInstance, VrrpSyncGroup
from pykeepalived.config.parse_base import Ctx

VRRP_PRIO_OWNER = 255


def tracking_weights(ctx: Ctx) -> None:
    """Apply both rules to every instance, then to every sync group's own tracking."""
    config = ctx.config
    for vi in config.vrrp_instances.values():
        group = config.vrrp_sync_groups.get(vi.sync_group or "")
        in_group = group is not None and not (group.sync_group_tracking_weight
                                              or group.global_tracking)
        if in_group or vi.priority == VRRP_PRIO_OWNER:
            _member_or_owner(ctx, vi, in_group)
    for group in config.vrrp_sync_groups.values():
        if any(config.vrrp_instances[m].priority == VRRP_PRIO_OWNER
               for m in group.group if m in config.vrrp_instances):
            _group_with_owner(ctx, group)


def _member_or_owner(ctx: Ctx, vi: VrrpInstance, in_group: bool) -> None:
    """vrrp_complete_instance: a sync group member's weights are cleared or its weighted
    entries dropped; the owner's weighted entries are dropped."""
    config = ctx.config
    why = "SYNC group" if in_group else "address owner"
    why_ = "SYNC group" if in_group else "address_owner"
    kept_if = []
    for t in vi.track_interface:
        if t.weight:
            ctx.error(vi.location, f"({vi.name}) ignoring {t.name} tracked interface "
                      f"{'weight ' if in_group else ''}due to {why}")
            if not in_group:
                continue
            t.weight = 0
        kept_if.append(t)
    vi.track_interface = kept_if
    kept_scripts = []
    for ref in vi.track_script:
        script = config.vrrp_scripts.get(ref.name)
        weight = ref.weight if ref.weight is not None else (script.weight if script else 0)
        if weight:
            ctx.error(vi.location, f"({vi.name}) ignoring tracked script {ref.name} with "
                      f"weights due to {why_}")
            continue
        kept_scripts.append(ref)
    vi.track_script = kept_scripts
    kept_files = []
    for fref in vi.track_file:
        track_file = config.vrrp_track_files.get(fref.name)
        weight = fref.weight if fref.weight is not None else (
            track_file.weight if track_file else 1)
        if weight == 1:
            ctx.error(vi.location, f"({vi.name}) ignoring weight from tracked file "
                      f"{fref.name} due to {why_}. specify weight 0")
            fref.weight = 0
        elif weight:
            ctx.error(vi.location, f"({vi.name}) ignoring tracked file {fref.name} with "
                      f"weight {weight} due to {why_}")
            continue
        kept_files.append(fref)
    vi.track_file = kept_files
    kept_bfd = []
    for bref in vi.track_bfd:
        if bref.weight:
            ctx.error(vi.location, f"({vi.name}) ignoring tracked bfd {bref.name} with weight "
                      f"{bref.weight} due to {why_}")
            continue
        kept_bfd.append(bref)
    vi.track_bfd = kept_bfd


def _group_with_owner(ctx: Ctx, group: VrrpSyncGroup) -> None:
    """sync_group_tracking_init: a group with an address owner among its members cannot
    weight what it tracks; the weights are cleared."""
    config = ctx.config

    def clear(kind: str, name: str, verb: str) -> None:
        ctx.error(group.location, f"({group.name}) Cannot have weighted track {kind} "
                  f"'{name}' with member having priority {VRRP_PRIO_OWNER} - {verb}")

    for ref in group.track_script:
        script = config.vrrp_scripts.get(ref.name)
        if (ref.weight if ref.weight is not None else (script.weight if script else 0)):
            clear("script", ref.name, "clearing weight")
            ref.weight = 0
    for fref in group.track_file:
        track_file = config.vrrp_track_files.get(fref.name)
        if (fref.weight if fref.weight is not None else (track_file.weight if track_file
                                                         else 1)):
            clear("file", fref.name, "setting weight 0")
            fref.weight = 0
    for pref in group.track_process:
        process = config.vrrp_track_processes.get(pref.name)
        if (pref.weight if pref.weight is not None else (process.weight if process else 0)):
            clear("process", pref.name, "setting weight 0")
            pref.weight = 0
    for bref in group.track_bfd:
        if bref.weight:
            clear("bfd", bref.name, "setting weight 0")
            bref.weight = 0
    for t in group.track_interface:
        if t.weight:
            clear("interface", t.name, "clearing weight")
            t.weight = 0
