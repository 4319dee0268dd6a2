"""The daemon names every keyword it accepts but does not act on; -t stays keepalived's."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.daemon import cli, runner

HOST = SystemInfo(interfaces={"eth0": 1}, users={"root"}, groups={"root"}, probe_files=False)

CONF = """global_defs {
    bfd_no_swap
    vrrp_strict
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 150
    kernel_rx_buf_size 65536
    virtual_ipaddress {
        192.0.2.10/24
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    kernel_rx_buf_size 65536
    virtual_ipaddress {
        192.0.2.20/24
    }
}
vrrp_instance VI_3 {
    interface eth0
    virtual_router_id 53
    kernel_rx_buf_size 131072
    virtual_ipaddress {
        192.0.2.30/24
    }
}
virtual_server 192.0.2.10 80 {
    delay_loop 6
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    persistence_engine sip
    real_server 192.0.2.40 80 {
        snmp_name web1
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
"""


@pytest.fixture
def conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(SystemInfo, "probe", classmethod(lambda cls: HOST))
    path = tmp_path / "keepalived.conf"
    path.write_text(CONF)
    return path


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "pykeepalived.daemon" and r.levelno == logging.WARNING
            and "not supported by pykeepalived" in r.getMessage()]


def test_parse_only_keywords_are_named_once_with_place_and_count(
        conf: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert runner.load(str(conf), None) is not None  # still runs, as keepalived would
    warnings = _warnings(caplog)
    assert warnings == [
        f"{conf}:2: 'bfd_no_swap' in global_defs is not supported by pykeepalived and has no "
        "effect (pykeepalived has no BFD process)",
        f"{conf}:9: 'kernel_rx_buf_size' in vrrp_instance is not supported by pykeepalived and "
        "has no effect (the receive buffers keep their size); 2 more uses after this one",
        f"{conf}:35: 'persistence_engine' in virtual_server is not supported by pykeepalived "
        "and has no effect (no persistence engine (sip) is given to IPVS)",
        f"{conf}:37: 'snmp_name' in virtual_server/real_server is not supported by "
        "pykeepalived and has no effect (pykeepalived has no SNMP or D-Bus interface)",
    ]


def test_acted_keywords_raise_no_warning(conf: Path, caplog: pytest.LogCaptureFixture) -> None:
    acted_only = "\n".join(line for line in CONF.split("virtual_server")[0].splitlines()
                           if "kernel_rx_buf_size" not in line and "bfd_no_swap" not in line)
    conf.write_text(acted_only + "\n")
    caplog.set_level(logging.DEBUG)
    assert runner.load(str(conf), None) is not None
    assert _warnings(caplog) == []
    assert "vrrp_strict" in acted_only and "priority 150" in acted_only


def test_quiet_load_keeps_them_at_debug(conf: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The VRRP child loads quietly: the parent's check already said it."""
    caplog.set_level(logging.DEBUG)
    assert runner.load(str(conf), None, quiet=True) is not None
    assert _warnings(caplog) == []
    assert any("not supported by pykeepalived" in r.getMessage() and r.levelno == logging.DEBUG
               for r in caplog.records)


def test_config_test_output_and_status_do_not_change(
        conf: Path, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    """A configuration keepalived -t finds clean stays clean, however many parse-only
    keywords it uses: nothing printed, nothing logged, exit status 0."""
    caplog.set_level(logging.DEBUG)
    assert cli.main(["-t", "-f", str(conf)]) == 0
    out = capsys.readouterr()
    assert (out.out, out.err) == ("", "")
    assert "not supported by pykeepalived" not in caplog.text
