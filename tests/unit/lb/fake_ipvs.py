"""An in-memory IPVS that speaks the kernel's bytes.

Requests are encoded to bytes as pyroute2 would send them and read back attribute by
attribute the way ``ip_vs_ctl.c`` reads them (``nla_get_u16``, ``nla_get_be16``, memcpy of
the address, the netmask's four raw bytes ...), with no pyroute2 involved; replies are built as
the kernel's fill functions build them (16-byte addresses, counters, ADDR_FAMILY last) and
decoded with pyroute2's ``ipvsmsg``, as the backend receives them from a real socket.
"""

from __future__ import annotations

import errno
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.generic import ipvs as genl

NLA_TYPE_MASK = 0x3FFF

SVC = {"AF": 1, "PROTOCOL": 2, "ADDR": 3, "PORT": 4, "FWMARK": 5, "SCHED_NAME": 6,
       "FLAGS": 7, "TIMEOUT": 8, "NETMASK": 9}
DEST = {"ADDR": 1, "PORT": 2, "FWD_METHOD": 3, "WEIGHT": 4, "U_THRESH": 5, "L_THRESH": 6,
        "ACTIVE_CONNS": 7, "INACT_CONNS": 8, "PERSIST_CONNS": 9, "ADDR_FAMILY": 11,
        "TUN_TYPE": 13, "TUN_PORT": 14, "TUN_FLAGS": 15}
CMD_SERVICE, CMD_DEST = 1, 2


def parse_attrs(data: bytes) -> dict[int, bytes]:
    """type -> payload of a run of netlink attributes."""
    out: dict[int, bytes] = {}
    offset = 0
    while offset + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, offset)
        out[kind & NLA_TYPE_MASK] = data[offset + 4:offset + length]
        offset += (length + 3) & ~3
    return out


def nla(kind: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def u16(b: bytes) -> int:
    return int(struct.unpack("=H", b[:2])[0])


def u32(b: bytes) -> int:
    return int(struct.unpack("=I", b[:4])[0])


def be16(b: bytes) -> int:
    return int(struct.unpack(">H", b[:2])[0])


def addr_text(af: int, raw: bytes) -> str:
    if af == socket.AF_INET6:
        return socket.inet_ntop(af, raw[:16])
    return socket.inet_ntop(af, raw[:4])


def addr_bytes(af: int, text: str) -> bytes:
    return socket.inet_pton(af, text).ljust(16, b"\0")


@dataclass
class KernelDest:
    af: int
    addr: str
    port: int
    fwd: int
    weight: int
    u_thresh: int
    l_thresh: int
    tun_type: int = 0
    tun_port: int = 0  # host integer, as the kernel's ntohs() gives it
    tun_flags: int = 0
    active: int = 0


@dataclass
class KernelService:
    af: int
    protocol: int
    addr: str | None
    port: int
    fwmark: int
    sched: str = "wlc"
    flags: int = 0
    timeout: int = 0
    netmask_raw: bytes = b"\xff\xff\xff\xff"
    dests: dict[tuple[str, int], KernelDest] = field(default_factory=dict)

    def key(self) -> tuple[object, ...]:
        if self.fwmark:
            return ("fwm", self.af, self.fwmark)
        return (self.af, self.protocol, self.addr, self.port)


@dataclass
class Logged:
    cmd: int
    service: dict[int, bytes]
    dest: dict[int, bytes] | None


class FakeIpvs:
    """Implements the backend's IpvsTransport."""

    def __init__(self) -> None:
        self.services: dict[tuple[object, ...], KernelService] = {}
        self.log: list[Logged] = []
        self.fail_on: int | None = None  # errno for the next change request
        self.closed = False

    # --------------------------------------------------------------- transport
    def request(self, msg: Any, flags: int) -> list[Any]:
        msg["header"]["type"] = 42  # the family id a real socket would put
        msg["header"]["flags"] = flags
        msg.encode()
        data = bytes(msg.data)
        cmd = data[16]
        top = parse_attrs(data[20:])
        svc = parse_attrs(top[CMD_SERVICE]) if CMD_SERVICE in top else {}
        dest = parse_attrs(top[CMD_DEST]) if CMD_DEST in top else None
        if cmd == genl.IPVS_CMD_GET_SERVICE:
            return [self._reply(cmd, self._fill_service(s)) for s in self.services.values()]
        if cmd == genl.IPVS_CMD_GET_DEST:
            service = self._find(svc)
            if service is None:
                raise NetlinkError(errno.ESRCH)
            return [self._reply(cmd, b"", self._fill_dest(d)) for d in service.dests.values()]
        self.log.append(Logged(cmd, svc, dest))
        if self.fail_on is not None:
            code, self.fail_on = self.fail_on, None
            raise NetlinkError(code)
        self._change(cmd, svc, dest)
        return []

    def close(self) -> None:
        self.closed = True

    # --------------------------------------------------------------- the kernel's rules
    def _key_of(self, svc: dict[int, bytes]) -> tuple[object, ...]:
        af = u16(svc[SVC["AF"]])
        if SVC["FWMARK"] in svc:
            return ("fwm", af, u32(svc[SVC["FWMARK"]]))
        return (af, u16(svc[SVC["PROTOCOL"]]), addr_text(af, svc[SVC["ADDR"]]),
                be16(svc[SVC["PORT"]]))

    def _find(self, svc: dict[int, bytes]) -> KernelService | None:
        return self.services.get(self._key_of(svc))

    def _change(self, cmd: int, svc: dict[int, bytes], dest: dict[int, bytes] | None) -> None:
        service = self._find(svc)
        if cmd == genl.IPVS_CMD_NEW_SERVICE:
            if service is not None:
                raise NetlinkError(errno.EEXIST)
            key = self._key_of(svc)
            af = u16(svc[SVC["AF"]])
            new = KernelService(af=af, protocol=u16(svc.get(SVC["PROTOCOL"], b"\x06\0")),
                                addr=None if key[0] == "fwm" else str(key[2]),
                                port=0 if key[0] == "fwm" else int(str(key[3])),
                                fwmark=int(str(key[2])) if key[0] == "fwm" else 0)
            self._set_service(new, svc)
            self.services[key] = new
        elif cmd == genl.IPVS_CMD_SET_SERVICE:
            if service is None:
                raise NetlinkError(errno.ESRCH)
            self._set_service(service, svc)
        elif cmd == genl.IPVS_CMD_DEL_SERVICE:
            if service is None:
                raise NetlinkError(errno.ESRCH)
            del self.services[service.key()]
        else:
            if service is None:
                raise NetlinkError(errno.ESRCH)
            assert dest is not None
            af = u16(dest[DEST["ADDR_FAMILY"]]) if DEST["ADDR_FAMILY"] in dest else service.af
            dkey = (addr_text(af, dest[DEST["ADDR"]]), be16(dest[DEST["PORT"]]))
            old = service.dests.get(dkey)
            if cmd == genl.IPVS_CMD_DEL_DEST:
                if old is None:
                    raise NetlinkError(errno.ENOENT)
                del service.dests[dkey]
                return
            if cmd == genl.IPVS_CMD_NEW_DEST and old is not None:
                raise NetlinkError(errno.EEXIST)
            if cmd == genl.IPVS_CMD_SET_DEST and old is None:
                raise NetlinkError(errno.ENOENT)
            for needed in ("FWD_METHOD", "WEIGHT", "U_THRESH", "L_THRESH"):
                if DEST[needed] not in dest:
                    raise NetlinkError(errno.EINVAL)
            kd = KernelDest(af=af, addr=dkey[0], port=dkey[1],
                            fwd=u32(dest[DEST["FWD_METHOD"]]) & 7,
                            weight=u32(dest[DEST["WEIGHT"]]),
                            u_thresh=u32(dest[DEST["U_THRESH"]]),
                            l_thresh=u32(dest[DEST["L_THRESH"]]),
                            tun_type=dest.get(DEST["TUN_TYPE"], b"\0")[0],
                            tun_port=be16(dest.get(DEST["TUN_PORT"], b"\0\0")),
                            tun_flags=u16(dest.get(DEST["TUN_FLAGS"], b"\0\0")))
            if old is not None:
                kd.active = old.active  # an edited destination keeps its connections
            service.dests[dkey] = kd

    @staticmethod
    def _set_service(service: KernelService, svc: dict[int, bytes]) -> None:
        for needed in ("SCHED_NAME", "FLAGS", "TIMEOUT", "NETMASK"):
            if SVC[needed] not in svc:
                raise NetlinkError(errno.EINVAL)
        flags, mask = struct.unpack("=II", svc[SVC["FLAGS"]][:8])
        service.flags = ((service.flags & ~mask) | (flags & mask)) | 0x2  # HASHED
        service.sched = svc[SVC["SCHED_NAME"]].rstrip(b"\0").decode()
        service.timeout = u32(svc[SVC["TIMEOUT"]])
        service.netmask_raw = svc[SVC["NETMASK"]][:4]
        if service.af == socket.AF_INET6 and not 1 <= u32(service.netmask_raw) <= 128:
            raise NetlinkError(errno.EINVAL)

    # --------------------------------------------------------------- replies
    @staticmethod
    def _fill_service(s: KernelService) -> bytes:
        body = nla(SVC["AF"], struct.pack("=H", s.af))
        if s.fwmark:
            body += nla(SVC["FWMARK"], struct.pack("=I", s.fwmark))
        else:
            assert s.addr is not None
            body += (nla(SVC["PROTOCOL"], struct.pack("=H", s.protocol))
                     + nla(SVC["ADDR"], addr_bytes(s.af, s.addr))
                     + nla(SVC["PORT"], struct.pack(">H", s.port)))
        body += (nla(SVC["SCHED_NAME"], s.sched.encode() + b"\0")
                 + nla(SVC["FLAGS"], struct.pack("=II", s.flags, 0xFFFFFFFF))
                 + nla(SVC["TIMEOUT"], struct.pack("=I", s.timeout))
                 + nla(SVC["NETMASK"], s.netmask_raw))
        return body

    @staticmethod
    def _fill_dest(d: KernelDest) -> bytes:
        return (nla(DEST["ADDR"], addr_bytes(d.af, d.addr))
                + nla(DEST["PORT"], struct.pack(">H", d.port))
                + nla(DEST["FWD_METHOD"], struct.pack("=I", d.fwd))
                + nla(DEST["WEIGHT"], struct.pack("=I", d.weight))
                + nla(DEST["TUN_TYPE"], struct.pack("=B", d.tun_type))
                + nla(DEST["TUN_PORT"], struct.pack(">H", d.tun_port))
                + nla(DEST["TUN_FLAGS"], struct.pack("=H", d.tun_flags))
                + nla(DEST["U_THRESH"], struct.pack("=I", d.u_thresh))
                + nla(DEST["L_THRESH"], struct.pack("=I", d.l_thresh))
                + nla(DEST["ACTIVE_CONNS"], struct.pack("=I", d.active))
                + nla(DEST["INACT_CONNS"], struct.pack("=I", 0))
                + nla(DEST["PERSIST_CONNS"], struct.pack("=I", 0))
                + nla(DEST["ADDR_FAMILY"], struct.pack("=H", d.af)))

    @staticmethod
    def _reply(cmd: int, service: bytes, dest: bytes | None = None) -> Any:
        attrs = b""
        if service:
            attrs += nla(CMD_SERVICE | 0x8000, service)
        if dest is not None:
            attrs += nla(CMD_DEST | 0x8000, dest)
        payload = struct.pack("=BBH", cmd, genl.GENL_VERSION, 0) + attrs
        data = struct.pack("=IHHII", 16 + len(payload), 42, 2, 1, 0) + payload
        msg = genl.ipvsmsg(data)
        msg.decode()
        return msg

    # --------------------------------------------------------------- helpers for tests
    def commands(self) -> list[int]:
        return [entry.cmd for entry in self.log]
