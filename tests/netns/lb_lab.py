"""A load-balancing lab: a client, a director holding the VIP, three real HTTP servers.

NAT (two segments): the client (192.0.2.50, .51, .200) on br0 reaches the VIP 203.0.113.10 through
the director (192.0.2.1); the real servers 198.51.100.11-13 sit on br1 behind the director
(198.51.100.1), their default gateway. DR (one segment): everyone on br0; the real servers
hold the VIP on lo without answering ARP for it and answer the client directly.

Each real server answers ``GET /`` with ``<name> <client address>``.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import ip_address

from pykeepalived.demo.lab import Host, Lab, wait_for
from pykeepalived.lb.model import Destination, Service
from pykeepalived.net import netns

VIP = "203.0.113.10"
CLIENT = "192.0.2.50"
CLIENT2 = "192.0.2.51"  # same /25: one client for persistence_granularity 255.255.255.128
OTHER = "192.0.2.200"  # another /25: another client under that granularity
SERVERS = {"rs1": "198.51.100.11", "rs2": "198.51.100.12", "rs3": "198.51.100.13"}
# the IPv6 NAT lab: client side 2001:db8:1::/64, server side 2001:db8:2::/64
VIP6 = "2001:db8:ffff::10"
CLIENT6 = "2001:db8:1::50"
SERVERS6 = {"rs1": "2001:db8:2::11", "rs2": "2001:db8:2::12", "rs3": "2001:db8:2::13"}

SERVER = r"""
import http.server, socket, sys
name = sys.argv[1]
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        client = self.client_address[0].removeprefix("::ffff:")
        body = f"{name} {client}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6  # and IPv4, as ::ffff:a.b.c.d
Server(("::", 80), Handler).serve_forever()
"""

CLIENT_LOOP = r"""
import http.client, sys
host, count, source = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for _ in range(count):
    conn = http.client.HTTPConnection(host, 80, timeout=2, source_address=(source, 0))
    try:
        conn.request("GET", "/")
        print(conn.getresponse().read().decode().strip(), flush=True)
    except OSError as exc:
        print("ERROR", exc, flush=True)
    finally:
        conn.close()
"""

# one kept-alive connection: a request per line read on stdin, until EOF
CLIENT_KEEPALIVE = r"""
import http.client, sys
conn = http.client.HTTPConnection(sys.argv[1], 80, timeout=3)
for line in sys.stdin:
    try:
        conn.request("GET", "/")
        print(conn.getresponse().read().decode().strip(), flush=True)
    except OSError as exc:
        print("ERROR", exc, flush=True)
"""


def rs(name: str, weight: int = 1, method: str = "NAT") -> Destination:
    return Destination(address=ip_address(SERVERS[name]), port=80, weight=weight,
                       method=method)


def web(*dests: Destination, scheduler: str = "rr", persistence: int | None = None,
        granularity: str | None = None) -> Service:
    return Service(protocol="TCP", address=ip_address(VIP), port=80, scheduler=scheduler,
                   persistence_timeout=persistence, persistence_granularity=granularity,
                   destinations=tuple(dests))


@dataclass
class LbLab:
    lab: Lab
    director: Host
    client: Host
    servers: dict[str, Host]
    vip: str = VIP
    source: str = CLIENT

    def get(self, count: int, source: str | None = None) -> list[str]:
        """``count`` requests to the VIP, each on a new connection: "<server> <client seen>"
        per request, or "ERROR ..." (each bounded by a 2 s timeout)."""
        out = self.client.run(sys.executable, "-c", CLIENT_LOOP, self.vip, str(count),
                              source or self.source, timeout=10 + 3 * count)
        return out.splitlines()

    def names(self, count: int, source: str | None = None) -> Counter[str]:
        return Counter(line.split()[0] for line in self.get(count, source))

    def in_director(self) -> contextlib.AbstractContextManager[None]:
        return netns.enter(self.director.netns)

    def keepalive(self) -> KeptAlive:
        proc = self.client.popen(sys.executable, "-c", CLIENT_KEEPALIVE, self.vip,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        return KeptAlive(proc)


@dataclass
class KeptAlive:
    proc: subprocess.Popen[str]

    def request(self) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()  # bounded by the client's 3 s timeout

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def _serving(director: Host, address: str) -> bool:
    with netns.enter(director.netns):
        try:
            with socket.create_connection((address, 80), timeout=0.5):
                return True
        except OSError:
            return False


def _start_servers(lab: Lab, servers: dict[str, Host], director: Host,
                   addresses: dict[str, str] = SERVERS) -> None:
    for name, host in servers.items():
        host.popen(sys.executable, "-c", SERVER, name, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    for name in servers:
        assert wait_for(lambda n=name: _serving(director, addresses[n]), timeout=15), \
            f"{name} does not answer"


@contextlib.contextmanager
def nat_lab(*, server_gateway: bool = True) -> Iterator[LbLab]:
    """The NAT topology; ``server_gateway`` False leaves the real servers without a route
    back to the client (only masquerade brings replies back then)."""
    with Lab(segments=2) as lab:
        director = lab.add_host("dir", [["192.0.2.1/24", f"{VIP}/32"], ["198.51.100.1/24"]],
                                ipv6=False)
        director.run("sysctl", "-qw", "net.ipv4.ip_forward=1")
        client = lab.add_host("cli", [[f"{CLIENT}/24", f"{CLIENT2}/24", f"{OTHER}/24"]],
                              ipv6=False)
        client.run("ip", "route", "add", "203.0.113.0/24", "via", "192.0.2.1")
        servers = {}
        for name, address in SERVERS.items():
            host = lab.add_host(name, [[], [f"{address}/24"]], ipv6=False)
            host.run("ip", "link", "set", "eth0", "down")  # not on the client's segment
            if server_gateway:
                host.run("ip", "route", "add", "default", "via", "198.51.100.1")
            servers[name] = host
        _start_servers(lab, servers, director)
        yield LbLab(lab, director, client, servers)


@contextlib.contextmanager
def nat_lab6() -> Iterator[LbLab]:
    """The NAT topology over IPv6 (VIP6, CLIENT6, SERVERS6)."""
    with Lab(segments=2) as lab:
        director = lab.add_host("dir", [["2001:db8:1::1/64", f"{VIP6}/128"],
                                        ["2001:db8:2::1/64"]])
        director.run("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        client = lab.add_host("cli", [[f"{CLIENT6}/64"]])
        client.run("ip", "-6", "route", "add", "2001:db8:ffff::/64", "via", "2001:db8:1::1")
        servers = {}
        for name, address in SERVERS6.items():
            host = lab.add_host(name, [[], [f"{address}/64"]])
            host.run("ip", "link", "set", "eth0", "down")
            host.run("ip", "-6", "route", "add", "default", "via", "2001:db8:2::1")
            servers[name] = host
        _start_servers(lab, servers, director, SERVERS6)
        yield LbLab(lab, director, client, servers, vip=VIP6, source=CLIENT6)


@contextlib.contextmanager
def dr_lab() -> Iterator[LbLab]:
    """The DR topology: one segment, VIP on the real servers' lo."""
    with Lab(segments=1) as lab:
        director = lab.add_host("dir", [["192.0.2.1/24", "198.51.100.1/24", f"{VIP}/32"]],
                                ipv6=False)
        client = lab.add_host("cli", [[f"{CLIENT}/24", f"{CLIENT2}/24", f"{OTHER}/24"]],
                              ipv6=False)
        client.run("ip", "route", "add", "203.0.113.0/24", "via", "192.0.2.1")
        servers = {}
        for name, address in SERVERS.items():
            host = lab.add_host(name, [[f"{address}/24"]], ipv6=False)
            for key in ("net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"):
                host.run("sysctl", "-qw", key)
            host.run("ip", "addr", "add", f"{VIP}/32", "dev", "lo")
            host.run("ip", "route", "add", "192.0.2.0/24", "dev", "eth0")
            servers[name] = host
        _start_servers(lab, servers, director)
        yield LbLab(lab, director, client, servers)
