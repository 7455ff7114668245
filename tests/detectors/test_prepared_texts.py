"""Texts prepared ahead by pool workers: the same clusters as computing them in place, whatever happens to them."""

import os
import signal
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from pathlib import Path

import numpy as np
import pytest

from cli.scan import read_posts, scan
from cli.synthetic import generate
from detectors import DetectionSettings, detect
from detectors.normalize import normalize_text
from detectors.parallel import worker_pool
from detectors.texts import PreparedTexts, TextRows
from tests.conftest import write_jsonl


def test_text_rows_number_distinct_texts_in_order_of_first_appearance() -> None:
    rows = TextRows()
    first, fresh = rows.add(["b", "a", "b"])
    assert first.tolist() == [0, 1, 0] and fresh == ["b", "a"]
    second, fresh = rows.add(["a", "c", "c"])
    assert second.tolist() == [1, 2, 2] and fresh == ["c"]


@pytest.mark.parametrize("forked", [True, False])
def test_scan_with_prepared_texts_finds_what_detect_finds(tmp_path: Path, monkeypatch, forked: bool) -> None:
    records = generate(3000, seed=3).posts
    feed = write_jsonl(tmp_path / "feed.jsonl", records)
    expected = detect(read_posts(feed)[0], DetectionSettings())
    if not forked:  # a process with other threads never forks: the workers' work is done in place
        monkeypatch.setattr("detectors.parallel.threading.active_count", lambda: 2)
    found = scan(feed, DetectionSettings()).clusters
    assert [(c.key, c.accounts, c.posts, c.score) for c in found] == \
        [(c.key, c.accounts, c.posts, c.score) for c in expected]
    assert expected


def test_prepared_texts_answer_only_for_the_texts_added() -> None:
    texts = ["Vote for X!", "vote for x", "", "Vote for X!"]
    with PreparedTexts(None) as prepared:
        prepared.add(texts[:2])
        prepared.add(texts[2:])
        assert prepared.normalized(texts[:3]) is None
        rows, normalized = prepared.normalized(texts)
        assert rows.tolist() == [0, 1, 2, 0]
        assert normalized == [normalize_text(text) for text in texts[:3]]
        assert np.column_stack(prepared.band_keys()).shape == (3, 16)


class FailingPool(Executor):
    """A pool whose every piece of work fails, as when its worker dies mid-way."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        future.set_exception(BrokenProcessPool("worker gone"))
        return future


def _prepared_here(texts: list[str]) -> tuple[list[int], list[str], np.ndarray]:
    with PreparedTexts(None) as prepared:
        prepared.add(texts[:2])
        prepared.add(texts[2:])
        rows, normalized = prepared.normalized(texts)
        return rows.tolist(), normalized, np.column_stack(prepared.band_keys())


TEXTS = ["Vote for X today, friends!", "vote for x", "", "Vote for X today, friends!", "Ｖｏｔｅ ｆｏｒ Ｘ today"]


@pytest.mark.parametrize("make_pool", [worker_pool, FailingPool])
def test_workers_or_their_fallback_prepare_what_is_prepared_here(make_pool) -> None:
    expected = _prepared_here(TEXTS)
    pool = make_pool()
    with PreparedTexts(pool) as prepared:
        prepared.add(TEXTS[:2])
        prepared.add(TEXTS[2:])
        rows, normalized = prepared.normalized(TEXTS)
        keys = np.column_stack(prepared.band_keys())
    pool.shutdown()
    assert (rows.tolist(), normalized) == expected[:2]
    assert np.array_equal(keys, expected[2])


def test_a_pool_whose_workers_were_killed_leaves_the_work_to_this_process() -> None:
    pool = worker_pool()
    assert pool is not None
    for process in list(pool._processes.values()):
        with suppress(ProcessLookupError):  # the pool may end the others once it sees the first gone
            os.kill(process.pid, signal.SIGKILL)
        process.join()
    with PreparedTexts(pool) as prepared:
        for text in TEXTS:
            prepared.add([text])
        rows, normalized = prepared.normalized(TEXTS)
        assert rows.tolist() == [0, 1, 2, 0, 3]
        assert normalized == [normalize_text(text) for text in dict.fromkeys(TEXTS)]
        assert np.column_stack(prepared.band_keys()).shape == (4, 16)
    pool.shutdown()


def test_no_pool_is_forked_beside_other_threads(monkeypatch) -> None:
    monkeypatch.setattr("detectors.parallel.threading.active_count", lambda: 2)
    assert worker_pool() is None


def test_a_file_with_bad_lines_and_repeated_ids_still_uses_the_prepared_texts(tmp_path: Path, monkeypatch) -> None:
    records = generate(600, seed=5).posts
    lines = [*records[:300], "{broken", records[10], *records[300:]]  # a bad line and a repeated id
    feed = write_jsonl(tmp_path / "feed.jsonl", lines)
    expected = detect(read_posts(feed)[0])
    normalised_here: list[int] = []
    monkeypatch.setattr("detectors.index.split_map", lambda *args: normalised_here.append(1))
    result = scan(feed, DetectionSettings())
    assert len(result.skipped) == 2 and result.posts == len(records)
    assert normalised_here == []  # the index took the prepared texts
    assert [c.key for c in result.clusters] == [c.key for c in expected]
