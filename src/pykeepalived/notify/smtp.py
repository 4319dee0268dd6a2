"""SMTP alerts: mail as keepalived sends it, from a worker thread that never holds up the daemon.

What goes over the wire is keepalived's (core/smtp.c, as keepalived 2.2.7 delivers it to a
real server): one connection per mail to ``smtp_server`` (port 25 unless given), ``HELO``
(never EHLO) with ``smtp_helo_name``, ``MAIL FROM`` ``notification_email_from``, one ``RCPT
TO`` per ``notification_email`` in order, then ``DATA``::

    Date: Tue, 01 Dec 2026 01:47:21 +0000
    From: ka@example.net
    Subject: [vm] VRRP Instance VI_1 - Entering MASTER state
    X-Mailer: Keepalived
    To: ops@example.com, noc@example.org

    => VRRP Instance is now owning VRRP VIPs <=

and ``QUIT``. The subject starts with ``[router_id]``; an answer other than the expected code
(220, 250, 354) ends the attempt. keepalived's defaults, when global_defs leaves them out:
``router_id``, ``smtp_helo_name`` and the host part of ``notification_email_from``
(``user@host``, the user running the daemon) are the host's canonical name (``uname`` node
name through the resolver); ``smtp_connect_timeout`` is 30 seconds. No mail at all without
both ``smtp_server`` and ``notification_email``.

Why a thread, and its bounds. A mail server that is slow, hung (accepts and never answers) or
refusing must never delay the protocol, so :meth:`SmtpSender.send` only appends the alert to
a queue and returns; one worker thread (smtplib) delivers the queue in order, one mail at a
time, so alerts arrive in the order their events happened:

- each attempt, connection to QUIT, is given ``smtp_connect_timeout`` seconds in all; then its
  socket is shut down and the mail counts as lost;
- the queue holds at most ``limit`` alerts (:data:`QUEUE_LIMIT`); when it is full the OLDEST
  waiting alert is dropped and the new one kept: the latest state is the one an operator
  most needs to read;
- a lost alert (refused, timed out, dropped) is logged once, with its cause; the ones lost
  after it are only counted, until a mail goes through again or the daemon stops, and then
  one line says how many were lost in all (first and last cause);
- at shutdown the queue gets a short bounded time to drain (:meth:`SmtpSender.aclose`); what
  is left counts as lost. The thread is a daemon thread: a hung attempt never keeps the
  process alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pwd
import socket
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_PORT",
    "QUEUE_LIMIT",
    "SHUTDOWN_DRAIN",
    "Alert",
    "DeliveryError",
    "Identity",
    "SmtpSender",
    "SmtpSettings",
    "compose",
    "deliver",
    "identity",
    "local_name",
]

log = logging.getLogger(__name__)

DEFAULT_PORT: Final = 25
DEFAULT_CONNECT_TIMEOUT: Final = 30.0
#: Alerts that may wait for the mail server; past it the oldest waiting one is dropped.
QUEUE_LIMIT: Final = 64
#: keepalived's buffers: a subject of 255 characters, a body of 511, a To header of 1023.
MAX_SUBJECT: Final = 255
MAX_BODY: Final = 511
MAX_TO: Final = 1023
#: Seconds the queue is given to drain when the daemon stops.
SHUTDOWN_DRAIN: Final = 2.0
UNKNOWN_NAME: Final = "[unknown]"  # keepalived's local name when the host's cannot be found


@dataclass(frozen=True, slots=True)
class Alert:
    """One mail: ``subject`` without the ``[router_id]`` prefix, and the body line."""

    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """The global_defs keywords that say where mail goes and who it is from.

    ``router_id``, ``email_from`` and ``helo_name`` are None when not configured: the worker
    fills them from the host's name (:func:`identity`), off the event loop, since that asks
    the resolver.
    """

    server: str
    port: int
    recipients: tuple[str, ...]
    email_from: str | None = None
    helo_name: str | None = None
    router_id: str | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT

    @classmethod
    def from_global_defs(cls, gdefs: Any) -> SmtpSettings | None:
        """The settings of a parsed global_defs, or None when no mail can be sent (no
        ``smtp_server`` or no ``notification_email``, as keepalived's smtp_alert())."""
        server = getattr(gdefs, "smtp_server", None)
        recipients = tuple(getattr(gdefs, "notification_email", None) or ())
        if not server or not recipients:
            return None
        return cls(server=server, port=int(gdefs.smtp_server_port or DEFAULT_PORT),
                   recipients=recipients, email_from=gdefs.notification_email_from,
                   helo_name=gdefs.smtp_helo_name, router_id=gdefs.router_id,
                   connect_timeout=float(gdefs.smtp_connect_timeout
                                         or DEFAULT_CONNECT_TIMEOUT))

    @property
    def where(self) -> str:
        """The server as keepalived logs it: ``[192.0.2.25]:25``."""
        return f"[{self.server}]:{self.port}"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the mail says it is from, the configured values or keepalived's defaults."""

    router_id: str
    email_from: str
    helo_name: str


def local_name() -> str | None:
    """The host's canonical name, as keepalived's get_local_name(): the ``uname`` node name
    looked up with AI_CANONNAME. None when the resolver does not know it."""
    try:
        found = socket.getaddrinfo(os.uname().nodename, None, flags=socket.AI_CANONNAME)
    except (OSError, UnicodeError):
        return None
    if not found:
        return None
    return found[0][3] or None


def _user() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def identity(settings: SmtpSettings,
             lookup: Callable[[], str | None] = local_name) -> Identity:
    """keepalived's defaults (init_global_data): the local name for router_id and HELO,
    ``user@localname`` for the sender. Without a local name, router_id is ``[unknown]`` and
    HELO says ``localhost`` as keepalived does; the sender is then ``user@localhost``."""
    name = None
    if settings.router_id is None or settings.helo_name is None or settings.email_from is None:
        name = lookup()
    return Identity(
        router_id=settings.router_id if settings.router_id is not None else
        (name or UNKNOWN_NAME),
        email_from=settings.email_from if settings.email_from is not None else
        f"{_user()}@{name or 'localhost'}",
        helo_name=settings.helo_name if settings.helo_name is not None else
        (name or "localhost"))


def to_header(recipients: Sequence[str]) -> str:
    """Every recipient, comma separated, as far as keepalived's 1023 characters go."""
    text = ""
    for address in recipients:
        candidate = f"{text}, {address}" if text else address
        if len(candidate) > MAX_TO:
            break
        text = candidate
    return text


def compose(ident: Identity, recipients: Sequence[str], alert: Alert,
            date: str | None = None) -> bytes:
    """The DATA of one alert, byte for byte as keepalived writes it (the final ``.`` line
    excluded): headers, a blank line, the body line, a blank line."""
    if date is None:
        import email.utils  # here: the worker composes, the daemon's start-up does not pay

        date = email.utils.formatdate(localtime=True)
    subject = f"[{ident.router_id}] {alert.subject}"[:MAX_SUBJECT]
    text = (f"Date: {date}\r\nFrom: {ident.email_from}\r\nSubject: {subject}\r\n"
            f"X-Mailer: Keepalived\r\nTo: {to_header(recipients)}\r\n\r\n"
            f"{alert.body[:MAX_BODY]}\r\n\r\n")
    return text.encode("utf-8", "replace")


class DeliveryError(Exception):
    """An attempt that did not deliver; the message is the cause, for the log."""


def _expect(step: str, reply: tuple[int, bytes], code: int) -> None:
    got, text = reply
    if got != code:
        shown = text.decode("utf-8", "replace").replace("\n", " ")
        raise DeliveryError(f"{step} answered {got} {shown}, expected {code}")


def deliver(settings: SmtpSettings, ident: Identity, message: bytes) -> None:
    """One attempt: connect, HELO, MAIL, RCPT..., DATA, QUIT, all within
    ``settings.connect_timeout`` seconds (a watchdog shuts the socket down at the deadline,
    so neither a silent nor a trickling server holds the worker longer). Raises
    :class:`DeliveryError` with the cause."""
    import smtplib  # here: only the worker thread needs it

    timeout = settings.connect_timeout
    client = smtplib.SMTP(timeout=timeout, local_hostname=ident.helo_name)
    cut = threading.Event()

    def watchdog() -> None:
        cut.set()
        sock = getattr(client, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(timeout, watchdog)
    timer.daemon = True
    timer.start()
    try:
        _expect("the greeting", client.connect(settings.server, settings.port), 220)
        _expect("HELO", client.helo(ident.helo_name), 250)
        _expect("MAIL", client.mail(ident.email_from), 250)
        for rcpt in settings.recipients:
            _expect(f"RCPT {rcpt}", client.rcpt(rcpt), 250)
        _expect("the message", client.data(message), 250)
        with contextlib.suppress(smtplib.SMTPException, OSError):
            client.quit()  # delivered: the QUIT answer changes nothing
    except DeliveryError:
        raise
    except smtplib.SMTPDataError as exc:
        raise DeliveryError(f"DATA answered {exc.smtp_code}, expected 354") from exc
    except (smtplib.SMTPException, OSError) as exc:
        if cut.is_set() or isinstance(exc, TimeoutError):
            raise DeliveryError(f"no answer within {timeout:g} s") from exc
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            raise DeliveryError("the server closed the connection") from exc
        if isinstance(exc, OSError) and exc.strerror:
            raise DeliveryError(exc.strerror.lower()) from exc
        raise DeliveryError(str(exc) or type(exc).__name__) from exc
    finally:
        timer.cancel()
        client.close()


Transport = Callable[[SmtpSettings, Identity, bytes], None]


@dataclass(slots=True)
class _Losses:
    """A run of lost alerts: logged at its first, summed up at its end."""

    count: int
    first: str
    last: str


class SmtpSender:
    """Delivers alerts in order from one worker thread; see the module docstring.

    ``send`` may be called from the event loop at any rate and never blocks on the mail
    server. ``transport`` and ``lookup`` are for tests (the real ones use smtplib and the
    resolver).
    """

    def __init__(self, settings: SmtpSettings, *, limit: int = QUEUE_LIMIT,
                 transport: Transport = deliver,
                 lookup: Callable[[], str | None] = local_name) -> None:
        if limit < 1:
            raise ValueError("the SMTP alert queue needs room for one alert at least")
        self.settings = settings
        self.limit = limit
        self._transport = transport
        self._lookup = lookup
        self._ident: Identity | None = None
        self._queue: deque[Alert] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._busy = False
        self._closing = False
        self._losses: _Losses | None = None
        self.sent = 0
        self.lost = 0  # not delivered: refused, timed out, dropped from the queue, left over

    # ------------------------------------------------------------------ the loop's side
    def send(self, alert: Alert) -> None:
        """Queue ``alert``; returns at once."""
        with self._cond:
            if self._closing:
                return
            if len(self._queue) >= self.limit:
                self._queue.popleft()
                self._lose(f"the queue of alerts waiting for the server was full "
                           f"({self.limit}): the oldest was dropped")
            self._queue.append(alert)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, daemon=True,
                                                name="pykeepalived-smtp")
                self._thread.start()
            self._cond.notify()

    def reconfigure(self, settings: SmtpSettings) -> None:
        """New settings after a reload: the alerts still waiting go out with them."""
        with self._cond:
            if settings != self.settings:
                self.settings = settings
                self._ident = None

    @property
    def pending(self) -> int:
        """Alerts waiting or being sent."""
        with self._cond:
            return len(self._queue) + self._busy

    async def aclose(self, timeout: float) -> None:
        """Give the queue up to ``timeout`` seconds, then stop; what is left is lost (and
        said so, with the run of losses it ends)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        for _ in range(10_000):  # bounded: at most one round per 20 ms until the deadline
            if not self.pending or loop.time() >= deadline:
                break
            await asyncio.sleep(min(0.02, max(deadline - loop.time(), 0.0)))
        with self._cond:
            self._closing = True
            left = len(self._queue) + self._busy
            self._queue.clear()
            self._busy = False  # an attempt still under way is counted lost here
            if left:
                self.lost += left
                if self._losses is None:
                    log.warning("SMTP alerts to %s: %d not sent, still waiting for the "
                                "server at shutdown", self.settings.where, left)
                else:
                    self._losses.count += left
                    self._losses.last = "still waiting for the server at shutdown"
            self._end_losses("at shutdown")
            self._cond.notify_all()

    # ------------------------------------------------------------------ the worker
    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                alert = self._queue.popleft()
                self._busy = True
                settings = self.settings
                ident = self._ident
            try:
                if ident is None:
                    ident = identity(settings, self._lookup)
                message = compose(ident, settings.recipients, alert)
                self._transport(settings, ident, message)
            except DeliveryError as exc:
                outcome: str | None = str(exc)
            except Exception as exc:  # a bug must not end the worker
                log.exception("SMTP alert to %s failed unexpectedly", settings.where)
                outcome = f"unexpected error: {exc}"
            else:
                outcome = None
            with self._cond:
                self._busy = False
                if self._closing:
                    return  # counted as left over by aclose()
                if settings == self.settings:
                    self._ident = ident
                if outcome is None:
                    self.sent += 1
                    log.debug("SMTP alert sent to %s: %s", settings.where, alert.subject)
                    self._end_losses("a mail went through again")
                else:
                    self._lose(outcome)

    # ------------------------------------------------------------------ losses
    def _lose(self, cause: str, count: int = 1) -> None:
        """Count lost alerts; only the first of a run is logged (lock held)."""
        self.lost += count
        if self._losses is None:
            self._losses = _Losses(count, cause, cause)
            log.error("SMTP alert not sent to %s: %s (until one goes through, further "
                      "losses are counted, not logged)", self.settings.where, cause)
        else:
            self._losses.count += count
            self._losses.last = cause

    def _end_losses(self, why: str) -> None:
        losses, self._losses = self._losses, None
        if losses is None:
            return
        if losses.count == 1:
            log.warning("SMTP alerts to %s: 1 alert lost (%s), %s", self.settings.where,
                        losses.first, why)
            return
        last = "" if losses.last == losses.first else f"; last: {losses.last}"
        log.warning("SMTP alerts to %s: %d alerts lost (first: %s%s), %s",
                    self.settings.where, losses.count, losses.first, last, why)
