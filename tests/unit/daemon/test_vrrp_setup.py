"""What the VRRP process holds of its configuration: the instances' plans and the rest of
the model, read by a short-lived child, never the parser nor the vrrp_instance blocks."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

from pykeepalived.config import load_config_text
from pykeepalived.daemon import loadconf, reload
from pykeepalived.daemon.instance import VrrpSetup, plan_instance, plan_setup

SRC = str(Path(__file__).resolve().parents[3] / "src")

CONF = """
global_defs {
    router_id r1
}
vrrp_sync_group G1 {
    group {
        VI_1
    }
    smtp_alert
}
vrrp_instance VI_1 {
    virtual_router_id 51
    priority 100
    smtp_alert
    unicast_src_ip 192.0.2.1
    unicast_peer {
        192.0.2.2
    }
    virtual_ipaddress {
        192.0.2.10/32 dev lo
    }
}
vrrp_instance VI_2 {
    virtual_router_id 52
    priority 100
    unicast_src_ip 192.0.2.1
    unicast_peer {
        192.0.2.2
    }
    virtual_ipaddress {
        192.0.2.11/32 dev lo
    }
}
"""

# (unicast instances with their VIPs on lo: a file any host loads without errors)

# The model's own modules, which unpickling the rest of the model imports; every other
# module of the package belongs to the parser and its checks, or to the load balancer
# (model_lvs).
MODEL = {"pykeepalived.config", "pykeepalived.config.errors", "pykeepalived.config.model",
         "pykeepalived.config.model_base", "pykeepalived.config.model_common",
         "pykeepalived.config.model_global", "pykeepalived.config.model_vrrp"}

PROBE = """
import asyncio, json, sys
from pykeepalived.daemon.runner import _import_asyncio_without_tls
_import_asyncio_without_tls()
from pykeepalived.daemon.loadconf import read_forked
from pykeepalived.daemon.vrrp_main import VrrpProcess
setup = read_forked(sys.argv[1], None)
asyncio.set_event_loop(asyncio.new_event_loop())
proc = VrrpProcess(setup)
proc.build()
print(json.dumps({"instances": sorted(proc.instances), "groups": sorted(proc.groups),
                  "modules": sorted(m for m in sys.modules if m.startswith("pykeepalived.config")),
                  "blocks": len(proc.config.vrrp_instances)}))
"""


def test_the_vrrp_process_runs_its_instances_without_loading_the_parser(
        tmp_path: Path) -> None:
    conf = tmp_path / "keepalived.conf"
    conf.write_text(CONF)
    proc = subprocess.run([sys.executable, "-c", PROBE, str(conf)], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, PYTHONPATH=SRC))
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.splitlines()[-1])
    assert seen["instances"] == ["VI_1", "VI_2"]
    assert seen["groups"] == ["G1"]
    assert seen["blocks"] == 0
    assert "pykeepalived.config.model_vrrp" in seen["modules"]  # the listing is real
    assert set(seen["modules"]) <= MODEL, sorted(set(seen["modules"]) - MODEL)


def test_read_forked_says_none_when_the_configuration_cannot_run(tmp_path: Path) -> None:
    conf = tmp_path / "keepalived.conf"
    conf.write_text(CONF.replace("dev lo", "dev nosuchif0").replace(
        "unicast_src_ip 192.0.2.1", "interface nosuchif0"))
    assert loadconf.read_forked(str(conf), None) is None


def test_the_setup_plans_every_instance_and_leaves_the_model_as_it_was() -> None:
    result = load_config_text(CONF)
    assert result.ok, [str(d) for d in result.diagnostics]
    config = result.config
    setup = plan_setup(config)
    assert list(setup.plans) == ["VI_1", "VI_2"]
    for name, inst in config.vrrp_instances.items():
        assert setup.plans[name] == plan_instance(inst, config)
    assert setup.smtp_alert == {"VI_1": True, "VI_2": False}
    assert setup.config.vrrp_instances == {}
    assert list(setup.config.vrrp_sync_groups) == ["G1"]
    assert list(config.vrrp_instances) == ["VI_1", "VI_2"]  # the model itself untouched


def test_a_reload_for_the_vrrp_process_applies_the_setup(tmp_path: Path) -> None:
    conf = tmp_path / "keepalived.conf"
    conf.write_text(CONF)
    reply = loadconf.read(str(conf), None, vrrp=True)
    setup = reload.accept(reply)
    assert isinstance(setup, VrrpSetup)
    assert list(setup.plans) == ["VI_1", "VI_2"]
    assert setup.config is reply["result"].config  # one copy of the rest of the model
    plain = reload.accept(loadconf.read(str(conf), None))
    assert list(plain.vrrp_instances) == ["VI_1", "VI_2"]  # the checker's reply as before


def test_equal_values_of_many_plans_reach_the_vrrp_process_as_one_object() -> None:
    result = load_config_text(CONF)
    assert result.ok, [str(d) for d in result.diagnostics]
    setup = pickle.loads(pickle.dumps(plan_setup(result.config)))  # as the reader sends it
    one, two = setup.plans["VI_1"], setup.plans["VI_2"]
    assert one.destinations == ("192.0.2.2",)
    assert one.destinations is two.destinations
    assert one.notify is two.notify
    assert one.vips[0].dev == "lo" and one.vips[0].dev is two.vips[0].dev
    assert one.tracking and one.tracking is two.tracking  # (interface lo, of the VIP)
    # one plan per instance for its lifetime: no attribute dictionaries
    assert not hasattr(one, "__dict__") and not hasattr(one.router_config, "__dict__")
