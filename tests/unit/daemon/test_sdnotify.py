"""The sd_notify datagram protocol, against a socket standing in for systemd."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from pykeepalived.daemon.sdnotify import SystemdNotifier
from tests.unit.daemon.systemd_standin import NotifySocket


def test_ready_reloading_stopping_reach_an_abstract_socket() -> None:
    with NotifySocket() as systemd:
        notifier = SystemdNotifier(systemd.env)
        assert notifier.enabled
        assert notifier.ready("Running: VRRP child")
        assert systemd.receive(2) == {"READY": "1",
                                      "STATUS": "Running: VRRP child"}
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        assert notifier.reloading()
        reloading = systemd.receive(2)
        assert reloading is not None and reloading["RELOADING"] == "1"
        assert int(reloading["MONOTONIC_USEC"]) >= before
        assert notifier.stopping()
        stopping = systemd.receive(2)
        assert stopping is not None and stopping["STOPPING"] == "1"


def test_a_path_socket() -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        path = str(Path(tmp) / "notify")
        with NotifySocket(abstract=False, path=path) as systemd:
            assert SystemdNotifier(path).status("hello")
            assert systemd.receive(2) == {"STATUS": "hello"}


def test_from_environment_takes_the_variable_away() -> None:
    """Only the parent speaks for the service: children and scripts must not see it."""
    env = {"NOTIFY_SOCKET": "@x", "PATH": "/bin"}
    notifier = SystemdNotifier.from_environment(env)
    assert notifier.enabled and notifier.name == "@x"
    assert env == {"PATH": "/bin"}


def test_without_systemd_nothing_is_sent() -> None:
    notifier = SystemdNotifier.from_environment({})
    assert not notifier.enabled
    assert notifier.ready() is False


def test_a_vanished_socket_is_reported_not_raised() -> None:
    notifier = SystemdNotifier("@pykeepalived-test-nobody-listens")
    assert notifier.ready() is False
    assert notifier.stopping() is False


def test_an_unknown_address_kind_is_disabled() -> None:
    assert not SystemdNotifier("vsock:2:1234").enabled
