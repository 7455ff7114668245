"""The `/chorus` slash command: lookups for moderators, answered ephemerally within Slack's 3 s.

Every answer goes in the acknowledgement itself; a bad argument gets a usage line, and an
unexpected error a one-line apology (and a log entry), never a stack trace.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext

from domain.decisions import ClusterStatus
from handlers import ids
from handlers.blocks import cluster_card, digest_message, escape, not_a_moderator
from handlers.context import Chorus
from handlers.replies import HELP, USAGE, fingerprints_reply, lookup_reply, pending_reply, search_reply, usage
from service.fingerprints import remove_fingerprint
from storage import Store

log = logging.getLogger("chorus.slack")

PERIOD = re.compile(r"^(\d{1,3})([hd])$")
MAX_COMMAND_CHARS = 500
"""Longer `/chorus` text is refused: no lookup needs it, and it would only load the database."""


def lookup(store: Store, argument: str, chorus: Chorus) -> dict[str, Any]:
    """`lookup @handle|account-id`."""
    if not argument:
        return usage("`lookup` needs a handle or an account id.")
    account = store.find_account(argument)
    if account is None:
        return usage(f"No account `{escape(argument[:60])}` in the Chorus database.")
    return lookup_reply(account, store.account_clusters(account.id), store.account_decisions(account.id),
                        store.account_posts(account.id))


def cluster(store: Store, argument: str, chorus: Chorus) -> dict[str, Any]:
    """`cluster ID`: the card, read-only."""
    view = store.cluster_view(argument) if argument else None
    if view is None:
        return usage(f"No cluster `{escape(argument[:60])}`." if argument else "`cluster` needs a cluster id (c-…).")
    return cluster_card(view, store.clock(), chorus.settings.undo_minutes, with_buttons=False,
                        options=chorus.card_options)


def search(store: Store, argument: str, chorus: Chorus) -> dict[str, Any]:
    """`search TEXT` through the posts' full-text index."""
    if not argument.strip():
        return usage("`search` needs some words to look for.")
    return search_reply(argument, store.search_posts(argument))


def stats(store: Store, argument: str, chorus: Chorus) -> dict[str, Any]:
    """`stats [24h|7d]`: the digest of the period."""
    match = PERIOD.match(argument or "24h")
    if match is None or int(match[1]) == 0:
        return usage(f"`stats` takes a period such as 24h or 7d, not `{escape(argument[:20])}`.")
    hours = int(match[1]) * (24 if match[2] == "d" else 1)
    until = store.clock()
    return digest_message(store.digest(until - timedelta(hours=hours), until))


def digest_preview(store: Store, argument: str, chorus: Chorus) -> dict[str, Any]:
    """`digest`: what the daily digest would say now, shown only to the moderator who asked."""
    if argument:
        return usage("`digest` takes no argument; use `stats 7d` for another period.")
    return stats(store, "24h", chorus)


def pending(store: Store, argument: str, chorus: Chorus) -> dict[str, Any]:
    """`pending`: clusters waiting for moderators."""
    now = store.clock()
    return pending_reply(store.digest(now, now).pending, store.clusters_by_status(ClusterStatus.AWAITING_APPROVAL))


def help_text(store: Store, argument: str, chorus: Chorus) -> dict[str, Any]:
    """`help`."""
    return {"text": HELP + "\n" + USAGE}


def fingerprints(store: Store, argument: str, chorus: Chorus, user_id: str) -> dict[str, Any]:
    """`fingerprints [remove N]`: list the known campaigns' fingerprints, or remove one (audited as the moderator)."""
    verb, _, number = argument.partition(" ")
    removed = None
    if verb:
        if verb.lower() != "remove" or not (number.strip().isascii() and number.strip().isdigit()
                                            and len(number.strip()) <= 18):
            return usage(f"`fingerprints` takes nothing, or `remove N` with a number from the list, not "
                         f"`{escape(argument[:40])}`.")
        removed = remove_fingerprint(store, int(number), user_id)
        if removed is None:
            return usage(f"No fingerprint `#{escape(number.strip())}`; `/chorus fingerprints` lists them.")
    known = store.active_fingerprints()
    cards = {f.cluster_id: (view.channel, view.message_ts) for f in known
             if (view := store.cluster_view(f.cluster_id)) is not None}
    return fingerprints_reply(known, cards, removed)


SUBCOMMANDS: dict[str, Callable[[Store, str, Chorus], dict[str, Any]]] = {
    "lookup": lookup, "cluster": cluster, "search": search, "stats": stats, "digest": digest_preview,
    "pending": pending, "help": help_text,
}
BY_MODERATOR: dict[str, Callable[[Store, str, Chorus, str], dict[str, Any]]] = {"fingerprints": fingerprints}
"""Sub-commands that may change something, so they need to know (and audit) who asked."""


def answer(chorus: Chorus, text: str, user_id: str = "") -> dict[str, Any]:
    """The reply to `/chorus TEXT` from `user_id`."""
    if len(text) > MAX_COMMAND_CHARS:
        return usage(f"That is {len(text):,} characters; lookups take at most {MAX_COMMAND_CHARS}.")
    verb, _, argument = text.strip().partition(" ")
    if verb.lower() in BY_MODERATOR:
        return BY_MODERATOR[verb.lower()](chorus.store, argument.strip(), chorus, user_id)
    handler = SUBCOMMANDS.get(verb.lower())
    if handler is None:
        return usage(f"Unknown sub-command `{escape(verb[:30])}`." if verb else "Which lookup?")
    return handler(chorus.store, argument.strip(), chorus)


def chorus_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """`/chorus`: answered in the acknowledgement, so the reply is ephemeral and inside Slack's 3 s;
    moderators get answers, others a refusal."""
    chorus: Chorus = context["chorus"]
    if not chorus.moderators.includes(command["user_id"]):
        ack(text=not_a_moderator())
        return
    try:
        reply = answer(chorus, command.get("text", ""), command["user_id"])
    except Exception:  # a lookup must never show a moderator a stack trace
        log.exception("/chorus %s failed", command.get("text", ""))
        reply = {"text": "Sorry, that lookup failed; the error is in the bot's log."}
    ack(**reply)


def register(app: App) -> None:
    """Wire `/chorus`."""
    app.command(ids.COMMAND)(chorus_command)
