"""AH anti-replay (RFC 2402 3.4.3 as keepalived applies it to VRRPv2): one sequence counter
per instance, which outlives the router object across a reload."""

from __future__ import annotations

from pykeepalived.vrrp.actions import State
from tests.unit.vrrp.helpers import PEER_HIGH, advert, router, started_backup

AH = dict(auth_type="AH", auth_pass="secret")


def test_a_replacement_router_keeps_refusing_what_was_already_seen() -> None:
    old = started_backup(**AH)
    old.receive_advert(advert(150, auth_type=2), PEER_HIGH, 1.0, ah_seq=40)
    assert old.master_address == PEER_HIGH
    new = router(priority=101, **AH)  # the same instance, changed by a reload
    new.keep_ah_sequence(old)
    new.start(2.0)
    new.receive_advert(advert(150, auth_type=2), PEER_HIGH, 2.5, ah_seq=40)  # a replay
    assert new.stats.auth_failure == 1 and new.master_address is None
    new.receive_advert(advert(150, auth_type=2), PEER_HIGH, 3.0, ah_seq=41)
    assert new.stats.advert_rcvd == 1 and new.master_address == PEER_HIGH
    assert new.state is State.BACKUP


def test_a_router_without_a_predecessor_starts_from_zero() -> None:
    fresh = started_backup(**AH)
    fresh.receive_advert(advert(150, auth_type=2), PEER_HIGH, 1.0, ah_seq=1)
    assert fresh.stats.advert_rcvd == 1 and fresh.stats.auth_failure == 0
