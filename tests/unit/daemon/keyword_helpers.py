"""Loading keepalived.conf text for the keyword-effect tests (test_keyword_effects*.py)."""

from __future__ import annotations

import getpass

from pykeepalived.config import Category, KeepalivedConfig, load_config_text
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.daemon.instance import InstancePlan, plan_instance

ME = getpass.getuser()
HOST = SystemInfo(interfaces={"eth0": 1, "eth1": 1}, users={"root", ME}, groups={"root"},
                  probe_files=False)


def load(text: str) -> KeepalivedConfig:
    """The configuration, which must load without errors (keepalived's SECURITY VIOLATION for
    scripts without enable_script_security aside: keepalived runs them anyway, and so do we)."""
    result = load_config_text(text, system=HOST)
    errors = [str(d) for d in result.errors if d.category != Category.SECURITY_ERROR]
    assert result.runnable and not errors, errors
    return result.config


def plan(text: str, name: str = "VI_1") -> InstancePlan:
    config = load(text)
    return plan_instance(config.vrrp_instances[name], config)
