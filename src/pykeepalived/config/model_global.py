"""global_defs and the other top-level blocks that are not VRRP instances or virtual servers.

Names and defaults from ``man 5 keepalived.conf`` ("Global definitions", "Linkbeat
interfaces", "Static track groups", "Interface up/down status change debouncing", "BFD
CONFIGURATION", "VRRP gratuitous ARP and unsolicited neighbour advert delay group(s)").
"""

from __future__ import annotations

import ipaddress
from dataclasses import field

from pykeepalived.config.model_base import model
from pykeepalived.config.model_common import NOWHERE, IPAddress, Location, NotifyScript

VRRP_MCAST_GROUP4 = ipaddress.IPv4Address("224.0.0.18")  # RFC 5798 5.1.1.2
VRRP_MCAST_GROUP6 = ipaddress.IPv6Address("ff02::12")  # RFC 5798 5.1.2.2


@model
class FifoConfig:
    """``notify_fifo FIFO_NAME [username [groupname]]`` and its ``*_script`` companion."""

    name: str
    user: str | None = None
    group: str | None = None


@model
class LvsSyncDaemon:
    """``lvs_sync_daemon <INTERFACE> [[inst] <VRRP_INSTANCE>] [id N] [maxlen N] ...``."""

    interface: str
    vrrp_instance: str | None = None
    syncid: int | None = None
    maxlen: int | None = None
    port: int | None = None
    ttl: int | None = None
    group: IPAddress | None = None


@model
class GlobalDefs:
    """The ``global_defs`` block (plus the few global keywords allowed outside it)."""

    # process / namespace
    net_namespace: str | None = None
    net_namespace_ipvs: str | None = None
    namespace_with_ipsets: bool = False
    instance: str | None = None
    use_pid_dir: bool = False
    linkbeat_use_polling: bool = False
    child_wait_time: int = 5
    tmp_config_directory: str | None = None
    config_save_dir: str | None = None
    process_names: bool = False
    process_name: str | None = None
    vrrp_process_name: str | None = None
    checker_process_name: str | None = None
    bfd_process_name: str | None = None
    startup_script: NotifyScript | None = None
    startup_script_timeout: int = 10
    shutdown_script: NotifyScript | None = None
    shutdown_script_timeout: int = 10
    # e-mail
    notification_email: list[str] = field(default_factory=list)
    notification_email_from: str | None = None
    smtp_server: str | None = None
    smtp_server_port: int = 25
    smtp_helo_name: str | None = None
    smtp_connect_timeout: float = 30.0
    smtp_alert: bool | None = None
    smtp_alert_vrrp: bool | None = None
    smtp_alert_checker: bool | None = None
    checker_log_all_failures: bool = False
    no_email_faults: bool = False
    router_id: str | None = None
    # VRRP defaults
    vrrp_mcast_group4: ipaddress.IPv4Address = VRRP_MCAST_GROUP4
    vrrp_mcast_group6: ipaddress.IPv6Address = VRRP_MCAST_GROUP6
    default_interface: str | None = None
    dynamic_interfaces: bool = False
    dynamic_interfaces_allow_if_changes: bool = False
    disable_local_igmp: bool = False
    vrrp_garp_master_delay: float = 5.0
    vrrp_garp_master_repeat: int = 5
    vrrp_garp_lower_prio_delay: float | None = None  # None = vrrp_garp_master_delay
    vrrp_garp_lower_prio_repeat: int | None = None  # None = vrrp_garp_master_repeat
    vrrp_garp_master_refresh: float = 0.0  # 0 = no refresh
    vrrp_garp_master_refresh_repeat: int = 1
    vrrp_garp_interval: float = 0.0
    vrrp_gna_interval: float = 0.0
    vrrp_min_garp: bool = False
    vrrp_garp_extra_if: float = 0.0
    vrrp_garp_extra_if_all: bool = False
    vrrp_down_timer_adverts: int = 3
    vrrp_lower_prio_no_advert: bool | None = None  # None = on only in strict mode
    vrrp_higher_prio_send_advert: bool = False
    vrrp_version: int = 2
    vrrp_check_unicast_src: bool = False
    vrrp_skip_check_adv_addr: bool = False
    # VRRPv3 over IPv4 without the pseudo-header in the checksum (RFC 9568, Cisco, Juniper).
    # A keepalived 2.3 keyword (2.2.7 reports it as unknown); send that way, accept both.
    v3_checksum_as_v2: bool = False
    vrrp_strict: bool = False
    # pykeepalived's own: on TERM, release the VIPs at once as keepalived does, instead of
    # the make-before-break hand-over (keep them until the new master is in place)
    vrrp_handover_immediate: bool = False
    vrrp_notify_priority_changes: bool = False
    vrrp_startup_delay: float = 0.0
    log_unknown_vrids: bool = False
    vmac_prefix: str = "vrrp"
    vmac_addr_prefix: str | None = None
    # firewall
    vrrp_iptables: list[str] | None = None
    vrrp_ipsets: list[str] | None = None
    nftables: str | None = None  # table name when nftables is configured
    nftables_priority: int = -1
    nftables_counters: bool = False
    nftables_ifindex: bool = False
    nftables_ipvs: str | None = None
    nftables_ipvs_priority: int = -1
    nftables_ipvs_start_fwmark: int = 1000
    # process scheduling
    max_auto_priority: int = 0
    min_auto_priority_delay: int = 1000000
    vrrp_priority: int = 0
    vrrp_no_swap: bool = False
    vrrp_rt_priority: int | None = None
    vrrp_cpu_affinity: list[int] = field(default_factory=list)
    vrrp_rlimit_rttime: int = 10000
    checker_priority: int = 0
    checker_no_swap: bool = False
    checker_rt_priority: int | None = None
    checker_cpu_affinity: list[int] = field(default_factory=list)
    checker_rlimit_rttime: int = 10000
    bfd_priority: int = 0
    bfd_no_swap: bool = False
    bfd_rt_priority: int | None = None
    bfd_cpu_affinity: list[int] = field(default_factory=list)
    bfd_rlimit_rttime: int = 10000
    # SNMP / DBus
    snmp_socket: str | None = None
    enable_traps: bool = False
    enable_snmp_vrrp: bool = False
    enable_snmp_keepalived: bool = False
    enable_snmp_checker: bool = False
    enable_snmp_rfc: bool = False
    enable_snmp_rfcv2: bool = False
    enable_snmp_rfcv3: bool = False
    enable_dbus: bool = False
    dbus_service_name: str | None = None
    # scripts and notification FIFOs
    script_user: str | None = None
    script_group: str | None = None
    enable_script_security: bool = False
    notify_fifo: FifoConfig | None = None
    notify_fifo_script: NotifyScript | None = None
    vrrp_notify_fifo: FifoConfig | None = None
    vrrp_notify_fifo_script: NotifyScript | None = None
    lvs_notify_fifo: FifoConfig | None = None
    lvs_notify_fifo_script: NotifyScript | None = None
    fifo_write_vrrp_states_on_reload: bool = False
    # netlink buffers
    vrrp_netlink_cmd_rcv_bufs: int | None = None
    vrrp_netlink_cmd_rcv_bufs_force: bool = False
    vrrp_netlink_monitor_rcv_bufs: int | None = None
    vrrp_netlink_monitor_rcv_bufs_force: bool = False
    process_monitor_rcv_bufs: int | None = None
    process_monitor_rcv_bufs_force: bool = False
    lvs_netlink_cmd_rcv_bufs: int | None = None
    lvs_netlink_cmd_rcv_bufs_force: bool = False
    lvs_netlink_monitor_rcv_bufs: int | None = None
    lvs_netlink_monitor_rcv_bufs_force: bool = False
    vrrp_rx_bufs_policy: str | None = None
    vrrp_rx_bufs_multiplier: int = 3
    # LVS
    lvs_timeouts: dict[str, int] = field(default_factory=dict)  # tcp / tcpfin / udp
    lvs_flush: bool = False
    lvs_flush_on_stop: str | None = None  # None, "RS" (all) or "VS"
    # pykeepalived's own: which kernel facility balances (ipvs, nftables; auto: IPVS where
    # the kernel has it, else nftables)
    lb_backend: str = "auto"
    # pykeepalived's own: Prometheus metrics (None: not served)
    metrics_address: str | None = None
    metrics_port: int = 9650
    lvs_sync_daemon: LvsSyncDaemon | None = None
    rs_init_notifies: bool = False
    no_checker_emails: bool = False
    # misc
    umask: int | None = None
    random_seed: int | None = None
    reload_check_config: str | bool = False  # True, or the log file
    reload_time_file: str | None = None
    reload_repeat: bool = False
    reload_file: str | None = None
    include_check: set[str] = field(default_factory=set)
    data_use_instance: bool = False
    location: Location = NOWHERE


@model
class LinkbeatInterface:
    """One interface of ``linkbeat_interfaces { NAME [MII|ETHTOOL|IOCTL] }``."""

    name: str
    poll_type: str | None = None  # MII, ETHTOOL, IOCTL


@model
class InterfaceUpDownDelay:
    """One line of ``interface_up_down_delays { NAME DOWN [UP] }``."""

    name: str
    down_delay: float
    up_delay: float


@model
class TrackGroup:
    """``track_group NAME { group { VI_1 ... } }``: instances that track static entries."""

    name: str
    group: list[str] = field(default_factory=list)
    location: Location = NOWHERE


@model
class GarpGroup:
    """``garp_group { garp_interval; gna_interval; interface | interfaces {} }``."""

    garp_interval: float | None = None
    gna_interval: float | None = None
    interface: str | None = None
    interfaces: list[str] = field(default_factory=list)
    location: Location = NOWHERE


@model
class BfdInstance:
    """``bfd_instance NAME { ... }`` (RFC 5880), keepalived's defaults."""

    name: str
    neighbor_ip: IPAddress | None = None
    source_ip: IPAddress | None = None
    min_rx: float = 10.0  # ms
    min_tx: float = 10.0  # ms
    idle_tx: float = 1000.0  # ms
    multiplier: int = 5
    passive: bool = False
    ttl: int | None = None  # 255 for IPv4
    hoplimit: int | None = None  # 64 for IPv6
    max_hops: int = 0
    weight: int = 0
    weight_reverse: bool = False
    vrrp: bool = False
    checker: bool = False
    location: Location = NOWHERE
