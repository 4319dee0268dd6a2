"""The checker process mails as keepalived's checkers do: per checker change, with the real
server's state in the subject, quorum changes of a virtual server with smtp_alert, nothing at
stop. Fake checks and a fake backend, as test_check_process.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pykeepalived.check.result import CheckResult, Target
from pykeepalived.daemon.check_main import CheckerProcess
from tests.unit.config.helpers import load
from tests.unit.daemon.test_check_process import FakeBackend
from tests.unit.notify._util import run_async, wait_until
from tests.unit.notify.test_smtp_alerts import Sender

RS1 = "Realserver [198.51.100.1]:tcp:80 of virtual server [203.0.113.10]:tcp:80"


def config(tmp: Path, global_lines: str = "", vs_lines: str = "", rs1_lines: str = "",
           checker: str = "TCP_CHECK {\n connect_timeout 1\n retry 0\n }") -> Any:
    text = f"""
global_defs {{
    router_id lb-1
    notification_email {{
        ops@example.com
    }}
    smtp_server 192.0.2.25
    {global_lines}
}}
virtual_server 203.0.113.10 80 {{
    delay_loop 0.1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    {vs_lines}
    real_server 198.51.100.1 80 {{
        {rs1_lines}
        {checker}
    }}
    real_server 198.51.100.2 80 {{
        TCP_CHECK {{
            connect_timeout 1
            retry 0
        }}
    }}
}}
"""
    result = load(tmp, text)
    assert not result.errors, [str(d) for d in result.errors]
    return result.config


class Steered:
    """A check whose result the test sets per address (default up)."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.calls = 0

    async def __call__(self, spec: Any, target: Target, context: Any = None) -> CheckResult:
        self.calls += 1
        ok = str(target.address) not in self.down
        return CheckResult(ok, "connected" if ok else "connection refused")


async def _run(cfg: Any, check: Steered, kinds: tuple[str, ...] = ("TCP_CHECK",)
               ) -> tuple[CheckerProcess, Sender]:
    proc = CheckerProcess(cfg, FakeBackend(), dict.fromkeys(kinds, check), bootstrap=0.01)
    sender = Sender()
    proc.alerts.sender = sender  # type: ignore[assignment]
    await proc.start()
    return proc, sender


@run_async
async def test_real_server_down_and_up_and_quorum_are_mailed(tmp_path: Path) -> None:
    check = Steered()
    proc, sender = await _run(config(tmp_path, vs_lines="quorum 2\n omega\n smtp_alert"),
                              check)
    try:
        assert await wait_until(lambda: check.calls >= 4, 3.0)
        assert sender.alerts == []  # first successes of checkers that start up: no mail
        check.down.add("198.51.100.1")
        assert await wait_until(lambda: len(sender.alerts) == 2, 3.0)
        check.down.clear()
        assert await wait_until(lambda: len(sender.alerts) == 4, 3.0)
    finally:
        await proc.stop()
    # keepalived's order: the quorum is updated (and mailed) inside the real server's
    # change, before the checker mails; omega's shutdown reports are not mailed (keepalived's
    # never leave either)
    assert [(a.subject, a.body) for a in sender.alerts] == [
        ("Virtualserver [203.0.113.10]:tcp:80 - DOWN", "=> Lost quorum 2+0=2 <= 1 <="),
        (f"{RS1} - DOWN", "=> TCP CHECK failed on service <="),
        ("Virtualserver [203.0.113.10]:tcp:80 - UP", "=> Gained quorum 2+0=2 <= 2 <="),
        (f"{RS1} - UP", "=> TCP CHECK succeed on service <="),
    ]


@run_async
async def test_retries_and_smtp_alert_off(tmp_path: Path) -> None:
    """A failure with retries left mails nothing; a real server with smtp_alert off and a
    virtual server without it mail nothing."""
    check = Steered()
    cfg = config(tmp_path, rs1_lines="smtp_alert off",
                 checker="TCP_CHECK {\n connect_timeout 1\n retry 0\n }")
    proc, sender = await _run(cfg, check)
    try:
        check.down.update({"198.51.100.1", "198.51.100.2"})
        assert await wait_until(lambda: len(sender.alerts) == 1, 3.0)
    finally:
        await proc.stop()
    assert [a.subject for a in sender.alerts] == [
        "Realserver [198.51.100.2]:tcp:80 of virtual server [203.0.113.10]:tcp:80 - DOWN"]
    check = Steered()
    proc, sender = await _run(config(tmp_path / "r", checker="TCP_CHECK {\n retry 50\n"
                                     " delay_before_retry 0.05\n }"), check)
    try:
        assert await wait_until(lambda: check.calls >= 2, 3.0)
        check.down.add("198.51.100.1")
        calls = check.calls
        assert await wait_until(lambda: check.calls >= calls + 5, 3.0)  # retrying
        assert sender.alerts == []
    finally:
        await proc.stop()


class Split(Steered):
    """Results per checker kind and address."""

    async def __call__(self, spec: Any, target: Target, context: Any = None) -> CheckResult:
        self.calls += 1
        return CheckResult(f"{spec.kind} {target.address}" not in self.down, "x")


@pytest.mark.parametrize(("extra", "expected"), [("", 2), ("no_checker_emails", 1)])
@run_async
async def test_every_checker_change_mails_unless_no_checker_emails(
        tmp_path: Path, extra: str, expected: int) -> None:
    """Two checkers on one real server: the second failure does not change the server,
    keepalived mails it anyway (subject still DOWN), unless no_checker_emails."""
    two = ("TCP_CHECK {\n connect_timeout 1\n retry 0\n }\n"
           "PING_CHECK {\n connect_timeout 1\n retry 0\n }")
    check = Split()
    proc, sender = await _run(config(tmp_path, extra, checker=two), check,
                              ("TCP_CHECK", "PING_CHECK"))
    try:
        assert await wait_until(lambda: check.calls >= 6, 3.0)
        check.down.add("TCP_CHECK 198.51.100.1")
        assert await wait_until(lambda: len(sender.alerts) == 1, 3.0)
        check.down.add("PING_CHECK 198.51.100.1")
        assert await wait_until(lambda: len(sender.alerts) == expected, 3.0)
        calls = check.calls
        assert await wait_until(lambda: check.calls >= calls + 6, 3.0)
    finally:
        await proc.stop()
    assert [(a.subject, a.body) for a in sender.alerts] == [
        (f"{RS1} - DOWN", "=> TCP CHECK failed on service <="),
        (f"{RS1} - DOWN", "=> ICMP CHECK failed on service <=")][:expected]
