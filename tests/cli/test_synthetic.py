"""The generator: deterministic, real text, campaign parameters drawn from wide ranges, truth that adds up."""

from collections import Counter
from datetime import datetime

from cli.real_text import real_users
from cli.synthetic import (
    AGE_DAYS,
    CAMPAIGN_SIZE,
    EDITS,
    LOOKALIKES,
    PER_ACCOUNT,
    POOL,
    SPREAD_HOURS,
    generate,
)


def test_same_seed_same_data_and_every_author_labelled() -> None:
    first, again = generate(3000, seed=5), generate(3000, seed=5)
    assert (first.posts, first.labels, first.truth) == (again.posts, again.labels, again.truth)
    assert generate(3000, seed=6).posts != first.posts
    labelled = {row["account_id"] for row in first.labels}
    assert {record["author"]["id"] for record in first.posts} <= labelled
    coordinated = {row["account_id"] for row in first.labels if row["label"] == "coordinated"}
    assert coordinated == {a for c in first.truth.campaigns.values() for a in c["members"]}


def test_organic_posts_carry_real_tweets() -> None:
    real = {text for user in real_users() for text in user.texts}
    generated = generate(3000, seed=2)
    organic = {row["account_id"] for row in generated.labels if row["label"] == "organic"}
    texts = [p["text"] for p in generated.posts if p["author"]["id"] in organic]
    assert sum(text in real for text in texts) / len(texts) > 0.8


def test_campaign_parameters_span_the_ranges_asked_for() -> None:
    plans = [c for seed in (1, 2) for c in generate(30000, seed=seed).truth.campaigns.values()]
    assert len(plans) >= 30
    sizes = [p["accounts"] for p in plans]
    assert min(sizes) < 10 and max(sizes) > 100 and all(CAMPAIGN_SIZE[0] <= s <= CAMPAIGN_SIZE[1] for s in sizes)
    ages = [p["age_days"] for p in plans]
    assert min(ages) < 30 and max(ages) > 365 and all(AGE_DAYS[0] <= a <= AGE_DAYS[1] for a in ages)
    assert sum(30 <= a <= 180 for a in ages) >= len(ages) / 3  # one to six months well represented
    spreads = [p["spread_hours"] for p in plans]
    assert min(spreads) < 1 and max(spreads) > 12 and all(SPREAD_HOURS[0] <= s <= SPREAD_HOURS[1] for s in spreads)
    assert all(POOL[0] <= p["pool"] <= POOL[1] and PER_ACCOUNT[0] <= p["per_account"][0] <= p["per_account"][1]
               <= PER_ACCOUNT[1] for p in plans)
    assert {p["edit"] for p in plans} == set(EDITS)
    shares = [p["image_share"] for p in plans]
    assert 0.0 in shares and max(shares) > 0.8


def test_each_campaign_posts_as_planned_and_its_findable_accounts_share_content() -> None:
    generated = generate(20000, seed=3)
    author_posts = Counter(p["author"]["id"] for p in generated.posts)
    when = {p["author"]["id"]: datetime.fromisoformat(p["created_at"]) for p in generated.posts}
    for campaign in generated.truth.campaigns.values():
        assert len(campaign["members"]) == campaign["accounts"]
        assert set(campaign["detectable"]) <= set(campaign["members"])
        low, _ = campaign["per_account"]
        assert all(author_posts[a] >= low for a in campaign["members"])
        for account in campaign["members"]:
            author = next(p["author"] for p in generated.posts if p["author"]["id"] == account)
            assert datetime.fromisoformat(author["created_at"]) < when[account]


def test_organic_look_alikes_of_every_kind_are_posted_by_organic_accounts() -> None:
    generated = generate(20000, seed=4)
    organic = {row["account_id"] for row in generated.labels if row["label"] == "organic"}
    kinds = {group["kind"] for group in generated.truth.lookalikes.values()}
    assert kinds == set(LOOKALIKES)
    assert all(set(group["members"]) <= organic for group in generated.truth.lookalikes.values())
