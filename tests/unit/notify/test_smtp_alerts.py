"""Which alerts keepalived mails and when: texts, the per-block defaults, VRRP dedup rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pykeepalived.notify.notifier import Notifier, NotifyScripts
from pykeepalived.notify.script import ScriptRunner
from pykeepalived.notify.smtp import Alert
from pykeepalived.notify.smtp_alerts import (
    VrrpAlerts,
    checker_alert,
    checker_mail_due,
    group_alert,
    instance_alert,
    quorum_alert,
)
from tests.unit.config.helpers import instance, load

from ._util import run_async

MAIL = """
global_defs {
    notification_email {
        ops@example.com
    }
    smtp_server 192.0.2.25
    %s
}
"""


class Sender:
    """Collects what would be sent."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def reconfigure(self, settings: object) -> None:
        pass

    async def aclose(self, timeout: float) -> None:
        pass

    def subjects(self) -> list[str]:
        return [a.subject for a in self.alerts]


def test_vrrp_texts_are_keepalived_vrrp_notify() -> None:
    assert instance_alert("VI_1", "MASTER") == Alert(
        "VRRP Instance VI_1 - Entering MASTER state",
        "=> VRRP Instance is now owning VRRP VIPs <=")
    assert instance_alert("VI_1", "BACKUP").body == \
        "=> VRRP Instance is no longer owning VRRP VIPs <="
    assert instance_alert("VI_1", "FAULT") == Alert(
        "VRRP Instance VI_1 - Entering FAULT state",
        "=> VRRP Instance is no longer owning VRRP VIPs <=")
    assert instance_alert("VI_1", "DELETED") == Alert("VRRP Instance VI_1 - Deleted",
                                                      "=> VRRP Deleted at reload <=")
    assert instance_alert("VI_1", "STOP") == Alert("VRRP Instance VI_1 - Stopping",
                                                   "=> VRRP Instance stopping <=")
    assert group_alert("G", "FAULT") == Alert(
        "VRRP Group G - Entering FAULT state",
        "=> All VRRP group instances are now in FAULT state <=")
    assert group_alert("G", "MASTER").body == \
        "=> All VRRP group instances are now in MASTER state <="


def test_checker_texts_are_keepalived_check_files() -> None:
    rs, vs = "[198.51.100.4]:tcp:80", "[192.0.2.15]:tcp:80"
    down = checker_alert("TCP_CHECK", rs, vs, up=False, rs_alive=False)
    assert down == Alert("Realserver [198.51.100.4]:tcp:80 of virtual server "
                         "[192.0.2.15]:tcp:80 - DOWN", "=> TCP CHECK failed on service <=")
    bodies = {kind: (checker_alert(kind, rs, vs, up=True, rs_alive=True, detail="d"),
                     checker_alert(kind, rs, vs, up=False, rs_alive=False, detail="d"))
              for kind in ("HTTP_GET", "SSL_GET", "SMTP_CHECK", "DNS_CHECK", "UDP_CHECK",
                           "PING_CHECK")}
    got = {k: (u.body if u else None, d.body if d else None) for k, (u, d) in bodies.items()}
    assert got == {
        "HTTP_GET": ("=> CHECK succeed on service <=",
                     "=> CHECK failed on service : HTTP request failed <="),
        "SSL_GET": ("=> CHECK succeed on service <=",
                    "=> CHECK failed on service : HTTP request failed <="),
        "SMTP_CHECK": ("=> CHECK succeed on service <=", "=> CHECK failed on service : d <="),
        "DNS_CHECK": ("=> DNS_CHECK: succeed on service <=",
                      "=> DNS_CHECK: failed on service <="),
        "UDP_CHECK": ("=> UDP CHECK succeed on service <=", "=> UDP CHECK failed on service <="),
        "PING_CHECK": ("=> ICMP CHECK succeed on service <=",
                       "=> ICMP CHECK failed on service <="),
    }
    misc = [checker_alert("MISC_CHECK", rs, vs, up=up, rs_alive=up, detail=detail)
            for up, detail in ((True, "exited with status 0"), (False, "exited with status 1"),
                               (False, "timed out after 5 s"))]
    assert [m.body if m else None for m in misc] == [
        "=> MISC CHECK succeeded on service <=", "=> MISC CHECK failed on service <=",
        "=> MISC CHECK timed out on service <="]
    # the subject says the real server's state, whatever the checker did
    assert checker_alert("TCP_CHECK", rs, vs, up=True, rs_alive=False) is not None
    assert checker_alert("TCP_CHECK", rs, vs, up=True, rs_alive=False).subject.endswith(  # type: ignore[union-attr]
        "- DOWN")
    assert checker_alert("FILE_CHECK", rs, vs, up=False, rs_alive=False) is None


def test_quorum_texts() -> None:
    assert quorum_alert("[192.0.2.15]:tcp:80", up=True, initial=False, quorum=2,
                        hysteresis=1, threshold=3, weight=3) == Alert(
        "Virtualserver [192.0.2.15]:tcp:80 - UP", "=> Gained quorum 2+1=3 <= 3 <=")
    assert quorum_alert("FWM 3", up=False, initial=False, quorum=2, hysteresis=0,
                        threshold=2, weight=1).body == "=> Lost quorum 2+0=2 <= 1 <="
    assert quorum_alert("FWM 3", up=False, initial=True, quorum=2, hysteresis=0,
                        threshold=2, weight=0).body == \
        "=> Starting with quorum down 2+0=2 <= 0 <="


@pytest.mark.parametrize(("kind", "up", "decided", "was_up", "had_run", "is_up", "due"), [
    ("TCP_CHECK", False, True, True, True, False, True),      # went down
    ("TCP_CHECK", True, True, False, True, True, True),       # came back
    ("TCP_CHECK", False, False, True, True, True, False),     # failed, retries left
    ("TCP_CHECK", False, True, False, True, False, False),    # still down
    ("TCP_CHECK", True, True, True, False, True, False),      # first success: no change
    ("TCP_CHECK", True, True, False, False, True, True),      # alpha: first success
    ("TCP_CHECK", False, True, False, False, False, False),   # alpha: first failure
    ("MISC_CHECK", True, True, True, False, True, True),      # first success mails
    ("MISC_CHECK", False, True, False, False, False, True),   # alpha first failure mails
    ("MISC_CHECK", True, True, True, True, True, False),      # still up
    ("MISC_CHECK", False, False, True, True, True, False),    # retries left
])
def test_when_a_checker_result_mails(kind: str, up: bool, decided: bool, was_up: bool,
                                     had_run: bool, is_up: bool, due: bool) -> None:
    assert checker_mail_due(kind, up=up, decided=decided, was_up=was_up, had_run=had_run,
                            is_up=is_up, rs_changed=True, no_checker_emails=False) is due
    # no_checker_emails: only changes of the real server itself
    assert checker_mail_due(kind, up=up, decided=decided, was_up=was_up, had_run=had_run,
                            is_up=is_up, rs_changed=False, no_checker_emails=True) is False
    assert checker_mail_due(kind, up=up, decided=decided, was_up=was_up, had_run=had_run,
                            is_up=is_up, rs_changed=False, no_checker_emails=False) is due


# ------------------------------------------------------------------ the defaults
def _flags(tmp: Path, global_lines: str, vi_line: str = "", sg_line: str = "",
           vs_line: str = "", rs_line: str = "") -> tuple[bool | None, ...]:
    text = MAIL % global_lines + instance(51, f"    {vi_line}\n", "VI_1") + \
        instance(52, "", "VI_2", "192.0.2.101") + f"""
vrrp_sync_group G1 {{
    group {{
        VI_1
        VI_2
    }}
    {sg_line}
}}
virtual_server 192.0.2.15 80 {{
    protocol TCP
    {vs_line}
    real_server 198.51.100.4 80 {{
        {rs_line}
    }}
}}
"""
    result = load(tmp, text)
    assert not result.errors, [str(d) for d in result.errors]
    config = result.config
    vs = config.virtual_servers[0]
    return (config.vrrp_instances["VI_1"].smtp_alert, config.vrrp_sync_groups["G1"].smtp_alert,
            vs.smtp_alert, vs.real_servers[0].smtp_alert)


def test_smtp_alert_defaults_follow_keepalived(tmp_path: Path) -> None:
    """(vrrp_instance, vrrp_sync_group, virtual_server, real_server): VRRP blocks follow
    smtp_alert_vrrp, else smtp_alert, else no; LVS blocks smtp_alert_checker, else
    smtp_alert, else no for a virtual server and YES for a real server, which never
    follows its virtual server."""
    assert _flags(tmp_path / "a", "") == (False, False, False, True)
    assert _flags(tmp_path / "b", "smtp_alert") == (True, True, True, True)
    assert _flags(tmp_path / "c", "smtp_alert off") == (False, False, False, False)
    assert _flags(tmp_path / "d", "smtp_alert\n smtp_alert_vrrp off") == \
        (False, False, True, True)
    assert _flags(tmp_path / "e", "smtp_alert off\n smtp_alert_checker") == \
        (False, False, True, True)
    assert _flags(tmp_path / "f", "smtp_alert_checker off") == (False, False, False, False)
    assert _flags(tmp_path / "g", "smtp_alert_vrrp") == (True, True, False, True)
    # the block's own keyword wins; a real server does not take its virtual server's
    assert _flags(tmp_path / "h", "smtp_alert", vi_line="smtp_alert off",
                  sg_line="smtp_alert off", vs_line="smtp_alert off") == \
        (False, False, False, True)
    assert _flags(tmp_path / "i", "", vs_line="smtp_alert", rs_line="smtp_alert off") == \
        (False, False, True, False)


# ------------------------------------------------------------------ VRRP
def _vrrp_config(tmp: Path, global_lines: str = "smtp_alert", vi_lines: str = "") -> Any:
    text = MAIL % global_lines + instance(51, vi_lines, "VI_1") + \
        instance(52, "", "VI_2", "192.0.2.101") + instance(53, "", "VI_3", "192.0.2.102") + """
vrrp_sync_group G1 {
    group {
        VI_2
        VI_3
    }
}
"""
    result = load(tmp, text)
    assert not result.errors, [str(d) for d in result.errors]
    return result.config


def _alerts(config: Any) -> tuple[VrrpAlerts, Sender]:
    sender = Sender()
    return VrrpAlerts(config, sender), sender  # type: ignore[arg-type]


def test_instance_and_group_mail_each_new_state_once(tmp_path: Path) -> None:
    alerts, sender = _alerts(_vrrp_config(tmp_path))
    for state in ("BACKUP", "BACKUP", "MASTER", "MASTER", "BACKUP"):
        alerts.instance_changed("VI_1", state)
    alerts.group_changed("G1", "BACKUP")
    alerts.group_changed("G1", "BACKUP")
    alerts.group_changed("G1", "MASTER")
    assert sender.subjects() == [
        "VRRP Instance VI_1 - Entering BACKUP state",
        "VRRP Instance VI_1 - Entering MASTER state",
        "VRRP Instance VI_1 - Entering BACKUP state",
        "VRRP Group G1 - Entering BACKUP state", "VRRP Group G1 - Entering MASTER state"]


def test_stop_is_not_mailed_as_keepalived_never_delivers_it(tmp_path: Path) -> None:
    alerts, sender = _alerts(_vrrp_config(tmp_path))
    alerts.instance_changed("VI_1", "MASTER")
    alerts.instance_changed("VI_1", "STOP")
    alerts.group_changed("G1", "STOP")
    assert sender.subjects() == ["VRRP Instance VI_1 - Entering MASTER state"]


def test_no_email_faults_skips_fault_and_the_return_to_the_state_before(
        tmp_path: Path) -> None:
    """keepalived only remembers states it mailed: BACKUP, FAULT (not mailed), BACKUP
    mails BACKUP once."""
    alerts, sender = _alerts(_vrrp_config(tmp_path, "smtp_alert\n no_email_faults"))
    for state in ("BACKUP", "FAULT", "BACKUP", "MASTER", "FAULT"):
        alerts.instance_changed("VI_1", state)
    assert sender.subjects() == ["VRRP Instance VI_1 - Entering BACKUP state",
                                 "VRRP Instance VI_1 - Entering MASTER state"]
    plain, sent = _alerts(_vrrp_config(tmp_path / "x"))
    plain.instance_changed("VI_1", "FAULT")
    assert sent.subjects() == ["VRRP Instance VI_1 - Entering FAULT state"]


def test_instance_smtp_alert_off_is_silent(tmp_path: Path) -> None:
    alerts, sender = _alerts(_vrrp_config(tmp_path, vi_lines="    smtp_alert off\n"))
    alerts.instance_changed("VI_1", "MASTER")
    alerts.instance_changed("VI_2", "MASTER")
    assert sender.subjects() == ["VRRP Instance VI_2 - Entering MASTER state"]
    quiet, none = _alerts(_vrrp_config(tmp_path / "q", ""))  # no smtp_alert anywhere
    quiet.instance_changed("VI_1", "MASTER")
    quiet.group_changed("G1", "MASTER")
    assert none.alerts == []


def test_no_server_no_mail(tmp_path: Path) -> None:
    result = load(tmp_path, "global_defs {\n smtp_alert\n}\n" + instance(51, "", "VI_1"))
    alerts, sender = _alerts(result.config)
    alerts.instance_changed("VI_1", "MASTER")
    assert sender.alerts == []


@run_async
async def test_notifier_mails_deleted_instances_as_keepalived(tmp_path: Path) -> None:
    """Through the notifier: a deleted instance mails FAULT, or Deleted with
    notify_deleted; a removed instance keeps the setting it ran with."""
    config = _vrrp_config(tmp_path)
    alerts, sender = _alerts(config)
    notifier = Notifier(ScriptRunner())
    notifier.alerts = alerts
    notifier.instance_changed("VI_1", "MASTER", 100, NotifyScripts())
    notifier.group_changed("G1", "BACKUP", NotifyScripts())
    # a reload removes VI_1 and VI_2 (VI_2 ran with notify_deleted)
    alerts.configure(load(tmp_path / "r", MAIL % "smtp_alert off" + instance(53, "", "VI_3")
                          ).config)
    notifier.instance_changed("VI_1", "DELETED", 100, NotifyScripts())
    notifier.instance_changed("VI_2", "DELETED", 100, NotifyScripts(send_deleted=True))
    notifier.instance_changed("VI_3", "MASTER", 100, NotifyScripts())  # now off
    assert sender.subjects() == [
        "VRRP Instance VI_1 - Entering MASTER state", "VRRP Group G1 - Entering BACKUP state",
        "VRRP Instance VI_1 - Entering FAULT state", "VRRP Instance VI_2 - Deleted"]
    await notifier.drain(1.0)
