"""keepalived's rules on tracking weights in sync-group members and the address owner.

Each configuration carries the exit status Debian's keepalived 2.2.7 gave for it on this
machine (``keepalived -t``, in a namespace with eth0 and eth1); the netns test at the end
re-checks them against the live keepalived. The daemon then runs the model as left: the
weights keepalived ignores are gone from what the instance tracks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pykeepalived.daemon.instance import plan_instance
from pykeepalived.vrrp.tracking import Tracked
from tests.unit.config.helpers import load

TRACK_FILE = "/tmp/pykeepalived-tw-test"

CASES: dict[str, tuple[int, str]] = {
    "member": (5, f"""global_defs {{
    enable_script_security
    script_user root
}}
vrrp_script chk {{
    script "/bin/true"
    weight 10
}}
track_file tf {{
    file {TRACK_FILE}
}}

vrrp_sync_group G {{
 group {{
 VI_1
 VI_2
 }}
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    track_interface {{
        eth1 weight 5
    }}
    track_script {{
        chk
    }}
    track_file {{
        tf
    }}
    virtual_ipaddress {{
        192.0.2.51/24
    }}
}}
vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id 52

    virtual_ipaddress {{
        192.0.2.52/24
    }}
}}
"""),
    "member_sgtw": (0, f"""global_defs {{
    enable_script_security
    script_user root
}}
vrrp_script chk {{
    script "/bin/true"
    weight 10
}}
track_file tf {{
    file {TRACK_FILE}
}}

vrrp_sync_group G {{
 group {{
 VI_1
 VI_2
 }}
 sync_group_tracking_weight
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    track_interface {{
        eth1 weight 5
    }}
    track_script {{
        chk
    }}
    track_file {{
        tf
    }}
    virtual_ipaddress {{
        192.0.2.51/24
    }}
}}
vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id 52

    virtual_ipaddress {{
        192.0.2.52/24
    }}
}}
"""),
    "member_global": (5, f"""global_defs {{
    enable_script_security
    script_user root
}}
vrrp_script chk {{
    script "/bin/true"
    weight 10
}}
track_file tf {{
    file {TRACK_FILE}
}}

vrrp_sync_group G {{
 group {{
 VI_1
 VI_2
 }}
 global_tracking
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    track_interface {{
        eth1 weight 5
    }}
    track_script {{
        chk
    }}
    track_file {{
        tf
    }}
    virtual_ipaddress {{
        192.0.2.51/24
    }}
}}
vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id 52

    virtual_ipaddress {{
        192.0.2.52/24
    }}
}}
"""),
    "owner": (5, f"""global_defs {{
    enable_script_security
    script_user root
}}
vrrp_script chk {{
    script "/bin/true"
    weight 10
}}
track_file tf {{
    file {TRACK_FILE}
}}

vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 255
    track_interface {{
        eth1 weight 5
    }}
    track_script {{
        chk
    }}
    track_file {{
        tf
    }}
    virtual_ipaddress {{
        192.0.2.51/24
    }}
}}
"""),
    "group_owner": (5, f"""global_defs {{
    enable_script_security
    script_user root
}}
vrrp_script chk {{
    script "/bin/true"
    weight 10
}}
track_file tf {{
    file {TRACK_FILE}
}}

vrrp_sync_group G {{
 group {{
 VI_1
 VI_2
 }}
 track_script {{
 chk
 }}
 track_interface {{
 eth1 weight 5
 }}
 track_file {{
 tf weight 2
 }}
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 255
    virtual_ipaddress {{
        192.0.2.51/24
    }}
}}
vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id 52

    virtual_ipaddress {{
        192.0.2.52/24
    }}
}}
"""),
    "group_weighted": (0, f"""global_defs {{
    enable_script_security
    script_user root
}}
vrrp_script chk {{
    script "/bin/true"
    weight 10
}}
track_file tf {{
    file {TRACK_FILE}
}}

vrrp_sync_group G {{
 group {{
 VI_1
 VI_2
 }}
 track_script {{
 chk
 }}
 track_interface {{
 eth1 weight 5
 }}
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51

    virtual_ipaddress {{
        192.0.2.51/24
    }}
}}
vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id 52

    virtual_ipaddress {{
        192.0.2.52/24
    }}
}}
"""),
}


@pytest.mark.parametrize("name", list(CASES))
def test_exit_status_is_keepalived(tmp_path: Path, name: str) -> None:
    status, text = CASES[name]
    assert load(tmp_path, text, users={"root"}).exit_status == status


def test_member_weights_are_cleared_or_dropped(tmp_path: Path) -> None:
    result = load(tmp_path, CASES["member"][1], users={"root"})
    text = [d.message for d in result.diagnostics]
    assert "(VI_1) ignoring eth1 tracked interface weight due to SYNC group" in text
    assert "(VI_1) ignoring tracked script chk with weights due to SYNC group" in text
    assert ("(VI_1) ignoring weight from tracked file tf due to SYNC group. specify weight 0"
            in text)
    plan = plan_instance(result.config.vrrp_instances["VI_1"], result.config)
    assert plan.tracking == (Tracked("interface eth1", 0), Tracked("file tf", 0, is_file=True),
                             Tracked("interface eth0"))


def test_sync_group_tracking_weight_keeps_them(tmp_path: Path) -> None:
    text = CASES["member"][1].replace(" }\n}\n", " }\n sync_group_tracking_weight\n}\n", 1)
    assert text == CASES["member_sgtw"][1]
    result = load(tmp_path, text, users={"root"})
    plan = plan_instance(result.config.vrrp_instances["VI_1"], result.config)
    assert plan.tracking == (Tracked("interface eth1", 5), Tracked("script chk", 10),
                             Tracked("file tf", 1, is_file=True), Tracked("interface eth0"))


def test_owner_drops_weighted_entries(tmp_path: Path) -> None:
    result = load(tmp_path, CASES["owner"][1], users={"root"})
    text = [d.message for d in result.diagnostics]
    assert "(VI_1) ignoring eth1 tracked interface due to address owner" in text
    plan = plan_instance(result.config.vrrp_instances["VI_1"], result.config)
    assert plan.tracking == (Tracked("file tf", 0, is_file=True), Tracked("interface eth0"))


def test_group_with_owner_clears_its_weights(tmp_path: Path) -> None:
    result = load(tmp_path, CASES["group_owner"][1], users={"root"})
    text = [d.message for d in result.diagnostics]
    assert ("(G) Cannot have weighted track script 'chk' with member having priority 255 - "
            "clearing weight") in text
    for name in ("VI_1", "VI_2"):
        plan = plan_instance(result.config.vrrp_instances[name], result.config)
        assert all(t.weight == 0 for t in plan.tracking), plan.tracking


def test_global_tracking_keeps_member_weights_and_is_deprecated(tmp_path: Path) -> None:
    text = CASES["member_sgtw"][1].replace("sync_group_tracking_weight", "global_tracking")
    result = load(tmp_path, text, users={"root"})
    assert any("global_tracking is deprecated" in d.message for d in result.diagnostics)
    plan = plan_instance(result.config.vrrp_instances["VI_1"], result.config)
    assert Tracked("script chk", 10) in plan.tracking
