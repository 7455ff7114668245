"""What every listener needs besides Slack's own arguments, found in `context["chorus"]`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from domain.views import CardOptions
from handlers.moderators import Moderators
from service.config import SlackConfig
from service.decisions import Desk
from storage import Store


class HomeTabs(Protocol):
    """What listeners ask of App Home: show a user their Home now, with a note at the top."""

    def show(self, user_id: str, notice: str = "", view: dict | None = None) -> None: ...


@dataclass(frozen=True)
class Chorus:
    """The bot's side of a listener: storage, the decision desk, the settings, who may decide, and App Home."""

    store: Store
    desk: Desk
    settings: SlackConfig
    moderators: Moderators
    home: HomeTabs | None = None
    card_options: CardOptions = field(default_factory=CardOptions)
