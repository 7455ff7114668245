"""The Slack runtime: the Bolt app, its listeners, the send queue and notifier, and how Slack reaches us.

Socket Mode when SLACK_APP_TOKEN is set (no public URL needed); otherwise HTTP on `slack.port`
with Bolt's `/slack/events` (signatures checked by Bolt, stale and replayed ones refused) and `/healthz`.
On start, decisions the last run left half done are finished and stale cards brought up to date,
in the background so Slack is answered meanwhile.
"""

from __future__ import annotations

import logging
import threading
from wsgiref.simple_server import WSGIServer

from apscheduler.triggers.interval import IntervalTrigger
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from handlers import actions, commands, home, views
from handlers.cards import Cards
from handlers.context import Chorus
from handlers.home import HomeTabs
from handlers.middleware import ReplayGuard, attach
from handlers.moderators import Moderators
from handlers.notifier import SlackNotifier
from handlers.send_queue import SendQueue
from platforms.base import Enforcer
from service.config import Config, ConfigError
from service.decisions import Desk
from service.digests import unclaimed_after
from service.http_server import HEALTH_PATH, HttpEndpoints
from service.recovery import interrupted, resume, stuck
from service.scheduler import ScheduledJob
from service.wiring import card_options, decision_rules
from storage import Store

log = logging.getLogger("chorus.slack")

EVENTS_PATH = "/slack/events"


def check_slack_config(config: Config) -> None:
    """Refuse to start a Slack bot that could not post cards or that nobody could act on."""
    if not config.slack.channel:
        raise ConfigError("slack.channel is required when SLACK_BOT_TOKEN is set (the channel id for cluster cards)")
    if not (config.slack.moderators or config.slack.moderator_group):
        raise ConfigError("slack.moderators or slack.moderator_group is required: nobody could decide on a card")
    if not (config.secrets.slack_signing_secret or config.secrets.slack_app_token):
        raise ConfigError("SLACK_SIGNING_SECRET is required with SLACK_BOT_TOKEN in HTTP mode "
                          "(Slack app > Basic Information), or SLACK_APP_TOKEN for Socket Mode")


def web_client(config: Config) -> WebClient:
    """A Web API client for the bot token, at SLACK_API_URL when set (GovSlack, tests)."""
    base_url = config.secrets.slack_api_url or WebClient.BASE_URL
    return WebClient(token=config.secrets.slack_bot_token, base_url=base_url.rstrip("/") + "/",
                     timeout=config.slack.timeout_seconds)  # type: ignore[arg-type]  # urllib takes a float


def build_app(chorus: Chorus, client: WebClient, signing_secret: str) -> App:
    """The Bolt app with every listener registered in one place, behind the replay guard."""
    app = App(client=client, signing_secret=signing_secret)
    app.middleware(ReplayGuard(chorus.store))
    app.middleware(attach(chorus))
    for module in (actions, views, commands, home):
        module.register(app)
    return app


class SlackRuntime:
    """Everything Slack mode runs: started by `start`, stopped (cleanly, once) by `stop`."""

    def __init__(self, config: Config, store: Store, enforcer: Enforcer) -> None:
        client = web_client(config)
        self.config = config
        self.sender = SendQueue(client, config.slack.send_interval_seconds, config.slack.retry_backoff_seconds)
        options = card_options(config, enforcer)
        self.cards = Cards(store, self.sender, config.slack.undo_minutes, options)
        moderators = Moderators(config.slack.moderators, config.slack.moderator_group, client)
        self.home = HomeTabs(store, self.sender, moderators, unclaimed_after(config.digest),
                             config.slack.home_refresh_seconds)
        self.desk = Desk(store, enforcer, decision_rules(config), changed=self._changed)
        self.chorus = Chorus(store, self.desk, config.slack, moderators, self.home, options)
        self.app = build_app(self.chorus, client, config.secrets.slack_signing_secret)
        self.notifier = SlackNotifier(self.sender, config.slack.channel, config.slack.undo_minutes, store.clock,
                                      config.digest.channel, options)
        self.http = HttpEndpoints(SlackRequestHandler(self.app, path=EVENTS_PATH))
        """Slack's requests in HTTP mode, beside any other endpoint mounted on the port (Mastodon's webhooks)."""
        self.socket_mode: SocketModeHandler | None = None
        self._recovery: threading.Thread | None = None

    def _changed(self, cluster_id: str) -> None:
        """A use case changed what a cluster shows: its card, and the Homes listing it."""
        self.cards.refresh(cluster_id)
        self.home.queue_changed()

    @property
    def server(self) -> WSGIServer | None:
        """The HTTP server Slack's requests reach; None over Socket Mode."""
        return self.http.server

    @property
    def port(self) -> int:
        """The HTTP port actually bound (tests ask for port 0)."""
        return self.http.port

    def start(self, port: int | None = None, host: str = "0.0.0.0") -> SlackRuntime:  # noqa: S104 (Slack must reach us)
        """Connect over Socket Mode, or serve HTTP on `port` (default slack.port); then recover in the background.

        The half-done decisions are read before any listener can start one of its own.
        """
        half_done = interrupted(self.chorus.store)
        self._recovery = threading.Thread(target=self._recover_after_restart, args=(half_done,),
                                          name="slack-recovery", daemon=True)
        self._serve(port, host)
        self._recovery.start()
        return self

    def recover(self, half_done: list[int]) -> None:
        """Finish half-done decisions (their cards are stamped) and bring every stale card up to date."""
        for decision_id in resume(self.desk, half_done):
            cluster_id = self.chorus.store.decision_cluster(decision_id)
            if cluster_id:
                self.cards.refresh(cluster_id)
        self.cards.sync_stale()

    def _recover_after_restart(self, half_done: list[int]) -> None:
        try:
            self.recover(half_done)
        except Exception as error:  # the periodic recovery and the next start try again
            log.error("recovery after restart did not finish: %s: %s", type(error).__name__, error)

    def jobs(self, every_seconds: float) -> list[ScheduledJob]:
        """The Slack side's periodic job: decisions stuck after a failed write are finished, and cards
        whose update failed are updated once Slack answers again."""
        return [ScheduledJob("card-sync", IntervalTrigger(seconds=every_seconds),
                             lambda: self.recover(stuck(self.desk)))]

    def _serve(self, port: int | None, host: str) -> None:
        if self.config.secrets.slack_app_token:
            self.socket_mode = SocketModeHandler(self.app, self.config.secrets.slack_app_token,
                                                 ping_interval=self.config.slack.socket_ping_seconds)
            self.socket_mode.connect()
            log.info("connected to Slack over Socket Mode")
            return
        self.http.serve(host, self.config.slack.port if port is None else port)
        log.info("listening for Slack on http://%s:%d%s (health: %s)", host, self.port, EVENTS_PATH, HEALTH_PATH)

    def stop(self) -> None:
        """Stop taking requests and send what is queued (the store belongs to the caller)."""
        if self._recovery and self._recovery.is_alive():
            self._recovery.join(timeout=10)
        if self.socket_mode:
            self.socket_mode.close()
        self.http.stop()
        self.home.close()
        self.sender.close()
