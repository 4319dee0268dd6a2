"""Keyword tables of the health checkers (TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK,
DNS_CHECK, UDP_CHECK, PING_CHECK, MISC_CHECK, FILE_CHECK, BFD_CHECK), the top-level SSL
block, and the value handlers shared with virtual_server and real_server
(keepalived/check/check_*.c).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pykeepalived.config.addresses import parse_sockaddr
from pykeepalived.config.blocks import Node
from pykeepalived.config.errors import Category
from pykeepalived.config.hexstr import read_hex_str
from pykeepalived.config.model_common import IPAddress, Location
from pykeepalived.config.model_lvs import (
    BfdCheck,
    Checker,
    FileCheck,
    HttpGet,
    MiscCheck,
    RealServer,
    SmtpCheck,
    SslConfig,
    UdpCheck,
    Url,
)
from pykeepalived.config.parse_base import UINT_MAX, Ctx, Table

TIMER_MAX = UINT_MAX / 1e6  # connect_timeout: at most UINT_MAX microseconds
# delay_loop, delay_before_retry, warmup: keepalived's read_timer() with no maximum, which
# is TIMER_MAXIMUM (ULONG_MAX - 1) microseconds
TIMER_MAXIMUM = (2**64 - 2) / 1e6


def _loc(node: Node) -> Location:
    return Location(node.file, node.line)


def h_timer(attr: str, lo: float = 0.0, hi: float = TIMER_MAXIMUM
            ) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.read_decimal(node, 1, lo, hi)
        if value is None:
            ctx.error(node, f"{node.keyword} '{node.tokens[1]}' invalid - ignoring")
            return
        setattr(ctx.current, attr, value)
    return handler


def h_retry(ctx: Ctx, node: Node) -> None:
    """A checker's retry: 0 and up (keepalived's retry_handler)."""
    value = ctx.read_unsigned(node, 1, 0, UINT_MAX)
    if value is None:
        ctx.error(node, f"Invalid retry connection value '{node.tokens[1]}'")
        return
    ctx.current.retry = value


def h_server_retry(ctx: Ctx, node: Node) -> None:
    """A virtual or real server's retry: 1 and up (keepalived's vs_/rs_retry_handler)."""
    value = ctx.read_unsigned(node, 1, 1, UINT_MAX)
    if value is None:
        ctx.error(node, f"retry value invalid - {node.tokens[1]}")
        return
    ctx.current.retry = value


def h_bool(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.read_bool(node)
        if value is None:
            ctx.error(node, f"Invalid {attr} parameter {node.tokens[1]}")
            return
        setattr(ctx.current, attr, value)
    return handler


def h_flag(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        setattr(ctx.current, attr, True)
    return handler


def h_str(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        if len(node.tokens) != 2:
            ctx.error(node, f"{node.keyword} missing or extra parameters")
            return
        setattr(ctx.current, attr, node.tokens[1])
    return handler


# ------------------------------------------------------------------ checkers
def enter_checker(cls: type[Checker]) -> Callable[[Ctx, Node], Checker | None]:
    def enter(ctx: Ctx, node: Node) -> Checker | None:
        rs: RealServer = ctx.current
        checker = cls(location=_loc(node))
        rs.checkers.append(checker)
        return checker
    return enter


def enter_smtp_host(ctx: Ctx, node: Node) -> Checker:
    """SMTP_CHECK ``host { connect_ip ... }``: one more server to check (old syntax)."""
    smtp: SmtpCheck = ctx.current
    host = Checker(kind="SMTP_CHECK host", location=_loc(node))
    smtp.host.append(host)
    return host


def h_ck_addr(attr: str) -> Callable[[Ctx, Node], None]:
    """``connect_ip`` / ``bindto``: an address of another family than the checker's
    destination (connect_ip, by default the real server's address; none yet for
    SMTP_CHECK's own options) or source is refused, and the one given before it is
    dropped too (keepalived writes the new one over it, then marks it unset)."""
    def handler(ctx: Ctx, node: Node) -> None:
        addr = parse_sockaddr(ctx.arg(node, 1))
        if addr is None:
            ctx.error(node, f"Invalid {attr} address {node.tokens[1]} - ignoring")
            return
        checker = ctx.current
        paired, other = ((checker.bindto, "bindto") if attr == "connect_ip"
                         else (_destination(ctx, checker), "connect_ip"))
        if paired is not None and paired.version != addr.version:
            ctx.error(node, f"{attr} address {node.tokens[1]} does not match address family "
                      f"of {other} - skipping")
            setattr(checker, attr, None)
            if attr == "connect_ip":
                ctx.scratch.setdefault("no_destination", set()).add(id(checker))
            return
        setattr(checker, attr, addr)
    return handler


def _destination(ctx: Ctx, checker: Checker) -> IPAddress | None:
    """The address a checker connects to as keepalived holds it while reading."""
    if checker.connect_ip is not None:
        return checker.connect_ip
    if id(checker) in ctx.scratch.get("no_destination", ()) or isinstance(checker, SmtpCheck):
        return None
    rs = next((o for o in reversed(ctx.stack) if isinstance(o, RealServer)), None)
    return rs.address if rs is not None else None


def h_ck_port(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.read_unsigned(node, 1, 1, 65535)
        if value is None:
            ctx.error(node, f"Invalid {attr} {node.tokens[1]} - ignoring")
            return
        setattr(ctx.current, attr, value)
    return handler


def h_ck_fwmark(ctx: Ctx, node: Node) -> None:
    value = ctx.read_unsigned(node, 1, 0, UINT_MAX)
    if value is None:
        ctx.error(node, f"Invalid fwmark {node.tokens[1]} - ignoring")
        return
    ctx.current.fwmark = value


def h_bind_if(ctx: Ctx, node: Node) -> None:
    """``bind_if IFNAME``. keepalived -t does not look the interface up (and exits 0); the
    checks then fail until it exists, so pykeepalived says so, in a note that leaves the exit
    status alone."""
    h_str("bind_if")(ctx, node)
    name = node.tokens[1] if len(node.tokens) == 2 else None
    if name is not None and not ctx.system.has_interface(name) and \
            not ctx.config.global_defs.dynamic_interfaces:
        ctx.report(node, Category.OK, f"bind_if {name}: no such interface - the checker's "
                   "connections fail until it exists")


def _common_checker(t: Table) -> None:
    t.add("connect_ip", h_ck_addr("connect_ip"))
    t.add("connect_port", h_ck_port("connect_port"))
    t.add("bindto", h_ck_addr("bindto"))
    t.add("bind_if", h_bind_if)
    t.add("bind_port", h_ck_port("bind_port"))
    t.add("fwmark", h_ck_fwmark)
    t.add("warmup", h_timer("warmup"))
    t.add("connect_timeout", h_timer("connect_timeout", 0.000001, TIMER_MAX))
    t.add("retry", h_retry)
    t.add("delay_before_retry", h_timer("delay_before_retry"))
    t.add("delay_loop", h_timer("delay_loop", 0.000001))
    t.add("alpha", h_bool("alpha"))
    t.add("log_all_failures", h_bool("log_all_failures"))


def enter_url(ctx: Ctx, node: Node) -> Url:
    http: HttpGet = ctx.current
    url = Url(location=_loc(node))
    http.url.append(url)
    return url


def h_url_digest(ctx: Ctx, node: Node) -> None:
    value = ctx.arg(node, 1)
    if not re.fullmatch(r"[0-9a-fA-F]{32}", value):
        ctx.error(node, f"digest '{value}' is not an MD5 digest (32 hexadecimal digits) - "
                  "ignoring")
        return
    ctx.current.digest = value.lower()


def h_url_status(ctx: Ctx, node: Node) -> None:
    url: Url = ctx.current
    for word in node.tokens[1:]:
        lo_text, _, hi_text = word.partition("-")
        lo = ctx.read_number(node, lo_text, 100, 999, signed=False)
        hi = ctx.read_number(node, hi_text, 100, 999, signed=False) if hi_text else lo
        if lo is None or hi is None or hi < lo:
            ctx.error(node, f"Invalid HTTP_GET status code range {word} - skipping")
            continue
        url.status_code.append((lo, hi))


def h_url_regex_stack(ctx: Ctx, node: Node) -> None:
    start = ctx.read_unsigned(node, 1, 0, UINT_MAX)
    end = ctx.read_unsigned(node, 2, 0, UINT_MAX)
    if start is not None and end is not None:
        ctx.current.regex_stack = (start, end)


def url_table() -> Table:
    t = Table("url")
    t.add("path", lambda ctx, node: setattr(ctx.current, "path", ctx.arg(node, 1)))
    t.add("digest", h_url_digest)
    t.add("status_code", h_url_status)
    t.add("virtualhost", h_str("virtualhost"))
    t.add("regex", lambda ctx, node: setattr(ctx.current, "regex", ctx.arg(node, 1)))
    t.add("regex_no_match", h_flag("regex_no_match"))
    t.add("regex_options", lambda ctx, node: setattr(ctx.current, "regex_options",
                                                     node.tokens[1:]))
    t.add("regex_stack", h_url_regex_stack)
    for kw in ("regex_min_offset", "regex_max_offset"):
        t.add(kw, _uint_attr(kw))
    return t


def _uint_attr(attr: str, lo: int = 0, hi: int = UINT_MAX) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        value = ctx.read_unsigned(node, 1, lo, hi)
        if value is None:
            ctx.error(node, f"Invalid {attr} {node.tokens[1]} - ignoring")
            return
        setattr(ctx.current, attr, value)
    return handler


def h_http_protocol(ctx: Ctx, node: Node) -> None:
    if len(node.tokens) < 2:  # keepalived checks the line's length itself: no stop
        ctx.error(node, "Missing http_protocol version")
        return
    value = node.tokens[1]
    if value not in ("1.0", "1.0C", "1.1", "1.0c"):
        ctx.error(node, f"Invalid http_protocol {value} - expected 1.0, 1.0C or 1.1")
        return
    ctx.current.http_protocol = value.upper()


def close_http(ctx: Ctx, node: Node, http: Any) -> None:
    if not http.url:
        ctx.error(node, f"{node.keyword} has no url - checker will always fail")


def http_table(ssl: bool) -> Table:
    t = Table("SSL_GET" if ssl else "HTTP_GET")
    _common_checker(t)
    t.add("http_protocol", h_http_protocol)
    t.add("fast_recovery", h_bool("fast_recovery"))
    t.add("virtualhost", h_str("virtualhost"))
    t.add("url", block="sub", sub=url_table(), enter=enter_url)
    t.add("nb_get_retry", h_retry)
    if ssl:
        t.add("enable_sni", h_flag("enable_sni"))
    return t


def h_misc_path(ctx: Ctx, node: Node) -> None:
    misc: MiscCheck = ctx.current
    if misc.misc_path is not None:
        ctx.error(node, "MISC_CHECK misc_path already specified - ignoring")
        return
    if len(node.tokens) < 2:
        return  # keepalived: no script path, and the checker's end says so
    script = ctx.script(node)
    if script is not None:
        misc.misc_path = script.command
        misc.misc_argv = script.argv
        ctx.scratch.setdefault("misc_scripts", []).append(script)


def h_misc_user(ctx: Ctx, node: Node) -> None:
    misc: MiscCheck = ctx.current
    user = ctx.arg(node, 1)
    group = node.tokens[2] if len(node.tokens) > 2 else None
    if not ctx.system.user_exists(user):
        ctx.error(node, f"Unable to set uid/gid for MISC_CHECK: user {user} does not exist")
        return
    misc.user, misc.group = user, group


def h_misc_timeout(ctx: Ctx, node: Node) -> None:
    value = ctx.read_unsigned(node, 1, 0, UINT_MAX // 1000000)
    if value is None:
        ctx.error(node, f"Invalid misc_timeout {node.tokens[1]} - ignoring")
        return
    ctx.current.misc_timeout = float(value)


def close_misc(ctx: Ctx, node: Node, misc: MiscCheck) -> None:
    if misc.misc_path is None:
        ctx.error(node, "No misc_path specified for MISC_CHECK - removing the checker")
        rs: RealServer = ctx.stack[-1]
        rs.checkers.remove(misc)


def misc_table() -> Table:
    t = Table("MISC_CHECK")
    for kw in ("warmup", "delay_before_retry"):
        t.add(kw, h_timer(kw))
    t.add("delay_loop", h_timer("delay_loop", 0.000001))
    t.add("retry", h_retry)
    t.add("alpha", h_bool("alpha"))
    t.add("log_all_failures", h_bool("log_all_failures"))
    t.add("misc_path", h_misc_path)
    t.add("misc_timeout", h_misc_timeout)
    t.add("misc_dynamic", h_flag("misc_dynamic"))
    t.add("user", h_misc_user)
    return t


def h_dns_type(ctx: Ctx, node: Node) -> None:
    value = ctx.arg(node, 1).upper()
    if value not in ("A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"):
        ctx.error(node, f"DNS_CHECK: unknown type {node.tokens[1]} - expected A, NS, CNAME, "
                  "SOA, MX, TXT or AAAA")
        return
    ctx.current.type = value


def h_udp_payload(ctx: Ctx, node: Node) -> None:
    ctx.arg(node, 1)
    text = " ".join(node.tokens[1:])  # keepalived reads the words with their spaces
    try:
        ctx.current.payload = read_hex_str(text)[0]
    except ValueError:
        ctx.error(node, f"Invalid hex string {text} for {node.keyword}")


def h_udp_require_reply(ctx: Ctx, node: Node) -> None:
    udp: UdpCheck = ctx.current
    udp.require_reply = True
    if len(node.tokens) > 1:
        text = " ".join(node.tokens[1:])
        try:
            read_hex_str(text, wildcard=True)
        except ValueError:
            ctx.error(node, f"Invalid hex string {text} for {node.keyword}")
            return
        udp.require_reply_data = text


def udp_table() -> Table:
    t = Table("UDP_CHECK")
    _common_checker(t)
    t.add("payload", h_udp_payload)
    t.add("require_reply", h_udp_require_reply)
    t.add("min_reply_length", _uint_attr("min_reply_length", 0, 65535))
    t.add("max_reply_length", _uint_attr("max_reply_length", 0, 65535))
    return t


def h_file_check_track(ctx: Ctx, node: Node) -> None:
    name = ctx.arg(node, 1)
    if name not in ctx.config.vrrp_track_files:
        ctx.error(node, f"FILE_CHECK: track_file {name} not found - ignoring")
        return
    ctx.current.track_file = name


def h_weight_reverse(lo: int, hi: int,
                     missing: str | None = None) -> Callable[[Ctx, Node], None]:
    """``weight N [reverse]``; with ``missing``, a line without N is reported with it
    (keepalived checks the line's length itself) rather than stopping the configuration."""
    def handler(ctx: Ctx, node: Node) -> None:
        if missing is not None and len(node.tokens) < 2:
            ctx.error(node, missing)
            return
        value = ctx.read_int(node, 1, lo, hi)
        if value is None:
            ctx.error(node, f"Invalid {node.keyword} {node.tokens[1]} - ignoring")
            return
        ctx.current.weight = value
        if len(node.tokens) > 2:
            if node.tokens[2] == "reverse":
                ctx.current.weight_reverse = True
            else:
                ctx.error(node, f"Unknown weight option {node.tokens[2]}")
    return handler


def close_file_check(ctx: Ctx, node: Node, fc: FileCheck) -> None:
    if fc.track_file is None:
        ctx.error(node, "FILE_CHECK has no track_file - removing the checker")
        ctx.stack[-1].checkers.remove(fc)


def close_bfd_check(ctx: Ctx, node: Node, bc: BfdCheck) -> None:
    if bc.name is None:
        ctx.error(node, "BFD_CHECK has no name - removing the checker")
        ctx.stack[-1].checkers.remove(bc)


def h_bfd_check_name(ctx: Ctx, node: Node) -> None:
    name = ctx.arg(node, 1)
    if name not in ctx.config.bfd_instances:
        ctx.error(node, f"BFD_CHECK: bfd_instance {name} not found - ignoring")
        return
    ctx.current.name = name


# ------------------------------------------------------------------ SSL
def enter_ssl(ctx: Ctx, node: Node) -> SslConfig:
    if ctx.config.ssl is not None:
        ctx.error(node, "SSL context already specified - replacing")
    ctx.config.ssl = SslConfig()
    return ctx.config.ssl


def _ssl_attr(attr: str) -> Callable[[Ctx, Node], None]:
    def handler(ctx: Ctx, node: Node) -> None:
        ssl: SslConfig = ctx.current
        if len(node.tokens) < 2:
            ctx.error(node, f"SSL {attr} missing")
            return
        if getattr(ssl, attr) is not None:
            ctx.error(node, f"SSL {attr} already specified - replacing")
        setattr(ssl, attr, node.tokens[1])
    return handler


def ssl_table() -> Table:
    t = Table("SSL")
    for attr in ("password", "ca", "certificate", "key"):
        t.add(attr, _ssl_attr(attr))
    return t
