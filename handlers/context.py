"""What every listener needs besides Slack's own arguments, found in `context["chorus"]`."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.moderators import Moderators
from service.config import SlackConfig
from service.decisions import Desk
from storage import Store


@dataclass(frozen=True)
class Chorus:
    """The bot's side of a listener: storage, the decision desk, the settings, and who may decide."""

    store: Store
    desk: Desk
    settings: SlackConfig
    moderators: Moderators
