"""Which SMTP alerts keepalived sends, when, and their subjects and bodies.

Pure decisions and texts; :mod:`.smtp` sends them. From keepalived 2.2.7 (vrrp_notify.c,
ipwrapper.c and each check_*.c), checked against the running binary for VRRP:

Whether a block sends at all (``smtp_alert`` of the block, else global_defs)
    vrrp_instance and vrrp_sync_group: ``smtp_alert_vrrp``, else ``smtp_alert``, else no.
    virtual_server: ``smtp_alert_checker``, else ``smtp_alert``, else no. real_server:
    ``smtp_alert_checker``, else ``smtp_alert``, else YES (keepalived keeps that old default
    for real servers only). The configuration checks fill these in
    (``config.validate_vrrp`` / ``config.validate_lvs``).

VRRP (:class:`VrrpAlerts`)
    Subject ``VRRP Instance VI_1 - Entering MASTER state`` (``VRRP Group G1 - ...`` for a
    sync group), one body line per state (:data:`INSTANCE_TEXTS`, :data:`GROUP_TEXTS`). An
    instance or group mails a state only when it differs from the last state it mailed;
    with ``no_email_faults`` FAULT is not mailed. An instance removed by a reload mails
    ``Deleted`` with ``notify_deleted``, else FAULT (the notifier maps it).

    Stopping is not mailed. keepalived composes a "Stopping" mail at shutdown, but it exits
    before the mail leaves: seen here, keepalived 2.2.7 delivers none, even while a 0.8 s
    notify_stop script holds it back. The same holds for its checker's omega "Shutting
    down" mails (same mechanism; the checker cannot run here without IPVS to watch it).

Checkers (:func:`checker_alert`)
    Subject ``Realserver [198.51.100.4]:tcp:80 of virtual server [192.0.2.15]:tcp:80 - DOWN``,
    UP/DOWN being the real server's state after the result, and a body naming the check
    (:data:`CHECKER_TEXTS`). Sent when a checker changes state (a failure counts once its
    retries are spent), and then only if the real server's state changed too or
    ``no_checker_emails`` is off: with several checkers, each checker's change mails.
    MISC_CHECK also mails its first result when it does not change the state (a first
    success of a checker that started up, a first failure of an ``alpha`` one). FILE_CHECK
    never mails.

Virtual servers (:func:`quorum_alert`)
    Subject ``Virtualserver [192.0.2.15]:tcp:80 - UP``, body
    ``=> Gained quorum 2+0=2 <= 2 <=`` (or Lost quorum, Starting with quorum up/down).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from pykeepalived.notify.smtp import Alert, SmtpSender, SmtpSettings

__all__ = [
    "CHECKER_TEXTS",
    "GROUP_TEXTS",
    "INSTANCE_TEXTS",
    "VrrpAlerts",
    "checker_alert",
    "group_alert",
    "instance_alert",
    "quorum_alert",
]

log = logging.getLogger(__name__)

#: state -> (subject end, body) of a vrrp_instance.
INSTANCE_TEXTS: Final = {
    "MASTER": ("Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <="),
    "BACKUP": ("Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <="),
    "FAULT": ("Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <="),
    "STOP": ("Stopping", "=> VRRP Instance stopping <="),
    "DELETED": ("Deleted", "=> VRRP Deleted at reload <="),
}
#: state -> (subject end, body) of a vrrp_sync_group.
GROUP_TEXTS: Final = {
    "MASTER": ("Entering MASTER state",
               "=> All VRRP group instances are now in MASTER state <="),
    "BACKUP": ("Entering BACKUP state",
               "=> All VRRP group instances are now in BACKUP state <="),
    "FAULT": ("Entering FAULT state",
              "=> All VRRP group instances are now in FAULT state <="),
    "STOP": ("Stopping", "=> All VRRP group instances are now stopping <="),
}
#: checker kind -> (body when it comes up, body when it goes down). SMTP_CHECK's down body
#: carries the failure (``{detail}``); MISC_CHECK's are built by :func:`misc_body`.
CHECKER_TEXTS: Final = {
    "TCP_CHECK": ("=> TCP CHECK succeed on service <=", "=> TCP CHECK failed on service <="),
    "HTTP_GET": ("=> CHECK succeed on service <=",
                 "=> CHECK failed on service : HTTP request failed <="),
    "SSL_GET": ("=> CHECK succeed on service <=",
                "=> CHECK failed on service : HTTP request failed <="),
    "SMTP_CHECK": ("=> CHECK succeed on service <=", "=> CHECK failed on service : {detail} <="),
    "DNS_CHECK": ("=> DNS_CHECK: succeed on service <=", "=> DNS_CHECK: failed on service <="),
    "UDP_CHECK": ("=> UDP CHECK succeed on service <=", "=> UDP CHECK failed on service <="),
    "PING_CHECK": ("=> ICMP CHECK succeed on service <=",
                   "=> ICMP CHECK failed on service <="),
}
#: Only kept for the stop of a process: states whose mail keepalived never gets out.
_NOT_MAILED: Final = frozenset({"STOP"})


def instance_alert(name: str, state: str) -> Alert:
    """The mail of vrrp_instance ``name`` entering ``state``."""
    subject, body = INSTANCE_TEXTS[state.upper()]
    return Alert(f"VRRP Instance {name} - {subject}", body)


def group_alert(name: str, state: str) -> Alert:
    """The mail of vrrp_sync_group ``name`` entering ``state``."""
    subject, body = GROUP_TEXTS[state.upper()]
    return Alert(f"VRRP Group {name} - {subject}", body)


def misc_body(up: bool, detail: str) -> str:
    """MISC_CHECK's body: succeeded, failed, or timed out (the script overran)."""
    word = "succeeded" if up else ("timed out" if detail.startswith("timed out") else "failed")
    return f"=> MISC CHECK {word} on service <="


def checker_alert(kind: str, rs: str, vs: str, *, up: bool, rs_alive: bool,
                  detail: str = "") -> Alert | None:
    """The mail of a ``kind`` checker of real server ``rs`` (of ``vs``) coming ``up`` or going
    down; the subject says the real server's state. None for a kind that never mails."""
    if kind == "MISC_CHECK":
        body = misc_body(up, detail)
    elif kind in CHECKER_TEXTS:
        body = CHECKER_TEXTS[kind][0 if up else 1].format(detail=detail)
    else:
        return None
    return Alert(f"Realserver {rs} of virtual server {vs} - {'UP' if rs_alive else 'DOWN'}",
                 body)


def checker_mail_due(kind: str, *, up: bool, decided: bool, was_up: bool, had_run: bool,
                     is_up: bool, rs_changed: bool, no_checker_emails: bool) -> bool:
    """Whether one result of a checker mails (its real server's smtp_alert aside).

    ``up``: the result; ``decided``: it counts (a success, or a failure with no retry
    left); ``was_up``/``had_run``: the checker before it, ``is_up`` after it;
    ``rs_changed``: the real server's state changed with it.
    """
    if not decided or not (rs_changed or not no_checker_emails):
        return False
    if kind == "MISC_CHECK":  # every first result, and every change
        return (not was_up or not had_run) if up else (was_up or not had_run)
    return is_up != was_up


def quorum_body(*, up: bool, initial: bool, quorum: int, hysteresis: int, threshold: int,
                weight: int) -> str:
    """``=> Gained quorum 2+0=2 <= 2 <=``: keepalived writes the same figures both ways."""
    if up:
        what = "Starting with quorum up" if initial else "Gained quorum"
    else:
        what = "Starting with quorum down" if initial else "Lost quorum"
    return f"=> {what} {quorum}+{hysteresis}={threshold} <= {weight} <="


def quorum_alert(vs: str, *, up: bool, initial: bool, quorum: int, hysteresis: int,
                 threshold: int, weight: int) -> Alert:
    """The mail of virtual server ``vs`` gaining or losing its quorum."""
    return Alert(f"Virtualserver {vs} - {'UP' if up else 'DOWN'}",
                 quorum_body(up=up, initial=initial, quorum=quorum, hysteresis=hysteresis,
                             threshold=threshold, weight=weight))


class VrrpAlerts:
    """keepalived's vrrp_smtp_notifier and vrrp_sync_smtp_notifier for one VRRP process.

    Given the parsed configuration; :meth:`configure` again after a reload. An instance
    or group that a reload removed keeps its last setting, so its DELETED (or FAULT) mail
    follows the configuration it ran with.
    """

    def __init__(self, config: Any, sender: SmtpSender | None = None, *,
                 instances: Mapping[str, bool] | None = None) -> None:
        self.sender = sender
        self._enabled: dict[tuple[str, str], bool] = {}
        self._last: dict[tuple[str, str], str] = {}  # keepalived's last_email_state
        self.no_email_faults = False
        self.settings: SmtpSettings | None = None
        self.configure(config, instances=instances)

    def configure(self, config: Any, *, instances: Mapping[str, bool] | None = None) -> None:
        """Settings from ``config``; ``instances`` (vrrp_instance name -> smtp_alert) when
        the model given holds no vrrp_instance blocks (the VRRP process's plans)."""
        gdefs = config.global_defs
        settings = SmtpSettings.from_global_defs(gdefs)
        if settings is None:
            pass  # no smtp_server or no notification_email (any more): nothing is sent
        elif self.sender is None:
            self.sender = SmtpSender(settings)
        else:
            self.sender.reconfigure(settings)
        self.settings = settings
        self.no_email_faults = bool(gdefs.no_email_faults)
        if instances is None:
            instances = {name: bool(inst.smtp_alert)
                         for name, inst in config.vrrp_instances.items()}
        for name, enabled in instances.items():
            self._enabled[("INSTANCE", name)] = enabled
        for name, group in config.vrrp_sync_groups.items():
            self._enabled[("GROUP", name)] = bool(group.smtp_alert)

    def instance_changed(self, name: str, state: str) -> None:
        """vrrp_instance ``name`` entered ``state`` (DELETED already mapped to FAULT when
        notify_deleted is not configured)."""
        key = ("INSTANCE", name)
        if self._due(key, state):
            self._send(instance_alert(name, state))

    def group_changed(self, name: str, state: str) -> None:
        key = ("GROUP", name)
        if self._due(key, state) and state.upper() in GROUP_TEXTS:
            self._send(group_alert(name, state))

    def _due(self, key: tuple[str, str], state: str) -> bool:
        state = state.upper()
        if (self.settings is None or not self._enabled.get(key, False)
                or state in _NOT_MAILED or (self.no_email_faults and state == "FAULT")
                or self._last.get(key) == state):
            return False
        self._last[key] = state
        return True

    def _send(self, alert: Alert) -> None:
        if self.sender is not None:
            self.sender.send(alert)

    async def aclose(self, timeout: float) -> None:
        if self.sender is not None:
            await self.sender.aclose(timeout)
