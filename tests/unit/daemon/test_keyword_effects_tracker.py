"""Keywords the daemon acts on through its tracker: scripts, files, interfaces, notify
scripts and FIFOs, the users scripts run as.

Each test writes the keywords it is about in full, loads the text, builds the tracker the VRRP
process would build over it, and checks what it runs or what priority it gives the router.
``config.support`` names these tests as the evidence of its "acted" rows.
"""

from __future__ import annotations

import asyncio
import grp
import os
import pwd
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from pykeepalived.config import KeepalivedConfig, load_config_text
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.daemon.instance import plan_instance
from pykeepalived.daemon.runtime import InstanceRuntime
from pykeepalived.daemon.tracker import Tracker
from tests.unit.daemon.keyword_helpers import ME, load, plan
from tests.unit.notify._util import (
    argv_logger,
    read_argv_log,
    run_async,
    wait_until,
    write_script,
)


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
