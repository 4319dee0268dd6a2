"""The LVS part of the model: virtual_server_group, virtual_server, real_server, checkers.

Defaults from ``man 5 keepalived.conf`` ("LVS CONFIGURATION"): lvs_sched wlc, lvs_method
NAT, protocol TCP, delay_loop 60 s, connect_timeout 5 s, real server weight 1, quorum 1.
"A virtual server setting is the default for real servers, and the real server setting is
the default for checkers": the validator resolves that inheritance, so every checker here
carries the values it will run with.
"""

from __future__ import annotations

from dataclasses import field

from pykeepalived.config.model_base import model
from pykeepalived.config.model_common import NOWHERE, IPAddress, Location, NotifyScript


@model
class SslConfig:
    """Top-level ``SSL { password; ca; certificate; key }`` used by SSL_GET."""

    password: str | None = None
    ca: str | None = None
    certificate: str | None = None
    key: str | None = None


@model
class VsgEntry:
    """One line of a virtual_server_group: an address range and port, or a fwmark."""

    address: IPAddress | None = None
    range_end: IPAddress | None = None  # last address of a range (inclusive)
    port: int | None = None
    fwmark: int | None = None
    family: int | None = None  # for fwmark entries: inet / inet6 when written
    location: Location = NOWHERE


@model
class VirtualServerGroup:
    """``virtual_server_group NAME { address/range port; fwmark N ... }``."""

    name: str
    entries: list[VsgEntry] = field(default_factory=list)
    location: Location = NOWHERE


@model
class TunnelMethod:
    """``lvs_method TUN [type {ipip|gue port N|gre} [nocsum|csum|remcsum]]``."""

    type: str = "ipip"
    port: int | None = None
    csum: str | None = None


@model
class Url:
    """A ``url {}`` of HTTP_GET / SSL_GET."""

    path: str | None = None
    digest: str | None = None
    status_code: list[tuple[int, int]] = field(default_factory=list)  # [] = 200-299
    virtualhost: str | None = None
    regex: str | None = None
    regex_no_match: bool = False
    regex_options: list[str] = field(default_factory=list)
    regex_stack: tuple[int, int] | None = None
    regex_min_offset: int | None = None
    regex_max_offset: int | None = None
    location: Location = NOWHERE


@model
class Checker:
    """Options every connecting checker has (``CHECKER_TYPE {}`` in the man page)."""

    kind: str = ""
    connect_ip: IPAddress | None = None
    connect_port: int | None = None
    bindto: IPAddress | None = None
    bind_if: str | None = None
    bind_port: int | None = None
    fwmark: int | None = None
    alpha: bool | None = None
    connect_timeout: float | None = None
    retry: int | None = None
    delay_before_retry: float | None = None
    warmup: float | None = None
    delay_loop: float | None = None
    log_all_failures: bool | None = None
    location: Location = NOWHERE


@model
class TcpCheck(Checker):
    """``TCP_CHECK { ... }``: up when a TCP connection is made."""

    kind: str = "TCP_CHECK"


@model
class HttpGet(Checker):
    """``HTTP_GET { url { path; digest; status_code } ... }``."""

    kind: str = "HTTP_GET"
    http_protocol: str = "1.0"
    fast_recovery: bool = False
    virtualhost: str | None = None
    url: list[Url] = field(default_factory=list)
    enable_sni: bool = False  # SSL_GET only


@model
class SslGet(HttpGet):
    """``SSL_GET { ... }``: HTTP_GET over TLS."""

    kind: str = "SSL_GET"


@model
class SmtpCheck(Checker):
    """``SMTP_CHECK { helo_name; host { ... } ... }``."""

    kind: str = "SMTP_CHECK"
    helo_name: str | None = None
    host: list[Checker] = field(default_factory=list)  # deprecated extra hosts to check


@model
class DnsCheck(Checker):
    """``DNS_CHECK { type; name ... }``: up when the query is answered."""

    kind: str = "DNS_CHECK"
    type: str = "SOA"
    name: str = "."


@model
class UdpCheck(Checker):
    """``UDP_CHECK { payload; require_reply ... }``."""

    kind: str = "UDP_CHECK"
    payload: bytes | None = None
    require_reply: bool = False
    require_reply_data: str | None = None  # hex string, X/x = wildcard nibble
    min_reply_length: int = 0
    max_reply_length: int = 255


@model
class PingCheck(Checker):
    """``PING_CHECK { ... }``: up when an ICMP echo is answered."""

    kind: str = "PING_CHECK"


@model
class MiscCheck(Checker):
    """``MISC_CHECK { misc_path; misc_timeout; misc_dynamic; user }``."""

    kind: str = "MISC_CHECK"
    misc_path: str | None = None
    misc_argv: list[str] = field(default_factory=list)
    misc_timeout: float | None = None
    misc_dynamic: bool = False
    user: str | None = None
    group: str | None = None


@model
class FileCheck(Checker):
    """``FILE_CHECK { track_file; weight [reverse] }``."""

    kind: str = "FILE_CHECK"
    track_file: str | None = None
    weight: int | None = None
    weight_reverse: bool = False


@model
class BfdCheck(Checker):
    """``BFD_CHECK { name; weight [reverse] }``."""

    kind: str = "BFD_CHECK"
    name: str | None = None
    weight: int | None = None
    weight_reverse: bool = False


@model
class RealServer:
    """``real_server <IPADDR> [<PORT>] { ... }``."""

    address: IPAddress
    port: int | None = None
    weight: int = 1
    lvs_method: str | None = None  # None = the virtual server's
    tunnel: TunnelMethod | None = None
    notify_up: str | None = None
    notify_down: str | None = None
    notify_scripts: dict[str, NotifyScript] = field(default_factory=dict)
    uthreshold: int | None = None
    lthreshold: int | None = None
    inhibit_on_failure: bool | None = None
    smtp_alert: bool | None = None
    virtualhost: str | None = None
    snmp_name: str | None = None
    alpha: bool | None = None
    connect_timeout: float | None = None
    retry: int | None = None
    delay_before_retry: float | None = None
    warmup: float | None = None
    delay_loop: float | None = None
    checkers: list[Checker] = field(default_factory=list)
    location: Location = NOWHERE


@model
class VirtualServer:
    """``virtual_server <IPADDR> [<PORT>] | fwmark <INT> | group <NAME> { ... }``."""

    address: IPAddress | None = None
    port: int | None = None
    fwmark: int | None = None
    group: str | None = None
    ip_family: int | None = None  # 4/6 when written (fwmark services)
    lvs_sched: str = "wlc"
    lvs_flags: list[str] = field(default_factory=list)  # flag-1, sh-port, ops, ...
    lvs_method: str = "NAT"
    tunnel: TunnelMethod | None = None
    persistence_engine: str | None = None
    persistence_timeout: int | None = None  # seconds; 360 when written without a value
    persistence_granularity: str | None = None
    # keepalived 2.2.7 falls back to UDP, with a warning, for an address-based service
    # written without "protocol" (validate_lvs.py sets it); fwmark services ignore it
    protocol: str = "TCP"
    ha_suspend: bool = False
    smtp_alert: bool | None = None
    virtualhost: str | None = None
    snmp_name: str | None = None
    alpha: bool = False
    omega: bool = False
    quorum: int = 1
    hysteresis: int = 0
    weight: int = 1
    quorum_up: str | None = None
    quorum_down: str | None = None
    notify_scripts: dict[str, NotifyScript] = field(default_factory=dict)
    sorry_server: tuple[IPAddress, int | None] | None = None
    sorry_server_inhibit: bool = False
    sorry_server_lvs_method: str | None = None
    connect_timeout: float = 5.0
    retry: int | None = None
    delay_before_retry: float | None = None
    warmup: float | None = None
    delay_loop: float = 60.0
    inhibit_on_failure: bool = False
    real_servers: list[RealServer] = field(default_factory=list)
    location: Location = NOWHERE

    @property
    def lb_algo(self) -> str:
        """Old name of lvs_sched."""
        return self.lvs_sched

    @property
    def lb_kind(self) -> str:
        """Old name of lvs_method."""
        return self.lvs_method

    def describe(self) -> str:
        """keepalived's way of naming a virtual server in messages."""
        if self.fwmark is not None:
            return f"FWM {self.fwmark}"
        if self.group is not None:
            return f"[{self.group}]:{self.port or 0}"
        addr = f"[{self.address}]" if self.address and self.address.version == 6 \
            else str(self.address)
        return f"{addr}:{self.protocol}:{self.port or 0}"
