"""use_vmac: a macvlan carrying the virtual router MAC (RFC 5798 7.3) and the VIPs.

What Debian's keepalived 2.2.7 does, measured by running it with ``use_vmac`` in a namespace
and reading ``ip -d link``, ``ip addr`` and /proc/sys before and after:

- a macvlan in mode private on the base interface, named ``vrrp.<VRID>`` for IPv4 *and* for
  IPv6 instances (``use_vmac NAME`` overrides), MAC 00:00:5e:00:01:VRID (IPv4) or
  00:00:5e:00:02:VRID (IPv6), IPv6 address generation mode ``none`` (addr_gen_mode=1);
- IPv4 VMAC: arp_ignore=1, accept_local=1, promote_secondaries=1, rp_filter=0 and IPv6
  disabled on it (disable_ipv6=1), so the macvlan never sends router solicitations or MLD
  reports with the shared MAC;
- IPv6 VMAC: a link-local address copied from the base interface, ``nodad`` and deprecated
  (preferred_lft 0), so the VMAC has the link-local RFC 5798 needs as advert source, while
  the base interface's own one stays the preferred source for everything else;
- IPv4: settings of the base interface and of all/default rp_filter, put back when the last
  VMAC goes: see :mod:`pykeepalived.net.vmac_sysctl`.

``vmac_xmit_base`` (keepalived.conf(5): "Send/Recv VRRP messages from base interface instead
of VMAC interface") only changes where the VRRP socket is opened: see
:func:`advert_interface`.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any

from pykeepalived.net import _netlink as nl
from pykeepalived.net import interfaces, vmac_sysctl
from pykeepalived.net.iproute import run_in_thread

log = logging.getLogger(__name__)

IFNAMSIZ = 16

#: sysctls set on the VMAC, per family of the VRRP instance.
VMAC_SYSCTLS4 = {
    "net/ipv4/conf/{vmac}/arp_ignore": "1",
    "net/ipv4/conf/{vmac}/accept_local": "1",
    "net/ipv4/conf/{vmac}/rp_filter": "0",
    "net/ipv4/conf/{vmac}/promote_secondaries": "1",
    "net/ipv6/conf/{vmac}/disable_ipv6": "1",
}
VMAC_SYSCTLS6: dict[str, str] = {}
IN6_ADDR_GEN_MODE_NONE = "1"


class VmacError(OSError):
    """A VMAC could not be made (name taken by another kind of link, base missing ...)."""


def vmac_mac(vrid: int, family: int = 4) -> str:
    """The virtual router MAC address, RFC 5798 7.3: 00-00-5E-00-01-{VRID} for IPv4,
    00-00-5E-00-02-{VRID} for IPv6."""
    if not 1 <= vrid <= 255:
        raise ValueError(f"virtual_router_id must be 1..255, not {vrid}")
    if family not in (4, 6):
        raise ValueError(f"family must be 4 or 6, not {family!r}")
    return f"00:00:5e:00:0{1 if family == 4 else 2}:{vrid:02x}"


def default_vmac_name(vrid: int, family: int = 4) -> str:
    """keepalived 2.2.7's name for a VMAC: ``vrrp.<VRID>`` for both families."""
    return f"vrrp.{vrid}"


def advert_interface(base_ifname: str, vmac_ifname: str | None, vmac_xmit_base: bool) -> str:
    """Where an instance's VRRP socket belongs: the VMAC, or the base interface when
    ``vmac_xmit_base`` is set (or there is no VMAC)."""
    if vmac_ifname is None or vmac_xmit_base:
        return base_ifname
    return vmac_ifname


def _link_kind(ipr: Any, index: int) -> tuple[str | None, int | None, str | None]:
    """(kind, lower link index, MAC) of an existing link."""
    link = ipr.get_links(index)[0]
    info = link.get("IFLA_LINKINFO")
    kind = info.get("IFLA_INFO_KIND") if info is not None else None
    return kind, link.get("IFLA_LINK"), link.get("IFLA_ADDRESS")


def create_vmac(base_ifname: str, vrid: int, family: int = 4, name: str | None = None,
                *, mac: str | None = None) -> str:
    """Create (or adopt, if it already exists as a matching macvlan) the VMAC interface and
    return its name. The link is up and configured as keepalived configures it."""
    name = name or default_vmac_name(vrid, family)
    if len(name.encode()) >= IFNAMSIZ:
        raise VmacError(errno.EINVAL, f"VMAC name {name!r} is longer than 15 characters")
    mac = (mac or vmac_mac(vrid, family)).lower()
    base = interfaces.ifindex(base_ifname)
    if base is None:
        raise VmacError(errno.ENODEV, f"({base_ifname}) no such interface for use_vmac")
    # before the link exists, so that it inherits default.rp_filter as raised there
    acquired = family == 4 and vmac_sysctl.acquire(name, base_ifname)
    try:
        index = run_in_thread(lambda ipr: _create(ipr, base_ifname, base, name, mac, family))
    except BaseException:
        if acquired:
            vmac_sysctl.release(name)
        raise
    if family == 6:
        _copy_link_local(base_ifname, name, index)
    return name


def _create(ipr: Any, base_ifname: str, base: int, name: str, mac: str, family: int) -> int:
    """The netlink part of :func:`create_vmac` (in the IPRoute worker thread)."""
    from pyroute2 import NetlinkError

    existing = interfaces.ifindex(name)
    if existing is not None:
        kind, lower, current_mac = _link_kind(ipr, existing)
        if kind != "macvlan" or lower != base:
            raise VmacError(errno.EEXIST, f"{name} exists and is not a macvlan on "
                            f"{base_ifname}")
        if current_mac != mac:
            ipr.link("set", index=existing, state="down")
            ipr.link("set", index=existing, address=mac)
        log.info("(%s) adopting existing VMAC %s", base_ifname, name)
    else:
        try:
            ipr.link("add", ifname=name, kind="macvlan", link=base,
                     macvlan_mode="private", address=mac)
        except NetlinkError as exc:
            raise VmacError(exc.code, f"cannot create VMAC {name} on {base_ifname}: "
                            f"{exc}") from exc
        log.info("(%s) created VMAC %s with MAC %s", base_ifname, name, mac)
    index = interfaces.ifindex(name)
    if index is None:
        raise VmacError(errno.ENODEV, f"VMAC {name} vanished after creation")
    _configure(name, family)
    ipr.link("set", index=index, state="up")
    return index


def _configure(vmac: str, family: int) -> None:
    # Before the link goes up: with addr_gen_mode none the kernel makes no link-local
    # from the shared MAC (which every router would share: a DAD failure).
    vmac_sysctl.write_sysctl(f"net/ipv6/conf/{vmac}/addr_gen_mode", IN6_ADDR_GEN_MODE_NONE)
    own = VMAC_SYSCTLS4 if family == 4 else VMAC_SYSCTLS6
    for path, value in own.items():
        vmac_sysctl.write_sysctl(path.format(vmac=vmac), value)


def _copy_link_local(base_ifname: str, vmac: str, index: int) -> None:
    """Give the IPv6 VMAC the base interface's link-local, nodad and deprecated."""
    link_local = interfaces.primary_address(base_ifname, 6)
    if link_local is None:
        log.warning("(%s) has no IPv6 link-local address to give VMAC %s", base_ifname, vmac)
        return
    body = nl.ifaddrmsg(socket.AF_INET6, 64, nl.IFA_F_NODAD, nl.RT_SCOPE_LINK, index)
    packed = socket.inet_pton(socket.AF_INET6, link_local)
    body += nl.attr(nl.IFA_LOCAL, packed) + nl.attr(nl.IFA_ADDRESS, packed)
    body += nl.attr(nl.IFA_CACHEINFO, nl.cacheinfo(0, nl.INFINITY_LIFE_TIME))
    rtnl = nl.RtnlSocket(rcvbuf=1 << 16)
    try:
        [code] = rtnl.transact([(nl.RTM_NEWADDR, nl.NLM_F_CREATE | nl.NLM_F_REPLACE, body)])
    finally:
        rtnl.close()
    if code and code != errno.EEXIST:
        log.warning("(%s) cannot add link-local %s: %s", vmac, link_local, errno.errorcode.get(
            code, code))


def delete_vmac(name: str) -> None:
    """Delete the VMAC (its addresses go with it), then put back the host settings no other
    VMAC needs; a missing one is not an error."""
    index = interfaces.ifindex(name)
    if index is None:
        log.debug("VMAC %s already gone", name)
    else:
        run_in_thread(lambda ipr: _delete(ipr, name, index))
    vmac_sysctl.release(name)


def _delete(ipr: Any, name: str, index: int) -> None:
    from pyroute2 import NetlinkError

    try:
        ipr.link("del", index=index)
        log.info("deleted VMAC %s", name)
    except NetlinkError as exc:
        if exc.code != errno.ENODEV:
            raise VmacError(exc.code, f"cannot delete VMAC {name}: {exc}") from exc
