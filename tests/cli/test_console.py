"""Console cards: what moderators would see without a Slack workspace, buttons as configured."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from cli.console import ConsoleNotifier
from domain.decisions import Action, ClusterStatus
from domain.views import AccountView, ClusterChange, ClusterView

T0 = datetime(2026, 2, 20, 6, tzinfo=UTC)


def _view() -> ClusterView:
    accounts = [AccountView(f"a{i}", f"user{i}", None, None, 12.0) for i in range(3)]
    return ClusterView(id="c1", score=0.91, status=ClusterStatus.OPEN, accounts=accounts, post_count=3,
                       distinct_texts=1, sample_texts=["Vote Grey"], first_seen=T0, last_seen=T0, flagged_at=T0,
                       reasons=["3 accounts posted 3 identical posts"])


def test_a_card_offers_the_configured_actions_on_every_account_then_dismiss_and_review() -> None:
    every, chosen = io.StringIO(), io.StringIO()
    ConsoleNotifier(every).publish(_view(), ClusterChange("c1", "new", [], 0))
    ConsoleNotifier(chosen, actions=[Action.SUSPEND, Action.REQUIRE_VERIFICATION]).publish(
        _view(), ClusterChange("c1", "new", [], 0))
    every_button = "[ Suspend all ]  [ Limit all ]  [ Require verification ]  [ Dismiss ]  [ Review accounts ]"
    assert every_button in every.getvalue()
    assert "[ Suspend all ]  [ Require verification ]  [ Dismiss ]  [ Review accounts ]" in chosen.getvalue()
    assert "Limit" not in chosen.getvalue()
