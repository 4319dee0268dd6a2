"""virtual_server_group entries as the services they stand for.

``virtual_server group NAME`` applies one set of real servers to every address (ranges
expanded) and firewall mark of the group; keepalived makes one IPVS service of each.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pykeepalived.lb.model import Service

MAX_RANGE = 65536  # a range this long is a typo, not a service list


def group_services(config: Any) -> dict[str, list[Service]]:
    """Each virtual_server_group's services, without protocol, scheduler or destinations
    (the virtual_server using the group gives those)."""
    out: dict[str, list[Service]] = {}
    for name, group in config.virtual_server_groups.items():
        services: list[Service] = []
        for entry in group.entries:
            if entry.fwmark is not None:
                services.append(Service("TCP", None, 0, entry.fwmark, entry.family or 4))
                continue
            if entry.address is None:
                continue
            first = int(entry.address)
            last = int(entry.range_end) if entry.range_end is not None else first
            for value in range(first, min(last, first + MAX_RANGE - 1) + 1):
                address = ipaddress.ip_address(value) if entry.address.version == 4 else \
                    ipaddress.IPv6Address(value)
                services.append(Service("TCP", address, entry.port or 0, None,
                                        entry.address.version))
        out[name] = services
    return out
