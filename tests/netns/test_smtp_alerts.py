"""SMTP alerts against a real mail server (aiosmtpd) in a namespace.

- the SMTP exchange itself: HELO, MAIL, RCPT per recipient, keepalived's DATA bytes; a hung,
  refusing or absent server ends an attempt with its cause, within smtp_connect_timeout;
- the daemon: VRRP state changes (instances and a sync group) and a real server going down
  (a real TCP_CHECK against a real listener) arrive in keepalived's format;
- the protocol does not notice a mail server that hangs or refuses while alerts are due: a
  master at advert_int 0.1 keeps its adverts on time (tcpdump in the switch namespace).

tests/interop/test_smtp_interop.py puts keepalived beside pykeepalived for the same mails.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pykeepalived.demo.lab import Host, Lab, wait_for
from pykeepalived.net import netns
from pykeepalived.notify.smtp import (
    DeliveryError,
    Identity,
    SmtpSettings,
    compose,
    deliver,
    local_name,
)
from pykeepalived.notify.smtp_alerts import instance_alert
from tests.daemons import Daemon, instance, start_pykeepalived, write_conf
from tests.netns.test_vrrp_features import Capture

pytestmark = pytest.mark.netns

MAIL_HOST = "192.0.2.25"
MAIL_PORT = 2525
ROOT = Path(__file__).resolve().parents[2]
RCPT = ("ops@example.com", "noc@example.org")


class MailServer:
    """tests/netns/mail_sink.py in a lab host; ``mails()`` reads what it recorded."""

    def __init__(self, host: Host, kind: str, log: Path, port: int = MAIL_PORT) -> None:
        self.log = log
        self.proc = host.popen(sys.executable, "-m", "tests.netns.mail_sink", kind, MAIL_HOST,
                               str(port), "--log", str(log), cwd=str(ROOT),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "ready" once it listens (or EOF if it died)
        assert line == b"ready\n", line

    def records(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def mails(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if "data" in r]

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=5)


@pytest.fixture
def mail_lab(lab: Lab) -> tuple[Lab, Host, Host]:
    """r1 (192.0.2.1) and the mail host m (192.0.2.25) on one segment."""
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    m = lab.add_host("m", [[f"{MAIL_HOST}/24"]])
    return lab, r1, m


def without_date(data: str) -> str:
    first, rest = data.split("\r\n", 1)
    assert first.startswith("Date: ")
    return rest


GLOBAL = f"""
global_defs {{
    router_id lab-r1
    notification_email {{
        {RCPT[0]}
        {RCPT[1]}
    }}
    notification_email_from keepalived@example.net
    smtp_server {MAIL_HOST} {MAIL_PORT}
    smtp_connect_timeout %s
    smtp_alert
}}
"""


# ------------------------------------------------------------------ the SMTP exchange
def test_one_attempt_speaks_keepalived_smtp_and_names_each_failure(
        mail_lab: tuple[Lab, Host, Host], tmp_path: Path) -> None:
    _, r1, m = mail_lab
    ident = Identity("lab-r1", "keepalived@example.net", "r1.example.net")
    settings = SmtpSettings(MAIL_HOST, MAIL_PORT, RCPT, connect_timeout=2.0)
    message = compose(ident, RCPT, instance_alert("VI_1", "MASTER"))
    record = MailServer(m, "record", tmp_path / "record.jsonl")
    try:
        with netns.enter(r1.netns):
            deliver(settings, ident, message)
        assert wait_for(lambda: len(record.mails()) == 1, 5)
    finally:
        record.stop()
    mail = record.mails()[0]
    assert (mail["greeting"], mail["helo"], mail["mail_from"], mail["rcpt_tos"]) == \
        ("HELO", "r1.example.net", "keepalived@example.net", list(RCPT))
    assert mail["data"].encode() == message

    causes = {}
    for kind, port in (("hang", MAIL_PORT + 1), ("refuse", MAIL_PORT + 2), (None, 2599)):
        server = MailServer(m, kind, tmp_path / f"{kind}.jsonl", port) if kind else None
        try:
            with netns.enter(r1.netns):
                started = time.monotonic()
                with pytest.raises(DeliveryError) as failed:
                    deliver(SmtpSettings(MAIL_HOST, port, RCPT, connect_timeout=2.0), ident,
                            message)
                took = time.monotonic() - started
        finally:
            if server is not None:
                server.stop()
        assert took < 2.0 + 3.0, (kind, took)  # the attempt ends near its own timeout
        causes[kind] = str(failed.value)
    assert causes == {"hang": "no answer within 2 s",
                      "refuse": "MAIL answered 550 5.7.1 not from you, expected 250",
                      None: "connection refused"}


# ------------------------------------------------------------------ the daemon
def test_vrrp_state_changes_are_mailed_in_keepalived_format(
        mail_lab: tuple[Lab, Host, Host], tmp_path: Path) -> None:
    """What keepalived 2.2.7 mails for this configuration (tests/interop compares it live):
    the group's BACKUP first, each instance's BACKUP, then each MASTER and the group's."""
    _, r1, m = mail_lab
    conf = GLOBAL % "5" + """
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
}
""" + instance("VI_1", vrid=51, vip="192.0.2.10/24") + \
        instance("VI_2", vrid=52, vip="192.0.2.11/24") + \
        instance("VI_3", vrid=53, vip="192.0.2.12/24", extra="smtp_alert off")
    server = MailServer(m, "record", tmp_path / "mail.jsonl")
    daemon = start_pykeepalived(r1, write_conf(tmp_path, "r1", conf), tmp_path)
    try:
        assert wait_for(lambda: len(server.mails()) >= 6, 20), daemon.log()
        time.sleep(1.0)  # nothing more should come (VI_3 has smtp_alert off)
    finally:
        assert daemon.stop() == 0
        server.stop()
    mails = server.mails()
    head = "From: keepalived@example.net\r\nSubject: [lab-r1] VRRP {} - {}\r\n" \
           "X-Mailer: Keepalived\r\nTo: ops@example.com, noc@example.org\r\n\r\n{}\r\n\r\n"
    owning = "=> VRRP Instance is now owning VRRP VIPs <="
    not_owning = "=> VRRP Instance is no longer owning VRRP VIPs <="
    expected = [
        head.format("Group G1", "Entering BACKUP state",
                    "=> All VRRP group instances are now in BACKUP state <="),
        head.format("Instance VI_1", "Entering BACKUP state", not_owning),
        head.format("Instance VI_2", "Entering BACKUP state", not_owning),
        head.format("Instance VI_1", "Entering MASTER state", owning),
        head.format("Instance VI_2", "Entering MASTER state", owning),
        head.format("Group G1", "Entering MASTER state",
                    "=> All VRRP group instances are now in MASTER state <="),
    ]
    got = [without_date(mail["data"]) for mail in mails]
    assert got[:3] == expected[:3] and got[-1] == expected[-1], got
    assert sorted(got) == sorted(expected), got  # the members' MASTER mails in either order
    helo = local_name() or "localhost"  # smtp_helo_name's default: the host's name
    assert {(x["greeting"], x["helo"], x["mail_from"], tuple(x["rcpt_tos"])) for x in mails} \
        == {("HELO", helo, "keepalived@example.net", RCPT)}
    assert "Stopping" not in "".join(got)  # keepalived's stop mails never leave either


def test_a_real_server_going_down_is_mailed(lab: Lab, tmp_path: Path) -> None:
    """The checker process with a real TCP_CHECK against a real listener: stop it and
    keepalived's mail arrives (the virtual server's quorum too, with its smtp_alert)."""
    director = lab.add_host("d", [["192.0.2.1/24"]])
    real = lab.add_host("rs", [["192.0.2.21/24"]])
    m = lab.add_host("m", [[f"{MAIL_HOST}/24"]])
    listener = real.popen(sys.executable, "-m", "tests.netns.checker_servers", "silent",
                          "192.0.2.21", "80", cwd=str(ROOT), stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL)
    assert listener.stdout is not None and listener.stdout.readline() == b"ready\n"
    conf = GLOBAL % "5" + """
global_defs {
    lb_backend nftables
}
virtual_server 203.0.113.10 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    smtp_alert
    real_server 192.0.2.21 80 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
"""
    server = MailServer(m, "record", tmp_path / "mail.jsonl")
    daemon = start_pykeepalived(director, write_conf(tmp_path, "d", conf), tmp_path)
    try:
        assert daemon.wait_log("Activating healthchecker", 20), daemon.log()
        time.sleep(2.5)  # a few successful checks: nothing to mail
        assert server.mails() == []
        listener.kill()
        listener.wait(timeout=5)
        assert wait_for(lambda: len(server.mails()) >= 2, 15), daemon.log()
    finally:
        assert daemon.stop() == 0
        server.stop()
    got = sorted(without_date(mail["data"]) for mail in server.mails())
    head = "From: keepalived@example.net\r\nSubject: [lab-r1] {}\r\nX-Mailer: Keepalived\r\n" \
           "To: ops@example.com, noc@example.org\r\n\r\n{}\r\n\r\n"
    assert got == sorted([
        head.format("Realserver [192.0.2.21]:tcp:80 of virtual server [203.0.113.10]:tcp:80"
                    " - DOWN", "=> TCP CHECK failed on service <="),
        head.format("Virtualserver [203.0.113.10]:tcp:80 - DOWN",
                    "=> Lost quorum 1+0=1 <= 0 <="),
    ]), got


# ------------------------------------------------------------------ the protocol unaffected
def _gaps(packets: list[Any], vrid: int) -> list[float]:
    from scapy.layers.vrrp import VRRPv3

    times = [float(p.time) for p in packets if p.haslayer(VRRPv3) and p[VRRPv3].vrid == vrid
             and p[VRRPv3].priority == 200]
    assert len(times) > 20, f"only {len(times)} adverts of VRID {vrid}"
    return [b - a for a, b in itertools.pairwise(times)]


def _write(path: Path, value: int) -> None:
    tmp = path.with_suffix(".new")
    tmp.write_text(f"{value}\n")
    tmp.rename(path)


@pytest.fixture
def running() -> Iterator[list[Daemon]]:
    daemons: list[Daemon] = []
    yield daemons
    for daemon in daemons:
        daemon.stop()


@pytest.mark.parametrize("kind", ["hang", "refuse"])
def test_adverts_stay_on_time_while_the_mail_server_hangs_or_refuses(
        mail_lab: tuple[Lab, Host, Host], tmp_path: Path, kind: str,
        running: list[Daemon]) -> None:
    """A master at advert_int 0.1 while a second instance flaps (FAULT, MASTER, ...) through
    a tracked file, each change due to be mailed to a server that never answers (default
    30 s timeout) or refuses every mail: no gap between two adverts exceeds 0.25 s, the loss
    is logged once, and the daemon still stops at once."""
    lab, r1, m = mail_lab
    down = tmp_path / "down"
    _write(down, 0)
    conf = GLOBAL % "30" + f"""
vrrp_track_file flap {{
    file {down}
}}
""" + instance("VI_1", vrid=51, priority=200, state="MASTER", vip="192.0.2.10/24") + \
        instance("VI_2", vrid=52, priority=200, state="MASTER", vip="192.0.2.11/24",
                 extra="track_file {\n flap weight 0\n }")
    server = MailServer(m, kind, tmp_path / "mail.jsonl")
    daemon = start_pykeepalived(r1, write_conf(tmp_path, "r1", conf), tmp_path)
    running.append(daemon)
    try:
        assert daemon.wait_log("(VI_1) Entering MASTER STATE", 15), daemon.log()
        assert daemon.wait_log("(VI_2) Entering MASTER STATE", 15), daemon.log()
        capture = Capture(lab, tmp_path / "adverts.pcap")
        for value in [1, 0] * 10:  # 20 state changes of VI_2, 0.2 s apart
            _write(down, value)
            time.sleep(0.2)
        time.sleep(0.5)
        packets = capture.stop()
        assert wait_for(lambda: "Entering FAULT STATE" in daemon.log(), 5)
        started = time.monotonic()
        assert daemon.stop() == 0
        stop_took = time.monotonic() - started
    finally:
        server.stop()
    gaps = _gaps(packets, 51)
    assert max(gaps) <= 0.25, f"longest gap between VI_1 adverts {max(gaps):.3f} s"
    assert stop_took < 10.0, stop_took  # a hung attempt does not hold the stop
    log = daemon.log()
    assert log.count("(VI_2) Entering FAULT STATE") >= 5, log
    assert server.mails() == []
    lost = [line for line in log.splitlines() if "SMTP alert" in line]
    if kind == "hang":
        # one connection, held for the whole test: its 30 s never ran out, every later
        # alert waited behind it, and the stop says how many never left, in one line
        assert len(server.records()) == 1
        assert len(lost) == 1 and "not sent, still waiting for the server at shutdown" \
            in lost[0], lost
    else:
        # every mail was tried and refused: the first loss is logged with its cause, the
        # others counted, and the stop sums the run up
        assert len(server.records()) >= 20
        assert len(lost) == 2, lost
        assert "SMTP alert not sent to [192.0.2.25]:2525: MAIL answered 550" in lost[0]
        assert "alerts lost (first: MAIL answered 550" in lost[1] and "at shutdown" in lost[1]


SMTP_LINES = f"""    notification_email {{
        {RCPT[0]}
    }}
    notification_email_from keepalived@example.net
    smtp_server {MAIL_HOST} {MAIL_PORT}
    smtp_connect_timeout 3
    smtp_alert"""


def _at(line: str) -> float:
    """Seconds since midnight of a console log line (``Tue Dec 01 02:36:00.471 ...``)."""
    clock = line.split()[3]
    hours, minutes, seconds = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.mark.parametrize("kind", ["slow", "hang-data"])
def test_a_slow_or_hung_mail_server_costs_no_advert(lab: Lab, tmp_path: Path,
                                                     kind: str) -> None:
    """The server answers each step a second late (a mail takes five: longer than
    smtp_connect_timeout 3), or takes the whole message and never answers it. r1, MASTER at
    advert_int 0.1 with r2 as its BACKUP, mails its state changes there: r2 never takes
    over, and the first lost mail is logged once, with its cause, no sooner than
    smtp_connect_timeout after the change it was for (the later ones are counted)."""
    from tests.netns.fault_lab import Watch, bench, master_instance

    m = lab.add_host("m", [[f"{MAIL_HOST}/24"]])
    server = MailServer(m, kind, tmp_path / "mail.jsonl")
    try:
        with bench(lab, tmp_path, master_instance(), r1_global=SMTP_LINES) as b:
            watch = Watch(b, tmp_path / "adverts.pcap")
            assert wait_for(lambda: b.lines("SMTP alert not sent"), 10), b.logs()
            time.sleep(4.0)  # the second alert (MASTER) meets the same server
            watch.stop()
            assert not b.peer_took_over(), b.logs()
            assert watch.longest_silence() < 0.36, watch.times  # r2's master_down_interval
            lost = b.lines("SMTP alert not sent")
            assert len(lost) == 1, b.logs()
            assert "SMTP alert not sent to [192.0.2.25]:2525: no answer within 3 s" in lost[0]
            first_change = b.lines("(VI_1) Entering BACKUP STATE")[0]  # the first mail's
            assert 2.9 <= _at(lost[0]) - _at(first_change) < 10.0, (first_change, lost[0])
            assert b.d1.stop() == 0
        records = server.records()
        assert server.mails() == []
        if kind == "slow":
            assert {"step": "HELO"} in records, records  # it did answer, slowly
        else:
            assert any("hung_after_data" in r for r in records), records  # mid-DATA
        summary = [line for line in b.d1.log().splitlines() if "SMTP alerts to" in line]
        assert len(summary) == 1 and "lost (first: no answer within 3 s" in summary[0], \
            summary
    finally:
        server.stop()
