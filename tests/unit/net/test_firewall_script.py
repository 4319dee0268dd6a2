"""NftFirewall's scripts, with a stand-in ``nft`` that records what it is given."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pykeepalived.net.addresses import VipSpec
from pykeepalived.net.firewall import FirewallError, NftFirewall


@pytest.fixture
def fake_nft(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "scripts.log"
    script = tmp_path / "nft"
    script.write_text(f"""#!/bin/sh
cat >> {log}
echo '--- end' >> {log}
if [ -e {tmp_path}/fail ]; then echo 'Error: No such file or directory' >&2; exit 1; fi
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, log


def scripts(log: Path) -> list[str]:
    return [s.strip() for s in log.read_text().split("--- end") if s.strip()]


def test_ensure_once_then_batched_elements(fake_nft: tuple[Path, Path]) -> None:
    nft, log = fake_nft
    fw = NftFirewall(nft=str(nft))
    fw.add_vips(["192.0.2.1/24", "192.0.2.2", "2001:db8::1", "fe80::1%eth0"])
    fw.add_vips(["192.0.2.1"])  # already there: no nft run
    first, second = scripts(log)
    assert first.startswith("add table ip keepalived\ndelete table ip keepalived")
    assert "chain in {" in first and "ip daddr @vips drop" in first
    assert "priority -1" in first
    assert second.splitlines() == [
        "add element ip keepalived vips { 192.0.2.1, 192.0.2.2 }",
        "add element ip6 keepalived vips { 2001:db8::1 }",
        'add element ip6 keepalived vips_link_local { fe80::1 . "eth0" }',
    ]
    fw.remove_vips(["192.0.2.2", "198.51.100.9"])  # unknown ones are skipped
    assert scripts(log)[-1] == "delete element ip keepalived vips { 192.0.2.2 }"
    assert fw.vips == {4: {"192.0.2.1"}, 6: {"2001:db8::1"}}


def test_failed_delete_falls_back_to_one_by_one(fake_nft: tuple[Path, Path],
                                                tmp_path: Path) -> None:
    nft, log = fake_nft
    fw = NftFirewall(nft=str(nft))
    fw.add_vips(["192.0.2.1", "192.0.2.2"])
    (tmp_path / "fail").touch()
    fw.remove_vips(["192.0.2.1", "192.0.2.2"])  # no exception: missing is fine
    tail = scripts(log)[-3:]
    assert tail == ["delete element ip keepalived vips { 192.0.2.1, 192.0.2.2 }",
                    "delete element ip keepalived vips { 192.0.2.1 }",
                    "delete element ip keepalived vips { 192.0.2.2 }"]
    with pytest.raises(FirewallError, match="No such file"):
        fw.add_vips(["192.0.2.3"])


def test_link_local_needs_interface(fake_nft: tuple[Path, Path],
                                   caplog: pytest.LogCaptureFixture) -> None:
    nft, log = fake_nft
    fw = NftFirewall(nft=str(nft))
    fw.add_vips(["fe80::1", VipSpec("fe80::2/64", "eth1"), VipSpec("192.0.2.9/24", "eth1")])
    assert "fe80::1 given without its interface" in caplog.text
    assert scripts(log)[-1].splitlines() == [
        "add element ip keepalived vips { 192.0.2.9 }",
        'add element ip6 keepalived vips_link_local { fe80::2 . "eth1" }',
    ]


def test_custom_table_name_and_close(fake_nft: tuple[Path, Path]) -> None:
    nft, log = fake_nft
    fw = NftFirewall(table="pk_test", nft=str(nft))
    fw.ensure()
    fw.close()
    assert "table ip pk_test {" in scripts(log)[0]
    assert scripts(log)[-1].endswith("delete table ip6 pk_test")
    assert fw.vips == {4: set(), 6: set()}
