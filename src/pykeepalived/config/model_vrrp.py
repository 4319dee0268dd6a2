"""The VRRP part of the model: vrrp_script, track_file, vrrp_sync_group, vrrp_instance.

Names are keepalived's keywords; defaults are the values keepalived runs with after it has
completed an instance (``man 5 keepalived.conf``, "VRRPD CONFIGURATION"), so that the engines
never have to know a default. Fields that inherit from global_defs are ``None`` until the
validator fills them (it always does for a loaded configuration).
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from pykeepalived.config.model_base import model
from pykeepalived.config.model_common import (
    NOWHERE,
    IPAddress,
    IpAddress,
    Location,
    NotifyScript,
    Route,
    Rule,
    ScriptUser,
)

State = Literal["MASTER", "BACKUP"]

NOTIFY_KEYWORDS = ("notify_master", "notify_backup", "notify_fault", "notify_stop",
                   "notify_deleted", "notify", "notify_master_rx_lower_pri")


@model
class VrrpScript:
    """``vrrp_script NAME { script; interval; timeout; weight [reverse]; rise; fall; ... }``."""

    name: str
    script: str | None = None
    argv: list[str] = field(default_factory=list)
    interval: float = 1.0
    timeout: float | None = None  # None = interval
    weight: int = 0
    weight_reverse: bool = False
    rise: int = 1
    fall: int = 1
    user: ScriptUser | None = None
    init_fail: bool = False
    location: Location = NOWHERE


@model
class VrrpTrackFile:
    """``track_file NAME { file; weight [reverse]; init_file [VALUE] [overwrite] }``."""

    name: str
    file: str | None = None
    weight: int = 1
    weight_reverse: bool = False
    init_file: bool = False
    init_file_value: int = 0
    init_file_overwrite: bool = False
    location: Location = NOWHERE


@model
class VrrpTrackProcess:
    """``vrrp_track_process NAME { process ...; quorum; weight; ... }``."""

    name: str
    process: list[str] = field(default_factory=list)
    param_match: str | None = None  # None (exact), "initial" or "partial"
    weight: int = 0
    weight_reverse: bool = False
    quorum: int = 1
    quorum_max: int | None = None
    fork_delay: float = 0.0
    terminate_delay: float = 0.0
    full_command: bool = False
    location: Location = NOWHERE


@model
class TrackInterface:
    """An entry of track_interface: a weight of 0 means "down -> FAULT"."""

    name: str
    weight: int = 0
    reverse: bool = False
    location: Location = NOWHERE


@model
class TrackScriptRef:
    """An entry of track_script; ``weight`` None means "the vrrp_script's own weight"."""

    name: str
    weight: int | None = None
    reverse: bool = False
    location: Location = NOWHERE


@model
class TrackFileRef:
    """An entry of track_file; ``weight`` None means "the track_file's own weight"."""

    name: str
    weight: int | None = None
    reverse: bool = False
    location: Location = NOWHERE


# track_process and track_bfd entries have the same shape.
TrackProcessRef = TrackFileRef
TrackBfdRef = TrackFileRef


@model
class Authentication:
    """``authentication { auth_type PASS|AH; auth_pass SECRET }`` (VRRPv2 only, RFC 2338)."""

    auth_type: Literal["PASS", "AH"] | None = None
    auth_pass: str | None = None  # only the first 8 characters are used


@model
class UnicastPeer:
    """An entry of unicast_peer: ``<IPADDR> [min_ttl N] [max_ttl N]``."""

    address: IPAddress
    min_ttl: int | None = None
    max_ttl: int | None = None
    location: Location = NOWHERE


@model(kw_only=True)
class TrackedAndNotified:
    """What vrrp_instance and vrrp_sync_group both carry: the track_* lists and notify_*."""

    track_interface: list[TrackInterface] = field(default_factory=list)
    track_script: list[TrackScriptRef] = field(default_factory=list)
    track_file: list[TrackFileRef] = field(default_factory=list)
    track_process: list[TrackProcessRef] = field(default_factory=list)
    track_bfd: list[TrackBfdRef] = field(default_factory=list)
    notify_master: str | None = None
    notify_backup: str | None = None
    notify_fault: str | None = None
    notify_stop: str | None = None
    notify_deleted: str | None = None
    notify: str | None = None
    notify_scripts: dict[str, NotifyScript] = field(default_factory=dict)
    notify_priority_changes: bool | None = None
    smtp_alert: bool | None = None


@model
class VrrpSyncGroup(TrackedAndNotified):
    """``vrrp_sync_group NAME { group { ... } track_*; notify_*; smtp_alert }``."""

    name: str
    group: list[str] = field(default_factory=list)
    global_tracking: bool = False
    sync_group_tracking_weight: bool = False
    location: Location = NOWHERE

    @property
    def line(self) -> Location:
        return self.location


@model
class VrrpInstance(TrackedAndNotified):
    """``vrrp_instance NAME { ... }``: one virtual router (RFC 3768 / RFC 5798)."""

    name: str
    state: State | None = None  # filled by the checks: MASTER when priority 255 else BACKUP
    interface: str | None = None
    vrf: str | None = None
    virtual_router_id: int | None = None
    priority: int = 100  # 255 when state MASTER and no priority is written
    advert_int: float = 1.0
    version: int | None = None  # from global vrrp_version; IPv6 forces 3
    nopreempt: bool = False
    preempt_delay: float = 0.0
    virtual_ipaddress: list[IpAddress] = field(default_factory=list)
    virtual_ipaddress_excluded: list[IpAddress] = field(default_factory=list)
    virtual_routes: list[Route] = field(default_factory=list)
    virtual_rules: list[Rule] = field(default_factory=list)
    unicast_src_ip: IPAddress | None = None
    unicast_peer: list[IPAddress] = field(default_factory=list)
    unicast_peers: list[UnicastPeer] = field(default_factory=list)  # with TTL limits
    unicast_fault_no_peer: bool = False
    unicast_ttl: int | None = None
    mcast_src_ip: IPAddress | None = None
    mcast_dst_ip: IPAddress | None = None
    track_src_ip: bool = False
    authentication: Authentication | None = None
    notify_master_rx_lower_pri: str | None = None
    use_vmac: str | None = None  # the VMAC interface name; "vrrp.<VRID>" when not named
    vmac_mac: str | None = None
    use_vmac_addr: bool = False
    vmac_xmit_base: bool = False
    use_ipvlan: str | None = None
    native_ipv6: bool = False
    dont_track_primary: bool = False
    check_unicast_src: bool | None = None  # None = global vrrp_check_unicast_src
    old_unicast_checksum: bool = False
    v3_checksum_as_v2: bool | None = None  # None = global_defs v3_checksum_as_v2
    garp_master_delay: float | None = None
    garp_master_repeat: int | None = None
    garp_master_refresh: float | None = None
    garp_master_refresh_repeat: int | None = None
    garp_lower_prio_delay: float | None = None
    garp_lower_prio_repeat: int | None = None
    garp_extra_if: float | None = None
    garp_extra_if_all: bool = False
    down_timer_adverts: int | None = None
    lower_prio_no_advert: bool | None = None
    higher_prio_send_advert: bool | None = None
    accept: bool | None = None  # None = keepalived decides (see validate)
    no_accept: bool = False
    strict_mode: bool | None = None  # None = global vrrp_strict
    skip_check_adv_addr: bool | None = None
    promote_secondaries: bool = False
    linkbeat_use_polling: bool = False
    kernel_rx_buf_size: int | None = None
    lvs_sync_daemon_interface: str | None = None
    debug: int = 0
    family: int = 4  # 4 or 6: the family of the VIPs, as keepalived decides it
    sync_group: str | None = None  # filled in when a vrrp_sync_group names this instance
    priority_configured: bool = False
    location: Location = NOWHERE

    @property
    def line(self) -> Location:
        """Where the instance starts (``file:line``)."""
        return self.location
