"""The collector in a child: frozen after start, re-frozen after a reload without keeping
the old configuration's garbage, and every pause measured."""

from __future__ import annotations

import gc
import os
import weakref
from collections.abc import Callable

import pytest

from pykeepalived.daemon import gcpolicy


def _in_child(body: Callable[[], bool]) -> bool:
    """``body()`` in a forked child (freezing is process-wide); whether it held."""
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            ok = body()
        finally:
            os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> Node:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a


def test_settle_freezes_what_lives() -> None:
    def body() -> bool:
        gc.unfreeze()
        kept = [Node() for _ in range(1000)]
        gcpolicy.settle()
        return gc.get_freeze_count() >= 1000 and all(n.other is None for n in kept)

    assert _in_child(body)


def test_a_reload_collects_cycles_the_first_freeze_kept() -> None:
    """A cycle frozen with the first configuration and dropped by the reload: a second freeze
    alone would keep it for ever; settle(again=True) collects it."""
    def body() -> bool:
        running = {"config": _cycle()}
        old_config = weakref.ref(running["config"])
        gcpolicy.settle()
        running.clear()  # the reload drops the old configuration
        gc.collect()
        still_alive = old_config() is not None  # a collection does not walk frozen objects
        gcpolicy.settle(again=True)
        return still_alive and old_config() is None

    assert _in_child(body)


def test_pauses_are_measured_per_generation() -> None:
    pauses = gcpolicy.GcPauses()
    pauses.install()
    try:
        before = list(pauses.collections)
        gc.collect(2)
        gc.collect(0)
    finally:
        pauses.uninstall()
    assert pauses.collections[2] - before[2] == 1
    assert pauses.collections[0] - before[0] >= 1
    figures = pauses.figures()
    assert figures["longest_pause_ms"][2] > 0
    assert figures["total_pause_ms"] >= figures["longest_pause_ms"][2]
    gc.collect()
    assert pauses.collections[2] - before[2] == 1  # uninstalled: no longer counted


def test_reset_starts_the_figures_afresh() -> None:
    pauses = gcpolicy.GcPauses()
    pauses.install()
    try:
        gc.collect()
        assert pauses.collections[2] >= 1
        pauses.reset()
        assert pauses.figures()["collections"] == [0, 0, 0]
        assert pauses.figures()["longest_pause_ms"] == [0.0, 0.0, 0.0]
        gc.collect()
        assert pauses.collections[2] == 1
    finally:
        pauses.uninstall()


def test_settling_gives_the_free_heap_back(monkeypatch: pytest.MonkeyPatch) -> None:
    trimmed: list[bool] = []
    monkeypatch.setattr(gcpolicy, "trim_heap", lambda: trimmed.append(True) or True)
    gcpolicy.settle()
    gc.unfreeze()
    assert trimmed == [True]
