"""SMTP alerts: keepalived's message bytes, its defaults, and the bounded sender.

The expected mails are what keepalived 2.2.7 delivered to an aiosmtpd server in a namespace
(its Date aside); tests/interop/test_smtp_interop.py compares the two daemons live.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import threading
from pathlib import Path

import pytest

from pykeepalived.notify.smtp import (
    Alert,
    DeliveryError,
    Identity,
    SmtpSender,
    SmtpSettings,
    compose,
    identity,
    to_header,
)
from pykeepalived.notify.smtp_alerts import group_alert, instance_alert
from tests.unit.config.helpers import load
from tests.unit.notify._util import run_async, wait_until

DATE = "Tue, 01 Dec 2026 01:47:21 +0000"
IDENT = Identity(router_id="vm", email_from="ka@example.net", helo_name="vm")
TO = ("ops@example.com", "noc@example.org")

# Delivered by keepalived 2.2.7 (router_id unset on host "vm", the two recipients above).
KEEPALIVED_GROUP_BACKUP = (
    "Date: Tue, 01 Dec 2026 01:47:21 +0000\r\nFrom: ka@example.net\r\n"
    "Subject: [vm] VRRP Group G1 - Entering BACKUP state\r\nX-Mailer: Keepalived\r\n"
    "To: ops@example.com, noc@example.org\r\n\r\n"
    "=> All VRRP group instances are now in BACKUP state <=\r\n\r\n")
KEEPALIVED_INSTANCE_MASTER = (
    "Date: Tue, 01 Dec 2026 01:47:21 +0000\r\nFrom: ka@example.net\r\n"
    "Subject: [vm] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Keepalived\r\n"
    "To: ops@example.com, noc@example.org\r\n\r\n"
    "=> VRRP Instance is now owning VRRP VIPs <=\r\n\r\n")
KEEPALIVED_INSTANCE_BACKUP = (
    "Date: Tue, 01 Dec 2026 01:47:21 +0000\r\nFrom: ka@example.net\r\n"
    "Subject: [vm] VRRP Instance VI_2 - Entering BACKUP state\r\nX-Mailer: Keepalived\r\n"
    "To: ops@example.com, noc@example.org\r\n\r\n"
    "=> VRRP Instance is no longer owning VRRP VIPs <=\r\n\r\n")


def test_messages_are_keepalived_bytes() -> None:
    assert compose(IDENT, TO, group_alert("G1", "BACKUP"), DATE) == \
        KEEPALIVED_GROUP_BACKUP.encode()
    assert compose(IDENT, TO, instance_alert("VI_1", "MASTER"), DATE) == \
        KEEPALIVED_INSTANCE_MASTER.encode()
    assert compose(IDENT, TO, instance_alert("VI_2", "backup"), DATE) == \
        KEEPALIVED_INSTANCE_BACKUP.encode()


def test_date_header_is_rfc_5322_local_time() -> None:
    import email.utils

    text = compose(IDENT, TO, Alert("s", "b")).decode()
    date = text.split("\r\n", 1)[0]
    assert date.startswith("Date: ")
    assert email.utils.parsedate_to_datetime(date[6:]).tzinfo is not None


def test_lengths_are_keepalived_buffers() -> None:
    """A subject of 255 characters at most, a body of 511, a To header of 1023 that keeps
    whole addresses."""
    long = Alert("x" * 400, "y" * 900)
    text = compose(IDENT, ["a" * 600 + "@example.com", "b" * 500 + "@example.com"], long,
                   DATE).decode()
    subject = next(line for line in text.split("\r\n") if line.startswith("Subject: "))
    assert len(subject) == len("Subject: ") + 255
    assert "y" * 511 + "\r\n" in text and "y" * 512 not in text
    assert to_header(["a" * 600 + "@example.com", "b" * 500 + "@example.com"]) == \
        "a" * 600 + "@example.com"
    assert to_header(["a@example.com", "b@example.com"]) == "a@example.com, b@example.com"


def _settings(**kw: object) -> SmtpSettings:
    base: dict[str, object] = {"server": "192.0.2.25", "port": 25, "recipients": TO}
    base.update(kw)
    return SmtpSettings(**base)  # type: ignore[arg-type]


def test_identity_defaults_are_keepalived_local_name() -> None:
    """router_id, HELO and the sender's host default to the host's canonical name; the
    sender's user is the user running the daemon."""
    user = pwd.getpwuid(os.getuid()).pw_name
    got = identity(_settings(), lambda: "node1.example.net")
    assert got == Identity("node1.example.net", f"{user}@node1.example.net",
                           "node1.example.net")
    # configured values win, and the resolver is then not asked at all
    asked: list[int] = []

    def lookup() -> str:
        asked.append(1)
        return "node1.example.net"

    got = identity(_settings(router_id="r1", email_from="ka@example.org", helo_name="mx"),
                   lookup)
    assert got == Identity("r1", "ka@example.org", "mx") and not asked
    # no name known: keepalived's "[unknown]" router id and HELO localhost
    assert identity(_settings(), lambda: None) == Identity("[unknown]", f"{user}@localhost",
                                                           "localhost")


def test_global_smtp_keywords_make_the_mail(tmp_path: Path) -> None:
    config = load(tmp_path, """
global_defs {
    router_id lb-1
    notification_email {
        ops@example.com
        noc@example.org
    }
    notification_email_from keepalived@example.net
    smtp_server 192.0.2.25 2525
    smtp_helo_name mx.example.net
    smtp_connect_timeout 7
}
""").config
    settings = SmtpSettings.from_global_defs(config.global_defs)
    assert settings == SmtpSettings("192.0.2.25", 2525, TO, "keepalived@example.net",
                                    "mx.example.net", "lb-1", 7.0)
    ident = identity(settings, lambda: pytest.fail("nothing left to look up"))  # type: ignore[arg-type]
    text = compose(ident, settings.recipients, instance_alert("VI_1", "FAULT"), DATE).decode()
    assert text.startswith(f"Date: {DATE}\r\nFrom: keepalived@example.net\r\n"
                           "Subject: [lb-1] VRRP Instance VI_1 - Entering FAULT state\r\n")
    assert settings.where == "[192.0.2.25]:2525"


def test_defaults_port_25_and_30_seconds_and_no_mail_without_server_or_recipient(
        tmp_path: Path) -> None:
    both = load(tmp_path, "global_defs {\n notification_email {\n a@example.com\n }\n"
                " smtp_server 192.0.2.25\n}\n").config.global_defs
    settings = SmtpSettings.from_global_defs(both)
    assert settings is not None
    assert (settings.port, settings.connect_timeout) == (25, 30.0)
    assert settings.router_id is None and settings.email_from is None
    no_server = load(tmp_path / "a", "global_defs {\n notification_email {\n a@example.com\n"
                     " }\n}\n").config.global_defs
    no_rcpt = load(tmp_path / "b", "global_defs {\n smtp_server 192.0.2.25\n}\n"
                   ).config.global_defs
    assert SmtpSettings.from_global_defs(no_server) is None
    assert SmtpSettings.from_global_defs(no_rcpt) is None


# ------------------------------------------------------------------ the sender
class Transport:
    """A mail server the test steers: each call waits for ``gate`` and then fails with
    ``error`` or records the message."""

    def __init__(self) -> None:
        self.delivered: list[bytes] = []
        self.error: str | None = None
        self.gate = threading.Event()
        self.gate.set()
        self.calls = 0

    def __call__(self, settings: SmtpSettings, ident: Identity, message: bytes) -> None:
        self.calls += 1
        assert self.gate.wait(20), "the test never opened the gate"
        if self.error is not None:
            raise DeliveryError(self.error)
        self.delivered.append(message)

    def subjects(self) -> list[str]:
        return [m.decode().split("Subject: ", 1)[1].split("\r\n", 1)[0]
                for m in self.delivered]


def _sender(transport: Transport, limit: int = 64) -> SmtpSender:
    return SmtpSender(_settings(router_id="r1", email_from="k@example.net", helo_name="h"),
                      limit=limit, transport=transport, lookup=lambda: None)


@run_async
async def test_send_returns_at_once_while_the_server_hangs() -> None:
    """send() never waits for the server: a hung attempt holds only the worker."""
    transport = Transport()
    transport.gate.clear()
    sender = _sender(transport)
    for i in range(10):
        sender.send(Alert(f"n{i}", "b"))  # would block the test if send() waited
    assert await wait_until(lambda: transport.calls == 1, 5.0)
    assert sender.pending == 10 and transport.delivered == []
    transport.gate.set()
    assert await wait_until(lambda: len(transport.delivered) == 10, 5.0)
    assert transport.subjects() == [f"[r1] n{i}" for i in range(10)]  # in order
    await sender.aclose(1.0)
    assert (sender.sent, sender.lost) == (10, 0)


@run_async
async def test_a_full_queue_drops_the_oldest_and_logs_once(
        caplog: pytest.LogCaptureFixture) -> None:
    transport = Transport()
    transport.gate.clear()
    sender = _sender(transport, limit=3)
    sender.send(Alert("first", "b"))
    assert await wait_until(lambda: transport.calls == 1, 5.0)  # "first" is being sent
    with caplog.at_level(logging.WARNING, logger="pykeepalived.notify.smtp"):
        for i in range(8):
            sender.send(Alert(f"n{i}", "b"))
        transport.gate.set()
        assert await wait_until(lambda: len(transport.delivered) == 4, 5.0)
        await sender.aclose(1.0)
    # the newest three waited; n0..n4 were dropped, oldest first
    assert transport.subjects() == ["[r1] first", "[r1] n5", "[r1] n6", "[r1] n7"]
    assert sender.lost == 5
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "queue" in errors[0] and "oldest was dropped" in errors[0]
    summary = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(summary) == 1 and "5 alerts lost" in summary[0], summary


@run_async
async def test_failures_are_logged_once_with_cause_then_counted(
        caplog: pytest.LogCaptureFixture) -> None:
    transport = Transport()
    transport.error = "connection refused"
    sender = _sender(transport)
    with caplog.at_level(logging.DEBUG, logger="pykeepalived.notify.smtp"):
        for i in range(5):
            sender.send(Alert(f"n{i}", "b"))
        assert await wait_until(lambda: transport.calls == 5, 5.0)
        assert await wait_until(lambda: sender.lost == 5, 5.0)
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert errors == ["SMTP alert not sent to [192.0.2.25]:25: connection refused (until "
                          "one goes through, further losses are counted, not logged)"]
        transport.error = None  # the server is back: the run of losses is summed up
        sender.send(Alert("back", "b"))
        assert await wait_until(lambda: sender.sent == 1, 5.0)
        await sender.aclose(1.0)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["SMTP alerts to [192.0.2.25]:25: 5 alerts lost (first: connection "
                        "refused), a mail went through again"]
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1


@run_async
async def test_close_is_bounded_and_counts_what_was_left(
        caplog: pytest.LogCaptureFixture) -> None:
    transport = Transport()
    transport.gate.clear()  # hung for good
    sender = _sender(transport)
    for i in range(3):
        sender.send(Alert(f"n{i}", "b"))
    assert await wait_until(lambda: transport.calls == 1, 5.0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with caplog.at_level(logging.WARNING, logger="pykeepalived.notify.smtp"):
        await sender.aclose(0.2)
    assert loop.time() - started < 5.0  # bounded by its timeout, not by the server
    assert sender.lost == 3 and sender.pending == 0
    assert [r.getMessage() for r in caplog.records] == [
        "SMTP alerts to [192.0.2.25]:25: 3 not sent, still waiting for the server at "
        "shutdown"]
    sender.send(Alert("late", "b"))  # after close: ignored, nothing queued
    assert sender.pending == 0
    transport.gate.set()


def test_queue_needs_room() -> None:
    with pytest.raises(ValueError):
        _sender(Transport(), limit=0)
