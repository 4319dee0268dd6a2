"""Keyword tables of vrrp_script and vrrp_sync_group, and the track_* entries shared by
vrrp_instance and vrrp_sync_group (keepalived/vrrp/vrrp_parser.c, vrrp_track.c).
"""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Any, TypeVar

from pykeepalived.config.blocks import Node
from pykeepalived.config.model_common import Location, ScriptUser
from pykeepalived.config.model_vrrp import (
    TrackFileRef,
    TrackInterface,
    TrackScriptRef,
    VrrpScript,
    VrrpSyncGroup,
)
from pykeepalived.config.parse_base import (
    INT_MAX,
    UINT_MAX,
    Ctx,
    Table,
    check_true_false,
    detached_copy,
    split_quoted_escaped,
    value_lines,
    value_words,
)

_Ref = TypeVar("_Ref", TrackScriptRef, TrackFileRef)


# ------------------------------------------------------------------ track_* entries
def track_interface_entries(ctx: Ctx, node: Node, owner: str) -> list[TrackInterface]:
    """``track_interface { IFNAME [weight N [reverse|noreverse]] ... }``."""
    out: list[TrackInterface] = []
    for line in value_lines(node):
        name = line.tokens[0]
        if not ctx.system.has_interface(name) and not ctx.config.global_defs.dynamic_interfaces:
            ctx.error(line, f"({owner}) tracked interface {name} doesn't exist")
            ctx.scratch["bad_if"] = True
            continue
        if any(t.name == name for t in out):
            ctx.error(line, f"({owner}) duplicate track_interface {name} - ignoring")
            continue
        entry = TrackInterface(name, location=_loc(line))
        if not _weight_options(ctx, line, owner, f"track_interface {name}", entry, 253):
            continue
        out.append(entry)
    return out


def _weight_options(ctx: Ctx, line: Node, owner: str, what: str, entry: Any,
                    limit: int, *, allow_no_weight_reverse: bool = False) -> bool:
    toks = line.tokens
    i = 1
    while i < len(toks):
        word = toks[i]
        if word == "weight":
            if i + 1 >= len(toks):
                ctx.error(line, f"({owner}) weight without value specified for {what} - "
                          "ignoring")
                return False
            w = ctx.read_number(line, toks[i + 1], -limit, limit, signed=True)
            if w is None:
                ctx.error(line, f"({owner}) {what}: weight must be between [-{limit}:{limit}]"
                          " - ignoring")
                return False
            entry.weight = w
            i += 2
        elif word in ("reverse", "noreverse", "no_reverse"):
            entry.reverse = word == "reverse"
            i += 1
        else:
            ctx.error(line, f"({owner}) unknown {what} option {word} - ignoring")
            return False
    return True


def _named_entries(ctx: Ctx, node: Node, owner: str, known: Container[str], kind: str,
                   limit: int, make: Callable[[str, Location], _Ref], *,
                   unique: bool = False) -> list[_Ref]:
    """``NAME [weight N] [reverse|noreverse]`` lines naming a vrrp_script / track_file /
    track_process / bfd_instance defined elsewhere; unknown names (and, where keepalived
    checks, repeated ones) are reported and skipped."""
    out: list[_Ref] = []
    for line in value_lines(node):
        name = line.tokens[0]
        if name not in known:
            ctx.error(line, f"({owner}) {kind} {name} not found, ignoring...")
            continue
        if unique and any(t.name == name for t in out):
            ctx.error(line, f"({owner}) duplicate {kind.replace(' ', '_')} {name} - ignoring")
            continue
        entry = make(name, _loc(line))
        if _weight_options(ctx, line, owner, f"{kind} {name}", entry, limit):
            out.append(entry)
    return out


def track_script_entries(ctx: Ctx, node: Node, owner: str) -> list[TrackScriptRef]:
    return _named_entries(ctx, node, owner, ctx.config.vrrp_scripts, "track script", 253,
                          lambda name, loc: TrackScriptRef(name, location=loc), unique=True)


def track_file_entries(ctx: Ctx, node: Node, owner: str) -> list[TrackFileRef]:
    return _named_entries(ctx, node, owner, ctx.config.vrrp_track_files, "track file", 254,
                          lambda name, loc: TrackFileRef(name, location=loc), unique=True)


def track_process_entries(ctx: Ctx, node: Node, owner: str) -> list[TrackFileRef]:
    return _named_entries(ctx, node, owner, ctx.config.vrrp_track_processes, "track process",
                          254, lambda name, loc: TrackFileRef(name, location=loc))


def track_bfd_entries(ctx: Ctx, node: Node, owner: str) -> list[TrackFileRef]:
    return _named_entries(ctx, node, owner, ctx.config.bfd_instances, "track bfd", 253,
                          lambda name, loc: TrackFileRef(name, location=loc))


def _notify(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        obj = ctx.current
        name = getattr(obj, "name", "")
        if attr in obj.notify_scripts:
            # keepalived names the ignored script in its message: without one, the
            # missing word stops the configuration
            ctx.error(node, f"({name}) {attr} script already specified - ignoring "
                      f"{ctx.arg(node, 1)}")
            return
        if attr == "notify_deleted" and len(node.tokens) == 1:
            obj.notify_deleted = ""
            return
        script = ctx.script(node)
        if script is None:
            return
        obj.notify_scripts[attr] = script
        setattr(obj, attr, script.command)
    return handler


def _bool_attr(attr: str, what: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        obj = ctx.current
        value = ctx.read_bool(node)
        if value is None:
            ctx.error(node, f"({getattr(obj, 'name', '')}) invalid {what} "
                      f"{node.tokens[1]} specified")
            return
        setattr(obj, attr, value)
    return handler


def _flag(attr: str, value: Any = True) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        setattr(ctx.current, attr, value)
    return handler


def _track(fn: Callable[[Ctx, Node, str], list[Any]], attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        obj = ctx.current
        getattr(obj, attr).extend(fn(ctx, node, obj.name))
    return handler


# ------------------------------------------------------------------ vrrp_sync_group
def enter_sync_group(ctx: Ctx, node: Node) -> VrrpSyncGroup | None:
    if len(node.tokens) != 2:
        ctx.error(node, "vrrp_sync_group must have a name - skipping")
        return None
    name = node.tokens[1]
    if name in ctx.config.vrrp_sync_groups:
        ctx.error(node, f"vrrp sync group {name} already defined")
        return None
    sg = VrrpSyncGroup(name, location=_loc(node))
    ctx.config.vrrp_sync_groups[name] = sg
    return sg


def detached_sync_group(ctx: Ctx, node: Node) -> VrrpSyncGroup:
    """What the lines of a refused vrrp_sync_group without its '{' configure: a copy of
    the last sync group, which keepalived's handlers act on (not kept)."""
    return detached_copy(ctx.config.vrrp_sync_groups,
                         lambda: VrrpSyncGroup("", location=_loc(node)))


def h_sg_group(ctx: Ctx, node: Node) -> None:
    sg: VrrpSyncGroup = ctx.current
    if sg.group:
        ctx.error(node, f"Group list already specified for sync group {sg.name}")
        return
    sg.group = value_words(node)
    if not sg.group:
        ctx.error(node, f"Warning - sync group {sg.name} has empty group block")


def h_sg_global_tracking(ctx: Ctx, node: Node) -> None:
    sg: VrrpSyncGroup = ctx.current
    ctx.error(node, f"({sg.name}) global_tracking is deprecated. Use track_interface/script/"
              "file on the sync group")
    sg.global_tracking = True
    sg.sync_group_tracking_weight = True


def vrrp_sync_group_table() -> Table:
    t = Table("vrrp_sync_group")
    t.add("group", h_sg_group, block="values")
    t.add("track_interface", _track(track_interface_entries, "track_interface"), block="values")
    t.add("track_script", _track(track_script_entries, "track_script"), block="values")
    t.add("track_file", _track(track_file_entries, "track_file"), block="values")
    t.add("track_process", _track(track_process_entries, "track_process"), block="values")
    t.add("track_bfd", _track(track_bfd_entries, "track_bfd"), block="values")
    for kw in ("notify_backup", "notify_master", "notify_fault", "notify_stop", "notify"):
        t.add(kw, _notify(kw))
    t.add("smtp_alert", _bool_attr("smtp_alert", "vrrp_group smtp_alert parameter"))
    t.add("global_tracking", h_sg_global_tracking)
    t.add("sync_group_tracking_weight", _flag("sync_group_tracking_weight"))
    t.add("notify_priority_changes", _bool_attr("notify_priority_changes",
                                                "sync group notify_priority_changes"))
    return t


# ------------------------------------------------------------------ vrrp_script
def enter_script(ctx: Ctx, node: Node) -> VrrpScript | None:
    name = ctx.arg(node, 1)
    vs = VrrpScript(name, location=_loc(node))
    ctx.scratch["script_state"] = {"remove": False, "user_set": False}
    return vs


def h_vs_script(ctx: Ctx, node: Node) -> None:
    vs: VrrpScript = ctx.current
    words = split_quoted_escaped(node.text)
    if not words or len(words) < 2:
        return  # keepalived: no script, and the block's end says so
    argv = split_quoted_escaped(words[1]) or []
    vs.script = words[1]
    vs.argv = argv


def h_vs_interval(ctx: Ctx, node: Node) -> None:
    vs: VrrpScript = ctx.current
    value = ctx.read_unsigned(node, 1, 0, UINT_MAX // 1000000)
    if value is None:
        ctx.error(node, f"({vs.name}): vrrp script interval '{node.tokens[1]}' must be between 1"
                  f" and {UINT_MAX // 1000000} - ignoring")
        return
    if value == 0:
        ctx.error(node, f"({vs.name}): vrrp script interval must be greater than 0, setting to 1")
        value = 1
    vs.interval = float(value)


def h_vs_timeout(ctx: Ctx, node: Node) -> None:
    vs: VrrpScript = ctx.current
    value = ctx.read_unsigned(node, 1, 0, UINT_MAX // 1000000)
    if value is None:
        ctx.error(node, f"({vs.name}): vrrp script timeout '{node.tokens[1]}' invalid - "
                  "ignoring")
        return
    if value == 0:
        ctx.error(node, f"({vs.name}): vrrp script timeout must be greater than 0, setting to 1")
        value = 1
    vs.timeout = float(value)


def h_vs_weight(ctx: Ctx, node: Node) -> None:
    vs: VrrpScript = ctx.current
    value = ctx.read_int(node, 1, -253, 253)
    if value is None:
        ctx.error(node, f"vrrp_script {vs.name} weight {node.tokens[1]} must be in [-253, 253]")
        value = 0
    vs.weight = value
    if len(node.tokens) >= 3:
        if node.tokens[2] == "reverse":
            vs.weight_reverse = True
        else:
            ctx.error(node, f"vrrp_script {vs.name} unknown weight option {node.tokens[2]}")


def _vs_count(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        vs: VrrpScript = ctx.current
        value = ctx.read_unsigned(node, 1, 1, INT_MAX)
        if value is None:
            ctx.error(node, f"({vs.name}): vrrp script {attr} value '{node.tokens[1]}' invalid, "
                      "defaulting to 1")
            value = 1
        setattr(vs, attr, value)
    return handler


def h_vs_user(ctx: Ctx, node: Node) -> None:
    vs: VrrpScript = ctx.current
    user = ctx.arg(node, 1)
    group = node.tokens[2] if len(node.tokens) > 2 else None
    state: dict[str, bool] = ctx.scratch["script_state"]
    if not ctx.system.user_exists(user) or (group is not None and
                                            not ctx.system.group_exists(group)):
        ctx.error(node, f"Unable to set uid/gid for script {vs.script or vs.name} (user "
                  f"'{user}' or group does not exist)")
        state["remove"] = True
        return
    state["remove"] = False
    state["user_set"] = True
    vs.user = ScriptUser(user, group)


def close_script(ctx: Ctx, node: Node, vs: VrrpScript) -> None:
    state: dict[str, bool] = ctx.scratch.pop("script_state", {})
    remove = state.get("remove", False)
    if not vs.argv:
        ctx.error(node, f"No script set for vrrp_script {vs.name} - removing")
        remove = True
    elif not remove and not state.get("user_set") and not ctx.default_script_user(node):
        ctx.error(node, f"Unable to set default user for vrrp script {vs.name} - removing")
        remove = True
    if remove:
        return
    if vs.name in ctx.config.vrrp_scripts:
        ctx.error(node, f"vrrp_script {vs.name} already defined - replacing it")
    ctx.config.vrrp_scripts[vs.name] = vs


def vrrp_script_table() -> Table:
    t = Table("vrrp_script")
    t.add("script", h_vs_script)
    t.add("interval", h_vs_interval)
    t.add("timeout", h_vs_timeout)
    t.add("weight", h_vs_weight)
    t.add("rise", _vs_count("rise"))
    t.add("fall", _vs_count("fall"))
    t.add("user", h_vs_user)
    t.add("init_fail", _flag("init_fail"))
    return t


def bool_from(text: str) -> bool | None:
    return check_true_false(text)


def _loc(node: Node) -> Location:
    return Location(node.file, node.line)
