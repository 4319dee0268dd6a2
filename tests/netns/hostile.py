"""A hostile VRRP peer: crafted datagrams, built by scapy, sent from a lab host's namespace.

The peer knows what anyone on the segment can learn (the VRID, the VIPs, the master's address,
the advert interval) but not the password. :func:`stream` gives one datagram of each kind a
receiver must refuse (RFC 3768 7.1, RFC 5798 7.1, RFC 2402 3.4.3 for AH's sequence number),
each labelled with its :class:`Crafted` ``kind``; :func:`send` puts them on the wire as
Ethernet frames from a host of the lab (an AF_PACKET socket inside its namespace, so any source
address, TTL or checksum goes out as built). :func:`valid_advert` makes the one advert that
*should* move the master, which keeps a test of refusals able to fail.

scapy is the encoder on purpose: it is not pykeepalived's, so a test does not check the
decoder against itself. keepalived's AH ICV is its own (the TTL is not zeroed, see
:mod:`pykeepalived.vrrp.packet`), so :func:`valid_advert` with AH uses pykeepalived's builder,
which the unit tests check against captures of keepalived.

Used by tests/netns/test_hostile_peer.py and meant for soak tests that need a stream of bad
packets: every function is deterministic for a given ``random.Random``.
"""

from __future__ import annotations

import ipaddress
import random
import select
import subprocess
from dataclasses import dataclass, field
from typing import Any

from pykeepalived.demo.lab import Host
from pykeepalived.vrrp import packet

MCAST4 = "224.0.0.18"
MCAST6 = "ff02::12"
MAC4 = "01:00:5e:00:00:12"  # RFC 1112 6.4: 224.0.0.18
MAC6 = "33:33:00:00:00:12"  # RFC 2464 7: ff02::12


@dataclass(frozen=True)
class Victim:
    """The virtual router under attack, as seen from the segment."""

    vrid: int
    vips: tuple[str, ...]  # addresses, no prefix length, in the order the master sends them
    master: str  # the master's advert source address
    attacker: str  # the hostile peer's own address (link-local for IPv6)
    version: int = 3
    advert_int: float = 1.0  # seconds
    auth_type: str = ""  # "", "PASS" or "AH" (VRRPv2 only)
    auth_pass: str = ""

    @property
    def family(self) -> int:
        return ipaddress.ip_address(self.master).version


@dataclass(frozen=True)
class Crafted:
    """One hostile datagram (whole IP datagram, header included) and what it is."""

    kind: str
    datagram: bytes = field(repr=False)


def _ip(victim: Victim, src: str | None = None, ttl: int = 255, proto: int = 112) -> Any:
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6

    source = src or victim.attacker
    if victim.family == 6:
        return IPv6(src=source, dst=MCAST6, hlim=ttl, nh=proto, tc=0xC0)
    return IP(src=source, dst=MCAST4, ttl=ttl, proto=proto, tos=0xC0)


def _vrrp(victim: Victim, *, priority: int, vrid: int | None = None,
          vips: tuple[str, ...] | None = None, version: int | None = None,
          advert_int: float | None = None, auth_type: int | None = None,
          password: bytes | None = None, **fields: Any) -> Any:
    """A VRRP layer like the master's, with the given fields changed."""
    from scapy.layers.vrrp import VRRP, VRRPv3

    addresses = list(victim.vips if vips is None else vips)
    version = victim.version if version is None else version
    interval = victim.advert_int if advert_int is None else advert_int
    vrid = victim.vrid if vrid is None else vrid
    if version == 2:
        kind = {"": 0, "PASS": 1, "AH": 2}[victim.auth_type] if auth_type is None else auth_type
        key = packet.auth_key(victim.auth_pass if password is None else password)
        if kind != packet.AUTH_PASS:
            key = bytes(8)
        return VRRP(vrid=vrid, priority=priority, addrlist=addresses, authtype=kind,
                    adv=max(1, round(interval)) if interval else 0,
                    auth1=int.from_bytes(key[:4], "big"), auth2=int.from_bytes(key[4:], "big"),
                    **fields)
    return VRRPv3(vrid=vrid, priority=priority, addrlist=addresses,
                  adv=round(interval * 100), **fields)


def _bytes(layers: Any) -> bytes:
    return bytes(layers)


def _ah(victim: Victim, src: str | None, vrrp_layer: Any, *, seq: int, icv: bytes,
        next_header: int = 112, payload_len: int = packet.AH_PAYLOAD_LEN) -> bytes:
    """IPv4 + AH + VRRPv2 with the given (wrong) ICV: what a peer without the key can do."""
    from scapy.layers.inet import IP
    from scapy.layers.ipsec import AH

    source = src or victim.attacker
    spi = int(ipaddress.IPv4Address(source))
    return bytes(IP(src=source, dst=MCAST4, ttl=255, tos=0xC0)
                 / AH(nh=next_header, payloadlen=payload_len, spi=spi, seq=seq, icv=icv)
                 / vrrp_layer)


def _with_ip_payload(victim: Victim, payload: bytes, *, ttl: int = 255) -> bytes:
    """An IP datagram carrying ``payload`` as protocol 112, lengths consistent.

    Over IPv6 the payload's checksum field is made right (when it has one): the kernel checks
    VRRPv3 checksums on IPv6 raw sockets, and the point is to reach the daemon's decoder.
    """
    from scapy.packet import Raw

    if victim.family == 6 and len(payload) >= 8:
        payload = _refresh_checksum(victim, bytearray(payload))
    return bytes(_ip(victim, ttl=ttl) / Raw(payload))


def _refresh_checksum(victim: Victim, message: bytearray) -> bytes:
    """Recompute the VRRP checksum of a hand-edited message (its lie stays, its sum is right)."""
    message[6:8] = b"\0\0"
    if victim.version == 2:
        csum = packet.internet_checksum(bytes(message))
    else:
        src = ipaddress.ip_address(victim.attacker)
        dst = ipaddress.ip_address(MCAST6 if victim.family == 6 else MCAST4)
        csum = packet.internet_checksum(packet.pseudo_header(src, dst, len(message))
                                        + bytes(message))
    message[6:8] = csum.to_bytes(2, "big")
    return bytes(message)


def valid_advert(victim: Victim, priority: int, *, src: str | None = None,
                 ah_seq: int = 1) -> bytes:
    """A correct advert for the victim's VRID (password known), from ``src`` or the attacker."""
    source = src or victim.attacker
    if victim.auth_type == "AH":
        addresses = tuple(ipaddress.IPv4Address(a) for a in victim.vips)
        advert = packet.Advert(2, victim.vrid, priority, float(round(victim.advert_int)),
                               addresses, packet.AUTH_AH, b"")
        return packet.build_ipv4_ah(advert, ipaddress.IPv4Address(source),
                                    packet.VRRP_MCAST_IPV4, victim.auth_pass, ah_seq, 1)
    return _bytes(_ip(victim, source) / _vrrp(victim, priority=priority))


def stream(victim: Victim, rng: random.Random, *, priority: int = 254) -> list[Crafted]:
    """One datagram of every kind the victim must refuse; ``priority`` is what the bad
    adverts claim (higher than the master's, so that accepting one would show)."""
    from scapy.packet import Raw

    out: list[Crafted] = []

    def add(kind: str, datagram: bytes) -> None:
        out.append(Crafted(kind, datagram))

    header_len = 40 if victim.family == 6 else 20
    message = _bytes(_ip(victim) / _vrrp(victim, priority=priority))[header_len:]

    # Noise: random bytes as protocol 112, for our VRID and for others.
    for _ in range(4):
        noise = bytearray(rng.randbytes(rng.randrange(8, 64)))
        noise[1] = victim.vrid
        add("random", _with_ip_payload(victim, bytes(noise)))
    others = [v for v in range(1, 256) if v != victim.vrid]
    for _ in range(2):
        noise = bytearray(rng.randbytes(rng.randrange(8, 64)))
        noise[1] = rng.choice(others)
        add("random_vrid", _with_ip_payload(victim, bytes(noise)))

    # Truncations: nothing or no VRID, a cut header, a message cut inside the address list.
    for size in (0, 1):
        add("truncated_head", _with_ip_payload(victim, message[:size]))
    for size in (2, 5, 7):
        add("truncated_header", _with_ip_payload(victim, message[:size]))
    add("truncated", _with_ip_payload(victim, message[:-2]))

    # Address count lies, with the checksum made right for the lie.
    more = bytearray(message)
    more[3] += 1
    add("count_more", _with_ip_payload(victim, _refresh_checksum(victim, more)))
    less = bytearray(message)
    less[3] -= 1
    add("count_less", _with_ip_payload(victim, _refresh_checksum(victim, less)))
    if len(victim.vips) > 1:
        add("fewer_vips", _bytes(_ip(victim) / _vrrp(victim, priority=priority,
                                                     vips=victim.vips[:-1])))
    foreign = tuple(_neighbour(v) for v in victim.vips)
    add("other_vips", _bytes(_ip(victim) / _vrrp(victim, priority=priority, vips=foreign)))

    # Checksum, TTL, version, type, VRID, interval.
    bad_sum = bytearray(message)
    bad_sum[6] ^= 0x5A
    add("checksum", bytes(_ip(victim) / Raw(bytes(bad_sum))))
    add("ttl", _bytes(_ip(victim, ttl=64) / _vrrp(victim, priority=priority)))
    if victim.family == 4:
        other = 3 if victim.version == 2 else 2
        add("version", _bytes(_ip(victim) / _vrrp(victim, priority=priority, version=other)))
    for nibble in (1, 4, 15):
        odd = bytearray(message)
        odd[0] = nibble << 4 | 1
        add("version", _with_ip_payload(victim, _refresh_checksum(victim, odd)))
    add("type", _bytes(_ip(victim) / _vrrp(victim, priority=priority, type=2)))
    add("vrid", _bytes(_ip(victim) / _vrrp(victim, priority=priority,
                                           vrid=victim.vrid % 255 + 1)))
    add("advert_int_zero", _bytes(_ip(victim) / _vrrp(victim, priority=priority, advert_int=0)))
    if victim.version == 2:
        add("advert_int", _bytes(_ip(victim) / _vrrp(victim, priority=priority,
                                                     advert_int=victim.advert_int + 1)))

    # Adverts that claim to come from the master itself.
    add("own_source", _bytes(_ip(victim, victim.master) / _vrrp(victim, priority=priority)))

    if victim.version == 2:
        out += _auth_kinds(victim, rng, priority)
    return out


def _auth_kinds(victim: Victim, rng: random.Random, priority: int) -> list[Crafted]:
    """Wrong or missing authentication (RFC 3768 5.3.6, keepalived's AH)."""
    out = [
        Crafted("auth_none", _bytes(_ip(victim) / _vrrp(victim, priority=priority,
                                                        auth_type=0))),
        Crafted("auth_invalid_type", _bytes(_ip(victim) / _vrrp(victim, priority=priority,
                                                                auth_type=7))),
    ]
    if victim.auth_type == "PASS":
        out += [
            Crafted("auth_pass_wrong", _bytes(_ip(victim) / _vrrp(
                victim, priority=priority, password=b"guessed!"))),
            Crafted("owner_bad_auth", _bytes(_ip(victim) / _vrrp(
                victim, priority=255, password=b"wrong"))),
            Crafted("auth_ah_type", _bytes(_ip(victim) / _vrrp(
                victim, priority=priority, auth_type=2))),
        ]
    elif victim.auth_type == "AH":
        seq = 1 << 30  # far ahead of any counter: only the ICV can refuse it
        out += [
            Crafted("ah_missing", _bytes(_ip(victim) / _vrrp(victim, priority=priority))),
            Crafted("ah_bad_icv", _ah(victim, None, _vrrp(victim, priority=priority),
                                      seq=seq, icv=rng.randbytes(12))),
            Crafted("owner_bad_auth", _ah(victim, None, _vrrp(victim, priority=255),
                                          seq=seq + 1, icv=rng.randbytes(12))),
            Crafted("ah_next_header", _ah(victim, None, _vrrp(victim, priority=priority),
                                          seq=seq + 2, icv=rng.randbytes(12),
                                          next_header=6)),
            Crafted("ah_payload_len", _ah(victim, None, _vrrp(victim, priority=priority),
                                          seq=seq + 3, icv=rng.randbytes(12),
                                          payload_len=7)),
        ]
    return out


def _neighbour(address: str) -> str:
    """An address next to ``address`` (another VIP the victim does not serve)."""
    ip = ipaddress.ip_address(address)
    return str(ip + 100)


# --------------------------------------------------------------------------- the wire
def ether(datagram: bytes, src_mac: str) -> bytes:
    """``datagram`` in an Ethernet frame to the VRRP group's MAC."""
    from scapy.layers.l2 import Ether

    version = datagram[0] >> 4
    dst, etype = (MAC6, 0x86DD) if version == 6 else (MAC4, 0x0800)
    return bytes(Ether(src=src_mac, dst=dst, type=etype)) + datagram


def mac_of(host: Host, ifname: str = "eth0") -> str:
    return host.run("cat", f"/sys/class/net/{ifname}/address").strip()


def link_local(host: Host, ifname: str = "eth0") -> str:
    """The IPv6 link-local address of ``host``'s ``ifname`` (an IPv6 VRRP source)."""
    out = host.run("ip", "-6", "-o", "addr", "show", "dev", ifname, "scope", "link")
    for line in out.splitlines():
        parts = line.split()
        if "inet6" in parts:
            return parts[parts.index("inet6") + 1].split("/")[0]
    raise AssertionError(f"no link-local address on {host.name} {ifname}: {out!r}")


class Sender:
    """A sender that stays up in ``host``'s namespace: one Python start-up for many sends.

    Each :meth:`send` writes one line (the frames in hex) to it and waits for its answer,
    so when it returns, every frame has been handed to the kernel.
    """

    _SCRIPT = """\
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for line in sys.stdin:
    words = line.split()
    gap = float(words[0])
    for word in words[1:]:
        s.send(bytes.fromhex(word))
        if gap:
            time.sleep(gap)
    sys.stdout.write("sent %d\\n" % (len(words) - 1))
    sys.stdout.flush()
"""

    def __init__(self, host: Host, ifname: str = "eth0") -> None:
        self.mac = mac_of(host, ifname)
        self.proc = host.popen("python3", "-u", "-c", self._SCRIPT, ifname,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)

    def send(self, datagrams: list[bytes], *, gap: float = 0.0, timeout: float = 30.0) -> None:
        """Send whole IP datagrams as they are, ``gap`` seconds apart."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        line = " ".join([repr(gap), *(ether(d, self.mac).hex() for d in datagrams)])
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        answer = self.proc.stdout.readline().decode().strip() if ready else "(no answer)"
        if answer != f"sent {len(datagrams)}":
            raise AssertionError(f"sender: {answer!r}, {self._stderr()}")

    def _stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return "still running"
        return self.proc.stderr.read().decode(errors="replace")

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def send(host: Host, datagrams: list[bytes], *, ifname: str = "eth0",
         gap: float = 0.0) -> None:
    """Send whole IP datagrams from ``host``'s ``ifname`` as they are (``gap`` s apart)."""
    with Sender(host, ifname) as sender:
        sender.send(datagrams, gap=gap)
