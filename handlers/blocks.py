"""Block Kit builders: cluster cards, growth replies, the review modal and ephemeral replies.

Pure functions from the read models in `domain.views` to Slack payloads, built with slack_sdk's
model classes so Slack's limits are checked here, not discovered as `invalid_blocks` at runtime.
Listeners decide what to show; these functions only say how. Everything that came from the
platform (post text, handles, reasons) is escaped, so a post containing `<!channel>` never pings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from detectors.scoring import human_span
from domain.decisions import ACCOUNT_ACTIONS, ACTIVE_STATUSES, Action, DecisionStatus
from domain.views import (
    WHOLE_CLUSTER_LABELS,
    AccountView,
    BatchKind,
    CardOptions,
    ClaimView,
    ClusterChange,
    ClusterView,
    DecisionView,
    Digest,
    LateBatch,
    mention,
)
from handlers import ids
from service.claims import ClaimOutcome, ClaimResult
from service.decisions import Refusal, Why
from service.digest_text import render_digest

MAX_BLOCKS = 50
SECTION_CHARS = 3000
HEADER_CHARS = 150
SAMPLE_CHARS = 600
CHECKBOX_OPTIONS = 10  # Slack's limit per checkbox group
MODAL_GROUPS = 25
"""Groups of ten accounts a review modal page lists: two blocks each (the accounts, their action) leave room
in a modal's 100 blocks; more accounts go on further pages."""
REASON_CHARS = 500
"""The longest reason the review modal takes when the platform sets no lower limit."""
CREATED_TOGETHER_DAYS = 7

SEVERITY_ICON = {"high": "🔴", "medium": "🟠", "low": "🟡"}
DONE_PHRASE = {Action.SUSPEND: "Suspended", Action.REQUIRE_VERIFICATION: "Required verification for",
               Action.LIMIT: "Limited", Action.DISMISS: "Dismissed", Action.DOMAIN_SUSPEND: "Suspended the domain",
               Action.DOMAIN_LIMIT: "Limited the domain", Action.UNSUSPEND: "Unsuspended",
               Action.LIFT_VERIFICATION: "Lifted verification for", Action.UNLIMIT: "Lifted the limit on",
               Action.REOPEN: "Reopened", Action.DOMAIN_UNBLOCK: "Lifted the block of the domain"}
DOING_PHRASE = {Action.SUSPEND: "Suspending", Action.REQUIRE_VERIFICATION: "Requiring verification for",
                Action.LIMIT: "Limiting", Action.DISMISS: "Dismissing", Action.DOMAIN_SUSPEND: "Suspending the domain",
                Action.DOMAIN_LIMIT: "Limiting the domain", Action.UNSUSPEND: "Unsuspending",
                Action.LIFT_VERIFICATION: "Lifting verification for", Action.UNLIMIT: "Lifting the limit on",
                Action.REOPEN: "Reopening", Action.DOMAIN_UNBLOCK: "Lifting the block of the domain"}
"""Every action has its phrases: a card shows the moderators' decisions, `/chorus lookup` undos too."""
ASK_PHRASE = {Action.SUSPEND: "suspend", Action.REQUIRE_VERIFICATION: "require verification for",
              Action.LIMIT: "limit", Action.DOMAIN_SUSPEND: "suspend the domain",
              Action.DOMAIN_LIMIT: "limit the domain"}
UNDO_ACTIONS = {Action.UNSUSPEND, Action.LIFT_VERIFICATION, Action.UNLIMIT, Action.REOPEN, Action.DOMAIN_UNBLOCK}
BUTTON_LABEL = {Action.SUSPEND: "Suspend", Action.LIMIT: "Limit", Action.REQUIRE_VERIFICATION: "Require verification"}
WHOLE_CLUSTER_BUTTON = {Action.SUSPEND: ids.SUSPEND_ALL, Action.LIMIT: ids.LIMIT_ALL,
                        Action.REQUIRE_VERIFICATION: ids.REQUIRE_VERIFICATION}
BATCH_BUTTON = {Action.SUSPEND: ids.LATE_SUSPEND, Action.LIMIT: ids.LATE_LIMIT,
                Action.REQUIRE_VERIFICATION: ids.LATE_REQUIRE_VERIFICATION}
DOMAIN_BUTTON = {Action.DOMAIN_LIMIT: ids.DOMAIN_LIMIT, Action.DOMAIN_SUSPEND: ids.DOMAIN_SUSPEND}
CONFIRM_TEXT = {Action.SUSPEND: "Suspend {n} on the platform?",
                Action.LIMIT: "Limit {n}? Only their followers will see them; Undo lifts it.",
                Action.REQUIRE_VERIFICATION: "Require {n} to verify their owners?"}
DEFAULT_OPTIONS = CardOptions()
"""What cards offer when nothing else is said: every account action, no domain actions, not a dry run."""
DRY_RUN_FOOTER = "🧪 Dry run: decisions are recorded and shown, but nothing is sent to the platform."


# -- text helpers ---------------------------------------------------------------------------------

INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
"""Control characters, zero-width spaces and direction overrides: they hide or reorder what a moderator reads."""


def escape(text: str) -> str:
    """Escape Slack's control characters, so platform text can never mention, link or break formatting.

    Invisible controls and direction overrides are dropped, so a handle cannot read backwards on a card.
    """
    return INVISIBLE.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def listing(items: Sequence[str], limit: int, separator: str = ", ") -> str:
    """Join as many items as fit in `limit` characters, then say "and N more"."""
    shown: list[str] = []
    for index, item in enumerate(items):
        rest = len(items) - index - 1
        candidate = separator.join([*shown, item]) + (f" and {rest} more" if rest else "")
        if len(candidate) > limit:
            break
        shown.append(item)
    hidden = len(items) - len(shown)
    return separator.join(shown) + (f"{' ' if shown else ''}and {hidden} more" if hidden else "")


def slack_time(moment: datetime) -> str:
    """A time every reader sees in their own timezone, with UTC as the fallback text."""
    return f"<!date^{int(moment.timestamp())}^{{time}}|{moment:%H:%M} UTC>"


def slack_datetime(moment: datetime) -> str:
    """A date and time in the reader's timezone."""
    return f"<!date^{int(moment.timestamp())}^{{date_short}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def account_link(account: AccountView) -> str:
    """`@handle`, linked to the profile when the platform gave a URL."""
    handle = escape(mention(account.handle))
    if account.url and account.url.startswith(("https://", "http://")):
        return f"<{escape(account.url).replace('|', '%7C')}|{handle}>"
    return handle


def plural(count: int, noun: str) -> str:
    """`1 account`, `2 accounts`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_CHARS)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text, SECTION_CHARS))])


def message(text: str, blocks: Sequence[Block]) -> dict[str, Any]:
    """A message payload; every block is validated and the count is held to Slack's 50."""
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks exceed Slack's limit of {MAX_BLOCKS}")
    return {"text": clip(text, 3000), "blocks": [block.to_dict() for block in blocks]}


# -- the cluster card -------------------------------------------------------------------------------

def created_together(accounts: Sequence[AccountView], days: float = CREATED_TOGETHER_DAYS) -> int:
    """The most accounts whose creation dates fall within `days` of each other (a sliding window)."""
    created = sorted(a.created_at for a in accounts if a.created_at is not None)
    best, start = 0, 0
    for end, moment in enumerate(created):
        while moment - created[start] > timedelta(days=days):
            start += 1
        best = max(best, end - start + 1)
    return best


def _accounts_text(view: ClusterView) -> str:
    ages = [a.age_days_at_post for a in view.accounts if a.age_days_at_post is not None]
    lines = [f"*Accounts:* {listing([account_link(a) for a in view.accounts], 1500)}"]
    if ages:
        lines.append(f"*Age when posting:* {min(ages):.0f}–{max(ages):.0f} days"
                     f" ({len(ages)} of {len(view.accounts)} known)")
        together = created_together(view.accounts)
        if together > 1:
            lines.append(f"*Created close together:* {together} of {len(view.accounts)} within "
                         f"{CREATED_TOGETHER_DAYS} days of each other")
    return "\n".join(lines)


def _summary_text(view: ClusterView) -> str:
    span = human_span((view.last_seen - view.first_seen).total_seconds())
    return (f"*{plural(len(view.accounts), 'account')}* posted *{plural(view.post_count, 'post')}* "
            f"({plural(view.distinct_texts, 'distinct message')}) over *{span}*\n"
            f"{slack_datetime(view.first_seen)} → {slack_datetime(view.last_seen)}")


def _samples_text(view: ClusterView) -> str:
    quoted = ["\n".join("> " + line for line in escape(clip(sample, SAMPLE_CHARS)).splitlines() or ["> "])
              for sample in view.sample_texts[:2]]
    return "*Sample:*\n" + "\n".join(quoted)


def _confirm(title: str, text: str, confirm: str, danger: bool) -> ConfirmObject:
    return ConfirmObject(title=title, text=text, confirm=confirm, deny="Cancel", style="danger" if danger else None)


def claim_button(cluster_id: str, claim: ClaimView | None) -> ButtonElement:
    """Claim, or Take over from the holder shown (the button carries who that is)."""
    holder = claim.moderator if claim else None
    return ButtonElement(text="Take over" if holder else "Claim", action_id=ids.CLAIM,
                         value=ids.claim_value(cluster_id, holder), style=None if holder else "primary")


def claim_note(claim: ClaimView) -> str:
    """Who took the cluster, and when."""
    return f"🙋 Claimed by <@{claim.moderator}>, {slack_time(claim.claimed_at)}"


def _action_button(action: Action, action_id: str, value: str, label: str, who: str) -> ButtonElement:
    """A button acting on accounts, after Slack's confirm dialog (red for a suspension)."""
    return ButtonElement(text=label, action_id=action_id, value=value,
                         style="danger" if action is Action.SUSPEND else None,
                         confirm=_confirm(f"{BUTTON_LABEL[action]}?", CONFIRM_TEXT[action].format(n=who),
                                          BUTTON_LABEL[action], action is Action.SUSPEND))


def decision_buttons(view: ClusterView, options: CardOptions = DEFAULT_OPTIONS) -> ActionsBlock:
    """The offered actions on every account (Suspend all, Limit all, Require verification) act after Slack's
    confirm dialog; Review opens the modal; Claim (or Take over) marks who is working on it, and leaves the other
    buttons to everyone."""
    n = plural(len(view.accounts), "account")
    value = ids.button_value(view.id)
    return ActionsBlock(block_id="decide", elements=[
        *(_action_button(action, WHOLE_CLUSTER_BUTTON[action], value, WHOLE_CLUSTER_LABELS[action], n)
          for action in options.actions),
        ButtonElement(text="Dismiss", action_id=ids.DISMISS, value=value),
        ButtonElement(text="Review accounts", action_id=ids.REVIEW, value=value),
        claim_button(view.id, view.claim),
    ])


def domain_blocks(view: ClusterView, options: CardOptions) -> list[Block]:
    """When most of the cluster's accounts come from one remote domain: how many, the local follows a block would
    cut, and (while the cluster waits) Limit / Suspend the domain, which need a second moderator's approval."""
    remote = view.remote_domain
    if remote is None or not options.domain_actions:
        return []
    domain = escape(remote.domain)
    follows = ("local accounts' follows there are not known yet" if remote.local_follows is None else
               f"local accounts have *{plural(remote.local_follows, 'follow')}* of accounts there")
    blocks: list[Block] = [section(f"🌐 *{remote.accounts} of {plural(remote.total, 'account')}* come from "
                                   f"`{domain}`; {follows}. A domain action needs a second moderator.")]
    if view.live_decision is None:
        value = ids.button_value(view.id)
        blocks.append(ActionsBlock(block_id="domain", elements=[
            ButtonElement(text=f"Limit {clip(remote.domain, 40)}", action_id=ids.DOMAIN_LIMIT, value=value,
                          confirm=_confirm("Limit the domain?", f"Ask to limit every account of {domain}? Their posts "
                                           "reach only their followers here; Undo lifts it.", "Ask", False)),
            ButtonElement(text=f"Suspend {clip(remote.domain, 40)}", action_id=ids.DOMAIN_SUSPEND, value=value,
                          style="danger",
                          confirm=_confirm("Suspend the domain?", f"Ask to suspend {domain}? Nothing federates from "
                                           "or to it and local follows there are cut (Undo lifts the block, not the "
                                           "follows).", "Ask", True)),
        ]))
    return blocks


def reports_text(view: ClusterView, options: CardOptions) -> str | None:
    """The open reports about the cluster's accounts, linked to the platform's report pages when known."""
    reports = view.reports
    if reports is None:
        return None
    text = (f"📣 *Open reports:* {plural(reports.count, 'report')} on {reports.accounts} of these accounts; "
            "acting on an account resolves its reports")
    if options.admin_url and options.admin_url.startswith(("https://", "http://")):
        base = escape(options.admin_url.rstrip("/"))
        text += (f" · <{base}/admin/reports/{escape(reports.newest_id)}|newest report>"
                 f" · <{base}/admin/reports|report queue>")
    return text


def applied(decision: DecisionView, phrases: dict[Action, str]) -> str:
    """"Suspended 47 accounts", or for a decision giving accounts different actions
    "Suspended 3 accounts and required verification for 2 accounts"; for a domain, "Suspended the domain x.y"."""
    parts = [f"{phrases.get(action, action)} "
             + (", ".join(f"`{escape(a)}`" for a in accounts) if action.on_domain else plural(len(accounts), 'account'))
             for action, accounts in decision.groups().items()]
    return parts[0] + "".join(f" and {part[0].lower()}{part[1:]}" for part in parts[1:])


def decision_stamp(decision: DecisionView) -> str:
    """What happened and who did it: "Suspended 47 accounts — @moderator, 14:03"."""
    who = f"<@{decision.moderator}>"
    n = plural(len(decision.accounts), "account")
    approved = f", approved by <@{decision.approved_by}>" if decision.approved_by else ""
    if decision.status == DecisionStatus.AWAITING_APPROVAL:
        return (f"⏳ {who} asked to {applied(decision, ASK_PHRASE)}, "
                f"{slack_time(decision.created_at)}. A second moderator must approve before anything is done.")
    if decision.action == Action.DISMISS:
        return f"🚫 Dismissed — {who}, {slack_time(decision.created_at)}"
    if decision.dry_run and decision.status in (DecisionStatus.DONE, DecisionStatus.FAILED):
        return (f"🧪 Dry run: would have {applied(decision, DONE_PHRASE).lower()} — {who}{approved}, "
                f"{slack_time(decision.created_at)}. Nothing was sent to the platform.")
    if decision.status in (DecisionStatus.APPROVED, DecisionStatus.EXECUTING):
        return f"⚙️ {applied(decision, DOING_PHRASE)} — {who}{approved}, {slack_time(decision.created_at)}"
    if decision.status == DecisionStatus.UNDOING:
        return f"↩️ Undoing: {applied(decision, DONE_PHRASE).lower()} — {who}{approved}"
    icon = "✅" if not decision.failures else "⚠️"
    if len(decision.groups()) > 1:
        failed = f" ({len(decision.failures)} failed)" if decision.failures else ""
        return f"{icon} {applied(decision, DONE_PHRASE)}{failed} — {who}{approved}, {slack_time(decision.created_at)}"
    if decision.action.on_domain:
        return f"{icon} {applied(decision, DONE_PHRASE)} — {who}{approved}, {slack_time(decision.created_at)}"
    done = len(decision.accounts) - len(decision.failures)
    count = n if not decision.failures else f"{done} of {n}"
    return f"{icon} {DONE_PHRASE[decision.action]} {count} — {who}{approved}, {slack_time(decision.created_at)}"


def _failures_text(decision: DecisionView, handles: dict[str, str]) -> str:
    items = [f"{escape(mention(handles.get(account, account)))} ({escape(clip(detail, 120))})"
             for account, detail in decision.failures.items()]
    return f"*Failed on {plural(len(items), 'account')}:* " + listing(items, SECTION_CHARS - 60)


def _decision_blocks(view: ClusterView, decision: DecisionView, now: datetime, undo_minutes: float) -> list[Block]:
    blocks: list[Block] = [section(decision_stamp(decision))]
    if decision.reason or decision.policy:
        blocks.append(_context(" · ".join(
            part for part in (f"Policy: {escape(decision.policy)}" if decision.policy else "",
                              f"Reason: {escape(decision.reason)}" if decision.reason else "") if part)))
    if decision.failures and decision.status == DecisionStatus.FAILED:
        blocks.append(section(_failures_text(decision, {a.id: a.handle for a in view.accounts})))
    buttons: list[ButtonElement] = []
    value = ids.button_value(view.id, decision.id)
    if decision.status == DecisionStatus.AWAITING_APPROVAL:
        buttons = [
            ButtonElement(text="Approve", action_id=ids.APPROVE, value=value, style="danger",
                          confirm=_confirm("Approve?", f"{applied(decision, ASK_PHRASE).capitalize()} on the platform?",
                                           "Approve", True)),
            ButtonElement(text="Cancel request", action_id=ids.CANCEL_REQUEST, value=value),
        ]
    if decision.status == DecisionStatus.FAILED:
        buttons.append(ButtonElement(text="Retry failed", action_id=ids.RETRY, value=value, style="primary"))
    if decision.undo_open(now, undo_minutes):
        where = "in Chorus (it was a dry run)" if decision.dry_run else "on the platform"
        buttons.append(ButtonElement(text="Undo", action_id=ids.UNDO, value=value,
                                     confirm=_confirm("Undo?", f"Reverse this decision {where}?", "Undo", False)))
    if buttons:
        blocks.append(ActionsBlock(block_id="follow_up", elements=buttons))
    return blocks


def cluster_card(view: ClusterView, now: datetime, undo_minutes: float, with_buttons: bool = True,
                 options: CardOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    """The card for a cluster: evidence, open reports, its remote domain, then buttons or the decision that holds it;
    in a dry run, a footer saying nothing reaches the platform.

    Without buttons (for `/chorus cluster` replies) it shows the same state, read-only.
    """
    header = clip(f"{SEVERITY_ICON[view.severity]} {view.severity.capitalize()} severity · "
                  f"score {view.score:.2f} · {plural(len(view.accounts), 'account')}", HEADER_CHARS)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=header, emoji=True)),
        section(_summary_text(view)),
        section(_accounts_text(view)),
        section(_samples_text(view)),
    ]
    if view.media:
        blocks.append(section(f"*Shared media:* {plural(len(view.media), 'item')} posted by several accounts: "
                               + listing([f"`{escape(clip(item, 16))}`" for item in view.media], 600)))
    blocks.append(section("*Why flagged:*\n" + listing([f"• {escape(r)}" for r in view.reasons],
                                                         SECTION_CHARS - 40, "\n")))
    reports = reports_text(view, options)
    if reports:
        blocks.append(section(reports))
    blocks += domain_blocks(view, options)
    blocks.append(_context(f"Cluster `{view.id}` · flagged {slack_datetime(view.flagged_at)}"))
    blocks.append(DividerBlock())
    decision = view.live_decision
    if decision is None:
        undone = [d for d in view.decisions if d.action in UNDO_ACTIONS]
        if undone:
            blocks.append(_context(f"↩️ <@{undone[-1].moderator}> undid the last decision, "
                                   f"{slack_time(undone[-1].created_at)}"))
        if view.claim:
            blocks.append(_context(claim_note(view.claim)))
        blocks.append(decision_buttons(view, options))
    else:
        blocks += _decision_blocks(view, decision, now, undo_minutes)
    if options.dry_run:
        blocks.append(_context(DRY_RUN_FOOTER))
    if not with_buttons:
        blocks = [block for block in blocks if not isinstance(block, ActionsBlock)]
    text = (f"{view.severity.capitalize()} severity cluster {view.id}: {plural(len(view.accounts), 'account')} "
            f"posting the same content")
    return message(text, blocks)


def growth_reply(view: ClusterView, change: ClusterChange, options: CardOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    """The thread reply under a card whose cluster grew: who and how much was added."""
    by_id = {a.id: a for a in view.accounts}
    joined = [account_link(by_id[a]) if a in by_id else escape(a) for a in change.added_accounts]
    text = (f"↳ Cluster grew: +{plural(len(change.added_accounts), 'account')}, "
            f"+{plural(change.added_posts, 'post')}; now {plural(len(view.accounts), 'account')}.")
    blocks: list[Block] = [section(text + (f"\nNew: {listing(joined, 2000)}" if joined else ""))]
    if view.live_decision is not None and change.added_accounts:
        flagged = len(change.added_accounts) - len(change.late_accounts)
        elsewhere = (f" {plural(flagged, 'account')} flagged for posting a known campaign's content "
                     f"{'has' if flagged == 1 else 'have'} buttons of their own in this thread." if flagged else "")
        blocks.append(_context(f"The decision on this card does not cover these new accounts.{elsewhere}"))
        if change.late_batch is not None:
            blocks.append(late_buttons(view.id, change.late_batch, len(change.late_accounts), options))
    if options.dry_run:
        blocks.append(_context(DRY_RUN_FOOTER))
    return message(text, blocks)


def late_buttons(cluster_id: str, batch_id: int, accounts: int, options: CardOptions = DEFAULT_OPTIONS) -> ActionsBlock:
    """Buttons for a batch of accounts the cluster's decision does not cover, acting on those accounts only."""
    value = ids.late_value(cluster_id, batch_id)
    labels = {Action.SUSPEND: f"Suspend these {accounts}", Action.LIMIT: f"Limit these {accounts}",
              Action.REQUIRE_VERIFICATION: f"Require verification for these {accounts}"}
    return ActionsBlock(block_id="late", elements=[
        _action_button(action, BATCH_BUTTON[action], value, labels[action], f"these {plural(accounts, 'account')}")
        for action in options.actions])


BATCH_HEADLINE = {
    BatchKind.LATE: "↳ Joined after the decision: {n}.",
    BatchKind.KNOWN_CAMPAIGN: "⚠️ A known campaign again: {n} posted what this suspended campaign posted.",
    BatchKind.SIBLINGS: "👥 Siblings: {n} created in this cluster's creation window share sign-up details with its "
                        "accounts.",
}


def _batch_member(view: ClusterView, batch: LateBatch, account_id: str) -> str:
    """An account of a batch as its reply lists it: linked, with why it is there (never an IP or e-mail)."""
    by_id = {a.id: a for a in view.accounts}
    member = batch.members.get(account_id)
    if account_id in by_id:
        named = account_link(by_id[account_id])
    elif member is not None:
        named = account_link(AccountView(account_id, member.handle, member.url, None, None))
    else:
        named = escape(account_id)
    return f"{named} ({escape(member.note)})" if member is not None and member.note else named


def late_reply(view: ClusterView, batch: LateBatch, now: datetime, undo_minutes: float,
               options: CardOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    """The thread reply of a batch of accounts outside the cluster's decision (joined late, posted a known
    campaign's content, siblings): who and why, then the decision on them with its follow-up buttons, or the
    buttons to decide (late joiners only while the cluster's own decision holds)."""
    text = BATCH_HEADLINE[batch.kind].format(n=plural(len(batch.accounts), "account"))
    listed = listing([_batch_member(view, batch, a) for a in batch.accounts], 2000,
                     "\n" if batch.members else ", ")
    blocks: list[Block] = [section(f"{text}\n{listed}")]
    decision = view.late_decision(batch.id)
    if decision is not None and decision.status in ACTIVE_STATUSES:
        blocks += _decision_blocks(view, decision, now, undo_minutes)
    elif view.live_decision is not None or batch.kind is not BatchKind.LATE:
        blocks.append(late_buttons(view.id, batch.id, len(batch.accounts), options))
    if options.dry_run:
        blocks.append(_context(DRY_RUN_FOOTER))
    return message(text, blocks)


# -- the review modal -------------------------------------------------------------------------------

def reason_chars(platform_limit: int | None) -> int:
    """The longest reason to accept: what the platform takes, at most REASON_CHARS."""
    return min(REASON_CHARS, platform_limit or REASON_CHARS)


def review_pages(view: ClusterView) -> int:
    """How many pages the review modal takes for a cluster."""
    return max(1, -(-len(view.accounts) // (MODAL_GROUPS * CHECKBOX_OPTIONS)))


def review_modal(view: ClusterView, policies: Sequence[str], threshold: int, page: int = 0,
                 ticked: Mapping[str, Action] | None = None, reason_limit: int | None = None,
                 actions: Sequence[Action] = ACCOUNT_ACTIONS) -> View:
    """A page of the accounts in groups of ten, each group with its own action for its ticked accounts, then a
    policy and a reason; `ticked` (from other pages, or this one before) is shown ticked. One submission carries
    out every group on every page. The reason box takes no more than the platform does (`reason_limit`)."""
    ticked = ticked or {}
    per_page = MODAL_GROUPS * CHECKBOX_OPTIONS
    pages = review_pages(view)
    page = min(max(page, 0), pages - 1)
    start = page * per_page
    accounts = view.accounts[start:start + per_page]
    where = f" Page {page + 1} of {pages}: ticks on other pages are kept." if pages > 1 else ""
    blocks: list[Block] = [section(
        f"Cluster `{view.id}`: {plural(len(view.accounts), 'account')}. Tick accounts and choose what happens to "
        f"the ticked ones of each group; one submission carries out every group.{where} Suspending more than "
        f"{threshold} at once needs a second moderator's approval.")]
    choices = [Option(value=action, label=BUTTON_LABEL[action]) for action in actions]
    for offset in range(0, len(accounts), CHECKBOX_OPTIONS):
        group = (start + offset) // CHECKBOX_OPTIONS
        chunk = accounts[offset:offset + CHECKBOX_OPTIONS]
        options = [Option(value=a.id, text=PlainTextObject(text=clip(mention(a.handle), 70)),
                          description=PlainTextObject(text=clip(_age_note(a), 70))) for a in chunk]
        chosen = [o for o in options if o.value in ticked]
        action = ticked[chosen[0].value] if chosen else actions[-1]
        span = f"{start + offset + 1}–{start + offset + len(chunk)}"
        blocks += [
            InputBlock(block_id=f"{ids.ACCOUNTS_BLOCK_PREFIX}{group}", optional=True, label=f"Accounts {span}",
                       element=CheckboxesElement(action_id=ids.ACCOUNTS_ACTION, options=options,
                                                 initial_options=chosen or None)),
            InputBlock(block_id=f"{ids.GROUP_ACTION_PREFIX}{group}", label=f"For the ticked accounts {span}",
                       element=RadioButtonsElement(action_id=ids.ACTION_CHOICE, options=choices, initial_option=next(
                           (c for c in choices if c.value == action), choices[-1]))),
        ]
    if pages > 1:
        buttons = []
        if page > 0:
            buttons.append(ButtonElement(text="‹ Previous accounts", action_id=ids.REVIEW_PAGE_PREVIOUS,
                                         value=ids.page_value(view.id, page - 1)))
        if page + 1 < pages:
            buttons.append(ButtonElement(text="Next accounts ›", action_id=ids.REVIEW_PAGE_NEXT,
                                         value=ids.page_value(view.id, page + 1)))
        blocks += [ActionsBlock(block_id="review_pages", elements=buttons),
                   _context(f"{plural(len(ticked), 'account')} ticked so far, on every page.")]
    blocks += [
        InputBlock(block_id=ids.POLICY_BLOCK, label="Policy",
                   element=StaticSelectElement(action_id=ids.POLICY_SELECT, placeholder="Choose a policy",
                                               options=[Option(value=p, label=p) for p in policies])),
        InputBlock(block_id=ids.REASON_BLOCK, label="Reason", optional=True,
                   hint=f"Up to {reason_chars(reason_limit)} characters: what the platform takes.",
                   element=PlainTextInputElement(action_id=ids.REASON_INPUT, multiline=True,
                                                 max_length=reason_chars(reason_limit))),
    ]
    return View(type="modal", callback_id=ids.REVIEW_MODAL, private_metadata=view.id,
                title="Review accounts", submit="Carry out", close="Cancel", blocks=blocks)


def _age_note(account: AccountView) -> str:
    if account.age_days_at_post is None:
        return "account age unknown"
    return f"{account.age_days_at_post:.0f} days old when posting"


# -- ephemeral replies --------------------------------------------------------------------------------

def not_a_moderator() -> str:
    """The refusal a non-moderator sees; nothing else happens."""
    return "Only Chorus moderators can act on clusters. Ask a team lead to add you to the moderator list or group."


def already_handled(decision: DecisionView) -> str:
    """The reply to the second of two clicks."""
    return f"This cluster was already handled by <@{decision.moderator}> ({decision_stamp(decision)})."


def refusal_text(refusal: Refusal, undo_minutes: float) -> str:
    """What a moderator is told when a decision use case did nothing."""
    if refusal.why is Why.ALREADY_DECIDED:
        return already_handled(refusal.holder) if refusal.holder else "This cluster was just handled by someone else."
    return {
        Why.OWN_REQUEST: "You asked for this, so another moderator has to approve it.",
        Why.NOT_AWAITING: "That request was already approved or withdrawn.",
        Why.NOTHING_TO_RETRY: "Nothing to retry: the actions already succeeded or are running.",
        Why.UNDO_EXPIRED: f"Undo is offered for {undo_minutes:g} minutes after a decision; that time has passed.",
        Why.ALREADY_UNDOING: "This decision is already being undone.",
        Why.CLUSTER_OPEN: "The decision on this cluster was undone, so it is open again: decide on its card.",
    }[refusal.why]


def claim_reply(result: ClaimResult) -> str | None:
    """What the moderator who pressed Claim is told, if anything (a claim that went through shows on the card)."""
    return {
        ClaimOutcome.ALREADY_YOURS: "You have already claimed this cluster.",
        ClaimOutcome.HELD: (f"<@{result.holder}> claimed this cluster a moment ago; press Take over if you mean "
                            "to take it from them." if result.holder else
                            "The claim on this cluster changed a moment ago; look at the card again."),
        ClaimOutcome.CLOSED: "This cluster is already decided, so there is nothing to claim.",
    }.get(result.outcome)


def card_link(cluster_id: str, channel: str | None, message_ts: str | None) -> str:
    """The cluster id, linked to its card in Slack when the card has been posted (the archive link form, which
    needs no Web API call)."""
    if channel and message_ts:
        return f"<https://slack.com/archives/{channel}/p{message_ts.replace('.', '')}|{cluster_id}>"
    return f"`{cluster_id}`"


def chart_image(file_id: str, title: str) -> ImageBlock:
    """A chart uploaded to Slack (`files_upload_v2` without a channel), shown inline."""
    return ImageBlock(slack_file={"id": file_id}, alt_text=title, title=title)


def digest_message(digest: Digest, chart: str | None = None) -> dict[str, Any]:
    """A digest as a message: the console rendering, escaped, in a code block; the unclaimed clusters linked to
    their cards; and the chart, when one was uploaded for it."""
    body = escape(render_digest(digest))
    blocks: list[Block] = [section("```" + clip(body, SECTION_CHARS - 6) + "```")]
    if digest.unclaimed:
        links = [card_link(p.id, p.channel, p.message_ts) for p in digest.unclaimed]
        blocks.append(section(f"*Unclaimed for over {digest.unclaimed_hours:g} h:* " + listing(links, 2500)))
    if chart:
        blocks.append(chart_image(chart, chart_title(digest)))
    return message(body.splitlines()[0], blocks)


def chart_title(digest: Digest) -> str:
    """What the digest's chart shows."""
    return f"Clusters and accounts flagged per {'hour' if digest.bucket_hours == 1 else 'day'}"
