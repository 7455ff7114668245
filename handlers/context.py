"""What every listener needs besides Slack's own arguments, passed to each module's `register`."""

from __future__ import annotations

from dataclasses import dataclass

from chorus.config import SlackConfig
from handlers.send_queue import SendQueue
from platforms.base import Enforcer
from storage import Store


@dataclass(frozen=True)
class Chorus:
    """The bot's side of a listener: storage, the platform, the settings, and the channel writer."""

    store: Store
    enforcer: Enforcer
    settings: SlackConfig
    sender: SendQueue
