"""What the configuration checks need to know about the host: interfaces, users, scripts.

keepalived validates a configuration against the machine it runs on: a vrrp_instance on
an interface that does not exist makes ``keepalived -t`` fail, scripts that exist but run
without ``enable_script_security`` are a security error. Gathering those facts here, behind
one small class, keeps the parser pure and lets tests describe a host with a literal.
"""

from __future__ import annotations

import grp
import os
import pwd
import socket
import stat
from dataclasses import field

from pykeepalived.config.model_base import model
from pykeepalived.net import interfaces as netif

ARPHRD_ETHER = netif.ARPHRD_ETHER
ARPHRD_LOOPBACK = netif.ARPHRD_LOOPBACK


@model(slots=False)
class SystemInfo:
    """Facts about the host. ``interfaces`` maps name -> ARPHRD type."""

    interfaces: dict[str, int] = field(default_factory=dict)
    users: set[str] | None = None  # None = ask the system
    groups: set[str] | None = None
    probe_files: bool = True  # look scripts up on the filesystem
    addresses: dict[str, set[int]] | None = None  # interface -> address families on it
    hostnames: set[str] | None = None  # names that resolve (None = ask the resolver)
    _tables: set[str] | None = None

    @classmethod
    def probe(cls) -> SystemInfo:
        """The interfaces of the current network namespace (as ``ip link`` lists them); the
        facts come from :mod:`pykeepalived.net.interfaces`, as the daemon's do."""
        return cls({name: netif.arphrd(name) for name in netif.names()})

    @classmethod
    def fake(cls, interfaces: list[str] | dict[str, int], *, users: set[str] | None = None,
             probe_files: bool = False) -> SystemInfo:
        """A host described by a test: ``fake(["lo", "eth0"])``."""
        if isinstance(interfaces, list):
            interfaces = {n: ARPHRD_LOOPBACK if n == "lo" else ARPHRD_ETHER
                          for n in interfaces}
        return cls(dict(interfaces), users if users is not None else {"root"}, {"root"},
                   probe_files, {n: {4, 6} for n in interfaces}, {"localhost"})

    def has_interface(self, name: str) -> bool:
        return name in self.interfaces

    def has_address(self, name: str, family: int) -> bool:
        """Whether ``name`` has an address keepalived could send adverts from."""
        if self.addresses is None:
            self.addresses = netif.address_families(list(self.interfaces))
        return family in self.addresses.get(name, set())

    def resolves(self, name: str) -> bool:
        """Whether getaddrinfo() finds an address for ``name`` (a host name or a numeric
        address), as keepalived's domain_stosockaddr() asks it when reading smtp_server."""
        if self.hostnames is not None:
            return name in self.hostnames or _numeric_address(name)
        try:
            return bool(socket.getaddrinfo(name, None))
        except (OSError, UnicodeError, ValueError):
            return False

    def route_tables(self) -> set[str]:
        """Routing table names: the built-in ones and /etc/iproute2/rt_tables(.d), as the
        daemon resolves them (:func:`pykeepalived.net.routes.route_table_ids`)."""
        if self._tables is None:
            from pykeepalived.net.routes import route_table_ids

            self._tables = set(route_table_ids())
        return self._tables

    def is_loopback(self, name: str) -> bool:
        return self.interfaces.get(name) == ARPHRD_LOOPBACK

    def user_exists(self, name: str) -> bool:
        if self.users is not None:
            return name in self.users
        try:
            pwd.getpwnam(name)
        except KeyError:
            return False
        return True

    def group_exists(self, name: str) -> bool:
        if self.groups is not None:
            return name in self.groups
        try:
            grp.getgrnam(name)
        except KeyError:
            return False
        return True

    def script_status(self, path: str) -> str:
        """keepalived's check_script_secure() verdict in short.

        "system" for ``</path`` file probes, "missing" when the file cannot be found or
        stat()ed, "notexec" when it is not executable, "script" otherwise. keepalived counts
        "script" and "notexec" alike as scripts for script security (SC_ISSCRIPT is set once
        stat() succeeds): see :func:`is_script`.
        """
        if path.startswith("<") and path[1:].lstrip(" \t").startswith("/"):
            return "system"
        if not self.probe_files:
            return "script"
        if "/" not in path:
            found = _which(path)
            if found is None:
                return "missing"
            path = found
        try:
            st = os.stat(path)
        except OSError:
            return "missing"
        if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o111:
            return "notexec"
        return "script"


def _numeric_address(text: str) -> bool:
    """An address getaddrinfo() reads without asking anyone (inet_aton's forms for IPv4)."""
    try:
        if ":" in text:
            socket.inet_pton(socket.AF_INET6, text)
        else:
            socket.inet_aton(text)
    except (OSError, ValueError):
        return False
    return True


def is_script(status: str) -> bool:
    """keepalived's SC_ISSCRIPT: the file is there, executable or not (a directory too), so
    that it needs enable_script_security."""
    return status in ("script", "notexec")


def _which(name: str) -> str | None:
    for d in os.environ.get("PATH", "/usr/bin:/bin").split(":"):
        candidate = os.path.join(d or ".", name)
        if os.path.isfile(candidate):
            return candidate
    return None
