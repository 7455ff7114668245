"""The eval report's per-bin lines: recall, and how many cards each caught campaign took."""

from datetime import UTC, datetime

from cli.evaluate import Label, format_report, score_clusters
from domain.models import Cluster

T0 = datetime(2026, 2, 20, 12, tzinfo=UTC)


def campaign(members: list[str], per_account: int) -> dict[str, object]:
    return {"members": members, "detectable": members, "accounts": len(members), "age_days": 90.0,
            "spread_hours": 2.0, "per_account": [1, per_account], "pool": 10, "edit": "none",
            "own_captions": False, "image_share": 0.0, "creation_spread": 0.0}


def card(accounts: list[str]) -> Cluster:
    return Cluster(key="|".join(accounts), score=0.9, accounts=accounts, posts=[], reasons=[], sample_text="",
                   first_seen=T0, last_seen=T0)


def test_each_bin_says_how_many_cards_its_caught_campaigns_took() -> None:
    one_each = [f"a{i}" for i in range(8)]  # one message per account: split over two cards
    several = [f"b{i}" for i in range(6)]  # several messages each: one card
    missed = [f"c{i}" for i in range(5)]  # not caught: counts in no bin's cards
    truth = {"campaigns": {"split": campaign(one_each, 1), "whole": campaign(several, 4),
                           "missed": campaign(missed, 1)}, "lookalikes": {}}
    labels = {a: Label(True, name) for name, c in truth["campaigns"].items() for a in c["members"]}
    clusters = [card(one_each[:4]), card(one_each[4:]), card(several), card(missed[:2])]

    report = format_report(score_clusters(clusters, labels, truth=truth)).splitlines()

    header = report.index(next(line for line in report if line.startswith("recall by bin"))) + 1
    assert report[header].split()[-1] == "cards/caught"
    messages = report.index(next(line for line in report if "messages per account" in line))
    assert report[messages].split()[-4:] == ["1/2", "50%", "0.769", "2.00"]  # the missed one took no card
    assert report[messages + 1].split()[-4:] == ["1/1", "100%", "1.000", "1.00"]  # 'up to 3-4'
