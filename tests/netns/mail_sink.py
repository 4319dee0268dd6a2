"""A mail server the SMTP alert tests run inside a lab host: ``python -m tests.netns.mail_sink``.

Listens on the address and port given, prints ``ready`` on stdout once it does, and serves
until killed:

- ``record``: aiosmtpd; every delivered mail is appended to ``--log`` as one JSON line with
  the greeting command and name the client used (HELO or EHLO), the envelope sender and
  recipients, and the message bytes exactly as received (``data``, latin-1 text);
- ``hang``: accepts connections and never answers (not even the greeting);
- ``refuse``: aiosmtpd that answers every ``MAIL`` with 550 (the client is refused after its
  greeting); every refused attempt is appended to ``--log``;
- ``slow``: aiosmtpd that waits ``--delay`` seconds before each answer to HELO, MAIL, RCPT
  and the message (a server that answers, after seconds); each step is appended to ``--log``;
- ``hang-data``: aiosmtpd that takes the whole message and never answers it (a server hung
  in the middle of DATA); each message it took is appended to ``--log``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
from typing import Any


def listening(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                         socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def _append(path: str | None, record: dict[str, Any]) -> None:
    if path:
        with open(path, "a") as log:
            log.write(json.dumps(record) + "\n")


def serve(args: argparse.Namespace) -> None:
    from aiosmtpd.smtp import SMTP, Envelope, Session

    class Recorder:
        async def slow(self, step: str) -> None:
            if args.kind == "slow":
                _append(args.log, {"step": step})
                await asyncio.sleep(args.delay)

        async def handle_HELO(self, server: SMTP, session: Session, envelope: Envelope,
                              hostname: str) -> str:
            await self.slow("HELO")
            session.host_name = hostname
            envelope.greeting = "HELO"  # type: ignore[attr-defined]
            return "250 mail.example.test"

        async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope,
                              hostname: str, responses: list[str]) -> list[str]:
            session.host_name = hostname
            envelope.greeting = "EHLO"  # type: ignore[attr-defined]
            return responses

        async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                              address: str, mail_options: list[str]) -> str:
            if args.kind == "refuse":
                _append(args.log, {"refused": address, "helo": session.host_name})
                return "550 5.7.1 not from you"
            await self.slow("MAIL")
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            return "250 OK"

        async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                              address: str, rcpt_options: list[str]) -> str:
            await self.slow("RCPT")
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: SMTP, session: Session,
                              envelope: Envelope) -> str:
            raw = envelope.original_content or b""
            if args.kind == "hang-data":
                _append(args.log, {"hung_after_data": len(raw)})
                await asyncio.sleep(3600)  # the message is in; its answer never comes
            await self.slow("DATA")
            _append(args.log, {
                "greeting": getattr(envelope, "greeting", None), "helo": session.host_name,
                "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                "data": raw.decode("latin-1")})
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        await loop.create_server(lambda: SMTP(Recorder(), hostname="mail.example.test"),
                                 sock=listening(args.host, args.port))
        ready()
        await asyncio.Event().wait()

    asyncio.run(main())


def hang(args: argparse.Namespace) -> None:
    sock = listening(args.host, args.port)
    kept: list[socket.socket] = []
    ready()
    while True:
        conn, _ = sock.accept()
        kept.append(conn)  # held open, never answered
        _append(args.log, {"accepted": len(kept)})


def ready() -> None:
    sys.stdout.write("ready\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["record", "hang", "refuse", "slow", "hang-data"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--log")
    parser.add_argument("--delay", type=float, default=1.0)
    args = parser.parse_args()
    if args.kind == "hang":
        hang(args)
    else:
        serve(args)


if __name__ == "__main__":
    main()
