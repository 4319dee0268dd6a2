"""Servers the checker tests run inside a lab host: ``python -m tests.netns.checker_servers``.

Each kind listens on the address and port given, prints ``ready`` on stdout once it does, and
serves until killed:

- ``http``/``https``: Python's http.server. ``/`` answers "hello", ``/status/N`` answers
  status N, ``/chunked`` a chunked HTTP/1.1 body, ``/short`` a Content-Length shorter than
  the body. Every request's raw head is appended to ``--log``; ``https`` also logs the SNI
  name the client sent (``sni <name>`` or ``sni -``), and with ``--client-ca`` asks for a
  client certificate signed by that CA;
- ``record``: appends each request's head, byte for byte as received, to ``--log``, and
  answers ``200`` with the body "ok";
- ``silent``: accepts TCP connections and never answers; ``garbage``: answers a line that is
  no protocol at all; ``reset``: accepts and resets the connection;
- ``smtp``: aiosmtpd; with ``--refuse-helo`` HELO is answered 550;
- ``udp-echo``: sends every datagram back (or ``--reply HEX`` instead); ``udp-silent``:
  receives and never answers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import socketserver
import ssl
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class Handler(BaseHTTPRequestHandler):
    log_path: ClassVar[str | None] = None
    server_version = "checker-test"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _record(self) -> None:
        if self.log_path:
            with open(self.log_path, "ab") as log:
                log.write(self.raw_requestline + bytes(self.headers) + b"--\n")

    def do_GET(self) -> None:
        self._record()
        path = self.path
        if path.startswith("/status/"):
            code = int(path.split("/")[2])
            self._answer(code, f"status {code}\n".encode())
        elif path == "/chunked":
            self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        elif path == "/short":
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"hello world\n")
        else:
            self._answer(200, b"hello\n")

    def _answer(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's 5 drops SYNs when checks come in bursts

    def __init__(self, host: str, port: int) -> None:
        self.address_family = _family(host)
        super().__init__((host, port), Handler)


def serve_http(args: argparse.Namespace, tls: bool) -> None:
    Handler.log_path = args.log
    server = Server(args.host, args.port)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            context.load_verify_locations(args.client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
        log_path = args.log

        def sni(sslobj: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
            if log_path:
                with open(log_path, "a", encoding="utf-8") as log:
                    log.write(f"sni {name or '-'}\n")

        context.sni_callback = sni  # type: ignore[assignment]
        server.socket = context.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
        # handshake in the handler thread, so that one bad client never stops the server
        original = Handler.setup

        def setup(self: Handler) -> None:
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.request.close()
                raise
            original(self)

        Handler.setup = setup  # type: ignore[method-assign]
    ready()
    server.serve_forever()


def listening(host: str, port: int, kind: socket.SocketKind = socket.SOCK_STREAM
              ) -> socket.socket:
    sock = socket.socket(_family(host), kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    if kind == socket.SOCK_STREAM:
        sock.listen(128)
    return sock


def serve_tcp(args: argparse.Namespace, kind: str) -> None:
    sock = listening(args.host, args.port)
    kept: list[socket.socket] = []
    ready()
    while True:
        conn, _ = sock.accept()
        if kind == "silent":
            kept.append(conn)  # never answered, never closed
        elif kind == "record":
            head = b""
            conn.settimeout(5)
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = conn.recv(4096)
                if not data:
                    break
                head += data
            with open(args.log, "ab") as log:
                log.write(head + b"--\n")
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
            conn.close()
        elif kind == "garbage":
            threading.Thread(target=_garbage, args=(conn,), daemon=True).start()
        else:  # reset: SO_LINGER 0 makes close() send RST
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()


def _garbage(conn: socket.socket) -> None:
    """Read what the client says first, if it does (so that closing sends no RST), answer
    nonsense, close."""
    conn.settimeout(0.3)
    with contextlib.suppress(TimeoutError):
        conn.recv(65536)
    conn.sendall(b"\x00\x01garbage, no protocol at all\n")
    conn.shutdown(socket.SHUT_WR)
    with contextlib.suppress(OSError):
        while conn.recv(65536):
            pass
    conn.close()


def serve_udp(args: argparse.Namespace, echo: bool) -> None:
    sock = listening(args.host, args.port, socket.SOCK_DGRAM)
    reply = bytes.fromhex(args.reply) if args.reply else None
    ready()
    while True:
        data, peer = sock.recvfrom(65535)
        if args.log:
            with open(args.log, "ab") as log:
                log.write(data.hex().encode() + b"\n")
        if echo:
            sock.sendto(reply if reply is not None else data, peer)


def serve_smtp(args: argparse.Namespace) -> None:
    from aiosmtpd.smtp import SMTP, Envelope, Session

    class RefuseHelo:
        async def handle_HELO(self, server: SMTP, session: Session, envelope: Envelope,
                              hostname: str) -> str:
            return "550 5.7.1 HELO refused"

    class Sink:
        async def handle_DATA(self, server: SMTP, session: Session,
                              envelope: Envelope) -> str:
            return "250 OK"

    async def main() -> None:
        handler: object = RefuseHelo() if args.refuse_helo else Sink()
        loop = asyncio.get_running_loop()
        await loop.create_server(lambda: SMTP(handler, hostname="mail.example.test"),
                                 sock=listening(args.host, args.port))
        ready()
        await asyncio.Event().wait()

    asyncio.run(main())


def ready() -> None:
    sys.stdout.write("ready\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["http", "https", "record", "silent", "garbage",
                                         "reset", "smtp", "udp-echo", "udp-silent"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--log")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--client-ca")
    parser.add_argument("--refuse-helo", action="store_true")
    parser.add_argument("--reply")
    args = parser.parse_args()
    threading.current_thread().name = args.kind
    if args.kind in ("http", "https"):
        serve_http(args, tls=args.kind == "https")
    elif args.kind in ("record", "silent", "garbage", "reset"):
        serve_tcp(args, args.kind)
    elif args.kind == "smtp":
        serve_smtp(args)
    else:
        serve_udp(args, echo=args.kind == "udp-echo")


if __name__ == "__main__":
    socketserver.TCPServer.allow_reuse_address = True
    main()
