"""VMAC naming and MAC addresses (RFC 5798 7.3), without touching the kernel."""

from __future__ import annotations

import pytest

from pykeepalived.net import vmac


def test_virtual_router_mac() -> None:
    assert vmac.vmac_mac(1) == "00:00:5e:00:01:01"
    assert vmac.vmac_mac(255, 6) == "00:00:5e:00:02:ff"
    for bad in (0, 256):
        with pytest.raises(ValueError):
            vmac.vmac_mac(bad)
    with pytest.raises(ValueError):
        vmac.vmac_mac(1, 5)


def test_default_names_are_keepalived_227s() -> None:
    assert vmac.default_vmac_name(51) == "vrrp.51"
    assert vmac.default_vmac_name(51, 6) == "vrrp.51"


def test_advert_interface() -> None:
    assert vmac.advert_interface("eth0", None, vmac_xmit_base=False) == "eth0"
    assert vmac.advert_interface("eth0", "vrrp.1", vmac_xmit_base=False) == "vrrp.1"
    assert vmac.advert_interface("eth0", "vrrp.1", vmac_xmit_base=True) == "eth0"
