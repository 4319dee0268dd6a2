"""A reload never costs an advert: HUPs of a large configuration leave a keepalived backup quiet.

pykeepalived masters 200 VRRPv3 instances at advert_int 0.1 (Master_Down_Interval 0.36 s at the
backup) with 2,000 virtual servers in the same file; Debian's keepalived is the backup of all
200. Parsing that file takes longer than 0.36 s, so if a reload held up the adverts, keepalived
would take over: it must not, on any of five HUPs.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab, wait_for
from tests.daemons import start_keepalived, start_pykeepalived, write_conf

pytestmark = pytest.mark.interop

INSTANCES = 200
VIRTUAL_SERVERS = 2000
HUPS = 5


def config(priority: int, virtual_servers: int) -> str:
    parts = [f"global_defs {{\n    router_id node{priority}\n}}\n"]
    for vrid in range(1, INSTANCES + 1):
        parts.append(f"""vrrp_instance VI_{vrid} {{
    state BACKUP
    interface eth0
    virtual_router_id {vrid}
    priority {priority}
    version 3
    advert_int 0.1
    virtual_ipaddress {{
        198.51.100.{vrid}/32
    }}
}}
""")
    for n in range(virtual_servers):
        vip = f"203.0.113.{n % 250 + 1}"
        port = 1000 + n // 250
        parts.append(f"virtual_server {vip} {port} {{\n    delay_loop 10\n    lb_algo wrr\n"
                     "    lb_kind NAT\n    protocol TCP\n    persistence_timeout 300\n")
        for r in range(4):
            parts.append(f"""    real_server 192.0.2.{(n + r) % 200 + 20} {port} {{
        weight {r + 1}
        HTTP_GET {{
            url {{
                path /health/{r}
                status_code 200
            }}
            connect_timeout 3
            retry 2
            delay_before_retry 1
        }}
    }}
""")
        parts.append("}\n")
    return "".join(parts)


def test_five_hups_of_a_large_config_cause_no_takeover(lab: Lab, tmp_path: Path) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    r2 = lab.add_host("r2", [["192.0.2.2/24"]])
    py = start_pykeepalived(r1, write_conf(tmp_path, "r1", config(150, VIRTUAL_SERVERS)),
                            tmp_path)
    ka = None
    try:
        assert wait_for(lambda: py.log().count("Entering MASTER STATE") >= INSTANCES, 60), \
            py.log()[-3000:]
        ka = start_keepalived(r2, write_conf(tmp_path, "r2", config(100, 0)), tmp_path)
        assert wait_for(lambda: ka.log().count("Entering BACKUP STATE") >= INSTANCES, 30), \
            ka.log()[-3000:]
        for n in range(1, HUPS + 1):
            py.signal(signal.SIGHUP)
            assert wait_for(lambda n=n: py.log().count("Configuration reloaded") >= n, 60), \
                py.log()[-3000:]
        assert wait_for(lambda: False, 1.0) is False  # a second more of adverts after the last
        assert ka.proc.poll() is None and py.proc.poll() is None
        takeovers = ka.log().count("Entering MASTER STATE")
        assert takeovers == 0, f"keepalived took over {takeovers} times:\n" + ka.log()[-3000:]
        assert py.log().count("Entering BACKUP STATE") == INSTANCES  # only at start
    finally:
        if ka is not None:
            ka.stop()
        py.stop()
