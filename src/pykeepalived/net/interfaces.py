"""Quick questions about interfaces: index, existence, state, MAC, primary address.

These are asked at start-up, on reload and when the reflector reports a change, never per
packet. The IPv4 answers come from ioctls (netdevice(7)), which cost microseconds and need no
netlink socket; the IPv6 link-local comes from an RTM_GETADDR dump, as the ioctls know
nothing of IPv6. Everything is read in the network namespace of the calling thread.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pykeepalived.net import _netlink as nl

# (the netlink module, about 1 ms to import, is imported where it is used: the ioctl and
# sysfs answers are all that `pykeepalived -t` asks for)

SIOCGIFFLAGS = 0x8913
SIOCGIFADDR = 0x8915
SIOCGIFHWADDR = 0x8927
_IFREQ = struct.Struct("16s24s")


def _ioctl(ifname: str, request: int) -> bytes | None:
    name = ifname.encode()
    if not name or len(name) > 15:
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            return fcntl.ioctl(sock.fileno(), request, _IFREQ.pack(name, b""))
        except OSError:
            return None


def ifindex(name: str) -> int | None:
    """The interface index of ``name``, or None when there is no such interface."""
    try:
        return socket.if_nametoindex(name)
    except (OSError, ValueError):
        return None


def ifname(index: int) -> str | None:
    """The name of interface ``index``, or None."""
    try:
        return socket.if_indextoname(index)
    except (OSError, ValueError, OverflowError):
        return None


def exists(name: str) -> bool:
    return ifindex(name) is not None


def names() -> list[str]:
    """Every interface of this network namespace, as ``ip link`` lists them."""
    try:
        return [name for _index, name in socket.if_nameindex()]
    except OSError:
        return []


ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772


def arphrd(name: str) -> int:
    """The interface's hardware type (ARPHRD_*), read from sysfs."""
    try:
        with open(f"/sys/class/net/{name}/type") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return ARPHRD_LOOPBACK if name == "lo" else ARPHRD_ETHER


def address_families(ifnames: list[str]) -> dict[str, set[int]]:
    """Which address families (4, 6) each interface has an address of: IPv4 from its
    primary address (SIOCGIFADDR), IPv6 from /proc/net/if_inet6."""
    found: dict[str, set[int]] = {name: set() for name in ifnames}
    for name in ifnames:
        if _ioctl(name, SIOCGIFADDR) is not None:
            found[name].add(4)
    try:
        with open("/proc/net/if_inet6") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and parts[5] in found:
                    found[parts[5]].add(6)
    except OSError:
        pass
    return found


def link_flags(ifname: str) -> int | None:
    """The IFF_* flags of the interface (netdevice(7) SIOCGIFFLAGS), or None."""
    raw = _ioctl(ifname, SIOCGIFFLAGS)
    if raw is None:
        return None
    return int(struct.unpack_from("H", raw, 16)[0])


def link_is_up(ifname: str) -> bool:
    """True when the interface is administratively up (IFF_UP) and running (IFF_RUNNING).

    IFF_RUNNING is the kernel's RFC 2863 operational state: it drops when a veth's peer goes
    down or a NIC loses carrier. keepalived tracks its interface this way: down means FAULT.
    """
    flags = link_flags(ifname)
    if flags is None:
        return False
    from pykeepalived.net import _netlink as nl

    return bool(flags & nl.IFF_UP) and bool(flags & nl.IFF_RUNNING)


def mac_address(ifname: str) -> str | None:
    """The hardware address as ``aa:bb:cc:dd:ee:ff`` (SIOCGIFHWADDR), or None."""
    raw = _ioctl(ifname, SIOCGIFHWADDR)
    if raw is None:
        return None
    return ":".join(f"{b:02x}" for b in raw[18:24])


def mac_bytes(ifname: str) -> bytes | None:
    raw = _ioctl(ifname, SIOCGIFHWADDR)
    return None if raw is None else bytes(raw[18:24])


def addresses(ifname: str, family: int) -> list[nl.AddrInfo]:
    """Every address of ``family`` (4 or 6) on the interface, in the kernel's order."""
    index = ifindex(ifname)
    if index is None:
        return []
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    from pykeepalived.net import _netlink as nl

    rtnl = nl.RtnlSocket(rcvbuf=1 << 18)
    try:
        return nl.dump_addrs(rtnl, af, index)
    finally:
        rtnl.close()


def primary_address(ifname: str, family: int) -> str | None:
    """The address VRRP sends from when no mcast_src_ip/unicast_src_ip is configured.

    IPv4: the interface's first primary address (what SIOCGIFADDR returns: the kernel keeps
    primaries ahead of secondaries). IPv6: the link-local address, as RFC 5798 5.1.2.1 asks
    ("the IPv6 link-local address of the interface"); a tentative or dadfailed one is skipped.
    """
    if family == 4:
        raw = _ioctl(ifname, SIOCGIFADDR)
        if raw is None:
            return None
        address = socket.inet_ntop(socket.AF_INET, raw[20:24])
        return None if address == "0.0.0.0" else address
    if family != 6:
        raise ValueError(f"family must be 4 or 6, not {family!r}")
    tentative_or_failed = 0x40 | 0x08  # IFA_F_TENTATIVE | IFA_F_DADFAILED
    for info in addresses(ifname, 6):
        if ipaddress.IPv6Address(info.address).is_link_local and not (
            info.flags & tentative_or_failed
        ):
            return info.address
    return None


def local_addresses() -> list[str]:
    """Every address on every interface of this network namespace (IPv4 and IPv6)."""
    from pykeepalived.net import _netlink as nl

    rtnl = nl.RtnlSocket(rcvbuf=1 << 20)
    try:
        return [info.address for info in nl.dump_addrs(rtnl)]
    finally:
        rtnl.close()
