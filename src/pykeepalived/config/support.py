"""What pykeepalived does with every keyword ``-t`` accepts: acts on it, or only parses it.

One row per keyword of every section the parser knows (``keywords.top_table()``), keyed by the
section path (the enclosing block keywords: "top", "global_defs", "vrrp_instance",
"virtual_server/real_server/HTTP_GET", ...) and the keyword:

- ``acted``: the daemon does what keepalived does with it; ``test`` names the test that shows
  it (``tests/...py::test_name``, whose configuration text writes the keyword);
- ``parse-only``: ``-t`` checks it as keepalived does, the daemon does nothing with it yet. The
  daemon logs a warning for each such keyword a configuration uses (``config.support_report``).

``note`` says what is missing or how pykeepalived differs. tests/unit/config/test_keyword_support
fails when a keyword has no row, a row names no keyword, or an acted row names a missing test.
Data only: the logic lives in ``support_report``.
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

Status = Literal["acted", "parse-only"]
ACTED: Final = "acted"
PARSE_ONLY: Final = "parse-only"


class Row(NamedTuple):
    status: Status
    test: str = ""
    note: str = ""


# ------------------------------------------------------------------ the tests cited
_EFF = "tests/unit/daemon/test_keyword_effects.py::"
_TRACK = "tests/unit/daemon/test_keyword_effects_tracker.py::"
_PLAN = "tests/unit/daemon/test_instance_plan.py::"
_FEAT = "tests/netns/test_vrrp_features.py::"
_DAEMON = "tests/netns/test_vrrp_daemon.py::"
_LIFECYCLE = "tests/netns/test_daemon_lifecycle.py::"
_LEXER = "tests/unit/config/test_lexer.py::"
_FAULTS = "tests/netns/test_vrrp_faults.py::"
_WEIGHTS = "tests/unit/config/test_tracking_weights.py::"

CORE = _EFF + "test_instance_keywords_reach_the_router"
SCRIPT = _TRACK + "test_vrrp_script_keywords_drive_the_priority"
TRACK_FILE = _TRACK + "test_track_file_keywords_drive_the_priority"
GROUP_NOTIFY = _FEAT + "test_sync_group_notifies_group_lines"
NOTIFY = _TRACK + "test_instance_notify_scripts_run_on_state_changes"
FIFO = _TRACK + "test_notify_fifo_and_its_script"
GARP = _EFF + "test_instance_garp_keywords_time_the_gratuitous_rounds"
GLOBAL_GARP = _EFF + "test_global_garp_keywords_are_the_instance_defaults"
MCAST = _EFF + "test_multicast_source_and_group_keywords"
PRIO_ADVERT = _EFF + "test_lower_and_higher_priority_advert_keywords"
DEFAULTS = _EFF + "test_vrrp_version_and_skip_check_adv_addr_are_instance_defaults"
DOWN_TIMER = _EFF + "test_down_timer_adverts_set_the_master_down_interval"
PREEMPT = _EFF + "test_preempt_keywords"
SCHED = ("tests/netns/test_process_scheduling.py::"
         "test_scheduling_keywords_reach_the_running_children")
SCHED_MAP = "tests/unit/daemon/test_priorities.py::test_keywords_make_each_childs_settings"
_SMTP_ALERTS = "tests/unit/notify/test_smtp_alerts.py::"
_CHECK_ALERTS = "tests/unit/daemon/test_check_alerts.py::"
SMTP_SETTINGS = "tests/unit/notify/test_smtp.py::test_global_smtp_keywords_make_the_mail"
SMTP_DEFAULTS = _SMTP_ALERTS + "test_smtp_alert_defaults_follow_keepalived"

_LVSK = "tests/unit/check/test_lvs_keywords.py::"
_CHKK = "tests/unit/check/test_lvs_keywords_checkers.py::"
_WIRE = "tests/netns/test_lb_keywords_checkers.py::"
KERNEL = _LVSK + "test_service_keywords_reach_the_kernel"
VSG = _LVSK + "test_virtual_server_group_stands_for_every_address_and_fwmark"
TIMERS = _LVSK + "test_check_timers_come_from_the_virtual_and_the_real_server"
ALPHA = _LVSK + "test_alpha_inhibit_on_failure_and_weight"
QUORUM = _LVSK + "test_quorum_hysteresis_and_the_sorry_server"
VHOST = _LVSK + "test_virtualhost_of_the_virtual_and_the_real_server_is_the_host_header"
LVS_SCRIPTS = _LVSK + "test_notify_and_quorum_scripts_and_omega"
HA_SUSPEND = _LVSK + "test_ha_suspend_follows_the_virtual_address"
LVS_FIFO = _LVSK + "test_lvs_notify_fifo_and_its_script"
WHEN = _CHKK + "test_where_and_when_each_check_runs"
LOG_ALL = _CHKK + "test_log_all_failures_logs_each_failure_while_the_checker_is_up"
NB_GET_RETRY = _CHKK + "test_nb_get_retry_is_retry"
SMTP_HOST = _CHKK + "test_smtp_check_host_blocks_are_checkers_of_their_own"
MISC = _CHKK + "test_misc_check_keywords"
FILE_CHECK = _CHKK + "test_file_check_keywords"
ON_THE_WIRE = _WIRE + "test_connection_keywords_on_the_wire"
HTTP = _WIRE + "test_http_and_ssl_get_keywords"
FAST_RECOVERY = _WIRE + "test_fast_recovery_brings_a_server_up_after_one_round"
SSL_BLOCK = _WIRE + "test_ssl_get_keywords_and_the_ssl_block"

# ------------------------------------------------------------------ the notes repeated
_SYNCD = "no IPVS connection-synchronisation daemon is started"
_NFT_IPVS = ("keepalived's fwmark table for IPVS is not made: lb_backend nftables balances "
             "in pykeepalived's own table")
_LB_IPVS = "given to IPVS; lb_backend nftables says at start what it does instead"
_BFD = "pykeepalived has no BFD process"
_PROCESS = "pykeepalived does not track processes"
_SNMP = "pykeepalived has no SNMP or D-Bus interface"
_SCHED = ("no automatic raise of the realtime priority when a timer runs late "
          "(vrrp_rt_priority sets it)")
_SCHED_NOTE = ("applied by the child once started and after each reload (the reload itself "
               "at the normal policy); under realtime scheduling the event loop sleeps a few "
               "microseconds within long bursts to stay under RLIMIT_RTTIME")
_NETLINK_BUFS = "pykeepalived sizes its netlink sockets itself"
_NAMES = "the processes keep their own names"
_NAMESPACE = "pykeepalived runs in the namespace it is started in"
_RELOAD = "reloads are driven by SIGHUP only"
_STATIC = "static addresses, routes and rules are not installed"
_NFT = "the no_accept table is always 'keepalived' at priority -1, without counters"



def _parse_only(keywords: str, note: str) -> dict[str, Row]:
    return {keyword: Row(PARSE_ONLY, note=note) for keyword in keywords.split()}


def _acted(keywords: str, test: str, note: str = "") -> dict[str, Row]:
    return {keyword: Row(ACTED, test, note) for keyword in keywords.split()}


_TRACK_FILE_BLOCK: Final = {
    "file": Row(ACTED, TRACK_FILE),
    "weight": Row(ACTED, TRACK_FILE),
    "init_file": Row(ACTED, TRACK_FILE),
}

# Keywords every checker block shares (keepalived's install_checker_common_keywords).
_CHECKER_COMMON: Final = {
    **_acted("connect_ip connect_port bindto bind_if bind_port fwmark", ON_THE_WIRE),
    **_acted("warmup connect_timeout retry delay_before_retry delay_loop alpha", WHEN),
    "log_all_failures": Row(ACTED, LOG_ALL),
}
_URL: Final = {
    **_acted("path digest status_code virtualhost regex regex_no_match regex_options "
             "regex_min_offset regex_max_offset", HTTP),
    "regex_stack": Row(PARSE_ONLY, note="regexes run on Python's re, which has no match "
                       "stack to size"),
}
_HTTP_GET: Final = {
    **_CHECKER_COMMON,
    **_acted("http_protocol virtualhost url", HTTP),
    "nb_get_retry": Row(ACTED, NB_GET_RETRY),
    "fast_recovery": Row(ACTED, FAST_RECOVERY, note="pykeepalived always checks every url "
                         "in one round, as keepalived does with fast_recovery"),
}

SUPPORT: Final[dict[str, dict[str, Row]]] = {
    "top": {
        "global_defs": Row(ACTED, CORE),
        "linkbeat_use_polling": Row(PARSE_ONLY, note="links are followed through "
                                    "netlink events, never polled"),
        "net_namespace": Row(PARSE_ONLY, note=_NAMESPACE),
        "net_namespace_ipvs": Row(PARSE_ONLY, note=_NAMESPACE),
        "namespace_with_ipsets": Row(PARSE_ONLY, note=_NAMESPACE),
        "use_pid_dir": Row(PARSE_ONLY, note="pid files are where -p/-r/-c say"),
        "instance": Row(PARSE_ONLY, note="pid file names do not take the instance "
                        "name"),
        "child_wait_time": Row(ACTED, _LIFECYCLE + "test_child_wait_time_ends_a_vrrp_child"
                               "_that_does_not_stop"),
        "static_ipaddress": Row(PARSE_ONLY, note=_STATIC),
        "static_routes": Row(PARSE_ONLY, note=_STATIC),
        "static_rules": Row(PARSE_ONLY, note=_STATIC),
        "track_group": Row(PARSE_ONLY, note=_STATIC),
        "linkbeat_interfaces": Row(PARSE_ONLY, note="links are followed through "
                                   "netlink events, never polled"),
        "interface_up_down_delays": Row(PARSE_ONLY, note="link changes are acted "
                                        "on at once"),
        "garp_group": Row(PARSE_ONLY, note="vrrp_garp_interval / vrrp_gna_interval "
                          "apply to every interface"),
        "track_file": Row(ACTED, TRACK_FILE),
        "vrrp_track_file": Row(ACTED, TRACK_FILE),
        "vrrp_track_process": Row(PARSE_ONLY, note=_PROCESS),
        "bfd_instance": Row(PARSE_ONLY, note=_BFD),
        "vrrp_script": Row(ACTED, SCRIPT),
        "vrrp_sync_group": Row(ACTED, GROUP_NOTIFY),
        "vrrp_instance": Row(ACTED, CORE),
        "SSL": Row(ACTED, SSL_BLOCK),
        "virtual_server_group": Row(ACTED, VSG),
        "virtual_server": Row(ACTED, KERNEL),
    },
    "global_defs": {
        "metrics_address": Row(ACTED, "tests/unit/control/test_metrics.py::"
                               "test_metrics_address_keyword",
                               note="pykeepalived's own: Prometheus metrics (netns: "
                               "tests/netns/test_metrics_status.py)"),
        "lb_backend": Row(ACTED, "tests/unit/daemon/test_check_process.py::"
                          "test_lb_backend_keyword_chooses_the_backend",
                          note="pykeepalived's own: ipvs, nftables or auto"),
        **_parse_only("process_name vrrp_process_name checker_process_name bfd_process_name "
                      "lvs_process_name process_names", _NAMES),
        **_acted("notification_email_from smtp_helo_name smtp_server smtp_connect_timeout "
                 "notification_email", SMTP_SETTINGS),
        "router_id": Row(ACTED, SMTP_SETTINGS, note="the [router_id] of SMTP alert subjects "
                         "(keepalived also gives it to SNMP, which pykeepalived has not)"),
        **_acted("smtp_alert smtp_alert_vrrp smtp_alert_checker", SMTP_DEFAULTS),
        "no_email_faults": Row(ACTED, _SMTP_ALERTS + "test_no_email_faults_skips_fault_and_"
                               "the_return_to_the_state_before"),
        "no_checker_emails": Row(ACTED, _CHECK_ALERTS + "test_every_checker_change_mails_"
                                 "unless_no_checker_emails"),
        **_parse_only("snmp_socket dbus_service_name enable_traps enable_snmp_vrrp "
                      "enable_snmp_keepalived enable_snmp_checker enable_snmp_rfc "
                      "enable_snmp_rfcv2 enable_snmp_rfcv3 enable_dbus", _SNMP),
        **_acted("vrrp_priority vrrp_rt_priority vrrp_rlimit_rttime vrrp_no_swap "
                 "vrrp_cpu_affinity checker_priority checker_rt_priority checker_rlimit_rtime "
                 "checker_no_swap checker_cpu_affinity", SCHED, _SCHED_NOTE),
        **_acted("vrrp_rlimit_rtime checker_rlimit_rttime", SCHED_MAP, _SCHED_NOTE),
        **_parse_only("bfd_no_swap bfd_priority bfd_rt_priority bfd_cpu_affinity "
                      "bfd_rlimit_rttime bfd_rlimit_rtime", _BFD),
        **_parse_only("max_auto_priority min_auto_priority_delay", _SCHED),
        **_parse_only("vrrp_netlink_cmd_rcv_bufs vrrp_netlink_cmd_rcv_bufs_force "
                      "vrrp_netlink_monitor_rcv_bufs vrrp_netlink_monitor_rcv_bufs_force "
                      "process_monitor_rcv_bufs process_monitor_rcv_bufs_force "
                      "lvs_netlink_cmd_rcv_bufs lvs_netlink_cmd_rcv_bufs_force "
                      "lvs_netlink_monitor_rcv_bufs lvs_netlink_monitor_rcv_bufs_force "
                      "vrrp_rx_bufs_policy vrrp_rx_bufs_multiplier", _NETLINK_BUFS),
        "lvs_flush": Row(PARSE_ONLY, note="the IPVS table is not flushed at start: "
                         "pykeepalived changes only the services it installed"),
        **_parse_only("lvs_flush_on_stop lvs_flush_onstop", "at stop pykeepalived removes "
                      "what it installed (nothing with -I), never the rest of the table"),
        "lvs_timeouts": Row(PARSE_ONLY, note="the IPVS tcp, tcpfin and udp timeouts are left "
                            "as they are"),
        "lvs_sync_daemon": Row(PARSE_ONLY, note=_SYNCD),
        "rs_init_notifies": Row(PARSE_ONLY, note="the real servers' state at start is not "
                                "notified (no notify_up/notify_down, no FIFO lines)"),
        "checker_log_all_failures": Row(ACTED, LOG_ALL),
        **_parse_only("nftables_ipvs nftables_ipvs_priority nftables_ipvs_start_fwmark",
                      _NFT_IPVS),
        **_acted("lvs_notify_fifo lvs_notify_fifo_script", LVS_FIFO),
        **_parse_only("nftables nftables_priority nftables_counters nftables_ifindex", _NFT),
        **_parse_only("reload_check_config reload_time_file reload_repeat reload_file",
                      _RELOAD),
        "config_save_dir": Row(PARSE_ONLY, note="configurations are never saved"),
        "tmp_config_directory": Row(PARSE_ONLY, note="no temporary configuration "
                                    "files are written"),
        "data_use_instance": Row(PARSE_ONLY, note="the SIGUSR1/SIGUSR2 dumps go to "
                                 "/tmp/keepalived.data and .stats"),
        "default_interface": Row(PARSE_ONLY, note="an instance without 'interface' "
                                 "does not fall back to it"),
        "dynamic_interfaces": Row(PARSE_ONLY, note="-t accepts a missing interface, but an "
                                  "instance whose interface appears later stays in FAULT"),
        "disable_local_igmp": Row(PARSE_ONLY, note="IGMP reports are sent as the "
                                  "kernel sends them"),
        "fifo_write_vrrp_states_on_reload": Row(PARSE_ONLY, note="a reload writes "
                                                "no state lines for unchanged instances"),
        "log_unknown_vrids": Row(PARSE_ONLY, note="adverts for VRIDs we do not run "
                                 "are dropped silently"),
        "startup_script": Row(PARSE_ONLY, note="the script is not run"),
        "shutdown_script": Row(PARSE_ONLY, note="the script is not run"),
        "startup_script_timeout": Row(PARSE_ONLY, note="startup_script is not run"),
        "shutdown_script_timeout": Row(PARSE_ONLY, note="shutdown_script is not run"),
        "umask": Row(PARSE_ONLY, note="files are created with the inherited umask"),
        "vmac_prefix": Row(PARSE_ONLY, note="VMACs are named vrrp.VRID unless named"),
        "vmac_addr_prefix": Row(PARSE_ONLY, note="VMAC addresses are not made from it"),
        "vrrp_check_unicast_src": Row(PARSE_ONLY, note="adverts from a source that "
                                      "is not a unicast peer are not dropped"),
        "vrrp_notify_priority_changes": Row(
            ACTED, _PLAN + "test_notify_priority_changes_from_sync_group_and_global_defs"),
        "vrrp_startup_delay": Row(PARSE_ONLY, note="instances start at once"),
        "vrrp_garp_extra_if": Row(PARSE_ONLY, note="no gratuitous ARP on other "
                                  "interfaces"),
        "vrrp_vmac_garp_intvl": Row(PARSE_ONLY, note="no gratuitous ARP on other "
                                    "interfaces"),
        "vrrp_iptables": Row(PARSE_ONLY, note="no_accept always uses the nftables "
                             "table 'keepalived'"),
        "vrrp_ipsets": Row(PARSE_ONLY, note="no_accept always uses the nftables "
                           "table 'keepalived'"),
        "vrrp_mcast_group4": Row(ACTED, _PLAN + "test_global_mcast_group_and_garp_settings"),
        "vrrp_mcast_group6": Row(ACTED, MCAST),
        "vrrp_garp_master_delay": Row(ACTED, _PLAN + "test_global_mcast_group_and_garp_settings"),
        "vrrp_garp_master_repeat": Row(ACTED,
                                       _PLAN + "test_global_mcast_group_and_garp_settings"),
        "vrrp_garp_master_refresh": Row(ACTED, GLOBAL_GARP),
        "vrrp_garp_master_refresh_repeat": Row(ACTED, GLOBAL_GARP),
        "vrrp_garp_lower_prio_delay": Row(ACTED, GLOBAL_GARP),
        "vrrp_garp_lower_prio_repeat": Row(ACTED, GLOBAL_GARP),
        "vrrp_min_garp": Row(ACTED, _EFF + "test_vrrp_min_garp_sends_one_round_without_refresh"),
        "vrrp_garp_interval": Row(ACTED, _EFF + "test_garp_and_gna_interval_space_the_frames"),
        "vrrp_gna_interval": Row(ACTED, _EFF + "test_garp_and_gna_interval_space_the_frames"),
        "vrrp_lower_prio_no_advert": Row(ACTED, PRIO_ADVERT),
        "vrrp_higher_prio_send_advert": Row(ACTED, PRIO_ADVERT),
        "vrrp_down_timer_adverts": Row(ACTED, DOWN_TIMER),
        "vrrp_version": Row(ACTED, DEFAULTS),
        "vrrp_skip_check_adv_addr": Row(ACTED, DEFAULTS),
        "vrrp_strict": Row(ACTED, _FEAT + "test_vrrp_strict_no_accept_drops_traffic_to_the_vip"),
        "vrrp_handover_immediate": Row(
            ACTED, "tests/netns/test_switchover.py::test_vrrp_handover_immediate_releases_at_once",
            note="pykeepalived's own: TERM releases the VIPs at once, as keepalived does, "
            "instead of handing over without loss"),
        "v3_checksum_as_v2": Row(ACTED, _PLAN + "test_v3_checksum_as_v2_global_and_per_instance"),
        "script_user": Row(ACTED, _TRACK + "test_script_user_group_and_per_script_users"),
        "enable_script_security": Row(
            ACTED, _TRACK + "test_enable_script_security_refuses_unsafe_root_scripts"),
        "notify_fifo": Row(ACTED, FIFO, note="the checker process writes its VS and RS lines "
                           "there too when lvs_notify_fifo is not set"),
        "notify_fifo_script": Row(ACTED, FIFO),
        "vrrp_notify_fifo": Row(ACTED, FIFO),
        "vrrp_notify_fifo_script": Row(ACTED, FIFO),
        "random_seed": Row(ACTED, _EFF + "test_random_seed_makes_random_repeatable"),
        "include_check": Row(ACTED, _LEXER + "test_include_check_makes_plain_include_strict"),
    },
    "track_group": _parse_only("group", _STATIC),
    "garp_group": _parse_only("garp_interval gna_interval interface interfaces",
                              "vrrp_garp_interval / vrrp_gna_interval apply to "
                              "every interface"),
    "track_file": _TRACK_FILE_BLOCK,
    "vrrp_track_file": _TRACK_FILE_BLOCK,
    "vrrp_track_process": _parse_only("process param_match weight quorum quorum_max delay "
                                      "terminate_delay fork_delay full_command", _PROCESS),
    "bfd_instance": _parse_only("neighbor_ip neighbour_ip source_ip min_rx min_tx idle_tx "
                                "multiplier passive ttl hoplimit max_hops weight vrrp checker",
                                _BFD),
    "vrrp_script": _acted("script interval timeout weight rise fall user", SCRIPT)
    | {"init_fail": Row(ACTED, SCRIPT, note="as keepalived.conf(5) says: keepalived 2.2.7 "
                        "ignores it on a tracked script")},
    "vrrp_sync_group": {
        "group": Row(ACTED, GROUP_NOTIFY),
        **_acted("notify_backup notify_master notify_fault notify_stop notify", GROUP_NOTIFY),
        "track_interface": Row(
            ACTED, _FAULTS + "test_sync_group_track_file_and_interface_move_every_member"),
        "track_file": Row(
            ACTED, _FAULTS + "test_sync_group_track_file_and_interface_move_every_member"),
        "track_script": Row(ACTED, _FAULTS + "test_sync_group_track_script_moves_every_member"),
        "track_process": Row(PARSE_ONLY, note=_PROCESS),
        "track_bfd": Row(PARSE_ONLY, note=_BFD),
        "smtp_alert": Row(ACTED, SMTP_DEFAULTS),
        "global_tracking": Row(
            ACTED, _WEIGHTS + "test_global_tracking_keeps_member_weights_and_is_deprecated"),
        "sync_group_tracking_weight": Row(
            ACTED, _WEIGHTS + "test_sync_group_tracking_weight_keeps_them"),
        "notify_priority_changes": Row(
            ACTED, _PLAN + "test_notify_priority_changes_from_sync_group_and_global_defs"),
    },
    "vrrp_instance": {
        "use_vmac": Row(ACTED, _FEAT + "test_use_vmac_virtual_mac_on_the_wire_and_in_clients",
                        note="a MAC address given on the line is not used"),
        "vmac_xmit_base": Row(ACTED, _PLAN + "test_use_vmac_default_name_and_vip_device"),
        "use_vmac_addr": Row(PARSE_ONLY, note="the base interface keeps its MAC"),
        "use_ipvlan": Row(PARSE_ONLY, note="no ipvlan interface is made"),
        "unicast_peer": Row(ACTED, _DAEMON + "test_unicast_peers",
                            note="min_ttl / max_ttl are not checked"),
        "unicast_src_ip": Row(ACTED, _DAEMON + "test_unicast_peers"),
        "unicast_fault_no_peer": Row(PARSE_ONLY, note="an instance without peers "
                                     "is not put in FAULT"),
        "check_unicast_src": Row(PARSE_ONLY, note="adverts from a source that is "
                                 "not a unicast peer are not dropped"),
        "old_unicast_checksum": Row(PARSE_ONLY, note="unicast VRRPv3 checksums "
                                    "always include the pseudo-header"),
        "unicast_ttl": Row(PARSE_ONLY, note="unicast adverts go out with TTL 255"),
        "native_ipv6": Row(ACTED, MCAST),
        "state": Row(ACTED, _PLAN + "test_state_master_without_priority_is_the_owner"),
        "interface": Row(ACTED, CORE),
        "virtual_router_id": Row(ACTED, CORE),
        "priority": Row(ACTED, CORE),
        "advert_int": Row(ACTED, CORE),
        "version": Row(ACTED, CORE),
        "virtual_ipaddress": Row(ACTED, CORE),
        "authentication": Row(ACTED, _EFF + "test_authentication_goes_into_every_advert"),
        "vrf": Row(PARSE_ONLY, note="sockets and addresses ignore the VRF"),
        "dont_track_primary": Row(
            ACTED, _TRACK + "test_dont_track_primary_leaves_the_interface_untracked"),
        "track_interface": Row(ACTED, _TRACK + "test_track_interface_weight_moves_the_priority"),
        "track_script": Row(ACTED, SCRIPT),
        "track_file": Row(ACTED, TRACK_FILE),
        "track_process": Row(PARSE_ONLY, note=_PROCESS),
        "track_bfd": Row(PARSE_ONLY, note=_BFD),
        "mcast_src_ip": Row(ACTED, MCAST),
        "mcast_dst_ip": Row(ACTED, MCAST),
        "track_src_ip": Row(PARSE_ONLY, note="losing the source address does not "
                            "cause FAULT"),
        "virtual_ipaddress_excluded": Row(
            ACTED, _FEAT + "test_virtual_routes_rules_and_excluded_only_on_the_master"),
        "virtual_routes": Row(
            ACTED, _FEAT + "test_virtual_routes_rules_and_excluded_only_on_the_master"),
        "virtual_rules": Row(
            ACTED, _FEAT + "test_virtual_routes_rules_and_excluded_only_on_the_master"),
        "promote_secondaries": Row(PARSE_ONLY, note="the interface's "
                                   "promote_secondaries sysctl is left alone"),
        "linkbeat_use_polling": Row(PARSE_ONLY, note="links are followed through "
                                    "netlink events, never polled"),
        "accept": Row(ACTED, _EFF + "test_accept_and_no_accept"),
        "no_accept": Row(ACTED, _EFF + "test_accept_and_no_accept"),
        "skip_check_adv_addr": Row(ACTED, DEFAULTS),
        "strict_mode": Row(ACTED, _EFF + "test_strict_mode_per_instance"),
        "v3_checksum_as_v2": Row(ACTED, _FEAT + "test_v3_checksum_as_v2_on_the_wire"),
        "preempt": Row(ACTED, PREEMPT),
        "nopreempt": Row(ACTED, _DAEMON + "test_nopreempt_keeps_the_new_master"),
        "preempt_delay": Row(ACTED, _FEAT + "test_preempt_delay_holds_back_the_returning_master"),
        "debug": Row(PARSE_ONLY, note="keepalived does not implement it either"),
        **_acted("notify_backup notify_master notify_fault notify_stop notify", NOTIFY),
        "notify_deleted": Row(
            ACTED, _FAULTS + "test_an_instance_removed_by_a_reload_reports_fault_or_deleted"),
        "notify_master_rx_lower_pri": Row(
            ACTED, _FAULTS + "test_priority_changes_and_lower_priority_adverts_are_notified"),
        "notify_priority_changes": Row(
            ACTED, _FAULTS + "test_priority_changes_and_lower_priority_adverts_are_notified"),
        "smtp_alert": Row(ACTED, _SMTP_ALERTS + "test_instance_smtp_alert_off_is_silent"),
        "lvs_sync_daemon_interface": Row(PARSE_ONLY, note=_SYNCD),
        "garp_master_delay": Row(ACTED, GARP),
        "garp_master_refresh": Row(ACTED, GARP),
        "garp_master_repeat": Row(ACTED, GARP),
        "garp_master_refresh_repeat": Row(ACTED, GARP),
        "garp_lower_prio_delay": Row(ACTED, GARP),
        "garp_lower_prio_repeat": Row(ACTED, GARP),
        "down_timer_adverts": Row(ACTED, DOWN_TIMER),
        "garp_extra_if": Row(PARSE_ONLY, note="no gratuitous ARP on other "
                             "interfaces"),
        "vmac_garp_intvl": Row(PARSE_ONLY, note="no gratuitous ARP on other "
                               "interfaces"),
        "lower_prio_no_advert": Row(ACTED, PRIO_ADVERT),
        "higher_prio_send_advert": Row(ACTED, PRIO_ADVERT),
        "kernel_rx_buf_size": Row(PARSE_ONLY, note="the receive buffers keep their "
                                  "size"),
    },
    "SSL": {
        **_acted("password certificate key", SSL_BLOCK),
        "ca": Row(ACTED, SSL_BLOCK, note="the server's chain (and with enable_sni its name) "
                  "is verified against it; keepalived 2.2.7 loads it without verifying"),
    },
    "virtual_server": {
        "ip_family": Row(ACTED, KERNEL),
        **_acted("retry delay_before_retry warmup connect_timeout delay_loop", TIMERS),
        "inhibit_on_failure": Row(ACTED, ALPHA),
        **_acted("lb_algo lvs_sched flag-1 flag-2 flag-3 mh-fallback mh-port ops sh-fallback "
                 "sh-port", KERNEL, _LB_IPVS),
        "hashed": Row(PARSE_ONLY, note="IPVS marks every service hashed itself: the flag "
                      "changes nothing"),
        **_acted("lb_kind lvs_method", KERNEL, _LB_IPVS),
        "persistence_engine": Row(PARSE_ONLY, note="no persistence engine (sip) is given "
                                  "to IPVS"),
        **_acted("persistence_timeout persistence_granularity protocol real_server", KERNEL),
        "ha_suspend": Row(ACTED, HA_SUSPEND, note="while the address is not on this node "
                          "the virtual server's table entries go too (keepalived keeps its "
                          "IPVS service and stops only the checks); a 'group' virtual "
                          "server is never suspended (keepalived then never runs its checks)"),
        "smtp_alert": Row(ACTED, _CHECK_ALERTS + "test_real_server_down_and_up_and_quorum_"
                          "are_mailed"),
        "virtualhost": Row(ACTED, VHOST),
        "snmp_name": Row(PARSE_ONLY, note=_SNMP),
        "alpha": Row(ACTED, ALPHA),
        **_acted("omega quorum_up quorum_down", LVS_SCRIPTS),
        **_acted("quorum hysteresis sorry_server sorry_server_inhibit "
                 "sorry_server_lvs_method", QUORUM),
        "weight": Row(PARSE_ONLY, note="keepalived uses a virtual server's weight only in "
                      "its SNMP data"),
    },
    "virtual_server/real_server": {
        "weight": Row(ACTED, KERNEL),
        **_acted("lvs_method lb_kind uthreshold lthreshold", KERNEL, _LB_IPVS),
        **_acted("inhibit_on_failure alpha", ALPHA),
        **_acted("notify_up notify_down", LVS_SCRIPTS),
        **_acted("retry delay_before_retry warmup connect_timeout delay_loop", TIMERS),
        "smtp_alert": Row(ACTED, _CHECK_ALERTS + "test_retries_and_smtp_alert_off"),
        "virtualhost": Row(ACTED, VHOST),
        "snmp_name": Row(PARSE_ONLY, note=_SNMP),
        **_acted("TCP_CHECK HTTP_GET SSL_GET SMTP_CHECK DNS_CHECK UDP_CHECK PING_CHECK",
                 ON_THE_WIRE),
        "MISC_CHECK": Row(ACTED, MISC),
        "FILE_CHECK": Row(ACTED, FILE_CHECK),
        "BFD_CHECK": Row(PARSE_ONLY, note=_BFD + ": its real server counts as up"),
    },
    "virtual_server/real_server/TCP_CHECK": _CHECKER_COMMON,
    "virtual_server/real_server/HTTP_GET": _HTTP_GET,
    "virtual_server/real_server/HTTP_GET/url": _URL,
    "virtual_server/real_server/SSL_GET": {**_HTTP_GET, "enable_sni": Row(ACTED, SSL_BLOCK)},
    "virtual_server/real_server/SSL_GET/url": _URL,
    "virtual_server/real_server/SMTP_CHECK": {
        **_CHECKER_COMMON,
        "helo_name": Row(ACTED, _WIRE + "test_smtp_check_keywords_and_host_blocks"),
        "host": Row(ACTED, _WIRE + "test_smtp_check_keywords_and_host_blocks"),
    },
    "virtual_server/real_server/SMTP_CHECK/host": _acted(
        "connect_ip connect_port bindto bind_if bind_port fwmark warmup connect_timeout "
        "retry delay_before_retry delay_loop alpha log_all_failures", SMTP_HOST),
    "virtual_server/real_server/DNS_CHECK": {
        **_CHECKER_COMMON, **_acted("type name", _WIRE + "test_dns_check_keywords")},
    "virtual_server/real_server/UDP_CHECK": {
        **_CHECKER_COMMON, **_acted("payload require_reply min_reply_length max_reply_length",
                                    _WIRE + "test_udp_check_keywords")},
    "virtual_server/real_server/PING_CHECK": _CHECKER_COMMON,
    "virtual_server/real_server/MISC_CHECK": {
        **_acted("warmup delay_before_retry delay_loop retry alpha", WHEN),
        "log_all_failures": Row(ACTED, LOG_ALL),
        **_acted("misc_path misc_timeout misc_dynamic", MISC),
        "user": Row(ACTED, _CHKK + "test_misc_check_user_runs_the_script_as_that_user"),
    },
    "virtual_server/real_server/FILE_CHECK": _acted("track_file weight", FILE_CHECK),
    "virtual_server/real_server/BFD_CHECK": _parse_only("name weight alpha", _BFD),
}
