"""NftablesBackend against the real nft: what it installs reads back, it leaves the rest of the
ruleset alone, and both ways of talking to nftables (libnftables, the nft command) agree."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from pykeepalived.demo.lab import Lab
from pykeepalived.lb.errors import LbError
from pykeepalived.lb.model import Destination, Service, Tunnel
from pykeepalived.lb.nft_plan import compatibility_warnings
from pykeepalived.lb.nftables import NftablesBackend
from pykeepalived.lb.status import ipvsadm_list
from pykeepalived.net import netns

pytestmark = pytest.mark.netns

WEB = Service(protocol="TCP", address=ip_address("203.0.113.10"), port=80, scheduler="wlc",
              persistence_timeout=300, persistence_granularity="255.255.255.0",
              destinations=(Destination(ip_address("198.51.100.11"), 80, weight=1),
                            Destination(ip_address("198.51.100.12"), 8080, weight=3),
                            Destination(ip_address("198.51.100.13"), 80, weight=0)))
DNS6 = Service(protocol="UDP", address=ip_address("2001:db8::53"), port=53, family=6,
               scheduler="sh", flags=("sh-port",), persistence_timeout=60,
               persistence_granularity="64",
               destinations=(Destination(ip_address("2001:db8::11"), 53),
                             Destination(ip_address("2001:db8::12"), 53, weight=2,
                                         method="DR")))
FWM = Service(protocol="TCP", address=None, port=0, fwmark=7, scheduler="ovf",
              destinations=(Destination(ip_address("198.51.100.21"), 0, weight=2),
                            Destination(ip_address("192.0.2.9"), 0, method="TUN",
                                        tunnel=Tunnel())))
SCTP_DR = Service(protocol="SCTP", address=ip_address("203.0.113.10"), port=3868,
                  scheduler="rr",
                  destinations=(Destination(ip_address("198.51.100.31"), 3868, method="DR"),))


@pytest.mark.parametrize("use_library", [True, False], ids=["libnftables", "nft-command"])
def test_read_gives_back_what_runs(lab: Lab, use_library: bool) -> None:
    host = lab.add_host("dir", [["198.51.100.1/24", "2001:db8::1/64"]])
    with netns.enter(host.netns):
        backend = NftablesBackend(use_library=use_library, masquerade=True)
        assert backend.runner_kind == ("library" if use_library else "command")
        try:
            backend.apply([WEB, DNS6, FWM, SCTP_DR])
            found = {s.key(): s for s in backend.read()}
            text = ipvsadm_list(list(found.values()))
            ruleset = backend.ruleset()
        finally:
            backend.clear()
        assert backend.read() == []
    assert found[WEB.key()] == Service(
        protocol="TCP", address=ip_address("203.0.113.10"), port=80, scheduler="wrr",
        persistence_timeout=300, persistence_granularity="255.255.255.0",
        destinations=WEB.destinations)
    assert found[DNS6.key()].scheduler == "sh" and found[DNS6.key()].flags == ("sh-port",)
    assert found[DNS6.key()].persistence_granularity == "64"
    assert set(found[DNS6.key()].destinations) == set(DNS6.destinations)
    # TUN is not installed; ovf runs as fo
    assert found[FWM.key()].scheduler == "fo"
    assert found[FWM.key()].destinations == FWM.destinations[:1]
    assert found[SCTP_DR.key()].destinations == SCTP_DR.destinations
    # DR at the ingress of the device the kernel routes the real servers through
    assert 'fwd ip to 198.51.100.31 device "eth0"' in ruleset
    assert 'type filter hook ingress device "eth0"' in ruleset
    assert "TCP  203.0.113.10:80 wrr persistent 300 mask 255.255.255.0" in text
    assert "  -> 198.51.100.12:8080           Masq    3" in text
    assert "SCTP 203.0.113.10:3868 sh (sh-port)" in text
    assert "lvs_sched ovf runs as fo" in "\n".join(compatibility_warnings([FWM]))


def test_the_rest_of_the_ruleset_is_left_alone(lab: Lab) -> None:
    host = lab.add_host("dir", [["198.51.100.1/24"]])
    theirs = ("table inet filter {\n\tchain input {\n\t\ttype filter hook input priority "
              "filter; policy accept;\n\t\ttcp dport 22 counter packets 0 bytes 0 accept\n"
              "\t}\n}\n")
    host.run("nft", "add table inet filter")
    host.run("nft", "add chain inet filter input { type filter hook input priority filter; }")
    host.run("nft", "add rule inet filter input tcp dport 22 counter accept")
    assert host.run("nft", "list", "table", "inet", "filter") == theirs
    with netns.enter(host.netns):
        backend = NftablesBackend()
        backend.apply([WEB])
        backend.apply([WEB, FWM])
        assert "pykeepalived" in host.run("nft", "list", "tables")
        backend.clear()
        backend.close()
    assert host.run("nft", "list", "table", "inet", "filter") == theirs
    assert host.run("nft", "list", "tables").split() == ["table", "inet", "filter"]


def test_a_refused_table_names_nft_error_and_keeps_the_old_one(lab: Lab) -> None:
    host = lab.add_host("dir", [["198.51.100.1/24"]])
    unknown_device = Service(protocol="TCP", address=ip_address("203.0.113.10"), port=443,
                             destinations=(Destination(ip_address("198.51.100.11"), 443,
                                                       method="DR"),))
    with netns.enter(host.netns):
        backend = NftablesBackend(route_lookup=lambda _: ("nosuchdev0", None))
        try:
            backend.apply([WEB])
            with pytest.raises(LbError, match="nftables: nft refused the load-balancer "
                                              "table: Error: Interface does not exist"):
                backend.apply([WEB, unknown_device])
            # one transaction: the failed apply changed nothing
            assert [s.key() for s in backend.read()] == [WEB.key()]
        finally:
            backend.clear()
