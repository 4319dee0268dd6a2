"""Keyword tables of the global blocks besides global_defs: static addresses, routes and
rules, track_group, linkbeat_interfaces, interface_up_down_delays, garp_group,
track_file, vrrp_track_process and bfd_instance (keepalived vrrp_parser.c, track_file.c,
bfd_parser.c).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

from pykeepalived.config.addresses import (
    check_interface,
    parse_ipaddress_line,
    parse_route_line,
    parse_rule_line,
    parse_sockaddr,
)
from pykeepalived.config.blocks import Node
from pykeepalived.config.errors import Category
from pykeepalived.config.model_common import Location
from pykeepalived.config.model_global import (
    BfdInstance,
    GarpGroup,
    InterfaceUpDownDelay,
    LinkbeatInterface,
    TrackGroup,
)
from pykeepalived.config.model_vrrp import VrrpTrackFile, VrrpTrackProcess
from pykeepalived.config.parse_base import (
    INT_MAX,
    INT_MIN,
    UINT_MAX,
    Ctx,
    Table,
    detached_copy,
    value_lines,
    value_words,
)


# ------------------------------------------------------------------ other global blocks
def h_static_ipaddress(ctx: Ctx, node: Node) -> None:
    for line in value_lines(node):
        ip = parse_ipaddress_line(ctx, line, static=True)
        if ip is not None:
            ctx.config.static_ipaddress.append(ip)


def h_static_routes(ctx: Ctx, node: Node) -> None:
    for line in value_lines(node):
        route = parse_route_line(ctx, line, static=True)
        if route is not None:
            ctx.config.static_routes.append(route)


def h_static_rules(ctx: Ctx, node: Node) -> None:
    for line in value_lines(node):
        rule = parse_rule_line(ctx, line, static=True)
        if rule is not None:
            ctx.config.static_rules.append(rule)


def enter_track_group(ctx: Ctx, node: Node) -> TrackGroup | None:
    if len(node.tokens) != 2:
        # keepalived's static_track_group_handler: exactly one name, else the block is skipped
        ctx.error(node, "track_group must have a name - skipping")
        return None
    name = node.tokens[1]
    if name in ctx.config.track_groups:
        ctx.error(node, f"track_group {name} already defined")
        return None
    tg = TrackGroup(name, location=_loc(node))
    ctx.config.track_groups[name] = tg
    return tg


def detached_track_group(ctx: Ctx, node: Node) -> TrackGroup:
    """What the lines of a refused track_group without its '{' configure: a copy of the
    last track_group, which keepalived's handlers act on (not kept)."""
    return detached_copy(ctx.config.track_groups, lambda: TrackGroup("", location=_loc(node)))


def h_track_group_group(ctx: Ctx, node: Node) -> None:
    tg: TrackGroup = ctx.current
    if tg.group:
        ctx.error(node, f"Group list already specified for track_group {tg.name}")
        return
    tg.group = value_words(node)
    if not tg.group:
        ctx.error(node, f"Warning - track group {tg.name} has empty group block")


def h_linkbeat_interfaces(ctx: Ctx, node: Node) -> None:
    for line in value_lines(node):
        name = line.tokens[0]
        if not ctx.system.has_interface(name):
            ctx.error(line, f"unknown interface {name} specified for linkbeat interface",
                      Category.FATAL)
            continue
        kind = line.tokens[1] if len(line.tokens) > 1 else None
        if kind is not None and (kind not in ("MII", "ETHTOOL", "IOCTL") or len(line.tokens) > 2):
            ctx.error(line, f"extra characters {kind} in linkbeat interface")
        ctx.config.linkbeat_interfaces.append(LinkbeatInterface(name, kind))


def h_up_down_delays(ctx: Ctx, node: Node) -> None:
    for line in value_lines(node):
        name = line.tokens[0]
        if not ctx.system.has_interface(name):
            ctx.error(line, f"unknown interface {name} specified for up/down delay",
                      Category.FATAL)
            continue
        if len(line.tokens) < 2:
            ctx.error(line, f"No delay specified for interface {name}")
            continue
        down = ctx.decimal_value(line, line.tokens[1], 0, 255)
        up = ctx.decimal_value(line, line.tokens[2], 0, 255) if len(line.tokens) > 2 else down
        if down is None or up is None:
            continue
        ctx.config.interface_up_down_delays[name] = InterfaceUpDownDelay(name, down, up)


def enter_garp_group(ctx: Ctx, node: Node) -> GarpGroup:
    gg = GarpGroup(location=_loc(node))
    ctx.config.garp_groups.append(gg)
    return gg


def h_gg_interval(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.read_decimal(node, 1, 0, UINT_MAX / 1e6)
        if value is None:
            ctx.error(node, f"Invalid garp_group {attr} {node.tokens[1]}")
            return
        setattr(ctx.current, attr, value)
    return handler


def h_gg_interface(ctx: Ctx, node: Node) -> None:
    gg: GarpGroup = ctx.current
    name = ctx.arg(node, 1)
    if gg.interface is not None or gg.interfaces:
        ctx.error(node, "garp_group already has an interface - ignoring")
        return
    if check_interface(ctx, node, name, "garp_group"):
        gg.interface = name


def h_gg_interfaces(ctx: Ctx, node: Node) -> None:
    gg: GarpGroup = ctx.current
    for line in value_lines(node):
        for name in line.tokens:
            if check_interface(ctx, line, name, "garp_group"):
                gg.interfaces.append(name)


def close_garp_group(ctx: Ctx, node: Node, gg: GarpGroup) -> None:
    if gg.interface is None and not gg.interfaces:
        ctx.error(node, "garp_group has no interface or interfaces - ignoring")
        ctx.config.garp_groups.remove(gg)
    elif gg.garp_interval is None and gg.gna_interval is None:
        ctx.error(node, "garp_group has no garp_interval or gna_interval - ignoring")
        ctx.config.garp_groups.remove(gg)


def enter_track_file(ctx: Ctx, node: Node) -> VrrpTrackFile | None:
    if node.keyword == "vrrp_track_file":
        ctx.warn(node, "vrrp_track_file is deprecated - please use track_file",
                 Category.OK)
    name = ctx.arg(node, 1)
    if name in ctx.config.vrrp_track_files:
        ctx.error(node, f"track_file {name} already defined")
        return None
    return VrrpTrackFile(name, location=_loc(node))


def h_tf_file(ctx: Ctx, node: Node) -> None:
    """keepalived's track_file_file_handler: a missing name is reported, not fatal."""
    tf: VrrpTrackFile = ctx.current
    if len(node.tokens) < 2:
        ctx.error(node, "track file file name missing")
        return
    if tf.file is not None:
        ctx.error(node, f"File already set for track file {tf.name} - ignoring "
                  f"{node.tokens[1]}")
        return
    tf.file = node.tokens[1]


TRACK_FILE_WEIGHT = 254  # keepalived: weight and init value are -254..254


def h_tf_weight(ctx: Ctx, node: Node) -> None:
    """keepalived's track_file_weight_handler: -254..254, once, optionally ``reverse``."""
    tf: VrrpTrackFile = ctx.current
    if len(node.tokens) < 2:
        ctx.error(node, f"No weight specified for track file {tf.name} - ignoring")
        return
    if tf.weight != 1:
        ctx.error(node, f"Weight already set for track file {tf.name} - ignoring "
                  f"{node.tokens[1]}")
        return
    value = ctx.read_number(node, node.tokens[1], -TRACK_FILE_WEIGHT, TRACK_FILE_WEIGHT,
                            signed=True)
    if value is None:
        ctx.error(node, f"Weight ({node.tokens[1]}) for track_file {tf.name} must be between "
                  f"[-{TRACK_FILE_WEIGHT}..{TRACK_FILE_WEIGHT}] inclusive. Ignoring...")
        value = 1
    tf.weight = value
    if len(node.tokens) > 2:
        if node.tokens[2] == "reverse":
            tf.weight_reverse = True
        else:
            ctx.error(node, f"track_file {tf.name} unknown weight option {node.tokens[2]}")


def h_tf_init_file(ctx: Ctx, node: Node) -> None:
    """keepalived's track_file_init_handler: numbers (a sensible one is -254..254) and
    ``overwrite``; anything else is an unknown option."""
    tf: VrrpTrackFile = ctx.current
    tf.init_file = True
    tf.init_file_overwrite = False  # each init_file line says it again, as in keepalived
    for word in node.tokens[1:]:
        stripped = word.lstrip(" \t\n\r\f\v")
        if stripped[:1].isdigit() or stripped[:1] == "-":
            value = ctx.read_number(node, word, INT_MIN, INT_MAX, signed=True)
            if value is None:
                ctx.error(node, f"Track file {tf.name} init value {word} is invalid")
                value = 0
            elif not -TRACK_FILE_WEIGHT <= value <= TRACK_FILE_WEIGHT:
                ctx.error(node, f"Track file {tf.name} init value {value} is outside sensible "
                          f"range [-{TRACK_FILE_WEIGHT}, {TRACK_FILE_WEIGHT}]")
            tf.init_file_value = value
        elif word == "overwrite":
            tf.init_file_overwrite = True
        else:
            ctx.error(node, f"Unknown track file init option {word}")


def close_track_file(ctx: Ctx, node: Node, tf: VrrpTrackFile) -> None:
    if tf.file is None:
        ctx.error(node, f"No file set for track_file {tf.name} - removing")
        return
    ctx.config.vrrp_track_files[tf.name] = tf
    if tf.init_file_overwrite and ctx.system.probe_files:
        # keepalived stat()s the file it is to overwrite when the block ends, -t included
        try:
            mode = os.stat(tf.file).st_mode
        except OSError:
            return
        if not stat.S_ISREG(mode):
            ctx.error(node, f"Cannot initialise track file {tf.name} - it is not a regular "
                      "file")


def track_file_table() -> Table:
    t = Table("track_file")
    t.add("file", h_tf_file)
    t.add("weight", h_tf_weight)
    t.add("init_file", h_tf_init_file)
    return t


def enter_track_process(ctx: Ctx, node: Node) -> VrrpTrackProcess | None:
    name = ctx.arg(node, 1)
    return VrrpTrackProcess(name, location=_loc(node))


def h_tp_process(ctx: Ctx, node: Node) -> None:
    tp: VrrpTrackProcess = ctx.current
    if tp.process:
        ctx.error(node, f"Process already set for track process {tp.name} - ignoring "
                  f"{node.tokens[1:2]}")
        return
    tp.process = node.tokens[1:]
    ctx.arg(node, 1)
    if len(node.tokens) > 2:
        tp.full_command = True


def h_tp_param_match(ctx: Ctx, node: Node) -> None:
    tp: VrrpTrackProcess = ctx.current
    if len(node.tokens) == 1:
        tp.param_match = "exact"
    elif node.tokens[1] in ("initial", "partial"):
        tp.param_match = node.tokens[1]
    else:
        ctx.error(node, f"Invalid param_match type {node.tokens[1]} - ignoring")
        return
    tp.full_command = True


def h_tp_weight(ctx: Ctx, node: Node) -> None:
    tp: VrrpTrackProcess = ctx.current
    if len(node.tokens) < 2:
        ctx.error(node, f"No weight specified for track process {tp.name} - ignoring")
        return
    value = ctx.read_int(node, 1, -254, 254)
    if value is None:
        ctx.error(node, f"Weight ({node.tokens[1]}) for vrrp_track_process {tp.name} must be "
                  "between [-254..254] inclusive. Ignoring...")
        return
    tp.weight = value
    if len(node.tokens) > 2:
        if node.tokens[2] == "reverse":
            tp.weight_reverse = True
        else:
            ctx.error(node, f"vrrp_track_process {tp.name} unknown weight option "
                      f"{node.tokens[2]}")


def h_tp_quorum(attr: str, lo: int) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        tp: VrrpTrackProcess = ctx.current
        value = ctx.read_unsigned(node, 1, lo, 65535)
        if value is None:
            ctx.error(node, f"{attr} ({node.tokens[1]}) for vrrp_track_process {tp.name} must be"
                      f" between [{lo}..65535] inclusive. Ignoring...")
            return
        setattr(tp, attr, value)
    return handler


def h_tp_delay(which: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        tp: VrrpTrackProcess = ctx.current
        value = ctx.read_decimal(node, 1, 0.000001, 3600)
        if value is None:
            ctx.error(node, f"{node.keyword} ({node.tokens[1]}) for vrrp_track_process {tp.name}"
                      " must be between [0.000001..3600] inclusive. Ignoring...")
            return
        if which in ("delay", "terminate_delay"):
            tp.terminate_delay = value
        if which in ("delay", "fork_delay"):
            tp.fork_delay = value
    return handler


def close_track_process(ctx: Ctx, node: Node, tp: VrrpTrackProcess) -> None:
    if not tp.process:
        ctx.error(node, f"track process '{tp.name}' process name not specified")
        return
    ctx.config.vrrp_track_processes[tp.name] = tp


def track_process_table() -> Table:
    t = Table("vrrp_track_process")
    t.add("process", h_tp_process)
    t.add("param_match", h_tp_param_match)
    t.add("weight", h_tp_weight)
    t.add("quorum", h_tp_quorum("quorum", 1))
    t.add("quorum_max", h_tp_quorum("quorum_max", 0))
    t.add("delay", h_tp_delay("delay"))
    t.add("terminate_delay", h_tp_delay("terminate_delay"))
    t.add("fork_delay", h_tp_delay("fork_delay"))
    t.add("full_command", lambda ctx, node: setattr(ctx.current, "full_command", True))
    return t


def enter_bfd(ctx: Ctx, node: Node) -> BfdInstance | None:
    name = ctx.arg(node, 1)
    if len(name) > 31:
        ctx.error(node, f"BFD instance name {name} too long - skipping")
        return None
    if name in ctx.config.bfd_instances:
        ctx.error(node, f"BFD instance {name} already configured - skipping")
        return None
    return BfdInstance(name, location=_loc(node))


def h_bfd_addr(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        addr = parse_sockaddr(ctx.arg(node, 1))
        if addr is None:
            ctx.error(node, f"Invalid {attr} '{node.tokens[1]}'")
            return
        setattr(ctx.current, attr, addr)
    return handler


def h_bfd_ms(attr: str, lo: float, hi: float) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.read_decimal(node, 1, lo, hi, digits=3)
        if value is None:
            ctx.error(node, f"Invalid {attr} '{node.tokens[1]}' - ignoring")
            return
        setattr(ctx.current, attr, value)
    return handler


def h_bfd_uint(attr: str, lo: int, hi: int) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.read_unsigned(node, 1, lo, hi)
        if value is None:
            ctx.error(node, f"Invalid {attr} '{node.tokens[1]}' - ignoring")
            return
        setattr(ctx.current, attr, value)
    return handler


def h_bfd_weight(ctx: Ctx, node: Node) -> None:
    bfd: BfdInstance = ctx.current
    value = ctx.read_int(node, 1, -253, 253)
    if value is None:
        ctx.error(node, f"Invalid weight for BFD instance {bfd.name}")
        return
    bfd.weight = value
    if len(node.tokens) > 2:
        if node.tokens[2] == "reverse":
            bfd.weight_reverse = True
        else:
            ctx.error(node, f"Unknown weight option {node.tokens[2]}")


def close_bfd(ctx: Ctx, node: Node, bfd: BfdInstance) -> None:
    if bfd.neighbor_ip is None:
        ctx.error(node, f"BFD instance {bfd.name} has no neighbor_ip - removing")
        return
    ctx.config.bfd_instances[bfd.name] = bfd


def bfd_table() -> Table:
    t = Table("bfd_instance")
    t.add("neighbor_ip", h_bfd_addr("neighbor_ip"))
    t.add("neighbour_ip", h_bfd_addr("neighbor_ip"))
    t.add("source_ip", h_bfd_addr("source_ip"))
    t.add("min_rx", h_bfd_ms("min_rx", 0.001, 4294967))
    t.add("min_tx", h_bfd_ms("min_tx", 0.001, 4294967))
    t.add("idle_tx", h_bfd_ms("idle_tx", 0.001, 4294967))
    t.add("multiplier", h_bfd_uint("multiplier", 1, 255))
    t.add("passive", lambda ctx, node: setattr(ctx.current, "passive", True))
    t.add("ttl", h_bfd_uint("ttl", 1, 255))
    t.add("hoplimit", h_bfd_uint("hoplimit", 1, 255))
    t.add("max_hops", h_bfd_uint("max_hops", 0, 255))
    t.add("weight", h_bfd_weight)
    t.add("vrrp", lambda ctx, node: setattr(ctx.current, "vrrp", True))
    t.add("checker", lambda ctx, node: setattr(ctx.current, "checker", True))
    return t


def _loc(node: Node) -> Location:
    return Location(node.file, node.line)
