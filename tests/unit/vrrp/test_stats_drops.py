"""RouterStats.drops: what `--status` shows as "dropped": the drop counters above zero, and
never the counters of adverts sent, received or of state changes."""

from __future__ import annotations

from dataclasses import fields

from pykeepalived.vrrp.stats import REASON_COUNTER, RouterStats

NOT_DROPS = {"advert_rcvd", "advert_sent", "became_master", "released_master",
             "pri_zero_rcvd", "pri_zero_sent"}


def test_a_fresh_router_has_dropped_nothing() -> None:
    assert RouterStats().drops() == {}


def test_traffic_and_transitions_are_not_drops() -> None:
    stats = RouterStats()
    for name in NOT_DROPS:
        setattr(stats, name, 7)
    assert stats.drops() == {}


def test_every_drop_reason_shows_once_counted() -> None:
    for reason, counter in REASON_COUNTER.items():
        stats = RouterStats()
        stats.advert_rcvd = 3
        assert stats.count(reason) == counter
        assert stats.drops() == {counter: 1}, reason


def test_every_other_counter_is_a_drop_counter() -> None:
    stats = RouterStats()
    names = [f.name for f in fields(RouterStats)]
    for i, name in enumerate(names):
        setattr(stats, name, i + 1)
    assert stats.drops() == {n: i + 1 for i, n in enumerate(names) if n not in NOT_DROPS}
    assert set(stats.drops()) | NOT_DROPS == set(names)
