"""SMTP alerts of the checker process: real servers' checkers and virtual servers' quorums.

The health state machine reports real servers and quorums; keepalived mails per *checker*
(each check_*.c sends its own mail when its checker changes state, see
:mod:`pykeepalived.notify.smtp_alerts`). So the checker process notes a checker's state
before handing a result to the state machine (:meth:`CheckerAlerts.seen`) and gives both to
:meth:`CheckerAlerts.checker_result` after: the state machine stays as it is, and this
module is the only place that knows about mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pykeepalived.notify.smtp import SmtpSender, SmtpSettings
from pykeepalived.notify.smtp_alerts import checker_alert, checker_mail_due, quorum_alert

if TYPE_CHECKING:
    from pykeepalived.check.health import CheckerHealth, QuorumChanged
    from pykeepalived.check.result import CheckResult


@dataclass(frozen=True, slots=True)
class Seen:
    """A checker and its real server just before a result."""

    was_up: bool
    had_run: bool
    rs_alive: bool


class CheckerAlerts:
    """Mails for one checker process; :meth:`configure` again after a reload."""

    def __init__(self, config: Any, sender: SmtpSender | None = None) -> None:
        self.sender = sender
        self.settings: SmtpSettings | None = None
        self.no_checker_emails = False
        self.stopped = False
        self.configure(config)

    def configure(self, config: Any) -> None:
        gdefs = config.global_defs
        self.settings = SmtpSettings.from_global_defs(gdefs)
        if self.settings is not None:
            if self.sender is None:
                self.sender = SmtpSender(self.settings)
            else:
                self.sender.reconfigure(self.settings)
        self.no_checker_emails = bool(gdefs.no_checker_emails)

    @staticmethod
    def seen(ck: CheckerHealth) -> Seen:
        return Seen(ck.is_up, ck.has_run, ck.rs.alive)

    def checker_result(self, ck: CheckerHealth, result: CheckResult, seen: Seen) -> None:
        """``ck`` had ``result``, and was as ``seen`` before it."""
        rs = ck.rs
        if self.settings is None or self.stopped or ck.vs.suspended or \
                rs.spec.smtp_alert is False:
            return  # a real server mails unless told not to (keepalived's default)
        decided = result.ok or ck.retry_it == 0  # a failure with retries left is pending
        if not checker_mail_due(ck.kind, up=result.ok, decided=decided, was_up=seen.was_up,
                                had_run=seen.had_run, is_up=ck.is_up,
                                rs_changed=seen.rs_alive != rs.alive,
                                no_checker_emails=self.no_checker_emails):
            return
        from pykeepalived.daemon.check_main import rs_name, vs_name

        alert = checker_alert(ck.kind, rs_name(ck.vs, rs), vs_name(ck.vs), up=result.ok,
                              rs_alive=rs.alive, detail=result.detail)
        if alert is not None and self.sender is not None:
            self.sender.send(alert)

    def quorum_changed(self, event: QuorumChanged) -> None:
        """A virtual server gained or lost its quorum (with its ``smtp_alert``)."""
        spec = event.vs.spec
        if self.settings is None or self.stopped or not spec.smtp_alert or self.sender is None:
            return
        from pykeepalived.daemon.check_main import vs_name

        self.sender.send(quorum_alert(vs_name(event.vs), up=event.up, initial=event.initial,
                                      quorum=spec.quorum, hysteresis=spec.hysteresis,
                                      threshold=event.threshold, weight=event.weight))

    def stopping(self) -> None:
        """Shutting down: what the stop reports is not mailed (keepalived's never leave)."""
        self.stopped = True

    async def aclose(self, timeout: float) -> None:
        self.stopped = True
        if self.sender is not None:
            await self.sender.aclose(timeout)
