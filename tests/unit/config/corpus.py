"""A corpus of small configurations and the status `keepalived -t` (Debian 2.2.7) gave
for each, on a host with only lo and eth0 (192.0.2.1/24), recorded in a namespace.

Used by tests/unit/config/test_corpus.py (no root needed) and re-checked live against
keepalived by tests/netns/test_config_bad_input.py.
"""

from __future__ import annotations

# name -> (keepalived -t exit status, configuration text)
CORPUS: dict[str, tuple[int, str]] = {
    'state_bogus': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' state FOO\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'advert_0': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' advert_int 0\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'advert_256': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' advert_int 256\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'advert_frac_v3': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' advert_int 0.015\n'
        ' version 3\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'advert_neg': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' advert_int -1\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'version_4': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' version 4\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'nopreempt_master': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' state MASTER\n'
        ' priority 200\n'
        ' nopreempt\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'nopreempt_backup': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' state BACKUP\n'
        ' priority 200\n'
        ' nopreempt\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'preempt_delay': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' preempt_delay 10\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'preempt_delay_big': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' preempt_delay 1001\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'unicast': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' unicast_src_ip 192.0.2.1\n'
        ' unicast_peer {\n'
        '  192.0.2.2\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'unicast_empty': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' unicast_src_ip 192.0.2.1\n'
        ' unicast_peer {\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'unicast_bad_peer': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' unicast_peer {\n'
        '  192.0.2.x\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'unicast_v6_mix': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' unicast_peer {\n'
        '  2001:db8::2\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'mcast_src': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' mcast_src_ip 192.0.2.1\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'mcast_dst_bad': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' mcast_dst_ip 192.0.2.9\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'mcast_dst_ok': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' mcast_dst_ip 224.0.0.19\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'auth_pass': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' authentication {\n'
        '  auth_type PASS\n'
        '  auth_pass secret\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'auth_nopass': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' authentication {\n'
        '  auth_type PASS\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'auth_bogus': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' authentication {\n'
        '  auth_type FOO\n'
        '  auth_pass x\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'auth_v3': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' version 3\n'
        ' authentication {\n'
        '  auth_type PASS\n'
        '  auth_pass x\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'strict': (0, (
        'global_defs {\n'
        ' vrrp_strict\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' state MASTER\n'
        ' priority 255\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'strict_unicast': (0, (
        'global_defs {\n'
        ' vrrp_strict\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' unicast_peer {\n'
        '  192.0.2.2\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'ipv6': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  fe80::1\n'
        '  2001:db8::1/64\n'
        ' }\n'
        '}\n'
    )),
    'ipv6_strict': (5, (
        'global_defs {\n'
        ' vrrp_strict\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  2001:db8::1/64\n'
        ' }\n'
        '}\n'
    )),
    'ipv6_v2': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' version 2\n'
        ' virtual_ipaddress {\n'
        '  2001:db8::1/64\n'
        ' }\n'
        '}\n'
    )),
    'vip_brd_v6': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  2001:db8::1/64 brd 2001:db8::ff\n'
        ' }\n'
        '}\n'
    )),
    'vip_bad_scope': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.5/24 scope weird\n'
        ' }\n'
        '}\n'
    )),
    'vip_label_long': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.5/24 label abcdefghijklmnopq\n'
        ' }\n'
        '}\n'
    )),
    'vip_unknown_opt': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.5/24 foo\n'
        ' }\n'
        '}\n'
    )),
    'vip_prefix_bad': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.5/33\n'
        ' }\n'
        '}\n'
    )),
    'vip_dev_missing': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.5/24 dev\n'
        ' }\n'
        '}\n'
    )),
    'track_if': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' track_interface {\n'
        '  eth0 weight 10\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'track_if_lo': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' track_interface {\n'
        '  lo\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'track_if_badweight': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' track_interface {\n'
        '  eth0 weight 300\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'track_script_ok': (5, (
        'vrrp_script chk {\n'
        ' script "/nonexistent/chk.sh"\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' track_script {\n'
        '  chk\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'track_script_true': (6, (
        'vrrp_script chk {\n'
        ' script "/bin/true"\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' track_script {\n'
        '  chk\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'track_script_true_sec': (0, (
        'global_defs {\n'
        ' enable_script_security\n'
        ' script_user root\n'
        '}\n'
        'vrrp_script chk {\n'
        ' script "/bin/true"\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' track_script {\n'
        '  chk weight 10\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'script_unused': (0, (
        'global_defs {\n'
        ' enable_script_security\n'
        ' script_user root\n'
        '}\n'
        'vrrp_script chk {\n'
        ' script "/bin/true"\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'script_interval0': (5, (
        'vrrp_script chk {\n'
        ' script "/nonexistent/x"\n'
        ' interval 0\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' track_script {\n'
        '  chk\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'track_file': (0, (
        'track_file tf {\n'
        ' file /nonexistent-pykeepalived/tf\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' track_file {\n'
        '  tf weight 5\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'vrrp_track_file': (0, (
        'vrrp_track_file tf {\n'
        ' file /nonexistent-pykeepalived/tf\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' track_file {\n'
        '  tf\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'sync_group': (0, (
        'vrrp_instance A {\n'
        ' interface eth0\n'
        ' virtual_router_id 1\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
        'vrrp_instance B {\n'
        ' interface eth0\n'
        ' virtual_router_id 2\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
        'vrrp_sync_group G {\n'
        ' group {\n'
        '  A\n'
        '  B\n'
        ' }\n'
        '}\n'
    )),
    'sync_group_one': (5, (
        'vrrp_instance A {\n'
        ' interface eth0\n'
        ' virtual_router_id 1\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
        'vrrp_sync_group G {\n'
        ' group {\n'
        '  A\n'
        ' }\n'
        '}\n'
    )),
    'sync_group_missing': (5, (
        'vrrp_instance A {\n'
        ' interface eth0\n'
        ' virtual_router_id 1\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
        'vrrp_sync_group G {\n'
        ' group {\n'
        '  A\n'
        '  Z\n'
        ' }\n'
        '}\n'
    )),
    'sync_group_empty': (5, (
        'vrrp_instance A {\n'
        ' interface eth0\n'
        ' virtual_router_id 1\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
        'vrrp_sync_group G {\n'
        '}\n'
    )),
    'use_vmac': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' use_vmac\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'use_vmac_named': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' use_vmac vrrp51 00:00:5e:00:01:33\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'xmit_base_novmac': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' vmac_xmit_base\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'garp': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' garp_master_delay 2\n'
        ' garp_master_repeat 3\n'
        ' garp_master_refresh 60\n'
        ' garp_master_refresh_repeat 2\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'garp_repeat0': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' garp_master_repeat 0\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'lower_prio': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' lower_prio_no_advert\n'
        ' higher_prio_send_advert yes\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'lower_prio_bad': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' lower_prio_no_advert maybe\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'accept': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' accept\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'no_accept': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' no_accept\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'notify_all': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' notify_master /nonexistent/m\n'
        ' notify_backup "/nonexistent/b arg"\n'
        ' notify_fault /nonexistent/f\n'
        ' notify_stop /nonexistent/s\n'
        ' notify /nonexistent/n\n'
        ' smtp_alert\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'notify_twice': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' notify_master /nonexistent/m\n'
        ' notify_master /nonexistent/m2\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'notify_bad_user': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' notify_master /nonexistent/m nosuchuser\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'dont_track_primary': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' dont_track_primary\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'debug': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' debug 3\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'debug_bad': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' debug 7\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'strict_mode_kw': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' strict_mode\n'
        ' state MASTER\n'
        ' priority 255\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'skip_check': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' skip_check_adv_addr\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'down_timer': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' down_timer_adverts 5\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'global_many': (0, (
        'global_defs {\n'
        ' router_id x\n'
        ' notification_email {\n'
        '  a@b\n'
        ' }\n'
        ' notification_email_from a@b\n'
        ' smtp_server 192.0.2.9\n'
        ' smtp_connect_timeout 30\n'
        ' vrrp_garp_master_delay 10\n'
        ' vrrp_garp_master_repeat 1\n'
        ' vrrp_garp_interval 0.001\n'
        ' vrrp_gna_interval 0.000001\n'
        ' vrrp_version 3\n'
        ' vrrp_skip_check_adv_addr\n'
        ' vrrp_check_unicast_src\n'
        ' vrrp_priority -5\n'
        ' checker_priority -5\n'
        ' vrrp_no_swap\n'
        ' enable_traps\n'
        ' vrrp_mcast_group4 224.0.0.18\n'
        ' vrrp_mcast_group6 ff02::12\n'
        ' max_auto_priority 10\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'global_unknown': (5, (
        'global_defs {\n'
        ' bogus_keyword 1\n'
        '}\n'
    )),
    'global_bad_version': (5, (
        'global_defs {\n'
        ' vrrp_version 4\n'
        '}\n'
    )),
    'global_bad_prio': (5, (
        'global_defs {\n'
        ' vrrp_priority 30\n'
        '}\n'
    )),
    'global_smtp_bad': (5, (
        'global_defs {\n'
        ' smtp_server 192.0.2.9 99999\n'
        '}\n'
    )),
    'static_addr_noif': (0, (
        'static_ipaddress {\n'
        ' 192.0.2.50/24\n'
        '}\n'
    )),
    'static_addr': (0, (
        'static_ipaddress {\n'
        ' 192.0.2.50/24 dev eth0\n'
        '}\n'
    )),
    'static_route': (0, (
        'static_routes {\n'
        ' 198.51.100.0/24 via 192.0.2.9 dev eth0\n'
        '}\n'
    )),
    'static_route_notrack': (0, (
        'static_routes {\n'
        ' 198.51.100.0/24 via 192.0.2.9 no_track\n'
        '}\n'
    )),
    'static_rule': (0, (
        'static_rules {\n'
        ' from 192.0.2.0/24 table 100 preference 10\n'
        '}\n'
    )),
    'virtual_route_blackhole': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_routes {\n'
        '  blackhole 198.51.100.0/24 no_track\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'virtual_route_table': (0, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_routes {\n'
        '  198.51.100.0/24 dev eth0 table main\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'virtual_route_badtable': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_routes {\n'
        '  198.51.100.0/24 dev eth0 table nosuch\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'vrrp_instance_noname': (5, (
        'vrrp_instance {\n'
        ' interface eth0\n'
        '}\n'
    )),
    'top_stray_open': (5, (
        '{\n'
        '}\n'
    )),
    'linkbeat': (0, (
        'linkbeat_interfaces {\n'
        ' eth0\n'
        '}\n'
    )),
    'linkbeat_missing': (4, (
        'linkbeat_interfaces {\n'
        ' eth7\n'
        '}\n'
    )),
    'updown': (0, (
        'interface_up_down_delays {\n'
        ' eth0 1 2\n'
        '}\n'
    )),
    'garp_group': (0, (
        'garp_group {\n'
        ' garp_interval 0.1\n'
        ' interface eth0\n'
        '}\n'
    )),
    'bfd': (0, (
        'bfd_instance b1 {\n'
        ' neighbor_ip 192.0.2.5\n'
        ' min_rx 10\n'
        ' multiplier 3\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' track_bfd {\n'
        '  b1\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'track_process': (0, (
        'vrrp_track_process tp {\n'
        ' process nosuchproc\n'
        ' quorum 1\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' track_process {\n'
        '  tp\n'
        ' }\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'vs_basic': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_norealservers': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        '}\n'
    )),
    'vs_bad_sched': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' lb_algo foo\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_bad_proto': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' protocol FOO\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_bad_kind': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' lb_kind FOO\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_tun': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' lvs_method TUN type gue port 6080\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_tun_bad': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' lvs_method TUN type gue\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_dr_portmismatch': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' lvs_method DR\n'
        ' real_server 192.0.2.51 81 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_quorum': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' quorum 5\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_hysteresis': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' quorum 1\n'
        ' hysteresis 1\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_persistence': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' persistence_timeout 300\n'
        ' persistence_granularity 255.255.255.0\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_persistence_bad': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' persistence_granularity 255.0.255.0\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_sorry': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' sorry_server 192.0.2.60 80\n'
        ' sorry_server_inhibit\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_sorry_inhibit_first': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' sorry_server_inhibit\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_port0': (5, (
        'virtual_server 192.0.2.50 0 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_noport': (5, (
        'virtual_server 192.0.2.50 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_bad_ip': (5, (
        'virtual_server 192.0.2.500 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_ipv6': (0, (
        'virtual_server 2001:db8::50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 2001:db8::51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_mixed_family': (5, (
        'virtual_server 2001:db8::50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_fwmark': (0, (
        'virtual_server fwmark 5 {\n'
        ' lvs_sched rr\n'
        ' lvs_method DR\n'
        ' real_server 192.0.2.51 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_fwmark_port': (5, (
        'virtual_server fwmark 5 {\n'
        ' lvs_sched rr\n'
        ' lvs_method DR\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_group': (0, (
        'virtual_server_group G {\n'
        ' 192.0.2.1-10 80\n'
        ' 192.0.2.64/29 80\n'
        '}\n'
        'virtual_server group G {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_group_missing': (0, (
        'virtual_server group G {\n'
        ' protocol TCP\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vsg_empty': (5, (
        'virtual_server_group G {\n'
        '}\n'
    )),
    'vsg_badrange': (5, (
        'virtual_server_group G {\n'
        ' 192.0.2.10-1 80\n'
        '}\n'
    )),
    'vsg_badmask': (5, (
        'virtual_server_group G {\n'
        ' 192.0.2.65/29 80\n'
        '}\n'
    )),
    'rs_weight_bad': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  weight 70000\n'
        ' }\n'
        '}\n'
    )),
    'rs_dup': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'tcp_check': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  TCP_CHECK {\n'
        '   connect_timeout 3\n'
        '   connect_port 81\n'
        '   bindto 192.0.2.1\n'
        '   retry 2\n'
        '   delay_before_retry 2\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'tcp_check_bad_port': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  TCP_CHECK {\n'
        '   connect_port 70000\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'http_get': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  HTTP_GET {\n'
        '   url {\n'
        '    path /\n'
        '    digest 9b3a0c85a887a256d6939da88aabd8cd\n'
        '    status_code 200-299 404\n'
        '   }\n'
        '   connect_timeout 3\n'
        '   http_protocol 1.1\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'http_bad_digest': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  HTTP_GET {\n'
        '   url {\n'
        '    path /\n'
        '    digest zz\n'
        '   }\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'http_bad_status': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  HTTP_GET {\n'
        '   url {\n'
        '    path /\n'
        '    status_code 99\n'
        '   }\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'ssl_get': (0, (
        'SSL {\n'
        ' password x\n'
        '}\n'
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  SSL_GET {\n'
        '   url {\n'
        '    path /\n'
        '   }\n'
        '   enable_sni\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'misc_check': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  MISC_CHECK {\n'
        '   misc_path "/nonexistent/m.sh a"\n'
        '   misc_timeout 5\n'
        '   misc_dynamic\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'misc_true': (6, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  MISC_CHECK {\n'
        '   misc_path /bin/true\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'misc_nopath': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  MISC_CHECK {\n'
        '   misc_timeout 5\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'smtp': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  SMTP_CHECK {\n'
        '   helo_name x\n'
        '   host {\n'
        '    connect_ip 192.0.2.70\n'
        '   }\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'dns': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  DNS_CHECK {\n'
        '   type A\n'
        '   name example.com\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'dns_badtype': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  DNS_CHECK {\n'
        '   type FOO\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'udp': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  UDP_CHECK {\n'
        '   payload 0102ab\n'
        '   require_reply\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'ping': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  PING_CHECK {\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'file_check': (0, (
        'track_file tf {\n'
        ' file /nonexistent-pykeepalived/tf\n'
        '}\n'
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  FILE_CHECK {\n'
        '   track_file tf\n'
        '   weight 2\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'file_check_missing': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  FILE_CHECK {\n'
        '   track_file nosuch\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'bfd_check': (0, (
        'bfd_instance b1 {\n'
        ' neighbor_ip 192.0.2.51\n'
        '}\n'
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  BFD_CHECK {\n'
        '   name b1\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'notify_up': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  notify_up /nonexistent/up\n'
        '  notify_down /nonexistent/down\n'
        ' }\n'
        '}\n'
    )),
    'notify_up_true': (6, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  notify_up /bin/true\n'
        ' }\n'
        '}\n'
    )),
    'quorum_up_true': (6, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' quorum_up /bin/true\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'inhibit': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' inhibit_on_failure\n'
        ' real_server 192.0.2.51 80 {\n'
        '  inhibit_on_failure\n'
        ' }\n'
        '}\n'
    )),
    'alpha_omega': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' alpha\n'
        ' omega\n'
        ' ha_suspend\n'
        ' real_server 192.0.2.51 80 {\n'
        '  alpha\n'
        ' }\n'
        '}\n'
    )),
    'delay_loop': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' delay_loop 10\n'
        ' connect_timeout 2\n'
        ' warmup 3\n'
        ' retry 3\n'
        ' delay_before_retry 1\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'delay_loop_bad': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' delay_loop -3\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'rs_unknown': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  bogus 1\n'
        ' }\n'
        '}\n'
    )),
    'checker_unknown': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  TCP_CHECK {\n'
        '   bogus 1\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'ops_tcp': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' ops\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'virtualhost': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' virtualhost www.example.com\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'lb_flags_sh': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' sh-port\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'def_simple': (0, (
        '$P=120\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' priority $P\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'def_braces': (0, (
        '$P=12\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' priority ${P}0\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'def_undefined': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' priority $NOPE\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'def_multiline': (0, (
        '$I= \\\n'
        'vrrp_instance VI_${N} { \\\n'
        ' interface eth0 \\\n'
        ' virtual_router_id ${N} \\\n'
        ' virtual_ipaddress { \\\n'
        '  192.0.2.${N} \\\n'
        ' } \\\n'
        '}\n'
        '\n'
        '$N=1\n'
        '$I\n'
        '$N=2\n'
        '$I\n'
    )),
    'def_multiline_mid': (0, (
        '$M= \\\n'
        'priority 100 \\\n'
        'nopreempt\n'
        '\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' $M\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'def_space_before_eq': (5, (
        '$P =120\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'cond_match': (0, (
        '@r1 global_defs {\n'
        '@r1 router_id a\n'
        '@r1 }\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'cond_nomatch_hostname': (0, (
        '@zzz bogus\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'cond_neg': (5, (
        '@^zzz bogus\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'cond_bare': (0, (
        '@zzz\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'seq': (5, (
        '~SEQ(N, 1, 3) $X\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'seq_def': (0, (
        '$I= \\\n'
        'vrrp_instance VI_${N} { \\\n'
        ' interface eth0 \\\n'
        ' virtual_router_id ${N} \\\n'
        ' virtual_ipaddress { \\\n'
        '  192.0.2.${N} \\\n'
        ' } \\\n'
        '}\n'
        '\n'
        '~SEQ(N, 1, 20) $I\n'
    )),
    'seqx': (5, (
        '$I= \\\n'
        'vrrp_instance VI_${N} { \\\n'
        ' interface eth0 \\\n'
        ' virtual_router_id 1${N} \\\n'
        ' virtual_ipaddress { \\\n'
        '  2001:db8::${N} \\\n'
        ' } \\\n'
        '}\n'
        '\n'
        '~SEQx(N, 0xa, 0xc) $I\n'
    )),
    'seq_bad_step': (5, (
        '~SEQ(N, 1, -1, 5) x\n'
    )),
    'seq_noparen': (5, (
        '~SEQ N 1 2 x\n'
    )),
    'seqx_neg': (5, (
        '~SEQx(N, -1, 2) x\n'
    )),
    'lst': (0, (
        '$I= \\\n'
        'vrrp_instance VI_${N} { \\\n'
        ' interface eth0 \\\n'
        ' virtual_router_id ${N} \\\n'
        ' virtual_ipaddress { \\\n'
        '  192.0.2.${N} \\\n'
        ' } \\\n'
        '}\n'
        '\n'
        '~LST(N, 3, 7, 9) $I\n'
    )),
    'lst_multi': (0, (
        '~LST({A,B}, {1,2},{3,4}) global_defs { router_id x${A}${B} }\n'
    )),
    'lst_toomany': (5, (
        '~LST({A,B}, {1,2,3}) x\n'
    )),
    'tilde_other': (5, (
        '~FOO bar\n'
    )),
    'quote_single': (0, (
        'global_defs {\n'
        " router_id 'a b'\n"
        '}\n'
    )),
    'quote_double_space': (0, (
        'global_defs {\n'
        ' router_id "a b"\n'
        '}\n'
    )),
    'escape_hash': (0, (
        'global_defs {\n'
        ' router_id a\\#b\n'
        '}\n'
    )),
    'comment_after_cont': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' priority 100 # x \\\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'inline_blocks': (0, (
        'vrrp_instance VI_1 { interface eth0\n'
        ' virtual_router_id 5\n'
        ' virtual_ipaddress { 192.0.2.4 }\n'
        '}\n'
    )),
    'brace_same_line_close': (0, (
        'global_defs { router_id x }\n'
    )),
    'brace_next_line': (0, (
        'global_defs\n'
        '{\n'
        ' router_id x\n'
        '}\n'
    )),
    'missing_open': (5, (
        'global_defs\n'
        ' router_id x\n'
        '}\n'
    )),
    'unexpected_block': (5, (
        'global_defs {\n'
        ' router_id x {\n'
        ' }\n'
        '}\n'
    )),
    'empty_block': (0, (
        'global_defs {\n'
        '}\n'
    )),
    'crlf': (0, (
        'vrrp_instance VI_1 {\r\n'
        ' interface eth0\r\n'
        ' virtual_router_id 51\r\n'
        ' virtual_ipaddress {\r\n'
        '  192.0.2.100\r\n'
        ' }\r\n'
        '}\r\n'
    )),
    'tabs': (0, (
        'vrrp_instance\tVI_1\t{\n'
        '\tinterface\teth0\n'
        '\tvirtual_router_id\t51\n'
        '\tvirtual_ipaddress\t{\n'
        '\t\t192.0.2.100\n'
        '\t}\n'
        '}\n'
    )),
    'utf8_comment': (0, (
        '# café ünïcode\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'include_glob_none': (0, (
        'include /nonexistent-pykeepalived/none-*.conf\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'includer_missing': (0, (
        'includer /nonexistent-pykeepalived/none.conf\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'includew_glob_none': (6, (
        'includew /nonexistent-pykeepalived/none-*.conf\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'includem_missing': (6, (
        'includem /nonexistent-pykeepalived/none.conf\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'include_dir': (0, (
        'include /etc/\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'include_check_kw': (6, (
        'global_defs {\n'
        ' include_check match\n'
        '}\n'
        'include /nonexistent-pykeepalived/none.conf\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'include_brace_missing': (0, (
        'include /nonexistent-pykeepalived/{none1,none2}.conf\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'instance_two_names': (5, (
        'vrrp_instance A B {\n'
        ' interface eth0\n'
        '}\n'
    )),
    'keyword_case': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' Priority 100\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
}


def _instance(body: str = "", vips: str = "192.0.2.100") -> str:
    return (f"vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n{body}"
            f" virtual_ipaddress {{\n  {vips}\n }}\n}}\n")


_BIG = "9" * 303  # past a C double, and far past every integer type
_SUP2 = "\u00b2"  # a digit to str.isdigit(), not to C's isdigit() or to int()

# numbers that a C reader saturates and Python would build whole (or refuse to read)
CORPUS.update({
    'number_advert_int_303_digits': (5, _instance(f" advert_int {_BIG}\n")),
    'number_advert_int_400_digits_frac': (5, _instance(f" advert_int {'9' * 400}.5\n")),
    'number_priority_303_digits': (5, _instance(f" priority {_BIG}\n")),
    'number_preempt_delay_303_digits': (5, _instance(f" preempt_delay {_BIG}\n")),
    'number_delay_loop_303_digits': (5, (
        f"virtual_server 192.0.2.1 80 {{\n delay_loop {_BIG}\n}}\n")),
    'number_connect_timeout_303_digits': (5, (
        "virtual_server 192.0.2.1 80 {\n real_server 192.0.2.2 80 {\n  TCP_CHECK {\n"
        f"   connect_timeout {_BIG}\n  }}\n }}\n}}\n")),
    'number_prefix_superscript': (5, _instance(vips=f"192.0.2.100/{_SUP2}")),
    'number_smtp_port_superscript': (5, f"global_defs {{\n smtp_server 192.0.2.5 {_SUP2}\n}}\n"),
    'number_random_superscript': (5, (
        f"$X=${{_RANDOM {_SUP2}}}\nglobal_defs {{\n router_id $X\n}}\n")),
    'number_random_seed_superscript': (5, f"global_defs {{\n random_seed {_SUP2}\n}}\n"),
    'number_seq_303_digits': (5, f"~SEQ(i, {_BIG}) foo\n"),
    # keepalived copies "1, 1, 0...2)" into 64 bytes with its NUL: 63 characters fit
    'number_seq_params_64_bytes': (5, f"~SEQ(i, 1, 1, {'0' * 56}2) $Y=$i\n"),
    'number_seq_params_63_bytes': (0, f"~SEQ(i, 1, 1, {'0' * 55}2) $Y=$i\n"),
    'umask_octal': (0, "global_defs {\n umask 0077\n}\n"),
    'umask_extra_word': (5, "global_defs {\n umask 0077 022\n}\n"),
})


def _forwarding(method: str, where: str = "virtual") -> str:
    vs_method, rs_method = (method, "NAT") if where == "virtual" else ("NAT", method)
    return ("virtual_server 192.0.2.10 80 {\n protocol TCP\n lvs_sched rr\n"
            f" lvs_method {vs_method}\n real_server 192.0.2.20 80 {{\n  weight 1\n"
            f"  lvs_method {rs_method}\n }}\n}}\n")


# lvs_method options: keepalived reads them whatever the method and keeps the method when
# an option is bad; smtp_server: an address, else a name the resolver knows (there is no
# resolver in the namespace the statuses were recorded in; localhost is in /etc/hosts)
CORPUS.update({
    'tunnel_option_after_nat': (5, _forwarding("NAT bogus")),
    'tunnel_option_after_dr': (5, _forwarding("DR x")),
    'tunnel_option_on_real_server': (5, _forwarding("NAT bogus", "real")),
    'tunnel_port_before_type': (0, _forwarding("TUN port 80 type gue")),
    'tunnel_gue_port_6080': (0, _forwarding("TUN type gue port 6080")),
    'tunnel_port_without_gue': (5, _forwarding("TUN port 80")),
    'tunnel_bad_option': (5, _forwarding("TUN bogus")),
    'smtp_server_unresolvable_name': (5, "global_defs {\n smtp_server mail.example.com\n}\n"),
    'smtp_server_localhost': (0, "global_defs {\n smtp_server localhost\n}\n"),
    'smtp_server_with_prefix': (5, "global_defs {\n smtp_server 192.0.2.1/24\n}\n"),
    'smtp_server_ipv6_port': (0, "global_defs {\n smtp_server 2001:db8::1 2525\n}\n"),
    'smtp_server_port_0': (5, "global_defs {\n smtp_server 192.0.2.1 0\n}\n"),
    'notification_email_extra_word': (5, (
        "global_defs {\n notification_email foo {\n  a@example.com\n }\n}\n")),
    'notification_email_inline': (0, "global_defs {\n notification_email { a@example.com }\n}\n"),
    'unicast_peer_extra_word': (5, _instance(
        " unicast_src_ip 192.0.2.1\n unicast_peer foo {\n  192.0.2.7\n }\n")),
    'authentication_extra_word': (0, _instance(
        " authentication foo {\n  auth_type PASS\n  auth_pass secret\n }\n")),
})


# script security: keepalived counts a script once stat() finds it (SC_ISSCRIPT), executable
# or not, used or not; /etc/passwd is there, root's and not executable on every host
CORPUS.update({
    'script_unused': (6, 'vrrp_script S {\n script "/bin/true"\n}\n' + _instance()),
    'script_unused_not_executable': (6, 'vrrp_script S {\n script "/etc/passwd"\n}\n'
                                     + _instance()),
    'script_unused_directory': (6, 'vrrp_script S {\n script "/etc"\n}\n' + _instance()),
    'script_unused_missing': (5, 'vrrp_script S {\n script "/nonexistent-pk/x"\n}\n'
                              + _instance()),
    'script_unused_without_instances': (0, 'vrrp_script S {\n script "/bin/true"\n}\n'),
    'script_not_executable_secure': (5, 'global_defs {\n enable_script_security\n}\n'
                                     'vrrp_script S {\n script "/etc/passwd"\n}\n'
                                     + _instance(" track_script {\n  S\n }\n")),
    'notify_not_executable': (6, _instance(" notify_master /etc/passwd\n")),
    'startup_script_not_executable': (6, "global_defs {\n startup_script /etc/passwd\n}\n"),
    'misc_check_not_executable': (6, (
        "virtual_server 192.0.2.10 80 {\n protocol TCP\n lvs_sched rr\n"
        " real_server 192.0.2.20 80 {\n  MISC_CHECK {\n   misc_path /etc/passwd\n  }\n }\n}\n")),
})


def _continued(line: str) -> str:
    """A multi-line definition whose second line is ``line``, then used."""
    return f"$D=global_defs {{ \\\n{line}\n router_id r1 \\\n}}\n\n$D\n"


def _padded(width: int) -> str:
    """A continuation line of ``width`` characters, blanks first."""
    tail = " router_id r0 \\"
    return " " * (width - len(tail)) + tail


# keepalived reads lines with fgets() into 1024 bytes: a line of more than 1022 characters
# comes in pieces of 1023 bytes (the newline counts), and when the characters fill the
# pieces exactly the newline is an empty piece of its own. An empty piece, like a line with
# nothing but blanks or a comment, ends a multi-line definition.
CORPUS.update({
    'long_line_1022_in_definition': (0, _continued(_padded(1022))),
    'long_line_1023_in_definition': (5, _continued(_padded(1023))),
    'long_line_1024_in_definition': (5, _continued(_padded(1024))),
    'long_line_2045_in_definition': (5, _continued(_padded(2045))),
    'long_line_2046_in_definition': (5, _continued(_padded(2046))),
    'long_comment_1023': (0, "# " + "x" * 1021 + "\n" + _instance()),
    'long_comment_1024': (5, "# " + "x" * 1022 + "\n" + _instance()),
    'long_router_id_1023': (0, "global_defs {\n router_id " + "a" * 1012 + "\n}\n"),
    'long_router_id_1024': (5, "global_defs {\n router_id " + "a" * 1013 + "\n}\n"),
    'definition_ended_by_blanks': (5, _continued("   ")),
    'definition_ended_by_comment': (5, _continued("# a comment")),
    'definition_through_comment_continued': (0, _continued("# a comment \\")),
    'definition_through_lone_backslash': (0, _continued("\\")),
})


def _route(options: str) -> str:
    return _instance(f" virtual_routes {{\n  198.51.100.0/24 dev eth0 {options}\n }}\n")


# numeric route options are checked (keepalived drops the route and says why); "lock" is
# taken only by the options whose metric the kernel can lock
CORPUS.update({
    'route_mtu': (0, _route("mtu 1500")),
    'route_mtu_lock': (0, _route("mtu lock 1500")),
    'route_mtu_word': (5, _route("mtu abc")),
    'route_mtu_too_big': (5, _route("mtu 99999999999")),
    'route_mtu_hex': (5, _route("mtu 0x10")),
    'route_hoplimit_256': (5, _route("hoplimit 256")),
    'route_hoplimit_lock': (5, _route("hoplimit lock 5")),
    'route_window_lock': (5, _route("window lock 100")),
    'route_cwnd_lock': (0, _route("cwnd lock 10")),
    'route_quickack_2': (5, _route("quickack 2")),
    'route_features_unknown': (5, _route("features foo")),
    'route_ttl_propagate_unknown': (5, _route("ttl-propagate foo")),
    'route_congctl_lock': (0, _route("congctl lock cubic")),
})


# the LVS part: interfaces -t does not look up (a checker's bind_if, lvs_sync_daemon),
# scheduler flags of the other hashing scheduler (dropped without a word), and keywords the
# man page lists but keepalived 2.2.7 does not know (MISC_CHECK connect_timeout, FILE_CHECK
# dynamic)
CORPUS.update({
    'checker_bind_if_missing': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  TCP_CHECK {\n'
        '   bind_if eth9\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'smtp_host_bind_if_missing': (0, (
        'virtual_server 192.0.2.50 25 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 25 {\n'
        '  SMTP_CHECK {\n'
        '   host {\n'
        '    connect_ip 192.0.2.52\n'
        '    bind_if eth9\n'
        '   }\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'lvs_sync_daemon_missing_if': (0, (
        'global_defs {\n'
        ' lvs_sync_daemon eth9 VI_1\n'
        '}\n'
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'lvs_sync_daemon_interface_missing': (5, (
        'vrrp_instance VI_1 {\n'
        ' interface eth0\n'
        ' virtual_router_id 51\n'
        ' lvs_sync_daemon_interface eth9\n'
        ' virtual_ipaddress {\n'
        '  192.0.2.100\n'
        ' }\n'
        '}\n'
    )),
    'vs_sched_twos': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched twos\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_sh_port_not_sh': (5, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched twos\n'
        ' sh-port\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_mh_fallback_with_sh': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched sh\n'
        ' mh-fallback\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'vs_sh_port_with_mh': (0, (
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched mh\n'
        ' sh-port\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        ' }\n'
        '}\n'
    )),
    'misc_check_connect_timeout': (5, (
        'global_defs {\n'
        ' enable_script_security\n'
        ' script_user root\n'
        '}\n'
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  MISC_CHECK {\n'
        '   misc_path /bin/true\n'
        '   connect_timeout 3\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
    'file_check_dynamic': (5, (
        'track_file tf {\n'
        ' file /nonexistent-pykeepalived/tf\n'
        '}\n'
        'virtual_server 192.0.2.50 80 {\n'
        ' protocol TCP\n'
        ' lvs_sched rr\n'
        ' lvs_method NAT\n'
        ' real_server 192.0.2.51 80 {\n'
        '  FILE_CHECK {\n'
        '   track_file tf\n'
        '   dynamic\n'
        '  }\n'
        ' }\n'
        '}\n'
    )),
})

# Found by scripts/fuzz --target agree: braces where keepalived 2.2.7 does not expect them.
# Only a keyword that takes a block opens one; any other "{" is unexpected and opens
# nothing, so the next "}" closes the block it appeared in. A value block ends at its first
# "}". Keywords that then land at the outermost level are unknown there; a keyword left
# without its parameter stops the configuration (status 2).
_VS = "virtual_server 192.0.2.1 80 {\n"
CORPUS.update({
    'brace_stray_in_instance': (5, _instance(" {\n  priority 100\n }\n priority\n")),
    'brace_unknown_keyword_block': (5, _instance(" fuzzkw {\n  priority 100\n }\n priority\n")),
    'brace_unknown_keyword_one_line': (5, _instance(" fuzzkw { }\n priority\n")),
    'brace_plain_keyword_block': (5, _instance(" advert_int 1 {\n  priority 100\n }\n"
                                              " priority\n")),
    'brace_in_value_block': (2, (
        'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n'
        ' virtual_ipaddress {\n 192.0.2.1 {\n 192.0.2.2\n }\n priority\n }\n}\n')),
    'brace_top_unknown_block': (2, (
        'fuzzkw {\n vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n'
        ' priority\n}\n}\n')),
    'brace_value_block_without_open': (2, (
        'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n'
        ' virtual_ipaddress\n  192.0.2.100\n }\n priority\n}\n')),
    'brace_value_block_only_close': (5, (
        'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n'
        ' virtual_ipaddress\n}\n')),
    'brace_block_without_open': (2, (
        'vrrp_instance VI_1\n interface eth0\n virtual_router_id 51\n priority\n'
        ' virtual_ipaddress {\n  192.0.2.100\n }\n}\n')),
    'brace_authentication_without_open': (2, _instance(
        " authentication\n auth_type PASS\n auth_pass\n }\n")),
    'brace_unknown_in_authentication': (5, _instance(
        " authentication {\n fuzzkw { }\n auth_type PASS\n }\n")),
    'brace_unknown_in_real_server': (2, (
        _VS + ' real_server 192.0.2.2 80 {\n  fuzzkw {\n  }\n  weight\n }\n}\n')),
    'brace_static_rules_twice': (5, (
        'static_rules {\nstatic_rules {\nfrom 192.0.2.0/24 table 5 preference 10\n}\n')),
})

# Found by scripts/fuzz --target agree: what keepalived reports instead of stopping.
CORPUS.update({
    'rule_unknown_single_word': (5, 'static_rules {\n foo\n}\n'),
    'rule_known_option_without_value': (2, 'static_rules {\n from\n}\n'),
    'track_file_file_missing': (5, 'track_file tf {\n file\n}\n'),
    'track_file_weight_300': (5, 'track_file tf {\n file /tmp/x\n weight 300\n}\n'),
    'track_file_weight_twice': (5, 'track_file tf {\n file /tmp/x\n weight 5\n weight 6\n}\n'),
    'track_file_init_300': (5, 'track_file tf {\n file /tmp/x\n init_file 300\n}\n'),
    'track_file_init_word': (5, 'track_file tf {\n file /tmp/x\n init_file abc\n}\n'),
    'track_file_init_overwrite_directory': (5, (
        'track_file tf {\n file /\n weight -254 reverse\n init_file -3 overwrite\n}\n')),
    'script_notify_unterminated_quote': (5, _instance(' notify_master "\n')),
    'script_notify_missing': (2, _instance(' notify_master\n')),
    'script_quorum_up_unterminated_quote': (5, (
        _VS + ' quorum_up "\n real_server 192.0.2.2 80 {\n }\n}\n')),
    'script_misc_path_missing': (5, (
        _VS + ' real_server 192.0.2.2 80 {\n MISC_CHECK {\n misc_path\n }\n }\n}\n')),
    'script_misc_path_unterminated_quote': (5, (
        _VS + ' real_server 192.0.2.2 80 {\n MISC_CHECK {\n misc_path "\n }\n }\n}\n')),
    'script_vrrp_script_missing': (5, 'vrrp_script chk {\n script\n}\n'),
    'script_vrrp_script_unterminated_quote': (5, 'vrrp_script chk {\n script "\n}\n'),
})

# Found by scripts/fuzz --target agree: keywords keepalived 2.2.7 installs at the outermost
# level only (install_keyword_root) are unknown inside global_defs; smtp_server without its
# address stops the configuration; a virtual server of an undefined group is still read.
CORPUS.update({
    **{f'root_keyword_in_global_defs_{kw.split()[0]}': (5, f'global_defs {{\n {kw}\n}}\n')
       for kw in ("use_pid_dir", "instance foo", "child_wait_time 5", "linkbeat_use_polling",
                  "namespace_with_ipsets", "net_namespace foo", "net_namespace_ipvs foo")},
    'root_keyword_outside_global_defs': (0, 'net_namespace_ipvs foo\nuse_pid_dir\n'),
    'smtp_server_missing': (2, 'global_defs {\n smtp_server\n}\n'),
    'vs_group_missing_block_read': (5, (
        'virtual_server group G {\n protocol TCP\n real_serrver 192.0.2.51 80 {\n'
        ' prioritty 1\n }\n}\n')),
})

# Found by scripts/fuzz --target agree: an escaped comment character. keepalived's parent
# reads "\#" as a literal "#" and writes the decommented line to a copy, which the VRRP and
# checker parsers decomment again: there the "#" starts a comment (and a line that begins
# with it is a marker of the copy). global_defs and the outermost level keep the literal.
CORPUS.update({
    'escaped_hash_before_value': (2, _instance(' garp_master_repeat \\# 0\n')),
    'escaped_hash_glued': (2, _instance(' garp_master_repeat \\#0\n')),
    'escaped_hash_after_value': (0, _instance(' garp_master_repeat 2\\#\n')),
    'escaped_hash_line_in_block': (0, _instance(' \\# priority\n')),
    'escaped_bang_after_value': (0, _instance(' priority 100 \\! x\n')),
    'escaped_hash_line_at_top': (5, '\\# foo\n' + _instance()),
    'escaped_hash_in_global_defs': (5, 'global_defs {\n router_id a\\#b\n \\# x\n}\n'),
    'escaped_hash_global_value': (5, 'global_defs {\n smtp_server \\#\n}\n'),
})

# Found by scripts/fuzz --target agree: checker timers and retries as keepalived 2.2.7 bounds
# them (delay_loop, delay_before_retry and warmup up to ULONG_MAX - 1 microseconds,
# connect_timeout to UINT_MAX; a server's retry from 1, a checker's from 0), the virtual
# server's inhibit_on_failure reads no argument, and virtual_server_group without its "{"
# stops the configuration (keepalived's vsg_handler).
_VS_RR = 'virtual_server 192.0.2.1 80 {\n protocol TCP\n lvs_sched rr\n lvs_method NAT\n'
_RS = ' real_server 192.0.2.2 80 {\n  weight 1\n }\n'
CORPUS.update({
    'vs_retry_0': (5, _VS_RR + ' retry 0\n' + _RS + '}\n'),
    'rs_retry_0': (5, _VS_RR + ' real_server 192.0.2.2 80 {\n retry 0\n }\n}\n'),
    'checker_retry_0': (0, _VS_RR + ' real_server 192.0.2.2 80 {\n TCP_CHECK {\n retry 0\n'
                        ' }\n }\n}\n'),
    'vs_inhibit_on_failure_word': (0, _VS_RR + ' inhibit_on_failure 1\n' + _RS + '}\n'),
    'rs_inhibit_on_failure_word': (5, _VS_RR + ' real_server 192.0.2.2 80 {\n'
                                   ' inhibit_on_failure 1\n }\n}\n'),
    'vs_long_timers': (0, _VS_RR + ' delay_loop 5000\n delay_before_retry 99999\n'
                       ' warmup 99999\n' + _RS + '}\n'),
    'vs_connect_timeout_5000': (5, _VS_RR + ' connect_timeout 5000\n' + _RS + '}\n'),
    'vsg_open_on_next_line': (0, 'virtual_server_group G\n{\n 192.0.2.1 80\n}\n'),
    'vsg_without_open': (2, 'virtual_server_group G\n 192.0.2.1 80\n}\n'),
    'vsg_without_open_then_block': (2, 'virtual_server_group G\nglobal_defs {\n'
                                    ' router_id x\n}\n'),
    'vsg_without_anything': (5, 'virtual_server_group G\n'),
    'vsg_without_open_then_close': (2, 'virtual_server_group G\n}\n'),
    'vsg_without_open_definition_then_close': (2, 'virtual_server_group G\n$FUZZ=80 \\\n'
                                                '192.0.2.1 80\n}\n'),
})

# Found by scripts/fuzz --target agree: keepalived's parent reads the whole file before its
# VRRP and checker parsers stop at a missing parameter, so an include it cannot read (an
# includea of a missing file) decides the status first (6); a missing parameter the parent
# reads itself (global_defs) stops it before the include.
_MISSING = 'includea /nonexistent-pykeepalived-fuzz/x.conf\n'
CORPUS.update({
    'missing_parameter_then_include_error': (6, 'track_file {\n tf weight 1\n}\n' + _MISSING),
    'missing_parameter_in_instance_then_include_error': (6, (
        'vrrp_instance VI_1 {\n priority\n}\n' + _MISSING)),
    'missing_parameter_in_global_defs_then_include_error': (2, (
        'global_defs {\n smtp_server\n}\n' + _MISSING)),
    'missing_parameter_then_optional_include': (2, (
        'vrrp_instance VI_1 {\n priority\n}\ninclude /nonexistent-pykeepalived-fuzz/*.conf\n')),
})

# Found by scripts/fuzz --target agree: keepalived reads the addresses of servers, checkers,
# unicast peers, source addresses and multicast groups with inet_stosockaddr(), which drops
# anything from the first '-' or '/' ("remove range and mask stuff"); track_group takes
# exactly one name, else its block is skipped.
CORPUS.update({
    'sockaddr_unicast_peer_prefix': (0, _instance(' unicast_peer {\n 192.0.2.7/24\n }\n')),
    'sockaddr_mcast_src_ip_prefix': (0, _instance(' mcast_src_ip 192.0.2.1/24\n')),
    'sockaddr_mcast_dst_ip_prefix': (0, _instance(' mcast_dst_ip 224.0.0.19/8\n')),
    'sockaddr_checker_addresses': (0, _VS_RR + ' real_server 192.0.2.2 80 {\n TCP_CHECK {\n'
                                   ' connect_ip 192.0.2.9/24\n bindto 192.0.2.1-5\n }\n }\n}\n'),
    'sockaddr_real_server_prefix': (0, _VS_RR + ' real_server 192.0.2.2/24 80 {\n'
                                    ' weight 1\n }\n}\n'),
    'sockaddr_sorry_server_range': (0, _VS_RR + ' sorry_server 192.0.2.9-3 80\n' + _RS + '}\n'),
    'sockaddr_virtual_server_prefix': (0, _VS_RR.replace('192.0.2.1 80', '192.0.2.1/24 80')
                                       + _RS + '}\n'),
    'sockaddr_mcast_group_prefix': (0, 'global_defs {\n vrrp_mcast_group4 224.0.0.19/8\n}\n'),
    'sockaddr_lvs_sync_group_prefix': (0, 'global_defs {\n lvs_sync_daemon eth0 VI_1 group'
                                       ' 224.0.0.19/8\n}\n' + _instance()),
    'sockaddr_bad_before_prefix': (5, _instance(' unicast_peer {\n 192.0.2.300/24\n }\n')),
    'track_group_without_name': (5, 'track_group {\n foo\n}\n'),
    'track_group_two_names': (5, 'track_group a b {\n group {\n VI_1\n }\n}\n'),
})

# Found by scripts/fuzz --target config: include_check with an empty word ("" or a quote
# pair inside a word, which splits it) raised IndexError. keepalived reads the empty word as
# an unknown include_check type when it comes first (the checks are then all off) and as a
# duplicate after another word.
_MISSING_INCLUDE = 'include /nonexistent-pykeepalived-fuzz/none.conf\n'
CORPUS.update({
    'include_check_empty_word': (5, 'global_defs {\n include_check ""\n}\n' + _MISSING_INCLUDE),
    'include_check_split_word': (5, 'global_defs {\n include_check matc""h\n}\n'
                                 + _MISSING_INCLUDE),
    'include_check_empty_word_second': (6, 'global_defs {\n include_check match ""\n}\n'
                                        + _MISSING_INCLUDE),
    'include_check_empty_word_first': (5, 'global_defs {\n include_check "" match\n}\n'
                                       + _MISSING_INCLUDE),
    'include_check_sign_then_empty': (5, 'global_defs {\n include_check +""\n}\n'
                                      + _MISSING_INCLUDE),
})

# include_check is a global_defs keyword: keepalived applies it when global_defs's keyword
# table runs its handler, so it is an unknown keyword elsewhere (status 5 for it, and the
# missing include that follows is no error) and a value inside a value block.
_INCLUDE_CHECK_THEN_MISSING = 'include_check match\n}\n' + _MISSING_INCLUDE + (
    'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n'
    ' virtual_ipaddress {\n  192.0.2.100\n }\n}\n')
CORPUS.update({
    'include_check_top_level': (5, _INCLUDE_CHECK_THEN_MISSING.replace('}\n', '', 1)),
    'include_check_after_stray_open': (5, '{\n' + _INCLUDE_CHECK_THEN_MISSING),
    'include_check_in_unknown_block': (5, 'global_deefs {\n' + _INCLUDE_CHECK_THEN_MISSING),
    'include_check_in_vrrp_instance': (5, 'vrrp_instance VI_2 {\n'
                                       + _INCLUDE_CHECK_THEN_MISSING),
    'include_check_in_value_block': (0, 'global_defs {\n notification_email {\n'
                                     + _INCLUDE_CHECK_THEN_MISSING.replace('}\n', '}\n}\n', 1)),
    'include_check_in_global_defs_nested': (6, 'global_defs {\n global_defs {\n'
                                            + _INCLUDE_CHECK_THEN_MISSING.replace(
                                                '}\n', '}\n}\n', 1)),
})

# A refused block (no name, a name already used, an invalid address) whose '{' is missing:
# keepalived skips a refused block only from its '{'; without one it reads the lines up to
# the next '}' with the block's keywords, acting on the previous object of the kind, so a
# keyword there without its parameter stops it (status 2).
_VI_1 = ('vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n'
         ' virtual_ipaddress {\n  192.0.2.100\n }\n}\n')
CORPUS.update({
    'refused_instance_no_name_missing_open': (2, _VI_1 + 'vrrp_instance\n priority\n}\n'),
    'refused_instance_comment_name_missing_open': (2, _VI_1 + 'vrrp_instance ! VI_2 {\n'
                                                   ' virtual_router_id\n}\n'),
    'refused_instance_duplicate_missing_open': (2, _VI_1 + 'vrrp_instance VI_1\n'
                                                ' interface\n}\n'),
    'refused_instance_duplicate_with_open': (5, _VI_1 + 'vrrp_instance VI_1 {\n'
                                             ' interface\n}\n'),
    'refused_instance_previous_notify': (2, _VI_1.replace(' interface', ' notify_master /bin/true'
                                                          '\n interface')
                                         + 'vrrp_instance\n notify_master "\n}\n'),
    'refused_vs_missing_open': (2, _VI_1 + 'virtual_server 192.0.2.300 80\n delay_loop\n}\n'),
    # keepalived names the script it ignores: a second notify_master without one stops it
    'notify_master_again_without_script': (2, _VI_1.replace(
        ' interface', ' notify_master /bin/true\n notify_master "\n interface')),
    'sync_group_notify_again_without_script': (2, _VI_1 + 'vrrp_sync_group G {\n group {\n'
                                               '  VI_1\n }\n notify_master /bin/true\n'
                                               ' notify_master\n}\n'),
})

# An escaped comment character in a multi-line definition: keepalived's parent reads "\#"
# as "#" and writes the line so to the copy its VRRP and checker parsers read, where that
# "#" starts a comment. A definition line is read, where it is used, as the process that
# reads that section reads it: the parent in global_defs ("\ #" is a keyword '\' there;
# "} #" leaves a keyword '#' after the block), the VRRP parser in vrrp_instance (a line
# "\# priority 300" is nothing there).
CORPUS.update({
    'escaped_hash_definition_line_in_global_defs': (
        5, '$D=global_defs { \\\n\\ \\#\nrouter_id r1 \\\n}\n\n$D\n'),
    'escaped_hash_definition_after_global_defs_close': (
        5, '$D=global_defs { \\\n# a comment \\\nrouter_id r1 \\\n} \\#\n\n$D\n'),
    'escaped_bang_definition_after_global_defs_close': (
        5, '$D=global_defs { \\\n router_id r1 \\\n} \\!\n\n$D\n' + _VI_1),
    'escaped_hash_definition_line_in_vrrp_instance': (
        0, '$D=vrrp_instance VI_1 { \\\n interface eth0 \\\n \\# priority 300 \\\n'
           ' virtual_router_id 51 \\\n virtual_ipaddress { \\\n 192.0.2.100 \\\n } \\\n}\n\n$D\n'),
})

# keepalived's parent reads the lines around the blocks it skips (vrrp_instance...) with
# "\#" a literal: "} \#" closes the block and leaves a keyword '#' at the outermost level;
# a definition it ends at "\ \#" leaves its later lines there.
CORPUS.update({
    'escaped_hash_after_instance_close': (5, _VI_1.rstrip('\n') + ' \\#\n'),
    'escaped_hash_word_after_instance_close': (5, _VI_1.rstrip('\n') + ' \\# x\n'),
    'escaped_hash_after_inner_close': (0, _VI_1.replace(' }\n}', ' } \\#\n}')),
    'escaped_hash_definition_after_instance_close': (
        5, '$D=vrrp_instance VI_1 { \\\n interface eth0 \\\n virtual_router_id 51 \\\n'
           ' virtual_ipaddress { \\\n 192.0.2.100 \\\n } \\\n} \\#\n\n$D\n'),
    'escaped_hash_definition_ends_early_for_parent': (
        5, '$D=vrrp_instance VI_1 { \\\n interface eth0 \\\n virtual_router_id 51 \\\n'
           '\\ \\#\n virtual_ipaddress { \\\n 192.0.2.100 \\\n } \\\n}\n\n$D\n'),
})

# A checker's connect_ip and bindto must be of one address family: the second of the two
# is refused (and clears what was given), as keepalived 2.2.7 does (status 5).
_TCP_CHECK = ('virtual_server 192.0.2.10 80 {\n protocol TCP\n lvs_sched rr\n lvs_method NAT\n'
              ' real_server 192.0.2.20 80 {\n  TCP_CHECK {\n{}  }\n }\n}\n')
CORPUS.update({
    'checker_bindto_family_differs': (5, _TCP_CHECK.replace(
        '{}', '   connect_ip 2001:db8::1\n   bindto 192.0.2.1\n')),
    'checker_connect_ip_family_differs': (5, _TCP_CHECK.replace(
        '{}', '   bindto 192.0.2.1\n   connect_ip 2001:db8::1\n')),
    # without connect_ip the destination is the real server's address
    'checker_bindto_family_of_real_server': (5, _TCP_CHECK.replace(
        '{}', '   bindto 2001:db8::2\n   connect_ip 2001:db8::1\n')),
    'checker_connect_ip_bindto_same_family': (0, _TCP_CHECK.replace(
        '{}', '   connect_ip 2001:db8::1\n   bindto 2001:db8::2\n')),
    'smtp_check_bindto_without_destination': (0, _TCP_CHECK.replace(
        'TCP_CHECK', 'SMTP_CHECK').replace('{}', '   bindto 2001:db8::2\n')),
    'smtp_host_bindto_family_of_real_server': (5, _TCP_CHECK.replace(
        'TCP_CHECK', 'SMTP_CHECK').replace('{}', '   host {\n    bindto 2001:db8::2\n   }\n')),
})

# Includes are the parent's to read: one that falls out of a definition the parent ends at
# "\ \#" is read (and, missing, stops the configuration: includem, status 6), though the
# VRRP parser's copy holds it inside the definition.
CORPUS.update({
    'escaped_hash_definition_ends_before_include': (
        6, '$D=global_defs { \\\n\\ \\#\nrouter_id r1 \\\n'
           'includem /nonexistent-pykeepalived-fuzz/missing.conf\n}\n'),
})

# A line that is all comment inside a multi-line definition: keepalived's parent skips it
# and goes on with the definition; its copy holds an empty line there, which ends the
# definition for the VRRP parser. What the parent takes into the definition is nothing to
# it: an include is not read, a vrrp_instance line is gone and the rest of its block is
# read at the outermost level (unknown keywords).
CORPUS.update({
    'comment_line_in_definition_then_include': (
        0, '$D=router_id x \\\n# c\nincludem /nonexistent-pykeepalived-fuzz/missing.conf\n'),
    'comment_line_in_definition_then_instance': (5, '$D=router_id x \\\n# c\n' + _VI_1),
})

# An empty word ("") read as a number is 0 to keepalived (C's strtol converts nothing and
# leaves nothing over), so it is no error where 0 is in range.
CORPUS.update({
    'cpu_affinity_empty_word': (0, 'global_defs {\n vrrp_cpu_affinity ""\n}\n'),
    'cpu_affinity_empty_word_then_0': (0, 'global_defs {\n checker_cpu_affinity "" 0\n}\n'),
    'priority_empty_word': (5, _VI_1.replace(' interface', ' priority ""\n interface')),
})

# Found by the agree fuzzer: http_protocol and FILE_CHECK's weight without their word are
# reported (keepalived's handlers check the line's length themselves), not a stop; the
# scripts of a virtual server removed for having no real server are not checked.
_VS = 'virtual_server 192.0.2.50 80 {\n protocol TCP\n lvs_sched rr\n lvs_method NAT\n{}}\n'
CORPUS.update({
    'http_protocol_missing': (5, _VS.replace('{}', ' real_server 192.0.2.51 80 {\n  HTTP_GET {\n'
                                             '   http_protocol\n   url {\n    path /\n   }\n'
                                             '  }\n }\n')),
    'file_check_weight_missing': (5, 'track_file tf {\n file /nonexistent-pykeepalived/tf\n}\n'
                                  + _VS.replace('{}', ' real_server 192.0.2.51 80 {\n'
                                                '  FILE_CHECK {\n   track_file tf\n'
                                                '   weight # 2\n  }\n }\n')),
    'quorum_up_of_removed_vs': (5, _VS.replace('{}', ' quorum_up /bin/true\n'
                                               ' real_server 192.0.2.51 yes {\n }\n')),
})

# virtual_server_group with words after its name: keepalived 2.2.7 stops (status 2), its
# value block reader naming the keyword from a word it left out ("***MISSING ***").
CORPUS.update({
    'vsg_two_names': (2, 'virtual_server_group G G {\n192.0.2.1-10 80\n}\n'),
    'vsg_three_words_empty': (2, 'virtual_server_group G x y {\n}\n'),
})

# keepalived moves only the character after ${_RANDOM min max} down to the end of the
# shorter value: the rest of the parameter text stays in the line, and its '}' closes the
# block (lexer.Lexer._short_parameter_value)
CORPUS.update({
    'random_params_then_text': (5, 'global_defs {\n router_id ${_RANDOM 1 9}x\n}\n'),
    'random_params_at_line_end': (0, 'global_defs {\n router_id ${_RANDOM 1 9}\n}\n'),
    'random_params_in_definition_outrank_missing_interface': (5, (
        'interface_up_down_delays {\n random_seed 12345\n}\n'
        '$R=${_RANDOM 1 1000000} ${_RANDOM 1 1000000}\n'
        'global_defs {\n smtp_helo_name $R\n}\n')),
})
