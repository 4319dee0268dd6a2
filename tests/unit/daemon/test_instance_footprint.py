"""What each instance of the VRRP process holds for its whole life: no attribute dictionary
per runtime, one copy of what many instances share, nothing made before it is used.

(1,000 instances make each of these a few hundred KiB of the process; the README's
benchmark section has the figures.)
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.daemon.vrrp_main import VrrpProcess
from pykeepalived.net import addresses
from pykeepalived.net.addresses import VipSpec
from pykeepalived.vrrp.actions import SendAdvert
from pykeepalived.vrrp.stats import DropLog
from tests.unit.daemon.keyword_helpers import load

SRC = str(Path(__file__).resolve().parents[3] / "src")


def conf(count: int, auth: str = "") -> str:
    return "".join(f"""
vrrp_instance VI_{vrid} {{
    interface eth{vrid % 2}
    virtual_router_id {vrid}
    priority 100
    {auth}
    virtual_ipaddress {{
        192.0.2.{vrid}/32
    }}
}}
""" for vrid in range(1, count + 1))


@pytest.fixture
def proc() -> Iterator[VrrpProcess]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        built = VrrpProcess(load(conf(6)))
        built.build()
        yield built
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def test_runtimes_have_no_attribute_dictionary(proc: VrrpProcess) -> None:
    for rt in proc.instances.values():
        assert not hasattr(rt, "__dict__")
        assert not hasattr(rt.router, "__dict__")


def test_instances_with_the_same_destinations_share_their_addresses(
        proc: VrrpProcess) -> None:
    pairs = {id(rt.dst_ips) for rt in proc.instances.values()}
    assert len(pairs) == 1  # every instance sends to 224.0.0.18
    rt = proc.instances["VI_1"]
    assert [(text, str(address)) for text, address in rt.dst_ips] == [
        ("224.0.0.18", "224.0.0.18")]


def test_drop_logs_make_their_tables_at_the_first_drop(proc: VrrpProcess,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    router = proc.instances["VI_1"].router
    assert router._drops._last is None and router._drops._suppressed is None
    drops = DropLog(logging.getLogger("test.footprint"))
    with caplog.at_level(logging.WARNING, "test.footprint"):
        assert drops.drop("ttl", 0.0, "dropped %s", "one")
        assert not drops.drop("ttl", 1.0, "dropped %s", "two")  # rate-limited
        assert drops.drop("ttl", 61.0, "dropped %s", "three")
    assert [r.getMessage() for r in caplog.records] == [
        "dropped one", "dropped three (1 similar packets dropped without a log line)"]


def test_the_priority_zero_advert_is_made_when_first_sent(proc: VrrpProcess) -> None:
    router = proc.instances["VI_1"].router
    assert router._advert_zero is None
    router._send_advert(0)
    sent = [a for a in router.actions() if isinstance(a, SendAdvert)]
    assert [a.advert.priority for a in sent] == [0]
    assert sent[0].advert.addresses == router.vips
    router._send_advert(0)
    again = [a for a in router.actions() if isinstance(a, SendAdvert)]
    assert again[0] is sent[0]  # made once


PROBE = """
import asyncio, sys
from pykeepalived.config import load_config_text
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.daemon.vrrp_main import VrrpProcess
from pykeepalived.net import addresses
from pykeepalived.net.addresses import VipSpec
asyncio.set_event_loop(asyncio.new_event_loop())
host = SystemInfo(interfaces={"eth0": 1, "eth1": 1}, users={"root"}, groups={"root"},
                  probe_files=False)
proc = VrrpProcess(load_config_text(sys.stdin.read(), system=host).config)
proc.build()
for group in proc.all_groups():
    group.start(0.0)
print("hmac" in sys.modules, "_hashlib" in sys.modules)
"""


@pytest.mark.parametrize(("auth", "loaded"), [
    ("", "False False"),
    ("authentication {\n        auth_type PASS\n        auth_pass secret\n    }", "False False"),
])
def test_instances_load_no_hmac_until_they_check_a_password(auth: str, loaded: str) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE], input=conf(2, auth),
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=SRC))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-2:] == loaded.split()


def test_announcers_have_no_attribute_dictionary(proc: VrrpProcess) -> None:
    announcers = proc.instances["VI_1"].announcers
    assert [(a.ifname, a.addresses) for a in announcers] == [("eth1", ("192.0.2.1",))]
    assert not hasattr(announcers[0], "__dict__")


def test_a_vip_s_netlink_requests_are_kept_as_one_pair() -> None:
    spec = VipSpec("192.0.2.77/24", "lo", brd="+", label="lo:vip")  # add != delete
    addresses._ENCODED.pop((spec, 1), None)
    add = addresses._encoded(spec, 1, False)
    delete = addresses._encoded(spec, 1, True)
    assert addresses._ENCODED[(spec, 1)] == (add, delete)
    assert add == addresses.encode_addr(spec, 1)
    assert delete == addresses.encode_addr(spec, 1, delete=True) != add


LAZY = ("pykeepalived.track.file", "pykeepalived.track.script", "pykeepalived.net.vmac",
        "pykeepalived.daemon.dumps")


def test_what_an_instance_does_not_use_is_not_loaded() -> None:
    """No vrrp_script, track_file, use_vmac nor USR1/USR2: their modules stay out."""
    probe = PROBE.replace('print("hmac" in sys.modules, "_hashlib" in sys.modules)',
                          f"print(*[m in sys.modules for m in {LAZY!r}])")
    proc = subprocess.run([sys.executable, "-c", probe], input=conf(2), capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, PYTHONPATH=SRC))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-len(LAZY):] == ["False"] * len(LAZY)
