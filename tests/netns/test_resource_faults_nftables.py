"""nftables missing: neither libnftables nor an ``nft`` command for r1's daemon.

r1 runs in a mount namespace of its own where libnftables is /dev/null (bound over the
library file, so it does not load) and PATH has no nft. It runs VI_1 (MASTER, no_accept),
VI_2 (no_accept, flapped between MASTER and FAULT by a tracked file: the firewall is asked
again at each change) and a virtual_server with lb_backend nftables whose real server a
MISC_CHECK moves up and down (the table is asked for again at each change, and every few
seconds while it is refused). Then:

- VRRP goes on: r2, BACKUP at advert_int 0.1, never takes over;
- the firewall's failure and the table's are each logged once, with the cause;
- the checker process goes on checking: it neither dies nor is respawned, and it stops
  cleanly (exit status 0, no traceback);
- --status --json says the firewall and the table are not in place, and why.

And when the load-balancer backend cannot exist at all (lb_backend ipvs on a kernel without
IPVS), the checker exits with keepalived's permanent error and is not respawned (keepalived
would stop altogether), while VRRP goes on.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab
from pykeepalived.lb.select import detect_ipvs
from tests.daemons import instance
from tests.netns.fault_lab import Watch, bench, master_instance

pytestmark = pytest.mark.netns

NO_NFTABLES = r"""set -e
for lib in $(ldconfig -p | sed -n 's/.*libnftables\.so.* => //p' | xargs -r readlink -f |
             sort -u); do
    mount --bind /dev/null "$lib"
done
export PATH=/usr/local/bin:/usr/bin:/bin
exec "$@"
"""
WRAPPER = ["unshare", "-m", "--propagation", "private", "sh", "-c", NO_NFTABLES, "sh"]
PROBE = ("import ctypes, ctypes.util, shutil\n"
         "try:\n"
         "    ctypes.CDLL(ctypes.util.find_library('nftables') or 'libnftables.so.1')\n"
         "    print('library')\n"
         "except OSError:\n"
         "    print('no library')\n"
         "print(shutil.which('nft'))\n")


def virtual_server(up: Path) -> str:
    return f"""
virtual_server 203.0.113.10 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 192.0.2.21 80 {{
        MISC_CHECK {{
            misc_path "/usr/bin/test -e {up}"
            misc_timeout 2
        }}
    }}
}}
"""


def test_nftables_missing(lab: Lab, tmp_path: Path) -> None:
    flap = tmp_path / "flap"
    flap.write_text("0\n")
    up = tmp_path / "up"
    up.touch()
    body = f"""
vrrp_track_file flap {{
    file {flap}
}}
""" + master_instance(extra="no_accept") + instance(
        "VI_2", vrid=52, priority=100, vip="192.0.2.20/24",
        extra="no_accept\n    track_file {\n        flap weight 0\n    }") + virtual_server(up)
    with bench(lab, tmp_path, body, r1_global="    lb_backend nftables",
               wrapper=WRAPPER) as b:
        # the fault is real: in r1's mount namespace nothing of nftables can be found
        probe = b.r1.run(*WRAPPER, "python3", "-c", PROBE).split()
        assert probe == ["no", "library", "None"], probe
        assert b.d1.wait_log("Activating healthchecker", 10), b.logs()
        assert b.d1.wait_log("(VI_2) Entering MASTER STATE", 5), b.logs()
        watch = Watch(b, tmp_path / "adverts.pcap")
        for i in range(4):  # VI_2 flaps, the real server goes down and up again
            flap.write_text("1\n")
            up.unlink()
            time.sleep(0.8)
            flap.write_text("0\n")
            time.sleep(0.6)  # down for 1.4 s, longer than delay_loop: a check sees it
            up.touch()
            time.sleep(1.4 if i < 3 else 5.5)  # the last pause: table retries (every 5 s)
        watch.stop()
        assert not b.peer_took_over(), b.logs()
        assert watch.longest_silence() < 0.36, watch.times  # r2's master_down_interval
        assert len(b.lines("(VI_2) Entering FAULT STATE")) >= 3, b.logs()
        assert len(b.lines("Removing service [192.0.2.21]:tcp:80")) >= 2, b.logs()

        # each failure said once, with its cause
        table = b.lines("Updating the load-balancer table (nftables) failed")
        assert len(table) == 1, b.logs()
        assert "no nft command" in table[0]
        firewall = b.lines("no_accept firewall:")
        assert len(firewall) == 1, b.logs()
        assert "failed: No such file or directory: 'nft'" in firewall[0]
        # the checker went on: never died, never respawned
        assert len(b.lines("Starting Healthcheck child process")) == 1, b.logs()
        assert not b.lines("died"), b.logs()
        # what r1 reports is what is in place
        reply = b.status()
        assert reply["vrrp"]["no_accept_firewall"] == {
            "in_use": True, "error": "No such file or directory: 'nft'"}
        assert "no nft command" in reply["check"]["apply_error"]
        assert reply["check"]["apply_errors"] >= 3  # tried at each change and again
        assert b.d1.stop() == 0
    log = b.d1.log()
    assert "Traceback" not in log and "Exception ignored" not in log, log


def test_a_checker_without_its_backend_is_not_respawned(lab: Lab, tmp_path: Path) -> None:
    if detect_ipvs(load_module=False).present:
        pytest.skip("this kernel has IPVS: lb_backend ipvs would work")
    body = master_instance() + """
virtual_server 203.0.113.10 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 192.0.2.21 80 {
        weight 1
    }
}
"""
    with bench(lab, tmp_path, body, r1_global="    lb_backend ipvs") as b:
        assert b.d1.wait_log("exited with permanent error FATAL: not respawning it", 10), \
            b.logs()
        watch = Watch(b, tmp_path / "adverts.pcap")
        time.sleep(4.0)  # a crash loop would have respawned it three times by now
        watch.stop()
        assert len(b.lines("Starting Healthcheck child process")) == 1, b.logs()
        assert len(b.lines("the kernel has no IPVS")) == 1, b.logs()
        assert "Traceback" not in b.d1.log(), b.logs()
        assert not b.peer_took_over(), b.logs()
        assert watch.longest_silence() < 0.36, watch.times
        assert b.instance_status()["state"] == "MASTER"
        b.d1.signal(signal.SIGTERM)
        assert b.d1.proc.wait(timeout=10) == 1  # the permanent error, said at the end
        assert "Stopped pykeepalived" in b.d1.log()
