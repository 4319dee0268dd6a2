"""Shared fixtures: the namespace lab for netns and interop tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.daemon.dumps import DATA_NAME, STATS_NAME, dump_path
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


# where the daemons started by the tests write them (keepalived's $TMPDIR rule)
DUMPS = (Path(dump_path(DATA_NAME)), Path(dump_path(STATS_NAME)))


@pytest.fixture
def dump_files() -> Iterator[tuple[Path, Path]]:
    """keepalived's fixed dump paths, emptied for the test; whatever was there comes back."""
    saved = {p: p.read_bytes() for p in DUMPS if p.exists()}
    for p in DUMPS:
        p.unlink(missing_ok=True)
    try:
        yield DUMPS
    finally:
        for p in DUMPS:
            p.unlink(missing_ok=True)
        for p, content in saved.items():
            p.write_bytes(content)
