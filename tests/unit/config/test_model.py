"""The typed model: keepalived's defaults, every section, and what the engines read."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from pykeepalived.config.model import (
    DnsCheck,
    HttpGet,
    MiscCheck,
    SmtpCheck,
    TcpCheck,
)
from tests.unit.config.helpers import instance, load, messages


def test_global_defaults(tmp_path: Path) -> None:
    g = load(tmp_path, "").config.global_defs
    assert str(g.vrrp_mcast_group4) == "224.0.0.18" and str(g.vrrp_mcast_group6) == "ff02::12"
    assert (g.vrrp_garp_master_delay, g.vrrp_garp_master_repeat) == (5.0, 5)
    assert (g.vrrp_garp_master_refresh, g.vrrp_garp_master_refresh_repeat) == (0.0, 1)
    assert (g.vrrp_garp_interval, g.vrrp_gna_interval, g.vrrp_version) == (0.0, 0.0, 2)
    assert not g.vrrp_strict and not g.enable_script_security


def test_global_defs_values(tmp_path: Path) -> None:
    text = """global_defs {
    router_id LVS_DEVEL
    notification_email {
        acassen@example.com
        failover@example.com
    }
    notification_email_from Alexandre.Cassen@example.com
    smtp_server 192.0.2.200 2525
    smtp_connect_timeout 30
    vrrp_mcast_group4 224.0.0.19
    vrrp_garp_master_delay 10
    vrrp_garp_master_refresh 60
    vrrp_garp_interval 0.001
    vrrp_version 3
    vrrp_strict
    vrrp_skip_check_adv_addr
    vrrp_check_unicast_src
    vrrp_notify_fifo /run/ka.fifo root
    script_user root
    enable_script_security
    vrrp_priority -10
    vrrp_no_swap
    enable_traps
}
"""
    g = load(tmp_path, text).config.global_defs
    assert g.router_id == "LVS_DEVEL"
    assert g.notification_email == ["acassen@example.com", "failover@example.com"]
    assert (g.smtp_server, g.smtp_server_port) == ("192.0.2.200", 2525)
    assert g.vrrp_mcast_group4 == ipaddress.IPv4Address("224.0.0.19")
    assert (g.vrrp_garp_master_delay, g.vrrp_garp_master_refresh) == (10.0, 60.0)
    assert g.vrrp_garp_interval == 0.001 and g.vrrp_version == 3
    assert g.vrrp_strict and g.vrrp_skip_check_adv_addr and g.vrrp_check_unicast_src
    assert g.vrrp_notify_fifo is not None and g.vrrp_notify_fifo.name == "/run/ka.fifo"
    assert g.script_user == "root" and g.enable_script_security
    assert g.vrrp_priority == -10 and g.vrrp_no_swap and g.enable_traps


def test_instance_defaults(tmp_path: Path) -> None:
    result = load(tmp_path, instance())
    assert result.exit_status == 0, messages(result)
    vi = result.config.vrrp_instances["VI_1"]
    assert (vi.state, vi.priority, vi.advert_int, vi.version, vi.family) == ("BACKUP", 100, 1.0,
                                                                           2, 4)
    assert not vi.nopreempt and vi.preempt_delay == 0.0
    assert vi.accept is True and not vi.no_accept
    assert vi.garp_master_delay == 5.0 and vi.garp_master_repeat == 5
    assert vi.virtual_ipaddress[0].address == ipaddress.ip_interface("192.0.2.100/32")
    assert vi.line.line == 1 and str(vi.line).endswith("keepalived.conf:1")


def test_state_master_without_priority_is_owner(tmp_path: Path) -> None:
    vi = load(tmp_path, instance(body="    state MASTER\n")).config.vrrp_instances["VI_1"]
    assert (vi.state, vi.priority) == ("MASTER", 255)
    vi = load(tmp_path, instance(body="    state MASTER\n    priority 150\n")) \
        .config.vrrp_instances["VI_1"]
    assert (vi.state, vi.priority) == ("MASTER", 150)


def test_priority_255_without_state_starts_master(tmp_path: Path) -> None:
    vi = load(tmp_path, instance(body="    priority 255\n")).config.vrrp_instances["VI_1"]
    assert vi.state == "MASTER"


def test_ipv6_instance_is_version_3(tmp_path: Path) -> None:
    result = load(tmp_path, instance(vips="fe80::10\n        2001:db8::10/64"))
    vi = result.config.vrrp_instances["VI_1"]
    assert (vi.family, vi.version) == (6, 3)
    assert vi.virtual_ipaddress[1].address == ipaddress.ip_interface("2001:db8::10/64")
    assert vi.virtual_ipaddress[0].preferred_lft == 0  # a /128 is deprecated by default


def test_vip_options(tmp_path: Path) -> None:
    vips = ("192.0.2.10/24 brd 192.0.2.255 dev eth1 scope link label eth1:vip\n"
            "        192.0.2.11/24 brd + no_track\n        192.0.2.12 peer 192.0.2.1 home")
    result = load(tmp_path, instance(vips=vips))
    a, b, c = result.config.vrrp_instances["VI_1"].virtual_ipaddress
    assert (a.brd, a.dev, a.scope, a.label) == ("192.0.2.255", "eth1", "link", "eth1:vip")
    assert b.brd == "+" and b.no_track
    assert c.peer == ipaddress.ip_interface("192.0.2.1/32") and c.home
    assert result.exit_status == 0, messages(result)


def test_mixed_family_vip_goes_nowhere_with_warning(tmp_path: Path) -> None:
    result = load(tmp_path, instance(vips="192.0.2.1\n        2001:db8::1"))
    assert len(result.config.vrrp_instances["VI_1"].virtual_ipaddress) == 1
    assert any("keepalived.conf:6" in m and "family" in m for m in messages(result))


def test_instance_full(tmp_path: Path) -> None:
    text = """vrrp_script chk {
    script "/bin/true arg"
    interval 2
    weight -20 reverse
    fall 3
    rise 2
    init_fail
}
track_file tf {
    file /run/tf
    weight 5
    init_file 1 overwrite
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 7
    priority 150
    advert_int 0.5
    version 3
    nopreempt
    unicast_src_ip 192.0.2.1
    unicast_peer {
        192.0.2.2
        192.0.2.3 min_ttl 250 max_ttl 255
    }
    track_interface {
        eth1 weight 10
    }
    track_script {
        chk weight 30
    }
    track_file {
        tf
    }
    notify_master "/bin/echo master 'x y'"
    notify /bin/true root
    use_vmac vrrp7 02:00:00:00:00:07
    vmac_xmit_base
    garp_master_delay 3
    virtual_ipaddress {
        192.0.2.100/24
    }
    virtual_ipaddress_excluded {
        2001:db8::100/64
    }
    virtual_routes {
        198.51.100.0/24 via 192.0.2.254 dev eth0
    }
    virtual_rules {
        from 192.0.2.0/24 table 100 preference 50
    }
}
"""
    result = load(tmp_path, text)
    vi = result.config.vrrp_instances["VI_1"]
    assert (vi.virtual_router_id, vi.priority, vi.advert_int, vi.version) == (7, 150, 0.5, 3)
    assert vi.nopreempt
    assert [str(p) for p in vi.unicast_peer] == ["192.0.2.2", "192.0.2.3"]
    assert vi.unicast_peers[1].min_ttl == 250 and vi.check_unicast_src
    assert vi.track_interface[0].name == "eth1" and vi.track_interface[0].weight == 10
    assert vi.track_script[0].name == "chk" and vi.track_script[0].weight == 30
    assert vi.track_file[0].weight is None
    assert vi.notify_master == "/bin/echo master 'x y'"
    assert vi.notify_scripts["notify_master"].argv == ["/bin/echo", "master", "x y"]
    assert vi.notify == "/bin/true"
    ns = vi.notify_scripts["notify"]
    assert ns.user is not None and ns.user.user == "root"
    assert vi.use_vmac == "vrrp7" and vi.vmac_mac == "02:00:00:00:00:07" and vi.vmac_xmit_base
    assert vi.garp_master_delay == 3.0
    assert str(vi.virtual_ipaddress_excluded[0].address) == "2001:db8::100/64"
    assert str(vi.virtual_routes[0].dst) == "198.51.100.0/24" and \
        vi.virtual_routes[0].dev == "eth0"
    assert vi.virtual_rules[0].table == "100" and vi.virtual_rules[0].preference == 50
    script = result.config.vrrp_scripts["chk"]
    assert (script.script, script.argv, script.interval) == ("/bin/true arg",
                                                             ["/bin/true", "arg"], 2.0)
    assert (script.weight, script.weight_reverse, script.fall, script.rise) == (-20, True, 3, 2)
    assert script.init_fail
    tf = result.config.vrrp_track_files["tf"]
    assert (tf.file, tf.weight, tf.init_file_value, tf.init_file_overwrite) == ("/run/tf", 5,
                                                                                1, True)


def test_use_vmac_alone_gets_default_name(tmp_path: Path) -> None:
    vi = load(tmp_path, instance(vrid=9, body="    use_vmac\n")).config.vrrp_instances["VI_1"]
    assert vi.use_vmac == "vrrp.9"


def test_authentication(tmp_path: Path) -> None:
    body = "    authentication {\n        auth_type PASS\n        auth_pass 123456789\n    }\n"
    result = load(tmp_path, instance(body=body))
    auth = result.config.vrrp_instances["VI_1"].authentication
    assert auth is not None and (auth.auth_type, auth.auth_pass) == ("PASS", "12345678")
    assert any("Truncating" in m for m in messages(result))


def test_sync_group(tmp_path: Path) -> None:
    text = (instance(name="VI_1", vrid=1) + instance(name="VI_2", vrid=2) +
            "vrrp_sync_group G1 {\n group {\n VI_1\n VI_2\n }\n notify_master /bin/true\n"
            " smtp_alert\n}\n")
    result = load(tmp_path, text)
    sg = result.config.vrrp_sync_groups["G1"]
    assert sg.group == ["VI_1", "VI_2"] and sg.notify_master == "/bin/true" and sg.smtp_alert
    assert result.config.vrrp_instances["VI_2"].sync_group == "G1"


def test_static_sections(tmp_path: Path) -> None:
    text = ("static_ipaddress {\n 192.0.2.50/24 dev eth0 scope global\n}\n"
            "static_routes {\n 198.51.100.0/24 via 192.0.2.1 dev eth0\n}\n"
            "static_rules {\n from 192.0.2.0/24 table 5 preference 10\n}\n")
    c = load(tmp_path, text).config
    assert str(c.static_ipaddress[0].address) == "192.0.2.50/24"
    assert str(c.static_routes[0].via) == "192.0.2.1"
    assert c.static_rules[0].preference == 10


def test_virtual_server_defaults_and_inheritance(tmp_path: Path) -> None:
    text = """virtual_server 192.0.2.10 80 {
    delay_loop 6
    lb_algo rr
    lb_kind DR
    protocol TCP
    retry 4
    real_server 192.0.2.21 80 {
        weight 2
        TCP_CHECK {
            connect_timeout 3
        }
        HTTP_GET {
            url {
                path /health
                status_code 200 300-399
                digest 9b3a0c85a887a256d6939da88aabd8cd
            }
        }
        MISC_CHECK {
            misc_path "/bin/true x"
            misc_dynamic
        }
        SMTP_CHECK {
            helo_name example.com
        }
        DNS_CHECK {
            type A
            name example.com
        }
    }
}
"""
    result = load(tmp_path, text)
    assert result.exit_status in (0, 6), messages(result)
    vs = result.config.virtual_servers[0]
    assert (str(vs.address), vs.port, vs.lvs_sched, vs.lvs_method, vs.protocol) == (
        "192.0.2.10", 80, "rr", "DR", "TCP")
    assert (vs.lb_algo, vs.lb_kind, vs.delay_loop, vs.connect_timeout) == ("rr", "DR", 6.0, 5.0)
    rs = vs.real_servers[0]
    assert (rs.weight, rs.lvs_method, rs.delay_loop, rs.retry) == (2, "DR", 6.0, 4)
    tcp, http, misc, smtp, dns = rs.checkers
    assert isinstance(tcp, TcpCheck) and tcp.connect_timeout == 3.0 and tcp.connect_port == 80
    assert isinstance(http, HttpGet) and http.url[0].path == "/health"
    assert http.url[0].status_code == [(200, 200), (300, 399)]
    assert http.delay_loop == 6.0 and http.connect_timeout == 5.0
    assert isinstance(misc, MiscCheck) and misc.misc_argv == ["/bin/true", "x"]
    assert misc.misc_dynamic
    assert isinstance(smtp, SmtpCheck) and smtp.helo_name == "example.com"
    assert isinstance(dns, DnsCheck) and (dns.type, dns.name) == ("A", "example.com")


def test_virtual_server_without_protocol_is_udp_like_keepalived(tmp_path: Path) -> None:
    text = "virtual_server 192.0.2.10 53 {\n real_server 192.0.2.21 53 {\n }\n}\n"
    result = load(tmp_path, text)
    vs = result.config.virtual_servers[0]
    assert (vs.protocol, vs.lvs_sched, vs.lvs_method) == ("UDP", "wlc", "NAT")
    text_msgs = " ".join(messages(result))
    assert "no protocol set" in text_msgs and "no scheduler" in text_msgs
    assert result.exit_status == 5


def test_virtual_server_group_and_fwmark(tmp_path: Path) -> None:
    text = """virtual_server_group G {
    192.0.2.1-10 80
    198.51.100.0/29 443
    fwmark 7
}
virtual_server group G {
    protocol TCP
    lvs_sched wlc
    lvs_method NAT
    real_server 192.0.2.50 80 {
    }
}
virtual_server fwmark 9 {
    lvs_sched wlc
    lvs_method DR
    real_server 192.0.2.51 {
    }
}
"""
    result = load(tmp_path, text)
    vsg = result.config.virtual_server_groups["G"]
    first, second, mark = vsg.entries
    assert (str(first.address), str(first.range_end), first.port) == ("192.0.2.1",
                                                                      "192.0.2.10", 80)
    assert str(second.range_end) == "198.51.100.7" and mark.fwmark == 7
    assert result.config.virtual_servers[0].group == "G"
    assert result.config.virtual_servers[1].fwmark == 9
    assert result.exit_status == 0, messages(result)


def test_files_listed(tmp_path: Path) -> None:
    result = load(tmp_path, "include a.conf\n", files={"a.conf": "! nothing\n"})
    assert [p.rsplit("/", 1)[1] for p in result.config.files] == ["keepalived.conf", "a.conf"]


def test_model_classes_compare_and_print_as_dataclasses_do() -> None:
    # @model shares one __eq__/__repr__/__hash__ between classes instead of generating them
    # per class; they must behave as the generated ones
    from dataclasses import dataclass, field

    from pykeepalived.config.model_base import model

    @dataclass(slots=True)
    class Generated:
        a: int = 0
        b: list[str] = field(default_factory=list)
        c: str = field(default="x", compare=False, repr=False)

    @model
    class Shared:
        a: int = 0
        b: list[str] = field(default_factory=list)
        c: str = field(default="x", compare=False, repr=False)

    @model(frozen=True)
    class Frozen:
        a: int = 0
        b: str = ""

    for cls in (Generated, Shared):
        one, two = cls(1, ["p"], "y"), cls(1, ["p"], "z")
        assert one == two  # c is not compared
        assert (one != two) is False
        assert cls(2) != one
        assert repr(one).endswith("(a=1, b=['p'])")
        assert one.__eq__(Generated(1, ["p"]) if cls is Shared else Shared(1, ["p"])) \
            is NotImplemented
        with pytest.raises(TypeError):
            hash(one)
        looped = cls(1)
        looped.b.append(looped)  # type: ignore[arg-type]
        assert repr(looped).endswith("b=[...])")
    assert hash(Frozen(1, "q")) == hash(Frozen(1, "q")) and {Frozen(1, "q"): 1}[Frozen(1, "q")]
    assert repr(Frozen(1, "q")).endswith("Frozen(a=1, b='q')")


@pytest.mark.parametrize(("text", "expected"), [
    ("192.0.2.1", "192.0.2.1"), ("192.0.2.1/24", "192.0.2.1"), ("192.0.2.1-10", "192.0.2.1"),
    ("192.0.2.1/24-5", "192.0.2.1"), ("192.0.2.1-5/24", "192.0.2.1"),
    ("2001:db8::1/64", "2001:db8::1"), ("-192.0.2.1", None), ("/", None), ("", None),
    ("192.0.2", None), ("fe80::1%eth0", None)])
def test_sockaddr_drops_range_and_mask(text: str, expected: str | None) -> None:
    # keepalived's inet_stosockaddr(): everything from the first '-' or '/' is dropped
    from pykeepalived.config.addresses import parse_sockaddr

    ip = parse_sockaddr(text)
    assert (None if ip is None else str(ip)) == expected
