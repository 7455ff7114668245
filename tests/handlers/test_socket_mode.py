"""Socket Mode, offline: the bot with SLACK_APP_TOKEN gets its URL from the fake Web API's apps.connections.open,
connects over a real WebSocket to the fake Socket Mode server, acknowledges each envelope by its id, and moves
to a new connection when told to (or when the old one drops). The HTTP-mode flows run unchanged over it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from handlers import ids
from tests.conftest import Harness, running_bot, seed_cluster
from tests.handlers import test_claims as claim_flows
from tests.handlers import test_decisions as decision_flows
from tests.handlers import test_digest as digest_flows
from tests.handlers import test_home as home_flows
from tests.slack_fakes import FakeSocketMode, wait_for


@pytest.fixture
def socket_mode(fake_slack) -> Iterator[FakeSocketMode]:
    socket = FakeSocketMode(fake_slack)
    yield socket
    socket.close()


@pytest.fixture
def over_socket(tmp_path, fake_slack, socket_mode) -> Iterator[Harness]:
    with running_bot(tmp_path, fake_slack, socket=socket_mode, socket_ping_seconds=0.5) as bot:
        yield bot
        socket_mode.close_connections()  # the client's blocking read ends at once, not at its 3 s timeout


FLOWS: list[Callable[[Harness], None]] = [
    decision_flows.test_suspend_all_is_acknowledged_carried_out_stamped_and_audited,
    decision_flows.test_two_person_rule_waits_for_a_different_moderator,
    decision_flows.test_review_modal_gives_each_group_of_ticked_accounts_its_own_action,
    decision_flows.test_non_moderator_is_refused_and_group_members_may_act,
    claim_flows.test_two_moderators_claim_at_once_one_wins_and_the_other_is_told_who,
    home_flows.test_home_follows_the_queue_claims_and_decisions,
    digest_flows.test_digest_preview_is_ephemeral_and_posts_nothing,
]


@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.__name__.removeprefix("test_"))
def test_the_http_flows_work_over_socket_mode(over_socket, flow):
    flow(over_socket)
    assert over_socket.runtime.server is None  # nothing listened on HTTP: every request came over the socket


def test_the_app_token_opens_the_connection_and_every_envelope_is_acknowledged(over_socket, socket_mode):
    [opened] = over_socket.fake.of("apps.connections.open")
    assert opened.token == "xapp-test"  # the app-level token, not the bot token
    socket_mode.connected()
    assert socket_mode.hellos == 1
    cid = seed_cluster(over_socket.store, "e", 3)
    over_socket.announce()
    ack = over_socket.slack.click(ids.DISMISS, cid, "UMOD1", over_socket.card_ts(cid))
    assert set(ack.envelope) == {"envelope_id"}  # a button's acknowledgement carries nothing else
    wait_for(lambda: over_socket.store.cluster_view(cid).status == "dismissed")
    assert len(socket_mode.acks) == 1


def test_disconnect_moves_the_app_to_a_new_connection(over_socket, socket_mode):
    first = socket_mode.connected()
    socket_mode.disconnect("refresh_requested")
    second = socket_mode.connected(hellos=2)
    assert second is not first and len(over_socket.fake.of("apps.connections.open")) == 2
    wait_for(lambda: first not in socket_mode.connections)  # the app closed the old one itself
    reply = over_socket.slack.command("help", "UMOD1")
    assert "/chorus lookup" in reply.json()["text"]


def test_a_dropped_connection_is_replaced(over_socket, socket_mode):
    """slack_sdk notices the dead connection at its next ping (slack.socket_ping_seconds) and connects again."""
    socket_mode.drop()
    socket_mode.connected(hellos=2)
    cid = seed_cluster(over_socket.store, "d", 3)
    over_socket.announce()
    over_socket.slack.click(ids.CLAIM, cid, "UMOD2", over_socket.card_ts(cid))
    wait_for(lambda: over_socket.store.claim_of(cid))
