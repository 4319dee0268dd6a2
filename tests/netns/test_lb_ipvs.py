"""IpvsBackend against the kernel's IPVS, in a namespace of the test's own. Kernels without
IPVS skip these (with the reason); the same code is covered byte by byte in
tests/unit/lb/test_ipvs_*.py, and the traffic tests of test_lb_traffic.py run on IPVS too."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import ip_address

import pytest

from pykeepalived.demo.lab import Lab
from pykeepalived.lb import ipvs_codec as codec
from pykeepalived.lb.ipvs import IpvsBackend, NetlinkTransport
from pykeepalived.lb.model import Destination, Service, Tunnel
from pykeepalived.lb.select import detect_ipvs
from pykeepalived.net import netns

_IPVS = detect_ipvs(load_module=False)
pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(not _IPVS.present,
                                 reason=f"this kernel has no IPVS: {_IPVS.how}")]

WEB = Service(protocol="TCP", address=ip_address("203.0.113.10"), port=80, scheduler="wrr",
              persistence_timeout=300, persistence_granularity="255.255.255.0",
              destinations=(Destination(ip_address("198.51.100.11"), 80, weight=1),
                            Destination(ip_address("198.51.100.12"), 8080, weight=3,
                                        u_threshold=100, l_threshold=10)))
DNS6 = Service(protocol="UDP", address=ip_address("2001:db8::53"), port=53, family=6,
               scheduler="sh", flags=("sh-fallback", "sh-port"),
               destinations=(Destination(ip_address("2001:db8::11"), 53, method="DR"),
                             Destination(ip_address("2001:db8::12"), 53, method="TUN",
                                         tunnel=Tunnel(type="gue", port=6080, csum="csum"))))
FWM = Service(protocol="TCP", address=None, port=0, fwmark=7, scheduler="rr",
              destinations=(Destination(ip_address("198.51.100.21"), 0, method="DR"),))
THEIRS = Service(protocol="TCP", address=ip_address("203.0.113.99"), port=22, scheduler="rr",
                 destinations=(Destination(ip_address("198.51.100.50"), 22),))


def test_apply_read_and_ownership_on_the_real_kernel(lab: Lab) -> None:
    host = lab.add_host("dir", [["198.51.100.1/24", "2001:db8::1/64"]])
    with netns.enter(host.netns):
        # an operator's service, as `ipvsadm -A` / `-a` would leave it
        operator = NetlinkTransport()
        operator.request(codec.request(codec.CMD_NEW_SERVICE, THEIRS), codec.REQUEST_FLAGS)
        operator.request(codec.request(codec.CMD_NEW_DEST, THEIRS, THEIRS.destinations[0]),
                         codec.REQUEST_FLAGS)
        backend = IpvsBackend()
        try:
            backend.apply([WEB, DNS6, FWM])
            found = {s.key(): s for s in backend.read()}
            assert found[WEB.key()] == WEB
            assert found[DNS6.key()] == DNS6
            assert found[FWM.key()] == FWM
            assert found[THEIRS.key()] == THEIRS
            # a weight change: the other real server's counters are untouched
            changed = replace(WEB, destinations=(WEB.destinations[0],
                                                 replace(WEB.destinations[1], weight=0)))
            backend.apply([changed, DNS6])
            found = {s.key(): s for s in backend.read()}
            assert found[WEB.key()] == changed
            assert FWM.key() not in found and found[THEIRS.key()] == THEIRS
            backend.clear()
            assert backend.read() == [THEIRS]
        finally:
            backend.clear()
            backend.close()
            operator.request(codec.request(codec.CMD_DEL_SERVICE, THEIRS, full=False),
                             codec.REQUEST_FLAGS)
            operator.close()
