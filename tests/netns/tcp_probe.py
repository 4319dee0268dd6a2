"""A stateless TCP service and a client probing it, for the switchover tests and benchmark.

``python3 tcp_probe.py serve PORT``: on every connection, send the same few bytes at once and
close (a stateless service: any node serves any new connection the same way; nothing is
read, so a connection lives one round trip).

``python3 tcp_probe.py probe ADDRESS PORT SECONDS INTERVAL``: open a new connection every
INTERVAL seconds for SECONDS, read until EOF, and print one JSON object: how many
connections, how each failed (reset, refused, timeout, wrong content), the slowest, and the
time (monotonic, seconds from the start) of every failure. Stops early on SIGINT/SIGTERM.
Runs on the standard library alone, inside a test's namespace.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import time

CONTENT = b"pykeepalived switchover test: the same on every node\n"
TIMEOUT = 3.0


def serve(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("0.0.0.0", port))
        srv.listen(128)
        while True:
            conn, _ = srv.accept()
            try:
                conn.sendall(CONTENT)
            except OSError:
                pass
            finally:
                conn.close()


def _one(address: str, port: int) -> str:
    try:
        with socket.create_connection((address, port), timeout=TIMEOUT) as conn:
            data = b""
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
    except ConnectionResetError:
        return "reset"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"
    except OSError as exc:
        return f"error {exc.errno}"
    return "ok" if data == CONTENT else "content"


def probe(address: str, port: int, seconds: float, interval: float) -> dict[str, object]:
    stop = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.append(True))
    start = time.monotonic()
    counts: dict[str, int] = {}
    failures: list[tuple[float, str]] = []
    slowest = 0.0
    n = 0
    while not stop and time.monotonic() - start < seconds:
        began = time.monotonic()
        result = _one(address, port)
        took = time.monotonic() - began
        slowest = max(slowest, took)
        counts[result] = counts.get(result, 0) + 1
        if result != "ok":
            failures.append((round(began - start, 4), result))
        n += 1
        pause = start + n * interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return {"connections": n, "results": counts, "slowest_seconds": slowest,
            "failures": failures}


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:
        serve(int(argv[1]))
        return 0
    if argv[:1] == ["probe"]:
        result = probe(argv[1], int(argv[2]), float(argv[3]), float(argv[4]))
        print(json.dumps(result), flush=True)
        return 0
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
