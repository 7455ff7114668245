"""/chorus over signed HTTP: every sub-command answers ephemerally; bad input gets a usage line."""

from __future__ import annotations

import json

import pytest

from tests.conftest import seed_cluster


def _reply(response) -> str:
    """What the user sees: Bolt answers plain text for a text-only reply, JSON when there are blocks."""
    if response.headers["content-type"].startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)
    return response.text


@pytest.fixture
def seeded(harness):
    cid = seed_cluster(harness.store, "m", 3, text="Claim your free gift card now")
    harness.announce()
    return harness, cid


@pytest.mark.parametrize(("text", "expected"), [
    ("help", "/chorus lookup"),
    ("lookup @voterm1", "m-a1"),
    ("lookup m-a2", "@voterm2"),
    ("cluster {cid}", "3 accounts"),
    ("search gift card", "@voterm0"),
    ("stats 7d", "Flagged: 1 cluster ("),
    ("stats", "Chorus digest"),
    ("pending", "{cid}"),
])
def test_subcommands_answer_in_the_acknowledgement(seeded, text, expected):
    harness, cid = seeded
    response = harness.slack.command(text.format(cid=cid), "UMOD1")
    assert response.status_code == 200
    assert expected.format(cid=cid) in _reply(response)
    if response.headers["content-type"].startswith("application/json"):
        assert response.json().get("response_type", "ephemeral") == "ephemeral"


@pytest.mark.parametrize("text", ["", "frobnicate", "lookup", "lookup @nobody", "cluster c-0000000000",
                                  "stats forever", "search", 'search "unbalanced AND (', "stats 0h"])
def test_bad_arguments_get_a_usage_line_never_a_trace(seeded, text):
    harness, _ = seeded
    response = harness.slack.command(text, "UMOD1")
    body = _reply(response)
    assert response.status_code == 200 and "Traceback" not in body
    assert "Usage:" in body or "No stored posts match" in body


def test_non_moderators_get_a_refusal(seeded):
    harness, cid = seeded
    assert "Only Chorus moderators" in _reply(harness.slack.command(f"cluster {cid}", "URANDOM"))
