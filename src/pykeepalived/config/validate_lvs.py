"""Semantic checks of the LVS part and the resolution of inherited settings.

keepalived 2.2.7 validate_check_config() (keepalived/check/check_data.c): a virtual server
needs real servers, address-based services need a protocol (keepalived falls back to UDP
and says so), a scheduler and a forwarding method (wlc, NAT: also said), ports must agree
unless NAT. "The virtual server setting is the default for real servers, and the real
server setting is the default for checkers" (man 5 keepalived.conf) is applied here so the
checker engine reads final values.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from pykeepalived.config.errors import Category
from pykeepalived.config.model_common import IPAddress, NotifyScript
from pykeepalived.config.model_global import GlobalDefs
from pykeepalived.config.model_lvs import (
    Checker,
    DnsCheck,
    HttpGet,
    MiscCheck,
    RealServer,
    SmtpCheck,
    VirtualServer,
)
from pykeepalived.config.parse_base import Ctx
from pykeepalived.config.sysinfo import is_script


def script_security(ctx: Ctx) -> None:
    """Checker scripts that exist need enable_script_security (check_data.c)."""
    config = ctx.config
    scripts: list[NotifyScript] = list(ctx.scratch.get("misc_scripts", []))
    for vs in config.virtual_servers:
        scripts.extend(vs.notify_scripts.values())
        for rs in vs.real_servers:
            scripts.extend(rs.notify_scripts.values())
    g = config.global_defs
    for fifo_script in (g.notify_fifo_script, g.lvs_notify_fifo_script):
        if fifo_script is not None and config.virtual_servers:
            scripts.append(fifo_script)
    found = any(is_script(ctx.system.script_status(s.argv[0])) for s in scripts if s.argv)
    if found and not g.enable_script_security:
        ctx.report(None, Category.SECURITY_ERROR, "SECURITY VIOLATION - check scripts are being"
                   " executed but script_security not enabled (add enable_script_security to "
                   "global_defs)", severity="error")


def startup_script_security(ctx: Ctx) -> None:
    """startup_script / shutdown_script are checked by the parent process (main.c)."""
    g = ctx.config.global_defs
    found = any(is_script(ctx.system.script_status(s.argv[0]))
                for s in (g.startup_script, g.shutdown_script) if s is not None and s.argv)
    if found and not g.enable_script_security:
        ctx.report(None, Category.SECURITY_ERROR, "SECURITY VIOLATION - start/shutdown scripts "
                   "are being executed but script_security not enabled", severity="error")


def validate_lvs(ctx: Ctx) -> None:
    """Check every virtual server, fill keepalived's defaults and inheritance."""
    config = ctx.config
    kept: list[VirtualServer] = []
    for vs in config.virtual_servers:
        if _check_vs(ctx, vs):
            kept.append(vs)
    config.virtual_servers = kept
    script_security(ctx)  # keepalived's last step: the servers it removed run nothing


def _check_vs(ctx: Ctx, vs: VirtualServer) -> bool:
    loc = vs.location
    marks: set[str] = ctx.scratch.get("vs_marks", {}).get(id(vs), set())
    if not vs.real_servers:
        ctx.error(loc, f"Virtual server {vs.describe()} has no real servers - ignoring")
        return False
    vsg = ctx.config.virtual_server_groups.get(vs.group or "")
    has_fwmark = vs.fwmark is not None or (vsg is not None and
                                           any(e.fwmark is not None for e in vsg.entries))
    has_addr = (vsg is not None and any(e.address is not None for e in vsg.entries)) or (
        vsg is None and vs.fwmark is None)
    if vs.ha_suspend and has_fwmark:
        ctx.error(loc, f"Virtual server {vs.describe()}: cannot use ha_suspend with fwmarks - "
                  "clearing ha_suspend")
        vs.ha_suspend = False
    if has_addr:
        if "protocol" not in marks:
            ctx.warn(loc, f"Virtual server {vs.describe()}: no protocol set - defaulting to UDP "
                     "(add 'protocol TCP|UDP|SCTP')")
            vs.protocol = "UDP"
            marks.add("protocol")
        if "ops" in vs.lvs_flags and vs.protocol != "UDP":
            ctx.error(loc, f"Virtual server {vs.describe()}: one packet scheduling requires UDP "
                      "- resetting")
            vs.lvs_flags.remove("ops")
        if not vs.persistence_timeout and vsg is None and vs.fwmark is None and not vs.port:
            ctx.error(loc, f"Virtual server {vs.describe()}: zero port only valid for "
                      "persistent services - setting")
            vs.persistence_timeout = 360
    if not vs.persistence_timeout and vsg is not None and \
            any(e.address is not None and not e.port for e in vsg.entries):
        ctx.error(loc, f"Virtual server {vs.describe()}: zero port only valid for persistent "
                  "services - setting")
        vs.persistence_timeout = 360
    if "protocol" in marks and has_fwmark and not has_addr:
        ctx.warn(loc, f"Warning: Virtual server {vs.describe()}: protocol specified for fwmark "
                 "- protocol will be ignored")
    if "sched" not in marks:
        ctx.warn(loc, f"Virtual server {vs.describe()}: no scheduler set, setting default "
                 "'wlc' (add 'lvs_sched')")
    method_set = "method" in marks
    seen: set[tuple[IPAddress, int | None]] = set()  # addresses compare as their text does
    kept: list[RealServer] = []
    for rs in vs.real_servers:
        known = len(seen)
        seen.add((rs.address, rs.port))  # (one hash of the address, not two)
        if len(seen) == known:
            ctx.error(rs.location, f"VS {vs.describe()}: real server {rs.address}:{rs.port} is "
                      "duplicated - removing second rs")
            continue
        if rs.lvs_method is None:
            if not method_set:
                ctx.warn(rs.location, f"Virtual server {vs.describe()}: no forwarding method "
                         "set, setting default NAT (add 'lvs_method')")
            rs.lvs_method = vs.lvs_method
            rs.tunnel = rs.tunnel or vs.tunnel
        kept.append(rs)
    vs.real_servers = kept
    if vs.sorry_server is not None and vs.sorry_server_lvs_method is None:
        if not method_set:
            ctx.warn(loc, f"Virtual server {vs.describe()}: no forwarding method set, setting "
                     "default NAT")
        vs.sorry_server_lvs_method = vs.lvs_method
    weight_sum = sum(rs.weight for rs in vs.real_servers)
    if vs.quorum > weight_sum:
        ctx.warn(loc, f"Warning - quorum {vs.quorum} for {vs.describe()} exceeds total weight of"
                 f" real servers {weight_sum}, reducing quorum to {weight_sum}")
        vs.quorum = weight_sum
    if vs.hysteresis >= vs.quorum and (vs.hysteresis or vs.quorum == 0):
        ctx.error(loc, f"Virtual server {vs.describe()}: hysteresis {vs.hysteresis} >= quorum "
                  f"{vs.quorum}; setting hysteresis to {max(vs.quorum - 1, 0)}")
        vs.hysteresis = max(vs.quorum - 1, 0)
    _ports(ctx, vs, has_fwmark)
    gdefs = ctx.config.global_defs
    if vs.smtp_alert is None:
        vs.smtp_alert = _checker_smtp_alert(gdefs, False)
    for rs in vs.real_servers:
        _expand_smtp_hosts(ctx, rs)
        _inherit_rs(vs, rs, ctx.config.global_defs.checker_log_all_failures)
        if rs.smtp_alert is None:
            rs.smtp_alert = _checker_smtp_alert(gdefs, True)
    return True


def _checker_smtp_alert(gdefs: GlobalDefs, default: bool) -> bool:
    """keepalived's smtp_alert of a virtual or real server not given one: global_defs
    smtp_alert_checker, else smtp_alert, else no for a virtual server and YES for a real
    server (keepalived keeps that old default; a real server does not follow its virtual
    server's setting)."""
    if gdefs.smtp_alert_checker is not None:
        return gdefs.smtp_alert_checker
    if gdefs.smtp_alert is not None:
        return gdefs.smtp_alert
    return default


# what an SMTP_CHECK host{} block sets for itself; the rest it writes sets the checker's own
_HOST_CONNECTION: Final = ("connect_ip", "connect_port", "bindto", "bind_port", "bind_if",
                           "fwmark", "connect_timeout")
_HOST_SHARED: Final = ("retry", "delay_before_retry", "warmup", "delay_loop", "alpha",
                       "log_all_failures")


def _expand_smtp_hosts(ctx: Ctx, rs: RealServer) -> None:
    """keepalived's deprecated SMTP_CHECK ``host {}`` blocks (check_smtp.c): each host is one
    more SMTP_CHECK, a copy of the checker with the host's connection options; the first host
    stands for the checker itself when the checker sets no connection option of its own. The
    other keywords of a host block are the checker's (and so every copy's)."""
    expanded: list[Checker] = []
    for ck in rs.checkers:
        expanded.append(ck)
        if not isinstance(ck, SmtpCheck) or not ck.host:
            continue
        hosts, ck.host = ck.host, []
        ctx.report(hosts[0].location, Category.OK, "The SMTP_CHECK host block is deprecated. "
                   "Please define additional checkers.")
        for host in hosts:
            for name in _HOST_SHARED:
                if getattr(host, name) is not None:
                    setattr(ck, name, getattr(host, name))
        if all(getattr(ck, name) is None for name in _HOST_CONNECTION):
            first, *hosts = hosts
            for name in _HOST_CONNECTION:
                setattr(ck, name, getattr(first, name))
        expanded += [dataclasses.replace(ck, host=[], location=host.location, **{
            name: getattr(host, name) for name in _HOST_CONNECTION}) for host in hosts]
    rs.checkers = expanded


def _ports(ctx: Ctx, vs: VirtualServer, has_fwmark: bool) -> None:
    loc = vs.location
    if vs.group is not None:
        return
    for rs in vs.real_servers:
        if rs.lvs_method == "NAT":
            if vs.fwmark is None and not rs.port:
                rs.port = vs.port
            continue
        if vs.fwmark is not None:
            if rs.port:
                ctx.error(rs.location, f"WARNING - fwmark virtual server {vs.describe()}, real "
                          f"server {rs.address}:{rs.port} has port specified - clearing")
                rs.port = None
        elif not rs.port:
            rs.port = vs.port
        elif rs.port != vs.port:
            ctx.error(rs.location, f"WARNING - virtual server {vs.describe()} and real server "
                      f"{rs.address}:{rs.port} ports don't match - resetting")
            rs.port = vs.port
    del loc, has_fwmark


def _inherit_rs(vs: VirtualServer, rs: RealServer, log_all_failures: bool) -> None:
    if rs.inhibit_on_failure is None:
        rs.inhibit_on_failure = vs.inhibit_on_failure
    if rs.alpha is None:
        rs.alpha = vs.alpha
    if rs.connect_timeout is None:
        rs.connect_timeout = vs.connect_timeout
    if rs.delay_loop is None:
        rs.delay_loop = vs.delay_loop
    if rs.retry is None:
        rs.retry = vs.retry
    if rs.delay_before_retry is None:
        rs.delay_before_retry = vs.delay_before_retry
    if rs.warmup is None:
        rs.warmup = vs.warmup
    if rs.virtualhost is None:
        rs.virtualhost = vs.virtualhost
    for ck in rs.checkers:
        _inherit_checker(rs, ck, log_all_failures)
        if isinstance(ck, MiscCheck) and not ck.misc_timeout:
            # keepalived: the script runs for misc_timeout, else the virtual server's
            # delay_loop (check_misc.c), whatever the checker's own delay_loop
            ck.misc_timeout = vs.delay_loop


def _inherit_checker(rs: RealServer, ck: Checker, log_all_failures: bool) -> None:
    """Checker defaults: retry 1 (MISC_CHECK 0, DNS_CHECK 3); delay_before_retry 1 s
    (HTTP_GET/SSL_GET 3 s, DNS_CHECK delay_loop); warmup delay_loop; log_all_failures
    global_defs' checker_log_all_failures."""
    if ck.alpha is None:
        ck.alpha = rs.alpha
    if ck.connect_timeout is None:
        ck.connect_timeout = rs.connect_timeout
    if ck.delay_loop is None:
        ck.delay_loop = rs.delay_loop
    if ck.retry is None:
        ck.retry = rs.retry if rs.retry is not None else (
            0 if isinstance(ck, MiscCheck) else 3 if isinstance(ck, DnsCheck) else 1)
    if ck.delay_before_retry is None:
        ck.delay_before_retry = rs.delay_before_retry if rs.delay_before_retry is not None \
            else (3.0 if isinstance(ck, HttpGet) else ck.delay_loop
                  if isinstance(ck, DnsCheck) else 1.0)
    if ck.warmup is None:
        ck.warmup = rs.warmup if rs.warmup is not None else ck.delay_loop
    if ck.connect_port is None and not isinstance(ck, MiscCheck):
        ck.connect_port = rs.port
    if isinstance(ck, HttpGet) and ck.virtualhost is None:
        ck.virtualhost = rs.virtualhost
    if ck.log_all_failures is None:
        ck.log_all_failures = log_all_failures
