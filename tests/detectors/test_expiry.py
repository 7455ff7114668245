"""The expiry queue against the plain heap of (time, id) it replaces, over random batches and horizons."""

import heapq
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from detectors.expiry import ExpiryQueue

START = datetime(2026, 2, 20, tzinfo=UTC)

batches = st.lists(st.lists(st.integers(0, 500), max_size=12), max_size=8)
horizons = st.lists(st.integers(0, 520), max_size=8)


@given(batches, horizons)
def test_expiry_hands_back_what_a_heap_of_times_would(added: list[list[int]], cuts: list[int]) -> None:
    queue, heap, number = ExpiryQueue(), [], 0
    for step, batch in enumerate(added):
        ids = [f"p{number + at}" for at in range(len(batch))]
        number += len(batch)
        queue.add(ids, [START + timedelta(seconds=second) for second in batch])
        for post_id, second in zip(ids, batch, strict=True):
            heapq.heappush(heap, (second, post_id))
        if step < len(cuts):
            expected = []
            while heap and heap[0][0] < cuts[step]:
                expected.append(heapq.heappop(heap))
            got = queue.expire(START + timedelta(seconds=cuts[step]))
            assert sorted(got) == sorted(post_id for _, post_id in expected)
            assert len(queue) == len(heap)
