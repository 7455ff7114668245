"""Answers to `/chorus` sub-commands, as ephemeral message payloads; the command module only routes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.fingerprints import Fingerprint, FingerprintKind
from domain.lookups import ClusterSummary, PostLine, StoredAccount
from domain.views import DecisionView, PendingCluster, mention
from handlers.blocks import (
    SECTION_CHARS,
    card_link,
    clip,
    decision_stamp,
    escape,
    listing,
    message,
    section,
    slack_datetime,
)

USAGE = ("Usage: `/chorus lookup @handle|account-id` · `/chorus cluster ID` · `/chorus search TEXT` · "
         "`/chorus stats [24h|7d]` · `/chorus digest` · `/chorus pending` · `/chorus fingerprints [remove N]` · "
         "`/chorus help`")
HELP = "\n".join([
    "*Chorus* finds accounts posting the same content and lets moderators act on them.",
    "• `/chorus lookup @handle` (or an account id): the account's clusters, decisions and recent posts",
    "• `/chorus cluster ID`: the card of a cluster, read-only",
    "• `/chorus search TEXT`: recent posts matching the words, with their clusters",
    "• `/chorus stats [24h|7d]`: clusters flagged and decisions taken in the period (default 24h)",
    "• `/chorus digest`: a preview of the next daily digest (the last 24 hours), just for you",
    "• `/chorus pending`: clusters waiting for a decision or a second moderator's approval",
    "• `/chorus fingerprints`: the suspended campaigns' images and texts new posts are checked against;"
    " `/chorus fingerprints remove N` drops one",
])


def usage(problem: str) -> dict[str, Any]:
    """A short line saying what was wrong, then the usage."""
    return {"text": f"{problem}\n{USAGE}"}


def _when(moment: datetime | None) -> str:
    return slack_datetime(moment) if moment else "unknown"


def lookup_reply(account: StoredAccount, clusters: Sequence[ClusterSummary], decisions: Sequence[DecisionView],
                 posts: Sequence[PostLine]) -> dict[str, Any]:
    """An account: who it is, the clusters it is in, the decisions that named it, its recent posts."""
    handle = escape(mention(account.handle))
    head = (f"*{handle}* (`{escape(account.id)}`) · created {_when(account.created_at)} · "
            f"first seen {_when(account.first_seen)}")
    cluster_lines = [f"`{c.id}` {c.status}, {c.account_count} accounts, flagged {_when(c.flagged_at)}"
                     for c in clusters]
    decision_lines = [decision_stamp(d) + f" ({d.status})" for d in decisions]
    post_lines = [f"{_when(p.created_at)}: {escape(clip(' '.join(p.text.split()), 200))}" for p in posts]
    blocks = [
        section(head),
        section("*Clusters:* " + (listing(cluster_lines, SECTION_CHARS - 20, "\n") if clusters else "none")),
        section("*Decisions:* " + (listing(decision_lines, SECTION_CHARS - 20, "\n") if decisions else "none")),
        section("*Recent posts:*\n" + (listing(post_lines, SECTION_CHARS - 30, "\n") if posts else "none stored")),
    ]
    return message(f"Account {handle}", blocks)


def search_reply(text: str, posts: Sequence[PostLine]) -> dict[str, Any]:
    """Posts matching a search, newest first, each with its author and its clusters."""
    if not posts:
        return {"text": f"No stored posts match “{escape(text)}”."}
    lines = [f"{_when(p.created_at)} {escape('@' + p.author_handle)}: {escape(clip(' '.join(p.text.split()), 160))}"
             + (f" · cluster {', '.join(f'`{c}`' for c in p.clusters)}" if p.clusters else "")
             for p in posts]
    return message(f"Posts matching {text}", [section(f"*Posts matching “{escape(clip(text, 100))}”:*\n"
                                                       + listing(lines, SECTION_CHARS - 150, "\n"))])


FINGERPRINT_KIND = {FingerprintKind.IMAGE_SHA256: "image (file hash)", FingerprintKind.IMAGE_PHASH:
                    "image (perceptual hash)", FingerprintKind.TEXT: "text"}


def fingerprints_reply(fingerprints: Sequence[Fingerprint], cards: dict[str, tuple[str | None, str | None]],
                       removed: Fingerprint | None = None) -> dict[str, Any]:
    """The known campaigns' fingerprints, newest first: what each is, the card it came from, its matches and expiry;
    with what was just removed, when a moderator removed one."""
    def shown(f: Fingerprint) -> str:
        value = f"“{escape(clip(f.value, 80))}”" if f.kind is FingerprintKind.TEXT else f"`{escape(f.value[:16])}`"
        channel, ts = cards.get(f.cluster_id, (None, None))
        return (f"`#{f.id}` {FINGERPRINT_KIND[f.kind]} {value} from {card_link(f.cluster_id, channel, ts)}, "
                f"{f.matches} match{'' if f.matches == 1 else 'es'}, expires {slack_datetime(f.expires_at)}")

    head = f"Removed `#{removed.id}` ({FINGERPRINT_KIND[removed.kind]}).\n" if removed else ""
    if not fingerprints:
        return {"text": head + "No known campaign fingerprints: they are remembered when a cluster is suspended."}
    lines = listing([shown(f) for f in fingerprints], SECTION_CHARS - 200, "\n")
    return message(f"{len(fingerprints)} known campaign fingerprints", [section(
        f"{head}*Known campaign fingerprints* ({len(fingerprints)}, newest first):\n{lines}\n"
        "Remove one that flags the wrong posts: `/chorus fingerprints remove N`")])


def pending_reply(open_clusters: Sequence[PendingCluster], awaiting: Sequence[str]) -> dict[str, Any]:
    """Clusters still waiting, oldest first, linked to their cards: for a first decision, and for approval."""
    waiting = [f"{card_link(cluster.id, cluster.channel, cluster.message_ts)} {cluster.accounts} accounts, "
               f"flagged {slack_datetime(cluster.flagged_at)}"
               for cluster in open_clusters]
    lines = [f"*Waiting for a decision:* {len(waiting)}", listing(waiting, 2000, "\n") if waiting else "",
             f"*Waiting for a second moderator:* {len(awaiting)}", ", ".join(f"`{c}`" for c in awaiting)]
    return message("Pending clusters", [section("\n".join(line for line in lines if line))])
