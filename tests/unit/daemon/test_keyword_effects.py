"""Keywords the daemon acts on: from keepalived.conf text to the router it runs.

Each test writes the keywords it is about in full, loads the text, and checks the instance
plan and router the daemon is handed, or what the router then does on a fake clock.
``config.support`` names these tests (and those of test_keyword_effects_tracker.py) as the
evidence of its "acted" rows.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

from pykeepalived.daemon.instance import InstancePlan
from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import SendAdvert, SendGratuitous, State
from pykeepalived.vrrp.packet import Advert
from pykeepalived.vrrp.router import VirtualRouter
from tests.unit.daemon.keyword_helpers import load, plan

PEER = IPv4Address("192.0.2.3")


def master(p: InstancePlan, now: float = 0.0) -> VirtualRouter:
    """The plan's router, started and left to become MASTER on its own down timer."""
    r = VirtualRouter(p.router_config)
    r.set_primary_address(IPv4Address("192.0.2.2"))
    r.start(now)
    r.actions()
    timer = r.get_timer()
    assert timer is not None
    r.handle_timer(timer)
    assert r.state is State.MASTER
    return r


def adverts(actions: list[Any]) -> list[Advert]:
    return [a.advert for a in actions if isinstance(a, SendAdvert)]


def gratuitous(actions: list[Any]) -> int:
    return sum(isinstance(a, SendGratuitous) for a in actions)


def test_instance_keywords_reach_the_router() -> None:
    p = plan("""
global_defs {
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth1
    virtual_router_id 77
    priority 150
    advert_int 0.5
    version 3
    virtual_ipaddress {
        192.0.2.10/24
        192.0.2.11/24
    }
}
""")
    assert p.ifname == "eth1" and p.xmit_ifname == "eth1"
    r = VirtualRouter(p.router_config)
    r.start(0.0)
    assert r.state is State.BACKUP
    assert r.get_timer() == 3 * 0.5 + (256 - 150) * 0.5 / 256  # RFC 5798 6.1
    r = master(p)
    (advert,) = adverts(r.actions())
    assert (advert.version, advert.vrid, advert.priority, advert.advert_int) == (3, 77, 150, 0.5)
    assert advert.addresses == (IPv4Address("192.0.2.10"), IPv4Address("192.0.2.11"))


def test_authentication_goes_into_every_advert() -> None:
    p = plan("""
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    authentication {
        auth_type PASS
        auth_pass s3cret
    }
    virtual_ipaddress {
        192.0.2.10/24
    }
}
""")
    (advert,) = adverts(master(p).actions())
    assert advert.auth_type == packet.AUTH_PASS
    assert advert.auth_data == packet.auth_key(b"s3cret")


def test_multicast_source_and_group_keywords() -> None:
    text = """
global_defs {
    vrrp_mcast_group6 ff02::1:12
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    mcast_src_ip 192.0.2.1
    mcast_dst_ip 224.0.0.99
    virtual_ipaddress {
        192.0.2.10/24
    }
}
vrrp_instance VI_6 {
    native_ipv6
    interface eth0
    virtual_router_id 52
    virtual_ipaddress {
        2001:db8::10/64
    }
}
"""
    p = plan(text)
    assert p.src == "192.0.2.1" and p.destinations == ("224.0.0.99",) and not p.unicast
    p6 = plan(text, "VI_6")
    assert p6.family == 6 and p6.router_config.version == 3
    assert p6.destinations == ("ff02::1:12",)


def test_vrrp_version_and_skip_check_adv_addr_are_instance_defaults() -> None:
    text = """
global_defs {
    vrrp_version 3
    vrrp_skip_check_adv_addr
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.10/24
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    skip_check_adv_addr off
    virtual_ipaddress {
        192.0.2.20/24
    }
}
"""
    p = plan(text)
    assert p.router_config.version == 3 and p.router_config.skip_check_adv_addr
    assert not plan(text, "VI_2").router_config.skip_check_adv_addr


def test_strict_mode_per_instance() -> None:
    p = plan("""
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    strict_mode on
    virtual_ipaddress {
        192.0.2.10/24
    }
}
""")
    assert p.router_config.strict and p.no_accept
    assert p.router_config.lower_prio_no_advert  # strict: no advert for a lower priority


def test_accept_and_no_accept() -> None:
    text = """
global_defs {
    vrrp_strict
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    version 3
    accept
    virtual_ipaddress {
        192.0.2.10/24
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    no_accept
    virtual_ipaddress {
        192.0.2.20/24
    }
}
"""
    assert not plan(text).no_accept
    # without vrrp_strict, no_accept alone makes the master drop traffic to its VIPs
    assert plan(text.replace("vrrp_strict", ""), "VI_2").no_accept


def test_preempt_keywords() -> None:
    text = """
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    nopreempt
    preempt
    virtual_ipaddress {
        192.0.2.10/24
    }
}
vrrp_instance VI_2 {
    state BACKUP
    interface eth0
    virtual_router_id 52
    preempt_delay 2.5
    virtual_ipaddress {
        192.0.2.20/24
    }
}
"""
    assert not plan(text).router_config.nopreempt  # the last word wins, as in keepalived
    assert plan(text.replace("    preempt\n", "")).router_config.nopreempt
    assert plan(text, "VI_2").router_config.preempt_delay == 2.5


def test_instance_garp_keywords_time_the_gratuitous_rounds() -> None:
    p = plan("""
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    garp_master_delay 2
    garp_master_repeat 3
    garp_master_refresh 60
    garp_master_refresh_repeat 2
    garp_lower_prio_delay 4
    garp_lower_prio_repeat 6
    virtual_ipaddress {
        192.0.2.10/24
    }
}
""")
    cfg = p.router_config
    assert (cfg.garp_master_delay, cfg.garp_master_repeat) == (2, 3)
    assert (cfg.garp_master_refresh, cfg.garp_master_refresh_repeat) == (60, 2)
    assert (cfg.garp_lower_prio_delay, cfg.garp_lower_prio_repeat) == (4, 6)
    r = master(p)
    assert gratuitous(r.actions()) == 3  # garp_master_repeat rounds on becoming master
    now = 0.5 + 3.609375
    r.receive_advert(Advert(2, 51, 50, 1.0, (IPv4Address("192.0.2.10"),)), PEER, now)
    assert gratuitous(r.actions()) == 6  # garp_lower_prio_repeat on a lower-priority advert


def test_global_garp_keywords_are_the_instance_defaults() -> None:
    p = plan("""
global_defs {
    vrrp_garp_master_refresh 30
    vrrp_garp_master_refresh_repeat 4
    vrrp_garp_lower_prio_delay 7
    vrrp_garp_lower_prio_repeat 2
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.10/24
    }
}
""")
    cfg = p.router_config
    assert (cfg.garp_master_refresh, cfg.garp_master_refresh_repeat) == (30, 4)
    assert (cfg.garp_lower_prio_delay, cfg.garp_lower_prio_repeat) == (7, 2)


def test_vrrp_min_garp_sends_one_round_without_refresh() -> None:
    p = plan("""
global_defs {
    vrrp_min_garp true
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.10/24
    }
}
""")
    cfg = p.router_config
    assert (cfg.garp_master_repeat, cfg.garp_master_delay, cfg.garp_master_refresh) == (1, 0, 0)
    assert gratuitous(master(p).actions()) == 1


def test_garp_and_gna_interval_space_the_frames() -> None:
    text = """
global_defs {
    vrrp_garp_interval 0.25
    vrrp_gna_interval 0.5
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.10/24
    }
}
vrrp_instance VI_6 {
    interface eth0
    virtual_router_id 52
    virtual_ipaddress {
        2001:db8::10/64
    }
}
"""
    assert plan(text).garp_interval == 0.25
    assert plan(text, "VI_6").garp_interval == 0.5


def test_down_timer_adverts_set_the_master_down_interval() -> None:
    text = """
global_defs {
    vrrp_down_timer_adverts 5
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.10/24
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    down_timer_adverts 7
    virtual_ipaddress {
        192.0.2.20/24
    }
}
"""
    skew = (256 - 100) / 256
    assert VirtualRouter(plan(text).router_config).master_down_interval == 5 + skew
    assert VirtualRouter(plan(text, "VI_2").router_config).master_down_interval == 7 + skew


def test_lower_and_higher_priority_advert_keywords() -> None:
    text = """
global_defs {
    vrrp_lower_prio_no_advert
    vrrp_higher_prio_send_advert
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.10/24
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    lower_prio_no_advert false
    higher_prio_send_advert false
    virtual_ipaddress {
        192.0.2.20/24
    }
}
"""
    on = plan(text).router_config
    assert on.lower_prio_no_advert and on.higher_prio_send_advert
    # the instance's own setting wins over the global one, as in keepalived
    off = plan(text, "VI_2").router_config
    assert not off.lower_prio_no_advert and not off.higher_prio_send_advert
    r = master(plan(text, "VI_2"))
    r.actions()
    r.receive_advert(Advert(2, 52, 50, 1.0, (IPv4Address("192.0.2.20"),)), PEER, 4.0)
    assert len(adverts(r.actions())) == 1  # a lower priority is answered at once


def test_random_seed_makes_random_repeatable() -> None:
    def router_id(seed: int) -> str | None:
        return load(f"""
global_defs {{
    random_seed {seed}
}}
$R=${{_RANDOM 1 1000000000}}
global_defs {{
    router_id $R
}}
""").global_defs.router_id

    first = router_id(42)
    assert first is not None and first.isdigit()
    assert router_id(42) == first
    assert router_id(43) != first
