"""Slack failing: a post that times out after Slack took it is not posted twice, a card Slack refuses does
not hold back the others, and a card update Slack lost is made once Slack answers again."""

from __future__ import annotations

import json

import pytest

from handlers import ids
from service.poller import AnnounceError
from tests.conftest import running_bot, seed_cluster
from tests.slack_fakes import wait_for


def test_a_post_that_timed_out_after_slack_took_it_is_found_not_repeated(tmp_path, fake_slack):
    with running_bot(tmp_path, fake_slack, timeout_seconds=0.5) as bot:
        cid = seed_cluster(bot.store, "t", 3)
        fake_slack.hold("chat.postMessage", after=True, seconds=2.0)  # posted, but the answer comes too late
        assert bot.announce() == 1
        [card] = fake_slack.channel_messages("CMOD")
        assert bot.card_ts(cid) == card["ts"]
        assert len(fake_slack.of("chat.postMessage")) == 1 and fake_slack.of("conversations.history")


def test_a_post_that_never_reached_slack_is_sent_again_once(tmp_path, fake_slack):
    with running_bot(tmp_path, fake_slack, timeout_seconds=0.5) as bot:
        cid = seed_cluster(bot.store, "n", 3)
        fake_slack.script("chat.postMessage", 500, "<html>Internal Server Error</html>")
        assert bot.announce() == 1
        [card] = fake_slack.channel_messages("CMOD")
        assert bot.card_ts(cid) == card["ts"] and fake_slack.of("conversations.history")


def test_a_refused_card_does_not_hold_back_the_next_and_is_retried(tmp_path, fake_slack):
    with running_bot(tmp_path, fake_slack) as bot:
        first = seed_cluster(bot.store, "a", 3, text="first campaign text here")
        second = seed_cluster(bot.store, "b", 3, text="an entirely different second campaign")
        fake_slack.script("chat.postMessage", 200, {"ok": False, "error": "invalid_blocks"})
        with pytest.raises(AnnounceError, match="invalid_blocks"):
            bot.announce()
        assert bot.card_ts(second) and bot.store.cluster_view(first).message_ts is None
        assert bot.announce() == 1 and bot.card_ts(first)
        assert len(fake_slack.channel_messages("CMOD")) == 2


def test_a_card_update_slack_refused_is_made_when_slack_answers_again(tmp_path, fake_slack):
    with running_bot(tmp_path, fake_slack) as bot:
        cid = seed_cluster(bot.store, "u", 3)
        bot.announce()
        ts = bot.card_ts(cid)
        for _ in range(2):  # both stamps of the decision ("Suspending…", then the result) fail
            fake_slack.script("chat.update", 200, {"ok": False, "error": "fatal_error"})
        bot.slack.click(ids.SUSPEND_ALL, cid, "UMOD1", ts)
        wait_for(lambda: bot.store.decisions_for(cid) and bot.store.decisions_for(cid)[0].status == "done")
        wait_for(lambda: bot.store.stale_cards() == [cid])
        assert bot.runtime.cards.sync_stale() == 1
        [card] = fake_slack.channel_messages("CMOD")
        assert "Suspended 3 accounts" in json.dumps(card["blocks"]) and bot.store.stale_cards() == []
        assert bot.runtime.cards.sync_stale() == 0
