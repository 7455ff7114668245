"""Creation cohorts: accounts created closer together than the accounts active around them would be by chance."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from detectors.cohort import MIN_COHORT, Population, cohort, scan_odds
from tests.detectors.test_detect_cases import MESSAGES, Scene, holding

DAY = 86400.0
NOW = 1_780_000_000.0


def years_old_population(rng: random.Random, count: int) -> list[float]:
    """Creation times of an ordinary platform's active accounts: mostly years old, some months, a few days."""
    ages = [math.exp(rng.uniform(math.log(365), math.log(3650))) if rng.random() < 0.75 else rng.uniform(1, 365)
            for _ in range(count)]
    return [NOW - age * DAY for age in ages]


def test_scan_odds_agree_with_simulated_chance() -> None:
    generator = np.random.default_rng(3)
    n, k, width, trials = 8, 6, 0.12, 40_000
    points = np.sort(generator.random((trials, n)), axis=1)
    tightest = (points[:, k - 1:] - points[:, :n - k + 1]).min(axis=1)
    simulated = float((tightest <= width).mean())
    estimated = 10 ** -scan_odds(n, k, width)
    assert simulated > 0.0005  # enough hits to compare
    assert 0.7 < estimated / simulated < 1.4


def test_scan_odds_grow_with_tighter_spans_and_more_accounts() -> None:
    assert scan_odds(7, 6, 0.05) < scan_odds(7, 6, 0.01)
    assert scan_odds(7, 6, 0.05) < scan_odds(30, 24, 0.05)
    assert scan_odds(10, 8, 1.0) == 0.0


def test_a_span_holds_the_accounts_created_within_it_ties_included() -> None:
    population = Population([10.0, 20.0, 20.0, 30.0])
    shares = population.share_within(np.array([5.0, 20.0, 10.0]), np.array([6.0, 20.0, 30.0]))
    assert list(shares) == [0.0, 0.5, 1.0]


def test_accounts_created_on_a_day_many_joined_are_no_cohort_where_only_the_day_is_known() -> None:
    rng = random.Random(4)
    days = [NOW - round((NOW - moment) / DAY) * DAY for moment in years_old_population(rng, 20_000)]  # the day only
    wave_day = NOW - 400 * DAY  # a platform's big day: one active account in 25 joined on it
    population = Population(days + [wave_day] * 800)
    found = cohort([wave_day] * 4, population)
    assert found is not None and found.share > 0.03 and found.evidence < 0.5
    # four accounts of an ordinary day, where a handful joined, are a sliver of the active accounts
    quiet_day = NOW - 1500 * DAY
    assert cohort([quiet_day] * 4, Population(days + [quiet_day] * 4)).evidence == 1.0


def test_too_few_accounts_tell_nothing() -> None:
    population = Population(years_old_population(random.Random(1), 1000))
    assert cohort([NOW - 100 * DAY] * (MIN_COHORT - 1), population) is None


def test_accounts_made_over_six_weeks_among_years_old_ones_are_a_cohort() -> None:
    rng = random.Random(2)
    population = Population(years_old_population(rng, 5000))
    found = cohort([NOW - rng.uniform(100, 142) * DAY for _ in range(8)], population)
    assert found is not None and found.evidence >= 0.8
    assert found.share < 0.03


def test_the_same_accounts_are_no_cohort_where_everyone_joined_in_that_wave() -> None:
    rng = random.Random(2)
    wave = [NOW - rng.uniform(90, 150) * DAY for _ in range(4000)] + years_old_population(rng, 1000)
    found = cohort([NOW - rng.uniform(100, 142) * DAY for _ in range(8)], Population(wave))
    assert found is not None and found.evidence == 0.0


@pytest.mark.parametrize("size", [3, 4, 7, 20, 100, 400])
def test_accounts_picked_at_random_from_those_active_are_no_cohort(size: int) -> None:
    rng = random.Random(size)
    created = years_old_population(rng, 20_000)
    population = Population(created)
    evidence = [cohort(rng.sample(created, size), population).evidence for _ in range(200)]
    assert max(evidence) < 0.2


def test_one_message_each_from_accounts_made_in_one_season_is_flagged_among_years_old_accounts() -> None:
    scene = Scene(seed=12)  # organic accounts 200 days to 10 years old
    members = scene.campaign(32, ages=(100, 142), messages=MESSAGES[:4], per_account=(1, 1), hours=3)
    cards = holding(scene.clusters(), members)
    flagged = members.intersection(a for card in cards for a in card.accounts)
    # judged without the cohort, each message's group scored 0.35-0.47 and none was flagged; the smallest
    # group (4 accounts) is still too small to tell from chance
    assert len(flagged) >= 0.75 * len(members)
    assert all(set(card.accounts) <= members for card in cards)
    assert any("of the accounts posting were created" in reason for card in cards for reason in card.reasons)
