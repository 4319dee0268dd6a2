"""Keywords the daemon acts on through its tracker: scripts, files, interfaces, notify
scripts and FIFOs, the users scripts run as.

Each test writes the keywords it is about in full, loads the text, builds the tracker the VRRP
process would build over it, and checks what it runs or what priority it gives the router.
``config.support`` names these tests as the evidence of its "acted" rows.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import tempfile
from pathlib import Path

import pytest

from pykeepalived.config import KeepalivedConfig, load_config_text
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.daemon.vrrp_main import VrrpProcess
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
    assert plan(text).tracked("interface") == ["eth1"]
    assert plan(text.replace("dont_track_primary", "")).tracked("interface") == ["eth1", "eth0"]


def _process(config: KeepalivedConfig) -> VrrpProcess:
    """The VRRP process over ``config``, built (instances, groups, notifier) but not started:
    no socket is opened and no router leaves INIT, so only what is tested runs."""
    proc = VrrpProcess(config)
    proc.build()
    return proc


async def _close(proc: VrrpProcess) -> None:
    proc.tracker.stop()
    await proc.notifier.drain(5.0)
    if proc.fifo is not None:
        await proc.fifo.aclose()
    await proc.runner.close()
    proc.scheduler.close()


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
    proc = _process(config)
    proc.tracker.start(proc.watchers)
    try:
        ts = proc.tracker.scripts["chk"]
        assert (ts.argv, ts.interval, ts.timeout) == ([str(check), "--flag"], 1.0, 2.0)
        assert (ts.rise, ts.fall, ts.init_fail, ts.user) == (2, 1, True, ME)
        rt = proc.instances["VI_1"]
        assert rt.router.priority == 70  # init_fail: failed from the start, weight -30
        assert await wait_until(lambda: (tmp_path / "n").exists(), 5.0)  # the script ran
    finally:
        await _close(proc)


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
    proc = _process(config)
    proc.tracker.start(proc.watchers)
    try:
        assert value.read_text().strip() == "5"  # init_file wrote it
        rt = proc.instances["VI_1"]
        assert rt.router.priority == 100 + 5 * 3
        (tmp_path / "other").write_text("4\n")
        assert await wait_until(lambda: rt.router.priority == 100 + 5 * 3 + 4 * 2, 5.0), \
            rt.router.priority
    finally:
        await _close(proc)


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
    proc = _process(config)
    proc.open_fifo()
    try:
        assert proc.fifo is not None and path.exists()
        proc.notifier.instance_changed("VI_1", "MASTER", 100, proc.instances["VI_1"].plan.notify)
        assert await wait_until(lambda: seen.exists() and seen.read_text()
                                == 'INSTANCE "VI_1" MASTER 100\n', 10.0)
    finally:
        await _close(proc)


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
    proc = _process(config)
    scripts = proc.instances["VI_1"].plan.notify
    calls_dir = tmp_path / "calls"
    try:
        for n, state in enumerate(("BACKUP", "MASTER", "FAULT", "STOP"), start=1):
            proc.notifier.instance_changed("VI_1", state, 90, scripts)
            # count finished calls only: a ".tmp" is a script still writing, which the STOP
            # that follows may end (a STOP cuts the running notify script short)
            assert await wait_until(lambda n=n: len(read_argv_log(calls_dir)) >= 2 * n, 10.0)
    finally:
        await _close(proc)
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
        proc = _process(config)
        scripts = proc.instances["VI_1"].plan.notify
        try:
            proc.notifier.instance_changed("VI_1", "BACKUP", 100, scripts)
            proc.notifier.instance_changed("VI_1", "MASTER", 100, scripts)
            assert await wait_until(lambda: len(list(out.iterdir())) == 2, 10.0)
        finally:
            await _close(proc)
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
    proc = _process(config)
    try:
        rt = proc.instances["VI_1"]
        proc.on_tracked("interface eth0", True)
        proc.on_tracked("interface eth1", True)
        assert rt.router.priority == 100
        proc.on_tracked("interface eth1", False)
        assert rt.router.priority == 70 and not rt.router.faults
        proc.on_tracked("interface eth0", False)  # its own interface: no weight, so FAULT
        assert rt.router.faults == {"interface eth0"}
    finally:
        await _close(proc)


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
        proc = _process(config)
        scripts = proc.instances["VI_1"].plan.notify
        try:
            proc.notifier.instance_changed("VI_1", "MASTER", 100, scripts)
            proc.notifier.instance_changed("VI_1", "BACKUP", 100, scripts)
            assert await wait_until((tmp / "ran-safe").exists, 10.0)
        finally:
            await _close(proc)
        assert not (tmp / "ran-unsafe").exists()  # world-writable and run as root: refused
        # without enable_script_security the same script runs
        config = load(text.replace("enable_script_security", ""))
        proc = _process(config)
        try:
            proc.notifier.instance_changed("VI_1", "MASTER", 100,
                                           proc.instances["VI_1"].plan.notify)
            assert await wait_until((tmp / "ran-unsafe").exists, 10.0)
        finally:
            await _close(proc)
    finally:
        shutil.rmtree(tmp)
