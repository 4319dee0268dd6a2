"""pykeepalived and Debian's keepalived 2.2.7 in one VRRP group, both ways round.

After every step the right node holds the VIP (and only that node), and neither side's log shows it
rejected the other's adverts.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Host, Lab, wait_for
from tests.daemons import Daemon, holders, start_keepalived, start_pykeepalived, write_conf

pytestmark = pytest.mark.interop

VIP = "192.0.2.10"
# What keepalived logs when it rejects or doubts a peer's advert.
KEEPALIVED_COMPLAINTS = ("bad", "invalid", "mismatch", "not present", "wrong", "Discarding",
                         "error", "received an invalid")


def conf(prio: int, *, version: int, advert: str, auth: bool = False,
         unicast: tuple[str, list[str]] | None = None, vip: str = f"{VIP}/24") -> str:
    extra = ""
    if auth:
        extra += "authentication {\n auth_type PASS\n auth_pass s3cr3t-and-more\n }\n"
    if unicast:
        src, peers = unicast
        extra += f"unicast_src_ip {src}\nunicast_peer {{\n" + "\n".join(peers) + "\n}\n"
    return f"""global_defs {{
    router_id node{prio}
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {prio}
    version {version}
    advert_int {advert}
    {extra}
    virtual_ipaddress {{
        {vip}
    }}
}}
"""



def run_pair(lab: Lab, tmp: Path, master_kind: str, *, v6: bool = False,
             **kwargs: object) -> None:
    """master_kind runs the priority-150 node r1; the other implementation runs r2 (100).

    Steps: election (r1), r1's link cut (r2), r1 back (r1 preempts), r1 stopped (r2 at once).
    """
    a1 = ["192.0.2.1/24"] + (["2001:db8::1/64"] if v6 else [])
    a2 = ["192.0.2.2/24"] + (["2001:db8::2/64"] if v6 else [])
    r1 = lab.add_host("r1", [a1], ipv6=v6)
    r2 = lab.add_host("r2", [a2], ipv6=v6)
    vip = kwargs.get("vip", f"{VIP}/24")
    address = str(vip).split("/")[0]
    kinds = {"keepalived": start_keepalived, "pykeepalived": start_pykeepalived}
    other = "keepalived" if master_kind == "pykeepalived" else "pykeepalived"
    uni = kwargs.pop("unicast", False)
    k1 = dict(kwargs, unicast=("192.0.2.1", ["192.0.2.2"])) if uni else kwargs
    k2 = dict(kwargs, unicast=("192.0.2.2", ["192.0.2.1"])) if uni else kwargs
    d1 = kinds[master_kind](r1, write_conf(tmp, "r1", conf(150, **k1)), tmp)  # type: ignore[arg-type]
    d2 = kinds[other](r2, write_conf(tmp, "r2", conf(100, **k2)), tmp)  # type: ignore[arg-type]
    hosts = {"r1": r1, "r2": r2}
    daemons = [d1, d2]
    try:
        assert wait_for(lambda: holders(hosts, address) == ["r1"], 15), logs(daemons)
        time.sleep(1.0)
        assert holders(hosts, address) == ["r1"], logs(daemons)
        r1.cut()
        assert wait_for(lambda: holders(hosts, address) == ["r2"], 10), logs(daemons)
        r1.mend()
        assert wait_for(lambda: holders(hosts, address) == ["r1"], 15), logs(daemons)
        time.sleep(0.5)
        assert holders(hosts, address) == ["r1"], logs(daemons)
        d1.stop()
        assert wait_for(lambda: holders(hosts, address) == ["r2"], 5), logs(daemons)
    finally:
        for d in daemons:
            d.stop()
    ka = d1 if d1.kind == "keepalived" else d2
    complaints = [line for line in ka.log().splitlines()
                  if any(word in line for word in KEEPALIVED_COMPLAINTS)
                  and "VI_1" in line]
    assert not complaints, "\n".join(complaints)
    py = d1 if d1.kind == "pykeepalived" else d2
    py_complaints = [line for line in py.log().splitlines()
                     if "dropped" in line.lower() or "not present" in line]
    assert not py_complaints, "\n".join(py_complaints)
    check_roles(hosts, d1, d2)


def check_roles(hosts: dict[str, Host], d1: Daemon, d2: Daemon) -> None:
    assert "Entering MASTER STATE" in d1.log()
    assert "Entering MASTER STATE" in d2.log()
    assert "Entering BACKUP STATE" in d2.log()


def logs(daemons: list[Daemon]) -> str:
    return "\n".join(f"--- {d.kind} on {d.host.name}\n{d.log()[-4000:]}" for d in daemons)


@pytest.mark.parametrize("master_kind", ["pykeepalived", "keepalived"])
def test_vrrpv2_pass_auth(lab: Lab, tmp_path: Path, master_kind: str) -> None:
    run_pair(lab, tmp_path, master_kind, version=2, advert="1", auth=True)


@pytest.mark.parametrize("master_kind", ["pykeepalived", "keepalived"])
def test_vrrpv3_subsecond(lab: Lab, tmp_path: Path, master_kind: str) -> None:
    run_pair(lab, tmp_path, master_kind, version=3, advert="0.1")


@pytest.mark.parametrize("master_kind", ["pykeepalived", "keepalived"])
def test_unicast(lab: Lab, tmp_path: Path, master_kind: str) -> None:
    run_pair(lab, tmp_path, master_kind, version=3, advert="0.2", unicast=True)


@pytest.mark.parametrize("master_kind", ["pykeepalived", "keepalived"])
def test_vrrpv3_ipv6(lab: Lab, tmp_path: Path, master_kind: str) -> None:
    run_pair(lab, tmp_path, master_kind, v6=True, version=3, advert="0.2",
             vip="2001:db8::10/64")
