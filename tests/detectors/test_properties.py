"""Property tests: the normaliser and clustering hold up on any Unicode and any input order."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.sample_feed import sample_posts
from detectors import detect
from detectors.normalize import normalize_text
from domain.models import Author, Post
from domain.records import parse_post

ANY_TEXT = st.text(alphabet=st.characters(codec=None), max_size=300)
TOKENS = st.sampled_from(["rt", "RT", "via", "Agree!", "#tag", "@user", "a", "b", "x", "vote", "ᴠᴏᴛᴇ", "vоte", "!",
                          ":", "http://t.co/x", "\u200b", "  ", "\n", "１２", "😀", "_", "—"])
POST_LIKE = st.lists(st.one_of(TOKENS, ANY_TEXT), max_size=30).map(" ".join)
"""Texts made of the tokens the normaliser treats specially, mixed with arbitrary Unicode."""


@given(st.one_of(ANY_TEXT, POST_LIKE))
@settings(max_examples=600, deadline=None)
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@given(st.one_of(ANY_TEXT, POST_LIKE))
@settings(max_examples=400, deadline=None)
def test_normal_form_is_single_spaced_lower_case_words(text: str) -> None:
    normal = normalize_text(text)
    assert normal == " ".join(normal.split())
    assert normal == normal.casefold()


def _posts(texts: list[str]) -> list[Post]:
    start = datetime(2026, 2, 20, tzinfo=UTC)
    return [
        Post(id=f"p{i}", created_at=start + timedelta(minutes=i), text=text,
             author=Author(id=f"a{i % 9}", created_at=start - timedelta(days=3)))
        for i, text in enumerate(texts)
    ]


@given(st.lists(st.one_of(ANY_TEXT, st.sampled_from(["Vote for X now, it matters!", "Vоte for X now, it matters"])),
                min_size=0, max_size=40))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_detection_survives_any_text(texts: list[str]) -> None:
    for cluster in detect(_posts(texts)):
        assert 0 <= cluster.score <= 1 and cluster.reasons


@given(st.randoms(use_true_random=False))
@settings(max_examples=15, deadline=None)
def test_cluster_membership_does_not_depend_on_input_order(rng: random.Random) -> None:
    posts = [parse_post(raw) for raw in sample_posts()]
    baseline = {frozenset(c.accounts) for c in detect(posts)}
    shuffled = posts[:]
    rng.shuffle(shuffled)
    assert {frozenset(c.accounts) for c in detect(shuffled)} == baseline
