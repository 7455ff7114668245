"""The pHash table finds every close pair, however the pictures arrive in batches."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.media import MAX_PHASH_DISTANCE
from detectors.phashes import PHashTable


def _pictures(rng: random.Random, count: int) -> list[int]:
    """Random 64-bit hashes, many of them a few bits off an earlier one (re-encoded copies)."""
    values: list[int] = []
    for _ in range(count):
        if values and rng.random() < 0.6:
            value = rng.choice(values)
            for bit in rng.sample(range(64), rng.randint(0, MAX_PHASH_DISTANCE + 2)):
                value ^= 1 << bit
        else:
            value = rng.getrandbits(64)
        values.append(value)
    return values


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 120), st.lists(st.integers(1, 40), min_size=1, max_size=6))
def test_pairs_are_exactly_the_close_ones_of_each_batch(rng: random.Random, count: int, batches: list[int]) -> None:
    values = _pictures(rng, count)
    table = PHashTable()
    start = 0
    for size in [*batches, count]:
        end = min(count, start + size)
        nodes = list(range(start, end))
        found = set(table.add([100 + node for node in nodes], values[start:end]))
        expected = {(100 + new, 100 + other) for new in nodes for other in range(end)
                    if new != other and (values[new] ^ values[other]).bit_count() <= MAX_PHASH_DISTANCE}
        assert found == expected
        start = end
    assert len(table) == count


def test_kept_renumbers_live_nodes_in_arrival_order() -> None:
    table = PHashTable()
    table.add([0, 1, 2], [5, 7, 9])
    assert table.kept([-1, 0, 1]) == [0, 1]
