"""An access log that never writes a credential, and a filter for uvicorn's own lines.

uvicorn's access log (and its WebSocket "[accepted]" line, which goes to uvicorn.error)
print the full query string, so a WebSocket token passed as ``?token=`` ended up in the
log. This log writes the path only; the query string is never logged, whatever it holds.
"""

from __future__ import annotations

import copy
import logging
import time
import urllib.parse
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.config import LOGGING_CONFIG

log = logging.getLogger("gateway.access")


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "-"


class AccessLogMiddleware:
    """One line per HTTP request and per WebSocket session: peer, method, path, outcome."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Log after the response (HTTP) or at accept/close (WebSocket)."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = urllib.parse.quote(scope["path"])
        started = time.monotonic()
        outcome: list[str] = []

        async def logging_send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                outcome.append(str(message["status"]))
            elif kind == "websocket.accept":
                log.info('%s - "WebSocket %s" accepted', _peer(scope), path)
            elif kind == "websocket.close":
                outcome.append(f"closed {message.get('code', 1000)}")
            await send(message)

        try:
            await self.app(scope, receive, logging_send)
        finally:
            method = scope.get("method", "WebSocket")
            ms = (time.monotonic() - started) * 1000
            log.info('%s - "%s %s" %s %.0fms', _peer(scope), method, path,
                     outcome[0] if outcome else "-", ms)


class RedactQueryStrings(logging.Filter):
    """Cut the query string off any path-like argument of a log record (defence in depth)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments; never drop the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact(v) for k, v in record.args.items()}
        return True


def _redact(value: Any) -> Any:
    if isinstance(value, str) and "?" in value and value.startswith("/"):
        return value.split("?", 1)[0] + "?[query redacted]"
    return value


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logging setup plus the redacting filter and the gateway's own loggers."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": f"{__name__}.RedactQueryStrings"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    config["loggers"]["gateway"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
