"""Checker keywords the daemon acts on, from keepalived.conf text: where and when each check
runs (the health state machine on a fake clock), what the checker process logs, MISC_CHECK's
script and FILE_CHECK's file. What the checks put on the wire is in
tests/netns/test_lb_keywords_checkers.py.

``config.support`` names these tests as the evidence of its "acted" rows.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import tempfile
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest

from pykeepalived.check.result import CheckResult, Target
from pykeepalived.daemon.check_main import CheckerProcess, all_checkers
from tests.unit.check.lvs_helpers import KO, OK, core, drive, load
from tests.unit.daemon.keyword_helpers import ME
from tests.unit.daemon.test_check_process import FakeBackend
from tests.unit.notify._util import run_async, wait_until, write_script

CONNECTING = ["TCP_CHECK", "HTTP_GET", "SSL_GET", "SMTP_CHECK", "DNS_CHECK", "UDP_CHECK",
              "PING_CHECK"]
URL = "url {\n path /\n }"


def _checker_text(kind: str, lines: list[str], extra: str = "") -> str:
    body = "\n".join(f"            {line}" for line in lines)
    return f"""
virtual_server 203.0.113.10 80 {{
    protocol TCP
    delay_loop 60
    real_server 198.51.100.1 80 {{
        {kind} {{
{body}
            {extra}
        }}
    }}
}}
"""


@pytest.mark.parametrize("kind", [*CONNECTING, "MISC_CHECK"])
def test_where_and_when_each_check_runs(kind: str) -> None:
    connection = ["connect_ip 192.0.2.2", "connect_port 8080", "bindto 192.0.2.3",
                  "bind_port 40123", "bind_if eth0", "fwmark 42", "connect_timeout 3"]
    timing = ["warmup 8", "retry 2", "delay_before_retry 1.5", "delay_loop 6", "alpha yes"]
    if kind == "MISC_CHECK":
        text = _checker_text(kind, timing, "misc_path /bin/true")
    else:
        text = _checker_text(kind, connection + timing, URL if "GET" in kind else "")
    c = core(load(text))
    [ck] = c.checkers()
    if kind != "MISC_CHECK":
        assert ck.target == Target(ip_address("192.0.2.2"), 8080, 3.0, ip_address("192.0.2.3"),
                                   40123, "eth0", 42)
    c.start(0.0)
    assert c.services()[0].destinations == ()  # alpha: down until a check passes
    attempts: list[tuple[float, str]] = []
    # up at the first attempt (bootstrap 1 s + half the warmup), every delay_loop after
    assert drive(c, 11.0, lambda ck, now: OK, attempts) == [(5.0, "198.51.100.1 UP"),
                                                            (5.0, "quorum UP")]
    # a failure is retried twice, delay_before_retry apart, before it counts
    events = drive(c, 19.0, lambda ck, now: KO, attempts)
    assert [t for t, _ in attempts] == [5.0, 11.0, 17.0, 18.5]
    assert events == [(17.0, "198.51.100.1 failed retrying"),
                      (18.5, "198.51.100.1 failed retrying")]
    assert drive(c, 25.0, lambda ck, now: KO, attempts) == [(20.0, "198.51.100.1 DOWN"),
                                                            (20.0, "quorum DOWN")]
    assert c.next_time() == 26.0  # back to delay_loop


@pytest.mark.parametrize("kind", ["HTTP_GET", "SSL_GET"])
def test_nb_get_retry_is_retry(kind: str) -> None:
    c = core(load(_checker_text(kind, ["nb_get_retry 3", "delay_before_retry 1", "warmup 0"],
                                URL)))
    c.start(0.0)
    assert drive(c, 4.5, lambda ck, now: KO) == [
        (1.0, "198.51.100.1 failed retrying"), (2.0, "198.51.100.1 failed retrying"),
        (3.0, "198.51.100.1 failed retrying"), (4.0, "198.51.100.1 DOWN"),
        (4.0, "quorum DOWN")]


def test_smtp_check_host_blocks_are_checkers_of_their_own() -> None:
    config = load("""
virtual_server 203.0.113.10 25 {
    protocol TCP
    real_server 198.51.100.1 25 {
        SMTP_CHECK {
            helo_name lb.example.test
            host {
                connect_ip 192.0.2.2
                connect_port 2525
                bindto 192.0.2.3
                bind_port 40123
                bind_if eth0
                fwmark 42
                connect_timeout 3
                retry 4
                delay_before_retry 2
                warmup 0
                delay_loop 9
                alpha yes
                log_all_failures yes
            }
            host {
                connect_ip 192.0.2.4
            }
        }
        SMTP_CHECK {
            connect_port 587
            host {
                connect_ip 192.0.2.5
            }
        }
    }
}
""")
    checks = core(config).checkers()
    assert [ck.target for ck in checks] == [
        # the first host stands for a checker that has no connection option of its own
        Target(ip_address("192.0.2.2"), 2525, 3.0, ip_address("192.0.2.3"), 40123, "eth0",
               42),
        Target(ip_address("192.0.2.4"), 25, 5.0),
        Target(ip_address("198.51.100.1"), 587, 5.0),
        Target(ip_address("192.0.2.5"), 25, 5.0)]
    first, second = checks[0].spec, checks[1].spec
    for spec in (first, second):  # the rest of what a host block says is the checker's
        assert (spec.helo_name, spec.retry, spec.delay_before_retry, spec.warmup,
                spec.delay_loop, spec.alpha, spec.log_all_failures) == (
            "lb.example.test", 4, 2.0, 0.0, 9.0, True, True)


def _failing_process(text: str) -> tuple[CheckerProcess, dict[str, bool]]:
    state = {"ok": True}

    async def check(spec: Any, target: Target, context: Any = None) -> CheckResult:
        return OK if state["ok"] else KO

    config = load(text)
    kinds = {ck.kind for vs in config.virtual_servers for rs in vs.real_servers
             for ck in rs.checkers}
    return CheckerProcess(config, FakeBackend(), dict.fromkeys(kinds, check),
                          bootstrap=0.05), state


async def _failures_logged(proc: CheckerProcess, state: dict[str, bool],
                           caplog: pytest.LogCaptureFixture) -> tuple[int, int]:
    """(failure lines while the checker was up, failure lines after it went down)."""
    await proc.start()
    try:
        assert await wait_until(lambda: proc.status()[0]["real_servers"][0]["checks"][0]
                                ["last"] is not None, 5.0)
        caplog.clear()
        state["ok"] = False
        assert await wait_until(lambda: not proc.status()[0]["real_servers"][0]["alive"], 5.0)
        while_up = sum("failed" in r.getMessage() for r in caplog.records)
        caplog.clear()
        await asyncio.sleep(0.5)  # down: a few more rounds of retries
        return while_up, sum("failed" in r.getMessage() for r in caplog.records)
    finally:
        await proc.stop()


@pytest.mark.parametrize("kind", [*CONNECTING, "MISC_CHECK"])
@run_async
async def test_log_all_failures_logs_each_failure_while_the_checker_is_up(
        kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pykeepalived.check")
    extra = "misc_path /bin/true" if kind == "MISC_CHECK" else URL if "GET" in kind else ""
    lines = ["retry 2", "delay_before_retry 0.05", "delay_loop 0.05", "warmup 0"]
    quiet, state = _failing_process(_checker_text(kind, lines, extra))
    # keepalived logs nothing of a failed attempt that a retry follows...
    assert await _failures_logged(quiet, state, caplog) == (0, 0)
    # ...unless log_all_failures (or checker_log_all_failures): each failed attempt while
    # the checker is up, none after it went down
    loud, state = _failing_process(_checker_text(kind, [*lines, "log_all_failures yes"], extra))
    up, down = await _failures_logged(loud, state, caplog)
    assert (up, down) == (2, 0)
    text = "global_defs {\n    checker_log_all_failures\n}\n" + _checker_text(kind, lines, extra)
    every, state = _failing_process(text)
    assert await _failures_logged(every, state, caplog) == (2, 0)


@run_async
async def test_misc_check_keywords(tmp_path: Path) -> None:
    dynamic = write_script(tmp_path / "weight.sh", "exit 12\n")
    slow = write_script(tmp_path / "slow.sh", "sleep 30\n")
    config = load(f"""
global_defs {{
    script_user {ME}
}}
virtual_server 203.0.113.10 80 {{
    protocol TCP
    real_server 198.51.100.1 80 {{
        weight 5
        MISC_CHECK {{
            misc_path "{dynamic} --fast"
            misc_dynamic
        }}
    }}
    real_server 198.51.100.2 80 {{
        MISC_CHECK {{
            misc_path {slow}
            misc_timeout 1
        }}
    }}
}}
""")
    proc = CheckerProcess(config, FakeBackend(), all_checkers(), bootstrap=0.05)
    by_rs = {str(ck.rs.address): ck for ck in proc.core.checkers()}
    assert await proc.attempt(by_rs["198.51.100.1"]) == CheckResult(
        True, "exited with status 12: weight 10", weight=10)  # misc_dynamic: status - 2
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await proc.attempt(by_rs["198.51.100.2"]) == CheckResult(
        False, "timed out after 1 s (process group killed)")
    assert loop.time() - started < 5.0  # misc_timeout, not delay_loop (60 s)
    await proc.runner.close()


@run_async
async def test_misc_check_without_misc_timeout_runs_for_the_virtual_servers_delay_loop(
        tmp_path: Path) -> None:
    """keepalived bounds the script by misc_timeout, else by the virtual server's
    delay_loop (not the checker's own)."""
    slow = write_script(tmp_path / "slow.sh", "sleep 30\n")
    config = load(f"""
virtual_server 203.0.113.10 80 {{
    protocol TCP
    delay_loop 1
    real_server 198.51.100.1 80 {{
        MISC_CHECK {{
            misc_path {slow}
            delay_loop 100
        }}
    }}
}}
""")
    proc = CheckerProcess(config, FakeBackend(), all_checkers(), bootstrap=0.05)
    [ck] = proc.core.checkers()
    try:
        result = await asyncio.wait_for(proc.attempt(ck), 10.0)
    finally:
        await proc.runner.close()
    assert result == CheckResult(False, "timed out after 1 s (process group killed)")


@pytest.mark.skipif(os.geteuid() != 0, reason="running a script as another user needs root")
@run_async
async def test_misc_check_user_runs_the_script_as_that_user() -> None:
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("needs user nobody")
    shared = Path(tempfile.mkdtemp(prefix="pykeepalived-misc-"))
    try:
        shared.chmod(0o777)
        script = write_script(shared / "whoami.sh", f"id -un > {shared}/user\n")
        config = load(f"""
virtual_server 203.0.113.10 80 {{
    protocol TCP
    real_server 198.51.100.1 80 {{
        MISC_CHECK {{
            misc_path {script}
            user nobody
        }}
    }}
}}
""")
        proc = CheckerProcess(config, FakeBackend(), all_checkers(), bootstrap=0.05)
        [ck] = proc.core.checkers()
        assert (await proc.attempt(ck)).ok
        assert (shared / "user").read_text().strip() == "nobody"
        await proc.runner.close()
    finally:
        for entry in shared.iterdir():
            entry.unlink()
        shared.rmdir()


@run_async
async def test_file_check_keywords(tmp_path: Path) -> None:
    path = tmp_path / "weight"
    path.write_text("3\n")
    config = load(f"""
track_file tf {{
    file {path}
    weight 1
}}
virtual_server 203.0.113.10 80 {{
    protocol TCP
    real_server 198.51.100.1 80 {{
        weight 10
        FILE_CHECK {{
            track_file tf
            weight 2 reverse
        }}
    }}
    real_server 198.51.100.2 80 {{
        weight 10
        FILE_CHECK {{
            track_file tf
        }}
    }}
}}
""")
    proc = CheckerProcess(config, FakeBackend(), all_checkers(), bootstrap=0.05)
    by_rs = {str(ck.rs.address): ck for ck in proc.core.checkers()}
    assert (await proc.attempt(by_rs["198.51.100.1"])).weight == -6  # 3 x 2, reversed
    assert (await proc.attempt(by_rs["198.51.100.2"])).weight == 3  # the block's weight 1
    await proc.runner.close()


@run_async
async def test_file_check_acts_on_a_change_of_the_file_at_once(tmp_path: Path) -> None:
    weight, gate = tmp_path / "weight", tmp_path / "gate"
    weight.write_text("3\n")
    gate.write_text("0\n")
    config = load(f"""
track_file weight {{
    file {weight}
}}
track_file gate {{
    file {gate}
    weight 0
}}
virtual_server 203.0.113.10 80 {{
    protocol TCP
    delay_loop 60
    real_server 198.51.100.1 80 {{
        weight 10
        FILE_CHECK {{
            track_file weight
            weight 2
        }}
    }}
    real_server 198.51.100.2 80 {{
        FILE_CHECK {{
            track_file gate
        }}
    }}
}}
""")
    backend = FakeBackend()
    proc = CheckerProcess(config, backend, all_checkers(), bootstrap=0.05)

    def replace(path: Path, text: str) -> None:
        new = path.with_suffix(".new")
        new.write_text(text)
        os.rename(new, path)

    await proc.start()
    try:
        # the files are read at start (10 + 3 x 2), not after delay_loop's warmup
        assert backend.pool() == [("198.51.100.1", 16), ("198.51.100.2", 1)]
        replace(weight, "-1\n")
        assert await wait_until(lambda: ("198.51.100.1", 8) in backend.pool(), 5.0), \
            backend.pool()
        replace(gate, "1\n")  # weight 0: anything but 0 fails
        assert await wait_until(lambda: backend.pool() == [("198.51.100.1", 8)], 5.0)
        replace(gate, "0\n")
        assert await wait_until(lambda: len(backend.pool()) == 2, 5.0)
        # reloaded, the same files are watched by the new configuration's checkers
        proc.apply_config(load(f"""
track_file weight {{
    file {weight}
}}
virtual_server 203.0.113.10 80 {{
    protocol TCP
    delay_loop 60
    real_server 198.51.100.1 80 {{
        weight 10
        FILE_CHECK {{
            track_file weight
            weight 2
        }}
    }}
}}
"""))
        assert await wait_until(lambda: backend.pool() == [("198.51.100.1", 8)], 5.0)
        replace(weight, "1\n")
        assert await wait_until(lambda: backend.pool() == [("198.51.100.1", 12)], 5.0)
    finally:
        await proc.stop()
