"""The daemon's side of a planned hand-over, without root: the VIP batch keeps the core's
order (VIPs before the advert of a planned takeover), and the control verbs find their
targets and answer."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from pykeepalived.daemon import cli
from pykeepalived.daemon.kernel import Refusal, VipBatch
from pykeepalived.daemon.vrrp_main import VrrpProcess
from pykeepalived.net.addresses import VipSpec
from tests.unit.daemon.keyword_helpers import load
from tests.unit.notify._util import run_async

CONFIG = """
vrrp_sync_group G1 {
    group {
        VI_A
        VI_B
    }
}
vrrp_instance VI_A {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.0.2.10/24
    }
}
vrrp_instance VI_B {
    interface eth0
    virtual_router_id 52
    priority 100
    virtual_ipaddress {
        192.0.2.11/24
    }
}
vrrp_instance VI_OWNER {
    interface eth0
    virtual_router_id 53
    priority 255
    virtual_ipaddress {
        192.0.2.12/24
    }
}
"""


class Recorder:
    """An AddressManager and an instance in one: what the batch did, in order."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    @property
    def addresses(self) -> list[VipSpec]:
        return []

    def add_many(self, specs: Sequence[VipSpec]) -> None:
        self.log.append("vips")

    def vips_added(self, refused: Mapping[VipSpec, Refusal]) -> None:
        assert not refused

    def install_extras(self) -> None:
        self.log.append("extras")

    def gratuitous_round(self) -> None:
        self.log.append("garp")


@run_async
async def test_an_advert_queued_behind_vips_goes_out_after_them_and_before_garp() -> None:
    log: list[str] = []
    inst = Recorder(log)
    batch = VipBatch(asyncio.get_running_loop(), inst)  # type: ignore[arg-type]
    batch.add(inst)
    assert batch.pending(inst)
    batch.after_vips(lambda: log.append("advert"))
    batch.gratuitous(inst)
    assert log == []  # nothing before the event is over
    await asyncio.sleep(0)
    assert log == ["vips", "extras", "advert", "garp"]
    assert not batch.pending(inst)


def _process() -> VrrpProcess:
    proc = VrrpProcess(load(CONFIG))
    proc.build()
    return proc


async def _close(proc: VrrpProcess) -> None:
    proc.tracker.stop()
    await proc.runner.close()
    proc.scheduler.close()


@run_async
async def test_control_verbs_find_instances_groups_and_all() -> None:
    proc = _process()
    try:
        assert proc.control({})["role"] == "vrrp"  # no cmd: the status, as before
        assert "unknown command" in proc.control({"cmd": "reboot"})["error"]
        assert "give an instance" in proc.control({"cmd": "handover"})["error"]
        assert "no vrrp_instance or vrrp_sync_group named 'VI_X'" in proc.control(
            {"cmd": "handover", "target": "VI_X"})["error"]
        # an instance of a sync group stands for its group
        reply = proc.control({"cmd": "drain", "target": "VI_A"})
        assert sorted(reply["instances"]) == ["VI_A", "VI_B"]
        assert reply["sync_groups"] == ["G1"] and reply["refused"] == []
        assert all(i["drained"] and i["effective_priority"] == 1
                   for i in reply["instances"].values())
        # every instance; the owner is refused, and says so
        reply = proc.control({"cmd": "drain", "target": "all"})
        assert sorted(reply["instances"]) == ["VI_A", "VI_B", "VI_OWNER"]
        assert reply["refused"] == ["VI_OWNER"]
        assert reply["instances"]["VI_OWNER"]["effective_priority"] == 255
        status = {i["name"]: i for i in proc.control({"cmd": "status"})["instances"]}
        assert status["VI_B"]["drained"] and not status["VI_OWNER"]["drained"]
        reply = proc.control({"cmd": "resume", "target": "G1"})
        assert not any(i["drained"] for i in reply["instances"].values())
        assert reply["instances"]["VI_A"]["effective_priority"] == 100
    finally:
        await _close(proc)


def test_command_line_takes_one_verb_and_needs_the_daemon(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pid = f"{tmp_path}/ka.pid"
    assert cli.main(["--handover", "VI_1", "--drain", "VI_2", "-p", pid]) == cli.EXIT_BAD_USAGE
    assert "give one of" in capsys.readouterr().err
    assert cli.main(["--handover", "all", "-p", pid]) == 1
    assert "VRRP process not reachable" in capsys.readouterr().err
