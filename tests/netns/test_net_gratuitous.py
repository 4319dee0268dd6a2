"""Gratuitous ARP and unsolicited NA: a neighbour's ARP / ND cache follows them, and the
frames on the wire are those keepalived 2.2.7 sends (tcpdump capture read with scapy)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.utils import rdpcap

from pykeepalived.demo.lab import Host, Lab, wait_for
from pykeepalived.net import gratuitous, interfaces, netns

pytestmark = pytest.mark.netns

VMAC = "00:00:5e:00:01:33"
VMAC6 = "00:00:5e:00:02:34"


def neigh(host: Host, address: str) -> str:
    return host.run("ip", "neigh", "show", address, "dev", "eth0").strip()


def capture(host: Host, path: Path, bpf: str) -> subprocess.Popen[bytes]:
    proc = host.popen("tcpdump", "-i", "eth0", "-n", "-U", "--immediate-mode", "-Z", "root",
                      "-w", str(path), bpf, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    for _ in range(50):
        line = proc.stderr.readline()
        if b"listening on" in line or not line:
            break
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    time.sleep(0.2)
    proc.terminate()
    proc.wait(10)


@pytest.fixture(autouse=True)
def _close_sockets() -> None:
    gratuitous.close_all()


def test_garp_updates_client_arp_cache(lab: Lab, tmp_path: Path) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    client = lab.add_host("c1", [["192.0.2.50/24"]])
    client.run("sysctl", "-qw", "net.ipv4.conf.eth0.arp_accept=1")
    cap = capture(client, tmp_path / "arp.pcap", "arp")
    with netns.enter(r1.netns):
        own = interfaces.mac_address("eth0")
        assert gratuitous.send_garp("eth0", "192.0.2.100", count=3, mac=VMAC) == 3
    assert wait_for(lambda: VMAC in neigh(client, "192.0.2.100"), 5), neigh(client, "192.0.2.100")
    with netns.enter(r1.netns):
        gratuitous.send_garp("eth0", "192.0.2.100")  # now from the interface's own MAC
    assert wait_for(lambda: f"lladdr {own}" in neigh(client, "192.0.2.100"), 5)
    stop(cap)
    frames = [p for p in rdpcap(str(tmp_path / "arp.pcap")) if p.haslayer(ARP)]
    assert len(frames) == 4
    first = frames[0]
    assert first[Ether].dst == "ff:ff:ff:ff:ff:ff" and first[Ether].src == VMAC
    arp = first[ARP]
    assert (arp.op, arp.psrc, arp.pdst, arp.hwsrc, arp.hwdst) == (
        1, "192.0.2.100", "192.0.2.100", VMAC, "ff:ff:ff:ff:ff:ff")
    assert frames[-1][ARP].hwsrc == own


def test_unsolicited_na_updates_neighbour_cache(lab: Lab, tmp_path: Path) -> None:
    r1 = lab.add_host("r1", [["2001:db8::1/64"]])
    client = lab.add_host("c1", [["2001:db8::50/64"]])
    # Linux only updates an existing entry from an unsolicited NA (RFC 4861 7.2.5)
    client.run("ip", "-6", "neigh", "replace", "2001:db8::100", "lladdr", "02:00:00:00:00:01",
               "dev", "eth0", "nud", "stale")
    cap = capture(client, tmp_path / "na.pcap", "icmp6 and ip6[40] == 136")
    with netns.enter(r1.netns):
        assert gratuitous.send_unsolicited_na("eth0", "2001:db8::100", count=2, mac=VMAC6) == 2
    assert wait_for(lambda: VMAC6 in neigh(client, "2001:db8::100"), 5), \
        neigh(client, "2001:db8::100")
    # with forwarding on, the Router flag is set (keepalived reads the sysctl)
    r1.run("sysctl", "-qw", "net.ipv6.conf.eth0.forwarding=1")
    with netns.enter(r1.netns):
        gratuitous.send_unsolicited_na("eth0", "2001:db8::100", mac=VMAC6)
    stop(cap)
    frames = [p for p in rdpcap(str(tmp_path / "na.pcap")) if p.haslayer(ICMPv6ND_NA)]
    assert len(frames) == 3
    first = frames[0]
    assert first[Ether].dst == "33:33:00:00:00:01" and first[Ether].src == VMAC6
    assert first[IPv6].src == "2001:db8::100" and first[IPv6].dst == "ff02::1"
    assert first[IPv6].hlim == 255
    na = first[ICMPv6ND_NA]
    assert (na.R, na.S, na.O, na.tgt) == (0, 0, 1, "2001:db8::100")
    assert first[ICMPv6NDOptDstLLAddr].lladdr == VMAC6
    # scapy recomputes the checksum: it must equal what we sent
    packet = IPv6(bytes(first[IPv6]))
    sent_cksum = packet[ICMPv6ND_NA].cksum
    del packet[ICMPv6ND_NA].cksum
    assert IPv6(bytes(packet))[ICMPv6ND_NA].cksum == sent_cksum
    assert frames[-1][ICMPv6ND_NA].R == 1


def test_announcer_router_flag_follows_ipv6_forwarding(lab: Lab, tmp_path: Path) -> None:
    """An Announcer with IPv4 and IPv6 VIPs: ARP for the one, NA with the Router flag as the
    interface's IPv6 forwarding says for the other (keepalived reads the sysctl)."""
    r1 = lab.add_host("r1", [["192.0.2.1/24", "2001:db8::1/64"]])
    lab.add_host("c1", [["192.0.2.50/24", "2001:db8::50/64"]])
    r1.run("sysctl", "-qw", "net.ipv6.conf.eth0.forwarding=1")
    cap = capture(r1, tmp_path / "both.pcap", "arp or (icmp6 and ip6[40] == 136)")
    with netns.enter(r1.netns):
        announcer = gratuitous.Announcer("eth0", ["192.0.2.100", "2001:db8::100"], mac=VMAC6)
        assert announcer.send() == 2
    stop(cap)
    frames = rdpcap(str(tmp_path / "both.pcap"))
    assert [p[ARP].psrc for p in frames if p.haslayer(ARP)] == ["192.0.2.100"]
    nas = [p for p in frames if p.haslayer(ICMPv6ND_NA)]
    assert [(p[ICMPv6ND_NA].tgt, p[ICMPv6ND_NA].R) for p in nas] == [("2001:db8::100", 1)]


def test_missing_interface_is_not_fatal(lab: Lab) -> None:
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    with netns.enter(r1.netns):
        assert gratuitous.send_garp("nosuch0", "192.0.2.100") == 0
        assert gratuitous.send_unsolicited_na("nosuch0", "2001:db8::100") == 0


def test_socket_follows_a_recreated_interface(lab: Lab) -> None:
    """A VMAC deleted and made again has a new ifindex: the cached socket must follow."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    client = lab.add_host("c1", [["192.0.2.50/24"]])
    client.run("sysctl", "-qw", "net.ipv4.conf.eth0.arp_accept=1")
    with netns.enter(r1.netns):
        r1.run("ip", "link", "add", "vrrp.51", "link", "eth0", "address", VMAC, "type",
               "macvlan", "mode", "private")
        r1.run("ip", "link", "set", "vrrp.51", "up")
        assert gratuitous.send_garp("vrrp.51", "192.0.2.101") == 1
        r1.run("ip", "link", "del", "vrrp.51")
        r1.run("ip", "link", "add", "vrrp.51", "link", "eth0", "address", VMAC, "type",
               "macvlan", "mode", "private")
        r1.run("ip", "link", "set", "vrrp.51", "up")
        assert gratuitous.send_garp("vrrp.51", "192.0.2.102") == 1
    assert wait_for(lambda: VMAC in neigh(client, "192.0.2.102"), 5)
