"""Judging candidates: one group's posts to a scored cluster, and the pass that gives each account one cluster.

Both are pure functions of posts and the content nodes each post hangs off, so the rolling
window, a batch `scan` and the Spark engine judge a group with the same code and get the same
cluster, key, score and reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from operator import attrgetter

from detectors.accounts import account_signals, largest_bunch
from detectors.behaviour import behaviour, core_members
from detectors.cohort import Population
from detectors.evasion import disguised
from detectors.index import digest
from detectors.nodes import NodeRef
from detectors.scoring import score_group
from detectors.settings import DetectionSettings
from detectors.templates import is_template
from domain.models import Cluster, Post

_BY_TIME = attrgetter("created_at", "id")
_TEXT = attrgetter("text")


NodesOf = Callable[[Post], Sequence[NodeRef]]
"""The content nodes of a post, its text's first."""


def judge(posts: Sequence[Post], nodes_of: NodesOf, settings: DetectionSettings, messages: int,
          population: Population | None = None) -> Cluster | None:
    """The scored cluster of a group's core members, or None when fewer than min_accounts remain.

    `messages` counts the message groups merged into this candidate (1 for a group on its own). A post
    in two of them (its text in one, its picture in another) counts once. `population` holds the creation
    times of the accounts active, against which the accounts' creation is judged (see `cohort`).
    """
    posts = list({post.id: post for post in posts}.values())

    def message_of(post: Post) -> str:
        nodes = nodes_of(post)
        return nodes[0].key if nodes else ""

    kept, repeating = core_members(posts, message_of, settings.min_accounts)
    kept.sort(key=_BY_TIME)
    accounts = list(dict.fromkeys(post.author.id for post in kept))
    if len(accounts) < settings.min_accounts:
        return None
    text_nodes: set[str] = set()
    media_accounts: dict[str, set[str]] = {}
    pictured = 0
    for post in kept:
        nodes = nodes_of(post)
        for node in nodes:
            if node.is_text:
                text_nodes.add(node.key)
            else:
                media_accounts.setdefault(node.key, set()).add(post.author.id)
        pictured += not all(node.is_text for node in nodes)
    shared_keys = {key for key, holders in media_accounts.items() if len(holders) >= settings.min_accounts}
    shared = sorted(key[2:] for key in shared_keys)
    packaging = _packagers(kept, nodes_of, shared_keys)
    first_posted = [post.created_at for post in {post.author.id: post for post in reversed(kept)}.values()]
    scored = score_group(
        kept,
        account_signals(kept, settings.new_account_days, settings.low_followers, population),
        behaviour(kept, repeating | packaging),
        messages=messages, distinct_texts=len(text_nodes),
        concentrated=largest_bunch(first_posted, settings.window_hours / 24) / len(accounts),
        shared_media=len(shared), pictured=pictured,
        disguised=len(set(filter(disguised, map(_TEXT, kept)))),
        templated=is_template(text_nodes), repeated=len(repeating), packaged=len(packaging),
    )
    return Cluster(
        key=digest(nodes_of(kept[0])[0].key),
        score=scored.score,
        accounts=accounts,
        posts=[post.id for post in kept],
        reasons=scored.reasons,
        sample_text=next((post.text for post in kept if post.text.strip()), ""),
        first_seen=kept[0].created_at,
        last_seen=kept[-1].created_at,
        distinct_texts=len(text_nodes),
        media=[key for key in shared if len(key) == 64],
        signals={**scored.signals, "messages": float(messages)},
    )


def judge_group(posts: Sequence[Post], nodes_of: NodesOf, settings: DetectionSettings,
                population: Population | None = None) -> Cluster | None:
    """One message group judged on its own (`judge`); where it stays below min_score, its most-posted text alone.

    Near-copy joins follow an app's templates: a campaign posting one text word for word was joined to the organic
    auto-posts that differ from it in a number ("just joined a video chat with 86 other people at"), and their
    posters, spread over hours, drowned its burst of new accounts. Judged alone, the text is what it would be
    had the joins not happened: a campaign still, or organic sharing still.
    """
    judged = judge(posts, nodes_of, settings, 1, population)
    if judged is not None and judged.score >= settings.min_score:
        return judged
    accounts_by_text: dict[str, set[str]] = {}
    for post in posts:
        nodes = nodes_of(post)
        if nodes and nodes[0].is_text:
            accounts_by_text.setdefault(nodes[0].key, set()).add(post.author.id)
    if len(accounts_by_text) < 2:
        return judged
    text = min(accounts_by_text, key=lambda key: (-len(accounts_by_text[key]), key))
    if len(accounts_by_text[text]) < settings.min_accounts:
        return judged
    alone = judge([post for post in posts if (nodes := nodes_of(post)) and nodes[0].key == text], nodes_of,
                  settings, 1, population)
    return alone if alone is not None and alone.score >= settings.min_score else judged


def _packagers(posts: Sequence[Post], nodes_of: NodesOf, shared_images: set[str]) -> set[str]:
    """Accounts that posted one of the group's shared pictures with words other accounts posted with it too.

    "Identical language and images": a prepared post copied whole. A meme's sharers write their own
    captions; a boost (`repost_of`) is the platform's share button, not a copy, and does not count.
    """
    if not shared_images:
        return set()
    packages: dict[tuple[str, str], set[str]] = {}
    for post in posts:
        if post.repost_of is not None:
            continue
        nodes = nodes_of(post)
        texts = [node.key for node in nodes if node.is_text]
        for image in (node.key for node in nodes if not node.is_text and node.key in shared_images):
            for text in texts:
                packages.setdefault((text, image), set()).add(post.author.id)
    return {account for holders in packages.values() if len(holders) >= 2 for account in holders}


def choose(merged: Iterable[tuple[Cluster, Sequence[Cluster]]], alone: Iterable[Cluster],
           trim: Callable[[Cluster, frozenset[str]], Cluster | None], settings: DetectionSettings) -> list[Cluster]:
    """Clusters at or above min_score, highest first, each account in at most one.

    `merged` holds each set of linked message groups judged as one campaign, with those of its groups that
    reach min_score alone; `alone` every group that does. A campaign goes before its own groups: when they
    reach min_score together it is one card, not one card per message that happened to score a little higher
    alone. It ranks at the best score among itself and those groups, and so not before anything else: two
    caption texts linked at 0.6 went first and took their accounts from the 0.97 picture group of the
    campaign they belonged to, one card more. A candidate sharing accounts with a better one is re-judged by
    `trim` on its remaining accounts (None when it no longer reaches min_score). Cluster keys are made unique:
    the same content in two periods of a long batch gets the later period's first time in its key.
    """
    ranks = [(max([cluster.score, *(part.score for part in parts)]), False, cluster) for cluster, parts in merged]
    ranks += [(cluster.score, True, cluster) for cluster in alone]  # True: after a campaign of the same rank
    ranks.sort(key=lambda item: (-item[0], item[1], -item[2].score, item[2].key, item[2].first_seen))
    ranked = [cluster for _, _, cluster in ranks if cluster.score >= settings.min_score]
    taken: set[str] = set()
    chosen: list[Cluster] = []
    for candidate in ranked:
        if taken.isdisjoint(candidate.accounts):
            taken.update(candidate.accounts)
            chosen.append(candidate)
            continue
        free = frozenset(candidate.accounts).difference(taken)
        if len(free) < settings.min_accounts:
            continue
        trimmed = trim(candidate, free)
        if trimmed is not None:
            taken.update(trimmed.accounts)
            chosen.append(trimmed)
    chosen.sort(key=lambda c: (-c.score, c.key, c.first_seen))
    return _unique_keys(chosen)


def _unique_keys(clusters: list[Cluster]) -> list[Cluster]:
    """Give a cluster whose key an earlier-seen one already has its own, by its first post's time."""
    seen: set[str] = set()
    renamed: dict[int, Cluster] = {}
    for at, cluster in sorted(enumerate(clusters), key=lambda item: item[1].first_seen):
        if cluster.key in seen:
            renamed[at] = replace(cluster, key=f"{cluster.key}@{cluster.first_seen.isoformat()}")
        seen.add(cluster.key)
    return [renamed.get(at, cluster) for at, cluster in enumerate(clusters)]
