"""keepalived's validation rules and the `-t` exit status they lead to."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pykeepalived.config import ConfigError, load_config
from pykeepalived.config.errors import Category, Diagnostic, exit_status
from pykeepalived.config.sysinfo import SystemInfo
from tests.unit.config.helpers import instance, load, messages, write


@pytest.mark.parametrize(("value", "ok"), [("0", False), ("256", False), ("-1", False),
                                           ("abc", False), ("1", True), ("255", True)])
def test_priority_range(tmp_path: Path, value: str, ok: bool) -> None:
    result = load(tmp_path, instance(body=f"    priority {value}\n"))
    assert (result.exit_status == 0) is ok, messages(result)
    if not ok:
        assert any("keepalived.conf:4" in m and "priority" in m.lower() for m in messages(result))
        assert result.config.vrrp_instances["VI_1"].priority == 100


@pytest.mark.parametrize(("value", "ok"), [("0", False), ("256", False), ("1", True),
                                           ("255", True)])
def test_vrid_range(tmp_path: Path, value: str, ok: bool) -> None:
    result = load(tmp_path, instance(vrid=value))  # type: ignore[arg-type]
    assert (result.exit_status == 0) is ok
    if not ok:
        assert any("keepalived.conf:3" in m and "VRID" in m for m in messages(result))
        assert any("virtual router id must be set" in m for m in messages(result))
        assert not result.ok


def test_missing_parameter_stops_with_status_2(tmp_path: Path) -> None:
    result = load(tmp_path, instance(body="    priority\n"))
    assert result.exit_status == 2 and not result.ok
    assert any("keepalived.conf:4" in m and "priority" in m for m in messages(result))


def test_unknown_keyword_is_a_warning_with_place(tmp_path: Path) -> None:
    """An unknown keyword opens no block (keepalived 2.2.7): its "{" is unexpected, the
    lines after it and the "}" that follows are read at the level it is in."""
    result = load(tmp_path, instance(body="    prioritty 100\n") + "bogus {\n a\n}\n")
    diags = [d for d in result.diagnostics if d.category == Category.UNKNOWN_KEYWORD]
    assert [(d.line, d.keyword, d.severity) for d in diags] == [
        (4, "prioritty", "warning"), (9, "bogus", "warning"), (10, "a", "warning"),
        (11, "}", "warning")]
    assert result.ok and result.exit_status == 5


def test_lvs_interfaces_that_do_not_exist_are_noted_with_their_place(tmp_path: Path) -> None:
    """keepalived -t looks up neither a checker's bind_if nor lvs_sync_daemon's interface
    (it exits 0): pykeepalived exits 0 too, and says where the interface is named."""
    result = load(tmp_path, """global_defs {
    lvs_sync_daemon eth9 VI_1
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.100
    }
}
virtual_server 192.0.2.50 80 {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    real_server 192.0.2.51 80 {
        TCP_CHECK {
            bind_if eth8
        }
    }
}
""")
    assert result.exit_status == 0 and result.ok
    assert messages(result) == [
        f"{tmp_path}/keepalived.conf:2: lvs_sync_daemon: interface eth9 doesn't exist - the "
        "IPVS sync daemon cannot run on it",
        f"{tmp_path}/keepalived.conf:17: bind_if eth8: no such interface - the checker's "
        "connections fail until it exists"]
    assert result.config.global_defs.lvs_sync_daemon is not None


def test_missing_interface_cannot_run(tmp_path: Path) -> None:
    result = load(tmp_path, instance().replace("eth0", "eth9"))
    assert not result.ok and result.exit_status == 5
    assert any("keepalived.conf:2" in m and "eth9" in m for m in messages(result))
    assert any(d.category == Category.BAD_IF for d in result.diagnostics)


def test_dynamic_interfaces_accepts_missing(tmp_path: Path) -> None:
    text = "global_defs {\n dynamic_interfaces\n}\n" + instance().replace("eth0", "eth9")
    assert load(tmp_path, text).exit_status == 0


def test_no_vip_sensible_or_required(tmp_path: Path) -> None:
    text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 5\n}\n"
    result = load(tmp_path, text)
    assert result.ok and result.exit_status == 5
    result = load(tmp_path, text.replace("virtual_router_id 5", "virtual_router_id 5\n version 3"))
    assert not result.ok and any("required" in m for m in messages(result))


def test_strict_mode_rules(tmp_path: Path) -> None:
    body = ("    state MASTER\n    priority 100\n    preempt_delay 5\n"
            "    authentication {\n        auth_type PASS\n        auth_pass x\n    }\n")
    result = load(tmp_path, "global_defs {\n vrrp_strict\n}\n" + instance(body=body))
    text = " ".join(messages(result))
    assert "State MASTER must match" in text and "authentication" in text
    vi = result.config.vrrp_instances["VI_1"]
    assert vi.state == "BACKUP" and vi.authentication is None and vi.no_accept
    assert vi.strict_mode


def test_ah_with_master_is_cleared(tmp_path: Path) -> None:
    body = ("    state MASTER\n    priority 100\n"
            "    authentication {\n        auth_type AH\n        auth_pass x\n    }\n")
    result = load(tmp_path, instance(body=body))
    assert result.config.vrrp_instances["VI_1"].state == "BACKUP"
    assert result.exit_status == 5


def test_duplicate_vrid(tmp_path: Path) -> None:
    result = load(tmp_path, instance(name="A", vrid=5) + instance(name="B", vrid=5))
    assert any("both use VRID 5" in m for m in messages(result))


def test_duplicate_instance_name(tmp_path: Path) -> None:
    result = load(tmp_path, instance() + instance(vrid=52))
    assert any("keepalived.conf:8" in m and "already defined" in m for m in messages(result))


def test_v2_advert_int_rounded(tmp_path: Path) -> None:
    result = load(tmp_path, instance(body="    advert_int 1.4\n"))
    assert result.config.vrrp_instances["VI_1"].advert_int == 1.0
    assert result.exit_status == 5


def test_script_security(tmp_path: Path) -> None:
    script = write(tmp_path, "notify.sh", "#!/bin/sh\nexit 0\n")
    os.chmod(script, 0o755)
    text = instance(body=f"    notify_master {script}\n")
    from pykeepalived.config.sysinfo import SystemInfo

    system = SystemInfo.fake(["lo", "eth0"])
    system.probe_files = True
    path = write(tmp_path, "keepalived.conf", text)
    assert load_config(str(path), system=system).exit_status == 6
    path = write(tmp_path, "keepalived.conf", "global_defs {\n enable_script_security\n"
                 " script_user root\n}\n" + text)
    assert load_config(str(path), system=system).exit_status == 0
    path = write(tmp_path, "keepalived.conf", instance(body="    notify_master /nonexist.sh\n"))
    assert load_config(str(path), system=system).exit_status == 0


def test_missing_main_file_raises(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path / "none.conf"))
    assert "none.conf" in str(info.value)
    assert exit_status([info.value.as_diagnostic()]) == 0  # what keepalived -t gives


def test_exit_status_takes_keepalived_largest_category() -> None:
    def d(cat: Category) -> Diagnostic:
        return Diagnostic("f", 1, "warning", "m", None, cat)

    assert exit_status([]) == 0
    assert exit_status([d(Category.BAD_IF)]) == 4
    assert exit_status([d(Category.BAD_IF), d(Category.WARNING)]) == 5
    assert exit_status([d(Category.WARNING), d(Category.SECURITY_ERROR)]) == 6
    assert exit_status([d(Category.OK)]) == 0


def test_diagnostic_str_is_file_line_message() -> None:
    assert str(Diagnostic("/etc/k.conf", 12, "error", "bad")) == "/etc/k.conf:12: bad"


def test_interface_without_an_address_passes_the_test_like_keepalived(tmp_path: Path) -> None:
    # keepalived 2.2.7 -t exits 0 for an instance on an interface that exists but has no
    # IPv4 address (tests/netns/test_config_bad_input.py checks it live)
    path = tmp_path / "keepalived.conf"
    path.write_text(instance())
    system = SystemInfo.fake(["lo", "eth0"])
    system.addresses = {"lo": {4, 6}, "eth0": set()}
    result = load_config(str(path), config_id="r1", system=system)
    assert result.exit_status == 0
    assert any("Cannot find an IP address" in d.message for d in result.diagnostics)


@pytest.mark.parametrize(("options", "status"), [
    ("connect_ip 2001:db8::1\n bindto 192.0.2.1", 5),
    ("bindto 192.0.2.1\n connect_ip 2001:db8::1", 5),
    ("bindto 2001:db8::2", 5),  # the destination is the real server's address
    ("connect_ip 2001:db8::1\n bindto 2001:db8::2", 0),
    ("bindto 192.0.2.3", 0),
])
def test_checker_source_and_destination_of_one_family(tmp_path: Path, options: str,
                                                      status: int) -> None:
    """keepalived refuses a checker's bindto or connect_ip of the other one's family."""
    result = load(tmp_path, "virtual_server 192.0.2.10 80 {\n protocol TCP\n lvs_sched rr\n"
                  " lvs_method NAT\n real_server 192.0.2.20 80 {\n TCP_CHECK {\n"
                  f" {options}\n }}\n }}\n}}\n")
    assert result.exit_status == status, messages(result)
    assert any("does not match address family" in m for m in messages(result)) == bool(status)


def test_an_empty_word_reads_as_0_like_c_strtol(tmp_path: Path) -> None:
    """keepalived reads a number with strtol, which converts nothing in "" and leaves
    nothing over: 0, an error only where 0 is out of range."""
    result = load(tmp_path, 'global_defs {\n vrrp_cpu_affinity "" 0\n}\n'
                  + instance(body='    priority ""\n'))
    assert result.config.global_defs.vrrp_cpu_affinity == [0, 0]
    assert [d.line for d in result.diagnostics if d.category == Category.INVALID_NUMBER] == [7]


_VS = 'virtual_server 192.0.2.50 80 {\n protocol TCP\n lvs_sched rr\n lvs_method NAT\n{}}\n'


@pytest.mark.parametrize(("body", "message"), [
    (" real_server 192.0.2.51 80 {\n  HTTP_GET {\n   http_protocol\n   url {\n    path /\n"
     "   }\n  }\n }\n", "Missing http_protocol version"),
    (" real_server 192.0.2.51 80 {\n  FILE_CHECK {\n   track_file tf\n   weight\n  }\n }\n",
     "track file weight missing"),
])
def test_checker_keyword_without_its_word_is_reported_not_a_stop(
        tmp_path: Path, body: str, message: str) -> None:
    result = load(tmp_path, "track_file tf {\n file /tmp/tf\n}\n" + _VS.replace("{}", body))
    assert result.exit_status == 5, messages(result)
    assert any(message in m for m in messages(result)), messages(result)


def test_scripts_of_a_removed_virtual_server_are_not_checked(tmp_path: Path) -> None:
    """keepalived checks script security last, after removing the virtual servers
    without real servers."""
    result = load(tmp_path, _VS.replace("{}", " quorum_up /bin/true\n"
                                        " real_server 192.0.2.51 yes {\n }\n"))
    assert result.exit_status == 5, messages(result)
    assert not any("SECURITY" in m for m in messages(result)), messages(result)


def test_virtual_server_group_with_words_after_its_name_stops(tmp_path: Path) -> None:
    result = load(tmp_path, "virtual_server_group G G {\n 192.0.2.1-10 80\n}\n")
    assert result.exit_status == 2, messages(result)
    assert any(":1:" in m and "words after the name" in m for m in messages(result))


@pytest.mark.parametrize(("peers_a", "peers_b", "conflict"), [
    (["198.51.100.1"], ["198.51.100.1"], True),
    (["198.51.100.1", "198.51.100.2"], ["198.51.100.3", "198.51.100.2"], True),
    (["198.51.100.1"], ["198.51.100.2"], False),
    (["198.51.100.1", "198.51.100.2"], ["198.51.100.3", "198.51.100.4"], False),
])
def test_unicast_vrid_conflict_needs_a_shared_peer(tmp_path: Path, peers_a: list[str],
                                                   peers_b: list[str], conflict: bool) -> None:
    def body(peers: list[str]) -> str:
        return ("    unicast_src_ip 192.0.2.1\n    unicast_peer {\n"
                + "".join(f"        {p}\n" for p in peers) + "    }\n")

    first = instance(name="A", body=body(peers_a))
    result = load(tmp_path, first + instance(name="B", body=body(peers_b), vips="192.0.2.101"))
    found = [m.split("/")[-1] for m in messages(result) if "duplicate VRID conflict" in m]
    line_b = first.count("\n") + 1
    assert found == ([f"keepalived.conf:{line_b}: (B) duplicate VRID conflict with A VRID 51"]
                     if conflict else []), messages(result)


def test_duplicate_real_server_is_removed(tmp_path: Path) -> None:
    rs = "    real_server {} 80 {{\n        weight 1\n    }}\n"
    text = ("virtual_server 203.0.113.1 80 {\n    lvs_sched rr\n    lvs_method NAT\n"
            "    protocol TCP\n" + rs.format("192.0.2.11") + rs.format("192.0.2.12")
            + rs.format("192.0.2.11") + "    real_server 192.0.2.11 81 {\n    }\n}\n")
    result = load(tmp_path, text)
    vs = result.config.virtual_servers[0]
    assert [(str(r.address), r.port) for r in vs.real_servers] == [
        ("192.0.2.11", 80), ("192.0.2.12", 80), ("192.0.2.11", 81)]
    dup = [m for m in messages(result) if "duplicated" in m]
    assert len(dup) == 1 and "keepalived.conf:11:" in dup[0], messages(result)
