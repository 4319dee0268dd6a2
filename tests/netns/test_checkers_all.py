"""Every checker kind through the registry at once, each against its real server in the lab,
and MISC_CHECK's script running where the checks run (the load balancer's namespace)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.check import CHECKERS, CheckContext, check_once
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.config.model_lvs import (
    Checker,
    DnsCheck,
    FileCheck,
    HttpGet,
    MiscCheck,
    PingCheck,
    SmtpCheck,
    SslGet,
    TcpCheck,
    UdpCheck,
    Url,
)
from pykeepalived.config.model_vrrp import VrrpTrackFile

from .checker_lab import RS4, RS6, CheckerLab, make_lab, next_port, servers_stopped, target
from .checker_pki import make_pki
from .test_checkers_protocols import start_dnsmasq

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def world() -> Iterator[CheckerLab]:
    yield from make_lab()


@pytest.fixture
def net(world: CheckerLab) -> Iterator[CheckerLab]:
    yield from servers_stopped(world)


def bash_connect(tmp_path: Path, address: str, port: int, code: int = 0) -> Path:
    """A script that exits ``code`` when it can open a TCP connection, 1 when it cannot."""
    return _bash(tmp_path / f"connect{port}-{code}",
                 f"exec 3<>/dev/tcp/{address}/{port} 2>/dev/null || exit 1\nexit {code}\n")


def _bash(path: Path, body: str) -> Path:
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)
    return path


def test_misc_check_script_runs_in_the_checkers_namespace(net: CheckerLab,
                                                          tmp_path: Path) -> None:
    port = next_port()
    net.serve("http", port)
    up = bash_connect(tmp_path, RS4, port)
    down = bash_connect(tmp_path, RS4, port + 1000)
    weighted = _bash(tmp_path / "weighted", f"exec 3<>/dev/tcp/{RS4}/{port} || exit 1\n"
                     "exit 12\n")
    misc = CHECKERS["MISC_CHECK"]
    assert net.run(misc(MiscCheck(misc_path=str(up), misc_timeout=5), target(RS4, None))) == \
        CheckResult(True, "exited with status 0")
    assert net.run(misc(MiscCheck(misc_path=str(down), misc_timeout=5), target(RS4, None))) \
        == CheckResult(False, "exited with status 1")
    assert net.run(misc(MiscCheck(misc_path=str(weighted), misc_timeout=5, misc_dynamic=True),
                        target(RS4, None))) == \
        CheckResult(True, "exited with status 12: weight 10", weight=10)


def test_every_kind_at_once(net: CheckerLab, tmp_path: Path) -> None:
    http, https, smtp, dns, udp = (next_port() for _ in range(5))
    pki = make_pki(tmp_path)
    net.serve("http", http, host=RS6)
    net.serve("https", https, "--cert", str(pki.www[0]), "--key", str(pki.www[1]))
    net.serve("smtp", smtp)
    net.serve("udp-echo", udp)
    start_dnsmasq(net, dns)
    weight_file = tmp_path / "weight"
    weight_file.write_text("4\n")
    context = CheckContext(track_files={"w": VrrpTrackFile("w", str(weight_file), weight=5)})
    script = bash_connect(tmp_path, RS4, smtp, code=7)
    checks: list[tuple[Checker, Target]] = [
        (TcpCheck(), target(RS6, http)),
        (HttpGet(url=[Url(path="/")]), target(RS6, http)),
        (SslGet(url=[Url(path="/")]), target(RS4, https)),
        (SmtpCheck(), target(RS4, smtp)),
        (DnsCheck(type="A", name="www.example.test"), target(RS4, dns)),
        (UdpCheck(require_reply=True), target(RS4, udp)),
        (PingCheck(), target(RS6, None)),
        (MiscCheck(misc_path=str(script), misc_timeout=5, misc_dynamic=True), target(RS4, None)),
        (FileCheck(track_file="w"), target(RS4, None)),
    ]
    assert {spec.kind for spec, _ in checks} == set(CHECKERS)

    async def together() -> list[CheckResult]:
        return list(await asyncio.gather(*(check_once(spec, where, context)
                                           for spec, where in checks)))

    results = net.run(together(), limit=20)
    assert all(result.ok for result in results), results
    assert [result.weight for result in results] == [None] * 7 + [5, 20]
