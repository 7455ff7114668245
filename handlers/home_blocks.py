"""App Home views: the moderators' queue with filters, paging and Claim buttons, what the viewer decided
this week, the week's figures with the digest chart; and, for anyone else, a short explanation.

Pure functions from `domain.queue.ModeratorHome` to slack_sdk `View`s (so the 100-block limit and the
rest are checked here). The viewer's filters and page travel in the view's private_metadata, so a
click or a reopened Home after a restart brings them back.
"""

from __future__ import annotations

from dataclasses import asdict

import orjson
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from detectors.scoring import human_span
from domain.decisions import ClusterStatus
from domain.queue import ClaimFilter, DecidedCluster, ModeratorHome, QueueFilter, QueueItem
from domain.views import Severity
from handlers import ids
from handlers.blocks import (
    DONE_PHRASE,
    SECTION_CHARS,
    SEVERITY_ICON,
    card_link,
    chart_image,
    chart_title,
    claim_button,
    clip,
    escape,
    listing,
    plural,
    section,
    slack_datetime,
)
from service.digest_text import render_digest

QUEUE_PAGE_SIZE = 50
"""Clusters a Home page lists: one block each, leaving room for the rest in Slack's 100 blocks."""
CLAIM_LABEL = {ClaimFilter.ANYONE: "Anyone's claims", ClaimFilter.MINE: "Claimed by me",
               ClaimFilter.UNCLAIMED: "Unclaimed"}


def home_state(filters: QueueFilter, page: int) -> str:
    """The filters and page as the view's private_metadata."""
    return orjson.dumps({**asdict(filters), "page": page}).decode()


def parse_home_state(metadata: str | None) -> tuple[QueueFilter, int]:
    """The inverse of `home_state`; anything it could not have written gives the defaults."""
    try:
        state = orjson.loads(metadata or "{}")
        filters = QueueFilter(Severity(state["severity"]) if state.get("severity") else None,
                              str(state["platform"])[:100] if state.get("platform") else None,
                              ClaimFilter(state.get("claimed", ClaimFilter.ANYONE)))
        return filters, max(0, int(state.get("page", 0)))
    except (orjson.JSONDecodeError, ValueError, TypeError, KeyError, AttributeError):
        return QueueFilter(), 0


def _select(action_id: str, choices: list[tuple[str, str]], chosen: str) -> StaticSelectElement:
    options = [Option(value=value, label=label) for value, label in choices]
    initial = next((o for o in options if o.value == chosen), options[0])
    return StaticSelectElement(action_id=action_id, options=options, initial_option=initial)


def _filters(home: ModeratorHome) -> ActionsBlock:
    current = home.filters
    platforms = sorted({*home.platforms, *([current.platform] if current.platform else [])})
    return ActionsBlock(block_id="home_filters", elements=[
        _select(ids.HOME_FILTER_SEVERITY, [(ids.ALL, "Every severity")]
                + [(s.value, f"{SEVERITY_ICON[s]} {s.capitalize()}") for s in Severity], current.severity or ids.ALL),
        _select(ids.HOME_FILTER_PLATFORM, [(ids.ALL, "Every platform"), *[(p, p) for p in platforms][:99]],
                current.platform or ids.ALL),
        _select(ids.HOME_FILTER_CLAIMED, list(CLAIM_LABEL.items()), current.claimed),
    ])


def _queue_line(item: QueueItem, home: ModeratorHome) -> SectionBlock:
    waiting = human_span((home.now - item.flagged_at).total_seconds())
    text = (f"{SEVERITY_ICON[item.severity]} *{card_link(item.id, item.channel, item.message_ts)}* · "
            f"{plural(item.accounts, 'account')} · waiting {waiting} · {escape(item.platform)}")
    if item.status is ClusterStatus.AWAITING_APPROVAL:
        text += "\n⏳ waiting for a second moderator's approval"
    if item.claim:
        who = "you" if item.claim.moderator == home.viewer else f"<@{item.claim.moderator}>"
        text += f"\n🙋 claimed by {who}, {slack_datetime(item.claim.claimed_at)}"
    mine = item.claim is not None and item.claim.moderator == home.viewer
    return SectionBlock(text=text, block_id=f"queue_{item.id}",
                        accessory=None if mine else claim_button(item.id, item.claim))


def _paging(home: ModeratorHome) -> ActionsBlock | None:
    buttons = []
    if home.page > 0:
        buttons.append(ButtonElement(text="‹ Previous", action_id=ids.HOME_PAGE_PREVIOUS, value=str(home.page - 1)))
    if home.page + 1 < home.pages:
        buttons.append(ButtonElement(text="Next ›", action_id=ids.HOME_PAGE_NEXT, value=str(home.page + 1)))
    return ActionsBlock(block_id="home_pages", elements=buttons) if buttons else None


def _decided_line(decided: DecidedCluster) -> str:
    phrase = DONE_PHRASE.get(decided.action, decided.action)
    return (f"• {phrase} {plural(decided.accounts, 'account')} on "
            f"{card_link(decided.cluster_id, decided.channel, decided.message_ts)}, "
            f"{slack_datetime(decided.created_at)} ({decided.status.replace('_', ' ')})")


def moderator_home_view(home: ModeratorHome, chart_file: str | None = None, notice: str = "") -> View:
    """A moderator's Home: the queue oldest first, filters, paging, their week's decisions, the week's figures."""
    start = home.page * QUEUE_PAGE_SIZE
    shown = (f"{start + 1}–{start + len(home.items)} of {home.matching}" if home.items else "none")
    blocks: list[Block] = [HeaderBlock(text="Chorus: the moderators' queue")]
    if notice:
        blocks.append(section(f"⚠️ {notice}"))
    blocks += [
        section(f"*{plural(home.waiting, 'cluster')} waiting*, oldest first. Showing {shown} through your "
                f"filters (page {home.page + 1} of {home.pages}). Claim one so nobody else works on it."),
        _filters(home),
        DividerBlock(),
    ]
    blocks += [_queue_line(item, home) for item in home.items]
    if not home.items:
        blocks.append(section("Nothing waiting matches these filters. 🎉"))
    paging = _paging(home)
    if paging:
        blocks.append(paging)
    blocks += [DividerBlock(), HeaderBlock(text="What you decided in the last 7 days")]
    blocks.append(section(listing([_decided_line(d) for d in home.decided], SECTION_CHARS - 40, "\n")
                          if home.decided else "Nothing yet."))
    body = escape(render_digest(home.week))
    blocks += [DividerBlock(), HeaderBlock(text="This week"),
               section("```" + clip(body, SECTION_CHARS - 6) + "```")]
    if chart_file:
        blocks.append(chart_image(chart_file, chart_title(home.week)))
    return View(type="home", callback_id="chorus_home", private_metadata=home_state(home.filters, home.page),
                blocks=blocks)


def visitor_home_view() -> View:
    """Anyone who is not a moderator: what Chorus is and who to ask, with no buttons."""
    return View(type="home", callback_id="chorus_home", blocks=[
        HeaderBlock(text="Chorus"),
        section("Chorus finds groups of accounts posting the same content and lets the moderators' team act on "
                "them. The queue and its buttons are for moderators only; ask a team lead to add you to the "
                "moderator list or group if you should be one."),
    ])
