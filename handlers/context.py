"""What every listener needs besides Slack's own arguments, passed to each module's `register`."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.send_queue import SendQueue
from service.config import SlackConfig
from service.enforcement import Enforcement
from storage import Store


@dataclass(frozen=True)
class Chorus:
    """The bot's side of a listener: storage, the platform's enforcement, the settings, and the channel writer."""

    store: Store
    enforcement: Enforcement
    settings: SlackConfig
    sender: SendQueue
