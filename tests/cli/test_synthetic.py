"""The generator is deterministic, fast, and labels every author."""

import time

from cli.synthetic import CAMPAIGN_KINDS, generate


def test_same_seed_same_data_and_every_author_labelled() -> None:
    started = time.perf_counter()
    posts, labels = generate(3000, seed=5)
    assert time.perf_counter() - started < 2
    assert (posts, labels) == generate(3000, seed=5)
    labelled = {row["account_id"] for row in labels}
    assert {record["author"]["id"] for record in posts} <= labelled
    kinds = {row["campaign"].rsplit("-", 1)[0] for row in labels if row["label"] == "coordinated"}
    assert kinds == set(CAMPAIGN_KINDS)
