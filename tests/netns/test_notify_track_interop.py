"""vrrp_script rise/fall and init_fail side by side with Debian's keepalived 2.2.7.

Two check scripts return a scripted sequence of exit statuses, one per run; each is tracked
(weight 0) by its own instance, whose generic notify script writes a marker after the run that
changed its state: FAULT when the script went KO, BACKUP when it came back OK. The transitions
keepalived makes are then compared with those of TrackedScript fed the same sequence.

Findings recorded here:

- the first result decides at once, whatever rise is (keepalived's "one success is enough"); a
  first failure puts the instance in FAULT; after that ``rise`` successes or ``fall`` failures
  in a row are needed, and a broken streak starts counting again;
- ``init_fail`` has no effect in keepalived 2.2.7 on a script that an instance tracks:
  alloc_track_script() (vrrp_track.c) resets the script's init state to INIT when a
  track_script refers to it, after the parser set it to FAILED (the data dump shows "Init
  state = INIT"; still so in keepalived's master branch). pykeepalived does what
  keepalived.conf(5) says ("assume script initially is in failed state": KO until ``rise``
  successes), a deliberate difference asserted below.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab, wait_for
from pykeepalived.track.script import TrackedScript
from tests.unit.notify._util import write_script

pytestmark = [pytest.mark.netns, pytest.mark.interop]

# (rise, fall, init_fail, exit statuses of runs 1, 2, ...; runs after these succeed)
CASES = {
    "plain": (2, 3, False, [1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0]),
    "initfail": (3, 2, True, [0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0]),
}
RUNS = max(len(seq) for *_, seq in CASES.values()) + 1


def _case_conf(name: str, vrid: int, rise: int, fall: int, init_fail: bool,
               tmp: Path) -> str:
    return f"""
vrrp_script chk_{name} {{
  script {tmp / name / 'check.sh'}
  interval 1
  rise {rise}
  fall {fall}
  {'init_fail' if init_fail else ''}
}}
vrrp_instance VI_{name} {{
  state BACKUP
  interface eth0
  virtual_router_id {vrid}
  priority 100
  advert_int 1
  virtual_ipaddress {{
    192.0.2.{vrid}/24
  }}
  track_script {{
    chk_{name}
  }}
  notify {tmp / name / 'notify.sh'}
}}
"""


def _prepare(tmp: Path, name: str, seq: list[int]) -> Path:
    case = tmp / name
    case.mkdir()
    (case / "seq").write_text("".join(f"{status}\n" for status in seq))
    events = case / "events"
    write_script(case / "check.sh", f"""\
n=$(cat {case}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > {case}/n
r=$(sed -n "${{n}}p" {case}/seq); [ -z "$r" ] && r=0
echo "run $n" >> {events}
exit $r
""")
    write_script(case / "notify.sh", f'echo "state $3" >> {events}')
    return events


def _keepalived_transitions(events: Path) -> list[tuple[int, bool]]:
    """(run after which it happened, OK?) for every FAULT <-> not FAULT change."""
    transitions = []
    run = 0
    faulty: bool | None = None
    for line in events.read_text().splitlines():
        word, value = line.split()
        if word == "run":
            run = int(value)
        elif value == "FAULT" and faulty is not True:
            transitions.append((run, False))
            faulty = True
        elif value in ("BACKUP", "MASTER") and faulty is not False:
            transitions.append((run, True))
            faulty = False
    return transitions


def _our_transitions(rise: int, fall: int, init_fail: bool,
                     seq: list[int]) -> list[tuple[int, bool]]:
    tracked = TrackedScript("chk", "/bin/true", 1.0, None, rise, fall, init_fail)
    transitions = [(0, False)] if init_fail else []  # the instance starts in FAULT
    for run, status in enumerate(seq + [0] * (RUNS - len(seq)), start=1):
        changed = tracked.record(status == 0)
        if changed is not None:
            transitions.append((run, changed))
    return transitions


def test_rise_fall_and_init_fail_match_keepalived(lab: Lab, tmp_path: Path) -> None:
    events = {name: _prepare(tmp_path, name, seq) for name, (*_, seq) in CASES.items()}
    conf = tmp_path / "keepalived.conf"
    conf.write_text("global_defs {\n  router_id r1\n  script_user root\n"
                    "  enable_script_security\n}\n"
                    + "".join(_case_conf(name, 51 + i, rise, fall, init_fail, tmp_path)
                              for i, (name, (rise, fall, init_fail, _)) in
                              enumerate(CASES.items())))
    r1 = lab.add_host("r1", [["192.0.2.1/24"]])
    out = open(tmp_path / "keepalived.out", "wb")  # noqa: SIM115 - closed in finally
    proc = r1.popen("keepalived", "-n", "-l", "-D", "-f", str(conf),
                    "-p", str(tmp_path / "ka.pid"), "-r", str(tmp_path / "vrrp.pid"),
                    "-c", str(tmp_path / "chk.pid"), stdout=out, stderr=subprocess.STDOUT)

    def runs(name: str) -> int:
        counter = tmp_path / name / "n"
        text = counter.read_text().strip() if counter.exists() else ""
        return int(text) if text else 0

    try:
        assert wait_for(lambda: all(runs(name) >= RUNS for name in CASES), RUNS * 2 + 20), \
            (tmp_path / "keepalived.out").read_text()
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        out.close()
    for name, (rise, fall, init_fail, seq) in CASES.items():
        theirs = [t for t in _keepalived_transitions(events[name]) if t[0] <= RUNS]
        # keepalived 2.2.7 ignores init_fail on tracked scripts (see the module docstring)
        assert theirs == _our_transitions(rise, fall, False, seq), (name,
                                                                    events[name].read_text())
        if init_fail:
            ours = _our_transitions(rise, fall, True, seq)
            assert ours != theirs
            assert ours[0] == (0, False)  # starts KO ...
            assert ours[1][1] is True and ours[1][0] >= rise  # ... until rise successes
