"""Regenerate keepalived_2.2.7.json: real adverts from Debian's keepalived, as hex.

Run as root from the repository root:
``PYTHONPATH=src python3 tests/unit/vrrp/data/capture_keepalived.py``.
For each scenario (v2 PASS, v2 AH, v3 IPv4, v3 IPv6) two keepalived run in namespaces of a Lab
(r1 priority 150, r2 priority 100, both ``state BACKUP``), tcpdump writes every protocol 112/51
packet seen on the switch bridge, and after a few adverts r1 is stopped so its priority-0 advert
and r2's takeover are captured too. The unit tests decode these bytes with pykeepalived and
re-encode them byte for byte; they never run this script.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.utils import rdpcap

from pykeepalived.demo.lab import Lab

HERE = Path(__file__).parent
OUT = HERE / "keepalived_2.2.7.json"

SCENARIOS = {
    "v2_pass": dict(version=2, family=4, auth="authentication {\n auth_type PASS\n"
                    " auth_pass longsecret\n }", vips=["192.0.2.100/24", "192.0.2.101/24"]),
    "v2_ah": dict(version=2, family=4, auth="authentication {\n auth_type AH\n"
                  " auth_pass ahsecret\n }", vips=["192.0.2.100/24"]),
    "v3_ipv4": dict(version=3, family=4, auth="", vips=["192.0.2.100/24", "192.0.2.101/24"]),
    "v3_ipv6": dict(version=3, family=6, auth="", vips=["2001:db8::100/64"]),
}


def config(name: str, vrid: int, prio: int, sc: dict[str, object]) -> str:
    vips = "\n".join(f"   {v}" for v in sc["vips"])  # type: ignore[attr-defined]
    interval = 1 if sc["version"] == 2 else 0.5
    return f"""global_defs {{
  router_id {name}
  vrrp_version {sc['version']}
}}
vrrp_instance VI_1 {{
  state BACKUP
  interface eth0
  virtual_router_id {vrid}
  priority {prio}
  advert_int {interval}
  {sc['auth']}
  virtual_ipaddress {{
{vips}
  }}
}}
"""


def capture(name: str, sc: dict[str, object], workdir: Path) -> list[dict[str, object]]:
    with Lab() as lab:
        hosts = {
            "r1": lab.add_host("r1", [["192.0.2.1/24", "2001:db8::1/64"]]),
            "r2": lab.add_host("r2", [["192.0.2.2/24", "2001:db8::2/64"]]),
        }
        pcap = workdir / f"{name}.pcap"
        dump = lab.switch.popen("tcpdump", "-i", "br0", "-n", "-U", "-w", str(pcap),
                                "ip proto 112 or ip proto 51 or ip6 proto 112",
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        procs = {}
        for hname, prio in (("r1", 150), ("r2", 100)):
            conf = workdir / f"{name}-{hname}.conf"
            conf.write_text(config(hname, 51, prio, sc))
            pid = [str(workdir / f"{name}-{hname}.{k}") for k in ("pid", "vrrp", "chk")]
            procs[hname] = hosts[hname].popen(
                "keepalived", "-n", "-l", "-D", "-P", "-f", str(conf), "-p", pid[0],
                "-r", pid[1], "-c", pid[2], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
        time.sleep(8.0)
        procs["r1"].send_signal(signal.SIGTERM)
        procs["r1"].wait(timeout=10)
        time.sleep(5.0)
        procs["r2"].send_signal(signal.SIGTERM)
        procs["r2"].wait(timeout=10)
        time.sleep(1.0)
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)
    found: list[dict[str, object]] = []
    seen: set[bytes] = set()
    for frame in rdpcap(str(pcap)):
        ip = frame[Ether].payload
        raw = bytes(ip)
        if isinstance(ip, IP):
            raw = raw[:ip.len]
        elif isinstance(ip, IPv6):
            raw = raw[:40 + ip.plen]
        if raw in seen:
            continue
        seen.add(raw)
        found.append({"scenario": name, "ip": raw.hex(), "time": float(frame.time)})
    return found


def trim(packets: list[dict[str, object]]) -> list[dict[str, object]]:
    """Keep the fixture small: per scenario and source the first 3 adverts plus every
    priority-0 advert; all AH packets (their sequence numbers are tested as a run)."""
    kept, per_source = [], {}  # type: ignore[var-annotated]
    for pkt in packets:
        raw = bytes.fromhex(str(pkt["ip"]))
        v4 = raw[0] >> 4 == 4
        src, vrrp = (raw[12:16], raw[20:]) if v4 else (raw[8:24], raw[40:])
        if v4 and raw[9] == 51:
            vrrp = vrrp[24:]
        key = (pkt["scenario"], src)
        per_source[key] = per_source.get(key, 0) + 1
        if pkt["scenario"] == "v2_ah" or vrrp[2] == 0 or per_source[key] <= 3:
            kept.append(pkt)
    return kept


def main() -> int:
    fixtures: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, sc in SCENARIOS.items():
            got = capture(name, sc, Path(tmp))
            print(f"{name}: {len(got)} distinct packets", file=sys.stderr)
            fixtures.extend(got)
    meta = {
        "source": "Debian keepalived 2.2.7, two nodes in namespaces, captured on the bridge",
        "r1": {"ipv4": "192.0.2.1", "priority": 150},
        "r2": {"ipv4": "192.0.2.2", "priority": 100},
        "passwords": {"v2_pass": "longsecret", "v2_ah": "ahsecret"},
        "vrid": 51,
    }
    OUT.write_text(json.dumps({"meta": meta, "packets": trim(fixtures)}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
