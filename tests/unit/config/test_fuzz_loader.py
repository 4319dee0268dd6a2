"""Fuzzing the configuration loader: mutated configurations never make it misbehave.

Every sample Debian ships, every recorded corpus case and every configuration written in
the tests is a seed; hypothesis picks one and a few edits (tests.fuzz.config_mutate: token
deletions, duplications and swaps, number changes, unknown keywords, brace and quote damage,
missing includes, ...). The loader runs in a child process (tests.fuzz.config_check) and
must finish within 10 s and 200 MB, raise nothing, and place every problem it reports in a
file. ``scripts/fuzz --target config`` runs the same for as long as it is given.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.config_check import check_text
from tests.fuzz.config_mutate import EDIT_NAMES, Seed, mutate, seeds

edits = st.lists(st.tuples(st.sampled_from(EDIT_NAMES), st.integers(0, (1 << 30) - 1)),
                 min_size=1, max_size=4)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(seeds()), edits=edits)
def test_loader_on_mutated_configurations(seed: Seed, edits: list[tuple[str, int]]) -> None:
    text, done = mutate(seed.text, edits)
    result = check_text(text)
    assert result.finding is None, (seed.name, done, result.finding)
    assert result.status in (0, 2, 4, 5, 6)


def test_the_bounds_are_enforced() -> None:
    """The child really is cut: a configuration that grows past the memory bound is a
    finding, not a slow test (and not a host out of memory). The child reuses what its
    parent's heap has free before it grows, so the text grows by far more than the bound
    (about 40 MB by itself, against 5 MB)."""
    grow = ("$X=vrrp_instance VI_${i} { \\\n interface eth0\\\n virtual_router_id 1\\\n"
            " virtual_ipaddress {\\\n 192.0.2.1\\\n }\\\n}\n~SEQ(i, 1, 20000) $X\n")
    result = check_text(grow, memory_mb=5)
    assert result.finding is not None and result.finding.kind == "memory", result
