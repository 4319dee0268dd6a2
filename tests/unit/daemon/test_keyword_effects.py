"""Keywords the daemon acts on: from keepalived.conf text to what the VRRP process runs.

Each test writes the keywords it is about in full, loads the text, and checks what the daemon
is handed (the instance plan, the router, the tracker) or what the router then does on a fake
clock. ``config.support`` names these tests as the evidence of its "acted" rows.
"""

from __future__ import annotations

import asyncio
import getpass
import grp
import os
import pwd
import shutil
import tempfile
from ipaddress import IPv4Address
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pykeepalived.config import Category, KeepalivedConfig, load_config_text
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.daemon.instance import InstancePlan, plan_instance
from pykeepalived.daemon.runtime import InstanceRuntime
from pykeepalived.daemon.tracker import Tracker
from pykeepalived.vrrp import packet
from pykeepalived.vrrp.actions import SendAdvert, SendGratuitous, State
from pykeepalived.vrrp.packet import Advert
from pykeepalived.vrrp.router import VirtualRouter
from tests.unit.notify._util import (
    argv_logger,
    read_argv_log,
    run_async,
    wait_until,
    write_script,
)

ME = getpass.getuser()
HOST = SystemInfo(interfaces={"eth0": 1, "eth1": 1}, users={"root", ME}, groups={"root"},
                  probe_files=False)
PEER = IPv4Address("192.0.2.3")


def load(text: str) -> KeepalivedConfig:
    """The configuration, which must load without errors (keepalived's SECURITY VIOLATION for
    scripts without enable_script_security aside: keepalived runs them anyway, and so do we)."""
    result = load_config_text(text, system=HOST)
    errors = [str(d) for d in result.errors if d.category != Category.SECURITY_ERROR]
    assert result.runnable and not errors, errors
    return result.config


def plan(text: str, name: str = "VI_1") -> InstancePlan:
    config = load(text)
    return plan_instance(config.vrrp_instances[name], config.global_defs)


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
    assert p.src == "192.0.2.1" and p.destinations == ["224.0.0.99"] and not p.unicast
    p6 = plan(text, "VI_6")
    assert p6.family == 6 and p6.router_config.version == 3
    assert p6.destinations == ["ff02::1:12"]


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


def test_dont_track_primary_leaves_the_interface_untracked() -> None:
    text = """
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    dont_track_primary
    track_interface {
        eth1
    }
    virtual_ipaddress {
        192.0.2.10/24
    }
}
"""
    config = load(text)
    tracker = Tracker(SimpleNamespace(config=config))
    untracked = plan(text)
    assert untracked.dont_track_primary
    assert tracker.watched(SimpleNamespace(plan=untracked)) == ["eth1"]
    tracked = plan(text.replace("dont_track_primary", ""))
    assert tracker.watched(SimpleNamespace(plan=tracked)) == ["eth1", "eth0"]


class _Proc:
    """What Tracker uses of the VRRP process: the configuration, instances and loop."""

    def __init__(self, config: KeepalivedConfig) -> None:
        self.config = config
        self.loop = asyncio.get_running_loop()
        self.instances: dict[str, InstanceRuntime] = {}
        for name, inst in config.vrrp_instances.items():
            rt = InstanceRuntime(self, plan_instance(inst, config.global_defs))
            self.instances[name] = rt

    def process(self, rt: InstanceRuntime) -> None:
        rt.router.actions()


@run_async
async def test_vrrp_script_keywords_drive_the_priority(tmp_path: Path) -> None:
    check = write_script(tmp_path / "check.sh",
                         f"n=$(cat {tmp_path}/n 2>/dev/null || echo 0); "
                         f"echo $((n+1)) > {tmp_path}/n; exit 1\n")
    config = load(f"""
global_defs {{
    script_user {ME}
}}
vrrp_script chk {{
    script "{check} --flag"
    interval 1
    timeout 2
    weight -30
    rise 2
    fall 1
    user {ME}
    init_fail
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 100
    track_script {{
        chk
    }}
    virtual_ipaddress {{
        192.0.2.10/24
    }}
}}
""")
    proc = _Proc(config)
    tracker = Tracker(proc)
    await tracker.start()
    try:
        ts = tracker.scripts["chk"]
        assert (ts.argv, ts.interval, ts.timeout) == ([str(check), "--flag"], 1.0, 2.0)
        assert (ts.rise, ts.fall, ts.init_fail, ts.user) == (2, 1, True, ME)
        rt = proc.instances["VI_1"]
        tracker.apply(rt, proc.loop.time())
        assert rt.router.priority == 70  # init_fail: failed from the start, weight -30
        assert await wait_until(lambda: (tmp_path / "n").exists(), 5.0)  # the script ran
    finally:
        await tracker.stop()
        await tracker.drain_notifications()


@run_async
async def test_track_file_keywords_drive_the_priority(tmp_path: Path) -> None:
    value = tmp_path / "value"
    config = load(f"""
track_file tf {{
    file {value}
    weight 3
    init_file 5 overwrite
}}
vrrp_track_file tf_old {{
    file {tmp_path / "other"}
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 100
    track_file {{
        tf
        tf_old weight 2
    }}
    virtual_ipaddress {{
        192.0.2.10/24
    }}
}}
""")
    proc = _Proc(config)
    tracker = Tracker(proc)
    await tracker.start()
    try:
        assert value.read_text().strip() == "5"  # init_file wrote it
        rt = proc.instances["VI_1"]
        tracker.apply(rt, proc.loop.time())
        assert rt.router.priority == 100 + 5 * 3
        (tmp_path / "other").write_text("4\n")
        assert await wait_until(lambda: tracker.file_value.get("tf_old") == 4, 5.0)
        tracker.apply(rt, proc.loop.time())
        assert rt.router.priority == 100 + 5 * 3 + 4 * 2
    finally:
        await tracker.stop()
        await tracker.drain_notifications()


@pytest.mark.parametrize(("fifo", "script"), [("notify_fifo", "notify_fifo_script"),
                                             ("vrrp_notify_fifo", "vrrp_notify_fifo_script")])
@run_async
async def test_notify_fifo_and_its_script(tmp_path: Path, fifo: str, script: str) -> None:
    path = tmp_path / "state.fifo"
    seen = tmp_path / "seen"
    reader = write_script(tmp_path / "reader.sh", f'exec cat "$1" > {seen}\n')
    config = load(f"""
global_defs {{
    script_user {ME}
    {fifo} {path}
    {script} {reader}
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {{
        192.0.2.10/24
    }}
}}
""")
    proc = _Proc(config)
    tracker = Tracker(proc)
    tracker.open_fifo()
    try:
        assert tracker.fifo is not None and path.exists()
        tracker.notifier.instance_changed("VI_1", "MASTER", 100, proc.instances["VI_1"].scripts)
        assert await wait_until(lambda: seen.exists() and seen.read_text()
                                == 'INSTANCE "VI_1" MASTER 100\n', 10.0)
    finally:
        await tracker.drain_notifications()


@run_async
async def test_instance_notify_scripts_run_on_state_changes(tmp_path: Path) -> None:
    rec = argv_logger(tmp_path / "rec.sh", tmp_path / "calls")
    config = load(f"""
global_defs {{
    script_user {ME}
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 90
    notify_master "{rec} to-master"
    notify_backup "{rec} to-backup"
    notify_fault "{rec} to-fault"
    notify_stop "{rec} to-stop"
    notify {rec}
    virtual_ipaddress {{
        192.0.2.10/24
    }}
}}
""")
    proc = _Proc(config)
    tracker = Tracker(proc)
    scripts = proc.instances["VI_1"].scripts
    calls_dir = tmp_path / "calls"
    try:
        for n, state in enumerate(("BACKUP", "MASTER", "FAULT", "STOP"), start=1):
            tracker.notifier.instance_changed("VI_1", state, 90, scripts)
            assert await wait_until(lambda n=n: len(list(calls_dir.iterdir())) >= 2 * n, 10.0)
    finally:
        await tracker.drain_notifications()
    calls = [argv[1:] for argv in read_argv_log(calls_dir)]
    expected: list[list[str]] = []
    for state in ("BACKUP", "MASTER", "FAULT", "STOP"):
        expected += [[f"to-{state.lower()}"], ["INSTANCE", "VI_1", state, "90"]]
    assert calls == expected


def _shared_dir() -> Path:
    """A directory every user can read (pytest's tmp_path is root's own)."""
    path = Path(tempfile.mkdtemp(prefix="pykeepalived-users-"))
    path.chmod(0o755)
    return path


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
@run_async
async def test_script_user_group_and_per_script_users() -> None:
    """``script_user USER GROUP`` is the default for every script; a notify line's own
    ``username [groupname]`` wins for that script (keepalived.conf(5))."""
    for user, group in (("nobody", "users"), ("daemon", "daemon")):
        try:
            pwd.getpwnam(user)
            grp.getgrnam(group)
        except KeyError:
            pytest.skip(f"needs user {user} and group {group}")
    tmp = _shared_dir()
    try:
        out = tmp / "out"
        out.mkdir()
        out.chmod(0o777)
        rec = write_script(tmp / "who.sh", f'echo "$1 $(id -un) $(id -gn)" > {out}/$1\n')
        config = load_config_text(f"""
global_defs {{
    script_user nobody users
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    notify_master "{rec} master" daemon daemon
    notify_backup "{rec} backup"
    virtual_ipaddress {{
        192.0.2.10/24
    }}
}}
""", system=SystemInfo(interfaces={"eth0": 1}, probe_files=False)).config
        proc = _Proc(config)
        tracker = Tracker(proc)
        scripts = proc.instances["VI_1"].scripts
        try:
            tracker.notifier.instance_changed("VI_1", "BACKUP", 100, scripts)
            tracker.notifier.instance_changed("VI_1", "MASTER", 100, scripts)
            assert await wait_until(lambda: len(list(out.iterdir())) == 2, 10.0)
        finally:
            await tracker.drain_notifications()
        assert (out / "backup").read_text() == "backup nobody users\n"
        assert (out / "master").read_text() == "master daemon daemon\n"
    finally:
        shutil.rmtree(tmp)


@run_async
async def test_track_interface_weight_moves_the_priority() -> None:
    config = load("""
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    track_interface {
        eth1 weight -30
    }
    virtual_ipaddress {
        192.0.2.10/24
    }
}
""")
    proc = _Proc(config)
    tracker = Tracker(proc)
    rt = proc.instances["VI_1"]
    tracker.link_up.update({"eth0": True, "eth1": True})
    tracker.apply(rt, 0.0)
    assert rt.router.priority == 100
    tracker.link_up["eth1"] = False
    tracker.apply(rt, 0.0)
    assert rt.router.priority == 70 and not rt.router.faults
    tracker.link_up["eth0"] = False  # its own interface: no weight, so FAULT
    tracker.apply(rt, 0.0)
    assert rt.router.faults


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


@pytest.mark.skipif(os.geteuid() != 0, reason="scripts run as root need root")
@run_async
async def test_enable_script_security_refuses_unsafe_root_scripts() -> None:
    tmp = _shared_dir()
    try:
        safe = write_script(tmp / "safe.sh", f"echo safe > {tmp}/ran-safe\n")
        unsafe = write_script(tmp / "unsafe.sh", f"echo unsafe > {tmp}/ran-unsafe\n",
                              mode=0o777)
        text = f"""
global_defs {{
    script_user root
    enable_script_security
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    notify_master {unsafe}
    notify_backup {safe}
    virtual_ipaddress {{
        192.0.2.10/24
    }}
}}
"""
        config = load_config_text(text, system=SystemInfo(interfaces={"eth0": 1},
                                                          probe_files=False)).config
        proc = _Proc(config)
        tracker = Tracker(proc)
        scripts = proc.instances["VI_1"].scripts
        try:
            tracker.notifier.instance_changed("VI_1", "MASTER", 100, scripts)
            tracker.notifier.instance_changed("VI_1", "BACKUP", 100, scripts)
            assert await wait_until((tmp / "ran-safe").exists, 10.0)
        finally:
            await tracker.drain_notifications()
        assert not (tmp / "ran-unsafe").exists()  # world-writable and run as root: refused
        # without enable_script_security the same script runs
        config = load(text.replace("enable_script_security", ""))
        proc = _Proc(config)
        tracker = Tracker(proc)
        try:
            tracker.notifier.instance_changed("VI_1", "MASTER", 100,
                                              proc.instances["VI_1"].scripts)
            assert await wait_until((tmp / "ran-unsafe").exists, 10.0)
        finally:
            await tracker.drain_notifications()
    finally:
        shutil.rmtree(tmp)
