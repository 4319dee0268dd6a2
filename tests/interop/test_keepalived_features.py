"""pykeepalived next to Debian's keepalived 2.2.7: VRRPv2 with AH, sync groups over two
interfaces, the notify FIFO and the USR1/USR2 dumps.

keepalived is the oracle: in a pair each implementation must accept the other's adverts
without a complaint in its log, and where pykeepalived writes something keepalived also
writes (FIFO lines, dump files) the same scenario must give the same lines.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab, wait_for
from tests.conftest import DUMPS
from tests.daemons import Daemon, holders, start_keepalived, start_pykeepalived, write_conf

pytestmark = pytest.mark.interop

VIP = "192.0.2.10"
VIP_IN = "198.51.100.10"
Starter = Callable[..., Daemon]
KINDS: dict[str, Starter] = {"keepalived": start_keepalived, "pykeepalived": start_pykeepalived}
OTHER = {"keepalived": "pykeepalived", "pykeepalived": "keepalived"}
# What keepalived logs when it rejects or doubts a peer's advert (AH: "IPSEC-AH : ...").
KEEPALIVED_COMPLAINTS = ("bad", "invalid", "mismatch", "not present", "wrong", "Discarding",
                         "error", "IPSEC-AH", "dropped", "Dropped")


def instance(name: str, prio: int, *, vrid: int = 51, vip: str = f"{VIP}/24",
             interface: str = "eth0", version: int = 3, advert: str = "0.1",
             extra: str = "") -> str:
    return f"""
vrrp_instance {name} {{
    state BACKUP
    interface {interface}
    virtual_router_id {vrid}
    priority {prio}
    version {version}
    advert_int {advert}
    {extra}
    virtual_ipaddress {{
        {vip}
    }}
}}
"""


def conf(router_id: str, body: str, global_extra: str = "") -> str:
    return f"global_defs {{\n    router_id {router_id}\n    {global_extra}\n}}\n{body}"


def logs(*daemons: Daemon) -> str:
    return "\n".join(f"--- {d.kind} on {d.host.name}\n{d.log()[-6000:]}" for d in daemons)


def complaints(daemon: Daemon, names: tuple[str, ...] = ("VI_1",)) -> list[str]:
    """Log lines in which an implementation rejects or doubts the peer's adverts."""
    return complaints_in(daemon.log(), daemon.kind, names)


def complaints_in(text: str, kind: str, names: tuple[str, ...] = ("VI_1",)) -> list[str]:
    if kind == "keepalived":
        return [line for line in text.splitlines()
                if any(w in line for w in KEEPALIVED_COMPLAINTS)
                and any(n in line for n in names)]
    return [line for line in text.splitlines()
            if "dropped" in line.lower() or "not present" in line or "mismatch" in line]


@contextlib.contextmanager
def running(*daemons: Daemon) -> Iterator[None]:
    try:
        yield
    finally:
        for d in daemons:
            d.stop()


# ---------------------------------------------------------------------------- AH
AH = "authentication {\n        auth_type AH\n        auth_pass s3cr3t\n    }"


@pytest.mark.parametrize("master_kind", ["pykeepalived", "keepalived"])
def test_vrrpv2_ah_authentication(lab: Lab, tmp_path: Path, master_kind: str) -> None:
    """VRRPv2 with IPsec AH both ways: election, TERM of the master (its priority-0 advert
    is authenticated too), its restart from sequence number 1 against a peer far ahead, its
    preemption (the peer must accept the new master's numbers), TERM again.

    Not a link cut: a keepalived master in FAULT counts the priority-0 advert the dead link
    never carries, and when the peer's next number equals that count it logs "sequence
    number N already processed" - between two keepalived peers just the same.
    """
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    r2 = lab.add_host("r2", [["192.0.2.2/24"]], ipv6=False)
    hosts = {"r1": r1, "r2": r2}
    conf1 = write_conf(tmp_path, "r1", conf("r1", instance("VI_1", 150, version=2, advert="1",
                                                           extra=AH)))
    conf2 = write_conf(tmp_path, "r2", conf("r2", instance("VI_1", 100, version=2, advert="1",
                                                           extra=AH)))
    d1 = KINDS[master_kind](r1, conf1, tmp_path)
    d2 = KINDS[OTHER[master_kind]](r2, conf2, tmp_path)
    first_run = ""
    with running(d1, d2):
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 15), logs(d1, d2)
        assert wait_for(lambda: "Entering BACKUP STATE" in d2.log(), 10), logs(d1, d2)
        time.sleep(2.5)  # a few AH adverts accepted in a row
        assert holders(hosts, VIP) == ["r1"], logs(d1, d2)
        d1.stop()
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 5), logs(d1, d2)
        time.sleep(2.5)  # r2's numbers run ahead
        first_run = d1.log()
        d1 = KINDS[master_kind](r1, conf1, tmp_path)
        assert wait_for(lambda: holders(hosts, VIP) == ["r1"], 15), logs(d1, d2)
        time.sleep(2.5)
        assert holders(hosts, VIP) == ["r1"], logs(d1, d2)
        d1.stop()
        assert wait_for(lambda: holders(hosts, VIP) == ["r2"], 5), logs(d1, d2)
    for d in (d1, d2):
        assert not complaints(d), "\n".join(complaints(d))
    assert not complaints_in(first_run, d1.kind), first_run
    for text in (first_run, d1.log(), d2.log()):
        assert "Entering MASTER STATE" in text


# ---------------------------------------------------------------------------- sync group
def sync_body(prio: int) -> str:
    group = "vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n"
    return (group + instance("VI_1", prio, advert="0.2")
            + instance("VI_2", prio, vrid=52, vip=f"{VIP_IN}/24", interface="eth1",
                       advert="0.2"))


@pytest.mark.parametrize("master_kind", ["pykeepalived", "keepalived"])
def test_sync_group_over_two_interfaces(tmp_path: Path, master_kind: str) -> None:
    """One sync group, an outside and an inside instance: cutting only the inside link of
    the master moves both instances to the peer, and both come back together."""
    with Lab(segments=2) as lab:
        r1 = lab.add_host("r1", [["192.0.2.1/24"], ["198.51.100.1/24"]], ipv6=False)
        r2 = lab.add_host("r2", [["192.0.2.2/24"], ["198.51.100.2/24"]], ipv6=False)
        hosts = {"r1": r1, "r2": r2}

        def both(name: str) -> bool:
            return holders(hosts, VIP) == [name] and holders(hosts, VIP_IN) == [name]

        d1 = KINDS[master_kind](r1, write_conf(tmp_path, "r1", conf("r1", sync_body(150))),
                                tmp_path)
        d2 = KINDS[OTHER[master_kind]](r2, write_conf(tmp_path, "r2",
                                                      conf("r2", sync_body(100))), tmp_path)
        with running(d1, d2):
            assert wait_for(lambda: both("r1"), 15), logs(d1, d2)
            time.sleep(1.0)
            assert both("r1"), logs(d1, d2)
            r1.cut("eth1")
            assert wait_for(lambda: both("r2"), 10), logs(d1, d2)
            time.sleep(1.0)  # r1's outside instance must not come back on its own
            assert both("r2"), logs(d1, d2)
            r1.mend("eth1")
            assert wait_for(lambda: both("r1"), 15), logs(d1, d2)
            d1.stop()
            assert wait_for(lambda: both("r2"), 5), logs(d1, d2)
        for d in (d1, d2):
            assert not complaints(d, ("VI_1", "VI_2")), "\n".join(complaints(d))


# ---------------------------------------------------------------------------- notify FIFO
def fifo_scenario(lab: Lab, tmp: Path, kind: str) -> list[str]:
    """r1 (pykeepalived, 150) and r2 (``kind``, 100, with a notify FIFO): r2 goes BACKUP,
    MASTER (r1 stops), FAULT (its link is cut), BACKUP and MASTER (link back), STOP."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    r2 = lab.add_host("r2", [["192.0.2.2/24"]], ipv6=False)
    fifo = tmp / "notify.fifo"
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        d1 = start_pykeepalived(r1, write_conf(tmp, "r1", conf("r1", instance("VI_1", 150))),
                                tmp)
        with running(d1):
            assert wait_for(lambda: r1.has_address(VIP), 10), d1.log()
            d2 = KINDS[kind](r2, write_conf(tmp, "r2", conf(
                "r2", instance("VI_1", 100), f"vrrp_notify_fifo {fifo}")), tmp)
            with running(d2):
                assert wait_for(lambda: "Entering BACKUP STATE" in d2.log(), 10), d2.log()
                d1.stop()
                assert wait_for(lambda: r2.has_address(VIP), 5), d2.log()
                r2.cut()
                assert wait_for(lambda: "Entering FAULT STATE" in d2.log(), 5), d2.log()
                r2.mend()
                assert wait_for(lambda: r2.has_address(VIP), 10), d2.log()
        time.sleep(0.2)
        data = b""
        with contextlib.suppress(BlockingIOError):
            for _ in range(100):
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                data += chunk
        return data.decode().splitlines()
    finally:
        os.close(fd)


def test_notify_fifo_lines_match_keepalived(tmp_path: Path) -> None:
    runs = {}
    for kind in ("keepalived", "pykeepalived"):
        (tmp_path / kind).mkdir()
        with Lab() as lab:
            runs[kind] = fifo_scenario(lab, tmp_path / kind, kind)
    expected = [f'INSTANCE "VI_1" {s} 100'
                for s in ("BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER", "STOP")]
    assert runs["keepalived"] == expected, runs  # the scenario itself is right
    assert runs["pykeepalived"] == runs["keepalived"], runs


# ---------------------------------------------------------------------------- dumps


def stats_keys(text: str) -> dict[str, int]:
    """keepalived.stats of instance VI_1 as "Section/Key" -> count."""
    found: dict[str, int] = {}
    section = ""
    inside = False
    for line in text.splitlines():
        if line.startswith("VRRP Instance: "):
            inside = line.split(":", 1)[1].strip() == "VI_1"
        elif not inside:
            continue
        elif line.startswith("    "):
            key, _, value = line.strip().partition(":")
            found[f"{section}/{key}"] = int(value)
        elif line.startswith("  ") and line.endswith(":"):
            section = line.strip()[:-1]
        elif line.startswith("  "):
            key, _, value = line.strip().partition(":")
            found[key] = int(value)
    return found


def data_keys(text: str) -> dict[str, str]:
    """The ``   Key = value`` lines of instance VI_1 in keepalived.data (VIPs joined)."""
    found: dict[str, str] = {}
    inside = False
    key = ""
    for line in text.splitlines():
        if line.startswith(" VRRP Instance = "):
            inside = line.split("=", 1)[1].strip() == "VI_1"
        elif inside and line.startswith("     "):
            found[key] = (found[key] + " " + line.strip()).strip()
        elif inside and line.startswith("   "):
            sep = "=" if "=" in line else ":"
            key, _, value = line.strip().partition(sep)
            key = key.strip()
            found[key] = value.strip()
        elif not line.startswith("   "):
            inside = False
    return found


def dump_of(lab: Lab, tmp: Path, kind: str) -> tuple[str, str]:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]], ipv6=False)
    body = instance("VI_1", 100, version=2, advert="1")
    d = KINDS[kind](r1, write_conf(tmp, "r1", conf("r1", body)), tmp)
    with running(d):
        assert wait_for(lambda: r1.has_address(VIP), 10), d.log()
        time.sleep(1.5)
        for p in DUMPS:
            p.unlink(missing_ok=True)
        d.signal(signal.SIGUSR1)
        d.signal(signal.SIGUSR2)
        assert wait_for(lambda: all(p.exists() and p.stat().st_size for p in DUMPS), 5), d.log()
        time.sleep(0.2)
        return DUMPS[0].read_text(), DUMPS[1].read_text()


def test_usr1_usr2_dumps_read_like_keepalived(tmp_path: Path,
                                              dump_files: tuple[Path, Path]) -> None:
    """Every counter keepalived writes to keepalived.stats, and the keepalived.data lines
    monitoring tools read, are in pykeepalived's files with the same values."""
    dumps = {}
    for kind in ("keepalived", "pykeepalived"):
        (tmp_path / kind).mkdir()
        with Lab() as lab:
            dumps[kind] = dump_of(lab, tmp_path / kind, kind)
    ka_stats, py_stats = (stats_keys(dumps[k][1]) for k in ("keepalived", "pykeepalived"))
    assert ka_stats, dumps["keepalived"][1]
    assert set(ka_stats) <= set(py_stats), set(ka_stats) - set(py_stats)
    assert py_stats["Became master"] == ka_stats["Became master"] == 1
    assert py_stats["Advertisements/Sent"] >= 1
    ka_data, py_data = (data_keys(dumps[k][0]) for k in ("keepalived", "pykeepalived"))
    for key in ("State", "Wantstate", "Interface", "Virtual Router ID", "VRRP Version",
                "Priority", "Effective priority", "Advert interval", "Using src_ip",
                "Gratuitous ARP delay", "Gratuitous ARP repeat", "Preempt", "Accept",
                "Authentication type", "Virtual IP (1)", "Master down timer"):
        assert py_data.get(key) == ka_data.get(key), (key, ka_data.get(key), py_data.get(key))
    assert "------< VRRP Topology >------" in dumps["pykeepalived"][0]
