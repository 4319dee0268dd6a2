"""virtual_ipaddress / virtual_routes / virtual_rules lines read by the configuration parser,
as the daemon gets them (the net layer never parses words of its own)."""

from __future__ import annotations

from pykeepalived.config import load_config_text
from pykeepalived.config.model_common import IpAddress, Route, Rule
from pykeepalived.config.sysinfo import SystemInfo

HOST = SystemInfo.fake(["lo", "eth0", "eth1", "eth2"])


def _instance(block: str, lines: tuple[str, ...]) -> str:
    body = "\n".join(f"        {line}" for line in lines)
    vip = "" if block == "virtual_ipaddress" else "    virtual_ipaddress {\n 192.0.2.100\n }\n"
    return (f"vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n{vip}"
            f"    {block} {{\n{body}\n    }}\n}}\n")


def vips(*lines: str) -> list[IpAddress]:
    result = load_config_text(_instance("virtual_ipaddress", lines), system=HOST)
    return result.config.vrrp_instances["VI_1"].virtual_ipaddress


def routes(*lines: str) -> list[Route]:
    result = load_config_text(_instance("virtual_routes", lines), system=HOST)
    return result.config.vrrp_instances["VI_1"].virtual_routes


def rules(*lines: str) -> list[Rule]:
    result = load_config_text(_instance("virtual_rules", lines), system=HOST)
    return result.config.vrrp_instances["VI_1"].virtual_rules
