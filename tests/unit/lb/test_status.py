"""ipvsadm -Ln output for any backend's table."""

from __future__ import annotations

from ipaddress import ip_address

from pykeepalived.check.result import CheckResult
from pykeepalived.lb.model import Destination, Service, Tunnel
from pykeepalived.lb.status import DestStatus, ipvsadm_list

WEB = Service(protocol="TCP", address=ip_address("203.0.113.10"), port=80, scheduler="sh",
              flags=("sh-port", "sh-fallback"), persistence_timeout=300,
              persistence_granularity="255.255.255.0",
              destinations=(Destination(ip_address("198.51.100.12"), 80, weight=2),
                            Destination(ip_address("198.51.100.11"), 8080, method="DR")))
DNS6 = Service(protocol="UDP", address=ip_address("2001:db8::10"), port=53, family=6,
               scheduler="rr", flags=("ops",), persistence_timeout=60,
               persistence_granularity="64",
               destinations=(Destination(ip_address("2001:db8::11"), 53, method="TUN",
                                         tunnel=Tunnel()),))
FWM6 = Service(protocol="TCP", address=None, port=0, fwmark=5, family=6, scheduler="wlc",
               flags=("flag-2",))
SCTP = Service(protocol="SCTP", address=ip_address("203.0.113.10"), port=3868,
               scheduler="wrr")

# ipvsadm pads the last column ("%-10u"): real servers' lines end in spaces, marked "|" here
EXPECTED = """\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  203.0.113.10:80 sh (sh-fallback,sh-port) persistent 300 mask 255.255.255.0
  -> 198.51.100.11:8080           Route   1      0          0         |
  -> 198.51.100.12:80             Masq    2      0          0         |
SCTP 203.0.113.10:3868 wrr
UDP  [2001:db8::10]:53 rr persistent 60 mask 64 ops
  -> [2001:db8::11]:53            Tunnel  1      0          0         |
FWM  5 IPv6 wlc (flag-2)
""".replace("|\n", "\n")


def test_layout_and_order_are_ipvsadms() -> None:
    # given in another order: ipvsadm sorts by fwmark, family, protocol, address, port
    assert ipvsadm_list([FWM6, DNS6, SCTP, WEB]) == EXPECTED


def test_counts_health_and_last_check() -> None:
    status = {(WEB.key(), (ip_address("198.51.100.12"), 80)):
              DestStatus(active=3, inactive=14, healthy=True,
                         last_check=CheckResult(True, "HTTP status 200")),
              (WEB.key(), (ip_address("198.51.100.11"), 8080)):
              DestStatus(healthy=False, last_check=CheckResult(False, "connection refused"))}
    lines = ipvsadm_list([WEB], status, version="1.2.1", size=1048576).splitlines()
    assert lines[0] == "IP Virtual Server version 1.2.1 (size=1048576)"
    assert lines[2].endswith("InActConn Health Check")
    assert lines[4] == ("  -> 198.51.100.11:8080           Route   1      0          0"
                        "          DOWN   failed: connection refused")
    assert lines[5] == ("  -> 198.51.100.12:80             Masq    2      3          14"
                        "         UP     ok: HTTP status 200")


def test_empty_table() -> None:
    assert ipvsadm_list([]) == "\n".join(EXPECTED.splitlines()[:3]) + "\n"
