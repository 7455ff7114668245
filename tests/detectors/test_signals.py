"""Each detection signal on its own: account facts, behaviour, timing, co-posting, kinship, disguise."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from detectors.accounts import creation_batch, newness
from detectors.behaviour import behaviour, core_members, core_span, repeaters, tightness
from detectors.bridges import linked_sets
from detectors.chance import poisson_tail
from detectors.cohort import Population
from detectors.coposting import CoPosting
from detectors.evasion import disguise_evidence, disguised
from detectors.kinship import Traits, kin_links
from detectors.pools import pooled_sets
from domain.models import Author, Post

T0 = datetime(2026, 2, 20, 12, tzinfo=UTC)
HOUR = 3600.0


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def post(number: int, account: str, minutes: float, text: str) -> Post:
    return Post(id=f"p{number}", created_at=at(minutes), text=text, author=Author(id=account))


def test_newness_falls_from_days_through_months_to_years_without_a_cliff() -> None:
    ages = [1, 3, 7, 20, 29, 31, 60, 120, 365, 730, 3650]
    grades = [newness(age) for age in ages]
    assert grades[0] == grades[1] == 1.0 and grades[-2] == grades[-1] == 0.0
    assert all(earlier >= later for earlier, later in pairwise(grades))
    assert grades[4] - grades[5] < 0.02  # 29 and 31 days old are nearly alike
    assert 0.25 < newness(90) < 0.5  # a few months old still counts for something


def test_a_creation_batch_is_judged_against_the_accounts_age() -> None:
    made = T0 - timedelta(days=120)
    batch = creation_batch([made + timedelta(minutes=i) for i in range(20)], median_age_days=120)
    assert batch is not None and batch.accounts == 16 and batch.evidence > 0.9
    years = creation_batch([T0 - timedelta(days=200 + 150 * i) for i in range(20)], median_age_days=1600)
    assert years is not None and years.evidence == 0.0
    week_old = creation_batch([T0 - timedelta(days=i % 7) for i in range(20)], median_age_days=4)
    assert week_old is not None and week_old.evidence < 0.2  # days apart is no batch for accounts days old
    assert creation_batch([made, made], median_age_days=120) is None


def test_repeaters_post_two_messages_or_one_again_within_hours_not_a_daily_routine() -> None:
    posts = [post(1, "two-messages", 0, "a"), post(2, "two-messages", 5, "b"),
             post(3, "again", 0, "a"), post(4, "again", 60, "a"),
             post(5, "daily", 0, "gm"), post(6, "daily", 24 * 60, "gm"),
             post(7, "once", 0, "a")]
    assert repeaters(posts, lambda p: p.text) == {"two-messages", "again"}
    acting = behaviour(posts, repeaters(posts, lambda p: p.text))
    assert acting.accounts == 4 and acting.repeaters == 2 and acting.repeat_share == 0.5


def test_timing_is_tight_within_minutes_and_says_nothing_over_a_day() -> None:
    assert core_span([0, 60, 120, 180, 10_000]) == 180
    assert tightness(5 * 60) == 1.0 and tightness(24 * HOUR) == 0.0
    assert tightness(30 * 60) > tightness(3 * HOUR) > tightness(12 * HOUR) > 0


def test_the_organic_author_a_campaign_copied_is_not_a_member() -> None:
    campaign = [post(10 * i + k, f"c{i}", 600 + 20 * i + k, text) for i in range(6)
                for k, text in enumerate(["copied words", "second message"])]
    source = post(999, "source", 0, "copied words")  # ten hours before the campaign
    passer_by = post(998, "late", 640, "copied words")  # inside the campaign's hours
    kept, repeating = core_members([source, passer_by, *campaign], lambda p: p.text, min_core=3)
    assert {p.author.id for p in kept} == {f"c{i}" for i in range(6)} | {"late"}
    assert repeating == {f"c{i}" for i in range(6)}
    lone = [post(i, f"o{i}", 100 * i, "viral quote") for i in range(5)]
    assert core_members(lone, lambda p: p.text, min_core=3) == (lone, set())  # no core: everyone stays


def test_chance_overlap_is_a_poisson_tail() -> None:
    assert poisson_tail(0, 1.0) == 1.0 and poisson_tail(1, 2.0) == 1.0
    assert poisson_tail(3, 0.01) < 2e-7 < poisson_tail(2, 0.01) < 1e-4
    assert poisson_tail(30, 12.5) < 1e-4 < poisson_tail(20, 12.5)


def test_messages_of_a_pool_link_when_their_posters_overlap_beyond_chance() -> None:
    linking = CoPosting(lambda: 20_000, window_seconds=86400)
    campaign = [f"c{i}" for i in range(30)]
    linking.update(1, frozenset(campaign[:12]))
    linking.update(2, frozenset(campaign[8:20]))  # 4 shared of 12: far beyond chance among 20,000
    organic = [f"o{i}" for i in range(1200)]
    linking.update(3, frozenset(organic[:500]))
    linking.update(4, frozenset(organic[490:990]))  # 10 shared of 500: under 5 % of either
    linking.update(5, frozenset([*campaign[:2], *organic[1000:1100]]))  # 2 shared with group 1: a sliver of 102
    assert linking.merged() == [[1, 2]]
    linking.update(2, None)
    assert linking.merged() == []
    linking.update(2, frozenset(campaign[8:20]), span=(3 * 86400, 3 * 86400 + 3600))  # the same posters, days later
    assert linking.merged() == []


def test_two_communities_joined_by_one_link_are_two_sets_and_a_campaign_held_by_its_picture_is_one() -> None:
    fans = [(1, 2), (1, 3), (2, 3), (3, 4), (1, 4)]  # a band's announcements, re-shared by the same fans
    campaign = [(10, 11), (10, 12), (10, 13), (11, 12)]  # a campaign's texts and its picture (10)
    assert linked_sets([*fans, *campaign, (4, 10)]) == [[1, 2, 3, 4], [10, 11, 12, 13]]
    star = [(10, text) for text in range(11, 18)]  # texts linked only through the picture they carry
    chain = list(pairwise(range(20, 27)))  # sparse links of one pool: each message to the next
    assert linked_sets([*star, *chain]) == [list(range(10, 18)), list(range(20, 27))]
    assert linked_sets([*fans, *star, (4, 10)]) == [[1, 2, 3, 4, *range(10, 18)]]  # one side is a star: held


def _pool_ties(rng: random.Random, groups: list[int], accounts: int) -> Counter[tuple[int, int]]:
    """Ties of `accounts` accounts each posting two of `groups`, picked at random."""
    ties: Counter[tuple[int, int]] = Counter()
    for _ in range(accounts):
        a, b = sorted(rng.sample(groups, 2))
        ties[a, b] += 1
    return ties


def test_a_pool_whose_accounts_each_posted_two_messages_is_one_set_and_organic_ties_at_chance_are_not() -> None:
    rng = random.Random(3)
    spans = dict.fromkeys(range(6000), (0.0, HOUR))
    campaign = list(range(20))  # 30 accounts, each two of 20 messages: no pair shares more than a few
    organic = list(range(100, 700))  # a day of sharing: 1,500 accounts posting two of 600 groups at random
    ties = _pool_ties(rng, campaign, 30) + _pool_ties(rng, organic, 1500)
    assert max(ties[pair] for pair in ties if pair[1] < 20) <= 3
    ties[5, 100] += 1  # one account in a pool message and an organic one: the pool stays apart
    strong = [[100, 101, 102]]  # co-posting's own set stays as it was
    [pool, kept] = pooled_sets(strong, ties, lambda group: 3, spans, 20_000, window_seconds=86400)
    assert kept == strong[0] and set(pool) <= set(campaign) and len(pool) >= 12  # less those tied by one or none
    assert pooled_sets(strong, _pool_ties(rng, organic, 1500), lambda group: 3, spans, 20_000, 86400) == strong
    # busy sharers tie the 600 more than the window's other ties would (2,000 accounts each in two one-off
    # groups): long odds at this size, but only 2-3 times chance
    one_offs = Counter({(group, group + 1): 1 for group in range(2000, 6000, 2)})
    assert pooled_sets([], _pool_ties(rng, organic, 1500) + one_offs, lambda group: 3, spans, 20_000, 86400) == []
    days_apart = {group: (3 * 86400.0 * (group % 2), 3 * 86400.0 * (group % 2) + HOUR) for group in range(20)}
    assert pooled_sets([], _pool_ties(rng, campaign, 30), lambda group: 3, days_apart, 20_000, 86400) == []


def test_ties_follow_accounts_into_and_out_of_their_second_group() -> None:
    linking = CoPosting(lambda: 20_000, window_seconds=86400)
    rng = random.Random(5)
    members = {group: set() for group in range(12)}
    for account in range(24):
        for group in rng.sample(range(12), 2):
            members[group].add(f"c{account}")
    for group, accounts in members.items():
        linking.update(group, frozenset(accounts))
    [pool] = linking.merged()
    assert len(pool) >= 10
    for group in pool:
        linking.update(group, None)
    assert linking.merged() == []


def test_groups_whose_creation_and_posting_spans_coincide_are_kin() -> None:
    batch = (T0.timestamp() - 90 * 86400, T0.timestamp() - 90 * 86400 + HOUR)
    other_batch = (batch[0] - 20 * 86400, batch[1] - 20 * 86400)
    weeks = (batch[0] - 10 * 86400, batch[0] + 11 * 86400)  # three weeks holding `batch`
    now = T0.timestamp()
    def group(first: int) -> frozenset[str]:
        return frozenset(f"a{first + i}" for i in range(5))

    traits = {1: Traits((now, now + HOUR), group(0), batch), 2: Traits((now + 600, now + HOUR + 600), group(10), batch),
              3: Traits((now, now + HOUR), group(20), other_batch),
              4: Traits((now + 30 * HOUR, now + 31 * HOUR), group(30), batch),
              5: Traits((now, now + HOUR), group(2), batch),  # shares posters with 1: co-posting judges
              6: Traits((now, now + HOUR), group(40), weeks),  # a batch of one hour is not three weeks'
              7: Traits((now - 3 * HOUR, now + HOUR), group(50), batch)}  # posting mostly before the others
    made = [now - day * 86400 for day in range(1, 3650)]  # one account made a day for ten years
    years = Population(made)
    assert sorted(tuple(sorted(pair)) for pair in kin_links(traits, years)) == [(1, 2), (2, 5)]
    three_weeks = {8: Traits((now, now + 4 * HOUR), group(0), weeks),
                   9: Traits((now + HOUR, now + 5 * HOUR), group(10), (weeks[0] + 86400, weeks[1]))}
    assert list(kin_links(three_weeks, years))
    pouring_in = Population([*made, *(weeks[0] + i * 1800 for i in range(1000))])  # new accounts
    assert not list(kin_links(three_weeks, pouring_in))  # everywhere: sharing their weeks says little


def test_disguised_text_is_noticed_and_writers_own_scripts_are_not() -> None:
    assert disguised("Vоte for Grey")  # a Cyrillic o inside a Latin word
    assert disguised("Vo\u200bte for Gr\u200bey")
    assert disguised("Ｖｏｔｅ ｆｏｒ Ｇｒｅｙ")
    assert disguised("𝐯𝐨𝐭𝐞 for Grey")
    assert disguised("v o t e for Grey")
    for own in ["bayramda köprülerin bedava olması", "jeg er i matte og læreren snakker", "Москва сегодня",
                "ＰＣのmixiログイン画面", "family 👨\u200d👩\u200d👧 day", "plain words",
                "昔は高くて買えなかったな。AppleⅡの実物みたことあります", "Rocky Ⅳ and FinalFantasyⅦ"]:
        assert not disguised(own), own
    assert disguise_evidence(8, 10) > 0.8 and disguise_evidence(1, 10) == 0.0 and disguise_evidence(1, 100) == 0.0
