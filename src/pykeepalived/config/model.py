"""The whole configuration: one object per keepalived.conf, the result of :func:`load_config`.

The sections are in model_global.py, model_vrrp.py and model_lvs.py; this module gathers
them and re-exports every model class so that ``from pykeepalived.config.model import X``
works for all of them.
"""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING, Any

from pykeepalived.config.errors import Category, Diagnostic, exit_status
from pykeepalived.config.model_base import model
from pykeepalived.config.model_common import (
    NOWHERE,
    IPAddress,
    IpAddress,
    IPInterface,
    IPNetwork,
    KeywordUse,
    Location,
    Nexthop,
    NotifyScript,
    Route,
    Rule,
    ScriptUser,
    VirtualIpAddress,
)
from pykeepalived.config.model_global import (
    BfdInstance,
    FifoConfig,
    GarpGroup,
    GlobalDefs,
    InterfaceUpDownDelay,
    LinkbeatInterface,
    LvsSyncDaemon,
    TrackGroup,
)
from pykeepalived.config.model_vrrp import (
    Authentication,
    TrackBfdRef,
    TrackFileRef,
    TrackInterface,
    TrackProcessRef,
    TrackScriptRef,
    UnicastPeer,
    VrrpInstance,
    VrrpScript,
    VrrpSyncGroup,
    VrrpTrackFile,
    VrrpTrackProcess,
)

if TYPE_CHECKING:
    from pykeepalived.config.model_lvs import (
        BfdCheck,
        Checker,
        DnsCheck,
        FileCheck,
        HttpGet,
        MiscCheck,
        PingCheck,
        RealServer,
        SmtpCheck,
        SslConfig,
        SslGet,
        TcpCheck,
        TunnelMethod,
        UdpCheck,
        Url,
        VirtualServer,
        VirtualServerGroup,
        VsgEntry,
    )

#: The load-balancer classes, imported when first asked for (PEP 562): the VRRP process
#: unpickles the model's other sections and has no use for them.
_LVS = frozenset((
    "BfdCheck",
    "Checker",
    "DnsCheck",
    "FileCheck",
    "HttpGet",
    "MiscCheck",
    "PingCheck",
    "RealServer",
    "SmtpCheck",
    "SslConfig",
    "SslGet",
    "TcpCheck",
    "TunnelMethod",
    "UdpCheck",
    "Url",
    "VirtualServer",
    "VirtualServerGroup",
    "VsgEntry",
))


def __getattr__(name: str) -> Any:
    if name not in _LVS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from pykeepalived.config import model_lvs

    value = getattr(model_lvs, name)
    globals()[name] = value
    return value


__all__ = [
    "NOWHERE", "Authentication", "BfdCheck", "BfdInstance", "Checker", "DnsCheck",
    "FifoConfig", "FileCheck", "GarpGroup", "GlobalDefs", "HttpGet", "IPAddress",
    "IPInterface", "IPNetwork", "InterfaceUpDownDelay", "IpAddress", "KeepalivedConfig",
    "KeywordUse", "LinkbeatInterface", "LoadResult", "Location", "LvsSyncDaemon", "MiscCheck",
    "Nexthop",
    "NotifyScript", "PingCheck", "RealServer", "Route", "Rule", "ScriptUser", "SmtpCheck",
    "SslConfig", "SslGet", "TcpCheck", "TrackBfdRef", "TrackFileRef", "TrackGroup",
    "TrackInterface", "TrackProcessRef", "TrackScriptRef", "TunnelMethod", "UdpCheck",
    "UnicastPeer", "Url", "VirtualIpAddress", "VirtualServer", "VirtualServerGroup",
    "VrrpInstance", "VrrpScript", "VrrpSyncGroup", "VrrpTrackFile", "VrrpTrackProcess",
    "VsgEntry",
]


@model
class KeepalivedConfig:
    """Everything one keepalived.conf (with its includes) configures."""

    global_defs: GlobalDefs = field(default_factory=GlobalDefs)
    vrrp_scripts: dict[str, VrrpScript] = field(default_factory=dict)
    vrrp_track_files: dict[str, VrrpTrackFile] = field(default_factory=dict)
    vrrp_track_processes: dict[str, VrrpTrackProcess] = field(default_factory=dict)
    vrrp_sync_groups: dict[str, VrrpSyncGroup] = field(default_factory=dict)
    vrrp_instances: dict[str, VrrpInstance] = field(default_factory=dict)
    virtual_server_groups: dict[str, VirtualServerGroup] = field(default_factory=dict)
    virtual_servers: list[VirtualServer] = field(default_factory=list)
    static_ipaddress: list[IpAddress] = field(default_factory=list)
    static_routes: list[Route] = field(default_factory=list)
    static_rules: list[Rule] = field(default_factory=list)
    track_groups: dict[str, TrackGroup] = field(default_factory=dict)
    garp_groups: list[GarpGroup] = field(default_factory=list)
    linkbeat_interfaces: list[LinkbeatInterface] = field(default_factory=list)
    interface_up_down_delays: dict[str, InterfaceUpDownDelay] = field(default_factory=dict)
    bfd_instances: dict[str, BfdInstance] = field(default_factory=dict)
    ssl: SslConfig | None = None
    files: list[str] = field(default_factory=list)  # every file read, main file first


@model
class LoadResult:
    """What :func:`pykeepalived.config.load_config` returns: the model and what was found.

    A diagnostic is an ``"error"`` when keepalived would not run the configuration (a
    missing interface or file, a fatal category, a keyword without its parameter, a
    vrrp_instance without its minimum configuration); everything else keepalived runs,
    ignoring or correcting what the ``"warning"`` says. ``ok`` is False when there is an
    error. ``exit_status`` is what ``keepalived -t`` exits with on the same file and host.
    """

    config: KeepalivedConfig
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # keepalived stops early on some problems and exits with its own status: 2 for a
    # keyword missing its parameter, 6 for an include that include_check makes fatal
    fatal_exit: int | None = None
    # (section path, keyword) -> first place and number of uses, for every keyword read
    keyword_uses: dict[tuple[str, str], KeywordUse] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.fatal_exit is None and not any(d.severity == "error"
                                                   for d in self.diagnostics)

    @property
    def runnable(self) -> bool:
        """keepalived would run this configuration: no missing file or interface and no
        fatal error (errors that only drop a keyword or a block are logged, the rest runs)."""
        if self.fatal_exit is not None:
            return False
        return not any(d.severity == "error" and Category.OK < d.category <= Category.FATAL
                       for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def exit_status(self) -> int:
        if self.fatal_exit is not None:
            return self.fatal_exit
        return exit_status(self.diagnostics)
