"""Shared fixtures: the namespace lab for netns and interop tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from pykeepalived.demo.lab import Lab


def _can_netns() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_root = pytest.mark.skip(reason="needs root and ip netns")
    skip_ka = pytest.mark.skip(reason="needs Debian's keepalived (apt-get install keepalived)")
    for item in items:
        if ("netns" in item.keywords or "interop" in item.keywords) and not _can_netns():
            item.add_marker(skip_root)
        if "interop" in item.keywords and shutil.which("keepalived") is None:
            item.add_marker(skip_ka)


@pytest.fixture
def lab() -> Iterator[Lab]:
    """A one-segment lab; every namespace is deleted when the test ends, pass or fail."""
    with Lab() as the_lab:
        yield the_lab
