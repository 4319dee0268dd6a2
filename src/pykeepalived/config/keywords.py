"""The top-level keyword table: every section keepalived.conf may contain.

Keyword -> handler, as keepalived's init_global_keywords(), init_vrrp_keywords(),
init_check_keywords() and init_bfd_keywords() install them. The global keywords keepalived
installs at the outermost level (net_namespace, instance, use_pid_dir, ...) are known there
only, not inside global_defs.
"""

from __future__ import annotations

from functools import cache

from pykeepalived.config import kw_blocks as blocks
from pykeepalived.config import kw_checkers as checkers
from pykeepalived.config import kw_global as g
from pykeepalived.config import kw_lvs as lvs
from pykeepalived.config import kw_track as track
from pykeepalived.config import kw_vrrp as vrrp
from pykeepalived.config.blocks import Node
from pykeepalived.config.parse_base import Ctx, Table


def _global(ctx: Ctx, node: Node) -> object:
    return ctx.config.global_defs


@cache
def top_table() -> Table:
    """The keywords of the outermost level."""
    t = Table("top")
    t.add("global_defs", block="sub", sub=g.global_defs_table(), enter=_global)
    for kw, entry in g.root_table().keywords.items():
        t.add(kw, entry.handler)
    t.add("static_ipaddress", blocks.h_static_ipaddress, block="values")
    t.add("static_routes", blocks.h_static_routes, block="values")
    t.add("static_rules", blocks.h_static_rules, block="values")
    tg = Table("track_group")
    tg.add("group", blocks.h_track_group_group, block="values")
    t.add("track_group", block="sub", sub=tg, enter=blocks.enter_track_group,
          detached=blocks.detached_track_group)
    t.add("linkbeat_interfaces", blocks.h_linkbeat_interfaces, block="values")
    t.add("interface_up_down_delays", blocks.h_up_down_delays, block="values")
    gg = Table("garp_group")
    gg.add("garp_interval", blocks.h_gg_interval("garp_interval"))
    gg.add("gna_interval", blocks.h_gg_interval("gna_interval"))
    gg.add("interface", blocks.h_gg_interface)
    gg.add("interfaces", blocks.h_gg_interfaces, block="values")
    t.add("garp_group", block="sub", sub=gg, enter=blocks.enter_garp_group,
          close=blocks.close_garp_group)
    tf = blocks.track_file_table()
    t.add("track_file", block="sub", sub=tf, enter=blocks.enter_track_file,
          close=blocks.close_track_file)
    t.add("vrrp_track_file", block="sub", sub=tf, enter=blocks.enter_track_file,
          close=blocks.close_track_file)
    t.add("vrrp_track_process", block="sub", sub=blocks.track_process_table(),
          enter=blocks.enter_track_process, close=blocks.close_track_process)
    t.add("bfd_instance", block="sub", sub=blocks.bfd_table(), enter=blocks.enter_bfd,
          close=blocks.close_bfd)
    t.add("vrrp_script", block="sub", sub=track.vrrp_script_table(), enter=track.enter_script,
          close=track.close_script)
    t.add("vrrp_sync_group", block="sub", sub=track.vrrp_sync_group_table(),
          enter=track.enter_sync_group, detached=track.detached_sync_group)
    t.add("vrrp_instance", block="sub", sub=vrrp.vrrp_instance_table(),
          enter=vrrp.enter_instance, close=vrrp.close_instance,
          detached=vrrp.detached_instance)
    t.add("SSL", block="sub", sub=checkers.ssl_table(), enter=checkers.enter_ssl)
    t.add("virtual_server_group", lvs.h_virtual_server_group, block="values", named=True)
    t.add("virtual_server", block="sub", sub=lvs.virtual_server_table(), enter=lvs.enter_vs,
          detached=lvs.detached_vs)
    return t
