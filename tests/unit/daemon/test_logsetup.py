"""Syslog lines: facility and priority as keepalived's, the role and pid as the tag."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from pykeepalived.daemon.logsetup import set_role, setup_logging


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    set_role("pykeepalived")


@pytest.mark.parametrize(("facility", "code"), [(None, 3), ("local2", 18), ("user", 1)])
def test_syslog_line(tmp_path: Path, restore_root: None, facility: str | None,
                     code: int) -> None:
    path = str(tmp_path / "log")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        server.settimeout(5)
        setup_logging(console=False, detail=False, facility=facility, syslog_path=path)
        set_role("pykeepalived_vrrp")
        logging.getLogger("pykeepalived.vrrp").warning("(VI_1) Entering MASTER STATE")
        line = server.recv(4096)
    pri = code * 8 + 4  # facility, warning (RFC 5424 6.2.1)
    assert line == (f"<{pri}>pykeepalived_vrrp[{os.getpid()}]: "
                    "(VI_1) Entering MASTER STATE\x00").encode()


def test_no_syslog_socket_no_handler(tmp_path: Path, restore_root: None) -> None:
    setup_logging(console=False, detail=False, syslog_path=str(tmp_path / "absent"))
    assert logging.getLogger().handlers == []
