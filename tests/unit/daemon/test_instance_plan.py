"""From keepalived.conf to what the VRRP process runs: keepalived's defaults and rules."""

from __future__ import annotations

from ipaddress import IPv4Address

from pykeepalived.config import load_config_text
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.daemon.instance import InstancePlan, plan_instance
from pykeepalived.vrrp.tracking import Tracked

HOST = SystemInfo(interfaces={"eth0": 1, "eth1": 1}, users={"root"}, groups={"root"},
                  probe_files=False)


def plan(body: str, globals_: str = "", name: str = "VI_1") -> InstancePlan:
    result = load_config_text(f"global_defs {{\n{globals_}\n}}\n{body}", system=HOST)
    assert result.ok, [str(d) for d in result.diagnostics]
    return plan_instance(result.config.vrrp_instances[name], result.config)


def instance(extra: str = "", vips: str = "192.0.2.10/24") -> str:
    return f"""vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    {extra}
    virtual_ipaddress {{
        {vips}
    }}
}}"""


def test_defaults() -> None:
    p = plan(instance())
    cfg = p.router_config
    assert (cfg.vrid, cfg.priority, cfg.advert_int, cfg.version) == (51, 100, 1.0, 2)
    assert p.destinations == ("224.0.0.18",) and not p.unicast
    assert cfg.vips == (IPv4Address("192.0.2.10"),)
    assert (cfg.garp_master_delay, cfg.garp_master_repeat, cfg.garp_master_refresh) == (5, 5, 0)
    assert p.vips[0].address == "192.0.2.10/24" and p.vips[0].dev == "eth0"
    assert p.xmit_ifname == "eth0" and p.vmac is None and not p.no_accept


def test_state_master_without_priority_is_the_owner() -> None:
    assert plan(instance("state MASTER")).router_config.priority == 255


def test_unicast_peers_and_source() -> None:
    p = plan(instance("unicast_src_ip 192.0.2.1\nunicast_peer {\n192.0.2.2\n192.0.2.3\n}"))
    assert p.unicast and p.destinations == ("192.0.2.2", "192.0.2.3") and p.src == "192.0.2.1"


def test_global_mcast_group_and_garp_settings() -> None:
    p = plan(instance(), "vrrp_mcast_group4 224.0.0.19\nvrrp_garp_master_repeat 2\n"
                         "vrrp_garp_master_delay 1")
    assert p.destinations == ("224.0.0.19",)
    assert (p.router_config.garp_master_repeat, p.router_config.garp_master_delay) == (2, 1)


def test_vrrp_strict_ignores_auth_and_drops_traffic_to_vips() -> None:
    body = instance("priority 100\nauthentication {\nauth_type PASS\nauth_pass x\n}")
    result = load_config_text(f"global_defs {{\nvrrp_strict\n}}\n{body}", system=HOST)
    assert any("auth" in d.message.lower() for d in result.diagnostics)
    p = plan(body, "vrrp_strict")
    assert p.router_config.auth_type is None and p.router_config.strict
    assert p.no_accept
    # RFC 3768 has no accept mode: under vrrp_strict only VRRPv3 may accept
    assert not plan(instance("priority 100\nversion 3\naccept"), "vrrp_strict").no_accept
    assert plan(instance("priority 100\naccept"), "vrrp_strict").no_accept


def test_use_vmac_default_name_and_vip_device() -> None:
    p = plan(instance("use_vmac"))
    assert p.vmac == "vrrp.51" and p.xmit_ifname == "vrrp.51"
    assert p.vips[0].dev == "vrrp.51"
    base = plan(instance("use_vmac\nvmac_xmit_base"))
    assert base.xmit_ifname == "eth0" and base.vips[0].dev == "vrrp.51"


def test_excluded_and_vip_options() -> None:
    body = instance(vips="192.0.2.10/24 dev eth1 label eth1:vip scope link brd 192.0.2.255")
    body = body.replace("}\n}", "}\nvirtual_ipaddress_excluded {\n198.51.100.7\n}\n}")
    p = plan(body)
    vip = p.vips[0]
    assert (vip.dev, vip.label, vip.scope, vip.brd) == ("eth1", "eth1:vip", "link",
                                                        "192.0.2.255")
    assert [v.address for v in p.excluded] == ["198.51.100.7/32"]
    assert p.router_config.vips == (IPv4Address("192.0.2.10"),)  # excluded: not advertised


def test_tracking_lists() -> None:
    body = ("vrrp_script chk {\nscript /bin/true\nweight -20\n}\n"
            + instance("track_interface {\neth1 weight -30\n}\ntrack_script {\nchk\n}"))
    p = plan(body, "enable_script_security\nscript_user root")
    assert p.tracking == (Tracked("interface eth1", -30), Tracked("script chk", -20),
                          Tracked("interface eth0"))
    assert p.tracked("script") == ["chk"] and p.tracked("interface") == ["eth1", "eth0"]


def test_sync_group_tracking_reaches_every_member() -> None:
    """vrrp_sync_group track_*: each member watches the group's objects, with the group's
    weights (keepalived sync_group_tracking_init)."""
    body = ("vrrp_script chk {\nscript /bin/true\n}\n"
            "track_file tf {\nfile /run/tf\nweight 0\n}\n"
            "vrrp_sync_group G {\ngroup {\nVI_1\nVI_2\n}\ntrack_script {\nchk\n}\n"
            "track_interface {\neth1\n}\ntrack_file {\ntf\n}\n}\n"
            + instance() + instance().replace("VI_1", "VI_2").replace(
                "router_id 51", "router_id 52"))
    for name in ("VI_1", "VI_2"):
        p = plan(body, "enable_script_security\nscript_user root", name=name)
        assert p.sync_group == "G"
        assert set(p.tracking) == {Tracked("interface eth1"), Tracked("script chk"),
                                   Tracked("file tf", 0, is_file=True),
                                   Tracked("interface eth0")}


def test_dont_track_primary_and_notify_priority_changes() -> None:
    p = plan(instance("dont_track_primary\nnotify_priority_changes"))
    assert p.tracking == () and p.notify_priority_changes


def test_v3_checksum_as_v2_global_and_per_instance() -> None:
    assert not plan(instance()).router_config.v3_checksum_as_v2
    assert plan(instance(), "v3_checksum_as_v2").router_config.v3_checksum_as_v2
    assert not plan(instance("v3_checksum_as_v2 false"),
                    "v3_checksum_as_v2").router_config.v3_checksum_as_v2
    assert plan(instance("v3_checksum_as_v2")).router_config.v3_checksum_as_v2


def test_notify_priority_changes_from_sync_group_and_global_defs() -> None:
    """The instance's setting, else its sync group's, else vrrp_notify_priority_changes."""
    two = instance() + instance().replace("VI_1", "VI_2").replace("router_id 51",
                                                                 "router_id 52")
    group = "vrrp_sync_group G {\ngroup {\nVI_1\nVI_2\n}\nnotify_priority_changes\n}\n"
    assert plan(group + two).notify_priority_changes
    assert plan(two, "vrrp_notify_priority_changes").notify_priority_changes
    assert not plan(two).notify_priority_changes
    assert not plan(instance("notify_priority_changes false"),
                    "vrrp_notify_priority_changes").notify_priority_changes
