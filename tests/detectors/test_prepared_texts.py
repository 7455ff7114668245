"""Texts prepared ahead by a forked child: the same clusters as computing them in place, whatever happens to it."""

import os
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pytest

from cli.scan import read_posts, scan
from cli.synthetic import generate
from detectors import DetectionSettings, detect
from detectors.normalize import normalize_text
from detectors.parallel import Background
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
    if not forked:  # a process with other threads never forks: the child's work is done in place
        monkeypatch.setattr("detectors.parallel.threading.active_count", lambda: 2)
    found = scan(feed, DetectionSettings()).clusters
    assert [(c.key, c.accounts, c.posts, c.score) for c in found] == \
        [(c.key, c.accounts, c.posts, c.score) for c in expected]
    assert expected


def test_prepared_texts_answer_only_for_the_texts_added() -> None:
    texts = ["Vote for X!", "vote for x", "", "Vote for X!"]
    with PreparedTexts() as prepared:
        prepared.add(texts[:2])
        prepared.add(texts[2:])
        assert prepared.normalized(texts[:3]) is None
        rows, normalized = prepared.normalized(texts)
        assert rows.tolist() == [0, 1, 2, 0]
        assert normalized == [normalize_text(text) for text in texts[:3]]
        assert prepared.band_keys([1, 0]).shape == (2, 16)


PARENT = os.getpid()


def _sizes(parts: Iterable[list[int]]) -> Iterator[int]:
    """Two results: how many items, then their sum; a forked child dies before sending the second."""
    items = [item for part in parts for item in part]
    yield len(items)
    if os.getpid() != PARENT:
        os._exit(1)
    yield sum(items)


def test_a_background_child_that_dies_has_its_work_done_here() -> None:
    work = Background(_sizes)
    work.send([1, 2])
    work.send([3])
    assert (work.receive(), work.receive()) == (3, 6)
    work.close()


def _gone(parts: Iterable[list[str]]) -> Iterator[int]:
    """A forked child ends at once; here, the count of items."""
    if os.getpid() != PARENT:
        os._exit(1)
    yield sum(map(len, parts))


def test_parts_sent_to_a_child_that_is_gone_are_worked_here_even_with_sigpipe_fatal() -> None:
    previous = signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # as `bot.py` runs
    try:
        work = Background(_gone)
        for part in range(20):  # 2 MB, well past the pipe's buffer
            work.send([f"{part}-{item}".ljust(1000, "x") for item in range(100)])
        assert work.receive() == 2000
        work.close()
        assert signal.getsignal(signal.SIGPIPE) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGPIPE, previous)


def test_a_background_child_hands_results_back_in_order() -> None:
    work = Background(lambda parts: iter([np.concatenate([np.asarray(part) for part in parts]), "end"]))
    work.send([1, 2])
    work.send([3])
    assert work.receive().tolist() == [1, 2, 3] and work.receive() == "end"
    work.close()


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
