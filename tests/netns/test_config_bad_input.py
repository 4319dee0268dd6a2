"""Bad input: pykeepalived -t gives keepalived -t's exit status, names the place, never
crashes or hangs.

Each case is written to a temporary directory and checked by both programs in one fresh
namespace with lo and eth0 only. The 10 MB file has 1,000 instances (keepalived's
duplicate-VRID check is quadratic; 78,000 instances take it minutes) padded with comments.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from pykeepalived.demo.lab import Lab
from tests.netns.test_config_samples import keepalived_t, one_interface_host, pykeepalived_t

pytestmark = [pytest.mark.netns]

INSTANCE = """vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id {vrid}
    priority {priority}
    virtual_ipaddress {{
        192.0.2.100
    }}
}}
"""


def _instance(vrid: object = 51, priority: object = 100) -> str:
    return INSTANCE.format(vrid=vrid, priority=priority)


def _big(path: Path) -> None:
    parts = [f"vrrp_instance VI_{i} {{\n interface eth0\n virtual_router_id {(i - 1) % 255 + 1}\n"
             f" virtual_ipaddress {{\n  192.0.2.{(i - 1) % 250 + 2}/32\n }}\n}}\n"
             for i in range(1, 1001)]
    body = "".join(parts)
    pad = "# " + "x" * 78 + "\n"
    path.write_text(body + pad * ((10 * 1024 * 1024 - len(body)) // len(pad) + 1))


def _write(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text)


def _binary(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 16 + b"\x7fELF\x02\x01\x01\x00" * 64)


def _include_loop(path: Path) -> None:
    (path.parent / "b.conf").write_text("include keepalived.conf\n")
    path.write_text("include b.conf\n" + _instance())


def _missing_include(path: Path) -> None:
    path.write_text("include /nonexistent-pykeepalived/missing.conf\n" + _instance())


def _missing_include_strict(path: Path) -> None:
    path.write_text("includea /nonexistent-pykeepalived/missing.conf\n" + _instance())


# name -> (writer, text that must appear in pykeepalived's report)
CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "empty": (_write(""), ""),
    "binary": (_binary, "keepalived.conf:1"),
    "unterminated_block": (_write(_instance().rstrip().rstrip("}")), "missing '}'"),
    "extra_close": (_write(_instance() + "}\n"), "keepalived.conf:9"),
    "include_loop": (_include_loop, "include loop"),
    "missing_include": (_missing_include, "missing.conf"),
    "missing_include_strict": (_missing_include_strict, "missing.conf"),
    "ten_megabytes": (_big, "keepalived.conf:"),
    "priority_0": (_write(_instance(priority=0)), "keepalived.conf:4"),
    "priority_256": (_write(_instance(priority=256)), "keepalived.conf:4"),
    "priority_255": (_write(_instance(priority=255)), ""),
    "priority_abc": (_write(_instance(priority="abc")), "keepalived.conf:4"),
    "vrid_0": (_write(_instance(vrid=0)), "keepalived.conf:3"),
    "vrid_256": (_write(_instance(vrid=256)), "keepalived.conf:3"),
    "vrid_missing": (_write(_instance().replace("    virtual_router_id 51\n", "")),
                     "virtual router id"),
    "missing_parameter": (_write(_instance(priority="")), "keepalived.conf:4"),
    "unknown_keyword": (_write(_instance().replace("priority 100", "prioritty 100")),
                        "keepalived.conf:4"),
    "unmatched_quote": (_write('global_defs {\n    router_id "abc\n}\n'), "keepalived.conf:2"),
    "missing_interface": (_write(_instance().replace("eth0", "eth9")), "keepalived.conf:2"),
    "continuation_outside_definition": (
        _write(_instance().replace("virtual_router_id 51", "virtual_router_id \\\n    51")),
        "keepalived.conf:3"),
    "bad_seq": (_write("~SEQ(I, 1, 0, 3) vrrp_instance VI_${I} {\n}\n"), "keepalived.conf:1"),
    "nested_blocks_1000": (_write("global_defs {\n" * 1000 + "}\n" * 1000), "keepalived.conf:2"),
    "nested_braces_1000": (_write("{\n" * 1000 + "}\n" * 1000), "keepalived.conf:1"),
    "nested_values_1000": (_write(_instance().replace(
        "        192.0.2.100\n", "{\n" * 1000 + "}\n" * 1000)), "keepalived.conf:"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_matches_keepalived(lab: Lab, tmp_path: Path, case: str) -> None:
    writer, expected = CASES[case]
    path = tmp_path / "keepalived.conf"
    writer(path)
    host = one_interface_host(lab)
    ka = keepalived_t(host, str(path), timeout=120)
    py = pykeepalived_t(host, str(path), timeout=60)
    assert "Traceback" not in py.stderr, py.stderr
    assert py.status == ka.status, (
        f"exit status differs: keepalived {ka.status}, pykeepalived {py.status}\n"
        f"keepalived said:\n{ka.stderr[-3000:]}\npykeepalived said:\n{py.stderr[-3000:]}")
    assert expected in py.stderr, py.stderr[-3000:]
    if py.status != 0:
        # something is wrong: the report names the file, and a line whenever there is one
        assert str(path) in py.stderr or os.path.basename(str(path)) in py.stderr


# an interface that exists without the address family of the instance: keepalived -t does
# not look at addresses (its daemon reports "Cannot find an IP address" when it starts)
NO_ADDRESS = {
    "ipv4_vip": _instance(),
    "ipv6_vip": _instance().replace("192.0.2.100", "2001:db8::100"),
    "unicast": _instance().replace("    priority", "    unicast_peer {\n        192.0.2.7\n"
                                   "    }\n    priority"),
}


@pytest.mark.parametrize("ipv6", [True, False], ids=["link_local", "no_ipv6"])
@pytest.mark.parametrize("case", sorted(NO_ADDRESS))
def test_interface_without_addresses_matches_keepalived(lab: Lab, tmp_path: Path, case: str,
                                                        ipv6: bool) -> None:
    path = tmp_path / "keepalived.conf"
    path.write_text(NO_ADDRESS[case])
    host = lab.add_host("t", [[]], ipv6=ipv6)
    ka = keepalived_t(host, str(path))
    py = pykeepalived_t(host, str(path))
    assert "Traceback" not in py.stderr, py.stderr
    assert py.status == ka.status, (
        f"exit status differs: keepalived {ka.status}, pykeepalived {py.status}\n"
        f"keepalived said:\n{ka.stderr[-3000:]}\npykeepalived said:\n{py.stderr[-3000:]}")


_DRIVER = """
import json, sys
from pykeepalived.config import ConfigError, load_config
from pykeepalived.config.errors import exit_status
out = {}
for path in sys.argv[1:]:
    try:
        out[path] = load_config(path).exit_status
    except ConfigError as exc:
        out[path] = exit_status([exc.as_diagnostic()])
print(json.dumps(out))
"""


def test_corpus_agrees_with_live_keepalived(lab: Lab, tmp_path: Path) -> None:
    """Every recorded configuration, re-checked against keepalived on this machine."""
    import json
    import subprocess
    import sys

    from tests.netns.test_config_samples import SRC
    from tests.unit.config.corpus import CORPUS

    host = one_interface_host(lab)
    paths: dict[str, str] = {}
    for name, (_status, text) in CORPUS.items():
        path = tmp_path / name / "keepalived.conf"
        path.parent.mkdir()
        path.write_text(text)
        paths[name] = str(path)
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC))
    proc = subprocess.run(host.cmd(sys.executable, "-c", _DRIVER, *paths.values()),
                          capture_output=True, text=True, timeout=100, env=env)
    assert proc.returncode == 0, proc.stderr
    ours = json.loads(proc.stdout)
    mismatches = []
    for name, path in paths.items():
        ka = keepalived_t(host, path, timeout=30)
        if ka.status != ours[path]:
            mismatches.append(f"{name}: keepalived {ka.status}, pykeepalived {ours[path]}")
    assert not mismatches, "\n".join(mismatches)
