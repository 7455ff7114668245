"""The bot's HTTP port (`slack.port`): a small threaded WSGI server routing exact paths, with `/healthz` for probes.

Slack's `/slack/events` (HTTP mode) and Mastodon's `/mastodon/webhook` share it. In Socket Mode and console mode
nothing else listens, so the port is opened for webhooks alone, and only when a webhook secret is set.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

log = logging.getLogger("chorus.http")

HEALTH_PATH = "/healthz"
SHUTDOWN_POLL = 0.05
"""Seconds between the HTTP server's checks for a shutdown request: stopping takes no longer than this."""

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


def not_found(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """404 for a path nothing serves."""
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]


class HttpEndpoints:
    """Routes by exact path, `/healthz`, and a fallback (Bolt, which answers 404 off its own path); `serve` opens
    the port in a daemon thread and `stop` closes it."""

    def __init__(self, fallback: WsgiApp = not_found) -> None:
        self.routes: dict[str, WsgiApp] = {}
        self.fallback = fallback
        self.server: WSGIServer | None = None
        self._serving: threading.Thread | None = None

    def mount(self, path: str, app: WsgiApp) -> None:
        """Serve `path` with `app` (from now on, also while serving)."""
        self.routes[path] = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        return self.routes.get(path, self.fallback)(environ, start_response)

    @property
    def port(self) -> int:
        """The port bound (0 before `serve`; a configured port of 0 binds any free one)."""
        return self.server.server_port if self.server else 0

    def serve(self, host: str, port: int) -> int:
        """Listen on `host:port` in a background thread; returns the port bound."""
        self.server = make_server(host, port, self, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
        self._serving = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL},
                                         name="http", daemon=True)
        self._serving.start()
        return self.port

    def stop(self) -> None:
        """Stop taking requests."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()
