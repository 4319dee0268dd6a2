"""SMTP alerts: Debian's keepalived and pykeepalived mail the same, byte for byte.

Each daemon runs the same configuration, in turn, on the same lab host (so the same host
name for keepalived's defaults: router_id, HELO and the sender are left out), against
tests/netns/mail_sink.py in another namespace. A sync group, two members, and an instance
put in FAULT and back through a tracked file; every mail's envelope and its bytes (the Date
header aside) must agree. keepalived's arrival order is not fixed (one connection per mail,
side by side), so the mails are compared as multisets.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from pykeepalived.demo.lab import Lab, wait_for
from tests.daemons import instance, start_keepalived, start_pykeepalived, write_conf
from tests.netns.test_smtp_alerts import MAIL_HOST, MAIL_PORT, MailServer, without_date

pytestmark = pytest.mark.interop


def _write(path: Path, value: int) -> None:
    tmp = path.with_suffix(".new")
    tmp.write_text(f"{value}\n")
    tmp.rename(path)


def _config(down: Path) -> str:
    return f"""
global_defs {{
    notification_email {{
        ops@example.com
        noc@example.org
    }}
    smtp_server {MAIL_HOST} {MAIL_PORT}
    smtp_connect_timeout 5
    smtp_alert
}}
vrrp_track_file flap {{
    file {down}
}}
vrrp_sync_group G1 {{
    group {{
        VI_1
        VI_2
    }}
}}
""" + instance("VI_1", vrid=51, vip="192.0.2.10/24") + \
        instance("VI_2", vrid=52, vip="192.0.2.11/24") + \
        instance("VI_3", vrid=53, vip="192.0.2.12/24", extra="track_file {\n flap weight 0\n }")


DATE = re.compile(r"Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
                  r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                  r"\d\d:\d\d:\d\d [+-]\d{4}")


def _run(lab: Lab, kind: str, tmp: Path) -> list[tuple[Any, ...]]:
    r1 = lab.hosts["r1"]
    m = lab.hosts["m"]
    down = tmp / f"{kind}.down"
    _write(down, 0)
    server = MailServer(m, "record", tmp / f"{kind}.jsonl")
    start = start_keepalived if kind == "keepalived" else start_pykeepalived
    daemon = start(r1, write_conf(tmp, kind, _config(down)), tmp)
    try:
        # group BACKUP, 3 x BACKUP, 3 x MASTER, group MASTER
        assert wait_for(lambda: len(server.mails()) >= 8, 20), daemon.log()
        _write(down, 1)
        assert wait_for(lambda: len(server.mails()) >= 9, 10), daemon.log()
        _write(down, 0)
        assert wait_for(lambda: len(server.mails()) >= 11, 10), daemon.log()
        time.sleep(1.0)  # anything more would show up now
    finally:
        daemon.stop()
        server.stop()
    mails = server.mails()
    dates = [x["data"].split("\r\n", 1)[0] for x in mails]
    assert all(DATE.fullmatch(d) for d in dates), (kind, dates)  # strftime's RFC 822 shape
    return sorted((x["greeting"], x["helo"], x["mail_from"], tuple(x["rcpt_tos"]),
                   without_date(x["data"])) for x in mails)


def test_keepalived_and_pykeepalived_send_the_same_mails(lab: Lab, tmp_path: Path) -> None:
    lab.add_host("r1", [["192.0.2.1/24"]])
    lab.add_host("m", [[f"{MAIL_HOST}/24"]])
    theirs = _run(lab, "keepalived", tmp_path)
    ours = _run(lab, "pykeepalived", tmp_path)
    assert len(theirs) == 11, theirs
    assert ours == theirs
    subjects = [mail[4].split("Subject: ", 1)[1].split("\r\n", 1)[0] for mail in theirs]
    assert sum("VI_3 - Entering FAULT state" in s for s in subjects) == 1, subjects
