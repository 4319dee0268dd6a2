"""Helpers of the configuration tests: write files into a temporary directory and load."""

from __future__ import annotations

from pathlib import Path

from pykeepalived.config import LoadResult, load_config
from pykeepalived.config.sysinfo import SystemInfo

HOST = ["lo", "eth0", "eth1"]


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load(tmp: Path, text: str, *, config_id: str | None = "r1",
         interfaces: list[str] | None = None, files: dict[str, str] | None = None,
         users: set[str] | None = None) -> LoadResult:
    """Load ``text`` as tmp/keepalived.conf, with ``files`` beside it, on a fake host."""
    for name, body in (files or {}).items():
        write(tmp, name, body)
    path = write(tmp, "keepalived.conf", text)
    system = SystemInfo.fake(interfaces or HOST, users=users)
    return load_config(str(path), config_id=config_id, system=system)


def messages(result: LoadResult) -> list[str]:
    return [str(d) for d in result.diagnostics]


def instance(vrid: int = 51, body: str = "", name: str = "VI_1",
             vips: str = "192.0.2.100") -> str:
    return (f"vrrp_instance {name} {{\n    interface eth0\n    virtual_router_id {vrid}\n"
            f"{body}    virtual_ipaddress {{\n        {vips}\n    }}\n}}\n")
